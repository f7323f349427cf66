/* rotate_archive.c — see rotate_archive.h. */
#include "bkp/ops/rotate_archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/archive.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/stream.h"
#include "bkp/medium.h"
#include "bkp/ops/archive_check.h"
#include "bkp/ops/medium_label.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/rotate_choose.h"
#include "bkp/ops/rotate_finish.h"
#include "bkp/ops/rotate_record.h"

/* One rotation under way: what it holds until it ends. */
typedef struct archiving {
    const ops_archive_in *in;
    ops_archive_out *out;
    const char *tmp;      /* staging parent */
    json_t *label;        /* the medium's label, written into each archive */
    bkp_gen **v, **pick;
    size_t n, np;
    bkp_archive_kit akit; /* the kit the first archive on a tape begins with */
    bool kit;             /* its documents are there (else no kit) */
    bool kit_on_tape;     /* this rotation's first archive on a device carried it */
    void *held;           /* what holds them, freed by in->kit.free */
} archiving;

/* Note the first failure (`rc` non-zero) at `step`; returns `rc`. */
static int fail(ops_archive_out *o, ops_rotate_step step, int rc)
{
    if (rc && !o->rc) {
        o->step = step;
        o->rc = rc;
    }
    return rc;
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
static int archive_one(archiving *t, const bkp_gen *g, uint64_t *bytes)
{
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
    rc = bkp_archive_write(t->in->primary, g, t->label, NULL, &out, t->tmp, bytes);
    if (!rc)
        rc = bkp_dfile_sync(f);
    if (!rc)
        rc = fail(t->out, OPS_ROTATE_VERIFY,
                  ops_archive_check(t->in->primary, bkp_dfile_path(f), t->tmp, t->in->workers,
                                    NULL));
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
static int archive_device(archiving *t, const bkp_gen *g, uint64_t *bytes)
{
    const char *dev = t->in->path;
    int fd = open(dev, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        bkp_error(_("cannot open the device %s: %s"), dev, bkp_strerror(rc));
        return rc;
    }
    /* A tape has nowhere beside its archives: the first archive this
     * rotation writes on it begins with the kit, the others do not. */
    bool kit = t->kit && !t->kit_on_tape;
    bkp_stream out;
    bkp_stream_fd(&out, fd, 0);
    int rc = bkp_archive_write(t->in->primary, g, t->label, kit ? &t->akit : NULL, &out, t->tmp,
                               bytes);
    if (close(fd) < 0 && !rc)
        rc = -errno;
    if (!rc && kit)
        t->kit_on_tape = true;
    if (!rc)
        bkp_warn(_("%s: written to the device %s, not read back; check it with `bkp restore %s:%u "
                   "TARGET --from %s` on a scratch folder"),
                 g->dataset, dev, g->dataset, g->seq, dev);
    return rc;
}

/* Before anything touches the medium: a folder's label, and a primary
 * behind what a medium pinned must not be archived. Then the label each
 * archive carries, and what a killed rotation left removed. */
static int guard(archiving *t)
{
    const ops_archive_in *in = t->in;
    ops_archive_out *o = t->out;
    char doing[256];
    int rc;
    snprintf(doing, sizeof(doing), _("archiving to %s refused"), in->medium);
    if (!o->device && (rc = fail(o, OPS_ROTATE_LABEL, ops_label_check(in->primary, in->policy,
                                                                       in->medium, in->path,
                                                                       in->entry))))
        return rc;
    /* The primary's generations, read once: judged here, archived and
     * pinned from (write_all, finish). */
    if (!(rc = bkp_gen_list(in->primary, NULL, &t->v, &t->n)))
        rc = ops_pins_guard_of(in->primary, in->policy, t->v, t->n, doing);
    if ((rc = fail(o, OPS_ROTATE_PINS, rc)))
        return rc;
    if (o->device) {
        t->label = json_incref(json_object_get(in->entry, "label"));
        return 0;
    }
    if ((rc = fail(o, OPS_ROTATE_LABEL, bkp_label_read(in->path, &t->label))))
        return rc;
    bkp_durable_cleanup(in->path);
    return 0;
}

/* The documents of the recovery kit, made once for the folder's own kit or
 * the first archive a rotation writes on a tape (bkp/archive.h): one kit
 * per folder, and one per rotation on a tape, so that a tape alone,
 * extracted with tar, brings the program to read it — never one per archive
 * (a rotation that adds a few bytes writes a few bytes). */
static void kit_docs(archiving *t)
{
    const ops_kit_docs *k = &t->in->kit;
    int rc = 0;
    if (!t->np && t->out->device)
        return;
    if (k->make) /* else a kit of the program alone */
        rc = k->make(k->ctx, &t->akit.docs, &t->akit.ndocs, &t->held);
    t->kit = !rc;
    if (rc && t->np)
        bkp_warn(_("%s: its archives carry no recovery kit (%s)"), t->in->medium,
                 bkp_strerror(rc));
}

/* The chosen generations, each archived unless it is there already. */
static int write_all(archiving *t)
{
    const ops_archive_in *in = t->in;
    ops_archive_out *o = t->out;
    int rc = 0;
    /* `v` is the list the guard judged (guard): read once, under our writer
     * lock (no prune of the primary meanwhile); the pin names it unless a
     * backup sealed a record since (ops_pins_write_of). */
    if (!(t->pick = calloc(t->n + 1, sizeof(*t->pick))))
        return fail(o, OPS_ROTATE_COPY, -ENOMEM);
    t->np = ops_rotate_choose(in->policy, in->medium, t->v, t->n, t->pick);
    kit_docs(t);
    for (size_t i = 0; i < t->np && !rc; i++) {
        const bkp_gen *g = t->pick[i];
        char name[96];
        uint64_t b = 0;
        bkp_gen_name(g, name, sizeof(name));
        bkp_progress(_("archiving %s to %s"), name, in->medium);
        rc = o->device ? archive_device(t, g, &b) : archive_one(t, g, &b);
        if (rc == -EEXIST) {
            o->present++;
            rc = 0;
        } else if (!rc) {
            o->bytes += b;
            json_array_append_new(o->written, json_string(name));
            json_array_append_new(o->added, json_pack("{s:s, s:i, s:s, s:O}", "dataset",
                                                      g->dataset, "seq", (int)g->seq, "uuid",
                                                      g->uuid, "finished",
                                                      json_object_get(g->json, "finished")));
        }
    }
    bkp_progress_done();
    return fail(o, OPS_ROTATE_COPY, rc);
}

/* A folder of archives carries the recovery kit beside them; a tape, in
 * the first archive of each rotation. */
static void folder_kit(archiving *t)
{
    ops_archive_out *o = t->out;
    if (o->device || !t->kit)
        return;
    o->kit_written = !ops_kit_write(t->in->path, t->in->medium, t->akit.docs, t->akit.ndocs,
                                    &o->kit);
}

/* The audit record's figures, with the hash of the kit the medium carries
 * now. */
static json_t *figures(const archiving *t)
{
    const ops_archive_out *o = t->out;
    json_t *fig = json_pack("{s:O, s:I}", "generations", o->written, "bytes", (json_int_t)o->bytes);
    if (fig && o->kit_written)
        json_object_set_new(fig, "kit_sha256", json_string(o->kit.sums));
    else if (fig && !o->rc && t->kit_on_tape && t->akit.res.written)
        json_object_set_new(fig, "kit_sha256", json_string(t->akit.res.sums));
    return fig;
}

/* What follows the archives: their end (rotate_finish.c), once every
 * archive is complete and verified under its name. The record names what
 * the medium holds, written now or there already; a folder that took
 * archives takes the pins; a tape takes none. */
static void finish(archiving *t)
{
    const ops_archive_in *in = t->in;
    ops_archive_out *o = t->out;
    ops_rotate_step step;
    bool took = json_array_size(o->added) > 0, wrote;
    ops_rotate_end e = {.primary = in->primary,
                        .medium = in->medium,
                        .pick = t->pick,
                        .np = t->np,
                        .all = t->v,
                        .nall = t->n,
                        .fig = figures(t),
                        .rc = o->rc,
                        .at = o->step,
                        .where = in->path,
                        .took = took,
                        .seen = !o->rc,
                        .pin = o->device ? NULL : in->path,
                        .note = {.path = in->path,
                                 .verified = took && !o->device, /* a device is not read back */
                                 .verify_recorded = true,
                                 .verify_ok = true,
                                 .added = o->added}};
    int rc = ops_rotate_finish(&e, &step, &wrote);
    fail(o, step, rc);
    json_decref(e.fig);
}

int ops_rotate_archive(const ops_archive_in *in, ops_archive_out *out)
{
    archiving t = {.in = in, .out = out, .tmp = ops_staging_parent(in->tmpdir)};
    struct stat st;
    memset(out, 0, sizeof(*out));
    out->device = stat(in->path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
    out->written = json_array();
    out->added = json_array();
    if (!out->written || !out->added)
        return fail(out, OPS_ROTATE_COPY, -ENOMEM);
    if (!guard(&t) && !write_all(&t))
        folder_kit(&t);
    finish(&t);
    if (in->kit.free)
        in->kit.free(t.held);
    json_decref(t.label);
    free(t.pick);
    bkp_gen_list_free(t.v, t.n);
    return out->rc;
}

void ops_archive_out_clear(ops_archive_out *out)
{
    json_decref(out->written);
    json_decref(out->added);
    memset(out, 0, sizeof(*out));
}
