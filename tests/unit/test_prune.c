/*
 * test_prune.c — the prune intent (bkp/store/intent.h), its recovery (bkp/store/prune.h)
 * and the lock files (bkp/io/lock.h) as untrusted input.
 *
 * Proves that an intent signed with the repository key reads back as written;
 * that one flipped byte anywhere, another repository's key, a name that is
 * not 64 lowercase hex digits, a field of the wrong type, a missing or an
 * extra field, too many names or too many bytes are all refused; that a
 * writable open sets a planted intent aside (a symbolic link to a file
 * elsewhere, a huge file) without following or reading it, and a read-only
 * open leaves it as it is; and that lock files and temporary lock names are
 * parsed strictly.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/store/intent.h"
#include "bkp/io/lock.h"
#include "bkp/store/prune.h"
#include "bkp/store/repo.h"

#include "testutil.h"

#define PASS "a long enough passphrase"
#define PLEN (sizeof(PASS) - 1)

static const uint8_t RID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
#define RID_TEXT "01020304-0506-0708-090a-0b0c0d0e0f10"
#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static bkp_keys *keys(const uint8_t rid[16])
{
    bkp_keys *k = NULL;
    assert_int_equal(bkp_keys_generate(rid, &k), 0);
    return k;
}

static void sample(bkp_intent *in)
{
    uint8_t a[BKP_ID_LEN], b[BKP_ID_LEN];
    memset(in, 0, sizeof(*in));
    memset(a, 0xaa, sizeof(a));
    memset(b, 0x01, sizeof(b));
    in->index_written = true;
    assert_int_equal(bkp_intent_add(&in->packs, &in->npacks, a), 0);
    assert_int_equal(bkp_intent_add(&in->packs, &in->npacks, b), 0);
    assert_int_equal(bkp_intent_add(&in->old_segs, &in->nold, a), 0);
    assert_int_equal(bkp_intent_add(&in->new_segs, &in->nnew, b), 0);
}

static void test_roundtrip_and_tamper(void **state)
{
    (void)state;
    bkp_keys *k = keys(RID), *other = keys(RID);
    bkp_intent in, out;
    bkp_buf file;
    bkp_buf_init(&file);
    sample(&in);
    assert_int_equal(bkp_intent_encode(&in, k, &file), 0);
    assert_int_equal(bkp_intent_decode(file.data, file.len, k, &out), 0);
    assert_true(out.index_written);
    assert_int_equal(out.npacks, 2);
    assert_int_equal(out.nold, 1);
    assert_int_equal(out.nnew, 1);
    assert_true(bkp_intent_lists((const uint8_t(*)[BKP_ID_LEN])out.packs, out.npacks, in.packs[0]));
    bkp_intent_free(&out);
    /* Another key of the same repository ID (a forger's) is refused. */
    assert_int_equal(bkp_intent_decode(file.data, file.len, other, &out), -EBADMSG);
    /* Every single flipped byte is refused. */
    for (size_t i = 0; i < file.len; i++) {
        file.data[i] ^= 0x01;
        assert_int_equal(bkp_intent_decode(file.data, file.len, k, &out), -EBADMSG);
        assert_int_equal(out.npacks, 0);
        file.data[i] ^= 0x01;
    }
    /* Cut short, or with bytes after it. */
    assert_int_equal(bkp_intent_decode(file.data, file.len - 1, k, &out), -EBADMSG);
    bkp_buf_put(&file, "\n", 1);
    assert_int_equal(bkp_intent_decode(file.data, file.len, k, &out), -EBADMSG);
    bkp_intent_free(&in);
    bkp_buf_free(&file);
    bkp_keys_free(k);
    bkp_keys_free(other);
}

static int parse(const char *body)
{
    bkp_intent in;
    int rc = bkp_intent_parse((const uint8_t *)body, strlen(body), RID, &in);
    bkp_intent_free(&in);
    return rc;
}

#define BODY(packs, olds, news, extra)                                                             \
    "{\"format\":\"bkp-prune-intent\",\"version\":1,\"repository\":\"" RID_TEXT                   \
    "\",\"index_written\":true,\"packs\":" packs ",\"old_segments\":" olds                          \
    ",\"new_segments\":" news extra "}"

