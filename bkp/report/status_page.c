/* status_page.c — the status page for staff (status_page.h). */
#include "bkp/report/status_page.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "policies/compliance.h"
#include "bkp/report/doc.h"
#include "bkp/io/text.h"

/* Inline, so that the page needs nothing but itself: system fonts, a fluid
 * column for a phone, and a print layout that fits one A4 sheet. Colours
 * always come with a word. */
static const char css[] =
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,sans-serif;margin:0 auto;padding:.8rem;max-width:60rem;"
    "line-height:1.45;color:#1f2328;background:#fff}"
    "h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.2rem 0 .4rem;"
    "border-bottom:2px solid #d0d7de}h3{font-size:1rem;margin:.2rem 0}"
    ".verdict{display:inline-block;padding:.05rem .5rem;border-radius:.3rem;font-weight:bold;"
    "border:2px solid}"
    ".verdict.v-ok{color:#116329;background:#dafbe1;border-color:#1a7f37}"
    ".verdict.v-risk{color:#7d4e00;background:#fff8c5;border-color:#bf8700}"
    ".verdict.v-bad{color:#a40e26;background:#ffebe9;border-color:#cf222e}"
    ".dataset{border:1px solid #d0d7de;border-left:.5rem solid #8c959f;border-radius:.3rem;"
    "padding:.4rem .6rem;margin:.5rem 0;break-inside:avoid}"
    ".dataset.v-ok{border-left-color:#1a7f37}.dataset.v-risk{border-left-color:#bf8700}"
    ".dataset.v-bad{border-left-color:#cf222e}"
    ".action{font-weight:bold;margin:.3rem 0}.reasons{margin:.2rem 0;padding-left:1.2rem}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.3rem 0}"
    "th,td{border:1px solid #d0d7de;padding:.2rem .4rem;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}.late{color:#a40e26;font-weight:bold}"
    "#today li{margin:.2rem 0;font-size:1.05rem}footer{color:#57606a;font-size:.85rem;"
    "margin-top:1rem}"
    "@media (max-width:40rem){body{padding:.5rem}th,td{padding:.15rem .25rem}}"
    "@page{size:A4;margin:10mm}"
    "@media print{body{max-width:none;padding:0;font-size:7.5pt;line-height:1.25}"
    "h1{font-size:12pt;margin:0}h2{font-size:9pt;margin:.35rem 0 .15rem}h3{font-size:8pt}"
    "p{margin:.15rem 0}.dataset{margin:.15rem 0;padding:.1rem .4rem}table{margin:.1rem 0}"
    "th,td{padding:.05rem .3rem}#today li{font-size:8pt;margin:0}footer{margin-top:.3rem}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/* Formatted prose, escaped whole (the values in it come from the policy and
 * the log), `commands` in backquotes as code. */
static void __attribute__((format(printf, 2, 3))) say(FILE *f, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) >= 0)
        rb_html_prose(f, s);
    va_end(ap);
    free(s);
}

/* `<tag attr="value">`, the value escaped. */
static void open_tag(FILE *f, const char *tag, const char *attr, const char *value)
{
    fprintf(f, "<%s %s=\"", tag, attr);
    rb_html_escape(f, value);
    fputs("\">", f);
}

/* "2026-11-24 13:06 JST": local, with the zone. */
static const char *local(char *buf, size_t n, time_t t)
{
    return bkp_local_time(buf, n, t, _("never"));
}

/* "2026-11-30 (Monday)": the day of a rotation, local. */
static const char *day(char *buf, size_t n, time_t t)
{
    static const char *const days[] = {N_("Sunday"),   N_("Monday"), N_("Tuesday"), N_("Wednesday"),
                                       N_("Thursday"), N_("Friday"), N_("Saturday")};
    struct tm tm;
    char date[16];
    if (!localtime_r(&t, &tm) || !strftime(date, sizeof(date), "%Y-%m-%d", &tm))
        snprintf(buf, n, "@%lld", (long long)t);
    else
        snprintf(buf, n, "%s (%s)", date, _(days[tm.tm_wday % 7]));
    return buf;
}

/* The class of a verdict's colour. */
static const char *tone(pol_verdict v)
{
    return v == POL_COMPLIANT ? "v-ok" : v == POL_AT_RISK ? "v-risk" : "v-bad";
}

/* The verdict as a coloured word: the catalogue's word, as `bkp status` and
 * the evidence report say it. */
static void badge(FILE *f, pol_verdict v)
{
    const char *verdict = pol_verdict_name(v);
    fprintf(f, "<span class=\"verdict %s\" data-verdict=\"", tone(v));
    rb_html_escape(f, verdict);
    fputs("\">", f);
    rb_html_escape(f, _(verdict));
    fputs("</span>", f);
}

/* The reasons and the action of data set `d` in the page's language: in
 * Japanese, or in English. */
static const rst_words *said(const rst_dataset *d, bool ja)
{
    return ja ? &d->ja : &d->en;
}

/* "Backup status — FACILITY", escaped as plain text (a title shows no code). */
static void title(FILE *f, const rst_status *st)
{
    char *t = NULL;
    if (asprintf(&t, _("Backup status — %s"), st->facility) >= 0)
        rb_html_escape(f, t);
    free(t);
}

