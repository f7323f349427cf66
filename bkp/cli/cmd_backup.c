/* bkp backup: capture one data set now and seal a generation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "bkp/io/clock.h"
#include "bkp/host/cmdenv.h"
#include "bkp/host/remote.h"
#include "bkp/ops/backup_record.h"
#include "bkp/ops/remote_host.h"
#include "bkp/audit/audit.h"
#include "bkp/capture/capture.h"
#include "bkp/cli/cli.h"
#include "bkp/store/generation.h"
#include "bkp/store/seal.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"
#include "bkp/ops/run.h"
#include "policies/guard.h"

void cli_backup_clear(cli_backup *b)
{
    bkp_gen_free(b->gen);
    b->gen = NULL;
}

static pol_change change_of(const bkp_gen_stats *s)
{
    return (pol_change){s->files, s->files_added, s->files_changed, s->files_deleted,
                        s->bytes, s->bytes_new,   s->stored_new};
}

/* The guard's verdict into `*g`; false when there is no guard. */
static bool judge(cli *c, const pol_dataset *d, const bkp_capture *cap, cli_backup *b,
                  bkp_gen_guard *g)
{
    bkp_gen **v = NULL;
    size_t n = 0, nh = 0;
    if (!d || !d->guard.enabled || bkp_gen_list(c->ro, d->name, &v, &n))
        return false;
    /* A stream (a record without paths) is judged against streams, paths
     * against paths, and a stream by how its new bytes compress alone: its
     * one file changes every time. */
    bool stream = d->stream.command.command != NULL;
    pol_change *h = calloc(n + 1, sizeof(*h));
    for (size_t i = 0; h && i < n; i++)
        if (!v[i]->status && !v[i]->pruned &&
            (v[i]->npaths == 0) == stream) {
            h[nh] = change_of(&v[i]->stats);
            if (stream)
                h[nh].added = h[nh].changed = h[nh].deleted = 0;
            nh++;
        }
    const bkp_capture_stats *s = &cap->stats;
    pol_change now = {s->files, s->files_added, s->files_changed, s->files_deleted,
                      s->bytes, s->bytes_new,   s->stored_new};
    if (stream)
        now.added = now.changed = now.deleted = 0;
    b->suspicious = h && pol_guard_check(&d->guard, h, nh, &now, &b->verdict);
    /* The record keeps the English; this may be a worker of `bkp run`. */
    pol_guard_reason(&b->verdict, true, b->reason, sizeof(b->reason));
    free(h);
    bkp_gen_list_free(v, n);
    *g = (bkp_gen_guard){b->suspicious, b->reason, pol_change_fraction(&now)};
    return true;
}

/* One audit record for a capture, whatever its outcome. */
static int audit_backup(cli *c, const pol_dataset *d, const char *dataset, const cli_backup *b,
                        const char *error, int ex)
{
    char gen[96] = "", sched[64];
    ops_backup_figures f = {.schedule = d && d->schedule.kind != POL_SCHED_NONE
                                            ? pol_schedule_text(&d->schedule, sched, sizeof(sched))
                                            : NULL,
                            .gen = b->gen,
                            .stats = &b->stats,
                            .seconds = b->seconds,
                            .unreadable = b->nerrors,
                            .suspicious = b->suspicious,
                            .stream = b->stream_ran ? &b->stream : NULL};
    if (b->gen)
        bkp_gen_name(b->gen, gen, sizeof(gen));
    /* A stream's failure is said in Japanese too (audit show, the report). */
    bool stream = error && b->stream_rc && b->stream_why_ja[0];
    bkp_audit_rec rec = {.dataset = dataset,
                         .generation = *gen ? gen : NULL,
                         .failed = ex != 0,
                         .error = error,
                         .error_ja = stream ? b->stream_why_ja : NULL};
    ops_backup_rec(&f, &rec);
    int aex = cli_audit(c, &rec);
    json_decref(rec.figures);
    return ex ? ex : aex;
}

/* The stream's command of `d` failed (`rc`): why into `b` and `en` (`n`
 * bytes, English, for the record), said with what to do next. */
