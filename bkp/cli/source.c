/*
 * Where a restore, or a listing of generations or files, reads from: the
 * primary repository, or with --from a medium's name, a repository copy, a
 * medium's mount point, an archive folder or an archive file (or tape). An
 * archive is extracted into a staging folder ($TMPDIR, else /var/tmp) that
 * is removed afterwards; it needs room for one generation. So is what a
 * bucket's copy needs (bkp/ops/object_fetch.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/media/archive.h"
#include "bkp/media/bucket.h"
#include "bkp/media/label.h"
#include "bkp/cli/cli.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/keys.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"

void cli_source_remove(char *staging)
{
    if (staging)
        (void)bkp_remove_tree(staging);
    free(staging);
}

/* Is `name` in `dir`? A folder bkp may not look into is said, with what to
 * do, and `*denied` set: "nothing there" would send a person who is not
 * root looking for another disk. */
static bool exists(const char *dir, const char *name, bool *denied)
{
    char *p = bkp_path_join(dir, name);
    bool ok = p && access(p, F_OK) == 0;
    if (p && !ok && errno == EACCES && !*denied) {
        *denied = true;
        *strrchr(p, '/') = '\0'; /* the folder that was refused */
        bkp_error(_("cannot look into %s: permission denied; run bkp as root (sudo), as the "
                    "backups were written"),
                  p);
    }
    free(p);
    return ok;
}

/* In an archive folder, the archive of `spec` (DATASET:latest or DATASET:SEQ);
 * when there is none, *ex says why: a spec of the wrong form (EXIT_USAGE) or
 * nothing of it there (EXIT_NOREPO). */
static char *pick_archive(const char *dir, const char *spec, int *ex)
{
    *ex = EXIT_USAGE;
    if (!spec) { /* the list of generations: an archive holds one */
        bkp_error(_("%s is an archive medium: each generation is one file there, named "
                    "DATASET@SEQ.tar; read one with --from %s/DATASET@SEQ.tar, or restore one "
                    "with `bkp restore DATASET:SEQ TARGET --from %s`"),
                  dir, dir, dir);
        return NULL;
    }
    const char *colon = strrchr(spec, ':');
    char *best = NULL;
    unsigned long want = 0, top = 0;
    bool latest = colon && !strcmp(colon + 1, "latest");
    if (!colon || (!latest && !(want = strtoul(colon + 1, NULL, 10)))) {
        bkp_error(
            _("from an archive folder, name the generation as DATASET:SEQ or DATASET:latest"));
        return NULL;
    }
    size_t dl = (size_t)(colon - spec);
    DIR *d = opendir(dir);
    struct dirent *e;
    bool any = false; /* an archive, or a label: a medium of bkp's */
    if (!d && errno == EACCES)
        bkp_error(_("cannot look into %s: permission denied; run bkp as root (sudo), as the "
                    "backups were written"),
                  dir);
    else if (!d)
        bkp_error(_("cannot read %s: %s"), dir, bkp_strerror(-errno));
    if (!d) {
        *ex = EXIT_FAILED;
        return NULL;
    }
    while ((e = readdir(d))) {
        const char *at = strrchr(e->d_name, '@');
        size_t l = strlen(e->d_name);
        any |= !strcmp(e->d_name, BKP_LABEL_FILE) || (l > 4 && !strcmp(e->d_name + l - 4, ".tar"));
        if (!at || (size_t)(at - e->d_name) != dl || strncmp(e->d_name, spec, dl) || l < 5 ||
            strcmp(e->d_name + l - 4, ".tar"))
            continue;
        unsigned long seq = strtoul(at + 1, NULL, 10);
        if ((latest && seq > top) || (!latest && seq == want)) {
            top = seq;
            free(best);
            best = bkp_path_join(dir, e->d_name);
        }
    }
    closedir(d);
    if (!best && !any) /* nothing of bkp's: not the disk, or not mounted there */
        bkp_error(_("%s holds no repository and no archive of bkp; give --from the folder where "
                    "the backup disk is mounted (it holds BKP-LABEL), and check that the disk is "
                    "connected and mounted"),
                  dir);
    else if (!best)
        bkp_error(_("%s holds no archive of %s"), dir, spec);
    if (!best)
        *ex = EXIT_NOREPO;
    return best;
}

