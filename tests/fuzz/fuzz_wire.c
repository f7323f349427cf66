/* Fuzz target: what a source server sends the backup server (wire.h), and
 * the records the backup server sends the agent (frame C). The bytes are
 * read as a connection is, frame by frame through a descriptor; every
 * payload is given to the parser of its type.
 * Whatever is accepted is within the limits the protocol promises, and
 * says the same once emitted and parsed again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bkp/host/wire.h"
#include "bkp/io/bytes.h"
#include "bkp/store/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Do lists `a` and `b` of `n` strings hold the same, in order? */
static bool same_list(char *const *a, char *const *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i], b[i]))
            return false;
    return true;
}

static void hello(const bkp_wire_frame *f)
{
    bkp_wire_hello h, again;
    if (bkp_wire_hello_parse(f->data, f->len, &h))
        return;
    if (h.nread > BKP_WIRE_LIST || h.ncommands > BKP_WIRE_LIST ||
        h.nunreadable > BKP_WIRE_LIST || h.nmissing > BKP_WIRE_LIST)
        abort();
    for (size_t i = 0; i < h.nread; i++)
        if (h.read[i][0] != '/')
            abort(); /* a relative path accepted */
    for (size_t i = 0; i < h.ncommands; i++)
        if (!bkp_dataset_name_ok(h.commands[i]))
            abort(); /* a name that could be a path or an option */
    size_t len;
    char *s = bkp_wire_hello_emit(&h, &len);
    if (s) {
        if (bkp_wire_hello_parse(s, len, &again) || again.nread != h.nread ||
            again.ncommands != h.ncommands || strcmp(again.version, h.version) ||
            again.checked != h.checked || again.nunreadable != h.nunreadable ||
            again.nmissing != h.nmissing ||
            !same_list(again.read, h.read, h.nread) ||
            !same_list(again.commands, h.commands, h.ncommands) ||
            !same_list(again.unreadable, h.unreadable, h.nunreadable) ||
            !same_list(again.missing, h.missing, h.nmissing))
            abort(); /* what we emit we must read back the same */
        bkp_wire_hello_clear(&again);
    }
    free(s);
    bkp_wire_hello_clear(&h);
}

/* What the agent reads on its standard input: the backup server's
 * records, each absolute, without a NUL, of a length in range; one out of
 * shape spends the frame. */
static void stamps(const bkp_wire_frame *f)
{
    bkp_rd r;
    bkp_wire_stamp s;
    int rc;
    bkp_rd_init(&r, f->data, f->len);
    while ((rc = bkp_wire_stamp_get(&r, &s)) > 0)
        if (s.plen < 1 || s.plen > 4095 || s.path[0] != '/' || memchr(s.path, 0, s.plen))
            abort();
    if (rc < 0 && (r.left || bkp_wire_stamp_get(&r, &s) != 0))
        abort(); /* a broken record must end the frame */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("wire", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return 0;
    }
    bkp_wire_frame f = {0};
    bkp_wire_end e;
    static uint8_t plain[BKP_WIRE_DATA];
    char why[64];
    while (bkp_wire_recv(fd, &f) == 0) {
        if (f.len > BKP_WIRE_MAX)
            abort();
        if (f.type == BKP_WIRE_HELLO)
            hello(&f);
        else if (f.type == BKP_WIRE_DATA_FRAME || f.type == BKP_WIRE_DATA_LZ4) {
            int n = bkp_wire_data(&f, plain);
            if (n > (int)BKP_WIRE_DATA)
                abort(); /* more than a data frame may hold */
        } else if (f.type == BKP_WIRE_END && bkp_wire_end_parse(f.data, f.len, &e) == 0) {
            if (e.exit_code < -1 || e.exit_code > 255 || e.signal < 0 || e.signal > 128 ||
                e.nleft > e.unreadable || e.nleft > BKP_WIRE_LEFT_MAX)
                abort();
            for (size_t i = 0; i < e.nleft; i++)
                if (!e.left[i].path || !e.left[i].error)
                    abort();
            bkp_wire_end_clear(&e);
        } else if (f.type == BKP_WIRE_STAMPS)
            stamps(&f);
        else if (f.type == BKP_WIRE_REFUSED &&
                 bkp_wire_refused_parse(f.data, f.len, f.len & 1, why, sizeof(why)) == 0)
            for (const char *p = why; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                    abort(); /* a control byte for the log */
    }
    bkp_wire_frame_clear(&f);
    close(fd);
    return 0;
}
