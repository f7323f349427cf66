/*
 * key_slots.c — bkp key list | add | passwd | remove: the passphrases that
 * open the repository (keyslots.h).
 *
 * A change is made under the repository's "keys" lock (lock.h), so that two
 * changes never lose one another; it is recorded in the audit log before the
 * new list is written — an escrowed key must have a record of every use —
 * and the record says so when the write then fails. The list is replaced
 * whole and durably (bkp_repo_key_slots_store): a crash leaves the old list
 * or the new one. Each disk copy gets the new list at its next rotation;
 * archives keep the list they were written with.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/keyslots.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/trust.h"

static void when(char *buf, size_t n, time_t t)
{
    if (t)
        bkp_iso_time(buf, n, t);
    else
        snprintf(buf, n, "-");
}

/* "machine" for a slot sealed under a machine secret (keys.h). */
static const char *kind_name(const bkp_key_slot *x)
{
    return bkp_keys_sealed_kind(x->sealed) == BKP_KEY_MACHINE ? "machine" : "passphrase";
}

static int key_list(cli *c, const bkp_key_slots *s)
{
    char cur[17] = "";
    int in = bkp_repo_key_slot_in(c->r, s);
    if (in >= 0)
        memcpy(cur, s->slot[in].id, sizeof(cur));
    if (c->json) {
        json_t *a = json_array();
        for (unsigned i = 0; i < s->n; i++) {
            const bkp_key_slot *x = &s->slot[i];
            json_array_append_new(
                a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "id", x->id, "kind",
                             kind_name(x), "label", x->label, "created",
                             bkp_key_time_json(x->created), "changed",
                             bkp_key_time_json(x->changed), "last_used", bkp_key_time_json(x->used),
                             "current", !strcmp(cur, x->id)));
        }
        cli_print_json(json_pack("{s:s, s:i, s:I, s:o}", "repository", bkp_repo_uuid(c->r),
                                 "key_file_format", s->version, "serial", (json_int_t)s->serial,
                                 "slots", a));
        return EXIT_OK;
    }
    printf("  %-16s  %-20s  %-20s  %-10s  %-10s  %s\n", "ID", "CREATED", "CHANGED", "LAST USED",
           "KIND", "LABEL");
    for (unsigned i = 0; i < s->n; i++) {
        const bkp_key_slot *x = &s->slot[i];
        char cr[32], ch[32], us[32];
        when(cr, sizeof(cr), x->created);
        when(ch, sizeof(ch), x->changed);
        when(us, sizeof(us), x->used);
        us[10] = '\0'; /* the day: it is noted once a day */
        printf("%c %-16s  %-20s  %-20s  %-10s  %-10s  %s\n", strcmp(cur, x->id) ? ' ' : '*', x->id,
               cr, ch, us, kind_name(x), x->label);
    }
    if (s->version == 1)
        printf(_("(a key file of format 1: the first key add, passwd or remove writes the signed "
                 "list of format 2)\n"));
    else
        printf(_("list %llu (raised by every change)\n"), (unsigned long long)s->serial);
    if (*cur)
        printf(_("* the passphrase used now\n"));
    return EXIT_OK;
}

/* The slot an ID argument names: its index, or -1 (logged). */
static int slot_arg(const bkp_key_slots *s, const char *verb, const char *id)
{
    int i = bkp_key_slots_find(s, id);
    if (i == -EEXIST)
        bkp_error(_("key %s: %s names more than one key slot; give more of its digits (bkp key "
                    "list)"),
                  verb, id);
    else if (i < 0)
        bkp_error(_("key %s: no key slot %s; bkp key list shows them (give at least 4 digits)"),
                  verb, id);
    return i < 0 ? -1 : i;
}

/* Record the change, then write the list: EXIT_OK or EXIT_FAILED (logged).
 * The record names the new list's serial, so that a list put back later
 * (or a change cut short after its record) shows against the log. */
