/* The blob index table in a file: itable.h says what and why. */
#include "bkp/store/itable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/fdio.h"

#define MAGIC "BKPITB01"
#define DATA_LEN (BKP_ITABLE_BLOCK - 32)
#define ENT_FIELDS 53
#define ENT_LEN (ENT_FIELDS + 16)         /* the fields and their own MAC */
#define PER_BLOCK (DATA_LEN / ENT_LEN)    /* 58 entries */
#define IDS_PER_BLOCK (DATA_LEN / BKP_ID_LEN) /* 127 pack IDs or names */
#define BLOOM_PROBES 7

struct bkp_itable {
    int fd;
    uint8_t key[32], tid[16];
    uint64_t count, eblocks;
    uint8_t (*fences)[BKP_ID_LEN];
    uint64_t *bloom, bloom_mask; /* mask: bits - 1, bits a power of two */
    uint32_t npacks;
    uint8_t buf[BKP_ITABLE_BLOCK];
};

struct bkp_itable_writer {
    bkp_dfile *f;
    uint8_t key[32], tid[16], last[BKP_ID_LEN];
    uint64_t count, blocks;
    uint32_t fill; /* entries in buf */
    uint8_t buf[BKP_ITABLE_BLOCK];
};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void bkp_itable_key(const bkp_keys *k, uint8_t key[32])
{
    static const char label[] = "bkp blob index table, version 1";
    crypto_generichash(key, 32, (const uint8_t *)label, sizeof(label) - 1, bkp_keys_id_key(k), 32);
}

/* The MAC of block `bno` of table `tid`: its last 32 bytes. */
static void mac(const uint8_t key[32], const uint8_t tid[16], uint64_t bno, const uint8_t *data,
                uint8_t out[32])
{
    crypto_generichash_state st;
    uint8_t n[8];
    put64(n, bno);
    crypto_generichash_init(&st, key, 32, 32);
    crypto_generichash_update(&st, tid, 16);
    crypto_generichash_update(&st, n, 8);
    crypto_generichash_update(&st, data, DATA_LEN);
    crypto_generichash_final(&st, out, 32);
}

/*
 * Each entry carries a MAC of its own, BLAKE2b-128 of (table ID, fields):
 * a lookup checks only the entry it found (about 0.2 µs) instead of the
 * whole block (about 4 µs), and a no-change backup looks up every chunk of
 * every file. An absent entry needs no proof: absent is the safe answer.
 */
static void entry_mac(const uint8_t key[32], const uint8_t tid[16], const uint8_t *p,
                      uint8_t out[16])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, 16);
    crypto_generichash_update(&st, tid, 16);
    crypto_generichash_update(&st, p, ENT_FIELDS);
    crypto_generichash_final(&st, out, 16);
}

static void encode(uint8_t *p, const bkp_index_entry *e)
{
    memcpy(p, e->id, BKP_ID_LEN);
    p[32] = e->type;
    put32(p + 33, e->pack);
    put64(p + 37, e->offset);
    put32(p + 45, e->len);
    put32(p + 49, e->raw_len);
}

static void decode(const uint8_t *p, bkp_index_entry *e)
{
    memcpy(e->id, p, BKP_ID_LEN);
    e->type = p[32];
    e->pack = get32(p + 33);
    e->offset = get64(p + 37);
    e->len = get32(p + 45);
    e->raw_len = get32(p + 49);
}

/* ---- writing ---- */

int bkp_itable_writer_new(bkp_dfile *f, const uint8_t key[32], bkp_itable_writer **out)
{
    bkp_itable_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->f = f;
    memcpy(w->key, key, 32);
    randombytes_buf(w->tid, sizeof(w->tid));
    *out = w;
    return 0;
}

void bkp_itable_writer_abort(bkp_itable_writer *w)
{
    if (w)
        sodium_memzero(w->key, sizeof(w->key));
    free(w);
}

/* The block in buf (its data zero-padded by the caller), sealed and written. */
static int write_block(bkp_itable_writer *w)
{
    mac(w->key, w->tid, w->blocks, w->buf, w->buf + DATA_LEN);
    int rc = bkp_dfile_write(w->f, w->buf, BKP_ITABLE_BLOCK);
    w->blocks++;
    w->fill = 0;
    memset(w->buf, 0, sizeof(w->buf));
    return rc;
}

