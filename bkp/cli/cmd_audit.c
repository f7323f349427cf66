/* bkp audit verify | show | restart REASON: the tamper-evident log, for auditors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/i18n.h"
#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/media/bucket.h"
#include "bkp/media/copy.h"
#include "bkp/io/durable.h"
#include "bkp/store/generation.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"
#include "bkp/audit/verify.h"
#include "bkp/ops/report.h"
#include "restore/drill_report.h"

/* --against FILE, or a disk medium's name: the copy of the log it carries. */
static char *against_path(cli *c)
{
    struct stat st;
    cli_medium m;
    if (!c->against || strchr(c->against, '/') || stat(c->against, &st) == 0)
        return c->against ? strdup(c->against) : NULL;
    if (cli_medium_find(c, c->against, &m) || cli_medium_check_label(c, &m)) {
        cli_medium_clear(&m);
        return NULL;
    }
    char *repo = cli_medium_repo(&m), *p = repo ? bkp_path_join(repo, BKP_AUDIT_COPY) : NULL;
    free(repo);
    cli_medium_clear(&m);
    return p;
}

static int count_sound(const bkp_audit_entry *e, void *ctx)
{
    (void)e;
    (*(size_t *)ctx)++;
    return 0;
}

/* verify --journal FILE: the records of reads made where no primary was
 * open, each signed by the repository's key and chained; no head marker.
 * With --public-key and no repository opened, against that key. */
static int journal_verify(cli *c)
{
    bkp_audit_check chk;
    const uint8_t *pk = c->ro ? bkp_repo_sign_pk(c->ro) : c->pinned_pk;
    int rc = bkp_audit_verify(c->journal, pk, NULL, &chk);
    if (rc < 0 || chk.absent) {
        bkp_error(_("cannot read the journal %s: %s"), c->journal,
                  bkp_strerror(rc < 0 ? rc : -ENOENT));
        return EXIT_FAILED;
    }
    if (c->json) {
        json_t *out = json_pack("{s:b, s:s, s:I, s:I, s:s}", "ok", !chk.bad, "journal", c->journal,
                                "records", (json_int_t)chk.records, "first_bad",
                                (json_int_t)chk.first_bad, "problem", chk.problem);
        if (out)
            bkp_audit_problem_to_json(&chk.why, out);
        cli_print_json(out);
    } else if (chk.bad) {
        bkp_error(_("journal %s: %s"), c->journal, chk.problem_local);
        /* Not one record's signature checks: a key copied by hand is far
         * more often a slip of the pen than a journal forged whole (one
         * record edited leaves the others checking). */
        size_t sound = 0;
        bool none = chk.first_bad == 1 &&
                    bkp_audit_each_sound(c->journal, pk, count_sound, &sound, NULL) >= 0 && !sound;
        if (none && !c->ro)
            bkp_error(_("not one record checks with the key given: compare it first, digit by "
                        "digit, with the paper it was copied from (the record of the day, or "
                        "the key sheet)"));
        else if (none)
            bkp_error(_("not one record checks with the key of repository %s: a journal of "
                        "another repository (an old one, lost with its server) is checked with "
                        "that repository's fingerprint, `bkp audit verify --journal %s "
                        "--public-key \"…\"` (its key sheet)"),
                      bkp_repo_uuid(c->ro), c->journal);
    } else if (c->ro) {
        printf(_("journal %s: %llu record(s), chain and signatures of repository %s intact\n"),
               c->journal, (unsigned long long)chk.records, bkp_repo_uuid(c->ro));
    } else {
        char fp[BKP_FINGERPRINT_LEN];
        bkp_pubkey_fingerprint(pk, fp);
        printf(_("journal %s: %llu record(s), chain and signatures by the key %s intact\n"),
               c->journal, (unsigned long long)chk.records, fp);
    }
    return chk.bad ? EXIT_FAILED : EXIT_OK;
}

/* The log a command of `audit` reads: the journal named, else the
 * repository's own log, or on a copy on a medium (which keeps no log of
 * the primary's history of its own) the copy of the primary's log the last
 * rotation left there (copy.h, BKP_AUDIT_COPY), `*copy` saying so
 * (malloc'd). */
static char *log_of(const cli *c, char **copy)
{
    *copy = NULL;
    if (c->journal)
        return strdup(c->journal);
    if ((*copy = bkp_gen_copy_medium(c->ro)))
        return bkp_repo_subpath(c->ro, BKP_AUDIT_COPY);
    return bkp_audit_path(c->ro);
}

/* audit verify on a copy on a medium: the primary's log as its last
 * rotation left it there, chain and signatures (no head marker: the
 * primary's marker guards the primary's log). */
