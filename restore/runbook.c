/* Loading and validating a runbook (docs/operator-guide.md, chapter 6), as strictly as the policy:
 * a procedure that is wrong must be found when it is written or rehearsed,
 * not on the day it is needed. The YAML reading is policies/yaml_doc.c. */
#include "restore/runbook.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bkp/io/bytes.h"
#include "bkp/host/cmdenv.h"
#include "policies/policy.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/label.h"
#include "policies/yaml_doc.h"

#define RB_DEFAULT_TIMEOUT 3600

/* In the order of rb_action. */
static const char *const actions[] = {"confirm", "select", "verify", "restore",
                                      "run",     "check",  "note",   NULL};

const char *rb_action_name(rb_action a)
{
    if ((unsigned)a >= sizeof(actions) / sizeof(*actions) - 1)
        abort();
    return actions[a];
}

const char *rb_action_word(rb_action a)
{
    static const char *const words[] = {N_("confirm"), N_("select"), N_("verify"), N_("restore"),
                                        N_("run"),     N_("check"),  N_("note")};
    (void)rb_action_name(a); /* aborts on a value out of range */
    return _(words[a]);
}

void rb_runbook_stem(const char *runbook, char *stem, size_t n)
{
    const char *base = strrchr(runbook, '/');
    snprintf(stem, n, "%s", base ? base + 1 : runbook);
    size_t sl = strlen(stem);
    if (sl > 5 && !strcmp(stem + sl - 5, ".yaml"))
        stem[sl - 5] = '\0';
}

typedef struct loader {
    rb_runbook *rb;
    int *ref_line; /* per step: the line of the data set its select/restore names */
    bool seen_title, seen_datasets, seen_steps;
} loader;

typedef struct step_state {
    loader *l;
    rb_step *s;
    size_t number;          /* 1-based, as people count steps */
    const char *action;     /* the action key, NULL: none yet */
    pol_yaml_node *timeout; /* where timeout was given */
    pol_yaml_node *run_as;  /* where run_as was given */
    pol_yaml_node *env;     /* where env was given */
    bool seen_who;
} step_state;

/* ---- dates ---- */

static bool digits_match(const char *s, const char *pattern)
{
    for (; *pattern; s++, pattern++)
        if (*pattern == 'D' ? !isdigit((unsigned char)*s) : *s != *pattern)
            return false;
    return *s == '\0';
}

static int num(const char *s, int n)
{
    int v = 0;
    while (n--)
        v = v * 10 + (*s++ - '0');
    return v;
}

/*
 * "YYYY-MM-DDTHH:MM:SSZ" (UTC), or "YYYY-MM-DD": the start of that day in
 * local time — schedules are local, and a person who writes "before the 10th"
 * means the 10th on the wall calendar. Nothing is normalised: the 31st of
 * April is refused rather than read as the 1st of May.
 */
static int parse_before(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool full = digits_match(s, "DDDD-DD-DDTDD:DD:DDZ");
    if (!full && !digits_match(s, "DDDD-DD-DD"))
        return -EINVAL;
    struct tm tm = {.tm_year = num(s, 4) - 1900,
                    .tm_mon = num(s + 5, 2) - 1,
                    .tm_mday = num(s + 8, 2),
                    .tm_isdst = -1};
    int y = tm.tm_year + 1900;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > mdays[tm.tm_mon] || (tm.tm_mon == 1 && tm.tm_mday == 29 && !leap))
        return -EINVAL;
    time_t t;
    if (full) {
        tm.tm_hour = num(s + 11, 2), tm.tm_min = num(s + 14, 2), tm.tm_sec = num(s + 17, 2);
        if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
            return -EINVAL;
        t = timegm(&tm);
    } else {
        t = mktime(&tm);
    }
    if (t <= 0) /* 0 means "no limit" in rb_select */
        return -EINVAL;
    *out = (int64_t)t;
    return 0;
}

