/*
 * audit_internal.h — the head marker, shared by audit.c (append, verify,
 * restart) and audit_head.c (its bytes). Nothing else includes it.
 */
#ifndef BKP_AUDIT_INTERNAL_H
#define BKP_AUDIT_INTERNAL_H

#include <stdint.h>

#include "bkp/audit.h"

/* 0 with the marker at `hpath` in `h`; -ENOENT none; -EBADMSG damaged or
 * forged (not signed by `pk`). */
int bkp_audit_head_read(const char *hpath, const uint8_t pk[32], bkp_audit_head *h);
/* Replace the marker in folder `dir`, durably: it names record `seq` (line
 * hash `hash`) of the log of a primary, or of the copy on medium
 * `role->medium_id` when role->medium. */
int bkp_audit_head_write(bkp_repo *r, const char *dir, uint64_t seq, const uint8_t hash[32],
                         const bkp_audit_head *role);

#endif
