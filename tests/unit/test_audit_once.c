/*
 * test_audit_once.c — `bkp status` reads the audit log once and checks each
 * record's signature once. A log of signed records (two appended by
 * bkp, the rest written here as bkp writes them, signed with the
 * repository's key; 2,000 in the unit suite, BKP_AUDIT_ONCE_RECORDS=20000
 * for the figure); what `bkp status --json` gathers (ops_status, then
 * ops_status_doc) and what `bkp status` prints (ops_status, then the
 * key-recovery drill reminder). The signature checks are counted by
 * wrapping bkp_sig_verify at link time (tests/CMakeLists.txt), so the
 * product carries no hook; the time taken is printed for the record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bkp/keys.h"
#include "bkp/ops/status.h"

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
    int worst;
    assert_int_equal(ops_repo_new(&f, "audit-once", policy_text), 0);
    assert_int_equal(ops_repo_record(&f, "drill", "emr", false, NULL), 0);
    snprintf(log, sizeof(log), "%s/audit/log.jsonl", f.repo);
    const uint64_t n = records();
    grow_log(&f, log, n);
    pol_medium_state none[1] = {{0}};
    ops_status_in in = {.repo = f.r, .policy = f.p, .states = none};

    /* `bkp status --json`: the data sets, then the document. */
    sig_checks = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ops_status_log found;
    json_t *all = ops_status(&in, &worst, &found);
    json_t *doc = ops_status_doc(&in, all, worst, &found);
    double json_s = seconds_since(&t0);
    unsigned long json_checks = sig_checks;
    json_t *a = json_object_get(doc, "audit");
    if (!json_is_true(json_object_get(a, "ok")))
        fail_msg("%s", json_string_value(json_object_get(a, "problem")));
    assert_true(json_is_true(json_object_get(a, "ok")));
    assert_int_equal(json_integer_value(json_object_get(a, "records")), n);
    json_decref(doc);

    /* `bkp status`: the data sets and the key-recovery drill reminder. */
    sig_checks = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    all = ops_status(&in, &worst, &found);
    json_t *kd = ops_key_drill_status(&found, f.p);
    double text_s = seconds_since(&t0);
    unsigned long text_checks = sig_checks;
    json_decref(kd);
    json_decref(all);

    /* Once per record; beyond them only the head marker and another signed
     * file of the repository (no second reading of the log: that would be
     * as many more). */
    assert_true(json_checks >= n && json_checks <= n + 2);
    assert_true(text_checks >= n && text_checks <= n + 2);
    printf("audit log of %llu records: status --json %lu signature checks, %.2f s; "
           "status %lu signature checks, %.2f s\n",
           (unsigned long long)n, json_checks, json_s, text_checks, text_s);
    ops_repo_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_checks_each_record_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