/* ---- the parts of a step ---- */

/* The value of an action that takes options must be a mapping; say how. */
static bool options(pol_yaml_ctx *c, pol_yaml_node *v, const char *key, const char *example)
{
    if (v->type == YAML_MAPPING_NODE)
        return true;
    pol_yaml_error(c, v, _("'%s' is %s here — write %s"), key, pol_yaml_kind(v), example);
    return false;
}

static void select_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    step_state *st = t;
    rb_select *sel = &st->s->select;
    if (!strcmp(key, "dataset")) {
        sel->dataset = pol_yaml_str(c, v, key);
        st->l->ref_line[st->number - 1] = pol_yaml_line(v);
        return;
    }
    const char *s = pol_yaml_scalar(c, v, key);
    if (!s)
        return;
    if (!strcmp(key, "newest")) {
        if (!strcmp(s, "verified") || !strcmp(s, "any"))
            sel->verified = !strcmp(s, "verified");
        else
            pol_yaml_error(c, v,
                           _("'newest: %s' — write 'newest: verified' (the newest generation that "
                             "passed verification) or 'newest: any'"),
                           s);
    } else if (!strcmp(key, "not")) {
        if (strcmp(s, "suspicious"))
            pol_yaml_error(c, v,
                           _("'not: %s' — write 'not: suspicious' (generations the change-rate "
                             "guard flagged are passed over)"),
                           s);
    } else if (!strcmp(key, "before")) {
        if (parse_before(s, &sel->before))
            pol_yaml_error(c, v,
                           _("'before: %s' is not a date — write 'before: 2025-01-31' (local "
                             "midnight) or 'before: 2025-01-31T09:00:00Z' (UTC)"),
                           s);
    } else if (!strcmp(key, "fallback")) {
        if (!strcmp(s, "older") || !strcmp(s, "none"))
            sel->fallback = !strcmp(s, "older");
        else
            pol_yaml_error(c, v,
                           _("'fallback: %s' — write 'fallback: older' (a generation that fails "
                             "verification gives way to the next older clean one) or "
                             "'fallback: none'"),
                           s);
    }
}

static void restore_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    step_state *st = t;
    rb_restore *r = &st->s->restore;
    if (!strcmp(key, "dataset")) {
        r->dataset = pol_yaml_str(c, v, key);
        st->l->ref_line[st->number - 1] = pol_yaml_line(v);
    } else if (!strcmp(key, "path")) {
        r->path = pol_yaml_str(c, v, key);
    } else if ((r->to = pol_yaml_str(c, v, key)) && r->to[0] != '/') {
        /* A relative folder would depend on where bkp happens to be started. */
        pol_yaml_error(c, v,
                       _("'to: %s' is not absolute — write the full folder path from /, e.g. "
                         "'to: /var/restore/emr'"),
                       r->to);
    } else if (r->to && (strstr(r->to, "/../") || strstr(r->to, "/./") ||
                         !strcmp(r->to + strlen(r->to) - (strlen(r->to) >= 3 ? 3 : 0), "/..") ||
                         !strcmp(r->to + strlen(r->to) - (strlen(r->to) >= 2 ? 2 : 0), "/."))) {
        /* A drill re-roots `to` under its sandbox: nothing may lead out of it. */
        pol_yaml_error(c, v,
                       _("'to: %s' has '.' or '..' in it — write the folder plainly, e.g. "
                         "'to: /var/restore/emr'"),
                       r->to);
    }
}

static void verify_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    step_state *st = t;
    char *m = pol_yaml_str(c, v, key);
    if (m && !bkp_medium_name_ok(m))
        pol_yaml_error(c, v, _("medium name '%s' — use letters, digits, '.', '_' and '-'"), m);
    st->s->medium = m;
}

