#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/keys.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"

int cmd_init(cli *c)
{
    char *pass = NULL;
    size_t plen = 0;
    if (!cli_repo_path(c))
        return EXIT_USAGE;
    bool chosen = c->chunk_id && strcmp(c->chunk_id, "auto");
    bkp_id_hash ids = BKP_ID_BLAKE2B;
    if (chosen && bkp_id_hash_from_name(c->chunk_id, &ids)) {
        fprintf(stderr, _("bkp: error: --chunk-id %s: give auto, hmac-sha256 or blake2b\n"),
                c->chunk_id);
        return EXIT_USAGE;
    }
    if (bkp_passphrase_get(c->passphrase_file, 1, &pass, &plen))
        return EXIT_USAGE;
    int rc =
        chosen ? bkp_repo_init_ids(c->repo, pass, plen, ids) : bkp_repo_init(c->repo, pass, plen);
    /* The first record of the audit log: the repository's creation. Only
     * here is a log created; every later command appends to this one. */
    bkp_repo *r = NULL;
    if (!rc && !(rc = bkp_repo_open(c->repo, pass, plen, 0, &r))) {
        ids = bkp_keys_id_hash(bkp_repo_keys(r)); /* which function names the chunks, for good */
        json_t *fig = json_pack("{s:s}", "chunk_id", bkp_id_hash_name(ids));
        bkp_audit_rec rec = {.op = "init", .figures = fig};
        cli_keep(r); /* the command's context is recorded in it at the end */
        c->ro = c->r = r;
        if (bkp_audit_create(r, &rec))
            rc = -EIO;
        json_decref(fig);
        bkp_debug("%s: chunk IDs by %s", c->repo, bkp_id_hash_name(ids));
    }
    bkp_passphrase_free(pass, plen);
    if (rc)
        return cli_exit_for(rc);
    /* What was made, how to know it again, and the next three steps: said
     * whether or not a terminal is watching (init is run by a person, once). */
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(r), fp);
    printf(_("created repository %s (chunk IDs: %s)\n"
             "Its key's fingerprint (write it on the media labels and the paper procedure):\n"
             "  %s\n"
             "Keep the passphrase somewhere safe and off this machine: without it no copy on "
             "any medium can be restored.\n"
             "Next:\n"
             "  1. label each medium of the policy: a disk with bkp media label PATH --name NAME, "
             "a bucket with bkp media label --name NAME then bkp media probe NAME\n"
             "  2. put the key on paper for the safe: bkp key export --paper --format html -o "
             "key-sheet.html\n"
             "  3. make the first backup: bkp run --force (or bkp backup DATASET)\n"
             "Then rotate each medium (bkp rotate NAME) and print each procedure for the safe: "
             "bkp runbook print RUNBOOK (it carries the recovery kit's fingerprint).\n"),
           c->repo, bkp_id_hash_name(ids), fp);
    /* The procedures by their names, when the policy is there to say them. */
    const pol_policy *p = c->policy;
    for (size_t i = 0, said = 0; p && i < p->ndatasets; i++) {
        const char *rb = p->datasets[i].runbook;
        bool again = false;
        for (size_t k = 0; rb && k < i; k++)
            again |= p->datasets[k].runbook && !strcmp(p->datasets[k].runbook, rb);
        if (!rb || again)
            continue;
        printf(said++ ? "  bkp runbook print %s\n"
                      : _("The procedures of this policy:\n  bkp runbook print %s\n"),
               rb);
    }
    return EXIT_OK;
}
