/*
 * evidence_keys.c — the evidence report's section on the key (evidence.h):
 * every key operation of the period from the signed audit log — a paper
 * sheet printed, share sheets made, the sheets used to open a copy, a
 * passphrase added, changed or removed, and key-recovery drills — with its
 * time, who and where, and the figures recorded. The guideline asks that
 * every use of an escrowed key be logged; this is where an inspector reads
 * that log. The records carry no secret (bkp never puts one in the log), and
 * a figure whose name says secret or passphrase is left out all the same.
 */
#include <stdio.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/i18n.h"
#include "bkp/report/evidence.h"
#include "bkp/report/doc.h"

/* What the operation was, for people. */
static const char *op_title(json_t *r)
{
    static const struct {
        const char *op, *title;
    } t[] = {
        {"key-export", N_("the key printed on a paper sheet")},
        {"key-split", N_("the key split into share sheets")},
        {"key-from", N_("opened with the key sheets")},
        {"key-add", N_("a passphrase added")},
        {"key-passwd", N_("a passphrase changed")},
        {"key-remove", N_("a passphrase removed")},
        {"drill", N_("key-recovery drill")},
    };
    const char *op = rb_js(r, "op");
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].op, op))
            return _(t[i].title);
    return op;
}

/* One figure's value as text: a scalar, or a list of scalars. */
static void value_text(char *out, size_t n, json_t *v)
{
    size_t i;
    json_t *x;
    out[0] = '\0';
    if (json_is_string(v))
        bkp_strappend(out, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        bkp_strappend(out, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        bkp_strappend(out, n, "%.1f", json_real_value(v));
    else if (json_is_boolean(v))
        bkp_strappend(out, n, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_array(v))
        json_array_foreach(v, i, x)
        {
            char one[64];
            value_text(one, sizeof(one), x);
            bkp_strappend(out, n, "%s%s", i ? "," : "", one);
        }
}

/* A figure's name, for people; a name not listed as it is. */
static const char *figure_name(const char *k)
{
    static const struct {
        const char *name, *shown;
    } t[] = {
        {"format", N_("format")},       {"lang", N_("language")},
        {"output", N_("written to")},   {"threshold", N_("sheets needed")},
        {"of", N_("sheets made")},      {"kind", N_("kind")},
        {"runbook", N_("runbook")},     {"seconds", N_("seconds")},
        {"slot", N_("slot")},           {"label", N_("label")},
        {"sheets", N_("sheets")},       {"shares", N_("share sheets")},
        {"dataset", N_("data set")},    {"medium", N_("medium")},
        {"repository", N_("repository")},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].name, k))
            return _(t[i].shown);
    return k;
}

static bool secret_name(const char *k)
{
    return strstr(k, "secret") || strstr(k, "passphrase") || strstr(k, "master");
}

/* The figures of `f` as "name value; ..." into `out`; objects one level deep
 * (a drill's key_sheets) as their members. */
static void figures_text(char *out, size_t n, json_t *f)
{
    const char *k;
    json_t *v;
    json_object_foreach(f, k, v)
    {
        char val[256];
        if (secret_name(k))
            continue;
        if (json_is_object(v)) {
            figures_text(out, n, v);
            continue;
        }
        value_text(val, sizeof(val), v);
        if (*val)
            bkp_strappend(out, n, "%s%s %s", *out ? "; " : "", figure_name(k), val);
    }
}

static void key_section(rb_doc *doc, json_t *ev)
{
    json_t *ops = json_object_get(ev, "key_operations"), *r;
    size_t i;
    if (!json_is_array(ops))
        return; /* evidence gathered before key operations were */
    rb_doc_h2(doc, _("Key operations"));
    if (!json_array_size(ops)) {
        rb_doc_para(doc, "%s", _("No key operation in the period."));
        return;
    }
    rb_doc_para(doc, "%s",
                _("Every use of the key sheets and every change of a passphrase, from the signed "
                  "audit log; no record holds a secret."));
    rb_doc_table(doc, (const char *[]){"#", _("Date and time"), _("Operation"), _("By"), _("Result"),
                                       _("Recorded"), NULL});
    json_array_foreach(ops, i, r)
    {
        char seq[32], by[256] = "", fig[1024] = "", when[64];
        snprintf(seq, sizeof(seq), "#%lld",
                 (long long)json_integer_value(json_object_get(r, "seq")));
        if (*rb_js(r, "user") || *rb_js(r, "host"))
            snprintf(by, sizeof(by), "%s@%s", *rb_js(r, "user") ? rb_js(r, "user") : "?", rb_js(r, "host"));
        if (*rb_js(r, "dataset"))
            bkp_strappend(fig, sizeof(fig), "%s %s", figure_name("dataset"), rb_js(r, "dataset"));
        if (*rb_js(r, "medium"))
            bkp_strappend(fig, sizeof(fig), "%s%s %s", *fig ? "; " : "", figure_name("medium"),
                          rb_js(r, "medium"));
        figures_text(fig, sizeof(fig), json_object_get(r, "figures"));
        rb_doc_row(doc, (const char *[]){seq, rb_local(when, sizeof(when), rb_js(r, "time")),
                                         op_title(r), *by ? by : "-",
                                         strcmp(rb_js(r, "outcome"), "ok") ? _("failed") : _("ok"),
                                         *fig ? fig : "-", NULL});
    }
    rb_doc_table_end(doc);
}

void rb_evidence_key_section(rb_doc *doc, json_t *ev, bool ja)
{
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    key_section(doc, ev);
    bkp_i18n_end(&saved);
}
