/*
 * run.c — the data sets of a run (run.h): in priority order, each that is
 * due: before hook, capture and seal by the program, after hook; its
 * outcome. Different sources side by side (captures(), below).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/host/hook.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/backup_record.h"
#include "bkp/ops/medium_check.h"
#include "bkp/ops/remote_host.h"
#include "bkp/ops/run.h"
#include "policies/schedule.h"

/* Say the detail of `o` three times: in English, in the reader's language,
 * and in Japanese (for the mail). The format is a literal marked N_() so
 * that the catalogue has it. */
#define DETAIL(o, fmt, ...)                                                                        \
    do {                                                                                           \
        bkp_i18n_saved ja_;                                                                        \
        snprintf((o)->detail, sizeof((o)->detail), fmt, __VA_ARGS__);                              \
        snprintf((o)->shown, sizeof((o)->shown), _(fmt), __VA_ARGS__);                             \
        bkp_i18n_begin(&ja_, "ja");                                                                \
        snprintf((o)->detail_ja, sizeof((o)->detail_ja), _(fmt), __VA_ARGS__);                     \
        bkp_i18n_end(&ja_);                                                                        \
    } while (0)

/* The same for a fixed text (marked N_()). */
static void detail_text(ops_run_outcome *o, const char *text)
{
    bkp_i18n_saved ja;
    snprintf(o->detail, sizeof(o->detail), "%s", text);
    snprintf(o->shown, sizeof(o->shown), "%s", _(text));
    bkp_i18n_begin(&ja, "ja");
    snprintf(o->detail_ja, sizeof(o->detail_ja), "%s", _(text));
    bkp_i18n_end(&ja);
}

/* The outcome's detail: error `err`, in English, the reader's words and
 * Japanese. */
static void err_text(ops_run_outcome *o, int err)
{
    bkp_i18n_saved ja;
    snprintf(o->detail, sizeof(o->detail), "%s", bkp_strerror_en(err));
    snprintf(o->shown, sizeof(o->shown), "%s", bkp_strerror(err));
    bkp_i18n_begin(&ja, "ja");
    snprintf(o->detail_ja, sizeof(o->detail_ja), "%s", bkp_strerror(err));
    bkp_i18n_end(&ja);
}

static int cmp_priority(const void *a, const void *b)
{
    const pol_dataset *x = *(const pol_dataset *const *)a, *y = *(const pol_dataset *const *)b;
    return (x->priority > y->priority) - (x->priority < y->priority);
}

/* Say `fmt` (a literal marked N_()) with its arguments three times, as
 * ops_stream_why's three outputs. */
static void __attribute__((format(printf, 5, 6)))
say3(char *en, char *shown, char *ja, size_t n, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    vsnprintf(en, n, fmt, aq);
    va_end(aq);
    va_copy(aq, ap);
    vsnprintf(shown, n, _(fmt), aq);
    va_end(aq);
    if (ja) {
        bkp_i18n_saved saved;
        bkp_i18n_begin(&saved, "ja");
        vsnprintf(ja, n, _(fmt), ap);
        bkp_i18n_end(&saved);
    }
    va_end(ap);
}

/* The same for a fixed text (marked N_()). */
static void say_text(char *en, char *shown, char *ja, size_t n, const char *text)
{
    snprintf(en, n, "%s", text);
    snprintf(shown, n, "%s", _(text));
    if (ja) {
        bkp_i18n_saved saved;
        bkp_i18n_begin(&saved, "ja");
        snprintf(ja, n, "%s", _(text));
        bkp_i18n_end(&saved);
    }
}