static bool has_facility(const rst_status *st)
{
    return st->facility && *st->facility;
}

static void head(FILE *f, const rst_status *st, bool ja)
{
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
            ja ? "ja" : "en");
    if (has_facility(st))
        title(f, st);
    else
        rb_html_escape(f, _("Backup status"));
    fprintf(f, "</title>\n<style>%s</style>\n</head><body>\n", css);
}

static void header(FILE *f, const rst_status *st, time_t now)
{
    char when[64], iso[32] = "";
    fprintf(f, "<header>\n<h1>");
    if (has_facility(st))
        title(f, st);
    else
        rb_html_escape(f, _("Backup status"));
    fputs("</h1>\n", f);
    if (st->host && *st->host) {
        open_tag(f, "p", "id", "server");
        say(f, _("Backup server: %s"), st->host);
        fputs("</p>\n", f);
    }
    open_tag(f, "p", "id", "generated");
    fputs("<span class=\"when\" data-time=\"", f);
    if (st->generated)
        bkp_iso_time(iso, sizeof(iso), st->generated);
    rb_html_escape(f, iso);
    fputs("\">", f);
    say(f, _("Made %s."), local(when, sizeof(when), now));
    fputs("</span> ", f);
    rb_html_escape(f, _("Each backup run writes this page again (a browser does not refresh it "
                        "by itself): if the time above is older than last night, tell the system "
                        "officer."));
    fputs("</p>\n<p id=\"overall\">", f);
    rb_html_escape(
        f,
        _("Checklist item 3-② (backups, copies, written procedure; the drills below), all data: "));
    badge(f, st->verdict);
    fputs("</p>\n</header>\n", f);
}

/* Where a turn of the calendar stands at `now`: done, coming (a later
 * day), today (later today), due (its time passed less than a day ago) or
 * overdue. */
typedef enum { TURN_DONE, TURN_COMING, TURN_TODAY, TURN_DUE, TURN_OVERDUE } turn_state;

static turn_state turn_at(const rst_turn *t, time_t now)
{
    time_t when = t->when;
    struct tm a, b;
    bool same_day = localtime_r(&when, &a) && localtime_r(&now, &b) && a.tm_year == b.tm_year &&
                    a.tm_yday == b.tm_yday;
    /* A turn of an earlier day not done is late, whatever the hours. */
    return t->done                            ? TURN_DONE
           : when > now                       ? (same_day ? TURN_TODAY : TURN_COMING)
           : now - when >= 86400 || !same_day ? TURN_OVERDUE
                                              : TURN_DUE;
}

/* The page's name of a state (data-state). */
static const char *turn_name(turn_state s)
{
    static const char *const names[] = {"done", "coming", "today", "due", "overdue"};
    return names[s];
}

/* Whether an earlier turn of the calendar already asks for the medium of
 * turn `i` today: one line a medium. */
static bool brought(const rst_status *st, size_t i, time_t now)
{
    for (size_t k = 0; k < i; k++) {
        turn_state s = turn_at(&st->rotations[k], now);
        if (!strcmp(st->rotations[k].medium, st->rotations[i].medium) && s != TURN_DONE &&
            s != TURN_COMING)
            return true;
    }
    return false;
}

/* Is medium `name` plugged in (status.c: connected, left or not)? */
static bool plugged(const rst_status *st, const char *name)
{
    for (size_t i = 0; i < st->nconnected; i++)
        if (!strcmp(st->connected[i].medium, name))
            return true;
    return false;
}

/* A data set whose backups may hold encrypted files (status_doc.h), or NULL. */
static const rst_dataset *suspect_of(const rst_status *st)
{
    for (size_t i = 0; i < st->ndatasets; i++)
        if (st->datasets[i].suspicious)
            return &st->datasets[i];
    return NULL;
}

/* Do data sets `a` and `b` need the same first step, for the same first
 * reason (one line of what to do today says both)? */
static bool same_step(const rst_status *st, size_t a, size_t b, bool ja)
{
    const rst_words *x = said(&st->datasets[a], ja), *y = said(&st->datasets[b], ja);
    return x->nactions && y->nactions && !strcmp(x->actions[0], y->actions[0]) &&
           (x->nreasons ? y->nreasons && !strcmp(x->reasons[0], y->reasons[0]) : !y->nreasons);
}

/* Does a data set before `i` have the same step as `i`? */
static bool same_before(const rst_status *st, size_t i, bool ja)
{
    for (size_t k = 0; k < i; k++)
        if (same_step(st, k, i, ja))
            return true;
    return false;
}

/* Was the audit log checked and found changed, cut or gone (a document
 * of a bkp before the codes: found wanting)? A torn end or a clock set
 * back is a fault, shown in its section, not an alarm. */
static bool log_broken(const rst_audit *a)
{
    return a->checked && !a->ok &&
           (a->absent || a->why.code == BKP_AUDIT_SOUND || bkp_audit_code_tampered(a->why.code));
}

static const char *problem(const rst_audit *a, char *buf, size_t n);

