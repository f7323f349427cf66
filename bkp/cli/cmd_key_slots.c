/*
 * cmd_key_slots.c — bkp key list | add | passwd | remove: the passphrases that
 * open the repository (key_slots.h). The program parses, asks for the new
 * passphrase and prints; the rules, the lock, the audit record before the
 * new list and its durable replacement are bkp/ops/key_slots_edit.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/cli/cli.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/key_slots.h"
#include "bkp/io/log.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/ops/key_slots_edit.h"

/* The list's columns: id, created, changed, last used, kind, label. */
static const int slot_widths[] = {19, 17, 17, 11, 13, 0};

static int key_list(cli *c, const bkp_key_slots *s)
{
    char cur[17] = "";
    int in = bkp_repo_key_slot_in(c->ro, s);
    if (in >= 0)
        memcpy(cur, s->slot[in].id, sizeof(cur));
    if (c->json) {
        json_t *a = json_array();
        for (unsigned i = 0; i < s->n; i++) {
            const bkp_key_slot *x = &s->slot[i];
            json_array_append_new(
                a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "id", x->id, "kind",
                             ops_key_kind(x), "label", x->label, "created",
                             bkp_json_when(x->created), "changed",
                             bkp_json_when(x->changed), "last_used", bkp_json_when(x->used),
                             "current", !strcmp(cur, x->id)));
        }
        cli_print_json(json_pack("{s:s, s:i, s:I, s:o}", "repository", bkp_repo_uuid(c->ro),
                                 "key_file_format", s->version, "serial", (json_int_t)s->serial,
                                 "slots", a));
        return EXIT_OK;
    }
    char created[64], changed[64];
    const char *head[] = {"  ID",
                          cli_time_head(created, sizeof(created), _("CREATED")),
                          cli_time_head(changed, sizeof(changed), _("CHANGED")),
                          _("LAST USED"),
                          _("KIND"),
                          _("LABEL")};
    cli_row(head, slot_widths, 6);
    for (unsigned i = 0; i < s->n; i++) {
        const bkp_key_slot *x = &s->slot[i];
        char id[24], cr[32], ch[32], us[32];
        snprintf(id, sizeof(id), "%c %s", strcmp(cur, x->id) ? ' ' : '*', x->id);
        cli_time(cr, sizeof(cr), x->created);
        cli_time(ch, sizeof(ch), x->changed);
        cli_time(us, sizeof(us), x->used);
        cr[16] = ch[16] = '\0'; /* to the minute */
        us[10] = '\0';          /* the day: it is noted once a day */
        const char *row[] = {id,
                             x->created ? cr : "-",
                             x->changed ? ch : "-",
                             x->used ? us : "-",
                             bkp_key_kind_words(ops_key_kind(x)),
                             *x->label ? x->label : "-"};
        cli_row(row, slot_widths, 6);
    }
    if (s->version == 1)
        printf(_("(a key file of format 1: the first key add, passwd or remove writes the signed "
                 "list of format 2)\n"));
    else
        printf(_("list %llu (raised by every change)\n"), (unsigned long long)s->serial);
    if (in >= 0)
        printf("%s\n", strcmp(ops_key_kind(&s->slot[in]), "machine")
                           ? _("* the passphrase used now")
                           : _("* the machine key used now"));
    return EXIT_OK;
}

/* The exit code of a library answer (bkp/ops/key_slots_edit.h: logged there). */
static int exit_of(int rc)
{
    return rc >= 0 ? EXIT_OK : rc == -EINVAL ? EXIT_USAGE : rc == -EBUSY ? EXIT_LOCKED
                                                                        : EXIT_FAILED;
}

/* key add --machine-key FILE: the slot and its file (ops_keys_add_machine). */
static int key_add_machine(cli *c, ops_keys_edit *e)
{
    char *path = NULL;
    int i = ops_keys_add_machine(e, c->machine_key, c->label, bkp_now(), &path);
    if (i < 0)
        return exit_of(i);
    const bkp_key_slot *x = &e->s->slot[i];
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "op", "key-add", "slot", x->id,
                                 "kind", "machine", "file", path, "slots", (int)e->s->n, "serial",
                                 (json_int_t)e->s->serial));
    else
        printf(_("added machine key slot %s: %s.\nIts secret is in %s (mode 0600). Give that file "
                 "as the passphrase file of unattended runs (passphrase_file, "
                 "BKP_PASSPHRASE_FILE): it opens the repository at once, without Argon2id's time "
                 "and memory. Keep it on this machine only and back it up nowhere: a person "
                 "restores with a passphrase or the key sheets. Disk copies get the new list at "
                 "their next rotation.\n"),
               x->id, x->label, path);
    free(path);
    return EXIT_OK;
}

