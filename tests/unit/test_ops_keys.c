/*
 * Key custody as library functions (bkp/ops/key_slots_edit.h, key_paper.h,
 * key_from.h, key_sheet_doc.h) on a real repository in a temporary folder:
 * a slot added opens the repository and, removed, no longer does; passwd
 * retires the old passphrase; the last slot, the one in use and a
 * passphrase already in use are refused; every change is in the audit log.
 * K of N share sheets written to files and read back give the master
 * secret and open the repository, K-1 do not; a sheet file is never
 * written over an existing file or through a link; the printed document
 * carries the fingerprint, the QR block and the sheet's text once, and the
 * audit record none of the secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/durable.h"
#include "bkp/keys/keys.h"
#include "bkp/ops/key_from.h"
#include "bkp/ops/key_paper.h"
#include "bkp/ops/key_sheet_doc.h"
#include "bkp/ops/key_slots_edit.h"
#include "bkp/keys/pubkey.h"
#include "bkp/keys/shares.h"
#include "restore/runbook_doc.h"

#include "ops_repo.h"
#include "audit_json.h"

#define NEWPASS "a second passphrase for the night shift"

static int setup(void **state)
{
    return ops_repo_setup(state, "keys",
                          "repository: %1$s/repo\ndatasets:\n"
                          "  - { name: emr-db, paths: [/srv/emr], schedule: daily 02:00 }\n");
}

/* Open the repository again with `pass` (the handle of the fixture too, so
 * that its list of slots is the one on disk). */
static int reopen(ops_repo *f, const char *pass)
{
    bkp_repo *r = NULL;
    int rc = bkp_repo_open(f->repo, pass, strlen(pass), 0, &r);
    if (rc == 0) {
        bkp_repo_free(f->r);
        f->r = r;
    }
    return rc;
}

/* The figure `name` of the last audit record of `op`, as a string ("" when
 * there is none); `dump` the whole record's text when not NULL. */
static void last_record(ops_repo *f, const char *op, const char *name, char *out, size_t n,
                        char **dump)
{
    char *log = bkp_audit_path(f->r);
    json_t *rec = audit_last_json(log, bkp_repo_sign_pk(f->r), &(bkp_audit_query){.op = op});
    const char *v = json_string_value(json_object_get(json_object_get(rec, "figures"), name));
    snprintf(out, n, "%s", v ? v : "");
    if (dump)
        *dump = rec ? json_dumps(rec, 0) : NULL;
    json_decref(rec);
    free(log);
}

static void test_slot_added_opens_removed_refused(void **state)
{
    ops_repo *f = *state;
    ops_keys_edit e;
    char id[17], rec[32];
    assert_int_equal(ops_keys_edit_begin(f->r, true, &e), 0);
    assert_int_equal(e.s->n, 1);
    int i = ops_keys_add(&e, NEWPASS, strlen(NEWPASS), "night shift", bkp_now());
    assert_int_equal(i, 1);
    assert_int_equal(e.s->n, 2);
    memcpy(id, e.s->slot[i].id, sizeof(id));
    ops_keys_edit_end(&e);
    last_record(f, "key-add", "slot", rec, sizeof(rec), NULL);
    assert_string_equal(rec, id); /* recorded, naming the slot */

    /* The new passphrase opens. */
    int at;
    assert_int_equal(reopen(f, NEWPASS), 0);

    /* Opened with it, it cannot be removed; opened with the first, it can. */
    assert_int_equal(ops_keys_edit_begin(f->r, true, &e), 0);
    assert_int_equal(ops_keys_pick(&e, "remove", id, &at), -EINVAL);
    ops_keys_edit_end(&e);
    assert_int_equal(reopen(f, OPS_PASS), 0);
    assert_int_equal(ops_keys_edit_begin(f->r, true, &e), 0);
    assert_int_equal(ops_keys_pick(&e, "remove", id, &at), 0);
    assert_int_equal(at, 1);
    bkp_key_slot gone;
    assert_int_equal(ops_keys_remove(&e, at, &gone), 0);
    assert_string_equal(gone.id, id);
    assert_int_equal(e.s->n, 1);
    ops_keys_edit_end(&e);
    last_record(f, "key-remove", "slot", rec, sizeof(rec), NULL);
    assert_string_equal(rec, id);
    assert_int_equal(reopen(f, NEWPASS), -EKEYREJECTED);
    assert_int_equal(reopen(f, OPS_PASS), 0);
}

