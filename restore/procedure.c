/* procedure.c — the restore engine running a runbook (procedure.h). */
#include "restore/procedure.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/host/hook.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"
#include "bkp/store/tree.h"
#include "restore/beneath.h"
#include "restore/restore.h"

const char *rb_status_name(rb_status s)
{
    switch (s) {
    case RB_DONE:
        return "done";
    case RB_NOT_REHEARSED:
        return "not rehearsed";
    case RB_FAILED:
        return "failed";
    default:
        return "not reached";
    }
}

/* A generation on a source, in the order select tries them. */
typedef struct cand {
    size_t src;
    const bkp_gen *g;
} cand;

typedef struct run {
    const rb_runbook *rb;
    const rb_env *env;
    rb_result *res;
    bkp_gen ***lists; /* per source: its generations (owned) */
    size_t *nlists;
    cand *cands; /* of the last select */
    size_t ncands, at;
    const rb_select *sel; /* the last select step, for a fallback */
    size_t verified;      /* the candidate select already read back, or SIZE_MAX */
    char target[4096];    /* the last restore's folder */
    char dataset[128];
    int box;         /* drill: the sandbox, held open; -1 otherwise */
    mode_t box_mode; /* of the folders made in it: 0755 when a command runs as another user */
} run;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One buffer of a step's detail, `at` bytes already in it: `fmt` in the
 * language `lang` ("en", "ja"; NULL the reader's) appended. */
static void __attribute__((format(printf, 5, 0)))
say_in(char *buf, size_t n, size_t at, const char *lang, const char *fmt, va_list ap)
{
    bkp_i18n_saved saved;
    if (at >= n)
        return;
    if (lang)
        bkp_i18n_begin(&saved, lang);
    vsnprintf(buf + at, n - at, gettext(fmt), ap);
    if (lang)
        bkp_i18n_end(&saved);
}

/* Append to a step's detail, in each of its languages: `fmt` is a literal
 * marked N_(), its arguments words that need no translation (names,
 * numbers, paths). A phrase that is there or not is its own say_more, never
 * a "%s" argument, so each language has whole sentences. */
static void __attribute__((format(printf, 2, 3))) say_more(rb_step_result *sr, const char *fmt, ...)
{
    struct {
        char *buf;
        size_t n;
        const char *lang;
    } out[] = {{sr->detail, sizeof(sr->detail), "en"},
               {sr->detail_ja, sizeof(sr->detail_ja), "ja"},
               {sr->shown, sizeof(sr->shown), NULL}};
    for (size_t i = 0; i < sizeof(out) / sizeof(*out); i++) {
        va_list ap;
        va_start(ap, fmt);
        say_in(out[i].buf, out[i].n, strlen(out[i].buf), out[i].lang, fmt, ap);
        va_end(ap);
    }
}

/* A step's detail, anew. */
#define say(sr, ...)                                                                               \
    do {                                                                                           \
        (sr)->detail[0] = (sr)->detail_ja[0] = (sr)->shown[0] = '\0';                              \
        say_more((sr), __VA_ARGS__);                                                               \
    } while (0)

/* ---- confirm ---- */

static rb_status confirm(run *r, const rb_step *st, rb_step_result *sr)
{
    const rb_env *e = r->env;
    const char *who = rb_attest_who(e->attest, st->who);
    /* Asked on the terminal; in a drill of people named, of the one named
     * for the step's role (a role nobody was named for is not asked). */
    bool ask = e->interactive && (!e->drill || !rb_attest_given(e->attest) || who);
    FILE *tty = ask ? fopen("/dev/tty", "r+") : NULL;
    if (tty) {
        char line[64] = "";
        if (who)
            fprintf(tty, "\n[%s — %s] %s\n  %s [y/N] ", st->who, who, st->what ? st->what : "",
                    st->text);
        else
            fprintf(tty, "\n[%s] %s\n  %s [y/N] ", st->who, st->what ? st->what : "", st->text);
        fflush(tty);
        if (!fgets(line, sizeof(line), tty))
            line[0] = '\0';
        fclose(tty);
        if (line[0] == 'y' || line[0] == 'Y') {
            if (who)
                say(sr, N_("confirmed on the terminal by %s"), who);
            else
                say(sr, N_("confirmed on the terminal"));
            if (e->drill)
                say_more(sr, N_(" (rehearsed)"));
            return RB_DONE;
        }
        say(sr, N_("not confirmed: the procedure stops until this is done"));
        return RB_FAILED;
    }
    if (who && !e->drill) { /* a restore: attested beforehand by the person named */
        say(sr, N_("attested by %s"), who);
        return RB_DONE;
    }
    if (who) { /* a drill: the step is asked of them, and no terminal was there */
        say(sr, N_("%s was named, but no terminal asked them: not rehearsed"), who);
        return RB_NOT_REHEARSED;
    }
    if (rb_attest_given(e->attest)) {
        /* Others were named, not this step's role. */
        say(sr, N_("nobody was named for %s: name who attests with --attest %s=NAME"), st->who,
            st->who);
        if (e->drill)
            return RB_NOT_REHEARSED;
        return RB_FAILED;
    }
    if (e->drill) {
        say(sr, N_("unattended drill: not rehearsed by a person"));
        return RB_NOT_REHEARSED;
    }
    say(sr, N_("needs a person: run on a terminal, or name who attests with --attest NAME"));
    return RB_FAILED;
}

/* ---- select ---- */

/* Are the tree and every chunk of `g` indexed on `repo`? */
static bool complete(const bkp_repo *repo, const bkp_gen *g)
{
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    bool ok = true;
    int x = 0;
    for (size_t t = 0; ok && t < g->ntree; t++)
        ok = bkp_repo_has(repo, g->tree + t * BKP_ID_LEN);
    bkp_item_init(&it);
    if (ok && bkp_tree_reader_new(repo, g->tree, g->ntree, &tr))
        ok = false;
    while (ok && (x = bkp_tree_reader_next(tr, &it)) > 0)
        for (uint32_t k = 0; ok && k < it.nchunks; k++)
            ok = bkp_repo_has(repo, it.chunks[k].id);
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    return ok && x == 0;
}

/* Read back and authenticate every blob of `g` on `repo`; the number that fail. */
static uint64_t read_all(const bkp_repo *repo, const bkp_gen *g, uint64_t *blobs)
{
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    bkp_buf buf;
    uint64_t bad = 0;
    int x = 0;
    *blobs = 0;
    bkp_buf_init(&buf);
    bkp_item_init(&it);
    for (size_t t = 0; t < g->ntree; t++, (*blobs)++)
        bad += bkp_repo_get(repo, BKP_BLOB_TREE, g->tree + t * BKP_ID_LEN, &buf) != 0;
    if (!bad && bkp_tree_reader_new(repo, g->tree, g->ntree, &tr))
        bad++;
    while (!bad && tr && (x = bkp_tree_reader_next(tr, &it)) > 0)
        for (uint32_t k = 0; k < it.nchunks; k++, (*blobs)++)
            bad += bkp_repo_get(repo, BKP_BLOB_DATA, it.chunks[k].id, &buf) != 0;
    bad += x < 0;
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    bkp_buf_free(&buf);
    return bad;
}

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->g->finished != y->g->finished)
        return x->g->finished < y->g->finished ? 1 : -1; /* newest first */
    if (x->g->seq != y->g->seq)
        return x->g->seq < y->g->seq ? 1 : -1;
    return (x->src > y->src) - (x->src < y->src);
}

