/*
 * Runbooks as the commands load them (bkp/ops/runbook_load.h): one found by its
 * path and loaded; one others may change, one missing and one invalid
 * refused as the operator's to fix (-EINVAL); the policy's runbooks listed,
 * each once, an invalid one said so; where usable copies of its
 * data sets are, the primary's newest first and a medium's, a suspicious
 * generation left out; the data sets of one folder.
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
#include "bkp/ops/runbook_load.h"

#include "ops_repo.h"

static const char policy_text[] = OPS_POLICY_HEAD
    "datasets:\n"
    "  - { name: emr-db, paths: [/srv/emr], schedule: daily 02:00, copy_to: [nas, usb-a],\n"
    "      runbook: %1$s/runbooks/emr-db.yaml }\n"
    "  - { name: pacs, paths: [/srv/pacs, /srv/dicom], schedule: daily 03:00,\n"
    "      runbook: %1$s/runbooks/none.yaml }\n"
    "  - { name: lab, paths: [/srv/lab], schedule: daily 04:00,\n"
    "      runbook: %1$s/runbooks/emr-db.yaml }\n"
    "drills:\n"
    "  - { runbook: %1$s/runbooks/emr-db.yaml, schedule: monthly 1 05:00 }\n"
    "  - { runbook: %1$s/runbooks/weekly.yaml, schedule: weekly mon 05:00 }\n";

static void quiet(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level, (void)msg, (void)ctx;
}

static int setup(void **state)
{
    bkp_log_set_sink(quiet, NULL);
    return ops_repo_setup(state, "ops-runbook", policy_text);
}

static int teardown(void **state)
{
    bkp_log_set_sink(NULL, NULL);
    return ops_repo_teardown(state);
}

/* TOP/runbooks/NAME.yaml holding the example runbook (or `text`), mode
 * `mode`, into `path`. */