static void action_value(pol_yaml_ctx *c, step_state *st, rb_action a, pol_yaml_node *v)
{
    static const char *const skeys[] = {"dataset", "newest", "not", "before", "fallback", NULL};
    static const char *const rkeys[] = {"dataset", "path", "to", NULL};
    static const char *const vkeys[] = {"medium", NULL};
    const char *key = actions[a];
    switch (a) {
    case RB_SELECT:
        if (options(c, v, key, "'select: { dataset: emr-db, newest: verified, not: suspicious }'"))
            pol_yaml_mapping(c, v, "select", skeys, select_pair, st);
        break;
    case RB_VERIFY:
        if (options(c, v, key, "'verify: {}' or 'verify: { medium: usb-a }'"))
            pol_yaml_mapping(c, v, "verify", vkeys, verify_pair, st);
        break;
    case RB_RESTORE:
        if (!options(c, v, key, "'restore: { dataset: emr-db, to: /var/restore/emr }'"))
            break;
        pol_yaml_mapping(c, v, "restore", rkeys, restore_pair, st);
        if (!st->s->restore.to)
            pol_yaml_error(c, v,
                           _("the restore of step %zu has no 'to' — add the folder to restore "
                             "into, e.g. 'to: /var/restore/emr'"),
                           st->number);
        break;
    default: /* confirm, run, check, note: a text */
        st->s->text = pol_yaml_str(c, v, key);
    }
}

/* run_as: a plain user name (whether it exists is checked when the
 * runbook is about to run: rb_check_users). */
static char *user_name(pol_yaml_ctx *c, pol_yaml_node *v)
{
    char *u = pol_yaml_str(c, v, "run_as");
    if (u && !bkp_cmd_user_name_ok(u)) {
        pol_yaml_error(c, v,
                       _("'run_as: %s' is not a user name — write the name of an unprivileged "
                         "user, e.g. 'run_as: bkp-drill'"),
                       u);
        free(u);
        u = NULL;
    }
    return u;
}

/* env: ["NAME=value", ...], as a hook's in the policy. */
static void step_env(pol_yaml_ctx *c, pol_yaml_node *v, rb_step *s)
{
    pol_yaml_str_list(c, v, "env", &s->env, &s->nenv);
    for (size_t i = 0; i < s->nenv; i++) {
        const char *e = s->env[i];
        if (!pol_env_entry_ok(e))
            pol_yaml_error(c, v,
                           _("env entry '%s' is not NAME=value — write e.g. 'PGHOST=/run/pg'"), e);
        else if (!strncmp(e, "BKP_", 4))
            pol_yaml_error(c, v,
                           _("env entry '%s': BKP_ names are bkp's own (BKP_TARGET, BKP_SANDBOX, "
                             "...), and a command never gets a passphrase source — remove it"),
                           e);
    }
}

static void step_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    step_state *st = t;
    rb_step *s = st->s;
    if (!strcmp(key, "who")) {
        const char *w = pol_yaml_scalar(c, v, key);
        st->seen_who = true;
        if (w && !w[strspn(w, " \t")])
            pol_yaml_error(c, v,
                           _("'who' is empty — write the role that does this step, e.g. "
                             "'who: \"システム担当\"'"));
        else if (w && strchr(w, '='))
            pol_yaml_error(c, v,
                           _("'who' holds '=' — write the role without it: '--attest ROLE=NAME' "
                             "names who attests a role"));
        else if (w)
            s->who = strdup(w);
        return;
    }
    if (!strcmp(key, "what")) {
        s->what = pol_yaml_str(c, v, key);
        return;
    }
    if (!strcmp(key, "timeout")) {
        st->timeout = v;
        pol_yaml_duration(c, v, key, &s->timeout);
        return;
    }
    if (!strcmp(key, "run_as")) {
        st->run_as = v;
        s->run_as = user_name(c, v);
        return;
    }
    if (!strcmp(key, "env")) {
        st->env = v;
        step_env(c, v, s);
        return;
    }
    rb_action a = 0;
    while (strcmp(actions[a], key))
        a++;
    if (st->action) {
        pol_yaml_error(c, v, _("step %zu has two actions, '%s' and '%s' — give each its own step"),
                       st->number, st->action, key);
        return;
    }
    st->action = actions[a];
    s->action = a;
    action_value(c, st, a, v);
}