int bkp_itable_writer_add(bkp_itable_writer *w, const bkp_index_entry *e)
{
    if (w->count && memcmp(e->id, w->last, BKP_ID_LEN) <= 0)
        return -EINVAL;
    memcpy(w->last, e->id, BKP_ID_LEN);
    uint8_t *p = w->buf + (size_t)w->fill * ENT_LEN;
    encode(p, e);
    entry_mac(w->key, w->tid, p, p + ENT_FIELDS);
    w->count++;
    return ++w->fill == PER_BLOCK ? write_block(w) : 0;
}

static int write_ids(bkp_itable_writer *w, const uint8_t (*ids)[BKP_ID_LEN], uint32_t n)
{
    int rc = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
        memcpy(w->buf + (size_t)w->fill * BKP_ID_LEN, ids[i], BKP_ID_LEN);
        if (++w->fill == IDS_PER_BLOCK)
            rc = write_block(w);
    }
    return rc || !w->fill ? rc : write_block(w);
}

int bkp_itable_writer_end(bkp_itable_writer *w, const uint8_t (*packs)[BKP_ID_LEN], uint32_t npacks,
                          const uint8_t (*names)[BKP_ID_LEN], uint32_t nnames)
{
    int rc = w->fill ? write_block(w) : 0;
    uint64_t eblocks = w->blocks;
    if (!rc)
        rc = write_ids(w, packs, npacks);
    if (!rc)
        rc = write_ids(w, names, nnames);
    if (!rc) {
        memcpy(w->buf, MAGIC, 8);
        memcpy(w->buf + 8, w->tid, 16);
        put64(w->buf + 24, w->count);
        put64(w->buf + 32, eblocks);
        put32(w->buf + 40, npacks);
        put32(w->buf + 44, nnames);
        rc = write_block(w);
    }
    bkp_itable_writer_abort(w);
    return rc;
}

/* ---- reading ---- */

static uint64_t id_blocks(uint32_t n)
{
    return ((uint64_t)n + IDS_PER_BLOCK - 1) / IDS_PER_BLOCK;
}

/* Read block `bno` into `buf` and check its MAC. */
static int read_block(const bkp_itable *t, uint64_t bno, uint8_t *buf)
{
    uint8_t m[32];
    int rc = bkp_pread_full(t->fd, buf, BKP_ITABLE_BLOCK, bno * BKP_ITABLE_BLOCK);
    if (rc)
        return rc == -EIO ? -EBADMSG : rc; /* -EIO: the file ends early */
    mac(t->key, t->tid, bno, buf, m);
    return sodium_memcmp(m, buf + DATA_LEN, 32) ? -EBADMSG : 0;
}

static uint32_t in_block(const bkp_itable *t, uint64_t b)
{
    return b + 1 < t->eblocks ? PER_BLOCK : (uint32_t)(t->count - (t->eblocks - 1) * PER_BLOCK);
}

static void bloom_add(bkp_itable *t, const uint8_t id[BKP_ID_LEN])
{
    for (int i = 0; i < BLOOM_PROBES; i++) {
        uint64_t bit = get32(id + 4 * i) & t->bloom_mask;
        t->bloom[bit / 64] |= (uint64_t)1 << (bit % 64);
    }
}

static int bloom_has(const bkp_itable *t, const uint8_t id[BKP_ID_LEN])
{
    for (int i = 0; i < BLOOM_PROBES; i++) {
        uint64_t bit = get32(id + 4 * i) & t->bloom_mask;
        if (!(t->bloom[bit / 64] & (uint64_t)1 << (bit % 64)))
            return 0;
    }
    return 1;
}

