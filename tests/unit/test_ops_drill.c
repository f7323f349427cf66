/*
 * A drill's sources (bkp/ops/drill.h) with a real repository in a temporary
 * folder: a disk medium whose label is at its path and which holds a copy
 * of the repository is found and opened (as a copy of the first source);
 * a removable disk that is not connected is passed over, and a drill named
 * to it alone finds nothing and is refused, as is a medium the policy does
 * not have, and an on-line disk for a key-recovery drill. A drill's run
 * step gets no passphrase source, and the process's environment is as it
 * was after the drill.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bkp/ops/drill.h"

#include "ops_repo.h"

static const char policy_text[] = OPS_POLICY_HEAD
    "datasets:\n"
    "  - { name: emr-db, paths: [/srv/emr], schedule: daily 02:00, copy_to: [nas, usb-a] }\n";

typedef struct fixture {
    ops_repo f;
    rb_runbook *rb;
    int opened; /* how many sources the key opened */
    ops_drill_io io;
} fixture;

static int open_keyed(void *ctx, const char *path, bkp_repo **out)
{
    fixture *x = ctx;
    x->opened++;
    return bkp_repo_open(path, OPS_PASS, strlen(OPS_PASS), BKP_REPO_READONLY, out);
}

static int no_archives(const char *dir, char ***names, size_t *n)
{
    (void)dir;
    *names = NULL;
    *n = 0;
    return 0;
}

/* Medium `name` connected at TOP/name with a copy of the repository. */
static void connect(fixture *x, const char *name, const char *type, const char *location)
{
    char dir[160], copy[192];
    snprintf(dir, sizeof(dir), "%s/%s", x->f.top, name);
    snprintf(copy, sizeof(copy), "%s/repo", dir);
    bkp_label label;
    assert_int_equal(ops_label_new(x->f.r, name, type, location, &label), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(bkp_label_write(dir, &label, false), 0);
    assert_int_equal(bkp_repo_init_copy(x->f.r, copy), 0);
}

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof(*x));
    char path[1024];
    if (!x || ops_repo_new(&x->f, "ops-drill", policy_text))
        return -1;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    if (rb_load(path, &x->rb))
        return -1;
    connect(x, "nas", "disk", "onsite");
    x->io = (ops_drill_io){.ctx = x, .open = open_keyed, .archives = no_archives};
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fixture *x = *state;
    rb_free(x->rb);
    ops_repo_free(&x->f);
    free(x);
    return 0;
}

static ops_drill_in drill_of(fixture *x, const char *only, bool keyrec)
{
    return (ops_drill_in){
        .policy = x->f.p, .rb = x->rb, .only = only, .drill = true, .keyrec = keyrec, .io = &x->io};
}

static void test_disk_found(void **state)
{
    fixture *x = *state;
    ops_drill_sources s = {0};
    ops_drill_in in = drill_of(x, NULL, false);
    assert_int_equal(ops_drill_precheck(&in), 0);
    /* Every source there: nas; usb-a is not connected. */
    assert_int_equal(ops_drill_sources_find(&in, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].name, "nas");
    assert_non_null(s.v[0].repo);
    assert_int_equal(x->opened, 1);
    ops_drill_sources_free(&s);
    /* Named alone. */
    in = drill_of(x, "nas", false);
    assert_int_equal(ops_drill_sources_find(&in, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].name, "nas");
    ops_drill_sources_free(&s);
}

/* On-line disks first, then the removable; the key opens the first alone,
 * the next is opened as its copy. A key-recovery drill reads the
 * removable alone. */
