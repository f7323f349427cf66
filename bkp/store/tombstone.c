/*
 * tombstone.c — the small signed files beside generation records: the
 * clearance of a suspicious mark (SEQ.cleared) and the tombstone of a record
 * that is not there (SEQ.pruned), and where each of them counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/keys/envelope.h"
#include "bkp/store/generation.h"
#include "bkp/store/generation_internal.h"
#include "bkp/io/log.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/media/label.h"

#define CLEAR_MAGIC "BKPCLR01"
#define TOMB_MAGIC "BKPPRN01"

/* The JSON bytes of a small signed file (clearances, tombstones) into
 * `out`, or -ENOENT / -EBADMSG when it is absent, damaged or forged. */
static int read_signed(const bkp_repo *r, const char *path, const char *magic, bkp_buf *out)
{
    bkp_buf data;
    const uint8_t *text;
    size_t tlen;
    bkp_buf_init(&data);
    int rc = path ? bkp_envelope_load(path, 1 << 16, &data) : -ENOMEM;
    if (!rc && !(rc = bkp_envelope_open(bkp_repo_sign_pk(r), magic, data.data,
                                        data.len, &text, &tlen))) {
        bkp_buf_put(out, text, tlen);
        rc = out->failed ? -ENOMEM : 0;
    }
    bkp_buf_free(&data);
    return rc;
}

/* Write `j` (stolen) signed, as `name` beside record `g`, durably and never
 * over an existing file (-EEXIST then). */
