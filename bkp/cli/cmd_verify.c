/*
 * bkp verify [--read-data | --sample PCT] [--media M] [--repair-from M2]
 *
 * Without options: signatures, chains, every object indexed and its pack
 * present. --read-data reads every pack back; --sample PCT reads the PCT%
 * of packs read longest ago (a rolling re-read: state in cache/reread.json
 * of the repository, or the medium's registry entry). --media M checks the
 * copy on medium M (each archive of an archive medium is extracted and
 * verified whole). --repair-from M2 replaces the missing or damaged packs of
 * the primary (or of --media M) with authenticated copies from M2.
 * --public-key HEX|FILE checks, with no secret, what the key signed
 * (bkp_verify_public): for an auditor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/media/bucket.h"
#include "bkp/cli/cli.h"
#include "bkp/io/durable.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/ops/archive_check.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/verify_medium.h"
#include "bkp/ops/verify_repair.h"
#include "bkp/keys/pubkey.h"
#include "bkp/audit/verify.h"

/* ---- the copy a check or repair works on ---- */

/* A copy fetched from an object medium: its staging folder and what the
 * fetch found wrong with the bucket's current versions. */
typedef struct fetched {
    char *staging;
    bkp_bucket_fetch f;
} fetched;

/* Open the repository copy on medium `name` (label checked); an object
 * medium's copy is fetched whole into `fx`'s staging folder. */
static int open_medium(cli *c, const char *name, cli_medium *m, bkp_repo **out, fetched *fx)
{
    int ex = cli_medium_find(c, name, m);
    if (!ex && !pol_type_at_path(m->kind))
        return cli_object_fetch(c, m, true, NULL, out, &fx->staging, &fx->f);
    if (ex || (ex = cli_medium_check_label(c, m)))
        return ex;
    if (pol_type_write_once(m->kind))
        return EXIT_OK; /* checked archive by archive */
    char *repo = cli_medium_repo(m);
    int rc = repo ? bkp_repo_open_copy(repo, c->ro, BKP_REPO_READONLY, out) : -ENOMEM;
    free(repo);
    return rc ? EXIT_FAILED : EXIT_OK;
}

/* A repair source: a medium's name, or the path of a repository copy or mount point. */
static int open_source(cli *c, const char *from, cli_medium *m, bkp_repo **out, fetched *fx)
{
    char *repo = NULL;
    if (ops_repair_source_path(from, &repo))
        return EXIT_FAILED;
    if (repo) {
        int rc = bkp_repo_open_copy(repo, c->ro, BKP_REPO_READONLY, out);
        free(repo);
        return rc ? EXIT_FAILED : EXIT_OK;
    }
    int ex = open_medium(c, from, m, out, fx);
    if (!ex && fx->f.nstale + fx->f.ndamaged)
        bkp_warn(_("%s: %zu pack(s) of it are damaged or forged in the bucket; the others repair "
                   "from it"),
                 from, fx->f.nstale + fx->f.ndamaged);
    if (!ex && !*out) {
        bkp_error(_("%s is an archive medium; repair from a disk copy (or restore from the archive "
                    "with `bkp restore --from %s`)"),
                  from, from);
        ex = EXIT_USAGE;
    }
    return ex;
}

/* ---- the command ---- */

static void print_result(cli *c, const char *what, const bkp_verify_result *res,
                         const char *mode, const bkp_strlist *fixed)
{
    if (c->json) {
        json_t *msgs = json_array();
        for (size_t i = 0; i < res->nmessages; i++)
            json_array_append_new(msgs, bkp_json_bytes(res->messages[i]));
        cli_print_json(
            json_pack("{s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o?}", "target", what, "ok",
                      res->problems == 0, "mode", mode, "generations", (json_int_t)res->generations,
                      "packs_read", (json_int_t)res->packs_read, "blobs_read",
                      (json_int_t)res->blobs_read, "bytes_read", (json_int_t)res->bytes_read,
                      "problems", (json_int_t)res->problems, "messages", msgs, "repaired",
                      fixed ? bkp_json_strlist(fixed) : NULL));
    } else if (res->problems == 0 && c->tty) {
        char a[32];
        /* "repository" is a word for the JSON, and one of the reader's language here. */
        const char *shown = c->media ? what : _("the repository");
        printf(_("%s: verified %llu generation(s): signatures, chains and objects in place"), shown,
               (unsigned long long)res->generations);
        if (res->packs_read)
            printf(_("; %llu pack(s) (%s, %llu blobs) read back and authenticated"),
                   (unsigned long long)res->packs_read, bkp_size_text(a, sizeof(a), res->bytes_read),
                   (unsigned long long)res->blobs_read);
        printf("\n");
    }
}

