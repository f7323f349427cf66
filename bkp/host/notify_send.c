/*
 * notify_send.c — telling people of a change (notify.h).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/clock.h"
#include "bkp/host/hook.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/host/notify_send.h"

static const char *str(const char *s)
{
    return s ? s : "";
}

/* The event's kind, in Japanese. */
static const char *kind_ja(const char *kind)
{
    return !strcmp(kind, "raised")     ? "発生"
           : !strcmp(kind, "changed")  ? "状態の変化"
           : !strcmp(kind, "reminder") ? "継続中 (再通知)"
           : !strcmp(kind, "cleared")  ? "解消"
                                       : "発生";
}

static const char *severity_ja(int s)
{
    return s >= 2 ? "異常" : s == 1 ? "警告" : "お知らせ";
}

static const char *severity_en(int s)
{
    return s >= 2 ? "ERROR" : s == 1 ? "WARNING" : "notice";
}

/* When event `e` began, as people read times: local, with the zone. */
static void since_of(const bkp_notify_event *e, char *buf, size_t n)
{
    char iso[32];
    bkp_iso_time(iso, sizeof(iso), e->since);
    bkp_local_time(buf, n, e->since, iso);
}

/* One event's lines of a mail's body, in English or Japanese, appended to
 * `*body` (false without memory). */
static bool event_lines(char **body, const bkp_notify_event *e, bool ja)
{
    const char *kind = str(e->kind), *key = str(e->key), *state = str(e->state);
    const char *what = *state ? state : str(e->previous);
    char since[48], *more = NULL;
    since_of(e, since, sizeof(since));
    int rc = ja ? asprintf(&more,
                           "%s"
                           "  内容: %s\n"
                           "  種別: %s (%s)\n"
                           "  対象: %s\n"
                           "  状態: %s\n"
                           "  開始: %s\n\n",
                           str(*body), *str(e->summary_ja) ? e->summary_ja : str(e->summary),
                           kind_ja(kind), severity_ja(e->severity), *key ? key : "-", what, since)
                : asprintf(&more,
                           "%s"
                           "  %s: %s %s\n"
                           "  since %s\n"
                           "  %s\n\n",
                           str(*body), severity_en(e->severity), *key ? key : "event", kind, since,
                           str(e->summary));
    if (rc < 0)
        return false;
    free(*body);
    *body = more;
    return true;
}

/* The event a mail of `v` is named after: the first of the most severe. */
static const bkp_notify_event *headline(const bkp_notify_event *v, size_t n)
{
    const bkp_notify_event *top = &v[0];
    for (size_t i = 1; i < n; i++)
        if (v[i].severity > top->severity)
            top = &v[i];
    return top;
}

char *bkp_notify_mail(const bkp_notify_target *t, const bkp_notify_event *v, size_t n)
{
    if (!n)
        return NULL;
    const bkp_notify_event *e = headline(v, n);
    const char *kind = str(e->kind), *key = str(e->key), *state = str(e->state);
    const char *what = *state ? state : str(e->previous), *host = str(e->host);
    const char *facility = str(e->facility), *repo = str(e->repository);
    const char *ja = *str(e->summary_ja) ? e->summary_ja : str(e->summary);
    int sev = e->severity;
    char subject[512], b64[sodium_base64_ENCODED_LEN(512, sodium_base64_VARIANT_ORIGINAL)];
    char *mail = NULL, where[400], others[64] = "";
    /* Which clinic and which server, before anything else; then the most
     * severe event, and how many more the mail tells (one mail a run). */
    snprintf(where, sizeof(where), "%s%s%s", facility, *facility ? " " : "", host);
    if (n > 1)
        snprintf(others, sizeof(others), t->english ? " (and %zu more)" : "（ほか %zu 件）", n - 1);
    if (t->english)
        snprintf(subject, sizeof(subject), "[bkp %s] %s %s: %s %s%s", where, severity_en(sev), kind,
                 *key ? key : "event", what, others);
    else
        snprintf(subject, sizeof(subject), "[bkp %s] %s %s: %s%s", where, severity_ja(sev),
                 kind_ja(kind), ja, others);
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)subject, strlen(subject),
                      sodium_base64_VARIANT_ORIGINAL);
    char from[300] = "";
    if (t->mail_from)
        snprintf(from, sizeof(from), "From: %s\n", t->mail_from);
    /* The body: in Japanese first, then English; or English alone. Each
     * event's lines, in the order they were told. */
    char *en_lines = NULL, *ja_lines = NULL, *body = NULL;
    bool mem = true;
    for (size_t i = 0; mem && i < n; i++)
        mem = event_lines(&en_lines, &v[i], false) &&
              (t->english || event_lines(&ja_lines, &v[i], true));
    int rc = -1;
    if (mem)
        rc = t->english ? asprintf(&body,
                                   "A notice from bkp on %s%s%s (repository %s).\n\n"
                                   "%s"
                                   "Check: bkp status\n",
                                   host, *facility ? ", " : "", facility, repo, en_lines)
                        : asprintf(&body,
                                   "bkp（%s%s%s、リポジトリ %s）からのお知らせです。\n\n"
                                   "%s"
                                   "確認: bkp status\n\n"
                                   "A notice from bkp on %s%s%s (repository %s).\n\n"
                                   "%s"
                                   "Check: bkp status\n",
                                   *facility ? facility : "", *facility ? " " : "", host, repo,
                                   ja_lines, host, *facility ? ", " : "", facility, repo, en_lines);
    free(en_lines);
    free(ja_lines);
    if (rc >= 0)
        rc = asprintf(&mail,
                      "%sTo: %s\n"
                      "Subject: =?UTF-8?B?%s?=\n"
                      "MIME-Version: 1.0\n"
                      "Content-Type: text/plain; charset=UTF-8\n"
                      "Content-Transfer-Encoding: 8bit\n"
                      "Auto-Submitted: auto-generated\n"
                      "\n"
                      "%s\n"
                      "-- \n"
                      "%s"
                      "Sent once per change, with a reminder while it lasts; one mail a run.\n",
                      from, t->mail_to, b64, body,
                      t->english ? ""
                                 : "変化したときに一度だけ送り、続いている間は再通知します。1 "
                                   "回の実行で 1 通です。\n");
    free(body);
    return rc < 0 ? NULL : mail;
}

