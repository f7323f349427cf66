/*
 * A rotation to an archive medium (bkp/ops/rotate.h, medium_archive.c) with a real
 * repository and a folder for the medium: a rotation writes
 * DATASET@SEQ.tar, read-only, that ops_archive_check verifies, and records
 * it (audit log, pin, registry); a second rotation writes nothing; a byte
 * flipped in an archive is found by the check and by the medium's verify;
 * what a killed rotation left (a temporary file of a dead writer) is never
 * taken for an archive and is removed, a live writer's is left alone; a
 * name already there is never rewritten, not even when its archive is
 * damaged; a folder labelled as another medium is refused with nothing
 * written; an archive read back whose rotation could not be recorded in the
 * audit log is not stamped as verified in the registry.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/durable.h"
#include "bkp/io/log.h"
#include "bkp/ops/archive_check.h"
#include "bkp/ops/rotate.h"

#include "ops_repo.h"
#include "audit_json.h"

static const char policy_text[] =
    "repository: %1$s/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "media:\n"
    "  - { name: tape, type: archive, path: %1$s/tape, location: offsite, offline: true }\n"
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00, copy_to: [tape] }\n";

typedef struct fixture {
    ops_repo f;
    char tape[160], tmp[160], a1[192];
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

/* Label the folder as medium `name` (replacing a label there), registered. */
static void label_as(fixture *x, const char *name)
{
    bkp_label l;
    assert_int_equal(ops_label_new(x->f.r, name, "archive", "offsite", &l), 0);
    assert_int_equal(bkp_label_write(x->tape, &l, true), 0);
    assert_int_equal(bkp_media_update(x->f.r, name, ops_put_label, &l), 0);
}

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof(*x));
    if (!x || ops_repo_new(&x->f, "rotate-archive", policy_text))
        return -1;
    snprintf(x->tape, sizeof(x->tape), "%s/tape", x->f.top);
    snprintf(x->tmp, sizeof(x->tmp), "%s/tmp", x->f.top);
    snprintf(x->a1, sizeof(x->a1), "%s/emr@0000000001.tar", x->tape);
    if (mkdir(x->tape, 0700) || mkdir(x->tmp, 0700))
        return -1;
    label_as(x, "tape");
    errors = 0;
    last_error[0] = '\0';
    bkp_log_set_sink(count, NULL);
    *state = x;
    return 0;
}

/* Archives are sealed: the immutable attribute goes before they can. */
static int teardown(void **state)
{
    fixture *x = *state;
    char **names = NULL;
    size_t n = 0;
    bkp_log_set_sink(NULL, NULL);
    if (!ops_archive_list(x->tape, &names, &n))
        for (size_t i = 0; i < n; i++) {
            char *p = bkp_path_join(x->tape, names[i]);
            (void)bkp_immutable(p, false);
            free(p);
        }
    bkp_strv_free(names, n);
    ops_repo_free(&x->f);
    free(x);
    return 0;
}

static int rotate(fixture *x, ops_rotate_out *o)
{
    bkp_media_entry *entry = bkp_media_get(x->f.r, "tape");
    ops_rotate_in in = {.type = POL_ARCHIVE,
                        .primary = x->f.r,
                        .policy = x->f.p,
                        .medium = "tape",
                        .path = x->tape,
                        .entry = entry,
                        .tmpdir = x->tmp,
                        .workers = 1};
    int rc = ops_rotate(&in, o);
    bkp_media_free(entry);
    return rc;
}

/* The names in folder `dir`, dot files included, sorted, space-separated. */
static const char *listing(const char *dir, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls -A %s | sort | tr '\\n' ' '", dir);
    FILE *p = popen(cmd, "r");
    out[0] = '\0';
    if (p && !fgets(out, (int)n, p))
        out[0] = '\0';
    if (p)
        pclose(p);
    return out;
}

/* The archive names ops_archive_list finds in the medium, space-separated. */
static const char *archives(fixture *x, char *out, size_t n)
{
    char **names = NULL;
    size_t k = 0;
    out[0] = '\0';
    assert_int_equal(ops_archive_list(x->tape, &names, &k), 0);
    for (size_t i = 0; i < k; i++) {
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", i ? " " : "", names[i]);
    }
    bkp_strv_free(names, k);
    return out;
}

