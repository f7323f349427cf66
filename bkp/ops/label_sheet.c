/* label_sheet.c — see label_sheet.h. */
#include "bkp/ops/label_sheet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/pubkey.h"
#include "bkp/keys/qr.h"
#include "policies/policy.h"
#include "bkp/report/doc.h"

typedef struct sheet {
    FILE *f;
    bool html, ja;
} sheet;

/* Text from the label or the policy: escaped in HTML; in Markdown a table
 * cell keeps its bars out. */
static void text(sheet *s, const char *t)
{
    if (s->html) {
        rb_html_escape(s->f, t);
        return;
    }
    for (; *t; t++)
        fputs(*t == '|' ? "\\|" : *t == '\n' ? " " : (char[2]){*t, 0}, s->f);
}

static void row(sheet *s, const char *k, const char *v)
{
    fputs(s->html ? "<tr><th>" : "| ", s->f);
    text(s, k);
    fputs(s->html ? "</th><td>" : " | ", s->f);
    text(s, v);
    fputs(s->html ? "</td></tr>\n" : " |\n", s->f);
}

static void put_piece(void *ctx, const char *piece)
{
    fputs(piece, ((sheet *)ctx)->f);
}

static void write_sheet(sheet *s, const bkp_label *label, const ops_sheet_place *place)
{
    const char *facility = place->facility;
    char where[512];
    pol_medium_type type;
    const char *name = label->name, *fp = label->fingerprint;
    char brief[BKP_FINGERPRINT_SHORT_LEN], date[48], *qr = NULL;
    bkp_pubkey_fingerprint_short(fp, brief);
    bkp_local_time(date, sizeof(date), label->created, "-");
    if (s->html) {
        fprintf(s->f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
                s->ja ? "ja" : "en");
        text(s, name);
        fputs("</title><style>body{font-family:sans-serif;max-width:40em;margin:2em auto}"
              "h1{font-size:3em;margin:.2em 0}.fp{font:bold 2em monospace}"
              "table{border-collapse:collapse}td,th{border:1px solid #888;padding:.3em .5em;"
              "text-align:left}@media print{body{margin:0}}</style></head><body>\n<h1>",
              s->f);
        text(s, name);
        fputs("</h1>\n<table>\n", s->f);
    } else {
        fputs("# ", s->f);
        text(s, name);
        fprintf(s->f, "\n\n| %s | %s |\n|---|---|\n", _("Item"), _("Value"));
    }
    if (facility && *facility)
        row(s, _("Facility"), facility);
    row(s, _("Type"), pol_medium_type_named(label->type, &type)
                          ? label->type
                          : pol_medium_type_words(type));
    snprintf(where, sizeof(where), "%s", pol_medium_place_words(place->offsite, place->offline));
    if (place->kept_at && *place->kept_at)
        bkp_strappend(where, sizeof(where), _(" — %s"), place->kept_at);
    row(s, _("Kept at"), where);
    row(s, _("Labelled"), date);
    row(s, _("Label"), label->uuid);
    row(s, _("Repository"), label->repository);
    fputs(s->html ? "</table>\n<h2>" : "\n## ", s->f);
    fputs(_("Key fingerprint (short)"), s->f);
    fputs(s->html ? "</h2>\n<p class=\"fp\">" : "\n\n    ", s->f);
    text(s, brief);
    fputs(s->html ? "</p>\n<p>" : "\n\n", s->f);
    text(s, _("Compare it with the first four groups that `bkp key fingerprint` prints. The "
              "medium's own label (on the disk, in the bucket) holds the whole fingerprint, which "
              "bkp compares at every rotation; the QR code holds it too:"));
    fputs(s->html ? "</p>\n" : "\n\n", s->f);
    if (asprintf(&qr, "bkp medium %s label %s repository %s fingerprint %s", name,
                 label->uuid, label->repository, fp) >= 0) {
        if (!s->html)
            fputs("```text\n", s->f);
        bkp_qr_draw(qr, s->html, put_piece, s);
        if (!s->html)
            fputs("```\n\n", s->f);
        free(qr);
    }
    fputs(s->html ? "<p><small>" : "", s->f);
    text(s, fp);
    fputs(s->html ? "</small></p>\n</body></html>\n" : "\n", s->f);
}

char *ops_label_sheet(const bkp_label *label, const ops_sheet_place *place, int format, bool ja)
{
    if (!label->version || !label->fingerprint[0])
        return NULL; /* labelled before labels carried the key */
    char *out = NULL;
    size_t len = 0;
    sheet s = {.f = open_memstream(&out, &len), .html = format == RB_HTML, .ja = ja};
    if (!s.f)
        return NULL;
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    write_sheet(&s, label, place);
    bkp_i18n_end(&saved);
    if (fclose(s.f)) {
        free(out);
        return NULL;
    }
    return out;
}
