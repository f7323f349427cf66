/*
 * test_repo.c — the repository object store (bkp/store/repo.h).
 *
 * Proves that init refuses short passphrases and non-empty directories without
 * leaving anything half-made; that blobs put and flushed come back identical
 * (also after reopening) and are stored once however often, or from however
 * many threads, they are put; that a wrong passphrase is refused; and that an
 * interrupted run loses only what it never flushed: its unfinished pack is
 * removed at the next start-up while any pack it did finish is re-indexed
 * from the pack's own trailer, and a live writer's temporary file is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/io/bytes.h"
#include "bkp/store/config.h"
#include "bkp/io/durable.h"
#include "bkp/keys/key_slots.h"
#include "bkp/store/repo.h"
#include "bkp/store/repo_internal.h"

#include "testutil.h"

#define PASS "a long enough passphrase"
#define PLEN (sizeof(PASS) - 1)

typedef struct fixture {
    char base[64], repo[128], packs[160];
} fixture;

/* What a walk below a directory found: temporary files, and finished packs
 * (packs/XX/ID) with, when `keys` is set, the blob IDs their trailers list. */
static struct walk {
    int tmps, packs;
    const bkp_keys *keys;
    uint8_t (*ids)[BKP_ID_LEN];
    uint32_t nids;
} walk;

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    strcpy(f->base, "/tmp/bkp-test-repo-XXXXXX");
    if (sodium_init() < 0 || !mkdtemp(f->base))
        return teardown(state), -1;
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    snprintf(f->packs, sizeof(f->packs), "%s/packs", f->repo);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(walk.ids);
    memset(&walk, 0, sizeof(walk));
    test_rm_rf(f->base);
    free(f);
    return 0;
}

/* Free `r` (may be NULL) and open the repository again. */
static bkp_repo *reopen(fixture *f, bkp_repo *r, unsigned flags)
{
    bkp_repo_free(r);
    r = NULL;
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, flags, &r), 0);
    return r;
}

static bkp_repo *init_open(fixture *f)
{
    assert_int_equal(bkp_repo_init(f->repo, PASS, PLEN), 0);
    return reopen(f, NULL, 0);
}

/* Blob `i` of a deterministic set: odd ones random, even ones text. */
static uint8_t *blob_data(uint32_t i, size_t len)
{
    uint8_t *p = malloc(len ? len : 1), seed[randombytes_SEEDBYTES] = {0};
    assert_non_null(p);
    memcpy(seed, &i, sizeof(i));
    randombytes_buf_deterministic(p, len, seed);
    if (i % 2 == 0)
        for (size_t j = 0; j < len; j++)
            p[j] = (uint8_t)('a' + (p[j] & 3));
    return p;
}

static void put_ok(bkp_repo *r, const void *d, size_t len, uint8_t id[BKP_ID_LEN], uint64_t *added)
{
    assert_int_equal(bkp_repo_put(r, BKP_BLOB_DATA, d, len, id, added), 0);
}

/* `id` reads back as `d`; or, with d NULL, is missing (-ENODATA). */
static void get_equals(bkp_repo *r, const uint8_t id[BKP_ID_LEN], const void *d, size_t len)
{
    bkp_buf out;
    bkp_buf_init(&out);
    int rc = bkp_repo_get(r, BKP_BLOB_DATA, id, &out);
    assert_int_equal(rc, d ? 0 : -ENODATA);
    if (d) {
        assert_int_equal(out.len, len);
        assert_memory_equal(out.data, d, len);
    }
    bkp_buf_free(&out);
}

static int walk_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0;
    if (strncmp(p + ftw->base, ".tmp-", 5) == 0) {
        walk.tmps++;
        return 0;
    }
    if (flag != FTW_F || ftw->level != 2 || !strstr(p, "/packs/"))
        return 0;
    walk.packs++;
    if (!walk.keys)
        return 0;
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(bkp_pack_read_trailer(fd, (uint64_t)st->st_size, walk.keys, &ents, &n), 0);
    close(fd);
    walk.ids = realloc(walk.ids, ((size_t)walk.nids + n + 1) * BKP_ID_LEN);
    assert_non_null(walk.ids);
    for (uint32_t i = 0; i < n; i++)
        memcpy(walk.ids[walk.nids++], ents[i].id, BKP_ID_LEN);
    free(ents);
    return 0;
}

