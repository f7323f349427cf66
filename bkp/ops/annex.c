/* annex.c — see annex.h. */
#include "bkp/ops/annex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/rotate_record.h"
#include "restore/drill_report.h"

typedef struct gather {
    rst_annex_facts *f;
    bool nomem;
} gather;

/* The record `e` as cited: its time, and how it went; a rotation's whether
 * it was refused, a drill's what it measured. */
static rst_cited cited(const bkp_audit_entry *e)
{
    return (rst_cited){.time = e->time,
                       .ok = e->ok,
                       .refused = ops_rotation_refused(e), /* false but for a rotation's */
                       .seconds = -1,
                       .rto_met = RST_UNSAID};
}

static rst_annex_runbook *runbook_named(rst_annex_facts *f, const char *name)
{
    for (size_t i = 0; name && i < f->nrunbooks; i++)
        if (!strcmp(f->runbooks[i].name, name))
            return &f->runbooks[i];
    return NULL;
}

static rst_annex_medium *medium_named(rst_annex_facts *f, const char *name)
{
    for (size_t i = 0; name && i < f->nmedia; i++)
        if (!strcmp(f->media[i].name, name))
            return &f->media[i];
    return NULL;
}

/* The newest record of each kind the annex cites: records come in order,
 * so the last one read stays. */
static int collect(const bkp_audit_entry *e, void *ctx)
{
    gather *g = ctx;
    const char *op = e->op;
    rst_annex_medium *m = medium_named(g->f, e->medium);
    if (!strcmp(op, "drill")) {
        rb_drill_figures fig;
        rb_drill_figures_read(e, &fig);
        rst_annex_runbook *rb = runbook_named(g->f, fig.runbook);
        if (rb) {
            rb->drill = cited(e);
            rb->drill.seconds = fig.seconds;
            rb->drill.rto_met = fig.rto_met;
            rb->drill.unattended = rb_drill_figures_unattended(&fig);
            if (!rb->drill.unattended &&
                !fig.key_recovery) /* cited beside a later unattended one */
                rb->attended = rb->drill;
        }
    } else if (!strcmp(op, "rotate") && m) {
        m->last = cited(e);
        if (m->last.ok) /* the last exchange that succeeded, apart from the last attempt */
            m->last_ok = m->last;
    } else if (!strcmp(op, "media-probe") && m) {
        m->probe = cited(e);
    }
    return 0;
}

/* Runbook `name` once among the facts: what it says, or that it does not load. */
static void runbook_fact(gather *g, const char *name,
                         int (*load)(void *ctx, const char *name, rb_runbook **rb), void *ctx)
{
    rst_annex_facts *f = g->f;
    rb_runbook *rb = NULL;
    if (!name || runbook_named(f, name))
        return;
    char *copy = bkp_strdup_or(name, &g->nomem);
    if (!copy)
        return; /* no memory: said at the end; never an entry without its name */
    rst_annex_runbook *r = &f->runbooks[f->nrunbooks++];
    *r = (rst_annex_runbook){.name = copy};
    if (load(ctx, name, &rb)) {
        r->invalid = true;
        return;
    }
    r->title = bkp_strdup_or(rb->title, &g->nomem);
    r->owner = bkp_strdup_or(rb->owner, &g->nomem);
    r->passphrase_note = bkp_strdup_or(rb->passphrase_note, &g->nomem);
    r->rto = rb->rto;
    rb_free(rb);
}

int ops_annex_facts(const pol_policy *p, int (*load)(void *ctx, const char *name, rb_runbook **rb),
                    void *ctx, rst_annex_facts *out)
{
    gather g = {.f = out};
    memset(out, 0, sizeof(*out));
    out->generated = bkp_now();
    size_t books = p->ndatasets + p->ndrills;
    out->runbooks = books ? calloc(books, sizeof(*out->runbooks)) : NULL;
    out->media = p->nmedia ? calloc(p->nmedia, sizeof(*out->media)) : NULL;
    if ((books && !out->runbooks) || (p->nmedia && !out->media)) {
        rst_annex_facts_clear(out);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->ndatasets; i++)
        runbook_fact(&g, p->datasets[i].runbook, load, ctx);
    for (size_t i = 0; i < p->ndrills; i++)
        runbook_fact(&g, p->drills[i].runbook, load, ctx);
    for (size_t i = 0; i < p->nmedia && !g.nomem; i++)
        if ((out->media[out->nmedia].name = bkp_strdup_or(p->media[i].name, &g.nomem)))
            out->nmedia++;
    char *log = bkp_audit_path_in(p->repository);
    int rc = log ? bkp_audit_each(log, collect, &g) : -ENOMEM;
    if (rc < 0 && rc != -ENOENT)
        bkp_warn(_("%s: the audit log cannot be read (%s); the annex shows no drill or rotation"),
                 log ? log : p->repository, bkp_strerror(rc));
    out->audit = !rc ? RST_LOG_READ : rc == -ENOENT ? RST_LOG_NONE : RST_LOG_UNREADABLE;
    free(log);
    if (g.nomem) {
        rst_annex_facts_clear(out);
        return -ENOMEM;
    }
    return 0;
}
