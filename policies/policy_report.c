/* What a policy means, for people (warnings) and machines (JSON). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "policies/policy.h"
#include "policies/retention.h"

static bool all_zero(const pol_retention *r)
{
    return !r->keep_last && !r->keep_hourly && !r->keep_daily && !r->keep_weekly &&
           !r->keep_monthly && !r->keep_yearly;
}

int pol_warn_compliance(const pol_policy *p)
{
    int warnings = 0;
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[i];
        /* No retention at all keeps everything: that is not a shortfall. */
        if (!all_zero(&d->retention) && pol_retention_keeps(&d->retention) < 3) {
            bkp_warn(_("%s:%d: data set %s keeps at most %d generation(s); checklist item 3-② asks "
                       "for three or more — raise keep_last or keep_daily to 3"),
                     p->file, d->line, d->name, pol_retention_keeps(&d->retention));
            warnings++;
        }
        bool offline = false, offsite = false;
        for (size_t k = 0; k < d->ncopy_to; k++) {
            const pol_medium *m = pol_medium_find(p, d->copy_to[k]);
            offline |= m && m->offline;
            offsite |= m && m->offsite;
        }
        if (!offline) {
            bkp_warn(
                _("%s:%d: data set %s is copied to no off-line medium; checklist item 3-② asks "
                  "for one generation held off-line — add a removable or archive medium to "
                  "copy_to"),
                p->file, d->line, d->name);
            warnings++;
        }
        if (!offsite) {
            bkp_warn(_("%s:%d: data set %s has no off-site copy (3-2-1 rule) — add a medium with "
                       "'location: offsite' to copy_to"),
                     p->file, d->line, d->name);
            warnings++;
        }
        if (d->schedule.kind == POL_SCHED_NONE) {
            bkp_warn(_("%s:%d: data set %s has no schedule, so `bkp run` never backs it up — add "
                       "e.g. 'schedule: daily 02:00'"),
                     p->file, d->line, d->name);
            warnings++;
        }
    }
    /* A disk rotated by hand (removable, with rotate_every) that the policy
     * does not call off-line counts as on-line, reachable by ransomware on
     * the server: usually `offline: true` was left out. */
    for (size_t k = 0; k < p->nmedia; k++) {
        const pol_medium *m = &p->media[k];
        if (m->type == POL_REMOVABLE && m->rotate_every && !m->offline) {
            bkp_warn(_("%s:%d: medium %s is a removable disk rotated by hand but not 'offline: "
                       "true': it counts as on-line, within reach of ransomware on the server; "
                       "add 'offline: true' if it is disconnected and carried away"),
                     p->file, m->line, m->name);
            warnings++;
        }
        /* Where a medium carried away is kept is what the label sheet, the
         * rotation, the status page and the procedure tell the person who
         * fetches it on the bad day. */
        if (m->offline && pol_type_at_path(m->type) && !m->kept_at) {
            bkp_warn(_("%s:%d: medium %s does not say where it is kept: the label sheet, the "
                       "status page and the recovery procedure cannot tell who fetches it — add "
                       "e.g. 'kept_at: \"院長の自宅\"'"),
                     p->file, m->line, m->name);
            warnings++;
        }
    }
    /* Schedules are the server's local time: a Japanese clinic's server
     * left on a cloud image's UTC runs "daily 21:30" at 06:30 in Japan. */
    time_t now = time(NULL);
    struct tm tm;
    if (p->language && !strcmp(p->language, "ja") && p->ndatasets && localtime_r(&now, &tm) &&
        tm.tm_gmtoff == 0) {
        bkp_warn(_("%s: the server's time zone is UTC, and the schedules are its local time: "
                   "a schedule of 'daily 21:30', for example, would run at 06:30 the next morning "
                   "in Japan, and people would read UTC — if "
                   "the server is in Japan, set its zone before the first run: `timedatectl "
                   "set-timezone Asia/Tokyo` (without systemd: `ln -sf "
                   "/usr/share/zoneinfo/Asia/Tokyo /etc/localtime`)"),
                 p->file);
        warnings++;
    }
    return warnings;
}

static json_t *str_array(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* A hook's env often carries a password (PGPASSWORD): its names are shown,
 * never its values, for the output of `policy check` lands in terminals,
 * tickets and evidence folders that the policy file itself never reaches. */
static json_t *env_json(char **v, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(v[i], '=');
        size_t len = eq ? (size_t)(eq - v[i]) : strlen(v[i]);
        json_object_setn_new(o, v[i], len, json_string(POL_REDACTED));
    }
    return o;
}

static json_t *hook_json(const pol_hook *h)
{
    if (!h->command)
        return json_null();
    return json_pack("{s:s, s:I, s:o, s:s?}", "command", h->command, "timeout",
                     (json_int_t)h->timeout, "env", env_json(h->env, h->nenv), "run_as", h->run_as);
}

