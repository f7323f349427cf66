/*
 * audit_problem.c — what is wrong with an audit log, said (audit.h): a
 * stable word for programs, a sentence in English for what programs keep
 * (--json "problem", records) and the same sentence in the reader's
 * language, all from one code and its details. The status page and the
 * evidence statement, which read a JSON document, say it from there in
 * their own language.
 */
#include "bkp/audit/audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bkp/audit/audit_internal.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

static const char *const names[BKP_AUDIT_CODES] = {
    [BKP_AUDIT_SOUND] = "",
    [BKP_AUDIT_UNREADABLE] = "unreadable",
    [BKP_AUDIT_MISSING] = "missing",
    [BKP_AUDIT_DELETED] = "deleted",
    [BKP_AUDIT_NOT_JSON] = "not_json",
    [BKP_AUDIT_NOT_RECORD] = "not_a_record",
    [BKP_AUDIT_SEQUENCE_GAP] = "sequence_gap",
    [BKP_AUDIT_CHAIN_BROKEN] = "chain_broken",
    [BKP_AUDIT_WRONG_SIGNATURE] = "wrong_signature",
    [BKP_AUDIT_ALTERED] = "altered",
    [BKP_AUDIT_HEAD_MISSING] = "head_missing",
    [BKP_AUDIT_HEAD_DAMAGED] = "head_damaged",
    [BKP_AUDIT_LOG_REMOVED] = "log_removed",
    [BKP_AUDIT_EMPTIED] = "emptied",
    [BKP_AUDIT_ROLLED_BACK] = "rolled_back",
    [BKP_AUDIT_REWRITTEN] = "rewritten",
    [BKP_AUDIT_TORN_END] = "torn_end",
    [BKP_AUDIT_COPY_DIFFERS] = "differs_from_copy",
    [BKP_AUDIT_COPY_LONGER] = "shorter_than_copy",
    [BKP_AUDIT_TIME_BACKWARDS] = "time_backwards",
};

const char *bkp_audit_code_name(bkp_audit_code code)
{
    return code < BKP_AUDIT_CODES ? names[code] : "";
}

/* `fmt` (English, marked N_) in English or in the reader's language. */
static void __attribute__((format(printf, 4, 5)))
say(char *buf, size_t n, bool english, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, english ? fmt : _(fmt), ap);
    va_end(ap);
}

/* The same with one of record_format's formats (not a literal here), whose
 * one argument is the record's number as unsigned long long. */
static void say_record(char *buf, size_t n, bool english, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, english ? fmt : _(fmt), ap);
    va_end(ap);
}

/* A sentence without arguments (marked N_), in English or the reader's. */
static const char *word(bool english, const char *msg)
{
    return english ? msg : _(msg);
}

/* The sentence of a problem about one record: the formats take its number
 * as unsigned long long. */
static const char *record_format(bkp_audit_code code)
{
    switch (code) {
    case BKP_AUDIT_NOT_JSON:
        return N_("record %llu is not valid JSON");
    case BKP_AUDIT_NOT_RECORD:
        return N_("record %llu is not an audit record (no op or time)");
    case BKP_AUDIT_SEQUENCE_GAP:
        return N_("record %llu has the wrong sequence number (records were removed, added or "
                  "reordered)");
    case BKP_AUDIT_CHAIN_BROKEN:
        return N_("record %llu does not chain to the record before it (that record was changed "
                  "or removed)");
    case BKP_AUDIT_WRONG_SIGNATURE:
        return N_("record %llu is not signed by this repository's key (edited or forged)");
    case BKP_AUDIT_ALTERED:
        return N_("record %llu is not in the form it was written in (edited)");
    case BKP_AUDIT_REWRITTEN:
        return N_("record %llu is not the one its signed head marker names: the log was "
                  "rewritten from there on");
    default:
        return NULL;
    }
}

/* Records lost at the end, against the head marker. */
static void lost_end(const bkp_audit_problem *p, bool en, char *buf, size_t n)
{
    size_t from = (size_t)p->at;
    unsigned long long to = (unsigned long long)p->upto;
    if (p->code == BKP_AUDIT_LOG_REMOVED)
        say(buf, n, en,
            N_("the log is missing: records %zu to %llu are missing at the end (its signed head "
               "marker says the log reached record %llu): the log was deleted; `bkp audit "
               "restart REASON` records the loss and continues"),
            from, to, to);
    else if (p->code == BKP_AUDIT_EMPTIED)
        say(buf, n, en,
            N_("the log is empty: records %zu to %llu are missing at the end (its signed head "
               "marker says the log reached record %llu): the log was emptied; `bkp audit "
               "restart REASON` records the loss and continues"),
            from, to, to);
    else
        say(buf, n, en,
            N_("the log was cut short: records %zu to %llu are missing at the end (its signed "
               "head marker says the log reached record %llu): the log was shortened; `bkp "
               "audit restart REASON` records the loss and continues"),
            from, to, to);
}

