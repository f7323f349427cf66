/* Fuzz target: a blob's frame as it stands once decrypted (blob.h,
 * FORMAT.md §3): stored, LZ4 or zstd. What decodes is exactly the length
 * the frame declares, never past BKP_BLOB_MAX_RAW; a frame that lies about
 * it is damage, never an allocation or a read past the input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/store/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bkp_buf out;
    bkp_buf_init(&out);
    int rc = bkp_blob_unframe(data, size, &out);
    if (rc == 0) {
        if (out.len > BKP_BLOB_MAX_RAW)
            abort();
        if (size >= 5 && data[0] != 0 && out.len != bkp_get_le32(data + 1))
            abort(); /* not the length it declared */
        if (data[0] == 0 && out.len != size - 1)
            abort();
    } else if (rc != -EBADMSG && rc != -EPROTO && rc != -ENOMEM) {
        abort();
    }
    bkp_buf_free(&out);
    return 0;
}