/* The trailer: the last block, whose MAC is under its own table ID. */
static int read_trailer(bkp_itable *t, uint32_t *npacks, uint32_t *nnames)
{
    struct stat st;
    if (fstat(t->fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_size < BKP_ITABLE_BLOCK || st.st_size % BKP_ITABLE_BLOCK)
        return -EBADMSG;
    uint64_t nblocks = (uint64_t)st.st_size / BKP_ITABLE_BLOCK;
    int rc = bkp_pread_full(t->fd, t->buf, BKP_ITABLE_BLOCK, (nblocks - 1) * BKP_ITABLE_BLOCK);
    if (rc)
        return rc == -EIO ? -EBADMSG : rc;
    if (memcmp(t->buf, MAGIC, 8))
        return -EBADMSG;
    memcpy(t->tid, t->buf + 8, 16);
    if ((rc = read_block(t, nblocks - 1, t->buf)))
        return rc;
    t->count = get64(t->buf + 24);
    t->eblocks = get64(t->buf + 32);
    *npacks = get32(t->buf + 40);
    *nnames = get32(t->buf + 44);
    for (size_t i = 48; i < DATA_LEN; i++)
        if (t->buf[i])
            return -EBADMSG;
    if (t->eblocks > nblocks || t->eblocks + id_blocks(*npacks) + id_blocks(*nnames) + 1 != nblocks)
        return -EBADMSG;
    if (t->count > t->eblocks * PER_BLOCK || (t->eblocks && t->count <= (t->eblocks - 1) * PER_BLOCK))
        return -EBADMSG;
    return 0;
}

static int read_ids(bkp_itable *t, uint64_t first, uint32_t n, uint8_t (**out)[BKP_ID_LEN])
{
    uint8_t(*v)[BKP_ID_LEN] = malloc(((size_t)n + 1) * BKP_ID_LEN);
    if (!v)
        return -ENOMEM;
    for (uint64_t b = 0; b < id_blocks(n); b++) {
        int rc = read_block(t, first + b, t->buf);
        uint32_t k = n - b * IDS_PER_BLOCK < IDS_PER_BLOCK ? (uint32_t)(n - b * IDS_PER_BLOCK)
                                                           : IDS_PER_BLOCK;
        for (size_t i = (size_t)k * BKP_ID_LEN; !rc && i < DATA_LEN; i++)
            rc = t->buf[i] ? -EBADMSG : 0;
        if (rc) {
            free(v);
            return rc;
        }
        memcpy(v[b * IDS_PER_BLOCK], t->buf, (size_t)k * BKP_ID_LEN);
    }
    *out = v;
    return 0;
}

/* Every entry block: checked, in order, pack numbers in range; fences and filter. */
static int scan_entries(bkp_itable *t)
{
    uint64_t bits = 512;
    while (bits < t->count * 10 && bits < ((uint64_t)1 << 40))
        bits *= 2;
    t->bloom_mask = bits - 1;
    t->bloom = calloc(bits / 64, sizeof(uint64_t));
    t->fences = malloc((t->eblocks + 1) * BKP_ID_LEN);
    if (!t->bloom || !t->fences)
        return -ENOMEM;
    uint8_t last[BKP_ID_LEN];
    for (uint64_t b = 0; b < t->eblocks; b++) {
        int rc = read_block(t, b, t->buf);
        if (rc)
            return rc;
        uint32_t n = in_block(t, b);
        for (size_t i = (size_t)n * ENT_LEN; i < DATA_LEN; i++)
            if (t->buf[i])
                return -EBADMSG;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *p = t->buf + (size_t)i * ENT_LEN;
            if (((b || i) && memcmp(p, last, BKP_ID_LEN) <= 0) || get32(p + 33) >= t->npacks)
                return -EBADMSG;
            bloom_add(t, p);
            memcpy(last, p, BKP_ID_LEN);
        }
        memcpy(t->fences[b], t->buf, BKP_ID_LEN);
    }
    return 0;
}

int bkp_itable_open(int fd, const uint8_t key[32], bkp_itable **out, uint8_t (**packs)[BKP_ID_LEN],
                    uint32_t *npacks, uint8_t (**names)[BKP_ID_LEN], uint32_t *nnames)
{
    uint8_t(*p)[BKP_ID_LEN] = NULL, (*s)[BKP_ID_LEN] = NULL;
    uint32_t np = 0, ns = 0;
    bkp_itable *t = calloc(1, sizeof(*t));
    if (!t) {
        close(fd);
        return -ENOMEM;
    }
    t->fd = fd;
    memcpy(t->key, key, 32);
    int rc = read_trailer(t, &np, &ns);
    t->npacks = np;
    if (!rc)
        rc = read_ids(t, t->eblocks, np, &p);
    if (!rc)
        rc = read_ids(t, t->eblocks + id_blocks(np), ns, &s);
    if (!rc)
        rc = scan_entries(t);
    if (rc) {
        free(p);
        free(s);
        bkp_itable_free(t);
        return rc;
    }
    *packs = p;
    *npacks = np;
    *names = s;
    *nnames = ns;
    *out = t;
    return 0;
}