static void step(pol_yaml_ctx *c, loader *l, pol_yaml_node *n)
{
    static const char *const keys[] = {"who",     "what",   "timeout", "run_as",  "env",
                                       "confirm", "select", "verify",  "restore", "run",
                                       "check",   "note",   NULL};
    rb_step *s = &l->rb->steps[l->rb->nsteps++];
    step_state st = {.l = l, .s = s, .number = l->rb->nsteps};
    char what[32];
    s->line = pol_yaml_line(n);
    s->select = (rb_select){.verified = true, .not_suspicious = true, .fallback = true};
    snprintf(what, sizeof(what), _("step %zu"), st.number);
    pol_yaml_mapping(c, n, what, keys, step_pair, &st);
    if (n->type != YAML_MAPPING_NODE)
        return;
    if (!st.seen_who)
        pol_yaml_error(c, n,
                       _("step %zu has no who — add the role that does it, e.g. "
                         "'who: \"システム担当\"'"),
                       st.number);
    if (!st.action)
        pol_yaml_error(c, n,
                       _("step %zu has no action — give it one of confirm, select, verify, "
                         "restore, run, check or note"),
                       st.number);
    bool command = st.action && (s->action == RB_RUN || s->action == RB_CHECK);
    if (st.timeout && st.action && !command)
        pol_yaml_error(c, st.timeout,
                       _("'timeout' applies only to run and check steps — remove it from step %zu"),
                       st.number);
    else if (command && !st.timeout)
        s->timeout = RB_DEFAULT_TIMEOUT;
    if (st.run_as && st.action && !command)
        pol_yaml_error(c, st.run_as,
                       _("'run_as' applies only to run and check steps — remove it from step %zu"),
                       st.number);
    if (st.env && st.action && !command)
        pol_yaml_error(c, st.env,
                       _("'env' applies only to run and check steps — remove it from step %zu"),
                       st.number);
}

/* ---- the runbook ---- */

static void datasets(pol_yaml_ctx *c, pol_yaml_node *v, rb_runbook *rb)
{
    pol_yaml_str_list(c, v, "datasets", &rb->datasets, &rb->ndatasets);
    if (v->type == YAML_SEQUENCE_NODE && !pol_yaml_len(v))
        pol_yaml_error(c, v,
                       _("'datasets' is empty — name the data sets this runbook restores, "
                         "e.g. 'datasets: [emr-db]'"));
    for (size_t i = 0; i < rb->ndatasets; i++) {
        if (!bkp_dataset_name_ok(rb->datasets[i]))
            pol_yaml_error(c, v,
                           _("data set name '%s' — use the name the policy gives it (letters, "
                             "digits, '.', '_' and '-')"),
                           rb->datasets[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(rb->datasets[i], rb->datasets[j]))
                pol_yaml_error(c, v, _("data set '%s' is listed twice in 'datasets' — keep one"),
                               rb->datasets[i]);
    }
}

static void steps(pol_yaml_ctx *c, pol_yaml_node *v, loader *l)
{
    if (!pol_yaml_list(
            c, v, "steps",
            _("a list of steps, each like '- { who: \"システム担当\", confirm: \"...\" }'")))
        return;
    size_t len = pol_yaml_len(v);
    if (!len) {
        pol_yaml_error(c, v, _("'steps' is empty — add the steps of the procedure, in order"));
        return;
    }
    l->rb->steps = calloc(len, sizeof(*l->rb->steps));
    l->ref_line = calloc(len, sizeof(*l->ref_line));
    if (!l->rb->steps || !l->ref_line) { /* never a runbook with its steps missing */
        pol_yaml_error(c, v, _("out of memory reading %zu steps"), len);
        return;
    }
    for (size_t i = 0; i < len; i++)
        step(c, l, pol_yaml_item(c, v, i));
}

static void top_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    loader *l = t;
    rb_runbook *rb = l->rb;
    if (!strcmp(key, "title")) {
        l->seen_title = true;
        rb->title = pol_yaml_str(c, v, key);
    } else if (!strcmp(key, "owner")) {
        rb->owner = pol_yaml_str(c, v, key);
    } else if (!strcmp(key, "rto")) {
        pol_yaml_duration(c, v, key, &rb->rto);
    } else if (!strcmp(key, "passphrase_note")) {
        rb->passphrase_note = pol_yaml_str(c, v, key);
    } else if (!strcmp(key, "run_as")) {
        rb->run_as = user_name(c, v);
        rb->run_as_line = pol_yaml_line(v);
    } else if (!strcmp(key, "datasets")) {
        l->seen_datasets = true;
        datasets(c, v, rb);
    } else {
        l->seen_steps = true;
        steps(c, v, l);
    }
}

