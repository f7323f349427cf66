/* bkp diff: what was added, removed, or changed between two generations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive_entry.h>

#include "bkp/cli/cli.h"
#include "bkp/io/bytes.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/tree.h"

typedef struct summary {
    char *path;
    unsigned mode;
    int64_t uid, gid, mtime;
    uint64_t size;
    uint8_t content[BKP_ID_LEN];
    char *link;
    int seen;
} summary;

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const summary *)a)->path, ((const summary *)b)->path);
}

/* Load a generation's items, sorted by path, for a merge. */
static int load(const bkp_repo *r, const bkp_gen *g, summary **out, size_t *n)
{
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    summary *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = bkp_tree_reader_new(r, g->tree, g->ntree, &tr);
    bkp_item_init(&it);
    while (!rc && (rc = bkp_tree_reader_next(tr, &it)) > 0) {
        if ((rc = bkp_grow(&v, &cap, cnt, sizeof(*v), 1024)))
            break;
        struct archive_entry *e = it.entry;
        const char *l = archive_entry_symlink(e) ? archive_entry_symlink(e) : archive_entry_hardlink(e);
        v[cnt] = (summary){strdup(archive_entry_pathname(e)), archive_entry_mode(e),
                           archive_entry_uid(e), archive_entry_gid(e), archive_entry_mtime(e),
                           (uint64_t)archive_entry_size(e), {0}, l ? strdup(l) : NULL, 0};
        memcpy(v[cnt].content, it.content, BKP_ID_LEN);
        cnt++;
        rc = 0;
    }
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    if (rc < 0) {
        bkp_error(_("cannot read the file list of %s:%u: %s"), g->dataset, g->seq,
                  bkp_strerror(rc));
        for (size_t i = 0; i < cnt; i++) {
            free(v[i].path);
            free(v[i].link);
        }
        free(v);
        return rc;
    }
    qsort(v, cnt, sizeof(*v), cmp_path);
    *out = v;
    *n = cnt;
    return 0;
}

static void emit(json_t *arr, char what, const char *path)
{
    if (arr)
        json_array_append_new(arr, json_pack("{s:s#, s:o}", "change", &what, 1, "path",
                                             bkp_json_bytes(path)));
    else {
        printf("%c ", what);
        bkp_text_put(stdout, path, BKP_TEXT_FIELD); /* a name from the captured host: text.h */
        putchar('\n');
    }
}

int cmd_diff(cli *c)
{
    const bkp_repo *r = c->ro;
    bkp_gen *g[2] = {NULL, NULL};
    summary *s[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    int ex = EXIT_OK, rc = 0;
    /* Both names first: one that names nothing is a usage error (2) whatever
     * the other holds; then their contents, where a loss is damage (1). */
    for (int k = 0; k < 2 && !rc; k++)
        rc = bkp_gen_resolve(r, c->args[k], &g[k]);
    if (rc) {
        ex = cli_exit_for(rc);
        goto out;
    }
    for (int k = 0; k < 2 && !rc; k++)
        rc = load(r, g[k], &s[k], &n[k]);
    if (rc) {
        ex = EXIT_FAILED;
        goto out;
    }
    json_t *arr = c->json ? json_array() : NULL;
    size_t i = 0, j = 0;
    uint64_t added = 0, removed = 0, changed = 0;
    while (i < n[0] || j < n[1]) {
        int cmp = i == n[0] ? 1 : j == n[1] ? -1 : strcmp(s[0][i].path, s[1][j].path);
        if (cmp < 0) {
            emit(arr, '-', s[0][i++].path);
            removed++;
        } else if (cmp > 0) {
            emit(arr, '+', s[1][j++].path);
            added++;
        } else {
            const summary *a = &s[0][i++], *b = &s[1][j++];
            if (a->size != b->size || memcmp(a->content, b->content, BKP_ID_LEN) ||
                (a->link == NULL) != (b->link == NULL) || (a->link && strcmp(a->link, b->link))) {
                emit(arr, 'M', b->path);
                changed++;
            } else if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
                       a->mtime != b->mtime) {
                emit(arr, 'm', b->path);
                changed++;
            }
        }
    }
    if (arr)
        cli_print_json(arr);
    else if (c->tty)
        printf(_("%llu added, %llu removed, %llu changed (M content, m metadata only)\n"),
               (unsigned long long)added, (unsigned long long)removed, (unsigned long long)changed);
out:
    for (int k = 0; k < 2; k++) {
        for (size_t x = 0; x < n[k]; x++) {
            free(s[k][x].path);
            free(s[k][x].link);
        }
        free(s[k]);
        bkp_gen_free(g[k]);
    }
    return ex;
}
