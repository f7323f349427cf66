/*
 * An object medium's copy fetched back and repaired (object_fetch.h).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/clock.h"
#include "bkp/config.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
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
    *subset = false;
    if (!what || (!what->spec && !what->ndatasets))
        return 0;
    if (what->spec) {
        bkp_gen *g = NULL;
        int rc = bkp_gen_resolve(copy, what->spec, &g);
        if (rc)
            return rc;
        ok = want_gen(copy, g, want);
        bkp_gen_free(g);
    }
    for (size_t d = 0; ok && d < what->ndatasets; d++) {
        bkp_gen **v = NULL;
        size_t n = 0, taken = 0;
        if (bkp_gen_list(copy, what->datasets[d], &v, &n))
            ok = false;
        for (size_t i = n; ok && i-- > 0 && taken < OPS_FETCH_NEWEST;)
            if (!v[i]->pruned && !v[i]->status && (taken++, !want_gen(copy, v[i], want)))
                ok = false;
        bkp_gen_list_free(v, n);
    }
    if (ok)
        bkp_bucket_packset_sort(want);
    *subset = ok;
    return 0;
}

/* Put `staging`/`name`, an older key file the fetch kept, in the place of
 * `cur`. Each staging folder is opened once, so the file tried is not
 * needed again. False when there is no such file. */
static bool swap_in(const char *staging, const char *name, const char *cur)
{
    char *older = bkp_path_join(staging, name);
    bool ok = older && access(older, F_OK) == 0 && bkp_durable_rename(older, cur, 0) == 0;
    free(older);
    return ok;
}

/* The copy in `staging` opened with `k`: beside the primary, with its
 * keys; with the master secret of the key sheets; or with the passphrase,
 * by the newest key file, then by each older one (a key file from before
 * `bkp key passwd` replayed in front). */
static int open_keys(const char *staging, const char *medium, const ops_fetch_key *k,
                     bkp_repo **out)
{
    char *repo = bkp_path_join(staging, "repo");
    if (!repo)
        return -ENOMEM;
    int rc = k->like     ? bkp_repo_open_copy(repo, k->like, BKP_REPO_READONLY, out)
             : k->master ? bkp_repo_open_master(repo, k->master, BKP_REPO_READONLY, out)
                         : bkp_repo_open(repo, k->pass, k->plen, BKP_REPO_READONLY, out);
    char *cur = rc == -EKEYREJECTED && k->pass ? bkp_path_join(repo, "keys/key") : NULL;
    for (int i = 1; cur && rc == -EKEYREJECTED && i <= BKP_BUCKET_OLDER; i++) {
        char name[32];
        snprintf(name, sizeof(name), "key-older-%d", i);
        if (!swap_in(staging, name, cur))
            continue;
        bkp_warn(_("%s: the newest key file in the bucket does not take this passphrase; an "
                   "older one is tried (a retired one may have been put in front)"),
                 medium);
        rc = bkp_repo_open(repo, k->pass, k->plen, BKP_REPO_READONLY, out);
    }
    free(cur);
    free(repo);
    return rc;
}

/* A config the fetch kept: its format (0: none, or not one) and its
 * signing key. */
typedef struct kept_config {
    int format;
    uint8_t pk[32];
} kept_config;

/* The configs of the fetch in `first`: [0] the one in the copy, [i] the
 * i-th older one kept beside it. Their number. */
static int kept_configs(const char *first, kept_config *c)
{
    int n = 0;
    for (int i = 0; i <= BKP_BUCKET_OLDER; i++, n++) {
        char name[32];
        snprintf(name, sizeof(name), i ? "config-older-%d" : "repo/config", i);
        char *path = bkp_path_join(first, name);
        bkp_config cfg;
        c[i].format = 0;
        if (path && !bkp_config_read(path, &cfg, NULL)) {
            c[i].format = cfg.version;
            memcpy(c[i].pk, cfg.sign_pk, 32);
        }
        free(path);
        if (i && !c[i].format)
            break; /* [0] may be missing: no config of the labelled repository */
    }
    return n;
}

/* The `i`-th older config kept in `first`, and the copy fetched again into
 * a new staging folder pinned to it (*staging, the previous one removed
 * unless it is `first`), then opened. */
static int open_pinned(bkp_s3 *s, const char *first, int i, char **staging, const char *medium,
                       const ops_fetch_key *k, bkp_bucket_fetch *f, bkp_repo **out)
{
    char name[32];
    snprintf(name, sizeof(name), "config-older-%d", i);
    char *path = bkp_path_join(first, name), *next = NULL;
    bkp_buf pin;
    bkp_buf_init(&pin);
    int rc = path ? bkp_read_file(path, &pin, BKP_CONFIG_MAX) : -ENOMEM;
    if (!rc && !(next = ops_object_staging("fetch")))
        rc = -ENOMEM;
    if (!rc) {
        bkp_warn(_("%s: the newest config in the bucket is refused; an older one is tried (a "
                   "forged one, or one of an older format, may have been put in front)"),
                 medium);
        if (*staging != first) {
            (void)bkp_remove_tree(*staging);
            free(*staging);
        }
        *staging = next;
        bkp_bucket_fetch_clear(f);
        f->config_pin = pin.data;
        f->config_pin_len = pin.len;
        rc = bkp_bucket_fetch_meta(s, next, f);
        f->config_pin = NULL;
        f->config_pin_len = 0;
        if (!rc)
            rc = open_keys(next, medium, k, out);
    }
    bkp_buf_free(&pin);
    free(path);
    return rc;
}