static rb_status do_select(run *r, const rb_step *st, rb_step_result *sr)
{
    const rb_select *sel = &st->select;
    const char *ds = sel->dataset ? sel->dataset : r->rb->datasets[0];
    size_t cap = 0, skipped_suspicious = 0, skipped_incomplete = 0;
    free(r->cands);
    r->cands = NULL;
    r->ncands = r->at = 0;
    r->verified = SIZE_MAX;
    r->sel = sel;
    snprintf(r->dataset, sizeof(r->dataset), "%s", ds);
    for (size_t s = 0; s < r->env->nsources; s++) {
        bkp_gen_list_free(r->lists[s], r->nlists[s]);
        r->lists[s] = NULL;
        r->nlists[s] = 0;
        if (bkp_gen_list(r->env->sources[s].repo, ds, &r->lists[s], &r->nlists[s]))
            continue;
        for (size_t i = 0; i < r->nlists[s]; i++) {
            const bkp_gen *g = r->lists[s][i];
            if (g->pruned || g->status || (sel->before && g->finished >= sel->before))
                continue;
            if (sel->not_suspicious && bkp_gen_marked(g) && !g->cleared) {
                skipped_suspicious++;
                continue;
            }
            if (!complete(r->env->sources[s].repo, g)) {
                skipped_incomplete++;
                continue;
            }
            if (r->ncands == cap) {
                cand *n = realloc(r->cands, (cap = cap ? 2 * cap : 16) * sizeof(*n));
                if (!n)
                    return RB_FAILED;
                r->cands = n;
            }
            r->cands[r->ncands++] = (cand){s, g};
        }
    }
    if (!r->ncands) {
        say(sr,
            N_("no usable generation of %s on any source (%zu suspicious, %zu incomplete "
               "skipped)"),
            ds, skipped_suspicious, skipped_incomplete);
        return RB_FAILED;
    }
    qsort(r->cands, r->ncands, sizeof(*r->cands), cmp_cand);
    /* newest: verified — with fallback, the newest candidate whose every blob
     * reads back; without, the newest, which the verify step must prove. */
    while (sel->verified && sel->fallback && r->at < r->ncands) {
        const cand *v = &r->cands[r->at];
        uint64_t blobs;
        if (!read_all(r->env->sources[v->src].repo, v->g, &blobs)) {
            r->verified = r->at;
            break;
        }
        char gn[96];
        bkp_warn(_("%s on %s does not verify: passed over"), bkp_gen_name(v->g, gn, sizeof(gn)),
                 r->env->sources[v->src].name);
        r->at++;
        r->res->fallbacks++;
    }
    if (r->at >= r->ncands) {
        say(sr, N_("no generation of %s verifies on any source"), ds);
        return RB_FAILED;
    }
    const cand *c = &r->cands[r->at];
    char name[96], fin[64];
    bkp_local_time(fin, sizeof(fin), c->g->finished, "-");
    say(sr, N_("%s from %s (captured %s)"), bkp_gen_name(c->g, name, sizeof(name)),
        r->env->sources[c->src].name, fin);
    if (skipped_suspicious)
        say_more(sr, N_("; newer suspicious generations skipped"));
    if (skipped_incomplete)
        say_more(sr, N_("; incomplete copies skipped"));
    return RB_DONE;
}

