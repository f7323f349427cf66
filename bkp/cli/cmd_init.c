#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/i18n.h"
#include "bkp/keys.h"
#include "bkp/log.h"

int cmd_init(cli *c)
{
    char *pass = NULL;
    size_t plen = 0;
    if (!cli_repo_path(c))
        return EXIT_USAGE;
    if (c->chunk_id && strcmp(c->chunk_id, "auto") && strcmp(c->chunk_id, "hmac-sha256") &&
        strcmp(c->chunk_id, "blake2b")) {
        fprintf(stderr, _("bkp: error: --chunk-id %s: give auto, hmac-sha256 or blake2b\n"),
                c->chunk_id);
        return EXIT_USAGE;
    }
    if (bkp_passphrase_get(c->passphrase_file, 1, &pass, &plen))
        return EXIT_USAGE;
    int rc;
    if (!c->chunk_id || !strcmp(c->chunk_id, "auto"))
        rc = bkp_repo_init(c->repo, pass, plen);
    else
        rc = bkp_repo_init_ids(c->repo, pass, plen,
                               strcmp(c->chunk_id, "blake2b") ? BKP_ID_HMAC_SHA256
                                                              : BKP_ID_BLAKE2B);
    /* The first record of the audit log: the repository's creation. Only
     * here is a log created; every later command appends to this one. */
    bkp_repo *r = NULL;
    const char *ids = "blake2b"; /* which function names the chunks, for good */
    if (!rc && !(rc = bkp_repo_open(c->repo, pass, plen, 0, &r))) {
        if (bkp_keys_id_hash(bkp_repo_keys(r)) == BKP_ID_HMAC_SHA256)
            ids = "hmac-sha256";
        json_t *fig = json_pack("{s:s}", "chunk_id", ids);
        bkp_audit_rec rec = {.op = "init", .figures = fig};
        cli_keep(r); /* the command's context is recorded in it at the end */
        c->ro = c->r = r;
        if (bkp_audit_create(r, &rec))
            rc = -EIO;
        json_decref(fig);
        bkp_debug("%s: chunk IDs by %s", c->repo, ids);
    }
    bkp_passphrase_free(pass, plen);
    if (rc)
        return cli_exit_for(rc);
    if (c->tty)
        printf(_("created repository %s (chunk IDs: %s)\n"
                 "Keep the passphrase somewhere safe and off this machine: without it no copy on "
                 "any medium can be restored.\n"),
               c->repo, ids);
    return EXIT_OK;
}
