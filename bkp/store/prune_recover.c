/*
 * prune_recover.c — the third step of a prune: finishing (or refusing) what
 * an interrupted prune left, and the deletions a prune ends with.
 *
 * A prune is plan -> apply -> recover (prune.h): recovery is here, apart
 * from the planning, because every open runs it before it reads the index,
 * and it needs nothing of generations, trees or repacking: only the intent
 * (intent.h), the repository's folders and its keys. That keeps the open
 * (repo.c) from depending on the prune that depends on the open.
 */
#include "bkp/store/prune_recover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bkp/io/durable.h"
#include "bkp/io/lock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

/* The directories recovery reads and deletes in, each opened once and
 * without following a symbolic link: every deletion is an unlinkat of one
 * name that matches the format, so no name and no planted link can make it
 * reach outside the repository. */
typedef struct rdirs {
    int locks, index, packs;
} rdirs;

static void close_dirs(rdirs *d)
{
    int *fds[] = {&d->locks, &d->index, &d->packs};
    for (size_t i = 0; i < 3; i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    d->locks = d->index = d->packs = -1;
}

static int open_sub(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int open_dirs(const char *repo, rdirs *d)
{
    int root = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    d->locks = d->index = d->packs = -1;
    if (root < 0)
        return -errno;
    d->locks = open_sub(root, "locks");
    d->index = open_sub(root, "index");
    d->packs = open_sub(root, "packs");
    close(root);
    int rc = d->locks < 0 ? d->locks : d->index < 0 ? d->index : d->packs < 0 ? d->packs : 0;
    if (rc) {
        d->locks = d->locks < 0 ? -1 : d->locks;
        d->index = d->index < 0 ? -1 : d->index;
        d->packs = d->packs < 0 ? -1 : d->packs;
        close_dirs(d);
    }
    return rc;
}

static int unlink_pack(int packs, const uint8_t id[BKP_ID_LEN])
{
    char hex[2 * BKP_ID_LEN + 1], sub[3];
    bkp_hex(hex, id, BKP_ID_LEN);
    memcpy(sub, hex, 2);
    sub[2] = '\0';
    int fd = open_sub(packs, sub);
    if (fd < 0)
        return fd;
    int rc = bkp_unlink_sealed_at(fd, hex);
    int x = bkp_fsync_fd(fd);
    rc = rc ? rc : x;
    close(fd);
    return rc;
}

/*
 * Step 4 of a prune, run by the prune itself and by recovery: the old
 * segments (those the new index did not rewrite), then the doomed packs,
 * then the intent. Each deletion is fsynced before the next kind starts.
 * Why this order is safe at every kill:
 *  - the new index is complete and durable before this starts (the intent
 *    says index_written only then), so whatever old segment is gone, every
 *    pack that stays is named by a segment;
 *  - the old segments go before the packs: no segment that stays names a
 *    pack that is deleted (foreign() checks exactly that before recovery
 *    runs this);
 *  - the intent goes last: a kill anywhere before leaves it, and the next
 *    writable open runs this again; every step is a deletion of a name that
 *    may already be gone (ENOENT counts as done), so repeating is harmless.
 */
static int finish(const rdirs *d, const bkp_intent *in)
{
    char hex[2 * BKP_ID_LEN + 1];
    int rc = 0;
    for (size_t i = 0; !rc && i < in->nold; i++) {
        if (bkp_intent_lists((const uint8_t(*)[BKP_ID_LEN])in->new_segs, in->nnew, in->old_segs[i]))
            continue;
        bkp_hex(hex, in->old_segs[i], BKP_ID_LEN);
        int x = bkp_unlink_sealed_at(d->index, hex);
        rc = x == -ENOENT ? 0 : x;
    }
    if (!rc)
        rc = bkp_fsync_fd(d->index);
    for (size_t i = 0; !rc && i < in->npacks; i++) {
        int x = unlink_pack(d->packs, in->packs[i]);
        rc = x == -ENOENT ? 0 : x;
    }
    if (!rc)
        rc = bkp_durable_unlink_at(d->locks, BKP_INTENT_FILE);
    return rc;
}

int bkp_prune_finish(const char *repo, const bkp_intent *in)
{
    rdirs d;
    int rc = open_dirs(repo, &d);
    if (!rc)
        rc = finish(&d, in);
    close_dirs(&d);
    return rc;
}

/* Is `in` this repository's own? Its signature says it was written with
 * the repository key, but a copy on a medium shares key and ID with the
 * primary, so an intent of the primary (or of another copy) copied onto a
 * medium would verify there too. What tells them apart is the index it was
 * written against: finishing deletes the old segments it names and leaves
 * every other segment, and those (the new index, which must be here in
 * full, and anything else) must not name one pack it deletes. Segment names
 * are hashes of sealed bytes with a random nonce, so the primary's never
 * occur on a copy: there its new index is absent, and the copy's own
 * segments still name the packs, so nothing is deleted. A replayed old
 * intent of this very repository passes, and deletes only packs no segment
 * names. Any doubt (a segment that stays and cannot be read) refuses. */
static const char *foreign(const rdirs *d, const bkp_intent *in, const bkp_keys *k)
{
    const uint8_t(*news)[BKP_ID_LEN] = (const uint8_t(*)[BKP_ID_LEN])in->new_segs;
    const uint8_t(*olds)[BKP_ID_LEN] = (const uint8_t(*)[BKP_ID_LEN])in->old_segs;
    bkp_index *stays = NULL;
    bkp_buf seg;
    const char *why = NULL;
    size_t found_new = 0;
    int fd = fcntl(d->index, F_DUPFD_CLOEXEC, 0);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    bkp_buf_init(&seg);
    if (!dir || bkp_index_new(&stays)) {
        if (fd >= 0 && !dir)
            close(fd);
        why = "its index folder cannot be read";
        goto out;
    }
    while (!why && (e = readdir(dir))) {
        uint8_t id[BKP_ID_LEN];
        if (!bkp_is_object_name(e->d_name) || bkp_unhex(id, BKP_ID_LEN, e->d_name))
            continue; /* temporary files, set-aside segments */
        bool is_new = bkp_intent_lists(news, in->nnew, id);
        if (!is_new && bkp_intent_lists(olds, in->nold, id))
            continue; /* goes */
        found_new += is_new;
        int x = bkp_read_file_at(d->index, e->d_name, &seg,
                                 8 + BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16);
        if (!x)
            x = bkp_index_segment_load(stays, seg.data, seg.len, k);
        if (x)
            why = "an index segment that would stay cannot be read, so what it names is unknown";
    }
    if (!why && found_new != in->nnew)
        why = "the new index it names is not in this repository: it was written for another "
              "copy, or the index was damaged";
    for (size_t i = 0; !why && i < in->npacks; i++) {
        uint32_t num;
        if (bkp_index_find_pack(stays, in->packs[i], &num) == 0)
            why = "it would delete packs that this repository's index still uses: it was "
                  "written for another copy";
    }
out:
    if (dir)
        closedir(dir);
    bkp_index_free(stays);
    bkp_buf_free(&seg);
    return why;
}

/* Intents this process refused, for the audit log ("PATH: why; fate"). */
#define MAX_REJECTED 16
static char *rejected[MAX_REJECTED];
static size_t nrejected;

size_t bkp_prune_rejections(const char *const **out)
{
    *out = (const char *const *)rejected;
    return nrejected;
}

static void note_rejected(const char *repo, const char *why, const char *fate)
{
    char *s = NULL;
    if (nrejected < MAX_REJECTED &&
        asprintf(&s, "%s/locks/%s: %s; %s", repo, BKP_INTENT_FILE, why, fate) >= 0)
        rejected[nrejected++] = s;
}

/* Set a rejected intent aside under a name no reader takes for an intent:
 * evidence, never executed, never silently dropped. */
static void reject(const rdirs *d, const char *repo, const char *why, unsigned how)
{
    char to[64] = "";
    if (how & BKP_RECOVER_READONLY) {
        bkp_warn(
            _("%s/locks/%s is not a valid prune intent of this repository: %s. It is not "
              "executed and nothing was changed; the next backup or `bkp prune` sets it aside"),
            repo, BKP_INTENT_FILE, why);
        note_rejected(repo, why, "reported by a read-only open, left in place");
        return;
    }
    int x = -EEXIST;
    for (int n = 0; x == -EEXIST && n < 100; n++) {
        snprintf(to, sizeof(to), "%s.rejected-%lld%s%.0d", BKP_INTENT_FILE, (long long)time(NULL),
                 n ? "-" : "", n);
        x = bkp_durable_rename_at(d->locks, BKP_INTENT_FILE, d->locks, to, BKP_DURABLE_NOREPLACE);
    }
    char fate[96];
    snprintf(fate, sizeof(fate), "%s%s", x ? "could not be set aside: " : "set aside as ",
             x ? bkp_strerror_en(x) : to);
    note_rejected(repo, why, fate);
    if (x)
        bkp_error(_("%s/locks/%s is not a valid prune intent of this repository: %s. It was not "
                    "executed and nothing was deleted; it could not be set aside: %s. If no prune "
                    "of this repository was interrupted, someone wrote it there: check who can "
                    "write to %s, then run `bkp verify`"),
                  repo, BKP_INTENT_FILE, why, bkp_strerror(x), repo);
    else
        bkp_error(_("%s/locks/%s is not a valid prune intent of this repository: %s. It was not "
                    "executed and nothing was deleted; it was set aside as %s. If no prune of "
                    "this repository was interrupted, someone wrote it there: check who can write "
                    "to %s, then run `bkp verify`"),
                  repo, BKP_INTENT_FILE, why, to, repo);
}

/* The intent file of `d`, checked: 0 with `in`, -ENOENT when there is none,
 * -EBADMSG with `*why` when it fails a check, another errno if unreadable. */
static int load_intent(const rdirs *d, const bkp_keys *k, bkp_intent *in, const char **why)
{
    bkp_buf file;
    bkp_buf_init(&file);
    int rc = bkp_read_file_at(d->locks, BKP_INTENT_FILE, &file, BKP_INTENT_MAX_BYTES);
    memset(in, 0, sizeof(*in));
    if (rc == -EFBIG || rc == -EBADMSG || rc == -ELOOP) {
        *why = rc == -EFBIG ? "larger than any intent" : "not a regular file";
        rc = -EBADMSG;
    } else if (!rc && (rc = bkp_intent_decode(file.data, file.len, k, in)) == -EBADMSG) {
        *why = "its signature does not verify with this repository's key, or a field is "
               "malformed";
    }
    bkp_buf_free(&file);
    return rc;
}

bool bkp_prune_doomed(const char *repo, const bkp_keys *k, const char *hex)
{
    rdirs d;
    bkp_intent in;
    const char *why = NULL;
    uint8_t id[BKP_ID_LEN];
    bool doomed = false;
    if (!bkp_is_object_name(hex) || bkp_unhex(id, BKP_ID_LEN, hex) || open_dirs(repo, &d))
        return false;
    /* Only an intent written with the key counts: a planted one must not
     * hide packs from re-indexing either. */
    if (load_intent(&d, k, &in, &why) == 0)
        doomed = bkp_intent_lists((const uint8_t(*)[BKP_ID_LEN])in.packs, in.npacks, id);
    bkp_intent_free(&in);
    close_dirs(&d);
    return doomed;
}

int bkp_prune_recover(const char *repo, const bkp_keys *k, unsigned how, bool *finished)
{
    rdirs d;
    bkp_intent in = {0};
    const char *why = NULL;
    if (finished)
        *finished = false;
    int rc = open_dirs(repo, &d);
    if (rc)
        return 0; /* no intent can be read, so none is acted on; the open reports the rest */
    rc = load_intent(&d, k, &in, &why);
    /* A live prune is doing it now; a dead one left it to us. A read-only
     * open leaves locks alone (judging one stale would remove it). */
    if (rc == -ENOENT ||
        (!(how & (BKP_RECOVER_MINE | BKP_RECOVER_READONLY)) && bkp_lock_is_held(repo, "prune"))) {
        rc = 0;
        goto out;
    }
    if (rc && rc != -EBADMSG) {
        bkp_warn(_("cannot read %s/locks/%s (%s); it is not acted on"), repo, BKP_INTENT_FILE,
                 bkp_strerror(rc));
        rc = 0;
        goto out;
    }
    if (!rc && in.index_written)
        why = foreign(&d, &in, k);
    rc = 0;
    if (why) {
        reject(&d, repo, why, how);
    } else if (how & BKP_RECOVER_READONLY) {
        bkp_warn(_("a prune of %s is under way or was interrupted; if interrupted, the next "
                   "backup or `bkp prune` finishes it (nothing was changed now)"),
                 repo);
    } else if (!in.index_written) {
        /* Only intents whose new index was written completely are finished;
         * an earlier one is dropped: the old segments and packs stay, and
         * the next prune starts over. Either way nothing in use goes. */
        if (bkp_durable_unlink_at(d.locks, BKP_INTENT_FILE) == 0)
            bkp_warn(_("dropped an interrupted prune that had deleted no pack yet"));
    } else if ((rc = finish(&d, &in))) {
        bkp_error(_("cannot finish an interrupted prune of %s (%s); nothing writes to this "
                    "repository until it is finished: fix the cause and run `bkp prune`"),
                  repo, bkp_strerror(rc));
    } else {
        bkp_warn(_("finished a prune of %s that was interrupted"), repo);
        if (finished)
            *finished = true;
    }
out:
    bkp_intent_free(&in);
    close_dirs(&d);
    return rc;
}
