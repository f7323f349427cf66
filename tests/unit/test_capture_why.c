/*
 * test_capture_why.c — a file whose metadata cannot be read is left out of
 * the generation with a reason in its record: the system's (an errno
 * libarchive kept) as before, or, when libarchive kept none, libarchive's
 * own words after "cannot read its metadata" — not the bare phrase, which
 * tells the operator nothing. libarchive's reading of a file's metadata is
 * made to fail by wrapping archive_read_disk_entry_from_file at link time
 * (tests/CMakeLists.txt), for the file named "a" only.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "ops_repo.h"

static const char policy_text[] = "repository: %1$s/repo\n"
                                  "passphrase_file: /etc/bkp/passphrase\n"
                                  "datasets:\n"
                                  "  - { name: emr, paths: [/srv/emr] }\n";

/* How the wrapped call fails for "a": the errno it keeps (0: none) and its words. */
static int fail_errno;
static const char *fail_words;

int __real_archive_read_disk_entry_from_file(struct archive *a, struct archive_entry *e, int fd,
                                             const struct stat *st);
int __wrap_archive_read_disk_entry_from_file(struct archive *a, struct archive_entry *e, int fd,
                                             const struct stat *st);
int __wrap_archive_read_disk_entry_from_file(struct archive *a, struct archive_entry *e, int fd,
                                             const struct stat *st)
{
    const char *name = archive_entry_pathname(e);
    size_t l = name ? strlen(name) : 0;
    if (fail_words && l >= 2 && !strcmp(name + l - 2, "/a")) {
        archive_set_error(a, fail_errno ? fail_errno : -1 /* libarchive's "misc" */, "%s",
                          fail_words);
        return ARCHIVE_FAILED;
    }
    return __real_archive_read_disk_entry_from_file(a, e, fd, st);
}

/* Capture the fixture's source folder; the one error's message into `msg`. */
static void capture_one_error(ops_repo *f, char *msg, size_t n)
{
    const char *paths[] = {f->src};
    bkp_capture_opts o = {
        .dataset = "emr", .paths = paths, .npaths = 1, .workers = 1, .no_cache = true};
    bkp_capture cap;
    assert_int_equal(bkp_capture_run(f->r, &o, &cap), 0);
    assert_int_equal(cap.nerrors, 1);
    assert_non_null(strstr(cap.errors[0].path, "/a"));
    snprintf(msg, n, "%s", cap.errors[0].message);
    bkp_capture_clear(&cap);
}

static void test_libarchive_words_kept(void **state)
{
    (void)state;
    ops_repo f;
    char msg[1024];
    assert_int_equal(ops_repo_new(&f, "capture-why", policy_text), 0);
    /* No errno kept: libarchive's words are all there is to go on. */
    fail_errno = 0;
    fail_words = "Couldn't list extended attributes";
    capture_one_error(&f, msg, sizeof(msg));
    assert_string_equal(msg,
                        "cannot read its metadata (libarchive: Couldn't list extended attributes)");
    /* An errno kept: the system's reason, as before. */
    fail_errno = EACCES;
    fail_words = "Couldn't open";
    capture_one_error(&f, msg, sizeof(msg));
    assert_string_equal(msg, "Permission denied");
    fail_words = NULL;
    ops_repo_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libarchive_words_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