/* verify --public-key: what the key signed, checked with the key the
 * auditor pinned; the repository was opened with it (cli_open_public). */
static int verify_public(cli *c)
{
    bkp_lock *reader = NULL;
    bkp_verify_result res = {0};
    char fp[BKP_FINGERPRINT_LEN];
    if (c->read_data || c->sample || c->media || c->repair_from) {
        bkp_error(
            _("--public-key checks signatures and chains only; --read-data, --sample, --media "
              "and --repair-from read or write packs, which needs the key (for a medium's "
              "copy, give its folder: --repo MEDIUM/repo)"));
        return EXIT_USAGE;
    }
    int ex = cli_read_lock(c, bkp_repo_path(c->ro), &reader);
    if (ex)
        return ex;
    int rc = bkp_verify_public(c->ro, &res);
    bkp_lock_release(reader);
    bkp_pubkey_fingerprint(c->pinned_pk, fp);
    if (rc < 0) {
        bkp_error(_("verification could not run: %s"), bkp_strerror(rc));
        bkp_verify_result_clear(&res);
        return EXIT_FAILED;
    }
    if (c->json) {
        json_t *msgs = json_array();
        for (size_t i = 0; i < res.nmessages; i++)
            json_array_append_new(msgs, bkp_json_bytes(res.messages[i]));
        cli_print_json(json_pack("{s:s, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "target",
                                 "repository", "ok", res.problems == 0, "mode", "public-key", "public_key",
                                 fp, "generations", (json_int_t)res.generations, "tombstones",
                                 (json_int_t)res.tombstones, "audit_records",
                                 (json_int_t)res.audit_records, "pins", (json_int_t)res.pins,
                                 "problems", (json_int_t)res.problems, "messages", msgs));
    } else {
        printf(
            _("repository %s (%s)\n  checked with the public key you gave (%s), which is the "
              "repository's; no secret was used\n"
              "  checked: %llu generation record(s) and %llu tombstone(s) (the place a "
              "generation pruned, or not copied to this medium, keeps in its chain): signatures, "
              "clearances and the chain of each data set\n"),
            bkp_repo_path(c->ro), bkp_repo_uuid(c->ro), fp, (unsigned long long)res.generations,
            (unsigned long long)res.tombstones);
        char *medium = bkp_gen_copy_medium(c->ro);
        if (medium)
            printf(_("  checked as the copy on the medium labelled %s: its own audit log and the "
                     "pins are the primary's to check\n"),
                   medium);
        else
            printf(_("  checked: the audit log (%llu record(s)): signatures, chain and head "
                     "marker, against the records; %llu pin(s) kept for media, against the "
                     "records and the log\n"),
                   (unsigned long long)res.audit_records, (unsigned long long)res.pins);
        free(medium);
        cli_public_print_limits(true);
        if (res.problems)
            printf(_("NOT verified: %llu problem(s), named above\n"),
                   (unsigned long long)res.problems);
        else
            printf(_("verified\n"));
    }
    ex = res.problems ? EXIT_FAILED : EXIT_OK;
    bkp_verify_result_clear(&res);
    return ex;
}

/* One check (or repair) and what it holds open. */
typedef struct vjob {
    cli_medium m, sm;       /* --media, --repair-from when they are media */
    fetched fx, sfx;        /* their copies fetched from a bucket */
    const bkp_repo *target; /* what is checked: the primary, or `copy` */
    bkp_repo *copy, *src;
    bkp_lock *lock; /* a reader's for a check, the writer's for a repair */
    bkp_verify_result res;
    bkp_strlist fixed; /* the packs repaired */
    bool repaired;     /* a repair ran */
    const char *what; /* "repository", or the medium's name */
    bool sample, read_data;
    int behind; /* > 0: the medium pinned history the primary lacks */
} vjob;

