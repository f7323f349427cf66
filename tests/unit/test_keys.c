/*
 * test_keys.c — repository secrets, the sealed key file, signatures and
 * passphrase sources (bkp/keys/keys.h).
 *
 * Proves that a key file opens only with its passphrase and gives back the
 * same repository (ID, signing key, derived keys); that a wrong passphrase or
 * any tampering is refused and never yields keys; that signatures verify only
 * for the signed message; and that passphrases are read from a private file
 * (one trailing newline stripped, group/world-readable files refused) or from
 * $BKP_PASSPHRASE_COMMAND.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include <sodium.h>

#include "bkp/keys/keys.h"

#include "testutil.h"

#define PASS "correct horse battery staple"

static const uint8_t repo_id[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

typedef struct fixture {
    bkp_keys *k;
    bkp_buf file;
    char dir[64];
} fixture;

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    bkp_buf_init(&f->file);
    strcpy(f->dir, "/tmp/bkp-test-keys-XXXXXX");
    if (sodium_init() < 0 || bkp_keys_generate(repo_id, &f->k) ||
        bkp_keys_seal(f->k, PASS, strlen(PASS), BKP_KEY_PASSPHRASE, &f->file) || !mkdtemp(f->dir))
        return teardown(state), -1;
    unsetenv("BKP_PASSPHRASE_FILE");
    unsetenv("BKP_PASSPHRASE_COMMAND");
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_rm_rf(f->dir);
    unsetenv("BKP_PASSPHRASE_FILE");
    unsetenv("BKP_PASSPHRASE_COMMAND");
    bkp_buf_free(&f->file);
    bkp_keys_free(f->k);
    free(f);
    return 0;
}

static void test_seal_open_round_trip(void **state)
{
    fixture *f = *state;
    bkp_keys *k = NULL;
    assert_int_equal(bkp_keys_open(f->file.data, f->file.len, PASS, strlen(PASS), &k), 0);
    assert_non_null(k);
    assert_memory_equal(bkp_keys_repo_id(k), repo_id, 16);
    assert_memory_equal(bkp_keys_sign_pk(k), bkp_keys_sign_pk(f->k), 32);
    assert_memory_equal(bkp_keys_id_key(k), bkp_keys_id_key(f->k), 32);
    assert_memory_equal(bkp_keys_blob_key(k), bkp_keys_blob_key(f->k), 32);
    assert_memory_equal(bkp_keys_gear_seed(k), bkp_keys_gear_seed(f->k), 32);
    /* The derived keys are distinct from each other. */
    assert_memory_not_equal(bkp_keys_id_key(k), bkp_keys_blob_key(k), 32);
    assert_memory_not_equal(bkp_keys_blob_key(k), bkp_keys_gear_seed(k), 32);
    /* The file starts with its magic and does not contain the secrets. */
    assert_memory_equal(f->file.data, BKP_KEY_FILE_MAGIC, 8);
    assert_null(memmem(f->file.data, f->file.len, bkp_keys_id_key(k), 8));
    bkp_keys_free(k);

    /* Sealing again (new salt and nonce) gives another file with the same keys. */
    bkp_buf again;
    bkp_buf_init(&again);
    assert_int_equal(bkp_keys_seal(f->k, PASS, strlen(PASS), BKP_KEY_PASSPHRASE, &again), 0);
    assert_int_equal(again.len, f->file.len);
    assert_memory_not_equal(again.data, f->file.data, again.len);
    k = NULL;
    assert_int_equal(bkp_keys_open(again.data, again.len, PASS, strlen(PASS), &k), 0);
    assert_memory_equal(bkp_keys_sign_pk(k), bkp_keys_sign_pk(f->k), 32);
    bkp_keys_free(k);
    bkp_buf_free(&again);

    /* Two generated key sets are unrelated. */
    bkp_keys *other = NULL;
    assert_int_equal(bkp_keys_generate(repo_id, &other), 0);
    assert_memory_not_equal(bkp_keys_sign_pk(other), bkp_keys_sign_pk(f->k), 32);
    bkp_keys_free(other);
}