/* The arguments of key add, and room for a slot: EXIT_OK or EXIT_USAGE. */
static int add_args(cli *c, const ops_keys_edit *e)
{
    if (c->nargs > 1 || bkp_key_label_ok(c->label ? c->label : "")) {
        bkp_error(_("key add: %s"), c->nargs > 1
                                        ? _("takes no ID; write key add [--label L]")
                                        : _("--label: one line of at most 64 bytes, without "
                                            "control or direction characters"));
        return EXIT_USAGE;
    }
    if (ops_keys_room(e))
        return EXIT_USAGE;
    if (c->machine_key && c->new_passphrase_file) {
        bkp_error(_("key add: give --machine-key FILE (bkp draws the secret) or "
                    "--new-passphrase-file FILE (a person's passphrase), not both"));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Which of the policy's media a key change reaches, and when. */
typedef enum {
    TAKE_NEW, /* the new list at its next rotation: disks and buckets */
    DROP_OLD, /* the old list gone at its next rotation: disks */
    KEEP_OLD, /* the old list kept for good: archives, and buckets' earlier versions */
} key_reach;

/* The policy's media of one `reach`, by name, into `buf` ("" for none). */
static const char *media_of(const cli *c, key_reach reach, char *buf, size_t n)
{
    *buf = '\0';
    for (size_t i = 0; c->policy && i < c->policy->nmedia; i++) {
        const pol_medium *m = &c->policy->media[i];
        bool yes = reach == TAKE_NEW   ? !pol_type_write_once(m->type)
                   : reach == DROP_OLD ? pol_type_rekeyed(m->type)
                                       : !pol_type_rekeyed(m->type);
        if (yes)
            bkp_strappend(buf, n, "%s%s", *buf ? ", " : "", m->name);
    }
    return buf;
}

static void say_changed(const cli *c, const char *op, const bkp_key_slot *x)
{
    bool add = !strcmp(op, "key-add"), passwd = !strcmp(op, "key-passwd");
    char some[512];
    const char *none = c->policy ? _("none in the policy") : _("see `bkp media list`");
    if (add)
        printf(_("added key slot %s%s%s.\n"), x->id, *x->label ? ": " : "", x->label);
    else if (passwd)
        printf(_("changed the passphrase of key slot %s%s%s.\n"), x->id, *x->label ? ": " : "",
               x->label);
    else
        printf(_("removed key slot %s%s%s.\n"), x->id, *x->label ? ": " : "", x->label);
    if (add) {
        media_of(c, TAKE_NEW, some, sizeof(some));
        printf(_("Disks and buckets (%s) get the new list at their next rotation: until then the "
                 "new passphrase does not open them. Archives already written keep the list "
                 "they were written with.\n"),
               *some ? some : none);
        return;
    }
    media_of(c, DROP_OLD, some, sizeof(some));
    if (passwd)
        printf(_("Disks (%s) get the new list at their next rotation: until then a disk that is "
                 "away opens with the old passphrase, not the new one.\n"),
               *some ? some : none);
    else
        printf(_("Disks (%s) get the new list at their next rotation: until then a disk that is "
                 "away still opens with the removed passphrase.\n"),
               *some ? some : none);
    media_of(c, KEEP_OLD, some, sizeof(some));
    printf(_("Archives and buckets (%s) keep the key file they were written with (a bucket, each "
             "earlier version of it, under its lock): the old passphrase opens them, a bucket "
             "with every generation in it, for as long as they are kept. Whoever held the key "
             "sheet, enough share sheets, or root on this server holds the key itself: only a "
             "new repository locks them out (operator guide, section 12, \"When someone "
             "leaves\").\n"),
           *some ? some : none);
}

/* add or passwd: the new passphrase asked for, then the change. */
static int with_new_passphrase(cli *c, ops_keys_edit *e, bool add, int i)
{
    char *pass = NULL;
    size_t plen = 0;
    if (bkp_passphrase_new(c->new_passphrase_file, &pass, &plen))
        return -EINVAL;
    int rc = add ? ops_keys_add(e, pass, plen, c->label, bkp_now())
                 : ops_keys_passwd(e, i, pass, plen, bkp_now());
    bkp_passphrase_free(pass, plen);
    return rc < 0 ? rc : add ? rc : i;
}

static int key_change(cli *c, const char *verb, ops_keys_edit *e)
{
    bool add = !strcmp(verb, "add"), passwd = !strcmp(verb, "passwd");
    int i = -1, rc, ex;
    bkp_key_slot gone = {0};

    if (c->label && !add) {
        bkp_error(_("key %s: --label belongs to key add"), verb);
        return EXIT_USAGE;
    }
    if (add && (ex = add_args(c, e)))
        return ex;
    if (add && c->machine_key)
        return key_add_machine(c, e);
    if (!add && (rc = ops_keys_pick(e, verb, c->nargs > 1 ? c->args[1] : NULL, &i)))
        return exit_of(rc);
    if (add || passwd)
        rc = i = with_new_passphrase(c, e, add, i);
    else
        rc = ops_keys_remove(e, i, &gone);
    if (rc < 0)
        return exit_of(rc);
    const char *op = add ? "key-add" : passwd ? "key-passwd" : "key-remove";
    const bkp_key_slot *x = add || passwd ? &e->s->slot[i] : &gone;
    if (!c->json)
        say_changed(c, op, x);
    else
        cli_print_json(json_pack("{s:s, s:s, s:i, s:I}", "op", op, "slot", x->id, "slots",
                                 (int)e->s->n, "serial", (json_int_t)e->s->serial));
    return EXIT_OK;
}

int cli_key_slots(cli *c)
{
    const char *verb = c->args[0];
    bool list = !strcmp(verb, "list");
    ops_keys_edit e;
    if (list && (c->nargs > 1 || c->label || c->new_passphrase_file)) {
        bkp_error(_("key list: takes no ID and no --label or --new-passphrase-file"));
        return EXIT_USAGE;
    }
    /* Listing reads the key file through the read handle; a change
     * (a writer in the table) edits it through c->r. */
    int rc = list ? ops_keys_read(c->ro, &e) : ops_keys_edit_begin(c->r, true, &e);
    int ex = rc == -EBUSY ? EXIT_LOCKED : rc ? EXIT_FAILED : EXIT_OK;
    if (!ex)
        ex = list ? key_list(c, e.s) : key_change(c, verb, &e);
    ops_keys_edit_end(&e);
    return ex;
}
