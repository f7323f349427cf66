/* backup_record.c — see backup_record.h. */
#include "bkp/ops/backup_record.h"

#include <string.h>

#include <jansson.h>

static json_t *capture_figures(const ops_backup_figures *f)
{
    const bkp_capture_stats *s = f->stats;
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:s?}", "files",
                     (json_int_t)s->files, "bytes", (json_int_t)s->bytes, "bytes_read",
                     (json_int_t)s->bytes_read, "bytes_new", (json_int_t)s->bytes_new, "stored_new",
                     (json_int_t)s->stored_new, "milliseconds", (json_int_t)(f->seconds * 1000),
                     "unreadable", (json_int_t)f->unreadable, "suspicious", f->suspicious, "uuid",
                     f->gen->uuid);
}

static json_t *stream_figures(const bkp_hook_result *r)
{
    return json_pack("{s:i, s:i, s:b, s:b, s:b, s:I}", "exit_code", r->exit_code, "signal",
                     r->signal, "timed_out", r->timed_out, "left_running", r->left_running,
                     "held_open", r->held_open, "milliseconds", (json_int_t)(r->seconds * 1000));
}

void ops_backup_rec(const ops_backup_figures *f, bkp_audit_rec *rec)
{
    /* Without memory, what could be made is kept: a record of the backup
     * with fewer figures is better than none. */
    json_t *fig = f->gen && f->stats ? capture_figures(f) : NULL;
    if (!fig)
        fig = json_object();
    if (fig && f->schedule)
        (void)json_object_set_new(fig, "schedule", json_string(f->schedule));
    if (fig && f->stream)
        (void)json_object_set_new(fig, "stream", stream_figures(f->stream));
    rec->op = "backup";
    rec->figures = fig;
}

/* The figures of `e` when it is a backup's record, else none. */
static const json_t *backup_figures(const bkp_audit_entry *e)
{
    return e->op && !strcmp(e->op, "backup") ? e->figures : NULL; /* an empty slot has none */
}

bool ops_backup_suspicious(const bkp_audit_entry *e)
{
    return json_is_true(json_object_get(backup_figures(e), "suspicious"));
}

const char *ops_backup_schedule(const bkp_audit_entry *e)
{
    return json_string_value(json_object_get(backup_figures(e), "schedule"));
}

time_t ops_backup_began(const bkp_audit_entry *e)
{
    json_t *ms = json_object_get(backup_figures(e), "milliseconds");
    json_int_t took = json_is_integer(ms) ? json_integer_value(ms) / 1000 : 0;
    return took > 0 && took < e->time ? e->time - (time_t)took : e->time;
}
