#include "bkp/lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkp/durable.h"
#include "bkp/log.h"

struct bkp_lock {
    int fd;
    char *path;
};

/* Locks of dead holders this process took over or removed: audit records. */
#define MAX_TAKEOVERS 16
static char *takeovers[MAX_TAKEOVERS];
static size_t ntakeovers;

static void note_takeover(const char *name, const char *desc)
{
    char *s = NULL;
    if (ntakeovers < MAX_TAKEOVERS && asprintf(&s, "%s: %s", name, desc) >= 0)
        takeovers[ntakeovers++] = s;
}

size_t bkp_lock_takeovers(const char *const **out)
{
    *out = (const char *const *)takeovers;
    return ntakeovers;
}

static void describe(const char *text, char *out, size_t n)
{
    snprintf(out, n, "%s", text);
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

/*
 * Alive unless we can show it is dead. Another host's lock is never judged.
 * On this host the flock decides: it dies with its holder, while a pid can
 * be reused (a container that always runs as the same pid). A lock whose
 * flock we obtain here stays flocked by us until `fd` is closed.
 */
static bool holder_alive(int fd)
{
    char buf[512] = "", host[256] = "", myhost[256] = "";
    long pid = 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n > 0)
        buf[n] = '\0';
    gethostname(myhost, sizeof(myhost) - 1);
    if (sscanf(buf, "host=%255s pid=%ld", host, &pid) == 2 && strcmp(host, myhost) != 0)
        return true;
    return flock(fd, LOCK_EX | LOCK_NB) != 0;
}

/* Remove `path` only if it still is the file open as `fd`: never someone's
 * newer lock that took its place. */
static void unlink_if_same(const char *path, int fd)
{
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        unlink(path);
}

/* A lock appears complete or not at all: written and flocked under a
 * temporary name, then link()ed to its name (which fails if it exists). */
static int publish(const char *dir, const char *path, const char *command, int *out)
{
    char host[256] = "", text[1024], when[32], tmpname[64];
    struct passwd *pw = getpwuid(getuid());
    time_t now = time(NULL);
    gethostname(host, sizeof(host) - 1);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    int len = snprintf(text, sizeof(text), "host=%s pid=%ld user=%s time=%s command=%s\n", host,
                       (long)getpid(), pw ? pw->pw_name : "?", when, command);
    snprintf(tmpname, sizeof(tmpname), ".tmp-lock-%ld-%ld", (long)getpid(), (long)now);
    char *tmp = bkp_path_join(dir, tmpname);
    if (!tmp)
        return -ENOMEM;
    unlink(tmp);
    /* 0644: a lock names who holds it, nothing secret, and every user of the
     * repository must be able to read it (an unreadable lock counts as held). */
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : 0;
    if (!rc && flock(fd, LOCK_EX | LOCK_NB) != 0)
        rc = -errno;
    if (!rc)
        rc = bkp_write_full(fd, text, (size_t)len);
    if (!rc && fsync(fd) < 0)
        rc = -errno;
    if (!rc && link(tmp, path) < 0)
        rc = -errno;
    unlink(tmp);
    free(tmp);
    if (rc) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    (void)bkp_fsync_dir(dir);
    *out = fd;
    return 0;
}

int bkp_lock_take(const char *repo, const char *name, const char *command, bkp_lock **out)
{
    char *dir = bkp_path_join(repo, "locks");
    char *path = dir ? bkp_path_join(dir, name) : NULL;
    int rc = -EBUSY;
    if (!path) {
        free(dir);
        return -ENOMEM;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd;
        rc = publish(dir, path, command, &fd);
        if (!rc) {
            bkp_lock *l = malloc(sizeof(*l));
            if (!l) {
                unlink_if_same(path, fd);
                close(fd);
                rc = -ENOMEM;
                break;
            }
            l->fd = fd;
            l->path = path;
            path = NULL;
            *out = l;
            break;
        }
        if (rc != -EEXIST) {
            bkp_error("cannot create the lock %s: %s", path, bkp_strerror(rc));
            break;
        }
        rc = -EBUSY;
        int old = open(path, O_RDONLY | O_CLOEXEC);
        if (old < 0) {
            if (errno == ENOENT)
                continue; /* released meanwhile: try again */
            bkp_error("cannot read the lock %s (%s), so it counts as held; check its owner and "
                      "permissions",
                      path, strerror(errno));
            break;
        }
        char buf[512] = "", desc[512];
        ssize_t n = pread(old, buf, sizeof(buf) - 1, 0);
        if (n > 0)
            buf[n] = '\0';
        describe(buf, desc, sizeof(desc));
        if (holder_alive(old)) {
            close(old);
            bkp_error("another bkp holds the %s lock (%s); wait for it to finish. If you are sure "
                      "it is gone, remove %s",
                      name, desc, path);
            break;
        }
        bkp_warn("taking over the %s lock of a process that is gone (%s)", name, desc);
        note_takeover(name, desc);
        unlink_if_same(path, old);
        close(old);
    }
    free(path);
    free(dir);
    return rc;
}

