#include "bkp/audit/audit.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit_internal.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/store/generation.h"
#include "bkp/io/lock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"

static char *command_line;

void bkp_audit_set_command(int argc, char **argv)
{
    bkp_buf b;
    bkp_buf_init(&b);
    for (int i = 0; i < argc; i++) {
        if (i)
            bkp_buf_u8(&b, ' ');
        bkp_buf_put(&b, argv[i], strlen(argv[i]));
    }
    bkp_buf_u8(&b, 0);
    free(command_line);
    command_line = b.failed ? NULL : (char *)b.data;
}

#define AUDIT_LOG "audit/log.jsonl"

char *bkp_audit_path(const bkp_repo *r)
{
    return bkp_repo_subpath(r, AUDIT_LOG);
}

char *bkp_audit_path_in(const char *dir)
{
    return bkp_path_join(dir, AUDIT_LOG);
}

char *bkp_audit_signed_text(json_t *rec)
{
    json_t *copy = json_copy(rec);
    json_object_del(copy, "sig");
    char *t = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    return t;
}

/* The last complete line of `fd` (of `size` bytes): its seq, its hash and
 * the hash it chains to. A torn tail (a crash mid-append) is cut off (with
 * `cut`) and reported in `*torn`. */
static int last_line(int fd, uint64_t size, uint64_t *seq, uint8_t hash[32], uint8_t prev[32],
                     bool *have, bool *torn, bool cut)
{
    *have = *torn = false;
    *seq = 0;
    if (!size)
        return 0;
    size_t want = size < (1 << 20) ? (size_t)size : (1 << 20);
    char *buf = malloc(want + 1);
    if (!buf)
        return -ENOMEM;
    int rc = bkp_pread_full(fd, buf, want, size - want);
    if (rc) {
        free(buf);
        return rc;
    }
    size_t end = want;
    if (buf[end - 1] != '\n') {
        /* torn: cut back to the last newline */
        while (end && buf[end - 1] != '\n')
            end--;
        /* A kill during an append leaves a prefix of one record after the
         * last newline (bkp_durable_append); the next appender cuts it,
         * durably, and says so in its own record ("recovered"). */
        int x = cut ? bkp_durable_truncate(fd, size - want + end) : 0;
        if (x) {
            free(buf);
            return x;
        }
        *torn = true;
    }
    if (!end) {
        free(buf);
        return 0;
    }
    size_t start = end - 1;
    while (start && buf[start - 1] != '\n')
        start--;
    crypto_generichash(hash, 32, (const uint8_t *)buf + start, end - 1 - start, NULL, 0);
    json_t *j = json_loadb(buf + start, end - 1 - start, 0, NULL);
    json_t *s = json_object_get(j, "seq");
    const char *pv = json_string_value(json_object_get(j, "prev"));
    memset(prev, 0, 32);
    if (pv)
        (void)bkp_unhex(prev, 32, pv);
    *seq = json_is_integer(s) && json_integer_value(s) > 0 ? (uint64_t)json_integer_value(s) : 0;
    *have = true;
    json_decref(j);
    free(buf);
    return 0;
}

/*
 * The head marker is a floor, not the end. An append writes the line, then
 * moves the marker; a crash between the two, or a full disk that lets the
 * line in and not the marker's new file, leaves the log one or more records
 * past the marker. That is no loss: the records after the marker's are
 * there, each signed and chained to the one before, back to the record the
 * marker names. Cutting or rewriting needs the log to stop short of the
 * marker's record or to differ from it there, which this still refuses.
 *
 * Is the end of the log at `fd` (`size` bytes, its last complete line
 * record `seq`) reached from the marker's record along such a chain? Only
 * the tail is read: from the end back to the marker's line, in windows that
 * grow until they hold it.
 */
