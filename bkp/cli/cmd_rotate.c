/*
 * bkp rotate MEDIUM — the operator's weekly task: plug the labelled disk in,
 * run this, unplug it. The label is checked (a wrong disk is refused, naming
 * the one that is due); the newest clean generation of every data set the
 * policy copies there is copied, each pack read back from the disk and
 * authenticated before it counts; the copy is pruned by the data set's
 * retention (keeping at least three); checked; recorded in the audit log,
 * whose copy then goes onto the disk; and the operator is told that the disk
 * may go, where, and when it is due again. `bkp run` does the same for
 * on-line disks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/i18n.h"
#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/copy.h"
#include "bkp/durable.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "bkp/ops/rotate_choose.h"
#include "bkp/verify.h"
#include "policies/retention.h"

typedef struct seen_ctx {
    const char *path;
    bool wrote, verified, verify_ok;
    json_t *held;
} seen_ctx;

static int note_seen(json_t *e, void *ctx)
{
    seen_ctx *s = ctx;
    char now[32];
    bkp_iso_time(now, sizeof(now), bkp_now());
    json_object_set_new(e, "last_seen", json_string(now));
    json_object_set_new(e, "path", json_string(s->path));
    if (s->wrote)
        json_object_set_new(e, "last_write", json_string(now));
    if (s->verified) {
        json_object_set_new(e, "last_verify", json_string(now));
        json_object_set_new(e, "verify_ok", json_boolean(s->verify_ok));
    }
    if (s->held)
        json_object_set(e, "held", s->held);
    return 0;
}

json_t *cli_held_list(bkp_repo *dst)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    json_t *held = json_array();
    if (bkp_gen_list(dst, NULL, &v, &n))
        return held;
    for (size_t i = 0; i < n; i++) {
        if (v[i]->pruned || v[i]->status)
            continue;
        json_array_append_new(held, json_pack("{s:s, s:i, s:s, s:O}", "dataset", v[i]->dataset,
                                              "seq", (int)v[i]->seq, "uuid", v[i]->uuid, "finished",
                                              json_object_get(v[i]->json, "finished")));
    }
    bkp_gen_list_free(v, n);
    return held;
}

bool cli_japanese(void)
{
    const char *vars[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return !strncmp(v, "ja", 2);
    }
    return false;
}

/* Tell the operator what happened and what to do with the disk now. */
static void advise(cli *c, const cli_medium *m, const bkp_copy_result *res, json_t *copied,
                   json_t *held)
{
    char sz[32], when[32], nwhen[32];
    size_t i;
    json_t *g;
    printf(res->records ? _("%s: copied ") : _("%s: already held "), m->name);
    json_array_foreach(copied, i, g) printf("%s%s", i ? ", " : "", json_string_value(g));
    if (!json_array_size(copied))
        printf("%s", _("nothing: no data set of the policy is copied to it"));
    if (res->packs)
        printf(_(" — %llu pack(s), %s, each read back from the disk and authenticated"),
               (unsigned long long)res->packs, cli_size(sz, sizeof(sz), res->bytes));
    printf("%s", C_("end of sentence", ".\n"));
    printf(_("%s now holds %zu generation(s); signatures, chains and objects checked.\n"), m->name,
           json_array_size(held));
    time_t due = cli_medium_due(c, m->name), other_due = 0;
    const char *other = cli_medium_most_due(c, &other_due);
    if (due)
        cli_when(when, sizeof(when), due);
    if (m->offline)
        printf(_("You can unmount and disconnect %s now (umount %s); it is kept %s.\n"), m->name,
               m->path, strcmp(m->location, "offsite") ? _("on-site, off-line") : _("off-site"));
    if (due)
        printf(_("%s is next due on %s.\n"), m->name, when);
    if (other && strcmp(other, m->name)) {
        cli_when(nwhen, sizeof(nwhen), other_due);
        if (other_due <= 1)
            printf(_("%s has never been written: it is due now (`bkp rotate %s`).\n"), other,
                   other);
        else if (other_due <= bkp_now())
            printf(_("The next medium due is %s, due since %s.\n"), other, nwhen);
        else
            printf(_("The next medium due is %s, on %s.\n"), other, nwhen);
    }
}