/* The master secret from paper gives the keys the passphrase gives: the same
 * public key (what an open checks against the config), the same working keys;
 * a secret one bit off gives another public key. */
static void test_from_master(void **state)
{
    fixture *f = *state;
    bkp_keys *k = NULL, *paper = NULL, *off = NULL;
    uint8_t *master = sodium_malloc(32);
    assert_non_null(master);
    assert_int_equal(bkp_keys_open(f->file.data, f->file.len, PASS, strlen(PASS), &k), 0);
    bkp_keys_master_for_paper(k, master);
    assert_int_equal(bkp_keys_from_master(master, repo_id, &paper), 0);
    assert_memory_equal(bkp_keys_sign_pk(paper), bkp_keys_sign_pk(k), 32);
    assert_memory_equal(bkp_keys_repo_id(paper), repo_id, 16);
    assert_memory_equal(bkp_keys_id_key(paper), bkp_keys_id_key(k), 32);
    assert_memory_equal(bkp_keys_blob_key(paper), bkp_keys_blob_key(k), 32);
    assert_memory_equal(bkp_keys_gear_seed(paper), bkp_keys_gear_seed(k), 32);
    uint8_t a[32], b[32];
    bkp_keys_config_mac(paper, a, "config", 6);
    bkp_keys_config_mac(k, b, "config", 6);
    assert_memory_equal(a, b, 32);
    master[31] ^= 1;
    assert_int_equal(bkp_keys_from_master(master, repo_id, &off), 0);
    assert_memory_not_equal(bkp_keys_sign_pk(off), bkp_keys_sign_pk(k), 32);
    sodium_free(master);
    bkp_keys_free(off);
    bkp_keys_free(paper);
    bkp_keys_free(k);
}

static void test_wrong_passphrase(void **state)
{
    fixture *f = *state;
    bkp_keys *k = NULL;
    static const char *wrong[] = {"correct horse battery stapl", "Correct horse battery staple",
                                  PASS " ", ""};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(*wrong); i++) {
        assert_int_equal(bkp_keys_open(f->file.data, f->file.len, wrong[i], strlen(wrong[i]), &k),
                         -EKEYREJECTED);
        assert_null(k);
    }
}

/* Every kind of damage is refused; none may open. */
static void expect_refused(const fixture *f, size_t at, uint8_t xor)
{
    uint8_t *copy = malloc(f->file.len);
    bkp_keys *k = NULL;
    assert_non_null(copy);
    memcpy(copy, f->file.data, f->file.len);
    copy[at] ^= xor;
    int r = bkp_keys_open(copy, f->file.len, PASS, strlen(PASS), &k);
    if (r != -EKEYREJECTED && r != -EPROTO)
        fail_msg("byte %zu ^ 0x%02x: bkp_keys_open returned %d", at, xor, r);
    assert_null(k);
    free(copy);
}

static void test_tampered_file(void **state)
{
    fixture *f = *state;
    /* Layout: magic 8 | version 4 | ops 8 | mem 8 | salt 16 | nonce 24 | ciphertext+tag. */
    expect_refused(f, 8, 0x01);            /* version */
    expect_refused(f, 12, 0x01);           /* Argon2 ops 3 -> 2 */
    expect_refused(f, 19, 0x80);           /* ops absurdly large */
    expect_refused(f, 23, 0x01);           /* Argon2 memory 64 -> 80 MiB */
    expect_refused(f, 27, 0x40);           /* memory absurdly large */
    expect_refused(f, 28, 0x01);           /* salt */
    expect_refused(f, 43, 0x80);           /* salt, last byte */
    expect_refused(f, 50, 0x10);           /* nonce */
    expect_refused(f, 68, 0x01);           /* ciphertext, first byte */
    expect_refused(f, 100, 0x20);          /* ciphertext */
    expect_refused(f, f->file.len - 1, 1); /* tag */
}