static int copy_verify(cli *c, const char *path, const char *medium)
{
    bkp_audit_check chk;
    int rc = bkp_audit_verify(path, bkp_repo_sign_pk(c->ro), NULL, &chk);
    if (rc < 0 || chk.absent) {
        bkp_error(_("%s is the copy on the medium labelled %s, and holds no copy of the primary's "
                    "audit log (%s): rotate to it from the primary to give it one"),
                  bkp_repo_path(c->ro), medium, path);
        return EXIT_FAILED;
    }
    if (c->json) {
        json_t *out = json_pack("{s:b, s:s, s:s, s:I, s:I, s:s}", "ok", !chk.bad, "copy_of_log",
                                path, "medium", medium, "records", (json_int_t)chk.records,
                                "first_bad", (json_int_t)chk.first_bad, "problem", chk.problem);
        if (out)
            bkp_audit_problem_to_json(&chk.why, out);
        cli_print_json(out);
    } else if (chk.bad) {
        bkp_error(_("audit log %s: %s"), path, chk.problem_local);
    } else {
        printf(_("the copy of the primary's audit log on the medium labelled %s (as its last "
                 "rotation left it): %llu record(s), chain and signatures intact\n"),
               medium, (unsigned long long)chk.records);
    }
    return chk.bad ? EXIT_FAILED : EXIT_OK;
}

/* A record of the log that fails from `first_bad` on was changed on this
 * server after it was written: where the record as written may still be
 * (the copy each rotation leaves on a disk), and whether `against` holds it. */
static void say_copy(cli *c, const char *against, const char *path, uint64_t first_bad)
{
    unsigned long long at = (unsigned long long)first_bad;
    if (!against) {
        const char *m = NULL;
        for (size_t i = 0; c->policy && !m && i < c->policy->nmedia; i++)
            if (c->policy->media[i].offline)
                m = c->policy->media[i].name;
        bkp_warn(_("record %2$llu was changed after it was written, by someone who could write "
                   "to this server or by damage to its disk: until you know which, treat it as "
                   "an intrusion (operator guide, section 11). Each off-line disk keeps a copy of "
                   "the log as of its last rotation: `bkp audit verify --against %1$s` says "
                   "whether it holds the record as written"),
                 m ? m : _("MEDIUM"), at);
        return;
    }
    int holds = bkp_audit_copy_holds(path, against, bkp_repo_sign_pk(c->ro), first_bad);
    if (holds > 0)
        bkp_warn(_("the copy %s holds record %llu as it was written, with the same history "
                   "before it, and this log's next record chains to it: this server's log was "
                   "changed after that copy was made; until you know how, treat it as an "
                   "intrusion (operator guide, section 11)"),
                 against, at);
    else
        bkp_warn(_("the copy %s does not hold record %llu as this log's history had it (not "
                   "sound there, or another history before it): try the copy of another disk "
                   "(`bkp audit verify --against MEDIUM`)"),
                 against, at);
}

static int audit_verify(cli *c)
{
    if (c->journal && c->against) {
        bkp_error(_("--journal checks a journal on its own; leave out --against"));
        return EXIT_USAGE;
    }
    if (c->journal)
        return journal_verify(c);
    char *medium = NULL, *path = log_of(c, &medium);
    if (medium) {
        int ex = path ? copy_verify(c, path, medium) : EXIT_FAILED;
        free(medium);
        free(path);
        return ex;
    }
    char *against = against_path(c);
    bkp_audit_check chk;
    if (c->against && !against) {
        free(path);
        return EXIT_USAGE;
    }
    /* The config's key, which the key file's matches, or the key the
     * auditor pinned, which the config's was found equal to on the open. */
    int rc = bkp_audit_verify(path, bkp_repo_sign_pk(c->ro), against, &chk);
    if (rc < 0) {
        if (against)
            bkp_error(_("cannot read the audit log %s or %s: %s"), path, against, bkp_strerror(rc));
        else
            bkp_error(_("cannot read the audit log %s: %s"), path, bkp_strerror(rc));
        free(path);
        free(against);
        return EXIT_FAILED;
    }
    rc = chk.bad; /* checked: from here, whether it is found wanting */
    /* The log's own problem first: what the records are compared with
     * below follows from it. */
    if (rc && !c->json) {
        bkp_error(_("audit log %s: %s"), path, chk.problem_local);
        if (chk.first_bad && bkp_audit_code_edited(chk.why.code))
            say_copy(c, against, path, chk.first_bad);
    }
    /* The log against the records: a generation it says was sealed and
     * that is gone (deleted, not pruned) is a hole in what it proves. */
    bkp_verify_result vr = {0};
    int vrc = bkp_verify_log(c->ro, &vr);
    bool log_bad = vrc < 0 || vr.problems; /* a hole in what the log proves, or not compared */
    if (vrc < 0)
        bkp_error(_("cannot compare the audit log with the generation records: %s"),
                  bkp_strerror(vrc));
    if (c->json) {
        json_t *out = json_pack("{s:b, s:I, s:I, s:I, s:b, s:b, s:I, s:s, s:I, s:I}", "ok",
                                rc == 0 && !log_bad, "records", (json_int_t)chk.records,
                                "first_bad", (json_int_t)chk.first_bad, "missing",
                                (json_int_t)chk.missing, "absent", chk.absent, "head_bad",
                                chk.head_bad, "restarts", (json_int_t)chk.restarts, "problem",
                                chk.problem, "generations_unaccounted", (json_int_t)vr.problems,
                                "past_marker", (json_int_t)chk.past_marker);
        if (out) /* the problem's code beside its English, for any reader's language */
            bkp_audit_problem_to_json(&chk.why, out);
        cli_print_json(out);
    }
    bkp_verify_result_clear(&vr);
    if (chk.restarts && !c->json)
        bkp_warn(_("audit log %s: it was restarted by an operator (%llu time(s), last at record "
                   "%llu): what it held before is not in it; `bkp audit show` gives the reason"),
                 path, (unsigned long long)chk.restarts, (unsigned long long)chk.restart_seq);
    if (!rc && chk.past_marker && !c->json)
        bkp_warn(_("audit log %s: its last %llu record(s) are past its head marker, each signed "
                   "and chained (a crash or a full disk kept the marker from moving); the next "
                   "record written moves it on"),
                 path, (unsigned long long)chk.past_marker);
    if (log_bad && !rc)
        rc = 1;
    else if ((c->tty || c->public_key || bkp_log_get_level() >= BKP_LOG_INFO) && !c->json && !rc)
        /* -v: said in a file too, kept as evidence */
        printf(_("audit log: %llu record(s), chain, signatures and head marker intact%s%s\n"),
               (unsigned long long)chk.records, against ? _(", nothing missing against ") : "",
               against ? against : "");
    if (c->public_key && !c->json) {
        char fp[BKP_FINGERPRINT_LEN];
        bkp_pubkey_fingerprint(c->pinned_pk, fp);
        printf(_("  checked with the public key you gave (%s), which is the repository's; no "
                 "secret was used\n"
                 "  checked: every generation the log says was sealed is there, or was deleted "
                 "by a prune it records\n"),
               fp);
        cli_public_print_limits(false);
        printf("%s", rc ? _("NOT verified\n") : _("verified\n"));
    }
    free(path);
    free(against);
    return rc ? EXIT_FAILED : EXIT_OK;
}

