/*
 * medium_archive.c — the archive driver of a rotation (rotate_driver.h): a
 * tape, an optical disc or a write-once folder. For a folder, the label at
 * its path is checked (a tape carries its label inside each archive
 * instead), and what a killed rotation left there removed
 * (bkp_durable_cleanup); each chosen generation not there yet becomes one
 * tar stream DATASET@SEQ.tar (bkp/media/archive.h), beginning with the recovery
 * kit on a tape, written to a temporary name, read back and verified
 * (archive_check.h), and only then given its name — never reused, never
 * rewritten; a tape receives the stream as it is, not read back; a folder
 * takes the recovery kit beside its archives, and the pins when it took
 * archives. Never pruned: it is write-once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/media/archive.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/label.h"
#include "bkp/ops/archive_check.h"
#include "bkp/ops/medium_check.h"
#include "bkp/ops/rotate_driver.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/ops/storage.h"
#include "bkp/io/stream.h"

/* The archive medium's part of a rotation under way. */
typedef struct archiving {
    const char *tmp; /* staging parent */
    bkp_label label; /* the medium's label, written into each archive (version 0: none) */
    bkp_gen **held;  /* what the folder holds (the plan's): its archives' names */
    size_t nheld;
    bkp_archive_kit akit; /* the kit the first archive on a tape begins with */
    bool kit;             /* its documents are there (else no kit) */
    bool kit_on_tape;     /* this rotation's first archive on a device carried it */
    void *kept;           /* what holds them, freed by in->kit.free */
} archiving;