static int store(cli *c, const bkp_key_slots *s, const char *op, const bkp_key_slot *x)
{
    json_t *fig = json_pack("{s:s, s:s, s:s, s:i, s:I}", "slot", x->id, "kind", kind_name(x),
                            "label", x->label, "slots", (int)s->n, "serial",
                            (json_int_t)s->serial);
    bkp_audit_rec rec = {.op = op, .figures = fig};
    int ex = EXIT_OK;
    if (cli_audit(c, &rec) != 0) {
        bkp_error(
            _("%s: nothing was changed, because the change could not be recorded in the audit "
              "log; repair the log (bkp audit verify) and try again"),
            op);
        ex = EXIT_FAILED;
    } else if (bkp_repo_key_slots_store(c->r, s) != 0) {
        rec.failed = true;
        rec.error = "the key file could not be written";
        (void)cli_audit(c, &rec);
        ex = EXIT_FAILED;
    }
    json_decref(fig);
    return ex;
}

/* Does `pass` open a slot of `s` already? Then it is no new passphrase: a
 * passwd to the same one would retire nothing. EXIT_OK, or EXIT_USAGE. */
static int not_in_use(const bkp_key_slots *s, const char *verb, const char *pass, size_t plen)
{
    bkp_keys *k = NULL;
    unsigned which;
    if (bkp_key_slots_open(s, pass, plen, &k, &which) != 0)
        return EXIT_OK;
    bkp_keys_free(k);
    bkp_error(_("key %s: that passphrase already opens key slot %s; choose another"), verb,
              s->slot[which].id);
    return EXIT_USAGE;
}

/* Which slot the command acts on (EXIT_OK with `*i`), checked before any
 * passphrase is asked for. */
