/*
 * One rotation over any medium (bkp/ops/rotate.h): the plan as a value,
 * made without touching a medium; and a rotation to a stub driver, which
 * is all a new kind of medium needs (rotate_driver.h) — the shared part
 * lists and judges the primary, plans, records the rotation in the audit
 * log and the registry, and a dry run writes nothing anywhere.
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
#include "bkp/ops/rotate_driver.h"
#include "bkp/ops/rotate_record.h"

#include "ops_repo.h"

static const char policy_text[] =
    "repository: %1$s/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "media:\n"
    "  - { name: mem, type: disk, path: %1$s/mem, location: onsite }\n"
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00, retention: { keep_last: 1 },"
    " copy_to: [mem] }\n"
    "  - { name: lab, paths: [/srv/lab], schedule: daily 03:00, retention: { keep_last: 1 } }\n";

static void quiet(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level;
    (void)msg;
    (void)ctx;
}

static int setup(void **state)
{
    ops_repo *f = calloc(1, sizeof(*f));
    if (!f || ops_repo_new(f, "rotate", policy_text))
        return -1;
    bkp_log_set_sink(quiet, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    ops_repo *f = *state;
    bkp_log_set_sink(NULL, NULL);
    ops_repo_free(f);
    free(f);
    return 0;
}

/* Seal `n` generations of `dataset`, the oldest `n` days ago. */
static void seal_days(ops_repo *f, const char *dataset, int n)
{
    for (int i = n; i > 0; i--)
        assert_int_equal(ops_repo_seal(f, dataset, (time_t)i * OPS_DAY, NULL), 0);
}

/* The medium holds emr:1..3 of five: the plan copies emr:5 (the newest),
 * finds nothing of lab (the policy sends it elsewhere), and with the copy
 * there the medium's retention (keep_last 1: three on a medium) lets
 * emr:1 go. Without a listing, nothing is known to be there and
 * nothing is pruned. */
static void test_plan(void **state)
{
    ops_repo *f = *state;
    bkp_gen **v = NULL, **held = NULL;
    size_t n = 0, nheld = 0;
    ops_rotate_plan pl;
    seal_days(f, "emr", 5);
    seal_days(f, "lab", 2);
    assert_int_equal(bkp_gen_list(f->r, "emr", &held, &nheld), 0);
    assert_int_equal(nheld, 5);
    nheld = 3; /* the medium's: emr:1..3 */
    assert_int_equal(bkp_gen_list(f->r, NULL, &v, &n), 0);
    assert_int_equal(n, 7);
    assert_int_equal(ops_rotate_plan_make(f->p, "mem", v, n, held, nheld, true, true, &pl), 0);
    assert_int_equal(pl.np, 1);
    assert_string_equal(pl.rows[0].name, "emr:5");
    assert_false(pl.rows[0].there);
    assert_int_equal(pl.ngone, 1);
    assert_string_equal(pl.gone[0].name, "emr:1");
    ops_rotate_plan_clear(&pl);

    /* The medium holds the newest already: nothing to copy. */
    assert_int_equal(bkp_gen_list(f->r, NULL, &v, &n), 0);
    bkp_gen *newest[] = {held[4]};
    assert_int_equal(ops_rotate_plan_make(f->p, "mem", v, n, newest, 1, true, true, &pl), 0);
    assert_int_equal(pl.np, 1);
    assert_true(pl.rows[0].there);
    assert_int_equal(pl.ngone, 0);
    ops_rotate_plan_clear(&pl);

    /* A medium that cannot be listed, or is write-once. */
    assert_int_equal(bkp_gen_list(f->r, NULL, &v, &n), 0);
    assert_int_equal(ops_rotate_plan_make(f->p, "mem", v, n, NULL, 0, false, true, &pl), 0);
    assert_int_equal(pl.np, 1);
    assert_false(pl.rows[0].there);
    assert_int_equal(pl.ngone, 0);
    ops_rotate_plan_clear(&pl);
    assert_int_equal(bkp_gen_list(f->r, NULL, &v, &n), 0);
    assert_int_equal(ops_rotate_plan_make(f->p, "mem", v, n, held, 3, true, false, &pl), 0);
    assert_int_equal(pl.ngone, 0);
    ops_rotate_plan_clear(&pl);
    bkp_gen_list_free(held, 5);
}

