/*
 * A rotation to a disk (bkp/ops/rotate.h, medium_disk.c) with a real repository and a
 * "disk" that is a folder: a rotation copies the newest clean generation;
 * a second one copies nothing new; the copy is pruned by retention,
 * keeping at least three generations of a data set whatever the policy
 * says; a medium labelled for another repository is refused with nothing
 * written on it; and a copy that lost a pack fails its verify and says so,
 * counting as no write. The label check alone: no disk, the other disk of
 * a pair, a second disk under a registered name, a disk never registered.
 * What a rotation reads: each of the primary's records once (and the one
 * it copies once more, for its bytes), the audit log once for the pins of
 * every medium — counted by the kernel's own notice of each open
 * (inotify), so whatever function opens a file, it counts; a record
 * swapped before its copy is refused; a backup sealed during the rotation
 * is in the pin. The prune before a copy (--prune-first) keeps the packs a
 * copy cut short left ahead of their record.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/capture/capture.h"
#include "bkp/io/durable.h"
#include "bkp/store/generation.h"
#include "bkp/store/seal.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/media/copy.h"
#include "bkp/ops/medium_check.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/rotate.h"
#include "bkp/store/pack.h"
#include "bkp/media/pin.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"

#include "label_util.h"

#include "testutil.h"

static const char PASS[] = "a long enough passphrase";

typedef struct fixture {
    char base[64], src[96], repo[96], usb[96];
    bkp_repo *r;
    pol_policy *p;
} fixture;

/* Errors logged by the code under test, counted (and kept quiet). */
static int errors;
static char last_error[512];
static void count(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)ctx;
    if (level == BKP_LOG_ERROR) {
        errors++;
        snprintf(last_error, sizeof(last_error), "%s", msg);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* One generation of data set emr, its one file saying `text`. */
static void backup(fixture *f, const char *text)
{
    char file[128];
    snprintf(file, sizeof(file), "%s/note.txt", f->src);
    write_file(file, text);
    const char *paths[] = {f->src};
    bkp_capture_opts o = {.dataset = "emr", .paths = paths, .npaths = 1, .workers = 1};
    bkp_capture cap;
    bkp_gen *g = NULL;
    time_t t0 = time(NULL);
    assert_int_equal(bkp_capture_run(f->r, &o, &cap), 0);
    assert_int_equal(bkp_gen_seal(f->r, "emr", &cap, t0, time(NULL), NULL, &g), 0);
    bkp_capture_clear(&cap);
    bkp_gen_free(g);
}

/* Label the folder `dir` as medium usb of `r`; `r` registers it when `reg`. */
static void label(fixture *f, bkp_repo *r, bool reg)
{
    bkp_label l;
    assert_int_equal(ops_label_new(r, "usb", "disk", "offsite", &l), 0);
    assert_int_equal(bkp_label_write(f->usb, &l, false), 0);
    if (reg)
        assert_int_equal(bkp_media_update(r, "usb", ops_put_label, &l), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->base, sizeof(f->base), "/tmp/bkp-test-rotate-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->src, sizeof(f->src), "%s/src", f->base);
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    snprintf(f->usb, sizeof(f->usb), "%s/usb", f->base);
    assert_int_equal(mkdir(f->src, 0755), 0);
    assert_int_equal(mkdir(f->usb, 0755), 0);
    assert_int_equal(bkp_repo_init(f->repo, PASS, strlen(PASS)), 0);
    assert_int_equal(bkp_repo_open(f->repo, PASS, strlen(PASS), 0, &f->r), 0);
    bkp_audit_rec init = {.op = "init"};
    assert_int_equal(bkp_audit_create(f->r, &init), 0);
    char policy[1024];
    int n = snprintf(policy, sizeof(policy),
                     "repository: %s\n"
                     "passphrase_file: /etc/bkp/passphrase\n"
                     "media:\n"
                     "  - { name: usb, type: removable, path: %s, location: offsite, offline: "
                     "true }\n"
                     "datasets:\n"
                     "  - name: emr\n"
                     "    paths: [%s]\n"
                     "    schedule: daily 02:00\n"
                     "    copy_to: [usb]\n"
                     "    retention: { keep_last: 1 }\n",
                     f->repo, f->usb, f->src);
    assert_int_equal(pol_load_buffer("t.yaml", (const uint8_t *)policy, (size_t)n, &f->p), 0);
    errors = 0;
    last_error[0] = '\0';
    bkp_log_set_sink(count, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_log_set_sink(NULL, NULL);
    bkp_repo_free(f->r);
    pol_free(f->p);
    test_rm_rf(f->base);
    free(f);
    return 0;
}

static int rotate_how(fixture *f, bool prune_first, ops_rotate_out *o)
{
    bkp_media_entry *entry = bkp_media_get(f->r, "usb");
    ops_rotate_in in = {.type = POL_DISK,
                        .primary = f->r,
                        .policy = f->p,
                        .medium = "usb",
                        .path = f->usb,
                        .entry = entry,
                        .workers = 1,
                        .prune_first = prune_first};
    int rc = ops_rotate(&in, o);
    bkp_media_free(entry);
    return rc;
}

static int rotate(fixture *f, ops_rotate_out *o)
{
    return rotate_how(f, false, o);
}

/* "emr:1 emr:2" from a held list. */
static const char *held_names(const ops_held *held, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < held->n; i++) {
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s:%u", i ? " " : "", held->v[i].dataset, held->v[i].seq);
    }
    return out;
}

/* The same from a registry entry's list. */
static const char *registry_names(const bkp_media_entry *e, char *out, size_t n)
{
    ops_held h = {.v = e->held, .n = e->n_held};
    return held_names(&h, out, n);
}

static void test_copies_newest_then_nothing_new(void **state)
{
    fixture *f = *state;
    ops_rotate_out o;
    char s[128];
    backup(f, "monday");
    backup(f, "tuesday");
    label(f, f->r, true);
    assert_int_equal(rotate(f, &o), 0);
    assert_int_equal(o.step, OPS_ROTATE_DONE);
    assert_int_equal(o.plan.np, 1);
    assert_string_equal(o.plan.rows[0].name, "emr:2");
    assert_true(o.copy.packs > 0);
    assert_true(o.copy.records > 0);
    assert_true(o.copied_all && o.wrote && o.verified);
    assert_int_equal(o.verify_rc, 0);
    assert_string_equal(held_names(&o.held, s, sizeof(s)), "emr:2");
    assert_true(o.kit_written);
    assert_int_equal(strlen(o.kit.sums), 64);
    ops_rotate_out_clear(&o);

    /* The disk already holds it: nothing is copied again. */
    assert_int_equal(rotate(f, &o), 0);
    assert_string_equal(o.plan.rows[0].name, "emr:2");
    assert_int_equal(o.copy.packs, 0);
    assert_int_equal(o.copy.records, 0);
    assert_true(o.wrote);
    ops_rotate_out_clear(&o);

    /* The registry says it was written and what it holds. */
    bkp_media_entry *e = bkp_media_get(f->r, "usb");
    assert_true(e->last_write > 0);
    assert_true(e->verify == BKP_MEDIA_VERIFIED);
    assert_string_equal(registry_names(e, s, sizeof(s)), "emr:2");
    bkp_media_free(e);
    assert_int_equal(errors, 0);
}

static void test_pruned_keeping_three(void **state)
{
    fixture *f = *state;
    ops_rotate_out o;
    char s[128], day[16];
    label(f, f->r, true);
    for (int i = 1; i <= 4; i++) {
        snprintf(day, sizeof(day), "day %d", i);
        backup(f, day);
        assert_int_equal(rotate(f, &o), 0);
        assert_int_equal(o.prune_rc, 0);
        if (i < 4)
            ops_rotate_out_clear(&o);
    }
    /* keep_last: 1, but a medium keeps three: the oldest went. */
    assert_string_equal(held_names(&o.held, s, sizeof(s)), "emr:2 emr:3 emr:4");
    assert_int_equal(o.prune.res.generations, 1);
    assert_int_equal(o.prune.nrows, 4);
    assert_int_equal(o.prune.rows[0].keep, 0);
    assert_string_equal(o.prune.rows[0].name, "emr:1");
    ops_rotate_out_clear(&o);
    assert_int_equal(errors, 0);
}

/* Packs copied one by one, as a copy cut short leaves them. */
typedef struct ahead_ctx {
    bkp_repo *src, *dst;
    int rc;
} ahead_ctx;

static void copy_one(const bkp_index_entry *e, void *ctx)
{
    ahead_ctx *a = ctx;
    uint64_t bytes = 0;
    if (!a->rc)
        a->rc = bkp_copy_pack(a->src, a->dst, e->id, false, &bytes);
}

/* A copy cut short (the disk full) left packs of emr:4 on the disk ahead of
 * its record; the prune before the next copy (--prune-first) keeps them:
 * they are not deleted only to be copied again into the same full disk. */
static void test_prune_first_keeps_packs_copied_ahead(void **state)
{
    fixture *f = *state;
    ops_rotate_out o;
    char s[128], day[16];
    label(f, f->r, true);
    for (int i = 1; i <= 3; i++) {
        snprintf(day, sizeof(day), "day %d", i);
        backup(f, day);
        assert_int_equal(rotate(f, &o), 0);
        ops_rotate_out_clear(&o);
    }
    backup(f, "day 4, with more to say than the days before");
    bkp_gen **v = NULL;
    size_t n = 0;
    assert_int_equal(bkp_gen_list(f->r, "emr", &v, &n), 0);
    assert_int_equal(n, 4);
    char copy[128];
    snprintf(copy, sizeof(copy), "%s/repo", f->usb);
    bkp_repo *dst = NULL;
    bkp_index *packs = NULL;
    assert_int_equal(bkp_repo_open_copy(copy, f->r, 0, &dst), 0);
    assert_int_equal(bkp_index_new(&packs), 0);
    assert_int_equal(bkp_copy_needed_packs(f->r, dst, v[3], packs), 0);
    assert_true(bkp_index_count(packs) > 0);
    ahead_ctx a = {f->r, dst, 0};
    assert_int_equal(bkp_index_foreach(packs, copy_one, &a), 0);
    assert_int_equal(a.rc, 0);
    assert_int_equal(bkp_repo_flush(dst), 0);
    bkp_index_free(packs);
    bkp_repo_free(dst);
    bkp_gen_list_free(v, n);

    assert_int_equal(rotate_how(f, true, &o), 0);
    assert_true(o.pruned_first);
    assert_int_equal(o.prune.res.generations, 1); /* emr:1, as retention lets it go */
    assert_int_equal(o.copy.packs, 0);            /* none copied again */
    assert_string_equal(held_names(&o.held, s, sizeof(s)), "emr:2 emr:3 emr:4");
    assert_true(o.verified);
    ops_rotate_out_clear(&o);
    assert_int_equal(errors, 0);
}

static void test_foreign_label_refused(void **state)
{
    fixture *f = *state;
    char other[128], repo[128];
    bkp_repo *r2 = NULL;
    ops_rotate_out o;
    struct stat st;
    snprintf(other, sizeof(other), "%s/other", f->base);
    assert_int_equal(bkp_repo_init(other, PASS, strlen(PASS)), 0);
    assert_int_equal(bkp_repo_open(other, PASS, strlen(PASS), 0, &r2), 0);
    label(f, r2, false);
    bkp_repo_free(r2);
    backup(f, "monday");
    assert_int_equal(rotate(f, &o), -EXDEV);
    assert_int_equal(o.step, OPS_ROTATE_LABEL);
    assert_false(o.wrote);
    assert_int_equal(o.plan.np, 0);
    ops_rotate_out_clear(&o);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(last_error, "of another repository"));
    /* Nothing was written on it, and nothing registered. */
    snprintf(repo, sizeof(repo), "%s/repo", f->usb);
    assert_int_equal(stat(repo, &st), -1);
    snprintf(repo, sizeof(repo), "%s/bkp-recovery", f->usb);
    assert_int_equal(stat(repo, &st), -1);
    assert_null(bkp_media_get(f->r, "usb"));
}

/* Write a label named `name` of `f->r` at the medium's folder (replacing
 * one there); registered under that name when `reg`. */
static void label_as(fixture *f, const char *name, bool reg)
{
    bkp_label l;
    assert_int_equal(ops_label_new(f->r, name, "disk", "offsite", &l), 0);
    assert_int_equal(bkp_label_write(f->usb, &l, true), 0);
    if (reg)
        assert_int_equal(bkp_media_update(f->r, name, ops_put_label, &l), 0);
}

static int check(fixture *f)
{
    bkp_media_entry *entry = bkp_media_get(f->r, "usb");
    int rc = ops_label_check(f->r, f->p, "usb", f->usb, entry);
    bkp_media_free(entry);
    return rc;
}

static void test_label_check(void **state)
{
    fixture *f = *state;
    assert_int_equal(check(f), -ENOENT);
    assert_non_null(strstr(last_error, "no medium is at"));
    label_as(f, "nas", true);
    assert_int_equal(check(f), -EMEDIUMTYPE);
    assert_non_null(strstr(last_error, "is nas, not usb: refused"));
    label_as(f, "usb", false);
    assert_int_equal(check(f), -ENXIO);
    label_as(f, "usb", true);
    assert_int_equal(check(f), 0);
    label_as(f, "usb", false); /* another disk under the same name */
    assert_int_equal(check(f), -EMEDIUMTYPE);
    assert_non_null(strstr(last_error, "a second disk with the same name?"));
    assert_int_equal(errors, 4);
}

static int put_entry(bkp_media_entry *e, void *ctx)
{
    const bkp_media_entry *from = ctx;
    e->last_write = from->last_write;
    return 0;
}

static int written_ten_days_ago(bkp_media_entry *e, void *ctx)
{
    int rc = ops_put_label(e, ctx);
    e->last_write = time(NULL) - 10 * 86400;
    return rc;
}

/* The wrong disk plugged in three days after the right one was due: the
 * refusal says how late, as `bkp status` does, not "due now"; the disk due
 * next is one a person brings, never the on-line share (never written). */
static void test_other_disk_names_days_overdue(void **state)
{
    fixture *f = *state;
    char policy[1024];
    int n =
        snprintf(policy, sizeof(policy),
                 "repository: %s\n"
                 "passphrase_file: /etc/bkp/passphrase\n"
                 "media:\n"
                 "  - { name: usb, type: removable, path: %s, location: offsite, offline: "
                 "true, rotate_every: 7d }\n"
                 "  - { name: share, type: disk, path: /nonexistent, rotate_every: 1d }\n"
                 "datasets:\n"
                 "  - { name: emr, paths: [%s], schedule: daily 02:00, copy_to: [usb, share] }\n",
                 f->repo, f->usb, f->src);
    pol_free(f->p);
    assert_int_equal(pol_load_buffer("t.yaml", (const uint8_t *)policy, (size_t)n, &f->p), 0);
    bkp_label l;
    assert_int_equal(ops_label_new(f->r, "usb", "disk", "offsite", &l), 0);
    assert_int_equal(bkp_media_update(f->r, "usb", written_ten_days_ago, &l), 0);
    label_as(f, "nas", true);
    assert_int_equal(check(f), -EMEDIUMTYPE);
    assert_non_null(strstr(last_error, "is nas, not usb: refused"));
    assert_non_null(strstr(last_error, "The medium due next is usb (3 days overdue)."));
    assert_null(strstr(last_error, "due now"));
    /* Never written: said so, not "20000 days overdue". */
    bkp_media_entry *e = bkp_media_get(f->r, "usb");
    assert_non_null(e);
    e->last_write = 0;
    assert_int_equal(bkp_media_update(f->r, "usb", put_entry, e), 0);
    bkp_media_free(e);
    assert_int_equal(check(f), -EMEDIUMTYPE);
    assert_non_null(strstr(last_error, "The medium due next is usb (never written yet)."));
}

/* The first pack file under `dir`, into `out`. */
static bool first_pack(const char *dir, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "find %s -type f -name '[0-9a-f]*' | sort | head -n 1", dir);
    FILE *p = popen(cmd, "r");
    bool ok = p && fgets(out, (int)n, p);
    if (p)
        pclose(p);
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    return ok && *out;
}

