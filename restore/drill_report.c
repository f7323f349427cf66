/*
 * drill_report.c — a drill's report files and the audit records of a drill or a
 * restore by runbook (drill.h).
 */
#include "restore/drill_report.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"

static bool empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool empty = d != NULL;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = false;
    if (d)
        closedir(d);
    return empty;
}

bool rb_sandbox_check(const char *dir)
{
    struct stat st;
    char *real = realpath(dir, NULL); /* NULL: not there yet, made new */
    bool ok = !real ||
              (strcmp(real, "/") && stat(real, &st) == 0 && S_ISDIR(st.st_mode) && empty_dir(real));
    if (!ok)
        bkp_error(_("--sandbox %s must be a new or empty folder (a drill restores everything below "
                    "it); give another"),
                  dir);
    free(real);
    return ok;
}

char *rb_report_stem(const rb_runbook *rb, time_t started)
{
    char when[32], *stem = NULL;
    struct tm tm;
    /* The server's local time, as every time a person reads, with its
     * offset so that the name says one moment wherever it is read. */
    localtime_r(&started, &tm);
    strftime(when, sizeof(when), "%Y%m%dT%H%M%S%z", &tm);
    return asprintf(&stem, "drill-%s-%s", rb->name, when) < 0 ? NULL : stem;
}

int rb_report_make(const rb_runbook *rb, const rb_env *env, const rb_result *res, time_t started,
                   const char *user, rb_report *r)
{
    *r = (rb_report){
        .ok = res->ok,
        .drill = env->drill,
        .runbook = rb->name,
        .title = rb->title,
        .file = rb->file,
        .owner = rb->owner,
        .datasets = rb->datasets,
        .ndatasets = rb->ndatasets,
        .started = started,
        .sandbox = env->drill ? env->sandbox : NULL,
        .user = user ? user : "?",
        /* A person confirmed every step: on the terminal, or the people
         * named for every role that confirms (asked of them in a drill;
         * a drill attested in part is not). */
        .attended = rb_attest_given(env->attest) ? rb_attest_complete(env->attest, rb)
                                                 : env->interactive,
        .rto_target = rb->rto,
        .seconds = res->seconds,
        .rto_met = res->ok && (rb->rto == 0 || res->seconds <= (double)rb->rto),
        .failed_step = res->failed_step,
        .generation = res->generation,
        .source = res->source,
        .files = res->files,
        .bytes = res->bytes,
        .damaged = res->damaged,
        .fallbacks = res->fallbacks,
        .restored = res->restored,
        .nrestored = res->nrestored,
        .nsteps = rb->nsteps,
    };
    bool nomem = false;
    r->attested_by = rb_attest_text(env->attest, rb, &nomem);
    r->steps = calloc(rb->nsteps + 1, sizeof(*r->steps));
    if (!r->steps || nomem) {
        rb_report_clear(r);
        return -ENOMEM;
    }
    for (size_t i = 0; i < rb->nsteps; i++) {
        const rb_step *st = &rb->steps[i];
        const rb_step_result *sr = &res->steps[i];
        r->steps[i] = (rb_report_step){.who = st->who,
                                       .what = st->what,
                                       .text = st->text,
                                       .action = st->action,
                                       .status = sr->status,
                                       .seconds = sr->seconds,
                                       .detail = sr->detail,
                                       .detail_ja = sr->detail_ja,
                                       .shown = sr->shown};
    }
    /* ... and every confirm step was confirmed: one left not rehearsed
     * (nobody at the terminal to ask) leaves the drill unattended. */
    r->attended &= rb_not_rehearsed(r) == 0;
    return 0;
}

void rb_report_clear(rb_report *r)
{
    free(r->steps);
    free(r->attested_by);
    bkp_strlist_clear(&r->reports);
    bkp_strlist_clear(&r->reports_sha256);
    *r = (rb_report){0};
}

