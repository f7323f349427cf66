/*
 * s3_creds.c — the S3 credentials file (AWS shared-credentials format).
 *
 *     [default]
 *     aws_access_key_id = AKIAEXAMPLE
 *     aws_secret_access_key = wJalrXUtnFEMI/K7MDENG
 *
 * The file holds a secret that opens the off-site copy, so it is believed
 * only as the passphrase file is (trust.h, BKP_TRUST_SECRET: owned by the
 * user running bkp, no access for group or others). Its syntax is read
 * strictly, so that a typo is reported with its line rather than sending a
 * wrong key and getting a puzzling SignatureDoesNotMatch back: every line is
 * blank, a comment (# or ;), a [section] or a `name = value`; other keys
 * (region, aws_session_token) are allowed and ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/stream.h"
#include "bkp/s3/s3.h"
#include "bkp/s3/s3_internal.h"
#include "bkp/host/trust.h"

#define CREDS_FILE_MAX (64 * 1024)
#define CREDS_VALUE_MAX 512

static const char *trim(char *s, size_t *len)
{
    size_t l = *len;
    while (l && (*s == ' ' || *s == '\t'))
        s++, l--;
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
        l--;
    *len = l;
    return s;
}

/* One `name = value` line of the wanted section. */
static int creds_pair(char *p, size_t l, char **key_id, char **secret)
{
    char *eq = memchr(p, '=', l);
    if (!eq)
        return -EBADMSG;
    size_t nl = (size_t)(eq - p), vl = l - nl - 1;
    const char *name = trim(p, &nl), *value = trim(eq + 1, &vl);
    if (nl == 0 || vl == 0 || vl > CREDS_VALUE_MAX)
        return -EBADMSG;
    /* Keys and secrets are printable and without spaces. */
    for (size_t i = 0; i < vl; i++)
        if ((unsigned char)value[i] <= ' ' || (unsigned char)value[i] >= 0x7f)
            return -EBADMSG;
    char **slot = NULL;
    if (nl == 17 && memcmp(name, "aws_access_key_id", 17) == 0)
        slot = key_id;
    else if (nl == 21 && memcmp(name, "aws_secret_access_key", 21) == 0)
        slot = secret;
    if (!slot)
        return 0;
    if (*slot) /* given twice: which one was meant? */
        return -EBADMSG;
    *slot = strndup(value, vl);
    return *slot ? 0 : -ENOMEM;
}

/* One line (without its newline): 0, or -EBADMSG. */
static int creds_line(char *p, size_t l, const char *profile, bool *in_section, bool *seen,
                      bool *any_section, char **key_id, char **secret)
{
    p = (char *)trim(p, &l);
    if (l == 0 || p[0] == '#' || p[0] == ';')
        return 0;
    if (p[0] == '[') {
        if (p[l - 1] != ']')
            return -EBADMSG;
        size_t nl = l - 2;
        const char *name = trim(p + 1, &nl);
        if (nl == 0)
            return -EBADMSG;
        *any_section = true;
        *in_section = nl == strlen(profile) && memcmp(name, profile, nl) == 0;
        if (*in_section && *seen) /* the section twice */
            return -EBADMSG;
        *seen |= *in_section;
        return 0;
    }
    if (!*any_section)
        return -EBADMSG;
    char *k = NULL, *s = NULL;
    int rc = creds_pair(p, l, *in_section ? key_id : &k, *in_section ? secret : &s);
    free(k);
    if (s)
        sodium_memzero(s, strlen(s)), free(s);
    return rc;
}

int bkp_s3_creds_parse(const char *buf, size_t len, const char *profile, char **key_id,
                       char **secret, int *line)
{
    char *copy = malloc(len + 1), *kid = NULL, *sec = NULL;
    bool in_section = false, seen = false, any = false;
    int rc = copy ? 0 : -ENOMEM, at = 0;
    if (!profile)
        profile = "default";
    if (copy)
        memcpy(copy, buf, len), copy[len] = '\0';
    for (size_t pos = 0; rc == 0 && pos < len;) {
        char *nl = memchr(copy + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - copy) : len, l = end - pos;
        at++;
        if (l && copy[pos + l - 1] == '\r') /* a file written on Windows */
            l--;
        for (size_t i = 0; i < l && rc == 0; i++)
            if ((unsigned char)copy[pos + i] < ' ' && copy[pos + i] != '\t')
                rc = -EBADMSG;
        if (rc == 0)
            rc = creds_line(copy + pos, l, profile, &in_section, &seen, &any, &kid, &sec);
        pos = end + 1;
    }
    if (rc == 0 && (!kid || !sec))
        rc = -EBADMSG, at = 0;
    if (copy)
        sodium_memzero(copy, len), free(copy);
    if (rc < 0) {
        free(kid);
        if (sec)
            sodium_memzero(sec, strlen(sec)), free(sec);
        if (rc == -EBADMSG && line)
            *line = at;
        return rc;
    }
    *key_id = kid;
    *secret = sec;
    return 0;
}

static int creds_read(const char *resolved, char **buf, size_t *len)
{
    int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (rc == 0 && (!S_ISREG(st.st_mode) || st.st_size > CREDS_FILE_MAX))
        rc = -EFBIG;
    char *b = rc == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    bkp_stream s;
    if (rc == 0 && !b)
        rc = -ENOMEM;
    bkp_stream_fd(&s, fd, BKP_STREAM_OWN);
    if (rc == 0)
        rc = bkp_stream_read_exact(&s, b, (size_t)st.st_size);
    size_t n = (size_t)bkp_stream_tell(&s);
    (void)bkp_stream_close(&s);
    if (rc < 0) {
        if (b)
            sodium_memzero(b, n), free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return 0;
}

int s3_creds_load(const char *path, const char *profile, char **key_id, char **secret)
{
    char *resolved = NULL, *buf = NULL;
    size_t len = 0;
    int line = 0;
    const char *prof = profile ? profile : "default";
    int rc = bkp_trust_file(path, BKP_TRUST_SECRET, N_("S3 credentials file"), &resolved);
    if (rc == -EPERM)
        return rc; /* logged, with the chmod to run */
    if (rc < 0) {
        bkp_error(_("S3 credentials file %s: %s; create it with the bucket's access key "
                    "([%s], aws_access_key_id = …, aws_secret_access_key = …), mode 0600"),
                  path, bkp_strerror(rc), prof);
        return rc;
    }
    rc = creds_read(resolved, &buf, &len);
    if (rc < 0) {
        bkp_error(_("S3 credentials file %s: cannot read it: %s; it must be a regular file "
                    "of at most 64 KiB"),
                  resolved, bkp_strerror(rc));
        free(resolved);
        return -EPERM;
    }
    rc = bkp_s3_creds_parse(buf, len, prof, key_id, secret, &line);
    sodium_memzero(buf, len);
    free(buf);
    if (rc == -EBADMSG && line > 0)
        bkp_error(_("S3 credentials file %s:%d: not a `[section]` or `name = value` line, or "
                    "a key given twice or empty; write it as [%s] / aws_access_key_id = … / "
                    "aws_secret_access_key = …"),
                  resolved, line, prof);
    else if (rc == -EBADMSG)
        bkp_error(_("S3 credentials file %s: no section [%s] with both aws_access_key_id and "
                    "aws_secret_access_key; add them"),
                  resolved, prof);
    else if (rc < 0)
        bkp_error(_("S3 credentials file %s: %s"), resolved, bkp_strerror(rc));
    free(resolved);
    return rc < 0 ? -EPERM : 0;
}
