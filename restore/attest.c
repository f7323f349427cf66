/* attest.c — who attests a runbook's confirm steps (attest.h). */
#include "restore/attest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/bytes.h"

static bool role_is(const rb_attest *a, size_t i, const char *role)
{
    return strlen(role) == a->by[i].rlen && !memcmp(a->by[i].role, role, a->by[i].rlen);
}

int rb_attest_add(rb_attest *a, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *name = eq ? eq + 1 : arg;
    if (!*name || eq == arg) {
        bkp_error(_("--attest %s: give the name of who attests (--attest NAME), or a role and "
                    "a name (--attest ROLE=NAME)"),
                  arg);
        return -EINVAL;
    }
    if (!eq) {
        if (a->all) {
            bkp_error(_("--attest %s: a name without a role was given already (%s): give each "
                        "other person with the role they attest, --attest ROLE=NAME"),
                      arg, a->all);
            return -EINVAL;
        }
        a->all = arg;
        return 0;
    }
    for (size_t i = 0; i < a->n; i++)
        if (a->by[i].rlen == (size_t)(eq - arg) && !memcmp(a->by[i].role, arg, a->by[i].rlen)) {
            bkp_error(_("--attest %s: that role was named already (%s): one person attests a "
                        "role"),
                      arg, a->by[i].name);
            return -EINVAL;
        }
    if (a->n == RB_ATTEST_MAX) {
        bkp_error(_("--attest: at most %d roles"), RB_ATTEST_MAX);
        return -EINVAL;
    }
    a->by[a->n].role = arg;
    a->by[a->n].rlen = (size_t)(eq - arg);
    a->by[a->n++].name = name;
    return 0;
}

bool rb_attest_given(const rb_attest *a)
{
    return a && (a->all || a->n);
}

const char *rb_attest_who(const rb_attest *a, const char *role)
{
    if (!a)
        return NULL;
    for (size_t i = 0; role && i < a->n; i++)
        if (role_is(a, i, role))
            return a->by[i].name;
    return a->all;
}

/* Does `rb` give a confirm step to `role` (its first `len` bytes)? */
static bool confirms(const rb_runbook *rb, const char *role, size_t len)
{
    for (size_t s = 0; s < rb->nsteps; s++)
        if (rb->steps[s].action == RB_CONFIRM && rb->steps[s].who &&
            strlen(rb->steps[s].who) == len && !memcmp(rb->steps[s].who, role, len))
            return true;
    return false;
}

int rb_attest_check(const rb_attest *a, const rb_runbook *rb)
{
    for (size_t i = 0; a && i < a->n; i++) {
        if (confirms(rb, a->by[i].role, a->by[i].rlen))
            continue;
        char roles[512] = "";
        for (size_t s = 0; s < rb->nsteps; s++) {
            const char *who = rb->steps[s].who;
            if (rb->steps[s].action != RB_CONFIRM || !who || strstr(roles, who))
                continue;
            bkp_strappend(roles, sizeof(roles), "%s%s", roles[0] ? ", " : "", who);
        }
        if (roles[0])
            bkp_error(_("--attest %.*s=%s: runbook %s gives no step to confirm to %.*s; its "
                        "roles that confirm are: %s"),
                      (int)a->by[i].rlen, a->by[i].role, a->by[i].name, rb->name,
                      (int)a->by[i].rlen, a->by[i].role, roles);
        else
            bkp_error(_("--attest %.*s=%s: runbook %s has no step to confirm"), (int)a->by[i].rlen,
                      a->by[i].role, a->by[i].name, rb->name);
        return -EINVAL;
    }
    return 0;
}

/* Is `s` in the first `n` of `v`? */
static bool among(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

char *rb_attest_text(const rb_attest *a, const rb_runbook *rb, bool *nomem)
{
    /* Each role that confirms, once, in the order of the steps, with who
     * attested it. */
    const char *who[RB_ATTEST_MAX + 8], *role[RB_ATTEST_MAX + 8];
    size_t n = 0;
    char out[1024] = "";
    for (size_t s = 0; s < rb->nsteps && n < sizeof(who) / sizeof(*who); s++) {
        const rb_step *st = &rb->steps[s];
        const char *w = st->action == RB_CONFIRM ? rb_attest_who(a, st->who) : NULL;
        if (w && !among(role, n, st->who ? st->who : "")) {
            who[n] = w;
            role[n++] = st->who ? st->who : "";
        }
    }
    if (!n && a && a->all) /* no confirm: who attended, all the same */
        who[n++] = a->all;
    if (!n)
        return NULL;
    bool one = true;
    for (size_t i = 1; i < n; i++)
        one = one && !strcmp(who[i], who[0]);
    if (one)
        snprintf(out, sizeof(out), "%s", who[0]);
    /* Else each person once, with the roles they attested. */
    for (size_t i = 0; !one && i < n; i++) {
        if (among(who, i, who[i]))
            continue;
        bkp_strappend(out, sizeof(out), "%s%s (", out[0] ? ", " : "", who[i]);
        for (size_t j = i, k = 0; j < n; j++)
            if (!strcmp(who[j], who[i]))
                bkp_strappend(out, sizeof(out), "%s%s", k++ ? ", " : "", role[j]);
        bkp_strappend(out, sizeof(out), ")");
    }
    char *t = strdup(out);
    if (!t && nomem)
        *nomem = true;
    return t;
}