static bool chained_from_marker(int fd, uint64_t size, uint64_t seq, const bkp_audit_head *h,
                                const uint8_t pk[32])
{
    if (seq <= h->seq || seq - h->seq >= BKP_AUDIT_LOG_MAX / 64 || size > BKP_AUDIT_LOG_MAX)
        return false;
    size_t need = (size_t)(seq - h->seq) + 1; /* the marker's line and every one after */
    size_t win = 256 << 10, cap = 0, n = 0;
    char *buf = NULL, **line = NULL;
    bool ok = false, last_checked = false;
    uint8_t hash[32];
    for (;;) {
        size_t want = size < win ? (size_t)size : win;
        char *b = realloc(buf, want + 1);
        if (!b)
            goto out;
        buf = b;
        if (bkp_pread_full(fd, buf, want, size - want))
            goto out;
        /* Whole lines from the end: after the last newline is a torn end,
         * which is not a record; a line is whole when the newline before it
         * is in the window, or the window starts the file. A NUL inside a
         * line would cut it short for the hash: no record holds one. */
        size_t end = want;
        while (end && buf[end - 1] != '\n')
            end--;
        n = 0;
        while (end && n < need) {
            buf[end - 1] = '\0';
            size_t start = end - 1;
            while (start && buf[start - 1] != '\n')
                start--;
            if (!start && want < size)
                break; /* it may begin before the window */
            if (strlen(buf + start) != end - 1 - start)
                goto out;
            if (n == cap) {
                size_t c2 = cap ? 2 * cap : 64;
                char **l = realloc(line, (c2 < need ? c2 : need) * sizeof(*l));
                if (!l)
                    goto out;
                line = l;
                cap = c2 < need ? c2 : need;
            }
            line[n++] = buf + start;
            end = start;
        }
        /* The last line is the one a forger appends: its signature is
         * checked before the window grows for it (and it alone cannot make
         * this read the whole log). */
        if (!last_checked && n >= 2) {
            crypto_generichash(hash, 32, (const uint8_t *)line[1], strlen(line[1]), NULL, 0);
            if (bkp_audit_check_line(line[0], seq, hash, pk) != BKP_AUDIT_SOUND)
                goto out;
            last_checked = true;
        }
        if (n == need || want == size)
            break;
        win *= 4;
    }
    if (n != need)
        goto out;
    /* line[need - 1] is the marker's record; line[0] the last. */
    crypto_generichash(hash, 32, (const uint8_t *)line[need - 1], strlen(line[need - 1]), NULL, 0);
    ok = !memcmp(hash, h->record, 32);
    for (size_t i = need - 1; ok && i-- > 0;) {
        ok = bkp_audit_check_line(line[i], seq - i, hash, pk) == BKP_AUDIT_SOUND;
        crypto_generichash(hash, 32, (const uint8_t *)line[i], strlen(line[i]), NULL, 0);
    }
out:
    free(buf);
    free(line);
    return ok;
}

/* What is wrong with the end of a log whose last record is `seq` (hash
 * `hash`, chaining to `prev`) given its head marker, or NULL when they
 * agree. `kind` receives a short word for the record of a restart. */
static const char *head_mismatch(int hrc, const bkp_audit_head *h, bool have, uint64_t seq,
                                 const uint8_t hash[32], bool ahead, const char **kind)
{
    if (hrc == -ENOENT) {
        *kind = "no head";
        return N_("its head marker audit/head is missing, so a loss of records at its end cannot "
                  "be ruled out");
    }
    if (hrc) {
        *kind = "damaged head";
        return N_("its head marker audit/head is damaged or not signed by this repository");
    }
    if (!have) {
        *kind = "emptied";
        return N_("it is empty, but its head marker says it had records: it was emptied");
    }
    if (seq == h->seq && !memcmp(hash, h->record, 32))
        return NULL;
    if (ahead)
        return NULL; /* a crash or a full disk between an append and the marker */
    *kind = seq < h->seq ? "shortened" : "rewritten";
    return seq < h->seq ? N_("it disagrees with its signed head marker: it ends before the "
                             "record the marker names, so records were removed from its end")
                        : N_("it disagrees with its signed head marker: its end is not the "
                             "record the marker names, so it was rewritten");
}

/* The marker's verdict on the end of the log open as `fd` (head_mismatch),
 * a log past its marker judged by the chain from it (chained_from_marker). */
static const char *judge_end(int fd, int hrc, const bkp_audit_head *h, bool have, uint64_t seq,
                             const uint8_t last[32], const uint8_t pk[32], const char **kind)
{
    struct stat st;
    bool ahead = !hrc && have && seq > h->seq && fstat(fd, &st) == 0 &&
                 chained_from_marker(fd, (uint64_t)st.st_size, seq, h, pk);
    return head_mismatch(hrc, h, have, seq, last, ahead, kind);
}

static int append_line(const bkp_repo *r, int fd, const char *dir, const bkp_audit_rec *rec,
                       bool have, uint64_t seq, const uint8_t prev[32], bool torn,
                       const bkp_audit_head *role, json_t *extra);

/* A lost log is reported once per command, by whichever part finds it first. */
static bool lost_reported;

void bkp_audit_lost_reported(void)
{
    lost_reported = true;
}

/* Why repository `r`'s log is missing, as said (N_): a folder that holds
 * the copy of a primary's log, as a backup disk's does, was most likely
 * copied off a disk without the label that makes it a medium's copy; it is
 * said so, not taken for a copy (the one who deleted a primary's log could
 * plant that file too). */