typedef struct show_ctx {
    cli *c;
    json_t *arr;  /* --json */
    time_t since; /* --since, or 0 */
    uint64_t seq; /* the one record asked for (`audit show 187`), or 0 */
    uint64_t last; /* the last record's number */
    bool found;
} show_ctx;

static const int show_widths[] = {5, 19, 8, 16, 12, 14, 8, 0};

/* A record's figures for people: "files=4 bytes=195.3 KiB target=/x", in
 * the record's order, each member of `fig` parted by `sep`; what is null or
 * empty left out, a size in bytes in binary units, a time in the server's
 * local time as the TIME column is (without a space: the pairs are parted
 * by spaces), a member that is an object as its own pairs in braces
 * ("captured={emr=2026-11-28T11:59:07}"). */
/* Figure `k` = `v` of object `of`, when it is a size in bytes (binary
 * units) or a time (local, as the TIME column): its text into `val`. */
static bool figure_unit(const char *k, const json_t *v, const json_t *of, char *val, size_t n)
{
    size_t kl = strlen(k);
    time_t at;
    struct tm tm;
    if (json_is_integer(v) && kl >= 5 && !strcmp(k + kl - 5, "bytes") &&
        json_integer_value(v) >= 0) {
        bkp_size_text(val, n, (uint64_t)json_integer_value(v));
        return true;
    }
    return json_is_string(v) && json_is_object(of) && bkp_json_time(of, k, &at) && at > 0 &&
           localtime_r(&at, &tm) && strftime(val, n, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Is figure `k` of `fig` the same words in the other language than the
 * reader's (an alert's summary beside its summary_ja)? The table shows
 * one; `audit show SEQ` shows the record whole. */
static bool other_language(const json_t *fig, const char *k)
{
    bool ja = bkp_i18n_reader_japanese();
    return ja ? !strcmp(k, "summary") && json_is_string(json_object_get(fig, "summary_ja"))
              : !strcmp(k, "summary_ja") && json_is_string(json_object_get(fig, "summary"));
}

static void figures_text(const json_t *fig, const char *sep, char *out, size_t n)
{
    const char *k;
    json_t *v;
    out[0] = '\0';
    json_object_foreach((json_t *)fig, k, v)
    {
        char val[512] = "";
        if (other_language(fig, k))
            continue;
        if (figure_unit(k, v, fig, val, sizeof(val)))
            ;
        else if (json_is_object(v)) {
            char in[sizeof(val) - 2];
            figures_text(v, ",", in, sizeof(in));
            if (in[0])
                snprintf(val, sizeof(val), "{%s}", in);
        } else
            bkp_json_value_text(val, sizeof(val), v);
        if (val[0])
            bkp_strappend(out, n, "%s%s=%s", out[0] ? sep : "", k, val);
    }
}

/* `s` on standard output made safe (text.h): a record's strings are
 * whatever was written in the log or a journal handed over. */
static void put_safe(const char *s)
{
    char *safe = bkp_text_safe(s, BKP_TEXT_FIELD);
    fputs(safe ? safe : "?", stdout);
    free(safe);
}

/* A figure's name for people, after the name recorded (which --json and
 * the evidence report's citations keep); NULL for a name not listed. */
static const char *figure_words(const char *k)
{
    static const struct {
        const char *name, *words;
    } t[] = {
        {"runbook", N_("runbook")},
        {"drill", N_("a drill, not a real restore")},
        {"seconds", N_("seconds it took")},
        {"rto_target_seconds", N_("target recovery time, seconds")},
        {"rto_met", N_("within the target")},
        {"failed_step", N_("the step that failed")},
        {"not_rehearsed", N_("confirm steps nobody rehearsed")},
        {"files", N_("files")},
        {"damaged", N_("files that could not be restored")},
        {"attested_by", N_("attested by")},
        {"attended", N_("a person attended")},
        {"read_from", N_("what it read")},
        {"reports", N_("report files")},
        {"reports_sha256", N_("the report files' SHA-256")},
        {"key_recovery", N_("opened with the key sheets alone")},
        {"key_sheets", N_("key sheets used")},
        {"unstarted", N_("could not start")},
        {"milliseconds", N_("milliseconds it took")},
        {"schedule", N_("schedule")},
        {"unreadable", N_("paths that could not be read")},
        {"suspicious", N_("sealed as suspicious")},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].name, k))
            return _(t[i].words);
    return NULL;
}

