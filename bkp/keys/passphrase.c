/* Passphrase sources: a root-only file (cron), a command, or a no-echo prompt. */
#include "bkp/keys/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/stream.h"
#include "bkp/host/trust.h"

#define PASS_MAX 1024

void bkp_passphrase_free(char *p, size_t len)
{
    (void)len;
    if (p)
        sodium_free(p);
}

/* Keep at most one trailing newline out of the secret: editors add one. */
static size_t chomp(char *p, size_t n)
{
    if (n && p[n - 1] == '\n')
        n--;
    if (n && p[n - 1] == '\r')
        n--;
    p[n] = '\0';
    return n;
}

/* Read all of `fd` into `p` (PASS_MAX bytes): a secret that fills it is
 * too long (-E2BIG). */
static int read_fd(int fd, char *p, size_t *len)
{
    bkp_stream s;
    bkp_stream_fd(&s, fd, 0);
    size_t n = bkp_stream_read(&s, p, PASS_MAX);
    int rc = bkp_stream_close(&s);
    if (!rc && n == PASS_MAX)
        rc = -E2BIG;
    if (!rc)
        *len = chomp(p, n);
    return rc;
}

static int from_file(const char *path, char *p, size_t *len)
{
    struct stat st;
    char *real = NULL;
    /* It opens the repository key: the invoking user's own, private, and in
     * folders no one else may change (trust.h); read through the path that
     * was checked, never through a link put there since. */
    int r = bkp_trust_file(path, BKP_TRUST_SECRET, N_("passphrase file"), &real);
    if (r == -EPERM)
        return r;
    int fd = r ? -1 : open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    free(real);
    if (fd < 0) {
        r = r ? r : -errno;
        bkp_error(_("cannot open passphrase file %s: %s"), path, bkp_strerror(r));
        return r;
    }
    if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
        close(fd);
        bkp_error(_("passphrase file %s is readable by group or others (mode %04o); "
                    "run `chmod 600 %s` and try again"),
                  path, (unsigned)(st.st_mode & 07777), path);
        return -EPERM;
    }
    r = read_fd(fd, p, len);
    close(fd);
    if (r)
        bkp_error(_("cannot read passphrase file %s: %s"), path, bkp_strerror(r));
    return r;
}

static int from_command(const char *cmd, char *p, size_t *len)
{
    FILE *f = popen(cmd, "r");
    int r, status;
    if (!f) {
        r = -errno;
        bkp_error(_("cannot run BKP_PASSPHRASE_COMMAND: %s"), bkp_strerror(r));
        return r;
    }
    r = read_fd(fileno(f), p, len);
    status = pclose(f);
    if (!r && status != 0) {
        bkp_error(_("BKP_PASSPHRASE_COMMAND exited with status %d; check the command"),
                  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        r = -EIO;
    }
    return r;
}

bool bkp_passphrase_can_ask(void)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    bool yes = fd >= 0 && isatty(fd);
    if (fd >= 0)
        close(fd);
    return yes;
}

/* The signals that end a program at a terminal. While echo is off each is
 * held back until the terminal is as it was, then delivered: Ctrl-C at the
 * prompt must not leave the shell typing blind. */
static const int prompt_signals[] = {SIGINT, SIGQUIT, SIGHUP, SIGTERM};
#define N_PROMPT_SIGNALS (sizeof prompt_signals / sizeof prompt_signals[0])
static volatile sig_atomic_t prompt_caught;

static void prompt_catch(int sig)
{
    prompt_caught = sig;
}