/* What a rotation to a medium copies, for the warning that the next may
 * not fit: this one's when the medium held generations before; after a
 * first copy to it (which copies everything), what one interval of backups
 * added — each data set's first generation left out, and what came before
 * the interval. */
static void test_next_copy(void **unused)
{
    (void)unused;
    const time_t T = 1767571200;
    bkp_gen g[] = {
        {.dataset = "emr", .seq = 1, .finished = T - 10 * OPS_DAY, .stats.stored_new = 1000},
        {.dataset = "emr", .seq = 2, .finished = T - 2 * OPS_DAY, .stats.stored_new = 10},
        {.dataset = "emr", .seq = 3, .finished = T, .stats.stored_new = 20},
        {.dataset = "lab", .seq = 1, .finished = T, .stats.stored_new = 500},
    };
    bkp_gen *v[] = {&g[0], &g[1], &g[2], &g[3]};
    ops_rotate_plan pl = {.v = v, .n = 4, .pick = v, .np = 4, .listed = true};
    assert_int_equal(ops_rotate_next_copy(&pl, 1530, 7 * OPS_DAY), 30);
    assert_int_equal(ops_rotate_next_copy(&pl, 1530, 0), 20); /* a day */
    pl.held_before = 2;
    assert_int_equal(ops_rotate_next_copy(&pl, 1530, 7 * OPS_DAY), 1530);
    /* A first copy of first generations only: nothing to judge by. */
    bkp_gen *firsts[] = {&g[0], &g[3]};
    ops_rotate_plan seed = {.v = v, .n = 4, .pick = firsts, .np = 2, .listed = true};
    assert_int_equal(ops_rotate_next_copy(&seed, 1500, 7 * OPS_DAY), 0);
}

/* ---- a stub driver: a medium in memory ---- */

typedef struct stub {
    int reached, opened, copied, after, released;
    char names[256]; /* what was copied */
} stub;

static stub seen;

static int st_reach(ops_rotation *t)
{
    (void)t;
    seen.reached++;
    return 0;
}

static int st_open(ops_rotation *t)
{
    (void)t;
    seen.opened++;
    return 0;
}

static int stub_copy_rc; /* what the stub's copy fails with, 0: it works */

static int st_copy(ops_rotation *t)
{
    const ops_rotate_plan *pl = &t->out->plan;
    seen.copied++;
    if (stub_copy_rc)
        return ops_rotate_fail(t->out, OPS_ROTATE_COPY, stub_copy_rc);
    for (size_t i = 0; i < pl->np; i++) {
        size_t l = strlen(seen.names);
        snprintf(seen.names + l, sizeof(seen.names) - l, "%s%s", l ? " " : "", pl->rows[i].name);
        t->out->copy.records++;
    }
    return 0;
}

static void st_after(ops_rotation *t)
{
    seen.after++;
    t->out->held.known = true;
}

/* How the stub's seal leaves the sealed files (a disk's log_copy). */
static bkp_media_sealed stub_sealed = BKP_SEALED_IMMUTABLE;

static void st_end(ops_rotation *t, ops_rotate_end *e)
{
    e->took = e->seen = t->out->copied_all;
    e->note = (ops_rotate_seen){.held = &t->out->held};
    e->sealed = &stub_sealed;
}

static int st_figures(ops_rotation *t, ops_rotate_figures *f)
{
    return ops_rotate_plan_figures(&t->out->plan, f);
}

/* What the medium holds, or that it cannot be measured (`stub_bytes` 0). */
static uint64_t stub_bytes;