/* How often the last walk's trailers list `id`. */
static int listed_times(const uint8_t id[BKP_ID_LEN])
{
    int n = 0;
    for (uint32_t i = 0; i < walk.nids; i++)
        n += memcmp(walk.ids[i], id, BKP_ID_LEN) == 0;
    return n;
}

static void walk_dir(const char *dir, const bkp_keys *keys)
{
    free(walk.ids);
    memset(&walk, 0, sizeof(walk));
    walk.keys = keys;
    assert_int_equal(nftw(dir, walk_cb, 16, FTW_PHYS), 0);
}

static int count_tmp(const char *dir)
{
    walk_dir(dir, NULL);
    return walk.tmps;
}

/* Blobs listed by all trailers on disk (IDs in walk.ids until the next walk). */
static uint32_t pack_entries(fixture *f, bkp_repo *r)
{
    walk_dir(f->packs, bkp_repo_keys(r));
    return walk.nids;
}

static void test_init_refuses_short_passphrase(void **state)
{
    fixture *f = *state;
    struct stat st;
    /* 12 characters: refused, and the directory is not even created. */
    assert_int_equal(bkp_repo_init(f->repo, "twelve chars", 12), -EINVAL);
    assert_int_equal(stat(f->repo, &st), -1);
    assert_int_equal(errno, ENOENT);
    /* Characters are counted, not bytes: 12 two-byte letters are too few. */
    static const char e12[] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    assert_int_equal(bkp_repo_init(f->repo, e12, sizeof(e12) - 1), -EINVAL);
    assert_int_equal(stat(f->repo, &st), -1);
    /* An existing empty directory stays empty. */
    assert_int_equal(mkdir(f->repo, 0700), 0);
    assert_int_equal(bkp_repo_init(f->repo, "twelve chars", 12), -EINVAL);
    assert_int_equal(rmdir(f->repo), 0); /* only an empty directory can be removed */
    /* 13 characters are enough, and the result opens. */
    assert_int_equal(bkp_repo_init(f->repo, "thirteen char", 13), 0);
    bkp_repo *r = NULL;
    assert_int_equal(bkp_repo_open(f->repo, "thirteen char", 13, 0, &r), 0);
    bkp_repo_free(r);
}

static void test_init_refuses_existing(void **state)
{
    fixture *f = *state;
    char p[200];
    bkp_buf key1, key2;
    bkp_buf_init(&key1);
    bkp_buf_init(&key2);
    assert_int_equal(bkp_repo_init(f->repo, PASS, PLEN), 0);
    snprintf(p, sizeof(p), "%s/keys/key", f->repo);
    assert_int_equal(bkp_read_file(p, &key1, 4096), 0);
    /* A second init must never replace the key of a repository. */
    assert_int_equal(bkp_repo_init(f->repo, "another long passphrase", 23), -EEXIST);
    assert_int_equal(bkp_read_file(p, &key2, 4096), 0);
    assert_int_equal(key1.len, key2.len);
    assert_memory_equal(key1.data, key2.data, key1.len);
    bkp_repo_free(reopen(f, NULL, 0));
    bkp_buf_free(&key1);
    bkp_buf_free(&key2);
}

/* A `bkp key` command opens, then takes the keys lock and reads the list
 * again: it must find the slot it opened by id and sealed bytes, and know
 * when another change came in between (a slot resealed, or one removed
 * before it, which shifts every position). */
