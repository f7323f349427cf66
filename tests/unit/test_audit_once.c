/*
 * test_audit_once.c — `bkp status`, `bkp audit report` and the audit part
 * of `bkp verify` each read the audit log once and check each record's
 * signature once. A log of signed records (two appended by bkp, the rest
 * written here as bkp writes them, signed with the repository's key; 2,000
 * in the unit suite, BKP_AUDIT_ONCE_RECORDS=20000 for the figure); what
 * `bkp status --json` gathers (ops_status, then ops_status_doc) and what
 * `bkp status` prints (ops_status, then the key-recovery drill reminder);
 * what `bkp audit report` gathers (ops_report with the status's input, as
 * cmd_report.c gives it); what `bkp verify --log` checks (bkp_verify_log).
 * The signature checks and the readings of the log are counted by wrapping
 * bkp_sig_verify and bkp_read_file at link time (tests/CMakeLists.txt), so
 * the product carries no hook; the time taken is printed for the record.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bkp/io/durable.h"
#include "bkp/keys/keys.h"
#include "bkp/ops/report.h"
#include "bkp/ops/status.h"
#include "bkp/audit/verify.h"

#include "ops_repo.h"

/* How many records the log holds: 2,000 unless $BKP_AUDIT_ONCE_RECORDS says. */
static uint64_t records(void)
{
    const char *e = getenv("BKP_AUDIT_ONCE_RECORDS");
    unsigned long long n = e ? strtoull(e, NULL, 10) : 0;
    return n >= 3 && n <= 1000000 ? n : 2000;
}

int __real_bkp_sig_verify(const uint8_t pk[32], const uint8_t sig[64], const void *msg,
                          size_t len);
static unsigned long sig_checks;

int __wrap_bkp_sig_verify(const uint8_t pk[32], const uint8_t sig[64], const void *msg, size_t len);
int __wrap_bkp_sig_verify(const uint8_t pk[32], const uint8_t sig[64], const void *msg,
                          size_t len)
{
    sig_checks++;
    return __real_bkp_sig_verify(pk, sig, msg, len);
}

int __real_bkp_read_file(const char *path, bkp_buf *out, size_t max);
static unsigned long log_reads;

/* A reading of a whole file: counted when it is the audit log. */
int __wrap_bkp_read_file(const char *path, bkp_buf *out, size_t max);
int __wrap_bkp_read_file(const char *path, bkp_buf *out, size_t max)
{
    static const char tail[] = "/audit/log.jsonl";
    size_t l = strlen(path);
    if (l >= sizeof(tail) - 1 && !strcmp(path + l - (sizeof(tail) - 1), tail))
        log_reads++;
    return __real_bkp_read_file(path, out, max);
}

static const char policy_text[] = "repository: %1$s/repo\n"
                                  "passphrase_file: /etc/bkp/passphrase\n"
                                  "datasets:\n"
                                  "  - { name: emr, paths: [/srv/emr] }\n";

/* The log's last line, into `line` (without its newline). */
static void last_line(const char *log, char *line, size_t n)
{
    FILE *x = fopen(log, "r");
    char buf[4096];
    assert_non_null(x);
    while (fgets(buf, sizeof(buf), x))
        snprintf(line, n, "%s", buf);
    assert_int_equal(fclose(x), 0);
    line[strcspn(line, "\n")] = '\0';
}

/* Records 2.. appended as bkp appends them: sorted keys, compact, the hash
 * of the line before as "prev", the repository's signature as "sig". */