static void test_writes_then_nothing_new(void **state)
{
    fixture *x = *state;
    ops_rotate_out o;
    bkp_gen *g = NULL;
    struct stat st, st2;
    char s[512];
    assert_int_equal(ops_repo_seal(&x->f, "emr", 0, &g), 0);
    assert_int_equal(rotate(x, &o), 0);
    assert_int_equal(o.step, OPS_ROTATE_DONE);
    assert_false(o.device);
    assert_int_equal(o.added.n, 1);
    assert_string_equal(o.added.v[0].dataset, "emr");
    assert_int_equal(o.added.v[0].seq, 1);
    assert_string_equal(o.added.v[0].uuid, g->uuid);
    assert_int_equal(o.present, 0);
    /* One archive, its size the one said, sealed read-only. */
    assert_string_equal(archives(x, s, sizeof(s)), "emr@0000000001.tar");
    assert_int_equal(stat(x->a1, &st), 0);
    assert_int_equal((uint64_t)st.st_size, o.copy.bytes);
    assert_int_equal(st.st_mode & 0777, 0444);
    assert_true(o.kit_written);
    assert_int_equal(strlen(o.kit.sums), 64);
    ops_rotate_out_clear(&o);

    /* It reads back whole, and its staging folder goes. */
    bkp_verify_result sum = {0};
    assert_int_equal(ops_archive_check(x->f.r, x->a1, x->tmp, 1, &sum), 0);
    assert_true(sum.blobs_read > 0 && sum.packs_read > 0);
    assert_string_equal(listing(x->tmp, s, sizeof(s)), "");
    assert_int_equal(ops_archive_verify(x->f.r, "tape", x->tape, x->tmp, 1, &sum), 0);
    assert_int_equal(sum.generations, 1);
    assert_int_equal(sum.problems, 0);

    /* Recorded: the audit log, the pin, the registry. */
    char *log = bkp_audit_path(x->f.r);
    json_t *rec =
        audit_last_json(log, bkp_repo_sign_pk(x->f.r), &(bkp_audit_query){.op = "rotate"});
    assert_string_equal(json_string_value(json_object_get(rec, "medium")), "tape");
    assert_string_equal(json_string_value(json_object_get(rec, "outcome")), "ok");
    json_t *fig = json_object_get(rec, "figures");
    assert_string_equal(json_string_value(json_array_get(json_object_get(fig, "generations"), 0)),
                        "emr:1");
    assert_int_equal(strlen(json_string_value(json_object_get(fig, "kit_sha256"))), 64);
    json_decref(rec);
    assert_string_equal(listing(x->tape, s, sizeof(s)),
                        "BKP-LABEL BKP-PIN bkp-recovery emr@0000000001.tar ");
    bkp_media_entry *e = bkp_media_get(x->f.r, "tape");
    assert_true(e->last_write > 0);
    assert_true(e->verify == BKP_MEDIA_VERIFIED);
    assert_int_equal(e->n_held, 1);
    bkp_media_free(e);

    /* A second rotation: the archive is there, nothing is written. */
    assert_int_equal(rotate(x, &o), 0);
    assert_int_equal(o.added.n, 0);
    assert_int_equal(o.present, 1);
    assert_int_equal(o.copy.bytes, 0);
    ops_rotate_out_clear(&o);
    assert_int_equal(stat(x->a1, &st2), 0);
    assert_true(st2.st_ino == st.st_ino && st2.st_mtime == st.st_mtime);
    assert_string_equal(archives(x, s, sizeof(s)), "emr@0000000001.tar");
    e = bkp_media_get(x->f.r, "tape");
    assert_int_equal(e->n_held, 1);
    bkp_media_free(e);
    rec = audit_last_json(log, bkp_repo_sign_pk(x->f.r), &(bkp_audit_query){.op = "rotate"});
    fig = json_object_get(rec, "figures");
    assert_int_equal(json_array_size(json_object_get(fig, "generations")), 0);
    json_decref(rec);
    free(log);
    bkp_gen_free(g);
    assert_string_equal(listing(x->tmp, s, sizeof(s)), "");
    assert_int_equal(errors, 0);
}

/* Where the data of the first member under "/packs/" lies in the tar file
 * `path` (its 512-byte headers walked): its offset and size. */
static void first_pack(const char *path, off_t *at, size_t *len)
{
    char h[512];
    off_t off = 0;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    for (;;) {
        assert_int_equal(pread(fd, h, sizeof(h), off), (ssize_t)sizeof(h));
        assert_true(h[0] != '\0'); /* the end of the archive: no pack in it */
        size_t size = (size_t)strtoull(h + 124, NULL, 8);
        off += 512;
        if (h[156] == '0' && strstr(h, "/packs/") && size) {
            *at = off;
            *len = size;
            break;
        }
        off += (off_t)((size + 511) / 512 * 512);
    }
    close(fd);
}