static void test_damaged_copy_fails_verify(void **state)
{
    fixture *f = *state;
    ops_rotate_out o;
    char packs[128], pack[256];
    label(f, f->r, true);
    backup(f, "monday");
    assert_int_equal(rotate(f, &o), 0);
    ops_rotate_out_clear(&o);
    /* The disk loses a pack (sealed: read-only, immutable where it could be). */
    snprintf(packs, sizeof(packs), "%s/repo/packs", f->usb);
    assert_true(first_pack(packs, pack, sizeof(pack)));
    (void)bkp_immutable(pack, false);
    assert_int_equal(unlink(pack), 0);
    backup(f, "tuesday");
    assert_int_equal(rotate(f, &o), -EBADMSG);
    assert_int_equal(o.step, OPS_ROTATE_VERIFY);
    assert_true(o.verified);
    assert_true(o.verify_problems > 0);
    assert_false(o.wrote);
    assert_false(o.kit_written);
    ops_rotate_out_clear(&o);
    assert_non_null(strstr(last_error, "the copy does not verify"));
    bkp_media_entry *e = bkp_media_get(f->r, "usb");
    assert_true(e->verify == BKP_MEDIA_FAILED);
    bkp_media_free(e);
}

/* Opens of the primary's files, as the kernel reports them. */
typedef struct opens {
    int fd;
    unsigned records; /* record, tombstone or clearance files of emr opened */
    unsigned log;     /* the audit log opened to read only (appends are not counted) */
    unsigned label;   /* the disk's own label (usb/BKP-LABEL) opened */
    int usb_wd;
} opens;