/* Might another config than the one refused with `rc` open the copy? A
 * refusal of the config (its MAC, its format, its signing key, no key file
 * it signed) or of the key under it: the candidates whose signing key was
 * refused already are passed over (skip_key), so a passphrase that opens
 * nothing costs no second fetch. */
static bool config_refused(int rc)
{
    return rc == -EBADMSG || rc == -ENOENT || rc == -EXDEV || rc == -EKEYREJECTED;
}

/* Is `c`'s signing key one that cannot open the copy: not the primary's
 * (beside it), or one a key was already refused under? */
static bool skip_key(const kept_config *c, const ops_fetch_key *k, uint8_t (*refused)[32],
                     int nrefused)
{
    if (k->like && memcmp(c->pk, bkp_keys_sign_pk(bkp_repo_keys(k->like)), 32))
        return true;
    for (int j = 0; j < nrefused; j++)
        if (!memcmp(c->pk, refused[j], 32))
            return true;
    return false;
}

/* The copy fetched into `first`, and what that fetch found (`saved`): set
 * aside while older configs are fetched again (open_pinned clears `f`),
 * put back if the copy in `first` is tried after them. */
typedef struct fetch_first {
    char *first;
    bkp_bucket_fetch saved;
    bool aside;
} fetch_first;

/* Candidate `i` tried: the copy in `first` ([0]), or the i-th older config
 * with everything fetched again for it. */
static int try_config(bkp_s3 *s, fetch_first *ff, int i, char **staging, const char *medium,
                      const ops_fetch_key *k, bkp_bucket_fetch *f, bkp_repo **out)
{
    if (i && !ff->aside) {
        ff->saved = *f;
        memset(f, 0, sizeof(*f));
        f->label_uuid = ff->saved.label_uuid; /* the caller's, not found */
        f->label_repository = ff->saved.label_repository;
        f->label_version = ff->saved.label_version;
        ff->aside = true;
    } else if (!i && ff->aside) { /* back to the first copy (a format 2 one, tried last) */
        if (*staging != ff->first) {
            (void)bkp_remove_tree(*staging);
            free(*staging);
            *staging = ff->first;
        }
        bkp_bucket_fetch_clear(f);
        *f = ff->saved;
        memset(&ff->saved, 0, sizeof(ff->saved));
        ff->aside = false;
    }
    return i ? open_pinned(s, ff->first, i, staging, medium, k, f, out)
             : open_keys(ff->first, medium, k, out);
}

int ops_object_open_fetched(bkp_s3 *s, char **staging, const char *medium, const ops_fetch_key *k,
                            bkp_bucket_fetch *f, bkp_repo **out)
{
    fetch_first ff = {.first = *staging};
    kept_config c[1 + BKP_BUCKET_OLDER];
    uint8_t refused[1 + BKP_BUCKET_OLDER][32];
    int n = s && f ? kept_configs(ff.first, c) : 0, nrefused = 0, rc = 0, opened = -1;
    bool later = false, tried = false;
    for (int i = 0; i < n; i++)
        later |= c[i].format >= 3;
    /* Candidates newest first, and a format 2 config only once every later
     * one was refused: bkp only ever raises a config's format, and a
     * format 2 config has no MAC, so one stripped from ours would open
     * (the packs that would show its chunk-ID function wrong are not
     * fetched yet). Each older one with everything fetched again for it
     * alone: the key file and records its key signed, never what a config
     * put in front signed. */
    if (n && c[0].format == 2 && later)
        bkp_warn(_("%s: the newest config in the bucket is of format 2, which has no MAC, and an "
                   "older one is of a later format; bkp never lowers a config's format, so the "
                   "later ones are tried first"),
                 medium);
    for (int pass = 0; pass < 2 && opened < 0; pass++) {
        for (int i = 0; i < n && opened < 0 && (!tried || config_refused(rc)); i++) {
            if (!c[i].format || (later && c[i].format == 2) != (pass == 1) ||
                skip_key(&c[i], k, refused, nrefused))
                continue;
            rc = try_config(s, &ff, i, staging, medium, k, f, out);
            tried = true;
            if (!rc)
                opened = i;
            else if (rc == -EKEYREJECTED)
                memcpy(refused[nrefused++], c[i].pk, 32);
        }
    }
    if (!tried) /* no config of its kind, or none the primary's: said by the open */
        rc = open_keys(ff.first, medium, k, out);
    if (opened > 0)
        bkp_warn(_("%s: opened with an older config of the bucket's. Someone holding the "
                   "credentials put another in front: find out who, then `bkp verify --media "
                   "%s --repair-from MEDIUM` puts the repository's back in front"),
                 medium, medium);
    if (ff.aside)
        bkp_bucket_fetch_clear(&ff.saved);
    if (*staging != ff.first) {
        (void)bkp_remove_tree(ff.first);
        free(ff.first);
    }
    return rc;
}

int ops_object_repair(bkp_s3 *s, const pol_medium *pm, bkp_repo *src, const bkp_bucket_fetch *f,
                      json_t *fixed)
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
            json_array_append_new(fixed, json_string(f->hidden[i]));
    }
    for (size_t i = 0; i < f->nstale + f->ndamaged; i++) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, f->bad[i], BKP_ID_LEN);
        if (bkp_bucket_put_pack(s, src, f->bad[i], f->bad_version[i], ops_object_mode(pm), until,
                                NULL))
            left++;
        else
            json_array_append_new(fixed, json_string(hex));
    }
    return left;
}
