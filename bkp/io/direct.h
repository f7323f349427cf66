/*
 * direct.h — streaming a large file to disk past the page cache.
 *
 * Bytes are gathered in an aligned buffer and written in whole buffers with
 * O_DIRECT, so a pack or a restored file of hundreds of megabytes costs no
 * copy into the page cache and does not push the machine's working set out
 * of it. The last, partial buffer is padded to the block size and the file
 * cut back to its length. Where the file system refuses O_DIRECT (tmpfs, some
 * FUSE and network file systems), the same buffers go through the page cache
 * and their writeback is started as they are written, so a final fsync finds
 * little left to do. A thread of the writer's own writes one buffer while
 * the caller fills the other, so the caller waits for the disk only when it
 * produces faster than the disk takes.
 *
 * The file is written from offset 0 in order. All functions return 0 or a
 * negative errno code; the first error is latched.
 */
#ifndef BKP_DIRECT_H
#define BKP_DIRECT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BKP_DIRECT_ALIGN 4096
#define BKP_DIRECT_BUFFER (4U << 20)

typedef struct bkp_direct {
    int fd;
    uint8_t *buf[2]; /* BKP_DIRECT_BUFFER bytes each, page-aligned */
    int cur;         /* the buffer being gathered; the other is the thread's */
    size_t fill;     /* bytes gathered in buf[cur] */
    uint64_t done;   /* file offset of buf[cur] */
    bool direct;     /* fd has O_DIRECT */
    bool padded;     /* a padded block went out before O_DIRECT was dropped */
    /* The writer thread: writes buf[!cur] (out_len bytes at out_off) while busy. */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready, running, busy, stop;
    size_t out_len;
    uint64_t out_off;
    int err; /* latched by the thread */
} bkp_direct;

/* Take two buffers and start the thread; the writer can then stream one file
 * after another. Free is a no-op on a zeroed struct. */
int bkp_direct_init(bkp_direct *d);
void bkp_direct_free(bkp_direct *d);

/* Start streaming to `fd` (open for writing, empty, positioned anywhere). */
void bkp_direct_start(bkp_direct *d, int fd);
int bkp_direct_write(bkp_direct *d, const void *p, size_t len);
/* Write what is gathered and leave the file exactly as long as what was
 * written; fd stays open, without O_DIRECT, for the caller to fsync or
 * close. */
int bkp_direct_end(bkp_direct *d);

#endif
