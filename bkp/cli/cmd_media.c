/*
 * bkp media label PATH --name NAME [--type T] [--location L] [--force]
 * bkp media label --name NAME [--force]   (an object medium: the policy says where)
 * bkp media probe NAME                    (prove an object medium's lock)
 * bkp media list [--json]      bkp media show NAME [--json]
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

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/medium.h"

typedef struct label_ctx {
    json_t *label;
    const char *path;
} label_ctx;

static int set_label(json_t *e, void *ctx)
{
    label_ctx *l = ctx;
    char now[32];
    const char *old = json_string_value(json_object_get(json_object_get(e, "label"), "uuid"));
    bkp_iso_time(now, sizeof(now), bkp_now());
    /* A new disk under an old name starts a new history. */
    if (old && strcmp(old, json_string_value(json_object_get(l->label, "uuid"))))
        json_object_clear(e);
    json_object_set(e, "label", l->label);
    json_object_set_new(e, "path", json_string(l->path));
    json_object_set_new(e, "labelled", json_string(now));
    json_object_set_new(e, "last_seen", json_string(now));
    return 0;
}

/* Where the operator writes a labelled medium's name and fingerprint. */
static const char *where_to_write(const char *type)
{
    if (!strcmp(type, "archive"))
        return _("Write on the paper label of the tape or of the archive folder's case");
    if (!strcmp(type, "removable"))
        return _("Write on the paper label of the removable disk (or of its case)");
    if (!strcmp(type, "object"))
        return _("Write in the register of off-site copies, beside the bucket's name");
    return _("Write on the disk's paper label");
}

/* What is labelled: a name, a folder, and the type and location the policy
 * (or the options) give it, which must agree. EXIT_OK with `m` filled (or
 * zeroed when the medium is unknown), else EXIT_USAGE (said). */
static int label_what(cli *c, const char *path, cli_medium *m, const char **type,
                      const char **loc)
{
    struct stat st;
    memset(m, 0, sizeof(*m));
    if (!c->name || !bkp_medium_name_ok(c->name)) {
        bkp_error(_("give the medium a name: --name NAME (letters, digits, '.', '_', '-'), e.g. "
                    "--name usb-a"));
        return EXIT_USAGE;
    }
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        bkp_error(_("%s is not a directory: mount the disk first (e.g. `mount /dev/sdb1 %s`)"),
                  path, path);
        return EXIT_USAGE;
    }
    /* The policy's description of the medium, when it has one, must agree. */
    pol_policy *p = c->policy; /* loaded by the dispatcher when named */
    json_t *reg = bkp_media_get(c->r, c->name);
    bool known =
        (reg || (p && pol_medium_find(p, c->name))) && cli_medium_find(c, c->name, m) == EXIT_OK;
    json_decref(reg);
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

/* May `path` take the label? A device only as an archive medium; a labelled
 * disk, or a name registered for another disk, only with --force. `*old`
 * gets the label found there (NULL: none). */
static bool label_may(cli *c, const char *path, const char *type, const cli_medium *m,
                      bool *device, json_t **old)
{
    struct stat st;
    /* A tape cannot carry a label file: its label lives in the registry and
     * travels inside every archive written to it. */
    *device = stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
    if (*device && strcmp(type, "archive")) {
        bkp_error(_("%s is a device: only an archive medium (--type archive) is written to a "
                    "device; mount a disk's file system and label its mount point"),
                  path);
        return false;
    }
    int rc = *device ? -ENOENT : bkp_label_read(path, old);
    if (rc && rc != -ENOENT && !c->force)
        return false;
    if (*old && !c->force) {
        bkp_error(_("%s is already labelled %s (%s); to label it anew, which forgets what the "
                    "registry knew of that disk, add --force"),
                  path, json_string_value(json_object_get(*old, "name")),
                  json_string_value(json_object_get(*old, "uuid")));
        return false;
    }
    const char *ruuid =
        json_string_value(json_object_get(json_object_get(m->entry, "label"), "uuid"));
    if (ruuid && !c->force &&
        !(*old && !strcmp(ruuid, json_string_value(json_object_get(*old, "uuid"))))) {
        bkp_error(_("a medium named %s is registered already (label %s); if that disk is lost or "
                    "replaced, add --force to give its name to this one"),
                  c->name, ruuid);
        return false;
    }
    return true;
}

/* The repository copy on a disk, made or checked before its label is
 * touched: a disk holding another repository's copy is refused. */
static int label_copy(cli *c, const char *path)
{
    struct stat st;
    char *repo = bkp_path_join(path, "repo"), *cfg = repo ? bkp_path_join(repo, "config") : NULL;
    bkp_repo *copy = NULL;
    int rc = !cfg                  ? -ENOMEM
             : stat(cfg, &st) == 0 ? bkp_repo_open_copy(repo, c->r, BKP_REPO_READONLY, &copy)
                                   : bkp_repo_init_copy(c->r, repo);
    bkp_repo_free(copy);
    free(cfg);
    free(repo);
    return rc;
}

