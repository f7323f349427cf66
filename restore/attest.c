/* attest.c — who attests a runbook's confirm steps (attest.h). */
#include "restore/attest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"

static bool role_is(const rb_attest *a, size_t i, const char *role)
{
    return strlen(role) == a->by[i].rlen && !memcmp(a->by[i].role, role, a->by[i].rlen);
}

int rb_attest_add(rb_attest *a, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *name = eq ? eq + 1 : arg;
    if (!name[strspn(name, " \t")] || eq == arg) {
        bkp_error(_("--attest %s: give the name of who attests (--attest NAME), or a role and "
                    "a name (--attest ROLE=NAME)"),
                  arg);
        return -EINVAL;
    }
    /* A name goes into the report, the signed record and the page: a
     * person's name, in characters a terminal shows as they are. */
    if (strlen(name) > RB_ATTEST_NAME_MAX || !bkp_text_is_safe(name, BKP_TEXT_FIELD)) {
        bkp_error(_("--attest: give a name of at most %d bytes, in printable characters (UTF-8)"),
                  RB_ATTEST_NAME_MAX);
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

/* The roles of `rb`'s confirm steps, each once, in the order of the steps,
 * parted by ", " into `out`; with `unnamed`, only those nobody in `a` is
 * named for. */
static void roles(const rb_attest *a, const rb_runbook *rb, bool unnamed, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t s = 0; s < rb->nsteps; s++) {
        const char *who = rb->steps[s].who;
        bool seen = false;
        if (rb->steps[s].action != RB_CONFIRM || !who || (unnamed && rb_attest_who(a, who)))
            continue;
        for (size_t e = 0; e < s && !seen; e++)
            seen = rb->steps[e].action == RB_CONFIRM && rb->steps[e].who &&
                   !strcmp(rb->steps[e].who, who);
        if (!seen)
            bkp_strappend(out, n, "%s%s", out[0] ? ", " : "", who);
    }
}

bool rb_attest_complete(const rb_attest *a, const rb_runbook *rb)
{
    for (size_t s = 0; s < rb->nsteps; s++)
        if (rb->steps[s].action == RB_CONFIRM && !rb_attest_who(a, rb->steps[s].who))
            return false;
    return true;
}

int rb_attest_check(const rb_attest *a, const rb_runbook *rb, bool every)
{
    char have[512];
    roles(a, rb, false, have, sizeof(have));
    for (size_t i = 0; a && i < a->n; i++) {
        bool found = false;
        for (size_t s = 0; s < rb->nsteps && !found; s++)
            found = rb->steps[s].action == RB_CONFIRM && rb->steps[s].who &&
                    role_is(a, i, rb->steps[s].who);
        if (found)
            continue;
        if (have[0])
            bkp_error(_("--attest %.*s=%s: runbook %s gives no step to confirm to %.*s; its "
                        "roles that confirm are: %s"),
                      (int)a->by[i].rlen, a->by[i].role, a->by[i].name, rb->name,
                      (int)a->by[i].rlen, a->by[i].role, have);
        else
            bkp_error(_("--attest %.*s=%s: runbook %s has no step to confirm"), (int)a->by[i].rlen,
                      a->by[i].role, a->by[i].name, rb->name);
        return -EINVAL;
    }
    if (every && rb_attest_given(a) && !rb_attest_complete(a, rb)) {
        /* A restore stopped halfway, live data already changed: refused
         * before its first step instead. */
        char left[512];
        roles(a, rb, true, left, sizeof(left));
        bkp_error(_("--attest: nobody is named for %s, whose steps runbook %s asks to confirm; "
                    "name each with --attest ROLE=NAME (or one name for all, --attest NAME)"),
                  left, rb->name);
        return -EINVAL;
    }
    return 0;
}

char *rb_attest_text(const rb_attest *a, const rb_runbook *rb, bool *nomem)
{
    /* Each role that confirms, once, in the order of the steps, with who
     * attested it; room for all of them (names are bounded, roles are the
     * runbook's). */
    const char **who = calloc(rb->nsteps + 1, sizeof(*who));
    const char **role = calloc(rb->nsteps + 1, sizeof(*role));
    size_t n = 0, room = 1;
    char *out = NULL;
    for (size_t s = 0; who && role && s < rb->nsteps; s++) {
        const rb_step *st = &rb->steps[s];
        const char *w = st->action == RB_CONFIRM ? rb_attest_who(a, st->who) : NULL;
        const char *r = st->who ? st->who : "";
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = !strcmp(role[i], r);
        if (w && !seen) {
            who[n] = w;
            role[n++] = r;
            room += strlen(w) + strlen(r) + 8;
        }
    }
    if (who && role && !n && a && a->all) { /* no confirm: who attended, all the same */
        who[n] = a->all;
        role[n++] = "";
        room += strlen(a->all);
    }
    if (!who || !role || !n) {
        if (nomem && (!who || !role))
            *nomem = true;
        free(who);
        free(role);
        return NULL;
    }
    /* The name alone when one person attested every confirm step. */
    bool one = rb_attest_complete(a, rb);
    for (size_t i = 1; i < n; i++)
        one = one && !strcmp(who[i], who[0]);
    if ((out = calloc(1, room)) && one)
        snprintf(out, room, "%s", who[0]);
    /* Else each person once, with the roles they attested. */
    for (size_t i = 0; out && !one && i < n; i++) {
        bool seen = false;
        for (size_t e = 0; e < i && !seen; e++)
            seen = !strcmp(who[e], who[i]);
        if (seen)
            continue;
        bkp_strappend(out, room, "%s%s (", out[0] ? ", " : "", who[i]);
        for (size_t j = i, k = 0; j < n; j++)
            if (!strcmp(who[j], who[i]))
                bkp_strappend(out, room, "%s%s", k++ ? ", " : "", role[j]);
        bkp_strappend(out, room, ")");
    }
    if (!out && nomem)
        *nomem = true;
    free(who);
    free(role);
    return out;
}
