/*
 * bkp media label PATH --name NAME [--type T] [--location L] [--force]
 * bkp media label --name NAME [--force]   (an object medium: the policy says where)
 * bkp media probe NAME                    (prove an object medium's lock)
 * bkp media list [--json]      bkp media show NAME [--json]
 * bkp media sheet NAME [--format md|html] [--lang ja|en] [-o FILE]   (its paper label)
 *
 * A label tells the tool which physical disk it is talking to; the registry
 * in the primary repository remembers each medium, where it was last seen,
 * what it holds and when it was last written and verified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/keys/pubkey.h"
#include "bkp/ops/label_sheet.h"
#include "bkp/ops/media_label.h"

/* What is labelled: a name, a folder, and the type and location the policy
 * (or the options) give it, which must agree. EXIT_OK with `m` filled (or
 * zeroed when the medium is unknown), else EXIT_USAGE (said). */
static int label_what(cli *c, const char *path, cli_medium *m, const char **type, const char **loc)
{
    struct stat st;
    memset(m, 0, sizeof(*m));
    if (!c->name || !bkp_medium_name_ok(c->name)) {
        bkp_error(_("give the medium a name: --name NAME (letters, digits, '.', '_', '-'), e.g. "
                    "--name usb-a"));
        return EXIT_USAGE;
    }
    if (!strcmp(c->name, "repository")) { /* what `drill --medium` calls the primary */
        bkp_error(_("'repository' names the primary repository: give the medium another name, "
                    "e.g. --name usb-a"));
        return EXIT_USAGE;
    }
    /* A folder (a disk's mount point), or a tape's device (ops_label_may). */
    if (stat(path, &st) < 0 ||
        !(S_ISDIR(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
        bkp_error(_("%s is not a directory: mount the disk first (e.g. `mount /dev/sdb1 %s`)"),
                  path, path);
        return EXIT_USAGE;
    }
    /* The policy's description of the medium, when it has one, must agree. */
    pol_policy *p = c->policy; /* loaded by the dispatcher when named */
    bkp_media_entry *reg = bkp_media_get(c->ro, c->name);
    bool known =
        (reg || (p && pol_medium_find(p, c->name))) && cli_medium_find(c, c->name, m) == EXIT_OK;
    bkp_media_free(reg);
    if (!known)
        memset(m, 0, sizeof(*m));
    *type = c->type ? c->type : known ? m->type : NULL;
    *loc = c->location ? c->location : known ? m->location : NULL;
    if (!bkp_medium_type_ok(*type) || !bkp_medium_location_ok(*loc)) {
        bkp_error(_("say what %s is: --type disk|removable|archive and --location onsite|offsite"),
                  c->name);
        return EXIT_USAGE;
    }
    if (m->pm && (strcmp(*type, m->type) || strcmp(*loc, m->location))) {
        bkp_error(_("%s:%d: the policy describes %s as %s, %s; label it so, or change the policy"),
                  cli_policy(c)->file, m->pm->line, c->name, m->type, m->location);
        return EXIT_USAGE;
    }
    char *want = m->pm ? realpath(m->path, NULL) : NULL, *got = realpath(path, NULL);
    bool elsewhere = m->pm && (!want || !got || strcmp(want, got));
    free(want);
    free(got);
    if (elsewhere)
        bkp_warn(_("the policy expects %s at %s, not %s; mount it there before `bkp rotate %s`"),
                 c->name, m->path, path, c->name);
    return EXIT_OK;
}

/* The label into the registry and the audit log, then said. */
static int label_register(cli *c, const char *path, const bkp_label *lab, const char *type,
                          const char *loc)
{
    char *abs = realpath(path, NULL);
    const char *where = abs ? abs : path;
    pol_medium_type kind = POL_DISK;
    (void)pol_medium_type_named(type, &kind); /* checked by label_what */
    int rc = ops_label_register(c->r, c->name, where, lab), ex = EXIT_FAILED;
    json_t *fig = json_pack("{s:s, s:s, s:s, s:s}", "uuid", lab->uuid, "type", type, "location",
                            loc, "path", where);
    bkp_audit_rec rec = {.op = "media-label",
                         .medium = c->name,
                         .failed = rc != 0,
                         .figures = fig,
                         .error = rc ? bkp_strerror_en(rc) : NULL};
    int aex = cli_audit(c, &rec);
    json_decref(fig);
    if (!rc && !aex) {
        if (c->json)
            cli_print_json(bkp_label_json(lab));
        else {
            char brief[BKP_FINGERPRINT_SHORT_LEN];
            bkp_pubkey_fingerprint_short(lab->fingerprint, brief);
            printf(_("labelled %s as %s (%s, %s), label %s.\n%s its name and the key's short "
                     "fingerprint:\n  %s  %s\nor print its label sheet (with a QR code): `bkp "
                     "media sheet %s --format html -o %s-label.html`.\nNext: `bkp rotate %s` "
                     "copies the generations due to it.\n"),
                   where, c->name, pol_medium_type_words(kind),
                   strcmp(loc, "offsite") ? _("on-site") : _("off-site"), lab->uuid,
                   pol_medium_type_paper(kind), c->name, brief, c->name, c->name, c->name);
        }
        ex = EXIT_OK;
    }
    free(abs);
    return ex;
}

static int label(cli *c)
{
    const char *path = c->args[1], *type = NULL, *loc = NULL;
    cli_medium m;
    bkp_label old, lab;
    bool device = false;
    int rc, ex = label_what(c, path, &m, &type, &loc);
    if (ex)
        goto out;
    ex = EXIT_FAILED;
    if (ops_label_may(path, c->name, type, m.entry, c->force, &device, &old))
        goto out;
    pol_medium_type kind;
    if ((pol_medium_type_named(type, &kind) || !pol_type_write_once(kind)) &&
        ops_label_copy(c->r, path))
        goto out;
    /* A disk labelled again keeps its identity (registry.h). */
    rc = bkp_label_renew(c->r, old.version ? &old : NULL, c->name, type, loc, &lab);
    if (rc || (!device && (rc = bkp_label_write(path, &lab, true)))) {
        bkp_error(_("cannot write the label on %s: %s"), path, bkp_strerror(rc));
        goto out;
    }
    ops_label_forget_old(c->r, c->name, path, &old);
    ex = label_register(c, path, &lab, type, loc);
out:
    cli_medium_clear(&m);
    return ex;
}

/* One medium as `list` and `show` give it: what the policy and the registry
 * know of it, and when its next rotation is due (cli_medium_due: 0 not
 * known, 1 never written). */
typedef struct described {
    cli_medium m;
    time_t due;
} described;

static bool describe(cli *c, const char *name, described *d)
{
    if (cli_medium_find(c, name, &d->m))
        return false;
    d->due = cli_medium_due(c, name);
    return true;
}

/* As --json gives it: the registry entry with name, type, location,
 * offline, path, bucket (an object medium), in_policy, labelled,
 * generations held, next_due (ISO time, null when not known; a medium
 * never written is due now) and rotate_every. */
static json_t *described_json(const described *d)
{
    const cli_medium *m = &d->m;
    char when[32] = "";
    json_t *e = m->entry ? bkp_media_entry_json(m->entry) : json_object();
    time_t due = d->due == 1 ? bkp_now() : d->due; /* 1: never written */
    if (due)
        bkp_iso_time(when, sizeof(when), due);
    const pol_object *o = pol_medium_bucket(m->pm);
    if (e && o)
        json_object_set_new(e, "bucket", json_string(o->bucket));
    if (e &&
        json_object_update_new(
            e, json_pack("{s:s, s:s, s:s, s:b, s:o, s:b, s:b, s:I, s:o, s:I}", "name", m->name,
                         "type", m->type, "location", m->location ? m->location : "?", "offline",
                         m->offline, "path", m->path ? json_string(m->path) : json_null(),
                         "in_policy", m->pm != NULL, "labelled", m->entry != NULL, "generations",
                         (json_int_t)(m->entry ? m->entry->n_held : 0), "next_due",
                         due ? json_string(when) : json_null(), "rotate_every",
                         (json_int_t)(m->pm ? m->pm->rotate_every : 0)))) {
        json_decref(e);
        return NULL;
    }
    return e;
}

/* A time of the registry for people, to the minute; "never" for none. */
static const char *when(time_t t, char *buf, size_t n)
{
    if (t <= 0)
        return _("never");
    cli_time(buf, n, t);
    buf[16] = '\0'; /* minutes are enough in a table */
    return buf;
}

/* When its next rotation is due, or "-" when not known. */
static const char *due_text(const described *d, char *buf, size_t n)
{
    return !d->due ? "-" : when(d->due == 1 ? bkp_now() : d->due, buf, n);
}

/* A row of `media list` for `d` into `row` (9 cells), its times and count
 * written into `buf` (4 of 32 bytes). */
static void list_row(const described *d, const char *row[9], char buf[4][32])
{
    const cli_medium *m = &d->m;
    const bkp_media_entry *e = m->entry;
    snprintf(buf[3], sizeof(buf[3]), "%zu", e ? e->n_held : 0);
    /* The kind and the place in the reader's words; a word bkp does not
     * know (an entry of another version) as it is. */
    pol_medium_type kind;
    row[0] = m->name;
    row[1] =
        m->type && !pol_medium_type_named(m->type, &kind) ? pol_medium_type_words(kind) : m->type;
    row[2] = !m->location                      ? NULL
             : !strcmp(m->location, "offsite") ? _("off-site")
             : !strcmp(m->location, "onsite")  ? _("on-site")
                                               : m->location;
    row[3] = m->offline ? _("yes") : _("no");
    row[4] = when(e ? e->last_write : 0, buf[0], sizeof(buf[0]));
    row[5] = when(e ? e->last_verify : 0, buf[1], sizeof(buf[1]));
    row[6] = buf[3];
    row[7] = due_text(d, buf[2], sizeof(buf[2]));
    row[8] = e ? "" : _(" (not labelled yet)");
}

static int list(cli *c)
{
    /* The least widths; a column grows to its widest cell (a Japanese word
     * is two columns a character). The count is right-aligned. */
    int widths[] = {12, 14, 8, 8, 16, 16, -5, 16, 0};
    pol_policy *p = c->policy; /* loaded by the dispatcher when named */
    bkp_media_entry *reg;
    size_t nreg, n = 0;
    if (bkp_media_list(c->ro, &reg, &nreg))
        return EXIT_FAILED;
    /* The policy's media in its order, then those only the registry knows. */
    size_t cap = (p ? p->nmedia : 0) + nreg;
    described *all = calloc(cap ? cap : 1, sizeof(*all));
    for (size_t k = 0; all && p && k < p->nmedia; k++)
        n += describe(c, p->media[k].name, &all[n]);
    for (size_t i = 0; all && i < nreg; i++)
        if (!(p && pol_medium_find(p, reg[i].label.name)))
            n += describe(c, reg[i].label.name, &all[n]);
    bkp_media_entries_free(reg, nreg);
    if (!all)
        return EXIT_FAILED;
    if (c->json) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
            json_array_append_new(a, described_json(&all[i]));
        cli_print_json(a);
    } else {
        /* Times in local time, the zone said once a column. */
        char hw[64], hv[64], hd[64];
        const char *head[] = {_("MEDIUM"),
                              _("TYPE"),
                              _("WHERE"),
                              _("OFFLINE"),
                              cli_time_head(hw, sizeof(hw), _("LAST WRITE")),
                              cli_time_head(hv, sizeof(hv), _("LAST VERIFY")),
                              _("GENS"),
                              cli_time_head(hd, sizeof(hd), _("NEXT DUE")),
                              ""};
        const char *row[9];
        char buf[4][32];
        for (size_t i = 0; i <= n; i++) {
            if (i < n)
                list_row(&all[i], row, buf);
            for (size_t k = 0; k + 1 < 9; k++) {
                int w = cli_columns(i < n ? (row[k] ? row[k] : "-") : head[k]),
                    sign = widths[k] < 0 ? -1 : 1;
                if (w > widths[k] * sign)
                    widths[k] = w * sign;
            }
        }
        cli_row(head, widths, 9);
        for (size_t i = 0; i < n; i++) {
            list_row(&all[i], row, buf);
            cli_row(row, widths, 9);
        }
    }
    for (size_t i = 0; i < n; i++)
        cli_medium_clear(&all[i].m);
    free(all);
    return EXIT_OK;
}

static int show(cli *c)
{
    described d;
    char a[32];
    if (!describe(c, c->args[1], &d))
        return EXIT_USAGE;
    if (c->json) {
        cli_print_json(described_json(&d));
        cli_medium_clear(&d.m);
        return EXIT_OK;
    }
    const cli_medium *m = &d.m;
    const bkp_media_entry *e = m->entry;
    pol_medium_type type;
    bool known = m->type && !pol_medium_type_named(m->type, &type);
    printf(_("medium      %s (%s, %s)\n"), c->args[1],
           known ? pol_medium_type_words(type) : m->type,
           pol_medium_place_words(m->location && !strcmp(m->location, "offsite"), m->offline));
    if (e && e->label.fingerprint[0]) {
        char brief[BKP_FINGERPRINT_SHORT_LEN];
        bkp_pubkey_fingerprint_short(e->label.fingerprint, brief);
        printf(_("key         %s (short fingerprint, as on its paper label)\n"), brief);
    }
    printf(_("label       %s\n"), e ? e->label.uuid : _("(not labelled yet)"));
    if (m->path)
        printf(_("path        %s\n"), m->path);
    if (e && e->probe.when)
        printf(_("lock probe  %s: %s\n"), when(e->probe.when, a, sizeof(a)),
               e->probe.proven ? _("the lock holds (non-editable)")
                               : _("the lock did NOT hold (editable)"));
    else if (known && !pol_type_at_path(type))
        printf(_("lock probe  never: run `bkp media probe %s`\n"), c->args[1]);
    printf(_("last seen   %s\n"), when(e ? e->last_seen : 0, a, sizeof(a)));
    printf(_("last write  %s\n"), when(e ? e->last_write : 0, a, sizeof(a)));
    printf(_("last verify %s%s\n"), when(e ? e->last_verify : 0, a, sizeof(a)),
           e && e->verify == BKP_MEDIA_FAILED ? _(" (FAILED)") : "");
    printf(_("next due    %s\n"), due_text(&d, a, sizeof(a)));
    printf(_("holds       %zu generation(s)\n"), e && e->held_known ? e->n_held : 0);
    for (size_t i = 0; e && e->held_known && i < e->n_held; i++) {
        const bkp_media_held *g = &e->held[i];
        printf(_("  %s:%lld  captured %s\n"), g->dataset, (long long)g->seq,
               when(bkp_iso_parse(g->finished), a, sizeof(a)));
    }
    cli_medium_clear(&d.m);
    return EXIT_OK;
}

/* `media label --name NAME` and `media probe NAME` for an object medium:
 * the policy says where it is. */
static int object(cli *c, const char *name, bool probe)
{
    cli_medium m;
    if (!name || !bkp_medium_name_ok(name)) {
        bkp_error(_("give the medium's name: bkp media %s"),
                  probe ? "probe NAME" : "label --name NAME");
        return EXIT_USAGE;
    }
    int ex = cli_medium_find(c, name, &m);
    if (!ex && pol_type_at_path(m.kind)) {
        bkp_error(_("%s is a medium of type %s: %s"), name, m.type,
                  probe ? _("only an object medium is probed (a disk's copy is made read-only "
                            "when it is sealed)")
                        : _("label it with its mount point, `bkp media label PATH --name NAME`"));
        ex = EXIT_USAGE;
    }
    if (!ex)
        ex = probe ? cli_object_probe(c, &m) : cli_object_label(c, &m);
    cli_medium_clear(&m);
    return ex;
}

/* `media sheet NAME`: the paper label of a labelled medium, to standard
 * output (label_sheet.h). */
static int sheet(cli *c)
{
    int format;
    cli_medium m;
    if (cli_medium_find(c, c->args[1], &m))
        return EXIT_USAGE;
    int ex = cli_format(c, &format);
    if (!ex && !m.entry) {
        bkp_error(_("%s is not labelled yet: label it first, `bkp media label PATH --name %s`"),
                  c->args[1], c->args[1]);
        ex = EXIT_USAGE;
    }
    const pol_policy *p = c->policy;
    ops_sheet_place place = {.offsite = m.location && !strcmp(m.location, "offsite"),
                             .offline = m.offline,
                             .kept_at = m.pm ? m.pm->kept_at : NULL,
                             .facility = p ? p->facility : NULL};
    char *text = ex ? NULL : ops_label_sheet(&m.entry->label, &place, format, cli_lang_ja(c));
    if (!ex && !text) {
        bkp_error(_("the label of %s in the registry lacks its fields: label the medium again"),
                  c->args[1]);
        ex = EXIT_FAILED;
    }
    if (text)
        ex = cli_put_page(c, text, _("label sheet"));
    free(text);
    cli_medium_clear(&m);
    return ex;
}

int cmd_media(cli *c)
{
    const char *verb = c->args[0];
    if (c->output && strcmp(verb, "sheet")) {
        bkp_error(_("-o is for `bkp media sheet NAME -o FILE` (the label sheet to a file)"));
        return EXIT_USAGE;
    }
    if (!strcmp(verb, "label") && c->nargs == 1)
        return object(c, c->name, false);
    if (!strcmp(verb, "probe") && c->nargs == 2)
        return object(c, c->args[1], true);
    if (!strcmp(verb, "label") && c->nargs == 2)
        return label(c);
    if (!strcmp(verb, "list") && c->nargs == 1)
        return list(c);
    if (!strcmp(verb, "show") && c->nargs == 2)
        return show(c);
    if (!strcmp(verb, "sheet") && c->nargs == 2)
        return sheet(c);
    bkp_error(
        _("usage: bkp media label PATH --name NAME [--type T] [--location L] | media label "
          "--name NAME (an object medium) | media probe NAME | media list | media show NAME | "
          "media sheet NAME"));
    return EXIT_USAGE;
}
