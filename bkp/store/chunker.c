#include "bkp/store/chunker.h"

#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

struct bkp_chunker {
    uint64_t gear[256];
    uint64_t mask_s; /* harder: used before the average size */
    uint64_t mask_l; /* easier: used after it */
    uint32_t min, avg, max;
};

/* `bits` one-bits at the top of the word. A gear hash shifts left, so bit k
 * depends on the last k+1 bytes: the top bits see a window of about 64 bytes. */
static uint64_t top_mask(unsigned bits)
{
    return bits == 0 ? 0 : ~0ULL << (64 - bits);
}

int bkp_chunker_new(const uint8_t seed[32], uint32_t min, uint32_t avg, uint32_t max,
                    bkp_chunker **out)
{
    unsigned bits = 0;
    if (!(min < avg && avg < max) || (avg & (avg - 1)) != 0 || min < 64)
        return -EINVAL;
    while ((1U << bits) < avg)
        bits++;
    bkp_chunker *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    randombytes_buf_deterministic(c->gear, sizeof(c->gear), seed);
    /* Normalised chunking, level 2: two bits harder before the average,
     * two bits easier after it, which narrows the size distribution. */
    c->mask_s = top_mask(bits + 2);
    c->mask_l = top_mask(bits - 2);
    c->min = min;
    c->avg = avg;
    c->max = max;
    *out = c;
    return 0;
}

void bkp_chunker_free(bkp_chunker *c)
{
    free(c);
}

uint32_t bkp_chunker_max(const bkp_chunker *c)
{
    return c->max;
}

/* Hash [i, end) into *fp; the length up to the first byte after which the
 * hash has no bit of `mask` set, or 0. Unrolled by four: the loop's own
 * bookkeeping was half the instructions of a backup's reading thread. */
static size_t run(const uint64_t *gear, const uint8_t *d, size_t i, size_t end, uint64_t mask,
                  uint64_t *fpp)
{
    uint64_t fp = *fpp;
    for (; i + 4 <= end; i += 4) {
        fp = (fp << 1) + gear[d[i]];
        if (!(fp & mask))
            return i + 1;
        fp = (fp << 1) + gear[d[i + 1]];
        if (!(fp & mask))
            return i + 2;
        fp = (fp << 1) + gear[d[i + 2]];
        if (!(fp & mask))
            return i + 3;
        fp = (fp << 1) + gear[d[i + 3]];
        if (!(fp & mask))
            return i + 4;
    }
    for (; i < end; i++) {
        fp = (fp << 1) + gear[d[i]];
        if (!(fp & mask))
            return i + 1;
    }
    *fpp = fp;
    return 0;
}

size_t bkp_chunker_cut_more(const bkp_chunker *c, bkp_cut_state *st, const uint8_t *data,
                            size_t len, bool eof)
{
    /* Nothing is cut before min, the harder mask holds below avg, and a
     * chunk ends at max whatever its bytes. The hash starts from zero at
     * min: it needs no warm-up, bytes further back than 64 shift out. */
    size_t n = len < c->max ? len : c->max;
    size_t normal = n < c->avg ? n : c->avg;
    size_t i = st->pos > c->min ? st->pos : c->min, r = 0;
    if (i < normal)
        r = run(c->gear, data, i, normal, c->mask_s, &st->fp);
    if (!r && (i > normal ? i : normal) < n)
        r = run(c->gear, data, i > normal ? i : normal, n, c->mask_l, &st->fp);
    if (n > st->pos)
        st->pos = n;
    if (r)
        return r;
    return eof || len >= c->max ? n : 0;
}

size_t bkp_chunker_cut(const bkp_chunker *c, const uint8_t *data, size_t len, bool eof)
{
    if (len < c->max && !eof)
        return 0;
    bkp_cut_state st = {0, 0};
    return bkp_chunker_cut_more(c, &st, data, len, eof);
}
