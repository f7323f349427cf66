/*
 * The context every command records in the audit log (audit_context.h).
 */
#include "bkp/ops/audit_context.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/store/generation.h"
#include "bkp/io/lock.h"
#include "bkp/store/prune_recover.h"

typedef struct sink {
    const bkp_repo *r;
    int (*append)(void *ctx, const bkp_audit_rec *rec);
    void *ctx;
} sink;

/* logged where it fails; the command stands */
static void put(const sink *k, const bkp_audit_rec *rec)
{
    (void)!(k->append ? k->append(k->ctx, rec) : bkp_audit_append_ro(k->r, rec));
}

/* One record of `op` whose figures are {key: each of `v`}. */
static void each_noted(const sink *k, const char *op, const char *key, const char *const *v,
                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *fig = json_pack("{s:s}", key, v[i]);
        bkp_audit_rec rec = {.op = op, .figures = fig};
        put(k, &rec);
        json_decref(fig);
    }
}

/* The policy in force: a record whenever its bytes differ from the last one recorded. */
static void policy_noted(const sink *k, const char *file)
{
    const bkp_repo *r = k->r;
    bkp_buf data;
    uint8_t h[32];
    char hex[65], *log = bkp_audit_path(r);
    bkp_buf_init(&data);
    if (log && bkp_read_file(file, &data, 16 << 20) == 0) {
        crypto_generichash(h, sizeof(h), data.data, data.len, NULL, 0);
        bkp_hex(hex, h, sizeof(h));
        bkp_audit_entry last;
        (void)bkp_audit_last(log, NULL, &(bkp_audit_query){.op = "policy"}, &last);
        json_t *digest = json_object_get(last.figures, "digest");
        if (!json_is_string(digest) || strcmp(json_string_value(digest), hex)) {
            json_t *fig = json_pack("{s:s, s:s, s:O}", "file", file, "digest", hex, "previous",
                                    digest ? digest : json_null());
            bkp_audit_rec rec = {.op = "policy", .figures = fig};
            put(k, &rec);
            json_decref(fig);
        }
        bkp_audit_entry_release(&last);
    }
    bkp_buf_free(&data);
    free(log);
}

void ops_audit_context(const bkp_repo *r, const char *policy_file,
                       int (*append)(void *ctx, const bkp_audit_rec *rec), void *ctx)
{
    const char *const *v;
    sink k = {r, append, ctx};
    if (!r)
        return;
    /* Every command that reads the repository says so when its log was lost,
     * read-only ones included (which never write it). */
    (void)bkp_audit_report_state(r, NULL);
    size_t n = bkp_lock_takeovers(&v);
    each_noted(&k, "lock-takeover", "lock", v, n);
    /* Prune intents refused by this command's opens (a planted one, or one
     * of another copy): never executed, always on record. */
    n = bkp_prune_rejections(&v);
    each_noted(&k, "intent-rejected", "intent", v, n);
    char *medium = policy_file ? bkp_gen_copy_medium(r) : NULL;
    if (policy_file && !medium)
        policy_noted(&k, policy_file);
    free(medium);
}
