#include <stdio.h>
#include <stdlib.h>

#include "bkp/cli/cli.h"
#include "bkp/keys.h"
#include "bkp/log.h"

int cmd_init(cli *c)
{
    char *pass = NULL;
    size_t plen = 0;
    if (!cli_repo_path(c))
        return EXIT_USAGE;
    if (bkp_passphrase_get(c->passphrase_file, 1, &pass, &plen))
        return EXIT_USAGE;
    int rc = bkp_repo_init(c->repo, pass, plen);
    bkp_passphrase_free(pass, plen);
    if (rc)
        return cli_exit_for(rc);
    if (c->tty)
        printf("created repository %s\n"
               "Keep the passphrase somewhere safe and off this machine: without it no copy on "
               "any medium can be restored.\n",
               c->repo);
    return EXIT_OK;
}
