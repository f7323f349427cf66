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

#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "restore/runbook_doc.h"

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
    gmtime_r(&started, &tm);
    strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
    return asprintf(&stem, "drill-%s-%s", rb->name, when) < 0 ? NULL : stem;
}

static int write_one(const char *dir, const char *name, char *text, json_t *files)
{
    int rc = text ? bkp_durable_write(dir, name, text, strlen(text), BKP_DURABLE_PRIVATE) : -ENOMEM;
    free(text);
    if (!rc)
        json_array_append_new(files, json_pack("s++", dir, "/", name));
    return rc;
}

int rb_report_write(json_t *report, const char *dir, const char *stem, json_t *files)
{
    static const struct {
        const char *suffix;
        rb_format f;
        bool ja;
    } kinds[] = {{".ja.md", RB_MARKDOWN, true},
                 {".en.md", RB_MARKDOWN, false},
                 {".ja.html", RB_HTML, true},
                 {".en.html", RB_HTML, false}};
    char name[512];
    int rc = bkp_mkdir_p(dir, 0700);
    for (size_t i = 0; !rc && i < sizeof(kinds) / sizeof(*kinds); i++) {
        snprintf(name, sizeof(name), "%s%s", stem, kinds[i].suffix);
        rc = write_one(dir, name, rb_report_render(report, kinds[i].f, kinds[i].ja), files);
    }
    snprintf(name, sizeof(name), "%s.json", stem);
    return rc ? rc
              : write_one(dir, name, json_dumps(report, JSON_INDENT(2) | JSON_SORT_KEYS), files);
}

size_t rb_not_rehearsed(const rb_runbook *rb, const rb_result *res)
{
    size_t n = 0;
    for (size_t i = 0; i < rb->nsteps; i++)
        n += res->steps[i].status == RB_NOT_REHEARSED;
    return n;
}

size_t rb_record_count(const rb_result *res)
{
    size_t n = json_array_size(res->restored);
    return n ? n : 1;
}

json_t *rb_record(const rb_runbook *rb, const rb_result *res, json_t *report, size_t k, bool drill,
                  json_t *files, const char *attest, json_t *key_used, bkp_audit_rec *rec)
{
    json_t *done = json_array_get(res->restored, k); /* NULL when none was reached */
    json_t *fig =
        json_pack("{s:s, s:b, s:f, s:I, s:b, s:I, s:I, s:I, s:I, s:O, s:s?}", "runbook", rb->name,
                  "drill", drill, "seconds", res->seconds, "rto_target_seconds",
                  (json_int_t)rb->rto, "rto_met", json_is_true(json_object_get(report, "rto_met")),
                  "failed_step", (json_int_t)res->failed_step, "not_rehearsed",
                  (json_int_t)rb_not_rehearsed(rb, res), "files", (json_int_t)res->files, "damaged",
                  (json_int_t)json_integer_value(json_object_get(done, "damaged")), "reports",
                  files, "attested_by", attest);
    if (fig) { /* whether a person confirmed it, and which sources it read (runbook_doc.h) */
        json_object_set_new(fig, "attended",
                            json_boolean(json_is_true(json_object_get(report, "attended"))));
        if (json_is_string(json_object_get(report, "read_from")))
            json_object_set(fig, "read_from", json_object_get(report, "read_from"));
    }
    if (fig && key_used) { /* which sheets opened it */
        json_object_set_new(fig, "key_recovery", json_true());
        json_object_set(fig, "key_sheets", key_used);
    }
    bool failed_step = !res->ok && res->failed_step > 0 && res->failed_step <= rb->nsteps;
    *rec = (bkp_audit_rec){
        .op = drill ? "drill" : "restore",
        .dataset = done ? json_string_value(json_object_get(done, "dataset")) : rb->datasets[0],
        .generation = done ? json_string_value(json_object_get(done, "generation")) : NULL,
        .medium = done ? json_string_value(json_object_get(done, "source")) : NULL,
        .failed = !res->ok,
        .figures = fig,
        .error = failed_step ? res->steps[res->failed_step - 1].detail
                 : res->ok   ? NULL
                             : "the procedure did not complete"};
    return fig;
}
