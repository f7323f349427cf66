/*
 * test_audit_floor.c — a full disk or a crash is not tampering (audit.h).
 *
 * The head marker is a floor: a log that runs past it along its signed
 * chain (the marker's update failed or was killed) is appended to, and the
 * marker moved on; a line after it that the key did not sign, or a log
 * whose record at the marker is another, is still refused. A record a full
 * disk keeps out is counted, and the next record says how many. A journal
 * is a signed chain of its own. The disk's failures are made without a
 * hook in the product: the link wraps bkp_durable_append and
 * bkp_audit_head_write (tests/CMakeLists.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bkp/audit/audit.h"
#include "bkp/audit/audit_internal.h"
#include "bkp/io/durable.h"

#include "ops_repo.h"
#include "audit_json.h"

/* What the wrapped writes answer: 0 (do it), or the error to fail with. */
static int append_fails, head_fails;

int __real_bkp_durable_append(int fd, const void *buf, size_t len, const char *dir);
int __wrap_bkp_durable_append(int fd, const void *buf, size_t len, const char *dir);
int __wrap_bkp_durable_append(int fd, const void *buf, size_t len, const char *dir)
{
    return append_fails ? append_fails : __real_bkp_durable_append(fd, buf, len, dir);
}

int __real_bkp_audit_head_write(const bkp_repo *r, const char *dir, uint64_t seq,
                                const uint8_t hash[32], const bkp_audit_head *role);
int __wrap_bkp_audit_head_write(const bkp_repo *r, const char *dir, uint64_t seq,
                                const uint8_t hash[32], const bkp_audit_head *role);
int __wrap_bkp_audit_head_write(const bkp_repo *r, const char *dir, uint64_t seq,
                                const uint8_t hash[32], const bkp_audit_head *role)
{
    return head_fails ? head_fails : __real_bkp_audit_head_write(r, dir, seq, hash, role);
}

static const char policy_text[] = "repository: %1$s/repo\n"
                                  "passphrase_file: /etc/bkp/passphrase\n"
                                  "datasets:\n"
                                  "  - { name: emr-db, paths: [/srv/emr] }\n";

typedef struct fixture {
    ops_repo o;
    char log[192], head[192], dir[192];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || ops_repo_new(&f->o, "audit-floor", policy_text))
        return -1;
    snprintf(f->log, sizeof(f->log), "%s/audit/log.jsonl", f->o.repo);
    snprintf(f->head, sizeof(f->head), "%s/audit/head", f->o.repo);
    snprintf(f->dir, sizeof(f->dir), "%s/audit", f->o.repo);
    append_fails = head_fails = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ops_repo_free(&f->o);
    free(f);
    return 0;
}

static void append(fixture *f, const char *op, int want)
{
    bkp_audit_rec rec = {.op = op};
    assert_int_equal(bkp_audit_append(f->o.r, &rec), want);
}

static uint64_t marker_seq(const fixture *f)
{
    bkp_audit_head h;
    assert_int_equal(bkp_audit_head_read(f->head, bkp_repo_sign_pk(f->o.r), &h), 0);
    return h.seq;
}

static size_t lines(const fixture *f)
{
    FILE *x = fopen(f->log, "r");
    size_t n = 0;
    int ch;
    assert_non_null(x);
    while ((ch = fgetc(x)) != EOF)
        n += ch == '\n';
    fclose(x);
    return n;
}

static void assert_sound(const fixture *f, bool want)
{
    bool sound = !want;
    assert_int_equal(bkp_audit_report_state(f->o.r, &sound), 0);
    assert_int_equal(sound, want);
}

/* The marker's update fails three times (a full disk has room for a line,
 * not for the marker's new file): each record is kept, the log runs three
 * past the marker, which is no loss; the next append moves the marker. */
static void test_marker_behind(void **state)
{
    fixture *f = *state;
    append(f, "backup", 0);
    uint64_t at = marker_seq(f);
    head_fails = -ENOSPC;
    for (int i = 0; i < 3; i++)
        append(f, "restore", 0); /* the record is durable: kept */
    head_fails = 0;
    assert_int_equal(marker_seq(f), at);
    assert_int_equal(lines(f), at + 3);
    assert_sound(f, true);
    bkp_audit_check chk;
    assert_int_equal(bkp_audit_verify(f->log, bkp_repo_sign_pk(f->o.r), NULL, &chk), 0);
    assert_false(chk.bad);
    append(f, "backup", 0);
    assert_int_equal(marker_seq(f), at + 4);
}

