/*
 * remote.c — a source server over SSH (remote.h): ssh's command line, the
 * pinned host key, and the agent's frames turned back into a stream.
 */
#include "bkp/host/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/host/cmdenv.h"
#include "bkp/host/trust.h"
#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"
#include "bkp/store/layout.h"

bool bkp_remote_address_ok(const char *a)
{
    size_t n = a ? strlen(a) : 0;
    if (n == 0 || n > 253 || a[0] == '-')
        return false;
    return strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == n;
}

/* The key's blob (base64-decoded), its length, and its type in `type`. */
static int key_blob(const char *key, uint8_t *blob, size_t cap, size_t *len, char type[32])
{
    static const char *const types[] = {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                        "ecdsa-sha2-nistp521", "ssh-rsa", NULL};
    const char *sp = key ? strchr(key, ' ') : NULL;
    if (!sp || (size_t)(sp - key) >= 32)
        return -EINVAL;
    memcpy(type, key, (size_t)(sp - key));
    type[sp - key] = '\0';
    bool known = false;
    for (size_t i = 0; types[i]; i++)
        known |= !strcmp(types[i], type);
    const char *b64 = sp + 1, *end = b64 + strcspn(b64, " ");
    if (!known || end == b64 ||
        sodium_base642bin(blob, cap, b64, (size_t)(end - b64), NULL, len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        (*end && end[1] == '\0'))
        return -EINVAL;
    /* The blob names its type first: a string of 4 bytes of length. */
    size_t tl = strlen(type);
    if (*len < 4 + tl || blob[0] || blob[1] || blob[2] != (tl >> 8) || blob[3] != (tl & 0xff) ||
        memcmp(blob + 4, type, tl))
        return -EINVAL;
    for (const char *p = end; *p; p++) /* a comment: printable */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -EINVAL;
    return 0;
}

bool bkp_remote_host_key_ok(const char *key, char *type)
{
    uint8_t blob[2048];
    size_t len;
    char t[32];
    if (!key || strlen(key) > 4096 || key_blob(key, blob, sizeof(blob), &len, t))
        return false;
    if (type)
        memcpy(type, t, sizeof(t));
    return true;
}

int bkp_remote_fingerprint(const char *key, char *out, size_t size)
{
    uint8_t blob[2048], sum[crypto_hash_sha256_BYTES];
    size_t len;
    char t[32], b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
                                              sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
    if (!key || strlen(key) > 4096 || key_blob(key, blob, sizeof(blob), &len, t) || size < 64)
        return -EINVAL;
    crypto_hash_sha256(sum, blob, len);
    sodium_bin2base64(b64, sizeof(b64), sum, sizeof(sum),
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    snprintf(out, size, "SHA256:%s", b64);
    return 0;
}

static char ssh_found[256];
static bool ssh_there;

static void find_ssh(void)
{
    ssh_there = bkp_cmd_find("ssh", ssh_found, sizeof(ssh_found));
}

/* Looked for once: the captures of a run connect from several threads. */
const char *bkp_remote_ssh(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_ssh);
    return ssh_there ? ssh_found : NULL;
}

/* ---- the connection ---- */

struct bkp_remote {
    bkp_hook_proc *ssh;
    int known;     /* the pinned key, as a known_hosts file in memory, or -1 */
    int log;       /* ssh's own messages (-E): a file in memory, or -1 */
    int from_ssh;  /* the agent's frames (ssh's standard output) */
    int to_reader; /* the stream's bytes, to the caller's `*data`; -1 when none */
    int stop[2];   /* written by bkp_remote_finish: the pump stops writing */
    pthread_t pump;
    bool pumping;
    /* What the pump saw; read once it has ended. */
    bool hello, ended, refused;
    bool idle;       /* nothing came for idle_ms */
    int idle_ms;     /* 0: wait as long as it takes */
    int broken; /* the answer out of the protocol: its errno (wire.h), or 0 */
    bool reader_gone;
    bkp_wire_hello said;
    bkp_wire_end end;
    char why[400];
    bool japanese;   /* the reader's language, decided before the pump runs */
    char pinned[64]; /* the pinned key's fingerprint */
    bkp_wire_end *walk;   /* a walk's: where its end goes (the paths left out), or NULL */
    int agent_in;         /* what ssh reads for the agent's standard input, or -1 */
};

static void conn_free(bkp_remote *r)
{
    int *fds[] = {&r->known,   &r->log,     &r->from_ssh, &r->to_reader,
                  &r->stop[0], &r->stop[1], &r->agent_in};
    for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    bkp_wire_hello_clear(&r->said);
    bkp_wire_end_clear(&r->end);
    free(r);
}

/* A file in memory that ssh opens by the name /proc/OUR-PID/fd/N (ssh
 * closes every descriptor it inherits, so /dev/fd/N would be gone): nothing
 * is left on a disk, whatever ends bkp. */
static int memfile(const char *name, const char *text)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (text && bkp_write_full(fd, text, strlen(text))) {
        close(fd);
        return -EIO;
    }
    return fd;
}