static void opens_start(fixture *f, opens *o)
{
    char dir[160];
    memset(o, 0, sizeof(*o));
    o->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(o->fd >= 0);
    snprintf(dir, sizeof(dir), "%s/generations/emr", f->repo);
    assert_true(inotify_add_watch(o->fd, dir, IN_OPEN) >= 0);
    snprintf(dir, sizeof(dir), "%s/audit", f->repo);
    assert_true(inotify_add_watch(o->fd, dir, IN_CLOSE_NOWRITE) >= 0);
    o->usb_wd = inotify_add_watch(o->fd, f->usb, IN_OPEN);
    assert_true(o->usb_wd >= 0);
}

static bool ends_with(const char *s, const char *end)
{
    size_t l = strlen(s), e = strlen(end);
    return l >= e && !strcmp(s + l - e, end);
}

/* Count what was reported since opens_start, and stop. */
static void opens_stop(opens *o)
{
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t len;
    while ((len = read(o->fd, buf, sizeof(buf))) > 0)
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            const char *name = ev->len ? ev->name : "";
            if ((ev->mask & IN_OPEN) && (ends_with(name, ".gen") || ends_with(name, ".pruned") ||
                                         ends_with(name, ".cleared")))
                o->records++;
            if ((ev->mask & IN_CLOSE_NOWRITE) && !strcmp(name, "log.jsonl"))
                o->log++;
            if (ev->wd == o->usb_wd && (ev->mask & IN_OPEN) && !strcmp(name, "BKP-LABEL"))
                o->label++;
            p += sizeof(*ev) + ev->len;
        }
    assert_int_equal(close(o->fd), 0);
}

