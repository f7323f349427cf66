#include "bkp/lock.h"

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

int bkp_lock_take(bkp_repo *r, const char *name, const char *command, bkp_lock **out)
{
    char *dir = bkp_repo_subpath(r, "locks");
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

void bkp_lock_release(bkp_lock *l)
{
    if (!l)
        return;
    unlink(l->path);
    close(l->fd);
    free(l->path);
    free(l);
}
