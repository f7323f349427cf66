/*
 * audit_context.h — what every command leaves in the audit log of the
 * repository it opened, besides its own record: a lost or cut log said
 * (read-only commands included), the locks of dead holders it took over,
 * the prune intents its opens refused (never executed, always on record),
 * and the policy in force whenever its bytes differ from the last one
 * recorded (`policy`, with the file's BLAKE2b digest and the previous one).
 *
 * A repository opened with the public key alone gets nothing: a record
 * cannot be signed there, and the auditor's check is theirs to keep.
 *
 * Errors: none returned; a record that cannot be appended is logged by
 * bkp/audit/audit.h and the command's outcome stands.
 */
#ifndef BKP_OPS_AUDIT_CONTEXT_H
#define BKP_OPS_AUDIT_CONTEXT_H

#include "bkp/store/repo.h"

#include "bkp/audit/audit.h"

/* Record the context of this process's command in `r` (may be NULL:
 * nothing), the policy read from `policy_file` (may be NULL), through
 * `append(ctx, rec)` (NULL: appended to `r`'s log through the read handle;
 * the program gives where a read's records go, never a copy on a medium).
 * A copy on a medium gets no policy record: the policy in force is the
 * primary's history. */
void ops_audit_context(const bkp_repo *r, const char *policy_file,
                       int (*append)(void *ctx, const bkp_audit_rec *rec), void *ctx);

#endif