static void test_unknown_format(void **state)
{
    fixture *f = *state;
    bkp_keys *k = NULL;
    uint8_t *copy = malloc(f->file.len + 1);
    assert_non_null(copy);
    memcpy(copy, f->file.data, f->file.len);
    copy[f->file.len] = 0;

    copy[0] = 'X'; /* wrong magic */
    assert_int_equal(bkp_keys_open(copy, f->file.len, PASS, strlen(PASS), &k), -EPROTO);
    memcpy(copy, "BKPKEY02", 8);
    assert_int_equal(bkp_keys_open(copy, f->file.len, PASS, strlen(PASS), &k), -EPROTO);
    memcpy(copy, f->file.data, 8);
    /* Truncated, to any length, and extended. */
    for (size_t n = 0; n < f->file.len; n += 13)
        assert_int_equal(bkp_keys_open(copy, n, PASS, strlen(PASS), &k), -EPROTO);
    assert_int_equal(bkp_keys_open(copy, f->file.len - 1, PASS, strlen(PASS), &k), -EPROTO);
    assert_int_equal(bkp_keys_open(copy, f->file.len + 1, PASS, strlen(PASS), &k), -EPROTO);
    assert_null(k);
    /* Control: the intact bytes open. */
    assert_int_equal(bkp_keys_open(copy, f->file.len, PASS, strlen(PASS), &k), 0);
    bkp_keys_free(k);
    free(copy);
}

/* A key file's cost parameters are refused beyond four times what bkp
 * writes, before Argon2 runs: a forged copy cannot ask for 4 GiB. */
static void test_cost_bounds(void **state)
{
    fixture *f = *state;
    bkp_keys *k = NULL;
    uint8_t *copy = malloc(f->file.len);
    assert_non_null(copy);
    memcpy(copy, f->file.data, f->file.len);
    bkp_le64(copy + 20, 4ULL << 30); /* memlimit 4 GiB */
    assert_int_equal(bkp_keys_open(copy, f->file.len, PASS, strlen(PASS), &k), -EPROTO);
    bkp_le64(copy + 20, (256ULL << 20) + 1); /* just above four times 64 MiB */
    assert_int_equal(bkp_keys_open(copy, f->file.len, PASS, strlen(PASS), &k), -EPROTO);
    memcpy(copy, f->file.data, f->file.len);
    bkp_le64(copy + 12, 13); /* opslimit above four times 3 */
    assert_int_equal(bkp_keys_open(copy, f->file.len, PASS, strlen(PASS), &k), -EPROTO);
    bkp_le64(copy + 12, 0);
    assert_int_equal(bkp_keys_open(copy, f->file.len, PASS, strlen(PASS), &k), -EPROTO);
    assert_null(k);
    free(copy);
}

/* The config MAC depends on every byte and on the key. */
static void test_config_mac(void **state)
{
    fixture *f = *state;
    uint8_t a[32], b[32];
    bkp_keys *other = NULL;
    bkp_keys_config_mac(f->k, a, "config", 6);
    bkp_keys_config_mac(f->k, b, "config", 6);
    assert_memory_equal(a, b, 32);
    bkp_keys_config_mac(f->k, b, "conf1g", 6);
    assert_memory_not_equal(a, b, 32);
    assert_int_equal(bkp_keys_generate(repo_id, &other), 0);
    bkp_keys_config_mac(other, b, "config", 6);
    assert_memory_not_equal(a, b, 32);
    bkp_keys_free(other);
}

static void test_signatures(void **state)
{
    fixture *f = *state;
    uint8_t sig[64];
    static const char msg[] = "generation 2024-05-01T12:00:00Z of data set /home";
    bkp_keys *other = NULL;
    bkp_keys_sign(f->k, sig, msg, sizeof(msg));
    assert_int_equal(bkp_sig_verify(bkp_keys_sign_pk(f->k), sig, msg, sizeof(msg)), 0);

    char changed[sizeof(msg)];
    memcpy(changed, msg, sizeof(msg));
    changed[11] ^= 1;
    assert_int_equal(bkp_sig_verify(bkp_keys_sign_pk(f->k), sig, changed, sizeof(msg)), -EBADMSG);
    assert_int_equal(bkp_sig_verify(bkp_keys_sign_pk(f->k), sig, msg, sizeof(msg) - 1), -EBADMSG);
    sig[5] ^= 4;
    assert_int_equal(bkp_sig_verify(bkp_keys_sign_pk(f->k), sig, msg, sizeof(msg)), -EBADMSG);
    sig[5] ^= 4;
    /* Another repository's public key does not accept it. */
    assert_int_equal(bkp_keys_generate(repo_id, &other), 0);
    assert_int_equal(bkp_sig_verify(bkp_keys_sign_pk(other), sig, msg, sizeof(msg)), -EBADMSG);
    bkp_keys_free(other);
}

