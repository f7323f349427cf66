/*
 * Replays a fuzz target without libFuzzer: every file of the seed corpus,
 * then a fixed number of seeded random mutations of each. It keeps the
 * parsers exercised under the sanitizers in every test build; real fuzzing
 * uses the same targets built with clang -fsanitize=fuzzer (BKP_FUZZ=ON).
 *
 * usage: driver [CORPUS_DIR] [ITERATIONS]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void mutate_and_run(const uint8_t *seed, size_t n, int iterations)
{
    uint8_t *buf = malloc(n + 64);
    for (int i = 0; i < iterations && buf; i++) {
        size_t len = n;
        memcpy(buf, seed, n);
        int edits = 1 + (int)(next() % 4);
        for (int e = 0; e < edits; e++) {
            switch (next() % 4) {
            case 0: if (len) buf[next() % len] ^= (uint8_t)(1u << (next() % 8)); break;
            case 1: if (len) buf[next() % len] = (uint8_t)next(); break;
            case 2: if (len) len = next() % len; break; /* truncate */
            case 3: if (len < n + 60) buf[len++] = (uint8_t)next(); break;
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    int iterations = argc > 2 ? atoi(argv[2]) : 2000, seeds = 0;
    DIR *d = argc > 1 ? opendir(argv[1]) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t *data = malloc(1 << 20);
        size_t n = data ? fread(data, 1, 1 << 20, f) : 0;
        fclose(f);
        LLVMFuzzerTestOneInput(data, n);
        mutate_and_run(data, n, iterations);
        free(data);
        seeds++;
    }
    if (d)
        closedir(d);
    /* Without a corpus: random inputs of assorted lengths. */
    for (int i = 0; i < iterations; i++) {
        uint8_t buf[512];
        size_t len = next() % sizeof(buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)next();
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%d seed(s), %d mutations each, %d random inputs: no crash\n", seeds, iterations, iterations);
    return 0;
}