static const char *missing_why(const bkp_repo *r)
{
    struct stat st;
    char *copy = bkp_repo_subpath(r, BKP_AUDIT_COPY);
    bool disk = copy && lstat(copy, &st) == 0 && S_ISREG(st.st_mode);
    free(copy);
    return disk ? N_("is missing, and the folder holds audit/primary.jsonl, as a backup disk's "
                     "copy does: if it was copied off a disk, read the disk where it is mounted "
                     "(--from its mount point), or copy the disk's whole folder, its BKP-LABEL "
                     "with it; if it is this server's repository, its log was deleted")
                : N_("is missing (deleted?)");
}

/* `why` is English (N_), said in the reader's language. */
static void say_log_lost(const char *path, const char *why)
{
    if (lost_reported)
        return;
    lost_reported = true;
    bkp_error(_("the audit log %s: %s. This command's record was not written to it (what the "
                "command says of its own work stands), and the log is not started again by "
                "itself; `bkp audit verify` says what is missing, and `bkp audit restart REASON` "
                "continues it with a signed record of the loss"),
              path, _(why));
}

static int start_log(const bkp_repo *r, const bkp_audit_rec *rec, const bkp_audit_head *role);

/* No log: on a copy on a medium (bkp_gen_copy_medium), its own log — what
 * was done with the medium directly — begins with its first record; on a
 * primary, the log is missing: reported, never begun again (-ENOENT). */
static int start_medium_log(const bkp_repo *r, const bkp_audit_rec *rec)
{
    bkp_audit_head role = {.medium = true};
    char *m = bkp_gen_copy_medium(r), *path = bkp_audit_path(r);
    int rc = -ENOENT;
    if (!m)
        say_log_lost(path ? path : "audit/log.jsonl", missing_why(r));
    else {
        snprintf(role.medium_id, sizeof(role.medium_id), "%s", m);
        rc = start_log(r, rec, &role);
    }
    free(m);
    free(path);
    return rc;
}

bool bkp_audit_fault(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT || rc == -EROFS;
}

/*
 * A record that a full or read-only disk kept out of the log is not lost
 * silently: it leaves an empty file audit/missed-TIME-PID-N-OP, which costs
 * no data block (only a name, which a full disk still has room for), and
 * the next record that can be written names every such file in its
 * "missed" field and then removes them. A read-only disk takes no name
 * either, and the message says so. A crash between that record and the
 * removal counts them again in the next: "at least", never fewer.
 */
#define MISSED_PREFIX "missed-"
#define MISSED_LISTED 64 /* named one by one in the record; the count covers the rest */

static bool note_missed(const char *dir, const char *op)
{
    static atomic_uint n; /* captures of a run record at once */
    char name[128], *path;
    size_t i = 0;
    int len = snprintf(name, sizeof(name), MISSED_PREFIX "%lld-%ld-%u-", (long long)bkp_now(),
                       (long)getpid(), atomic_fetch_add(&n, 1));
    for (const char *c = op; *c && i < 32 && len > 0 && (size_t)len + i + 1 < sizeof(name); c++)
        name[len + i++] = (*c >= 'a' && *c <= 'z') || *c == '-' || *c == '_' ? *c : '_';
    if (len <= 0 || !i)
        return false;
    name[len + i] = '\0';
    if (!(path = bkp_path_join(dir, name)))
        return false;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    free(path);
    if (fd < 0)
        return false;
    close(fd);
    return bkp_fsync_dir(dir) == 0;
}

/* One name of a missed record: "missed-TIME-PID-N-OP", an empty regular
 * file. Its time, op and owner, or false for anything else (which stays). */
static bool missed_parse(int dfd, const char *name, long long *when, const char **op, uid_t *uid)
{
    const char *p = name + strlen(MISSED_PREFIX);
    struct stat st;
    char *end;
    if (strncmp(name, MISSED_PREFIX, strlen(MISSED_PREFIX)) || strlen(name) > 100)
        return false;
    *when = strtoll(p, &end, 10);
    for (int field = 0; field < 2 && *end == '-'; field++)
        (void)strtoul(end + 1, &end, 10);
    if (*when <= 0 || *end != '-' || !end[1] ||
        strspn(end + 1, "abcdefghijklmnopqrstuvwxyz-_") != strlen(end + 1))
        return false;
    *op = end + 1;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) || st.st_size)
        return false;
    *uid = st.st_uid;
    return true;
}

/* The records missed so far in the log's folder `dir`: the "missed" field
 * of the next record (NULL: none), and their names in `names` for
 * missed_clear once it is durable. */