int cli_rotate_record(cli *c, const char *medium, bool failed, bkp_gen **pick, size_t np,
                      json_t *fig)
{
    /* What the medium holds after it: the capture time of each data set's
     * newest generation (the age of the off-line copy counts from there). */
    json_t *captured = json_object();
    for (size_t i = 0; i < np; i++)
        json_object_set(captured, pick[i]->dataset, json_object_get(pick[i]->json, "finished"));
    json_object_set_new(fig, "captured", captured);
    bkp_audit_rec rec = {.op = "rotate",
                         .medium = medium,
                         .failed = failed,
                         .figures = fig,
                         .error = failed ? "see the messages of bkp rotate" : NULL};
    return cli_audit(c, &rec);
}

/* Sealed objects on a medium are read-only by mode; where the file system
 * and privileges allow, also immutable (prune clears the attribute of what
 * it deletes, inside its rules). */
static void seal(bkp_repo *dst, const char *medium)
{
    static const char *const dirs[] = {"packs", "index", "generations", "keys"};
    uint64_t n = 0, total = 0;
    int rc = 0;
    for (size_t i = 0; i < 4 && !rc; i++) {
        char *d = bkp_repo_subpath(dst, dirs[i]);
        rc = d ? bkp_immutable_tree(d, &n) : -ENOMEM;
        total += n;
        free(d);
    }
    char *cfg = bkp_repo_subpath(dst, "config");
    if (!rc && cfg)
        rc = bkp_immutable(cfg, true);
    free(cfg);
    if (rc)
        bkp_info(_("%s: its file system does not take the immutable attribute (%s); sealed objects "
                   "are read-only by their mode"),
                 medium, bkp_strerror(rc));
    else
        bkp_debug("%s: %llu sealed object(s) immutable", medium, (unsigned long long)total);
}

