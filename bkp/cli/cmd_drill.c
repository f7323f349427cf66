/*
 * bkp drill NAME [--medium M] [--attest WHO] [--report DIR] [--keep] [--key-from FILE|-...]
 * bkp restore --runbook NAME [--attest WHO] [--force]
 *
 * A runbook executed by the restore engine (restore/procedure.c): for real,
 * or rehearsed into a sandbox (never the live paths). Generations are read
 * from the sources that are there, in order: the primary repository, on-line
 * disks, removable disks, archives (--medium limits a drill to one; a bucket
 * is read only when named so, its newest generations fetched). A drill
 * writes its report (Markdown and HTML in Japanese and English, and JSON) and
 * an audit record; a restore by runbook writes its audit record.
 *
 * A drill with --key-from is a key-recovery drill: it rehearses the day the
 * server and every passphrase are gone, so it reads only what would be left —
 * off-line media (removable disks, off-line disks, archives), never the
 * primary or an on-line disk — and opens the first of them with the master
 * secret from the sheets (no key file, no passphrase; one given is refused,
 * keyfrom.c). Its records say so (key_recovery, and which sheets), and
 * `bkp status` reminds when none succeeded within key_drill_every.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkp/archive.h"
#include "bkp/bucket.h"
#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "restore/drill.h"
#include "restore/procedure.h"
#include "restore/report.h"

typedef struct sources {
    rb_source *v;
    size_t n;
    char *names[64];
    char *staging[64]; /* archives extracted, removed afterwards */
    size_t nstaging;
    bkp_repo *owned[64];
    size_t nowned;
} sources;

