#include "policies/guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"

#define HISTORY 7            /* generations the baseline is taken from */
#define MIN_NEW_BYTES (1 << 20)

double pol_change_fraction(const pol_change *c)
{
    uint64_t moved = c->added + c->changed + c->deleted;
    uint64_t before = c->files + c->deleted > c->added ? c->files + c->deleted - c->added : 0;
    return (double)moved / (double)(before ? before : 1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of `v` (sorted in place); `fallback` when empty. */
static double median(double *v, size_t n, double fallback)
{
    if (!n)
        return fallback;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool pol_guard_check(const pol_guard *g, const pol_change *history, size_t nhistory,
                     const pol_change *now, pol_guard_verdict *v)
{
    double frac[HISTORY], ratio[HISTORY];
    size_t nf = 0, nr = 0;
    memset(v, 0, sizeof(*v));
    if (!g->enabled)
        return false;
    /* The most recent generations are at the end of `history`. */
    for (size_t i = nhistory > HISTORY ? nhistory - HISTORY : 0; i < nhistory; i++) {
        frac[nf++] = pol_change_fraction(&history[i]);
        if (history[i].bytes_new >= MIN_NEW_BYTES)
            ratio[nr++] = (double)history[i].stored_new / (double)history[i].bytes_new;
    }
    double base = median(frac, nf, 0);
    double f = pol_change_fraction(now);
    uint64_t moved = now->added + now->changed + now->deleted;
    double limit = g->max_change > g->factor * base ? g->max_change : g->factor * base;
    if (nhistory && moved >= (uint64_t)g->min_files && f >= limit) {
        *v = (pol_guard_verdict){.signal = POL_GUARD_CHANGED, .share = f, .usual = base,
                                 .added = now->added, .changed = now->changed,
                                 .deleted = now->deleted};
        return true;
    }
    /* Encrypted data does not compress: new data that usually shrinks no longer does. */
    if (nr && now->bytes_new >= MIN_NEW_BYTES && now->bytes &&
        (double)now->bytes_new >= g->max_change * (double)now->bytes) {
        double r = (double)now->stored_new / (double)now->bytes_new, rh = median(ratio, nr, 1);
        if (r >= 0.97 && rh <= 0.9) {
            *v = (pol_guard_verdict){.signal = POL_GUARD_INCOMPRESSIBLE,
                                     .new_share = (double)now->bytes_new / (double)now->bytes,
                                     .stored = r, .stored_usual = rh};
            return true;
        }
    }
    return false;
}

const char *pol_guard_reason(const pol_guard_verdict *v, bool english, char *buf, size_t n)
{
    if (!n)
        return buf;
    buf[0] = '\0';
    if (v->signal == POL_GUARD_CHANGED)
        snprintf(buf, n,
                 E_(english, "%.0f%% of the files changed (%llu added, %llu changed, %llu deleted), "
                             "against %.1f%% usually; check the data set's machines for encrypted "
                             "or renamed files before trusting this generation"),
                 100 * v->share, (unsigned long long)v->added, (unsigned long long)v->changed,
                 (unsigned long long)v->deleted, 100 * v->usual);
    else if (v->signal == POL_GUARD_INCOMPRESSIBLE)
        snprintf(buf, n,
                 E_(english, "the new data (%.0f%% of the data set) does not compress (%.0f%% of "
                             "its size stored, usually %.0f%%): it may be encrypted; check the "
                             "data set's machines"),
                 100 * v->new_share, 100 * v->stored, 100 * v->stored_usual);
    return buf;
}
