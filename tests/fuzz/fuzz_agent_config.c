/* Fuzz target: the agent's side — its configuration (agent.yaml) and the
 * request the backup server sends (SSH_ORIGINAL_COMMAND). The first line
 * of the input is the request, the rest the configuration. Whatever
 * configuration is accepted names only plain absolute trees (no empty, "."
 * or ".." component) and commands with a name and a command line; a
 * request is served by a configuration that lists one harmless command,
 * `ok` (true): it is a hello, that command run, or refused. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "bkp/host/wire.h"
#include "bkp/ops/agent.h"
#include "bkp/store/layout.h"
#include "policies/agent_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t rlen = nl ? (size_t)(nl - data) : size;
    char *request = strndup((const char *)data, rlen);
    const uint8_t *conf = nl ? nl + 1 : data + size;
    pol_agent *a = NULL;
    if (pol_agent_load_buffer("agent.yaml", conf, size - (size_t)(conf - data), &a) == 0) {
        for (size_t i = 0; i < a->nread; i++) {
            const char *r = a->read[i];
            size_t n = strlen(r);
            if (!bkp_wire_path_ok(r) || strstr(r, "//") || strstr(r, "/./") || strstr(r, "/../") ||
                (n >= 2 && !strcmp(r + n - 2, "/.")) || (n >= 3 && !strcmp(r + n - 3, "/..")))
                abort();
        }
        for (size_t i = 0; i < a->ncommands; i++)
            if (!bkp_dataset_name_ok(a->commands[i].name) || !a->commands[i].command ||
                a->commands[i].timeout <= 0)
                abort();
        pol_agent_free(a);
    }
    pol_agent_command ok = {.name = "ok", .command = "true", .timeout = 10};
    pol_agent one = {.file = "agent.yaml", .commands = &ok, .ncommands = 1};
    int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (out >= 0 && request) {
        int rc = ops_agent_serve(&one, "1", request, out);
        if (rc != 0 && rc != -EACCES)
            abort();
        if (rc == 0 && strcmp(request, "hello") && strcmp(request, "run ok"))
            abort(); /* served what is neither a hello nor the one command */
    }
    if (out >= 0)
        close(out);
    free(request);
    return 0;
}