static void test_rules_refuse(void **state)
{
    ops_repo *f = *state;
    ops_keys_edit e;
    int at = -1;
    assert_int_equal(ops_keys_edit_begin(f->r, true, &e), 0);
    /* The last slot is never removed; an unknown or missing ID is refused. */
    assert_int_equal(ops_keys_pick(&e, "remove", e.s->slot[0].id, &at), -EINVAL);
    assert_int_equal(ops_keys_pick(&e, "remove", "ffffffff", &at), -EINVAL);
    assert_int_equal(ops_keys_pick(&e, "remove", NULL, &at), -EINVAL);
    assert_int_equal(at, -1);
    /* A passphrase that opens a slot already is no new one. */
    assert_int_equal(ops_keys_add(&e, OPS_PASS, strlen(OPS_PASS), "", bkp_now()), -EINVAL);
    assert_int_equal(e.s->n, 1);
    /* passwd without an ID acts on the passphrase in use. */
    assert_int_equal(ops_keys_pick(&e, "passwd", NULL, &at), 0);
    assert_int_equal(at, 0);
    /* A second change waits for the first: the "keys" lock is held. */
    ops_keys_edit other;
    assert_int_equal(ops_keys_edit_begin(f->r, true, &other), -EBUSY);
    ops_keys_edit_end(&other);
    assert_int_equal(ops_keys_room(&e), 0);
    ops_keys_edit_end(&e);
    char rec[32];
    last_record(f, "key-add", "slot", rec, sizeof(rec), NULL);
    assert_string_equal(rec, ""); /* nothing refused was recorded */
}

static void test_passwd_retires_old(void **state)
{
    ops_repo *f = *state;
    ops_keys_edit e;
    int at;
    assert_int_equal(ops_keys_edit_begin(f->r, true, &e), 0);
    assert_int_equal(ops_keys_pick(&e, "passwd", NULL, &at), 0);
    assert_int_equal(ops_keys_passwd(&e, at, NEWPASS, strlen(NEWPASS), bkp_now()), 0);
    ops_keys_edit_end(&e);
    assert_int_equal(reopen(f, OPS_PASS), -EKEYREJECTED);
    assert_int_equal(reopen(f, NEWPASS), 0);
}

static void test_machine_key(void **state)
{
    ops_repo *f = *state;
    ops_keys_edit e;
    char file[128], *path = NULL;
    struct stat st;
    bkp_buf b;
    snprintf(file, sizeof(file), "%s/machine.key", f->top);
    assert_int_equal(ops_keys_edit_begin(f->r, true, &e), 0);
    int i = ops_keys_add_machine(&e, file, "cron", bkp_now(), &path);
    assert_int_equal(i, 1);
    assert_string_equal(ops_key_kind(&e.s->slot[i]), "machine");
    assert_non_null(path);
    /* A second slot into the same file is refused; the list stays as it is. */
    char *again = NULL;
    assert_int_equal(ops_keys_add_machine(&e, file, "cron", bkp_now(), &again), -EINVAL);
    assert_null(again);
    ops_keys_edit_end(&e);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    bkp_buf_init(&b);
    assert_int_equal(bkp_read_file(path, &b, 4096), 0);
    assert_int_equal(b.len, BKP_MACHINE_SECRET_LEN + 1);
    b.data[BKP_MACHINE_SECRET_LEN] = '\0';
    assert_int_equal(reopen(f, (const char *)b.data), 0); /* the file opens it */
    sodium_memzero(b.data, b.len);
    bkp_buf_free(&b);
    assert_int_equal(ops_keys_edit_begin(f->r, true, &e), 0);
    assert_int_equal(e.s->n, 2);
    ops_keys_edit_end(&e);
    free(path);
}

/* The master secret of the fixture's repository (guarded by the test). */
static void master_of(ops_repo *f, uint8_t m[32])
{
    bkp_keys_master_for_paper(bkp_repo_keys(f->r), m);
}