/* Extract `file` into a new staging folder and open it. */
static int open_archive(cli *c, const char *file, bkp_repo **out, char **staging)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL;
    if (asprintf(&dir, "%s/bkp-restore-XXXXXX", tmp && *tmp ? tmp : "/var/tmp") < 0)
        return EXIT_FAILED;
    if (!mkdtemp(dir)) {
        bkp_error(_("cannot make a staging folder %s: %s; set TMPDIR to a folder with room for the "
                    "generation"),
                  dir, bkp_strerror(-errno));
        free(dir);
        return EXIT_FAILED;
    }
    *staging = dir;
    if (bkp_archive_extract_repo(file, dir))
        return EXIT_FAILED;
    if (c->nkey_from) {
        int rc = cli_open_key_from(c, dir, BKP_REPO_READONLY, true, out);
        return rc == -EINVAL ? EXIT_USAGE : cli_exit_open(rc, NULL);
    }
    cli_passphrase_source(c);
    int rc = cli_open_passphrase(c, dir, BKP_REPO_READONLY, out);
    return rc == -ENOKEY ? EXIT_USAGE : cli_exit_open(rc, NULL);
}

/* The server's repository, read-only, for what its registry pins of a
 * bucket (*out NULL: not opened, said only when it is not a matter of the
 * passphrase). A passphrase is tried once and a refusal is no fault: one
 * the server has retired may still open the bucket, and the bucket's open
 * asks for it again when typed. */
static void primary_for_pins(cli *c, bkp_repo **out)
{
    char *pass = NULL;
    size_t plen = 0;
    bool typed = false;
    *out = NULL;
    if (c->nkey_from) {
        (void)cli_open_repo(c, BKP_REPO_READONLY, out); /* says why not */
        return;
    }
    if (cli_repo_check(c->repo) || cli_passphrase(c, &pass, &plen, &typed))
        return;
    int rc = !typed || plen
                 ? bkp_repo_open(c->repo, pass, plen, BKP_REPO_READONLY | BKP_REPO_ASKING, out)
                 : -ENOKEY;
    if (rc == -EKEYREJECTED)
        bkp_note(_("the server's repository %s does not open with this passphrase: the bucket is "
                   "read without what its registry records of it (a passphrase retired on the "
                   "server since may still open the bucket)"),
                 c->repo);
    else if (rc != -ENOKEY)
        (void)cli_exit_open(rc, c->repo);
    bkp_passphrase_free(pass, plen);
}

/* --from NAME, a medium of the policy or the registry: `*path` its mount
 * point (malloc'd; NULL without memory); an object medium's copy, what
 * `what` needs of it (NULL: all), fetched into `*staging` and opened
 * (`*done`). An exit code. */
static int from_medium(cli *c, const char *from, const cli_fetch_what *what, bkp_repo **out,
                       char **staging, char **path, bool *done)
{
    struct stat st;
    cli_medium m;
    if (!cli_policy_named(c)) {
        bkp_error(_("--from %s: no such path, and without a policy no medium has that name. On a "
                    "new machine, write the policy the printed procedure gives (\"If this "
                    "server and its policy are gone\") and name it with --policy FILE"),
                  from);
        return EXIT_USAGE;
    }
    bkp_repo *primary = NULL;
    /* A disk or a folder the policy names is found by the policy alone, and
     * opened with its own key slots (a passphrase the server has retired
     * since its rotation still opens it; cli_record marks what is done so).
     * A bucket is trusted by what the registry, in the primary, pins; the
     * registry of a primary that is gone is no fault: the policy will do. */
    const pol_medium *pm = c->policy ? pol_medium_find(c->policy, from) : NULL;
    if (!(pm && pol_type_at_path(pm->type)) && cli_repo_path(c) && stat(c->repo, &st) == 0)
        primary_for_pins(c, &primary);
    const bkp_repo *keep = c->ro;
    c->ro = primary;
    int ex = cli_medium_find(c, from, &m);
    c->ro = keep;
    bkp_repo_free(primary);
    if (ex)
        return ex;
    if (!pol_type_at_path(m.kind)) { /* a bucket: what `spec` needs, into a staging folder */
        bkp_bucket_fetch f = {0};
        ex = cli_object_fetch(c, &m, false, what, out, staging, &f);
        bkp_bucket_fetch_clear(&f);
        *done = true;
    } else {
        *path = strdup(m.path);
    }
    cli_medium_clear(&m);
    return ex;
}

/* The repository copy at `repo` (NULL: no memory), opened with the sheets
 * of --key-from or the passphrase, as a folder on a medium (its cache/ is
 * not read). An exit code. */
static int open_folder(cli *c, const char *repo, bkp_repo **out)
{
    int rc;
    if (c->nkey_from) {
        rc = repo ? cli_open_key_from(c, repo, BKP_REPO_READONLY | BKP_REPO_MEDIUM, false, out)
                  : -ENOMEM;
    } else {
        cli_passphrase_source(c);
        rc =
            repo ? cli_open_passphrase(c, repo, BKP_REPO_READONLY | BKP_REPO_MEDIUM, out) : -ENOMEM;
        if (rc == -ENOKEY)
            return EXIT_USAGE;
    }
    return cli_exit_open(rc, repo);
}