static json_t *missed_take(const char *dir, json_t **names)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    json_t *list = json_array(), *all = json_array();
    struct dirent *e;
    long long when;
    const char *op;
    char iso[32];
    uid_t uid;
    if (!d && dfd >= 0)
        close(dfd);
    while (d && list && all && (e = readdir(d)) && json_array_size(all) < 100000) {
        if (!missed_parse(dirfd(d), e->d_name, &when, &op, &uid))
            continue;
        json_array_append_new(all, json_string(e->d_name));
        if (json_array_size(list) < MISSED_LISTED) {
            bkp_iso_time(iso, sizeof(iso), (time_t)when);
            json_array_append_new(
                list, json_pack("{s:s, s:s, s:I}", "op", op, "time", iso, "uid", (json_int_t)uid));
        }
    }
    if (d)
        closedir(d);
    json_t *missed = NULL;
    if (list && all && json_array_size(all))
        missed =
            json_pack("{s:I, s:O}", "count", (json_int_t)json_array_size(all), "records", list);
    json_decref(list);
    if (missed)
        *names = all;
    else
        json_decref(all);
    return missed;
}

static void missed_clear(const char *dir, json_t *names)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    size_t i;
    json_t *v;
    if (dfd < 0)
        return;
    json_array_foreach(names, i, v)(void) !bkp_durable_unlink_at(dfd, json_string_value(v));
    close(dfd);
}

/* A record of `op` that the log in `dir` (`path`) could not take for a
 * fault of its disk (`rc`, bkp_audit_fault): said, and counted for the
 * next record when a name can still be made there. */
static void say_missed(const char *dir, const char *path, const char *op, int rc)
{
    if (dir && note_missed(dir, op))
        bkp_warn(_("this %s is not recorded in the audit log %s: %s; the next record written there "
                   "says how many were missed"),
                 op, path, bkp_strerror(rc));
    else
        bkp_warn(_("this %s is not recorded in the audit log %s, and cannot be counted there: %s"),
                 op, path, bkp_strerror(rc));
}

/* The append itself. It takes a read handle: appending to the log is the
 * one write that a command reading the repository (a restore, a drill, a
 * verify) makes, and it is made under the log's own lock, never the
 * repository's (audit.h, bkp_audit_append_ro). */
static int append_rec(const bkp_repo *r, const bkp_audit_rec *rec)
{
    /* Opened with the public key alone (an auditor's check): nothing can
     * be signed, so nothing is appended — the rule is kept here, for every
     * caller. */
    if (bkp_repo_is_public(r))
        return 0;
    char *dir = bkp_repo_subpath(r, "audit");
    char *path = bkp_audit_path(r), *hpath = path ? bkp_audit_head_path(path) : NULL;
    uint8_t prev[32], last[32];
    bkp_audit_head h = {0};
    uint64_t seq;
    bool have, torn;
    const char *kind = NULL, *why;
    json_t *missed = NULL, *names = NULL, *extra = NULL;
    int fd = -1, rc;
    if (!dir || !path || !hpath) {
        rc = -ENOMEM;
        goto out;
    }
    /* Never O_CREAT here: a primary's log is started by init
     * (bkp_audit_create) or an operator's restart only; a missing one is a
     * loss to report, not a log to begin. Only a medium's own log begins
     * with its first record (start_medium_log). */
    fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        rc = start_medium_log(r, rec);
        if (rc != -EEXIST)
            goto quiet;
        fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    }
    /* One writer at a time: the chain never forks, lines never interleave.
     * The log itself is the lock (lock.h: a flock held while appending). */
    rc = fd < 0 ? -errno : bkp_lock_fd(fd, true);
    if (rc)
        goto out;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if ((rc = last_line(fd, (uint64_t)st.st_size, &seq, last, prev, &have, &torn, true)))
        goto out;
    int hrc = bkp_audit_head_read(hpath, bkp_keys_sign_pk(bkp_repo_keys(r)), &h);
    if (hrc && hrc != -ENOENT && hrc != -EBADMSG) {
        rc = hrc;
        goto out;
    }
    if ((why =
             judge_end(fd, hrc, &h, have, seq, last, bkp_keys_sign_pk(bkp_repo_keys(r)), &kind))) {
        say_log_lost(path, why);
        rc = -EBADMSG;
        goto quiet;
    }
    extra = json_object();
    if (extra && (missed = missed_take(dir, &names)))
        json_object_set(extra, "missed", missed);
    if (extra && !hrc && have && seq > h.seq) /* the marker was left behind: said in the record */
        json_object_set_new(extra, "marker_behind", json_integer((json_int_t)(seq - h.seq)));
    rc = append_line(r, fd, dir, rec, have, seq, last, torn, &h,
                     extra); /* the marker keeps its role */
    if (!rc && names)
        missed_clear(dir, names);
out:
    if (rc && bkp_audit_fault(rc))
        say_missed(rc == -EROFS ? NULL : dir, path ? path : "audit/log.jsonl", rec->op, rc);
    else if (rc && rc != -EUCLEAN)
        bkp_error(_("cannot append to the audit log %s: %s; what was done is not recorded"),
                  path ? path : "audit/log.jsonl", bkp_strerror(rc));