/* The host key algorithms that let `type` (a key's type) sign: an RSA key
 * signs with SHA-2 (OpenSSH 8.8 refuses ssh-rsa's SHA-1). */
static const char *algorithms(const char *type)
{
    return !strcmp(type, "ssh-rsa") ? "rsa-sha2-512,rsa-sha2-256" : type;
}

/* The ciphers, fastest first on this machine: AES-GCM where the processor
 * has AES instructions (a dump crosses in two thirds of ChaCha20's time),
 * ChaCha20-Poly1305 first where it has not; ssh's defaults otherwise. */
static const char *ciphers(void)
{
    static const char aes_first[] = "Ciphers=aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
                                    "chacha20-poly1305@openssh.com",
                      chacha_first[] = "Ciphers=chacha20-poly1305@openssh.com,"
                                       "aes128-gcm@openssh.com,aes256-gcm@openssh.com";
    char line[4096];
    bool aes = false;
    FILE *f = fopen("/proc/cpuinfo", "re");
    while (f && !aes && fgets(line, sizeof(line), f))
        if (!strncmp(line, "flags", 5) || !strncmp(line, "Features", 8))
            aes = strstr(line, " aes ") || strstr(line, " aes\n");
    if (f)
        fclose(f);
    return aes ? aes_first : chacha_first;
}

