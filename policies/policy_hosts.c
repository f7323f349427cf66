/* policy_hosts.c — the source servers of a policy (policy_internal.h): how
 * bkp reaches each over SSH, with its host key pinned. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/host/cmdenv.h"
#include "bkp/host/remote.h"
#include "bkp/io/i18n.h"
#include "bkp/store/generation.h"
#include "policies/policy_internal.h"

/* ssh: user@address */
static void host_ssh(pol_yaml_ctx *c, pol_yaml_node *v, pol_host *h)
{
    const char *s = pol_yaml_scalar(c, v, "ssh");
    const char *at = s ? strchr(s, '@') : NULL;
    if (!s)
        return;
    char *user = at ? strndup(s, (size_t)(at - s)) : NULL;
    if (!at || !user || !bkp_cmd_user_name_ok(user) || !bkp_remote_address_ok(at + 1)) {
        pol_yaml_error(c, v,
                       _("'ssh: %s' is not user@address — write e.g. 'ssh: bkp@10.0.0.12', the "
                         "user the agent runs as on that server"),
                       s);
        free(user);
        return;
    }
    free(h->user);
    free(h->address);
    h->user = user;
    h->address = strdup(at + 1);
}

static void host_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_host *h = t;
    if (!strcmp(key, "name"))
        h->name = pol_yaml_str(c, v, key);
    else if (!strcmp(key, "ssh"))
        host_ssh(c, v, h);
    else if (!strcmp(key, "port"))
        pol_yaml_int(c, v, key, 1, 65535, &h->port);
    else if (!strcmp(key, "identity")) {
        free(h->identity);
        h->identity = pol_parse_absolute(c, v, key, "/etc/bkp/ssh/id_ed25519");
    } else if (!strcmp(key, "host_key")) {
        h->host_key = pol_yaml_str(c, v, key);
        if (h->host_key && !bkp_remote_host_key_ok(h->host_key, NULL))
            pol_yaml_error(c, v,
                           _("host_key is not a host key as ssh-keyscan prints it ('ssh-ed25519 "
                             "AAAA...') — run `bkp host add NAME ADDRESS` and copy the line it "
                             "prints"));
    } else if (!strcmp(key, "idle_timeout")) {
        pol_yaml_duration(c, v, key, &h->idle_timeout);
        if (h->idle_timeout > 86400)
            pol_yaml_error(c, v,
                           _("idle_timeout is at most a day (a walk's whole limit) — write e.g. "
                             "'idle_timeout: 2h'"));
    } else {
        pol_yaml_duration(c, v, key, &h->connect_timeout);
    }
}

void pol_parse_hosts(pol_yaml_ctx *c, pol_yaml_node *v, pol_policy *p)
{
    static const char *const keys[] = {
        "name", "ssh", "port", "identity", "host_key", "connect_timeout", "idle_timeout", NULL};
    if (!pol_yaml_list(c, v, "hosts", _("a list of source servers, each starting with '- name:'")))
        return;
    size_t len = pol_yaml_len(v);
    p->hosts = calloc(len + 1, sizeof(*p->hosts));
    for (size_t i = 0; p->hosts && i < len; i++) {
        pol_yaml_node *n = pol_yaml_item(c, v, i);
        pol_host *h = &p->hosts[p->nhosts++];
        h->line = pol_yaml_line(n);
        h->port = 22;
        h->connect_timeout = 30;
        h->idle_timeout = 3600;
        h->identity = strdup(POL_HOST_IDENTITY);
        pol_yaml_mapping(c, n, _("a host"), keys, host_pair, h);
        if (!h->name || !bkp_dataset_name_ok(h->name))
            pol_yaml_error(c, n,
                           _("a host needs a name of letters, digits, '.', '_' and '-' — add "
                             "e.g. 'name: emr-db'"));
        if (!h->user)
            pol_yaml_error(c, n, _("host %s has no ssh — add e.g. 'ssh: bkp@10.0.0.12'"),
                           h->name ? h->name : "");
        if (!h->host_key)
            pol_yaml_error(c, n,
                           _("host %s has no host_key — run `bkp host add %s ADDRESS`, compare "
                             "the fingerprint it shows with the server's, and copy its line: "
                             "a key is never learnt on first use"),
                           h->name ? h->name : "", h->name ? h->name : "NAME");
    }
}
