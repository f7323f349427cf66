/* cmdenv.c — the environment and user of an operator's command (cmdenv.h). */
#include "bkp/host/cmdenv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Names a command may inherit: they say how to speak and what time it is,
 * and carry nothing that steers a program elsewhere (PATH is ours, LD_* and
 * shell start-up variables never pass). */
static const char *const allowed[] = {"LANG", "LANGUAGE", "TZ",     "HOME",
                                      "USER", "LOGNAME",  "TMPDIR", NULL};

/* The length of NAME in "NAME=value"; 0 when there is no '=' or no name. */
static size_t name_len(const char *e)
{
    const char *eq = strchr(e, '=');
    return eq && eq != e ? (size_t)(eq - e) : 0;
}

static bool named(const char *e, size_t n, const char *name)
{
    return strlen(name) == n && !strncmp(e, name, n);
}

bool bkp_cmdenv_secret(const char *entry)
{
    return !strncmp(entry, "BKP_PASSPHRASE", strlen("BKP_PASSPHRASE"));
}

static bool inheritable(const char *e, size_t n, bool as_user)
{
    if (n > 3 && !strncmp(e, "LC_", 3))
        return true;
    if (as_user && (named(e, n, "HOME") || named(e, n, "USER") || named(e, n, "LOGNAME") ||
                    named(e, n, "TMPDIR")))
        return false;
    for (size_t i = 0; allowed[i]; i++)
        if (named(e, n, allowed[i]))
            return true;
    return false;
}

typedef struct envb {
    char **v;
    size_t n, cap;
} envb;

/* Set "NAME=value" (copied), replacing an entry of the same name. */
static int put(envb *b, const char *e)
{
    size_t n = name_len(e);
    char *copy = strdup(e);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < b->n; i++)
        if (name_len(b->v[i]) == n && !strncmp(b->v[i], e, n)) {
            free(b->v[i]);
            b->v[i] = copy;
            return 0;
        }
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 32;
        char **v = realloc(b->v, cap * sizeof(*v));
        if (!v) {
            free(copy);
            return -ENOMEM;
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = copy;
    b->v[b->n] = NULL;
    return 0;
}

static int put2(envb *b, const char *name, const char *value)
{
    char *e = NULL;
    if (asprintf(&e, "%s=%s", name, value ? value : "") < 0)
        return -ENOMEM;
    int rc = put(b, e);
    free(e);
    return rc;
}

int bkp_cmdenv_build(char *const *inherited, char *const *extra, size_t nextra,
                     const bkp_cmd_user *user, char ***out, size_t *dropped)
{
    envb b = {0};
    size_t secrets = 0;
    int rc = 0;
    for (size_t i = 0; !rc && inherited && inherited[i]; i++) {
        size_t n = name_len(inherited[i]);
        if (n && inheritable(inherited[i], n, user != NULL))
            rc = put(&b, inherited[i]);
    }
    if (!rc)
        rc = put2(&b, "PATH", BKP_CMD_PATH);
    if (!rc && user)
        if (!(rc = put2(&b, "HOME", user->home && *user->home ? user->home : "/")) &&
            !(rc = put2(&b, "USER", user->name)))
            rc = put2(&b, "LOGNAME", user->name);
    for (size_t i = 0; !rc && i < nextra; i++) {
        if (!name_len(extra[i]))
            continue;
        if (bkp_cmdenv_secret(extra[i])) {
            secrets++;
            continue;
        }
        rc = put(&b, extra[i]);
    }
    if (!rc && !b.v) { /* nothing at all: still a valid, empty environment */
        if (!(b.v = calloc(1, sizeof(*b.v))))
            rc = -ENOMEM;
    }
    if (rc) {
        bkp_cmdenv_free(b.v);
        return rc;
    }
    if (dropped)
        *dropped = secrets;
    *out = b.v;
    return 0;
}

int bkp_cmdenv_without_secrets(char *const *env, char ***out)
{
    size_t n = 0, k = 0;
    while (env && env[n])
        n++;
    char **v = calloc(n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (bkp_cmdenv_secret(env[i]))
            continue;
        if (!(v[k++] = strdup(env[i]))) {
            bkp_cmdenv_free(v);
            return -ENOMEM;
        }
    }
    *out = v;
    return 0;
}

void bkp_cmdenv_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

bool bkp_cmd_user_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (!n || n > 32 || name[0] == '-')
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int bkp_cmd_user_lookup(const char *name, bkp_cmd_user *out)
{
    if (!bkp_cmd_user_name_ok(name))
        return -EINVAL;
    long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t blen = sz > 0 ? (size_t)sz : 16384;
    char *buf = malloc(blen);
    struct passwd pw, *found = NULL;
    bkp_cmd_user u = {0};
    int rc;
    if (!buf)
        return -ENOMEM;
    rc = getpwnam_r(name, &pw, buf, blen, &found);
    if (rc || !found) {
        free(buf);
        return rc == ENOMEM || rc == ERANGE ? -ENOMEM : -ENOENT;
    }
    u.uid = pw.pw_uid;
    u.gid = pw.pw_gid;
    u.name = strdup(pw.pw_name);
    u.home = strdup(pw.pw_dir ? pw.pw_dir : "/");
    /* The supplementary groups, as initgroups would set them. */
    int ng = 32;
    for (int tries = 0; tries < 8; tries++) {
        gid_t *g = realloc(u.groups, (size_t)ng * sizeof(*g));
        if (!g)
            break;
        u.groups = g;
        int want = ng;
        if (getgrouplist(pw.pw_name, pw.pw_gid, u.groups, &want) >= 0) {
            u.ngroups = (size_t)want;
            break;
        }
        ng = want > ng ? want : 2 * ng;
    }
    struct group gr, *gfound = NULL;
    if (!getgrgid_r(pw.pw_gid, &gr, buf, blen, &gfound) && gfound && gr.gr_name[0] &&
        !(u.group = strdup(gr.gr_name))) {
        free(buf);
        bkp_cmd_user_clear(&u);
        return -ENOMEM;
    }
    free(buf);
    if (!u.name || !u.home || !u.groups || !u.ngroups) {
        bkp_cmd_user_clear(&u);
        return -ENOMEM;
    }
    *out = u;
    return 0;
}

void bkp_cmd_user_clear(bkp_cmd_user *u)
{
    if (!u)
        return;
    free(u->groups);
    free(u->name);
    free(u->home);
    free(u->group);
    memset(u, 0, sizeof(*u));
}

bool bkp_cmd_find(const char *prog, char *out, size_t size)
{
    for (const char *p = BKP_CMD_PATH; *p;) {
        size_t n = strcspn(p, ":");
        int len = snprintf(out, size, "%.*s/%s", (int)n, p, prog);
        if (len > 0 && (size_t)len < size && access(out, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

bool bkp_cmd_pipeline_unchecked(const char *command)
{
    return strchr(command, '|') && !strstr(command, "pipefail");
}
