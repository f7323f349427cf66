/*
 * The recovery kit of a disk or an archive medium (bkp/kit.h), from the
 * command line: the documents it carries — FORMAT.md and, in Japanese and
 * English, the printed procedure of each runbook of a data set the policy
 * copies to the medium — made when a rotation asks for them
 * (bkp/ops/rotate_disk.h, rotate_archive.h), and what is said once written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/cli/cli.h"
#include "bkp/i18n.h"
#include "bkp/kit.h"
#include "bkp/log.h"
#include "bkp/ops/runbook.h"
#include "bkp/pubkey.h"
#include "restore/report.h"
#include "restore/runbook.h"

extern const char cli_kit_format_md[]; /* generated from docs/FORMAT.md */

#define KIT_DOCS 33

static bool copies_to(const pol_dataset *d, const char *medium)
{
    for (size_t i = 0; i < d->ncopy_to; i++)
        if (!strcmp(d->copy_to[i], medium))
            return true;
    return false;
}

/* The procedures of the runbooks of data sets copied to `medium`, each once,
 * in both languages, into docs[*n..]. */
static void procedures(cli *c, const cli_medium *m, bkp_kit_doc *docs, char **owned, size_t *n)
{
    const char *medium = m->name;
    pol_policy *p = c->policy;
    json_t *folders = ops_runbook_folders(p);
    /* The copy to restore from is this medium; which generations it holds,
     * `bkp generations` says (the kit must not change with each one). */
    json_t *self = json_pack("[{s:s, s:s, s:s, s:b, s:s, s:s}]", "medium", medium, "type",
                             m->type ? m->type : "-", "location", m->location ? m->location : "-",
                             "offline", m->offline, "generation", "-", "captured", "-");
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(c->ro), fp);
    for (size_t i = 0; p && i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[i];
        bool done = false;
        for (size_t j = 0; j < i && !done; j++)
            done = p->datasets[j].runbook && d->runbook &&
                   !strcmp(p->datasets[j].runbook, d->runbook) &&
                   copies_to(&p->datasets[j], medium);
        rb_runbook *rb = NULL;
        if (done || !d->runbook || !copies_to(d, medium) || *n + 2 > KIT_DOCS)
            continue;
        if (cli_runbook_load(c, d->runbook, &rb)) {
            bkp_warn(_("%s: the procedure %s is not in its recovery kit (above)"), medium,
                     d->runbook);
            continue;
        }
        for (int ja = 1; ja >= 0; ja--) {
            char *text = rb_print(rb, self, folders, bkp_repo_path(c->ro), fp, RB_MARKDOWN, ja, 0);
            char *name = NULL, stem[256];
            rb_runbook_stem(d->runbook, stem, sizeof(stem)); /* the policy may give a path */
            if (!text || asprintf(&name, "procedure-%s.%s.md", stem, ja ? "ja" : "en") < 0) {
                free(text);
                continue;
            }
            owned[2 * *n] = text;
            owned[2 * *n + 1] = name;
            docs[(*n)++] = (bkp_kit_doc){name, text};
        }
        rb_free(rb);
    }
    json_decref(self);
    json_decref(folders);
}

/* A kit's documents and the texts they point to. */
typedef struct kit_docs {
    bkp_kit_doc docs[KIT_DOCS];
    char *owned[2 * KIT_DOCS];
    size_t n;
} kit_docs;

static kit_docs *docs_of(cli *c, const cli_medium *m)
{
    kit_docs *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->docs[d->n++] = (bkp_kit_doc){"FORMAT.md", cli_kit_format_md};
    procedures(c, m, d->docs, d->owned, &d->n);
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
                 m->name, m->path, BKP_KIT_DIR, res->files, cli_size(sz, sizeof(sz), res->bytes),
                 res->sums);
    return json_string(res->sums);
}
