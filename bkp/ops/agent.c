/*
 * agent.c — serving one request on a source server (agent.h).
 */
#include "bkp/ops/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bkp/capture/pax.h"
#include "bkp/capture/walk.h"
#include "bkp/host/hook.h"
#include "bkp/host/wire.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"
#include "bkp/store/layout.h"

/* Send `payload` (owned, freed; NULL: no memory) of `*len` bytes. */
static int send_json(int out, int type, char *payload, const size_t *len)
{
    if (!payload)
        return -ENOMEM;
    int rc = bkp_wire_send(out, type, payload, *len);
    free(payload);
    return rc;
}

/* `check`: say which read: folders this user cannot enter, or are not
 * there (a plain `hello`, which `bkp host check` sends): asked of the file
 * system only then, never before a run or a tree, which a hung mount would
 * stall. */
_Static_assert(POL_AGENT_LIST_MAX <= BKP_WIRE_LIST, "an agent's lists fit its hello");
_Static_assert(3 * 2 * (size_t)POL_AGENT_READ_BYTES + 64 * 1024 < BKP_WIRE_MAX,
               "an agent's folders fit its hello three times, every byte escaped");

static int hello(const pol_agent *a, const char *version, bool check, int out)
{
    bkp_wire_hello h = {.protocol = BKP_WIRE_PROTOCOL, .nread = a->nread, .read = a->read};
    char *names[BKP_WIRE_LIST + 1];
    snprintf(h.version, sizeof(h.version), "%s", version);
    for (size_t i = 0; i < a->ncommands && i < BKP_WIRE_LIST; i++)
        names[h.ncommands++] = a->commands[i].name;
    h.commands = names;
    if (h.nread > BKP_WIRE_LIST)
        h.nread = BKP_WIRE_LIST;
    /* What this user cannot enter of its own file's folders, said before
     * the night's backup finds it: a folder above without x for it is the
     * usual cause. Entering is what a walk beneath needs (O_PATH); what it
     * cannot list below, the backup says file by file. */
    char *unreadable[BKP_WIRE_LIST + 1], *missing[BKP_WIRE_LIST + 1];
    h.checked = check;
    h.unreadable = unreadable;
    h.missing = missing;
    for (size_t i = 0; check && i < h.nread; i++)
        if (access(h.read[i], X_OK) < 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                missing[h.nmissing++] = h.read[i];
            else if (errno == EACCES || errno == EPERM)
                unreadable[h.nunreadable++] = h.read[i];
        }
    size_t len;
    return send_json(out, BKP_WIRE_HELLO, bkp_wire_hello_emit(&h, &len), &len);
}

/* Refuse, saying why in English (`en`) and in Japanese (`ja`): the backup
 * server shows its reader's (wire.h); this server's log keeps the English,
 * which its administrator, who changes the file, reads. */
static int send_refusal(int out, const char *en, const char *ja)
{
    size_t len;
    /* It may quote the request: any bytes. JSON carries UTF-8 only. */
    char *safe = bkp_text_safe(en, BKP_TEXT_FIELD), *safe_ja = bkp_text_safe(ja, BKP_TEXT_FIELD);
    int rc = -ENOMEM;
    if (safe && safe_ja) {
        bkp_error("%s", safe);
        rc = send_json(out, BKP_WIRE_REFUSED, bkp_wire_refused_emit(safe, safe_ja, &len), &len);
    }
    free(safe);
    free(safe_ja);
    return rc ? rc : -EACCES;
}

/* The same, `fmt` an N_() text with its arguments, translated here by the
 * catalogue installed with bkp. */
static int vrefuse(int out, const char *fmt, va_list ap)
{
    char en[700], ja[1400];
    va_list aq;
    va_copy(aq, ap);
    vsnprintf(en, sizeof(en), fmt, ap);
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    vsnprintf(ja, sizeof(ja), _(fmt), aq);
    bkp_i18n_end(&saved);
    va_end(aq);
    return send_refusal(out, en, ja);
}

