#include "bkp/store/repo.h"
#include "bkp/store/repo_internal.h"

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

#include "bkp/io/clock.h"
#include "bkp/store/config.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/key_slots.h"
#include "bkp/store/layout.h"
#include "bkp/io/log.h"
#include "bkp/store/pack.h"
#include "bkp/keys/primitive.h"
#include "bkp/store/prune_recover.h"
#include "bkp/io/text.h"

static const char *const subdirs[] = {"keys", "packs", "index", "generations", "cache", "locks"};

int bkp_repo_make_folders(const char *path)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof(subdirs) / sizeof(*subdirs); i++) {
        char *p = bkp_path_join(path, subdirs[i]);
        rc = p ? bkp_mkdir_p(p, 0700) : -ENOMEM;
        free(p);
    }
    return rc;
}

const char *bkp_repo_path(const bkp_repo *r)
{
    return r->path;
}

const char *bkp_repo_shown(const bkp_repo *r)
{
    return r->shown;
}

int bkp_repo_set_shown(bkp_repo *r, const char *args)
{
    char *s = strdup(args);
    if (!s)
        return -ENOMEM;
    free(r->shown);
    r->shown = s;
    return 0;
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
    return r->mut->index;
}
uint32_t bkp_repo_segment_entries(const bkp_repo *r)
{
    return r->segment_max;
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
    return bkp_repo_init_ids(path, pass, passlen,
                             bkp_prim_hmac_sha256_faster() ? BKP_ID_HMAC_SHA256 : BKP_ID_BLAKE2B);
}