int cli_rotate_disk(cli *c, cli_medium *m, bool quiet)
{
    char *repo = cli_medium_repo(m), *cfg = repo ? bkp_path_join(repo, "config") : NULL;
    bkp_lock *mlock = NULL, *mwriter = NULL;
    bkp_repo *dst = NULL;
    bkp_gen **v = NULL, **pick = NULL;
    size_t n = 0, np = 0;
    bkp_copy_result res = {0};
    bkp_verify_result vres = {0};
    json_t *copied = json_array(), *held = NULL, *fig = NULL, *kit = NULL;
    seen_ctx seen = {.path = m->path};
    bool copied_all = false, said_ok = false;
    struct stat st;
    int ex, rc = 0;
    if (!cfg) {
        free(repo);
        json_decref(copied);
        return EXIT_FAILED;
    }
    char doing[96];
    snprintf(doing, sizeof(doing), _("rotation to %s refused"), m->name);
    /* Before anything touches the medium: a primary behind what it pinned
     * must not be copied over it (nor prune it). */
    if ((ex = cli_medium_check_label(c, m)) || (ex = cli_pins_guard(c, doing)))
        goto record;
    if (stat(cfg, &st) < 0 && (rc = bkp_repo_init_copy(c->r, repo)))
        goto record;
    if ((rc = bkp_lock_take(repo, "rotate", "bkp rotate", &mlock)) ||
        (rc = bkp_lock_writer(repo, "bkp rotate", &mwriter))) {
        ex = rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
        goto record;
    }
    if ((rc = bkp_repo_open_copy(repo, c->r, 0, &dst)) || (rc = bkp_gen_list(c->r, NULL, &v, &n)))
        goto record;
    if (!(pick = calloc(n + 1, sizeof(*pick)))) {
        rc = -ENOMEM;
        goto record;
    }
    np = ops_rotate_choose(c->policy, m->name, v, n, pick);
    for (size_t i = 0; i < np; i++) {
        char name[96];
        json_array_append_new(copied, json_string(bkp_gen_name(pick[i], name, sizeof(name))));
    }
    if ((rc = bkp_copy_generations(c->r, dst, pick, np, &res)))
        goto record;
    copied_all = true;
    if (cli_prune_medium(c, repo, dst, mwriter, m->name))
        bkp_warn(_("%s: old generations could not be pruned; the copy is complete"), m->name);
    rc = bkp_verify(dst, false, c->workers, &vres);
    seen.verified = rc >= 0;
    seen.verify_ok = rc == 0;
    if (rc) {
        bkp_error(
            _("%s: the copy does not verify (%llu problem(s), above); run `bkp verify --media "
              "%s --repair-from` another copy, or use another disk"),
            m->name, (unsigned long long)vres.problems, m->name);
        rc = rc < 0 ? rc : -EBADMSG;
    }
    held = cli_held_list(dst);
    if (!rc)
        kit = cli_rotate_kit(c, m);
record:
    fig = json_pack("{s:O, s:I, s:I, s:I, s:I, s:i}", "generations", copied, "packs",
                    (json_int_t)res.packs, "bytes", (json_int_t)res.bytes, "packs_present",
                    (json_int_t)res.packs_present, "records", (json_int_t)res.records, "held",
                    (int)json_array_size(held));
    if (fig && kit)
        json_object_set_new(fig, "kit_sha256", kit);
    else
        json_decref(kit);
    if (cli_rotate_record(c, m->name, ex || rc, pick, np, fig) && !ex && !rc)
        rc = -EIO;
    said_ok = !ex && !rc;
    /* The log's copy goes last, with the record of this rotation in it. */
    if (dst && copied_all && !rc && (rc = bkp_copy_audit(c->r, dst)))
        rc = rc == -EBADMSG ? rc : -EIO;
    /* Only a copy that verified counts as a write (and says what the medium holds). */
    seen.wrote = copied_all && !rc;
    if (seen.wrote)
        seal(dst, m->name);
    /* Last, with this rotation's record in the log it pins. */
    if (seen.wrote && cli_pins_write(c, m->name, m->path))
        rc = -EIO;
    seen.held = seen.wrote ? held : NULL;
    if (dst && bkp_media_update(c->r, m->name, note_seen, &seen) && !rc)
        rc = -EIO;
    if (said_ok && rc) { /* the record above said ok too early */
        bkp_audit_rec fail = {.op = "rotate",
                              .medium = m->name,
                              .failed = true,
                              .error = "the audit log's copy or the registry could not be written"};
        (void)cli_audit(c, &fail);
    }
    if (!ex)
        ex = rc ? EXIT_FAILED : EXIT_OK;
    if (ex == EXIT_OK && c->json && !quiet)
        cli_print_json(json_pack("{s:s, s:O, s:I, s:I, s:I, s:O}", "medium", m->name, "generations",
                                 copied, "packs", (json_int_t)res.packs, "bytes",
                                 (json_int_t)res.bytes, "packs_present",
                                 (json_int_t)res.packs_present, "held", held));
    else if (ex == EXIT_OK && !quiet)
        advise(c, m, &res, copied, held);
    else if (ex == EXIT_FAILED && !copied_all && res.packs)
        bkp_error(_("%s: %llu pack(s) were copied before the failure; they stay and are not copied "
                    "again. Run `bkp rotate %s` again once the cause is fixed"),
                  m->name, (unsigned long long)res.packs, m->name);
    bkp_verify_result_clear(&vres);
    json_decref(fig);
    json_decref(copied);
    json_decref(held);
    free(pick);
    bkp_gen_list_free(v, n);
    bkp_repo_free(dst);
    bkp_lock_release(mwriter);
    bkp_lock_release(mlock);
    free(cfg);
    free(repo);
    return ex;
}

int cmd_rotate(cli *c)
{
    cli_medium m;
    int ex = cli_medium_find(c, c->args[0], &m);
    if (ex)
        return ex;
    ex = !strcmp(m.type, "archive")  ? cli_rotate_archive(c, &m, false)
         : !strcmp(m.type, "object") ? cli_rotate_object(c, &m, false)
                                     : cli_rotate_disk(c, &m, false);
    cli_medium_clear(&m);
    return ex;
}