/* What to do today, in words the clinic's manager acts on: each data set
 * that needs something, with why (its first reason), asked of the system
 * officer; an off-line medium to bring, its rotation due today or past; a
 * medium left connected; the key-recovery drill when one is due.
 * The commands for the system officer are apart (it_section). */
static void today(FILE *f, const rst_status *st, time_t now, bool ja)
{
    size_t n = 0;
    fprintf(f, "<section id=\"today\">\n<h2>");
    rb_html_escape(f, _("What to do today"));
    fputs("</h2>\n<ol>\n", f);
    if (log_broken(&st->audit)) {
        fputs("<li class=\"todo late\" data-audit=\"damaged\">", f);
        rb_html_escape(f, _("Tell the system officer today: the backup server's audit log, which "
                            "proves what was done, was changed or lost. It may be a sign of an "
                            "intrusion."));
        fputs("</li>\n", f);
        n++;
    } else if (st->audit.checked && !st->audit.ok) {
        /* A fault: no alarm, but someone must look, and the inspector will
         * ask why. A torn end or a clock set back is not an intrusion by
         * itself; a log that cannot be read is said as only that. */
        char why[1024];
        bkp_audit_code code = st->audit.why.code;
        fputs("<li class=\"todo late\" data-audit=\"fault\">", f);
        if (code == BKP_AUDIT_TORN_END || code == BKP_AUDIT_TIME_BACKWARDS)
            say(f,
                _("Ask the system officer to look at the backup server's audit log: %s. It is "
                  "not a sign of an intrusion by itself, but the evidence report cannot count "
                  "on the records until it is explained."),
                problem(&st->audit, why, sizeof(why)));
        else
            say(f,
                _("Tell the system officer today: the backup server's audit log, which proves "
                  "what was done, could not be read whole (%s). Until it is, the evidence report "
                  "cannot count on it."),
                problem(&st->audit, why, sizeof(why)));
        fputs("</li>\n", f);
        n++;
    }
    for (size_t i = 0; i < st->ndatasets; i++) {
        const rst_dataset *d = &st->datasets[i];
        const rst_words *words = said(d, ja);
        if (!words->nactions || same_before(st, i, ja))
            continue;
        /* The data sets one step sees to, in one line: one disk left
         * plugged in is one thing to do, whatever it holds. */
        char names[1024] = "";
        for (size_t k = i; k < st->ndatasets; k++) {
            if (k != i && !same_step(st, i, k, ja))
                continue;
            const char *one = st->datasets[k].name; /* as its section heads it, with its words */
            if (strlen(names) + strlen(one) + 16 >= sizeof(names)) {
                bkp_strappend(names, sizeof(names), "%s", C_("more names", " …"));
                break;
            }
            bkp_strappend(names, sizeof(names), "%s%s", k == i ? "" : C_("between names", ", "),
                          one);
        }
        open_tag(f, "li class=\"todo\"", "data-dataset", d->name);
        if (words->nreasons)
            say(f, _("%s: ask the system officer to see to it — %s"), names, words->reasons[0]);
        else /* a routine step (a medium's turn): what it is, not "see to it" */
            say(f, _("%s: a routine step for the system officer — %s"), names, words->actions[0]);
        fputs("</li>\n", f);
        n++;
    }
    /* A data set whose backups may hold encrypted files: no off-line disk
     * comes to the server until the system officer has checked, and one
     * plugged in goes now. */
    const rst_dataset *suspect = suspect_of(st);
    for (size_t i = 0; suspect && i < st->nconnected; i++) {
        open_tag(f, "li class=\"todo late\"", "data-hold", st->connected[i].medium);
        say(f,
            _("%s is connected to the backup server: ask the system officer to unmount it now "
              "and take it away. A backup of %s shows signs of ransomware (%s:%u): no copy is "
              "made until it is checked."),
            st->connected[i].medium, suspect->name, suspect->name, suspect->suspicious);
        fputs("</li>\n", f);
        n++;
    }
    for (size_t i = 0; !suspect && i < st->nconnected; i++) {
        const rst_connected *m = &st->connected[i];
        if (!m->left || m->due) /* due: its copy first, said below */
            continue;
        open_tag(f, "li class=\"todo late\"", "data-connected", m->medium);
        say(f,
            _("%s is still connected: ask the system officer to unmount it and take it back to "
              "where it is kept. While it is plugged in, ransomware on the server can reach it."),
            m->medium);
        fputs("</li>\n", f);
        n++;
    }
    for (size_t i = 0; i < st->nrotations; i++) {
        const rst_turn *t = &st->rotations[i];
        turn_state state = turn_at(t, now);
        if (!t->offline || state == TURN_DONE || state == TURN_COMING || brought(st, i, now))
            continue;
        if (suspect && plugged(st, t->medium))
            continue; /* said above: it goes now */
        if (suspect) {
            open_tag(f, "li class=\"todo late\"", "data-hold", t->medium);
            say(f,
                _("Do not bring %s to the backup server yet: a backup of %s shows signs of "
                  "ransomware (%s:%u). The system officer checks the server first."),
                t->medium, suspect->name, suspect->name, suspect->suspicious);
            fputs("</li>\n", f);
            n++;
            continue;
        }
        if (plugged(st, t->medium)) { /* there for its copy: nothing to bring */
            open_tag(f, "li class=\"todo\"", "data-waiting", t->medium);
            say(f,
                _("%s is connected to the backup server for its copy, not made yet: ask the "
                  "system officer to make it; take it away only after."),
                t->medium);
            fputs("</li>\n", f);
            n++;
            continue;
        }
        open_tag(f, "li class=\"todo\"", "data-bring", t->medium);
        /* From where the policy says it is kept, in its words, or from
         * "where it is kept". */
        char late[64], from[POL_KEPT_AT_MAX + 64];
        if (t->kept_at)
            snprintf(from, sizeof(from), _("from %s"), t->kept_at);
        else
            snprintf(from, sizeof(from), "%s", _("from where it is kept"));
        if (state == TURN_OVERDUE)
            say(f, _("Bring %s %s to the backup server for its copy, overdue by %s."), t->medium,
                from, pol_span_text(late, sizeof(late), now - t->when));
        else if (state == TURN_DUE)
            say(f, _("Bring %s %s to the backup server for its copy, due now."), t->medium, from);
        else
            say(f, _("Bring %s %s to the backup server for its copy, due today."), t->medium, from);
        fputs("</li>\n", f);
        n++;
    }
    for (size_t i = 0; i < st->nmedia; i++) {
        const rst_medium *m = &st->media[i];
        if (m->unfinished == RST_FINISHED)
            continue;
        if (m->unfinished == RST_RUNNING) {
            open_tag(f, "li class=\"todo\"", "data-rotating", m->medium);
            say(f,
                _("A copy to %s is running: leave it connected until the system officer says "
                  "it is done."),
                m->medium);
        } else if (m->online) { /* a NAS, a bucket: nobody takes it away */
            open_tag(f, "li class=\"todo late\"", "data-unfinished", m->medium);
            say(f,
                _("The last copy to %s did not finish: it does not hold the newest backups. Ask "
                  "the system officer to look at it today (`bkp status` says why)."),
                m->medium);
        } else {
            open_tag(f, "li class=\"todo late\"", "data-unfinished", m->medium);
            say(f,
                _("The last copy to %s did not finish: it does not hold the newest backups. Ask "
                  "the system officer to copy to it again before it is taken away."),
                m->medium);
        }
        fputs("</li>\n", f);
        n++;
    }
    char when[64];
    if (st->key_drill.old_split) {
        fputs("<li class=\"todo late\" data-key-drill=\"old-split\">", f);
        say(f,
            _("The key-recovery drill of %s opened the key with share sheets of an older split "
              "than the newest: enough of the old sheets are still kept, so it does not count. "
              "Ask the system officer to collect the old sheets and destroy them, then to "
              "rehearse again with the new ones."),
            local(when, sizeof(when), st->key_drill.old_split));
        fputs("</li>\n", f);
        n++;
    }
    if (st->key_drill.due) {
        fputs("<li class=\"todo\" data-key-drill=\"due\">", f);
        if (st->key_drill.new_split)
            say(f,
                _("Rehearse, with the system officer, opening an off-line copy with the new key "
                  "sheets, split again on %s: none of them has opened the key since."),
                local(when, sizeof(when), st->key_drill.new_split));
        else
            say(f,
                _("Rehearse, with the system officer, opening an off-line copy with the key sheets "
                  "from the safe alone: none within %lld days."),
                (long long)(st->key_drill.every / 86400));
        fputs("</li>\n", f);
        n++;
    }
    fputs("</ol>\n", f);
    if (!n) {
        fputs("<p class=\"todo-none\">", f);
        rb_html_escape(f, _("Nothing is due today."));
        fputs("</p>\n", f);
    }
    fputs("</section>\n", f);
}