void ops_stream_why(int rc, const bkp_hook_result *hr, const pol_dataset *d, char *en, char *shown,
                    char *ja, size_t n)
{
    const pol_hook *cmd = &d->stream.command;
    const char *remote = d->host ? ops_remote_why(rc) : NULL;
    if (remote)
        say_text(en, shown, ja, n, remote);
    else if (rc == -ECHILD && d->host && hr->timed_out)
        say_text(en, shown, ja, n,
                 N_("was ended at its time limit on the source server (the timeout of the "
                    "command in the agent's file there)"));
    else if (rc == -ETIMEDOUT)
        say3(en, shown, ja, n, N_("was killed after %llds (its timeout)"), (long long)cmd->timeout);
    else if (rc == -ENODATA)
        say3(en, shown, ja, n, N_("wrote nothing to its standard output"));
    else if (rc == -ECHILD && hr->held_open)
        say3(en, shown, ja, n, N_("ended, but a process it started still held its output open"));
    else if (rc == -ECHILD && hr->left_running)
        say3(en, shown, ja, n,
             N_("ended while processes it started were still running: what they wrote may be "
                "missing"));
    else if (rc == -ECHILD && hr->signal)
        say3(en, shown, ja, n, N_("was ended by signal %lld"), (long long)hr->signal);
    else if (rc == -ECHILD)
        say3(en, shown, ja, n, N_("exited with status %lld"), (long long)hr->exit_code);
    else if (rc == -ENOENT && cmd->run_as)
        say3(en, shown, ja, n, N_("could not start: there is no user '%s' to run it as"),
             cmd->run_as);
    else
        say3(en, shown, ja, n, N_("could not start: %s"), bkp_strerror(rc));
}

/* An after hook that failed when the capture had failed before it: both
 * said, the capture's first (`was`, the outcome before the hook), and both
 * the cause. */
static void join_failures(ops_run_outcome *o, const ops_run_outcome *was)
{
    char en[sizeof(o->detail)], shown[sizeof(o->shown)], ja[sizeof(o->detail_ja)];
    bkp_i18n_saved saved;
    snprintf(en, sizeof(en), "%s", o->detail);
    snprintf(shown, sizeof(shown), "%s", o->shown);
    snprintf(ja, sizeof(ja), "%s", o->detail_ja);
    snprintf(o->detail, sizeof(o->detail), "%s", was->detail);
    bkp_strappend(o->detail, sizeof(o->detail), "; %s", en);
    snprintf(o->shown, sizeof(o->shown), "%s", was->shown);
    bkp_strappend(o->shown, sizeof(o->shown), "%s%s", _("; "), shown);
    snprintf(o->detail_ja, sizeof(o->detail_ja), "%s", was->detail_ja);
    bkp_i18n_begin(&saved, "ja");
    bkp_strappend(o->detail_ja, sizeof(o->detail_ja), "%s%s", _("; "), ja);
    bkp_i18n_end(&saved);
    char hook[sizeof(o->cause)];
    snprintf(hook, sizeof(hook), "%s", o->cause);
    snprintf(o->cause, sizeof(o->cause), "%s", was->cause);
    bkp_strappend(o->cause, sizeof(o->cause), "+%s", hook);
}

/* Why hook `which` failed (`rc`), into the outcome. */
static void hook_detail(const pol_hook *h, const char *which, const bkp_hook_result *hr, int rc,
                        ops_run_outcome *o)
{
    ops_run_outcome was = *o;
    o->hook = h->command;
    snprintf(o->hook_output, sizeof(o->hook_output), "%s", hr->tail);
    /* Its cause: how it ended, never what it printed (run.h). */
    snprintf(o->cause, sizeof(o->cause), "%s-hook:%d:%d:%d", which, rc, hr->exit_code, hr->signal);
    if (rc == -ETIMEDOUT)
        DETAIL(o, N_("%s hook killed after %llds (timeout)"), which, (long long)h->timeout);
    else if (rc == -ECHILD && hr->signal)
        DETAIL(o, N_("%s hook ended by signal %d"), which, hr->signal);
    else if (rc == -ENOENT && h->run_as)
        DETAIL(o, N_("%s hook: no user '%s' to run it as"), which, h->run_as);
    else if (rc == -ECHILD)
        DETAIL(o, N_("%s hook exited with status %d"), which, hr->exit_code);
    else
        DETAIL(o, N_("%s hook could not start: %s"), which, bkp_strerror(rc));
    if (was.failed && *was.cause)
        join_failures(o, &was);
}

