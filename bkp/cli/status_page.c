/*
 * status_page.c — what `bkp status --json` prints beyond the verdicts, and
 * the status page (restore/status_page.h) written from it: by `bkp status
 * --format html -o FILE`, and by `bkp run` when the policy names
 * `status_page:`. Gathering and writing only; the page is rendered by the
 * library.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "restore/status_page.h"

/* The coming rotations shown: four weeks ahead, at most this many turns
 * (the page prints on one sheet). */
#define CALENDAR_DAYS 28
#define CALENDAR_MAX 8

static json_t *iso(time_t t)
{
    char buf[32];
    bkp_iso_time(buf, sizeof(buf), t);
    return json_string(buf);
}

/* The calendar of the coming rotations (policies/compliance.h). */
static json_t *rotations(cli *c, pol_policy *p, time_t now)
{
    json_t *out = json_array();
    pol_medium_state *st = cli_media_states(c, p);
    time_t *due = calloc(p->nmedia + 1, sizeof(*due));
    pol_turn turns[CALENDAR_MAX];
    if (out && st && due) {
        pol_media_due(p, st, p->nmedia, due);
        size_t n = pol_rotation_calendar(st, due, p->nmedia, now, now + CALENDAR_DAYS * 86400,
                                         turns, CALENDAR_MAX);
        for (size_t i = 0; i < n; i++) {
            const pol_medium *m = turns[i].medium;
            json_array_append_new(out, json_pack("{s:s, s:s, s:b, s:b, s:o}", "medium", m->name,
                                                 "type", pol_medium_type_name(m->type), "offline",
                                                 m->offline, "offsite", m->offsite, "when",
                                                 iso(turns[i].when)));
        }
    }
    free(st);
    free(due);
    return out;
}

/* The audit log checked now, with the repository's public key: what was
 * checked and when, so that the page never says "intact" unverified. */
static json_t *audit_checked(cli *c, time_t now)
{
    char *log = bkp_audit_path(c->r);
    bkp_audit_check chk = {0};
    int rc = log ? bkp_audit_verify(log, bkp_repo_sign_pk(c->r), NULL, &chk) : -ENOMEM;
    free(log);
    if (rc < 0)
        snprintf(chk.problem, sizeof(chk.problem), "cannot be read: %s", bkp_strerror(rc));
    return json_pack("{s:o, s:I, s:b, s:b, s:s, s:I}", "checked", iso(now), "records",
                     (json_int_t)chk.records, "ok", rc == 0, "absent", chk.absent, "problem",
                     chk.problem, "restarts", (json_int_t)chk.restarts);
}

json_t *cli_status_doc(cli *c, json_t *all, int worst)
{
    time_t now = bkp_now();
    pol_policy *p = cli_policy(c);
    if (!all || !p) {
        json_decref(all);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "verdict", pol_verdict_name(worst),
                     "datasets", all, "key_drill", cli_key_drill_status(c), "generated", iso(now),
                     "rotations", rotations(c, p, now), "audit", audit_checked(c, now));
}

int cli_status_page_write(json_t *doc, const char *file, bool ja)
{
    char *page = doc ? rst_status_page(doc, ja) : NULL;
    /* POSIX dirname and basename may write into their argument: a copy each. */
    char *d = strdup(file), *b = strdup(file);
    char *base = b ? basename(b) : NULL;
    int rc = !page || !d || !base ? -ENOMEM : !*base || !strcmp(base, "/") ? -EISDIR : 0;
    /* Mode 0644: the clerk who opens it is not root. Through the temporary
     * name, so that a browser never opens half a page. */
    if (!rc)
        rc = bkp_durable_write(dirname(d), base, page, strlen(page), 0);
    free(page);
    free(d);
    free(b);
    return rc;
}
