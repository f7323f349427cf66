/*
 * repo_keys.c — the repository's keys at open: from a passphrase and the
 * key slots (key_slots.h), from a master secret typed back from sheets, or
 * for a copy, from the repository it copies; and the key file of a copy
 * kept up to date by rotations. The rest of the open is repo.c.
 */
#include "bkp/store/repo.h"
#include "bkp/store/repo_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/key_slots.h"
#include "bkp/io/log.h"

/* The keys from a master secret typed back from paper or combined from
 * shares: no key file is read (a medium's may be what was lost). A wrong
 * secret derives a wrong signing key, which the config's `sign_public` (read
 * before) shows; nothing else is touched until it matches. */
int bkp_repo_keys_master(bkp_repo *r, const uint8_t master[32], const uint8_t pk[32])
{
    uint8_t rid[16];
    int rc;
    if (uuid_parse(r->uuid, rid) != 0) {
        bkp_error(_("%s/config: the repository id is damaged; restore it from another medium"),
                  r->path);
        return -EBADMSG;
    }
    if ((rc = bkp_keys_from_master(master, rid, &r->keys)))
        return rc;
    if (sodium_memcmp(pk, bkp_keys_sign_pk(r->keys), 32) != 0) {
        bkp_error(_("these sheets do not belong to the repository %s, or were mistyped, or come "
                    "from two different splits; check that each is of this repository (the id "
                    "printed on it) and of the newest split (the date printed on it: sheets of "
                    "two splits do not go together), and type them again; nothing was read"),
                  r->path);
        bkp_keys_free(r->keys);
        r->keys = NULL;
        return -EKEYREJECTED; /* a wrong key, as a wrong passphrase is: exit 4 */
    }
    return 0;
}

/* Read and check the key file at `path` (either format, FORMAT §2): for
 * format 2, the signature by the config's key and the repository id. */
int bkp_repo_key_file_read(const char *path, const uint8_t pk[32], const char *uuid,
                           bkp_key_slots *out)
{
    bkp_buf file;
    uint8_t rid[16];
    bkp_buf_init(&file);
    int rc = bkp_read_file(path, &file, BKP_KEY_FILE_MAX);
    if (!rc)
        rc = uuid_parse(uuid, rid) ? -EBADMSG
                                   : bkp_key_slots_read(file.data, file.len, pk, rid, out);
    bkp_buf_free(&file);
    return rc;
}

int bkp_repo_keys_load(bkp_repo *r, const char *pass, size_t passlen, const uint8_t pk[32])
{
    char *p = bkp_path_join(r->path, "keys/key");
    bkp_key_slots *slots = calloc(1, sizeof(*slots));
    uint8_t rid[16];
    unsigned which = 0;
    int rc = p && slots ? bkp_repo_key_file_read(p, pk, r->uuid, slots) : -ENOMEM;
    if (rc == -ENOENT || rc == -EACCES || rc == -EISDIR) {
        bkp_error(_("cannot read the key file %s: %s; a repository copy on another medium carries "
                    "its own key file, or open it with --key-from and your key sheets"),
                  p, bkp_strerror(rc));
        rc = -ENOENT; /* like a wrong passphrase (exit 2): the caller must name another copy */
        goto out;
    }
    if (rc) {
        bkp_error(_("%s: %s; the list of key slots was altered or damaged. Use a copy on another "
                    "medium, or open with --key-from and your key sheets"),
                  p, rc == -EBADMSG ? "not signed by this repository's key" : bkp_strerror(rc));
        goto out;
    }
    rc = bkp_key_slots_open(slots, pass, passlen, &r->keys, &which);
    if (rc == -EKEYREJECTED && (r->flags & BKP_REPO_ASKING)) {
        goto out; /* the caller's question, answered */
    } else if (rc == -EKEYREJECTED) {
        /* A key file of format 2 had its signature checked above, so its
         * slots are as written: what did not match is the passphrase. (One of
         * format 1 has none; its damage reads the same, and the key sheet
         * opens it either way.) */
        time_t newest = 0;
        char when[64];
        for (unsigned i = 0; i < slots->n; i++) {
            const bkp_key_slot *k = &slots->slot[i];
            newest = k->created > newest ? k->created : newest;
            newest = k->changed > newest ? k->changed : newest;
        }
        if (r->flags & BKP_REPO_MEDIUM)
            /* A copy keeps the list of its last rotation: a passphrase
             * given on the server since is not in it yet. */
            bkp_error(_("wrong passphrase for the copy %s (none of its %u key slots opens with "
                        "it); nothing was written. A copy holds the passphrases of its last "
                        "rotation (the newest of them given on %s): one added or changed on the "
                        "server since opens it only after its next rotation. Use the passphrase "
                        "of that day, or the key sheet from the safe: --key-from SHEET"),
                      r->path, slots->n, bkp_local_time(when, sizeof(when), newest, "?"));
        else
            bkp_error(_("wrong passphrase for the repository %s (no key slot opens with it); "
                        "nothing was written. Check the passphrase, or open it with the key sheet "
                        "from the safe: --key-from SHEET"),
                      r->path);
        goto out;
    }
    if (rc) {
        bkp_error("%s: %s", p, bkp_strerror(rc));
        goto out;
    }
    if (uuid_parse(r->uuid, rid) != 0 || memcmp(rid, bkp_keys_repo_id(r->keys), 16) != 0 ||
        memcmp(pk, bkp_keys_sign_pk(r->keys), 32) != 0) {
        bkp_error(_("%s: the key file belongs to another repository than its config; restore the "
                    "config or key file from another medium"),
                  r->path);
        rc = -EBADMSG;
        goto out;
    }
    r->slot = (int)which;
    memcpy(r->slot_id, slots->slot[which].id, sizeof(r->slot_id));
    memcpy(r->slot_sealed, slots->slot[which].sealed, sizeof(r->slot_sealed));
    /* For `bkp key list`: which slot last opened the primary to write. */
    if (!(r->flags & BKP_REPO_READONLY)) {
        char *dir = bkp_path_join(r->path, "keys");
        if (dir)
            bkp_key_used_mark(dir, slots, which, bkp_now());
        free(dir);
    }
out:
    free(p);
    free(slots);
    return rc;
}