/* What each medium held when its last rotation ended, when measured. */
static void media_sizes(FILE *f, const rst_status *st)
{
    char *list = NULL, size[32];
    size_t len = 0;
    FILE *l = open_memstream(&list, &len);
    bool any = false;
    for (size_t i = 0; l && i < st->nmedia; i++) {
        const rst_medium *m = &st->media[i];
        if (!m->bytes)
            continue;
        fprintf(l, "%s%s %s", any ? _(", ") : "", m->medium,
                bkp_size_text(size, sizeof(size), m->bytes));
        any = true;
    }
    if (l && !fclose(l) && any) {
        fputs("<p class=\"media-sizes\">", f);
        say(f, _("What each medium held when its last rotation ended: %s."), list);
        fputs("</p>\n", f);
    }
    free(list);
}

/* Whether action `a` of data set `i` is said before it on the page: by a
 * data set before, or before it in its own list. */
static bool told(const rst_status *st, size_t i, size_t a, bool ja)
{
    const char *act = said(&st->datasets[i], ja)->actions[a];
    for (size_t k = 0; k <= i; k++) {
        const rst_words *w = said(&st->datasets[k], ja);
        for (size_t b = 0; b < (k < i ? w->nactions : a); b++)
            if (!strcmp(act, w->actions[b]))
                return true;
    }
    return false;
}

