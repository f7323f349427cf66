#include "bkp/chunker.h"

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

size_t bkp_chunker_cut(const bkp_chunker *c, const uint8_t *data, size_t len, bool eof)
{
    if (len <= c->min)
        return eof ? len : 0;
    if (len < c->max && !eof)
        return 0;
    size_t n = len < c->max ? len : c->max;
    size_t normal = n < c->avg ? n : c->avg;
    uint64_t fp = 0;
    size_t i = c->min;
    /* The hash needs no warm-up: bytes further back than 64 have shifted out. */
    for (; i < normal; i++) {
        fp = (fp << 1) + c->gear[data[i]];
        if (!(fp & c->mask_s))
            return i + 1;
    }
    for (; i < n; i++) {
        fp = (fp << 1) + c->gear[data[i]];
        if (!(fp & c->mask_l))
            return i + 1;
    }
    return n;
}