void bkp_itable_free(bkp_itable *t)
{
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    sodium_memzero(t->key, sizeof(t->key));
    free(t->fences);
    free(t->bloom);
    free(t);
}

uint64_t bkp_itable_count(const bkp_itable *t)
{
    return t->count;
}

int bkp_itable_lookup(bkp_itable *t, const uint8_t id[BKP_ID_LEN], bkp_index_entry *e)
{
    if (!t->count || !bloom_has(t, id))
        return 0;
    /* The last block whose first ID is not above `id`. */
    uint64_t lo = 0, hi = t->eblocks;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (memcmp(t->fences[mid], id, BKP_ID_LEN) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    if (memcmp(t->fences[lo], id, BKP_ID_LEN) > 0)
        return 0;
    int rc = bkp_pread_full(t->fd, t->buf, BKP_ITABLE_BLOCK, lo * BKP_ITABLE_BLOCK);
    if (rc)
        return rc == -EIO ? -EBADMSG : rc;
    uint32_t a = 0, b = in_block(t, lo);
    while (a < b) {
        uint32_t m = a + (b - a) / 2;
        const uint8_t *p = t->buf + (size_t)m * ENT_LEN;
        int c = memcmp(p, id, BKP_ID_LEN);
        if (!c) {
            uint8_t tag[16];
            entry_mac(t->key, t->tid, p, tag);
            if (sodium_memcmp(tag, p + ENT_FIELDS, 16) || get32(p + 33) >= t->npacks)
                return -EBADMSG;
            decode(p, e);
            return 1;
        }
        if (c < 0)
            a = m + 1;
        else
            b = m;
    }
    return 0;
}

void bkp_itable_id(const bkp_itable *t, uint8_t tid[16])
{
    memcpy(tid, t->tid, 16);
}

struct bkp_itable_cursor {
    bkp_itable *t;
    uint64_t block;
    uint32_t at, n; /* the next entry of the block in buf, and its entries */
    uint8_t buf[BKP_ITABLE_BLOCK];
};

int bkp_itable_cursor_new(bkp_itable *t, bkp_itable_cursor **out)
{
    bkp_itable_cursor *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->t = t;
    *out = c;
    return 0;
}

int bkp_itable_cursor_next(bkp_itable_cursor *c, bkp_index_entry *e)
{
    if (c->at == c->n) {
        if (c->block == c->t->eblocks)
            return 0;
        int rc = read_block(c->t, c->block, c->buf);
        if (rc)
            return rc;
        c->n = in_block(c->t, c->block++);
        c->at = 0;
    }
    decode(c->buf + (size_t)c->at++ * ENT_LEN, e);
    return e->pack < c->t->npacks ? 1 : -EBADMSG;
}

void bkp_itable_cursor_free(bkp_itable_cursor *c)
{
    free(c);
}

int bkp_itable_foreach(bkp_itable *t, int (*fn)(const bkp_index_entry *e, void *ctx), void *ctx)
{
    /* Its own buffer: `fn` may look blobs up in this table meanwhile. */
    uint8_t *buf = malloc(BKP_ITABLE_BLOCK);
    int rc = buf ? 0 : -ENOMEM;
    for (uint64_t b = 0; !rc && b < t->eblocks; b++) {
        rc = read_block(t, b, buf);
        for (uint32_t i = 0, n = in_block(t, b); !rc && i < n; i++) {
            bkp_index_entry e;
            decode(buf + (size_t)i * ENT_LEN, &e);
            rc = e.pack < t->npacks ? fn(&e, ctx) : -EBADMSG;
        }
    }
    free(buf);
    return rc;
}