static int write_signed(bkp_repo *r, const char *dir, const char *name, const char *magic, json_t *j)
{
    return bkp_envelope_store(bkp_repo_keys(r), magic, j, SIZE_MAX, dir, name,
                              BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
}

/* The directory of record `g` (malloc'd). */
static char *record_dir(const bkp_gen *g)
{
    char *dir = strdup(g->file), *slash = dir ? strrchr(dir, '/') : NULL;
    if (!slash) {
        free(dir);
        return NULL;
    }
    *slash = '\0';
    return dir;
}

int bkp_gen_clearance_parse(const uint8_t *text, size_t len, const bkp_gen *g)
{
    char hex[2 * BKP_ID_LEN + 1];
    json_t *j = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    const char *rec = json_string_value(json_object_get(j, "record"));
    const char *fmt = json_string_value(json_object_get(j, "format"));
    bkp_hex(hex, g->hash, BKP_ID_LEN);
    int rc = rec && fmt && !strcmp(fmt, "bkp-clearance") && !strcmp(rec, hex) ? 0 : -EBADMSG;
    json_decref(j);
    return rc;
}

/* A clearance counts only when signed by this repository and naming exactly
 * this record (by its hash): a cleared mark cannot move to another record. */
bool bkp_gen_load_clearance(const bkp_repo *r, const char *dir, const bkp_gen *g)
{
    char name[32];
    bkp_buf text;
    bkp_buf_init(&text);
    snprintf(name, sizeof(name), "%010u.cleared", g->seq);
    char *path = bkp_path_join(dir, name);
    bool ok = read_signed(r, path, CLEAR_MAGIC, &text) == 0 &&
              bkp_gen_clearance_parse(text.data, text.len, g) == 0;
    bkp_buf_free(&text);
    free(path);
    return ok;
}

int bkp_gen_clear(bkp_repo *r, const bkp_gen *g)
{
    char hex[2 * BKP_ID_LEN + 1], when[32], host[256] = "", name[32];
    char user[256];
    gethostname(host, sizeof(host) - 1);
    bkp_hex(hex, g->hash, BKP_ID_LEN);
    bkp_iso_time(when, sizeof(when), bkp_now());
    snprintf(name, sizeof(name), "%010u.cleared", g->seq);
    char *dir = record_dir(g);
    int rc = write_signed(r, dir, name, CLEAR_MAGIC,
                          json_pack("{s:s, s:i, s:s, s:i, s:s, s:s, s:I, s:o, s:s}", "format",
                                    "bkp-clearance", "version", 1, "dataset", g->dataset, "seq",
                                    (int)g->seq, "record", hex, "user", bkp_user_name(user, sizeof(user)),
                                    "uid", (json_int_t)getuid(), "host", bkp_json_bytes(host),
                                    "time", when));
    free(dir);
    return rc == -EEXIST ? 0 : rc; /* already cleared */
}

/* Say what tombstone `j` says of itself (kept even when it does not count:
 * verify names its reason and medium). */
static int tombstone_facts(json_t *j, const uint8_t *text, size_t len, bkp_gen *g)
{
    const char *why = json_string_value(json_object_get(j, "reason"));
    if (!json_object_get(j, "reason"))
        why = "pruned"; /* written before media existed: by prune, on the primary */
    const char *for_medium = json_string_value(json_object_get(j, "medium"));
    time_t when = bkp_iso_parse(json_string_value(json_object_get(j, "pruned")));
    g->pruned_at = when > 0 ? when : 0;
    if ((why && !(g->reason = strdup(why))) || (for_medium && !(g->medium = strdup(for_medium))))
        return -ENOMEM;
    return bkp_gen_keep_text(text, len, g);
}

/*
 * Where a tombstone counts. "pruned" by a prune of the primary (and copied
 * as it is to media): anywhere; on the primary, verify also wants the signed
 * record of the audit log that names it. "pruned" by a prune of a medium's
 * copy carries that medium, as "not copied" ones do.
 * "not copied" (written onto a copy for a record the copy does not hold, and
 * shipped in every archive, which anyone may read): only on the copy of the
 * medium it names. Found on the primary — or on another medium — it stands
 * where a record was deleted, so it is refused (g->foreign), never taken for
 * the chain. 0 where tombstone `j` counts (its facts read: g->reason), else
 * -EBADMSG.
 */
static int tombstone_counts(json_t *j, const char *dataset, uint32_t seq, const char *medium,
                            bkp_gen *g)
{
    const char *ds = json_string_value(json_object_get(j, "dataset"));
    const char *rec = json_string_value(json_object_get(j, "record"));
    const char *why = g->reason;
    const char *fmt = json_string_value(json_object_get(j, "format"));
    const char *for_medium = json_string_value(json_object_get(j, "medium"));
    json_t *pv = json_object_get(j, "prev"), *sj = json_object_get(j, "seq");
    if (!fmt || strcmp(fmt, "bkp-tombstone") || !ds || strcmp(ds, dataset) || !json_is_integer(sj) ||
        json_integer_value(sj) != (json_int_t)seq || !rec || bkp_unhex(g->hash, BKP_ID_LEN, rec) ||
        !(json_is_null(pv) ||
          (json_is_string(pv) && !bkp_unhex(g->prev, BKP_ID_LEN, json_string_value(pv)))))
        return -EBADMSG;
    if (!why)
        return -EBADMSG;
    g->has_prev = json_is_string(pv);
    if (!strcmp(why, "pruned") && !json_object_get(j, "medium"))
        return 0; /* pruned on the primary (and copied as it is) */
    if (strcmp(why, "pruned") && strcmp(why, "not copied"))
        return -EBADMSG;
    /* written for one medium's copy: counts there only. A "not copied" one
     * without `medium` was written before tombstones were bound: it still
     * counts on a medium's copy (where it was written, and where the copy's
     * pin names the heads), never on the primary. */
    bool legacy = !strcmp(why, "not copied") && !json_object_get(j, "medium");
    if (medium && (legacy || (for_medium && !strcmp(medium, for_medium))))
        return 0;
    g->foreign = true;
    return -EBADMSG;
}

int bkp_gen_tombstone_parse(const uint8_t *text, size_t len, const char *dataset, uint32_t seq,
                            const char *medium, bkp_gen *g)
{
    json_t *j = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    g->status = -EBADMSG;
    if (!j)
        return -EBADMSG;
    int rc = tombstone_facts(j, text, len, g);
    if (!rc)
        rc = g->status = tombstone_counts(j, dataset, seq, medium, g);
    json_decref(j);
    return rc;
}

int bkp_gen_load_tombstone(const bkp_repo *r, const char *path, const char *dataset, uint32_t seq,
                           const char *medium, bkp_gen **out)
{
    bkp_gen *g = calloc(1, sizeof(*g));
    bkp_buf text;
    if (!g)
        return -ENOMEM;
    bkp_buf_init(&text);
    g->pruned = true;
    g->file = strdup(path);
    g->dataset = strdup(dataset);
    g->seq = seq;
    g->status = -EBADMSG;
    if (read_signed(r, path, TOMB_MAGIC, &text) == 0)
        (void)bkp_gen_tombstone_parse(text.data, text.len, dataset, seq, medium, g);
    bkp_buf_free(&text);
    if (!g->file || !g->dataset) {
        bkp_gen_free(g);
        return -ENOMEM;
    }
    *out = g;
    return 0;
}

/* The UUID of the label beside repository `r` that names it: REPO/BKP-LABEL
 * (an archive extracted keeps its medium's label at its top) or
 * REPO/../BKP-LABEL (a disk copy lives in REPO beside the disk's label). */
static char *label_beside(const bkp_repo *r)
{
    static const char *const where[] = {"", "/.."};
    char *uuid = NULL;
    for (size_t i = 0; !uuid && i < 2; i++) {
        char dir[4096];
        bkp_label label;
        snprintf(dir, sizeof(dir), "%s%s", bkp_repo_path(r), where[i]);
        if (bkp_label_read(dir, &label) == 0 && !strcmp(label.repository, bkp_repo_uuid(r)))
            uuid = strdup(label.uuid);
    }
    return uuid;
}

char *bkp_gen_copy_medium(const bkp_repo *r)
{
    if (bkp_repo_is_copy(r))
        return bkp_repo_copy_memo(r, label_beside); /* the caller opened it as a copy */
    /* Opened by path (--repo): a primary's log has a marker saying so, which
     * no planted label overrides; the copy of a medium has a marker naming
     * that medium, or no log of its own at all. */
    char *hm = NULL, *uuid = NULL;
    int role = bkp_audit_role(r, &hm);
    if (role == BKP_AUDIT_MEDIUM || role == BKP_AUDIT_NONE) {
        uuid = label_beside(r);
        if (uuid && role == BKP_AUDIT_MEDIUM && strcmp(uuid, hm)) {
            free(uuid);
            uuid = NULL;
        }
    }
    free(hm);
    return uuid;
}

/* Write the tombstone of record `g` into `dir` of repository `r`. `why`:
 * "pruned", or "not copied" on the medium `medium` (its label's UUID),
 * which does not hold the record. */
static int write_tombstone(bkp_repo *r, const char *dir, const bkp_gen *g, const char *why,
                           const char *medium)
{
    char hex[2 * BKP_ID_LEN + 1], phex[2 * BKP_ID_LEN + 1], when[32], fin[32], name[32];
    char user[256];
    if (g->status || g->pruned || !dir)
        return g->status || g->pruned ? -EINVAL : -ENOMEM;
    bkp_hex(hex, g->hash, BKP_ID_LEN);
    bkp_iso_time(fin, sizeof(fin), g->finished);
    if (g->has_prev)
        bkp_hex(phex, g->prev, BKP_ID_LEN);
    bkp_iso_time(when, sizeof(when), bkp_now());
    snprintf(name, sizeof(name), "%010u.pruned", g->seq);
    json_t *j = json_pack("{s:s, s:i, s:s, s:i, s:s, s:s, s:o, s:s, s:s, s:s, s:s}", "format",
                          "bkp-tombstone", "version", 1, "dataset", g->dataset, "seq", (int)g->seq,
                          "uuid", g->uuid, "record", hex, "prev",
                          g->has_prev ? json_string(phex) : json_null(), "finished",
                          fin, "pruned", when, "user",
                          bkp_user_name(user, sizeof(user)), "reason", why);
    if (j && medium)
        json_object_set_new(j, "medium", json_string(medium));
    int rc = write_signed(r, dir, name, TOMB_MAGIC, j);
    return rc == -EEXIST ? 0 : rc;
}

int bkp_gen_tombstone(bkp_repo *r, const char *dir, const bkp_gen *g, const char *medium)
{
    if (!medium)
        return -EINVAL; /* unbound, it would count anywhere */
    int rc = bkp_mkdir_p(dir, 0700);
    return rc ? rc : write_tombstone(r, dir, g, "not copied", medium);
}

/* On the primary, the audit log says which record is deleted before its
 * tombstone is written: a prune killed at any point leaves no tombstone that
 * the log does not back (verify demands it), and a tombstone planted in a
 * deleted record's place is not backed. */
static int log_prune(bkp_repo *r, const bkp_gen *g)
{
    char name[96], hex[2 * BKP_ID_LEN + 1];
    bkp_hex(hex, g->hash, BKP_ID_LEN);
    json_t *fig = json_pack("{s:s}", "record", hex);
    bkp_audit_rec rec = {.op = "prune-generation",
                         .dataset = g->dataset,
                         .generation = bkp_gen_name(g, name, sizeof(name)),
                         .figures = fig};
    int rc = fig ? bkp_audit_append(r, &rec) : -ENOMEM;
    json_decref(fig);
    return rc;
}

int bkp_gen_prune(bkp_repo *r, const bkp_gen *g)
{
    char *dir = record_dir(g);
    /* On a medium's copy the tombstone is bound to that medium, as the "not
     * copied" ones: the record is still on the primary and on other media. */
    char *medium = bkp_gen_copy_medium(r);
    int rc = medium ? 0 : log_prune(r, g);
    /* The tombstone first and durable; only then may the record go. */
    if (!rc)
        rc = write_tombstone(r, dir, g, "pruned", medium);
    free(medium);
    if (!rc && (rc = bkp_unlink_sealed(g->file)) == -ENOENT)
        rc = 0;
    if (!rc) {
        char cleared[32];
        snprintf(cleared, sizeof(cleared), "%010u.cleared", g->seq);
        char *c = bkp_path_join(dir, cleared);
        if (c)
            (void)bkp_unlink_sealed(c);
        free(c);
        rc = bkp_fsync_dir(dir);
    }
    free(dir);
    return rc;
}