quiet:
    if (fd >= 0)
        close(fd);
    json_decref(missed);
    json_decref(names);
    json_decref(extra);
    free(dir);
    free(path);
    free(hpath);
    return rc;
}

int bkp_audit_append(bkp_repo *r, const bkp_audit_rec *rec)
{
    return append_rec(r, rec);
}

/* Is `r` a copy on a medium, for an append through a read handle? A log
 * whose signed marker says primary is a primary, whatever label lies
 * beside it (a planted one must not silence its records); one whose marker
 * names a medium is that medium's copy; with no sound marker, a copy is
 * told by its label (bkp_gen_copy_medium). */
static bool is_copy(const bkp_repo *r)
{
    char *m = NULL;
    int role = bkp_audit_role(r, &m);
    free(m);
    if (role == BKP_AUDIT_PRIMARY || role == BKP_AUDIT_MEDIUM)
        return role == BKP_AUDIT_MEDIUM;
    m = bkp_gen_copy_medium(r);
    free(m);
    return m != NULL;
}

int bkp_audit_append_ro(const bkp_repo *r, const bkp_audit_rec *rec)
{
    /* A read never writes the copy it reads: the last good copy on the bad
     * day may be write-protected, and must come back as it went. Its
     * records go to the primary's log or a journal (bkp_audit_journal). */
    if (bkp_repo_is_public(r))
        return 0; /* nothing can be signed (append_rec) */
    return is_copy(r) ? -EROFS : append_rec(r, rec);
}

/*
 * A journal: the records of reading commands run where no primary is open
 * (a copy on a medium read on a recovery machine). The same records as the
 * log's, signed with the repository's key and chained (seq from 1), each
 * naming the repository; no head marker (it is the reader's paper, not the
 * repository's history). Created 0600, never through a link; appended
 * under its own flock as the log is.
 */
/* A journal found at `path` (open as `fd`, `st`) is appended to only when
 * it is one this process could have written: this user's, its only name,
 * for nobody else to read or write, and every record in it signed by the
 * repository's key in its chain (a torn end, which the append cuts, aside).
 * Anything else — a file someone put there first, a hard link to another —
 * is left as it is: -EEXIST, said. */
static int journal_ours(const bkp_repo *r, const char *path, int fd, const struct stat *st)
{
    bkp_buf b;
    bkp_audit_check chk;
    int rc = 0;
    if (st->st_uid != geteuid() || st->st_nlink != 1 || (st->st_mode & 077) ||
        (uint64_t)st->st_size > BKP_AUDIT_LOG_MAX)
        rc = -EEXIST;
    bkp_buf_init(&b);
    if (!rc && !bkp_buf_reserve(&b, (size_t)st->st_size))
        rc = -ENOMEM;
    if (!rc && (rc = bkp_pread_full(fd, b.data, (size_t)st->st_size, 0)) == 0) {
        b.len = (size_t)st->st_size;
        rc = bkp_audit_verify_bytes(path, &b, bkp_repo_sign_pk(r), NULL, &chk);
        if (!rc && (chk.first_bad || !chk.records))
            rc = -EEXIST;
    }
    bkp_buf_free(&b);
    if (rc == -EEXIST)
        bkp_warn(
            _("%s is not a journal this repository's key wrote, or others may change it: it is "
              "left as it is; move it away, or run the command from another folder"),
            path);
    return rc;
}

int bkp_audit_journal(const bkp_repo *r, const char *path, const bkp_audit_rec *rec)
{
    char *dir = NULL, *slash = strrchr(path, '/');
    uint8_t prev[32], last[32];
    uint64_t seq = 0;
    bool have = false, torn = false;
    struct stat st;
    json_t *extra = json_pack("{s:s}", "repository", bkp_repo_uuid(r));
    int rc = 0;
    int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT)
        fd = bkp_durable_create(path, 0600, true);
    else if (fd < 0)
        fd = -errno;
    dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (fd < 0)
        rc = fd;
    else if (!dir || !extra)
        rc = -ENOMEM;
    else if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL; /* a FIFO or a device in its place: not a journal */
    if (!rc)
        rc = bkp_lock_fd(fd, true);
    if (!rc && fstat(fd, &st) < 0)
        rc = -errno;
    if (!rc && st.st_size)
        rc = journal_ours(r, path, fd, &st);
    if (!rc && !(rc = last_line(fd, (uint64_t)st.st_size, &seq, last, prev, &have, &torn, true)))
        rc = append_line(r, fd, dir, rec, have, seq, last, torn, NULL, extra);
    if (rc)
        bkp_warn(_("this %s cannot be recorded in the journal %s: %s; write down what was "
                   "done"),
                 rec->op, path, bkp_strerror(rc));
    if (fd >= 0)
        close(fd);
    json_decref(extra);
    free(dir);
    return rc;
}