/* For the system officer: the commands of today's work, each once. */
static void it_section(FILE *f, const rst_status *st, bool ja)
{
    size_t n = 0;
    fprintf(f, "<section id=\"it\">\n<h2>");
    rb_html_escape(f, _("For the system officer"));
    fputs("</h2>\n<ul>\n", f);
    if (log_broken(&st->audit)) {
        fputs("<li class=\"cmd\" data-audit=\"damaged\">", f);
        rb_html_escape(f, _("the audit log: `bkp audit verify` says what is wrong and what to do; "
                            "`bkp audit verify --against MEDIUM` whether an off-line disk's copy "
                            "holds it as written"));
        fputs("</li>\n", f);
        n++;
    }
    for (size_t i = 0; i < st->ndatasets; i++) {
        const rst_dataset *d = &st->datasets[i];
        const rst_words *w = said(d, ja);
        for (size_t a = 0; a < w->nactions; a++) {
            if (told(st, i, a, ja))
                continue;
            open_tag(f, "li class=\"cmd\"", "data-dataset", d->name);
            say(f, _("%s: %s"), d->name, w->actions[a]);
            fputs("</li>\n", f);
            n++;
        }
    }
    const rst_dataset *suspect = suspect_of(st);
    for (size_t i = 0; i < st->nconnected; i++) {
        const rst_connected *m = &st->connected[i];
        if (suspect) { /* no copy now: it goes */
            open_tag(f, "li class=\"cmd\"", "data-hold", m->medium);
            say(f, _("%s: `umount %s` now (no copy to it while %s:%u is not checked)"), m->medium,
                m->path, suspect->name, suspect->suspicious);
        } else if (!m->left) {
            continue;
        } else if (m->due) { /* its copy first, then away */
            open_tag(f, "li class=\"cmd\"", "data-rotate", m->medium);
            say(f, _("%s: `bkp rotate %s --unmount` (it is due; it unmounts the disk after)"),
                m->medium, m->medium);
        } else {
            open_tag(f, "li class=\"cmd\"", "data-connected", m->medium);
            say(f, _("%s: `umount %s` now, and take it back to where it is kept"), m->medium,
                m->path);
        }
        fputs("</li>\n", f);
        n++;
    }
    for (size_t i = 0; i < st->nmedia; i++) {
        const rst_medium *m = &st->media[i];
        char room[32], wrote[32], when[64];
        if (rst_medium_foreign_said(st, i)) {
            open_tag(f, "li class=\"todo late\"", "data-other-repository", m->medium);
            say(f,
                _("The disk at %s is not %s but one of another repository (an old disk?): ask "
                  "the system officer to unmount it and keep it where it belongs"),
                m->path, m->medium);
            fputs("</li>\n", f);
            n++;
        }
        if (rst_medium_tight(m)) {
            open_tag(f, "li class=\"cmd\"", "data-tight", m->medium);
            say(f,
                _("%s: its last rotation left %s free, less than a rotation to it copies "
                  "(about %s): before the next, a larger disk or fewer generations on it (`bkp "
                  "rotate %s --dry-run` says what it needs)"),
                m->medium, bkp_size_text(room, sizeof(room), m->free_after),
                bkp_size_text(wrote, sizeof(wrote), m->wrote), m->medium);
            fputs("</li>\n", f);
            n++;
        }
        if (m->unfinished != RST_FAILED && m->unfinished != RST_CUT_OFF)
            continue;
        bkp_local_time(when, sizeof(when), m->began, "?");
        open_tag(f, "li class=\"cmd\"", "data-unfinished", m->medium);
        if (m->unfinished == RST_FAILED && m->full && m->pruned_first)
            say(f,
                _("%s: its rotation of %s failed, the disk too small even after its old "
                  "generations went: a larger disk (`bkp media label PATH --name %s --force`)"),
                m->medium, when, m->medium);
        else if (m->unfinished == RST_FAILED && m->full)
            say(f,
                _("%s: its rotation of %s failed, the disk full: `bkp rotate %s --dry-run` lists "
                  "what its retention deletes after the copy, `bkp rotate %s --prune-first` "
                  "deletes that first; or use a larger disk"),
                m->medium, when, m->medium, m->medium);
        else if (m->unfinished == RST_FAILED)
            say(f, _("%s: its rotation of %s failed (%s): `bkp rotate %s` again"), m->medium, when,
                rst_medium_why(m, ja, "`bkp audit show`"), m->medium);
        else
            say(f, _("%s: its rotation of %s never ended: `bkp rotate %s` again"), m->medium, when,
                m->medium);
        fputs("</li>\n", f);
        n++;
    }
    if (st->key_drill.due || st->key_drill.old_split) {
        fputs("<li class=\"cmd\" data-key-drill=\"due\">", f);
        say(f, "%s",
            _("`bkp drill RUNBOOK --medium M --key-from SHEET...` with the sheets from "
              "the safe"));
        fputs("</li>\n", f);
        n++;
    }
    if (!n) {
        fputs("<li>", f);
        rb_html_escape(f, _("Nothing."));
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
    /* What a disk or a tape for a copy must hold. */
    uint64_t stored = st->has_storage ? st->storage.stored : 0, newest = st->storage.newest;
    if (stored) {
        char a[32], b[32];
        bool disk, bucket;
        rst_copy_kinds(st, &disk, &bucket);
        fputs("<p class=\"storage\">", f);
        say(f, _("The backups take %s on the backup server's disk."),
            bkp_size_text(a, sizeof(a), stored));
        /* Each sentence after the first with its space, as a language puts one. */
        if (disk || bucket)
            say(f, "%s",
                disk && bucket ? _(" A copy on a disk or in a bucket needs about as much, with "
                                   "its recovery kit.")
                : disk         ? _(" A copy on a disk needs about as much, with its recovery kit.")
                               : _(" A copy in a bucket needs about as much."));
        say(f, _(" A restore of everything writes %s."), bkp_size_text(b, sizeof(b), newest));
        fputs("</p>\n", f);
    }
    media_sizes(f, st);
    fputs("</section>\n", f);
}

/* One row of a data set's copies: which, where it is kept, the newest
 * generation on it, its age. */
static void copy_row(FILE *f, const char *name, const char *medium, const char *where,
                     time_t captured, time_t now)
{
    char when[64], age[64] = "-";
    long long secs = captured ? (long long)(now > captured ? now - captured : 0) : -1;
    if (captured)
        pol_span_text(age, sizeof(age), secs);
    fprintf(f, "<tr class=\"copy\" data-medium=\"");
    rb_html_escape(f, medium);
    fprintf(f, "\" data-age-seconds=\"%lld\"><td>", secs);
    rb_html_escape(f, name);
    fputs("</td><td>", f);
    rb_html_escape(f, where);
    fputs("</td><td>", f);
    rb_html_escape(f, local(when, sizeof(when), captured));
    fputs("</td><td>", f);
    rb_html_escape(f, age);
    fputs("</td></tr>\n", f);
}

/* The header cells of a table (NULL-terminated), in the page's language. */
static void table(FILE *f, const char *cls, const char *const *heads)
{
    fprintf(f, "<div class=\"scroll\"><table class=\"%s\"><tr>", cls);
    for (; *heads; heads++) {
        fputs("<th>", f);
        rb_html_escape(f, *heads);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
}

static void copies(FILE *f, const rst_dataset *d, time_t now)
{
    table(
        f, "copies",
        (const char *[]){_("Copy"), _("Where it is kept"), _("Newest generation"), _("Age"), NULL});
    /* The copy on the server itself, in words staff use. */
    copy_row(f, _("the backup server"), "", pol_medium_place_words(false, false), d->last_backup,
             now);
    for (size_t k = 0; k < d->ncopies; k++) {
        const rst_copy *m = &d->copies[k];
        copy_row(f, m->medium, m->medium, pol_medium_place_words(m->offsite, m->offline),
                 m->captured, now);
    }
    fputs("</table></div>\n", f);
}

static void dataset(FILE *f, const rst_dataset *d, time_t now, bool ja)
{
    const rst_words *words = said(d, ja);
    fprintf(f, "<article class=\"dataset %s\" data-dataset=\"", tone(d->verdict));
    rb_html_escape(f, d->name);
    fputs("\" data-verdict=\"", f);
    rb_html_escape(f, pol_verdict_name(d->verdict));
    fputs("\">\n<h3><span class=\"name\">", f);
    rb_html_escape(f, d->name);
    fputs("</span> ", f);
    if (d->description && *d->description) {
        fputs("<span class=\"desc\">", f);
        rb_html_escape(f, d->description);
        fputs("</span> ", f);
    }
    badge(f, d->verdict);
    /* Its command is for the system officer, at the end of the page. */
    fputs("</h3>\n<p class=\"action\">", f);
    /* Beside a green badge a step to take is routine (a disk's turn), not
     * a problem: said so, for the clerk who reads the badge first. */
    rb_html_escape(f, !words->nactions              ? _("Nothing to do.")
                      : d->verdict == POL_COMPLIANT ? _("A routine task is due: see \"What to do "
                                                        "today\".")
                                                    : _("Something to do: see \"What to do "
                                                        "today\"."));
    fputs("</p>\n", f);
    if (words->nreasons) {
        fputs("<ul class=\"reasons\">\n", f);
        for (size_t r = 0; r < words->nreasons; r++) {
            fputs("<li>", f);
            rb_html_prose(f, words->reasons[r]);
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    long long g = (long long)d->generations;
    fprintf(f, "<p class=\"generations%s\" data-generations=\"%lld\">", g < 3 ? " late" : "", g);
    say(f,
        _("Generations kept: %lld (a generation is the data as it was at one backup; checklist "
          "item 3-② asks for three or more)"),
        g);
    fputs("</p>\n", f);
    copies(f, d, now);
    fputs("</article>\n", f);
}

static void datasets(FILE *f, const rst_status *st, time_t now, bool ja)
{
    fprintf(f, "<section id=\"datasets\">\n<h2>");
    rb_html_escape(f, _("Each data set"));
    fputs("</h2>\n", f);
    for (size_t i = 0; i < st->ndatasets; i++)
        dataset(f, &st->datasets[i], now, ja);
    fputs("</section>\n", f);
}

/* Due, a day past due, or coming. */
static void rotation_row(FILE *f, const rst_turn *t, time_t now)
{
    char date[64], late[64], iso[32] = "";
    time_t when = t->when;
    turn_state state = turn_at(t, now);
    fprintf(f, "<tr class=\"rotation\" data-state=\"%s\" data-medium=\"", turn_name(state));
    rb_html_escape(f, t->medium);
    fputs("\" data-due=\"", f);
    if (when)
        bkp_iso_time(iso, sizeof(iso), when);
    rb_html_escape(f, iso);
    fputs("\"><td>", f);
    rb_html_escape(f, day(date, sizeof(date), when));
    fputs("</td><td>", f);
    rb_html_escape(f, t->medium);
    fputs("</td><td>", f);
    rb_html_escape(f, pol_medium_place_words(t->offsite, t->offline));
    if (t->kept_at) {
        fputs("<br>", f);
        rb_html_escape(f, t->kept_at);
    }
    fputs("</td><td>", f);
    if (state == TURN_OVERDUE) {
        fputs("<span class=\"late\">", f);
        say(f, _("overdue by %s"), pol_span_text(late, sizeof(late), now - when));
        fputs("</span>", f);
    } else if (state == TURN_DUE) {
        fputs("<span class=\"late\">", f);
        rb_html_escape(f, _("due now"));
        fputs("</span>", f);
    } else if (state == TURN_TODAY) {
        rb_html_escape(f, _("today"));
    } else if (state == TURN_DONE) {
        char at[64];
        say(f, _("done (%s)"), local(at, sizeof(at), when));
    } else {
        rb_html_escape(f, _("scheduled"));
    }
    fputs("</td></tr>\n", f);
}

static void calendar(FILE *f, const rst_status *st, time_t now)
{
    fprintf(f, "<section id=\"calendar\">\n<h2>");
    rb_html_escape(f, _("Coming rotations of the off-line media"));
    fputs("</h2>\n", f);
    /* The media someone brings: one kept on-line is the system officer's. */
    size_t carried = 0;
    for (size_t i = 0; i < st->nrotations; i++)
        carried += st->rotations[i].offline;
    if (!carried) {
        fputs("<p>", f);
        rb_html_escape(f, _("No off-line medium of the policy is rotated (none kept off-line "
                            "has rotate_every)."));
        fputs("</p>\n</section>\n", f);
        return;
    }
    table(f, "rotations",
          (const char *[]){_("Day"), _("Medium"), _("Where it is kept"), _("State"), NULL});
    for (size_t i = 0; i < st->nrotations; i++)
        if (st->rotations[i].offline)
            rotation_row(f, &st->rotations[i], now);
    fputs("</table></div>\n<p>", f);
    rb_html_prose(f, _("On the day: bring the medium of that row and connect it; the system "
                       "officer copies to it (see the end of this page); once that succeeded, "
                       "disconnect it and take it back to where it is kept."));
    fputs("</p>\n</section>\n", f);
}

/* One data set's last drill: when, how it ended, its time against the target. */
static void drill_row(FILE *f, const rst_dataset *d)
{
    const rst_drill *dr = &d->last_drill;
    bool met = dr->rto_met == RST_YES;
    double secs = dr->seconds > 0 ? dr->seconds : 0;
    int64_t target = dr->rto_target > 0 ? dr->rto_target : 0;
    char when[64], took[32], goal[32];
    bool ok = rst_event_ok(&dr->when);
    open_tag(f, "tr class=\"drill\"", "data-dataset", d->name);
    fputs("<td>", f);
    rb_html_escape(f, d->name);
    fputs("</td><td>", f);
    if (!dr->when.time) {
        rb_html_escape(f, _("no drill recorded"));
        fputs("</td><td></td><td></td><td></td></tr>\n", f);
        return;
    }
    rb_html_escape(f, local(when, sizeof(when), dr->when.time));
    fputs(ok ? "</td><td>" : "</td><td class=\"late\">", f);
    rb_html_escape(f, ok ? _("succeeded") : _("FAILED"));
    /* The newest failure among the data set's runbooks is shown, which
     * may be older than another runbook's success: named. */
    if (!ok && dr->runbook)
        say(f, _(" (runbook %s)"), dr->runbook);
    if (dr->attended == RST_NO)
        rb_html_escape(f, _(" (unattended)"));
    else if (dr->attested_by && *dr->attested_by)
        say(f, _(" (attended: %s)"), dr->attested_by);
    if (dr->attended == RST_NO) {
        /* The last one a person attended, which an unattended drill since
         * does not replace: it is what shows the staff can do it. */
        const rst_drill *att = &d->last_attended;
        char at[64];
        fputs(" <span data-attended=\"last\">", f);
        if (!att->when.time)
            rb_html_escape(f, _("— none attended yet"));
        else if (att->attested_by && *att->attested_by)
            say(f, _("— last attended %s (%s)"), local(at, sizeof(at), att->when.time),
                att->attested_by);
        else
            say(f, _("— last attended %s"), local(at, sizeof(at), att->when.time));
        fputs("</span>", f);
    }
    if (ok && rst_drill_missed_offline(dr)) {
        /* It proved the procedure, not that a copy away from the server
         * restores: say so beside the word "succeeded". */
        fputs("<br><span class=\"late\" data-read-from=\"", f);
        rb_html_escape(f, dr->read_from);
        fputs("\">", f);
        rb_html_escape(f, _("read from the server itself: the off-line disk was not connected — "
                            "connect it for the next drill"));
        fputs("</span>", f);
    }
    fputs("</td><td>", f);
    /* A drill that failed (or never started) restored nothing to time:
     * its time is not measured against the target. */
    if (ok)
        rb_html_escape(f, rb_duration_text(took, sizeof(took), secs));
    else
        fputs("-", f);
    fprintf(f, "</td><td data-rto-met=\"%s\">", !target || !ok ? "" : met ? "true" : "false");
    if (!target)
        rb_html_escape(f, _("not set"));
    else if (!ok)
        say(f, _("%s: not measured (the drill failed)"),
            rb_duration_text(goal, sizeof(goal), (double)target));
    else if (met)
        say(f, _("%s: within the target"), rb_duration_text(goal, sizeof(goal), (double)target));
    else {
        fputs("<span class=\"late\">", f);
        say(f, _("%s: OVER the target"), rb_duration_text(goal, sizeof(goal), (double)target));
        fputs("</span>", f);
    }
    fputs("</td></tr>\n", f);
}

static void drills(FILE *f, const rst_status *st)
{
    fprintf(f, "<section id=\"drills\">\n<h2>");
    rb_html_escape(f, _("Last restore drill"));
    fputs("</h2>\n", f);
    table(f, "drills",
          (const char *[]){_("Data"), _("Last drill"), _("Result"), _("Time taken"),
                           _("Target recovery time"), NULL});
    for (size_t i = 0; i < st->ndatasets; i++)
        drill_row(f, &st->datasets[i]);
    fputs("</table></div>\n</section>\n", f);
}

/* The log's problem in the page's language, from its code; without one (a
 * document of a bkp before the codes), its English sentence. */
static const char *problem(const rst_audit *a, char *buf, size_t n)
{
    if (a->why.code != BKP_AUDIT_SOUND)
        bkp_audit_problem_text(&a->why, buf, n);
    else
        snprintf(buf, n, "%s", a->problem);
    return buf;
}

/* What was checked of the audit log, and when; "intact" only when it was. */
static void audit(FILE *f, const rst_status *st)
{
    const rst_audit *a = &st->audit;
    char when[64], why[1024], iso[32] = "";
    const char *state = !a->checked ? "unchecked"
                        : a->absent ? "absent"
                        : a->ok     ? "intact"
                                    : "damaged";
    fprintf(f, "<section id=\"audit\" data-state=\"%s\" data-checked=\"", state);
    if (a->checked)
        bkp_iso_time(iso, sizeof(iso), a->checked);
    rb_html_escape(f, iso);
    fputs("\">\n<h2>", f);
    rb_html_escape(f, _("Audit log"));
    fputs(strcmp(state, "intact") ? "</h2>\n<p class=\"late\">" : "</h2>\n<p>", f);
    local(when, sizeof(when), a->checked);
    unsigned long long n = (unsigned long long)a->records;
    if (!strcmp(state, "unchecked"))
        rb_html_escape(f, _("The audit log was not checked for this page."));
    else if (!strcmp(state, "absent"))
        say(f, _("Checked on %s: there is no audit log."), when);
    else if (!strcmp(state, "intact"))
        say(f,
            _("Checked on %s with the repository's public key: %llu record(s); the chain of "
              "hashes, the signature of every record and the head marker are intact."),
            when, n);
    else
        say(f,
            _("Checked on %s: the audit log is NOT intact: %s. Tell the system administrator "
              "(`bkp audit verify`)."),
            when, problem(a, why, sizeof(why)));
    fputs("</p>\n", f);
    long long restarts = (long long)a->restarts;
    if (restarts > 0) {
        fputs("<p>", f);
        say(f, _("It was restarted by an operator %lld time(s): what it held before is not in it."),
            restarts);
        fputs("</p>\n", f);
    }
    fputs("</section>\n", f);
}

char *rst_status_page(const rst_status *status, bool ja)
{
    bkp_i18n_saved saved;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    time_t now = status->generated;
    head(f, status, ja);
    header(f, status, now);
    today(f, status, now, ja);
    datasets(f, status, now, ja);
    calendar(f, status, now);
    drills(f, status);
    audit(f, status);
    it_section(f, status, ja);
    fputs("<footer><p>", f);
    rb_html_prose(
        f, _("Written by bkp from its policy, its repository and its audit log; `bkp status` on "
             "the backup server says the same."));
    fputs("</p></footer>\n</body></html>\n", f);
    bkp_i18n_end(&saved);
    bool bad = ferror(f) != 0;
    if (fclose(f) || bad) {
        free(text);
        return NULL;
    }
    return text;
}
