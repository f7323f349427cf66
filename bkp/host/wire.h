/*
 * wire.h — the agent's protocol (FORMAT.md §9e): what `bkp agent`, on a
 * source server, answers over SSH to the backup server that asked.
 *
 * The backup server's request is the command line of the SSH session; the
 * source's sshd hands it to the agent (the forced command of the backup
 * server's key) in SSH_ORIGINAL_COMMAND: `hello`, `run NAME`, or `tree
 * [-x] [-e PATTERN]… PATH…` (bkp_wire_tree). Nothing else is a request,
 * and nothing of it is given to a shell.
 *
 * The agent answers on its standard output with frames: one byte of type,
 * the payload's length in four bytes (big-endian, at most BKP_WIRE_MAX),
 * then the payload.
 *
 *   'H' hello    JSON: protocol (1), the agent's version, the trees it may
 *                read and the names of the commands it may run. First.
 *   'D' data     the next bytes of the command's standard output, or of
 *                the trees' pax archive (bkp/capture/pax.h).
 *   'Z' data     the same, LZ4-compressed: four bytes of their length
 *                (big-endian, at most BKP_WIRE_DATA), then an LZ4 block.
 *                The agent sends it where it is smaller (a dump's text
 *                crosses in a third of its bytes).
 *   'E' end      JSON: how the command ended. Last of a `run`.
 *   'R' refused  JSON: why the request is not served. Last.
 *
 * What the command writes to its standard error, and the agent's own
 * messages, go to the session's standard error: for people, never parsed.
 *
 * Both ends check everything: the backup server trusts nothing a source
 * sends beyond "these are the bytes of the file" (a source may be the
 * attacker's), and decodes each payload into a typed value here, bounded.
 */
#ifndef BKP_WIRE_H
#define BKP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BKP_WIRE_PROTOCOL 1
#define BKP_WIRE_MAX (1U << 20)   /* the largest payload */
#define BKP_WIRE_DATA (64U << 10) /* what the agent puts in one data frame */
#define BKP_WIRE_HEADER 5

enum {
    BKP_WIRE_HELLO = 'H',
    BKP_WIRE_DATA_FRAME = 'D',
    BKP_WIRE_DATA_LZ4 = 'Z',
    BKP_WIRE_END = 'E',
    BKP_WIRE_REFUSED = 'R',
    BKP_WIRE_STAMPS = 'C', /* the other way: the backup server's, on the agent's input */
};

/* One frame as received: its payload in a buffer of the frame's own,
 * reused from one frame to the next (bkp_wire_frame_clear frees it). */
typedef struct bkp_wire_frame {
    int type;
    uint32_t len;
    uint8_t *data;
    /* The header's bytes as read, also when they were no header (-EPROTO):
     * what answered instead of an agent begins there. */
    uint8_t head[BKP_WIRE_HEADER];
} bkp_wire_frame;

/* The header `h` into its type and length: 0, or -EPROTO for a type this
 * protocol has not or a length over BKP_WIRE_MAX. */
int bkp_wire_header(const uint8_t h[BKP_WIRE_HEADER], int *type, uint32_t *len);

/* The header of a frame of `type` and `len` bytes into `h`: 0, or -EINVAL. */
int bkp_wire_head(uint8_t h[BKP_WIRE_HEADER], int type, size_t len);
/* Send one frame on `fd` (blocking, whole): 0 or a negative errno. */
int bkp_wire_send(int fd, int type, const void *payload, size_t len)
    __attribute__((warn_unused_result));

/* Receive the next frame from `fd` (blocking): 0; 1 at the end of the
 * stream before a frame began; -EPROTO (a bad header), -EPIPE (the stream
 * ended inside a frame) or another negative errno. */
int bkp_wire_recv(int fd, bkp_wire_frame *f) __attribute__((warn_unused_result));
/* The same, -ETIME when no byte came for `idle_ms` (0: wait as long as it
 * takes), before the frame or inside it. */
int bkp_wire_recv_within(int fd, bkp_wire_frame *f, int idle_ms)
    __attribute__((warn_unused_result));
void bkp_wire_frame_clear(bkp_wire_frame *f);

/* A path a hello may name: absolute, at most 4095 bytes, no control
 * character. */
bool bkp_wire_path_ok(const char *path);

/* The agent's hello. Paths are absolute (at most 4095 bytes, no control
 * character), names as data set names are (layout.h), at most
 * BKP_WIRE_LIST of each; the version is printable, at most 31 bytes. */
#define BKP_WIRE_LIST 256
typedef struct bkp_wire_hello {
    int protocol;
    char version[32];
    char **read; /* owned */
    size_t nread;
    char **commands; /* owned */
    size_t ncommands;
    /* Whether the agent looked at its folders (its answer to a plain
     * `hello`, which `bkp host check` sends; an agent before this was said
     * never does), and if so, of `read`, those its user cannot enter and
     * those that are not there. */
    bool checked;
    char **unreadable, **missing; /* owned */
    size_t nunreadable, nmissing;
} bkp_wire_hello;
/* Parse `len` bytes: 0 or -EBADMSG (`out` then empty). */
int bkp_wire_hello_parse(const void *buf, size_t len, bkp_wire_hello *out);
/* Its payload (malloc'd, `*len` bytes), NULL without memory. */
char *bkp_wire_hello_emit(const bkp_wire_hello *h, size_t *len);
void bkp_wire_hello_clear(bkp_wire_hello *h);