static int pick_slot(cli *c, const char *verb, const bkp_key_slots *s, int *i)
{
    bool passwd = !strcmp(verb, "passwd");
    int current = bkp_repo_key_slot_in(c->r, s);
    if (current == -ESTALE) {
        bkp_error(_("key %s: the list of key slots changed since this command opened the "
                    "repository (another bkp key ran); run it again"),
                  verb);
        return EXIT_FAILED;
    }
    if (passwd && c->nargs < 2) {
        if (current < 0)
            bkp_error(_("key passwd: opened with key sheets, there is no passphrase in use to "
                        "change; name the slot (key passwd ID), or add one (key add)"));
        /* Opened by cron's machine key (the policy's passphrase_file): the
         * passphrase a person means to change is another slot's. */
        else if (bkp_keys_sealed_kind(s->slot[current].sealed) == BKP_KEY_MACHINE) {
            bkp_error(_("key passwd: this command was opened with the machine key (slot %s), "
                        "not with a passphrase; name the slot whose passphrase to change (bkp "
                        "key passwd ID; bkp key list shows them)"),
                      s->slot[current].id);
            return EXIT_USAGE;
        }
        *i = current;
        return current < 0 ? EXIT_USAGE : EXIT_OK;
    }
    if (c->nargs < 2) {
        bkp_error(_("key remove: name the slot: key remove ID (bkp key list shows them)"));
        return EXIT_USAGE;
    }
    if ((*i = slot_arg(s, verb, c->args[1])) < 0)
        return EXIT_USAGE;
    if (!passwd && s->n == 1) {
        bkp_error(_("key remove: %s is the only key slot; add another first (bkp key add), a "
                    "repository no passphrase opens is opened only by its key sheets"),
                  s->slot[*i].id);
        return EXIT_USAGE;
    }
    if (!passwd && *i == current) {
        bkp_error(_("key remove: %s is the passphrase this command was opened with; open with "
                    "another passphrase (or --key-from) to remove it"),
                  s->slot[*i].id);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The label of a machine slot when none is given: "machine HOST". */
static void machine_label(cli *c, char *out, size_t n)
{
    char host[256] = "";
    if (c->label) {
        snprintf(out, n, "%s", c->label);
        return;
    }
    (void)gethostname(host, sizeof(host) - 1);
    snprintf(out, n, "machine %.40s", host);
    if (bkp_key_label_ok(out))
        snprintf(out, n, "machine");
}

/*
 * key add --machine-key FILE: a slot for unattended runs (keys.h). Order,
 * for a crash or a failure at each step: the secret's file is written
 * durably first (a kill after it leaves a file that opens nothing yet: the
 * operator deletes it, the list is unchanged); then the change is recorded
 * and the list written (store); if that fails, the file is removed again. A
 * secret is never in the list without its file having been written.
 */
static int key_add_machine(cli *c, bkp_key_slots *s)
{
    char label[BKP_KEY_LABEL_MAX + 1];
    char *secret = sodium_malloc(BKP_MACHINE_SECRET_LEN + 2);
    char *path = NULL, *copy = NULL, *copy2 = NULL, *rdir = NULL, *base = NULL;
    struct stat st;
    int ex = EXIT_FAILED, rc;
    if (!secret)
        goto out;
    /* The folder must pass the passphrase file's rules (trust.h) before a
     * secret is drawn: a file later runs would refuse is no key, and in a
     * folder nobody else may change, the path written and removed below
     * names what it named when checked. */
    if ((rc = bkp_trust_new_file(c->machine_key, N_("machine key"), &path))) {
        if (rc != -EPERM)
            bkp_error(_("key add: the folder of %s cannot be used: %s (nothing was changed)"),
                      c->machine_key, bkp_strerror(rc));
        ex = EXIT_USAGE;
        goto out;
    }
    /* POSIX dirname and basename may write into their argument: a copy each. */
    if (!(copy = strdup(path)) || !(copy2 = strdup(path)))
        goto out;
    rdir = dirname(copy);
    base = basename(copy2);
    machine_label(c, label, sizeof(label));
    rc = bkp_key_slots_add_machine(s, bkp_repo_keys(c->r), secret, label, bkp_now());
    if (rc < 0) {
        bkp_error(_("key add: %s"), bkp_strerror(rc));
        goto out;
    }
    secret[BKP_MACHINE_SECRET_LEN] = '\n';
    rc = bkp_durable_write(rdir, base, secret, BKP_MACHINE_SECRET_LEN + 1,
                           BKP_DURABLE_NOREPLACE | BKP_DURABLE_PRIVATE);
    if (rc) {
        bkp_error(rc == -EEXIST ? _("key add: %s exists already; name a new file for the "
                                    "machine key (nothing was changed)")
                                : _("key add: cannot write %s: %s (nothing was changed)"),
                  path, bkp_strerror(rc));
        ex = rc == -EEXIST ? EXIT_USAGE : EXIT_FAILED;
        goto out;
    }
    /* A file system that keeps no modes (vfat) shows it readable by all. */
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
        st.st_uid != geteuid()) {
        bkp_error(_("key add: %s is not a private file of yours after writing it (a file system "
                    "that keeps no modes?); put the machine key on a Linux file system, such as "
                    "/etc/bkp (nothing was changed)"),
                  path);
        if (unlink(path) == 0)
            (void)bkp_fsync_dir(rdir);
        goto out;
    }
    const bkp_key_slot *x = &s->slot[s->n - 1];
    if ((ex = store(c, s, "key-add", x))) {
        /* Not recorded, or the list not written: the file opens nothing.
         * (A list whose write failed only at its last fsync may hold the
         * slot: `bkp key list` shows it, and `key remove` takes it out.) */
        if (unlink(path) == 0)
            (void)bkp_fsync_dir(rdir);
        bkp_error(_("key add: %s removed; if `bkp key list` shows slot %s, remove it with `bkp "
                    "key remove %s`"),
                  path, x->id, x->id);
        goto out;
    }
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "op", "key-add", "slot", x->id,
                                 "kind", "machine", "file", path, "slots", (int)s->n, "serial",
                                 (json_int_t)s->serial));
    else
        printf(_("added machine key slot %s: %s.\nIts secret is in %s (mode 0600). Give that file "
                 "as the passphrase file of unattended runs (passphrase_file, "
                 "BKP_PASSPHRASE_FILE): it opens the repository at once, without Argon2id's time "
                 "and memory. Keep it on this machine only and back it up nowhere: a person "
                 "restores with a passphrase or the key sheets. Disk copies get the new list at "
                 "their next rotation.\n"),
               x->id, x->label, path);
out:
    if (secret)
        sodium_free(secret); /* wipes it */
    free(copy);
    free(copy2);
    free(path);
    return ex;
}

