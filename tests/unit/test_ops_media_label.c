/*
 * `bkp media label` as library functions (bkp/ops/media_label.h), with a
 * real repository and "disks" that are folders: a bare folder may take a
 * label; a labelled one, or a name registered for another disk, only when
 * forced; a device only as an archive medium. The copy on a disk is made,
 * then found again; the registry takes the label (a new disk under an old
 * name starts a new history) and forgets the disk's former name.
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
#include "bkp/media/archive.h"
#include "bkp/ops/media_label.h"

#include "ops_repo.h"

static int errors;
static void count(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)msg, (void)ctx;
    errors += level == BKP_LOG_ERROR;
}

static const char policy_text[] = OPS_POLICY_HEAD
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00 }\n";

static int setup(void **state)
{
    errors = 0;
    bkp_log_set_sink(count, NULL);
    return ops_repo_setup(state, "ops-media-label", policy_text);
}

static int teardown(void **state)
{
    bkp_log_set_sink(NULL, NULL);
    return ops_repo_teardown(state);
}

/* A folder TOP/name, as a disk's mount point, into `dir`. */
static void disk(ops_repo *f, const char *name, char *dir, size_t n)
{
    snprintf(dir, n, "%s/%s", f->top, name);
    assert_int_equal(mkdir(dir, 0700), 0);
}

static bkp_label mk(const ops_repo *f, const char *name, const char *type, const char *loc)
{
    bkp_label l;
    assert_int_equal(ops_label_new(f->r, name, type, loc, &l), 0);
    return l;
}

static void test_may(void **state)
{
    ops_repo *f = *state;
    char dir[160];
    bool device = true;
    bkp_label old;
    disk(f, "usb-a", dir, sizeof(dir));
    assert_int_equal(ops_label_may(dir, "usb-a", "removable", NULL, false, &device, &old), 0);
    assert_false(device);
    assert_int_equal(old.version, 0);
    bkp_label lab = mk(f, "usb-a", "removable", "offsite");
    assert_int_equal(bkp_label_write(dir, &lab, false), 0);
    /* Labelled already: only with --force, and what is there is said. */
    assert_int_equal(ops_label_may(dir, "usb-a", "removable", NULL, false, &device, &old), -EPERM);
    assert_int_equal(ops_label_may(dir, "usb-a", "removable", NULL, true, &device, &old), 0);
    assert_true(bkp_label_same(&old, &lab));
    /* The name is registered for another disk. */
    bkp_media_entry entry = {.label = mk(f, "usb-a", "removable", "offsite")};
    char bare[160];
    disk(f, "bare", bare, sizeof(bare));
    assert_int_equal(ops_label_may(bare, "usb-a", "removable", &entry, false, &device, &old),
                     -EPERM);
    assert_int_equal(ops_label_may(bare, "usb-a", "removable", &entry, true, &device, &old), 0);
    /* ... but the same disk under its registered label may. */
    entry.label = lab;
    assert_int_equal(ops_label_may(dir, "usb-a", "removable", &entry, false, &device, &old),
                     -EPERM); /* labelled: still --force */
    /* A device: an archive medium only, and only a tape drive or a disk
     * device no one uses: /dev/null keeps nothing written to it. */
    assert_int_equal(ops_label_may("/dev/null", "tape", "disk", NULL, false, &device, &old),
                     -EPERM);
    assert_true(device);
    assert_int_equal(ops_label_may("/dev/null", "tape", "archive", NULL, false, &device, &old),
                     -EPERM);
    assert_true(device);
    assert_int_equal(old.version, 0);
    assert_int_equal(bkp_archive_device_open("/dev/null", NULL), -ENOTTY);
    assert_int_equal(bkp_archive_device_open(dir, NULL), -ENODEV); /* a folder */
    assert_int_equal(errors, 5);
}

static void test_copy(void **state)
{
    ops_repo *f = *state;
    char dir[160], cfg[200];
    disk(f, "nas", dir, sizeof(dir));
    assert_int_equal(ops_label_copy(f->r, dir), 0);
    snprintf(cfg, sizeof(cfg), "%s/repo/config", dir);
    assert_int_equal(access(cfg, F_OK), 0);
    assert_int_equal(ops_label_copy(f->r, dir), 0); /* found again, of this repository */
}

static int add_held(bkp_media_entry *e, void *ctx)
{
    (void)ctx;
    return bkp_media_entry_set_held(e, NULL, 0);
}

static void test_register_and_forget(void **state)
{
    ops_repo *f = *state;
    char dir[160];
    bkp_gen *g = NULL;
    disk(f, "usb-a", dir, sizeof(dir));
    assert_int_equal(ops_repo_seal(f, "emr", OPS_DAY, &g), 0);
    assert_int_equal(ops_repo_register(f, "nas", "disk", "onsite", g, OPS_DAY, true), 0);
    bkp_gen_free(g);
    bkp_media_entry *was = bkp_media_get(f->r, "nas");
    assert_non_null(was);
    bkp_label old = was->label, lab;
    bkp_media_free(was);
    /* The same disk labelled usb-a: nas is forgotten. */
    assert_int_equal(bkp_label_renew(f->r, &old, "usb-a", "removable", "offsite", &lab), 0);
    assert_int_equal(ops_label_register(f->r, "usb-a", dir, &lab), 0);
    ops_label_forget_old(f->r, "usb-a", dir, &old);
    assert_null(bkp_media_get(f->r, "nas"));
    /* Not registered is told apart from a damaged entry. */
    bkp_media_entry gone;
    assert_int_equal(bkp_media_read(f->r, "nas", &gone), -ENOENT);
    char entry[256];
    snprintf(entry, sizeof(entry), "%s/media/bad.json", f->repo);
    FILE *fp = fopen(entry, "w");
    assert_non_null(fp);
    assert_int_equal(fputs("{\"label\": 1}\n", fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(bkp_media_read(f->r, "bad", &gone), -EBADMSG);
    assert_null(bkp_media_get(f->r, "bad"));
    bkp_media_entry *e = bkp_media_get(f->r, "usb-a");
    assert_non_null(e);
    assert_string_equal(e->path, dir);
    assert_true(e->labelled > 0);
    bkp_media_free(e);
    /* A new disk under the name usb-a: its history starts again. */
    bkp_label fresh = mk(f, "usb-a", "removable", "offsite");
    assert_int_equal(bkp_media_update(f->r, "usb-a", add_held, NULL), 0);
    e = bkp_media_get(f->r, "usb-a");
    assert_true(e->held_known);
    bkp_media_free(e);
    assert_int_equal(ops_label_register(f->r, "usb-a", dir, &fresh), 0);
    e = bkp_media_get(f->r, "usb-a");
    assert_false(e->held_known);
    assert_string_equal(e->label.uuid, fresh.uuid);
    bkp_media_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_may, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_and_forget, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