static void test_key_slot_in_a_changed_list(void **state)
{
    fixture *f = *state;
    bkp_repo *r = init_open(f);
    bkp_key_slots s, changed;
    assert_int_equal(bkp_repo_key_slots(r, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.serial, 1);
    assert_int_equal(bkp_repo_key_slot_in(r, &s), 0);
    /* Another slot in front: the same slot, at another position. */
    changed = s;
    changed.slot[1] = changed.slot[0];
    changed.slot[0] = s.slot[0];
    memcpy(changed.slot[0].id, "0123456789abcdef", 17);
    changed.n = 2;
    assert_int_equal(bkp_repo_key_slot_in(r, &changed), 1);
    /* Its passphrase changed meanwhile: stale. */
    changed = s;
    assert_int_equal(bkp_key_slots_reseal(&changed, 0, bkp_repo_keys(r), "another long passphrase",
                                          23, 5),
                     0);
    assert_int_equal(bkp_repo_key_slot_in(r, &changed), -ESTALE);
    /* Stored, the list opens with the new passphrase only, and names serial 2. */
    assert_int_equal(bkp_repo_key_slots_store(r, &changed), 0);
    bkp_repo_free(r);
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, 0, &r), -EKEYREJECTED);
    assert_int_equal(bkp_repo_open(f->repo, "another long passphrase", 23, 0, &r), 0);
    assert_int_equal(bkp_repo_key_slots(r, &s), 0);
    assert_int_equal(s.serial, 2);
    bkp_repo_free(r);
}

static void test_key_file_is_private(void **state)
{
    fixture *f = *state;
    /* The key file is owner-only: never readable by group or others. */
    char p[200];
    struct stat st;
    assert_int_equal(bkp_repo_init(f->repo, PASS, PLEN), 0);
    snprintf(p, sizeof(p), "%s/keys/key", f->repo);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    bkp_repo *r = init_open(f);
    size_t lens[] = {65536, 300000, 0, 1};
    uint8_t ids[4][BKP_ID_LEN], *data[4], unknown[BKP_ID_LEN];
    uint64_t added;
    for (uint32_t i = 0; i < 4; i++) {
        data[i] = blob_data(i, lens[i]);
        put_ok(r, data[i], lens[i], ids[i], &added);
        assert_true(added > 0);
    }
    assert_true(bkp_repo_has(r, ids[0]));
    assert_int_equal(bkp_repo_flush(r), 0);
    for (int i = 0; i < 4; i++)
        get_equals(r, ids[i], data[i], lens[i]);
    randombytes_buf(unknown, sizeof(unknown));
    get_equals(r, unknown, NULL, 0);
    assert_false(bkp_repo_has(r, unknown));
    /* Data and tree blobs are deduplicated by content, so asking for either
     * type gives the same authenticated bytes; no other type is returned. */
    bkp_buf out;
    bkp_buf_init(&out);
    assert_int_equal(bkp_repo_get(r, BKP_BLOB_TREE, ids[0], &out), 0);
    assert_int_equal(out.len, lens[0]);
    assert_memory_equal(out.data, data[0], lens[0]);
    assert_true(bkp_repo_get(r, BKP_BLOB_INDEX, ids[0], &out) < 0);
    assert_true(bkp_repo_get(r, BKP_BLOB_CACHE, ids[0], &out) < 0);
    bkp_buf_free(&out);

    /* After reopening, read-write and read-only, everything is found. */
    r = reopen(f, r, 0);
    for (int i = 0; i < 4; i++)
        get_equals(r, ids[i], data[i], lens[i]);
    r = reopen(f, r, BKP_REPO_READONLY);
    for (int i = 0; i < 4; i++)
        get_equals(r, ids[i], data[i], lens[i]);
    get_equals(r, unknown, NULL, 0);
    bkp_repo_free(r);
    for (int i = 0; i < 4; i++)
        free(data[i]);
}

static void test_dedup(void **state)
{
    fixture *f = *state;
    bkp_repo *r = init_open(f);
    uint8_t *d = blob_data(1, 100000), id1[BKP_ID_LEN], id2[BKP_ID_LEN];
    uint64_t added = 99;
    put_ok(r, d, 100000, id1, &added);
    assert_true(added >= 100000);
    put_ok(r, d, 100000, id2, &added);
    assert_int_equal(added, 0);
    assert_memory_equal(id1, id2, BKP_ID_LEN);
    assert_int_equal(bkp_repo_flush(r), 0);
    r = reopen(f, r, 0);
    put_ok(r, d, 100000, id2, &added); /* known from the index on disk */
    assert_int_equal(added, 0);
    assert_int_equal(bkp_repo_flush(r), 0);
    assert_int_equal(bkp_index_count(bkp_repo_index(r)), 1);
    assert_int_equal(pack_entries(f, r), 1);
    bkp_repo_free(r);
    free(d);
}

