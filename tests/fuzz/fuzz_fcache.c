/* Fuzz target: a decrypted files-cache segment (docs/FORMAT.md §8), the bytes
 * bkp_fcache_segment_check must judge whole before the merge with the walk
 * uses any of them. The index it expects is taken from the input's header, so
 * that mutations reach the entries. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/capture/filescache.h"
#include "bkp/capture/walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t index = size >= 12 ? bkp_get_le64(data + 4) : 0;
    uint32_t version = size >= 4 ? bkp_get_le32(data) : 4; /* 3 and 4 are both read */
    uint32_t n;
    bool final;
    const char *last;
    size_t last_len;
    if (bkp_fcache_segment_check(data, size, version, index, NULL, 0, &n, &final, &last, &last_len) != 0)
        return 0;
    /* What it accepts: the last path lies inside the segment, is absolute
     * and is there exactly when there are entries. */
    if ((n == 0) != (last_len == 0))
        __builtin_trap();
    if (n && ((const uint8_t *)last < data || (const uint8_t *)last + last_len > data + size ||
              last[0] != '/' || memchr(last, 0, last_len)))
        __builtin_trap();
    /* The same segment after its own last path does not rise: refused. */
    uint32_t n2;
    bool f2;
    const char *l2;
    size_t ll2;
    if (n && bkp_fcache_segment_check(data, size, version, index, last, last_len, &n2, &f2, &l2, &ll2) == 0)
        __builtin_trap();
    /* After "/" (before every other path) it is still accepted unless it
     * holds "/" itself. */
    if (n && bkp_walk_cmpn("/", 1, last, last_len) < 0 &&
        bkp_fcache_segment_check(data, size, version, index, "/", 1, &n2, &f2, &l2, &ll2) == 0 &&
        (n2 != n || f2 != final || ll2 != last_len))
        __builtin_trap();
    return 0;
}