/* Every data set a step names is one the runbook lists (checked once the
 * whole file is read: `datasets:` may come after `steps:`). */
static void cross_check(pol_yaml_ctx *c, loader *l)
{
    rb_runbook *rb = l->rb;
    char list[256] = "";
    for (size_t i = 0; i < rb->ndatasets; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", rb->datasets[i]);
    }
    for (size_t i = 0; rb->ndatasets && i < rb->nsteps; i++) {
        rb_step *s = &rb->steps[i];
        const char *name = s->action == RB_SELECT    ? s->select.dataset
                           : s->action == RB_RESTORE ? s->restore.dataset
                                                     : NULL;
        bool listed = !name;
        for (size_t j = 0; name && j < rb->ndatasets; j++)
            listed |= !strcmp(name, rb->datasets[j]);
        if (!listed) {
            bkp_error(_("%s:%d: step %zu names data set '%s', which is not in this runbook's "
                        "datasets [%s] — add it there or correct the name"),
                      c->file, l->ref_line[i], i + 1, name, list);
            c->errors++;
        }
    }
}

/* The last line of every refusal: nothing ran, and how to check again (a
 * name with a '/' is taken as a path by rb_find). */
static void refused(const char *file, int problems)
{
    bkp_error(_("%s: %d problem(s) in the runbook; nothing was run. Fix them and check with "
                "`bkp runbook show %s%s`"),
              file, problems, strchr(file, '/') ? "" : "./", file);
}

/* "policies/runbooks/emr-db.yaml" -> "emr-db" */
static char *stem(const char *file)
{
    const char *slash = strrchr(file, '/');
    char *s = strdup(slash ? slash + 1 : file);
    char *dot = s ? strrchr(s, '.') : NULL;
    if (dot && dot != s)
        *dot = '\0';
    return s;
}

static void validate(pol_yaml_ctx *c, loader *l)
{
    static const char *const keys[] = {"title",  "datasets",        "owner", "rto",
                                       "run_as", "passphrase_note", "steps", NULL};
    pol_yaml_node *root = pol_yaml_root(c);
    if (!root) {
        bkp_error(_("%s:1: the runbook is empty — start from policies/runbooks/emr-db.yaml"),
                  c->file);
        c->errors++;
        return;
    }
    pol_yaml_mapping(c, root, _("the runbook"), keys, top_pair, l);
    if (root->type != YAML_MAPPING_NODE)
        return;
    if (!l->seen_title)
        pol_yaml_error(c, root,
                       _("no title — add 'title: \"電子カルテDB 復旧手順\"' (what is restored)"));
    if (!l->seen_datasets)
        pol_yaml_error(
            c, root, _("no datasets — add 'datasets: [emr-db]' naming the data sets it restores"));
    if (!l->seen_steps)
        pol_yaml_error(c, root,
                       _("no steps — add a 'steps:' list, each step like "
                         "'- { who: \"システム担当\", confirm: \"...\" }'"));
    cross_check(c, l);
}