static void vjob_clear(vjob *v)
{
    bkp_verify_result_clear(&v->res);
    bkp_strlist_clear(&v->fixed);
    bkp_lock_release(v->lock);
    bkp_repo_free(v->copy);
    bkp_repo_free(v->src);
    cli_medium_clear(&v->m);
    cli_medium_clear(&v->sm);
    for (fetched *x = &v->fx; x; x = x == &v->fx ? &v->sfx : NULL) {
        if (x->staging)
            (void)bkp_remove_tree(x->staging);
        free(x->staging);
        bkp_bucket_fetch_clear(&x->f);
    }
}

/* A medium that pinned more than the primary holds is the better copy: the
 * primary was rolled back or rewritten, and that fails the check. */
static int pinned_behind(cli *c)
{
    ops_pin_findings found;
    char doing[256];
    int behind;
    snprintf(doing, sizeof(doing), _("%s pinned history the primary lacks"), c->media);
    if ((behind = cli_pins_check(c, c->media, &found)) > 0)
        ops_pins_refuse(&found, doing);
    ops_pin_findings_clear(&found);
    return behind;
}

/* The lock and the repair source: a check holds a reader's lock; a repair
 * opens its source (never the copy being repaired) and takes the writer's. */
static int take_lock(cli *c, vjob *v)
{
    int rc;
    /* A verify that writes the primary (a sample's state, a medium's
     * registry entry, a repair: the table makes it a writer) holds the
     * writer's lock of the primary already, taken by the dispatcher; a
     * second one in the same process would wait for the first. */
    bool held = c->writer && v->target == c->ro;
    if (!c->repair_from)
        return held ? EXIT_OK : cli_read_lock(c, bkp_repo_path(v->target), &v->lock);
    int ex = open_source(c, c->repair_from, &v->sm, &v->src, &v->sfx);
    if (ex)
        return ex;
    if ((rc = ops_repair_lock(v->target, v->src, held ? NULL : &v->lock)) == -EINVAL) {
        bkp_error(_("--repair-from %s names the copy being repaired; name another copy"),
                  c->repair_from);
        return EXIT_USAGE;
    }
    if (rc)
        return rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
    return EXIT_OK;
}

/* A bucket's bad packs uploaded again from the source, each checked first
 * and locked. Only packs are repaired: anything else the check found (a
 * forged config, key file or record) stays a problem. */
static int repair_bucket(cli *c, vjob *v)
{
    size_t nbad = v->fx.f.nstale + v->fx.f.ndamaged + v->fx.f.nhidden;
    int left = cli_object_repair(c, &v->m, v->src, &v->fx.f, &v->fixed);
    if (left)
        bkp_error(_("%d pack(s) could not be repaired in the bucket from %s"), left,
                  c->repair_from);
    else
        printf(_("%s: %zu object(s) uploaded from %s as the current version, each checked "
                 "first and locked\n"),
               v->what, v->fixed.n, c->repair_from);
    uint64_t other = v->res.problems > nbad ? v->res.problems - nbad : 0;
    if (other)
        bkp_error(_("%llu problem(s) of %s are not packs and remain; `bkp rotate %s` uploads the "
                    "repository's config, key file and records over forged ones"),
                  (unsigned long long)other, v->what, v->what);
    v->res.problems = (uint64_t)left + other;
    return 0; /* what remains is counted in `res` */
}

/* A disk copy's (or the primary's) bad packs replaced from the source, then
 * the whole read back to prove the repair. */
static int repair_disk(cli *c, vjob *v)
{
    ops_repair_out o;
    /* The copy checked, or the primary, open writable (a repair is a writer). */
    bkp_repo *target = v->copy ? v->copy : c->r;
    int rc = ops_verify_repair(target, v->src, v->copy != NULL, c->workers, &v->res, &o);
    bkp_strlist_clear(&v->fixed);
    v->fixed = o.fixed;
    o.fixed = (bkp_strlist){0};
    if (!rc && !v->res.problems)
        printf(_("%s: %zu pack(s) replaced from %s, read back and authenticated; verified "
                 "clean\n"),
               v->what, v->fixed.n, c->repair_from);
    else if (o.left)
        bkp_error(_("%d pack(s) could not be repaired from %s"), o.left, c->repair_from);
    ops_repair_out_clear(&o);
    return rc;
}