/* The same past the first window the tail is read in (256 KiB): a marker
 * left behind by many records is still found, and a marker that cannot
 * move for another reason than a full disk fails the append. */
static void test_marker_far_behind(void **state)
{
    fixture *f = *state;
    char big[2048];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    bkp_audit_rec rec = {.op = "verify", .error = big};
    uint64_t at = marker_seq(f);
    head_fails = -ENOSPC;
    for (int i = 0; i < 400; i++) /* some 1 MiB of records */
        assert_int_equal(bkp_audit_append(f->o.r, &rec), 0);
    head_fails = 0;
    assert_int_equal(marker_seq(f), at);
    assert_sound(f, true);
    bkp_audit_check chk;
    assert_int_equal(bkp_audit_verify(f->log, bkp_repo_sign_pk(f->o.r), NULL, &chk), 0);
    assert_false(chk.bad);
    assert_int_equal(chk.past_marker, 400);
    append(f, "backup", 0);
    assert_int_equal(marker_seq(f), at + 401);
    /* The next record said how far behind the marker was. */
    json_t *last =
        audit_last_json(f->log, bkp_repo_sign_pk(f->o.r), &(bkp_audit_query){.op = "backup"});
    assert_int_equal(json_integer_value(json_object_get(last, "marker_behind")), 400);
    json_decref(last);
    /* A marker made immutable (EPERM): the record is in the log, but the
     * append fails, said — never a marker stuck in silence. */
    head_fails = -EPERM;
    append(f, "restore", -EUCLEAN);
    head_fails = 0;
}

/* Past the marker, a line the key did not sign: still refused. */
static void test_unsigned_after_marker(void **state)
{
    fixture *f = *state;
    uint64_t at = marker_seq(f);
    head_fails = -ENOSPC;
    append(f, "restore", 0);
    head_fails = 0;
    /* Record at+1 again, altered: its signature no longer holds. */
    FILE *x = fopen(f->log, "r");
    char line[8192] = "", last[8192] = "";
    while (x && fgets(line, sizeof(line), x))
        strcpy(last, line);
    fclose(x);
    char *op = strstr(last, "\"op\":\"restore\"");
    assert_non_null(op);
    memcpy(op, "\"op\":\"rest0re\"", 14);
    x = fopen(f->log, "a");
    fputs(last, x);
    fclose(x);
    assert_int_equal(marker_seq(f), at);
    assert_sound(f, false);
    append(f, "backup", -EBADMSG);
}

/* Past the marker, the log's records all signed and chained, but the
 * marker names another record at its number: a rewrite, refused. Only the
 * marker's hash differs here; the log itself is intact. */
static void test_marker_record_replaced(void **state)
{
    fixture *f = *state;
    uint64_t at = marker_seq(f);
    head_fails = -ENOSPC;
    append(f, "restore", 0);
    append(f, "verify", 0);
    head_fails = 0;
    bkp_audit_head h;
    assert_int_equal(bkp_audit_head_read(f->head, bkp_repo_sign_pk(f->o.r), &h), 0);
    uint8_t other[32];
    memcpy(other, h.record, 32);
    other[0] ^= 1;
    assert_int_equal(__real_bkp_audit_head_write(f->o.r, f->dir, at, other, &h), 0);
    bkp_audit_check chk;
    assert_int_equal(bkp_audit_verify(f->log, bkp_repo_sign_pk(f->o.r), NULL, &chk), 0);
    assert_true(chk.bad); /* the log is intact; the marker names another record */
    assert_sound(f, false);
    append(f, "backup", -EBADMSG);
}

/* A record the full disk kept out: said, counted by a name in audit/, and
 * the next record written says how many; the names are then removed. Names
 * that are not such notes (planted, not empty, a link) are never counted. */