static void test_wrong_passphrase(void **state)
{
    fixture *f = *state;
    bkp_repo *r = NULL;
    assert_int_equal(bkp_repo_init(f->repo, PASS, PLEN), 0);
    assert_int_equal(bkp_repo_open(f->repo, "a long enough passphrasf", PLEN, 0, &r),
                     -EKEYREJECTED);
    assert_null(r);
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN - 1, 0, &r), -EKEYREJECTED);
    assert_null(r);
}

/* The repository's config into `b`, NUL-terminated. */
static void read_config(fixture *f, bkp_buf *b)
{
    char path[160];
    bkp_buf_init(b);
    snprintf(path, sizeof(path), "%s/config", f->repo);
    assert_int_equal(bkp_read_file(path, b, 1 << 16), 0);
    bkp_buf_u8(b, 0);
}

/* Replace `from` by `to` in the repository's config (which must hold it). */
static void edit_config(fixture *f, const char *from, const char *to)
{
    char path[160];
    bkp_buf b;
    read_config(f, &b);
    snprintf(path, sizeof(path), "%s/config", f->repo);
    char *at = strstr((char *)b.data, from), *text = NULL;
    assert_non_null(at);
    assert_true(asprintf(&text, "%.*s%s%s", (int)(at - (char *)b.data), (char *)b.data, to,
                         at + strlen(from)) > 0);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    free(text);
    bkp_buf_free(&b);
}

/* The config is bound to the key: a changed byte of `created` or of a
 * chunker size is refused, and so is a chunker size out of its range. */
static void test_config_bound(void **state)
{
    fixture *f = *state;
    bkp_repo *r = NULL;
    char path[160], *good = NULL;
    bkp_buf b;
    bkp_buf_init(&b);
    assert_int_equal(bkp_repo_init_ids(f->repo, PASS, PLEN, BKP_ID_BLAKE2B), 0);
    snprintf(path, sizeof(path), "%s/config", f->repo);
    assert_int_equal(bkp_read_file(path, &b, 1 << 16), 0);
    bkp_buf_u8(&b, 0);
    good = strdup((char *)b.data);
    assert_non_null(strstr(good, "\"version\": 3"));
    assert_null(strstr(good, "chunk_id"));
    assert_non_null(strstr(good, "\"mac\": \""));
    r = reopen(f, NULL, 0);
    bkp_repo_free(r);
    r = NULL;

    edit_config(f, "\"created\": \"20", "\"created\": \"21");
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, 0, &r), -EBADMSG);
    edit_config(f, "\"created\": \"21", "\"created\": \"20");
    edit_config(f, "\"min\": 262144", "\"min\": 262145");
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), -EBADMSG);
    edit_config(f, "\"min\": 262145", "\"min\": 64");
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, 0, &r), -EBADMSG);
    edit_config(f, "\"min\": 64", "\"min\": 262144");
    edit_config(f, "\"mac\": \"", "\"mac\": \"0");
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, 0, &r), -EBADMSG);
    assert_null(r);
    edit_config(f, "\"mac\": \"0", "\"mac\": \"");
    r = reopen(f, NULL, 0); /* the intact config opens again */
    bkp_repo_free(r);
    free(good);
    bkp_buf_free(&b);
}

/* A blob put in a repository made with `h`, read back after a reopen: its
 * ID is that function of its bytes under the chunk-ID key, nothing else. */