/* Start the log of `r` (created here, O_EXCL, 0600) with `rec` as record 1,
 * and its head marker with `role`. -EEXIST when there is one. */
static int start_log(const bkp_repo *r, const bkp_audit_rec *rec, const bkp_audit_head *role)
{
    char *dir = bkp_repo_subpath(r, "audit"), *path = bkp_audit_path(r);
    uint8_t zero[32] = {0};
    int fd = -1, rc = 0;
    if (!dir || !path)
        rc = -ENOMEM;
    else if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        rc = -errno;
    if (!rc && (fd = bkp_durable_create(path, 0600, true)) < 0)
        rc = fd;
    struct stat st;
    if (!rc)
        rc = bkp_lock_fd(fd, true);
    if (!rc && fstat(fd, &st) < 0)
        rc = -errno;
    if (!rc && st.st_size)
        rc = -EEXIST; /* somebody wrote it meanwhile */
    if (!rc)
        rc = append_line(r, fd, dir, rec, false, 0, zero, false, role, NULL);
    if (rc && rc != -EEXIST)
        bkp_error(_("cannot start the audit log %s: %s"), path ? path : "audit/log.jsonl",
                  bkp_strerror(rc));
    if (fd >= 0)
        close(fd);
    free(dir);
    free(path);
    return rc;
}

int bkp_audit_create(bkp_repo *r, const bkp_audit_rec *rec)
{
    bkp_audit_head primary = {0};
    int rc = start_log(r, rec, &primary);
    if (rc == -EEXIST)
        bkp_error(_("%s already has an audit log; a repository's log is started once, by init"),
                  bkp_repo_path(r));
    return rc;
}

int bkp_audit_report_state(const bkp_repo *r, bool *sound)
{
    char *path = bkp_audit_path(r), *hpath = path ? bkp_audit_head_path(path) : NULL;
    uint8_t prev[32], last[32];
    bkp_audit_head h = {0};
    uint64_t seq = 0;
    bool have = false, torn = false;
    const char *kind = NULL, *why = NULL;
    int rc = 0;
    /* The marker first, then the log: an append between the two readings
     * leaves the log past the marker read (a floor), never short of it. */
    int hrc = hpath ? bkp_audit_head_read(hpath, bkp_repo_sign_pk(r), &h) : -ENOMEM;
    int fd = hpath ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    struct stat st;
    if (!hpath) {
        rc = -ENOMEM;
    } else if (fd < 0 && errno == ENOENT) {
        char *m = bkp_gen_copy_medium(r); /* a medium's copy may have no log of its own */
        if (!m)
            why = missing_why(r);
        free(m);
    } else if (fd < 0 || fstat(fd, &st) < 0) {
        rc = -errno;
    } else if (!(rc = last_line(fd, (uint64_t)st.st_size, &seq, last, prev, &have, &torn, false))) {
        if (hrc == -ENOENT || hrc == -EBADMSG || !hrc)
            why = judge_end(fd, hrc, &h, have, seq, last, bkp_repo_sign_pk(r), &kind);
        else
            rc = hrc;
    }
    if (why)
        say_log_lost(path, why);
    if (fd >= 0)
        close(fd);
    free(path);
    free(hpath);
    if (sound)
        *sound = rc == 0 && !why;
    return rc; /* what was found is reported, and said by `*sound` */
}