/* Figure `k` = `v` of a record, whole, at `depth`: an object's members and
 * a list's items each on a line of their own, nothing cut; a name known
 * in words beside it, a yes or no in words. */
static void figure_whole(const char *k, const json_t *v, const json_t *of, int depth)
{
    char val[64];
    const char *words = depth == 2 ? figure_words(k) : NULL;
    printf("%*s", 2 * depth, "");
    put_safe(k);
    if (words && strcmp(words, k)) /* "files (files)" says nothing */
        printf(" (%s)", words);
    if (json_is_boolean(v)) {
        printf(" = %s\n", json_is_true(v) ? _("yes") : _("no"));
        return;
    }
    if (json_is_object(v) || json_is_array(v)) {
        fputs(":\n", stdout);
        const char *m;
        json_t *x;
        size_t i;
        if (json_is_object(v))
            json_object_foreach((json_t *)v, m, x) figure_whole(m, x, v, depth + 1);
        else
            json_array_foreach(v, i, x) figure_whole("-", x, v, depth + 1);
        return;
    }
    fputs(k[0] == '-' && !k[1] ? " " : " = ", stdout);
    if (figure_unit(k, v, of, val, sizeof(val)))
        fputs(val, stdout);
    else if (json_is_string(v))
        put_safe(json_string_value(v));
    else {
        char text[128];
        bkp_json_value_text(text, sizeof(text), v);
        put_safe(text);
    }
    fputc('\n', stdout);
}

/* Its outcome as the table says it: an alert recorded where the policy
 * names nowhere to send it was kept, but nobody was told (ops/alerts.c),
 * which "ok" would hide; a word bkp never writes as it stands (read
 * unchecked: audit verify checks). */
static const char *outcome_words(const bkp_audit_entry *e)
{
    bool unsent = e->ok && !strcmp(e->op, "notify") &&
                  json_is_false(json_object_get(e->figures, "delivered"));
    return unsent                                        ? _("not sent")
           : e->ok                                       ? _("ok")
           : e->outcome && !strcmp(e->outcome, "failed") ? _("failed")
                                                         : e->outcome;
}

/* The one record asked for, whole, a field a line: what an inspector
 * reads beside the evidence report that cites it ("#187"). */
static void show_whole(const bkp_audit_entry *e)
{
    char local[32] = "?", when[64];
    if (e->time)
        cli_time(local, sizeof(local), e->time);
    const char *err =
        e->error && e->error_ja && bkp_i18n_reader_japanese() ? e->error_ja : e->error;
    const struct {
        const char *name, *value;
    } rows[] = {{cli_time_head(when, sizeof(when), _("time")), local},
                {_("host"), e->host},
                {_("user"), e->user},
                {_("command"), e->command},
                {_("operation"), e->op},
                {_("data set"), e->dataset},
                {_("medium"), e->medium},
                {_("generation"), e->generation},
                {_("result"), outcome_words(e)},
                {_("error"), err}};
    printf(_("record #%llu of the audit log (`bkp audit verify` proves the chain and its "
             "signatures)\n"),
           (unsigned long long)e->seq);
    for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++)
        if (rows[i].value && *rows[i].value) {
            fputs("  ", stdout);
            cli_pad(stdout, rows[i].name, 14);
            put_safe(rows[i].value);
            fputc('\n', stdout);
        }
    const char *k;
    json_t *v;
    bool any = false;
    json_object_foreach((json_t *)e->figures, k, v)
    {
        if (!strcmp(k, "error_ja")) /* said above, in its place */
            continue;
        if (!any)
            printf("  %s\n", _("details:"));
        any = true;
        figure_whole(k, v, e->figures, 2);
    }
}

static int show_one(const bkp_audit_entry *e, void *ctx)
{
    show_ctx *s = ctx;
    const char *ds = e->dataset;
    s->last = e->seq;
    if (s->seq) {
        if (e->seq != s->seq)
            return 0;
        s->found = true;
        if (s->arr)
            return json_array_append(s->arr, e->json);
        show_whole(e);
        return 0;
    }
    if ((s->since && e->time < s->since) ||
        (s->c->dataset && (!ds || strcmp(ds, s->c->dataset))))
        return 0;
    if (s->arr)
        return json_array_append(s->arr, e->json);
    char local[32] = "?";
    if (e->time)
        cli_time(local, sizeof(local), e->time);
    char fig[1024];
    figures_text(e->figures, " ", fig, sizeof(fig));
    const char *err = e->error;
    const char *err_ja = e->error_ja;
    if (err && err_ja && bkp_i18n_reader_japanese())
        err = err_ja;
    char seq[24];
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)e->seq);
    const char *outcome = outcome_words(e);
    const char *row[] = {seq,
                         local,
                         e->user,
                         *e->op ? e->op : "-",
                         ds ? ds : e->medium,
                         e->generation,
                         outcome,
                         err ? err : fig};
    cli_row(row, show_widths, 8);
    return 0;
}

