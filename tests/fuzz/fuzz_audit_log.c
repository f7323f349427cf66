/*
 * Fuzz target: a whole copy of the audit log as a medium or a bucket hands
 * it over (bkp_audit_verify_bytes, as bkp_bucket_fetch_audit and `bkp audit
 * fetch` check each version): lines split, a torn end, the records counted,
 * restarts and the latest time found, with no head marker. Then the same
 * bytes against themselves cut short, as a copy compared with a log.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t seed[32] = {1}, pk[32], sk[64];
    if (sodium_init() < 0)
        return 0;
    crypto_sign_seed_keypair(pk, sk, seed);
    bkp_buf b = {.data = (uint8_t *)data, .len = size, .cap = size};
    bkp_audit_check chk;
    if (bkp_audit_verify_bytes("repo/audit/primary.jsonl", &b, pk, NULL, &chk) < 0)
        return 0;
    /* Compared with its own first half, written where the check reads it. */
    char path[] = "/tmp/fuzz-audit-log-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t half = size / 2;
    if (write(fd, data, half) == (ssize_t)half &&
        bkp_audit_verify_bytes("repo/audit/primary.jsonl", &b, pk, path, &chk) < 0)
        chk.bad = true; /* unreadable: nothing more to reach */
    close(fd);
    unlink(path);
    return 0;
}