int bkp_audit_restart(bkp_repo *r, const char *reason, char *found, size_t n)
{
    char *dir = bkp_repo_subpath(r, "audit");
    char *path = bkp_audit_path(r), *hpath = path ? bkp_audit_head_path(path) : NULL;
    uint8_t prev[32], last[32], zero[32] = {0};
    uint64_t seq = 0;
    bkp_audit_head h = {0}, primary = {0};
    bool have = false, torn = false, existed = true;
    const char *kind = NULL;
    int fd = -1, rc = 0, hrc;
    char hex[65];
    json_t *fig = NULL;
    if (!dir || !path || !hpath) {
        rc = -ENOMEM;
        goto out;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        goto out;
    }
    fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        existed = false;
        fd = bkp_durable_create(path, 0600, true);
        if (fd < 0)
            errno = -fd;
    }
    struct stat st;
    rc = fd < 0 ? -errno : bkp_lock_fd(fd, true);
    if (!rc && fstat(fd, &st) < 0)
        rc = -errno;
    if (rc)
        goto out;
    if ((rc = last_line(fd, (uint64_t)st.st_size, &seq, last, prev, &have, &torn, true)))
        goto out;
    hrc = bkp_audit_head_read(hpath, bkp_keys_sign_pk(bkp_repo_keys(r)), &h);
    if (hrc && hrc != -ENOENT && hrc != -EBADMSG) {
        rc = hrc;
        goto out;
    }
    if (!existed)
        kind = "missing";
    else if (!have)
        kind = "emptied";
    else if (!judge_end(fd, hrc, &h, have, seq, last, bkp_keys_sign_pk(bkp_repo_keys(r)), &kind)) {
        rc = -EEXIST; /* the log and its marker agree: nothing to restart */
        goto out;
    }
    /* The record names the last head known (the marker's, when it is
     * sound), so the loss is stated in the chain itself. */
    fig = json_pack("{s:s, s:s, s:I}", "reason", reason, "found", kind, "records_found",
                    (json_int_t)(have ? seq : 0));
    if (fig && !hrc) {
        bkp_hex(hex, h.record, 32);
        json_object_set_new(fig, "last_known_head",
                            json_pack("{s:I, s:s}", "seq", (json_int_t)h.seq, "record", hex));
    }
    bkp_audit_rec rec = {.op = "log_restarted", .figures = fig};
    /* Restarting is done on the primary; a sound marker keeps its role. */
    rc = fig ? append_line(r, fd, dir, &rec, have, seq, have ? last : zero, torn,
                           hrc ? &primary : &h, NULL)
             : -ENOMEM;
    if (!rc && found)
        snprintf(found, n, "%s", kind);
out:
    if (rc && rc != -EEXIST)
        bkp_error(_("cannot restart the audit log %s: %s"), path ? path : "audit/log.jsonl",
                  bkp_strerror(rc));
    json_decref(fig);
    if (fd >= 0)
        close(fd);
    free(dir);
    free(path);
    free(hpath);
    return rc;
}

/* Sign and append `rec` after record `seq` (hash `prev`; none when !have),
 * fsync, then move the head marker to it. */
static int append_line(const bkp_repo *r, int fd, const char *dir, const bkp_audit_rec *rec,
                       bool have, uint64_t seq, const uint8_t prev[32], bool torn,
                       const bkp_audit_head *role, json_t *extra)
{
    char hex[65], when[32], host[256] = "", sighex[129];
    uint8_t sig[64], mine[32];
    char *text = NULL, *line = NULL;
    int rc;
    time_t now = bkp_now();
    struct tm lt;
    localtime_r(&now, &lt);
    bkp_iso_time(when, sizeof(when), now);
    gethostname(host, sizeof(host) - 1);
    char user[256];
    if (have)
        bkp_hex(hex, prev, 32);
    /* The caller's figures are copied: the error in Japanese joins them. */
    json_t *fig = rec->figures ? json_copy(rec->figures) : json_object();
    if (fig && rec->error_ja && *rec->error_ja)
        json_object_set_new(fig, "error_ja", bkp_json_bytes(rec->error_ja));
    json_t *j = json_pack("{s:I, s:s, s:I, s:o, s:I, s:s, s:o, s:s, s:s, s:o, s:o}", "seq",
                          (json_int_t)(seq + 1), "time", when, "offset", (json_int_t)lt.tm_gmtoff,
                          "host", bkp_json_bytes(host), "uid", (json_int_t)getuid(), "user",
                          bkp_user_name(user, sizeof(user)), "command",
                          bkp_json_bytes(command_line ? command_line : "?"), "op", rec->op,
                          "outcome", rec->failed ? "failed" : "ok", "prev",
                          have ? json_string(hex) : json_null(), "figures", fig);
    if (!j)
        return -ENOMEM;
    if (rec->dataset)
        json_object_set_new(j, "dataset", json_string(rec->dataset));
    if (rec->generation)
        json_object_set_new(j, "generation", json_string(rec->generation));
    if (rec->medium)
        json_object_set_new(j, "medium", json_string(rec->medium));
    if (rec->error)
        json_object_set_new(j, "error", bkp_json_bytes(rec->error));
    if (torn)
        json_object_set_new(j, "recovered", json_string("a torn record at the end was cut off"));
    if (extra)
        json_object_update(j, extra);
    if (!(text = bkp_audit_signed_text(j))) {
        rc = -ENOMEM;
        goto out;
    }
    bkp_keys_sign(bkp_repo_keys(r), sig, text, strlen(text));
    bkp_hex(sighex, sig, 64);
    json_object_set_new(j, "sig", json_string(sighex));
    line = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!line) {
        rc = -ENOMEM;
        goto out;
    }
    size_t len = strlen(line);
    crypto_generichash(mine, 32, (const uint8_t *)line, len, NULL, 0);
    line[len] = '\n'; /* json_dumps leaves room only for the NUL: it becomes the newline */
    /* One write of the whole line, then fsync before anyone reports success
     * (and the folder's fsync with the first record, whose file may be new);
     * the marker moves only after the line is durable, so it never names a
     * record the log could lose in a crash. A kill before the fsync leaves
     * the log as it was or with a torn end, which the next append cuts; a
     * kill between the fsync and the marker leaves a marker one record
     * behind, which the next append accepts (the record after the marker's
     * chains to it) and moves on. */
    rc = bkp_durable_append(fd, line, len + 1, have ? NULL : dir);
    /* The record is kept once its line is durable. A marker that cannot
     * move (a full disk has room for a line, not for the marker's new
     * file) stays a floor behind it, which the next append moves on; only
     * a new log needs its first marker to be a log at all. A journal has
     * none (`role` NULL). */
    int hrc = !rc && role ? bkp_audit_head_write(r, dir, seq + 1, mine, role) : 0;
    if (hrc && !have) {
        rc = hrc; /* a new log without its first marker is no log */
    } else if (hrc && !bkp_audit_fault(hrc)) {
        /* Anything but a full or read-only disk (a marker made immutable,
         * its folder's permissions): the marker would never move again and
         * the records after it could be cut unseen. Said, and a failure. */
        bkp_error(_("the audit log's head marker %s/head cannot be moved (%s): the record is in "
                    "the log, but nothing guards the log's end from being cut. Check the marker "
                    "(its permissions, `lsattr`) and tell the security manager"),
                  dir, bkp_strerror(hrc));
        rc = -EUCLEAN; /* said here */
    } else if (hrc) {
        bkp_warn(_("the audit log's head marker stays at record %llu (%s); the record is kept, "
                   "and the next record written once there is room moves the marker on"),
                 (unsigned long long)seq, bkp_strerror(hrc));
    }
