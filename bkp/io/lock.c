#include "bkp/io/lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"

struct bkp_lock {
    int fd;     /* the lock file's; -1 for a reader of a copy, which has none */
    char *path; /* NULL with it */
    int dirfd;  /* the repository folder, flocked: shared by a reader, exclusive by
                   prune; -1 where the file system has no flock */
};

/* Locks of dead holders this process took over or removed: audit records. */
#define MAX_TAKEOVERS 16
static char *takeovers[MAX_TAKEOVERS];
static size_t ntakeovers;

static void note_takeover(const char *name, const char *desc)
{
    char *s = NULL;
    if (ntakeovers < MAX_TAKEOVERS && asprintf(&s, "%s: %s", name, desc) >= 0)
        takeovers[ntakeovers++] = s;
}

size_t bkp_lock_takeovers(const char *const **out)
{
    *out = (const char *const *)takeovers;
    return ntakeovers;
}

/* The host name as it appears in file names: no '/' (a path) and no '-'
 * (the separator of the fields after it). */
static void host_name(char *host, size_t n)
{
    snprintf(host, n, "host");
    gethostname(host, n - 1);
    host[n - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/' || *c == '-')
            *c = '_';
}

/* A token of printable characters without spaces, up to the next `key=` or
 * the end: copied into `out` (of size `n`); NULL when malformed. */
static const char *field(const char *p, const char *key, char *out, size_t n, bool rest)
{
    size_t kl = strlen(key), i = 0;
    if (strncmp(p, key, kl) != 0)
        return NULL;
    p += kl;
    while (p[i] && p[i] != '\n' && (rest || p[i] != ' ')) {
        if (i + 1 >= n)
            return NULL;
        out[i] = p[i];
        i++;
    }
    out[i] = '\0';
    if (i == 0)
        return NULL;
    return rest ? p + i : p[i] == ' ' ? p + i + 1 : NULL;
}

int bkp_lock_parse(const char *buf, size_t len, bkp_lock_info *out)
{
    char text[BKP_LOCK_MAX + 1], pid[16];
    memset(out, 0, sizeof(*out));
    /* One line of printable ASCII, as publish writes it: anything else
     * (a NUL, an escape sequence for the terminal the message goes to) is
     * not a lock of ours. */
    if (len < 2 || len > BKP_LOCK_MAX || buf[len - 1] != '\n')
        return -EBADMSG;
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] < 0x20 || buf[i] > 0x7e)
            return -EBADMSG;
    memcpy(text, buf, len);
    text[len] = '\0';
    const char *p = field(text, "host=", out->host, sizeof(out->host), false);
    p = p ? field(p, "pid=", pid, sizeof(pid), false) : NULL;
    p = p ? field(p, "user=", out->user, sizeof(out->user), false) : NULL;
    p = p ? field(p, "time=", out->time, sizeof(out->time), false) : NULL;
    p = p ? field(p, "command=", out->command, sizeof(out->command), true) : NULL;
    char *end = NULL;
    errno = 0;
    long v = p ? strtol(pid, &end, 10) : 0;
    if (!p || *p != '\n' || !end || *end || errno || v < 1 || v > 0x3fffffff || pid[0] == '0') {
        memset(out, 0, sizeof(*out));
        return -EBADMSG;
    }
    out->pid = v;
    return 0;
}

int bkp_lock_fd(int fd, bool wait)
{
    while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
        if (errno == EINTR && wait)
            continue;
        return errno == EWOULDBLOCK ? -EBUSY : -errno;
    }
    return 0;
}

int bkp_lock_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    int rc = bkp_lock_fd(fd, true);
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}

/* Read lock file `name` of `dirfd`: the descriptor (to flock) or a negative
 * errno; -EBADMSG for anything but a regular file of at most BKP_LOCK_MAX
 * bytes (a FIFO must not hang us, a huge file not be read). `desc` says who
 * holds it, from the parsed contents only. */