static void test_fields_checked(void **state)
{
    (void)state;
    assert_int_equal(parse(BODY("[\"" HEX_A "\"]", "[\"" HEX_B "\"]", "[]", "")), 0);
    /* Names that are not 64 lowercase hex digits. */
    assert_int_equal(parse(BODY("[\"../../../victim\"]", "[]", "[]", "")), -EBADMSG);
    assert_int_equal(parse(BODY("[]", "[\"../../../victim\"]", "[]", "")), -EBADMSG);
    assert_int_equal(parse(BODY("[]", "[]", "[\"" HEX_A "/\"]", "")), -EBADMSG);
    assert_int_equal(parse(BODY("[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]",
                                "[]", "[]", "")),
                     -EBADMSG);
    assert_int_equal(parse(BODY("[\"" HEX_A "a\"]", "[]", "[]", "")), -EBADMSG);
    assert_int_equal(parse(BODY("[\"aaaa\"]", "[]", "[]", "")), -EBADMSG);
    /* Wrong types: a number among the names, an object for a list. */
    assert_int_equal(parse(BODY("[5]", "[]", "[]", "")), -EBADMSG);
    assert_int_equal(parse(BODY("[null]", "[]", "[]", "")), -EBADMSG);
    assert_int_equal(parse(BODY("{}", "[]", "[]", "")), -EBADMSG);
    assert_int_equal(parse(BODY("\"" HEX_A "\"", "[]", "[]", "")), -EBADMSG);
    /* An unknown field, a missing one, a repeated one, another repository. */
    assert_int_equal(parse(BODY("[]", "[]", "[]", ",\"run\":\"rm -rf /\"")), -EBADMSG);
    assert_int_equal(parse("{\"packs\":[],\"old_segments\":[],\"index_written\":true}"), -EBADMSG);
    assert_int_equal(parse(BODY("[]", "[]", "[]", ",\"packs\":[]")), -EBADMSG);
    assert_int_equal(parse("{\"format\":\"bkp-prune-intent\",\"version\":1,\"repository\":"
                           "\"01020304-0506-0708-090a-0b0c0d0e0f11\",\"index_written\":true,"
                           "\"packs\":[],\"old_segments\":[],\"new_segments\":[]}"),
                     -EBADMSG);
    assert_int_equal(parse("[]"), -EBADMSG);
    assert_int_equal(parse(""), -EBADMSG);
}

static void test_counts_capped(void **state)
{
    (void)state;
    size_t n = BKP_INTENT_MAX_SEGMENTS + 1, len = 0;
    char *list = malloc(n * 67 + 3), *body = malloc(n * 67 + 512);
    assert_non_null(list);
    assert_non_null(body);
    list[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(list + len, "%s\"%s\"", i ? "," : "", HEX_A);
    list[len++] = ']';
    list[len] = '\0';
    snprintf(body, n * 67 + 512, BODY("[]", "%s", "[]", ""), list);
    assert_int_equal(parse(body), -EBADMSG);
    free(list);
    free(body);
}

typedef struct fixture {
    char base[64], repo[128], locks[160], intent[192];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || sodium_init() < 0)
        return -1;
    strcpy(f->base, "/tmp/bkp-test-prune-XXXXXX");
    if (!mkdtemp(f->base))
        return -1;
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    snprintf(f->locks, sizeof(f->locks), "%s/locks", f->repo);
    snprintf(f->intent, sizeof(f->intent), "%s/prune-intent", f->locks);
    *state = f;
    return bkp_repo_init(f->repo, PASS, PLEN) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_rm_rf(f->base);
    free(f);
    return 0;
}

/* How many files of locks/ start with `prefix`. */
static int count(const fixture *f, const char *prefix)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -c '^%s' || true", f->locks, prefix);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static void open_ok(fixture *f, unsigned flags)
{
    bkp_repo *r = NULL;
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, flags, &r), 0);
    bkp_repo_free(r);
}

static void test_planted_link_set_aside(void **state)
{
    fixture *f = *state;
    char victim[128];
    struct stat st;
    snprintf(victim, sizeof(victim), "%s/victim", f->base);
    FILE *v = fopen(victim, "w");
    assert_non_null(v);
    fputs("{\"packs\":[],\"old_segments\":[],\"index_written\":true}\n", v);
    fclose(v);
    assert_int_equal(symlink(victim, f->intent), 0);
    /* Read-only: reported, left as it is. */
    open_ok(f, BKP_REPO_READONLY);
    assert_int_equal(lstat(f->intent, &st), 0);
    assert_int_equal(count(f, "prune-intent.rejected-"), 0);
    /* Writable: the link itself is set aside, its target untouched. */
    open_ok(f, 0);
    assert_int_equal(lstat(f->intent, &st), -1);
    assert_int_equal(count(f, "prune-intent.rejected-"), 1);
    assert_int_equal(stat(victim, &st), 0);
}

