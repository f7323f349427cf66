/*
 * The primary against what each medium pinned, from the command line: the
 * work is bkp/ops/pins.h's; here a medium named on the command line is
 * found by its name first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/cli/cli.h"
#include "bkp/ops/pins.h"

int cli_pins_check(cli *c, const char *only, ops_pin_findings *out)
{
    cli_medium m;
    memset(out, 0, sizeof(*out));
    if (only && cli_medium_find(c, only, &m)) {
        cli_medium_clear(&m);
        return 0;
    }
    int rc = ops_pins_check(c->ro, c->policy, only, only ? m.path : NULL, out);
    if (only)
        cli_medium_clear(&m);
    return rc;
}