static void test_order_and_copies(void **state)
{
    fixture *x = *state;
    ops_drill_sources s = {0};
    connect(x, "usb-a", "removable", "offsite");
    ops_drill_in in = drill_of(x, NULL, false);
    assert_int_equal(ops_drill_sources_find(&in, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.v[0].name, "nas");
    assert_string_equal(s.v[1].name, "usb-a");
    assert_int_equal(x->opened, 1);
    ops_drill_sources_free(&s);
    in = drill_of(x, NULL, true);
    assert_int_equal(ops_drill_sources_find(&in, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].name, "usb-a");
    ops_drill_sources_free(&s);
}

/* An attended drill reads the off-line media connected alone; when they
 * hold no generation of a data set of its runbook, it does not start, and
 * says which (not, at its select step, that no source holds it). */
static void test_offline_not_holding(void **state)
{
    fixture *x = *state;
    ops_drill_sources s = {0};
    connect(x, "usb-a", "removable", "offsite"); /* a copy with no generation */
    ops_drill_in in = drill_of(x, NULL, false);
    in.offline_first = true;
    assert_int_equal(ops_drill_sources_find(&in, &s), -ENODATA);
    ops_drill_sources_free(&s);
    /* Named, it is read as asked. */
    in = drill_of(x, "usb-a", false);
    assert_int_equal(ops_drill_sources_find(&in, &s), 0);
    assert_int_equal(s.n, 1);
    ops_drill_sources_free(&s);
}

static void test_missing_refused(void **state)
{
    fixture *x = *state;
    ops_drill_sources s = {0};
    ops_drill_in in = drill_of(x, "usb-a", false);
    assert_int_equal(ops_drill_precheck(&in), 0);
    assert_int_equal(ops_drill_sources_find(&in, &s), -ENOENT);
    assert_int_equal(s.n, 0);
    ops_drill_sources_free(&s);
    /* A key-recovery drill reads no on-line disk: nothing else is there. */
    in = drill_of(x, NULL, true);
    assert_int_equal(ops_drill_sources_find(&in, &s), -ENOENT);
    assert_int_equal(x->opened, 0);
    ops_drill_sources_free(&s);
}

static void test_precheck(void **state)
{
    fixture *x = *state;
    ops_drill_in in = drill_of(x, "tape", false);
    assert_int_equal(ops_drill_precheck(&in), -EINVAL); /* not in the policy */
    in = drill_of(x, "nas", true);
    assert_int_equal(ops_drill_precheck(&in), -EINVAL); /* on-line, for a key-recovery drill */
    in = drill_of(x, "usb-a", true);
    assert_int_equal(ops_drill_precheck(&in), 0);
}

/* A drill whose run step writes its environment into the sandbox: the
 * step does not get the passphrase sources, and the process keeps them
 * (a library does not change its caller's environment). */
static void test_environment_kept(void **state)
{
    fixture *x = *state;
    char path[160], sandbox[160], envfile[192], line[4096];
    rb_runbook *rb = NULL;
    ops_drill_run run = {0};
    snprintf(path, sizeof(path), "%s/env.yaml", x->f.top);
    snprintf(sandbox, sizeof(sandbox), "%s/sandbox", x->f.top);
    snprintf(envfile, sizeof(envfile), "%s/env.txt", sandbox);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs("title: environment\n"
                      "datasets: [emr-db]\n"
                      "steps:\n"
                      "  - { who: ops, run: \"env >\\\"$BKP_SANDBOX/env.txt\\\"\", "
                      "env: [STEP_OWN=1] }\n",
                      f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rb_load(path, &rb), 0);
    assert_int_equal(mkdir(sandbox, 0700), 0);
    assert_int_equal(setenv("BKP_PASSPHRASE_FILE", "/etc/bkp/passphrase", 1), 0);
    assert_int_equal(setenv("BKP_PASSPHRASE_COMMAND", "cat /etc/bkp/passphrase", 1), 0);
    assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
    ops_drill_in in = drill_of(x, NULL, false);
    in.rb = rb;
    in.sandbox = sandbox;
    assert_int_equal(ops_drill_execute(&in, &run), 0);
    assert_true(run.res.ok);
    ops_drill_run_clear(&in, &run);
    /* The parent's environment after the drill: as it was. */
    assert_string_equal(getenv("BKP_PASSPHRASE_FILE"), "/etc/bkp/passphrase");
    assert_string_equal(getenv("BKP_PASSPHRASE_COMMAND"), "cat /etc/bkp/passphrase");
    /* The step's: its own, an allowlisted name, no passphrase source. */
    f = fopen(envfile, "r");
    assert_non_null(f);
    int own = 0, tz = 0, secret = 0;
    while (fgets(line, sizeof(line), f)) {
        own += !strcmp(line, "STEP_OWN=1\n");
        tz += !strcmp(line, "TZ=Asia/Tokyo\n");
        secret += !strncmp(line, "BKP_PASSPHRASE", 14);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(own, 1);
    assert_int_equal(tz, 1);
    assert_int_equal(secret, 0);
    unsetenv("BKP_PASSPHRASE_FILE");
    unsetenv("BKP_PASSPHRASE_COMMAND");
    rb_free(rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_and_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_not_holding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precheck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
