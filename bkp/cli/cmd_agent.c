/*
 * cmd_agent.c — `bkp agent`: on a source server, the forced command of the
 * backup server's key (bkp/ops/agent.h). Run by a person (not by sshd: no
 * SSH_CONNECTION), it checks its configuration and says what it would
 * serve.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/cli/cli.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/agent.h"

/* The forced command that starts this agent with this file. */
static void forced_command(const pol_agent *a, char *out, size_t size)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    snprintf(self + (n > 0 ? n : 0), sizeof(self) - (size_t)(n > 0 ? n : 0), "%s",
             n > 0 ? "" : "/usr/bin/bkp");
    if (strcmp(a->file, POL_AGENT_CONFIG))
        snprintf(out, size, "restrict,command=\"%s agent --config %s\"", self, a->file);
    else
        snprintf(out, size, "restrict,command=\"%s agent\"", self);
}

static int show(const pol_agent *a)
{
    printf(_("%s: valid\n"), a->file);
    printf("%s", _("  it may read:"));
    for (size_t i = 0; i < a->nread; i++)
        printf(" %s", a->read[i]);
    printf("%s\n", a->nread ? "" : _(" nothing"));
    for (size_t i = 0; i < a->ncommands; i++)
        printf(_("  it may run %s: %s\n"), a->commands[i].name, a->commands[i].command);
    char line[8300];
    forced_command(a, line, sizeof(line));
    printf(_("It answers the backup server over SSH, as the forced command of its key in "
             "authorized_keys: %s\n"),
           line);
    return EXIT_OK;
}

int cmd_agent(cli *c)
{
    const char *file = c->agent_config ? c->agent_config : POL_AGENT_CONFIG;
    pol_agent *a = NULL;
    int rc = pol_agent_load(file, &a);
    /* A person checking the file, on a terminal of this server: never a
     * session of the backup server's key (a line without `restrict` would
     * give it a terminal, and the commands may hold a password). In a
     * person's own SSH session, --check says so: the forced command of
     * the key never has it. */
    bool person = c->agent_check ||
                  (!getenv("SSH_ORIGINAL_COMMAND") && !getenv("SSH_CONNECTION"));
    if (person) {
        if (rc == -EACCES)
            bkp_error(_("the agent's configuration %s cannot be read by this user: the agent's "
                        "user must read it — make it root's, mode 0644 (`chmod 0644 %s`)"),
                      file, file);
        else if (rc == -ENOENT || (rc && rc != -EINVAL && rc != -EPERM))
            bkp_error(_("cannot read the agent's configuration %s: %s; write it (read: [...], "
                        "commands: {...}) or give --config FILE"),
                      file, bkp_strerror(rc));
        int ex = rc ? EXIT_USAGE : show(a);
        pol_agent_free(a);
        return ex;
    }
    signal(SIGPIPE, SIG_IGN); /* the backup server gone is a write's EPIPE */
    const char *request = getenv("SSH_ORIGINAL_COMMAND");
    pol_agent none = {.file = (char *)file};
    if (rc) {
        /* Whole sentences, each translated (the backup server shows its reader's). */
        if (rc == -EINVAL)
            (void)ops_agent_refuse(&none, BKP_VERSION, 1,
                                   N_("the agent's configuration %s on the source server is not "
                                      "valid; the agent serves nothing until it is mended (check "
                                      "it there, as the agent's user, with `bkp agent --config "
                                      "%s`)"),
                                   file, file);
        else if (rc == -EPERM)
            (void)ops_agent_refuse(&none, BKP_VERSION, 1,
                                   N_("the agent's configuration %s on the source server is not "
                                      "trusted (its owner or mode); the agent serves nothing "
                                      "until it is mended (check it there, as the agent's user, "
                                      "with `bkp agent --config %s`)"),
                                   file, file);
        else if (rc == -ENOENT)
            (void)ops_agent_refuse(&none, BKP_VERSION, 1,
                                   N_("the agent's configuration %s on the source server is "
                                      "missing; the agent serves nothing until it is written "
                                      "(see `bkp agent --config %s` there)"),
                                   file, file);
        else if (rc == -EACCES)
            (void)ops_agent_refuse(&none, BKP_VERSION, 1,
                                   N_("the agent's configuration %s on the source server cannot "
                                      "be read by the agent's user; the agent serves nothing "
                                      "until it is mended (check it there, as the agent's user, "
                                      "with `bkp agent --config %s`)"),
                                   file, file);
        else
            (void)ops_agent_refuse(&none, BKP_VERSION, 1,
                                   N_("the agent's configuration %s on the source server cannot "
                                      "be read; the agent serves nothing until it is mended "
                                      "(check it there, as the agent's user, with `bkp agent "
                                      "--config %s`)"),
                                   file, file);
        return EXIT_FAILED;
    }
    rc = ops_agent_serve(a, BKP_VERSION, request, 1);
    pol_agent_free(a);
    return rc ? EXIT_FAILED : EXIT_OK;
}
