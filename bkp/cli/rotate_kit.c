/*
 * The recovery kit of a disk or an archive medium (bkp/media/kit.h), from the
 * command line: the documents it carries — FORMAT.md and, on a tape, in
 * Japanese and English, the printed procedure of each runbook of a data set
 * the policy copies to the medium — made when a rotation asks for them
 * (bkp/ops/rotate.h), and what is said once written;
 * and after each rotation of a disk or a folder, the same procedures beside
 * its kit with the generations it holds (restore/runbook_doc.h's on-medium form).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/media/kit.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/runbook_load.h"
#include "bkp/keys/pubkey.h"
#include "bkp/io/text.h"
#include "restore/runbook_doc.h"
#include "restore/runbook.h"

extern const char cli_kit_format_md[]; /* generated from docs/FORMAT.md */

#define KIT_DOCS 33

/* Each runbook of a data set the policy copies to `m`, once, loaded, to
 * `fn` with the stem of its file name as a file name may hold it (a byte
 * outside letters, digits, '-', '_' and '.' made '_'). Returns how many
 * could not be loaded (said). */
static size_t runbooks_of(cli *c, const cli_medium *m,
                          void (*fn)(cli *c, const rb_runbook *rb, const char *stem, void *ctx),
                          void *ctx)
{
    size_t failed = 0;
    pol_policy *p = c->policy;
    for (size_t i = 0; p && i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[i];
        bool done = false;
        for (size_t j = 0; j < i && !done; j++)
            done = p->datasets[j].runbook && d->runbook &&
                   !strcmp(p->datasets[j].runbook, d->runbook) &&
                   pol_dataset_copies_to(&p->datasets[j], m->name);
        rb_runbook *rb = NULL;
        if (done || !d->runbook || !pol_dataset_copies_to(d, m->name))
            continue;
        if (cli_runbook_load(c, d->runbook, &rb)) {
            bkp_warn(_("%s: the procedure %s is not on the medium (above)"), m->name, d->runbook);
            failed++;
            continue;
        }
        char stem[256];
        rb_runbook_stem(d->runbook, stem, sizeof(stem)); /* the policy may give a path */
        for (char *q = stem; *q; q++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *q) ||
                (q == stem && *q == '.'))
                *q = '_';
        fn(c, rb, stem, ctx);
        rb_free(rb);
    }
    return failed;
}

/* Documents and the texts they point to. */
typedef struct kit_docs {
    bkp_kit_doc docs[KIT_DOCS];
    char *owned[2 * KIT_DOCS];
    size_t n;
    const cli_medium *m;
    const bkp_media_entry *entry; /* the medium's, for its procedures; NULL: the kit's own */
} kit_docs;

/* One runbook's procedure in both languages into `ctx` (a kit_docs): as
 * a disk or a folder carries it beside its kit, with the generations it
 * holds; or, in a tape's kit (written before its archives, read after the
 * tape is read into a folder), the printed procedure with this medium as
 * its copy, which `bkp generations` lists. */
