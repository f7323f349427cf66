/*
 * Object media from the command line: label, probe, rotate and fetch an S3
 * bucket with Object Lock. The work is bkp/ops/object_medium.h (label,
 * probe, the proof) and object_fetch.h; this file opens
 * the connection the policy names, maps outcomes to exit codes and prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/clock.h"
#include "bkp/media/bucket.h"
#include "bkp/cli/cli.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/keys.h"
#include "bkp/io/log.h"
#include "bkp/ops/object_fetch.h"
#include "bkp/ops/object_medium.h"
#include "bkp/io/text.h"

int cli_object_open(cli *c, const cli_medium *m, bkp_s3 **out)
{
    (void)c;
    *out = NULL;
    if (!pol_medium_bucket(m->pm)) {
        bkp_error(_("%s is an object medium: the policy says where its bucket is; name the policy "
                    "with --policy"),
                  m->name);
        return EXIT_USAGE;
    }
    int rc = ops_object_open(m->pm, out);
    /* The credentials file missing, untrusted or malformed, or a bad
     * endpoint: the set-up, said with what to do. */
    return rc == -EPERM || rc == -EINVAL || rc == -ENOENT ? EXIT_USAGE : rc ? EXIT_FAILED : EXIT_OK;
}

/* What the ops functions of medium `m` work with, over connection `s`. */
static ops_object_in object_in(cli *c, const cli_medium *m, bkp_s3 *s)
{
    return (ops_object_in){.primary = c->r,
                           .policy = c->policy,
                           .medium = m->name,
                           .pm = m->pm,
                           .location = m->location,
                           .entry = m->entry,
                           .s = s,
                           .force = c->force};
}

bool cli_object_proven(cli *c, const bkp_media_entry *entry, time_t *when)
{
    return ops_object_proven(c->ro, c->policy, entry, when);
}

int cli_object_label(cli *c, cli_medium *m)
{
    bkp_s3 *s = NULL;
    bkp_label lab;
    bool usage = false;
    int ex = cli_object_open(c, m, &s);
    if (ex)
        return ex;
    ops_object_in in = object_in(c, m, s);
    int rc = ops_object_label(&in, &lab, &usage);
    ex = usage ? EXIT_USAGE : rc ? EXIT_FAILED : EXIT_OK;
    if (!ex && !c->json)
        printf(_("%s: bucket %s at %s labelled (%s); versioning and Object Lock are on.\n"
                 "Prove the lock now: bkp media probe %s\n"),
               m->name, m->pm->object.bucket, m->pm->object.endpoint, lab.uuid, m->name);
    bkp_s3_close(s);
    return ex;
}

int cli_object_probe(cli *c, cli_medium *m)
{
    bkp_s3 *s = NULL;
    bkp_bucket_probe pr;
    bool usage = false;
    int noted = 0, ex = cli_object_open(c, m, &s);
    if (ex)
        return ex;
    ops_object_in in = object_in(c, m, s);
    int rc = ops_object_probe(&in, &pr, &noted, &usage);
    bkp_s3_close(s);
    if (rc)
        return usage ? EXIT_USAGE : EXIT_FAILED;
    if (c->json)
        cli_print_json(json_pack("{s:s, s:b, s:s, s:s}", "medium", m->name, "proven", pr.proven,
                                 "canary", pr.key, "detail", pr.detail));
    else if (pr.proven) {
        /* In the reader's words and time; the record keeps the English detail. */
        char until[32];
        cli_time(until, sizeof(until), pr.until);
        until[16] = '\0';
        printf(_("%s: the lock holds — a test object could not be deleted, not even with the "
                 "governance bypass, nor its lock shortened; it stays locked until %s.\n%s is "
                 "counted as a non-editable copy.\n"),
               m->name, until, m->name);
    }
    else if (m->pm->object.governance)
        bkp_error(_("%s: the server enforces COMPLIANCE (%s), but this medium locks its objects in "
                    "GOVERNANCE mode, which a credential allowed to bypass it (or to lift a policy "
                    "that denies it) can delete early: it is counted as editable. Use 'lock: { "
                    "mode: compliance }'"),
                  m->name, pr.detail);
    else
        bkp_error(_("%s: the lock does NOT hold — %s. %s is counted as editable; %s"), m->name,
                  pr.detail, m->name,
                  _("check that the bucket has Object Lock and that the server enforces it"));
    return noted ? EXIT_FAILED : pr.proven ? EXIT_OK : EXIT_FAILED;
}

/* ---- fetch, for restore --from and verify --media ---- */

/* The exit code of bkp_bucket_trust_find's return. */
static int trust_exit(int rc)
{
    return !rc                   ? EXIT_OK
           : rc == -EKEYREJECTED || rc == -EKEYREVOKED ? EXIT_KEY
           : rc == -EINVAL       ? EXIT_USAGE
                                 : EXIT_FAILED;
}

typedef struct trust_try {
    bkp_s3 *s;
    const char *medium;
    bkp_bucket_trust *t;
} trust_try;

static int try_trust(void *ctx, const char *pass, size_t plen)
{
    trust_try *x = ctx;
    bkp_bucket_trust_clear(x->t); /* what an earlier passphrase found */
    x->t->pass = pass;
    x->t->plen = plen;
    return bkp_bucket_trust_find(x->s, x->medium, x->t);
}