static void test_missed_counted(void **state)
{
    fixture *f = *state;
    char planted[256], link[256];
    snprintf(planted, sizeof(planted), "%s/missed-1700000000-1-0-restore", f->dir);
    FILE *x = fopen(planted, "w"); /* not empty: not a note of ours */
    fputs("x", x);
    fclose(x);
    snprintf(link, sizeof(link), "%s/missed-1700000000-2-0-verify", f->dir);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    size_t before = lines(f);
    append_fails = -ENOSPC;
    append(f, "restore", -ENOSPC);
    append(f, "verify", -ENOSPC);
    append_fails = 0;
    assert_int_equal(lines(f), before);
    append(f, "backup", 0);
    json_t *last =
        audit_last_json(f->log, bkp_repo_sign_pk(f->o.r), &(bkp_audit_query){.op = "backup"});
    assert_non_null(last);
    json_t *missed = json_object_get(last, "missed");
    assert_int_equal(json_integer_value(json_object_get(missed, "count")), 2);
    json_t *recs = json_object_get(missed, "records");
    assert_int_equal(json_array_size(recs), 2);
    const char *op0 = json_string_value(json_object_get(json_array_get(recs, 0), "op"));
    const char *op1 = json_string_value(json_object_get(json_array_get(recs, 1), "op"));
    assert_true((!strcmp(op0, "restore") && !strcmp(op1, "verify")) ||
                (!strcmp(op0, "verify") && !strcmp(op1, "restore")));
    json_decref(last);
    /* Counted once: the notes are gone, the planted names stay. */
    append(f, "verify", 0);
    last = audit_last_json(f->log, bkp_repo_sign_pk(f->o.r), &(bkp_audit_query){.op = "verify"});
    assert_null(json_object_get(last, "missed"));
    json_decref(last);
    struct stat st;
    assert_int_equal(stat(planted, &st), 0);
    assert_int_equal(lstat(link, &st), 0);
    bkp_audit_check chk;
    assert_int_equal(bkp_audit_verify(f->log, bkp_repo_sign_pk(f->o.r), NULL, &chk), 0);
    assert_false(chk.bad);
}

/* A journal: created 0600, each record signed and chained, naming the
 * repository; checked like a log (no marker); never through a link or
 * into a FIFO. */
static void test_journal(void **state)
{
    fixture *f = *state;
    char j[256], l[256], fifo[256];
    snprintf(j, sizeof(j), "%s/bkp-journal.jsonl", f->o.top);
    bkp_audit_rec r1 = {.op = "key-from"}, r2 = {.op = "restore", .dataset = "emr-db"};
    assert_int_equal(bkp_audit_journal(f->o.r, j, &r1), 0);
    assert_int_equal(bkp_audit_journal(f->o.r, j, &r2), 0);
    struct stat st;
    assert_int_equal(stat(j, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    bkp_audit_check chk;
    assert_int_equal(bkp_audit_verify(j, bkp_repo_sign_pk(f->o.r), NULL, &chk), 0);
    assert_false(chk.bad);
    assert_int_equal(chk.records, 2);
    json_t *last =
        audit_last_json(j, bkp_repo_sign_pk(f->o.r), &(bkp_audit_query){.op = "restore"});
    assert_string_equal(json_string_value(json_object_get(last, "repository")),
                        bkp_repo_uuid(f->o.r));
    json_decref(last);
    snprintf(l, sizeof(l), "%s/journal-link.jsonl", f->o.top);
    assert_int_equal(symlink(f->log, l), 0);
    size_t before = lines(f);
    assert_int_equal(bkp_audit_journal(f->o.r, l, &r2), -ELOOP);
    assert_int_equal(lines(f), before);
    snprintf(fifo, sizeof(fifo), "%s/journal-fifo", f->o.top);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(bkp_audit_journal(f->o.r, fifo, &r2), -EINVAL);
    /* A file put there first is never appended to nor cut: one others may
     * write, one that is not a journal of this key, a second name of
     * another file (the log itself). */
    char planted[256], hard[256];
    snprintf(planted, sizeof(planted), "%s/planted.jsonl", f->o.top);
    FILE *x = fopen(planted, "w");
    fputs("attacker line\npartial", x);
    fclose(x);
    assert_int_equal(chmod(planted, 0600), 0);
    assert_int_equal(bkp_audit_journal(f->o.r, planted, &r2), -EEXIST);
    assert_int_equal(chmod(planted, 0666), 0);
    assert_int_equal(bkp_audit_journal(f->o.r, planted, &r2), -EEXIST);
    assert_int_equal(stat(planted, &st), 0);
    assert_int_equal(st.st_size, strlen("attacker line\npartial")); /* not cut, not appended */
    assert_int_equal(chmod(j, 0644), 0);
    assert_int_equal(bkp_audit_journal(f->o.r, j, &r2), -EEXIST); /* readable by others */
    assert_int_equal(chmod(j, 0600), 0);
    snprintf(hard, sizeof(hard), "%s/journal-hard.jsonl", f->o.top);
    assert_int_equal(link(j, hard), 0);
    assert_int_equal(bkp_audit_journal(f->o.r, hard, &r2), -EEXIST); /* two names */
    assert_int_equal(unlink(hard), 0);
    assert_int_equal(bkp_audit_journal(f->o.r, j, &r2), 0); /* ours again */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_marker_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marker_far_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsigned_after_marker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marker_record_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missed_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