static int read_lock(int dirfd, const char *name, bkp_lock_info *info, bool *parsed, char *desc,
                     size_t n)
{
    char buf[BKP_LOCK_MAX + 1];
    struct stat st;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    *parsed = false;
    if (fd < 0 && errno != ELOOP)
        return -errno;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > BKP_LOCK_MAX) {
        if (fd >= 0)
            close(fd);
        snprintf(desc, n, "%s is not a lock file (a symbolic link, a FIFO, a folder or too large)",
                 name);
        return -EBADMSG;
    }
    ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
    *parsed = k > 0 && bkp_lock_parse(buf, (size_t)k, info) == 0;
    /* A long description is cut: it is for a message, the fields stay whole. */
    if (*parsed && snprintf(desc, n, "host=%s pid=%ld user=%s time=%s command=%s", info->host,
                            info->pid, info->user, info->time, info->command) < 0)
        desc[0] = '\0';
    else if (!*parsed)
        snprintf(desc, n, "a lock whose contents are not bkp's");
    return fd;
}

/*
 * Alive unless we can show it is dead. Another host's lock is never judged.
 * On this host the flock decides: it dies with its holder, while a pid can
 * be reused (a container that always runs as the same pid). A lock whose
 * flock we obtain here stays flocked by us until `fd` is closed.
 */
static bool holder_alive(int fd, const bkp_lock_info *info, bool parsed)
{
    char myhost[256] = "";
    gethostname(myhost, sizeof(myhost) - 1);
    if (parsed && strcmp(info->host, myhost) != 0)
        return true;
    return bkp_lock_fd(fd, false) != 0;
}

/* A temporary lock file (".tmp-lock-HOST-PID-TIME", or "-PID-TIME" from an
 * earlier bkp) lives for the instant between its creation and its link to
 * the lock's name; one left by a process killed in that instant stayed
 * forever. It is stale when its flock is free (its writer holds it from
 * just after creation) and either its writer, on this host, is gone or it
 * is older than any publish takes. Another host's is judged by age alone. */
#define TMP_LOCK_PREFIX ".tmp-lock-"
#define TMP_LOCK_MAX_AGE (10 * 60)

int bkp_lock_tmp_parse(const char *name, char *host, size_t n, long *pid, long long *when)
{
    size_t pl = strlen(TMP_LOCK_PREFIX);
    if (strncmp(name, TMP_LOCK_PREFIX, pl) != 0 || strlen(name) > 320)
        return -EBADMSG;
    const char *t = strrchr(name + pl, '-');
    if (!t)
        return -EBADMSG;
    const char *q = t;
    while (q > name + pl && q[-1] != '-')
        q--;
    /* name + pl .. q-1: the host and its '-' (empty in the old form) */
    size_t hl = q > name + pl ? (size_t)(q - 1 - (name + pl)) : 0;
    if (hl >= n || (q > name + pl && hl == 0))
        return -EBADMSG;
    memcpy(host, name + pl, hl);
    host[hl] = '\0';
    char *end;
    errno = 0;
    *pid = strtol(q, &end, 10);
    if (end != t || *pid < 1 || errno || !(*q >= '0' && *q <= '9'))
        return -EBADMSG;
    *when = strtoll(t + 1, &end, 10);
    if (*end || !(t[1] >= '0' && t[1] <= '9') || errno)
        return -EBADMSG;
    return 0;
}

