/*
 * beneath.h — folders inside a drill's sandbox, never outside it.
 *
 * A drill restores generations below its sandbox, and a generation may hold
 * symbolic links: an earlier step can lay down `evil -> /etc`, and a later
 * step's `to` may lead through it. So a target is never made or entered by
 * path: the sandbox is held as a directory descriptor, each component is
 * resolved beneath it by the kernel (openat2 with RESOLVE_BENEATH and
 * RESOLVE_NO_MAGICLINKS: a link may point elsewhere inside the sandbox, never
 * out of it, and an absolute link is refused), and a missing folder is made
 * with mkdirat in its parent so resolved — so nothing is created before the
 * check, because the check is the lookup itself. On a kernel without
 * openat2, each component is opened with O_NOFOLLOW instead (no link at all
 * is followed).
 */
#ifndef RST_BENEATH_H
#define RST_BENEATH_H

#include <sys/types.h>

/* Open the folder `rel` (relative, no "." or ".." components) beneath the
 * directory `boxfd`, creating what is missing with `mode` (applied exactly,
 * not through the umask). `*out` receives a descriptor (O_DIRECTORY,
 * close-on-exec) owned by the caller. 0; -EXDEV when the path leads out of
 * the sandbox (through a link, or an absolute link); -ELOOP when a link is on
 * the way and openat2 is not there; -EINVAL for a path with "." or ".."; or
 * the errno of the lookup or mkdir. Nothing is created outside `boxfd`. */
int rst_beneath_mkdir(int boxfd, const char *rel, mode_t mode, int *out)
    __attribute__((warn_unused_result));

#endif