/* ---- verify ---- */

static rb_status do_verify(run *r, const rb_step *st, rb_step_result *sr)
{
    char name[96];
    if (st->medium && r->at < r->ncands) {
        /* verify: { medium: M } — the same generation, read from M. */
        const cand *cur = &r->cands[r->at];
        size_t k = 0;
        while (k < r->ncands && (strcmp(r->env->sources[r->cands[k].src].name, st->medium) ||
                                 strcmp(r->cands[k].g->uuid, cur->g->uuid)))
            k++;
        if (k == r->ncands) {
            say(sr, N_("%s is not on %s (or %s is not connected)"),
                bkp_gen_name(cur->g, name, sizeof(name)), st->medium, st->medium);
            return RB_FAILED;
        }
        if (k != r->at)
            r->verified = SIZE_MAX;
        r->at = k;
    }
    while (r->at < r->ncands) {
        const cand *c = &r->cands[r->at];
        uint64_t blobs = 0, bad = 0;
        if (r->verified != r->at)
            bad = read_all(r->env->sources[c->src].repo, c->g, &blobs);
        bkp_gen_name(c->g, name, sizeof(name));
        /* "repository" is no medium's name: the server's own, said so. */
        const char *src = r->env->sources[c->src].name;
        bool primary = !strcmp(src, "repository");
        if (!bad) {
            if (r->verified == r->at && primary)
                say(sr,
                    N_("%s on the server's repository: every blob read back and authenticated "
                       "when it was selected"),
                    name);
            else if (r->verified == r->at)
                say(sr, N_("%s on %s: every blob read back and authenticated when it was selected"),
                    name, src);
            else if (primary)
                say(sr,
                    N_("%s on the server's repository: %llu blob(s) read back and "
                       "authenticated"),
                    name, (unsigned long long)blobs);
            else
                say(sr, N_("%s on %s: %llu blob(s) read back and authenticated"), name, src,
                    (unsigned long long)blobs);
            if (r->res->fallbacks)
                say_more(sr, N_(" (after falling back)"));
            r->verified = r->at;
            return RB_DONE;
        }
        bkp_warn(_("%s on %s: %llu blob(s) damaged or missing"), name, r->env->sources[c->src].name,
                 (unsigned long long)bad);
        if (!r->sel || !r->sel->fallback) {
            say(sr, N_("%s on %s: %llu blob(s) damaged or missing; the runbook allows no fallback"),
                name, r->env->sources[c->src].name, (unsigned long long)bad);
            return RB_FAILED;
        }
        r->at++;
        r->res->fallbacks++;
    }
    say(sr, N_("no candidate generation verified"));
    return RB_FAILED;
}