static void put_named_by(fixture *f, bkp_id_hash h, const char *version)
{
    uint8_t data[5000], id[BKP_ID_LEN], want[32];
    char path[160];
    bkp_buf b;
    bkp_buf_init(&b);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13 + 7);
    assert_int_equal(bkp_repo_init_ids(f->repo, PASS, PLEN, h), 0);
    snprintf(path, sizeof(path), "%s/config", f->repo);
    assert_int_equal(bkp_read_file(path, &b, 1 << 16), 0);
    bkp_buf_u8(&b, 0);
    assert_non_null(strstr((char *)b.data, version));
    assert_true(!strstr((char *)b.data, "\"chunk_id\": \"hmac-sha256\"") ==
                (h == BKP_ID_BLAKE2B));
    bkp_repo *r = reopen(f, NULL, 0);
    assert_int_equal(bkp_keys_id_hash(bkp_repo_keys(r)), h);
    assert_int_equal(bkp_repo_put(r, BKP_BLOB_DATA, data, sizeof(data), id, NULL), 0);
    const uint8_t *key = bkp_keys_id_key(bkp_repo_keys(r));
    if (h == BKP_ID_HMAC_SHA256)
        crypto_auth_hmacsha256(want, data, sizeof(data), key);
    else
        crypto_generichash(want, 32, data, sizeof(data), key, 32);
    assert_memory_equal(id, want, 32);
    assert_int_equal(bkp_repo_flush(r), 0);
    r = reopen(f, r, BKP_REPO_READONLY);
    assert_int_equal(bkp_repo_get(r, BKP_BLOB_DATA, id, &b), 0);
    assert_int_equal(b.len, sizeof(data));
    assert_memory_equal(b.data, data, sizeof(data));
    bkp_repo_free(r);
    bkp_buf_free(&b);
}

/* The repository's config rewritten as format 2 (no MAC, no chunk_id): what
 * root on the server can write without the key. */
static void strip_to_v2(fixture *f)
{
    char path[160], pk[65];
    bkp_buf b;
    bkp_config c;
    bkp_buf_init(&b);
    snprintf(path, sizeof(path), "%s/config", f->repo);
    assert_int_equal(bkp_read_file(path, &b, 1 << 16), 0);
    assert_int_equal(bkp_config_parse(b.data, b.len, &c, NULL), 0);
    bkp_hex(pk, c.sign_pk, 32);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp,
            "{\n  \"chunker\": {\n    \"avg\": 1048576,\n    \"max\": 4194304,\n    \"min\": "
            "262144\n  },\n  \"created\": \"%s\",\n  \"format\": \"bkp-repository\",\n  \"id\": "
            "\"%s\",\n  \"sign_public\": \"%s\",\n  \"version\": 2\n}\n",
            c.created, c.id, pk);
    fclose(fp);
    bkp_buf_free(&b);
}

static bool config_says(fixture *f, const char *what)
{
    bkp_buf b;
    read_config(f, &b);
    bool yes = strstr((char *)b.data, what) != NULL;
    bkp_buf_free(&b);
    return yes;
}

/* A format 2 config carries no MAC, so it is believed only when a stored
 * blob confirms its function: stripping an HMAC-SHA-256 repository's config
 * to format 2 is refused by every open and never bound under a new MAC; a
 * copy's must be its primary's; a genuine format 2 (keyed BLAKE2b) is
 * confirmed and upgraded as before. */