static int audit_show(cli *c)
{
    char *medium = NULL, *path = log_of(c, &medium);
    free(medium);
    show_ctx s = {
        c,    c->json ? json_array() : NULL, c->since ? cli_parse_day(c->since, false) : 0, 0, 0,
        false};
    if (c->nargs > 1) { /* one record, as a report cites it: 187 or #187 */
        const char *n = c->args[1] + (c->args[1][0] == '#');
        char *end;
        errno = 0;
        unsigned long long v = strtoull(n, &end, 10);
        if (*n < '1' || *n > '9' || *end || errno || c->since || c->dataset) {
            bkp_error(_("'%s' is not a record number: give one as the reports cite it (`bkp audit "
                        "show 187`), without --since or --dataset"),
                      c->args[1]);
            json_decref(s.arr);
            free(path);
            return EXIT_USAGE;
        }
        s.seq = v;
    }
    if (s.since < 0) {
        bkp_error(_("'%s' is not a day: give --since YYYY-MM-DD, or \"YYYY-MM-DD HH:MM\" "
                    "(local time)"),
                  c->since);
        json_decref(s.arr);
        free(path);
        return EXIT_USAGE;
    }
    if (!s.arr && !s.seq) {
        char when[64]; /* the zone named: an inspector's machine may be in another */
        const char *head[] = {_("SEQ"),
                              cli_time_head(when, sizeof(when), _("TIME")),
                              _("USER"),
                              _("OP"),
                              _("SET/MEDIUM"),
                              _("GENERATION"),
                              _("RESULT"),
                              _("DETAIL")};
        cli_row(head, show_widths, 8);
    }
    int rc = bkp_audit_each(path, show_one, &s);
    if (rc)
        bkp_error(_("cannot read the audit log %s: %s"), path, bkp_strerror(rc));
    else if (s.seq && !s.found) {
        bkp_error(_("the audit log %s has no record #%llu: its records are numbered 1 to %llu"),
                  path, (unsigned long long)s.seq, (unsigned long long)s.last);
        json_decref(s.arr);
        free(path);
        return EXIT_USAGE;
    } else if (s.arr)
        cli_print_json(json_incref(s.arr));
    json_decref(s.arr);
    free(path);
    return rc ? EXIT_FAILED : EXIT_OK;
}

/* audit check FILE: the signed record that names this report file by its
 * SHA-256 (a drill's record keeps the SHA-256 of each report it wrote). */
typedef struct check_ctx {
    char sum[2 * crypto_hash_sha256_BYTES + 1];
    const char *base; /* the file's name, for a record that names it */
    /* Each held by a reference to its record (json NULL: none found). */
    bkp_audit_entry found; /* the first record whose reports_sha256 holds `sum` */
    char more[128];        /* the others of the same drill (one a data set): ", #23" */
    bkp_audit_entry named; /* else the last that names a report of this name */
} check_ctx;

static int check_one(const bkp_audit_entry *e, void *ctx)
{
    check_ctx *k = ctx;
    if (bkp_audit_names_report(e, k->sum, NULL)) {
        if (!k->found.json) /* the first: the drill that wrote it */
            bkp_audit_entry_hold(&k->found, e);
        else
            bkp_strappend(k->more, sizeof(k->more), ", #%llu", (unsigned long long)e->seq);
        return 0;
    }
    if (bkp_audit_names_report(e, NULL, k->base)) {
        bkp_audit_entry_hold(&k->named, e);
    }
    return 0;
}