/* ---- restore ---- */

/* Where a restore step writes: its `to`, or in a drill that folder made
 * beneath the sandbox and given as a descriptor (`*tfd`). -1 when refused
 * (said in `sr`). */
static int restore_target(run *r, const rb_restore *rs, rb_step_result *sr, int *tfd)
{
    if (r->env->drill) {
        /* Nothing a drill writes may lie outside its sandbox, whatever links
         * earlier steps restored on the way: the folder is looked up and
         * made beneath the sandbox's descriptor (beneath.h), and restored
         * into by that descriptor, never by its path again. */
        snprintf(r->target, sizeof(r->target), "%s/%s", r->env->sandbox,
                 rs->to + (rs->to[0] == '/'));
        int x = rst_beneath_mkdir(r->box, rs->to + strspn(rs->to, "/"), r->box_mode, tfd);
        if (x) {
            if (x == -EXDEV || x == -ELOOP)
                say(sr,
                    N_("%s is not inside the sandbox %s (a link on the way leads out of it): "
                       "refused, nothing made"),
                    r->target, r->env->sandbox);
            else
                say(sr, N_("%s is not inside the sandbox %s (%s): refused, nothing made"),
                    r->target, r->env->sandbox, bkp_strerror(x));
            return -1;
        }
    } else {
        snprintf(r->target, sizeof(r->target), "%s", rs->to);
    }
    return 0;
}

static rb_status do_restore(run *r, const rb_step *st, rb_step_result *sr)
{
    const rb_restore *rs = &st->restore;
    char name[96];
    if (r->at >= r->ncands) {
        say(sr, N_("no generation selected: a select step must come first"));
        return RB_FAILED;
    }
    const cand *c = &r->cands[r->at];
    if (rs->dataset && strcmp(rs->dataset, c->g->dataset)) {
        say(sr, N_("the selected generation is of %s, not %s"), c->g->dataset, rs->dataset);
        return RB_FAILED;
    }
    int tfd = -1;
    if (restore_target(r, rs, sr, &tfd))
        return RB_FAILED;
    const bkp_repo *repo = r->env->sources[c->src].repo;
    /* A data set of one folder is restored as that folder's contents in `to`. */
    const char *only = c->g->npaths == 1 ? c->g->paths[0] : NULL;
    while (only && *only == '/')
        only++;
    rst_opts o = {.target = r->target,
                  .target_is_fd = tfd >= 0,
                  .target_fd = tfd,
                  .path = rs->path,
                  .force = r->env->force,
                  .workers = r->env->workers,
                  .strip = rs->path || !only || !*only ? NULL : only};
    rst_result rr = {0};
    int rc = rst_restore(repo, c->g, &o, &rr);
    if (tfd >= 0)
        close(tfd);
    bkp_gen_name(c->g, name, sizeof(name));
    snprintf(r->res->generation, sizeof(r->res->generation), "%s", name);
    snprintf(r->res->source, sizeof(r->res->source), "%s", r->env->sources[c->src].name);
    r->res->files += rr.files;
    r->res->bytes += rr.bytes;
    /* Items after a damaged part of the list are lost too (one, when the
     * record does not say how many). */
    uint64_t lost = rr.damaged + rr.unread + (rr.list_damaged && !rr.unread);
    r->res->damaged += lost;
    if (rc < 0) {
        say(sr, N_("%s could not be restored into %s: %s"), name, r->target, bkp_strerror(rc));
        return RB_FAILED;
    }
    rst_compared cmp;
    int crc = rst_compare(repo, c->g, r->target, rs->path, o.strip, &cmp);
    uint64_t differ = cmp.differ + (cmp.missing > rr.damaged ? cmp.missing - rr.damaged : 0);
    if (crc < 0) {
        say(sr, N_("%s restored into %s, but it could not be read back and compared: %s"), name,
            r->target, bkp_strerror(crc));
        return RB_FAILED;
    }
    if (differ) {
        say(sr,
            N_("%s restored into %s, but %llu file(s) read back are missing or differ from the "
               "generation"),
            name, r->target, (unsigned long long)differ);
        return RB_FAILED;
    }
    rb_restored *done = &r->res->restored[r->res->nrestored++]; /* one per restore step */
    snprintf(done->dataset, sizeof(done->dataset), "%s", c->g->dataset);
    snprintf(done->generation, sizeof(done->generation), "%s", name);
    snprintf(done->source, sizeof(done->source), "%s", r->env->sources[c->src].name);
    done->damaged = lost;
    char size[32];
    say(sr, N_("%s from %s into %s: %llu file(s), %s, read back and compared"), name,
        r->env->sources[c->src].name, r->target, (unsigned long long)rr.files,
        bkp_size_text(size, sizeof(size), rr.bytes));
    if (rr.damaged)
        say_more(sr, N_("; damaged files were left out (listed above)"));
    if (rr.list_damaged)
        say_more(sr, N_("; the item list is damaged: what follows the damage is not restored"));
    if (rr.damaged)
        bkp_warn(_("%llu file(s) of %s could not be restored; the rest is in %s"),
                 (unsigned long long)rr.damaged, name, r->target);
    /* A real restore carries on with what it has; a drill proves the copy,
     * and a copy with damage fails it. */
    return (rr.damaged || rr.list_damaged) && r->env->drill ? RB_FAILED : RB_DONE;
}