/* The copy on a medium, or the primary: checked, and repaired when asked. */
static int check_copy(cli *c, vjob *v, int *ex)
{
    v->target = v->copy ? v->copy : c->ro;
    /* A copy on a medium named by its path (--repo): its audit log's marker
     * says so, or it has no log of its own. It is checked as that copy
     * (its "not copied" tombstones count, the primary's log is not its
     * own), and said so, since a primary whose log and marker were deleted
     * would look the same. */
    char *as_copy = !v->copy ? bkp_gen_copy_medium(c->ro) : NULL;
    if (as_copy)
        bkp_note(_("%s is checked as the copy on the medium labelled %s (a label beside it names "
                   "this repository, and it has no audit log of a primary)"),
                 bkp_repo_path(c->ro), as_copy);
    free(as_copy);
    if ((*ex = take_lock(c, v)))
        return 0;
    int rc = ops_verify_check(c->ro, v->target, c->media, v->sample ? c->sample : 0, v->read_data,
                              c->workers, &v->fx.f, &v->res);
    if (rc == 0 && v->res.problems && v->src) {
        v->repaired = true;
        rc = v->fx.staging ? repair_bucket(c, v) : repair_disk(c, v);
    }
    return rc;
}

/* The record of a check, where the reads of the repository checked go
 * (cli_audit: never on a copy on a medium read by its path). */
static int append(void *ctx, const bkp_audit_rec *rec)
{
    return cli_audit(ctx, rec) ? -EIO : 0;
}

/* The audit record, the medium's registry, and what the operator reads. */
static int conclude(cli *c, vjob *v, int rc)
{
    const char *mode = v->sample ? "sample" : v->read_data ? "read-data" : "structure";
    bkp_verify_result *res = &v->res;
    int aex = ops_verify_record(c->ro, c->r, c->media, mode, rc, v->behind, res,
                                v->repaired ? &v->fixed : NULL, append,
                                c)
                  ? EXIT_FAILED
                  : EXIT_OK;
    if (rc < 0) {
        bkp_error(_("verification could not run: %s"), bkp_strerror(rc));
        return EXIT_FAILED;
    }
    print_result(c, v->what, res, mode, v->repaired ? &v->fixed : NULL);
    if (res->problems)
        bkp_error(_("%llu problem(s) found; see above. Repair with `bkp verify%s%s --repair-from "
                    "MEDIUM` from a medium holding a good copy, or restore the affected files from "
                    "another medium or an older generation"),
                  (unsigned long long)res->problems, c->media ? " --media " : "",
                  c->media ? c->media : "");
    return res->problems || v->behind || aex ? EXIT_FAILED : EXIT_OK;
}

int cmd_verify(cli *c)
{
    vjob v = {.what = c->media ? c->media : "repository",
              .sample = c->sample != 0,
              .read_data = c->read_data || c->repair_from};
    int ex = EXIT_OK, rc;
    if (c->public_key)
        return verify_public(c);
    if (v.sample && (c->sample < 0 || c->sample > 100 || c->sample != c->sample || v.read_data)) {
        bkp_error(_("--sample takes a percentage between 0 and 100, without --read-data or "
                    "--repair-from"));
        return EXIT_USAGE;
    }
    if (c->media && (ex = open_medium(c, c->media, &v.m, &v.copy, &v.fx)))
        goto out;
    v.behind = c->media ? pinned_behind(c) : 0;
    if (c->media && !v.copy) {
        if (c->repair_from || v.sample) {
            bkp_error(_("%s is an archive medium: its archives are verified whole and never "
                        "rewritten; --repair-from and --sample do not apply"),
                      c->media);
            ex = EXIT_USAGE;
            goto out;
        }
        rc = ops_archive_verify(c->ro, v.m.name, v.m.path, NULL, c->workers, &v.res);
        rc = ops_verify_kit(v.what, v.m.path, true, rc,
                            &v.res); /* beside the archives; a tape has none */
    } else {
        rc = check_copy(c, &v, &ex);
        if (ex)
            goto out;
        if (c->media && v.copy && !v.fx.staging)
            rc = ops_verify_kit(v.what, v.m.path, false, rc, &v.res);
    }
    ex = conclude(c, &v, rc);
out:
    vjob_clear(&v);
    return ex;
}