static void add_procedure(cli *c, const rb_runbook *rb, const char *stem, void *ctx)
{
    kit_docs *k = ctx;
    const cli_medium *m = k->m;
    rb_on_medium on = {m->name, m->path, pol_type_write_once(m->kind), false};
    rb_folders folders = {0};
    rb_copies rows = {0};
    rb_copy own = {.medium = (char *)m->name,
                   .type = (char *)m->type,
                   .location = (char *)m->location,
                   .offline = m->offline};
    bool ok = !ops_runbook_folders(c->policy, &folders) &&
              !(k->entry ? ops_runbook_held(c->ro, c->policy, k->entry, rb, &rows) : rb_copies_add(&rows, &own));
    if (!ok)
        bkp_warn(_("the procedure of %s could not be made for %s (no memory, or the registry "
                   "could not be read); print it on paper with `bkp runbook print %s`"),
                 rb->name, m->name, rb->name);
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(c->ro), fp);
    bool room = ok && k->n + 2 <= KIT_DOCS; /* both languages, or neither */
    for (int ja = 1; ja >= 0 && room; ja--) {
        char *text = k->entry ? rb_print_on_medium(rb, &on, &rows, &folders, fp, ja, bkp_now())
                              : rb_print(rb, &rows, &folders, bkp_repo_path(c->ro), fp,
                                         RB_MARKDOWN, ja, 0);
        char *name = NULL;
        if (!text || asprintf(&name, "procedure-%s.%s.md", stem, ja ? "ja" : "en") < 0) {
            free(text);
            continue;
        }
        k->owned[2 * k->n] = text;
        k->owned[2 * k->n + 1] = name;
        k->docs[k->n++] = (bkp_kit_doc){name, text};
    }
    rb_copies_free(&rows);
    rb_folders_clear(&folders);
}

/* A kit carries FORMAT.md; on a tape, whose kit is the first archive of a
 * rotation, the procedures too, without the generations it will hold. A
 * disk or a folder carries them beside its kit (cli_medium_procedures):
 * the kit stays the same from one rotation to the next. */
static kit_docs *docs_of(cli *c, const cli_medium *m)
{
    kit_docs *d = calloc(1, sizeof(*d));
    struct stat st;
    if (!d)
        return NULL;
    d->m = m;
    d->docs[d->n++] = (bkp_kit_doc){"FORMAT.md", cli_kit_format_md};
    if (stat(m->path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
        runbooks_of(c, m, add_procedure, d);
    return d;
}

void cli_kit_docs_free(void *held)
{
    kit_docs *d = held;
    for (size_t i = 0; d && i < 2 * KIT_DOCS; i++)
        free(d->owned[i]);
    free(d);
}

int cli_kit_make(void *ctx, const bkp_kit_doc **docs, size_t *n, void **held)
{
    cli_kit_ctx *k = ctx;
    kit_docs *d = docs_of(k->c, k->m);
    *held = d;
    *docs = d ? d->docs : NULL;
    *n = d ? d->n : 0;
    return d ? 0 : -ENOMEM;
}

json_t *cli_kit_said(const cli_medium *m, const bkp_kit_result *res)
{
    char sz[32];
    if (res->written)
        bkp_info(_("%s: recovery kit written to %s/%s (%zu files, %s, with its own loader and C "
                   "library); its SHA256SUMS hashes to %s"),
                 m->name, m->path, BKP_KIT_DIR, res->files, bkp_size_text(sz, sizeof(sz), res->bytes),
                 res->sums);
    return json_string(res->sums);
}

void cli_medium_procedures(cli *c, const cli_medium *m)
{
    struct stat st;
    if (!c->policy || !m->path || stat(m->path, &st) || !S_ISDIR(st.st_mode))
        return; /* a tape's are in its kit; a bucket has none */
    kit_docs *d = calloc(1, sizeof(*d));
    bkp_media_entry e = {0};
    int rc = d ? bkp_media_read(c->ro, m->name, &e) : -ENOMEM;
    if (!rc) {
        d->m = m;
        d->entry = &e;
        /* A runbook that did not load now keeps its procedure of before. */
        size_t failed = runbooks_of(c, m, add_procedure, d);
        rc = bkp_kit_procedures_write(m->path, d->docs, d->n, !failed);
    }
    if (rc)
        bkp_warn(_("%s: its recovery procedure could not be brought up to date (%s); the copy "
                   "itself is good. Print it with `bkp runbook print` and keep it with the medium"),
                 m->name, bkp_strerror(rc));
    else if (d->n)
        bkp_info(_("%s: its recovery procedure (procedure-*.md) lists the %zu generation(s) it "
                   "holds now"),
                 m->name, e.n_held);
    bkp_media_entry_clear(&e);
    cli_kit_docs_free(d);
}
