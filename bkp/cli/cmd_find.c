/*
 * bkp find PATTERN [--dataset NAME] [--json] — which generations hold a
 * path matching a shell pattern (a file name, or a whole path when it has
 * a '/'), with its size and time: the lost letter's versions, without a
 * restore. bkp dump GEN PATH — one stored file's content to standard
 * output, every chunk authenticated (restore/dump.h).
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <archive_entry.h>

#include "bkp/io/clock.h"
#include "bkp/cli/cli.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "restore/dump.h"

typedef struct found {
    cli *c;
    json_t *arr;
    size_t n;
} found;

static int show(const bkp_gen *g, const bkp_item *it, void *ctx)
{
    found *f = ctx;
    struct archive_entry *e = it->entry;
    char name[96], t[32], sz[32], fin[32];
    bkp_gen_name(g, name, sizeof(name));
    bkp_iso_time(fin, sizeof(fin), g->finished);
    f->n++;
    if (f->arr) {
        json_array_append_new(
            f->arr, json_pack("{s:s, s:s, s:o, s:s, s:I, s:I}", "generation", name, "finished",
                              fin, "path",
                              bkp_json_bytes(archive_entry_pathname(e)), "type",
                              archive_entry_filetype(e) == AE_IFDIR   ? "dir"
                              : archive_entry_filetype(e) == AE_IFREG ? "file"
                                                                      : "other",
                              "size", (json_int_t)archive_entry_size(e), "mtime",
                              (json_int_t)archive_entry_mtime(e)));
        return 0;
    }
    printf("%-16s %10s %-19s /", name,
           archive_entry_filetype(e) == AE_IFDIR
               ? "-"
               : bkp_size_text(sz, sizeof(sz), (uint64_t)archive_entry_size(e)),
           cli_time(t, sizeof(t), archive_entry_mtime(e)));
    bkp_text_put(stdout, archive_entry_pathname(e), BKP_TEXT_FIELD); /* text.h */
    printf("%s\n", archive_entry_filetype(e) == AE_IFDIR ? "/" : "");
    return 0;
}

int cmd_find(cli *c)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    found f = {.c = c, .arr = c->json ? json_array() : NULL};
    int rc = bkp_gen_list(c->ro, c->dataset, &v, &n), ex = EXIT_OK;
    if (rc) {
        json_decref(f.arr);
        return cli_exit_for(rc);
    }
    if (!f.arr) {
        char modified[64];
        const char *head[] = {_("GENERATION"), _("SIZE"),
                              cli_time_head(modified, sizeof(modified), _("MODIFIED")), _("PATH")};
        cli_row(head, (const int[]){16, -10, 19, 0}, 4);
    }
    for (size_t i = 0; i < n && !ex; i++) {
        if (v[i]->pruned || v[i]->status)
            continue;
        if ((rc = rst_find(c->ro, v[i], c->args[0], show, &f))) {
            bkp_error(_("the file list of %s:%u is damaged (%s); run `bkp verify` (of a medium's "
                        "copy: `bkp verify --media M`), and read it from another copy"),
                      v[i]->dataset, v[i]->seq, bkp_strerror(rc));
            ex = EXIT_FAILED;
        }
    }
    if (f.arr)
        cli_print_json(f.arr);
    if (!ex && !f.n && c->dataset)
        bkp_info(_("no generation of %s holds a path matching %s"), c->dataset, c->args[0]);
    else if (!ex && !f.n)
        bkp_info(_("no generation holds a path matching %s"), c->args[0]);
    bkp_gen_list_free(v, n);
    return ex;
}

int cmd_dump(cli *c)
{
    bkp_gen *g = NULL;
    uint64_t bytes = 0;
    int rc = bkp_gen_resolve(c->ro, c->args[0], &g);
    if (rc)
        return cli_exit_for(rc);
    rc = rst_dump(c->ro, g, c->args[1], STDOUT_FILENO, &bytes);
    if (!rc && fflush(stdout))
        rc = -errno;
    if (rc && rc != -ENOENT && rc != -EISDIR && rc != -EBADMSG)
        bkp_error(_("writing %s of %s:%u to standard output failed: %s"), c->args[1], g->dataset,
                  g->seq, bkp_strerror(rc));
    bkp_gen_free(g);
    return rc == -ENOENT || rc == -EISDIR ? EXIT_FAILED : rc ? EXIT_FAILED : EXIT_OK;
}
