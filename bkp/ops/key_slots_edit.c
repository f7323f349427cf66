/*
 * key_slots_edit.c — see key_slots_edit.h.
 *
 * Why this order for every change: the change is recorded in the audit log
 * before the new list is written — an escrowed key must have a record of
 * every use — and the record says so when the write then fails. The list is
 * replaced whole and durably (bkp_repo_key_slots_store: temp, fsync,
 * rename, fsync of the folder), so a crash leaves the old list or the new
 * one, never half of either; a crash between the record and the rename
 * leaves a record whose serial no list carries, which shows against the log.
 */
#include "bkp/ops/key_slots_edit.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/host/trust.h"

int ops_keys_edit_begin(bkp_repo *r, bool lock, ops_keys_edit *e)
{
    *e = (ops_keys_edit){.r = r};
    if (!(e->s = calloc(1, sizeof(*e->s))))
        return -ENOMEM;
    /* One change at a time: two would each write the list they read. */
    int rc = lock ? bkp_lock_take(bkp_repo_path(r), "keys", "bkp key", &e->lock) : 0;
    return rc ? rc : bkp_repo_key_slots(r, e->s);
}

int ops_keys_read(const bkp_repo *r, ops_keys_edit *e)
{
    *e = (ops_keys_edit){0};
    if (!(e->s = calloc(1, sizeof(*e->s))))
        return -ENOMEM;
    return bkp_repo_key_slots(r, e->s);
}

void ops_keys_edit_end(ops_keys_edit *e)
{
    bkp_lock_release(e->lock);
    free(e->s);
    *e = (ops_keys_edit){0};
}

const char *ops_key_kind(const bkp_key_slot *x)
{
    return bkp_keys_sealed_kind(x->sealed) == BKP_KEY_MACHINE ? "machine" : "passphrase";
}

/* Record the change, then write the list: 0 or a negative errno (logged).
 * The record names the new list's serial, so that a list put back later
 * (or a change cut short after its record) shows against the log. */
static int store(ops_keys_edit *e, const char *op, const bkp_key_slot *x)
{
    json_t *fig =
        json_pack("{s:s, s:s, s:s, s:i, s:I}", "slot", x->id, "kind", ops_key_kind(x), "label",
                  x->label, "slots", (int)e->s->n, "serial", (json_int_t)e->s->serial);
    bkp_audit_rec rec = {.op = op, .figures = fig};
    int rc = bkp_audit_append(e->r, &rec);
    if (rc) {
        bkp_error(
            _("%s: nothing was changed, because the change could not be recorded in the audit "
              "log; repair the log (bkp audit verify) and try again"),
            op);
    } else if ((rc = bkp_repo_key_slots_store(e->r, e->s)) != 0) {
        rec.failed = true;
        rec.error = "the key file could not be written";
        (void)!bkp_audit_append(e->r, &rec);
    }
    json_decref(fig);
    return rc ? -EIO : 0; /* a failure, never a refusal of what was asked */
}

/* Does `pass` open a slot already? Then it is no new passphrase: a passwd
 * to the same one would retire nothing. 0, or -EINVAL (logged). */
static int not_in_use(const bkp_key_slots *s, const char *verb, const char *pass, size_t plen)
{
    bkp_keys *k = NULL;
    unsigned which;
    if (bkp_key_slots_open(s, pass, plen, &k, &which) != 0)
        return 0;
    bkp_keys_free(k);
    bkp_error(_("key %s: that passphrase already opens key slot %s; choose another"), verb,
              s->slot[which].id);
    return -EINVAL;
}

/* The slot an ID argument names: its index, or -EINVAL (logged). */
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
    return i < 0 ? -EINVAL : i;
}

/* passwd with no ID: the passphrase this command was opened with. */
static int pick_current(const bkp_key_slots *s, int current, int *i)
{
    if (current < 0) {
        bkp_error(_("key passwd: opened with key sheets, there is no passphrase in use to "
                    "change; name the slot (key passwd ID), or add one (key add)"));
        return -EINVAL;
    }
    /* Opened by cron's machine key (the policy's passphrase_file): the
     * passphrase a person means to change is another slot's. */
    if (bkp_keys_sealed_kind(s->slot[current].sealed) == BKP_KEY_MACHINE) {
        bkp_error(_("key passwd: this command was opened with the machine key (slot %s), "
                    "not with a passphrase; name the slot whose passphrase to change (bkp "
                    "key passwd ID; bkp key list shows them)"),
                  s->slot[current].id);
        return -EINVAL;
    }
    *i = current;
    return 0;
}