static void test_huge_intent_not_read(void **state)
{
    fixture *f = *state;
    int fd = open(f->intent, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    /* Sparse: a file past the cap costs nothing here, and must not be read. */
    assert_int_equal(ftruncate(fd, (off_t)BKP_INTENT_MAX_BYTES + 1), 0);
    close(fd);
    open_ok(f, 0);
    assert_int_equal(access(f->intent, F_OK), -1);
    assert_int_equal(count(f, "prune-intent.rejected-"), 1);
}

static void test_lock_parse(void **state)
{
    (void)state;
    bkp_lock_info in;
    char host[256];
    long pid;
    long long when;
    const char *good = "host=ward-3 pid=4242 user=root time=2026-11-23T12:00:00Z command=bkp prune\n";
    assert_int_equal(bkp_lock_parse(good, strlen(good), &in), 0);
    assert_string_equal(in.host, "ward-3");
    assert_int_equal(in.pid, 4242);
    assert_string_equal(in.command, "bkp prune");
    static const char *const bad[] = {
        "host=ward-3 pid=4242 user=root time=2026-11-23T12:00:00Z command=bkp prune",
        "host=ward-3 pid=0 user=root time=t command=c\n",
        "host=ward-3 pid=-1 user=root time=t command=c\n",
        "host=ward-3 pid=12x user=root time=t command=c\n",
        "host= pid=1 user=root time=t command=c\n",
        "pid=1 host=h user=root time=t command=c\n",
        "host=h pid=1 user=root time=t command=\x1b]0;owned\x07\n",
        "host=h pid=1 user=root time=t\n",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(bkp_lock_parse(bad[i], strlen(bad[i]), &in), -EBADMSG);
    char big[BKP_LOCK_MAX + 2];
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    assert_int_equal(bkp_lock_parse(big, sizeof(big), &in), -EBADMSG);

    assert_int_equal(bkp_lock_tmp_parse(".tmp-lock-ward_3-4242-1795436222", host, sizeof(host),
                                        &pid, &when),
                     0);
    assert_string_equal(host, "ward_3");
    assert_int_equal(pid, 4242);
    assert_int_equal(when, 1795436222LL);
    assert_int_equal(bkp_lock_tmp_parse(".tmp-lock-4242-17", host, sizeof(host), &pid, &when), 0);
    assert_string_equal(host, "");
    static const char *const badnames[] = {".tmp-lock-", ".tmp-lock-x-1", ".tmp-lock-1-",
                                           ".tmp-lock--1-2", ".tmp-lock-h-0-2", ".tmp-lock-h-1-2x",
                                           ".tmp-host-1-2", ".tmp-lock-h-+1-2"};
    for (size_t i = 0; i < sizeof(badnames) / sizeof(*badnames); i++)
        assert_int_equal(bkp_lock_tmp_parse(badnames[i], host, sizeof(host), &pid, &when), -EBADMSG);
}

static void test_stale_tmp_lock_removed(void **state)
{
    fixture *f = *state;
    char p[256], q[256];
    bkp_lock *l = NULL;
    /* A writer killed between creating and linking its temporary lock file:
     * its pid (a child that has exited) is gone. */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    assert_true(child > 0);
    while (waitpid(child, NULL, 0) < 0)
        ;
    snprintf(p, sizeof(p), "%s/.tmp-lock-%ld-%lld", f->locks, (long)child, (long long)time(NULL));
    /* Another host's, fresh: not ours to judge. */
    snprintf(q, sizeof(q), "%s/.tmp-lock-elsewhere-%ld-%lld", f->locks, (long)child,
             (long long)time(NULL));
    FILE *a = fopen(p, "w"), *b = fopen(q, "w");
    assert_non_null(a);
    assert_non_null(b);
    fclose(a);
    fclose(b);
    assert_int_equal(bkp_lock_take(f->repo, "run", "test", &l), 0);
    bkp_lock_release(l);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(access(q, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_tamper),
        cmocka_unit_test(test_fields_checked),
        cmocka_unit_test(test_counts_capped),
        cmocka_unit_test_setup_teardown(test_planted_link_set_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_intent_not_read, setup, teardown),
        cmocka_unit_test(test_lock_parse),
        cmocka_unit_test_setup_teardown(test_stale_tmp_lock_removed, setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