static void test_k_of_n_sheets(void **state)
{
    ops_repo *f = *state;
    uint8_t m[32], got[32];
    bkp_sheet sh[5], from_files[3];
    bkp_sheets_used what;
    master_of(f, m);
    assert_int_equal(bkp_shares_split(m, bkp_keys_repo_id(bkp_repo_keys(f->r)), 3, 5, sh), 0);
    /* Shares 2, 4 and 5 give the master; two of them do not. */
    bkp_sheet pick[3] = {sh[1], sh[3], sh[4]};
    assert_int_equal(ops_key_sheets_master(pick, 3, 1, got, &what), 0);
    assert_memory_equal(got, m, 32);
    assert_int_equal(what.kind, BKP_SHEET_SHARE);
    assert_int_equal(what.threshold, 3);
    assert_int_equal(what.of, 5);
    assert_int_equal(what.typed, 1);
    assert_int_equal(what.nshares, 3);
    assert_int_equal(what.shares[0], 2); /* their numbers, as given */
    assert_int_equal(what.shares[2], 5);
    /* What the audit record keeps of them: numbers, never a secret. */
    json_t *fig = bkp_audit_sheets(&what);
    assert_string_equal(json_string_value(json_object_get(fig, "kind")), "shares");
    assert_int_equal(json_integer_value(json_object_get(fig, "threshold")), 3);
    assert_int_equal(json_integer_value(json_object_get(fig, "typed")), 1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(fig, "shares"), 1)), 4);
    /* ... and each sheet's printed checksum, which tells one split from
     * another and gives nothing of the secret away. */
    json_t *sums = json_object_get(fig, "sums");
    assert_int_equal(json_array_size(sums), 3);
    char sum[BKP_SHEET_SUM_LEN];
    bkp_sheet_sum_text(&sh[3], sum);
    assert_string_equal(json_string_value(json_array_get(sums, 1)), sum);
    assert_int_equal(strlen(sum), 8);
    assert_int_equal(json_object_size(fig), 6);
    json_decref(fig);
    memset(got, 0, sizeof(got));
    /* Too few: the key is not opened, as with a wrong passphrase (exit 4). */
    assert_int_equal(ops_key_sheets_master(pick, 2, 0, got, &what), -EKEYREJECTED);
    /* The same share twice is not two shares: used once, and two are too few. */
    bkp_sheet twice[3] = {sh[0], sh[0], sh[2]};
    assert_int_equal(ops_key_sheets_master(twice, 3, 0, got, &what), -EKEYREJECTED);

    /* Through files, as bkp key split writes them and --key-from reads them. */
    char dir[128], name[192];
    snprintf(dir, sizeof(dir), "%s/shares", f->top);
    int dfd = ops_key_shares_dir(dir);
    assert_true(dfd >= 0);
    ops_sheet_file o[5];
    ops_sheet_files_init(o, 5);
    assert_int_equal(ops_key_share_docs(bkp_repo_keys(f->r), 3, 5,
                                        &(ops_sheet_look){.format = RB_MARKDOWN, .now = bkp_now()},
                                        o),
                     0);
    bkp_audit_rec rec = {.op = "key-split"};
    assert_int_equal(ops_key_sheets_write(f->r, dfd, dir, o, 5, &rec), 0);
    ops_sheet_files_free(o, 5);
    close(dfd);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "%s/share-%d-of-5.md", dir, i + 1);
        assert_int_equal(ops_key_sheet_read(name, &from_files[i]), 0);
    }
    assert_int_equal(ops_key_sheets_master(from_files, 3, 0, got, &what), 0);
    assert_memory_equal(got, m, 32);
    bkp_repo *r = NULL;
    assert_int_equal(bkp_repo_open_master(f->repo, got, BKP_REPO_READONLY, &r), 0);
    bkp_repo_free(r);
    sodium_memzero(m, sizeof(m));
    sodium_memzero(got, sizeof(got));
    sodium_memzero(sh, sizeof(sh));
    sodium_memzero(from_files, sizeof(from_files));
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Write one file "share-1-of-2.md" and "share-2-of-2.md" into `dir` where
 * the second name is taken by `planted` (already made): refused, nothing
 * recorded, no file of ours left. */
