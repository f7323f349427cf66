/* bench/levels.c — what zstd's levels 1, 2 and 3 make of each 1 MiB block
 * of a set of files (bkp's average chunk; a block under 128 KiB is left
 * out: auto seals those at level 3 already), beside auto's LZ4 probe of the
 * block (LZ4 over three 4 KiB slices at its start, middle and end: the
 * ratio of each, the best, the mean). One CSV row per block, thread CPU
 * time of each (the least of BKP_LEVELS_REPS runs, default 3):
 *
 *   cc -O2 -o levels bench/levels.c -lzstd -llz4
 *   find DIR -type f | ./levels > blocks.csv
 *
 * bench/README.md ("Which chunks level 3 pays on") sums it per data set. */
#define _GNU_SOURCE
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#define BLOCK (1u << 20)
#define BLOCK_MIN (128u << 10)
#define SLICE 4096

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
    const char *r = getenv("BKP_LEVELS_REPS");
    int reps = r && atoi(r) > 0 ? atoi(r) : 3;
    size_t cap = ZSTD_compressBound(BLOCK);
    int lcap = LZ4_compressBound(SLICE);
    char *buf = malloc(BLOCK), *dst = malloc(cap), *ldst = malloc((size_t)lcap), path[8192];
    ZSTD_CCtx *z = ZSTD_createCCtx();
    if (!buf || !dst || !ldst || !z)
        return 1;
    printf("file,offset,len,r0,r1,r2,rbest,rmean,probe_s,l1,t1,l2,t2,l3,t3\n");
    while (fgets(path, sizeof(path), stdin)) {
        path[strcspn(path, "\n")] = '\0';
        FILE *f = *path ? fopen(path, "rb") : NULL;
        if (!f)
            continue;
        long long off = 0;
        size_t n;
        while ((n = fread(buf, 1, BLOCK, f)) > 0) {
            if (n >= BLOCK_MIN) {
                size_t at[3] = {0, n / 2 - SLICE / 2, n - SLICE}, size[3];
                double ratio[3], best = 1e9, mean = 0, probe = 1e9, took[3];
                for (int k = 0; k < reps; k++) {
                    double t0 = cpu_now();
                    for (int i = 0; i < 3; i++)
                        ratio[i] =
                            LZ4_compress_fast(buf + at[i], ldst, SLICE, lcap, 1) / (double)SLICE;
                    if (cpu_now() - t0 < probe)
                        probe = cpu_now() - t0;
                }
                for (int i = 0; i < 3; i++) {
                    best = ratio[i] < best ? ratio[i] : best;
                    mean += ratio[i] / 3;
                }
                for (int lv = 1; lv <= 3; lv++) {
                    took[lv - 1] = 1e9;
                    for (int k = 0; k < reps; k++) {
                        double t0 = cpu_now();
                        size_t c = ZSTD_compressCCtx(z, dst, cap, buf, n, lv);
                        double dt = cpu_now() - t0;
                        if (ZSTD_isError(c))
                            return 1;
                        size[lv - 1] = c;
                        took[lv - 1] = dt < took[lv - 1] ? dt : took[lv - 1];
                    }
                }
                printf("\"%s\",%lld,%zu,%.5f,%.5f,%.5f,%.5f,%.5f,%.7f,%zu,%.6f,%zu,%.6f,%zu,%.6f\n",
                       path, off, n, ratio[0], ratio[1], ratio[2], best, mean, probe, size[0],
                       took[0], size[1], took[1], size[2], took[2]);
            }
            off += (long long)n;
            if (n < BLOCK)
                break;
        }
        fclose(f);
    }
    ZSTD_freeCCtx(z);
    free(buf);
    free(dst);
    free(ldst);
    return 0;
}
