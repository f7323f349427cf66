/* pin.c — signed pins of the primary's heads on media (pin.h). */
#include "bkp/media/pin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/keys/envelope.h"
#include "bkp/keys/keys.h"
#include "bkp/io/log.h"
#include "bkp/media/label.h"

#define PIN_FORMAT "bkp-pin"
#define PIN_VERSION 1
#define PIN_HEADS_MAX 10000 /* far above any policy; bounds the work a crafted pin causes */

void bkp_pin_free(bkp_pin *p)
{
    if (!p)
        return;
    free(p->heads);
    free(p);
}

static int cmp_head(const void *a, const void *b)
{
    return strcmp(((const bkp_pin_head *)a)->dataset, ((const bkp_pin_head *)b)->dataset);
}

/* ---- parse: every byte comes from a medium, so every type is checked ---- */

static int parse_heads(json_t *heads, bkp_pin *p)
{
    const char *ds;
    json_t *h;
    size_t n = json_object_size(heads);
    if (!json_is_object(heads) || n > PIN_HEADS_MAX)
        return -EBADMSG;
    if (!(p->heads = calloc(n + 1, sizeof(*p->heads))))
        return -ENOMEM;
    json_object_foreach(heads, ds, h)
    {
        bkp_pin_head *x = &p->heads[p->nheads];
        json_t *seq = json_object_get(h, "seq");
        const char *rec = json_string_value(json_object_get(h, "record"));
        if (!json_is_object(h) || json_object_size(h) != 2 || strlen(ds) >= sizeof(x->dataset) ||
            !bkp_dataset_name_ok(ds) || !json_is_integer(seq) || json_integer_value(seq) < 1 ||
            json_integer_value(seq) > 4000000000LL || !rec ||
            bkp_unhex(x->record, BKP_ID_LEN, rec))
            return -EBADMSG;
        memcpy(x->dataset, ds, strlen(ds) + 1);
        x->seq = (uint32_t)json_integer_value(seq);
        p->nheads++;
    }
    if (p->nheads)
        qsort(p->heads, p->nheads, sizeof(*p->heads), cmp_head);
    return 0;
}

static int parse_json(json_t *j, bkp_pin *p)
{
    const char *fmt = NULL, *repo = NULL, *medium = NULL, *when = NULL;
    json_int_t version = 0, records = 0;
    json_t *heads = NULL, *last = NULL;
    if (json_unpack(j, "{s:s, s:I, s:s, s:s, s:s, s:o, s:{s:I, s:o}}", "format", &fmt, "version",
                    &version, "repository", &repo, "medium", &medium, "time", &when, "heads",
                    &heads, "audit", "records", &records, "last", &last) != 0)
        return -EBADMSG;
    if (strcmp(fmt, PIN_FORMAT) || version != PIN_VERSION || strlen(repo) != 36 ||
        strlen(medium) >= sizeof(p->medium) || !bkp_medium_name_ok(medium) || records < 0 ||
        (p->time = bkp_iso_parse(when)) < 0)
        return -EBADMSG;
    memcpy(p->repository, repo, 37);
    memcpy(p->medium, medium, strlen(medium) + 1);
    p->audit_records = (uint64_t)records;
    /* A log of no records has no last line; any other has one. */
    if (records == 0 ? !json_is_null(last)
                     : !json_is_string(last) ||
                           bkp_unhex(p->audit_last, sizeof(p->audit_last), json_string_value(last)))
        return -EBADMSG;
    return parse_heads(heads, p);
}

int bkp_pin_parse(const uint8_t *json, size_t len, bkp_pin **out)
{
    bkp_pin *p = calloc(1, sizeof(*p));
    json_t *j = NULL;
    int rc = -EBADMSG;
    if (!p)
        return -ENOMEM;
    if (len <= BKP_PIN_MAX)
        j = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, NULL);
    if (j)
        rc = parse_json(j, p);
    json_decref(j);
    if (rc) {
        bkp_pin_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int bkp_pin_read(const bkp_repo *r, const char *path, bkp_pin **out)
{
    bkp_buf data;
    bkp_pin *p = NULL;
    const uint8_t *text;
    size_t tlen;
    int rc;
    bkp_buf_init(&data);
    rc = bkp_envelope_load(path, BKP_PIN_MAX, &data);
    /* The JSON is parsed only once the signature over magic, length and
     * JSON holds. */
    if (!rc)
        rc = bkp_envelope_open(bkp_repo_sign_pk(r), BKP_PIN_MAGIC, data.data,
                               data.len, &text, &tlen);
    if (!rc)
        rc = bkp_pin_parse(text, tlen, &p);
    if (!rc && strcmp(p->repository, bkp_repo_uuid(r))) {
        bkp_pin_free(p);
        rc = -EBADMSG; /* signed by this key for another repository: not ours */
    }
    bkp_buf_free(&data);
    if (!rc)
        *out = p;
    return rc;
}

/* ---- make and write ---- */

int bkp_pin_make(bkp_repo *r, const char *medium, bkp_pin **out)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    int rc = bkp_gen_list(r, NULL, &v, &n);
    if (!rc)
        rc = bkp_pin_make_of(r, medium, v, n, out);
    bkp_gen_list_free(v, n);
    return rc;
}