int bkp_repo_key_slots(const bkp_repo *r, bkp_key_slots *out)
{
    char *p = bkp_path_join(r->path, "keys/key"), *dir = bkp_path_join(r->path, "keys");
    int rc = p && dir ? bkp_repo_key_file_read(p, bkp_repo_sign_pk(r), r->uuid, out) : -ENOMEM;
    if (!rc)
        bkp_key_used_load(dir, out);
    else
        bkp_error(_("%s: %s; the list of key slots cannot be read"), p ? p : r->path,
                  rc == -EBADMSG ? "not signed by this repository's key" : bkp_strerror(rc));
    free(p);
    free(dir);
    return rc;
}

int bkp_repo_key_slots_store(bkp_repo *r, const bkp_key_slots *s)
{
    char *dir = bkp_path_join(r->path, "keys"), *p = bkp_path_join(r->path, "keys/key");
    bkp_buf file;
    bkp_buf_init(&file);
    int rc = dir && p ? bkp_key_slots_render(s, r->keys, &file) : -ENOMEM;
    /* The file is replaced whole (temporary file, fsync, rename, fsync of
     * the folder): a crash leaves the old list or the new one, and either
     * opens with the passphrases it names. It is read-only and may be
     * immutable, which must be lifted for the rename. */
    if (!rc) {
        (void)bkp_immutable(p, false);
        rc = bkp_durable_write(dir, "key", file.data, file.len,
                               BKP_DURABLE_PRIVATE | BKP_DURABLE_READONLY);
    }
    if (rc)
        bkp_error(_("cannot write the key file %s: %s; the old one is unchanged"), p ? p : r->path,
                  bkp_strerror(rc));
    bkp_buf_free(&file);
    free(dir);
    free(p);
    return rc;
}

bool bkp_repo_key_file_unchecked(const bkp_repo *r)
{
    return r->key_file_unchecked;
}

bool bkp_repo_key_file_behind(const bkp_repo *r)
{
    return r->key_file_behind;
}

uint64_t bkp_repo_copy_keys_serial(const bkp_repo *r)
{
    return r->keys_serial;
}

int bkp_repo_key_slot_in(const bkp_repo *r, const bkp_key_slots *s)
{
    if (r->slot < 0)
        return -ENOENT;
    /* By id and sealed bytes, never by position: the list may have changed
     * since the open (another `bkp key` ran between the open and its lock). */
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->slot[i].id, r->slot_id))
            return memcmp(s->slot[i].sealed, r->slot_sealed, sizeof(r->slot_sealed)) ? -ESTALE
                                                                                     : (int)i;
    return -ESTALE;
}

/*
 * A copy carries the repository's key file, so that it opens with a
 * passphrase alone on the day it is all that is left. The primary's list of
 * slots changes (key add, passwd, remove; each raises its serial); a copy
 * keeps the list of its last rotation until the next one, which
 * (`writable`) replaces it with the primary's: that is how a retired
 * passphrase leaves the disks. A copy's file is accepted as an older one
 * only if it is authentic: a signed list of this repository, or a file of
 * format 1 that is the original of one of the primary's slots (its id is a
 * hash of its bytes). Anything else would not open the copy on its own: a
 * read-only open goes on with the primary's keys and says so, verify counts
 * it as a problem, and a rotation repairs it. A copy whose list is newer than the
 * primary's means the primary's was put back — a retired passphrase may
 * open it again — and nothing is written over it.
 */