int ops_keys_pick(const ops_keys_edit *e, const char *verb, const char *id, int *i)
{
    const bkp_key_slots *s = e->s;
    bool passwd = !strcmp(verb, "passwd");
    int current = bkp_repo_key_slot_in(e->r, s);
    if (current == -ESTALE) {
        bkp_error(_("key %s: the list of key slots changed since this command opened the "
                    "repository (another bkp key ran); run it again"),
                  verb);
        return -ESTALE;
    }
    if (passwd && !id)
        return pick_current(s, current, i);
    if (!id) {
        bkp_error(_("key remove: name the slot: key remove ID (bkp key list shows them)"));
        return -EINVAL;
    }
    int at = slot_arg(s, verb, id);
    if (at < 0)
        return at;
    /* A repository no passphrase opens is still opened by its sheets, but
     * a person who removed the last slot by mistake may hold none. */
    if (!passwd && s->n == 1) {
        bkp_error(_("key remove: %s is the only key slot; add another first (bkp key add), a "
                    "repository no passphrase opens is opened only by its key sheets"),
                  s->slot[at].id);
        return -EINVAL;
    }
    if (!passwd && at == current) {
        bkp_error(_("key remove: %s is the passphrase this command was opened with; open with "
                    "another passphrase (or --key-from) to remove it"),
                  s->slot[at].id);
        return -EINVAL;
    }
    *i = at;
    return 0;
}

int ops_keys_room(const ops_keys_edit *e)
{
    if (e->s->n < BKP_KEY_SLOTS_MAX)
        return 0;
    bkp_error(_("key add: the repository has %d key slots already, the most it can hold; "
                "remove one first (bkp key remove ID)"),
              BKP_KEY_SLOTS_MAX);
    return -EINVAL;
}

/* A change of the keys in memory failed: logged, as the program did. */
static int change_failed(const char *verb, int rc)
{
    bkp_error(_("key %s: %s"), verb, bkp_strerror(rc));
    return rc == -EINVAL ? -EIO : rc; /* -EINVAL is a refusal of what was asked */
}

int ops_keys_add(ops_keys_edit *e, const char *pass, size_t plen, const char *label, time_t now)
{
    int rc = not_in_use(e->s, "add", pass, plen);
    if (rc)
        return rc;
    int i = bkp_key_slots_add(e->s, bkp_repo_keys(e->r), pass, plen, label ? label : "", now);
    if (i < 0)
        return change_failed("add", i);
    rc = store(e, "key-add", &e->s->slot[i]);
    return rc ? rc : i;
}

int ops_keys_passwd(ops_keys_edit *e, int i, const char *pass, size_t plen, time_t now)
{
    int rc = not_in_use(e->s, "passwd", pass, plen);
    if (rc)
        return rc;
    rc = bkp_key_slots_reseal(e->s, (unsigned)i, bkp_repo_keys(e->r), pass, plen, now);
    if (rc < 0)
        return change_failed("passwd", rc);
    return store(e, "key-passwd", &e->s->slot[i]);
}

int ops_keys_remove(ops_keys_edit *e, int i, bkp_key_slot *gone)
{
    *gone = e->s->slot[i];
    int rc = bkp_key_slots_remove(e->s, (unsigned)i);
    if (rc) {
        bkp_error(_("key remove: %s"), bkp_strerror(rc));
        return rc == -EINVAL ? -EIO : rc;
    }
    return store(e, "key-remove", gone);
}

/* The label of a machine slot when none is given: "machine HOST". */
static void machine_label(const char *given, char *out, size_t n)
{
    char host[256] = "";
    if (given) {
        snprintf(out, n, "%s", given);
        return;
    }
    (void)gethostname(host, sizeof(host) - 1);
    snprintf(out, n, "machine %.40s", host);
    if (bkp_key_label_ok(out))
        snprintf(out, n, "machine");
}

/* Remove the machine key's file again (the list does not name its secret). */
static void unlink_secret(const char *path)
{
    (void)!bkp_durable_unlink(path);
}