static void test_reads_once(void **state)
{
    fixture *f = *state;
    ops_rotate_out o;
    opens c;
    char usb2[128];
    ops_pin_findings found = {0};
    label(f, f->r, true);
    backup(f, "monday");
    backup(f, "tuesday");
    assert_int_equal(rotate(f, &o), 0); /* usb takes its pin */
    ops_rotate_out_clear(&o);
    /* A second medium, away, pinned too (the primary's copy of its pin). */
    snprintf(usb2, sizeof(usb2), "%s/usb2", f->base);
    assert_int_equal(mkdir(usb2, 0755), 0);
    bkp_label l;
    assert_int_equal(ops_label_new(f->r, "usb2", "disk", "onsite", &l), 0);
    assert_int_equal(bkp_media_update(f->r, "usb2", ops_put_label, &l), 0);
    assert_int_equal(ops_pins_write(f->r, "usb2", usb2), 0);
    backup(f, "wednesday");

    /* Both pins against the primary: the log is read once for the two. */
    opens_start(f, &c);
    assert_int_equal(ops_pins_check(f->r, f->p, NULL, NULL, &found), 0);
    opens_stop(&c);
    ops_pin_findings_clear(&found);
    assert_int_equal(c.log, 1);
    assert_int_equal(c.records, 3);

    /* The rotation: each of the three records once, and emr:3, which it
     * copies, once more for its bytes (it was five readings of each); the
     * log once for both pins, once for the check of the log against the
     * records, once for its copy on the disk (the bytes checked are the
     * bytes copied; it was three), once for the new pin. The disk's label:
     * once when the rotation checks the disk, once for the copy's handle,
     * which keeps it (it was read again for every record and tombstone). */
    opens_start(f, &c);
    assert_int_equal(rotate(f, &o), 0);
    opens_stop(&c);
    assert_string_equal(o.plan.rows[0].name, "emr:3");
    assert_int_equal(o.copy.records, 1);
    ops_rotate_out_clear(&o);
    assert_int_equal(c.records, 3 + 1);
    assert_int_equal(c.log, 4);
    assert_int_equal(c.label, 2);
    assert_int_equal(errors, 0);
}

