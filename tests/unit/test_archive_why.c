/*
 * libarchive's failures told to a person (bkp/io/archive_why.h): the system's
 * reason in the reader's language and libarchive's own English words as a
 * detail in parentheses, never translated; and an archive medium that is
 * cut short is refused with what to do next, in English and in Japanese.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "bkp/media/archive.h"
#include "bkp/io/archive_why.h"
#include "bkp/io/log.h"

#include "catalogue.h"

static char logbuf[2048];
static void sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level, (void)ctx;
    snprintf(logbuf, sizeof(logbuf), "%s", msg);
}

static void language(const char *lang)
{
    if (lang)
        setenv("LANGUAGE", lang, 1);
    else
        unsetenv("LANGUAGE");
    setlocale(LC_MESSAGES, lang ? "C.UTF-8" : "C");
}

/* A write to a full device: libarchive says only "Write error"; the reason
 * is the errno it kept, said by libc in the reader's language. */
static void test_full_device(void **state)
{
    (void)state;
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0)
        skip();
    struct archive *a = archive_write_new();
    assert_non_null(a);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
    char big[20000] = {0}, why[512];
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "x");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, sizeof(big));
    (void)archive_write_header(a, e);
    (void)archive_write_data(a, big, sizeof(big));
    (void)archive_write_close(a);
    assert_int_equal(bkp_archive_errno(a), -ENOSPC);
    language(NULL);
    assert_string_equal(bkp_archive_why(a, why, sizeof(why)),
                        ": No space left on device (libarchive: Write error)");
    language("ja");
    bkp_archive_why(a, why, sizeof(why));
    assert_non_null(strstr(why, "（libarchive: Write error）"));
    assert_null(strstr(why, "No space left"));
    language(NULL);
    archive_entry_free(e);
    archive_write_free(a);
    close(fd);
    /* Nothing made at all: memory ran out. */
    assert_int_equal(bkp_archive_errno(NULL), -ENOMEM);
}

/* An archive cut short: where, what, libarchive's words and what to do. */
static void test_truncated_archive(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-test-why-XXXXXX", tar[64], out[64];
    assert_non_null(mkdtemp(dir));
    snprintf(tar, sizeof(tar), "%s/emr@0000000001.tar", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    /* A small member whole, then a second cut in the middle of its data. */
    static const char config[] = "x", key[1000] = "k";
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, tar), ARCHIVE_OK);
    const struct {
        const char *name;
        const void *data;
        size_t len;
    } m[] = {{"emr@0000000001/config", config, 1}, {"emr@0000000001/keys/key", key, sizeof(key)}};
    for (size_t i = 0; i < 2; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0444);
        archive_entry_set_size(e, (la_int64_t)m[i].len);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    assert_int_equal(truncate(tar, 3 * 512 + 200), 0);
    char cfg[96];
    snprintf(cfg, sizeof(cfg), "%s/config", out);
    bkp_log_set_sink(sink, NULL);
    for (int ja = 0; ja < 2; ja++) {
        language(ja ? "ja" : NULL);
        logbuf[0] = '\0';
        assert_int_equal(bkp_archive_extract(tar, out, NULL), -EBADMSG);
        assert_non_null(strstr(logbuf, tar));
        assert_non_null(strstr(logbuf, "emr@0000000001/keys/key"));
        assert_non_null(strstr(logbuf, ja ? "（libarchive: " : " (libarchive: "));
        unlink(cfg); /* what was whole before the cut */
        rmdir(out);
        assert_non_null(strstr(logbuf, ja ? "この世代は別の媒体から読んでください"
                                          : "read this generation from another medium"));
    }
    bkp_log_set_sink(NULL, NULL);
    language(NULL);
    unlink(tar);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_device),
        cmocka_unit_test(test_truncated_archive),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