/* Is lock file `name` held by a live process? Stale ones are removed, with a
 * warning; one that cannot be read counts as held. */
static bool held(const char *dir, const char *name, char *desc, size_t n)
{
    char *path = bkp_path_join(dir, name);
    char buf[512] = "";
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    bool alive = false;
    if (fd < 0) {
        alive = path && errno != ENOENT;
        if (alive)
            snprintf(desc, n, "%s cannot be read: %s", name, strerror(errno));
    } else {
        ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
        if (k > 0)
            buf[k] = '\0';
        describe(buf, desc, n);
        alive = holder_alive(fd);
        if (!alive) {
            bkp_warn("removing the lock %s of a process that is gone (%s)", name, desc);
            note_takeover(name, desc);
            unlink_if_same(path, fd);
        }
        close(fd);
    }
    free(path);
    return alive;
}

bool bkp_lock_is_held(const char *repo, const char *name)
{
    char desc[512];
    char *dir = bkp_path_join(repo, "locks");
    bool h = dir && held(dir, name, desc, sizeof(desc));
    free(dir);
    return h;
}

int bkp_lock_writer(const char *repo, const char *command, bkp_lock **out)
{
    char name[320], host[256] = "", desc[512];
    gethostname(host, sizeof(host) - 1);
    for (char *c = host; *c; c++)
        if (*c == '/')
            *c = '_';
    snprintf(name, sizeof(name), "write-%s-%ld", host, (long)getpid());
    int rc = bkp_lock_take(repo, name, command, out);
    if (rc)
        return rc;
    char *dir = bkp_path_join(repo, "locks");
    bool busy = dir && held(dir, "prune", desc, sizeof(desc));
    /* Writer locks of writers killed on this host go now (held() removes
     * the stale ones); live ones and other hosts' stay. */
    DIR *d = dir && !busy ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "write-", 6) && strcmp(e->d_name, name) != 0)
            (void)held(dir, e->d_name, desc, sizeof(desc));
    if (d)
        closedir(d);
    free(dir);
    if (busy) {
        bkp_error("prune is running (%s); try again when it has finished", desc);
        bkp_lock_release(*out);
        *out = NULL;
        return -EBUSY;
    }
    return 0;
}

int bkp_lock_prune(const char *repo, const char *command, bkp_lock **out)
{
    return bkp_lock_prune_after(repo, command, NULL, out);
}

int bkp_lock_prune_after(const char *repo, const char *command, const bkp_lock *self,
                         bkp_lock **out)
{
    char desc[512];
    const char *own = self ? strrchr(self->path, '/') + 1 : "";
    int rc = bkp_lock_take(repo, "prune", command, out);
    if (rc)
        return rc;
    char *dir = bkp_path_join(repo, "locks");
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "write-", 6) != 0 || !strcmp(e->d_name, own) ||
            !held(dir, e->d_name, desc, sizeof(desc)))
            continue;
        bkp_error("a backup is writing to the repository (%s); prune waits for no one and changes "
                  "nothing: run it again when the backup has finished",
                  desc);
        rc = -EBUSY;
        break;
    }
    if (d)
        closedir(d);
    free(dir);
    if (rc) {
        bkp_lock_release(*out);
        *out = NULL;
    }
    return rc;
}

void bkp_lock_release(bkp_lock *l)
{
    if (!l)
        return;
    unlink_if_same(l->path, l->fd);
    close(l->fd);
    free(l->path);
    free(l);
}