static int prompt(const char *question, char *p, size_t *len)
{
    struct termios old, quiet;
    struct sigaction catch = {.sa_handler = prompt_catch}, saved[N_PROMPT_SIGNALS];
    sigset_t block, before;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -ENOENT;
    if (tcgetattr(fd, &old) < 0) {
        close(fd);
        return -ENOENT;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    prompt_caught = 0;
    /* The signals are held back but while waiting for a key (ppoll below
     * lets them in): none is lost between the check and the wait. One that
     * was ignored (nohup) stays ignored. */
    sigemptyset(&block);
    for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
        sigaddset(&block, prompt_signals[i]);
    sigprocmask(SIG_BLOCK, &block, &before);
    sigemptyset(&catch.sa_mask); /* no SA_RESTART: a signal ends the wait */
    for (size_t i = 0; i < N_PROMPT_SIGNALS; i++) {
        sigaction(prompt_signals[i], NULL, &saved[i]);
        if (saved[i].sa_handler != SIG_IGN)
            sigaction(prompt_signals[i], &catch, NULL);
    }
    /* Echo off (and what was typed ahead dropped) before the question: what
     * is typed once it shows is read, and never shown. */
    tcsetattr(fd, TCSAFLUSH, &quiet);
    (void)bkp_write_full(fd, question, strlen(question)); /* a terminal */
    size_t n = 0;
    while (n < PASS_MAX - 1 && !prompt_caught) {
        struct pollfd w = {.fd = fd, .events = POLLIN};
        if (ppoll(&w, 1, NULL, &before) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        ssize_t k = read(fd, p + n, 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0 || p[n] == '\n')
            break;
        n++;
    }
    tcsetattr(fd, TCSAFLUSH, &old);
    if (prompt_caught)
        (void)bkp_write_full(fd, "\n", 1); /* the shell's prompt on its own line */
    close(fd);
    for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
        sigaction(prompt_signals[i], &saved[i], NULL);
    sigprocmask(SIG_SETMASK, &before, NULL);
    if (prompt_caught) {
        sodium_memzero(p, n);
        raise(prompt_caught); /* as if it had come a moment later */
        return -EINTR;        /* a caller that handles the signal */
    }
    *len = chomp(p, n);
    return 0;
}

static size_t utf8_chars(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80)
            c++;
    return c;
}

int bkp_passphrase_strong(const char *pass, size_t passlen)
{
    if (utf8_chars(pass, passlen) >= BKP_PASSPHRASE_MIN)
        return 0;
    bkp_error(_("the passphrase has %zu characters; at least %d are required (every medium "
                "carries the key file, so a short one can be guessed at off-line; checklist "
                "item 2-⑦). Choose a longer one; nothing was written"),
              utf8_chars(pass, passlen), BKP_PASSPHRASE_MIN);
    return -EINVAL;
}

/* Ask twice on the terminal; -EINVAL when the answers differ. */
static int prompt_twice(const char *question, const char *again_q, char *p, size_t *n)
{
    size_t n2 = 0;
    char *again = sodium_malloc(PASS_MAX + 1);
    int r = again ? prompt(question, p, n) : -ENOMEM;
    if (!r && !(r = prompt(again_q, again, &n2)) &&
        (*n != n2 || sodium_memcmp(p, again, *n) != 0)) {
        bkp_error(_("the two passphrases differ; nothing was written"));
        r = -EINVAL;
    }
    if (again)
        sodium_free(again);
    return r;
}

int bkp_passphrase_new(const char *file, char **out, size_t *len)
{
    char *p = sodium_malloc(PASS_MAX + 1);
    size_t n = 0;
    int r;
    if (!p)
        return -ENOMEM;
    r = file ? from_file(file, p, &n)
             : prompt_twice(_("New passphrase: "), _("Repeat the new passphrase: "), p, &n);
    if (r == -ENOENT && !file)
        bkp_error(_("no new passphrase: give --new-passphrase-file FILE (mode 0600), or run on a "
                    "terminal to type it twice"));
    if (!r)
        r = bkp_passphrase_strong(p, n);
    if (r) {
        sodium_free(p);
        return r;
    }
    *out = p;
    *len = n;
    return 0;
}

int bkp_passphrase_get(const char *file, int confirm, char **out, size_t *len)
{
    char *p = sodium_malloc(PASS_MAX + 1);
    size_t n = 0;
    const char *env;
    int r;
    if (!p)
        return -ENOMEM;
    if (!file && (env = getenv("BKP_PASSPHRASE_FILE")) && *env)
        file = env;
    if (file) {
        r = from_file(file, p, &n);
    } else if ((env = getenv("BKP_PASSPHRASE_COMMAND")) && *env) {
        r = from_command(env, p, &n);
    } else {
        r = confirm
                ? prompt_twice(_("Repository passphrase: "), _("Repeat the passphrase: "), p, &n)
                : prompt(_("Repository passphrase: "), p, &n);
        if (r == -ENOENT && confirm)
            bkp_error(_("no passphrase: give --passphrase-file FILE (mode 0600), or set "
                        "BKP_PASSPHRASE_FILE or BKP_PASSPHRASE_COMMAND, or run on a terminal"));
        else if (r == -ENOENT)
            bkp_error(_("no passphrase: give --passphrase-file FILE (mode 0600), or set "
                        "BKP_PASSPHRASE_FILE or BKP_PASSPHRASE_COMMAND, or run on a terminal; "
                        "with no passphrase left, open it with the key sheets from the safe: "
                        "--key-from SHEET (--key-from - types them in)"));
    }
    if (r) {
        sodium_free(p);
        return r;
    }
    *out = p;
    *len = n;
    return 0;
}
