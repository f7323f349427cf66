/*
 * `verify --repair-from` and `verify --media` as library functions
 * (bkp/ops/verify_repair.h, verify_medium.h), with a real repository and a
 * second copy of it in a folder: a damaged pack is put back from the
 * second copy and the whole reads back clean; a pack the source lacks too
 * stays bad and is named; a source that is the copy being repaired is
 * refused before any lock. Where a source path leads; a medium's missing
 * recovery kit counted as a problem (unless optional); what a check
 * leaves: its audit record, and the medium's registry entry stamped. The
 * one error convention: a check that finds damage returns 0 with the
 * problems counted; one that cannot run returns a negative errno.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/log.h"
#include "bkp/ops/verify_medium.h"
#include "bkp/ops/verify_repair.h"

#include "ops_repo.h"
#include "audit_json.h"

static int errors;
static bool source_lacks; /* "pack …: SOURCE does not have it" was said */
static void count(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)ctx;
    if (level == BKP_LOG_ERROR) {
        errors++;
        source_lacks |= strstr(msg, "does not have it") != NULL;
    }
}

typedef struct fixture {
    ops_repo o;
    char second[160];
    bkp_repo *src; /* the second copy, opened */
} fixture;

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

static const char policy_text[] =
    OPS_POLICY_HEAD "datasets:\n"
                    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00 }\n";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char cmd[512];
    if (!f || ops_repo_new(&f->o, "verify", policy_text) || ops_repo_seal(&f->o, "emr", 60, NULL))
        return -1;
    snprintf(f->second, sizeof(f->second), "%s/second", f->o.top);
    snprintf(cmd, sizeof(cmd), "cp -a %s %s", f->o.repo, f->second);
    if (run(cmd) || bkp_repo_open(f->second, OPS_PASS, strlen(OPS_PASS), 0, &f->src))
        return -1;
    errors = 0;
    source_lacks = false;
    bkp_log_set_sink(count, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_log_set_sink(NULL, NULL);
    bkp_repo_free(f->src);
    ops_repo_free(&f->o);
    free(f);
    return 0;
}

/* The path of the first pack under `repo`'s packs into `out`. */
static void first_pack(const char *repo, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "find %s/packs -type f -name '[0-9a-f]*' | sort | head -n 1", repo);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, (int)n, p));
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
}

/* Damage the primary's first pack; `res` what a read-back finds. */
static void damage(fixture *f, char *pack, size_t n, bkp_verify_result *res)
{
    first_pack(f->o.repo, pack, n);
    assert_int_equal(chmod(pack, 0600), 0);
    assert_int_equal(test_flip_byte(pack, 40, 0xff), 0);
    /* Damage found is a count, not a code: the check ran to its end. */
    assert_int_equal(bkp_verify(f->o.r, true, 1, res), 0);
    assert_true(res->problems > 0);
    assert_true(res->nbad_packs >= 1);
}

static void test_damaged_pack_repaired(void **state)
{
    fixture *f = *state;
    bkp_verify_result res = {0};
    ops_repair_out o;
    char pack[256];
    damage(f, pack, sizeof(pack), &res);
    size_t nbad = res.nbad_packs;
    assert_int_equal(ops_verify_repair(f->o.r, f->src, false, 1, &res, &o), 0);
    assert_int_equal(o.left, 0);
    assert_int_equal(o.fixed.n, nbad);
    assert_int_equal(res.problems, 0);
    assert_true(res.packs_read >= 1); /* read back whole */
    ops_repair_out_clear(&o);
    bkp_verify_result_clear(&res);
    assert_int_equal(bkp_verify(f->o.r, true, 1, &res), 0);
    assert_int_equal(res.problems, 0);
    bkp_verify_result_clear(&res);
}

/* A check that cannot be made (the records cannot be listed) is a negative
 * errno, not a count of problems. */
static void test_verify_that_cannot_run(void **state)
{
    fixture *f = *state;
    bkp_verify_result res = {0};
    char gens[200], away[200];
    snprintf(gens, sizeof(gens), "%s/generations", f->o.repo);
    snprintf(away, sizeof(away), "%s/generations.away", f->o.repo);
    assert_int_equal(rename(gens, away), 0);
    assert_int_equal(bkp_verify(f->o.r, false, 1, &res), -ENOENT);
    bkp_verify_result_clear(&res);
    assert_int_equal(bkp_verify_log(f->o.r, &res), -ENOENT);
    bkp_verify_result_clear(&res);
    assert_int_equal(bkp_verify_public(f->o.r, &res), -ENOENT);
    bkp_verify_result_clear(&res);
    assert_int_equal(rename(away, gens), 0);
    assert_int_equal(bkp_verify(f->o.r, false, 1, &res), 0);
    assert_int_equal(res.problems, 0);
    bkp_verify_result_clear(&res);
}