/* The kit is asked for after the copy verified and before the pins: a
 * backup that seals a record there runs beside the rotation, as a backup
 * may (writers do not exclude one another). */
static int backup_meanwhile(void *ctx, const bkp_kit_doc **docs, size_t *n, void **held)
{
    backup(ctx, "meanwhile");
    *docs = NULL;
    *n = 0;
    *held = NULL;
    return 0;
}

/* The pin names the primary's heads when it is written, not those of the
 * list the rotation read at its start. */
static void test_pin_sees_backup_meanwhile(void **state)
{
    fixture *f = *state;
    ops_rotate_out o;
    bkp_pin *pin = NULL;
    char path[160];
    label(f, f->r, true);
    backup(f, "monday");
    bkp_media_entry *entry = bkp_media_get(f->r, "usb");
    ops_rotate_in in = {.type = POL_DISK,
                        .primary = f->r,
                        .policy = f->p,
                        .medium = "usb",
                        .path = f->usb,
                        .entry = entry,
                        .workers = 1,
                        .kit = {backup_meanwhile, NULL, f}};
    assert_int_equal(ops_rotate(&in, &o), 0);
    bkp_media_free(entry);
    assert_string_equal(o.plan.rows[0].name, "emr:1");
    ops_rotate_out_clear(&o);
    snprintf(path, sizeof(path), "%s/%s", f->usb, BKP_PIN_FILE);
    assert_int_equal(bkp_pin_read(f->r, path, &pin), 0);
    assert_int_equal(pin->nheads, 1);
    assert_int_equal(pin->heads[0].seq, 2);
    bkp_pin_free(pin);
}

