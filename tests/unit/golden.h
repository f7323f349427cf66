/*
 * golden.h — unit tests that compare rendered text with files in tests/golden/.
 * BKP_UPDATE_GOLDEN=1 writes the files instead (read the diff afterwards).
 * Include after <cmocka.h>.
 */
#ifndef BKP_GOLDEN_H
#define BKP_GOLDEN_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR BKP_SOURCE_DIR "/tests/golden"

static inline bool golden_updating(void)
{
    const char *u = getenv("BKP_UPDATE_GOLDEN");
    return u && !strcmp(u, "1");
}

static inline char *golden_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = 2 * (n + 4096 + 1));
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (!got)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Compare `text` with tests/golden/`name`, or write it there when updating.
 * On a difference, say where (line and both versions of it) and how to
 * regenerate, and return false (the caller frees, then fails). */
static bool golden_check(const char *test, const char *name, const char *text)
{
    char path[4096];
    if (!text) {
        print_error("%s: nothing was rendered\n", name);
        return false;
    }
    snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
    if (golden_updating()) {
        FILE *f = fopen(path, "wb");
        if (!f || fputs(text, f) < 0 || fclose(f)) {
            print_error("cannot write %s: %s\n", path, strerror(errno));
            return false;
        }
        print_message("wrote %s\n", path);
        return true;
    }
    size_t len = 0;
    char *want = golden_read(path, &len);
    if (!want) {
        print_error("cannot read the golden file %s (%s); create it with BKP_UPDATE_GOLDEN=1\n",
                    path, strerror(errno));
        return false;
    }
    if (len != strlen(text) || memcmp(want, text, len)) {
        /* The first line that differs. */
        const char *a = want, *b = text;
        int line = 1;
        while (*a && *a == *b) {
            if (*a == '\n')
                line++;
            a++, b++;
        }
        while (a > want && a[-1] != '\n')
            a--, b--;
        int la = (int)strcspn(a, "\n"), lb = (int)strcspn(b, "\n");
        print_error("%s differs from the output at line %d:\n  golden: %.*s\n  output: %.*s\n"
                    "(after an intended change: BKP_UPDATE_GOLDEN=1 %s, and read the diff)\n",
                    path, line, la, a, lb, b, test);
        free(want);
        return false;
    }
    free(want);
    return true;
}

#endif