static void test_source_lacks_pack(void **state)
{
    fixture *f = *state;
    bkp_verify_result res = {0};
    ops_repair_out o;
    char pack[256], spack[256];
    damage(f, pack, sizeof(pack), &res);
    first_pack(f->second, spack, sizeof(spack));
    assert_string_equal(strrchr(spack, '/'), strrchr(pack, '/')); /* the same pack */
    assert_int_equal(unlink(spack), 0);
    int before = errors;
    assert_int_equal(ops_verify_repair(f->o.r, f->src, false, 1, &res, &o), 0);
    assert_int_equal(o.left, 1);
    assert_int_equal(o.fixed.n, 0);
    assert_true(res.problems >= 1);
    assert_true(errors > before);
    assert_true(source_lacks);
    ops_repair_out_clear(&o);
    bkp_verify_result_clear(&res);
}

static void test_source_is_target(void **state)
{
    fixture *f = *state;
    bkp_repo *again = NULL;
    bkp_lock *lock = NULL;
    assert_int_equal(bkp_repo_open(f->o.repo, OPS_PASS, strlen(OPS_PASS), 0, &again), 0);
    assert_int_equal(ops_repair_lock(f->o.r, again, &lock), -EINVAL);
    assert_null(lock);
    assert_int_equal(errors, 0);
    assert_int_equal(ops_repair_lock(f->o.r, f->src, &lock), 0);
    assert_non_null(lock);
    bkp_lock_release(lock);
    bkp_repo_free(again);
}

static void test_source_path(void **state)
{
    fixture *f = *state;
    char *p = NULL, want[200];
    assert_int_equal(ops_repair_source_path(f->second, &p), 0);
    assert_string_equal(p, f->second); /* a repository: as it is */
    free(p);
    assert_int_equal(ops_repair_source_path(f->o.top, &p), 0);
    snprintf(want, sizeof(want), "%s/repo", f->o.top); /* a mount point: its repo */
    assert_string_equal(p, want);
    free(p);
    assert_int_equal(ops_repair_source_path("usb-never-such-name", &p), 0);
    assert_null(p); /* a medium's name */
}

static void test_medium_kit_and_note(void **state)
{
    fixture *f = *state;
    bkp_verify_result res = {0};
    assert_int_equal(ops_verify_kit("usb-a", f->o.top, true, 0, &res), 0);
    assert_int_equal(res.problems, 0);
    assert_int_equal(ops_verify_kit("usb-a", f->o.top, false, 0, &res), 0);
    assert_int_equal(res.problems, 1);
    assert_non_null(strstr(res.messages[0], "has no recovery kit"));
    assert_int_equal(ops_verify_kit("usb-a", f->o.top, false, -EIO, &res), -EIO);
    bkp_verify_result_clear(&res);
    bkp_gen *g = NULL;
    assert_int_equal(ops_repo_seal(&f->o, "emr", 30, &g), 0);
    assert_int_equal(ops_repo_register(&f->o, "usb-a", "removable", "offsite", g, 60, true), 0);
    bkp_gen_free(g);
    res.problems = 2;
    assert_int_equal(
        ops_verify_record(f->o.r, f->o.r, "usb-a", "read-data", 0, false, &res, NULL, NULL, NULL),
        0);
    bkp_media_entry *e = bkp_media_get(f->o.r, "usb-a");
    assert_int_equal(e->verify, BKP_MEDIA_FAILED);
    assert_true(e->last_verify > 0);
    bkp_media_free(e);
    char *log = bkp_audit_path(f->o.r);
    json_t *rec = audit_last_json(log, NULL, &(bkp_audit_query){.op = "verify"});
    assert_string_equal(json_string_value(json_object_get(rec, "medium")), "usb-a");
    assert_string_equal(json_string_value(json_object_get(rec, "outcome")), "failed");
    json_t *fig = json_object_get(rec, "figures");
    assert_string_equal(json_string_value(json_object_get(fig, "mode")), "read-data");
    assert_int_equal(json_integer_value(json_object_get(fig, "problems")), 2);
    json_decref(rec);
    /* A repair of the primary: its record, and no registry entry touched. */
    bkp_strlist fixed = {0};
    assert_int_equal(bkp_strlist_add(&fixed, "00ff"), 0);
    res.problems = 0;
    assert_int_equal(
        ops_verify_record(f->o.r, f->o.r, NULL, "read-data", 0, false, &res, &fixed, NULL, NULL),
        0);
    rec = audit_last_json(log, NULL, &(bkp_audit_query){.op = "repair"});
    assert_string_equal(json_string_value(json_object_get(rec, "outcome")), "ok");
    assert_int_equal(json_array_size(json_object_get(json_object_get(rec, "figures"), "repaired")),
                     1);
    json_decref(rec);
    bkp_strlist_clear(&fixed);
    free(log);
    e = bkp_media_get(f->o.r, "usb-a");
    assert_int_equal(e->verify, BKP_MEDIA_FAILED);
    bkp_media_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_damaged_pack_repaired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_lacks_pack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_that_cannot_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_is_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_medium_kit_and_note, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