/* ---- run and check ---- */

/* A command's environment: its own env, then the BKP_* variables (which
 * win); bkp_hook_exec adds the allowlist and drops passphrase sources. */
static rb_status command(run *r, const rb_step *st, rb_step_result *sr)
{
    enum { NVARS = 6 };
    char vars[NVARS][4200];
    char **envp = calloc(st->nenv + NVARS + 1, sizeof(*envp));
    size_t n = 0;
    const cand *c = r->at < r->ncands ? &r->cands[r->at] : NULL;
    char gen[96] = "";
    if (!envp) {
        say(sr, N_("could not start: out of memory"));
        return RB_FAILED;
    }
    if (c)
        bkp_gen_name(c->g, gen, sizeof(gen));
    for (size_t i = 0; i < st->nenv; i++)
        envp[n++] = st->env[i];
    snprintf(vars[0], sizeof(vars[0]), "BKP_TARGET=%s", r->target);
    snprintf(vars[1], sizeof(vars[0]), "BKP_DATASET=%s", r->dataset);
    snprintf(vars[2], sizeof(vars[0]), "BKP_GENERATION=%s", gen);
    snprintf(vars[3], sizeof(vars[0]), "BKP_RUNBOOK=%s", r->rb->name);
    snprintf(vars[4], sizeof(vars[0]), "BKP_SANDBOX=%s", r->env->drill ? r->env->sandbox : "");
    snprintf(vars[5], sizeof(vars[0]), "BKP_DRILL=%s", r->env->drill ? "1" : "0");
    for (size_t i = 0; i < NVARS; i++)
        envp[n++] = vars[i];
    bkp_hook_spec spec = {.command = st->text,
                          .env = envp,
                          .nenv = n,
                          .timeout = st->timeout,
                          .run_as = rb_step_user(r->rb, st),
                          .dir = r->env->drill ? r->env->sandbox : NULL,
                          .inherited = r->env->inherited,
                          .quiet = r->env->quiet};
    bkp_hook_result hr;
    int rc = bkp_hook_exec(&spec, &hr);
    free(envp);
    if (rc && spec.quiet && hr.tail[0]) /* its output, never in the report or the record */
        bkp_error(_("step %zu: what its command wrote last: %s"), (size_t)(st - r->rb->steps) + 1,
                  hr.tail);
    if (!rc) {
        say(sr, N_("exit 0 in %.1f s"), hr.seconds);
        return RB_DONE;
    }
    if (rc == -ETIMEDOUT)
        say(sr, N_("killed after %lld s (its timeout)"), (long long)st->timeout);
    else if (hr.signal)
        say(sr, N_("ended by signal %d"), hr.signal);
    else if (hr.exit_code >= 0)
        if (st->action == RB_CHECK)
            say(sr, N_("check failed with exit %d"), hr.exit_code);
        else
            say(sr, N_("failed with exit %d"), hr.exit_code);
    else if (spec.run_as && rc == -EACCES && spec.dir)
        say(sr,
            N_("could not start as %s: it cannot enter the sandbox %s — a folder above it is "
               "closed to that user; give --sandbox (or TMPDIR) a folder it can reach"),
            spec.run_as, spec.dir);
    else if (spec.run_as && (rc == -ENOENT || rc == -EPERM))
        if (rc == -ENOENT)
            say(sr, N_("could not start as %s: no such user (or the working folder is gone)"),
                spec.run_as);
        else
            say(sr,
                N_("could not start as %s: bkp cannot become that user (it is not run as root)"),
                spec.run_as);
    else
        say(sr, N_("could not start: %s"), bkp_strerror(rc));
    return RB_FAILED;
}