/* Invert the middle byte of the first pack in archive `path`. */
static void flip_pack_byte(const char *path)
{
    off_t at;
    size_t len;
    unsigned char b;
    first_pack(path, &at, &len);
    (void)bkp_immutable(path, false);
    assert_int_equal(chmod(path, 0644), 0);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    at += (off_t)(len / 2);
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    assert_int_equal(close(fd), 0);
}

static void test_flipped_byte_found_never_rewritten(void **state)
{
    fixture *x = *state;
    ops_rotate_out o;
    bkp_verify_result sum = {0};
    char s[256];
    struct stat st, st2;
    assert_int_equal(ops_repo_seal(&x->f, "emr", 0, NULL), 0);
    assert_int_equal(rotate(x, &o), 0);
    ops_rotate_out_clear(&o);
    flip_pack_byte(x->a1);
    assert_int_equal(stat(x->a1, &st), 0);

    assert_int_equal(ops_archive_check(x->f.r, x->a1, x->tmp, 1, &sum), -EBADMSG);
    assert_non_null(strstr(last_error, "does not verify when read back"));
    assert_string_equal(listing(x->tmp, s, sizeof(s)), "");
    errors = 0;
    assert_int_equal(ops_archive_verify(x->f.r, "tape", x->tape, x->tmp, 1, &sum), 0);
    assert_int_equal(sum.generations, 1);
    assert_int_equal(sum.problems, 1);
    assert_string_equal(last_error, "tape: the archive emr@0000000001.tar does not verify");
    assert_true(errors >= 2);

    /* The name is there: a rotation leaves it as it is, damaged or not (a
     * write-once medium is never written twice; verify says what to do). */
    errors = 0;
    assert_int_equal(rotate(x, &o), 0);
    assert_int_equal(o.present, 1);
    assert_int_equal(o.added.n, 0);
    ops_rotate_out_clear(&o);
    assert_int_equal(stat(x->a1, &st2), 0);
    assert_true(st2.st_ino == st.st_ino && st2.st_size == st.st_size &&
                st2.st_mtim.tv_nsec == st.st_mtim.tv_nsec);
    assert_int_equal(errors, 0);
}

/* The name of a temporary file of process `pid` on this host (durable.h). */
static void tmp_name(fixture *x, long pid, char *out, size_t n)
{
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/' || *c == '-')
            *c = '_';
    snprintf(out, n, "%s/.tmp-%s-%ld-leftover", x->tape, host, pid);
}