static void sweep_tmp(int dirfd)
{
    char myhost[256], host[256];
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    long pid;
    long long when;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    host_name(myhost, sizeof(myhost));
    time_t now = time(NULL);
    while ((e = readdir(d))) {
        if (bkp_lock_tmp_parse(e->d_name, host, sizeof(host), &pid, &when))
            continue;
        int t = openat(dirfd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        struct stat st, again;
        if (t < 0)
            continue;
        bool here = !*host || !strcmp(host, myhost);
        bool gone = here && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
        bool old = fstat(t, &st) == 0 && now - st.st_mtime > TMP_LOCK_MAX_AGE &&
                   now - when > TMP_LOCK_MAX_AGE;
        if (S_ISREG(st.st_mode) && (gone || old) && bkp_lock_fd(t, false) == 0 &&
            fstatat(dirfd, e->d_name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
            again.st_ino == st.st_ino && again.st_dev == st.st_dev &&
            unlinkat(dirfd, e->d_name, 0) == 0)
            bkp_debug("removed the stale temporary lock file %s", e->d_name);
        close(t);
    }
    closedir(d);
}

/* Remove `path` only if it still is the file open as `fd`: never someone's
 * newer lock that took its place. */
static void unlink_if_same(const char *path, int fd)
{
    struct stat a, b;
    if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        unlink(path);
}

/* A lock appears complete or not at all: written and flocked under a
 * temporary name, then link()ed to its name (which fails if it exists). */
static int publish(const char *dir, const char *path, const char *command, int *out)
{
    char host[256] = "", text[BKP_LOCK_MAX + 1], when[32], tmpname[320], fhost[256];
    char user[256];
    time_t now = time(NULL);
    gethostname(host, sizeof(host) - 1);
    bkp_iso_time(when, sizeof(when), now);
    int len = snprintf(text, sizeof(text), "host=%s pid=%ld user=%s time=%s command=%s\n", host,
                       (long)getpid(), bkp_user_name(user, sizeof(user)), when, command);
    if (len < 0 || (size_t)len >= sizeof(text))
        return -ENAMETOOLONG;
    /* The host in its name: a temporary file another host left is judged
     * by its age only (sweep_tmp). */
    host_name(fhost, sizeof(fhost));
    snprintf(tmpname, sizeof(tmpname), TMP_LOCK_PREFIX "%s-%ld-%lld", fhost, (long)getpid(),
             (long long)now);
    char *tmp = bkp_path_join(dir, tmpname);
    if (!tmp)
        return -ENOMEM;
    unlink(tmp);
    /* 0644: a lock names who holds it, nothing secret, and every user of the
     * repository must be able to read it (an unreadable lock counts as held). */
    int fd = bkp_durable_create(tmp, 0644, false);
    int rc = fd < 0 ? fd : 0;
    if (!rc)
        rc = bkp_lock_fd(fd, false);
    if (!rc)
        rc = bkp_write_full(fd, text, (size_t)len);
    /* fsync, link (which fails when the lock exists), folder fsync: a kill
     * before the link leaves only the temporary file, which sweep_tmp
     * removes once its flock is free; after it, a whole lock whose flock
     * dies with us, which the next taker on this host takes over. A lock
     * whose name may not survive a crash is not reported as taken. */
    if (!rc) {
        rc = bkp_durable_link(fd, tmp, path);
        if (rc && rc != -EEXIST)
            unlink_if_same(path, fd);
    }
    unlink(tmp);
    free(tmp);
    if (rc) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

/* ---- --lock-wait ---- */

static int take_once(const char *repo, const char *name, const char *command, bool quiet,
                     bkp_lock **out);
static int writer_once(const char *repo, const char *command, bool quiet, bkp_lock **out);
static int reader_once(const char *repo, const char *command, bool named, bkp_lock **out);
static int prune_after_once(const char *repo, const char *command, const bkp_lock *self,
                            bkp_lock **out);

static int64_t wait_limit; /* seconds a taker waits for a busy lock */
static bool busy_quiet;    /* an attempt that will be retried says nothing */

void bkp_lock_wait_set(int64_t seconds)
{
    wait_limit = seconds > 0 ? seconds : 0;
}

static int64_t young_limit; /* a lock taken less long ago is said at info level */

void bkp_lock_young_set(int64_t seconds)
{
    young_limit = seconds > 0 ? seconds : 0;
}

static void busy_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void busy_error(const char *fmt, ...)
{
    if (busy_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    bkp_vlog(BKP_LOG_ERROR, fmt, ap);
    va_end(ap);
}

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Is this attempt one that will be retried if busy? Sleeps between
 * attempts; the last one (the limit reached) speaks. */
typedef struct waiter {
    struct timespec t0;
    bool said;
} waiter;

static bool retry_after(waiter *w, int rc, const char *what)
{
    if (rc != -EBUSY || !busy_quiet)
        return false;
    if (!w->said) {
        bkp_info(_("the %s lock is busy; waiting up to %lld s (--lock-wait)"), what,
                 (long long)wait_limit);
        w->said = true;
    }
    struct timespec nap = {0, 500 * 1000 * 1000};
    nanosleep(&nap, NULL);
    busy_quiet = elapsed(&w->t0) + 0.5 < (double)wait_limit;
    return true;
}

static void wait_begin(waiter *w)
{
    clock_gettime(CLOCK_MONOTONIC, &w->t0);
    w->said = false;
    busy_quiet = wait_limit > 0;
}

int bkp_lock_take(const char *repo, const char *name, const char *command, bkp_lock **out)
{
    waiter w;
    int rc;
    wait_begin(&w);
    do
        rc = take_once(repo, name, command, false, out);
    while (retry_after(&w, rc, name));
    busy_quiet = false;
    return rc;
}

int bkp_lock_writer(const char *repo, const char *command, bkp_lock **out)
{
    waiter w;
    int rc;
    wait_begin(&w);
    do
        rc = writer_once(repo, command, false, out);
    while (retry_after(&w, rc, "writer"));
    busy_quiet = false;
    return rc;
}

int bkp_lock_reader(const char *repo, const char *command, bool named, bkp_lock **out)
{
    waiter w;
    int rc;
    wait_begin(&w);
    do
        rc = reader_once(repo, command, named, out);
    while (retry_after(&w, rc, "reader"));
    busy_quiet = false;
    return rc;
}

int bkp_lock_prune_after(const char *repo, const char *command, const bkp_lock *self,
                         bkp_lock **out)
{
    waiter w;
    int rc;
    wait_begin(&w);
    do
        rc = prune_after_once(repo, command, self, out);
    while (retry_after(&w, rc, "prune"));
    busy_quiet = false;
    return rc;
}

static int take_once(const char *repo, const char *name, const char *command, bool quiet,
                     bkp_lock **out)
{
    char *dir = bkp_path_join(repo, "locks");
    char *path = dir ? bkp_path_join(dir, name) : NULL;
    int rc = -EBUSY;
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (!path || dfd < 0) {
        rc = !path ? -ENOMEM : -errno;
        if (path && !quiet)
            bkp_error(_("cannot open %s: %s"), dir, bkp_strerror(rc));
        free(path);
        free(dir);
        return rc;
    }
    /* Temporary lock files of writers killed mid-publish go first. */
    sweep_tmp(dfd);
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd;
        rc = publish(dir, path, command, &fd);
        if (!rc) {
            bkp_lock *l = malloc(sizeof(*l));
            if (!l) {
                unlink_if_same(path, fd);
                close(fd);
                rc = -ENOMEM;
                break;
            }
            l->fd = fd;
            l->path = path;
            l->dirfd = -1;
            path = NULL;
            *out = l;
            break;
        }
        if (rc != -EEXIST) {
            if (!quiet && rc == -EROFS) /* a write-protected disk: a fault, never tampering */
                bkp_error(_("cannot write to %s: it is on a read-only file system; nothing "
                            "was changed. A write-protected backup disk is only read (restore "
                            "from it with --from MOUNT; to rotate to it, turn its write-protect "
                            "switch off, mount it again read-write (`mount -o remount,rw "
                            "MOUNT`) and run the rotation again); the "
                            "server's own disk gone read-only has a fault to look at first "
                            "(dmesg)"),
                          repo);
            else if (!quiet)
                bkp_error(_("cannot create the lock %s: %s"), path, bkp_strerror(rc));
            break;
        }
        rc = -EBUSY;
        bkp_lock_info info;
        bool parsed;
        char desc[512];
        int old = read_lock(dfd, name, &info, &parsed, desc, sizeof(desc));
        if (old == -ENOENT)
            continue; /* released meanwhile: try again */
        if (old < 0) {
            bkp_error(_("cannot read the lock %s (%s), so it counts as held; check what it is, its "
                        "owner and permissions, and remove it if no bkp is running"),
                      path, old == -EBADMSG ? desc : bkp_strerror(old));
            break;
        }
        if (holder_alive(old, &info, parsed)) {
            /* Young: taken on this host by a process that lives, less
             * than the limit ago (a time to come is no one's, but for a
             * clock stepped back a little). */
            time_t since = parsed ? bkp_iso_parse(info.time) : -1, now = bkp_now();
            char here[256] = "";
            gethostname(here, sizeof(here) - 1);
            bool young = young_limit && !wait_limit && parsed && !strcmp(info.host, here) &&
                         since > 0 && since <= now + 300 && now - since < young_limit;
            close(old);
            if (young)
                bkp_info(_("another bkp holds the %s lock (%s); this one leaves it to finish"),
                         name, desc);
            else
                busy_error(_("another bkp holds the %s lock (%s); wait for it to finish (or give "
                             "--lock-wait). If you are sure it is gone, remove %s"),
                           name, desc, path);
            break;
        }
        bkp_warn(_("taking over the %s lock of a process that is gone (%s)"), name, desc);
        note_takeover(name, desc);
        unlink_if_same(path, old);
        close(old);
    }
    close(dfd);
    free(path);
    free(dir);
    return rc;
}

/* Is lock file `name` held by a live process? Stale ones are removed, with a
 * warning; one that cannot be read counts as held. */
static bool held_as(const char *dir, const char *name, char *desc, size_t n, bool tidy)
{
    char *path = bkp_path_join(dir, name);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bkp_lock_info info;
    bool parsed, alive = false;
    int fd = path && dfd >= 0 ? read_lock(dfd, name, &info, &parsed, desc, n) : -ENOMEM;
    if (dfd < 0)
        fd = -errno;
    if (fd < 0) {
        alive = fd != -ENOENT;
        if (alive && fd != -EBADMSG)
            snprintf(desc, n, "%s cannot be read: %s", name, bkp_strerror(fd));
    } else {
        alive = holder_alive(fd, &info, parsed);
        if (!alive && tidy) {
            char when[64];
            time_t t = parsed ? bkp_iso_parse(info.time) : -1;
            /* One process leaves a lock of each kind it took (the run's,
             * the writer's): said once. Its command is "bkp rotate" or,
             * in an older lock, "rotate". */
            static long said_pid;
            static char said_host[sizeof(info.host)];
            bool said = parsed && info.pid == said_pid && !strcmp(info.host, said_host);
            const char *cmd = strncmp(info.command, "bkp ", 4) ? info.command : info.command + 4;
            if (parsed && !said) /* in the reader's words and time; the record keeps `desc` */
                bkp_warn(_("an earlier `bkp %s` (process %ld, begun %s) ended without "
                           "finishing: its lock is removed and this one goes on"),
                         cmd, info.pid, bkp_local_time(when, sizeof(when), t, "?"));
            else if (!parsed)
                bkp_warn(_("removing the lock %s of a process that is gone (%s)"), name, desc);
            if (parsed) {
                said_pid = info.pid;
                snprintf(said_host, sizeof(said_host), "%s", info.host);
            }
            note_takeover(name, desc);
            unlink_if_same(path, fd);
        }
        close(fd);
    }
    if (dfd >= 0)
        close(dfd);
    free(path);
    return alive;
}

/* Held, a dead holder's lock removed (said). */
static bool held(const char *dir, const char *name, char *desc, size_t n)
{
    return held_as(dir, name, desc, n, true);
}

bool bkp_lock_alive(const char *repo, const char *name)
{
    char desc[512];
    char *dir = bkp_path_join(repo, "locks");
    bool h = dir && held_as(dir, name, desc, sizeof(desc), false);
    free(dir);
    return h;
}

bool bkp_lock_is_held(const char *repo, const char *name)
{
    char desc[512];
    char *dir = bkp_path_join(repo, "locks");
    bool h = dir && held(dir, name, desc, sizeof(desc));
    free(dir);
    return h;
}

/* The name of the writer lock of process `pid` on `host`. */
static void writer_name(char *name, size_t n, const char *host, long pid)
{
    snprintf(name, n, "write-%s-%ld", host, pid);
    for (char *c = name + 6; *c; c++)
        if (*c == '/')
            *c = '_';
}

bool bkp_lock_writer_alive(const char *repo, const char *host, long pid)
{
    char name[320], myhost[256] = "";
    writer_name(name, sizeof(name), host, pid);
    char *dir = bkp_path_join(repo, "locks"), *path = dir ? bkp_path_join(dir, name) : NULL;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK) : -1;
    free(path);
    free(dir);
    if (fd < 0)
        return false; /* no lock: its holder ended, or removed it */
    gethostname(myhost, sizeof(myhost) - 1);
    bool alive = strcmp(host, myhost) != 0; /* another host's is never judged */
    /* Only asked, never taken over: a reader removes nothing. */
    if (!alive)
        alive = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return alive;
}

static int writer_once(const char *repo, const char *command, bool quiet, bkp_lock **out)
{
    char name[320], host[256] = "", desc[512];
    gethostname(host, sizeof(host) - 1);
    writer_name(name, sizeof(name), host, (long)getpid());
    int rc = take_once(repo, name, command, quiet, out);
    if (rc)
        return rc;
    char *dir = bkp_path_join(repo, "locks");
    bool busy = dir && held(dir, "prune", desc, sizeof(desc));
    /* Writer locks of writers killed on this host go now (held() removes
     * the stale ones); live ones and other hosts' stay. */
    DIR *d = dir && !busy ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "write-", 6) && strcmp(e->d_name, name) != 0)
            (void)held(dir, e->d_name, desc, sizeof(desc));
    if (d)
        closedir(d);
    free(dir);
    if (busy) {
        busy_error("prune is running (%s); try again when it has finished (or give --lock-wait)",
                   desc);
        bkp_lock_release(*out);
        *out = NULL;
        return -EBUSY;
    }
    return 0;
}