static int refuse(int out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(int out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vrefuse(out, fmt, ap);
    va_end(ap);
    return rc;
}

/* A refusal whose words take no argument: `text` an N_() text (never a
 * format: it may hold a '%'). */
static int refuse_text(int out, const char *text)
{
    char ja[1400];
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    snprintf(ja, sizeof(ja), "%s", _(text));
    bkp_i18n_end(&saved);
    return send_refusal(out, text, ja);
}

/* Copy the command's output into data frames until its end; false when the
 * backup server went away (the command is then ended). */
static bool relay(int data, int cancel, int out)
{
    static uint8_t buf[BKP_WIRE_DATA];
    struct pollfd p[3] = {
        {.fd = data, .events = POLLIN}, {.fd = out, .events = 0}, {.fd = cancel, .events = POLLIN}};
    for (;;) {
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (p[1].revents & (POLLERR | POLLHUP))
            return false; /* the connection is gone while the command is quiet */
        if (p[2].revents && !(p[0].revents & POLLIN))
            return true; /* ended, its output held open elsewhere: the end says so */
        if (!p[0].revents)
            continue;
        ssize_t n = read(data, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0;
        if (bkp_wire_send_data(out, buf, (size_t)n))
            return false;
    }
}

static int run(const pol_agent *a, const char *name, int out)
{
    const pol_agent_command *c = pol_agent_command_find(a, name);
    if (!c)
        return refuse(out,
                      N_("the command '%s' is not in the commands of %s on this server; add it "
                         "there if it is to be backed up, or correct the data set's command in "
                         "the policy"),
                      name, a->file);
    /* The session's environment is sshd's, and what the client asked for
     * (AcceptEnv: LANG, LC_*): the backup server's wishes. The command gets
     * the user's own only. */
    static const char *const own[] = {"HOME", "USER", "LOGNAME", "SHELL", "TZ", NULL};
    char *inherited[8] = {NULL};
    size_t k = 0;
    for (size_t i = 0; own[i]; i++) {
        const char *v = getenv(own[i]);
        char *e = NULL;
        if (v && asprintf(&e, "%s=%s", own[i], v) > 0)
            inherited[k++] = e;
    }
    bkp_hook_spec spec = {
        .command = c->command, .timeout = c->timeout, .dir = "/", .inherited = inherited};
    bkp_hook_proc *proc;
    bkp_hook_result res;
    int data, rc = bkp_hook_start(&spec, &data, &proc);
    for (size_t i = 0; i < k; i++)
        free(inherited[i]);
    if (rc)
        return refuse(out, N_("the command '%s' could not be started: %s"), name,
                      bkp_strerror_en(rc));
    bool whole = relay(data, bkp_hook_cancel_fd(proc), out);
    close(data);
    bkp_hook_finish(proc, !whole, &res);
    if (!whole)
        return -EPIPE;
    bkp_wire_end e = {.exit_code = res.exit_code,
                      .signal = res.signal,
                      .timed_out = res.timed_out,
                      .left_running = res.left_running,
                      .held_open = res.held_open};
    size_t len;
    return send_json(out, BKP_WIRE_END, bkp_wire_end_emit(&e, &len), &len);
}

/* Open `rel` (a folder's path relative to `tree`, or ".") beneath `tree`
 * (O_PATH): no link followed out of it, ".." not above it. Where the
 * kernel has no openat2 (before 5.6), no link is followed at all. */
static int open_beneath(int tree, const char *rel)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, tree, rel, &how, sizeof(how));
    /* ENOSYS: an older kernel; EPERM: a seccomp filter that does not know it. */
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
        return fd < 0 ? -errno : fd;
    char *copy = strdup(rel), *save = NULL;
    int cur = copy ? fcntl(tree, F_DUPFD_CLOEXEC, 3) : -1, rc = copy ? 0 : -ENOMEM;
    if (copy && cur < 0)
        rc = -errno;
    for (char *part = copy ? strtok_r(copy, "/", &save) : NULL; !rc && part;
         part = strtok_r(NULL, "/", &save)) {
        int next = !strcmp(part, "..")
                       ? -(errno = EXDEV)
                       : openat(cur, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            rc = errno == ELOOP ? -EXDEV : -errno; /* a link: not followed */
        close(cur);
        cur = next;
    }
    free(copy);
    if (rc && cur >= 0)
        close(cur);
    return rc ? rc : cur;
}

/* Where `path` (absolute) is read from: the folder above it opened beneath
 * the read: tree it lies in, as `*dirfd` (the caller's to close; AT_FDCWD
 * for a tree itself, opened by the path the agent's file gives), and its
 * last name there, in `*name`. A folder swapped for a link later changes
 * nothing: the walk starts from the descriptor. 0; -EXDEV when it lies in
 * no tree, is not normalised, or a link leads out; another negative errno
 * when that folder cannot be opened. */
static int resolve(const pol_agent *a, const char *path, int *dirfd, const char **name)
{
    char *norm = bkp_walk_root(path);
    bool ok = norm && !strcmp(norm, path);
    free(norm);
    for (size_t i = 0; ok && i < a->nread; i++) {
        char *tree = bkp_walk_root(a->read[i]);
        if (!tree)
            return -ENOMEM;
        if (!bkp_walk_below(tree, path)) {
            free(tree);
            continue;
        }
        if (!strcmp(tree, path)) {
            free(tree);
            *dirfd = AT_FDCWD;
            *name = path;
            return 0;
        }
        size_t skip = strlen(tree) == 1 ? 1 : strlen(tree) + 1;
        const char *rel = path + skip, *slash = strrchr(rel, '/');
        char *parent = slash ? strndup(rel, (size_t)(slash - rel)) : strdup(".");
        int tfd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = !parent ? -ENOMEM : tfd < 0 ? -errno : open_beneath(tfd, parent);
        if (tfd >= 0)
            close(tfd);
        free(parent);
        free(tree);
        if (fd < 0)
            return fd == -ELOOP ? -EXDEV : fd;
        *dirfd = fd;
        *name = slash ? slash + 1 : rel;
        return 0;
    }
    return -EXDEV;
}

/* The archive's bytes into data frames of BKP_WIRE_DATA bytes. */
typedef struct framer {
    int out;
    size_t len;
    uint8_t buf[BKP_WIRE_DATA];
} framer;

static int frame_put(void *ctx, const void *buf, size_t len)
{
    framer *f = ctx;
    const uint8_t *b = buf;
    while (len) {
        size_t n = sizeof(f->buf) - f->len < len ? sizeof(f->buf) - f->len : len;
        memcpy(f->buf + f->len, b, n);
        f->len += n;
        b += n;
        len -= n;
        if (f->len == sizeof(f->buf)) {
            int rc = bkp_wire_send_data(f->out, f->buf, f->len);
            if (rc)
                return rc;
            f->len = 0;
        }
    }
    return 0;
}

static int left_named(void *ctx, const char *path, const char *why)
{
    return bkp_wire_end_left(ctx, path, why);
}

static int tree(const pol_agent *a, const char *request, int out)
{
    bkp_wire_tree t;
    if (bkp_wire_tree_parse(request, &t))
        return refuse_text(out,
                      N_("the tree request is not one this agent reads (tree [-c] [-x] [-e "
                         "PATTERN]... PATH..., each word %XX-escaped)"));
    /* Every path resolved before a byte is sent: one outside the read:
     * trees refuses the request; one that cannot be reached is left out
     * (said, counted) as a local backup leaves out a missing path. */
    int *fds = calloc(t.npaths + 1, sizeof(*fds));
    char **roots = calloc(t.npaths + 1, sizeof(*roots)),
         **names = calloc(t.npaths + 1, sizeof(*names));
    framer *f = calloc(1, sizeof(*f));
    size_t n = 0;
    uint64_t missing = 0;
    bkp_wire_end e = {0}; /* the paths left out named: the backup server records them */
    int rc = fds && roots && names && f ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < t.npaths; i++) {
        const char *name = NULL;
        int err = resolve(a, t.paths[i], &fds[n], &name);
        if (err == -EXDEV) {
            char *safe = bkp_text_safe(t.paths[i], BKP_TEXT_FIELD);
            rc = refuse(out,
                        N_("%.300s is not below the read: trees of %s on this server (or a link "
                           "on its way leads out of them, or is absolute); correct the data "
                           "set's path in the policy, or add it there if it is to be backed up"),
                        safe ? safe : "?", a->file);
            free(safe);
        } else if (err == -ENOMEM) {
            rc = err;
        } else if (err) {
            bkp_warn("%s: %s; it is left out", t.paths[i], bkp_strerror_en(err));
            missing++;
            rc = bkp_wire_end_left(&e, t.paths[i], bkp_strerror_en(err));
        } else {
            roots[n] = t.paths[i];
            names[n++] = (char *)name;
        }
    }
    if (!rc) {
        f->out = out;
        bkp_pax_send_opts o = {.roots = roots,
                               .nroots = n,
                               .dirfds = fds,
                               .names = names,
                               .one_fs = t.one_fs,
                               .exclude = t.exclude,
                               .nexclude = t.nexclude,
                               .stamps = t.stamps ? STDIN_FILENO : -1,
                               .left = left_named,
                               .left_ctx = &e};
        bkp_pax_sent sent;
        rc = bkp_pax_send(&o, frame_put, f, &sent);
        if (!rc && f->len)
            rc = bkp_wire_send_data(out, f->buf, f->len);
        if (rc && rc != -EPIPE)
            bkp_error("the walk ended before its end: %s", bkp_strerror_en(rc));
        e.unreadable = sent.unreadable + missing;
        size_t len;
        if (!rc)
            rc = send_json(out, BKP_WIRE_END, bkp_wire_end_emit(&e, &len), &len);
    }
    for (size_t i = 0; fds && i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    free(roots);
    free(names);
    free(f);
    bkp_wire_end_clear(&e);
    bkp_wire_tree_clear(&t);
    return rc;
}

int ops_agent_serve(const pol_agent *a, const char *version, const char *request, int out)
{
    int rc = hello(a, version, request && !strcmp(request, "hello"), out);
    if (rc)
        return rc;
    if (!request || !*request)
        return refuse_text(out,
                      N_("no request: this key only serves the backup server's `hello`, `run "
                         "NAME` or `tree PATH...`, as the forced command of its authorized_keys "
                         "line"));
    if (!strcmp(request, "hello"))
        return 0;
    if (!strncmp(request, "run ", 4) && bkp_dataset_name_ok(request + 4))
        return run(a, request + 4, out);
    if (!strncmp(request, "tree ", 5))
        return tree(a, request, out);
    return refuse(out, N_("'%.64s' is not a request this agent serves (hello, run NAME, tree "
                          "PATH...)"),
                  request);
}

int ops_agent_refuse(const pol_agent *a, const char *version, int out, const char *fmt, ...)
{
    int rc = hello(a, version, false, out);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    rc = vrefuse(out, fmt, ap);
    va_end(ap);
    return rc;
}
