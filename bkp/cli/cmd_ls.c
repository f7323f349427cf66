#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive_entry.h>

#include "bkp/cli/cli.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/tree.h"
#include "restore/restore.h"

static json_t *item_json(const bkp_item *it)
{
    struct archive_entry *e = it->entry;
    char hex[2 * BKP_ID_LEN + 1];
    const char *type;
    switch (archive_entry_filetype(e)) {
    case AE_IFREG: type = archive_entry_hardlink(e) ? "hardlink" : "file"; break;
    case AE_IFDIR: type = "dir"; break;
    case AE_IFLNK: type = "symlink"; break;
    case AE_IFCHR: type = "char"; break;
    case AE_IFBLK: type = "block"; break;
    case AE_IFIFO: type = "fifo"; break;
    default: type = "other";
    }
    json_t *o = json_pack("{s:o, s:s, s:i, s:I, s:I, s:I, s:I}", "path",
                          bkp_json_bytes(archive_entry_pathname(e)), "type", type, "mode",
                          (int)(archive_entry_mode(e) & 07777), "uid",
                          (json_int_t)archive_entry_uid(e), "gid", (json_int_t)archive_entry_gid(e),
                          "size", (json_int_t)archive_entry_size(e), "mtime",
                          (json_int_t)archive_entry_mtime(e));
    if (archive_entry_uname(e))
        json_object_set_new(o, "user", bkp_json_bytes(archive_entry_uname(e)));
    if (archive_entry_gname(e))
        json_object_set_new(o, "group", bkp_json_bytes(archive_entry_gname(e)));
    if (archive_entry_symlink(e))
        json_object_set_new(o, "target", bkp_json_bytes(archive_entry_symlink(e)));
    if (archive_entry_hardlink(e))
        json_object_set_new(o, "target", bkp_json_bytes(archive_entry_hardlink(e)));
    if (bkp_item_has_content(it)) {
        bkp_hex(hex, it->content, BKP_ID_LEN);
        json_object_set_new(o, "content", json_string(hex));
    }
    return o;
}

static void print_item(const bkp_item *it)
{
    struct archive_entry *e = it->entry;
    char t[32];
    /* Names, owners and link targets are the captured host's: shown safe (text.h). */
    char *user = bkp_text_safe(archive_entry_uname(e) ? archive_entry_uname(e) : "-", 0);
    char *group = bkp_text_safe(archive_entry_gname(e) ? archive_entry_gname(e) : "-", 0);
    printf("%s %-8s %-8s %12lld %s ", archive_entry_strmode(e), user ? user : "?",
           group ? group : "?", (long long)archive_entry_size(e),
           cli_time(t, sizeof(t), archive_entry_mtime(e)));
    free(user);
    free(group);
    bkp_text_put(stdout, archive_entry_pathname(e) ? archive_entry_pathname(e) : "",
                 BKP_TEXT_FIELD);
    if (archive_entry_symlink(e)) {
        fputs(" -> ", stdout);
        bkp_text_put(stdout, archive_entry_symlink(e), BKP_TEXT_FIELD);
    }
    if (archive_entry_hardlink(e)) {
        fputs(" link to ", stdout);
        bkp_text_put(stdout, archive_entry_hardlink(e), BKP_TEXT_FIELD);
    }
    putchar('\n');
}

int cmd_ls(cli *c)
{
    const bkp_repo *r = c->ro;
    bkp_gen *g = NULL;
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    int ex = EXIT_OK, rc;
    bkp_item_init(&it);
    if ((rc = bkp_gen_resolve(r, c->args[0], &g))) {
        ex = cli_exit_for(rc);
        goto out;
    }
    if ((rc = bkp_tree_reader_new(r, g->tree, g->ntree, &tr))) {
        ex = EXIT_FAILED;
        goto out;
    }
    json_t *arr = c->json ? json_array() : NULL;
    const char *filter = c->nargs > 1 ? c->args[1] : NULL;
    size_t shown = 0;
    while ((rc = bkp_tree_reader_next(tr, &it)) > 0) {
        if (!rst_path_selected(archive_entry_pathname(it.entry), filter))
            continue;
        shown++;
        if (arr)
            json_array_append_new(arr, item_json(&it));
        else
            print_item(&it);
    }
    if (arr)
        cli_print_json(arr);
    if (rc < 0) {
        bkp_error(_("the file list of %s:%u is %s: %s; run `bkp verify`"), g->dataset, g->seq,
                  rc == -ENODATA ? _("incomplete") : _("damaged"), bkp_strerror(rc));
        ex = EXIT_FAILED;
    } else if (filter && !shown) {
        /* An empty answer would read as "that folder is empty". */
        bkp_error(_("nothing in %s:%u is at %s; `bkp ls %s%s%s` lists everything it holds"),
                  g->dataset, g->seq, filter, c->args[0], c->from ? " " : "",
                  c->from ? bkp_repo_shown(c->ro) : "");
        ex = EXIT_FAILED;
    }
out:
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    bkp_gen_free(g);
    return ex;
}
