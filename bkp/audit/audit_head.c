/* audit_head.c — the audit log's signed head marker (audit.h, FORMAT.md §9b). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/audit/audit_internal.h"
#include "bkp/io/durable.h"
#include "bkp/keys/envelope.h"

/*
 * The head marker, audit/head beside the log:
 *   "BKPHEAD1" | u32le length | JSON {format, version, seq, record} | signature
 * naming the last record appended (its seq and the BLAKE2b-256 of its line).
 * It is rewritten after every append, so a log that lost records at its end
 * (cut, emptied, deleted) no longer reaches the record its marker names: the
 * loss shows without a copy of the log. A crash between the two writes, or
 * a full disk that takes the line and not the marker's new file, leaves the
 * marker behind: a floor, which audit.c accepts along the signed chain from
 * it (chained_from_marker) and the next append moves on.
 *
 * What it does not defend: root on the host holds the signing key while the
 * passphrase file is there, so it can cut the log and sign a new marker (or
 * rewrite everything consistently). What it defends is accidental or partial
 * tampering — a deleted, emptied or truncated file, a marker from another
 * time — and what the copies of the log and the pins on media catch beyond.
 */
#define HEAD_MAGIC "BKPHEAD1"
#define HEAD_MAX 4096

char *bkp_audit_head_path(const char *log)
{
    size_t n = strlen(log), t = strlen("/log.jsonl");
    if (n < t || strcmp(log + n - t, "/log.jsonl") != 0)
        return NULL; /* a copy of a log (audit/primary.jsonl) has no marker */
    char *p = malloc(n - t + sizeof("/head"));
    if (p) {
        memcpy(p, log, n - t);
        strcpy(p + n - t, "/head");
    }
    return p;
}

int bkp_audit_head_parse(const uint8_t *buf, size_t len, const uint8_t pk[32], bkp_audit_head *out)
{
    const uint8_t *text;
    size_t tlen;
    if (len > HEAD_MAX || bkp_envelope_open(pk, HEAD_MAGIC, buf, len, &text, &tlen) != 0)
        return -EBADMSG;
    json_t *j = json_loadb((const char *)text, tlen, JSON_REJECT_DUPLICATES, NULL);
    json_t *s = json_object_get(j, "seq");
    const char *fmt = json_string_value(json_object_get(j, "format"));
    const char *rec = json_string_value(json_object_get(j, "record"));
    const char *role = json_string_value(json_object_get(j, "role"));
    const char *medium = json_string_value(json_object_get(j, "medium"));
    bkp_audit_head h = {0};
    int rc = -EBADMSG;
    if (fmt && !strcmp(fmt, "bkp-audit-head") && json_is_integer(s) && json_integer_value(s) >= 1 &&
        json_integer_value(json_object_get(j, "version")) == 1 && rec && strlen(rec) == 64 &&
        !bkp_unhex(h.record, 32, rec) && role &&
        (!strcmp(role, "primary") ||
         (!strcmp(role, "medium") && medium && strlen(medium) < sizeof(h.medium_id)))) {
        h.seq = (uint64_t)json_integer_value(s);
        h.medium = !strcmp(role, "medium");
        if (h.medium)
            strcpy(h.medium_id, medium);
        *out = h;
        rc = 0;
    }
    json_decref(j);
    return rc;
}

int bkp_audit_head_read(const char *hpath, const uint8_t pk[32], bkp_audit_head *h)
{
    bkp_buf b;
    bkp_buf_init(&b);
    int rc = bkp_envelope_load(hpath, HEAD_MAX, &b);
    if (!rc)
        rc = bkp_audit_head_parse(b.data, b.len, pk, h);
    bkp_buf_free(&b);
    return rc;
}

int bkp_audit_head_write(const bkp_repo *r, const char *dir, uint64_t seq, const uint8_t hash[32],
                      const bkp_audit_head *role)
{
    char hex[65];
    bkp_hex(hex, hash, 32);
    json_t *j = json_pack("{s:s, s:i, s:I, s:s, s:s}", "format", "bkp-audit-head", "version", 1,
                          "seq", (json_int_t)seq, "record", hex, "role",
                          role->medium ? "medium" : "primary");
    if (j && role->medium)
        json_object_set_new(j, "medium", json_string(role->medium_id));
    return bkp_envelope_store(bkp_repo_keys(r), HEAD_MAGIC, j, HEAD_MAX, dir, "head",
                              BKP_DURABLE_PRIVATE);
}

int bkp_audit_role(const bkp_repo *r, char **medium)
{
    char *path = bkp_audit_path(r), *hpath = path ? bkp_audit_head_path(path) : NULL;
    bkp_audit_head h;
    int rc = hpath ? bkp_audit_head_read(hpath, bkp_repo_sign_pk(r), &h) : -ENOMEM;
    *medium = NULL;
    if (!rc && h.medium && !(*medium = strdup(h.medium_id)))
        rc = -ENOMEM;
    if (!rc)
        rc = h.medium ? BKP_AUDIT_MEDIUM : BKP_AUDIT_PRIMARY;
    else if (rc == -ENOENT && access(path, F_OK) < 0 && errno == ENOENT)
        rc = BKP_AUDIT_NONE;
    else if (rc != -ENOMEM)
        rc = BKP_AUDIT_UNKNOWN;
    free(path);
    free(hpath);
    return rc;
}