/* The disk had another name in this repository: that medium is gone. */
static void forget_old_name(cli *c, const char *path, const json_t *old)
{
    const char *oname = json_string_value(json_object_get(old, "name"));
    const char *orepo = json_string_value(json_object_get(old, "repository"));
    if (!oname || !strcmp(oname, c->name) || !orepo || strcmp(orepo, bkp_repo_uuid(c->r)))
        return;
    json_t *oe = bkp_media_get(c->r, oname);
    const char *ou = json_string_value(json_object_get(json_object_get(oe, "label"), "uuid"));
    if (ou && !strcmp(ou, json_string_value(json_object_get(old, "uuid"))) &&
        !bkp_media_forget(c->r, oname))
        bkp_warn(_("%s was labelled %s before: that medium is removed from the registry"), path,
                 oname);
    json_decref(oe);
}

/* The label into the registry and the audit log, then said. */
static int label_register(cli *c, const char *path, json_t *lab, const char *type,
                          const char *loc)
{
    char *abs = realpath(path, NULL);
    label_ctx lc = {lab, abs ? abs : path};
    int rc = bkp_media_update(c->r, c->name, set_label, &lc), ex = EXIT_FAILED;
    json_t *fig = json_pack("{s:O, s:s, s:s, s:s}", "uuid", json_object_get(lab, "uuid"), "type",
                            type, "location", loc, "path", lc.path);
    bkp_audit_rec rec = {.op = "media-label",
                         .medium = c->name,
                         .failed = rc != 0,
                         .figures = fig,
                         .error = rc ? bkp_strerror_en(rc) : NULL};
    int aex = cli_audit(c, &rec);
    json_decref(fig);
    if (!rc && !aex) {
        if (c->json)
            cli_print_json(json_incref(lab));
        else
            printf(_("labelled %s as %s (%s, %s), label %s.\n%s, with its name, the repository "
                     "key's fingerprint:\n  %s\nNext: `bkp rotate %s` copies the generations due "
                     "to it.\n"),
                   lc.path, c->name, type, loc, json_string_value(json_object_get(lab, "uuid")),
                   where_to_write(type), json_string_value(json_object_get(lab, "fingerprint")),
                   c->name);
        ex = EXIT_OK;
    }
    free(abs);
    return ex;
}

static int label(cli *c)
{
    const char *path = c->args[1], *type = NULL, *loc = NULL;
    cli_medium m;
    json_t *old = NULL, *lab = NULL;
    bool device = false;
    int rc, ex = label_what(c, path, &m, &type, &loc);
    if (ex)
        goto out;
    ex = EXIT_FAILED;
    if (!label_may(c, path, type, &m, &device, &old))
        goto out;
    if (strcmp(type, "archive") && label_copy(c, path))
        goto out;
    /* A disk labelled again keeps its identity (medium.h). */
    lab = bkp_label_renew(c->r, old, c->name, type, loc);
    if (!lab || (!device && (rc = bkp_label_write(path, lab, true)))) {
        bkp_error(_("cannot write the label on %s: %s"), path, bkp_strerror(lab ? rc : -ENOMEM));
        goto out;
    }
    forget_old_name(c, path, old);
    ex = label_register(c, path, lab, type, loc);
out:
    json_decref(old);
    json_decref(lab);
    cli_medium_clear(&m);
    return ex;
}

/* One medium as `list` and `show` print it: registry entry plus policy. */
static json_t *describe(cli *c, const char *name)
{
    cli_medium m;
    char when[32] = "";
    if (cli_medium_find(c, name, &m))
        return NULL;
    json_t *e = m.entry ? json_deep_copy(m.entry) : json_object();
    json_t *held = json_object_get(e, "held");
    time_t due = cli_medium_due(c, name);
    if (due == 1)
        due = bkp_now(); /* never written: due now */
    if (due)
        bkp_iso_time(when, sizeof(when), due);
    json_object_set_new(e, "name", json_string(name));
    json_object_set_new(e, "type", json_string(m.type));
    json_object_set_new(e, "location", json_string(m.location ? m.location : "?"));
    json_object_set_new(e, "offline", json_boolean(m.offline));
    json_object_set_new(e, "path", m.path ? json_string(m.path) : json_null());
    if (m.pm && m.pm->type == POL_OBJECT)
        json_object_set_new(e, "bucket", json_string(m.pm->object.bucket));
    json_object_set_new(e, "in_policy", json_boolean(m.pm != NULL));
    json_object_set_new(e, "labelled", json_boolean(m.entry != NULL));
    json_object_set_new(e, "generations", json_integer((json_int_t)json_array_size(held)));
    json_object_set_new(e, "next_due", due ? json_string(when) : json_null());
    json_object_set_new(e, "rotate_every", json_integer(m.pm ? m.pm->rotate_every : 0));
    cli_medium_clear(&m);
    return e;
}

