/* The agent's configuration on a source server (agent_config.h). */
#include "policies/agent_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/host/cmdenv.h"
#include "bkp/host/trust.h"
#include "bkp/host/wire.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/layout.h"
#include "policies/yaml_doc.h"

/* Absolute and plain: no empty, "." or ".." component, so that what the
 * agent checks a path against is what the file says; and one a hello may
 * carry (wire.h). */
static bool tree_ok(const char *p)
{
    if (!bkp_wire_path_ok(p))
        return false;
    for (const char *s = p + 1; *s;) {
        size_t n = strcspn(s, "/");
        if ((n == 0 && s[n]) || (n == 1 && s[0] == '.') || (n == 2 && !strncmp(s, "..", 2)))
            return false;
        s += n + (s[n] == '/');
    }
    return true;
}

static void command_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_agent_command *cmd = t;
    if (!strcmp(key, "command"))
        cmd->command = pol_yaml_str(c, v, key);
    else
        pol_yaml_duration(c, v, key, &cmd->timeout);
}

static void commands(pol_yaml_ctx *c, pol_yaml_node *v, pol_agent *a)
{
    static const char *const keys[] = {"command", "timeout", NULL};
    if (v->type != YAML_MAPPING_NODE) {
        pol_yaml_error(c, v,
                       _("commands is a mapping of names to commands — write e.g. 'commands: { "
                         "emr-dump: \"pg_dump -Fc emr\" }'"));
        return;
    }
    size_t len = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (len > POL_AGENT_LIST_MAX)
        pol_yaml_error(c, v,
                       _("commands names %zu commands, more than an agent can tell the backup "
                         "server (at most %d)"),
                       len, POL_AGENT_LIST_MAX);
    if (!(a->commands = calloc(len + 1, sizeof(*a->commands))))
        return;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        pol_yaml_node *k = pol_yaml_get(c, p->key), *val = pol_yaml_get(c, p->value);
        const char *name = pol_yaml_scalar(c, k, "commands");
        if (!name)
            continue;
        if (!bkp_dataset_name_ok(name)) {
            pol_yaml_error(c, k,
                           _("command name '%s' — use letters, digits, '.', '_' and '-', such as "
                             "emr-dump"),
                           name);
            continue;
        }
        for (size_t i = 0; i < a->ncommands; i++)
            if (!strcmp(a->commands[i].name, name))
                pol_yaml_error(c, k, _("command '%s' is named twice — give each a name of its own"),
                               name);
        pol_agent_command *cmd = &a->commands[a->ncommands];
        cmd->timeout = 24 * 3600;
        if (!(cmd->name = strdup(name)))
            return;
        a->ncommands++;
        if (val->type == YAML_SCALAR_NODE)
            cmd->command = pol_yaml_str(c, val, name);
        else
            pol_yaml_mapping(c, val, name, keys, command_pair, cmd);
        if (!cmd->command)
            pol_yaml_error(c, val, _("command '%s' has no command line — write e.g. '%s: "
                                     "\"pg_dump -Fc emr\"'"),
                           name, name);
        else if (bkp_cmd_pipeline_unchecked(cmd->command))
            pol_yaml_error(c, val,
                           _("command '%s' is a pipeline, whose status is only its last "
                             "command's: a failed dump would be sealed — write it as 'bash -o "
                             "pipefail -c \"...\"', or let the dump compress itself"),
                           cmd->command);
    }
}

static void top_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_agent *a = t;
    if (!strcmp(key, "read")) {
        pol_yaml_str_list(c, v, key, &a->read, &a->nread);
        size_t bytes = 0;
        for (size_t i = 0; i < a->nread; i++) {
            bytes += strlen(a->read[i]) + 1;
            if (!tree_ok(a->read[i]))
                pol_yaml_error(c, v,
                               _("'%s' in read is not a plain absolute path — write the full "
                                 "path from /, without '.' or '..'"),
                               a->read[i]);
        }
        if (a->nread > POL_AGENT_LIST_MAX || bytes > POL_AGENT_READ_BYTES)
            pol_yaml_error(c, v,
                           _("read names %zu folders in %zu bytes, more than an agent can tell "
                             "the backup server (at most %d folders, %u bytes): name the folders "
                             "above them instead"),
                           a->nread, bytes, POL_AGENT_LIST_MAX, POL_AGENT_READ_BYTES);
    } else {
        commands(c, v, a);
    }
}

static int load(pol_yaml_ctx *c, int rc, const char *file, pol_agent **out)
{
    static const char *const keys[] = {"read", "commands", NULL};
    if (rc)
        return rc;
    pol_agent *a = calloc(1, sizeof(*a));
    if (!a || !(a->file = strdup(file))) {
        free(a);
        pol_yaml_done(c);
        return -ENOMEM;
    }
    pol_yaml_node *root = pol_yaml_root(c);
    if (!root) {
        bkp_error(_("%s:1: the agent's configuration is empty — write 'read: [/srv/data]' and/or "
                    "'commands: { name: \"command\" }'"),
                  file);
        c->errors++;
    } else
        pol_yaml_mapping(c, root, _("the agent's configuration"), keys, top_pair, a);
    pol_yaml_done(c);
    if (c->errors) {
        bkp_error(_("%s: %d problem(s); the agent serves nothing until they are fixed"), file,
                  c->errors);
        pol_agent_free(a);
        return -EINVAL;
    }
    *out = a;
    return 0;
}

int pol_agent_load(const char *file, pol_agent **out)
{
    char *real = NULL;
    int rc = bkp_trust_file(file, 0, N_("agent configuration"), &real);
    if (rc)
        return rc;
    pol_yaml_ctx c;
    rc = load(&c, pol_yaml_load(&c, real), file, out);
    free(real);
    return rc;
}

int pol_agent_load_buffer(const char *name, const uint8_t *buf, size_t len, pol_agent **out)
{
    pol_yaml_ctx c;
    return load(&c, pol_yaml_load_buffer(&c, name, buf, len), name, out);
}

void pol_agent_free(pol_agent *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nread; i++)
        free(a->read[i]);
    free(a->read);
    for (size_t i = 0; i < a->ncommands; i++) {
        free(a->commands[i].name);
        free(a->commands[i].command);
    }
    free(a->commands);
    free(a->file);
    free(a);
}

const pol_agent_command *pol_agent_command_find(const pol_agent *a, const char *name)
{
    for (size_t i = 0; a && name && i < a->ncommands; i++)
        if (!strcmp(a->commands[i].name, name))
            return &a->commands[i];
    return NULL;
}