static int key_change(cli *c, const char *verb, bkp_key_slots *s)
{
    char *pass = NULL;
    size_t plen = 0;
    int i = -1, rc, ex;
    bool add = !strcmp(verb, "add"), passwd = !strcmp(verb, "passwd");
    time_t now = bkp_now();

    if (c->label && !add) {
        bkp_error(_("key %s: --label belongs to key add"), verb);
        return EXIT_USAGE;
    }
    if (add) {
        if (c->nargs > 1 || bkp_key_label_ok(c->label ? c->label : "")) {
            bkp_error(_("key add: %s"), c->nargs > 1
                                            ? _("takes no ID; write key add [--label L]")
                                            : _("--label: one line of at most 64 bytes, without "
                                                "control or direction characters"));
            return EXIT_USAGE;
        }
        if (s->n >= BKP_KEY_SLOTS_MAX) {
            bkp_error(_("key add: the repository has %d key slots already, the most it can hold; "
                        "remove one first (bkp key remove ID)"),
                      BKP_KEY_SLOTS_MAX);
            return EXIT_USAGE;
        }
        if (c->machine_key && c->new_passphrase_file) {
            bkp_error(_("key add: give --machine-key FILE (bkp draws the secret) or "
                        "--new-passphrase-file FILE (a person's passphrase), not both"));
            return EXIT_USAGE;
        }
        if (c->machine_key)
            return key_add_machine(c, s);
    } else if ((ex = pick_slot(c, verb, s, &i))) {
        return ex;
    }
    if (add || passwd) {
        if (bkp_passphrase_new(c->new_passphrase_file, &pass, &plen))
            return EXIT_USAGE;
        ex = not_in_use(s, verb, pass, plen);
        rc = ex ? 0
             : add ? bkp_key_slots_add(s, bkp_repo_keys(c->r), pass, plen,
                                       c->label ? c->label : "", now)
                   : bkp_key_slots_reseal(s, (unsigned)i, bkp_repo_keys(c->r), pass, plen, now);
        bkp_passphrase_free(pass, plen);
        if (ex)
            return ex;
        if (rc < 0) {
            bkp_error(_("key %s: %s"), verb, bkp_strerror(rc));
            return EXIT_FAILED;
        }
        if (add)
            i = rc;
    }
    bkp_key_slot gone = s->slot[i];
    if (!add && !passwd && (rc = bkp_key_slots_remove(s, (unsigned)i))) {
        bkp_error(_("key remove: %s"), bkp_strerror(rc));
        return EXIT_FAILED;
    }
    const char *op = add ? "key-add" : passwd ? "key-passwd" : "key-remove";
    if ((ex = store(c, s, op, add || passwd ? &s->slot[i] : &gone)))
        return ex;
    if (!c->json)
        printf(add ? _("added key slot %s%s%s.\nDisk copies get the new list at their next "
                       "rotation; archives already written keep the list they were written "
                       "with.\n")
               : passwd
                   ? _("changed the passphrase of key slot %s%s%s.\nDisk copies get the new list "
                       "at their next rotation; archives already written keep the list they were "
                       "written with, and the old passphrase still opens them.\n")
                   : _("removed key slot %s%s%s.\nDisk copies get the new list at their next "
                       "rotation; archives already written keep the list they were written "
                       "with, and the old passphrase still opens them.\n"),
               gone.id, *gone.label ? ": " : "", gone.label);
    else
        cli_print_json(json_pack("{s:s, s:s, s:i, s:I}", "op", op, "slot", gone.id, "slots",
                                 (int)s->n, "serial", (json_int_t)s->serial));
    return EXIT_OK;
}

int cli_key_slots(cli *c)
{
    const char *verb = c->args[0];
    bkp_key_slots *s = calloc(1, sizeof(*s));
    bkp_lock *lk = NULL;
    int ex = EXIT_OK;
    if (!s)
        return EXIT_FAILED;
    if (strcmp(verb, "list")) {
        /* One change at a time: two would each write the list they read. */
        int rc = bkp_lock_take(bkp_repo_path(c->r), "keys", "bkp key", &lk);
        if (rc)
            ex = rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
    } else if (c->nargs > 1 || c->label || c->new_passphrase_file) {
        bkp_error(_("key list: takes no ID and no --label or --new-passphrase-file"));
        ex = EXIT_USAGE;
    }
    if (!ex && bkp_repo_key_slots(c->r, s))
        ex = EXIT_FAILED;
    if (!ex)
        ex = strcmp(verb, "list") ? key_change(c, verb, s) : key_list(c, s);
    bkp_lock_release(lk);
    free(s);
    return ex;
}