/* A folder's label: a wrong medium is refused before anything is written. */
static int reach(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    archiving *a = t->d;
    struct stat st;
    a->tmp = ops_staging_parent(in->tmpdir);
    o->device = stat(in->path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
    if (o->device)
        return 0;
    return ops_rotate_fail(
        o, OPS_ROTATE_LABEL,
        ops_label_check(in->primary, in->policy, in->medium, in->path, in->entry));
}

/* The label each archive carries; a folder's leftovers removed (not in a
 * dry run: it writes nothing). */
static int open_medium(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    archiving *a = t->d;
    int rc;
    if (t->out->device) {
        /* A tape carries no label file: the registry keeps its label (`bkp
         * media label DEVICE`), and each archive carries it. Without one,
         * nothing written could be noted as this medium's. */
        if (!in->entry || !in->entry->label.version) {
            bkp_error(_("%s: the device %s is not labelled as it; label it once with `bkp media "
                        "label %s --name %s --type archive`; nothing was written"),
                      in->medium, in->path, in->path, in->medium);
            return ops_rotate_fail(t->out, OPS_ROTATE_LABEL, -ENOENT);
        }
        a->label = in->entry->label;
        return 0;
    }
    if ((rc = ops_rotate_fail(t->out, OPS_ROTATE_LABEL, bkp_label_read(in->path, &a->label))))
        return rc;
    if (!in->dry_run)
        bkp_durable_cleanup(in->path);
    return 0;
}

/* What the folder holds: one generation per archive name DATASET@SEQ.tar
 * (a tape cannot say without reading it). */
static int held(ops_rotation *t, bkp_gen ***v, size_t *n, bool *listed)
{
    archiving *a = t->d;
    char **names = NULL;
    size_t nn = 0;
    *listed = false;
    if (t->out->device || ops_archive_list(t->in->path, &names, &nn))
        return 0;
    if (!(a->held = calloc(nn + 1, sizeof(*a->held))))
        nn = 0;
    for (size_t i = 0; i < nn; i++) {
        char *at = strrchr(names[i], '@');
        bkp_gen *g = calloc(1, sizeof(*g));
        if (!g || !at || !(g->dataset = strndup(names[i], (size_t)(at - names[i])))) {
            free(g);
            continue;
        }
        g->seq = (uint32_t)strtoul(at + 1, NULL, 10);
        a->held[a->nheld++] = g;
    }
    bkp_strv_free(names, nn);
    *v = a->held;
    *n = a->nheld;
    *listed = a->held != NULL;
    return 0;
}

/*
 * One generation into the folder `dir`: -EEXIST when its archive is there
 * already. Why each step, and what a kill at each point leaves:
 *  - The name DATASET@SEQ.tar is checked first and never rewritten: a
 *    sequence number is never reused for another generation (seal.h: the
 *    floor of the log and the pins), so a name that is there holds this
 *    generation already, written and verified by an earlier rotation, and
 *    a write-once medium must not be written twice.
 *  - The stream goes to a temporary file ".tmp-HOST-PID-RANDOM" created
 *    O_EXCL in the same folder (durable.h). Killed while writing, the
 *    rotation leaves only that file: ops_archive_list never takes a dot
 *    file for an archive (nor a restore or a drill, which look for
 *    NAME@SEQ.tar), and the next rotation's bkp_durable_cleanup removes it
 *    once its writer is dead (a live writer's is left alone).
 *  - fdatasync, then the file is dropped from the page cache
 *    (bkp_dfile_sync): the read-back that follows reads the medium, not
 *    the bytes still in memory, so a medium that lost or changed them is
 *    caught now rather than on the day of a restore.
 *  - Read back: extracted into a staging folder and verified blob by blob
 *    with the primary's keys (ops_archive_check). An archive that does not
 *    verify is unlinked and never named; killed here, the temporary file is
 *    left for the clean-up above.
 *  - Only then the rename, no-replace (another rotation that named it
 *    meanwhile wins; ours is dropped and counted as there), with the fsync
 *    of the folder: the name appears whole or not at all, and a name on the
 *    medium always means an archive that was read back and verified. It is
 *    made read-only by its mode, and immutable where the file system allows.
 */
static int archive_one(ops_rotation *t, const bkp_gen *g, uint64_t *bytes)
{
    archiving *a = t->d;
    const char *dir = t->in->path;
    char *name = bkp_archive_name(g), *final = name ? bkp_path_join(dir, name) : NULL;
    bkp_dfile *f = NULL;
    bkp_stream out;
    int rc;
    if (!final) {
        free(name);
        return -ENOMEM;
    }
    if (access(final, F_OK) == 0) {
        rc = -EEXIST;
        goto out;
    }
    if ((rc = bkp_dfile_open(&f, dir, 0))) {
        bkp_error(_("cannot write to %s: %s"), dir, bkp_strerror(rc));
        goto out;
    }
    /* No kit inside: the folder carries one beside its archives (folder_kit). */
    bkp_dfile_stream(f, &out);
    rc = bkp_archive_write(t->in->primary, g, a->label.version ? &a->label : NULL, NULL, &out,
                           a->tmp, bytes);
    if (!rc)
        rc = bkp_dfile_sync(f);
    if (!rc)
        rc = ops_rotate_fail(
            t->out, OPS_ROTATE_VERIFY,
            ops_archive_check(t->in->primary, bkp_dfile_path(f), a->tmp, t->in->workers, NULL));
    if (rc) {
        if (rc == -ENOSPC || rc == -EIO)
            bkp_error(_("cannot write %s to %s: %s%s"), name, dir, bkp_strerror(rc),
                      rc == -ENOSPC ? _("; the medium is full: the archives already there are "
                                        "intact; use a new volume and run the command again")
                                    : "");
        bkp_dfile_abort(f);
        goto out;
    }
    rc = bkp_dfile_commit(f, dir, name, BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
    if (!rc && bkp_immutable(final, true))
        bkp_debug("%s: the file system does not take the immutable attribute", final);
out:
    free(final);
    free(name);
    return rc;
}

/* Straight to a tape (or another device): nothing to rename, nothing read
 * back — a tape cannot be reread here without rewinding the operator's
 * volume; the warning says how to check it. */
static int archive_device(ops_rotation *t, const bkp_gen *g, uint64_t *bytes)
{
    archiving *a = t->d;
    const char *dev = t->in->path;
    int fd = -1;
    int rc = ops_archive_device(dev, t->in->medium, &fd);
    if (rc)
        return rc;
    /* A tape has nowhere beside its archives: the first archive this
     * rotation writes on it begins with the kit, the others do not. */
    bool kit = a->kit && !a->kit_on_tape;
    bkp_stream out;
    bkp_stream_fd(&out, fd, 0);
    rc = bkp_archive_write(t->in->primary, g, a->label.version ? &a->label : NULL,
                           kit ? &a->akit : NULL, &out, a->tmp, bytes);
    if (close(fd) < 0 && !rc)
        rc = -errno;
    if (!rc && kit)
        a->kit_on_tape = true;
    if (!rc)
        bkp_warn(_("%s: written to the device %s, not read back; check it with `bkp restore %s:%u "
                   "TARGET --from %s` on a scratch folder"),
                 g->dataset, dev, g->dataset, g->seq, dev);
    return rc;
}

/* The documents of the recovery kit, made once for the folder's own kit or
 * the first archive a rotation writes on a tape (bkp/media/archive.h): one kit
 * per folder, and one per rotation on a tape, so that a tape alone,
 * extracted with tar, brings the program to read it — never one per archive
 * (a rotation that adds a few bytes writes a few bytes). */
static void kit_docs(ops_rotation *t)
{
    const ops_kit_docs *k = &t->in->kit;
    archiving *a = t->d;
    int rc = 0;
    if (!t->out->plan.np && t->out->device)
        return;
    if (k->make) /* else a kit of the program alone */
        rc = k->make(k->ctx, &a->akit.docs, &a->akit.ndocs, &a->kept);
    a->kit = !rc;
    if (rc && t->out->plan.np)
        bkp_warn(_("%s: its archives carry no recovery kit (%s)"), t->in->medium, bkp_strerror(rc));
}

/* The chosen generations, each archived unless it is there already. */
static int copy(ops_rotation *t)
{
    const ops_rotate_plan *pl = &t->out->plan;
    ops_rotate_out *o = t->out;
    int rc = 0;
    kit_docs(t);
    for (size_t i = 0; i < pl->np && !rc; i++) {
        const bkp_gen *g = pl->pick[i];
        uint64_t b = 0;
        bkp_progress(_("archiving %s to %s"), pl->rows[i].name, t->in->medium);
        rc = o->device ? archive_device(t, g, &b) : archive_one(t, g, &b);
        if (rc == -EEXIST) {
            o->present++;
            rc = 0;
        } else if (!rc) {
            o->copy.bytes += b;
            if (ops_held_add(&o->added, g)) /* the archive is there all the same */
                bkp_debug("%s: out of memory noting %s", t->in->medium, pl->rows[i].name);
        }
    }
    bkp_progress_done();
    return ops_rotate_fail(o, OPS_ROTATE_COPY, rc);
}

/* A folder of archives carries the recovery kit beside them; a tape, in
 * the first archive of each rotation. */
static void after(ops_rotation *t)
{
    ops_rotate_out *o = t->out;
    archiving *a = t->d;
    if (o->device || !a->kit)
        return;
    o->kit_written =
        !ops_kit_write(t->in->path, t->in->medium, a->akit.docs, a->akit.ndocs, &o->kit);
}

/* The audit record's figures, with the hash of the kit the medium carries
 * now. */
static int figures(ops_rotation *t, ops_rotate_figures *f)
{
    const ops_rotate_out *o = t->out;
    const archiving *a = t->d;
    f->bytes = o->copy.bytes;
    if (o->kit_written)
        snprintf(f->kit_sha256, sizeof(f->kit_sha256), "%s", o->kit.sums);
    else if (!o->rc && a->kit_on_tape && a->akit.res.written)
        snprintf(f->kit_sha256, sizeof(f->kit_sha256), "%s", a->akit.res.sums);
    return ops_held_figures(&o->added, f);
}

/* What follows the archives, once every archive is complete and verified
 * under its name. The record names what the medium holds, written now or
 * there already; a folder that took archives takes the pins; a tape takes
 * none. */
static void end(ops_rotation *t, ops_rotate_end *e)
{
    const ops_rotate_out *o = t->out;
    bool took = o->added.n > 0;
    e->took = took;
    e->seen = !o->rc;
    e->pin = o->device ? NULL : t->in->path;
    e->note = (ops_rotate_seen){.path = t->in->path,
                                .verified = took && !o->device, /* a device is not read back */
                                .verify_recorded = true,
                                .verify_ok = true,
                                .added = &o->added};
}

static void release(ops_rotation *t)
{
    archiving *a = t->d;
    if (t->in->kit.free)
        t->in->kit.free(a->kept);
    bkp_gen_list_free(a->held, a->nheld);
}

/* A folder's archives and kit; a tape cannot say. */
static int measure(ops_rotation *t, uint64_t *bytes)
{
    return t->out->device ? -ENOTSUP : ops_medium_bytes(t->in->path, NULL, bytes);
}

const ops_medium_driver ops_medium_archive = {
    .name = "archive",
    .size = sizeof(archiving),
    .reach = reach,
    .open = open_medium,
    .held = held,
    .prunes = false,
    .copy = copy,
    .after = after,
    .measure = measure,
    .end = end,
    .figures = figures,
    .release = release,
};
