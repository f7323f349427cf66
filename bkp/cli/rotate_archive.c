/*
 * Rotation to an archive medium (tape, optical, a write-once folder): each
 * chosen generation not yet there becomes one tar stream DATASET@SEQ.tar,
 * written to a temporary name, fsynced, dropped from the page cache, read
 * back — extracted to a staging folder and verified blob by blob — and only
 * then given its name, which is never reused or rewritten. A tape device
 * receives the stream as it is (its label travels inside each archive).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/archive.h"
#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/rotate_choose.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/verify.h"

static const char *tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/var/tmp";
}

int cli_archive_check(cli *c, const char *path, bkp_verify_result *sum)
{
    char *staging = NULL;
    bkp_repo *copy = NULL;
    bkp_verify_result res = {0};
    if (asprintf(&staging, "%s/bkp-check-XXXXXX", tmp_dir()) < 0 || !mkdtemp(staging)) {
        bkp_error(_("cannot make a staging folder in %s to read the archive back; set TMPDIR"),
                  tmp_dir());
        free(staging);
        return -EIO;
    }
    int rc = bkp_archive_extract_repo(path, staging);
    if (!rc)
        rc = bkp_repo_open_copy(staging, c->r, BKP_REPO_READONLY, &copy);
    if (!rc)
        rc = bkp_verify(copy, true, c->workers, &res);
    if (rc >= 0 && sum) {
        sum->packs_read += res.packs_read;
        sum->blobs_read += res.blobs_read;
        sum->bytes_read += res.bytes_read;
    }
    if (rc > 0) {
        bkp_error(_("the archive %s does not verify when read back (above)"), path);
        rc = -EBADMSG;
    }
    bkp_verify_result_clear(&res);
    bkp_repo_free(copy);
    cli_source_remove(staging);
    return rc;
}

/* One generation into the folder `dir`: -EEXIST when it is there already. */
static int archive_one(cli *c, const char *dir, const bkp_gen *g, json_t *label,
                       bkp_archive_kit *kit, uint64_t *bytes)
{
    char *name = bkp_archive_name(g), *final = name ? bkp_path_join(dir, name) : NULL;
    bkp_dfile f;
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
    rc = bkp_archive_write(c->r, g, label, kit, f.fd, tmp_dir(), bytes);
    if (!rc)
        rc = bkp_dfile_sync(&f); /* the check below reads the medium, not memory */
    if (!rc)
        rc = cli_archive_check(c, f.tmp, NULL);
    if (rc) {
        if (rc == -ENOSPC || rc == -EIO)
            bkp_error(_("cannot write %s to %s: %s%s"), name, dir, bkp_strerror(rc),
                      rc == -ENOSPC ? _("; the medium is full: the archives already there are "
                                        "intact; use a new volume and run the command again")
                                    : "");
        bkp_dfile_abort(&f);
        goto out;
    }
    rc = bkp_dfile_commit(&f, dir, name, BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
    if (!rc && bkp_immutable(final, true))
        bkp_debug("%s: the file system does not take the immutable attribute", final);
out:
    free(final);
    free(name);
    return rc;
}

/* Straight to a tape (or another device): nothing to rename, nothing read back. */
static int archive_device(cli *c, const char *dev, const bkp_gen *g, json_t *label,
                          bkp_archive_kit *kit, uint64_t *bytes)
{
    int fd = open(dev, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        bkp_error(_("cannot open the device %s: %s"), dev, bkp_strerror(rc));
        return rc;
    }
    int rc = bkp_archive_write(c->r, g, label, kit, fd, tmp_dir(), bytes);
    if (close(fd) < 0 && !rc)
        rc = -errno;
    if (!rc)
        bkp_warn(_("%s: written to the device %s, not read back; check it with `bkp restore %s:%u "
                   "TARGET --from %s` on a scratch folder"),
                 g->dataset, dev, g->dataset, g->seq, dev);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_archive_list(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || !strchr(e->d_name, '@') || l < 5 ||
            strcmp(e->d_name + l - 4, ".tar"))
            continue;
        if (*n == cap) {
            char **v = realloc(*names, (cap = cap ? 2 * cap : 16) * sizeof(*v));
            if (!v)
                break;
            *names = v;
        }
        if (((*names)[*n] = strdup(e->d_name)))
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof(**names), cmp_name);
    return 0;
}

typedef struct held_ctx {
    const char *path;
    json_t *added;
    bool wrote, verified; /* a device is written, not read back */
} held_ctx;

static int note(json_t *e, void *ctx)
{
    held_ctx *h = ctx;
    char now[32];
    size_t i;
    json_t *g;
    bkp_iso_time(now, sizeof(now), bkp_now());
    json_object_set_new(e, "last_seen", json_string(now));
    json_object_set_new(e, "path", json_string(h->path));
    if (!h->wrote)
        return 0;
    json_object_set_new(e, "last_write", json_string(now));
    if (h->verified) {
        json_object_set_new(e, "last_verify", json_string(now));
        json_object_set_new(e, "verify_ok", json_true());
    }
    json_t *held = json_object_get(e, "held");
    if (!json_is_array(held)) {
        held = json_array();
        json_object_set_new(e, "held", held);
    }
    json_array_foreach(h->added, i, g) json_array_append(held, g);
    return 0;
}