static void check_said(const cli *c, const char *file, const check_ctx *k, const uint8_t pk[32])
{
    const bkp_audit_entry *r = k->found.json ? &k->found : k->named.json ? &k->named : NULL;
    rb_drill_figures drill = {.runbook = NULL};
    if (r)
        rb_drill_figures_read(r, &drill);
    const char *runbook = drill.runbook, *who = drill.attested_by;
    long long seq = r ? (long long)r->seq : 0;
    bool old = k->named.json && !bkp_audit_keeps_sums(r);
    const char *outcome = !r ? NULL : r->ok ? "ok" : "failed";
    if (c->json) {
        cli_print_json(json_pack("{s:s, s:s, s:b, s:b, s:o, s:s?, s:s?, s:s?, s:o}", "file", file,
                                 "sha256", k->sum, "unchanged", k->found.json != NULL, "checkable",
                                 !old, "record", r ? json_integer(seq) : json_null(), "op",
                                 r ? r->op : NULL, "runbook", runbook, "outcome", outcome, "time",
                                 r && r->time ? bkp_json_when(r->time) : json_null()));
        return;
    }
    char when[64];
    bkp_local_time(when, sizeof(when), r ? r->time : 0, "?");
    time_t f, t;
    bool answer;
    if (k->found.json && ops_report_rec_read(&k->found, &f, &t, &answer)) { /* an evidence report */
        char from[64], to[64];
        bkp_local_time(from, sizeof(from), f, "?");
        bkp_local_time(to, sizeof(to), t, "?");
        printf(_("%s: unchanged — the evidence report for %s to %s, made on %s (its answer: %s), "
                 "in the signed audit record #%lld\n"),
               file, from, to, when, answer ? _("yes") : _("no"), seq);
    } else if (k->found.json && k->more[0])
        printf(_("%s: unchanged — the report of the drill of runbook %s on %s (%s%s%s), in the "
                 "signed audit records #%lld%s (one for each data set)\n"),
               file, runbook ? runbook : "?", when,
               r->ok ? _("succeeded") : _("FAILED"),
               who ? _(", attended by ") : "", who ? who : "", seq, k->more);
    else if (k->found.json)
        printf(_("%s: unchanged — the report of the drill of runbook %s on %s (%s%s%s), in the "
                 "signed audit record #%lld\n"),
               file, runbook ? runbook : "?", when,
               r->ok ? _("succeeded") : _("FAILED"),
               who ? _(", attended by ") : "", who ? who : "", seq);
    else if (old)
        printf(_("%s: the signed audit record #%lld (%s) names a report of this name, but was "
                 "written by a bkp that kept no SHA-256 of its reports: this file cannot be "
                 "checked\n"),
               file, seq, when);
    else if (k->named.json)
        printf(_("%s: CHANGED since it was written — the signed audit record #%lld (%s) names a "
                 "report of this name with another SHA-256\n"),
               file, seq, when);
    else
        printf(_("%s: no signed record of this audit log names this file (SHA-256 %s): it is not "
                 "a report this repository wrote (a drill's, or an evidence report), or it was "
                 "changed since, or it was printed rather than written (an evidence report is "
                 "recorded only when written with `bkp audit report ... -o FILE`)\n"),
               file, k->sum);
    /* Whose key the records were checked with: the one an inspector wrote
     * down, or the server's own, which its root could have replaced. */
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(pk, fp);
    if (c->public_key)
        printf(_("  checked with the public key you gave (%s)\n"), fp);
    else
        printf(_("  checked with this server's own copy of the key (%s); an inspector gives the "
                 "key written down: --public-key KEY\n"),
               fp);
}

static int audit_check(cli *c)
{
    const char *file = c->nargs > 1 ? c->args[1] : NULL;
    if (!file) {
        bkp_error(_("give the report file to check: `bkp audit check FILE`"));
        return EXIT_USAGE;
    }
    bkp_buf b;
    bkp_buf_init(&b);
    int rc = bkp_read_file(file, &b, 64u << 20);
    if (rc) {
        bkp_error(_("cannot read %s: %s"), file, bkp_strerror(rc));
        bkp_buf_free(&b);
        return EXIT_USAGE;
    }
    uint8_t sum[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sum, b.data, b.len);
    bkp_buf_free(&b);
    check_ctx k = {.base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file};
    sodium_bin2hex(k.sum, sizeof(k.sum), sum, sizeof(sum));
    /* With no repository at hand (an inspector's machine): the journal or
     * copy of the log given, against the key written down. */
    const uint8_t *pk = c->ro ? bkp_repo_sign_pk(c->ro) : c->pinned_pk;
    char *medium = NULL, *path = c->ro ? log_of(c, &medium) : strdup(c->journal);
    free(medium);
    /* Only records signed by the repository's key count: one an insider
     * wrote for an edited report is never seen. */
    bkp_audit_check lchk = {0};
    rc = path ? bkp_audit_each_sound(path, pk, check_one, &k, &lchk) : -ENOMEM;
    /* A drill that read a copy where no primary was open kept its record
     * in a journal beside its reports (record.c): that one too, when the
     * log has none and no journal was named. */
    char *journal = NULL;
    const char *slash = strrchr(file, '/');
    if (rc >= 0 && !k.found.json && !c->journal &&
        asprintf(&journal, "%.*s/" BKP_AUDIT_JOURNAL_NAME, slash ? (int)(slash - file) : 1,
                 slash ? file : ".", bkp_repo_uuid(c->ro)) >= 0 &&
        !access(journal, F_OK)) {
        int jrc = bkp_audit_each_sound(journal, pk, check_one, &k, NULL);
        if (jrc < 0)
            bkp_warn(_("cannot read the journal %s: %s"), journal, bkp_strerror(jrc));
    }
    free(journal);
    if (rc < 0)
        bkp_error(_("cannot read the audit log %s: %s"), path ? path : "?", bkp_strerror(rc));
    else
        check_said(c, file, &k, pk);
    /* The file is the report as made whatever became of the log since; but
     * an inspector is told when the log is not whole. */
    if (rc >= 0 && lchk.first_bad)
        bkp_warn(_("the audit log %s is not whole from record %llu (`bkp audit verify` says "
                   "why): each record, this report's too, is checked by its own signature, but "
                   "the chain no longer vouches that none is missing or changed from there on"),
                 path, (unsigned long long)lchk.first_bad);
    free(path);
    bkp_audit_entry_release(&k.named);
    bool ok = rc >= 0 && k.found.json;
    bkp_audit_entry_release(&k.found);
    return rc < 0 ? EXIT_FAILED : ok ? EXIT_OK : EXIT_FAILED;
}

