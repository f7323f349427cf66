/* rotate_choose.c — see rotate_choose.h. */
#include "bkp/ops/rotate_choose.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "policies/retention.h"

/* Which of the records v[from, to) of one data set have a capture time in
 * order (policies/retention.h), judged as prune judges them: among the
 * intact records, a cleared one taken at its word. NULL without memory. */
static bool *time_in_order(bkp_gen **v, size_t from, size_t to)
{
    pol_gen *tg = calloc(to - from + 1, sizeof(*tg));
    bool *ok = calloc(to - from + 1, sizeof(*ok)), *res = calloc(to - from + 1, sizeof(*res));
    size_t *at = calloc(to - from + 1, sizeof(*at)), m = 0;
    if (tg && ok && res && at) {
        for (size_t x = from; x < to; x++)
            if (!v[x]->pruned && !v[x]->status) {
                tg[m] = (pol_gen){v[x]->finished, v[x]->seq, v[x]->cleared, false};
                at[m++] = x - from;
            }
        pol_time_order(tg, m, bkp_now(), ok);
        for (size_t k = 0; k < m; k++)
            res[at[k]] = ok[k];
    } else {
        free(res);
        res = NULL;
    }
    free(tg);
    free(ok);
    free(at);
    return res;
}

size_t ops_rotate_choose(const pol_policy *p, const char *medium, bkp_gen **v, size_t n,
                         bkp_gen **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(v[j]->dataset, v[i]->dataset))
            j++;
        if (!p || pol_dataset_copies_to(pol_dataset_find(p, v[i]->dataset), medium)) {
            bkp_gen *pick = NULL;
            bool *in_order = time_in_order(v, i, j);
            /* Under suspicion (generation.h): neither the marked one nor
             * what came after it, which may hold the same encrypted files
             * without a mark of its own. */
            size_t from = i + bkp_gen_suspicion(v + i, j - i);
            char name[96], first[96];
            if (from < j)
                bkp_warn(_("%s is marked suspicious (or its record is damaged): neither it nor a "
                           "later generation of %s is copied to %s until it, or a later one, is "
                           "checked and cleared; an older one is"),
                         bkp_gen_name(v[from], first, sizeof(first)), v[from]->dataset, medium);
            for (size_t x = from; x-- > i && !pick;) {
                if (v[x]->pruned || v[x]->status)
                    continue;
                /* A capture time out of order (retention.h) is not "the
                 * newest": it must not take a good generation's place. */
                if (!in_order || !in_order[x - i]) {
                    bkp_warn(_("%s: its capture time is out of order (backdated, or in the future) "
                               "and it is not copied to %s; an older one is. Investigate, or clear "
                               "it with `bkp generations --clear-suspicious %s` if it is good"),
                             bkp_gen_name(v[x], name, sizeof(name)), medium, name);
                    continue;
                }
                pick = v[x]; /* a mark before a later cleared one is settled */
            }
            if (pick)
                out[k++] = pick;
            free(in_order);
        }
        i = j;
    }
    return k;
}
