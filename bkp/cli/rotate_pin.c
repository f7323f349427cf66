/*
 * The primary against what each medium pinned, from the command line: the
 * work is bkp/ops/pins.h's; here a medium named on the command line is
 * found by its name first.
 */
#include <errno.h>
#include <stdlib.h>

#include "bkp/cli/cli.h"
#include "bkp/ops/pins.h"

int cli_pins_check(cli *c, const char *only, json_t **out)
{
    cli_medium m;
    if (only && cli_medium_find(c, only, &m)) {
        cli_medium_clear(&m);
        *out = json_array();
        return *out ? 0 : -ENOMEM;
    }
    int rc = ops_pins_check(c->ro, c->policy, only, only ? m.path : NULL, out);
    if (only)
        cli_medium_clear(&m);
    return rc;
}
