/*
 * test_wire.c — the agent's protocol and what the backup server checks of a
 * source: frames sent and received through a pipe, each payload parsed back
 * to what was emitted, and refused when out of shape (a size over the
 * limit, an unknown type, a frame cut short, a hello naming a path or a
 * name no agent may send, an end with a field missing); host keys as
 * ssh-keyscan prints them, with the fingerprint ssh-keygen -l shows;
 * addresses; the agent's configuration read strictly; and the agent
 * serving a request: a hello, a refusal for a command it does not list or
 * a request it does not know, and a command's output in data frames with
 * its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/host/remote.h"
#include "bkp/host/wire.h"
#include "bkp/io/bytes.h"
#include "bkp/ops/agent.h"
#include "policies/agent_config.h"

/* A file in memory holding what a test wrote, read back from its start. */
static int memfile(void)
{
    int fd = memfd_create("wire", MFD_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

static void rewind_fd(int fd)
{
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
}

static void test_frames(void **state)
{
    (void)state;
    int fd = memfile();
    bkp_wire_frame f = {0};
    assert_int_equal(bkp_wire_send(fd, BKP_WIRE_DATA_FRAME, "abc", 3), 0);
    assert_int_equal(bkp_wire_send(fd, BKP_WIRE_DATA_FRAME, "", 0), 0);
    assert_int_equal(bkp_wire_send(fd, 'Q', "x", 1), -EINVAL); /* no such type */
    rewind_fd(fd);
    assert_int_equal(bkp_wire_recv(fd, &f), 0);
    assert_int_equal(f.type, 'D');
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.data, "abc", 3);
    assert_int_equal(bkp_wire_recv(fd, &f), 0);
    assert_int_equal(f.len, 0);
    assert_int_equal(bkp_wire_recv(fd, &f), 1); /* the end, between frames */
    close(fd);

    /* Data that compresses crosses as a Z frame and comes back the same;
     * data that does not, as a D frame. */
    static uint8_t text[BKP_WIRE_DATA], noise[BKP_WIRE_DATA], back[BKP_WIRE_DATA];
    uint64_t x = 88172645463325252ULL; /* xorshift: bytes LZ4 cannot shrink */
    for (size_t i = 0; i < sizeof(text); i++) {
        text[i] = (uint8_t)("INSERT INTO patients VALUES (42, 'name');\n"[i % 42]);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (uint8_t)(x >> 32);
    }
    fd = memfile();
    assert_int_equal(bkp_wire_send_data(fd, text, sizeof(text)), 0);
    assert_int_equal(bkp_wire_send_data(fd, noise, sizeof(noise)), 0);
    rewind_fd(fd);
    assert_int_equal(bkp_wire_recv(fd, &f), 0);
    assert_int_equal(f.type, 'Z');
    assert_true(f.len < sizeof(text) / 4);
    assert_int_equal(bkp_wire_data(&f, back), (int)sizeof(text));
    assert_memory_equal(back, text, sizeof(text));
    assert_int_equal(bkp_wire_recv(fd, &f), 0);
    assert_int_equal(f.type, 'D');
    assert_int_equal(bkp_wire_data(&f, back), (int)sizeof(noise));
    assert_memory_equal(back, noise, sizeof(noise));
    close(fd);
    /* A Z frame that declares more than a data frame holds, or other than
     * it holds, is refused. */
    bkp_wire_frame z = {.type = 'Z', .len = 8, .data = (uint8_t *)"\x00\x01\x00\x01\x10\x41\x00\x00"};
    assert_int_equal(bkp_wire_data(&z, back), -EBADMSG);
    z.data = (uint8_t *)"\x00\x00\x00\x05\x10\x41\x00\x00";
    assert_int_equal(bkp_wire_data(&z, back), -EBADMSG);

    /* A size over the limit, an unknown type, a frame cut short. */
    static const struct {
        const char *bytes;
        size_t len;
        int rc;
    } bad[] = {{"D\x00\x10\x00\x01", 5, -EPROTO},
               {"Q\x00\x00\x00\x00", 5, -EPROTO},
               {"D\x00\x00\x00\x05" "ab", 7, -EPIPE},
               {"D\x00\x00", 3, -EPIPE}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        fd = memfile();
        assert_int_equal(write(fd, bad[i].bytes, bad[i].len), (ssize_t)bad[i].len);
        rewind_fd(fd);
        assert_int_equal(bkp_wire_recv(fd, &f), bad[i].rc);
        close(fd);
    }
    bkp_wire_frame_clear(&f);
}

static void test_hello(void **state)
{
    (void)state;
    char *read[] = {"/srv/emr", "/srv/scans 2026", NULL}, *cmds[] = {"emr-dump", NULL};
    bkp_wire_hello h = {.protocol = 1, .read = read, .nread = 2, .commands = cmds,
                        .ncommands = 1},
                   back;
    strcpy(h.version, "0.1.0");
    size_t len;
    char *s = bkp_wire_hello_emit(&h, &len);
    assert_non_null(s);
    assert_int_equal(bkp_wire_hello_parse(s, len, &back), 0);
    assert_int_equal(back.protocol, 1);
    assert_string_equal(back.version, "0.1.0");
    assert_int_equal(back.nread, 2);
    assert_string_equal(back.read[1], "/srv/scans 2026");
    assert_int_equal(back.ncommands, 1);
    assert_string_equal(back.commands[0], "emr-dump");
    assert_int_equal(back.nunreadable + back.nmissing, 0);
    assert_false(back.checked); /* not asked to look */
    bkp_wire_hello_clear(&back);
    free(s);
    /* The folders the agent cannot read, and those not there. */
    char *unreadable[] = {"/srv/scans 2026", NULL}, *missing[] = {"/srv/emr", NULL};
    h.checked = true;
    h.unreadable = unreadable;
    h.nunreadable = 1;
    h.missing = missing;
    h.nmissing = 1;
    assert_non_null(s = bkp_wire_hello_emit(&h, &len));
    assert_int_equal(bkp_wire_hello_parse(s, len, &back), 0);
    assert_true(back.checked);
    assert_int_equal(back.nunreadable, 1);
    assert_string_equal(back.unreadable[0], "/srv/scans 2026");
    assert_int_equal(back.nmissing, 1);
    assert_string_equal(back.missing[0], "/srv/emr");
    bkp_wire_hello_clear(&back);
    free(s);
    /* An agent before them says neither: none. */
    static const char old[] = "{\"protocol\":1,\"version\":\"1\",\"read\":[\"/a\"],\"commands\":[]}";
    assert_int_equal(bkp_wire_hello_parse(old, strlen(old), &back), 0);
    assert_int_equal(back.nunreadable + back.nmissing, 0);
    assert_false(back.checked); /* and said to be unchecked */
    bkp_wire_hello_clear(&back);

    static const char *const bad[] = {
        "{\"protocol\":1,\"version\":\"1\",\"read\":[\"relative\"],\"commands\":[]}",
        "{\"protocol\":1,\"version\":\"1\",\"read\":[],\"commands\":[\"../x\"]}",
        "{\"protocol\":1,\"version\":\"1\",\"read\":[\"/a\\nb\"],\"commands\":[]}",
        "{\"protocol\":1,\"version\":\"a b\",\"read\":[],\"commands\":[]}",
        "{\"protocol\":0,\"version\":\"1\",\"read\":[],\"commands\":[]}",
        "{\"protocol\":1,\"version\":\"1\",\"read\":[]}",
        "{\"protocol\":1,\"version\":\"1\",\"read\":[],\"commands\":[],\"unreadable\":[\"x\"]}",
        "{\"protocol\":1,\"version\":\"1\",\"read\":[],\"commands\":[],\"missing\":{}}",
        "{\"protocol\":1,\"protocol\":1,\"version\":\"1\",\"read\":[],\"commands\":[]}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(bkp_wire_hello_parse(bad[i], strlen(bad[i]), &back), -EBADMSG);
}

static void test_end_and_refused(void **state)
{
    (void)state;
    bkp_wire_end e = {.exit_code = 3, .signal = 0, .held_open = true}, back;
    size_t len;
    char *s = bkp_wire_end_emit(&e, &len);
    assert_int_equal(bkp_wire_end_parse(s, len, &back), 0);
    assert_int_equal(back.exit_code, 3);
    assert_true(back.held_open);
    assert_false(back.timed_out);
    free(s);
    static const char *const bad[] = {"{}", "{\"exit_code\":300,\"signal\":0,\"timed_out\":false,"
                                            "\"left_running\":false,\"held_open\":false}",
                                      "{\"exit_code\":0,\"signal\":0,\"timed_out\":1,"
                                      "\"left_running\":false,\"held_open\":false}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(bkp_wire_end_parse(bad[i], strlen(bad[i]), &back), -EBADMSG);
    /* A walk's end names the paths it left out, a name that is not UTF-8
     * as text; never more than it counts. */
    bkp_wire_end w = {.unreadable = 3};
    assert_int_equal(bkp_wire_end_left(&w, "/srv/a\xff", "Permission denied"), 0);
    assert_int_equal(bkp_wire_end_left(&w, "/srv/\xe3\x81", "it shrank while it was read"), 0);
    s = bkp_wire_end_emit(&w, &len);
    bkp_wire_end_clear(&w);
    assert_int_equal(bkp_wire_end_parse(s, len, &back), 0);
    free(s);
    assert_int_equal(back.unreadable, 3);
    assert_int_equal(back.nleft, 2);
    assert_string_equal(back.left[0].path, "/srv/a\xff"); /* its bytes again */
    assert_string_equal(back.left[0].error, "Permission denied");
    bkp_wire_end_clear(&back);
    /* Names fill no more than half a frame as JSON writes them (a control
     * byte takes six), whatever they are made of; the rest is counted. */
    static char longpath[4096];
    memset(longpath, '\x01', sizeof(longpath) - 1);
    longpath[0] = '/';
    w = (bkp_wire_end){.unreadable = 2000};
    for (int i = 0; i < 2000; i++)
        assert_int_equal(bkp_wire_end_left(&w, longpath, "Permission denied"), 0);
    assert_true(w.nleft > 0 && w.nleft < BKP_WIRE_LEFT_MAX);
    s = bkp_wire_end_emit(&w, &len);
    assert_true(s && len <= BKP_WIRE_MAX);
    free(s);
    bkp_wire_end_clear(&w);
    static const char *const over[] = {
        "{\"exit_code\":0,\"signal\":0,\"timed_out\":false,\"left_running\":false,"
        "\"held_open\":false,\"unreadable\":1,\"left_out\":[{\"path\":\"/a\",\"error\":\"x\"},"
        "{\"path\":\"/b\",\"error\":\"x\"}]}",
        "{\"exit_code\":0,\"signal\":0,\"timed_out\":false,\"left_running\":false,"
        "\"held_open\":false,\"unreadable\":1,\"left_out\":[{\"path\":\"/a\"}]}",
        "{\"exit_code\":0,\"signal\":0,\"timed_out\":false,\"left_running\":false,"
        "\"held_open\":false,\"unreadable\":1,\"left_out\":{}}",
        /* A reason of two lines: a line of its own forged into the log. */
        "{\"exit_code\":0,\"signal\":0,\"timed_out\":false,\"left_running\":false,"
        "\"held_open\":false,\"unreadable\":1,\"left_out\":[{\"path\":\"/a\",\"error\":"
        "\"x\\nbkp: scans:7 sealed\"}]}",
        /* A reason that would turn a terminal's text around (U+202E). */
        "{\"exit_code\":0,\"signal\":0,\"timed_out\":false,\"left_running\":false,"
        "\"held_open\":false,\"unreadable\":1,\"left_out\":[{\"path\":\"/a\",\"error\":"
        "\"x\u202ey\"}]}",
        /* A path that is no text of bytes, or not absolute. */
        "{\"exit_code\":0,\"signal\":0,\"timed_out\":false,\"left_running\":false,"
        "\"held_open\":false,\"unreadable\":1,\"left_out\":[{\"path\":\"/a\\\\x00\",\"error\":"
        "\"x\"}]}",
        "{\"exit_code\":0,\"signal\":0,\"timed_out\":false,\"left_running\":false,"
        "\"held_open\":false,\"unreadable\":1,\"left_out\":[{\"path\":\"a\",\"error\":"
        "\"x\"}]}"};
    for (size_t i = 0; i < sizeof(over) / sizeof(*over); i++)
        assert_int_equal(bkp_wire_end_parse(over[i], strlen(over[i]), &back), -EBADMSG);

    char why[16];
    s = bkp_wire_refused_emit("no\x1b[2Jsuch command, said at length", NULL, &len);
    assert_int_equal(bkp_wire_refused_parse(s, len, false, why, sizeof(why)), 0);
    assert_null(strchr(why, '\x1b')); /* a terminal's escape is made harmless */
    assert_true(strlen(why) < sizeof(why));
    assert_int_equal(bkp_wire_refused_parse(s, len, true, why, sizeof(why)), 0);
    assert_int_equal(strncmp(why, "no", 2), 0); /* no Japanese said: the English */
    free(s);
    /* Said in both: the reader's. */
    char both[64];
    s = bkp_wire_refused_emit("not listed", "\xe3\x81\x82\x1b[2J", &len);
    assert_int_equal(bkp_wire_refused_parse(s, len, false, both, sizeof(both)), 0);
    assert_string_equal(both, "not listed");
    assert_int_equal(bkp_wire_refused_parse(s, len, true, both, sizeof(both)), 0);
    assert_int_equal(strncmp(both, "\xe3\x81\x82", 3), 0);
    assert_null(strchr(both, '\x1b'));
    free(s);
}

static void test_host_keys(void **state)
{
    (void)state;
    static const char ed[] = "ssh-ed25519 "
                             "AAAAC3NzaC1lZDI1NTE5AAAAICFyBO79xZuAN6GekWxF3zHRX+umPFvoQy58zLY5oFGC";
    static const char ec[] =
        "ecdsa-sha2-nistp256 "
        "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJZSyn/hnX4U3P5/PdPSIDzfNTNAp7k14LZfRHQo4"
        "Ahxclud3J17208UXrU/+NjdQqny44hvKfZBS5tWKlsv9hA= x";
    char type[32], fp[80];
    assert_true(bkp_remote_host_key_ok(ed, type));
    assert_string_equal(type, "ssh-ed25519");
    assert_int_equal(bkp_remote_fingerprint(ed, fp, sizeof(fp)), 0);
    assert_string_equal(fp, "SHA256:hmnBpc9uXlNHEbCXs+DEZ+dfjWBhCX8pqCLjZiq2xYw");
    assert_true(bkp_remote_host_key_ok(ec, type));
    assert_string_equal(type, "ecdsa-sha2-nistp256");
    assert_int_equal(bkp_remote_fingerprint(ec, fp, sizeof(fp)), 0);
    assert_string_equal(fp, "SHA256:uauZhXA0MrPEJmIGOVu9kPb2rESFyMFhIHPlQgzCDUk");
    /* The type said must be the key's own; base64 must be base64. */
    static const char *const bad[] = {
        "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAICFyBO79xZuAN6GekWxF3zHRX+umPFvoQy58zLY5oFGC",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICFyBO79xZuAN6GekWxF3zHRX+umPFvoQy58zLY5oFG!",
        "ssh-dss AAAAB3NzaC1kc3M=", "ssh-ed25519", "", "ssh-ed25519  AAAA",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_false(bkp_remote_host_key_ok(bad[i], NULL));
    assert_true(bkp_remote_address_ok("10.0.0.12"));
    assert_true(bkp_remote_address_ok("emr-db.clinic.local"));
    assert_true(bkp_remote_address_ok("fe80::1"));
    assert_false(bkp_remote_address_ok("-oProxyCommand=x"));
    assert_false(bkp_remote_address_ok("a b"));
    assert_false(bkp_remote_address_ok(""));
}

static pol_agent *agent(const char *text)
{
    pol_agent *a = NULL;
    pol_agent_load_buffer("agent.yaml", (const uint8_t *)text, strlen(text), &a);
    return a;
}

static void test_agent_config(void **state)
{
    (void)state;
    pol_agent *a = agent("read: [/srv/emr]\n"
                         "commands:\n"
                         "  emr-dump: \"pg_dump -Fc emr\"\n"
                         "  scans: { command: \"tar -cf - /srv/scans\", timeout: 2h }\n");
    assert_non_null(a);
    assert_int_equal(a->nread, 1);
    assert_int_equal(a->ncommands, 2);
    assert_int_equal(pol_agent_command_find(a, "scans")->timeout, 7200);
    assert_int_equal(pol_agent_command_find(a, "emr-dump")->timeout, 86400);
    assert_null(pol_agent_command_find(a, "other"));
    pol_agent_free(a);
    static const char *const bad[] = {
        "read: [srv]\n",
        "read: [/srv/../etc]\n",
        "commands: { ../x: \"true\" }\n",
        "commands: { a: \"pg_dump emr | gzip\" }\n",
        "commands: [a]\n",
        "write: [/]\n",
        "commands: { a: { timeout: 2h } }\n",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_null(agent(bad[i]));
    /* As many folders as its hello can carry, and not one more; so many
     * bytes of them, and not more. */
    size_t cap = 20 * 4096;
    char *big = malloc(cap), *p;
    assert_non_null(big);
    for (int k = 0; k < 2; k++) {
        p = big + sprintf(big, "read:\n");
        for (int i = 0; i < POL_AGENT_LIST_MAX + k; i++)
            p += sprintf(p, "  - /srv/f%d\n", i);
        a = agent(big);
        assert_true(k ? a == NULL : a != NULL);
        pol_agent_free(a);
    }
    char folder[4001];
    memset(folder, 'x', sizeof(folder) - 1);
    folder[sizeof(folder) - 1] = '\0';
    for (int k = 0; k < 2; k++) {
        p = big + sprintf(big, "read:\n");
        /* 16 folders of 4 KB: 64 KB with their ends; 17 are more. */
        for (int i = 0; i < 16 + k; i++)
            p += sprintf(p, "  - /%.*s%02d\n", 4090 - 3, folder, i);
        a = agent(big);
        assert_true(k ? a == NULL : a != NULL);
        pol_agent_free(a);
    }
    free(big);

    /* The example shipped for a source server is valid. */
    char path[4096], text[8192];
    snprintf(path, sizeof(path), "%s/policies/examples/agent.yaml", BKP_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(a = agent(text));
    assert_non_null(pol_agent_command_find(a, "emr-dump"));
    pol_agent_free(a);
}

/* Serve `request` and read back the frames' types into `types`, the data
 * into `data`, the refusal into `why`. */
static void serve(const pol_agent *a, const char *request, int want, char *types, char *data,
                  char *why)
{
    int fd = memfile();
    bkp_wire_frame f = {0};
    assert_int_equal(ops_agent_serve(a, "9.9", request, fd), want);
    rewind_fd(fd);
    size_t nt = 0, nd = 0;
    while (bkp_wire_recv(fd, &f) == 0) {
        types[nt++] = (char)f.type;
        if (f.type == BKP_WIRE_DATA_FRAME || f.type == BKP_WIRE_DATA_LZ4) {
            static uint8_t plain[BKP_WIRE_DATA];
            int n = bkp_wire_data(&f, plain);
            assert_true(n >= 0 && nd + (size_t)n < 64);
            memcpy(data + nd, plain, (size_t)n);
            nd += (size_t)n;
        }
        if (f.type == BKP_WIRE_REFUSED)
            assert_int_equal(bkp_wire_refused_parse(f.data, f.len, false, why, 300), 0);
        if (f.type == BKP_WIRE_END) {
            bkp_wire_end e;
            assert_int_equal(bkp_wire_end_parse(f.data, f.len, &e), 0);
            assert_int_equal(e.exit_code, 0);
            bkp_wire_end_clear(&e);
        }
    }
    types[nt] = data[nd] = '\0';
    bkp_wire_frame_clear(&f);
    close(fd);
}

static void test_agent_serves(void **state)
{
    (void)state;
    pol_agent *a = agent("read: [/srv/emr]\ncommands: { hi: \"printf hello\" }\n");
    char types[16], data[64], why[300] = "";
    assert_non_null(a);
    serve(a, "hello", 0, types, data, why);
    assert_string_equal(types, "H");
    serve(a, "run hi", 0, types, data, why);
    assert_string_equal(types, "HDE");
    assert_string_equal(data, "hello");
    serve(a, "run other", -EACCES, types, data, why);
    assert_string_equal(types, "HR");
    assert_non_null(strstr(why, "not in the commands"));
    serve(a, "run hi; rm -rf /", -EACCES, types, data, why);
    assert_string_equal(types, "HR");
    serve(a, NULL, -EACCES, types, data, why);
    assert_string_equal(types, "HR");
    serve(a, "tree /etc", -EACCES, types, data, why);
    assert_string_equal(types, "HR");
    assert_non_null(strstr(why, "not below the read: trees"));
    serve(a, "tree /srv/emr/../../etc", -EACCES, types, data, why);
    assert_string_equal(types, "HR");
    serve(a, "tree /srv/emr/x%0A", -EACCES, types, data, why);
    assert_string_equal(types, "HR");
    pol_agent_free(a);
}

/* The backup server's stamps: read back as written; a record cut short or
 * naming a relative path is refused. */
static void test_stamps(void **state)
{
    (void)state;
    bkp_buf b;
    bkp_buf_init(&b);
    bkp_wire_stamp s = {.path = "/srv/a", .plen = 6, .size = 5, .mtime = -1, .ctime = 7, .mode = 0100644},
                   got;
    bkp_wire_stamp_put(&b, &s);
    bkp_rd r;
    bkp_rd_init(&r, b.data, b.len);
    assert_int_equal(bkp_wire_stamp_get(&r, &got), 1);
    assert_int_equal(got.plen, 6);
    assert_memory_equal(got.path, "/srv/a", 6);
    assert_int_equal(got.size, 5);
    assert_int_equal(got.mtime, -1);
    assert_int_equal(got.ctime, 7);
    assert_int_equal(got.mode, 0100644);
    assert_int_equal(bkp_wire_stamp_get(&r, &got), 0);
    bkp_rd_init(&r, b.data, b.len - 1);
    assert_int_equal(bkp_wire_stamp_get(&r, &got), -EBADMSG);
    b.data[4] = 's'; /* "srv/a": relative */
    bkp_rd_init(&r, b.data, b.len);
    assert_int_equal(bkp_wire_stamp_get(&r, &got), -EBADMSG);
    bkp_buf_free(&b);
}

/* The tree request: written and read back the same, whatever bytes its
 * words hold; read strictly. */
static void test_tree_request(void **state)
{
    (void)state;
    char p1[] = "/srv/emr/カルテ 2026", p2[] = "/srv/scans%", e1[] = "*.tmp";
    char *paths[] = {p1, p2}, *ex[] = {e1};
    bkp_wire_tree t = {.stamps = true, .one_fs = true, .paths = paths, .npaths = 2,
                       .exclude = ex, .nexclude = 1},
                  back;
    char *r = bkp_wire_tree_request(&t);
    assert_non_null(r);
    assert_null(strchr(r + 5, '\n'));
    assert_non_null(strstr(r, "%20"));
    assert_non_null(strstr(r, "%25"));
    assert_int_equal(bkp_wire_tree_parse(r, &back), 0);
    assert_true(back.stamps);
    assert_true(back.one_fs);
    assert_int_equal(back.npaths, 2);
    assert_string_equal(back.paths[0], p1);
    assert_string_equal(back.paths[1], p2);
    assert_int_equal(back.nexclude, 1);
    assert_string_equal(back.exclude[0], e1);
    bkp_wire_tree_clear(&back);
    free(r);
    /* Out of order, nested, twice: not written. */
    char *swapped[] = {p2, p1}, a[] = "/srv", b[] = "/srv/emr";
    char *nested[] = {a, b};
    t = (bkp_wire_tree){.paths = swapped, .npaths = 2};
    assert_null(bkp_wire_tree_request(&t));
    t = (bkp_wire_tree){.paths = nested, .npaths = 2};
    assert_null(bkp_wire_tree_request(&t));
    static const char *const bad[] = {
        "tree",           "tree ",           "tree  /a",       "tree /a ",     "tree a",
        "tree /a /a",     "tree /b /a",      "tree /a /a/b",   "tree /a%2F",   "tree /a%0A",
        "tree /a%zz",     "tree /a%4",       "tree /a%00",     "tree /a%e3",   "tree -e /a",
        "tree -x -x /a",  "tree /a -x",      "tree -e %0A /a", "hello /a",     "tree\t/a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        if (bkp_wire_tree_parse(bad[i], &back) == 0)
            fail_msg("'%s' should not be read as a request", bad[i]);
        assert_int_equal(back.npaths, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),          cmocka_unit_test(test_hello),
        cmocka_unit_test(test_end_and_refused), cmocka_unit_test(test_host_keys),
        cmocka_unit_test(test_agent_config),    cmocka_unit_test(test_agent_serves),
        cmocka_unit_test(test_tree_request),    cmocka_unit_test(test_stamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