static json_t *report_steps(const rb_report *r)
{
    json_t *steps = json_array();
    for (size_t i = 0; steps && i < r->nsteps; i++) {
        const rb_report_step *s = &r->steps[i];
        json_array_append_new(steps, json_pack("{s:i, s:s, s:s?, s:s, s:s?, s:s, s:f, s:s, s:s}",
                                               "n", (int)(i + 1), "who", s->who, "what", s->what,
                                               "action", rb_action_name(s->action), "text", s->text,
                                               "status", rb_status_name(s->status), "seconds",
                                               s->seconds, "detail", s->detail ? s->detail : "",
                                               "detail_ja", s->detail_ja ? s->detail_ja : ""));
    }
    return steps;
}

static json_t *report_restored(const rb_report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->nrestored; i++) {
        const rb_restored *g = &r->restored[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "dataset", g->dataset,
                                           "generation", g->generation, "source", g->source,
                                           "damaged", (json_int_t)g->damaged));
    }
    return a;
}

static json_t *strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

char *rb_report_json(const rb_report *r, bool reports)
{
    char when[32];
    struct tm tm;
    gmtime_r(&r->started, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *j =
        json_pack("{s:b, s:s, s:s, s:s, s:s?, s:o, s:b, s:s, s:s?, s:s, s:I, s:f, s:b, s:I, "
                  "s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:b}",
                  "ok", r->ok, "runbook", r->runbook, "title", r->title, "file", r->file, "owner",
                  r->owner, "datasets", strings(r->datasets, r->ndatasets), "drill", r->drill,
                  "started", when, "sandbox", r->sandbox, "user", r->user, "rto_target_seconds",
                  (json_int_t)r->rto_target, "seconds", r->seconds, "rto_met", r->rto_met,
                  "failed_step", (json_int_t)r->failed_step, "generation", r->generation, "source",
                  r->source, "files", (json_int_t)r->files, "bytes", (json_int_t)r->bytes,
                  "damaged", (json_int_t)r->damaged, "fallbacks", (json_int_t)r->fallbacks, "steps",
                  report_steps(r), "restored", report_restored(r), "attended", r->attended);
    if (j && r->attested_by)
        json_object_set_new(j, "attested_by", json_string(r->attested_by));
    if (j && r->read_from)
        json_object_set_new(j, "read_from", json_string(r->read_from));
    if (j && r->key_recovery)
        json_object_set_new(j, "key_recovery", bkp_audit_sheets(r->key_recovery));
    if (j && reports)
        json_object_set_new(j, "reports", bkp_json_strlist(&r->reports));
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return text;
}

static int write_one(rb_report *r, const char *dir, const char *name, char *text)
{
    uint8_t sum[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    /* Never over another drill's report: it is somebody's evidence. */
    int rc = text ? bkp_durable_write(dir, name, text, strlen(text),
                                      BKP_DURABLE_PRIVATE | BKP_DURABLE_NOREPLACE)
                  : -ENOMEM;
    if (!rc) {
        crypto_hash_sha256(sum, (const uint8_t *)text, strlen(text));
        sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
    }
    free(text);
    char *path = rc ? NULL : bkp_path_join(dir, name);
    if (!rc)
        rc = path ? bkp_strlist_add(&r->reports, path) : -ENOMEM;
    if (!rc)
        rc = bkp_strlist_add(&r->reports_sha256, hex);
    free(path);
    return rc;
}

int rb_report_write(rb_report *r, const char *dir, const char *stem)
{
    static const struct {
        const char *suffix;
        rb_format f;
        bool ja;
    } kinds[] = {{".ja.md", RB_MARKDOWN, true},
                 {".en.md", RB_MARKDOWN, false},
                 {".ja.html", RB_HTML, true},
                 {".en.html", RB_HTML, false}};
    char name[512], base[400];
    int rc = bkp_mkdir_p(dir, 0700);
    /* Two drills in the same second (a drill, then the key-recovery drill
     * from a script) name their reports alike: the second takes "-2". */
    snprintf(base, sizeof(base), "%s", stem);
    for (int k = 2; !rc; k++) {
        snprintf(name, sizeof(name), "%s%s", base, kinds[0].suffix);
        rc = write_one(r, dir, name, rb_report_render(r, kinds[0].f, kinds[0].ja));
        if (rc != -EEXIST || k > 99)
            break;
        snprintf(base, sizeof(base), "%s-%d", stem, k);
        rc = 0;
    }
    for (size_t i = 1; !rc && i < sizeof(kinds) / sizeof(*kinds); i++) {
        snprintf(name, sizeof(name), "%s%s", base, kinds[i].suffix);
        rc = write_one(r, dir, name, rb_report_render(r, kinds[i].f, kinds[i].ja));
    }
    snprintf(name, sizeof(name), "%s.json", base);
    return rc ? rc : write_one(r, dir, name, rb_report_json(r, false));
}

size_t rb_not_rehearsed(const rb_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nsteps; i++)
        n += r->steps[i].status == RB_NOT_REHEARSED;
    return n;
}

/* Was data set `ds` restored by the run? */
static bool restored(const rb_report *r, const char *ds)
{
    for (size_t i = 0; i < r->nrestored; i++)
        if (!strcmp(r->restored[i].dataset, ds))
            return true;
    return false;
}

/* The `k`-th data set of the runbook that a failed run did not reach
 * (NULL: none); a run that succeeded reached what it was to. */
static const char *unreached(const rb_report *r, size_t k)
{
    for (size_t i = 0; !r->ok && i < r->ndatasets; i++)
        if (!restored(r, r->datasets[i]) && k-- == 0)
            return r->datasets[i];
    return NULL;
}

size_t rb_record_count(const rb_report *r)
{
    size_t n = r->nrestored;
    while (unreached(r, n - r->nrestored))
        n++;
    return n ? n : 1;
}

void rb_record(const rb_report *r, size_t k, bkp_audit_rec *rec)
{
    const rb_restored *done = k < r->nrestored ? &r->restored[k] : NULL; /* NULL: not reached */
    const char *missed = done ? NULL : unreached(r, k - r->nrestored);
    json_t *fig =
        json_pack("{s:s, s:b, s:f, s:I, s:b, s:I, s:I, s:I, s:I, s:s?, s:b}", "runbook", r->runbook,
                  "drill", r->drill, "seconds", r->seconds, "rto_target_seconds",
                  (json_int_t)r->rto_target, "rto_met", r->rto_met, "failed_step",
                  (json_int_t)r->failed_step, "not_rehearsed", (json_int_t)rb_not_rehearsed(r),
                  "files", (json_int_t)r->files, "damaged", (json_int_t)(done ? done->damaged : 0),
                  "attested_by", r->attested_by, "attended", r->attended);
    if (fig) /* without memory, a record without its reports rather than none */
        (void)bkp_audit_reports_set(fig, &r->reports, &r->reports_sha256);
    if (fig && r->read_from) /* which sources it read (runbook_doc.h) */
        json_object_set_new(fig, "read_from", json_string(r->read_from));
    if (fig && r->key_recovery) { /* which sheets opened it */
        json_object_set_new(fig, "key_recovery", json_true());
        json_object_set_new(fig, "key_sheets", bkp_audit_sheets(r->key_recovery));
    }
    bool failed_step = !r->ok && r->failed_step > 0 && r->failed_step <= r->nsteps;
    *rec = (bkp_audit_rec){.op = r->drill ? "drill" : "restore",
                           .dataset = done           ? done->dataset
                                      : missed       ? missed
                                      : r->ndatasets ? r->datasets[0]
                                                     : NULL,
                           .generation = done ? done->generation : NULL,
                           .medium = done ? done->source : NULL,
                           .failed = !r->ok,
                           .figures = fig,
                           .error = failed_step ? r->steps[r->failed_step - 1].detail
                                    : r->ok     ? NULL
                                                : "the procedure did not complete",
                           /* The same in Japanese, for audit show and the evidence. */
                           .error_ja = failed_step && r->steps[r->failed_step - 1].detail_ja &&
                                               *r->steps[r->failed_step - 1].detail_ja
                                           ? r->steps[r->failed_step - 1].detail_ja
                                           : NULL};
}

static int64_t count_of(const json_t *f, const char *k)
{
    json_t *v = json_object_get(f, k);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

static rst_tri tri_of(const json_t *f, const char *k)
{
    json_t *v = json_object_get(f, k);
    return json_is_true(v) ? RST_YES : json_is_false(v) ? RST_NO : RST_UNSAID;
}

void rb_drill_figures_read(const bkp_audit_entry *e, rb_drill_figures *f)
{
    bool ours = e->op && (!strcmp(e->op, "drill") || !strcmp(e->op, "restore"));
    const json_t *fig = ours ? e->figures : NULL; /* an empty slot (no record) has no op */
    json_t *secs = json_object_get(fig, "seconds");
    *f = (rb_drill_figures){.runbook = json_string_value(json_object_get(fig, "runbook")),
                            .attested_by = json_string_value(json_object_get(fig, "attested_by")),
                            .read_from = json_string_value(json_object_get(fig, "read_from")),
                            .seconds = json_is_number(secs) && json_number_value(secs) >= 0
                                           ? json_number_value(secs)
                                           : -1,
                            .rto_target = count_of(fig, "rto_target_seconds"),
                            .failed_step = count_of(fig, "failed_step"),
                            .not_rehearsed = count_of(fig, "not_rehearsed"),
                            .damaged = count_of(fig, "damaged"),
                            .rto_met = tri_of(fig, "rto_met"),
                            .attended = tri_of(fig, "attended"),
                            .key_recovery = json_is_true(json_object_get(fig, "key_recovery")),
                            .unstarted = json_is_true(json_object_get(fig, "unstarted"))};
}

bool rb_drill_figures_unattended(const rb_drill_figures *f)
{
    if (f->key_recovery)
        return false;
    if (f->attended != RST_UNSAID)
        return f->attended == RST_NO;
    return f->not_rehearsed > 0;
}

/* ---- the report for people ---- */

const char *rb_source_words(const char *src)
{
    return src && !strcmp(src, "repository") ? _("the server's repository") : src ? src : "";
}

/* A step's status, for people. */
const char *rb_status_word(rb_status s)
{
    switch (s) {
    case RB_DONE:
        return _("done");
    case RB_NOT_REHEARSED:
        return _("not rehearsed");
    case RB_FAILED:
        return _("failed");
    case RB_NOT_REACHED:
        return _("not reached");
    }
    return "?";
}

const char *rb_read_from_text(const char *from)
{
    if (!strcmp(from, "offline"))
        return _("the off-line media that were connected, as on the day the server is lost");
    if (!strcmp(from, "no_offline"))
        return _("the server's own repository: no off-line medium was connected");
    if (!strcmp(from, "primary"))
        return _("the server's own repository, as asked");
    if (!strcmp(from, "named"))
        return _("the medium named for the drill");
    if (!strcmp(from, "key_recovery"))
        return _("a copy away from the server, opened with the key sheets alone");
    return _("every source there, the server's repository first");
}

static char *report(const rb_report *r, rb_format f, bool ja)
{
    char title[512], a[64], b[64], line[512], num[24];
    snprintf(title, sizeof(title), "%s — %s",
             r->drill ? _("Restore drill report") : _("Restore report"), r->title);
    rb_doc *d = rb_doc_new(f, title);
    if (!d)
        return NULL;
    if (r->ok)
        snprintf(line, sizeof(line), "%s", _("SUCCEEDED"));
    else
        snprintf(line, sizeof(line), _("FAILED at step %lld"), (long long)r->failed_step);
    rb_doc_table(d, (const char *[]){_("Item"), _("Value"), NULL});
    rb_doc_row(d, (const char *[]){_("Result"), line, NULL});
    rb_doc_row(d, (const char *[]){_("Runbook"), r->runbook, NULL});
    char started[64];
    rb_doc_row(d,
               (const char *[]){_("Started"),
                                bkp_local_time(started, sizeof(started), r->started, "-"), NULL});
    if (r->attested_by)
        snprintf(line, sizeof(line), _("%s (attested; run as %s)"), r->attested_by, r->user);
    else
        snprintf(line, sizeof(line), "%s", r->user);
    rb_doc_row(d, (const char *[]){_("By"), line, NULL});
    if (r->drill)
        rb_doc_row(d, (const char *[]){_("Attended"),
                                       r->attended ? _("yes: a person confirmed each step")
                                                   : _("no: unattended, its confirm steps were "
                                                       "not rehearsed by a person"),
                                       NULL});
    if (r->drill && r->read_from)
        rb_doc_row(d, (const char *[]){_("Read from"), rb_read_from_text(r->read_from), NULL});
    snprintf(line, sizeof(line), "%s%s%s", rb_duration_text(a, sizeof(a), r->seconds),
             r->rto_target ? _(" — target ") : "",
             r->rto_target ? rb_duration_text(b, sizeof(b), (double)r->rto_target) : "");
    rb_doc_row(d, (const char *[]){_("Measured recovery time"), line, NULL});
    rb_doc_row(d, (const char *[]){_("Within the target"),
                                   !r->rto_target ? "-"
                                   : r->rto_met   ? _("yes")
                                                  : _("no"),
                                   NULL});
    /* Every data set the run restored, each with where it came from. */
    line[0] = '\0';
    for (size_t i = 0; i < r->nrestored; i++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), _("%s%s (%s)"), i ? _(", ") : "",
                 r->restored[i].generation, rb_source_words(r->restored[i].source));
    if (!line[0] && r->generation && *r->generation)
        snprintf(line, sizeof(line), _("%s%s (%s)"), "", r->generation,
                 rb_source_words(r->source ? r->source : ""));
    rb_doc_row(d, (const char *[]){_("Generation restored"), line[0] ? line : "-", NULL});
    char size[32];
    snprintf(line, sizeof(line), _("%lld file(s), %s, %lld damaged"), (long long)r->files,
             bkp_size_text(size, sizeof(size), r->bytes), (long long)r->damaged);
    rb_doc_row(d, (const char *[]){_("Restored"), line, NULL});
    if (r->fallbacks) {
        snprintf(line, sizeof(line),
                 _("%lld candidate(s) failed verification and were passed over"),
                 (long long)r->fallbacks);
        rb_doc_row(d, (const char *[]){_("Fallback"), line, NULL});
    }
    if (r->drill)
        rb_doc_row(d, (const char *[]){_("Sandbox"), r->sandbox ? r->sandbox : "", NULL});
    rb_doc_table_end(d);
    rb_doc_h2(d, C_("report heading", "Steps"));
    rb_doc_table(d, (const char *[]){"#", _("Who"), _("Action"), _("Step"), _("Result"), _("Time"),
                                     _("Detail"), NULL});
    rb_doc_commands(d, 3);
    for (size_t i = 0; i < r->nsteps; i++) {
        const rb_report_step *s = &r->steps[i];
        snprintf(num, sizeof(num), "%zu", i + 1);
        /* Only the English, where a detail was not said in Japanese. */
        const char *detail = ja && s->detail_ja && *s->detail_ja ? s->detail_ja : s->detail;
        rb_doc_row(d, (const char *[]){num, s->who, rb_action_word(s->action),
                                       s->text && *s->text ? s->text
                                       : s->what           ? s->what
                                                           : "",
                                       rb_status_word(s->status),
                                       rb_duration_text(a, sizeof(a), s->seconds),
                                       detail ? detail : "", NULL});
    }
    rb_doc_table_end(d);
    if (r->drill && rb_not_rehearsed(r))
        rb_doc_para(d, "%s",
                    _("Confirm steps marked not rehearsed were not attested by a person in this "
                      "drill; rehearse them with staff at the next drill."));
    if (r->drill && r->repository && r->key_fingerprint)
        rb_doc_para(d,
                    _("The SHA-256 of this report is kept in the signed audit log of the "
                      "repository %s (signing key %s), or in the signed journal beside this report "
                      "when no primary was open. `bkp audit check FILE` says whether this file is "
                      "the report as written."),
                    r->repository, r->key_fingerprint);
    return rb_doc_finish(d);
}

char *rb_report_render(const rb_report *r, rb_format f, bool ja)
{
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    char *text = report(r, f, ja);
    bkp_i18n_end(&saved);
    return text;
}