out:
    json_decref(j);
    free(text);
    free(line);
    return rc;
}

json_t *bkp_audit_sheets(const bkp_sheets_used *u)
{
    if (u->kind == BKP_SHEET_PAPER)
        return json_pack("{s:s, s:i}", "kind", "paper", "typed", u->typed);
    json_t *numbers = json_array(), *sums = json_array();
    for (int i = 0; numbers && sums && i < u->nshares; i++)
        if (json_array_append_new(numbers, json_integer(u->shares[i])) ||
            (u->sums[i][0] && json_array_append_new(sums, json_string(u->sums[i]))))
            break;
    return json_pack("{s:s, s:o, s:i, s:i, s:i, s:o}", "kind", "shares", "shares", numbers,
                     "threshold", u->threshold, "of", u->of, "typed", u->typed, "sums", sums);
}

bool bkp_audit_sheets_older(const bkp_audit_entry *split, const bkp_audit_entry *used)
{
    const json_t *made = split->json ? json_object_get(split->figures, "sums") : NULL;
    const json_t *sheets =
        strcmp(used->op, "key-from") ? json_object_get(used->figures, "key_sheets") : used->figures;
    const json_t *took = json_object_get(sheets, "sums");
    size_t i, k;
    const json_t *u, *m;
    if (!json_array_size(made) || !json_array_size(took))
        return false;
    json_array_foreach(took, i, u)
    {
        bool found = false;
        json_array_foreach(made, k, m) found |= json_equal(u, m);
        if (!found)
            return true;
    }
    return false;
}

int bkp_audit_reports_set(json_t *fig, const bkp_strlist *paths, const bkp_strlist *sums)
{
    return json_object_set_new(fig, "reports", bkp_json_strlist(paths)) ||
                   json_object_set_new(fig, "reports_sha256", bkp_json_strlist(sums))
               ? -ENOMEM
               : 0;
}

bool bkp_audit_names_report(const bkp_audit_entry *e, const char *sha256, const char *name)
{
    size_t i;
    json_t *v;
    bool found = false;
    /* Paths are kept as bkp_json_strlist writes them (a backslash doubled,
     * bytes that are not UTF-8 as \xNN); an older evidence report's, as
     * they were. */
    char *kept = name ? bkp_bytes_text(name) : NULL;
    json_array_foreach(json_object_get(e->figures, sha256 ? "reports_sha256" : "reports"), i, v)
    {
        const char *t = json_string_value(v), *slash = t ? strrchr(t, '/') : NULL;
        const char *base = slash ? slash + 1 : t;
        if (t &&
            (sha256 ? !strcmp(t, sha256) : !strcmp(base, name) || (kept && !strcmp(base, kept))))
            found = true;
    }
    free(kept);
    return found;
}

bool bkp_audit_keeps_sums(const bkp_audit_entry *e)
{
    return json_is_array(json_object_get(e->figures, "reports_sha256"));
}