static void grow_log(ops_repo *f, const char *log, uint64_t upto)
{
    char prev_line[4096], hex[65], sighex[129], now[32];
    uint8_t hash[32], sig[64];
    last_line(log, prev_line, sizeof(prev_line));
    json_t *last = json_loads(prev_line, 0, NULL);
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(last, "seq"));
    json_decref(last);
    bkp_iso_time(now, sizeof(now), bkp_now());
    FILE *x = fopen(log, "a");
    assert_non_null(x);
    for (uint64_t i = seq + 1; i <= upto; i++) {
        crypto_generichash(hash, 32, (const uint8_t *)prev_line, strlen(prev_line), NULL, 0);
        sodium_bin2hex(hex, sizeof(hex), hash, 32);
        json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)i, "time", now,
                              "op", i % 2 ? "verify" : "backup", "dataset",
                              "emr", "outcome", "ok", "host", "ward-3", "prev", hex);
        char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        bkp_keys_sign(bkp_repo_keys(f->r), sig, text, strlen(text));
        sodium_bin2hex(sighex, sizeof(sighex), sig, 64);
        json_object_set_new(j, "sig", json_string(sighex));
        free(text);
        text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_true(fprintf(x, "%s\n", text) > 0);
        snprintf(prev_line, sizeof(prev_line), "%s", text);
        free(text);
        json_decref(j);
    }
    assert_int_equal(fclose(x), 0);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_status_checks_each_record_once(void **state)
{
    (void)state;
    ops_repo f;
    char log[192];
    struct timespec t0;
    rst_status st;
    assert_int_equal(ops_repo_new(&f, "audit-once", policy_text), 0);
    assert_int_equal(ops_repo_record(&f, "drill", "emr", false, NULL), 0);
    snprintf(log, sizeof(log), "%s/audit/log.jsonl", f.repo);
    const uint64_t n = records();
    grow_log(&f, log, n);
    pol_medium_state none[1] = {{0}};
    ops_status_in in = {.repo = f.r, .policy = f.p, .states = none};

    /* `bkp status --json`: the data sets, then the document. */
    sig_checks = log_reads = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ops_status_log found;
    assert_int_equal(ops_status(&in, &st, &found), 0);
    assert_int_equal(ops_status_doc(&in, &st, &found), 0);
    json_t *doc = rst_status_json(&st);
    double json_s = seconds_since(&t0);
    unsigned long json_checks = sig_checks, json_reads = log_reads;
    if (!st.audit.ok)
        fail_msg("%s", st.audit.problem);
    assert_true(st.audit.ok);
    assert_int_equal(st.audit.records, n);
    assert_non_null(doc);
    json_decref(doc);
    rst_status_clear(&st);

    /* `bkp status`: the data sets and the key-recovery drill reminder. */
    sig_checks = log_reads = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(ops_status(&in, &st, &found), 0);
    double text_s = seconds_since(&t0);
    unsigned long text_checks = sig_checks, text_reads = log_reads;
    rst_status_clear(&st);

    /* Once per record; beyond them only the head marker and another signed
     * file of the repository (no second reading of the log: that would be
     * as many more). */
    assert_true(json_checks >= n && json_checks <= n + 2);
    assert_true(text_checks >= n && text_checks <= n + 2);
    assert_int_equal(json_reads, 1);
    assert_int_equal(text_reads, 1);
    printf("audit log of %llu records: status --json %lu signature checks, %.2f s; "
           "status %lu signature checks, %.2f s\n",
           (unsigned long long)n, json_checks, json_s, text_checks, text_s);
    ops_repo_free(&f);
}

/* A repository whose log holds records() records: the one `init` wrote,
 * a drill appended by bkp, the rest written here. */
static uint64_t big_log(ops_repo *f)
{
    char log[192];
    assert_int_equal(ops_repo_new(f, "audit-once", policy_text), 0);
    assert_int_equal(ops_repo_record(f, "drill", "emr", false, NULL), 0);
    snprintf(log, sizeof(log), "%s/audit/log.jsonl", f->repo);
    const uint64_t n = records();
    grow_log(f, log, n);
    return n;
}

static int no_runbook(void *ctx, const char *name, rb_runbook **out)
{
    (void)ctx;
    (void)name;
    (void)out;
    return -ENOENT;
}

/* `bkp audit report`: the status of now and the records of the period. */
static void test_report_checks_each_record_once(void **state)
{
    (void)state;
    ops_repo f;
    struct timespec t0;
    const uint64_t n = big_log(&f);
    pol_medium_state none[1] = {{0}};
    ops_status_in si = {.repo = f.r, .policy = f.p, .states = none};
    ops_report_in in = {.repo = f.r,
                        .policy = f.p,
                        .from = bkp_now() - 30 * OPS_DAY,
                        .to = bkp_now() + 60,
                        .status_in = &si,
                        .load_runbook = no_runbook};
    rb_evidence ev;
    sig_checks = log_reads = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(ops_report(&in, &ev), 0);
    double s = seconds_since(&t0);
    unsigned long checks = sig_checks, reads = log_reads;
    assert_true(ev.audit.ok);
    assert_int_equal(ev.audit.records, n);
    /* Both readers were served: the status's verdict, and the backups of
     * the period (records 3..n, every even one a backup of emr). */
    assert_int_equal(ev.ndatasets, 1);
    assert_true(ev.datasets[0].has_status);
    assert_int_equal(ev.datasets[0].backups_ok, n / 2 - 1);
    rb_evidence_clear(&ev);
    assert_int_equal(reads, 1);
    assert_true(checks >= n && checks <= n + 2);
    printf("audit log of %llu records: audit report %lu signature checks, %lu reading(s), "
           "%.2f s\n",
           (unsigned long long)n, checks, reads, s);
    ops_repo_free(&f);
}