static void put_runbook(ops_repo *f, const char *name, const char *text, mode_t mode, char *path,
                        size_t n)
{
    char dir[160], cmd[1024];
    snprintf(dir, sizeof(dir), "%s/runbooks", f->top);
    (void)mkdir(dir, 0700);
    snprintf(path, n, "%s/%s.yaml", dir, name);
    if (text) {
        FILE *x = fopen(path, "w");
        assert_non_null(x);
        fputs(text, x);
        assert_int_equal(fclose(x), 0);
    } else {
        snprintf(cmd, sizeof(cmd), "cp %s/policies/runbooks/emr-db.yaml %s", BKP_SOURCE_DIR, path);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(chmod(path, mode), 0);
}

static void test_load(void **state)
{
    ops_repo *f = *state;
    char path[256];
    rb_runbook *rb = NULL;
    put_runbook(f, "emr-db", NULL, 0600, path, sizeof(path));
    assert_int_equal(ops_runbook_load(f->p, path, &rb), 0);
    assert_non_null(rb);
    assert_true(rb->ndatasets >= 1);
    assert_true(rb->nsteps >= 1);
    rb_free(rb);
    /* The policy names it by a path where no search looks: its stem, as
     * drills and records call it, finds it too. */
    char dir[200], text[512], cmd[600];
    snprintf(dir, sizeof(dir), "%s/elsewhere", f->top);
    (void)mkdir(dir, 0700);
    snprintf(cmd, sizeof(cmd), "cp %s %s/clinic.yaml", path, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(text, sizeof(text),
             "repository: %s/repo\ndatasets:\n  - { name: emr-db, paths: [/srv/emr], runbook: "
             "%s/clinic.yaml }\n",
             f->top, dir);
    pol_policy *p = NULL;
    assert_int_equal(pol_load_buffer("/nowhere/policy.yaml", (const uint8_t *)text, strlen(text), &p),
                     0);
    rb = NULL;
    assert_int_equal(ops_runbook_load(p, "clinic", &rb), 0);
    assert_non_null(rb);
    rb_free(rb);
    pol_free(p);
}

static void test_refused(void **state)
{
    ops_repo *f = *state;
    char path[256], missing[256];
    rb_runbook *rb = NULL;
    put_runbook(f, "open", NULL, 0666, path, sizeof(path)); /* others may change it */
    assert_int_equal(ops_runbook_load(f->p, path, &rb), -EINVAL);
    assert_null(rb);
    snprintf(missing, sizeof(missing), "%s/runbooks/none.yaml", f->top);
    assert_int_equal(ops_runbook_load(f->p, missing, &rb), -EINVAL);
    put_runbook(f, "bad", "title: [\n", 0600, path, sizeof(path));
    assert_int_equal(ops_runbook_load(f->p, path, &rb), -EINVAL);
    assert_null(rb);
}

static void test_list(void **state)
{
    ops_repo *f = *state;
    char path[256];
    ops_runbook_named *v = NULL;
    size_t n = 0;
    put_runbook(f, "emr-db", NULL, 0600, path, sizeof(path));
    put_runbook(f, "weekly", NULL, 0600, path, sizeof(path));
    assert_int_equal(ops_runbook_list(f->p, &v, &n), -EINVAL); /* none.yaml is not there */
    assert_int_equal(n, 3); /* emr-db.yaml once; weekly.yaml, which a drill alone names */
    assert_non_null(v[0].rb);
    assert_true(v[0].rb->nsteps > 0);
    assert_null(v[1].rb);
    assert_non_null(v[1].name);
    assert_non_null(v[2].rb);
    assert_string_equal(v[2].rb->file, path);
    ops_runbook_list_free(v, n);
}

static void test_copies(void **state)
{
    ops_repo *f = *state;
    bkp_gen *g = NULL;
    rb_runbook rb = {.datasets = (char *[]){"emr-db"}, .ndatasets = 1};
    assert_int_equal(ops_repo_seal(f, "emr-db", 2 * OPS_DAY, &g), 0);
    assert_int_equal(ops_repo_register(f, "usb-a", "removable", "offsite", g, OPS_DAY, true), 0);
    bkp_gen_free(g);
    rb_copies c = {0};
    assert_int_equal(ops_runbook_copies(f->r, NULL, &rb, &c), 0);
    assert_int_equal(c.n, 2);
    const rb_copy *p = &c.v[0], *m = &c.v[1];
    assert_string_equal(p->medium, "repository");
    assert_string_equal(p->generation, "emr-db:1");
    assert_false(p->offline);
    assert_null(p->path);
    assert_string_equal(m->medium, "usb-a");
    assert_string_equal(m->generation, "emr-db:1");
    assert_true(m->offline);
    rb_copies_free(&c);
    /* The policy says whether a medium is off-line, not its type: an
     * archive folder kept on-line (a NAS) is on-line on the procedure, as
     * in `bkp status`; an archive medium the policy does not name stays as
     * its type is. */
    assert_int_equal(ops_repo_seal(f, "emr-db", OPS_DAY, &g), 0);
    assert_int_equal(ops_repo_register(f, "nas-arc", "archive", "onsite", g, OPS_DAY, true), 0);
    assert_int_equal(ops_repo_register(f, "rdx", "archive", "offsite", g, OPS_DAY, true), 0);
    bkp_gen_free(g);
    char yaml[512];
    int n = snprintf(yaml, sizeof(yaml),
                     "repository: %s/repo\n"
                     "passphrase_file: /etc/bkp/passphrase\n"
                     "media:\n"
                     "  - { name: nas-arc, type: archive, path: %s/nas, location: onsite }\n"
                     "datasets:\n"
                     "  - { name: emr-db, paths: [%s/src] }\n",
                     f->top, f->top, f->top);
    pol_policy *pol = NULL;
    assert_int_equal(pol_load_buffer("t.yaml", (const uint8_t *)yaml, (size_t)n, &pol), 0);
    assert_int_equal(ops_runbook_copies(f->r, pol, &rb, &c), 0);
    bool seen_nas = false, seen_rdx = false;
    for (size_t i = 0; i < c.n; i++) {
        if (!strcmp(c.v[i].medium, "nas-arc")) {
            seen_nas = true;
            assert_false(c.v[i].offline);
        }
        if (!strcmp(c.v[i].medium, "rdx")) {
            seen_rdx = true;
            assert_true(c.v[i].offline);
        }
    }
    assert_true(seen_nas && seen_rdx);
    rb_copies_free(&c);
    pol_free(pol);
    /* Without a repository, nothing is known. */
    assert_int_equal(ops_runbook_copies(NULL, NULL, &rb, &c), 0);
    assert_int_equal(c.n, 0);
    rb_copies_free(&c);
}

static void test_folders(void **state)
{
    ops_repo *f = *state;
    rb_folders d;
    assert_int_equal(ops_runbook_folders(f->p, &d), 0);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.v[0].dataset, "emr-db");
    assert_string_equal(d.v[0].folder, "/srv/emr");
    assert_string_equal(d.v[1].dataset, "lab");
    assert_string_equal(d.v[1].folder, "/srv/lab");
    assert_null(d.recovery); /* no bucket */
    rb_folders_clear(&d);
    assert_int_equal(ops_runbook_folders(NULL, &d), 0);
    assert_int_equal(d.n, 0);
    rb_folders_clear(&d);
}

/* The policy the paper gives a new machine for the buckets: it loads, and
 * says what the server's policy says of them, whatever the values hold
 * (quotes, backslashes, '#', ': ', a tab, Japanese), and names its data sets
 * (a stream one has no paths there: one data set stands in). */
static void test_recovery_policy(void **state)
{
    (void)state;
    static const char text[] =
        "repository: \"/srv/bkp \\\"main\\\" # repo\"\n"
        "passphrase_file: /etc/bkp/pass\n"
        "language: ja\n"
        "datasets:\n"
        "  - { name: emr-db, paths: [\"/srv/電子カルテ: a\\tb # c\"] }\n"
        "  - { name: pacs, stream: { command: \"pg_dump pacs\", name: pacs.dump } }\n"
        "media:\n"
        "  - { name: usb-a, type: removable, path: /mnt/usb, offline: true }\n"
        "  - name: cloud\n"
        "    type: object\n"
        "    endpoint: \"https://s3.example.jp/#x\"\n"
        "    bucket: hospital-bkp\n"
        "    region: ap-northeast-1\n"
        "    credentials_file: \"/etc/bkp/keys \\\\ 'x'.ini\"\n"
        "    location: offsite\n"
        "    lock: { mode: governance, days: 2 }\n";
    pol_policy *p = NULL, *back = NULL;
    rb_folders d;
    assert_int_equal(pol_load_buffer("t.yaml", (const uint8_t *)text, sizeof(text) - 1, &p), 0);
    assert_int_equal(ops_runbook_folders(p, &d), 0);
    assert_non_null(d.recovery);
    assert_int_equal(d.nbuckets, 1);
    assert_string_equal(d.buckets[0], "cloud");
    assert_int_equal(pol_load_buffer("recovery.yaml", (const uint8_t *)d.recovery,
                                     strlen(d.recovery), &back),
                     0);
    assert_string_equal(back->repository, p->repository);
    assert_string_equal(back->language, "ja");
    assert_int_equal(back->nmedia, 1);
    const pol_object *o = pol_medium_bucket(&back->media[0]), *want = &p->media[1].object;
    assert_non_null(o);
    assert_string_equal(back->media[0].name, "cloud");
    assert_string_equal(o->endpoint, want->endpoint);
    assert_string_equal(o->bucket, want->bucket);
    assert_string_equal(o->region, want->region);
    assert_string_equal(o->credentials_file, want->credentials_file);
    assert_true(back->media[0].offsite);
    assert_int_equal(back->ndatasets, 1); /* the stream data set left out */
    assert_string_equal(back->datasets[0].name, "emr-db");
    assert_string_equal(back->datasets[0].paths[0], p->datasets[0].paths[0]);
    assert_null(strstr(d.recovery, "pg_dump")); /* nothing of the server's commands */
    pol_free(back);
    rb_folders_clear(&d);
    pol_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test(test_recovery_policy),
        cmocka_unit_test_setup_teardown(test_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