/* A record replaced after the rotation judged it is not copied: the bytes
 * copied must be those that were checked. */
static void test_record_changed_refused(void **state)
{
    fixture *f = *state;
    ops_rotate_out o;
    bkp_gen **v = NULL, *pick[1];
    size_t n = 0;
    char rec[192], rec2[192];
    label(f, f->r, true);
    backup(f, "monday");
    backup(f, "tuesday");
    assert_int_equal(bkp_gen_list(f->r, NULL, &v, &n), 0);
    assert_int_equal(n, 2);
    /* emr:2's file now holds emr:1's bytes (a swap after the listing). */
    snprintf(rec, sizeof(rec), "%s", v[1]->file);
    snprintf(rec2, sizeof(rec2), "%s.saved", v[1]->file);
    assert_int_equal(rename(rec, rec2), 0);
    assert_int_equal(link(v[0]->file, rec), 0);
    bkp_repo *dst = NULL;
    char copy[128];
    snprintf(copy, sizeof(copy), "%s/repo", f->usb);
    assert_int_equal(bkp_repo_init_copy(f->r, copy), 0);
    assert_int_equal(bkp_repo_open_copy(copy, f->r, 0, &dst), 0);
    pick[0] = v[1];
    memset(&o, 0, sizeof(o));
    assert_int_equal(bkp_copy_generations_of(f->r, v, n, dst, pick, 1, &o.copy), -EBADMSG);
    assert_non_null(strstr(last_error, "changed on the primary while it was being copied"));
    bkp_repo_free(dst);
    bkp_gen_list_free(v, n);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copies_newest_then_nothing_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pruned_keeping_three, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_label_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_disk_names_days_overdue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_copy_fails_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_changed_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_sees_backup_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_first_keeps_packs_copied_ahead, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
