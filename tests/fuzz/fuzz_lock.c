/* Fuzz target: a lock file's contents and a temporary lock file's name, both
 * read from a repository's locks/ folder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/lock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bkp_lock_info info;
    char host[256], *name;
    long pid;
    long long when;
    if (bkp_lock_parse((const char *)data, size, &info) == 0 &&
        (info.pid < 1 || !info.host[0] || !info.command[0]))
        abort();
    if (!(name = malloc(size + 1)))
        return 0;
    memcpy(name, data, size);
    name[size] = '\0';
    if (bkp_lock_tmp_parse(name, host, sizeof(host), &pid, &when) == 0 && pid < 1)
        abort();
    free(name);
    return 0;
}
