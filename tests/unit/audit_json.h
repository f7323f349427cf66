/*
 * audit_json.h — the last record bkp_audit_last finds, as the JSON the log
 * holds: for tests that look at a record whole.
 */
#ifndef BKP_TEST_AUDIT_JSON_H
#define BKP_TEST_AUDIT_JSON_H

#include "bkp/audit/audit.h"

/* A new reference to the record, or NULL when none matches `q`. */
static inline json_t *audit_last_json(const char *path, const uint8_t pk[32],
                                      const bkp_audit_query *q)
{
    bkp_audit_entry e;
    json_t *j = bkp_audit_last(path, pk, q, &e) ? json_incref(e.json) : NULL;
    bkp_audit_entry_release(&e);
    return j;
}

#endif
