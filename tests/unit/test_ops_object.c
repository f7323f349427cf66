/*
 * An object medium's work without a server (bkp/ops/object_medium.h,
 * rotate.h, object_fetch.h): the retain-until dates and what a
 * rotation uploads, what a prune deletes, the registry's notes, the proof
 * of the lock read from the signed audit log, the staging folders a killed
 * fetch left, the working folder of a rotation, and the refusals that come
 * before any S3 request can succeed (the endpoint is a closed port on
 * loopback): a name registered to another bucket, a probe that cannot run,
 * a rotation to an unlabelled medium (recorded as failed) or under a
 * rotate lock held by another, and one from a primary behind the bucket's
 * pin (a rolled-back primary).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/ops/object_fetch.h"
#include "bkp/ops/object_medium.h"
#include "bkp/ops/rotate.h"
#include "bkp/media/pin.h"

#include "ops_repo.h"

static const char policy_text[] =
    "repository: %1$s/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "media:\n"
    "  - { name: cloud, type: object, endpoint: 'http://127.0.0.1:9', bucket: hosp-bkp,"
    " credentials_file: %1$s/creds, location: offsite, lock: { mode: compliance, days: 30 } }\n"
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00, retention: { keep_last: 1 },"
    " copy_to: [cloud] }\n"
    "  - { name: lab, paths: [/srv/lab], schedule: daily 03:00,"
    " retention: { keep_monthly: 12 }, copy_to: [cloud] }\n";

/* Every message logged by the code under test, kept (and kept quiet). */
static char logged[8192];
static void sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)ctx;
    (void)level;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

typedef struct fixture {
    ops_repo f;
    const pol_medium *pm;
} fixture;

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof(*x));
    char creds[128];
    if (!x || ops_repo_new(&x->f, "ops-object", policy_text))
        return -1;
    snprintf(creds, sizeof(creds), "%s/creds", x->f.top);
    FILE *c = fopen(creds, "w");
    if (!c || fputs("[default]\naws_access_key_id = A\naws_secret_access_key = B\n", c) < 0 ||
        fclose(c) || chmod(creds, 0600))
        return -1;
    x->pm = pol_medium_find(x->f.p, "cloud");
    unsetenv("BKP_TEST_LOCK_DAY");
    setenv("BKP_S3_BACKOFF_MS", "1", 1);
    logged[0] = '\0';
    bkp_log_set_sink(sink, NULL);
    *state = x;
    return x->pm ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *x = *state;
    bkp_log_set_sink(NULL, NULL);
    ops_repo_free(&x->f);
    free(x);
    return 0;
}

/* From the capture: the longest of the medium's 30 days and the data
 * set's retention, never less than 30 days from now. */
static void test_until(void **state)
{
    fixture *x = *state;
    time_t now = 2000000000;
    bkp_gen emr = {.dataset = "emr", .finished = now - OPS_DAY};
    bkp_gen lab = {.dataset = "lab", .finished = now - 10 * OPS_DAY};
    bkp_gen other = {.dataset = "gone", .finished = now - 100 * OPS_DAY};
    /* emr keeps one day: the medium's lock counts, from now. */
    assert_int_equal(ops_object_until(x->f.p, x->pm, &emr, now), now + 30 * OPS_DAY);
    /* lab keeps 12 months of 31 days from its capture. */
    assert_int_equal(ops_object_until(x->f.p, x->pm, &lab, now), lab.finished + 372 * OPS_DAY);
    assert_int_equal(ops_object_until(x->f.p, x->pm, &other, now), now + 30 * OPS_DAY);
    assert_int_equal(ops_object_until(NULL, x->pm, &lab, now), now + 30 * OPS_DAY);
    /* A test build's short day shortens both spans alike: 372 short days
     * from a capture ten real days ago are long past, 30 from now are not. */
    setenv("BKP_TEST_LOCK_DAY", "10", 1);
    if (bkp_lock_day() == 10)
        assert_int_equal(ops_object_until(x->f.p, x->pm, &lab, now), now + 300);
    unsetenv("BKP_TEST_LOCK_DAY");
    assert_int_equal(ops_object_floor(x->pm, now), now + 30 * OPS_DAY);
    assert_int_equal(ops_object_mode(x->pm), BKP_S3_LOCK_COMPLIANCE);
}