/* Start ssh to `h` asking `request`: r->ssh, r->from_ssh and r->log. */
static int conn_start(bkp_remote *r, const bkp_remote_host *h, const char *request,
                      int64_t timeout)
{
    char type[32], *identity = NULL;
    const char *ssh = bkp_remote_ssh();
    if (!ssh)
        return -ENOEXEC;
    if (!h->name || !bkp_dataset_name_ok(h->name) || !h->user ||
        !bkp_cmd_user_name_ok(h->user) || !bkp_remote_address_ok(h->address) ||
        !bkp_remote_host_key_ok(h->host_key, type) || h->port < 0 || h->port > 65535 ||
        !h->identity)
        return -EINVAL;
    bkp_remote_fingerprint(h->host_key, r->pinned, sizeof(r->pinned));
    int rc = bkp_trust_file(h->identity, BKP_TRUST_SECRET, N_("SSH identity"), &identity);
    if (rc == -ENOENT)
        bkp_error(_("our SSH key %s is missing: make it with `bkp host add %s %s`"), h->identity,
                  h->name, h->address);
    if (rc == -EPERM || rc == -ENOENT)
        return -ENOKEY; /* said: by the check, or just now */
    if (rc)
        return rc;
    char line[4200];
    snprintf(line, sizeof(line), "bkp-host-%s %s\n", h->name, h->host_key);
    r->known = memfile("bkp-known-hosts", line); /* open while ssh may read it */
    r->log = memfile("bkp-ssh-log", NULL);
    if (r->known < 0 || r->log < 0) {
        free(identity);
        return r->known < 0 ? r->known : r->log;
    }
    int known = r->known;
    char known_opt[80], log[48], port[16], conn[48], alias[96], hka[96];
    snprintf(known_opt, sizeof(known_opt), "UserKnownHostsFile=/proc/%d/fd/%d", (int)getpid(),
             known);
    snprintf(log, sizeof(log), "/proc/%d/fd/%d", (int)getpid(), r->log);
    snprintf(port, sizeof(port), "%d", h->port ? h->port : 22);
    snprintf(conn, sizeof(conn), "ConnectTimeout=%lld",
             (long long)(h->connect_timeout > 0 ? h->connect_timeout : 30));
    snprintf(alias, sizeof(alias), "HostKeyAlias=bkp-host-%s", h->name);
    snprintf(hka, sizeof(hka), "HostKeyAlgorithms=%s", algorithms(type));
    char *argv[] = {(char *)ssh, "-F", "/dev/null", "-T", "-x", "-a", "-E", log,
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                    "-o", known_opt, "-o", "GlobalKnownHostsFile=/dev/null",
                    "-o", alias, "-o", hka, "-o", "IdentitiesOnly=yes",
                    "-o", "IdentityAgent=none", "-o", "ClearAllForwardings=yes",
                    "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4",
                    "-o", conn, "-o", (char *)ciphers(), "-o", "LogLevel=ERROR",
                    "-o", "PasswordAuthentication=no",
                    "-o", "KbdInteractiveAuthentication=no", "-i", identity,
                    "-p", port, "-l", (char *)h->user, "--", (char *)h->address,
                    (char *)request, NULL};
    /* What the source writes to the session's standard error is its own:
     * kept for the tail (made safe), never passed on raw. */
    bkp_hook_spec spec = {
        .argv = argv, .timeout = timeout, .dir = "/", .quiet = true, .input_fd = r->agent_in};
    rc = bkp_hook_start(&spec, &r->from_ssh, &r->ssh);
    free(identity);
    return rc;
}

/* Write `len` bytes to the reader, unless bkp_remote_finish says stop
 * first: false then, or when the reader is gone. */