json_t *pol_to_json(const pol_policy *p)
{
    char buf[64];
    json_t *media = json_array(), *ds = json_array(), *dr = json_array();
    for (size_t i = 0; i < p->nmedia; i++) {
        const pol_medium *m = &p->media[i];
        json_t *j = json_pack("{s:s, s:s, s:s?, s:s, s:b, s:I, s:s?}", "name", m->name, "type",
                              pol_medium_type_name(m->type), "path", m->path, "location",
                              m->offsite ? "offsite" : "onsite", "offline", m->offline,
                              "rotate_every", (json_int_t)m->rotate_every, "kept_at", m->kept_at);
        const pol_object *o = &m->object;
        if (j && pol_medium_bucket(m))
            json_object_update_new(
                j, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:i}}", "endpoint", o->endpoint,
                             "bucket", o->bucket, "region", o->region, "credentials_file",
                             o->credentials_file, "lock", "mode",
                             o->governance ? "governance" : "compliance", "days", o->lock_days));
        json_array_append_new(media, j);
    }
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[i];
        const pol_retention *r = &d->retention;
        json_array_append_new(
            ds,
            json_pack("{s:s, s:s?, s:i, s:o, s:o, s:b, s:o, s:o, s:s, s:{s:i, s:i, s:i, s:i, "
                      "s:i, s:i, s:i}, s:o, s:s?}",
                      "name", d->name, "description", d->description, "priority", d->priority,
                      "paths", str_array(d->paths, d->npaths), "exclude",
                      str_array(d->exclude, d->nexclude), "one_file_system", d->one_file_system,
                      "before", hook_json(&d->before), "after", hook_json(&d->after), "schedule",
                      pol_schedule_text(&d->schedule, buf, sizeof(buf)), "retention", "keep_last",
                      r->keep_last, "keep_hourly", r->keep_hourly, "keep_daily", r->keep_daily,
                      "keep_weekly", r->keep_weekly, "keep_monthly", r->keep_monthly, "keep_yearly",
                      r->keep_yearly, "lock_days", r->lock_days, "copy_to",
                      str_array(d->copy_to, d->ncopy_to), "runbook", d->runbook));
        if (d->stream.command.command) {
            json_t *st = hook_json(&d->stream.command), *last = json_array_get(ds, i);
            json_object_set_new(st, "name", json_string(d->stream.name));
            json_object_set_new(last, "stream", st);
        }
        if (d->host)
            json_object_set_new(json_array_get(ds, i), "host", json_string(d->host));
        if (d->read_special)
            json_object_set_new(json_array_get(ds, i), "read_special", json_true());
    }
    for (size_t i = 0; i < p->ndrills; i++)
        json_array_append_new(
            dr, json_pack("{s:s, s:s}", "runbook", p->drills[i].runbook, "schedule",
                          pol_schedule_text(&p->drills[i].schedule, buf, sizeof(buf))));
    const pol_notify *nt = &p->notify;
    json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:{s:i, s:i, s:i, s:i, s:i, s:I}, s:o, s:o, s:o, "
                          "s:{s:I}, s:I, s:i}",
                          "file", p->file, "repository", p->repository, "passphrase_file",
                          p->passphrase_file, "passphrase_command", p->passphrase_command,
                          "rule_321", "copies", p->rule.copies, "media_types", p->rule.media_types,
                          "offline", p->rule.offline, "offsite", p->rule.offsite, "immutable",
                          p->rule.immutable, "offline_max_age", (json_int_t)p->rule.offline_max_age,
                          "media", media, "datasets", ds, "drills", dr, "verify", "reread_every",
                          (json_int_t)p->reread_every, "key_drill_every",
                          (json_int_t)p->key_drill_every, "parallel", p->parallel);
    if (j && (nt->command.command || nt->mail_to))
        json_object_set_new(j, "notify",
                            json_pack("{s:s?, s:s?, s:s?, s:I}", "command", nt->command.command,
                                      "mail_to", nt->mail_to, "mail_from", nt->mail_from,
                                      "remind_every", (json_int_t)nt->remind_every));
    json_t *hosts = j && p->nhosts ? json_array() : NULL;
    for (size_t i = 0; hosts && i < p->nhosts; i++) {
        const pol_host *h = &p->hosts[i];
        json_array_append_new(
            hosts, json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:I}", "name", h->name, "user",
                             h->user, "address", h->address, "port", h->port, "identity",
                             h->identity, "host_key", h->host_key, "connect_timeout",
                             (json_int_t)h->connect_timeout, "idle_timeout",
                             (json_int_t)h->idle_timeout));
    }
    if (hosts)
        json_object_set_new(j, "hosts", hosts);
    if (j && p->status_page)
        json_object_set_new(j, "status_page", json_string(p->status_page));
    if (j && p->metrics)
        json_object_set_new(j, "metrics", json_string(p->metrics));
    if (j && p->facility)
        json_object_set_new(j, "facility", json_string(p->facility));
    if (j && p->language)
        json_object_set_new(j, "language", json_string(p->language));
    return j;
}