static int stream_failed(const pol_dataset *d, cli_backup *b, int rc, char *en, size_t n)
{
    const pol_hook *cmd = &d->stream.command;
    char shown[1024], check[1024];
    b->stream_rc = rc;
    ops_stream_why(rc, &b->stream, d, en, shown, b->stream_why_ja,
                   n < sizeof(shown) ? n : sizeof(shown));
    if (d->host && cmd->command && (rc == -ECHILD || rc == -ENODATA))
        snprintf(check, sizeof(check),
                 _("run the agent's command %s by hand on %s, as the agent's user there"),
                 cmd->command, d->host);
    else if (d->host)
        snprintf(check, sizeof(check), _("check the source with `bkp host check %s`"), d->host);
    else if (cmd->run_as)
        snprintf(check, sizeof(check), _("check `%s` by hand, as user %s"), cmd->command,
                 cmd->run_as);
    else
        snprintf(check, sizeof(check), _("check `%s` by hand"), cmd->command);
    /* Past a limit: if it only needs longer, the limit is what to change. */
    char longer[sizeof(check)] = "";
    if (rc == -ECHILD && d->host && b->stream.timed_out) /* the agent's own */
        snprintf(longer, sizeof(longer),
                 _("if it only needs longer, raise the command's timeout in agent.yaml on %s; "
                   "else "),
                 d->host);
    else if (rc == -ETIMEDOUT)
        snprintf(longer, sizeof(longer), "%s",
                 _("if it only needs longer, raise timeout: of the data set's stream in the "
                   "policy; else "));
    if (*longer) {
        bkp_strappend(longer, sizeof(longer), "%s", check);
        snprintf(check, sizeof(check), "%s", longer);
    }
    /* The sentence's own full stop follows: not a second one. */
    size_t t = strlen(b->stream.tail);
    while (t > 0 && b->stream.tail[t - 1] == '.')
        b->stream.tail[--t] = '\0';
    if (!cmd->command && b->stream.tail[0])
        /* ssh's own words when it could not reach the agent, else the agent's. */
        bkp_error(_("%s: the walk of its paths on %s %s; the last output of ssh and the agent: "
                    "%s. Nothing was sealed, earlier generations are untouched; %s"),
                  d->name, d->host, shown, b->stream.tail, check);
    else if (!cmd->command)
        bkp_error(_("%s: the walk of its paths on %s %s. Nothing was sealed, earlier "
                    "generations are untouched; %s"),
                  d->name, d->host, shown, check);
    else if (b->stream.tail[0])
        bkp_error(_("%s: the stream's command %s; its last output: %s. Nothing was sealed, "
                    "earlier generations are untouched; %s"),
                  d->name, shown, b->stream.tail, check);
    else
        bkp_error(_("%s: the stream's command %s. Nothing was sealed, earlier generations are "
                    "untouched; %s"),
                  d->name, shown, check);
    return rc;
}

/* A stream's command: run here (a hook of ours) or by the agent of a host;
 * or the walk of a host's paths by its agent. */
typedef struct stream_proc {
    bkp_hook_proc *local;
    bkp_remote *remote;
    bool tree;
    bkp_wire_end walk;     /* the agent's walk's end: what it could not read */
    uint64_t walk_unnamed; /* of those, how many it did not name */
    char **roots;        /* the paths asked for (bkp_capture_roots) */
    size_t nroots;
} stream_proc;

/* The paths of `d` on its host: asked of the agent there, its archive the
 * capture's input (`rm`). */
static int tree_start(cli *c, const pol_dataset *d, const bkp_capture_opts *o,
                      bkp_capture_remote *rm, stream_proc *sp)
{
    const pol_host *h = pol_host_find(c->policy, d->host);
    bkp_remote_host rh;
    *rm = (bkp_capture_remote){.fd = -1, .cancel_fd = -1, .host = d->host, .stamps_fd = -1};
    sp->tree = true;
    if (!h)
        return -EINVAL; /* the policy's cross-check refuses it first */
    if (!(sp->roots = bkp_capture_roots(o->paths, o->npaths, &sp->nroots)))
        return -ENOMEM;
    ops_remote_host(h, &rh);
    bkp_wire_tree t = {.stamps = !o->no_cache, /* unchanged files cross without their bytes */
                       .one_fs = o->one_fs,
                       .paths = sp->roots,
                       .npaths = sp->nroots,
                       .exclude = (char **)o->exclude,
                       .nexclude = o->nexclude};
    bkp_info(_("%s: the paths on %s"), d->name, d->host);
    /* A whole day at most: a source whose disk hangs must not hold the
     * run, its lock and the data sets after it, forever. */
    int rc =
        bkp_remote_start_tree(&rh, &t, 24 * 3600, &rm->fd, &rm->stamps_fd, &sp->walk, &sp->remote);
    if (!rc)
        rm->cancel_fd = bkp_remote_cancel_fd(sp->remote);
    return rc;
}

