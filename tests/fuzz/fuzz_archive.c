/* Fuzz target: an archive medium's tar stream, through the extractor that
 * must refuse every member outside the layout (no escape from its folder). */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bkp/archive.h"
#include "bkp/log.h"

static void quiet(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level;
    (void)msg;
    (void)ctx;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char file[] = "/tmp/bkp-fuzz-archive-XXXXXX", dir[] = "/tmp/bkp-fuzz-extract-XXXXXX";
    int fd = mkstemp(file);
    if (fd < 0)
        return 0;
    bkp_log_set_sink(quiet, NULL);
    if (write(fd, data, size) == (ssize_t)size && mkdtemp(dir)) {
        char *top = NULL;
        if (bkp_archive_extract(file, dir, &top) == 0)
            free(top);
        (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    close(fd);
    unlink(file);
    return 0;
}