/* The copy of the log on medium `m`, checked under `pk`, into `log`: a
 * bucket's by its rule (bkp_bucket_fetch_audit: the version that goes
 * furthest), `*a` saying what was found; a disk's as its last rotation
 * left it. An exit code. */
static int medium_log(cli *c, const cli_medium *m, const uint8_t *pk, bkp_buf *log,
                      bkp_bucket_audit *a, bool *bucket)
{
    *bucket = !pol_type_at_path(m->kind);
    if (*bucket) {
        bkp_s3 *s = NULL;
        int ex = cli_object_open(c, m, &s);
        int rc = ex ? 0 : bkp_bucket_fetch_audit(s, pk, log, a);
        bkp_s3_close(s);
        if (rc == -ENOENT)
            bkp_error(_("the bucket of %s holds no copy of the audit log: no rotation to it has "
                        "finished, or it is not the bucket the policy names"),
                      m->name);
        if (!ex && !rc)
            bkp_bucket_audit_say(a);
        return ex ? ex : rc ? EXIT_FAILED : EXIT_OK;
    }
    if (pol_type_write_once(m->kind)) {
        bkp_error(_("%s is an archive medium: each archive holds the log's copy of its day "
                    "(FORMAT.md §9b); read it with `bkp restore --from` or tar"),
                  m->name);
        return EXIT_USAGE;
    }
    char *repo = cli_medium_repo(m), *path = repo ? bkp_path_join(repo, BKP_AUDIT_COPY) : NULL;
    bkp_audit_check chk = {0};
    int rc = path ? bkp_audit_read(path, log) : -ENOMEM;
    if (rc == -ENOENT)
        bkp_error(_("%s holds no copy of the audit log at %s: is the disk mounted there, and was "
                    "it rotated to?"),
                  m->name, path);
    else if (!rc && (rc = bkp_audit_verify_bytes(path, log, pk, NULL, &chk)) >= 0 && chk.bad)
        bkp_error(_("audit log %s: %s"), path, chk.problem_local);
    else if (rc < 0 && rc != -ENOMEM && rc != -EFBIG)
        bkp_error(_("cannot read the audit log %s: %s"), path, bkp_strerror(rc));
    else if (!rc && !chk.records)
        bkp_error(_("the copy of the audit log at %s holds no record: it is no copy a rotation "
                    "left"),
                  path);
    int ex = rc < 0 || chk.bad || !chk.records ? EXIT_FAILED : EXIT_OK;
    a->records = ex ? 0 : chk.records;
    free(repo);
    free(path);
    return ex;
}

/* fetch MEDIUM -o FILE: the copy of the primary's log a medium holds,
 * checked, into FILE, where `audit show` and `audit verify --journal` read
 * it on any machine: the bad day's, with a bucket the one copy left, or the
 * inspector's. What someone put in the bucket (a rollback, a forged or
 * hidden version, versions left unread) is said and exits 1, the file
 * holding the copy that goes furthest of those read. */
static int audit_fetch(cli *c)
{
    if (c->nargs < 2 || !c->output || c->journal) {
        bkp_error(_("give the medium and the file to write: `bkp audit fetch cloud -o "
                    "old-log.jsonl`"));
        return EXIT_USAGE;
    }
    if (access(c->output, F_OK) == 0) { /* before the bucket is read (and again at the write) */
        bkp_error(_("%s exists: give another file, or remove it first"), c->output);
        return EXIT_USAGE;
    }
    /* The bad day's machine: the policy kept with the papers says where the
     * bucket is; nothing here does. */
    if (!c->ro && !cli_policy_named(c) && access(POL_DEFAULT_FILE, F_OK) != 0) {
        bkp_error(_("no policy here says where %s is: name the copy of the policy kept with the "
                    "papers, --policy FILE (the bucket's address and its credentials file)"),
                  c->args[1]);
        return EXIT_USAGE;
    }
    const uint8_t *pk = c->ro ? bkp_repo_sign_pk(c->ro) : c->pinned_pk;
    cli_medium m;
    bkp_buf log;
    bkp_bucket_audit a = {0};
    bool bucket = false;
    bkp_buf_init(&log);
    int ex = cli_medium_find(c, c->args[1], &m);
    if (!ex)
        ex = medium_log(c, &m, pk, &log, &a, &bucket);
    int rc = ex ? 0
                : bkp_durable_write_path(c->output, log.data, log.len,
                                         BKP_DURABLE_NOREPLACE | BKP_DURABLE_PRIVATE);
    bkp_buf_free(&log);
    if (rc == -EEXIST)
        bkp_error(_("%s exists: give another file, or remove it first"), c->output);
    else if (rc)
        bkp_error(_("cannot write %s: %s"), c->output, bkp_strerror(rc));
    ex = ex ? ex : rc == -EEXIST || rc == -EISDIR ? EXIT_USAGE : rc ? EXIT_FAILED : EXIT_OK;
    bool tampered = bucket && bkp_bucket_audit_tampered(&a);
    char fp[BKP_FINGERPRINT_LEN], when[64];
    bkp_pubkey_fingerprint(pk, fp);
    bkp_local_time(when, sizeof(when), a.written, "?");
    if (!ex && c->json) {
        json_t *out = json_pack("{s:b, s:s, s:s, s:I, s:s}", "ok", !tampered, "medium", m.name,
                                "file", c->output, "records", (json_int_t)a.records, "key", fp);
        if (out && bucket)
            json_object_update_new(
                out, json_pack("{s:s, s:I, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:s?}", "version",
                               a.version, "written", (json_int_t)a.written, "current", a.current,
                               "state", bkp_bucket_audit_state_name(a.state), "hidden", a.hidden,
                               "versions", (json_int_t)a.versions, "tried", (json_int_t)a.tried,
                               "failed", (json_int_t)a.failed, "untried", (json_int_t)a.untried,
                               "other", *a.other ? a.other : NULL));
        cli_print_json(out);
    } else if (!ex && bucket) {
        printf(_("the copy of the audit log in the bucket of %s: version %s, written %s, %llu "
                 "record(s), chain and signatures by the key %s sound; of the %zu version(s) "
                 "checked (of %zu kept there), the one whose records go furthest; written to "
                 "%s\n"),
               m.name, a.version, when, (unsigned long long)a.records, fp, a.tried, a.versions,
               c->output);
    } else if (!ex) {
        printf(_("the copy of the audit log on %s (as its last rotation left it): %llu "
                 "record(s), chain and signatures by the key %s sound; written to %s\n"),
               m.name, (unsigned long long)a.records, fp, c->output);
    }
    if (!ex && !c->json)
        printf(_("Read it: bkp audit show --journal %s\n"
                 "Check it on any machine: bkp audit verify --journal %s --public-key \"%s\"\n"),
               c->output, c->output, fp);
    if (!ex && tampered && !c->json)
        bkp_error(_("someone holding the bucket's credentials put versions there (said above): "
                    "%s holds the copy of the log that goes furthest of those read; keep it with "
                    "the incident report"),
                  c->output);
    cli_medium_clear(&m);
    return ex ? ex : tampered ? EXIT_FAILED : EXIT_OK;
}