/* Why hook `which` of `d` failed (`rc`), into the outcome, and said. */
static void hook_failed(const ops_run_in *in, const pol_dataset *d, const pol_hook *h,
                        const char *which, const bkp_hook_result *hr, int rc, ops_run_outcome *o)
{
    hook_detail(h, which, hr, rc, o);
    /* Said once per change by the alerts when they are told (run.h). */
    if (hr->tail[0])
        bkp_log(in->said_once ? BKP_LOG_INFO : BKP_LOG_ERROR,
                _("%s: %s; its last output: %s; check `%s` by hand"), d->name, o->shown, hr->tail,
                h->command);
    else
        bkp_log(in->said_once ? BKP_LOG_INFO : BKP_LOG_ERROR, _("%s: %s; check `%s` by hand"),
                d->name, o->shown, h->command);
}

/* Hook `h` of `d`, recorded in the audit log: 0, the hook's error (said),
 * or -EIO when the record could not be written. */
static int run_hook(const ops_run_in *in, const pol_dataset *d, const pol_hook *h,
                    const char *which, ops_run_outcome *o)
{
    bkp_hook_result hr;
    char op[32];
    if (!h->command)
        return 0;
    bkp_info(_("%s: %s hook: %s"), d->name, which, h->command);
    bkp_hook_spec spec = {.command = h->command,
                          .env = h->env,
                          .nenv = h->nenv,
                          .timeout = h->timeout,
                          .run_as = h->run_as};
    int rc = bkp_hook_exec(&spec, &hr);
    snprintf(op, sizeof(op), "hook-%s", which);
    json_t *fig = json_pack("{s:s, s:i, s:i, s:b, s:I}", "command", h->command, "exit_code",
                            hr.exit_code, "signal", hr.signal, "timed_out", hr.timed_out,
                            "milliseconds", (json_int_t)(hr.seconds * 1000));
    if (rc)
        hook_failed(in, d, h, which, &hr, rc, o);
    /* Why, as a person saw it (in English), but never what the hook
     * printed: it may hold a secret. */
    bkp_audit_rec rec = {.op = op,
                         .dataset = d->name,
                         .failed = rc != 0,
                         .figures = fig,
                         .error = rc ? o->detail : NULL};
    int aex = in->io->audit(in->io->ctx, &rec);
    json_decref(fig);
    return aex ? -EIO : rc;
}

/* Newest generation's finish time, the start of the last one sealed (the
 * highest sequence number: what the schedule counts from) and the number
 * of generations of `name`. One sealed while the clock was ahead is in the
 * future: the next run makes one (the schedule says so of a last run in
 * the future), and from then on it is not the last one. */
static void history(bkp_repo *r, const char *name, time_t *last, time_t *last_start, size_t *count)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    uint32_t seq = 0;
    *last = *last_start = 0;
    *count = 0;
    if (bkp_gen_list(r, name, &v, &n))
        return;
    for (size_t i = 0; i < n; i++)
        if (!v[i]->status && !v[i]->pruned) {
            (*count)++;
            if (v[i]->finished > *last)
                *last = v[i]->finished;
            if (v[i]->seq > seq) {
                seq = v[i]->seq;
                *last_start = v[i]->started;
            }
        }
    bkp_gen_list_free(v, n);
}

