/* Fuzz target: an archive medium's tar stream, through the extractor that
 * must refuse every member outside the layout (no escape from its folder). */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bkp/media/archive.h"
#include "bkp/io/log.h"
#include "bkp/io/stream.h"

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
    /* The input is read from memory; only what passes is written out. */
    char dir[] = "/tmp/bkp-fuzz-extract-XXXXXX";
    bkp_stream in;
    bkp_log_set_sink(quiet, NULL);
    if (!mkdtemp(dir))
        return 0;
    bkp_stream_mem(&in, data, size);
    char *top = NULL;
    if (bkp_archive_extract_stream(&in, "input", dir, &top) == 0)
        free(top);
    (void)bkp_stream_close(&in);
    (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
