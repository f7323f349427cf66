/*
 * gen-rng.h — the deterministic PRNG (xoshiro256**, splitmix64 seeding) and growable text buffers.
 * Part of gen-data.c, which includes it: the generator stays one translation
 * unit, built with one `cc` command.
 */

/* ---------------------------------------------------------------- PRNG */

typedef struct { uint64_t s[4]; } rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_init(rng_t *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL ^ stream * 0xd1b54a32d192ed03ULL
               ^ index * 0xaf251af3b0f025b5ULL;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, n); multiply-shift, deterministic everywhere. */
static inline uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline uint64_t rng_range(rng_t *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_next(r) % (hi - lo + 1);
}

#define PICK(r, arr) (arr[rng_below((r), sizeof(arr) / sizeof(arr[0]))])

/* -------------------------------------------------------------- buffer */

typedef struct { char *p; size_t len, cap; } buf_t;

static void b_grow(buf_t *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) die("out of memory%s", "");
    b->cap = cap;
}

static inline void b_put(buf_t *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) b_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static inline void b_puts(buf_t *b, const char *s) { b_put(b, s, strlen(s)); }

static inline void b_ch(buf_t *b, char c)
{
    if (b->len + 1 > b->cap) b_grow(b, 1);
    b->p[b->len++] = c;
}

static void b_u64(buf_t *b, uint64_t v)
{
    char t[24];
    int n = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    if (b->len + n > b->cap) b_grow(b, n);
    while (n) b->p[b->len++] = t[--n];
}

/* Zero-padded to width w. */
static void b_pad(buf_t *b, uint64_t v, int w)
{
    char t[24];
    int n = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n < w) t[n++] = '0';
    if (b->len + n > b->cap) b_grow(b, n);
    while (n) b->p[b->len++] = t[--n];
}

/* Fixed-point number v / 10^dec. */
static void b_fix(buf_t *b, uint64_t v, int dec)
{
    uint64_t p = 1;
    for (int i = 0; i < dec; i++) p *= 10;
    b_u64(b, v / p);
    if (dec) { b_ch(b, '.'); b_pad(b, v % p, dec); }
}