/* Not due: when it next is, into the outcome. */
static void not_due(const pol_dataset *d, time_t now, ops_run_outcome *o)
{
    char when[32] = "";
    time_t next = pol_next_slot(&d->schedule, now);
    o->what = N_("not due");
    if (next != (time_t)-1)
        DETAIL(o, N_("next %s"), bkp_local_time(when, sizeof(when), next, "-"));
    else
        detail_text(o, N_("never (no schedule)"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The cause of a generation sealed without paths it could not read: which
 * paths, as a digest of their names in order (not how many, nor why: the
 * reminder says that). */
static void unreadable_cause(const bkp_gen *g, char *cause, size_t n)
{
    const char **v = calloc(g->nerrors + 1, sizeof(*v));
    uint8_t h[8] = {0};
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    for (size_t i = 0; v && i < g->nerrors; i++)
        v[i] = g->errors[i].path;
    if (v)
        qsort(v, g->nerrors, sizeof(*v), cmp_str);
    for (size_t i = 0; v && i < g->nerrors; i++)
        crypto_generichash_update(&st, (const uint8_t *)v[i], strlen(v[i]) + 1);
    crypto_generichash_final(&st, h, sizeof(h));
    free(v);
    snprintf(cause, n, "unreadable:%02x%02x%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4],
             h[5], h[6], h[7]);
}

/* What the capture left, into the outcome. */
static void judge_backup(int ex, const pol_dataset *d, ops_run_outcome *o)
{
    if (ex && o->b.stream_rc) {
        /* The program said it, with the command's last lines. */
        char en[900], shown[900], ja[900];
        bkp_i18n_saved saved;
        o->failed = true;
        o->what = N_("failed");
        o->hook = d->stream.command.command;
        snprintf(o->hook_output, sizeof(o->hook_output), "%s", o->b.stream.tail);
        snprintf(o->cause, sizeof(o->cause), "stream:%d:%d:%d", o->b.stream_rc,
                 o->b.stream.exit_code, o->b.stream.signal);
        ops_stream_why(o->b.stream_rc, &o->b.stream, d, en, shown, ja, sizeof(en));
        /* The subject: the command, or the agent's walk of the host's paths. */
        if (d->stream.command.command) {
            snprintf(o->detail, sizeof(o->detail), "the stream's command %s", en);
            snprintf(o->shown, sizeof(o->shown), _("the stream's command %s"), shown);
            bkp_i18n_begin(&saved, "ja");
            snprintf(o->detail_ja, sizeof(o->detail_ja), _("the stream's command %s"), ja);
        } else {
            snprintf(o->detail, sizeof(o->detail), "the walk of its paths on the source server %s",
                     en);
            snprintf(o->shown, sizeof(o->shown), _("the walk of its paths on the source server %s"),
                     shown);
            bkp_i18n_begin(&saved, "ja");
            snprintf(o->detail_ja, sizeof(o->detail_ja),
                     _("the walk of its paths on the source server %s"), ja);
        }
        bkp_i18n_end(&saved);
    } else if (ex && o->b.suspicious) {
        o->failed = true;
        o->what = N_("sealed, SUSPICIOUS");
        snprintf(o->detail, sizeof(o->detail), "%s", o->b.reason);
        pol_guard_reason(&o->b.verdict, false, o->shown, sizeof(o->shown));
        bkp_i18n_saved saved;
        bkp_i18n_begin(&saved, "ja");
        pol_guard_reason(&o->b.verdict, false, o->detail_ja, sizeof(o->detail_ja));
        bkp_i18n_end(&saved);
    } else if (ex) {
        o->failed = true;
        o->what = N_("failed");
        /* How many paths does not change the cause: the reminder says it. */
        if (o->b.gen)
            unreadable_cause(o->b.gen, o->cause, sizeof(o->cause));
        else
            snprintf(o->cause, sizeof(o->cause), "error:%d", o->b.err);
        if (!*o->detail && o->b.gen)
            DETAIL(o, N_("%zu path(s), %s the first"), o->b.nerrors,
                   o->b.gen->nerrors ? o->b.gen->errors[0].path : "?");
        else if (!*o->detail && o->b.err)
            err_text(o, o->b.err);
        else if (!*o->detail)
            detail_text(o, N_("capture failed"));
    } else {
        o->what = N_("sealed");
    }
}

/* The backup of `d` that its before hook kept from capturing, recorded as
 * a backup that failed (backup_record.h): the status, the page and the
 * evidence report read the night's backup as failed, not as the last one
 * that ran. */
static void no_capture(const ops_run_in *in, const pol_dataset *d, const ops_run_outcome *o)
{
    char sched[64];
    bkp_capture_stats none = {0};
    ops_backup_figures f = {.schedule = d->schedule.kind != POL_SCHED_NONE
                                            ? pol_schedule_text(&d->schedule, sched, sizeof(sched))
                                            : NULL,
                            .stats = &none};
    bkp_audit_rec rec = {.dataset = d->name, .failed = true, .error = o->detail};
    ops_backup_rec(&f, &rec);
    if (rec.figures && *o->detail_ja) /* as the rotations' and restores' refusals */
        json_object_set_new(rec.figures, "error_ja", json_string(o->detail_ja));
    (void)in->io->audit(in->io->ctx, &rec); /* said by the log, as the hook's record */
    json_decref(rec.figures);
}

/* Data set `d` before its capture: whether it is due and its before hook
 * ran; false when that is its outcome already. */
static bool begin_dataset(const ops_run_in *in, const pol_dataset *d, ops_run_outcome *o)
{
    time_t last_start;
    history(in->repo, d->name, &o->last_success, &last_start, &o->generations);
    if (!in->force && !pol_is_due(&d->schedule, last_start, in->now)) {
        not_due(d, in->now, o);
        return false;
    }
    o->ran = true;
    if (run_hook(in, d, &d->before, "before", o)) {
        o->failed = true;
        o->what = N_("failed");
        no_capture(in, d, o);
        return false;
    }
    return true;
}

/* Data set `d` after its capture ended with `ex`: judged, its after hook. */
static void end_dataset(const ops_run_in *in, const pol_dataset *d, int ex, ops_run_outcome *o)
{
    if (o->b.gen) {
        o->last_success = o->b.gen->finished;
        o->generations++;
    }
    judge_backup(ex, d, o);
    if (run_hook(in, d, &d->after, "after", o)) {
        o->failed = true;
        o->what = o->b.gen ? N_("sealed, after hook failed") : N_("failed");
    }
}

/*
 * The captures of a run. A source (a host, or this server for the data
 * sets without one) gives one data set at a time, and at most `parallel`
 * (the policy's) are captured at once: a night with five servers is not
 * five nights, and no source is asked twice at once. They start in
 * priority order, each when its source is idle and fewer than `parallel`
 * run. A
 * capture runs in a thread of its own (the program's backup, which seals
 * and records it: the repository, its seals and the audit log take
 * several at once, repo.h and audit.h); everything else — whether it is
 * due, the hooks, the judging, what is said — stays in this thread.
 */
typedef struct capture_slot {
    pthread_t thread;
    const ops_run_in *in;
    ops_run_outcome *o;
    bkp_log_scope *words; /* its data set's (ops_run_words_begin) */
    int ex;
    bool running, threaded, done;
    pthread_mutex_t *lock;
    pthread_cond_t *ended;
} capture_slot;

static void *capture_thread(void *arg)
{
    capture_slot *s = arg;
    int ex = s->in->io->backup(s->in->io->ctx, s->o->d, &s->o->b);
    pthread_mutex_lock(s->lock);
    s->ex = ex;
    s->done = true;
    pthread_cond_signal(s->ended);
    pthread_mutex_unlock(s->lock);
    return NULL;
}

static const char *source_of(const pol_dataset *d)
{
    return d->host ? d->host : "";
}

/* Is a capture of `d`'s source running? */
static bool source_busy(const capture_slot *slots, size_t nslots, const pol_dataset *d)
{
    for (size_t i = 0; i < nslots; i++)
        if (slots[i].running && !strcmp(source_of(slots[i].o->d), source_of(d)))
            return true;
    return false;
}

/* The first data set not begun whose source is free: its index, or res->n
 * when none is now. */
static size_t next_free(const ops_run_result *res, const bool *begun, const capture_slot *slots,
                        size_t nslots)
{
    for (size_t i = 0; i < res->n; i++)
        if (!begun[i] && !source_busy(slots, nslots, res->v[i].d))
            return i;
    return res->n;
}

bkp_log_scope *ops_run_words_begin(const ops_run_in *in)
{
    return in->said_once ? bkp_log_scope_new(in->io->journal, in->io->ctx) : NULL;
}

void ops_run_words_end(bkp_log_scope *words, bool told)
{
    size_t more = bkp_log_scope_close(words, !told);
    if (more)
        bkp_warn(_("%zu more messages are in the system log (`journalctl -t bkp`)"), more);
}

static void captures(const ops_run_in *in, ops_run_result *res, bool *begun, capture_slot *slots,
                     size_t nslots)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t ended = PTHREAD_COND_INITIALIZER;
    size_t running = 0;
    for (;;) {
        /* Begin what may begin. */
        size_t i;
        while (running < nslots && (i = next_free(res, begun, slots, nslots)) < res->n) {
            ops_run_outcome *o = &res->v[i];
            begun[i] = true;
            bkp_log_scope *words = ops_run_words_begin(in), *was = bkp_log_scope_enter(words);
            if (!begin_dataset(in, o->d, o)) {
                bkp_log_scope_enter(was);
                ops_run_words_end(words, ops_run_told_before(in, o));
                if (in->io->done)
                    in->io->done(in->io->ctx, o);
                continue;
            }
            capture_slot *s = NULL;
            for (size_t k = 0; k < nslots && !s; k++)
                s = slots[k].running ? NULL : &slots[k];
            *s = (capture_slot){
                .in = in, .o = o, .words = words, .running = true, .lock = &lock, .ended = &ended};
            /* In the data set's scope, as the threads it starts. */
            s->threaded = bkp_thread_create(&s->thread, capture_thread, s) == 0;
            if (!s->threaded) {
                /* No thread: captured here, as a run always could. */
                s->ex = in->io->backup(in->io->ctx, o->d, &o->b);
                s->done = true;
            }
            bkp_log_scope_enter(was);
            running++;
        }
        if (!running)
            break;
        /* Wait for one to end, and finish it here. */
        pthread_mutex_lock(&lock);
        capture_slot *s = NULL;
        for (;;) {
            for (size_t k = 0; k < nslots && !s; k++)
                s = slots[k].running && slots[k].done ? &slots[k] : NULL;
            if (s)
                break;
            pthread_cond_wait(&ended, &lock);
        }
        pthread_mutex_unlock(&lock);
        if (s->threaded)
            pthread_join(s->thread, NULL);
        bkp_log_scope *was = bkp_log_scope_enter(s->words);
        end_dataset(in, s->o->d, s->ex, s->o);
        bkp_log_scope_enter(was);
        ops_run_words_end(s->words, ops_run_told_before(in, s->o));
        if (in->io->done)
            in->io->done(in->io->ctx, s->o);
        *s = (capture_slot){0};
        running--;
    }
    pthread_cond_destroy(&ended);
    pthread_mutex_destroy(&lock);
}

int ops_run_datasets(const ops_run_in *in, ops_run_result *res)
{
    const pol_policy *p = in->policy;
    memset(res, 0, sizeof(*res));
    res->order = calloc(p->ndatasets + 1, sizeof(*res->order));
    res->v = calloc(p->ndatasets + 1, sizeof(*res->v));
    if (!res->order || !res->v) {
        ops_run_result_free(res);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->ndatasets; i++)
        if (!in->dataset || !strcmp(in->dataset, p->datasets[i].name))
            res->order[res->n++] = &p->datasets[i];
    qsort(res->order, res->n, sizeof(*res->order), cmp_priority);
    for (size_t i = 0; i < res->n; i++)
        res->v[i].d = res->order[i];
    size_t nslots = p->parallel > 1 ? (size_t)p->parallel : 1;
    bool *begun = calloc(res->n + 1, sizeof(*begun));
    capture_slot *slots = calloc(nslots, sizeof(*slots));
    if (!begun || !slots) {
        free(begun);
        free(slots);
        ops_run_result_free(res);
        return -ENOMEM;
    }
    captures(in, res, begun, slots, nslots);
    free(begun);
    free(slots);
    return 0;
}

void ops_run_result_free(ops_run_result *res)
{
    for (size_t i = 0; res->v && i < res->n; i++) {
        bkp_gen_free(res->v[i].b.gen);
    }
    free(res->order);
    free(res->v);
    memset(res, 0, sizeof(*res));
}

bool ops_run_failed(const ops_run_result *res)
{
    for (size_t i = 0; i < res->n; i++)
        if (res->v[i].failed)
            return true;
    return false;
}

bool ops_run_wants_prune(const pol_policy *p)
{
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_retention *rt = &p->datasets[i].retention;
        if (rt->keep_last || rt->keep_hourly || rt->keep_daily || rt->keep_weekly ||
            rt->keep_monthly || rt->keep_yearly)
            return true;
    }
    return false;
}
