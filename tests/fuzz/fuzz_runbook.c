/* Fuzz target: a runbook (YAML), through the strict parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bkp/io/log.h"
#include "restore/runbook.h"

static void quiet(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level;
    (void)msg;
    (void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/bkp-fuzz-runbook-XXXXXX";
    int fd = mkstemp(path);
    rb_runbook *rb = NULL;
    if (fd < 0)
        return 0;
    bkp_log_set_sink(quiet, NULL);
    if (write(fd, data, size) == (ssize_t)size && rb_load(path, &rb) == 0)
        rb_free(rb);
    close(fd);
    unlink(path);
    return 0;
}
