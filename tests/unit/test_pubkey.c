/*
 * test_pubkey.c — the public key for people and for auditors (bkp/keys/pubkey.h,
 * bkp_repo_open_public and bkp_verify_public).
 *
 * Proves that the fingerprint is the key's digits and reads back; that a key
 * is taken only in its two printed shapes, from an option or a one-line
 * regular file, and everything else is refused without touching the output;
 * that a repository opens with its public key alone — no key file needed —
 * and not with another's; and that the public check passes a sound audit log
 * and fails an edited one; and that a medium's label carries the
 * fingerprint in exactly that text, while a label without one (written
 * before labels carried it) is still read; and that the evidence report
 * prints the fingerprint it is given.
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
#include <unistd.h>

#include <cmocka.h>
#include <libintl.h>
#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/media/label.h"
#include "bkp/keys/pubkey.h"
#include "bkp/store/repo.h"
#include "bkp/audit/verify.h"
#include "bkp/report/evidence.h"
#include "restore/runbook_doc.h"

#include "catalogue.h"
#include "testutil.h"

#define PASS "a long enough passphrase"
#define PLEN (sizeof(PASS) - 1)

static const uint8_t pk0[32] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba,
                                0x98, 0x76, 0x54, 0x32, 0x10, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const char hex0[] = "0123456789abcdeffedcba98765432100011223344556677"
                           "8899aabbccddeeff";

static int parse(const char *s, uint8_t pk[32])
{
    return bkp_pubkey_parse(s, strlen(s), pk);
}

static void test_fingerprint_reads_back(void **state)
{
    (void)state;
    char fp[BKP_FINGERPRINT_LEN];
    uint8_t pk[32];
    bkp_pubkey_fingerprint(pk0, fp);
    assert_string_equal(fp, "0123 4567 89ab cdef fedc ba98 7654 3210 0011 2233 4455 6677 8899 "
                            "aabb ccdd eeff");
    memset(pk, 0, 32);
    assert_int_equal(parse(fp, pk), 0);
    assert_memory_equal(pk, pk0, 32);
    memset(pk, 0, 32);
    assert_int_equal(parse(hex0, pk), 0);
    assert_memory_equal(pk, pk0, 32);
}

static void test_parse_trims_and_takes_upper_case(void **state)
{
    (void)state;
    char buf[128];
    uint8_t pk[32];
    snprintf(buf, sizeof(buf), " \t%s\r\n", hex0);
    assert_int_equal(parse(buf, pk), 0);
    assert_memory_equal(pk, pk0, 32);
    for (char *p = buf; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(parse(buf, pk), 0);
    assert_memory_equal(pk, pk0, 32);
}

/* The fingerprint as `bkp key fingerprint` prints it, on two lines, with
 * its heading and its short form around it, as an inspector copies it. */
static void test_parse_takes_the_printed_lines(void **state)
{
    (void)state;
    char fp[BKP_FINGERPRINT_LEN], buf[400];
    uint8_t pk[32];
    bkp_pubkey_fingerprint(pk0, fp);
    snprintf(buf, sizeof(buf), "%.39s\n%s\n", fp, fp + 40);
    memset(pk, 0, 32);
    assert_int_equal(parse(buf, pk), 0);
    assert_memory_equal(pk, pk0, 32);
    snprintf(buf, sizeof(buf),
             "repository c890f987-2566-4db7-a808-a018b3be2771\n"
             "fingerprint of the public key (Ed25519):\n  %.39s\r\n  %s\n"
             "short (as on the medium's paper label): %.19s\n",
             fp, fp + 40, fp);
    memset(pk, 0, 32);
    assert_int_equal(parse(buf, pk), 0);
    assert_memory_equal(pk, pk0, 32);
}