static int st_measure(ops_rotation *t, uint64_t *bytes)
{
    (void)t;
    *bytes = stub_bytes;
    return stub_bytes ? 0 : -EIO;
}

static void st_release(ops_rotation *t)
{
    (void)t;
    seen.released++;
}

static const ops_medium_driver stub_driver = {
    .name = "stub",
    .size = 0,
    .reach = st_reach,
    .open = st_open,
    .copy = st_copy,
    .after = st_after,
    .measure = st_measure,
    .end = st_end,
    .figures = st_figures,
    .release = st_release,
};

static int count_rotations(const bkp_audit_entry *e, void *ctx)
{
    if (!strcmp(e->op, "rotate"))
        (*(int *)ctx)++;
    return 0;
}

static int rotations(ops_repo *f)
{
    char *log = bkp_audit_path(f->r);
    int n = 0;
    assert_int_equal(bkp_audit_each(log, count_rotations, &n), 0);
    free(log);
    return n;
}

static void test_stub_driver(void **state)
{
    ops_repo *f = *state;
    ops_rotate_out o;
    bkp_gen *g = NULL;
    seal_days(f, "emr", 1);
    assert_int_equal(ops_repo_seal(f, "emr", OPS_DAY / 2, &g), 0);
    assert_int_equal(ops_repo_register(f, "mem", "disk", "onsite", g, 30 * OPS_DAY, true), 0);
    bkp_gen_free(g);
    ops_rotate_in in = {.primary = f->r, .policy = f->p, .medium = "mem", .dry_run = true};
    memset(&seen, 0, sizeof(seen));
    /* A dry run: reached, opened, planned; nothing copied, nothing recorded. */
    assert_int_equal(ops_rotate_with(&stub_driver, &in, &o), 0);
    assert_int_equal(seen.reached + seen.opened + seen.copied + seen.after, 2);
    assert_int_equal(seen.released, 1);
    assert_int_equal(o.plan.np, 1);
    assert_string_equal(o.plan.rows[0].name, "emr:2");
    assert_int_equal(rotations(f), 0);
    bkp_media_entry *e = bkp_media_get(f->r, "mem");
    json_t *j = bkp_media_entry_json(e);
    char *before = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    bkp_media_free(e);
    ops_rotate_out_clear(&o);
    /* The rotation: copied, recorded in the audit log and the registry. */
    in.dry_run = false;
    assert_int_equal(ops_rotate_with(&stub_driver, &in, &o), 0);
    assert_string_equal(seen.names, "emr:2");
    assert_int_equal(seen.after, 1);
    assert_true(o.wrote);
    assert_int_equal(o.step, OPS_ROTATE_DONE);
    assert_int_equal(rotations(f), 1);
    /* Its record read back as the evidence report and the annex read it. */
    char *log = bkp_audit_path(f->r);
    bkp_audit_entry rec;
    assert_true(bkp_audit_last(log, NULL, &(bkp_audit_query){.op = "rotate"}, &rec));
    free(log);
    assert_string_equal(ops_rotation_generation(&rec, 0), "emr:2");
    assert_null(ops_rotation_generation(&rec, 1));
    assert_true(ops_rotation_captured(&rec, "emr") > 0);
    assert_int_equal(ops_rotation_captured(&rec, "pacs"), 0);
    assert_false(ops_rotation_refused(&rec));
    assert_null(ops_rotation_lock(&rec));
    bkp_audit_entry_release(&rec);
    e = bkp_media_get(f->r, "mem");
    j = bkp_media_entry_json(e);
    char *after = json_dumps(j, JSON_SORT_KEYS);
    assert_non_null(after);
    assert_string_not_equal(before, after); /* its last write is now */
    free(before);
    free(after);
    json_decref(j);
    assert_int_equal(e->bytes, 0); /* not measured: the stub's measure failed (warned) */
    /* How the seal left its files, kept through the registry's codec. */
    assert_int_equal(e->sealed, BKP_SEALED_IMMUTABLE);
    j = bkp_media_entry_json(e);
    assert_string_equal(json_string_value(json_object_get(j, "sealed")), "immutable");
    json_decref(j);
    /* Its attempt noted as it began and as it ended, by this process. */
    assert_true(e->attempt.began > 0 && e->attempt.ended >= e->attempt.began);
    assert_false(e->attempt.failed);
    assert_int_equal(e->attempt.pid, (long)getpid());
    bkp_media_free(e);
    ops_rotate_out_clear(&o);
    /* A copy that fails (a full disk): the attempt ended failed, with why. */
    stub_copy_rc = -ENOSPC;
    assert_int_equal(ops_rotate_with(&stub_driver, &in, &o), -ENOSPC);
    ops_rotate_out_clear(&o);
    stub_copy_rc = 0;
    e = bkp_media_get(f->r, "mem");
    assert_true(e->attempt.failed && e->attempt.ended > 0);
    assert_non_null(strstr(e->attempt.why, "the medium is full"));
    bkp_media_free(e);
    /* Its record says why, in English and in Japanese. */
    log = bkp_audit_path(f->r);
    assert_true(bkp_audit_last(log, NULL, &(bkp_audit_query){.op = "rotate"}, &rec));
    free(log);
    assert_false(rec.ok);
    assert_non_null(rec.error);
    assert_non_null(rec.error_ja);
    assert_string_not_equal(rec.error, rec.error_ja);
    bkp_audit_entry_release(&rec);
    /* Measured: noted in the registry; then a rotation whose measure fails
     * leaves none, never the older figure beside the new date. */
    stub_bytes = 4096;
    assert_int_equal(ops_rotate_with(&stub_driver, &in, &o), 0);
    ops_rotate_out_clear(&o);
    e = bkp_media_get(f->r, "mem");
    assert_int_equal(e->bytes, 4096);
    bkp_media_free(e);
    stub_bytes = 0;
    assert_int_equal(ops_rotate_with(&stub_driver, &in, &o), 0);
    ops_rotate_out_clear(&o);
    e = bkp_media_get(f->r, "mem");
    assert_int_equal(e->bytes, 0);
    bkp_media_free(e);
    /* A file system without the attribute: said so at the next rotation. */
    stub_sealed = BKP_SEALED_MODE;
    assert_int_equal(ops_rotate_with(&stub_driver, &in, &o), 0);
    ops_rotate_out_clear(&o);
    e = bkp_media_get(f->r, "mem");
    assert_int_equal(e->sealed, BKP_SEALED_MODE);
    bkp_media_free(e);
    stub_sealed = BKP_SEALED_IMMUTABLE;
}

/* A type without a row in the table, or a driver without its required
 * hooks: refused before anything, and recorded nowhere. */
static void test_no_driver(void **state)
{
    ops_repo *f = *state;
    ops_rotate_out o;
    ops_rotate_in in = {.primary = f->r, .policy = f->p, .medium = "mem",
                        .type = (pol_medium_type)99};
    assert_int_equal(ops_rotate(&in, &o), -EINVAL);
    assert_true(o.usage);
    assert_int_equal(o.step, OPS_ROTATE_OPEN);
    ops_rotate_out_clear(&o);
    ops_medium_driver half = stub_driver;
    half.copy = NULL;
    assert_int_equal(ops_rotate_with(&half, &in, &o), -EINVAL);
    ops_rotate_out_clear(&o);
    /* --prune-first to a medium whose copy the rotation does not prune. */
    in.type = POL_DISK;
    in.prune_first = true;
    assert_int_equal(ops_rotate_with(&stub_driver, &in, &o), -EINVAL);
    assert_true(o.usage);
    ops_rotate_out_clear(&o);
    assert_int_equal(rotations(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
        cmocka_unit_test(test_next_copy),
        cmocka_unit_test_setup_teardown(test_stub_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_driver, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