int bkp_pin_make_of(bkp_repo *r, const char *medium, bkp_gen *const *v, size_t n, bkp_pin **out)
{
    bkp_pin *p = calloc(1, sizeof(*p));
    char *log = bkp_audit_path(r);
    bkp_pin_log lg;
    int rc = !p || !log ? -ENOMEM : 0;
    if (!rc && !(p->heads = calloc(n + 1, sizeof(*p->heads))))
        rc = -ENOMEM;
    /* The head of a data set: its highest sequence number whose record (or
     * tombstone, which carries the record's hash) verifies. */
    for (size_t i = 0; !rc && i < n; i++) {
        if (v[i]->status)
            continue;
        bkp_pin_head *h = p->nheads ? &p->heads[p->nheads - 1] : NULL;
        if (!h || strcmp(h->dataset, v[i]->dataset))
            h = &p->heads[p->nheads++];
        snprintf(h->dataset, sizeof(h->dataset), "%s", v[i]->dataset);
        h->seq = v[i]->seq;
        memcpy(h->record, v[i]->hash, BKP_ID_LEN);
    }
    if (!rc && (rc = bkp_pin_log_read(log, 0, &lg)) == -ENOENT) {
        lg = (bkp_pin_log){0};
        rc = 0;
    }
    if (!rc) {
        snprintf(p->medium, sizeof(p->medium), "%s", medium);
        snprintf(p->repository, sizeof(p->repository), "%s", bkp_repo_uuid(r));
        p->time = bkp_now();
        p->audit_records = lg.records;
        if (lg.have_at)
            memcpy(p->audit_last, lg.at, sizeof(p->audit_last));
    }
    free(log);
    if (rc) {
        bkp_pin_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static json_t *pin_json(const bkp_pin *p)
{
    char hex[2 * BKP_ID_LEN + 1], when[32];
    json_t *heads = json_object();
    for (size_t i = 0; i < p->nheads; i++) {
        bkp_hex(hex, p->heads[i].record, BKP_ID_LEN);
        json_object_set_new(heads, p->heads[i].dataset,
                            json_pack("{s:I, s:s}", "seq", (json_int_t)p->heads[i].seq, "record",
                                      hex));
    }
    bkp_iso_time(when, sizeof(when), p->time);
    bkp_hex(hex, p->audit_last, sizeof(p->audit_last));
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:o, s:{s:I, s:o}}", "format", PIN_FORMAT,
                     "version", PIN_VERSION, "repository", p->repository, "medium", p->medium,
                     "time", when, "heads", heads, "audit", "records",
                     (json_int_t)p->audit_records, "last",
                     p->audit_records ? json_string(hex) : json_null());
}

int bkp_pin_write(bkp_repo *r, const bkp_pin *p, const char *dir, const char *name)
{
    /* Replaced by every rotation (rename over the old one): a reader sees the
     * old pin or the new one, never a mix. Not immutable, so it can be. */
    int rc = bkp_envelope_store(bkp_repo_keys(r), BKP_PIN_MAGIC, pin_json(p), BKP_PIN_MAX, dir,
                                name, 0);
    return rc == -EFBIG ? -ENOMEM : rc;
}

/* ---- the log, streamed: it grows for years ---- */

int bkp_pin_log_read(const char *path, uint64_t at, bkp_pin_log *out)
{
    return bkp_pin_log_read_many(path, &at, 1, out);
}