int rb_load(const char *file, rb_runbook **out)
{
    pol_yaml_ctx c;
    int rc = pol_yaml_load(&c, file);
    if (rc == -EINVAL) { /* a YAML syntax error, logged with its line */
        refused(file, 1);
        return rc;
    }
    if (rc) {
        bkp_error(_("cannot read the runbook %s: %s; check the 'runbook:' of the data set or drill "
                    "in the policy"),
                  file, bkp_strerror(rc));
        return rc;
    }
    rb_runbook *rb = calloc(1, sizeof(*rb));
    loader l = {.rb = rb};
    if (!rb || !(rb->file = strdup(file)) || !(rb->name = stem(file))) {
        pol_yaml_done(&c);
        rb_free(rb);
        return -ENOMEM;
    }
    validate(&c, &l);
    pol_yaml_done(&c);
    free(l.ref_line);
    if (c.errors) {
        refused(file, c.errors);
        rb_free(rb);
        return -EINVAL;
    }
    *out = rb;
    return 0;
}

void rb_free(rb_runbook *rb)
{
    if (!rb)
        return;
    for (size_t i = 0; i < rb->nsteps; i++) {
        rb_step *s = &rb->steps[i];
        free(s->who);
        free(s->what);
        free(s->text);
        free(s->select.dataset);
        free(s->restore.dataset);
        free(s->restore.path);
        free(s->restore.to);
        free(s->medium);
        free(s->run_as);
        bkp_strv_free(s->env, s->nenv);
    }
    free(rb->steps);
    bkp_strv_free(rb->datasets, rb->ndatasets);
    free(rb->name);
    free(rb->file);
    free(rb->title);
    free(rb->owner);
    free(rb->passphrase_note);
    free(rb->run_as);
    free(rb);
}

const char *rb_step_user(const rb_runbook *rb, const rb_step *s)
{
    return s->run_as ? s->run_as : rb->run_as;
}

int rb_check_users(const rb_runbook *rb)
{
    int rc = 0;
    for (size_t i = 0; i < rb->nsteps; i++) {
        const rb_step *s = &rb->steps[i];
        const char *u = rb_step_user(rb, s);
        bkp_cmd_user cu;
        bool seen = false; /* each user once */
        for (size_t k = 0; k < i && u && !seen; k++)
            seen = (rb->steps[k].action == RB_RUN || rb->steps[k].action == RB_CHECK) &&
                   rb_step_user(rb, &rb->steps[k]) && !strcmp(rb_step_user(rb, &rb->steps[k]), u);
        if ((s->action != RB_RUN && s->action != RB_CHECK) || !u || seen)
            continue;
        int x = bkp_cmd_user_lookup(u, &cu);
        if (!x) {
            bkp_cmd_user_clear(&cu);
            continue;
        }
        bkp_error(_("%s:%d: step %zu (and any later one) runs as '%s', %s — create the user (e.g. "
                    "`useradd --system --no-create-home %s`) or correct 'run_as'; nothing was run"),
                  rb->file, s->run_as ? s->line : rb->run_as_line, i + 1, u,
                  x == -ENOENT ? _("which does not exist on this host") : bkp_strerror(x), u);
        rc = -ENOENT;
    }
    return rc;
}

/* ---- finding a runbook by name ---- */

