/*
 * status_doc.c — the status document beyond the verdicts (status.h): the
 * coming rotations, the audit log checked now, and the status page written
 * from it, by `bkp status --format html -o FILE` and by `bkp run` when the
 * policy names `status_page:`. The page itself is rendered by
 * bkp/report/status_page.c.
 */
#include "bkp/ops/status.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/log.h"
#include "bkp/ops/medium_check.h"
#include "bkp/report/status_page.h"

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
static json_t *rotations(const ops_status_in *in, time_t now)
{
    const pol_policy *p = in->policy;
    json_t *out = json_array();
    time_t *due = calloc(p->nmedia + 1, sizeof(*due));
    pol_turn turns[CALENDAR_MAX];
    /* The rotations of the last week first, done: the calendar's 済. */
    for (size_t i = 0; out && in->states && i < p->nmedia; i++) {
        const pol_medium *m = &p->media[i];
        time_t w = in->states[i].last_write;
        if (!m->rotate_every || !w || now - w > 7 * 86400 || w > now)
            continue;
        json_array_append_new(out, json_pack("{s:s, s:s, s:b, s:b, s:o, s:b}", "medium", m->name,
                                             "type", pol_medium_type_name(m->type), "offline",
                                             m->offline, "offsite", m->offsite, "when", iso(w),
                                             "done", 1));
    }
    if (out && in->states && due) {
        pol_media_due(p, in->states, p->nmedia, due);
        size_t n = pol_rotation_calendar(in->states, due, p->nmedia, now,
                                         now + CALENDAR_DAYS * 86400, turns, CALENDAR_MAX);
        for (size_t i = 0; i < n; i++) {
            const pol_medium *m = turns[i].medium;
            json_array_append_new(out,
                                  json_pack("{s:s, s:s, s:b, s:b, s:o}", "medium", m->name, "type",
                                            pol_medium_type_name(m->type), "offline", m->offline,
                                            "offsite", m->offsite, "when", iso(turns[i].when)));
        }
    }
    free(due);
    return out;
}

/* The audit log as ops_status checked it, with the repository's public key
 * (`log`, NULL: not read): what was checked and when, so that the page never
 * says "intact" unverified; the problem as a code, for the page and any
 * reader to say in its own language, and in English as before.
 *
 * The whole log, every time, and not only what was appended since the last
 * check. To skip the rest, a check would have to leave a note of how far
 * the log was found sound (the hash of that prefix, hashed again each time,
 * its signatures not checked again). The head marker (audit_head.c) is not
 * that note: it is signed but names only the last record appended, and
 * says nothing of the records before it. Such a note could not live in the
 * repository unsigned: the insider of the threat model (docs/SECURITY.md
 * §2) writes the repository without the key, would rewrite the note with
 * the record, and a record rewritten before the note's mark would pass. Signed, it would be written
 * by `bkp status`, which opens the repository read-only and writes nothing. So the log is read
 * whole — once, by the same pass that finds the records the status reports: a rewritten older
 * record is always found. */
static json_t *audit_checked(const ops_status_log *log, time_t now)
{
    int rc = log ? log->rc : -ENOMEM;
    bkp_audit_check chk = {.why = {.code = BKP_AUDIT_UNREADABLE, .err = rc}};
    if (rc >= 0)
        chk = log->check;
    else
        snprintf(chk.problem, sizeof(chk.problem), "cannot be read: %s", bkp_strerror_en(rc));
    json_t *a = json_pack("{s:o, s:I, s:b, s:b, s:s, s:I}", "checked",
                          iso(log && log->checked ? log->checked : now), "records",
                          (json_int_t)chk.records, "ok", rc == 0, "absent", chk.absent, "problem",
                          chk.problem, "restarts", (json_int_t)chk.restarts);
    if (a)
        bkp_audit_problem_to_json(&chk.why, a);
    return a;
}

/* The off-line media plugged in (medium_check.h): [{medium, path,
 * last_write, left}]. */
static json_t *connected(const ops_status_in *in, time_t now)
{
    ops_connected *v;
    size_t n;
    json_t *out = json_array();
    if (!out || ops_media_connected(in->repo, in->policy, now, &v, &n)) {
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char since[32] = "";
        if (v[i].last_write)
            bkp_iso_time(since, sizeof(since), v[i].last_write);
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b}", "medium", v[i].medium->name,
                                             "path", v[i].medium->path, "last_write", since,
                                             "left", v[i].left));
    }
    free(v);
    return out;
}

json_t *ops_status_doc(const ops_status_in *in, json_t *all, int worst, const ops_status_log *log)
{
    time_t now = bkp_now();
    if (!all || !in->policy) {
        json_decref(all);
        return NULL;
    }
    char host[256] = "";
    (void)gethostname(host, sizeof(host) - 1);
    ops_storage st = log ? log->storage : (ops_storage){0};
    json_t *doc = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s?, s:s}", "verdict",
                            pol_verdict_name(worst), "datasets", all, "key_drill",
                            ops_key_drill_status(log, in->policy), "generated", iso(now),
                            "rotations", rotations(in, now), "audit", audit_checked(log, now),
                            "connected", connected(in, now), "facility", in->policy->facility,
                            "host", host);
    /* What a copy of it needs: left out when the folders cannot be read (said). */
    if (doc && log && !ops_storage_files(in->repo, &st))
        json_object_set_new(doc, "storage", ops_storage_json(&st));
    return doc;
}

int ops_status_page_write(json_t *doc, const char *file, bool ja)
{
    char *page = doc ? rst_status_page(doc, ja) : NULL;
    /* POSIX dirname and basename may write into their argument: a copy each. */
    char *d = strdup(file), *b = strdup(file);
    char *base = b ? basename(b) : NULL;
    int rc = !page || !d || !base ? -ENOMEM : !*base || !strcmp(base, "/") ? -EISDIR : 0;
    /* Mode 0644 whatever the umask (systemd's UMask=0077, cron's): the
     * clerk who opens it is not root. Through the temporary name, so that a
     * browser never opens half a page. */
    if (!rc)
        rc = bkp_durable_write(dirname(d), base, page, strlen(page), BKP_DURABLE_PUBLIC);
    free(page);
    free(d);
    free(b);
    return rc;
}