/* ---- the procedure ---- */

void rb_result_clear(rb_result *res)
{
    free(res->steps);
    free(res->restored);
    memset(res, 0, sizeof(*res));
}

/*
 * The sandbox, held open for the whole drill: every folder a restore makes
 * is looked up beneath this descriptor. When a command runs as another
 * user, that user must reach what is restored: the sandbox and the folders
 * made on the way to a `to` are then 0755 (root's, so it cannot swap them
 * for links); what is restored keeps its recorded owners and modes. Logged.
 */
static int open_sandbox(const rb_runbook *rb, const rb_env *env, mode_t *mode)
{
    bool other_user = false;
    for (size_t i = 0; i < rb->nsteps; i++)
        other_user |= (rb->steps[i].action == RB_RUN || rb->steps[i].action == RB_CHECK) &&
                      rb_step_user(rb, &rb->steps[i]);
    int rc = bkp_mkdir_p(env->sandbox, 0700);
    int fd = rc ? -1 : open(env->sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        bkp_error(_("cannot create the sandbox %s: %s"), env->sandbox,
                  bkp_strerror(rc ? rc : -errno));
        return -1;
    }
    *mode = other_user ? 0755 : 0700;
    if (other_user && fchmod(fd, 0755) < 0)
        bkp_warn(_("cannot open the sandbox %s to the commands' user: %s"), env->sandbox,
                 bkp_strerror(-errno));
    return fd;
}

int rb_execute(const rb_runbook *rb, const rb_env *env, rb_result *res)
{
    run r = {.rb = rb, .env = env, .res = res};
    memset(res, 0, sizeof(*res));
    res->steps = calloc(rb->nsteps + 1, sizeof(*res->steps));
    res->restored = calloc(rb->nsteps + 1, sizeof(*res->restored));
    r.lists = calloc(env->nsources + 1, sizeof(*r.lists));
    r.nlists = calloc(env->nsources + 1, sizeof(*r.nlists));
    if (!res->steps || !res->restored || !r.lists || !r.nlists) {
        free(r.lists);
        free(r.nlists);
        return -ENOMEM;
    }
    r.box = -1;
    r.box_mode = 0700;
    if (env->drill && (r.box = open_sandbox(rb, env, &r.box_mode)) < 0) {
        free(r.lists);
        free(r.nlists);
        return -EIO;
    }
    double t0 = now_s();
    res->ok = true;
    for (size_t i = 0; i < rb->nsteps; i++) {
        const rb_step *st = &rb->steps[i];
        rb_step_result *sr = &res->steps[i];
        if (!res->ok) {
            sr->status = RB_NOT_REACHED;
            continue;
        }
        double s0 = now_s();
        /* The action's word for people (rb_action_word); the record keeps
         * rb_action_name's. */
        const char *about = st->text ? st->text : st->what;
        if (about)
            bkp_info(_("step %zu/%zu [%s] %s: %s"), i + 1, rb->nsteps, st->who,
                     rb_action_word(st->action), about);
        else
            bkp_info(_("step %zu/%zu [%s] %s"), i + 1, rb->nsteps, st->who,
                     rb_action_word(st->action));
        switch (st->action) {
        case RB_CONFIRM:
            sr->status = confirm(&r, st, sr);
            break;
        case RB_SELECT:
            sr->status = do_select(&r, st, sr);
            break;
        case RB_VERIFY:
            sr->status = do_verify(&r, st, sr);
            break;
        case RB_RESTORE:
            sr->status = do_restore(&r, st, sr);
            break;
        case RB_RUN:
        case RB_CHECK:
            sr->status = command(&r, st, sr);
            break;
        case RB_NOTE:
            sr->status = RB_DONE;
            say(sr, "%s", st->text);
            break;
        }
        sr->seconds = now_s() - s0;
        if (sr->status == RB_FAILED) {
            res->ok = false;
            res->failed_step = i + 1;
            bkp_error(_("step %zu [%s] %s failed: %s"), i + 1, st->who, rb_action_word(st->action),
                      sr->shown);
        }
    }
    res->seconds = now_s() - t0;
    for (size_t s = 0; s < env->nsources; s++)
        bkp_gen_list_free(r.lists[s], r.nlists[s]);
    free(r.lists);
    free(r.nlists);
    free(r.cands);
    if (r.box >= 0)
        close(r.box);
    return res->ok ? 0 : 1;
}