static const char *local(json_t *e, const char *key, char *buf, size_t n)
{
    const char *v = json_string_value(json_object_get(e, key));
    time_t t = v ? bkp_iso_parse(v) : -1;
    if (t <= 0)
        return "never";
    cli_time(buf, n, t);
    buf[16] = '\0'; /* minutes are enough in a table */
    return buf;
}

static int list(cli *c)
{
    json_t *reg = bkp_media_list(c->r), *all = json_array(), *v;
    pol_policy *p = c->policy; /* loaded by the dispatcher when named */
    size_t i;
    if (!reg || !all)
        return EXIT_FAILED;
    for (size_t k = 0; p && k < p->nmedia; k++) {
        json_t *d = describe(c, p->media[k].name);
        if (d)
            json_array_append_new(all, d);
    }
    json_array_foreach(reg, i, v)
    {
        const char *n = json_string_value(json_object_get(json_object_get(v, "label"), "name"));
        json_t *d = n && !(p && pol_medium_find(p, n)) ? describe(c, n) : NULL;
        if (d)
            json_array_append_new(all, d);
    }
    json_decref(reg);
    if (c->json) {
        cli_print_json(all);
        return EXIT_OK;
    }
    static const int widths[] = {12, 9, 8, 8, 16, 16, -5, 16, 0};
    const char *head[] = {_("MEDIUM"),  _("TYPE"),       _("WHERE"),
                          _("OFFLINE"), _("LAST WRITE"), _("LAST VERIFY"),
                          _("GENS"),    _("NEXT DUE"),   ""};
    cli_row(head, widths, 9);
    json_array_foreach(all, i, v)
    {
        char a[32], b[32], d[32], gens[24];
        snprintf(gens, sizeof(gens), "%lld",
                 (long long)json_integer_value(json_object_get(v, "generations")));
        const char *row[] = {
            json_string_value(json_object_get(v, "name")),
            json_string_value(json_object_get(v, "type")),
            json_string_value(json_object_get(v, "location")),
            json_is_true(json_object_get(v, "offline")) ? _("yes") : _("no"),
            local(v, "last_write", a, sizeof(a)),
            local(v, "last_verify", b, sizeof(b)),
            gens,
            json_is_null(json_object_get(v, "next_due")) ? "-" : local(v, "next_due", d, sizeof(d)),
            json_is_true(json_object_get(v, "labelled")) ? "" : _(" (not labelled yet)")};
        cli_row(row, widths, 9);
    }
    json_decref(all);
    return EXIT_OK;
}

static int show(cli *c)
{
    json_t *d = describe(c, c->args[1]), *g;
    size_t i;
    char a[32];
    if (!d)
        return EXIT_USAGE;
    if (c->json) {
        cli_print_json(d);
        return EXIT_OK;
    }
    json_t *lab = json_object_get(d, "label");
    printf(_("medium      %s (%s, %s, %s)\n"), c->args[1],
           json_string_value(json_object_get(d, "type")),
           json_string_value(json_object_get(d, "location")),
           json_is_true(json_object_get(d, "offline")) ? _("off-line") : _("on-line"));
    printf(_("label       %s\n"),
           lab ? json_string_value(json_object_get(lab, "uuid")) : _("(not labelled yet)"));
    const char *path = json_string_value(json_object_get(d, "path"));
    json_t *probe = json_object_get(d, "probe");
    if (path)
        printf(_("path        %s\n"), path);
    if (probe)
        printf(_("lock probe  %s: %s\n"), local(probe, "when", a, sizeof(a)),
               json_is_true(json_object_get(probe, "proven"))
                   ? _("the lock holds (non-editable)")
                   : _("the lock did NOT hold (editable)"));
    else if (!strcmp(json_string_value(json_object_get(d, "type")), "object"))
        printf(_("lock probe  never: run `bkp media probe %s`\n"), c->args[1]);
    printf(_("last seen   %s\n"), local(d, "last_seen", a, sizeof(a)));
    printf(_("last write  %s\n"), local(d, "last_write", a, sizeof(a)));
    printf(_("last verify %s%s\n"), local(d, "last_verify", a, sizeof(a)),
           json_is_false(json_object_get(d, "verify_ok")) ? _(" (FAILED)") : "");
    printf(_("next due    %s\n"),
           json_is_null(json_object_get(d, "next_due")) ? "-" : local(d, "next_due", a, sizeof(a)));
    printf(_("holds       %zu generation(s)\n"), json_array_size(json_object_get(d, "held")));
    json_array_foreach(json_object_get(d, "held"), i, g)
    {
        printf(_("  %s:%lld  captured %s\n"), json_string_value(json_object_get(g, "dataset")),
               (long long)json_integer_value(json_object_get(g, "seq")),
               local(g, "finished", a, sizeof(a)));
    }
    json_decref(d);
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
    if (!ex && strcmp(m.type, "object")) {
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

int cmd_media(cli *c)
{
    const char *verb = c->args[0];
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
    bkp_error(
        _("usage: bkp media label PATH --name NAME [--type T] [--location L] | media label "
          "--name NAME (an object medium) | media probe NAME | media list | media show NAME"));
    return EXIT_USAGE;
}