/* The repository itself, read-only. When it is not there and the policy
 * names media (a new machine with the paper's recovery.yaml, or a server
 * whose disk is not mounted), the reader is told to name one with --from,
 * which is what they came for, rather than only to mount a disk. */
static int open_primary(cli *c, bkp_repo **out)
{
    struct stat st;
    char names[512];
    if (!cli_repo_path(c))
        return EXIT_USAGE;
    if (c->policy && stat(c->repo, &st) < 0 && errno == ENOENT &&
        *pol_media_names(c->policy, names, sizeof(names))) {
        bkp_error(_("there is no repository at %s (the policy's repository, or --repo): to read "
                    "a copy on a backup medium or in a bucket, add --from MEDIUM, one of %s; or "
                    "mount the disk that holds the repository"),
                  c->repo, names);
        return EXIT_NOREPO;
    }
    return cli_open_repo(c, BKP_REPO_READONLY, out);
}

static int open_source(cli *c, const cli_fetch_what *what, bkp_repo **out, char **staging)
{
    const char *from = c->from, *spec = what ? what->spec : NULL;
    char *path = NULL, *repo = NULL;
    struct stat st;
    int ex = EXIT_USAGE;
    *staging = NULL;
    if (!from)
        return open_primary(c, out);
    /* A medium's name (no '/'), as the policy or the registry knows it; a
     * folder of that name in the current directory is `./NAME`. */
    pol_policy *pol = c->policy; /* loaded by the dispatcher when named */
    if (!strchr(from, '/') && (stat(from, &st) < 0 || (pol && pol_medium_find(pol, from)))) {
        bool done = false;
        if ((ex = from_medium(c, from, what, out, staging, &path, &done)) || done)
            return ex;
    } else {
        path = strdup(from);
    }
    if (!path || stat(path, &st) < 0) {
        bkp_error(_("--from %s: %s is not there; connect and mount the medium"), from,
                  path ? path : "?");
        ex = path ? EXIT_NOREPO : EXIT_FAILED;
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        ex = open_archive(c, path, out, staging); /* an archive file or a tape */
        goto out;
    }
    bool denied = false;
    if (exists(path, "config", &denied)) {
        repo = strdup(path);
    } else if (exists(path, "repo/config", &denied)) {
        repo = bkp_path_join(path, "repo");
    } else if (denied) {
        ex = EXIT_FAILED;
        goto out;
    } else {
        char *file = pick_archive(path, spec, &ex);
        ex = file ? open_archive(c, file, out, staging) : ex;
        free(file);
        goto out;
    }
    ex = open_folder(c, repo, out);
out:
    free(path);
    free(repo);
    return ex;
}

int cli_source_shown(const cli *c, const char *from, bkp_repo *r)
{
    char word[1100], pol[1100], args[2300];
    bkp_shell_word(word, sizeof(word), from);
    if (c->policy_file)
        bkp_shell_word(pol, sizeof(pol), c->policy_file);
    snprintf(args, sizeof(args), "--from %s%s%s", word, c->policy_file ? " --policy " : "",
             c->policy_file ? pol : "");
    /* The sheets that opened it, as given: whoever copies the hint has no
     * passphrase either. */
    for (int i = 0; i < c->nkey_from && strlen(args) + 20 < sizeof(args); i++)
        snprintf(args + strlen(args), sizeof(args) - strlen(args), " --key-from %s",
                 bkp_shell_word(word, sizeof(word), c->key_from[i]));
    return bkp_repo_set_shown(r, args) ? EXIT_FAILED : EXIT_OK;
}

int cli_open_source(cli *c, const cli_fetch_what *what, bkp_repo **out, char **staging)
{
    /* Whatever the source, --key-fingerprint holds for what was opened. */
    int ex = cli_key_pin(c);
    /* A generation's name is ASCII, as bkp_gen_resolve reads it: an
     * archive's too. */
    cli_fetch_what w = what ? *what : (cli_fetch_what){0};
    char *spec = w.spec ? strdup(w.spec) : NULL;
    if (w.spec && !spec)
        ex = EXIT_FAILED;
    if (spec)
        bkp_name_typed(spec);
    w.spec = spec;
    if (!ex)
        ex = open_source(c, what ? &w : NULL, out, staging);
    free(spec);
    if (!ex && *out && c->from)
        ex = cli_source_shown(c, c->from, *out);
    return ex || !*out ? ex : cli_key_pin_check(c, c->from, out);
}