/* Data set `d` is a stream: its command started, its output the capture's
 * input (`st`), owned by the user it runs as (`u`, the caller's to clear
 * once the capture is done: `st` borrows its names). A stream from a host
 * is the agent's command's output, stored as root's. */
static int stream_start(cli *c, const pol_dataset *d, bkp_capture_stream *st, stream_proc *sp,
                        bkp_cmd_user *u)
{
    const pol_hook *cmd = &d->stream.command;
    *st = (bkp_capture_stream){.fd = -1,
                               .cancel_fd = -1,
                               .name = d->stream.name,
                               .mtime = bkp_now(),
                               .uname = "root",
                               .gname = "root"};
    if (d->host) {
        const pol_host *h = pol_host_find(c->policy, d->host);
        bkp_remote_host rh;
        if (!h)
            return -EINVAL; /* the policy's cross-check refuses it first */
        ops_remote_host(h, &rh);
        bkp_info(_("%s: stream: %s on %s"), d->name, cmd->command, d->host);
        int rc = bkp_remote_start(&rh, cmd->command, cmd->timeout, &st->fd, &sp->remote);
        if (!rc)
            st->cancel_fd = bkp_remote_cancel_fd(sp->remote);
        return rc;
    }
    /* From /, not the caller's folder: cron's is root's home, which the
     * run_as user cannot enter (and would say so on every dump). */
    bkp_hook_spec spec = {.command = cmd->command,
                          .env = cmd->env,
                          .nenv = cmd->nenv,
                          .timeout = cmd->timeout,
                          .run_as = cmd->run_as,
                          .dir = "/"};
    if (cmd->run_as && !bkp_cmd_user_lookup(cmd->run_as, u)) {
        st->uid = u->uid;
        st->gid = u->gid;
        st->uname = u->name;
        st->gname = u->group;
    }
    bkp_info(_("%s: stream: %s"), d->name, cmd->command);
    int rc = bkp_hook_start(&spec, &st->fd, &sp->local);
    if (!rc)
        st->cancel_fd = bkp_hook_cancel_fd(sp->local);
    return rc;
}

/* The end of a stream's command, after its capture ended with `rc`: how it
 * ended into `b` and, when it failed, said (nothing is sealed then). A
 * capture that failed on its own stops reading, and the command is ended:
 * the capture's failure is the one said. 0 when the capture may be sealed. */
static int stream_end(const pol_dataset *d, stream_proc *sp, int rc, const bkp_capture *cap,
                      cli_backup *b, char *en, size_t n)
{
    /* The capture failed, not the command: a connection that ended (or
     * was cut) is the remote's to say. */
    bool ours = rc && rc != -ECANCELED && !(sp->tree && rc == -EPIPE);
    int src = sp->remote ? bkp_remote_finish(sp->remote, ours, &b->stream)
                         : bkp_hook_finish(sp->local, ours, &b->stream);
    b->stream_ran = true;
    if (ours)
        return rc;
    if (!src && !sp->tree && cap->stats.bytes == 0)
        src = -ENODATA; /* a dump that wrote elsewhere, or nothing: not a good generation */
    if (!(src = src ? src : rc))
        return 0;
    return stream_failed(d, b, src, en, n);
}

/* What the agent's walk of `d` could not read (`walk`), into the capture
 * `cap`: each path it named, as a local backup's (said, and kept in the
 * generation and its record), and the count of the rest (an earlier agent
 * names none: its last output is said). 0 or -ENOMEM. */
