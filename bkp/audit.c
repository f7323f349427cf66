#include "bkp/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit_internal.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/generation.h"
#include "bkp/lock.h"
#include "bkp/i18n.h"
#include "bkp/log.h"

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

/* What is wrong with the end of a log whose last record is `seq` (hash
 * `hash`, chaining to `prev`) given its head marker, or NULL when they
 * agree. `kind` receives a short word for the record of a restart. */
static const char *head_mismatch(int hrc, const bkp_audit_head *h, bool have,
                                 uint64_t seq, const uint8_t hash[32], const uint8_t prev[32],
                                 const char **kind)
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
    if (seq == h->seq + 1 && !memcmp(prev, h->record, 32))
        return NULL; /* a crash between the append and the marker */
    *kind = seq < h->seq ? "shortened" : "rewritten";
    return seq < h->seq ? N_("it disagrees with its signed head marker: it ends before the "
                             "record the marker names, so records were removed from its end")
                        : N_("it disagrees with its signed head marker: its end is not the "
                             "record the marker names, so it was rewritten");
}

static int append_line(const bkp_repo *r, int fd, const char *dir, const bkp_audit_rec *rec,
                       bool have, uint64_t seq, const uint8_t prev[32], bool torn,
                       const bkp_audit_head *role);

/* A lost log is reported once per command, by whichever part finds it first. */
static bool lost_reported;

void bkp_audit_lost_reported(void)
{
    lost_reported = true;
}

/* `why` is English (N_), said in the reader's language. */
static void say_log_lost(const char *path, const char *why)
{
    if (lost_reported)
        return;
    lost_reported = true;
    bkp_error(_("the audit log %s: %s. Nothing was recorded and it is not started again by "
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
        say_log_lost(path ? path : "audit/log.jsonl", N_("is missing (deleted?)"));
    else {
        snprintf(role.medium_id, sizeof(role.medium_id), "%s", m);
        rc = start_log(r, rec, &role);
    }
    free(m);
    free(path);
    return rc;
}

/* The append itself. It takes a read handle: appending to the log is the
 * one write that a command reading the repository (a restore, a drill, a
 * verify) makes, and it is made under the log's own lock, never the
 * repository's (audit.h, bkp_audit_append_ro). */
static int append_rec(const bkp_repo *r, const bkp_audit_rec *rec)
{
    char *dir = bkp_repo_subpath(r, "audit");
    char *path = bkp_audit_path(r), *hpath = path ? bkp_audit_head_path(path) : NULL;
    uint8_t prev[32], last[32];
    bkp_audit_head h = {0};
    uint64_t seq;
    bool have, torn;
    const char *kind = NULL, *why;
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
    if ((why = head_mismatch(hrc, &h, have, seq, last, prev, &kind))) {
        say_log_lost(path, why);
        rc = -EBADMSG;
        goto quiet;
    }
    rc = append_line(r, fd, dir, rec, have, seq, last, torn, &h); /* the marker keeps its role */
out:
    if (rc)
        bkp_error(_("cannot append to the audit log %s: %s; what was done is not recorded"),
                  path ? path : "audit/log.jsonl", bkp_strerror(rc));
quiet:
    if (fd >= 0)
        close(fd);
    free(dir);
    free(path);
    free(hpath);
    return rc;
}

int bkp_audit_append(bkp_repo *r, const bkp_audit_rec *rec)
{
    return append_rec(r, rec);
}

int bkp_audit_append_ro(const bkp_repo *r, const bkp_audit_rec *rec)
{
    return append_rec(r, rec);
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
        rc = append_line(r, fd, dir, rec, false, 0, zero, false, role);
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
    int fd = hpath ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    struct stat st;
    if (!hpath) {
        rc = -ENOMEM;
    } else if (fd < 0 && errno == ENOENT) {
        char *m = bkp_gen_copy_medium(r); /* a medium's copy may have no log of its own */
        if (!m)
            why = N_("is missing (deleted?)");
        free(m);
    } else if (fd < 0 || fstat(fd, &st) < 0) {
        rc = -errno;
    } else if (!(rc = last_line(fd, (uint64_t)st.st_size, &seq, last, prev, &have, &torn, false))) {
        int hrc = bkp_audit_head_read(hpath, bkp_repo_sign_pk(r), &h);
        if (hrc == -ENOENT || hrc == -EBADMSG || !hrc)
            why = head_mismatch(hrc, &h, have, seq, last, prev, &kind);
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
    else if (!head_mismatch(hrc, &h, have, seq, last, prev, &kind)) {
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
    rc = fig ? append_line(r, fd, dir, &rec, have, seq, have ? last : zero, torn, hrc ? &primary : &h)
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
                       const bkp_audit_head *role)
{
    char hex[65], when[32], host[256] = "", sighex[129];
    uint8_t sig[64], mine[32];
    char *text = NULL, *line = NULL;
    int rc;
    time_t now = bkp_now();
    struct tm lt;
    localtime_r(&now, &lt);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    gethostname(host, sizeof(host) - 1);
    struct passwd *pw = getpwuid(getuid());
    if (have)
        bkp_hex(hex, prev, 32);
    json_t *j = json_pack("{s:I, s:s, s:I, s:o, s:I, s:s, s:o, s:s, s:s, s:o, s:O}", "seq",
                  (json_int_t)(seq + 1), "time", when, "offset", (json_int_t)lt.tm_gmtoff, "host",
                  bkp_json_bytes(host), "uid", (json_int_t)getuid(), "user",
                  pw ? pw->pw_name : "?", "command", bkp_json_bytes(command_line ? command_line : "?"),
                  "op", rec->op, "outcome", rec->failed ? "failed" : "ok", "prev",
                  have ? json_string(hex) : json_null(), "figures",
                  rec->figures ? rec->figures : json_object());
    if (j && !rec->figures)
        json_decref(json_object_get(j, "figures")); /* "O" took a second reference */
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
    if (!rc)
        rc = bkp_audit_head_write(r, dir, seq + 1, mine, role);
out:
    json_decref(j);
    free(text);
    free(line);
    return rc;
}
