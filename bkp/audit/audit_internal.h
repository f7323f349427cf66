/*
 * audit_internal.h — the head marker, shared by audit.c (append, restart),
 * audit_read.c (verify) and audit_head.c (its bytes); and what audit.c and
 * audit_read.c share. Nothing else includes it.
 */
#ifndef BKP_AUDIT_INTERNAL_H
#define BKP_AUDIT_INTERNAL_H

#include <stdint.h>

#include <jansson.h>

#include "bkp/audit/audit.h"

/* 0 with the marker at `hpath` in `h`; -ENOENT none; -EBADMSG damaged or
 * forged (not signed by `pk`). */
int bkp_audit_head_read(const char *hpath, const uint8_t pk[32], bkp_audit_head *h);
/* Replace the marker in folder `dir`, durably: it names record `seq` (line
 * hash `hash`) of the log of a primary, or of the copy on medium
 * `role->medium_id` when role->medium. */
int bkp_audit_head_write(const bkp_repo *r, const char *dir, uint64_t seq, const uint8_t hash[32],
                         const bkp_audit_head *role);

/* The signed bytes of a record: its JSON without "sig", compact, sorted
 * keys (malloc'd; NULL when out of memory). */
char *bkp_audit_signed_text(json_t *rec);
/* Describe `p` in `chk`: its code and details, in English (problem) and
 * in the reader's language (problem_local). */
void bkp_audit_problem_say(bkp_audit_check *chk, const bkp_audit_problem *p);
/* A lost log was found by a check whose caller reports it: the appender
 * says nothing more of it in this process. */
void bkp_audit_lost_reported(void);

#endif