int bkp_pin_log_read_many(const char *path, const uint64_t *at, size_t n, bkp_pin_log *out)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bkp_pin_log *lg = calloc(n + 1, sizeof(*lg));
    uint64_t records = 0;
    if (!f || !lg) {
        int e = f ? -ENOMEM : -errno;
        free(lg);
        if (f)
            fclose(f);
        return e;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break; /* a torn tail is not a record */
        records++;
        /* The hash of the line without its newline: what the next record's
         * "prev" names. Hashed once however many positions ask for it. */
        uint8_t h[32];
        bool hashed = false;
        for (size_t i = 0; i < n; i++) {
            if (at[i] && at[i] != records)
                continue;
            if (!hashed)
                crypto_generichash(h, sizeof(h), (const uint8_t *)line, (size_t)len - 1, NULL, 0);
            hashed = true;
            memcpy(lg[i].at, h, sizeof(h));
            lg[i].have_at = true;
        }
    }
    int rc = ferror(f) ? -EIO : 0;
    free(line);
    fclose(f);
    for (size_t i = 0; !rc && i < n; i++) {
        lg[i].records = records;
        out[i] = lg[i];
    }
    free(lg);
    return rc;
}

/* ---- compare ---- */

static int add(bkp_pin_finding **v, size_t *n, const char *ds, bool beside, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int add(bkp_pin_finding **v, size_t *n, const char *ds, bool beside, const char *fmt, ...)
{
    bkp_pin_finding *nv = realloc(*v, (*n + 1) * sizeof(**v));
    va_list ap;
    if (!nv)
        return -ENOMEM;
    *v = nv;
    bkp_pin_finding *f = &nv[(*n)++];
    memset(f, 0, sizeof(*f));
    snprintf(f->dataset, sizeof(f->dataset), "%s", ds);
    f->beside = beside;
    va_start(ap, fmt);
    vsnprintf(f->what, sizeof(f->what), fmt, ap);
    va_end(ap);
    return 0;
}

static int compare_head(const bkp_pin *p, const bkp_pin_head *h, bkp_gen *const *v, size_t n,
                        bkp_pin_finding **out, size_t *nout)
{
    const bkp_gen *at = NULL;
    uint32_t newest = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i]->dataset, h->dataset))
            continue;
        if (v[i]->seq > newest)
            newest = v[i]->seq;
        if (v[i]->seq == h->seq)
            at = v[i];
    }
    const char *ds = h->dataset, *m = p->medium;
    unsigned s = h->seq;
    if (!at && newest < h->seq)
        return newest ? add(out, nout, ds, false,
                            "%s:%u, pinned on %s, is missing: the primary's newest generation of "
                            "%s is %s:%u",
                            ds, s, m, ds, ds, newest)
                      : add(out, nout, ds, false,
                            "%s:%u, pinned on %s, is missing: the primary holds no generation of "
                            "%s",
                            ds, s, m, ds);
    if (!at)
        return add(out, nout, ds, false,
                   "%s:%u, pinned on %s, is missing from the primary (no record, no tombstone of "
                   "prune) while later ones are there: its record was deleted",
                   ds, s, m);
    if (at->status)
        return add(out, nout, ds, false,
                   "%s:%u, pinned on %s, is damaged or forged on the primary", ds, s, m);
    if (at->pruned) {
        const char *why = at->reason;
        if (!why || strcmp(why, "pruned"))
            return add(out, nout, ds, false,
                       "%s:%u, pinned on %s, is missing from the primary: only a tombstone "
                       "written for a medium (\"%s\") stands in its place",
                       ds, s, m, why ? why : "?");
    }
    if (memcmp(at->hash, h->record, BKP_ID_LEN))
        return add(out, nout, ds, true,
                   "%s:%u on the primary is not the record pinned on %s: another generation "
                   "took its number (history rewritten)",
                   ds, s, m);
    return 0;
}

int bkp_pin_compare(const bkp_pin *p, bkp_gen *const *v, size_t n, const bkp_pin_log *log,
                    bkp_pin_finding **out)
{
    bkp_pin_finding *f = NULL;
    size_t nf = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < p->nheads; i++)
        rc = compare_head(p, &p->heads[i], v, n, &f, &nf);
    if (!rc && log->records < p->audit_records)
        rc = add(&f, &nf, "", false,
                 "the audit log disagrees with what %s pinned: it has %llu record(s), %s pinned "
                 "%llu; records %llu to %llu are missing (the log was cut or replaced)",
                 p->medium, (unsigned long long)log->records, p->medium,
                 (unsigned long long)p->audit_records, (unsigned long long)log->records + 1,
                 (unsigned long long)p->audit_records);
    else if (!rc && p->audit_records &&
             (!log->have_at || memcmp(log->at, p->audit_last, sizeof(p->audit_last))))
        rc = add(&f, &nf, "", true,
                 "the audit log disagrees with what %s pinned: its record %llu is another "
                 "(the log was rewritten)",
                 p->medium, (unsigned long long)p->audit_records);
    if (rc) {
        free(f);
        return rc;
    }
    *out = f;
    return (int)nf;
}
