/* A host of the policy as the connection needs it (remote_host.h). */
#include "bkp/ops/remote_host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/capture/walk.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"

void ops_remote_host(const pol_host *h, bkp_remote_host *out)
{
    *out = (bkp_remote_host){.name = h->name,
                             .user = h->user,
                             .address = h->address,
                             .port = h->port,
                             .identity = h->identity,
                             .host_key = h->host_key,
                             .connect_timeout = h->connect_timeout,
                             .idle_timeout = h->idle_timeout};
}

const char *ops_remote_why(int rc)
{
    switch (rc) {
    case -EHOSTUNREACH:
        return N_("could not be run: the source server did not answer (is it on, and its sshd "
                  "on that port?)");
    case -EKEYREJECTED:
        return N_("could not be run: the source server presented another host key than the "
                  "policy's — if it was reinstalled, compare its new key and run `bkp host add` "
                  "again; if not, someone may stand between the two servers");
    case -EPERM:
        return N_("could not be run: the source server refused our key (is its line in the "
                  "agent user's authorized_keys there?)");
    case -EPROTO:
        return N_("could not be run: no bkp agent answered on the source server (is bkp "
                  "installed at the path of the forced command in authorized_keys there, with "
                  "--config if its file is elsewhere, and is the user's shell not nologin?)");
    case -ENOKEY:
        return N_("could not be run: our SSH key for the source servers is missing or not "
                  "trusted (the message before this one says which)");
    case -EPROTONOSUPPORT:
        return N_("could not be run: the agent on the source server is of another bkp version — "
                  "install the same version there");
    case -EBADMSG:
        return N_("was not taken: the answer from the source server broke the agent's protocol "
                  "(a frame out of place, too large, or not what it says) — is that server "
                  "still the one it was?");
    case -EACCES:
        return N_("was refused by the agent on the source server");
    case -EPIPE:
        return N_("was cut off: the connection to the source server ended before the command "
                  "did");
    case -ETIME:
        return N_("was given up: nothing came from the source server for its idle_timeout (a "
                  "disk that hangs there?)");
    case -ENOEXEC:
        return N_("could not be run: there is no ssh on this server (install openssh-client)");
    default:
        return NULL;
    }
}

/* The folder of `v` (`n` of them) that `path` is in, or NULL: both
 * normalised as the backup and the agent do (bkp_walk_root), so that what
 * is checked here is what the night will ask for. */
static const char *tree_of(const char *path, char *const *v, size_t n)
{
    char *p = bkp_walk_root(path);
    const char *found = NULL;
    for (size_t i = 0; p && !found && i < n; i++) {
        char *t = bkp_walk_root(v[i]);
        if (t && bkp_walk_below(t, p))
            found = v[i];
        free(t);
    }
    free(p);
    return found;
}

int ops_host_paths_check(const pol_policy *p, const pol_host *h, const bkp_wire_hello *hi)
{
    int problems = 0;
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[i];
        if (!d->host || strcmp(d->host, h->name) || d->stream.command.command)
            continue;
        for (size_t k = 0; k < d->npaths; k++) {
            const char *path = d->paths[k], *tree = tree_of(path, hi->read, hi->nread), *gone;
            if (!tree) {
                bkp_error(_("data set %s reads %s on %s, which is below none of the folders its "
                            "agent may read: correct the path in the policy, or add its folder "
                            "to the read: list of agent.yaml there"),
                          d->name, path, h->name);
                problems++;
            } else if ((gone = tree_of(path, hi->missing, hi->nmissing))) {
                char *safe = bkp_text_safe(gone, BKP_TEXT_FIELD);
                bkp_error(_("data set %s reads %s on %s, but %s is not there: correct agent.yaml "
                            "there, or the path in the policy"),
                          d->name, path, h->name, safe ? safe : "?");
                free(safe);
                problems++;
            } else if ((gone = tree_of(path, hi->unreadable, hi->nunreadable))) {
                char *safe = bkp_text_safe(gone, BKP_TEXT_FIELD);
                bkp_error(_("data set %s reads %s on %s, but the agent's user there cannot enter "
                            "%s: give it the way in to each folder above (setfacl -m u:%s:x "
                            "FOLDER) and read access below, as the guide shows"),
                          d->name, path, h->name, safe ? safe : "?", h->user ? h->user : "bkp");
                free(safe);
                problems++;
            }
        }
    }
    return problems;
}