static int walk_left(const pol_dataset *d, const bkp_wire_end *walk, cli_backup *b,
                     bkp_capture *cap)
{
    char where[4200];
    uint64_t unnamed = walk->unreadable > walk->nleft ? walk->unreadable - walk->nleft : 0;
    for (size_t i = 0; i < walk->nleft; i++) {
        snprintf(where, sizeof(where), "%s:%s", d->host, walk->left[i].path);
        char *safe = bkp_text_safe(where, BKP_TEXT_FIELD);
        bkp_warn(_("%s: %s (as its agent read it); it is left out"), safe ? safe : where,
                 walk->left[i].error);
        free(safe);
        if (bkp_capture_add_error(cap, where, walk->left[i].error))
            return -ENOMEM;
    }
    if (!unnamed) {
        bkp_warn(_("%s: %llu path(s) on %s could not be read whole by the agent (left out, or "
                   "their unread bytes stored as zeros); each is named above and in the "
                   "generation, and the files cache is left as it was, so they are asked for "
                   "again"),
                 d->name, (unsigned long long)walk->unreadable, d->host);
        return 0;
    }
    char msg[800];
    snprintf(msg, sizeof(msg),
             "%llu more path(s) could not be read whole there (left out, or their unread bytes "
             "stored as zeros), named only in the agent's messages there; its last output: %s",
             (unsigned long long)unnamed, b->stream.tail);
    snprintf(where, sizeof(where), "%s:", d->host);
    bkp_warn(_("%s: %llu path(s) on %s could not be read whole by the agent (left out, or their "
               "unread bytes stored as zeros; the agent's messages there name them; the files "
               "cache is left as it was, so they are asked for again); its last output: %s"),
             d->name, (unsigned long long)unnamed, d->host, b->stream.tail);
    return bkp_capture_add_error(cap, where, msg) ? -ENOMEM : 0;
}

int cli_backup_run(cli *c, const bkp_capture_opts *o, const pol_dataset *d, cli_backup *b)
{
    bkp_capture cap;
    struct timespec t0, t1;
    memset(b, 0, sizeof(*b));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    time_t started = bkp_now();
    /* The previous generation's count: what the progress line measures against. */
    bkp_capture_opts with = *o;
    bkp_gen **v = NULL;
    size_t n = 0;
    if (!with.expect_files && bkp_gen_list(c->ro, o->dataset, &v, &n) == 0)
        for (size_t i = n; i-- > 0 && !with.expect_files;)
            if (!v[i]->pruned && !v[i]->status) {
                with.expect_files = v[i]->stats.files + v[i]->stats.hardlinks;
            }
    bkp_gen_list_free(v, n);
    bkp_capture_stream st;
    bkp_capture_remote rm;
    stream_proc proc = {0};
    bkp_cmd_user user = {0};
    char why[1024];
    if (d && d->host && !d->stream.command.command) {
        int src = tree_start(c, d, o, &rm, &proc);
        if (src) {
            stream_failed(d, b, src, why, sizeof(why));
            bkp_capture_roots_free(proc.roots, proc.nroots);
            return audit_backup(c, d, o->dataset, b, why, EXIT_FAILED);
        }
        with.remote = &rm;
    } else if (d && d->stream.command.command) {
        int src = stream_start(c, d, &st, &proc, &user);
        if (src) {
            bkp_cmd_user_clear(&user);
            stream_failed(d, b, src, why, sizeof(why));
            return audit_backup(c, d, o->dataset, b, why, EXIT_FAILED);
        }
        with.stream = &st;
    }
    int rc = bkp_capture_run(c->r, &with, &cap);
    bkp_cmd_user_clear(&user); /* the capture has recorded its names */
    if (proc.local || proc.remote) {
        close(proc.tree ? rm.fd : st.fd);
        int src = stream_end(d, &proc, rc, &cap, b, why, sizeof(why));
        bkp_capture_roots_free(proc.roots, proc.nroots);
        if (src && src == b->stream_rc) {
            bkp_wire_end_clear(&proc.walk);
            bkp_capture_clear(&cap);
            return audit_backup(c, d, o->dataset, b, why, EXIT_FAILED);
        }
        if (!rc && proc.walk.unreadable)
            rc = walk_left(d, &proc.walk, b, &cap);
        proc.walk_unnamed =
            proc.walk.unreadable > proc.walk.nleft ? proc.walk.unreadable - proc.walk.nleft : 0;
        /* Every file read whole: the new files cache may say so. */
        if (!rc && !proc.walk.unreadable)
            bkp_capture_publish_cache(&cap);
        bkp_wire_end_clear(&proc.walk);
    }
    if (rc) {
        /* What a source sent that was not taken is said by the capture, with the rule it broke. */
        if (!(proc.tree && rc == -EPROTO))
            bkp_error(_("the backup of %s failed (%s); nothing was sealed, earlier generations "
                        "are untouched. Fix the cause and run it again"),
                      o->dataset, bkp_strerror(rc));
        b->err = rc;
        bkp_capture_clear(&cap);
        return audit_backup(c, d, o->dataset, b, bkp_strerror_en(rc), EXIT_FAILED);
    }
    bkp_gen_guard verdict;
    bool judged = judge(c, d, &cap, b, &verdict);
    rc = bkp_gen_seal(c->r, o->dataset, &cap, started, bkp_now(), judged ? &verdict : NULL, &b->gen);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    b->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    b->stats = cap.stats;
    /* The agent's paths not named are one entry of the generation, each counted. */
    uint64_t unnamed = proc.walk_unnamed;
    b->nerrors = cap.nerrors + (unnamed > 1 ? (size_t)unnamed - 1 : 0);
    bkp_capture_clear(&cap);
    if (rc) {
        b->err = rc;
        return audit_backup(c, d, o->dataset, b, "the generation could not be sealed", EXIT_FAILED);
    }
    if (b->suspicious) {
        char guard_why[1024];
        bkp_error(_("%s:%u is marked SUSPICIOUS: %s. When the change is understood and the data is "
                    "good, run `bkp generations --clear-suspicious %s:%u`"),
                  b->gen->dataset, b->gen->seq, pol_guard_reason(&b->verdict, false, guard_why, sizeof(guard_why)),
                  b->gen->dataset, b->gen->seq);
        return audit_backup(c, d, o->dataset, b, b->reason, EXIT_FAILED);
    }
    if (b->nerrors) {
        bkp_error(_("%zu path(s) could not be read and are not in %s:%u (listed above and in the "
                    "generation); fix their permissions and run the backup again"),
                  b->nerrors, b->gen->dataset, b->gen->seq);
        return audit_backup(c, d, o->dataset, b, "some paths could not be read", EXIT_FAILED);
    }
    return audit_backup(c, d, o->dataset, b, NULL, EXIT_OK);
}