static void test_chunk_id_not_stripped(void **state)
{
    fixture *f = *state;
    bkp_repo *r = NULL, *p = NULL;
    char primary[128], copy[128], path[160];
    bkp_buf good;
    bkp_buf_init(&good);
    put_named_by(f, BKP_ID_HMAC_SHA256, "\"version\": 4");
    snprintf(primary, sizeof(primary), "%s", f->repo);
    snprintf(copy, sizeof(copy), "%s/copy", f->base);
    snprintf(path, sizeof(path), "%s/config", f->repo);
    assert_int_equal(bkp_read_file(path, &good, 1 << 16), 0);

    /* A copy whose config was stripped: not its primary's function. */
    p = reopen(f, NULL, 0);
    assert_int_equal(bkp_repo_init_copy(p, copy), 0);
    assert_int_equal(bkp_repo_open_copy(copy, p, BKP_REPO_READONLY, &r), 0);
    bkp_repo_free(r);
    r = NULL;
    snprintf(f->repo, sizeof(f->repo), "%s", copy);
    strip_to_v2(f);
    snprintf(f->repo, sizeof(f->repo), "%s", primary);
    assert_int_equal(bkp_repo_open_copy(copy, p, BKP_REPO_READONLY, &r), -EBADMSG);
    assert_null(r);
    bkp_repo_free(p);

    /* The primary's stripped: refused read-only and writable, and left as
     * it was found, not bound to the key as format 3. */
    strip_to_v2(f);
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), -EBADMSG);
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, 0, &r), -EBADMSG);
    assert_null(r);
    assert_true(config_says(f, "\"version\": 2"));
    /* The index taken away as well: the packs, adopted again at the open,
     * still tell the function before anything is rewritten. */
    char dir[192];
    snprintf(dir, sizeof(dir), "%s/index", f->repo);
    test_rm_rf(dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dir, sizeof(dir), "%s/cache", f->repo);
    test_rm_rf(dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, 0, &r), -EBADMSG);
    assert_null(r);
    assert_true(config_says(f, "\"version\": 2"));
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(good.data, 1, good.len, fp), good.len);
    fclose(fp);
    r = reopen(f, NULL, 0); /* the genuine config opens again */
    assert_int_equal(bkp_keys_id_hash(bkp_repo_keys(r)), BKP_ID_HMAC_SHA256);
    bkp_repo_free(r);

    /* A genuine format 2 (keyed BLAKE2b, what earlier versions wrote) is
     * confirmed by its blob and bound to the key by a writable open. */
    snprintf(f->repo, sizeof(f->repo), "%s/repo2", f->base);
    put_named_by(f, BKP_ID_BLAKE2B, "\"version\": 3");
    strip_to_v2(f);
    r = reopen(f, NULL, BKP_REPO_READONLY);
    assert_true(config_says(f, "\"version\": 2"));
    r = reopen(f, r, 0);
    assert_true(config_says(f, "\"version\": 3"));
    assert_int_equal(bkp_keys_id_hash(bkp_repo_keys(r)), BKP_ID_BLAKE2B);
    bkp_repo_free(r);
    bkp_buf_free(&good);
}

/* Chunk IDs by HMAC-SHA-256 (format 4) or keyed BLAKE2b (format 3); the
 * choice is bound to the key like every other byte of the config, so it can
 * be neither stripped nor swapped: a changed function would name every
 * chunk anew and every old one as missing. */
static void test_chunk_id_function(void **state)
{
    fixture *f = *state;
    bkp_repo *r = NULL;
    put_named_by(f, BKP_ID_HMAC_SHA256, "\"version\": 4");
    edit_config(f, "\"version\": 4", "\"version\": 3"); /* chunk_id left in a 3 */
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), -EBADMSG);
    edit_config(f, "\"chunk_id\": \"hmac-sha256\",", ""); /* and taken out */
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), -EBADMSG);
    edit_config(f, "\"version\": 3", "\"version\": 4"); /* a 4 that names none */
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), -EBADMSG);
    edit_config(f, "{", "{\"chunk_id\": \"blake2b\","); /* one this bkp does not know */
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), -EBADMSG);
    assert_null(r);
    snprintf(f->repo, sizeof(f->repo), "%s/repo2", f->base);
    put_named_by(f, BKP_ID_BLAKE2B, "\"version\": 3");
    /* A format 3 made to say HMAC-SHA-256: well formed, but not the key's. */
    edit_config(f, "\"version\": 3", "\"version\": 4");
    edit_config(f, "{", "{\"chunk_id\": \"hmac-sha256\",");
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), -EBADMSG);
    assert_null(r);
}

static void test_unflushed_is_abandoned(void **state)
{
    fixture *f = *state;
    bkp_repo *r = init_open(f), *r2 = NULL;
    uint8_t *a = blob_data(1, 5000), *b = blob_data(3, 5000), *c = blob_data(5, 5000);
    uint8_t ida[BKP_ID_LEN], idb[BKP_ID_LEN], idc[BKP_ID_LEN];
    put_ok(r, a, 5000, ida, NULL);
    assert_int_equal(bkp_repo_flush(r), 0);
    put_ok(r, b, 5000, idb, NULL);
    assert_int_equal(count_tmp(f->repo), 1); /* the open pack */
    r = reopen(f, r, 0);                     /* freed without a flush */
    get_equals(r, ida, a, 5000);
    get_equals(r, idb, NULL, 0);
    assert_false(bkp_repo_has(r, idb));
    assert_int_equal(count_tmp(f->repo), 0);

    /* A second handle opened meanwhile (a concurrent run) keeps the first
     * one's open pack, which can still be flushed. */
    put_ok(r, c, 5000, idc, NULL);
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, 0, &r2), 0);
    assert_int_equal(count_tmp(f->repo), 1);
    bkp_repo_free(r2);
    assert_int_equal(bkp_repo_flush(r), 0);
    r = reopen(f, r, 0);
    get_equals(r, idc, c, 5000);
    bkp_repo_free(r);
    free(a);
    free(b);
    free(c);
}

