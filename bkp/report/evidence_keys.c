/*
 * evidence_keys.c — the evidence report's section on the key (evidence.h):
 * every key operation of the period from the signed audit log — a paper
 * sheet printed, share sheets made, the sheets used to open a copy, a
 * passphrase added, changed or removed, and key-recovery drills — with its
 * time, who and where, and the figures recorded. The guideline asks that
 * every use of an escrowed key be logged; this is where an inspector reads
 * that log. The records carry no secret (bkp never puts one in the log), and
 * the gathering (bkp/ops/report.c) leaves out a figure whose name says
 * secret or passphrase all the same.
 */
#include <stdio.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/key_slots.h"
#include "bkp/report/evidence.h"
#include "bkp/report/doc.h"

/* What the operation was, for people. */
static const char *op_title(const char *op)
{
    static const struct {
        const char *op, *title;
    } t[] = {
        /* Every sheet holds the same key, the repository's one: a sheet
         * printed again is no new key, and says so. */
        {"key-export", N_("the key printed on a paper sheet (the same key as every sheet)")},
        {"key-split", N_("the key split into share sheets (the same key as every sheet)")},
        {"key-from", N_("opened with the key sheets")},
        {"key-add", N_("a passphrase added")},
        {"key-passwd", N_("a passphrase changed")},
        {"key-remove", N_("a passphrase removed")},
        {"drill", N_("key-recovery drill")},
    };
    for (size_t i = 0; op && i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].op, op))
            return _(t[i].title);
    return op ? op : "";
}

/* A figure's name, for people; a name not listed as it is. */
static const char *figure_name(const char *k)
{
    static const struct {
        const char *name, *shown;
    } t[] = {
        {"format", N_("format")},
        {"lang", N_("language")},
        {"output", N_("written to")},
        {"threshold", N_("sheets needed")},
        {"of", N_("sheets made")},
        {"kind", N_("kind")},
        {"runbook", N_("runbook")},
        {"seconds", N_("seconds")},
        {"slot", N_("slot")},
        {"label", N_("label")},
        {"sheets", N_("sheets")},
        {"shares", N_("share sheets")},
        {"dataset", N_("data set")},
        {"medium", N_("medium")},
        {"repository", N_("repository")},
        {"serial", N_("list of key slots")},
        {"slots", N_("key slots")},
        {"typed", N_("sheets typed")},
        {"file", N_("file")},
        {"sums", N_("sheet checksums")},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].name, k))
            return _(t[i].shown);
    return k;
}

/* A figure's value, for people: the kinds of key in words, the rest as
 * recorded. */
static const char *figure_value(const char *name, const char *v)
{
    return strcmp(name, "kind") ? v : bkp_key_kind_words(v);
}

/* Its outcome, and what sheets of an older split than the last mean. */
static const char *result(const rb_ev_key_op *r, char *buf, size_t n)
{
    bool ok = r->e.outcome && !strcmp(r->e.outcome, "ok");
    if (!ok || !r->older_split)
        return ok ? _("ok") : _("failed");
    if (r->key_recovery)
        snprintf(
            buf, n,
            _("ok, with sheets of a split older than #%llu: enough of the old sheets are still "
              "kept, and the new ones were not rehearsed; not counted as a key-recovery drill"),
            (unsigned long long)r->older_split);
    else
        snprintf(
            buf, n,
            _("ok, with sheets of a split older than #%llu: enough of the old sheets are still "
              "kept"),
            (unsigned long long)r->older_split);
    return buf;
}

static void key_section(rb_doc *doc, const rb_evidence *ev)
{
    if (!ev->has_key_ops)
        return; /* evidence gathered before key operations were */
    rb_doc_h2(doc, _("Key operations"));
    if (!ev->nkey_ops) {
        rb_doc_para(doc, "%s", _("No key operation in the period."));
        return;
    }
    rb_doc_para(doc, "%s",
                _("Every use of the key sheets and every change of a passphrase, from the signed "
                  "audit log; no record holds a secret."));
    rb_doc_table(doc, (const char *[]){"#", _("Date and time"), _("Operation"), _("By"),
                                       _("Result"), _("Recorded"), NULL});
    for (size_t i = 0; i < ev->nkey_ops; i++) {
        const rb_ev_key_op *r = &ev->key_ops[i];
        char seq[32], by[256] = "", fig[1024] = "", when[64], res[512];
        snprintf(seq, sizeof(seq), "#%llu", (unsigned long long)r->e.seq);
        if ((r->user && *r->user) || (r->host && *r->host))
            snprintf(by, sizeof(by), "%s@%s", r->user && *r->user ? r->user : "?",
                     r->host ? r->host : "");
        if (r->dataset && *r->dataset)
            bkp_strappend(fig, sizeof(fig), "%s %s", figure_name("dataset"), r->dataset);
        if (r->e.medium && *r->e.medium)
            bkp_strappend(fig, sizeof(fig), "%s%s %s", *fig ? "; " : "", figure_name("medium"),
                          r->e.medium);
        for (size_t k = 0; k < r->nfigures; k++)
            if (*r->figures[k].value)
                bkp_strappend(fig, sizeof(fig), "%s%s %s", *fig ? "; " : "",
                              figure_name(r->figures[k].name),
                              figure_value(r->figures[k].name, r->figures[k].value));
        rb_doc_row(doc, (const char *[]){seq, bkp_local_time(when, sizeof(when), r->e.time, "-"),
                                         op_title(r->op), *by ? by : "-",
                                         result(r, res, sizeof(res)), *fig ? fig : "-", NULL});
    }
    rb_doc_table_end(doc);
}

void rb_evidence_key_section(rb_doc *doc, const rb_evidence *ev, bool ja)
{
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    key_section(doc, ev);
    bkp_i18n_end(&saved);
}