static void render(const bkp_audit_problem *p, bool en, char *buf, size_t n)
{
    const char *rec = record_format(p->code);
    const char *err = en ? bkp_strerror_en(p->err) : bkp_strerror(p->err);
    *buf = '\0';
    if (rec)
        say_record(buf, n, en, rec, (unsigned long long)p->at);
    else if (p->code == BKP_AUDIT_UNREADABLE)
        say(buf, n, en, N_("cannot be read: %s"), err);
    else if (p->code == BKP_AUDIT_MISSING)
        snprintf(buf, n, "%s", word(en, N_("the log is missing")));
    else if (p->code == BKP_AUDIT_DELETED)
        snprintf(buf, n, "%s",
                 word(en, N_("the log is missing and so is its head marker: every repository has "
                             "a log from `bkp init` on, so it was deleted; `bkp audit restart "
                             "REASON` continues with a signed record of the loss")));
    else if (p->code == BKP_AUDIT_HEAD_MISSING)
        say(buf, n, en,
            N_("its head marker %s is missing, so records removed from its end would not show "
               "(deleted?); `bkp audit restart REASON` records this and writes a new marker"),
            p->file);
    else if (p->code == BKP_AUDIT_HEAD_DAMAGED)
        say(buf, n, en, N_("its head marker %s is damaged or not signed by this repository (%s)"),
            p->file, err);
    else if (p->code >= BKP_AUDIT_LOG_REMOVED && p->code <= BKP_AUDIT_ROLLED_BACK)
        lost_end(p, en, buf, n);
    else if (p->code == BKP_AUDIT_TORN_END)
        say(buf, n, en, N_("the log ends in a torn record after record %zu (a crash while writing)"),
            (size_t)p->at);
    else if (p->code == BKP_AUDIT_COPY_DIFFERS)
        say(buf, n, en,
            N_("record %zu differs from the copy %s: one of the two logs was rewritten from "
               "there on"),
            (size_t)p->at, p->file);
    else if (p->code == BKP_AUDIT_COPY_LONGER)
        say(buf, n, en,
            N_("records %zu to %zu are missing at the end (the copy %s has them): this log was "
               "cut short"),
            (size_t)p->at, (size_t)p->upto, p->file);
    else if (p->code == BKP_AUDIT_TIME_BACKWARDS) {
        /* Programs read the times as recorded; people, in their own. */
        char when[64], before[64];
        snprintf(when, sizeof(when), "%s", p->when);
        snprintf(before, sizeof(before), "%s", p->before);
        if (!en) {
            bkp_local_time(when, sizeof(when), bkp_iso_parse(p->when), p->when);
            bkp_local_time(before, sizeof(before), bkp_iso_parse(p->before), p->before);
        }
        say(buf, n, en,
            N_("record %zu is dated %s, before %s of an earlier record: times go backwards (the "
               "clock was set back, or records were written with a false time)"),
            (size_t)p->at, when, before);
    }
}

bool bkp_audit_code_edited(bkp_audit_code code)
{
    return code == BKP_AUDIT_NOT_JSON || code == BKP_AUDIT_NOT_RECORD ||
           code == BKP_AUDIT_SEQUENCE_GAP || code == BKP_AUDIT_CHAIN_BROKEN ||
           code == BKP_AUDIT_WRONG_SIGNATURE || code == BKP_AUDIT_ALTERED;
}

bool bkp_audit_code_tampered(bkp_audit_code code)
{
    return code != BKP_AUDIT_SOUND && code != BKP_AUDIT_UNREADABLE &&
           code != BKP_AUDIT_TORN_END && code != BKP_AUDIT_TIME_BACKWARDS && code < BKP_AUDIT_CODES;
}

void bkp_audit_problem_text(const bkp_audit_problem *p, char *buf, size_t n)
{
    render(p, false, buf, n);
}

void bkp_audit_problem_say(bkp_audit_check *chk, const bkp_audit_problem *p)
{
    chk->why = *p;
    render(p, true, chk->problem, sizeof(chk->problem));
    render(p, false, chk->problem_local, sizeof(chk->problem_local));
}

void bkp_audit_problem_to_json(const bkp_audit_problem *p, json_t *obj)
{
    json_object_set_new(obj, "code", json_string(bkp_audit_code_name(p->code)));
    if (p->code == BKP_AUDIT_SOUND)
        return;
    json_t *d = json_object();
    if (p->at)
        json_object_set_new(d, "record", json_integer((json_int_t)p->at));
    if (p->upto)
        json_object_set_new(d, "last_record", json_integer((json_int_t)p->upto));
    if (*p->file)
        json_object_set_new(d, "file", json_string(p->file));
    if (p->err)
        json_object_set_new(d, "errno", json_integer(-p->err));
    if (*p->when)
        json_object_set_new(d, "time", json_string(p->when));
    if (*p->before)
        json_object_set_new(d, "earlier", json_string(p->before));
    json_object_set_new(obj, "detail", d);
}

static const char *str_or_empty(json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}

bool bkp_audit_problem_from_json(const json_t *obj, bkp_audit_problem *p)
{
    const char *code = json_string_value(json_object_get(obj, "code"));
    json_t *d = json_object_get(obj, "detail");
    json_int_t at = json_integer_value(json_object_get(d, "record"));
    json_int_t upto = json_integer_value(json_object_get(d, "last_record"));
    json_int_t err = json_integer_value(json_object_get(d, "errno"));
    memset(p, 0, sizeof(*p));
    for (int c = BKP_AUDIT_SOUND + 1; code && c < BKP_AUDIT_CODES; c++)
        if (!strcmp(code, names[c]))
            p->code = (bkp_audit_code)c;
    if (p->code == BKP_AUDIT_SOUND)
        return false;
    p->at = at > 0 ? (uint64_t)at : 0;
    p->upto = upto > 0 ? (uint64_t)upto : 0;
    /* An error number only where the code says one (an older document may
     * lack it there: an I/O error). */
    bool has_err = p->code == BKP_AUDIT_UNREADABLE || p->code == BKP_AUDIT_HEAD_DAMAGED;
    p->err = err > 0 && err < 4096 ? -(int)err : has_err ? -EIO : 0;
    snprintf(p->file, sizeof(p->file), "%s", str_or_empty(json_object_get(d, "file")));
    snprintf(p->when, sizeof(p->when), "%s", str_or_empty(json_object_get(d, "time")));
    snprintf(p->before, sizeof(p->before), "%s", str_or_empty(json_object_get(d, "earlier")));
    return true;
}