/* Run `command` with `input` and the event's variables. */
static int run(const bkp_notify_target *t, const char *command, const char *run_as,
               const char *input, const bkp_notify_event *e, const char *const *more, size_t nmore)
{
    char *env[40] = {0};
    size_t n = 0;
    int rc = 0;
    if (asprintf(&env[n++], "BKP_EVENT=%s", str(e->kind)) < 0 ||
        asprintf(&env[n++], "BKP_KEY=%s", str(e->key)) < 0 ||
        asprintf(&env[n++], "BKP_STATE=%s", str(e->state)) < 0 ||
        asprintf(&env[n++], "BKP_SEVERITY=%s", severity_en(e->severity)) < 0 ||
        asprintf(&env[n++], "BKP_SUMMARY=%s", str(e->summary)) < 0 ||
        asprintf(&env[n++], "BKP_HOST=%s", str(e->host)) < 0 ||
        asprintf(&env[n++], "BKP_TEXT=%s",
                 !t->english && *str(e->summary_ja) ? e->summary_ja : str(e->summary)) < 0)
        rc = -ENOMEM;
    for (size_t i = 0; !rc && i < nmore && n < 39; i++)
        if (!(env[n++] = strdup(more[i])))
            rc = -ENOMEM;
    for (size_t i = 0; !rc && command == t->command && i < t->nenv && n < 39; i++)
        if (!(env[n++] = strdup(t->env[i])))
            rc = -ENOMEM;
    bkp_hook_result res;
    bkp_hook_spec spec = {.command = command,
                          .env = env,
                          .nenv = n,
                          .timeout = t->timeout > 0 ? t->timeout : 60,
                          .run_as = run_as,
                          .input = input,
                          .input_len = strlen(input)};
    if (!rc)
        rc = bkp_hook_exec(&spec, &res);
    for (size_t i = 0; i < n; i++)
        free(env[i]);
    return rc;
}

int bkp_notify_command(const bkp_notify_target *t, const bkp_notify_event *e)
{
    if (!t->command)
        return 0;
    int rc = e->json ? run(t, t->command, t->run_as, e->json, e, NULL, 0) : -ENOMEM;
    if (rc)
        bkp_error(_("the notify command `%s` failed (%s); the event is told again at the next "
                    "run. Check the command by hand"),
                  t->command, bkp_strerror(rc));
    return rc;
}

int bkp_notify_mail_send(const bkp_notify_target *t, const bkp_notify_event *v, size_t n)
{
    if (!t->mail_to || !n)
        return 0;
    char *mail = bkp_notify_mail(t, v, n), *to = NULL, *from = NULL, *sm = NULL;
    const char *more[3];
    size_t nmore = 0;
    if (asprintf(&to, "BKP_MAIL_TO=%s", t->mail_to) >= 0)
        more[nmore++] = to;
    if (t->mail_from && asprintf(&from, "BKP_MAIL_FROM=%s", t->mail_from) >= 0)
        more[nmore++] = from;
    if (asprintf(&sm, "BKP_SENDMAIL=%s", t->sendmail ? t->sendmail : "/usr/sbin/sendmail") >= 0)
        more[nmore++] = sm;
    const char *cmd = t->mail_from ? "exec \"$BKP_SENDMAIL\" -i -f \"$BKP_MAIL_FROM\" -- "
                                     "\"$BKP_MAIL_TO\""
                                   : "exec \"$BKP_SENDMAIL\" -i -- \"$BKP_MAIL_TO\"";
    /* sendmail runs as the policy says, never as root by default when
     * the notify command was given a user of its own. */
    const char *as = t->mail_run_as ? t->mail_run_as : t->run_as;
    int rc = mail && to && sm ? run(t, cmd, as, mail, headline(v, n), more, nmore) : -ENOMEM;
    if (rc)
        bkp_error(_("mailing %s through %s failed (%s); the event is told again at the next "
                    "run. Check the mail system (e.g. `echo test | sendmail %s`)"),
                  t->mail_to, t->sendmail ? t->sendmail : "/usr/sbin/sendmail", bkp_strerror(rc),
                  t->mail_to);
    free(mail);
    free(to);
    free(from);
    free(sm);
    return rc;
}