int bkp_repo_init_ids(const char *path, const char *pass, size_t passlen, bkp_id_hash id_hash)
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
            bkp_error(_("%s is not empty; give a new or empty directory for the repository"), path);
            return -EEXIST;
        }
        bkp_error(_("cannot read %s: %s"), path, bkp_strerror(r));
        return r;
    }
    bkp_buf_init(&keyfile);
    if ((r = bkp_mkdir_p(path, 0700))) {
        bkp_error(_("cannot create %s: %s"), path, bkp_strerror(r));
        goto out;
    }
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
        p = bkp_path_join(path, subdirs[i]);
        if (!p || mkdir(p, 0700) < 0) {
            r = p ? -errno : -ENOMEM;
            bkp_error(_("cannot create %s: %s"), p ? p : path, bkp_strerror(r));
            goto out;
        }
        free(p);
        p = NULL;
    }
    uuid_generate_random(rid);
    uuid_unparse_lower(rid, uuid);
    time_t now = bkp_now();
    /* One slot, for the passphrase given: FORMAT §2's list, signed; its
     * label says where it came from, in the list and in the records of
     * its change or removal. */
    bkp_key_slots *slots = calloc(1, sizeof(*slots));
    r = slots ? bkp_keys_generate(rid, &k) : -ENOMEM;
    if (!r && (r = bkp_key_slots_add(slots, k, pass, passlen, "init", now)) >= 0)
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
        bkp_error(_("cannot write the key file in %s: %s"), p, bkp_strerror(r));
        goto out;
    }
    static const uint32_t chunk[3] = {BKP_CHUNK_MIN, BKP_CHUNK_AVG, BKP_CHUNK_MAX};
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    /* Bound to the key by its MAC (FORMAT §2): a changed byte is refused. */
    text = bkp_config_render(uuid, created, chunk, id_hash, k, &tl);
    if (!text) {
        r = -ENOMEM;
        goto out;
    }
    r = bkp_durable_write(path, "config", text, tl, BKP_DURABLE_NOREPLACE);
    if (r)
        bkp_error(_("cannot write %s/config: %s"), path, bkp_strerror(r));
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
        bkp_error(_("%s is not a bkp repository (no config file); check --repo or run "
                    "`bkp init --repo %s`"),
                  r->path, r->path);
    } else if (rc && rc != -EFBIG) {
        bkp_error(_("cannot read %s: %s"), p ? p : r->path, bkp_strerror(rc));
    } else if ((rc = rc ? -EBADMSG : bkp_config_parse(raw->data, raw->len, cfg, &why)) == -EPROTO) {
        bkp_error(_("%s: repository format %s, which this bkp (format %d) does not read; use the "
                    "bkp that wrote it to restore from it, or start a new repository with `bkp "
                    "init`"),
                  p, why, BKP_CONFIG_VERSION);
    } else if (rc) {
        bkp_error(_("%s: not a valid bkp repository config (%s); restore it from a copy of the "
                    "repository on another medium (MEDIUM/repo/config)"),
                  p, why ? why : "too large");
        rc = -EBADMSG;
    } else {
        memcpy(r->uuid, cfg->id, 37);
    }
    free(p);
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
    uint32_t n = bkp_index_pack_count(r->mut->index), first = n, found = 0;
    uint8_t(*known)[BKP_ID_LEN] = malloc(((size_t)n + 1) * BKP_ID_LEN);
    int rc = 0;
    if (!known)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        memcpy(known[i], bkp_index_pack_id(r->mut->index, i), BKP_ID_LEN);
    qsort(known, n, BKP_ID_LEN, cmp_id);
    for (int b = 0; b < 256 && !rc; b++) {
        char sub[3];
        snprintf(sub, sizeof(sub), "%02x", b);
        char *dir = bkp_path_join(r->packs_dir, sub);
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *e;
        while (d && (e = readdir(d))) {
            uint8_t id[BKP_ID_LEN];
            if (bkp_unhex(id, BKP_ID_LEN, e->d_name) != 0 ||
                bsearch(id, known, n, BKP_ID_LEN, cmp_id))
                continue;
            /* A pack a pending prune is deleting is not adopted again. */
            if (bkp_prune_doomed(r->path, r->keys, e->d_name))
                continue;
            char *p = bkp_path_join(dir, e->d_name);
            int fd = p ? bkp_open_regular(p) : -ENOMEM;
            struct stat st;
            bkp_pack_entry *ents = NULL;
            uint32_t cnt = 0;
            int x = fd < 0 ? fd
                    : fstat(fd, &st) < 0
                        ? -errno
                        : bkp_pack_read_trailer(fd, (uint64_t)st.st_size, r->keys, &ents, &cnt);
            /* Another process's pack, maybe killed before its fsyncs: make
             * it durable before a segment (and then a record) relies on it. */
            bool rw = !(r->flags & BKP_REPO_READONLY);
            int sync = !x && rw ? bkp_fsync_fd(fd) : 0;
            if (fd >= 0)
                close(fd);
            /* And its name: a segment naming a pack whose directory entry a
             * crash could still take away would be a record's missing pack.
             * When it cannot be made durable the pack is not adopted now;
             * the next open tries again, nothing is lost meanwhile. */
            if (!x && !sync && rw)
                sync = bkp_fsync_dir(dir);
            if (x) {
                bkp_warn(_("pack %s is not indexed and its trailer is unreadable (%s); run `bkp "
                           "verify --read-data`"),
                         p, bkp_strerror(x));
            } else if (sync) {
                bkp_warn(_("pack %s is not indexed: it cannot be made durable (%s); the next "
                           "backup tries again"),
                         p, bkp_strerror(sync));
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
        /* A reader indexes them for itself only, and a copy fetched from a
         * bucket holds its packs so by design: nothing for a person there. */
        if (r->flags & BKP_REPO_READONLY)
            bkp_debug("indexed %u pack(s) not in the index, for this read", found);
        else
            bkp_info(_("indexed %u pack(s) left by an interrupted run"), found);
        r->first_new_pack = first;
        if (!(r->flags & BKP_REPO_READONLY) && bkp_repo_flush(r) != 0) {
            /* The in-memory index has them; the next flush retries. */
            bkp_warn(_("the recovered packs are indexed for this run only"));
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
        /* A medium's cache/ is never written by bkp (repo_index.c), so it
         * holds no temporary file of ours, and what a medium put there is
         * neither opened nor removed. */
        if ((r->flags & BKP_REPO_MEDIUM) && !strcmp(dirs[i], "cache"))
            continue;
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
    return r->mut->ndamaged;
}

const char *bkp_repo_damaged_segment(const bkp_repo *r, size_t i)
{
    return r->mut->damaged[i];
}

/* The packs a damaged segment named are indexed again by now (reindex wrote
 * a segment for them), so the segment is renamed, not deleted: it is
 * evidence, and a reader skips names that are not 64 hex digits. */
static void set_damaged_aside(bkp_repo *r)
{
    if (r->flags & BKP_REPO_READONLY) {
        for (size_t i = 0; i < r->mut->ndamaged; i++)
            bkp_warn(_("index segment %s is damaged; its packs were indexed from their own "
                       "trailers, and the next backup sets it aside"),
                     r->mut->damaged[i]);
        return;
    }
    for (size_t i = 0; i < r->mut->ndamaged; i++) {
        size_t l = strlen(r->mut->damaged[i]);
        char *to = malloc(l + 9);
        if (!to)
            continue;
        memcpy(to, r->mut->damaged[i], l);
        memcpy(to + l, ".damaged", 9);
        (void)bkp_immutable(r->mut->damaged[i], false);
        /* Renamed, then the folder fsynced: a crash before the fsync may
         * bring the damaged name back, and the next writable open finds it
         * damaged again and repeats this; its packs are indexed from their
         * trailers either way, so nothing a record needs is unreachable. */
        int x = bkp_durable_rename(r->mut->damaged[i], to, 0);
        if (x)
            bkp_warn(_("cannot set the damaged index segment %s aside (%s); the next writable "
                       "open tries again"),
                     r->mut->damaged[i], bkp_strerror(x));
        else
            bkp_warn(_("index segment %s was damaged; its packs were indexed again from their "
                       "own trailers and it was renamed to %s"),
                     r->mut->damaged[i], to);
        free(to);
    }
}

int bkp_repo_alloc(const char *path, unsigned flags, bkp_repo **out)
{
    int rc = -ENOMEM;
    bkp_repo *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->mut = calloc(1, sizeof(*r->mut));
    if (!r->mut) {
        free(r);
        return -ENOMEM;
    }
    pthread_mutex_init(&r->mut->lock, NULL);
    pthread_cond_init(&r->mut->idle, NULL);
    r->index_max = BKP_INDEX_MEMORY_MAX;
    r->writers_max = MAX_WRITERS;
    r->segment_max = BKP_INDEX_SEGMENT_ENTRIES;
    r->flags = flags;
    r->slot = -1; /* no slot: opened with sheets, or a copy with the primary's keys */
    /* Absolute: a restore changes the working directory into its target. */
    r->path = realpath(path, NULL);
    if (!r->path) {
        rc = -errno;
        if (rc == -ENOENT)
            bkp_error(_("there is no repository at %s; check --repo (or the policy's repository), "
                        "or mount the disk that holds it"),
                      path);
        else
            bkp_error(_("cannot open the repository %s: %s; check --repo"), path, bkp_strerror(rc));
    } else if ((r->packs_dir = bkp_path_join(r->path, "packs")) &&
               (r->index_dir = bkp_path_join(r->path, "index")) &&
               (r->shown = malloc(4 * strlen(r->path) + 16))) {
        strcpy(r->shown, "--repo ");
        bkp_shell_word(r->shown + 7, 4 * strlen(r->path) + 9, r->path);
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
        if ((rc = bkp_repo_keys_master(r, master, pk)))
            goto fail;
    } else if (!like) {
        if ((rc = bkp_repo_keys_load(r, pass, passlen, pk)))
            goto fail;
    } else if (strcmp(r->uuid, like->uuid) || memcmp(pk, bkp_keys_sign_pk(like->keys), 32)) {
        /* Asked, another repository is an answer; the same UUID under
         * another key is a copy or a primary tampered with, said always. */
        if (!(flags & BKP_REPO_ASKING) || !strcmp(r->uuid, like->uuid))
            bkp_error(_("%s holds repository %s, not a copy of %s (%s); this medium belongs to "
                        "another repository"),
                      r->path, r->uuid, like->path, like->uuid);
        rc = -EXDEV;
        goto fail;
    } else if ((rc = flags & BKP_REPO_OF_COPY
                         ? bkp_repo_keys_of_copy(r, like)
                         : bkp_repo_keys_copy(r, like, !(flags & BKP_REPO_READONLY))) ||
               (rc = bkp_keys_dup(like->keys, &r->keys))) {
        goto fail;
    }
    /* The chunk-ID function is set from the config only once its MAC is
     * checked (a format 2 config's, below, once a blob confirms it). */
    if ((rc = bkp_repo_config_check(r, &cfg, &raw, like)))
        goto fail;
    rc = bkp_chunker_new(bkp_keys_gear_seed(r->keys), cfg.chunk[0], cfg.chunk[1], cfg.chunk[2],
                         &r->chunker);
    if (rc) {
        bkp_error(_("%s/config: invalid chunker sizes"), path);
        goto fail;
    }
    if ((rc = bkp_index_new(&r->mut->index)))
        goto fail;
    if ((rc = cleanup_pass(r)))
        goto fail;
    if ((rc = bkp_repo_index_load(r)))
        goto fail;
    r->first_new_pack = bkp_index_pack_count(r->mut->index);
    /* After the packs no segment names are adopted: an index taken away
     * with the config must not leave the probe nothing to read. */
    if ((rc = reindex_orphans(r)) || (rc = bkp_repo_config_confirm(r, &cfg, like == NULL)))
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

int bkp_repo_open_master(const char *path, const uint8_t master[32], unsigned flags, bkp_repo **out)
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
    for (uint32_t i = 0; i < r->mut->fds_cap; i++)
        if (r->mut->fds[i] >= 0) {
            close(r->mut->fds[i]);
            r->mut->fds[i] = -1;
        }
    r->mut->fds_open = 0;
    for (size_t i = 0; i < r->mut->ndamaged; i++)
        free(r->mut->damaged[i]);
    r->mut->ndamaged = 0;
    bkp_index_free(r->mut->index);
    r->mut->index = fresh;
    if ((rc = bkp_repo_index_load(r)))
        return rc;
    r->first_new_pack = bkp_index_pack_count(r->mut->index);
    return reindex_orphans(r);
}

int bkp_repo_open_copy(const char *path, const bkp_repo *like, unsigned flags, bkp_repo **out)
{
    /* Before realpath resolves it: a copy made of links is refused. */
    int rc = bkp_layout_check(path);
    return rc ? rc
              : open_repo(path, NULL, 0, NULL, like, flags | BKP_REPO_COPY | BKP_REPO_MEDIUM, out);
}

int bkp_repo_open_primary_of(const char *path, const bkp_repo *copy, bkp_repo **out)
{
    /* As a copy's: a layout of links is refused before anything is read. */
    int rc = bkp_layout_check(path);
    return rc ? rc
              : open_repo(path, NULL, 0, NULL, copy,
                          BKP_REPO_READONLY | BKP_REPO_ASKING | BKP_REPO_OF_COPY, out);
}

bool bkp_repo_is_copy(const bkp_repo *r)
{
    return (r->flags & BKP_REPO_COPY) != 0;
}

char *bkp_repo_copy_memo(const bkp_repo *r, char *(*find)(const bkp_repo *r))
{
    if (!bkp_repo_is_copy(r))
        abort();
    /* Only an answer is kept: a label not found (or not naming this
     * repository) is looked for again, so a later call is never weaker than
     * a fresh handle's. The label is written only by `media label`, which
     * no command holding a copy open runs. */
    pthread_mutex_lock(&r->mut->lock);
    if (!r->mut->copy_memo)
        r->mut->copy_memo = find(r);
    char *v = r->mut->copy_memo ? strdup(r->mut->copy_memo) : NULL;
    pthread_mutex_unlock(&r->mut->lock);
    return v;
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
        bool resumable =
            cfg && key && slots && access(cfg, F_OK) < 0 &&
            (access(key, F_OK) < 0 ||
             bkp_repo_key_file_read(key, bkp_keys_sign_pk(like->keys), like->uuid, slots) == 0);
        free(slots);
        free(cfg);
        free(key);
        if (!resumable) {
            bkp_error(_("%s is not empty and holds no copy of this repository; give an empty "
                        "folder for the copy"),
                      path);
            return -EEXIST;
        }
    } else if (rc < 0) {
        return rc;
    }
    bkp_buf_init(&data);
    rc = bkp_repo_make_folders(path);
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
        bkp_error(_("cannot create the repository copy in %s: %s"), path, bkp_strerror(rc));
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
    for (uint32_t i = 0; i < r->mut->fds_cap; i++)
        if (r->mut->fds[i] >= 0)
            close(r->mut->fds[i]);
    free(r->mut->fds);
    for (size_t i = 0; i < r->mut->ndamaged; i++)
        free(r->mut->damaged[i]);
    free(r->mut->damaged);
    free(r->mut->copy_memo);
    bkp_index_free(r->mut->index);
    free(r->covered);
    free(r->in_memory);
    bkp_chunker_free(r->chunker);
    bkp_keys_free(r->keys);
    pthread_cond_destroy(&r->mut->idle);
    pthread_mutex_destroy(&r->mut->lock);
    free(r->mut);
    free(r->path);
    free(r->shown);
    free(r->packs_dir);
    free(r->index_dir);
    free(r);
}