static void test_killed_rotation_leftover(void **state)
{
    fixture *x = *state;
    ops_rotate_out o;
    char dead[256], live[256], s[512];
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    /* A rotation killed while writing emr:1, and one still writing. */
    tmp_name(x, (long)child, dead, sizeof(dead));
    tmp_name(x, (long)getpid(), live, sizeof(live));
    FILE *f = fopen(dead, "w");
    assert_non_null(f);
    fputs("the first 512 bytes of emr@0000000001/", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(close(open(live, O_CREAT | O_WRONLY, 0600)), 0);
    assert_string_equal(archives(x, s, sizeof(s)), "");
    bkp_verify_result sum;
    assert_int_equal(ops_archive_verify(x->f.r, "tape", x->tape, x->tmp, 1, &sum), 0);
    assert_int_equal(sum.generations, 0);

    assert_int_equal(ops_repo_seal(&x->f, "emr", 0, NULL), 0);
    assert_int_equal(rotate(x, &o), 0);
    assert_int_equal(o.added.n, 1);
    assert_int_equal(o.present, 0);
    ops_rotate_out_clear(&o);
    assert_int_equal(access(dead, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    assert_string_equal(archives(x, s, sizeof(s)), "emr@0000000001.tar");
    assert_int_equal(ops_archive_verify(x->f.r, "tape", x->tape, x->tmp, 1, &sum), 0);
    assert_int_equal(sum.generations, 1);
    assert_int_equal(errors, 0);
}

static void test_present_name_kept_new_one_written(void **state)
{
    fixture *x = *state;
    ops_rotate_out o;
    char s[512], a2[200];
    bkp_buf b = {0};
    /* emr:1's name holds what an earlier rotation (or anyone) put there. */
    assert_int_equal(ops_repo_seal(&x->f, "emr", 0, NULL), 0);
    FILE *f = fopen(x->a1, "w");
    assert_non_null(f);
    fputs("written before", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rotate(x, &o), 0);
    assert_int_equal(o.present, 1);
    assert_int_equal(o.added.n, 0);
    ops_rotate_out_clear(&o);
    assert_int_equal(bkp_read_file(x->a1, &b, 1024), 0);
    assert_int_equal(b.len, 14);
    assert_memory_equal(b.data, "written before", 14);

    /* The next generation gets an archive of its own; the old name stays. */
    assert_int_equal(ops_repo_seal(&x->f, "emr", 0, NULL), 0);
    assert_int_equal(rotate(x, &o), 0);
    assert_string_equal(o.added.v[0].dataset, "emr");
    assert_int_equal(o.added.v[0].seq, 2);
    assert_int_equal(o.present, 0);
    ops_rotate_out_clear(&o);
    assert_string_equal(archives(x, s, sizeof(s)), "emr@0000000001.tar emr@0000000002.tar");
    assert_int_equal(bkp_read_file(x->a1, &b, 1024), 0);
    assert_memory_equal(b.data, "written before", 14);
    snprintf(a2, sizeof(a2), "%s/emr@0000000002.tar", x->tape);
    assert_int_equal(ops_archive_check(x->f.r, a2, x->tmp, 1, NULL), 0);
    bkp_buf_free(&b);
    assert_int_equal(errors, 0);
}

static void test_other_medium_refused(void **state)
{
    fixture *x = *state;
    ops_rotate_out o;
    char s[512];
    label_as(x, "vault"); /* the folder now says it is another medium */
    assert_int_equal(ops_repo_seal(&x->f, "emr", 0, NULL), 0);
    assert_int_equal(rotate(x, &o), -EMEDIUMTYPE);
    assert_int_equal(o.step, OPS_ROTATE_LABEL);
    assert_int_equal(o.added.n, 0);
    assert_false(o.kit_written);
    ops_rotate_out_clear(&o);
    assert_non_null(strstr(last_error, "is vault, not tape: refused"));
    assert_string_equal(listing(x->tape, s, sizeof(s)), "BKP-LABEL ");
    bkp_media_entry *e = bkp_media_get(x->f.r, "tape");
    assert_int_equal(e->last_write, 0);
    bkp_media_free(e);
    char *log = bkp_audit_path(x->f.r);
    json_t *rec =
        audit_last_json(log, bkp_repo_sign_pk(x->f.r), &(bkp_audit_query){.op = "rotate"});
    assert_string_equal(json_string_value(json_object_get(rec, "outcome")), "failed");
    json_decref(rec);
    free(log);
}

/* The kit's documents are asked for after the guard and before the
 * archives: there, the audit log is put out of reach of an append (a link
 * in its place, which the log's open refuses), so that the rotation's
 * record fails after its archives are written and read back. */
static int break_log(void *ctx, const bkp_kit_doc **docs, size_t *n, void **held)
{
    fixture *x = ctx;
    char *log = bkp_audit_path(x->f.r), away[256];
    snprintf(away, sizeof(away), "%s.away", log);
    assert_int_equal(rename(log, away), 0);
    assert_int_equal(symlink(away, log), 0);
    free(log);
    *docs = NULL;
    *n = 0;
    *held = NULL;
    return 0;
}

static void test_verify_stamped_only_when_recorded(void **state)
{
    fixture *x = *state;
    ops_rotate_out o;
    bkp_gen *g = NULL;
    assert_int_equal(ops_repo_seal(&x->f, "emr", 0, &g), 0);
    bkp_gen_free(g);
    bkp_media_entry *entry = bkp_media_get(x->f.r, "tape");
    ops_rotate_in in = {.type = POL_ARCHIVE,
                        .primary = x->f.r,
                        .policy = x->f.p,
                        .medium = "tape",
                        .path = x->tape,
                        .entry = entry,
                        .tmpdir = x->tmp,
                        .workers = 1,
                        .kit = {break_log, NULL, x}};
    assert_int_equal(ops_rotate(&in, &o), -EIO);
    bkp_media_free(entry);
    assert_int_equal(o.step, OPS_ROTATE_RECORD);
    assert_int_equal(o.added.n, 1); /* written and read back... */
    ops_rotate_out_clear(&o);
    /* ...but the log does not say so: the registry says it was seen, not
     * that it was verified, nor written. */
    entry = bkp_media_get(x->f.r, "tape");
    assert_true(entry->last_seen > 0);
    assert_int_equal(entry->last_verify, 0);
    assert_int_equal(entry->verify, BKP_MEDIA_NEVER);
    assert_int_equal(entry->last_write, 0);
    bkp_media_free(entry);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_then_nothing_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte_found_never_rewritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_rotation_leftover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_present_name_kept_new_one_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_medium_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_stamped_only_when_recorded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
