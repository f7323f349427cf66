/* Fuzz target: the tree request as the agent reads it from the SSH
 * session's command line (wire.h: tree [-x] [-e PATTERN]... PATH...).
 * Whatever is accepted is absolute, without a control byte, in walk order
 * with none below another, and reads back the same once written again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/capture/walk.h"
#include "bkp/host/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    bkp_wire_tree t, again;
    if (bkp_wire_tree_parse(s, &t) == 0) {
        if (!t.npaths || t.npaths > BKP_WIRE_LIST || t.nexclude > BKP_WIRE_LIST)
            abort();
        for (size_t i = 0; i < t.npaths; i++) {
            if (!bkp_wire_path_ok(t.paths[i]))
                abort(); /* a relative path, or a control byte */
            if (i && (bkp_walk_cmp(t.paths[i - 1], t.paths[i]) >= 0 ||
                      bkp_walk_below(t.paths[i - 1], t.paths[i])))
                abort(); /* out of order, twice, or one below another */
        }
        char *r = bkp_wire_tree_request(&t);
        if (!r || bkp_wire_tree_parse(r, &again) || again.npaths != t.npaths ||
            again.nexclude != t.nexclude || again.one_fs != t.one_fs)
            abort(); /* what we write we must read back the same */
        for (size_t i = 0; i < t.npaths; i++)
            if (strcmp(again.paths[i], t.paths[i]))
                abort();
        for (size_t i = 0; i < t.nexclude; i++)
            if (strcmp(again.exclude[i], t.exclude[i]))
                abort();
        bkp_wire_tree_clear(&again);
        free(r);
        bkp_wire_tree_clear(&t);
    }
    free(s);
    return 0;
}
