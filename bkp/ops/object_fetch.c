/*
 * An object medium's copy fetched back and repaired (object_fetch.h).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/clock.h"
#include "bkp/store/config.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/object_fetch.h"
#include "bkp/ops/object_medium.h"

/* Is `dir` a staging folder of ours whose process is gone? Then its pid. */
static long stale_pid(const char *dir)
{
    struct stat st;
    char *pidf = NULL, buf[32] = "";
    FILE *f = NULL;
    long pid = 0;
    if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 07777) == 0700 && asprintf(&pidf, "%s/pid", dir) >= 0 &&
        (f = fopen(pidf, "re")) && fgets(buf, sizeof(buf), f))
        pid = strtol(buf, NULL, 10);
    if (f)
        fclose(f);
    free(pidf);
    return pid > 1 && kill((pid_t)pid, 0) < 0 && errno == ESRCH ? pid : 0;
}

/* Staging folders of fetches whose process is gone (killed, or the machine
 * stopped): each holds a copy of the key file, which must not stay behind.
 * Removed following no link (`bkp_remove_tree`). A process killed between
 * mkdtemp and writing its pid leaves a folder this never removes: it holds
 * no key file yet, and a live fetch's folder is never taken for a stale
 * one. */
static void remove_stale(const char *tmp, const char *what)
{
    char prefix[64];
    int n = snprintf(prefix, sizeof(prefix), "bkp-%s-", what);
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *dir = NULL;
        if (strncmp(e->d_name, prefix, (size_t)n) || strlen(e->d_name) != (size_t)n + 6 ||
            asprintf(&dir, "%s/%s", tmp, e->d_name) < 0)
            continue;
        long pid = stale_pid(dir);
        if (pid) {
            bkp_info(_("removing the staging folder %s of a fetch that did not finish (process "
                       "%ld is gone)"),
                     dir, pid);
            (void)bkp_remove_tree(dir);
        }
        free(dir);
    }
    if (d)
        closedir(d);
}

char *ops_object_staging(const char *what)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL, pid[32];
    tmp = tmp && *tmp ? tmp : "/var/tmp";
    remove_stale(tmp, what);
    if (asprintf(&dir, "%s/bkp-%s-XXXXXX", tmp, what) < 0)
        return NULL;
    if (!mkdtemp(dir)) {
        bkp_error(_("cannot make a staging folder %s: %s; set TMPDIR to a folder with room"), dir,
                  bkp_strerror(-errno));
        free(dir);
        return NULL;
    }
    /* The pid is written durably before anything secret is put here: from
     * then on a kill leaves a folder the next fetch recognises and removes. */
    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (bkp_durable_write(dir, "pid", pid, strlen(pid), BKP_DURABLE_PRIVATE)) {
        (void)bkp_remove_tree(dir);
        free(dir);
        return NULL;
    }
    return dir;
}

/* Add the packs of generation `g` to `want`; false (said why) when they
 * cannot be known, and every pack is fetched. */
static bool want_gen(bkp_repo *copy, const bkp_gen *g, bkp_bucket_packset *want)
{
    int rc = g->status ? g->status : bkp_bucket_packset_add(copy, g, want);
    if (rc && rc != -ENOMEM)
        bkp_warn(_("%s:%u: the bucket has no signed list of its packs that checks (%s); every "
                   "pack is fetched"),
                 g->dataset, g->seq, bkp_strerror(rc));
    return !rc;
}

int ops_object_want(bkp_repo *copy, const ops_fetch_what *what, bkp_bucket_packset *want,
                    bool *subset)
{
    bool ok = true;
    *subset = what && what->records; /* an empty set: no pack */
    if (!what || what->records || (!what->spec && !what->ndatasets))
        return 0;
    const char *specs[] = {what->spec, what->spec2};
    for (size_t k = 0; ok && k < 2 && specs[k]; k++) {
        bkp_gen *g = NULL;
        int rc = bkp_gen_resolve(copy, specs[k], &g);
        if (rc)
            return rc;
        ok = want_gen(copy, g, want);
        bkp_gen_free(g);
    }
    for (size_t d = 0; ok && d < what->ndatasets; d++) {
        bkp_gen **v = NULL;
        size_t n = 0, taken = 0, newest = what->newest ? what->newest : SIZE_MAX;
        if (bkp_gen_list(copy, what->datasets[d], &v, &n))
            ok = false;
        for (size_t i = n; ok && i-- > 0 && taken < newest;)
            if (!v[i]->pruned && !v[i]->status && (taken++, !want_gen(copy, v[i], want)))
                ok = false;
        bkp_gen_list_free(v, n);
    }
    if (ok)
        bkp_bucket_packset_sort(want);
    *subset = ok;
    return 0;
}

/* Object `what` was put back: into the record's list (a failure to note it
 * does not undo it). */
static void noted(bkp_strlist *fixed, const char *what)
{
    if (bkp_strlist_add(fixed, what))
        bkp_warn(_("%s was put back, but is left out of the record of the repair (out of memory)"),
                 what);
}

int ops_object_repair(bkp_s3 *s, const pol_medium *pm, bkp_repo *src, const bkp_bucket_fetch *f,
                      bkp_strlist *fixed)
{
    int left = 0;
    time_t until = ops_object_floor(pm, bkp_now());
    /* A hidden or forged config or key file: the repair source's goes in front. */
    for (size_t i = 0; i < f->nhidden; i++) {
        if (strcmp(f->hidden[i], "config") && strcmp(f->hidden[i], "keys/key")) {
            left++; /* records: `bkp rotate` puts them back */
            continue;
        }
        if (bkp_bucket_put_file(s, src, f->hidden[i], ops_object_mode(pm), until))
            left++;
        else
            noted(fixed, f->hidden[i]);
    }
    for (size_t i = 0; i < f->nstale + f->ndamaged; i++) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, f->bad[i], BKP_ID_LEN);
        if (bkp_bucket_put_pack(s, src, f->bad[i], f->bad_version[i], ops_object_mode(pm), until,
                                NULL))
            left++;
        else
            noted(fixed, hex);
    }
    return left;
}
