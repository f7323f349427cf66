/*
 * agent_config.h — what `bkp agent` may do on a source server: its own
 * file there (/etc/bkp/agent.yaml), never anything the backup server sends.
 *
 *   read: [/srv/emr/export]                     # the trees it may read
 *   commands:                                   # the commands it may run, by name
 *     emr-dump: "pg_dump -Fc emr"
 *     scans-dump: { command: "...", timeout: 2h }
 *
 * Read as strictly as the policy (yaml_doc.h): every problem at file:line.
 */
#ifndef POL_AGENT_CONFIG_H
#define POL_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define POL_AGENT_CONFIG "/etc/bkp/agent.yaml"

typedef struct pol_agent_command {
    char *name;      /* as a data set's name (layout.h) */
    char *command;   /* for sh -c, as the agent's user */
    int64_t timeout; /* seconds; default 24 hours */
} pol_agent_command;

/* What an agent's hello can carry whole (bkp/host/wire.h: its lists hold
 * at most BKP_WIRE_LIST names, its frame at most BKP_WIRE_MAX bytes, and a
 * read: folder may be named in it three times): more is refused here, where
 * the administrator writes it, not found short by `bkp host check`. */
#define POL_AGENT_LIST_MAX 256
#define POL_AGENT_READ_BYTES (64U * 1024)

typedef struct pol_agent {
    char *file;
    char **read; /* absolute, without "." or ".." components */
    size_t nread;
    pol_agent_command *commands;
    size_t ncommands;
} pol_agent;

/* Load and validate `file` (checked by StrictModes first: trust.h): 0,
 * -EINVAL (logged at file:line), -EPERM (logged), or a negative errno for
 * a file that cannot be read (not logged). */
int pol_agent_load(const char *file, pol_agent **out);
/* The same for the bytes `buf`, named `name` (the fuzz target's entry). */
int pol_agent_load_buffer(const char *name, const uint8_t *buf, size_t len, pol_agent **out);
void pol_agent_free(pol_agent *a);

const pol_agent_command *pol_agent_command_find(const pol_agent *a, const char *name);

#endif
