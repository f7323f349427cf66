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
#include <time.h>
#include <unistd.h>

#include "bkp/durable.h"
#include "bkp/log.h"

struct bkp_lock {
    int fd;
    char *path;
};

static void describe(const char *text, char *out, size_t n)
{
    snprintf(out, n, "%s", text);
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

/* Alive unless we can show it is dead: same host, pid gone, flock free. */
static bool holder_alive(const char *path, int fd)
{
    char buf[512] = "", host[256] = "", myhost[256] = "";
    long pid = 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n > 0)
        buf[n] = '\0';
    if (sscanf(buf, "host=%255s pid=%ld", host, &pid) != 2)
        return flock(fd, LOCK_EX | LOCK_NB) != 0; /* half-written: judge by the flock */
    gethostname(myhost, sizeof(myhost) - 1);
    if (strcmp(host, myhost) != 0)
        return true; /* another host's: never guessed */
    if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
        return true;
    (void)path;
    return flock(fd, LOCK_EX | LOCK_NB) != 0;
}

int bkp_lock_take(const char *repo, const char *name, const char *command, bkp_lock **out)
{
    char *dir = bkp_path_join(repo, "locks");
    char *path = dir ? bkp_path_join(dir, name) : NULL;
    int rc = 0;
    if (!path) {
        free(dir);
        return -ENOMEM;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            char host[256] = "", text[1024], when[32];
            struct passwd *pw = getpwuid(getuid());
            time_t now = time(NULL);
            gethostname(host, sizeof(host) - 1);
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
            int len = snprintf(text, sizeof(text), "host=%s pid=%ld user=%s time=%s command=%s\n", host,
                               (long)getpid(), pw ? pw->pw_name : "?", when, command);
            rc = flock(fd, LOCK_EX | LOCK_NB) != 0 ? -errno : bkp_write_full(fd, text, (size_t)len);
            if (!rc && fsync(fd) < 0)
                rc = -errno;
            if (rc) {
                bkp_error("cannot write the lock %s: %s", path, bkp_strerror(rc));
                close(fd);
                unlink(path);
                break;
            }
            (void)bkp_fsync_dir(dir);
            bkp_lock *l = malloc(sizeof(*l));
            if (!l) {
                close(fd);
                unlink(path);
                rc = -ENOMEM;
                break;
            }
            l->fd = fd;
            l->path = path;
            path = NULL;
            *out = l;
            rc = 0;
            break;
        }
        if (errno != EEXIST) {
            rc = -errno;
            bkp_error("cannot create the lock %s: %s", path, bkp_strerror(rc));
            break;
        }
        int old = open(path, O_RDWR | O_CLOEXEC);
        if (old < 0)
            continue; /* released meanwhile: try again */
        char buf[512] = "", desc[512];
        ssize_t n = pread(old, buf, sizeof(buf) - 1, 0);
        if (n > 0)
            buf[n] = '\0';
        describe(buf, desc, sizeof(desc));
        if (holder_alive(path, old)) {
            close(old);
            bkp_error("another bkp holds the %s lock (%s); wait for it to finish. If you are sure "
                      "it is gone, remove %s",
                      name, desc, path);
            rc = -EBUSY;
            break;
        }
        bkp_warn("taking over the %s lock of a process that is gone (%s)", name, desc);
        unlink(path);
        close(old);
        rc = -EBUSY;
    }
    free(path);
    free(dir);
    return rc;
}

/* Is lock file `name` held by a live process? Stale ones are removed, with a
 * warning; `desc` receives the holder's description. */
static bool held(const char *dir, const char *name, char *desc, size_t n)
{
    char *path = bkp_path_join(dir, name);
    char buf[512] = "";
    int fd = path ? open(path, O_RDWR | O_CLOEXEC) : -1;
    bool alive = false;
    if (fd >= 0) {
        ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
        if (k > 0)
            buf[k] = '\0';
        describe(buf, desc, n);
        alive = holder_alive(path, fd);
        if (!alive) {
            bkp_warn("removing the lock %s of a process that is gone (%s)", name, desc);
            unlink(path);
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
    unlink(l->path);
    close(l->fd);
    free(l->path);
    free(l);
}
