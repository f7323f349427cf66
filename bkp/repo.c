#include "bkp/repo.h"
#include "bkp/repo_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/clock.h"
#include "bkp/config.h"
#include "bkp/durable.h"
#include "bkp/keyslots.h"
#include "bkp/layout.h"
#include "bkp/log.h"
#include "bkp/pack.h"
#include "bkp/prune.h"


static const char *const subdirs[] = {"keys", "packs", "index", "generations", "cache", "locks"};

const char *bkp_repo_path(const bkp_repo *r)
{
    return r->path;
}
const char *bkp_repo_uuid(const bkp_repo *r)
{
    return r->uuid;
}
const bkp_keys *bkp_repo_keys(const bkp_repo *r)
{
    return r->keys;
}
const bkp_chunker *bkp_repo_chunker(const bkp_repo *r)
{
    return r->chunker;
}
const bkp_index *bkp_repo_index(const bkp_repo *r)
{
    return r->index;
}
char *bkp_repo_subpath(const bkp_repo *r, const char *sub)
{
    return bkp_path_join(r->path, sub);
}

static int dir_is_empty_or_absent(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d)
        return errno == ENOENT ? 1 : -errno;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

int bkp_repo_init(const char *path, const char *pass, size_t passlen)
{
    uint8_t rid[16];
    char uuid[37], created[32];
    bkp_keys *k = NULL;
    bkp_buf keyfile;
    char *text = NULL, *p = NULL;
    size_t tl = 0;
    int r;

    if (bkp_passphrase_strong(pass, passlen))
        return -EINVAL;
    r = dir_is_empty_or_absent(path);
    if (r <= 0) {
        if (r == 0) {
            bkp_error("%s is not empty; give a new or empty directory for the repository", path);
            return -EEXIST;
        }
        bkp_error("cannot read %s: %s", path, bkp_strerror(r));
        return r;
    }
    bkp_buf_init(&keyfile);
    if ((r = bkp_mkdir_p(path, 0700))) {
        bkp_error("cannot create %s: %s", path, bkp_strerror(r));
        goto out;
    }
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
        p = bkp_path_join(path, subdirs[i]);
        if (!p || mkdir(p, 0700) < 0) {
            r = p ? -errno : -ENOMEM;
            bkp_error("cannot create %s: %s", p ? p : path, bkp_strerror(r));
            goto out;
        }
        free(p);
        p = NULL;
    }
    uuid_generate_random(rid);
    uuid_unparse_lower(rid, uuid);
    time_t now = bkp_now();
    /* One slot, for the passphrase given: FORMAT §2's list, signed. */
    bkp_key_slots *slots = calloc(1, sizeof(*slots));
    r = slots ? bkp_keys_generate(rid, &k) : -ENOMEM;
    if (!r && (r = bkp_key_slots_add(slots, k, pass, passlen, "", now)) >= 0)
        r = bkp_key_slots_render(slots, k, &keyfile);
    free(slots);
    if (r)
        goto out;
    p = bkp_path_join(path, "keys");
    if (!p) {
        r = -ENOMEM;
        goto out;
    }
    /* The key file first: a config without it is an unusable repository and
     * init refuses a non-empty directory, so the order leaves nothing half-made. */
    r = bkp_durable_write(p, "key", keyfile.data, keyfile.len,
                          BKP_DURABLE_NOREPLACE | BKP_DURABLE_PRIVATE | BKP_DURABLE_READONLY);
    if (r) {
        bkp_error("cannot write the key file in %s: %s", p, bkp_strerror(r));
        goto out;
    }
    static const uint32_t chunk[3] = {BKP_CHUNK_MIN, BKP_CHUNK_AVG, BKP_CHUNK_MAX};
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    /* Bound to the key by its MAC (FORMAT §2): a changed byte is refused. */
    text = bkp_config_render(uuid, created, chunk, k, &tl);
    if (!text) {
        r = -ENOMEM;
        goto out;
    }
    r = bkp_durable_write(path, "config", text, tl, BKP_DURABLE_NOREPLACE);
    if (r)
        bkp_error("cannot write %s/config: %s", path, bkp_strerror(r));