static bool deliver(bkp_remote *r, const uint8_t *buf, size_t len)
{
    while (len) {
        struct pollfd p[2] = {{.fd = r->to_reader, .events = POLLOUT},
                              {.fd = r->stop[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return false;
        if (p[1].revents)
            return false;
        if (!(p[0].revents & (POLLOUT | POLLERR | POLLHUP)))
            continue;
        ssize_t n = write(r->to_reader, buf, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* What answered instead of an agent (its first bytes were no frame's
 * header: a shell's complaint, nologin's notice): at most a line of it,
 * made safe, into r->why. */
static void junk(bkp_remote *r, const bkp_wire_frame *f)
{
    char buf[160];
    size_t n = sizeof(f->head);
    memcpy(buf, f->head, n);
    struct pollfd p = {.fd = r->from_ssh, .events = POLLIN};
    while (n < sizeof(buf) - 1 && poll(&p, 1, 2000) > 0) {
        ssize_t got = read(r->from_ssh, buf + n, sizeof(buf) - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char *safe = bkp_text_safe(buf, BKP_TEXT_FIELD);
    snprintf(r->why, sizeof(r->why), "%s", safe ? safe : "");
    free(safe);
}

/* The agent's answer, frame by frame, until its end: data into the
 * caller's pipe, the rest noted. */
static void *pump(void *arg)
{
    bkp_remote *r = arg;
    bkp_wire_frame f = {0};
    static _Thread_local uint8_t plain[BKP_WIRE_DATA];
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL); /* a reader gone is EPIPE, not a signal */
    for (;;) {
        /* Not a byte for the host's idle_timeout, between frames or inside
         * one: a walk that hangs (its disk) gives its connection up. */
        int rc = bkp_wire_recv_within(r->from_ssh, &f, r->idle_ms);
        if (rc == -ETIME) {
            r->idle = true;
            break;
        }
        if (rc == 1)
            break; /* the end of the connection */
        if (rc == -EPROTO && !r->hello) {
            junk(r, &f); /* what answered instead: nologin, a shell's complaint */
            break;
        }
        if (rc) {
            /* Before any frame: nothing that speaks the protocol answered. */
            r->broken = r->hello ? (rc == -EPIPE ? 0 : -EBADMSG) : 0;
            break;
        }
        if (!r->hello) {
            if (f.type != BKP_WIRE_HELLO) {
                break; /* no agent: not a hello first */
            } else if (bkp_wire_hello_parse(f.data, f.len, &r->said)) {
                r->broken = -EBADMSG;
                break;
            } else if (r->said.protocol != BKP_WIRE_PROTOCOL) {
                r->broken = -EPROTONOSUPPORT;
                break;
            }
            r->hello = true;
        } else if ((f.type == BKP_WIRE_DATA_FRAME || f.type == BKP_WIRE_DATA_LZ4) &&
                   r->to_reader >= 0) {
            int n = bkp_wire_data(&f, plain);
            if (n < 0) {
                r->broken = -EBADMSG;
                break;
            }
            if (!r->reader_gone && !deliver(r, plain, (size_t)n))
                r->reader_gone = true; /* go on reading: the end frame says how it ended */
        } else if (f.type == BKP_WIRE_END) {
            r->ended = !bkp_wire_end_parse(f.data, f.len, &r->end);
            r->broken = r->ended ? 0 : -EBADMSG;
            break;
        } else if (f.type == BKP_WIRE_REFUSED) {
            r->refused = !bkp_wire_refused_parse(f.data, f.len, r->japanese, r->why,
                                                 sizeof(r->why));
            r->broken = r->refused ? 0 : -EBADMSG;
            break;
        } else {
            r->broken = -EBADMSG; /* a second hello, or data where none was asked */
            break;
        }
    }
    bkp_wire_frame_clear(&f);
    if (r->to_reader >= 0) {
        close(r->to_reader); /* the reader's end of the stream */
        r->to_reader = -1;
    }
    close(r->from_ssh);
    r->from_ssh = -1;
    return NULL;
}

/* With `to_agent`, the agent's standard input is a pipe whose writing end
 * (non-blocking) goes there; else it reads nothing. */
static int begin(const bkp_remote_host *h, const char *request, int64_t timeout, int64_t idle,
                 int *data, int *to_agent, bkp_remote **out)
{
    bkp_remote *r = calloc(1, sizeof(*r));
    int p[2] = {-1, -1}, in[2] = {-1, -1}, rc;
    if (!r)
        return -ENOMEM;
    r->known = r->log = r->from_ssh = r->to_reader = r->stop[0] = r->stop[1] = -1;
    r->agent_in = -1;
    r->japanese = bkp_i18n_reader_japanese(); /* not from the pump: it reads the environment */
    r->idle_ms = idle > 0 && idle < INT_MAX / 1000 ? (int)(idle * 1000) : 0;
    if (pipe2(r->stop, O_CLOEXEC) < 0 || (to_agent && pipe2(in, O_CLOEXEC) < 0)) {
        rc = -errno;
        conn_free(r);
        return rc;
    }
    /* Not 0 to 2 (bkp started with a standard stream closed): hook.h takes
     * an input descriptor above 0 only. */
    for (int i = 0; i < 2 && to_agent; i++)
        if (in[i] >= 0 && in[i] < 3) {
            int high = fcntl(in[i], F_DUPFD_CLOEXEC, 3);
            close(in[i]);
            in[i] = high;
        }
    if (to_agent && (in[0] < 0 || in[1] < 0)) {
        rc = -EMFILE;
        if (in[1] >= 0)
            close(in[1]);
        if (in[0] >= 0)
            close(in[0]);
        conn_free(r);
        return rc;
    }
    r->agent_in = in[0];
    if ((rc = conn_start(r, h, request, timeout))) {
        if (in[1] >= 0)
            close(in[1]);
        conn_free(r);
        return rc;
    }
    if (to_agent) {
        close(r->agent_in); /* ssh has its own */
        r->agent_in = -1;
        fcntl(in[1], F_SETFL, O_NONBLOCK);
        *to_agent = in[1];
    }
    if (data) {
        if (pipe2(p, O_CLOEXEC) < 0) {
            rc = -errno;
            goto fail;
        }
        fcntl(p[1], F_SETFL, O_NONBLOCK);
        r->to_reader = p[1];
        *data = p[0];
    }
    if ((rc = -bkp_thread_create(&r->pump, pump, r))) {
        if (data) {
            close(*data);
            *data = -1;
        }
        goto fail;
    }
    r->pumping = true;
    *out = r;
    return 0;
fail:;
    bkp_hook_result ignored;
    if (to_agent && *to_agent >= 0) {
        close(*to_agent);
        *to_agent = -1;
    }
    bkp_hook_finish(r->ssh, true, &ignored);
    conn_free(r);
    return rc;
}

int bkp_remote_start(const bkp_remote_host *h, const char *command, int64_t timeout, int *data,
                     bkp_remote **out)
{
    char request[96];
    if (!bkp_dataset_name_ok(command))
        return -EINVAL;
    snprintf(request, sizeof(request), "run %s", command);
    /* A command may be silent long and rightly (a dump to a file first): its
     * own timeout bounds it, not the host's idle_timeout. */
    return begin(h, request, timeout, 0, data, NULL, out);
}

int bkp_remote_start_tree(const bkp_remote_host *h, const bkp_wire_tree *t, int64_t timeout,
                          int *data, int *to_agent, bkp_wire_end *walk, bkp_remote **out)
{
    char *request = bkp_wire_tree_request(t);
    if (!request)
        return -EINVAL;
    int rc = begin(h, request, timeout, h->idle_timeout, data, t->stamps ? to_agent : NULL, out);
    free(request);
    *walk = (bkp_wire_end){0};
    if (!rc)
        (*out)->walk = walk;
    return rc;
}

int bkp_remote_cancel_fd(const bkp_remote *r)
{
    return r ? bkp_hook_cancel_fd(r->ssh) : -1;
}

/* ssh's own end: 255 is its error (no connection, the key refused). */
#define SSH_FAILED 255

/* What ssh itself said (its -E log, not the source's words): into `out`. */
static void ssh_said(const bkp_remote *r, char *out, size_t size)
{
    char buf[2048];
    ssize_t n = r->log >= 0 ? pread(r->log, buf, sizeof(buf) - 1, 0) : -1;
    buf[n > 0 ? n : 0] = '\0';
    /* Its last line that says something, made safe for a log. */
    char *end = buf + strlen(buf);
    while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        *--end = '\0';
    char *line = strrchr(buf, '\n');
    char *safe = bkp_text_safe(line ? line + 1 : buf, BKP_TEXT_FIELD);
    snprintf(out, size, "%s", safe ? safe : "");
    free(safe);
}

/* The pinned key's fingerprint and the one the host presented (ssh names
 * it in its log), for a person to compare: into res->tail. */
static void presented(const bkp_remote *r, bkp_hook_result *res)
{
    char log[8192], got[64] = "?";
    ssize_t n = r->log >= 0 ? pread(r->log, log, sizeof(log) - 1, 0) : -1;
    log[n > 0 ? n : 0] = '\0';
    const char *fp = strstr(log, "SHA256:");
    if (fp) {
        size_t len = strspn(fp + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
        snprintf(got, sizeof(got), "SHA256:%.*s", (int)(len < 50 ? len : 50), fp + 7);
    }
    snprintf(res->tail, sizeof(res->tail), "the policy's key is %s, the host showed %s",
             r->pinned, got);
}

/* How the connection ended, as bkp_remote_finish says (remote.h). */
static int judge(bkp_remote *r, int src, bkp_hook_result *res)
{
    char said[400];
    if (src == -ETIMEDOUT)
        return -ETIMEDOUT; /* our limit: the whole connection's */
    if (r->idle)
        return -ETIME;
    if (!r->hello && !r->broken && res->exit_code == SSH_FAILED) {
        /* Nothing answered: ssh's own words say why (the source's
         * standard error cannot speak for ssh: it is not in that log). */
        ssh_said(r, said, sizeof(said));
        if (said[0])
            snprintf(res->tail, sizeof(res->tail), "%s", said);
        if (strstr(said, "Host key verification failed") || strstr(said, "HOST IDENTIFICATION")) {
            presented(r, res);
            return -EKEYREJECTED;
        }
        if (strstr(said, "Permission denied"))
            return -EPERM;
        return said[0] ? -EHOSTUNREACH : -EPIPE; /* connected, then cut: ssh says nothing */
    }
    if (!r->hello && !r->broken) {
        /* Something else answered: what it wrote, on either output. */
        if (r->why[0])
            snprintf(res->tail, sizeof(res->tail), "%s", r->why);
        return -EPROTO;
    }
    if (r->broken)
        return r->broken; /* -EBADMSG, -EPROTONOSUPPORT */
    if (r->refused) {
        snprintf(res->tail, sizeof(res->tail), "%s", r->why);
        return -EACCES;
    }
    if (!r->ended)
        return -EPIPE; /* cut: the source went away mid-transfer */
    res->exit_code = r->end.exit_code;
    res->signal = r->end.signal;
    res->timed_out = r->end.timed_out; /* the agent's own limit */
    res->left_running = r->end.left_running;
    res->held_open = r->end.held_open;
    if (r->walk) { /* handed over, the names it owns too */
        *r->walk = r->end;
        r->end.left = NULL;
        r->end.nleft = 0;
    }
    return r->end.timed_out || r->end.exit_code != 0 || r->end.signal || r->end.left_running ||
                   r->end.held_open
               ? -ECHILD
               : 0;
}

int bkp_remote_finish(bkp_remote *r, bool stop, bkp_hook_result *res)
{
    if (!r) {
        memset(res, 0, sizeof(*res));
        return -EINVAL;
    }
    /* The pump ends at the agent's last frame or the connection's end;
     * stopped, it stops writing to the reader first, and ssh goes and
     * takes the connection with it. */
    if (stop)
        (void)!write(r->stop[1], "x", 1);
    int src = stop ? bkp_hook_finish(r->ssh, true, res) : 0;
    if (r->pumping)
        pthread_join(r->pump, NULL);
    if (!stop) {
        /* The last frame said all: ssh gets a moment to exit, no more (a
         * source that holds the channel open cannot hold us). */
        if (r->ended || r->refused || r->broken || r->idle)
            bkp_hook_stop_after(r->ssh, 5);
        src = bkp_hook_finish(r->ssh, false, res);
    }
    int rc = judge(r, src, res);
    conn_free(r);
    return rc;
}

int bkp_remote_hello(const bkp_remote_host *h, bkp_wire_hello *out, bkp_hook_result *res)
{
    bkp_remote *r;
    memset(out, 0, sizeof(*out));
    int rc = begin(h, "hello", h->connect_timeout > 0 ? 3 * h->connect_timeout : 90, 0, NULL,
                   NULL, &r);
    if (rc) {
        memset(res, 0, sizeof(*res));
        return rc;
    }
    pthread_join(r->pump, NULL);
    r->pumping = false;
    bool hello = r->hello && !r->broken && !r->refused;
    if (hello) {
        *out = r->said;
        memset(&r->said, 0, sizeof(r->said));
        r->ended = true; /* a hello ends with its frame */
    }
    rc = bkp_remote_finish(r, false, res);
    return hello ? 0 : rc;
}