static void sources_free(sources *s)
{
    for (size_t i = 0; i < s->nowned; i++)
        bkp_repo_free(s->owned[i]);
    for (size_t i = 0; i < s->nstaging; i++)
        cli_source_remove(s->staging[i]);
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static void add(sources *s, const char *name, bkp_repo *r, bool owned)
{
    if (s->n >= 64)
        return;
    s->names[s->n] = strdup(name);
    s->v[s->n] = (rb_source){s->names[s->n], r};
    s->n++;
    if (owned)
        s->owned[s->nowned++] = r;
}

/* The passphrase's key, once: the first source opened with it, the others
 * as copies of that one. */
static int open_any(cli *c, const char *path, bkp_repo *like, bkp_repo **out)
{
    if (like)
        return bkp_repo_open_copy(path, like, BKP_REPO_READONLY, out);
    if (c->nkey_from) /* recorded in the primary when it is there, never on the medium */
        return cli_open_key_from(c, path, BKP_REPO_READONLY, true, out);
    char *pass = NULL;
    size_t plen = 0;
    cli_passphrase_source(c);
    if (bkp_passphrase_get(c->passphrase_file, 0, &pass, &plen))
        return -ENOENT;
    int rc = bkp_repo_open(path, pass, plen, BKP_REPO_READONLY, out);
    bkp_passphrase_free(pass, plen);
    return rc;
}

#define ARCHIVES_PER_DATASET 3

/* The newest archives of each data set of the runbook in an archive folder
 * (a few, so that select can fall back), each extracted and opened as a
 * source of its own. -ENOENT when the folder holds none of them. */
static int open_archives(cli *c, const pol_medium *m, const rb_runbook *rb, bkp_repo **like,
                         sources *s)
{
    char **names = NULL;
    size_t n = 0, opened = 0;
    const char *tmp = getenv("TMPDIR");
    int rc = cli_archive_list(m->path, &names, &n);
    for (size_t d = 0; !rc && d < rb->ndatasets; d++) {
        size_t dl = strlen(rb->datasets[d]), taken = 0;
        for (size_t i = n;
             i-- > 0 && taken < ARCHIVES_PER_DATASET && s->n < 64 && s->nstaging < 64;) {
            char *staging = NULL, *file = NULL;
            bkp_repo *r = NULL;
            if (strncmp(names[i], rb->datasets[d], dl) || names[i][dl] != '@')
                continue; /* sorted: from the end, the newest first */
            taken++;
            if (asprintf(&staging, "%s/bkp-drill-src-XXXXXX", tmp && *tmp ? tmp : "/var/tmp") < 0)
                continue;
            if (!mkdtemp(staging)) {
                free(staging);
                continue;
            }
            s->staging[s->nstaging++] = staging;
            file = bkp_path_join(m->path, names[i]);
            int x = file ? bkp_archive_extract_repo(file, staging) : -ENOMEM;
            if (!x)
                x = open_any(c, staging, *like, &r);
            free(file);
            if (x) {
                bkp_warn(_("%s: the archive %s cannot be read (%s): not used"), m->name, names[i],
                         bkp_strerror(x));
                continue;
            }
            add(s, m->name, r, true);
            if (!*like)
                *like = r;
            opened++;
        }
    }
    bkp_strv_free(names, n);
    return rc ? rc : opened ? 0 : -ENOENT;
}

/* Every source that is there, in the order the engine tries them; for a
 * key-recovery drill (`keyrec`) the off-line media alone, the first opened
 * with the sheets and the others as its copies: nothing is opened with the
 * primary's key file, which a fire would have taken. */
static int gather(cli *c, const rb_runbook *rb, const char *only, bool keyrec, sources *s)
{
    pol_policy *p = c->policy;
    bkp_repo *like = NULL;
    struct stat st;
    if (!(s->v = calloc(65, sizeof(*s->v))))
        return -ENOMEM;
    if (!only && !keyrec && cli_repo_path(c) && stat(c->repo, &st) == 0) {
        int ex = c->r ? EXIT_OK : cli_open_repo(c, BKP_REPO_READONLY, &c->r);
        if (ex)
            return ex == EXIT_KEY ? -EKEYREJECTED : -EIO;
        add(s, "repository", c->r, false);
    }
    like = keyrec ? NULL : c->r;
    for (size_t o = keyrec ? 1 : 0; p && o < 3; o++)
        for (size_t i = 0; i < p->nmedia; i++) {
            const pol_medium *m = &p->media[i];
            json_t *label = NULL;
            bkp_repo *r = NULL;
            int rc;
            /* On-line disks, then removable and off-line disks, then archives. */
            bool pass = o == 0   ? m->type == POL_DISK && !m->offline
                        : o == 1 ? m->type == POL_REMOVABLE || (m->type == POL_DISK && m->offline)
                                 : m->type == POL_ARCHIVE;
            if (!pass || (only && strcmp(only, m->name)))
                continue;
            if (bkp_label_read(m->path, &label) ||
                strcmp(json_string_value(json_object_get(label, "name")), m->name)) {
                bkp_info(_("%s is not connected at %s: not used"), m->name, m->path);
                json_decref(label);
                continue;
            }
            json_decref(label);
            if (m->type == POL_ARCHIVE) {
                rc = open_archives(c, m, rb, &like, s);
                if (rc == -ENOENT)
                    bkp_info(_("%s holds no archive of the runbook's data sets: not used"),
                             m->name);
                else if (rc)
                    bkp_warn(_("%s cannot be read (%s): not used"), m->name, bkp_strerror(rc));
                continue;
            } else {
                char *repo = bkp_path_join(m->path, "repo");
                rc = repo ? open_any(c, repo, like, &r) : -ENOMEM;
                free(repo);
            }
            if (rc) {
                bkp_warn(_("%s cannot be read (%s): not used"), m->name, bkp_strerror(rc));
                continue;
            }
            add(s, m->name, r, true);
            if (!like)
                like = r;
        }
    /* A bucket only when named: what it holds is fetched (the packs of the
     * newest generations of the runbook's data sets), which costs time and
     * traffic a drill of the other media should not pay. */
    const pol_medium *pm = only && p ? pol_medium_find(p, only) : NULL;
    if (pm && pm->type == POL_OBJECT && s->nstaging < 64) {
        cli_medium m;
        bkp_repo *r = NULL;
        bkp_bucket_fetch f = {0};
        cli_fetch_what what = {.datasets = rb->datasets, .ndatasets = rb->ndatasets};
        char *staging = NULL;
        int ex = cli_medium_find(c, only, &m);
        /* With the primary's keys when it is open; else (a key-recovery
         * drill, the primary gone) with the passphrase or the sheets. */
        if (!ex)
            ex = cli_object_fetch(c, &m, !keyrec && c->r, &what, &r, &staging, &f);
        if (staging)
            s->staging[s->nstaging++] = staging;
        if (!ex)
            add(s, only, r, true);
        else
            bkp_warn(_("%s cannot be read: not used"), only);
        bkp_bucket_fetch_clear(&f);
        cli_medium_clear(&m);
    }
    if (!s->n && keyrec) {
        if (only)
            bkp_error(_("a key-recovery drill reads an off-line medium (removable, off-line disk "
                        "or archive) with the sheets alone, and the medium %s is not one or is not "
                        "connected; connect one"),
                      only);
        else
            bkp_error(_("a key-recovery drill reads an off-line medium (removable, off-line disk "
                        "or archive) with the sheets alone, and none is connected; connect one"));
        return -ENOENT;
    }
    if (!s->n) {
        if (only)
            bkp_error(_("no source to restore from: neither the repository nor any medium named "
                        "%s is there; connect a medium"),
                      only);
        else
            bkp_error(_("no source to restore from: neither the repository nor any medium is "
                        "there; connect a medium"));
        return -ENOENT;
    }
    return 0;
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *user_name(void)
{
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_name : "?";
}

/* What stops a runbook before it starts: a policy or medium named and not
 * there, an on-line disk for a key-recovery drill, a sandbox in use, a user
 * a command should run as and that is missing (better now than at the
 * sixth step). */
static int precheck(cli *c, const rb_runbook *rb, bool drill, bool keyrec)
{
    if (!cli_policy(c) && cli_policy_named(c))
        return EXIT_USAGE;
    const pol_medium *only = c->medium && c->policy ? pol_medium_find(c->policy, c->medium) : NULL;
    if (c->medium && !only) {
        bkp_error(
            _("--medium %s: the policy has no medium of that name; `bkp media list` shows them"),
            c->medium);
        return EXIT_USAGE;
    }
    if (keyrec && only && only->type == POL_DISK && !only->offline) {
        bkp_error(_("--medium %s is an on-line disk: a key-recovery drill rehearses an off-line "
                    "medium (removable, off-line disk or archive); name one of those"),
                  c->medium);
        return EXIT_USAGE;
    }
    if (drill && c->sandbox && !rb_sandbox_check(c->sandbox))
        return EXIT_USAGE;
    return rb_check_users(rb) ? EXIT_USAGE : EXIT_OK;
}

/* The drill's sandbox: the one given, else a new folder under TMPDIR. */
static int make_sandbox(cli *c, char *sandbox, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    if (c->sandbox) {
        snprintf(sandbox, n, "%s", c->sandbox);
        return EXIT_OK;
    }
    snprintf(sandbox, n, "%s/bkp-drill-XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
    if (mkdtemp(sandbox))
        return EXIT_OK;
    bkp_error(_("cannot make a sandbox in %s; give --sandbox DIR"), sandbox);
    *sandbox = '\0';
    return EXIT_FAILED;
}

/* A drill's report files: into --report, else the repository's reports/,
 * else the current folder (a key-recovery drill has no repository open and
 * writes nothing on the media it reads). A failure is a warning: the drill
 * happened, and its audit record says so. */
static void keep_reports(cli *c, const rb_runbook *rb, json_t *report, time_t started,
                         json_t *files)
{
    char *dir = c->report_dir ? strdup(c->report_dir)
                : c->r        ? bkp_repo_subpath(c->r, "reports")
                              : strdup(".");
    char *stem = rb_report_stem(rb, started);
    if (!dir || !stem || rb_report_write(report, dir, stem, files))
        bkp_warn(_("the drill report could not be written to %s"), dir ? dir : "?");
    free(stem);
    free(dir);
}

/* One audit record per data set restored: to the primary when it is
 * there, else to the copy used. */
static int record(cli *c, const rb_runbook *rb, const rb_result *res, json_t *report,
                  json_t *files, bool drill, bool unattended, const sources *s)
{
    bool keyrec = drill && c->nkey_from > 0;
    int ex = EXIT_OK;
    for (size_t k = 0; k < rb_record_count(res); k++) {
        bkp_audit_rec rec;
        json_t *fig = rb_record(rb, res, report, k, drill, files, unattended ? NULL : c->attest,
                                keyrec ? c->key_used : NULL, &rec);
        if (c->r ? cli_audit(c, &rec)
                 : cli_audit_primary(c, s->v[0].repo, s->nstaging == s->nowned, &rec))
            ex = EXIT_FAILED;
        json_decref(fig);
    }
    return ex;
}

/* The result on a terminal: one line, then each step's action and result. */
static void print_result(cli *c, const rb_runbook *rb, const rb_result *res, json_t *files,
                         bool drill, bool keyrec)
{
    char a[32], b[32], target[64] = "";
    if (rb->rto)
        snprintf(target, sizeof(target), _(" (target %s)"),
                 rb_duration_text(b, sizeof(b), (double)rb->rto));
    printf(res->ok ? _("%s %s: succeeded in %s%s\n") : _("%s %s: FAILED in %s%s\n"),
           drill ? _("drill") : _("restore by runbook"), rb->name,
           rb_duration_text(a, sizeof(a), res->seconds), target);
    for (size_t i = 0; i < rb->nsteps; i++) {
        printf("  %2zu ", i + 1);
        cli_pad(stdout, rb->steps[i].who, 14);
        cli_pad(stdout, rb_action_word(rb->steps[i].action), 10);
        cli_pad(stdout, rb_status_word(rb_status_name(res->steps[i].status)), 16);
        printf("%s\n", res->steps[i].shown);
    }
    json_t *ku = c->key_used;
    const char *kind = json_string_value(json_object_get(ku, "kind"));
    if (keyrec && kind && !strcmp(kind, "shares"))
        printf(_("key recovery: opened with %lld of %lld share sheets, no passphrase\n"),
               (long long)json_integer_value(json_object_get(ku, "threshold")),
               (long long)json_integer_value(json_object_get(ku, "of")));
    else if (keyrec)
        printf(_("key recovery: opened with the paper sheet, no passphrase\n"));
    size_t i, not_rehearsed = rb_not_rehearsed(rb, res);
    json_t *f;
    json_array_foreach(files, i, f) if (strstr(json_string_value(f), ".md"))
        printf(_("report: %s\n"), json_string_value(f));
    if (not_rehearsed)
        printf(_("%zu confirm step(s) were not rehearsed by a person (unattended drill).\n"),
               not_rehearsed);
}

/* Keep what the run leaves (reports, audit records) and say how it went. */
static int conclude(cli *c, const rb_runbook *rb, const rb_env *env, const rb_result *res,
                    time_t started, bool unattended, const sources *s)
{
    bool keyrec = env->drill && c->nkey_from > 0;
    json_t *report = rb_report_json(rb, env, res, started, user_name());
    json_t *files = json_array();
    if (keyrec)
        json_object_set(report, "key_recovery", c->key_used);
    if (env->drill)
        keep_reports(c, rb, report, started, files);
    int aex = record(c, rb, res, report, files, env->drill, unattended, s);
    if (c->json && !unattended) {
        json_object_set(report, "reports", files);
        cli_print_json(json_incref(report));
    } else if (!unattended || c->tty)
        print_result(c, rb, res, files, env->drill, keyrec);
    json_decref(files);
    json_decref(report);
    return !res->ok || aex ? EXIT_FAILED : EXIT_OK;
}

int cli_runbook_execute(cli *c, const char *name, bool drill, bool unattended)
{
    rb_runbook *rb = NULL;
    sources s = {0};
    rb_result res = {0};
    char sandbox[4096] = "";
    time_t started = bkp_now();
    bool keyrec = drill && c->nkey_from > 0; /* a key-recovery drill */
    int ex = cli_runbook_load(c, name, &rb), rc;
    if (ex || (ex = precheck(c, rb, drill, keyrec))) {
        rb_free(rb);
        return ex;
    }
    /* The measured recovery time includes getting the sources ready (an
     * archive extracted, keys derived). */
    double t0 = seconds_now();
    if ((rc = gather(c, rb, c->medium, keyrec, &s))) {
        ex = rc == -EKEYREJECTED ? EXIT_KEY : EXIT_FAILED;
        goto out;
    }
    double prepared = seconds_now() - t0;
    /* The commands of a runbook get no passphrase source: their environment
     * is built from an allowlist (bkp/cmdenv.h); and none is left here for
     * anything else started from now on. */
    unsetenv("BKP_PASSPHRASE_FILE");
    unsetenv("BKP_PASSPHRASE_COMMAND");
    if (drill && (ex = make_sandbox(c, sandbox, sizeof(sandbox))))
        goto out;
    rb_env env = {.sources = s.v,
                  .nsources = s.n,
                  .drill = drill,
                  .sandbox = sandbox,
                  .interactive = c->tty && !c->attest && !c->json && !unattended,
                  .attest = unattended ? NULL : c->attest,
                  .force = c->force,
                  .workers = c->workers};
    if (rb_execute(rb, &env, &res) < 0) {
        ex = EXIT_FAILED;
        goto out;
    }
    res.seconds += prepared;
    ex = conclude(c, rb, &env, &res, started, unattended, &s);
out:
    if (drill && *sandbox && !c->keep && !c->sandbox)
        cli_source_remove(strdup(sandbox));
    rb_result_clear(&res);
    sources_free(&s);
    rb_free(rb);
    return ex;
}

int cmd_drill(cli *c)
{
    return cli_runbook_execute(c, c->args[0], true, false);
}