static void test_parse_refuses_other_shapes(void **state)
{
    (void)state;
    char buf[160], fp[BKP_FINGERPRINT_LEN];
    uint8_t pk[32], untouched[32];
    memset(pk, 0x5a, 32);
    memcpy(untouched, pk, 32);
    bkp_pubkey_fingerprint(pk0, fp);
    const char *bad[] = {"", "0123",
                         "0x0123456789abcdeffedcba98765432100011223344556677889"
                         "9aabbccddee"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(parse(bad[i], pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%.63s", hex0); /* a digit short */
    assert_int_equal(parse(buf, pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%s0", hex0); /* a digit long */
    assert_int_equal(parse(buf, pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%s", hex0);
    buf[10] = 'g';
    assert_int_equal(parse(buf, pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%s", fp);
    buf[4] = '-';
    assert_int_equal(parse(buf, pk), -EINVAL);
    /* Over lines: a line that is not groups between them, a group short, a
     * seventeenth group. */
    snprintf(buf, sizeof(buf), "%.39s\nnote\n%s", fp, fp + 40);
    assert_int_equal(parse(buf, pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%.39s\n%.38s", fp, fp + 40);
    assert_int_equal(parse(buf, pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%s 0123", fp);
    assert_int_equal(parse(buf, pk), -EINVAL);
    /* A line of groups repeated, or added after the sixteen; a group line
     * mistyped before them (not a heading to leave aside). */
    snprintf(buf, sizeof(buf), "%.39s\n%.39s\n%s", fp, fp, fp + 40);
    assert_int_equal(parse(buf, pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%s\n0123", fp);
    assert_int_equal(parse(buf, pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%.38s\n%s", fp, fp);
    assert_int_equal(parse(buf, pk), -EINVAL);
    snprintf(buf, sizeof(buf), "%s", hex0);
    assert_int_equal(bkp_pubkey_parse(buf, 64, pk), 0); /* not NUL-terminated is fine */
    memcpy(pk, untouched, 32);
    buf[20] = '\0';
    assert_int_equal(bkp_pubkey_parse(buf, 64, pk), -EINVAL); /* a NUL among the digits */
    assert_memory_equal(pk, untouched, 32);
}

typedef struct fixture {
    char base[64], repo[128], other[128], file[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || sodium_init() < 0)
        return -1;
    strcpy(f->base, "/tmp/bkp-test-pubkey-XXXXXX");
    if (!mkdtemp(f->base))
        return -1;
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    snprintf(f->other, sizeof(f->other), "%s/other", f->base);
    snprintf(f->file, sizeof(f->file), "%s/key.txt", f->base);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_rm_rf(f->base);
    free(f);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static void test_from_arg(void **state)
{
    fixture *f = *state;
    char buf[256];
    uint8_t pk[32];
    assert_int_equal(bkp_pubkey_from_arg("--public-key", hex0, pk), 0);
    assert_memory_equal(pk, pk0, 32);
    snprintf(buf, sizeof(buf), "%s\n", hex0);
    write_text(f->file, buf);
    memset(pk, 0, 32);
    assert_int_equal(bkp_pubkey_from_arg("--public-key", f->file, pk), 0);
    assert_memory_equal(pk, pk0, 32);
    snprintf(buf, sizeof(buf), "%s\n%s\n", hex0, hex0); /* two lines */
    write_text(f->file, buf);
    assert_int_equal(bkp_pubkey_from_arg("--public-key", f->file, pk), -EINVAL);
    char *big = malloc(BKP_PUBKEY_FILE_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', BKP_PUBKEY_FILE_MAX + 1);
    memcpy(big, hex0, 64);
    big[BKP_PUBKEY_FILE_MAX + 1] = '\0';
    write_text(f->file, big); /* the key, then more than a key file holds */
    free(big);
    assert_int_equal(bkp_pubkey_from_arg("--public-key", f->file, pk), -EINVAL);
    assert_int_equal(bkp_pubkey_from_arg("--public-key", f->base, pk), -EINVAL); /* a folder */
    snprintf(buf, sizeof(buf), "%s/absent", f->base);
    assert_int_equal(bkp_pubkey_from_arg("--public-key", buf, pk), -ENOENT);
}

/* The public key of a new repository at `path`, and its audit log begun. */
static void make_repo(const char *path, uint8_t pk[32])
{
    bkp_repo *r = NULL;
    assert_int_equal(bkp_repo_init(path, PASS, PLEN), 0);
    assert_int_equal(bkp_repo_open(path, PASS, PLEN, 0, &r), 0);
    memcpy(pk, bkp_repo_sign_pk(r), 32);
    assert_memory_equal(pk, bkp_keys_sign_pk(bkp_repo_keys(r)), 32);
    bkp_audit_rec rec = {.op = "init"};
    assert_int_equal(bkp_audit_create(r, &rec), 0);
    assert_int_equal(bkp_audit_append(r, &(bkp_audit_rec){.op = "verify"}), 0);
    bkp_repo_free(r);
}

static void test_open_public(void **state)
{
    fixture *f = *state;
    uint8_t pk[32], other[32];
    char key[160];
    bkp_repo *r = NULL;
    make_repo(f->repo, pk);
    make_repo(f->other, other);
    /* No key file at all: the public key alone opens it. */
    snprintf(key, sizeof(key), "%s/keys/key", f->repo);
    assert_int_equal(unlink(key), 0);
    assert_int_equal(bkp_repo_open_public(f->repo, pk, &r), 0);
    assert_true(bkp_repo_is_public(r));
    assert_null(bkp_repo_keys(r));
    assert_memory_equal(bkp_repo_sign_pk(r), pk, 32);
    bkp_repo_free(r);
    r = NULL;
    assert_int_equal(bkp_repo_open_public(f->repo, other, &r), -EKEYREJECTED);
    assert_null(r);
    snprintf(key, sizeof(key), "%s/absent", f->base);
    assert_int_equal(bkp_repo_open_public(key, pk, &r), -ENOENT);
    assert_int_equal(bkp_repo_open_public(f->base, pk, &r), -ENOENT); /* no config */
}

static void test_verify_public(void **state)
{
    fixture *f = *state;
    uint8_t pk[32];
    bkp_repo *r = NULL;
    bkp_verify_result res;
    char log[160];
    make_repo(f->repo, pk);
    assert_int_equal(bkp_repo_open_public(f->repo, pk, &r), 0);
    assert_int_equal(bkp_verify_public(r, &res), 0);
    assert_int_equal(res.audit_records, 2);
    assert_int_equal(res.generations, 0);
    bkp_verify_result_clear(&res);
    /* One byte of record 2 changed. */
    snprintf(log, sizeof(log), "%s/audit/log.jsonl", f->repo);
    FILE *fp = fopen(log, "r+");
    assert_non_null(fp);
    char line[4096];
    assert_non_null(fgets(line, sizeof(line), fp));
    long at = ftell(fp);
    assert_non_null(fgets(line, sizeof(line), fp));
    char *op = strstr(line, "\"op\":\"verify\"");
    assert_non_null(op);
    assert_int_equal(fseek(fp, at + (op - line) + 6, SEEK_SET), 0);
    assert_int_equal(fputc('V', fp), 'V');
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(bkp_verify_public(r, &res), 0); /* it ran: the problems are counted */
    assert_true(res.problems >= 1);
    assert_non_null(strstr(res.messages[0], "record 2"));
    bkp_verify_result_clear(&res);
    bkp_repo_free(r);
}

static int label_with(const char *fingerprint_field)
{
    char buf[1024];
    bkp_label l;
    snprintf(buf, sizeof(buf),
             "{\"created\": \"2026-11-23T12:10:39Z\", %s\"format\": \"bkp-label\", "
             "\"location\": \"offsite\", \"name\": \"usb-a\", \"repository\": "
             "\"870fba9d-10db-4e21-a452-8187b2151f99\", \"type\": \"removable\", \"uuid\": "
             "\"ed8880db-e672-4e77-88bd-ac7c96224282\", \"version\": 1}",
             fingerprint_field);
    return bkp_label_parse(buf, strlen(buf), &l);
}

static void test_label_fingerprint(void **state)
{
    (void)state;
    char fp[BKP_FINGERPRINT_LEN], field[160];
    bkp_pubkey_fingerprint(pk0, fp);
    assert_int_equal(label_with(""), 0); /* an old label */
    snprintf(field, sizeof(field), "\"fingerprint\": \"%s\", ", fp);
    assert_int_equal(label_with(field), 0);
    snprintf(field, sizeof(field), "\"fingerprint\": \"%s\", ", hex0); /* not as printed */
    assert_int_equal(label_with(field), -EBADMSG);
    fp[0] = 'A'; /* upper case: not the text bkp writes */
    snprintf(field, sizeof(field), "\"fingerprint\": \"%s\", ", fp);
    assert_int_equal(label_with(field), -EBADMSG);
    assert_int_equal(label_with("\"fingerprint\": 7, "), -EBADMSG);
}

static void test_evidence_fingerprint(void **state)
{
    (void)state;
    char fp[BKP_FINGERPRINT_LEN], row[256];
    bkp_pubkey_fingerprint(pk0, fp);
    rb_evidence ev = {.repository = "/var/lib/bkp/repo", .fingerprint = fp};
    char *en = rb_evidence_render(&ev, RB_MARKDOWN, false);
    char *ja = rb_evidence_render(&ev, RB_MARKDOWN, true);
    snprintf(row, sizeof(row), "| Repository key fingerprint | %s |", fp);
    assert_non_null(en);
    assert_non_null(strstr(en, row));
    snprintf(row, sizeof(row), "| リポジトリ鍵のフィンガープリント | %s |", fp);
    assert_non_null(ja);
    assert_non_null(strstr(ja, row));
    free(en);
    free(ja);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_reads_back),
        cmocka_unit_test(test_parse_trims_and_takes_upper_case),
        cmocka_unit_test(test_parse_takes_the_printed_lines),
        cmocka_unit_test(test_parse_refuses_other_shapes),
        cmocka_unit_test(test_label_fingerprint),
        cmocka_unit_test(test_evidence_fingerprint),
        cmocka_unit_test_setup_teardown(test_from_arg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_public, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_public, setup, teardown),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