json_t *cli_backup_json(const bkp_gen *g, const bkp_capture_stats *s, double seconds)
{
    /* The unreadable paths as the record keeps them (invalid UTF-8 as \xNN). */
    json_t *errors = json_array();
    for (size_t i = 0; errors && i < g->nerrors; i++)
        json_array_append_new(errors, json_pack("{s:s, s:s}", "path", g->errors[i].path, "error",
                                                g->errors[i].message));
    json_t *j = json_pack("{s:s, s:i, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:s?, s:o}",
                          "dataset", g->dataset, "seq", (int)g->seq, "uuid", g->uuid, "seconds",
                          seconds, "files", (json_int_t)s->files, "bytes", (json_int_t)s->bytes,
                          "bytes_read", (json_int_t)s->bytes_read, "files_unchanged",
                          (json_int_t)s->files_cached, "bytes_new", (json_int_t)s->bytes_new,
                          "stored_new", (json_int_t)s->stored_new, "files_cache_problem",
                          s->cache_problem, "errors", errors);
    /* A host's paths: what crossed from it. */
    if (j && s->bytes_from_source &&
        json_object_set_new(j, "bytes_from_source",
                            json_integer((json_int_t)s->bytes_from_source))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The options for data set `d` of the policy. */
void cli_dataset_opts(cli *c, const pol_dataset *d, bkp_capture_opts *o)
{
    *o = (bkp_capture_opts){.dataset = d->name,
                            .paths = (const char *const *)d->paths,
                            .npaths = d->npaths,
                            .exclude = (const char *const *)d->exclude,
                            .nexclude = d->nexclude,
                            .one_fs = c->one_fs || d->one_file_system,
                            .read_special = d->read_special,
                            .compression = d->compression,
                            .workers = c->workers,
                            .no_cache = c->no_cache};
}

int cmd_backup(cli *c)
{
    bkp_capture_opts o = {.workers = c->workers,
                          .one_fs = c->one_fs,
                          .no_cache = c->no_cache,
                          .paths = (const char *const *)c->args,
                          .npaths = (size_t)c->nargs,
                          .dataset = c->dataset};
    const pol_dataset *pd = NULL;
    if (!c->dataset) {
        /* `bkp backup NAME`: the data set as the policy describes it. */
        pol_policy *p = c->nargs == 1 ? cli_policy(c) : NULL;
        const pol_dataset *d = p ? pol_dataset_find(p, c->args[0]) : NULL;
        if (!d) {
            if (p)
                bkp_error(_("%s names no data set '%s'; `bkp policy check` lists them"), p->file,
                          c->args[0]);
            else
                bkp_error(_("name the data set: bkp backup NAME (with a policy), or bkp backup "
                            "--dataset NAME PATH..."));
            return EXIT_USAGE;
        }
        if (d->before.command)
            bkp_warn(_("%s has a before hook, which `bkp backup` does not run: run `%s` first, or "
                       "use `bkp run --dataset %s --force`"),
                     d->name, d->before.command, d->name);
        cli_dataset_opts(c, d, &o);
        pd = d;
    }
    if (c->compression && bkp_comp_parse(c->compression, &o.compression)) {
        bkp_error(_("--compression %s is not one bkp knows — write auto, lz4, zstd, zstd:LEVEL "
                    "(1 to 19) or none"),
                  c->compression);
        return EXIT_USAGE;
    }
    if (!bkp_dataset_name_ok(o.dataset)) {
        bkp_error(_("'%s' is not a valid data set name: use letters, digits, '.', '_' and '-' "
                    "(at most 64, not starting with '.' or '-')"),
                  o.dataset);
        return EXIT_USAGE;
    }
    /* Paths given into a data set the policy captures otherwise: its
     * generations would mix two kinds, and a restore of it would find a
     * tree where a stream's file belongs (or the reverse). */
    const pol_dataset *named = !pd && c->policy ? pol_dataset_find(c->policy, o.dataset) : NULL;
    if (named && (named->stream.command.command || named->host)) {
        bkp_error(_("%s:%d: %s is captured %s: paths cannot be added to it. Run `bkp backup %s`, "
                    "or give these paths another data set name"),
                  c->policy->file, named->line, named->name,
                  named->stream.command.command ? _("from its command's output")
                                                : _("from another server"),
                  named->name);
        return EXIT_USAGE;
    }
    cli_backup b;
    int ex = cli_backup_run(c, &o, pd, &b);
    if (b.gen && c->json) {
        cli_print_json(cli_backup_json(b.gen, &b.stats, b.seconds));
    } else if (b.gen && (c->tty || bkp_log_get_level() >= BKP_LOG_INFO)) {
        const bkp_capture_stats *s = &b.stats;
        char x[32], y[32], z[32], w[32];
        printf(_("sealed %s:%u (%.8s) in %.1f s\n"), b.gen->dataset, b.gen->seq, b.gen->uuid,
               b.seconds);
        /* The hard links too, which the progress line counted among the files. */
        if (s->links)
            printf(_("  %llu files and %llu more name(s) of them (hard links), %s; %llu unchanged "
                     "and not read; %s read\n"),
                   (unsigned long long)s->files, (unsigned long long)s->links,
                   bkp_size_text(x, sizeof(x), s->bytes), (unsigned long long)s->files_cached,
                   bkp_size_text(y, sizeof(y), s->bytes_read));
        else
            printf(_("  %llu files, %s; %llu unchanged and not read; %s read\n"),
                   (unsigned long long)s->files, bkp_size_text(x, sizeof(x), s->bytes),
                   (unsigned long long)s->files_cached, bkp_size_text(y, sizeof(y), s->bytes_read));
        printf(_("  new data: %s (stored as %s)\n"), bkp_size_text(z, sizeof(z), s->bytes_new),
               bkp_size_text(w, sizeof(w), s->stored_new));
        if (pd && pd->host && !pd->stream.command.command)
            printf(_("  from %s: %s crossed (metadata, and the files that changed)\n"), pd->host,
                   bkp_size_text(x, sizeof(x), s->bytes_from_source));
    }
    cli_backup_clear(&b);
    return ex;
}