/*
 * A reader's lock writes nothing. What it must keep away is a prune deleting
 * the packs it reads; a prune holds the repository folder's flock
 * exclusively (prune_after_once), a reader holds it shared. A flock is kept
 * by the kernel, not the disk, so it works on a write-protected disk and a
 * full one, and dies with its holder. A reader of the primary also names
 * itself in locks/ when it can (for the prune's message, and for another
 * host, whose flocks this one does not see); a reader of a copy on a medium
 * never does: the copy is the last good one on the bad day, and comes back
 * as it went (only this host's rotation prunes it, and it is kept away by
 * the flock).
 */
static int reader_once(const char *repo, const char *command, bool named, bkp_lock **out)
{
    bkp_lock *l = NULL;
    int dfd = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    if (flock(dfd, LOCK_SH | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            close(dfd);
            busy_error(_("prune is deleting from %s; try again when it has finished (or give "
                         "--lock-wait)"),
                       repo);
            return -EBUSY;
        }
        bkp_debug("no flock on %s: %s", repo, bkp_strerror(-errno));
    }
    int rc = named ? writer_once(repo, command, true, &l) : -ENOENT;
    if (rc == -EBUSY) {
        close(dfd);
        return rc; /* a prune holds it: named by writer_once */
    }
    if (rc && named) /* a full or read-only disk: the flock alone keeps prune away */
        bkp_debug("no reader's lock file in %s: %s", repo, bkp_strerror(rc));
    if (!l && !(l = calloc(1, sizeof(*l)))) {
        close(dfd);
        return -ENOMEM;
    }
    if (rc)
        l->fd = -1;
    l->dirfd = dfd;
    *out = l;
    return 0;
}