/* What the copy fetched is believed by and opened with (bucket.h,
 * bkp_bucket_trust), found in the bucket: the primary's keys (`as_copy`),
 * else the key sheets, else the passphrase (`*pass`, the caller frees it),
 * a typed one asked for again as for a repository (cli_passphrase_tries).
 * An exit code. */
static int trust_of(cli *c, bkp_s3 *s, const cli_medium *m, bool as_copy, bkp_bucket_trust *t,
                    char **pass)
{
    memset(t, 0, sizeof(*t));
    /* What the primary's registry pins of it, read when it was found (a
     * `--from` closes the primary before the fetch). */
    t->registered = m->entry ? &m->entry->label : NULL;
    int ex = cli_key_pin(c);
    if (ex)
        return ex;
    t->pinned = c->key_pinned;
    memcpy(t->pin, c->key_pin, 32);
    if (as_copy) {
        t->like = c->ro;
    } else if (c->nkey_from) {
        if ((ex = cli_exit_open(cli_key_from_master(c), NULL)))
            return ex;
        t->master = c->key_master;
    } else {
        cli_passphrase_source(c);
        trust_try x = {s, m->name, t};
        size_t plen = 0;
        int rc = cli_passphrase_tries(c, try_trust, &x, pass, &plen);
        t->pass = *pass; /* the one kept (a refused one before it is freed) */
        t->plen = plen;
        return rc == -ENOKEY ? EXIT_USAGE : trust_exit(rc);
    }
    return trust_exit(bkp_bucket_trust_find(s, m->name, t));
}

/* The copy fetched into `staging` opened, read-only, as `t` says. */
static int open_fetched(cli *c, const char *staging, const bkp_bucket_trust *t, bkp_repo **out)
{
    char *repo = bkp_path_join(staging, "repo");
    int rc = !repo       ? -ENOMEM
             : t->like   ? bkp_repo_open_copy(repo, t->like, BKP_REPO_READONLY, out)
             : t->master ? bkp_repo_open_master(repo, t->master, BKP_REPO_READONLY, out)
                         : bkp_repo_open(repo, t->pass, t->plen, BKP_REPO_READONLY, out);
    if (!rc && t->master)
        rc = cli_key_from_record(c, out, true);
    int ex = rc == -EINVAL ? EXIT_USAGE : repo ? cli_exit_open(rc, repo) : EXIT_FAILED;
    free(repo);
    return ex;
}

int cli_object_fetch(cli *c, const cli_medium *m, bool as_copy, const cli_fetch_what *what,
                     bkp_repo **out, char **staging, bkp_bucket_fetch *f)
{
    bkp_bucket_packset want = {0};
    bkp_bucket_trust t = {0};
    bool subset = false;
    bkp_s3 *s = NULL;
    char *pass = NULL;
    *out = NULL;
    int rc, ex = cli_object_open(c, m, &s);
    if (ex || (ex = trust_of(c, s, m, as_copy, &t, &pass)))
        goto out;
    ex = EXIT_FAILED;
    if (!(*staging = ops_object_staging("fetch")))
        goto out;
    bkp_info(_("fetching %s from bucket %s into %s"), m->name, m->pm->object.bucket, *staging);
    if (bkp_bucket_fetch_meta(s, *staging, &t, f))
        goto out;
    if ((ex = open_fetched(c, *staging, &t, out)) || (ex = cli_source_shown(c, m->name, *out)) ||
        (what && what->records))
        goto out; /* the records alone: which generations it holds */
    if ((rc = ops_object_want(*out, what, &want, &subset))) {
        ex = cli_exit_for(rc);
        goto out;
    }
    ex = EXIT_FAILED;
    if (!(rc = bkp_bucket_fetch_packs(s, *out, subset ? &want : NULL, f))) {
        char sz[32];
        bkp_info(_("fetched %llu pack(s), %s, from %s%s%s"), (unsigned long long)f->packs,
                 bkp_size_text(sz, sizeof(sz), f->bytes), m->name,
                 subset ? _(" (those the generations asked for need)") : "",
                 f->nstale || f->ndamaged ? _("; some are damaged or forged (above)") : "");
        if (subset && f->packs + f->ndamaged < want.n)
            bkp_warn(_("%s: %zu pack(s) that the signed lists name are not in the bucket at all; "
                       "what needs them cannot be restored from it. Run `bkp verify --media %s`"),
                     m->name, want.n - (size_t)(f->packs + f->ndamaged), m->name);
        ex = EXIT_OK;
    }
out:
    if (ex) { /* nothing half-opened is handed back; the folder is the caller's */
        bkp_repo_free(*out);
        *out = NULL;
    }
    bkp_bucket_trust_clear(&t);
    if (pass)
        bkp_passphrase_free(pass, t.plen);
    bkp_bucket_packset_free(&want);
    bkp_s3_close(s);
    return ex;
}

int cli_object_repair(cli *c, const cli_medium *m, bkp_repo *src, const bkp_bucket_fetch *f,
                      bkp_strlist *fixed)
{
    bkp_s3 *s = NULL;
    if (cli_object_open(c, m, &s))
        return (int)(f->nstale + f->ndamaged + f->nhidden);
    int left = ops_object_repair(s, m->pm, src, f, fixed);
    bkp_s3_close(s);
    return left;
}