/* A path a walk left out, and why (in English). */
typedef struct bkp_wire_left {
    char *path;  /* its bytes (on the wire as text: bkp_bytes_text, text.h) */
    char *error; /* one line, no control character */
} bkp_wire_left;

/* The most paths a walk's end names; the rest are counted. */
#define BKP_WIRE_LEFT_MAX 1000

/* How a run's command ended, or a tree's walk: a walk "exits" 0,
 * `unreadable` counts the paths it could not read and left out, and `left`
 * names the first BKP_WIRE_LEFT_MAX of them (an earlier agent names none:
 * its session's standard error did). */
typedef struct bkp_wire_end {
    int exit_code; /* -1 when it did not exit */
    int signal;    /* 0 when it was not ended by one */
    bool timed_out, left_running, held_open;
    uint64_t unreadable; /* at most 2^53 */
    bkp_wire_left *left; /* at most `unreadable` of them; owned */
    size_t nleft;
    size_t left_bytes; /* what they take in the frame, as JSON writes them */
} bkp_wire_end;
int bkp_wire_end_parse(const void *buf, size_t len, bkp_wire_end *out);
char *bkp_wire_end_emit(const bkp_wire_end *e, size_t *len);
/* Name path `path` (bytes) as left out for `error` (made one line) in
 * `e`, the count aside: 0 (one past BKP_WIRE_LEFT_MAX, or past half a
 * frame of names as JSON writes them, is counted only) or -ENOMEM. */
int bkp_wire_end_left(bkp_wire_end *e, const char *path, const char *error);
void bkp_wire_end_clear(bkp_wire_end *e);

/* The bytes of data frame `f` (D or Z) into `out` (BKP_WIRE_DATA bytes):
 * their length, or -EBADMSG for a Z frame that does not decompress to
 * exactly the length it declares, or declares more than BKP_WIRE_DATA. */
int bkp_wire_data(const bkp_wire_frame *f, uint8_t *out);
/* Send `len` (at most BKP_WIRE_DATA) bytes as a Z frame when LZ4 makes
 * them smaller by a tenth, else as a D frame. */
int bkp_wire_send_data(int fd, const void *buf, size_t len) __attribute__((warn_unused_result));

/* A request for trees: every path below each of `paths` (absolute,
 * bkp_wire_path_ok, sorted as a walk reaches them, none below another),
 * `one_fs` not crossing mount points, what matches one of `exclude`
 * (shell patterns as walk.h takes them) left out. At most BKP_WIRE_LIST
 * of each. On the command line each is one word, its bytes outside
 * printable ASCII, and '%', written %XX (two upper-case hex digits):
 *   tree [-c] [-x] [-e PATTERN]… PATH…
 * Both ends keep this one grammar: the backup server writes it, the agent
 * reads it strictly (a byte not so written, an empty word, a pattern that
 * holds a control byte: not a request). */
typedef struct bkp_wire_tree {
    bool stamps; /* -c: the backup server sends what it holds (bkp_wire_stamp) */
    bool one_fs;
    char **paths; /* owned */
    size_t npaths;
    char **exclude; /* owned */
    size_t nexclude;
} bkp_wire_tree;
/* The request's line (malloc'd), or NULL for a tree of no path, a path or
 * pattern that is not one, a line over BKP_WIRE_REQUEST bytes, or without
 * memory. */
#define BKP_WIRE_REQUEST (64U << 10)
char *bkp_wire_tree_request(const bkp_wire_tree *t);
/* `request` read: 0, or -EBADMSG (`out` then empty). */
int bkp_wire_tree_parse(const char *request, bkp_wire_tree *out);
void bkp_wire_tree_clear(bkp_wire_tree *t);

/* What the backup server holds of a regular file below the paths of a
 * tree request with -c: on the agent's standard input, frames of type
 * BKP_WIRE_STAMPS, each a run of whole records, then the input's end. A
 * record: the path's length (4 bytes, 1 to 4095), the path (absolute, no
 * NUL), the size, mtime and ctime (nanoseconds, signed) in 8 bytes each,
 * the mode in 4; little-endian, as the repository's records. Paths rise in
 * walk order from record to record. A file whose stat is the same the
 * agent sends without its bytes (pax.h, BKP_PAX_UNCHANGED). */
typedef struct bkp_wire_stamp {
    const char *path; /* not NUL-terminated: `plen` bytes */
    uint32_t plen;
    uint64_t size;
    int64_t mtime, ctime;
    uint32_t mode;
} bkp_wire_stamp;
struct bkp_buf;
struct bkp_rd;
void bkp_wire_stamp_put(struct bkp_buf *b, const bkp_wire_stamp *s);
/* The next record of `r`: 1; 0 when `r` is at its end; -EBADMSG for one
 * out of shape (`r` is then spent). The order is the reader's to keep. */
int bkp_wire_stamp_get(struct bkp_rd *r, bkp_wire_stamp *s);

/* Why a request was refused: a sentence for people, made safe for a log
 * (text.h), cut to `size` bytes; in Japanese when `japanese` and the agent
 * said it so too (an agent before that says English only). */
int bkp_wire_refused_parse(const void *buf, size_t len, bool japanese, char *why, size_t size);
/* `why_ja` may be NULL. */
char *bkp_wire_refused_emit(const char *why, const char *why_ja, size_t *len);

#endif