/* The newest clean generation of each data set, with its date. */
static void test_plan(void **state)
{
    fixture *x = *state;
    bkp_gen **v = NULL;
    time_t now = bkp_now();
    size_t n = 0;
    ops_rotate_plan pl;
    assert_int_equal(ops_repo_seal(&x->f, "emr", 3 * OPS_DAY, NULL), 0);
    assert_int_equal(ops_repo_seal(&x->f, "emr", 2 * OPS_DAY, NULL), 0);
    assert_int_equal(ops_repo_seal(&x->f, "lab", 5 * OPS_DAY, NULL), 0);
    assert_int_equal(bkp_gen_list(x->f.r, NULL, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ops_rotate_plan_make(x->f.p, "cloud", v, n, NULL, 0, false, true, &pl), 0);
    assert_int_equal(pl.np, 2);
    assert_int_equal(pl.ngone, 0);
    for (size_t i = 0; i < pl.np; i++) {
        const bkp_gen *g = pl.rows[i].gen;
        assert_string_equal(pl.rows[i].name, !strcmp(g->dataset, "lab") ? "lab:1" : "emr:2");
        assert_false(pl.rows[i].there);
        time_t want = !strcmp(g->dataset, "lab") ? g->finished + 372 * OPS_DAY
                                                 : now + 30 * OPS_DAY;
        assert_int_equal(ops_object_until(x->f.p, x->pm, g, now), want);
    }
    ops_rotate_plan_clear(&pl);
    /* Another medium name is sent nothing. */
    assert_int_equal(bkp_gen_list(x->f.r, NULL, &v, &n), 0);
    assert_int_equal(ops_rotate_plan_make(x->f.p, "usb", v, n, NULL, 0, false, true, &pl), 0);
    assert_int_equal(pl.np, 0);
    ops_rotate_plan_clear(&pl);
}

/* keep_last 1 on a medium keeps three: of five, the two oldest go, and a
 * tombstone is not deleted twice. */
static void test_doomed(void **state)
{
    fixture *x = *state;
    bkp_gen **v = NULL;
    size_t n = 0;
    bool doomed[5];
    for (int i = 5; i > 0; i--)
        assert_int_equal(ops_repo_seal(&x->f, "emr", (time_t)i * OPS_DAY, NULL), 0);
    assert_int_equal(bkp_gen_list(x->f.r, "emr", &v, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(ops_object_doomed(x->f.p, v, n, doomed), 0);
    bool want[5] = {true, true, false, false, false};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(doomed[i], want[i]);
    v[0]->pruned = true;
    assert_int_equal(ops_object_doomed(x->f.p, v, n, doomed), 0);
    assert_false(doomed[0]);
    assert_true(doomed[1]);
    bkp_gen_list_free(v, n);
}

/* Each note writes its own fields; another label starts a new history. */
static void test_note(void **state)
{
    fixture *x = *state;
    bkp_media_entry e = {0};
    bkp_label l1, l2;
    assert_int_equal(bkp_label_make(&l1, bkp_repo_uuid(x->f.r), bkp_repo_sign_pk(x->f.r), "cloud",
                                    "object", "offsite"),
                     0);
    assert_int_equal(bkp_label_make(&l2, bkp_repo_uuid(x->f.r), bkp_repo_sign_pk(x->f.r), "cloud",
                                    "object", "offsite"),
                     0);
    ops_object_note n = {.label = &l1};
    assert_int_equal(ops_object_note_entry(&e, &n), 0);
    assert_string_equal(e.label.uuid, l1.uuid);
    assert_true(e.labelled > 0 && e.last_seen > 0);
    assert_int_equal(e.last_write, 0);
    bkp_bucket_probe pr = {.proven = true};
    snprintf(pr.detail, sizeof(pr.detail), "delete refused");
    n = (ops_object_note){.probe = &pr};
    assert_int_equal(ops_object_note_entry(&e, &n), 0);
    assert_true(e.probe.when > 0 && e.probe.proven);
    assert_string_equal(e.probe.detail, "delete refused");
    /* What a rotation notes (the registry's own update, rotate_finish.c). */
    bkp_media_held h = {.dataset = "emr", .seq = 4};
    assert_int_equal(bkp_media_entry_set_held(&e, &h, 1), 0);
    e.last_write = 1767225600;
    /* The same label again keeps the history; the version id the bucket
     * gave it is noted, and forgotten when labelled without one. */
    n = (ops_object_note){.label = &l1, .label_version = "v.1-Abc"};
    assert_int_equal(ops_object_note_entry(&e, &n), 0);
    assert_true(e.probe.when > 0);
    assert_string_equal(e.label_version, "v.1-Abc");
    n = (ops_object_note){.label = &l1, .label_version = ""};
    assert_int_equal(ops_object_note_entry(&e, &n), 0);
    assert_string_equal(e.label_version, "");
    n = (ops_object_note){.label = &l2};
    assert_int_equal(ops_object_note_entry(&e, &n), 0);
    assert_string_equal(e.label.uuid, l2.uuid);
    assert_int_equal(e.probe.when, 0);
    assert_int_equal(e.n_held, 0);
    assert_false(e.held_known);
    assert_int_equal(e.last_write, 0);
    bkp_media_entry_clear(&e);
}

/* The registry's label version is a hint where to look in the bucket: one
 * out of shape (a space, a control character, too long) is dropped alone,
 * the entry stays. */
static void test_label_version(void **state)
{
    fixture *x = *state;
    bkp_gen *g = NULL;
    char longer[300], file[256];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(ops_repo_seal(&x->f, "emr", OPS_DAY, &g), 0);
    assert_int_equal(ops_repo_register(&x->f, "cloud", "object", "offsite", g, 0, true), 0);
    bkp_media_entry *e = bkp_media_get(x->f.r, "cloud");
    assert_non_null(e);
    json_t *j = bkp_media_entry_json(e);
    bkp_media_free(e);
    snprintf(file, sizeof(file), "%s/media/cloud.json", x->f.repo);
    const char *bad[] = {"two words", "line\n", longer, "", "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_object_set_new(j, "label_version", json_string(bad[i]));
        assert_int_equal(json_dump_file(j, file, 0), 0);
        e = bkp_media_get(x->f.r, "cloud");
        assert_non_null(e);
        assert_true(e->label.version > 0);
        assert_string_equal(e->label_version, i < 4 ? "" : bad[i]);
        bkp_media_free(e);
    }
    json_decref(j);
    bkp_gen_free(g);
}

static json_t *probe_fig(const char *label, const char *bucket, const char *mode, bool proven)
{
    return json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "proven", proven, "detail", "d", "label",
                     label, "bucket", bucket, "endpoint", "http://127.0.0.1:9", "mode", mode);
}

static int append_probe(fixture *x, const char *label, const char *bucket, const char *mode,
                        bool proven)
{
    bkp_audit_rec rec = {.op = "media-probe",
                         .medium = "cloud",
                         .failed = !proven,
                         .figures = probe_fig(label, bucket, mode, proven)};
    int rc = bkp_audit_append(x->f.r, &rec);
    json_decref(rec.figures);
    return rc;
}

/* The last probe of the label counts, for the bucket the policy names now;
 * a generation held under GOVERNANCE makes the medium editable. */
static void test_proven(void **state)
{
    fixture *x = *state;
    bkp_gen *g = NULL;
    time_t when = 1;
    assert_int_equal(ops_repo_seal(&x->f, "emr", OPS_DAY, &g), 0);
    assert_int_equal(ops_repo_register(&x->f, "cloud", "object", "offsite", g, 0, true), 0);
    bkp_media_entry *e = bkp_media_get(x->f.r, "cloud");
    assert_non_null(e);
    const char *uuid = e->label.uuid;
    assert_false(ops_object_proven(x->f.r, x->f.p, e, &when));
    assert_int_equal(when, 0);
    time_t before = bkp_now();
    assert_int_equal(append_probe(x, uuid, "hosp-bkp", "compliance", true), 0);
    assert_true(ops_object_proven(x->f.r, x->f.p, e, &when));
    assert_true(when >= before - 1 && when <= bkp_now());
    /* A proof of another bucket (the label copied there) proves nothing. */
    assert_int_equal(append_probe(x, uuid, "elsewhere", "compliance", true), 0);
    assert_false(ops_object_proven(x->f.r, x->f.p, e, &when));
    assert_int_equal(append_probe(x, uuid, "hosp-bkp", "governance", true), 0);
    assert_false(ops_object_proven(x->f.r, x->f.p, e, &when));
    assert_int_equal(append_probe(x, "another-label", "hosp-bkp", "compliance", true), 0);
    assert_false(ops_object_proven(x->f.r, x->f.p, e, &when));
    assert_int_equal(append_probe(x, uuid, "hosp-bkp", "compliance", true), 0);
    assert_true(ops_object_proven(x->f.r, x->f.p, e, &when));
    /* A rotation copied the generation it holds under GOVERNANCE. */
    bkp_audit_rec rot = {.op = "rotate", .medium = "cloud", .figures = NULL};
    rot.figures = json_pack("{s:[s], s:s}", "generations", "emr:1", "mode", "governance");
    assert_int_equal(bkp_audit_append(x->f.r, &rot), 0);
    json_decref(rot.figures);
    assert_false(ops_object_proven(x->f.r, x->f.p, e, &when));
    assert_int_equal(when, 0);
    bkp_media_free(e);
    bkp_gen_free(g);
}

static void make_stale(const char *tmp, const char *name, mode_t mode, long pid)
{
    char dir[256], file[300];
    snprintf(dir, sizeof(dir), "%s/%s", tmp, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(file, sizeof(file), "%s/pid", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "%ld\n", pid);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(dir, mode), 0);
}

static bool exists(const char *tmp, const char *name)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    return lstat(path, &st) == 0;
}

/* A fetch's staging folder holds its pid; the next fetch removes only the
 * folders of ours whose process is gone. */
static void test_staging(void **state)
{
    fixture *x = *state;
    char tmp[128], pidf[300], buf[32] = "";
    snprintf(tmp, sizeof(tmp), "%s/tmp", x->f.top);
    assert_int_equal(mkdir(tmp, 0700), 0);
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    assert_true(dead > 0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    make_stale(tmp, "bkp-fetch-AAAAAA", 0700, (long)dead);
    make_stale(tmp, "bkp-fetch-BBBBBB", 0700, (long)getpid()); /* alive */
    make_stale(tmp, "bkp-fetch-CCCCCC", 0755, (long)dead);     /* not private: not ours */
    make_stale(tmp, "bkp-other-DDDDDD", 0700, (long)dead);     /* another kind */
    make_stale(tmp, "bkp-fetch-EEEEEEE", 0700, (long)dead);    /* not a name of ours */
    setenv("TMPDIR", tmp, 1);
    enum bkp_log_level level = bkp_log_get_level();
    bkp_log_set_level(BKP_LOG_INFO);
    char *dir = ops_object_staging("fetch");
    bkp_log_set_level(level);
    unsetenv("TMPDIR");
    assert_non_null(dir);
    assert_false(exists(tmp, "bkp-fetch-AAAAAA"));
    assert_true(exists(tmp, "bkp-fetch-BBBBBB"));
    assert_true(exists(tmp, "bkp-fetch-CCCCCC"));
    assert_true(exists(tmp, "bkp-other-DDDDDD"));
    assert_true(exists(tmp, "bkp-fetch-EEEEEEE"));
    assert_non_null(strstr(logged, "bkp-fetch-AAAAAA"));
    assert_int_equal(strncmp(dir, tmp, strlen(tmp)), 0);
    struct stat st;
    assert_int_equal(lstat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    snprintf(pidf, sizeof(pidf), "%s/pid", dir);
    FILE *f = fopen(pidf, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_int_equal(strtol(buf, NULL, 10), (long)getpid());
    free(dir);
}

/* A rotation's working folder is emptied of what a killed one left. */
static void test_work_dir(void **state)
{
    fixture *x = *state;
    char old[256];
    snprintf(old, sizeof(old), "%s/cache/bucket-cloud", x->f.repo);
    char *dir = ops_object_work_dir(x->f.r, "cloud");
    assert_non_null(dir);
    assert_string_equal(dir, old);
    free(dir);
    snprintf(old, sizeof(old), "%s/cache/bucket-cloud/left-behind", x->f.repo);
    FILE *f = fopen(old, "w");
    assert_non_null(f);
    fclose(f);
    dir = ops_object_work_dir(x->f.r, "cloud");
    assert_non_null(dir);
    struct stat st;
    assert_int_equal(lstat(old, &st), -1);
    assert_int_equal(lstat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    free(dir);
}

static int last_rotate(const bkp_audit_entry *e, void *ctx)
{
    if (!strcmp(e->op, "rotate")) {
        json_decref(*(json_t **)ctx);
        *(json_t **)ctx = json_incref(e->json);
    }
    return 0;
}

/* No server answers: what is refused before any request can succeed. */
static void test_no_server(void **state)
{
    fixture *x = *state;
    bkp_gen *g = NULL;
    bkp_s3 *s = NULL;
    bkp_label lab = {0};
    bool usage = false;
    int noted = 0;
    assert_int_equal(ops_object_open(x->pm, &s), 0);
    ops_object_in in = {.primary = x->f.r, .policy = x->f.p, .medium = "cloud", .pm = x->pm,
                        .location = "offsite", .s = s};
    ops_rotate_in rin = {.primary = x->f.r, .policy = x->f.p, .medium = "cloud",
                         .type = POL_OBJECT, .pm = x->pm};
    /* A rotation to a medium never labelled: refused, and recorded as failed. */
    ops_rotate_out o;
    assert_int_equal(ops_rotate(&rin, &o), -ENOENT);
    assert_int_equal(o.step, OPS_ROTATE_LABEL);
    assert_true(o.usage);
    assert_non_null(strstr(logged, "not labelled for this repository"));
    assert_int_equal(o.plan.np, 0);
    ops_rotate_out_clear(&o);
    char *log = bkp_audit_path(x->f.r);
    json_t *rec = NULL;
    assert_int_equal(bkp_audit_each(log, last_rotate, &rec), 0);
    free(log);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "medium")), "cloud");
    assert_string_equal(json_string_value(json_object_get(rec, "outcome")), "failed");
    /* Another rotation holds the medium's lock. */
    bkp_lock *lk = NULL;
    assert_int_equal(bkp_lock_take(x->f.repo, "rotate-cloud", "test", &lk), 0);
    assert_int_equal(ops_rotate(&rin, &o), -EBUSY);
    assert_int_equal(o.step, OPS_ROTATE_OPEN);
    ops_rotate_out_clear(&o);
    bkp_lock_release(lk);
    /* The name is registered to another bucket: refused without --force. */
    assert_int_equal(ops_repo_seal(&x->f, "emr", OPS_DAY, &g), 0);
    assert_int_equal(ops_repo_register(&x->f, "cloud", "object", "offsite", g, 0, true), 0);
    bkp_media_entry *e = bkp_media_get(x->f.r, "cloud");
    in.entry = e;
    assert_int_equal(ops_object_label(&in, &lab, &usage), -EEXIST);
    assert_true(usage);
    assert_int_equal(lab.version, 0);
    assert_non_null(strstr(logged, "is registered already"));
    /* A probe that cannot reach the server is no proof, and no usage error. */
    bkp_bucket_probe pr;
    assert_true(ops_object_probe(&in, &pr, &noted, &usage) < 0);
    assert_false(usage);
    json_decref(rec);
    bkp_media_free(e);
    bkp_gen_free(g);
    bkp_s3_close(s);
}

/* A pin ahead of the primary (a rolled-back primary): the rotation is
 * refused before any request reaches the bucket, and recorded as failed. */
static void test_pin_ahead(void **state)
{
    fixture *x = *state;
    bkp_gen *g = NULL;
    bkp_pin *pin = NULL;
    bkp_s3 *s = NULL;
    char media[200];
    assert_int_equal(ops_repo_seal(&x->f, "emr", OPS_DAY, &g), 0);
    assert_int_equal(ops_repo_register(&x->f, "cloud", "object", "offsite", g, 0, true), 0);
    /* The primary's copy of the bucket's pin names a newer generation than
     * the primary holds. */
    assert_int_equal(bkp_pin_make(x->f.r, "cloud", &pin), 0);
    assert_int_equal(pin->nheads, 1);
    pin->heads[0].seq += 5;
    snprintf(media, sizeof(media), "%s/media", x->f.repo);
    assert_int_equal(bkp_pin_write(x->f.r, pin, media, "cloud.pin"), 0);
    bkp_pin_free(pin);
    bkp_media_entry *e = bkp_media_get(x->f.r, "cloud");
    assert_int_equal(ops_object_open(x->pm, &s), 0);
    ops_rotate_in rin = {.primary = x->f.r, .policy = x->f.p, .medium = "cloud",
                         .type = POL_OBJECT, .pm = x->pm, .entry = e};
    ops_rotate_out o;
    assert_int_equal(ops_rotate(&rin, &o), -EPERM);
    assert_int_equal(o.step, OPS_ROTATE_PINS);
    assert_false(o.usage);
    assert_non_null(strstr(logged, "the primary is behind cloud"));
    assert_non_null(strstr(logged, "rotation to cloud refused"));
    /* Not the label's refusal: no request was made. */
    assert_null(strstr(logged, "cannot be read"));
    assert_int_equal(o.plan.np, 0);
    ops_rotate_out_clear(&o);
    char *log = bkp_audit_path(x->f.r);
    json_t *rec = NULL;
    assert_int_equal(bkp_audit_each(log, last_rotate, &rec), 0);
    free(log);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "outcome")), "failed");
    json_decref(rec);
    bkp_media_free(e);
    bkp_gen_free(g);
    bkp_s3_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_until, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doomed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proven, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_work_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_ahead, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