static char *write_pass_file(const fixture *f, const char *name, const char *content, mode_t mode)
{
    char *path = malloc(strlen(f->dir) + strlen(name) + 2);
    assert_non_null(path);
    sprintf(path, "%s/%s", f->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static void expect_pass(const char *file, const char *want)
{
    char *p = NULL;
    size_t len = 0;
    assert_int_equal(bkp_passphrase_get(file, 0, &p, &len), 0);
    assert_non_null(p);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
    assert_int_equal(p[len], '\0');
    bkp_passphrase_free(p, len);
}

static void test_passphrase_file(void **state)
{
    fixture *f = *state;
    char *plain = write_pass_file(f, "p1", PASS "\n", 0600);
    char *nonl = write_pass_file(f, "p2", PASS, 0600);
    char *two = write_pass_file(f, "p3", PASS "\n\n", 0600);
    char *crlf = write_pass_file(f, "p4", PASS "\r\n", 0400);
    char *spaces = write_pass_file(f, "p5", "  " PASS "  \n", 0600);
    expect_pass(plain, PASS);
    expect_pass(nonl, PASS);
    expect_pass(two, PASS "\n"); /* only one newline is stripped */
    expect_pass(crlf, PASS);
    expect_pass(spaces, "  " PASS "  "); /* spaces are part of the secret */

    /* $BKP_PASSPHRASE_FILE is used when no file is given; the option wins. */
    setenv("BKP_PASSPHRASE_FILE", nonl, 1);
    expect_pass(NULL, PASS);
    expect_pass(two, PASS "\n");
    free(plain);
    free(nonl);
    free(two);
    free(crlf);
    free(spaces);
}

static void test_passphrase_file_refused(void **state)
{
    fixture *f = *state;
    char *p = NULL, *path;
    size_t len = 0;
    static const mode_t modes[] = {0644, 0640, 0604, 0660};
    for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
        path = write_pass_file(f, "open", PASS "\n", modes[i]);
        assert_int_equal(bkp_passphrase_get(path, 0, &p, &len), -EPERM);
        assert_null(p);
        free(path);
    }
    /* A missing file is an error, not an empty passphrase. */
    path = write_pass_file(f, "gone", "x", 0600);
    unlink(path);
    assert_int_equal(bkp_passphrase_get(path, 0, &p, &len), -ENOENT);
    assert_null(p);
    /* Neither does the variable fall back to anything else when its file is bad. */
    setenv("BKP_PASSPHRASE_FILE", path, 1);
    setenv("BKP_PASSPHRASE_COMMAND", "printf 'from command'", 1);
    assert_int_equal(bkp_passphrase_get(NULL, 0, &p, &len), -ENOENT);
    assert_null(p);
    free(path);
}

static void test_passphrase_command(void **state)
{
    (void)state;
    char *p = NULL;
    size_t len = 0;
    setenv("BKP_PASSPHRASE_COMMAND", "printf 'from command'", 1);
    expect_pass(NULL, "from command");
    setenv("BKP_PASSPHRASE_COMMAND", "echo 'with newline'", 1);
    expect_pass(NULL, "with newline");
    /* A failing command is an error even though it printed something. */
    setenv("BKP_PASSPHRASE_COMMAND", "printf partial; exit 3", 1);
    assert_true(bkp_passphrase_get(NULL, 0, &p, &len) < 0);
    assert_null(p);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_seal_open_round_trip),    T(test_wrong_passphrase),   T(test_tampered_file),
        T(test_cost_bounds), T(test_config_mac),
        T(test_unknown_format),          T(test_signatures),         T(test_passphrase_file),
        T(test_passphrase_file_refused), T(test_passphrase_command), T(test_from_master),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