static int prune_after_once(const char *repo, const char *command, const bkp_lock *self,
                            bkp_lock **out)
{
    char desc[512];
    const char *own = self ? strrchr(self->path, '/') + 1 : "";
    int rc = take_once(repo, "prune", command, false, out);
    if (rc)
        return rc;
    char *dir = bkp_path_join(repo, "locks");
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "write-", 6) != 0 || !strcmp(e->d_name, own) ||
            !held(dir, e->d_name, desc, sizeof(desc)))
            continue;
        busy_error(_("another command is writing to the repository (%s); prune changes nothing: "
                     "run it again when that has finished (or give --lock-wait)"),
                   desc);
        rc = -EBUSY;
        break;
    }
    if (d)
        closedir(d);
    free(dir);
    /* Readers, a copy's among them, hold the folder's flock shared
     * (reader_once); a file system without flock has only the files. */
    int dfd = rc ? -1 : open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0 && flock(dfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            busy_error(_("a restore, verify, drill or mount is reading %s; prune changes nothing: "
                         "run it again when that has finished (or give --lock-wait)"),
                       repo);
            rc = -EBUSY;
        }
        close(dfd);
        dfd = -1;
    }
    if (rc) {
        bkp_lock_release(*out);
        *out = NULL;
    } else {
        (*out)->dirfd = dfd;
    }
    return rc;
}

void bkp_lock_release(bkp_lock *l)
{
    if (!l)
        return;
    if (l->path)
        unlink_if_same(l->path, l->fd);
    if (l->fd >= 0)
        close(l->fd);
    if (l->dirfd >= 0)
        close(l->dirfd);
    free(l->path);
    free(l);
}