int cli_rotate_archive(cli *c, cli_medium *m, bool quiet)
{
    bkp_gen **v = NULL, **pick = NULL;
    size_t n = 0, np = 0;
    json_t *label = NULL, *done = json_array(), *added = json_array(), *fig, *kit = NULL;
    bkp_archive_kit akit = {0};
    void *held = NULL;
    uint64_t bytes = 0;
    struct stat st;
    int ex = EXIT_FAILED, rc = 0;
    bool device = stat(m->path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
    char doing[96];
    snprintf(doing, sizeof(doing), _("archiving to %s refused"), m->name);
    if ((!device && (ex = cli_medium_check_label(c, m))) || (ex = ops_pins_guard(c->r, c->policy, doing) ? EXIT_FAILED : EXIT_OK))
        goto record;
    ex = EXIT_OK;
    if (!device && (rc = bkp_label_read(m->path, &label)))
        goto record;
    if (device)
        label = json_incref(json_object_get(m->entry, "label"));
    else
        bkp_durable_cleanup(m->path); /* what a killed rotation left */
    if ((rc = bkp_gen_list(c->r, NULL, &v, &n)) || !(pick = calloc(n + 1, sizeof(*pick)))) {
        rc = rc ? rc : -ENOMEM;
        goto record;
    }
    np = ops_rotate_choose(c->policy, m->name, v, n, pick);
    /* Each archive begins with the recovery kit (bkp/archive.h), so that a
     * tape alone, extracted with tar, brings the program to read it. */
    if (np && cli_kit_docs(c, m, &akit, &held))
        bkp_warn(_("%s: its archives carry no recovery kit (%s)"), m->name, bkp_strerror(-ENOMEM));
    for (size_t i = 0; i < np && !rc; i++) {
        char name[96];
        uint64_t b = 0;
        bkp_gen_name(pick[i], name, sizeof(name));
        bkp_progress(_("archiving %s to %s"), name, m->name);
        bkp_archive_kit *k = held ? &akit : NULL;
        rc = device ? archive_device(c, m->path, pick[i], label, k, &b)
                    : archive_one(c, m->path, pick[i], label, k, &b);
        if (rc == -EEXIST) {
            rc = 0;
            continue;
        }
        if (!rc) {
            bytes += b;
            json_array_append_new(done, json_string(name));
            json_array_append_new(added, json_pack("{s:s, s:i, s:s, s:O}", "dataset",
                                                   pick[i]->dataset, "seq", (int)pick[i]->seq,
                                                   "uuid", pick[i]->uuid, "finished",
                                                   json_object_get(pick[i]->json, "finished")));
        }
    }
    bkp_progress_done();
    /* A folder of archives carries the recovery kit beside them too; a
     * tape has it only inside each archive. */
    if (!ex && !rc && !device)
        kit = cli_rotate_kit(c, m);
    else if (!ex && !rc && held && akit.res.written)
        kit = json_string(akit.res.sums);
    cli_kit_docs_free(held);
    held = NULL;
record:
    fig = json_pack("{s:O, s:I}", "generations", done, "bytes", (json_int_t)bytes);
    if (fig && kit)
        json_object_set_new(fig, "kit_sha256", kit);
    else
        json_decref(kit);
    /* Written now or there already: either way the medium holds them. */
    if (ops_rotate_record(c->r, m->name, ex || rc, pick, np, fig) && !ex && !rc)
        rc = -EIO;
    json_decref(fig);
    /* A folder takes the pin beside its label when it takes archives (a run
     * with nothing due leaves the folder as it was); a tape has no place for
     * it outside its archives (docs/FORMAT.md). */
    if (!ex && !rc && !device && json_array_size(added) && ops_pins_write(c->r, m->name, m->path))
        rc = -EIO;
    held_ctx h = {m->path, added, json_array_size(added) > 0 && !rc, !device};
    if (!ex && (h.wrote || !rc) && bkp_media_update(c->r, m->name, note, &h) && !rc)
        rc = -EIO;
    if (!ex)
        ex = rc ? EXIT_FAILED : EXIT_OK;
    if (!ex && !quiet) {
        char sz[32], when[32];
        time_t due = cli_medium_due(c, m->name);
        if (c->json) {
            cli_print_json(json_pack("{s:s, s:O, s:I}", "medium", m->name, "generations", done,
                                     "bytes", (json_int_t)bytes));
        } else {
            printf(_("%s: %zu archive(s) written (%s)%s"), m->name, json_array_size(done),
                   cli_size(sz, sizeof(sz), bytes),
                   device ? _(", not read back (a device)") : _(", each read back and verified"));
            printf("%s%s", json_array_size(done) ? "" : _("; everything due was there already"),
                   C_("end of sentence", ".\n"));
            if (m->offline)
                printf(_("You can take %s away now; it is kept %s.\n"), m->name,
                       strcmp(m->location, "offsite") ? _("on-site, off-line") : _("off-site"));
            if (due)
                printf(_("%s is next due on %s.\n"), m->name, cli_when(when, sizeof(when), due));
        }
    }
    cli_kit_docs_free(held);
    json_decref(label);
    json_decref(done);
    json_decref(added);
    free(pick);
    bkp_gen_list_free(v, n);
    return ex;
}