/* `bkp verify`'s part on the log: its check and the facts of its records. */
static void test_verify_checks_each_record_once(void **state)
{
    (void)state;
    ops_repo f;
    struct timespec t0;
    bkp_verify_result res;
    const uint64_t n = big_log(&f);
    sig_checks = log_reads = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = bkp_verify_log(f.r, &res);
    double s = seconds_since(&t0);
    unsigned long checks = sig_checks, reads = log_reads;
    assert_int_equal(rc, 0);
    assert_int_equal(res.problems, 0);
    assert_int_equal(res.audit_records, n);
    bkp_verify_result_clear(&res);
    printf("audit log of %llu records: verify --log %lu signature checks, %lu reading(s), "
           "%.2f s\n",
           (unsigned long long)n, checks, reads, s);
    /* Once per record; beyond them only small signed files, none of them
     * the log: its head marker (read by the check, and twice more by the
     * question whether this is a medium's copy: bkp_verify_log's and
     * bkp_gen_list's) and the key slots' list. */
    assert_int_equal(reads, 1);
    assert_true(checks >= n && checks <= n + 4);
    ops_repo_free(&f);
}

/* The log's last record signed again with a changed host: a record the
 * key holder rewrote, which the head marker no longer names. */
static void rewrite_last(ops_repo *f, const char *log)
{
    char first[4096], last[4096], sighex[129];
    uint8_t sig[64];
    FILE *x = fopen(log, "r");
    assert_non_null(x);
    assert_non_null(fgets(first, sizeof(first), x));
    assert_non_null(fgets(last, sizeof(last), x));
    assert_int_equal(fclose(x), 0);
    last[strcspn(last, "\n")] = '\0';
    json_t *j = json_loads(last, 0, NULL);
    assert_non_null(j);
    json_object_del(j, "sig");
    json_object_set_new(j, "host", json_string("elsewhere"));
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    bkp_keys_sign(bkp_repo_keys(f->r), sig, text, strlen(text));
    sodium_bin2hex(sighex, sizeof(sighex), sig, 64);
    json_object_set_new(j, "sig", json_string(sighex));
    free(text);
    text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    x = fopen(log, "w");
    assert_non_null(x);
    assert_true(fprintf(x, "%s%s\n", first, text) > 0);
    assert_int_equal(fclose(x), 0);
    free(text);
    json_decref(j);
}

/* What the one reading of verify gathered from a record that the head
 * marker, checked after the walk, disowns is not evidence: a backup of a
 * generation that is not there counts only while its record stands. */
static void test_verify_facts_end_where_the_log_verifies(void **state)
{
    (void)state;
    ops_repo f;
    char log[192];
    bkp_verify_result res;
    assert_int_equal(ops_repo_new(&f, "audit-once", policy_text), 0);
    snprintf(log, sizeof(log), "%s/audit/log.jsonl", f.repo);
    bkp_audit_rec rec = {.op = "backup", .dataset = "emr", .generation = "emr:5"};
    assert_int_equal(bkp_audit_append(f.r, &rec), 0);
    /* As written: emr:5 was sealed, and is not there (a problem counted). */
    assert_int_equal(bkp_verify_log(f.r, &res), 0);
    assert_int_equal(res.problems, 1);
    bkp_verify_result_clear(&res);
    /* Rewritten: the log verifies up to record 1 only. */
    rewrite_last(&f, log);
    assert_int_equal(bkp_verify_log(f.r, &res), 0);
    assert_int_equal(res.problems, 0);
    assert_int_equal(res.audit_records, 2);
    bkp_verify_result_clear(&res);
    ops_repo_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_checks_each_record_once),
        cmocka_unit_test(test_report_checks_each_record_once),
        cmocka_unit_test(test_verify_checks_each_record_once),
        cmocka_unit_test(test_verify_facts_end_where_the_log_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