out:
    free(p);
    free(text);
    bkp_buf_free(&keyfile);
    bkp_keys_free(k);
    return r;
}

/* The config's shape, before the key is open; its bytes stay in `raw` for
 * bkp_config_check once it is. */
static int load_config(bkp_repo *r, bkp_config *cfg, bkp_buf *raw)
{
    char *p = bkp_path_join(r->path, "config");
    const char *why = NULL;
    int rc = p ? bkp_read_file(p, raw, BKP_CONFIG_MAX) : -ENOMEM;
    if (rc == -ENOENT) {
        bkp_error("%s is not a bkp repository (no config file); check --repo or run "
                  "`bkp init --repo %s`",
                  r->path, r->path);
    } else if (rc && rc != -EFBIG) {
        bkp_error("cannot read %s: %s", p ? p : r->path, bkp_strerror(rc));
    } else if ((rc = rc ? -EBADMSG : bkp_config_parse(raw->data, raw->len, cfg, &why)) ==
               -EPROTO) {
        bkp_error("%s: repository format %s, which this bkp (format %d) does not read; use the "
                  "bkp that wrote it to restore from it, or start a new repository with `bkp "
                  "init`",
                  p, why, BKP_CONFIG_VERSION);
    } else if (rc) {
        bkp_error("%s: not a valid bkp repository config (%s); restore it from a copy of the "
                  "repository on another medium (MEDIUM/repo/config)",
                  p, why ? why : "too large");
        rc = -EBADMSG;
    } else {
        memcpy(r->uuid, cfg->id, 37);
    }
    free(p);
    return rc;
}

/* Once the key is open: the config must carry its MAC (FORMAT §2). A format
 * 2 config has none; a writable open of a primary binds it, rewriting it as
 * format 3 with the same fields (format 2 fixed the chunker sizes to the
 * defaults, so what it could not protect is `created` alone). */
static int check_config(bkp_repo *r, const bkp_config *cfg, const bkp_buf *raw, bool primary)
{
    int rc = bkp_config_check(cfg, raw->data, raw->len, r->keys);
    if (rc == -EBADMSG)
        bkp_error("%s/config does not match the repository key: a byte of it was changed (its "
                  "creation time or chunker sizes, say). Nothing was done; restore the config "
                  "from a copy on another medium (MEDIUM/repo/config)",
                  r->path);
    if (rc != -ENOKEY)
        return rc;
    if (!primary || (r->flags & BKP_REPO_READONLY)) {
        bkp_debug("%s/config is format 2, not bound to the key; the next backup binds it", r->path);
        return 0;
    }
    size_t len = 0;
    char *text = bkp_config_render(cfg->id, cfg->created, cfg->chunk, r->keys, &len);
    rc = text ? bkp_durable_write(r->path, "config", text, len, 0) : -ENOMEM;
    free(text);
    if (rc)
        bkp_warn("cannot bind %s/config to the key (%s); the next writable open tries again",
                 r->path, bkp_strerror(rc));
    else
        bkp_info("%s/config upgraded to format 3: bound to the repository key", r->path);
    return 0;
}

/* The keys from a master secret typed back from paper or combined from
 * shares: no key file is read (a medium's may be what was lost). A wrong
 * secret derives a wrong signing key, which the config's `sign_public` (read
 * before) shows; nothing else is touched until it matches. */
static int master_keys(bkp_repo *r, const uint8_t master[32], const uint8_t pk[32])
{
    uint8_t rid[16];
    int rc;
    if (uuid_parse(r->uuid, rid) != 0) {
        bkp_error("%s/config: the repository id is damaged; restore it from another medium",
                  r->path);
        return -EBADMSG;
    }
    if ((rc = bkp_keys_from_master(master, rid, &r->keys)))
        return rc;
    if (sodium_memcmp(pk, bkp_keys_sign_pk(r->keys), 32) != 0) {
        bkp_error("these sheets do not belong to the repository %s, or were mistyped, or come "
                  "from two different splits; check the repository id printed on each sheet "
                  "and type them again; nothing was read",
                  r->path);
        bkp_keys_free(r->keys);
        r->keys = NULL;
        return -EKEYREJECTED; /* a wrong key, as a wrong passphrase is: exit 2 */
    }
    return 0;
}