int bkp_repo_keys_copy(bkp_repo *r, const bkp_repo *like, bool writable)
{
    char *a = bkp_path_join(r->path, "keys/key"), *b = bkp_path_join(like->path, "keys/key");
    char *dir = bkp_path_join(r->path, "keys");
    bkp_key_slots *cur = calloc(1, sizeof(*cur)), *old = calloc(1, sizeof(*old));
    const uint8_t *pk = bkp_keys_sign_pk(like->keys);
    bkp_buf x, y;
    bkp_buf_init(&x);
    bkp_buf_init(&y);
    bool authentic = false;
    int rc = a && b && dir && cur && old ? bkp_read_file(b, &y, BKP_KEY_FILE_MAX) : -ENOMEM;
    if (!rc)
        rc = bkp_repo_key_file_read(b, pk, like->uuid, cur);
    int mine = rc ? rc : bkp_read_file(a, &x, BKP_KEY_FILE_MAX);
    if (rc) {
        bkp_error(_("cannot read the repository's key file %s: %s"), b ? b : like->path,
                  bkp_strerror(rc));
        goto out;
    }
    if (!mine && x.len == y.len && !memcmp(x.data, y.data, x.len)) {
        r->keys_serial = writable ? cur->serial : 0;
        goto out; /* the same */
    }
    r->key_file_behind = !writable;
    authentic = !mine && !bkp_repo_key_file_read(a, pk, r->uuid, old) &&
                (old->version == 2 || bkp_key_slots_find(cur, old->slot[0].id) >= 0);
    if (authentic && old->serial > cur->serial) {
        bkp_error(_("%s: the repository's key file (list %llu) is older than this copy's (list "
                    "%llu): it was put back, and a retired passphrase may open it again. Nothing "
                    "was written; compare `bkp key list` with the audit log (key-add, key-passwd, "
                    "key-remove) and tell the security manager"),
                  r->path, (unsigned long long)cur->serial, (unsigned long long)old->serial);
        rc = -ESTALE;
    } else if (writable) {
        (void)bkp_immutable(a, false);
        rc = bkp_durable_write(dir, "key", y.data, y.len,
                               BKP_DURABLE_PRIVATE | BKP_DURABLE_READONLY);
        if (rc)
            bkp_error(_("cannot write the key file of the copy %s: %s; remove what is at "
                        "%s/keys/key and rotate again"),
                      r->path, bkp_strerror(rc), r->path);
        else
            r->keys_serial = cur->serial;
        if (!rc)
            bkp_info(_("%s: the key file was brought up to date with the repository's key slots"),
                     r->path);
    } else if (!authentic) {
        /* Reading the copy needs only the primary's keys, which it was
         * opened with: a restore goes on. What is lost is that the copy
         * opens on its own, which verify reports (bkp_repo_key_file_unchecked). */
        bkp_warn(_("the key file of the copy %s is missing, damaged or not this repository's "
                   "(%s): the copy would not open with a passphrase alone; rotate to it again, or "
                   "use another medium"),
                 r->path, mine ? bkp_strerror(mine) : "not a list of its key slots");
        r->key_file_unchecked = true;
    } else {
        bkp_info(_("%s: the key file holds an older list of key slots, of the day it was written: "
                   "the passphrases of that day open it (a disk's list is brought up to date by "
                   "its next rotation; an archive's never changes)"),
                 r->path);
    }
out:
    bkp_buf_free(&x);
    bkp_buf_free(&y);
    free(cur);
    free(old);
    free(a);
    free(b);
    free(dir);
    return rc == -ESTALE ? rc : rc ? -EBADMSG : 0;
}

/*
 * The primary `r` opened with the keys of `copy` (bkp_repo_open_primary_of):
 * its own key file must be its signed list, and no older than the copy's.
 * The copy's may be older (of its last rotation); a newer one means the
 * primary's was put back, as bkp_repo_keys_copy says the other way round.
 */
int bkp_repo_keys_of_copy(bkp_repo *r, const bkp_repo *copy)
{
    char *a = bkp_path_join(r->path, "keys/key"), *b = bkp_path_join(copy->path, "keys/key");
    bkp_key_slots *mine = calloc(1, sizeof(*mine)), *its = calloc(1, sizeof(*its));
    const uint8_t *pk = bkp_keys_sign_pk(copy->keys);
    int rc = a && b && mine && its ? bkp_repo_key_file_read(a, pk, r->uuid, mine) : -ENOMEM;
    if (rc)
        bkp_error(_("cannot read the repository's key file %s: %s"), a ? a : r->path,
                  bkp_strerror(rc));
    else if (!bkp_repo_key_file_read(b, pk, copy->uuid, its) && its->serial > mine->serial) {
        bkp_error(_("%s: the repository's key file (list %llu) is older than that of its copy "
                    "%s (list %llu): it was put back, and a retired passphrase may open it again. "
                    "Nothing was recorded in its log; compare `bkp key list` with the audit log "
                    "(key-add, key-passwd, key-remove) and tell the security manager"),
                  r->path, (unsigned long long)mine->serial, copy->path,
                  (unsigned long long)its->serial);
        rc = -ESTALE;
    }
    free(mine);
    free(its);
    free(a);
    free(b);
    return rc == -ESTALE || rc == -ENOMEM ? rc : rc ? -EBADMSG : 0;
}