/* What bkp_audit_restart found (the record keeps the English word), for a
 * person. */
static const char *found_shown(const char *kind)
{
    return !strcmp(kind, "missing")        ? C_("audit log found", "missing")
           : !strcmp(kind, "emptied")      ? C_("audit log found", "emptied")
           : !strcmp(kind, "shortened")    ? C_("audit log found", "shortened")
           : !strcmp(kind, "rewritten")    ? C_("audit log found", "rewritten")
           : !strcmp(kind, "no head")      ? C_("audit log found", "no head")
           : !strcmp(kind, "damaged head") ? C_("audit log found", "damaged head")
                                           : kind;
}

/* An operator's answer to a lost log: continue it with a signed record of
 * the loss (never done by any other command). */
static int audit_restart(cli *c)
{
    char found[32] = "";
    const char *reason = c->nargs > 1 ? c->args[1] : NULL;
    if (!reason || !*reason) {
        bkp_error(_("give the reason, as the record will keep it: `bkp audit restart \"the disk "
                    "was replaced; log lost\"`"));
        return EXIT_USAGE;
    }
    if (!c->r) { /* --public-key: nothing can be signed */
        bkp_error(_("audit restart signs a record: it needs the repository's key; leave out "
                    "--public-key"));
        return EXIT_USAGE;
    }
    int rc = bkp_audit_restart(c->r, reason, found, sizeof(found));
    if (rc == -EEXIST) {
        bkp_error(_("the audit log and its head marker agree: there is nothing to restart; `bkp "
                    "audit verify` checks the rest"));
        return EXIT_USAGE;
    }
    if (rc)
        return EXIT_FAILED;
    printf(_("audit log: found %s; continued with a signed record of the loss (op "
             "log_restarted)\n"),
           found_shown(found));
    return EXIT_OK;
}

int cmd_audit(cli *c)
{
    if (c->public_key && strcmp(c->args[0], "verify") && strcmp(c->args[0], "show") &&
        strcmp(c->args[0], "check") && strcmp(c->args[0], "fetch")) {
        bkp_error(_("--public-key belongs to `bkp audit verify` (and `bkp verify`): audit %s needs "
                    "the key"),
                  c->args[0]);
        return EXIT_USAGE;
    }
    if (c->output && strcmp(c->args[0], "report") && strcmp(c->args[0], "fetch")) {
        bkp_error(_("-o belongs to `bkp audit report -o FILE`: audit %s prints on the terminal"),
                  c->args[0]);
        return EXIT_USAGE;
    }
    if (!strcmp(c->args[0], "verify"))
        return audit_verify(c);
    if (!strcmp(c->args[0], "report"))
        return cli_audit_report(c);
    if (!strcmp(c->args[0], "show"))
        return audit_show(c);
    if (!strcmp(c->args[0], "restart"))
        return audit_restart(c);
    if (!strcmp(c->args[0], "fetch"))
        return audit_fetch(c);
    if (!strcmp(c->args[0], "check"))
        return audit_check(c);
    bkp_error(_("unknown audit command '%s'; use `bkp audit verify [--against FILE]`, `bkp audit "
                "show [SEQ] [--since DATE] [--dataset NAME] [--json]`, `bkp audit check REPORT`, "
                "`bkp audit fetch MEDIUM -o FILE` or `bkp audit restart REASON`"),
              c->args[0]);
    return EXIT_USAGE;
}