char *rb_find(const char *name, const char *policy_file, const char *hint)
{
    if (strchr(name, '/')) {
        if (!access(name, F_OK))
            return strdup(name);
        bkp_error(_("runbook %s: %s — check the path given as 'runbook:' in the policy"), name,
                  bkp_strerror(-errno));
        return NULL;
    }
    char *places[3], *found = NULL, tried[3 * 4200] = "";
    size_t n = 0;
    if (policy_file) {
        /* The policy's folder; "" for a policy in /, so that paths stay "/runbooks/...". */
        const char *slash = strrchr(policy_file, '/');
        int dl = slash ? (int)(slash - policy_file) : 1;
        const char *dir = slash ? policy_file : ".";
        if (asprintf(&places[n], "%.*s/runbooks/%s.yaml", dl, dir, name) >= 0)
            n++;
        if (asprintf(&places[n], "%.*s/../runbooks/%s.yaml", dl, dir, name) >= 0)
            n++;
    }
    if (asprintf(&places[n], "/etc/bkp/runbooks/%s.yaml", name) >= 0)
        n++;
    for (size_t i = 0; i < n && !found; i++) {
        bool again = false; /* a policy in /etc/bkp already looked in /etc/bkp/runbooks */
        for (size_t j = 0; j < i; j++)
            again |= !strcmp(places[i], places[j]);
        if (again)
            continue;
        if (!access(places[i], F_OK)) {
            found = places[i];
            places[i] = NULL;
        } else {
            size_t l = strlen(tried);
            snprintf(tried + l, sizeof(tried) - l, "%s%s", l ? ", " : "", places[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(places[i]);
    if (!found && hint)
        bkp_error(_("no runbook '%s' — looked for %s. %s"), name, tried, hint);
    else if (!found)
        bkp_error(_("no runbook '%s' — looked for %s; put %s.yaml in one of those places, or give "
                    "its path (with a '/') as 'runbook:' in the policy"),
                  name, tried, name);
    return found;
}

/* The data set a block (a select and what follows it) is about. */
static const char *block_dataset(const rb_runbook *rb, const rb_step *sel)
{
    return sel->select.dataset ? sel->select.dataset : rb->datasets[0];
}

bool rb_order_by_priority(rb_runbook *rb, int (*priority)(const char *dataset, void *ctx),
                          void *ctx)
{
    size_t first = 0, last = rb->nsteps, nb = 0;
    while (first < rb->nsteps && rb->steps[first].action != RB_SELECT)
        first++;
    while (last > first && rb->steps[last - 1].action == RB_NOTE)
        last--; /* closing notes stay at the end */
    if (first >= last)
        return false;
    size_t *start = calloc(rb->nsteps + 1, sizeof(*start));
    int *prio = calloc(rb->nsteps + 1, sizeof(*prio));
    size_t *order = calloc(rb->nsteps + 1, sizeof(*order));
    rb_step *steps = calloc(rb->nsteps + 1, sizeof(*steps));
    bool moved = false;
    if (!start || !prio || !order || !steps)
        goto out;
    for (size_t i = first; i < last; i++)
        if (rb->steps[i].action == RB_SELECT || i == first) {
            start[nb] = i;
            prio[nb] = priority(block_dataset(rb, &rb->steps[i]), ctx);
            order[nb] = nb;
            nb++;
        }
    start[nb] = last;
    /* A stable insertion sort: blocks of equal priority keep their order. */
    for (size_t i = 1; i < nb; i++)
        for (size_t j = i; j > 0 && prio[order[j - 1]] > prio[order[j]]; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
            moved = true;
        }
    if (moved) {
        size_t n = 0;
        for (size_t i = 0; i < first; i++)
            steps[n++] = rb->steps[i];
        for (size_t b = 0; b < nb; b++)
            for (size_t i = start[order[b]]; i < start[order[b] + 1]; i++)
                steps[n++] = rb->steps[i];
        for (size_t i = last; i < rb->nsteps; i++)
            steps[n++] = rb->steps[i];
        memcpy(rb->steps, steps, rb->nsteps * sizeof(*steps));
    }
out:
    free(start);
    free(prio);
    free(order);
    free(steps);
    return moved;
}