static void refused_over(ops_repo *f, const char *dir, const char *planted)
{
    ops_sheet_file o[2];
    ops_sheet_files_init(o, 2);
    ops_sheet_look look = {.format = RB_MARKDOWN, .ja = true, .now = bkp_now()};
    assert_int_equal(ops_key_share_docs(bkp_repo_keys(f->r), 2, 2, &look, o), 0);
    int dfd = ops_key_shares_dir(dir);
    assert_true(dfd >= 0);
    bkp_audit_rec rec = {.op = "key-split"};
    assert_int_equal(ops_key_sheets_write(f->r, dfd, dir, o, 2, &rec), -EINVAL);
    ops_sheet_files_free(o, 2);
    struct stat st;
    assert_int_equal(fstatat(dfd, "share-1-of-2.md", &st, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(lstat(planted, &st), 0);
    close(dfd);
    char r[16];
    last_record(f, "key-split", "format", r, sizeof(r), NULL);
    assert_string_equal(r, "");
}

static void test_never_over_a_file_or_a_link(void **state)
{
    ops_repo *f = *state;
    char dir[128], name[192], target[192];
    bkp_buf b;
    snprintf(dir, sizeof(dir), "%s/out", f->top);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(name, sizeof(name), "%s/share-2-of-2.md", dir);
    FILE *x = fopen(name, "w");
    assert_non_null(x);
    fputs("the sheet printed last year\n", x);
    fclose(x);
    refused_over(f, dir, name);
    bkp_buf_init(&b);
    assert_int_equal(bkp_read_file(name, &b, 4096), 0);
    assert_int_equal(b.len, strlen("the sheet printed last year\n")); /* untouched */
    bkp_buf_free(&b);

    /* A link planted under the name, pointing where the secret would leak. */
    assert_int_equal(unlink(name), 0);
    snprintf(target, sizeof(target), "%s/elsewhere", f->top);
    assert_int_equal(symlink(target, name), 0);
    refused_over(f, dir, name);
    struct stat st;
    assert_int_equal(lstat(target, &st), -1); /* nothing was written through it */

    /* A folder others may write is no place for the shares, nor a link to one. */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(ops_key_shares_dir(dir), -EINVAL);
    assert_int_equal(chmod(dir, 0700), 0);
    snprintf(name, sizeof(name), "%s/link", f->top);
    assert_int_equal(symlink(dir, name), 0);
    assert_int_equal(ops_key_shares_dir(name), -EINVAL);
}

static void test_paper_document(void **state)
{
    ops_repo *f = *state;
    const bkp_keys *k = bkp_repo_keys(f->r);
    char fp[BKP_FINGERPRINT_LEN], path[128], *dump = NULL;
    uint8_t m[32];
    size_t len = 0;
    bkp_pubkey_fingerprint(bkp_keys_sign_pk(k), fp);
    ops_sheet_look look = {.format = RB_MARKDOWN, .now = bkp_now()};
    char *doc = ops_key_paper_doc(k, &look, &len);
    assert_non_null(doc);
    assert_int_equal(strlen(doc), len);
    assert_true(len < OPS_SHEET_DOC_MAX);
    assert_non_null(strstr(doc, fp));
    assert_non_null(strstr(doc, "## The same, as a QR code\n\n```text\n"));
    assert_true(count(doc, "█") > 100);           /* the modules of the code */
    assert_int_equal(count(doc, "BKP-SHEET"), 1); /* the sheet's text once */
    /* Read back from the document, it is the master secret. */
    bkp_sheet s;
    int line = -1;
    const char *start = strstr(doc, "BKP-SHEET");
    assert_int_equal(bkp_sheet_parse(start, (size_t)(strstr(start, "```") - start), &s, &line), 0);
    master_of(f, m);
    assert_int_equal(s.kind, BKP_SHEET_PAPER);
    assert_memory_equal(s.secret, m, 32);

    /* Written to a file: recorded, and the record carries none of it. */
    ops_sheet_file o;
    ops_sheet_files_init(&o, 1);
    o.text = doc;
    o.len = len;
    snprintf(path, sizeof(path), "%s/paper.md", f->top);
    bkp_audit_rec rec = {.op = "key-export"};
    assert_int_equal(ops_key_sheet_write_to(f->r, path, &o, &rec), 0);
    char *line1 = strchr(start, '\n') + 1; /* the first line of characters */
    char first[16];
    snprintf(first, sizeof(first), "%.12s", line1 + 3);
    last_record(f, "key-export", "format", path, sizeof(path), &dump);
    assert_non_null(dump);
    assert_null(strstr(dump, first));
    free(dump);
    ops_sheet_files_free(&o, 1);

    /* HTML: the same fingerprint, the QR code as an SVG. */
    /* With the policy's facility, escaped: the safe tells the servers apart. */
    look = (ops_sheet_look){
        .format = RB_HTML, .ja = true, .now = bkp_now(), .facility = "○○病院 <本院> & \"分院\""};
    doc = ops_key_paper_doc(k, &look, &len);
    assert_non_null(doc);
    assert_non_null(strstr(doc, fp));
    assert_non_null(strstr(doc, "<td>○○病院 &lt;本院&gt; &amp; &quot;分院&quot;</td>"));
    assert_null(strstr(doc, "<本院>"));
    assert_non_null(strstr(doc, "<svg xmlns="));
    assert_non_null(strstr(doc, "</html>\n"));
    /* How to use it, where bkp asks for the passphrase. */
    assert_non_null(strstr(doc, "<code>--key-from -</code>"));
    ops_key_sheet_doc_free(doc);
    sodium_memzero(m, sizeof(m));
    sodium_memzero(&s, sizeof(s));
}

#define TEST(t) cmocka_unit_test_setup_teardown(t, setup, ops_repo_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_slot_added_opens_removed_refused),
        TEST(test_rules_refuse),
        TEST(test_passwd_retires_old),
        TEST(test_machine_key),
        TEST(test_k_of_n_sheets),
        TEST(test_never_over_a_file_or_a_link),
        TEST(test_paper_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