/* Read and check the key file at `path` (either format, FORMAT §2): for
 * format 2, the signature by the config's key and the repository id. */
static int read_key_file(const char *path, const uint8_t pk[32], const char *uuid,
                         bkp_key_slots *out)
{
    bkp_buf file;
    uint8_t rid[16];
    bkp_buf_init(&file);
    int rc = bkp_read_file(path, &file, BKP_KEY_FILE_MAX);
    if (!rc)
        rc = uuid_parse(uuid, rid) ? -EBADMSG : bkp_key_slots_read(file.data, file.len, pk, rid, out);
    bkp_buf_free(&file);
    return rc;
}

static int load_keys(bkp_repo *r, const char *pass, size_t passlen, const uint8_t pk[32])
{
    char *p = bkp_path_join(r->path, "keys/key");
    bkp_key_slots *slots = calloc(1, sizeof(*slots));
    uint8_t rid[16];
    unsigned which = 0;
    int rc = p && slots ? read_key_file(p, pk, r->uuid, slots) : -ENOMEM;
    if (rc == -ENOENT || rc == -EACCES || rc == -EISDIR) {
        bkp_error("cannot read the key file %s: %s; a repository copy on another medium carries "
                  "its own key file, or open it with --key-from and your key sheets",
                  p, bkp_strerror(rc));
        rc = -ENOENT; /* like a wrong passphrase (exit 2): the caller must name another copy */
        goto out;
    }
    if (rc) {
        bkp_error("%s: %s; the list of key slots was altered or damaged. Use a copy on another "
                  "medium, or open with --key-from and your key sheets",
                  p, rc == -EBADMSG ? "not signed by this repository's key" : bkp_strerror(rc));
        goto out;
    }
    rc = bkp_key_slots_open(slots, pass, passlen, &r->keys, &which);
    if (rc == -EKEYREJECTED) {
        bkp_error("wrong passphrase for the repository %s (no key slot opens with it, or the "
                  "key file is damaged); nothing was written",
                  r->path);
        goto out;
    }
    if (rc) {
        bkp_error("%s: %s", p, bkp_strerror(rc));
        goto out;
    }
    if (uuid_parse(r->uuid, rid) != 0 || memcmp(rid, bkp_keys_repo_id(r->keys), 16) != 0 ||
        memcmp(pk, bkp_keys_sign_pk(r->keys), 32) != 0) {
        bkp_error("%s: the key file belongs to another repository than its config; restore the "
                  "config or key file from another medium",
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
    int rc = p && dir ? read_key_file(p, bkp_repo_sign_pk(r), r->uuid, out) : -ENOMEM;
    if (!rc)
        bkp_key_used_load(dir, out);
    else
        bkp_error("%s: %s; the list of key slots cannot be read", p ? p : r->path,
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
        bkp_error("cannot write the key file %s: %s; the old one is unchanged", p ? p : r->path,
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

static int load_index(bkp_repo *r)
{
    DIR *d = opendir(r->index_dir);
    struct dirent *e;
    bkp_buf seg;
    int rc = 0;
    if (!d) {
        rc = -errno;
        bkp_error("cannot read %s: %s", r->index_dir, bkp_strerror(rc));
        return rc;
    }
    bkp_buf_init(&seg);
    while ((e = readdir(d))) {
        uint8_t name[BKP_ID_LEN];
        if (bkp_unhex(name, BKP_ID_LEN, e->d_name) != 0)
            continue; /* temporary files, set-aside segments */
        char *p = bkp_path_join(r->index_dir, e->d_name);
        /* No segment is larger than one blob: refuse to read more. */
        int x = p ? bkp_read_file(p, &seg, 8 + BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16) : -ENOMEM;
        if (x == -EFBIG)
            x = -EBADMSG;
        if (!x)
            x = bkp_index_segment_load(r->index, seg.data, seg.len, r->keys);
        if (x == -ENOMEM) {
            rc = x;
            free(p);
            break;
        }
        /* A damaged segment is not fatal: the packs are the truth, and
         * reindexing below finds every pack the segments do not name. */
        if (x && x != -EBADMSG) {
            bkp_warn("cannot read index segment %s: %s; its packs are indexed from their trailers",
                     p, bkp_strerror(x));
        } else if (x) {
            char **n = realloc(r->damaged, (r->ndamaged + 1) * sizeof(*n));
            if (n) {
                r->damaged = n;
                r->damaged[r->ndamaged++] = p;
                p = NULL;
            }
            bkp_debug("index segment %s is unreadable (%s)", e->d_name, bkp_strerror(x));
        }
        free(p);
    }
    closedir(d);
    bkp_buf_free(&seg);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, BKP_ID_LEN);
}

/* Packs on disk that no index segment names (a backup killed after writing
 * packs but before its segment) are indexed from their own trailers. */
static int reindex_orphans(bkp_repo *r)
{
    uint32_t n = bkp_index_pack_count(r->index), first = n, found = 0;
    uint8_t (*known)[BKP_ID_LEN] = malloc(((size_t)n + 1) * BKP_ID_LEN);
    int rc = 0;
    if (!known)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        memcpy(known[i], bkp_index_pack_id(r->index, i), BKP_ID_LEN);
    qsort(known, n, BKP_ID_LEN, cmp_id);
    for (int b = 0; b < 256 && !rc; b++) {
        char sub[3];
        snprintf(sub, sizeof(sub), "%02x", b);
        char *dir = bkp_path_join(r->packs_dir, sub);
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *e;
        while (d && (e = readdir(d))) {
            uint8_t id[BKP_ID_LEN];
            if (bkp_unhex(id, BKP_ID_LEN, e->d_name) != 0 || bsearch(id, known, n, BKP_ID_LEN, cmp_id))
                continue;
            /* A pack a pending prune is deleting is not adopted again. */
            if (bkp_prune_doomed(r->path, r->keys, e->d_name))
                continue;
            char *p = bkp_path_join(dir, e->d_name);
            int fd = p ? bkp_open_regular(p) : -ENOMEM;
            struct stat st;
            bkp_pack_entry *ents = NULL;
            uint32_t cnt = 0;
            int x = fd < 0 ? fd : fstat(fd, &st) < 0 ? -errno
                                                 : bkp_pack_read_trailer(fd, (uint64_t)st.st_size, r->keys, &ents, &cnt);
            /* Another process's pack, maybe killed before its fsyncs: make
             * it durable before a segment (and then a record) relies on it. */
            if (!x && !(r->flags & BKP_REPO_READONLY) && fsync(fd) < 0)
                x = -errno;
            if (fd >= 0)
                close(fd);
            if (!x && !(r->flags & BKP_REPO_READONLY))
                (void)bkp_fsync_dir(dir);
            if (x) {
                bkp_warn("pack %s is not indexed and its trailer is unreadable (%s); run `bkp verify "
                         "--read-data`",
                         p, bkp_strerror(x));
            } else if (!(rc = bkp_repo_add_pack(r, id, ents, cnt))) {
                found++;
            }
            free(ents);
            free(p);
        }
        if (d)
            closedir(d);
        free(dir);
    }
    free(known);
    if (!rc && found) {
        bkp_info("indexed %u pack(s) left by an interrupted run", found);
        r->first_new_pack = first;
        if (!(r->flags & BKP_REPO_READONLY) && bkp_repo_flush(r) != 0) {
            /* The in-memory index has them; the next flush retries. */
            bkp_warn("the recovered packs are indexed for this run only");
            r->err = 0;
        }
    }
    return rc;
}

/* Run by every open, after the keys are loaded and before the index is. A
 * read-only open only reports a pending prune intent (verify, restore and
 * status change nothing, and never act on what they find on a medium). */
static int cleanup_pass(bkp_repo *r)
{
    bool ro = r->flags & BKP_REPO_READONLY;
    /* First: a prune that died mid-way must finish before anything reads the
     * index, or a backup could deduplicate against a pack about to go. Only
     * an intent signed for this repository and consistent with this copy's
     * own index is acted on (bkp_prune_recover). */
    int rc = bkp_prune_recover(r->path, r->keys, ro ? BKP_RECOVER_READONLY : 0, NULL);
    if (rc || ro)
        return rc;
    static const char *const dirs[] = {"", "keys", "packs", "index", "cache", "locks"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
        char *p = bkp_path_join(r->path, dirs[i]);
        if (p)
            bkp_durable_cleanup(p);
        free(p);
    }
    char *g = bkp_path_join(r->path, "generations");
    DIR *d = g ? opendir(g) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = bkp_path_join(g, e->d_name);
        if (p)
            bkp_durable_cleanup(p);
        free(p);
    }
    if (d)
        closedir(d);
    free(g);
    return 0;
}

size_t bkp_repo_damaged_segments(const bkp_repo *r)
{
    return r->ndamaged;
}

const char *bkp_repo_damaged_segment(const bkp_repo *r, size_t i)
{
    return r->damaged[i];
}

/* The packs a damaged segment named are indexed again by now (reindex wrote
 * a segment for them), so the segment is renamed, not deleted: it is
 * evidence, and a reader skips names that are not 64 hex digits. */
static void set_damaged_aside(bkp_repo *r)
{
    if (r->flags & BKP_REPO_READONLY) {
        for (size_t i = 0; i < r->ndamaged; i++)
            bkp_warn("index segment %s is damaged; its packs were indexed from their own "
                     "trailers, and the next backup sets it aside",
                     r->damaged[i]);
        return;
    }
    for (size_t i = 0; i < r->ndamaged; i++) {
        size_t l = strlen(r->damaged[i]);
        char *to = malloc(l + 9);
        if (!to)
            continue;
        memcpy(to, r->damaged[i], l);
        memcpy(to + l, ".damaged", 9);
        (void)bkp_immutable(r->damaged[i], false);
        if (rename(r->damaged[i], to) == 0)
            bkp_warn("index segment %s was damaged; its packs were indexed again from their own "
                     "trailers and it was renamed to %s",
                     r->damaged[i], to);
        free(to);
    }
    if (r->ndamaged)
        (void)bkp_fsync_dir(r->index_dir);
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
static int copy_key_file(bkp_repo *r, const bkp_repo *like, bool writable)
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
        rc = read_key_file(b, pk, like->uuid, cur);
    int mine = rc ? rc : bkp_read_file(a, &x, BKP_KEY_FILE_MAX);
    if (rc) {
        bkp_error("cannot read the repository's key file %s: %s", b ? b : like->path,
                  bkp_strerror(rc));
        goto out;
    }
    if (!mine && x.len == y.len && !memcmp(x.data, y.data, x.len))
        goto out; /* the same */
    authentic = !mine && !read_key_file(a, pk, r->uuid, old) &&
                (old->version == 2 || bkp_key_slots_find(cur, old->slot[0].id) >= 0);
    if (authentic && old->serial > cur->serial) {
        bkp_error("%s: the repository's key file (list %llu) is older than this copy's (list "
                  "%llu): it was put back, and a retired passphrase may open it again. Nothing "
                  "was written; compare `bkp key list` with the audit log (key-add, key-passwd, "
                  "key-remove) and tell the security manager",
                  r->path, (unsigned long long)cur->serial, (unsigned long long)old->serial);
        rc = -ESTALE;
    } else if (writable) {
        (void)bkp_immutable(a, false);
        rc = bkp_durable_write(dir, "key", y.data, y.len,
                               BKP_DURABLE_PRIVATE | BKP_DURABLE_READONLY);
        if (rc)
            bkp_error("cannot write the key file of the copy %s: %s; remove what is at "
                      "%s/keys/key and rotate again",
                      r->path, bkp_strerror(rc), r->path);
        else
            bkp_info("%s: the key file was brought up to date with the repository's key slots",
                     r->path);
    } else if (!authentic) {
        /* Reading the copy needs only the primary's keys, which it was
         * opened with: a restore goes on. What is lost is that the copy
         * opens on its own, which verify reports (bkp_repo_key_file_unchecked). */
        bkp_warn("the key file of the copy %s is missing, damaged or not this repository's "
                 "(%s): the copy would not open with a passphrase alone; rotate to it again, or "
                 "use another medium",
                 r->path, mine ? bkp_strerror(mine) : "not a list of its key slots");
        r->key_file_unchecked = true;
    } else {
        bkp_info("%s: the key file holds an older list of key slots, of the day it was written: "
                 "the passphrases of that day open it (a disk's list is brought up to date by "
                 "its next rotation; an archive's never changes)",
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

int bkp_repo_alloc(const char *path, unsigned flags, bkp_repo **out)
{
    int rc = -ENOMEM;
    bkp_repo *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    pthread_mutex_init(&r->lock, NULL);
    r->flags = flags;
    r->slot = -1; /* no slot: opened with sheets, or a copy with the primary's keys */
    /* Absolute: a restore changes the working directory into its target. */
    r->path = realpath(path, NULL);
    if (!r->path) {
        rc = -errno;
        bkp_error("cannot open the repository %s: %s; check --repo", path, bkp_strerror(rc));
    } else if ((r->packs_dir = bkp_path_join(r->path, "packs")) &&
               (r->index_dir = bkp_path_join(r->path, "index"))) {
        *out = r;
        return 0;
    }
    bkp_repo_free(r);
    return rc;
}

/* Open with the passphrase, or the master secret (`master` != NULL), or
 * (pass == NULL) with the keys of `like`, the repository this one must be a
 * copy of. */
static int open_repo(const char *path, const char *pass, size_t passlen, const uint8_t *master,
                     const bkp_repo *like, unsigned flags, bkp_repo **out)
{
    uint8_t pk[32];
    bkp_config cfg;
    bkp_buf raw;
    bkp_repo *r;
    int rc = bkp_repo_alloc(path, flags, &r);
    if (rc)
        return rc;
    bkp_buf_init(&raw);
    if ((rc = load_config(r, &cfg, &raw)))
        goto fail;
    memcpy(pk, cfg.sign_pk, 32);
    if (master) {
        if ((rc = master_keys(r, master, pk)))
            goto fail;
    } else if (!like) {
        if ((rc = load_keys(r, pass, passlen, pk)))
            goto fail;
    } else if (strcmp(r->uuid, like->uuid) || memcmp(pk, bkp_keys_sign_pk(like->keys), 32)) {
        bkp_error("%s holds repository %s, not a copy of %s (%s); this medium belongs to "
                  "another repository",
                  r->path, r->uuid, like->path, like->uuid);
        rc = -EXDEV;
        goto fail;
    } else if ((rc = copy_key_file(r, like, !(flags & BKP_REPO_READONLY))) ||
               (rc = bkp_keys_dup(like->keys, &r->keys))) {
        goto fail;
    }
    if ((rc = check_config(r, &cfg, &raw, like == NULL)))
        goto fail;
    rc = bkp_chunker_new(bkp_keys_gear_seed(r->keys), cfg.chunk[0], cfg.chunk[1], cfg.chunk[2],
                         &r->chunker);
    if (rc) {
        bkp_error("%s/config: invalid chunker sizes", path);
        goto fail;
    }
    if ((rc = bkp_index_new(&r->index)))
        goto fail;
    if ((rc = cleanup_pass(r)))
        goto fail;
    if ((rc = load_index(r)))
        goto fail;
    r->first_new_pack = bkp_index_pack_count(r->index);
    if ((rc = reindex_orphans(r)))
        goto fail;
    set_damaged_aside(r);
    bkp_buf_free(&raw);
    *out = r;
    return 0;
fail:
    bkp_buf_free(&raw);
    bkp_repo_free(r);
    return rc;
}

int bkp_repo_open(const char *path, const char *pass, size_t passlen, unsigned flags,
                  bkp_repo **out)
{
    return open_repo(path, pass, passlen, NULL, NULL, flags, out);
}

int bkp_repo_open_master(const char *path, const uint8_t master[32], unsigned flags,
                         bkp_repo **out)
{
    return open_repo(path, NULL, 0, master, NULL, flags, out);
}

int bkp_repo_reload(bkp_repo *r)
{
    bkp_index *fresh = NULL;
    int rc = bkp_repo_flush(r);
    if (!rc)
        rc = bkp_index_new(&fresh);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < r->fds_cap; i++)
        if (r->fds[i] >= 0) {
            close(r->fds[i]);
            r->fds[i] = -1;
        }
    r->fds_open = 0;
    for (size_t i = 0; i < r->ndamaged; i++)
        free(r->damaged[i]);
    r->ndamaged = 0;
    bkp_index_free(r->index);
    r->index = fresh;
    if ((rc = load_index(r)))
        return rc;
    r->first_new_pack = bkp_index_pack_count(r->index);
    return reindex_orphans(r);
}

int bkp_repo_open_copy(const char *path, const bkp_repo *like, unsigned flags, bkp_repo **out)
{
    /* Before realpath resolves it: a copy made of links is refused. */
    int rc = bkp_layout_check(path);
    return rc ? rc : open_repo(path, NULL, 0, NULL, like, flags | BKP_REPO_COPY, out);
}

bool bkp_repo_is_copy(const bkp_repo *r)
{
    return (r->flags & BKP_REPO_COPY) != 0;
}

int bkp_repo_init_copy(const bkp_repo *like, const char *path)
{
    static const char *const files[] = {"keys/key", "config"}; /* the key file first, as init */
    bkp_buf data;
    int rc = bkp_layout_check(path);
    if (rc)
        return rc;
    rc = dir_is_empty_or_absent(path);
    if (rc == 0) {
        /* A copy begun and cut short (a full or pulled disk) is taken up
         * again: no config yet, and no key file or the very same one. */
        char *cfg = bkp_path_join(path, "config"), *key = bkp_path_join(path, "keys/key");
        bkp_key_slots *slots = calloc(1, sizeof(*slots));
        bool resumable = cfg && key && slots && access(cfg, F_OK) < 0 &&
                         (access(key, F_OK) < 0 ||
                          read_key_file(key, bkp_keys_sign_pk(like->keys), like->uuid, slots) == 0);
        free(slots);
        free(cfg);
        free(key);
        if (!resumable) {
            bkp_error("%s is not empty and holds no copy of this repository; give an empty "
                      "folder for the copy",
                      path);
            return -EEXIST;
        }
    } else if (rc < 0) {
        return rc;
    }
    rc = 0;
    bkp_buf_init(&data);
    for (size_t i = 0; !rc && i < sizeof(subdirs) / sizeof(*subdirs); i++) {
        char *p = bkp_path_join(path, subdirs[i]);
        rc = p ? bkp_mkdir_p(p, 0700) : -ENOMEM;
        free(p);
    }
    for (size_t i = 0; !rc && i < 2; i++) {
        char *from = bkp_path_join(like->path, files[i]), *to = bkp_path_join(path, files[i]);
        char *slash = to ? strrchr(to, '/') : NULL;
        rc = from && slash ? bkp_read_file(from, &data, 1 << 16) : -ENOMEM;
        if (!rc) {
            *slash = '\0';
            rc = bkp_durable_write(to, slash + 1, data.data, data.len,
                                   BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY |
                                       (i == 0 ? BKP_DURABLE_PRIVATE : 0));
            if (rc == -EEXIST && i == 0)
                rc = 0; /* the same key file, from a copy cut short */
        }
        free(from);
        free(to);
    }
    if (rc)
        bkp_error("cannot create the repository copy in %s: %s", path, bkp_strerror(rc));
    bkp_buf_free(&data);
    return rc;
}

void bkp_repo_free(bkp_repo *r)
{
    if (!r)
        return;
    bkp_repo_join_finishing(r);
    free(r->finishing);
    for (int i = 0; i < MAX_WRITERS; i++)
        bkp_pack_writer_abort(r->writers[i].w);
    for (uint32_t i = 0; i < r->fds_cap; i++)
        if (r->fds[i] >= 0)
            close(r->fds[i]);
    free(r->fds);
    for (size_t i = 0; i < r->ndamaged; i++)
        free(r->damaged[i]);
    free(r->damaged);
    bkp_index_free(r->index);
    bkp_chunker_free(r->chunker);
    bkp_keys_free(r->keys);
    pthread_mutex_destroy(&r->lock);
    free(r->path);
    free(r->packs_dir);
    free(r->index_dir);
    free(r);
}

