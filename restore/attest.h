/*
 * attest.h — who attests a runbook's confirm steps when they are not asked
 * on a terminal (`--attest`).
 *
 * A drill is the inspector's evidence of who did what. A runbook gives each
 * step to a role (`who: システム担当`, `who: 院長`); the person who stood in
 * for each role is named once per role, `--attest 院長=佐藤`, and a name
 * without a role (`--attest 山田`) attests the steps of every role not
 * named. A role the runbook does not give a confirm step to is refused, so
 * a mistyped role never leaves its steps unattested unnoticed.
 */
#ifndef RST_ATTEST_H
#define RST_ATTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "restore/runbook.h"

#define RB_ATTEST_MAX 16       /* roles named, at most */
#define RB_ATTEST_NAME_MAX 200 /* bytes of a name */

typedef struct rb_attest {
    const char *all; /* the name without a role; NULL: none */
    struct {
        const char *role; /* borrowed: the argument, the role its first `rlen` bytes */
        size_t rlen;
        const char *name; /* after the '=' */
    } by[RB_ATTEST_MAX];
    size_t n;
} rb_attest;

/* Add one `--attest` value, "NAME" or "ROLE=NAME" (borrowed: it must
 * outlive `a`; the role ends at the first '=', which no runbook's role
 * holds). 0, or -EINVAL (said) for an empty or blank name or role, a name
 * longer than RB_ATTEST_NAME_MAX or not printable UTF-8, a role or a name
 * without a role given twice, or more than RB_ATTEST_MAX roles. */
int rb_attest_add(rb_attest *a, const char *arg);

/* Whether anyone is named. */
bool rb_attest_given(const rb_attest *a);

/* Who attests the steps of `role`: its own name, else the name without a
 * role, else NULL. `a` may be NULL (nobody). */
const char *rb_attest_who(const rb_attest *a, const char *role);

/* Whether someone is named for the role of every confirm step of `rb`. */
bool rb_attest_complete(const rb_attest *a, const rb_runbook *rb);

/* Every role named is one of `rb`'s confirm steps, and with `every` (a
 * restore, which a confirm nobody attests would stop halfway) every
 * confirm step's role has someone when anyone is named: 0, else -EINVAL,
 * said with the roles it has or lacks. */
int rb_attest_check(const rb_attest *a, const rb_runbook *rb, bool every);

/* Who attested `rb`'s confirm steps, for the report, the audit record and
 * the status page: the name alone when one person attested every one
 * ("山田"), else each person with the roles they stood in for, in the order
 * of the steps ("山田 (システム担当), 佐藤 (院長)"); in a runbook without
 * a confirm step, the name without a role (who attended). malloc'd; NULL
 * when nobody is named, or without memory (`*nomem` set, may be NULL). */
char *rb_attest_text(const rb_attest *a, const rb_runbook *rb, bool *nomem);

#endif