/* Write `secret` (BKP_MACHINE_SECRET_LEN digits and room for a newline) as
 * a new private file `path` (folder `rdir`, name `base`): 0, -EINVAL when
 * the name is taken or the file system keeps no modes, else a negative
 * errno; logged, and no file left. */
static int write_secret(char *secret, const char *path, const char *rdir, const char *base)
{
    struct stat st;
    secret[BKP_MACHINE_SECRET_LEN] = '\n';
    int rc = bkp_durable_write(rdir, base, secret, BKP_MACHINE_SECRET_LEN + 1,
                               BKP_DURABLE_NOREPLACE | BKP_DURABLE_PRIVATE);
    if (rc) {
        bkp_error(rc == -EEXIST ? _("key add: %s exists already; name a new file for the "
                                    "machine key (nothing was changed)")
                                : _("key add: cannot write %s: %s (nothing was changed)"),
                  path, bkp_strerror(rc));
        return rc == -EEXIST ? -EINVAL : rc == -EINVAL ? -EIO : rc;
    }
    /* A file system that keeps no modes (vfat) shows it readable by all. */
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
        st.st_uid != geteuid()) {
        bkp_error(_("key add: %s is not a private file of yours after writing it (a file system "
                    "that keeps no modes?); put the machine key on a Linux file system, such as "
                    "/etc/bkp (nothing was changed)"),
                  path);
        unlink_secret(path);
        return -EIO;
    }
    return 0;
}

/*
 * Order, for a crash or a failure at each step: the secret's file is written
 * durably first (a kill after it leaves a file that opens nothing yet: the
 * operator deletes it, the list is unchanged); then the change is recorded
 * and the list written (store); if that fails, the file is removed again. A
 * secret is never in the list without its file having been written. The
 * secret lives in guarded memory (sodium_malloc), wiped when freed.
 */
static int add_machine(ops_keys_edit *e, const char *path, const char *label, time_t now,
                       char *secret)
{
    char lab[BKP_KEY_LABEL_MAX + 1];
    /* POSIX dirname and basename may write into their argument: a copy each. */
    char *copy = strdup(path), *copy2 = strdup(path);
    int rc = copy && copy2 ? 0 : -ENOMEM, i = -1;
    const char *rdir = copy ? dirname(copy) : NULL, *base = copy2 ? basename(copy2) : NULL;
    machine_label(label, lab, sizeof(lab));
    if (!rc && (i = bkp_key_slots_add_machine(e->s, bkp_repo_keys(e->r), secret, lab, now)) < 0) {
        bkp_error(_("key add: %s"), bkp_strerror(i));
        rc = -EIO;
    }
    if (!rc)
        rc = write_secret(secret, path, rdir, base);
    const bkp_key_slot *x = rc ? NULL : &e->s->slot[i];
    if (x && (rc = store(e, "key-add", x))) {
        /* Not recorded, or the list not written: the file opens nothing.
         * (A list whose write failed only at its last fsync may hold the
         * slot: `bkp key list` shows it, and `key remove` takes it out.) */
        unlink_secret(path);
        bkp_error(_("key add: %s removed; if `bkp key list` shows slot %s, remove it with `bkp "
                    "key remove %s`"),
                  path, x->id, x->id);
    }
    free(copy);
    free(copy2);
    return rc ? rc : i;
}

int ops_keys_add_machine(ops_keys_edit *e, const char *file, const char *label, time_t now,
                         char **path)
{
    char *resolved = NULL, *secret = NULL;
    int rc;
    *path = NULL;
    /* The folder must pass the passphrase file's rules (trust.h) before a
     * secret is drawn: a file later runs would refuse is no key, and in a
     * folder nobody else may change, the path written and removed below
     * names what it named when checked. */
    if ((rc = bkp_trust_new_file(file, N_("machine key"), &resolved))) {
        if (rc != -EPERM)
            bkp_error(_("key add: the folder of %s cannot be used: %s (nothing was changed)"), file,
                      bkp_strerror(rc));
        return -EINVAL;
    }
    if (!(secret = sodium_malloc(BKP_MACHINE_SECRET_LEN + 2)))
        rc = -ENOMEM;
    else
        rc = add_machine(e, resolved, label, now, secret);
    if (secret)
        sodium_free(secret); /* wipes it */
    if (rc >= 0)
        *path = resolved;
    else
        free(resolved);
    return rc;
}