#define CHILD_BLOBS 40
#define CHILD_SIZE (1U << 20)

/* Wait (at most 60 s) until a finished pack appears below packs/. */
static bool wait_for_pack(fixture *f)
{
    for (int tries = 0; tries < 600; tries++) {
        walk_dir(f->packs, NULL);
        if (walk.packs > 0)
            return true;
        usleep(100000);
    }
    return false;
}

static void test_dead_writer_recovered(void **state)
{
    fixture *f = *state;
    assert_int_equal(bkp_repo_init(f->repo, PASS, PLEN), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* An interrupted backup: more than a pack's worth, never flushed. */
        bkp_repo *cr = NULL;
        uint8_t id[BKP_ID_LEN];
        if (bkp_repo_open(f->repo, PASS, PLEN, 0, &cr))
            _exit(1);
        for (uint32_t i = 0; i < CHILD_BLOBS; i++) {
            uint8_t *d = blob_data(2 * i + 1, CHILD_SIZE);
            if (bkp_repo_put(cr, BKP_BLOB_DATA, d, CHILD_SIZE, id, NULL))
                _exit(2);
            free(d);
        }
        _exit(wait_for_pack(f) ? 0 : 3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(count_tmp(f->repo) >= 1); /* the dead child's unfinished pack */

    bkp_repo *r = reopen(f, NULL, 0);
    assert_int_equal(count_tmp(f->repo), 0);
    uint32_t nlisted = pack_entries(f, r);
    assert_true(nlisted >= BKP_PACK_TARGET / (CHILD_SIZE + BKP_BLOB_OVERHEAD));
    assert_true(nlisted < CHILD_BLOBS);
    uint32_t found = 0;
    for (uint32_t i = 0; i < CHILD_BLOBS; i++) {
        uint8_t *d = blob_data(2 * i + 1, CHILD_SIZE), id[BKP_ID_LEN];
        bkp_blob_id(bkp_repo_keys(r), d, CHILD_SIZE, id);
        bool in_pack = listed_times(id) == 1;
        get_equals(r, id, in_pack ? d : NULL, CHILD_SIZE); /* re-indexed from the trailer */
        found += in_pack;
        free(d);
    }
    assert_int_equal(found, nlisted);
    /* The re-indexing was made durable: a read-only open finds them too. */
    r = reopen(f, r, BKP_REPO_READONLY);
    assert_int_equal(bkp_index_count(bkp_repo_index(r)), nlisted);
    bkp_repo_free(r);
}

#define POOL 64
#define THREADS 4

typedef struct worker {
    bkp_repo *r;
    pthread_barrier_t *start;
    int rc;
    uint8_t **data;
    size_t *lens;
    uint32_t stored[POOL]; /* times `added` was non-zero */
} worker;

/* Every thread puts the whole pool in the same order, all starting at once:
 * each blob is contended by all of them. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(w->start);
    for (int i = 0; i < POOL && !w->rc; i++) {
        uint8_t id[BKP_ID_LEN];
        uint64_t added = 0;
        w->rc = bkp_repo_put(w->r, BKP_BLOB_DATA, w->data[i], w->lens[i], id, &added);
        w->stored[i] += added > 0;
    }
    return NULL;
}

static void test_concurrent_puts(void **state)
{
    fixture *f = *state;
    bkp_repo *r = init_open(f);
    uint8_t *data[POOL], ids[POOL][BKP_ID_LEN];
    size_t lens[POOL];
    worker w[THREADS];
    pthread_t th[THREADS];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (uint32_t i = 0; i < POOL; i++) {
        lens[i] = 50000 + i * 1000;
        data[i] = blob_data(i, lens[i]);
        bkp_blob_id(bkp_repo_keys(r), data[i], lens[i], ids[i]);
    }
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){.r = r, .start = &start, .data = data, .lens = lens};
        assert_int_equal(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < POOL; i++) {
        uint32_t stored = 0;
        for (int t = 0; t < THREADS; t++) {
            assert_int_equal(w[t].rc, 0);
            stored += w[t].stored[i];
        }
        assert_int_equal(stored, 1);
    }
    assert_int_equal(bkp_repo_flush(r), 0);
    /* Each distinct blob is in exactly one pack, once. */
    assert_int_equal(pack_entries(f, r), POOL);
    for (int i = 0; i < POOL; i++)
        assert_int_equal(listed_times(ids[i]), 1);
    r = reopen(f, r, 0);
    assert_int_equal(bkp_index_count(bkp_repo_index(r)), POOL);
    for (int i = 0; i < POOL; i++)
        get_equals(r, ids[i], data[i], lens[i]);
    bkp_repo_free(r);
    for (int i = 0; i < POOL; i++)
        free(data[i]);
}

/* More putters than pack writers (the captures of a run side by side; here
 * one writer),
 * and flushes among them: every put waits its turn for a writer, never
 * fails; every blob of every put is readable from a fresh handle. */
#define MANY 48
#define EACH 6

typedef struct putter {
    bkp_repo *r;
    pthread_barrier_t *start;
    int t, rc;
    uint8_t ids[EACH][BKP_ID_LEN];
} putter;

static void *putter_main(void *arg)
{
    putter *p = arg;
    pthread_barrier_wait(p->start);
    for (int i = 0; i < EACH && !p->rc; i++) {
        uint8_t *d = blob_data((uint32_t)(1000 + p->t * EACH + i), 120000);
        p->rc = bkp_repo_put(p->r, BKP_BLOB_DATA, d, 120000, p->ids[i], NULL);
        free(d);
    }
    return NULL;
}

typedef struct flusher {
    bkp_repo *r;
    _Atomic bool stop;
    int rc, flushes;
} flusher;

static void *flusher_main(void *arg)
{
    flusher *fl = arg;
    while (!fl->stop && !fl->rc) {
        fl->rc = bkp_repo_flush(fl->r);
        fl->flushes++;
        usleep(2000);
    }
    return NULL;
}

static void test_many_putters_and_flushes(void **state)
{
    fixture *f = *state;
    bkp_repo *r = init_open(f);
    static putter p[MANY];
    pthread_t th[MANY], ft;
    pthread_barrier_t start;
    flusher fl = {.r = r};
    r->writers_max = 1; /* so that most puts wait for a writer */
    assert_int_equal(pthread_barrier_init(&start, NULL, MANY), 0);
    assert_int_equal(pthread_create(&ft, NULL, flusher_main, &fl), 0);
    for (int t = 0; t < MANY; t++) {
        p[t] = (putter){.r = r, .start = &start, .t = t};
        assert_int_equal(pthread_create(&th[t], NULL, putter_main, &p[t]), 0);
    }
    for (int t = 0; t < MANY; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    fl.stop = true;
    assert_int_equal(pthread_join(ft, NULL), 0);
    pthread_barrier_destroy(&start);
    assert_int_equal(fl.rc, 0);
    assert_true(fl.flushes > 0);
    for (int t = 0; t < MANY; t++)
        assert_int_equal(p[t].rc, 0);
    assert_int_equal(bkp_repo_flush(r), 0);
    r = reopen(f, r, 0);
    for (int t = 0; t < MANY; t++)
        for (int i = 0; i < EACH; i++) {
            uint8_t *d = blob_data((uint32_t)(1000 + t * EACH + i), 120000);
            get_equals(r, p[t].ids[i], d, 120000);
            free(d);
        }
    bkp_repo_free(r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_init_refuses_short_passphrase),
        T(test_init_refuses_existing),
        T(test_key_file_is_private),
        T(test_key_slot_in_a_changed_list),
        T(test_round_trip),
        T(test_dedup),
        T(test_wrong_passphrase),
        T(test_config_bound),
        T(test_chunk_id_function),
        T(test_chunk_id_not_stripped),
        T(test_unflushed_is_abandoned),
        T(test_dead_writer_recovered),
        T(test_concurrent_puts),
        T(test_many_putters_and_flushes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
