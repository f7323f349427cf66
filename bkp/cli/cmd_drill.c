/*
 * bkp drill NAME [--medium M] [--attest WHO] [--report DIR] [--keep]
 * bkp restore --runbook NAME [--attest WHO] [--force]
 *
 * A runbook executed by the restore engine (restore/procedure.c): for real,
 * or rehearsed into a sandbox (never the live paths). Generations are read
 * from the sources that are there, in order: the primary repository, on-line
 * disks, removable disks, archives (--medium limits a drill to one). A drill
 * writes its report (Markdown and HTML in Japanese and English, and JSON) and
 * an audit record; a restore by runbook writes its audit record.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/archive.h"
#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/log.h"
#include "bkp/medium.h"
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
    char *pass = NULL;
    size_t plen = 0;
    cli_passphrase_source(c);
    if (bkp_passphrase_get(c->passphrase_file, 0, &pass, &plen))
        return -ENOENT;
    int rc = bkp_repo_open(path, pass, plen, BKP_REPO_READONLY, out);
    bkp_passphrase_free(pass, plen);
    return rc;
}

/* The newest archive of `dataset` in an archive folder, extracted and opened. */
static int open_archive_of(cli *c, const char *dir, const char *dataset, bkp_repo *like,
                           sources *s, bkp_repo **out)
{
    char **names = NULL, *best = NULL, *staging = NULL;
    size_t n = 0;
    int rc = cli_archive_list(dir, &names, &n);
    size_t dl = strlen(dataset);
    for (size_t i = 0; !rc && i < n; i++)
        if (!strncmp(names[i], dataset, dl) && names[i][dl] == '@')
            best = names[i]; /* sorted: the last is the newest */
    const char *tmp = getenv("TMPDIR");
    if (!best || asprintf(&staging, "%s/bkp-drill-src-XXXXXX", tmp && *tmp ? tmp : "/var/tmp") < 0 ||
        !mkdtemp(staging)) {
        rc = -ENOENT;
        free(staging);
        staging = NULL;
        goto out;
    }
    s->staging[s->nstaging++] = staging;
    char *file = bkp_path_join(dir, best);
    rc = file ? bkp_archive_extract_repo(file, staging) : -ENOMEM;
    free(file);
    if (!rc)
        rc = open_any(c, staging, like, out);
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* Every source that is there, in the order the engine tries them. */
static int gather(cli *c, const rb_runbook *rb, const char *only, sources *s)
{
    static const pol_medium_type order[] = {POL_DISK, POL_REMOVABLE, POL_ARCHIVE};
    pol_policy *p = c->policy;
    bkp_repo *like = NULL;
    struct stat st;
    if (!(s->v = calloc(65, sizeof(*s->v))))
        return -ENOMEM;
    if (!only && cli_repo_path(c) && stat(c->repo, &st) == 0) {
        if (!c->r && cli_open_repo(c, BKP_REPO_READONLY, &c->r))
            return -EKEYREJECTED;
        add(s, "repository", c->r, false);
    }
    like = c->r;
    for (size_t o = 0; p && o < 3; o++)
        for (size_t i = 0; i < p->nmedia; i++) {
            const pol_medium *m = &p->media[i];
            json_t *label = NULL;
            bkp_repo *r = NULL;
            int rc;
            if (m->type != order[o] || (only && strcmp(only, m->name)) ||
                (m->type == POL_DISK && m->offline != (o != 0)))
                continue;
            if (bkp_label_read(m->path, &label) ||
                strcmp(json_string_value(json_object_get(label, "name")), m->name)) {
                bkp_info("%s is not connected at %s: not used", m->name, m->path);
                json_decref(label);
                continue;
            }
            json_decref(label);
            if (m->type == POL_ARCHIVE) {
                rc = open_archive_of(c, m->path, rb->datasets[0], like, s, &r);
            } else {
                char *repo = bkp_path_join(m->path, "repo");
                rc = repo ? open_any(c, repo, like, &r) : -ENOMEM;
                free(repo);
            }
            if (rc == -ENOENT && m->type == POL_ARCHIVE) {
                bkp_info("%s holds no archive of %s: not used", m->name, rb->datasets[0]);
                continue;
            }
            if (rc) {
                bkp_warn("%s cannot be read (%s): not used", m->name, bkp_strerror(rc));
                continue;
            }
            add(s, m->name, r, true);
            if (!like)
                like = r;
        }
    if (!s->n) {
        bkp_error("no source to restore from: neither the repository nor any medium%s%s is "
                  "there; connect a medium",
                  only ? " named " : "", only ? only : "");
        return -ENOENT;
    }
    return 0;
}

static const char *user_name(void)
{
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_name : "?";
}

/* Write the drill's report files into `dir`; their names go into `files`. */
static int write_reports(json_t *report, const char *dir, const char *stem, json_t *files)
{
    static const struct {
        const char *suffix;
        rb_format f;
        bool ja;
    } kinds[] = {{".ja.md", RB_MARKDOWN, true}, {".en.md", RB_MARKDOWN, false},
                 {".ja.html", RB_HTML, true},   {".en.html", RB_HTML, false}};
    int rc = bkp_mkdir_p(dir, 0755);
    for (size_t i = 0; !rc && i < sizeof(kinds) / sizeof(*kinds); i++) {
        char name[512];
        char *text = rb_report_render(report, kinds[i].f, kinds[i].ja);
        snprintf(name, sizeof(name), "%s%s", stem, kinds[i].suffix);
        rc = text ? bkp_durable_write(dir, name, text, strlen(text), 0) : -ENOMEM;
        free(text);
        json_array_append_new(files, json_pack("s++", dir, "/", name));
    }
    char *text = json_dumps(report, JSON_INDENT(2) | JSON_SORT_KEYS);
    char name[512];
    snprintf(name, sizeof(name), "%s.json", stem);
    if (!rc)
        rc = text ? bkp_durable_write(dir, name, text, strlen(text), 0) : -ENOMEM;
    json_array_append_new(files, json_pack("s++", dir, "/", name));
    free(text);
    return rc;
}

int cli_runbook_execute(cli *c, const char *name, bool drill, bool unattended)
{
    rb_runbook *rb = NULL;
    sources s = {0};
    rb_result res = {0};
    char sandbox[4096] = "", stem[256], when[32];
    const char *tmp = getenv("TMPDIR");
    time_t started = bkp_now();
    int ex = cli_runbook_load(c, name, &rb), rc;
    if (ex)
        return ex;
    if (!cli_policy(c) && (c->policy_file || getenv("BKP_POLICY"))) {
        rb_free(rb);
        return EXIT_USAGE;
    }
    if ((rc = gather(c, rb, c->medium, &s))) {
        ex = rc == -EKEYREJECTED ? EXIT_USAGE : EXIT_FAILED;
        goto out;
    }
    if (drill) {
        if (c->sandbox)
            snprintf(sandbox, sizeof(sandbox), "%s", c->sandbox);
        else {
            snprintf(sandbox, sizeof(sandbox), "%s/bkp-drill-XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
            if (!mkdtemp(sandbox)) {
                bkp_error("cannot make a sandbox in %s; give --sandbox DIR", sandbox);
                ex = EXIT_FAILED;
                goto out;
            }
        }
    }
    rb_env env = {.sources = s.v, .nsources = s.n, .drill = drill, .sandbox = sandbox,
                  .interactive = c->tty && !c->attest && !c->json && !unattended,
                  .attest = unattended ? NULL : c->attest,
                  .force = c->force, .workers = c->workers};
    rc = rb_execute(rb, &env, &res);
    if (rc < 0) {
        ex = EXIT_FAILED;
        goto out;
    }
    json_t *report = rb_report_json(rb, &env, &res, started, user_name());
    json_t *files = json_array();
    size_t not_rehearsed = 0;
    for (size_t i = 0; i < rb->nsteps; i++)
        not_rehearsed += res.steps[i].status == RB_NOT_REHEARSED;
    if (drill) {
        struct tm tm;
        gmtime_r(&started, &tm);
        strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
        snprintf(stem, sizeof(stem), "drill-%s-%s", rb->name, when);
        char *dir = c->report_dir ? strdup(c->report_dir)
                    : c->r        ? bkp_repo_subpath(c->r, "reports")
                                  : strdup(".");
        if (!dir || write_reports(report, dir, stem, files))
            bkp_warn("the drill report could not be written to %s", dir ? dir : "?");
        free(dir);
    }
    /* The record goes to the primary when it is there, else to the copy used. */
    json_t *fig = json_pack("{s:s, s:b, s:f, s:I, s:b, s:I, s:I, s:I, s:I, s:O}", "runbook", rb->name,
                            "drill", drill, "seconds", res.seconds, "rto_target_seconds",
                            (json_int_t)rb->rto, "rto_met", json_is_true(json_object_get(report, "rto_met")),
                            "failed_step", (json_int_t)res.failed_step, "not_rehearsed",
                            (json_int_t)not_rehearsed, "files", (json_int_t)res.files, "damaged",
                            (json_int_t)res.damaged, "reports", files);
    bkp_audit_rec rec = {.op = drill ? "drill" : "restore", .dataset = rb->datasets[0],
                         .generation = *res.generation ? res.generation : NULL,
                         .medium = *res.source ? res.source : NULL, .failed = !res.ok, .figures = fig,
                         .error = res.ok ? NULL : res.steps[res.failed_step - 1].detail};
    int aex = c->r ? cli_audit(c, &rec)
                   : cli_audit_primary(c, s.v[0].repo, s.nstaging == s.nowned, &rec);
    json_decref(fig);
    if (c->json && !unattended) {
        json_object_set(report, "reports", files);
        cli_print_json(json_incref(report));
    } else if (!unattended || c->tty) {
        char a[32], b[32];
        printf("%s %s: %s in %s%s%s%s\n", drill ? "drill" : "restore by runbook", rb->name,
               res.ok ? "succeeded" : "FAILED", rb_duration_text(a, sizeof(a), res.seconds),
               rb->rto ? " (target " : "", rb->rto ? rb_duration_text(b, sizeof(b), (double)rb->rto) : "",
               rb->rto ? ")" : "");
        for (size_t i = 0; i < rb->nsteps; i++)
            printf("  %2zu %-14s %-8s %-14s %s\n", i + 1, rb->steps[i].who,
                   rb_action_name(rb->steps[i].action), rb_status_name(res.steps[i].status),
                   res.steps[i].detail);
        size_t i;
        json_t *f;
        json_array_foreach(files, i, f) if (strstr(json_string_value(f), ".md"))
            printf("report: %s\n", json_string_value(f));
        if (not_rehearsed)
            printf("%zu confirm step(s) were not rehearsed by a person (unattended drill).\n",
                   not_rehearsed);
    }
    json_decref(files);
    json_decref(report);
    ex = !res.ok || aex ? EXIT_FAILED : EXIT_OK;
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
