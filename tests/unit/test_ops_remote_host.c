/* Unit tests for bkp/ops/remote_host.c: `bkp host check`'s comparison of a
 * host's data set paths with what its agent said it may read and can
 * enter, normalised as the backup and the agent normalise them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bkp/ops/remote_host.h"

/* Host "files" with one data set reading `paths`; the agent may read `read`,
 * of which `missing` are not there and `closed` cannot be entered. */
static int problems(const char **paths, size_t npaths, char **read, size_t nread,
                    char **missing, size_t nmissing, char **closed, size_t nclosed)
{
    pol_host h = {.name = "files"};
    pol_dataset d = {.name = "scans", .host = "files", .paths = (char **)paths,
                     .npaths = npaths};
    pol_policy p = {.datasets = &d, .ndatasets = 1};
    bkp_wire_hello hi = {.read = read,
                         .nread = nread,
                         .missing = missing,
                         .nmissing = nmissing,
                         .unreadable = closed,
                         .nunreadable = nclosed};
    return ops_host_paths_check(&p, &h, &hi);
}

static void test_paths_against_the_agents_folders(void **state)
{
    (void)state;
    char *read[] = {"/srv/emr", "/srv/scans/"};
    const char *fine[] = {"/srv/emr", "/srv/emr/export", "/srv//emr/./export", "/srv/scans/a"};
    assert_int_equal(problems(fine, 4, read, 2, NULL, 0, NULL, 0), 0);
    /* Below none: a sibling with the same start, a way out by "..". */
    const char *out[] = {"/srv/emr2", "/srv/emr/../secret", "/srv"};
    assert_int_equal(problems(out, 3, read, 2, NULL, 0, NULL, 0), 3);
    /* In a folder not there, or one the agent's user cannot enter. */
    char *gone[] = {"/srv/scans/"}, *closed[] = {"/srv/emr"};
    const char *both[] = {"/srv/scans/a", "/srv/emr/x"};
    assert_int_equal(problems(both, 2, read, 2, gone, 1, NULL, 0), 1);
    assert_int_equal(problems(both, 2, read, 2, gone, 1, closed, 1), 2);
    /* "/" as a folder covers everything. */
    char *root[] = {"/"};
    assert_int_equal(problems(out, 3, root, 1, NULL, 0, NULL, 0), 0);
    /* A stream data set has no paths to compare. */
    pol_host h = {.name = "files"};
    pol_dataset d = {.name = "db", .host = "files"};
    d.stream.command.command = "emr-dump";
    pol_policy p = {.datasets = &d, .ndatasets = 1};
    bkp_wire_hello hi = {0};
    assert_int_equal(ops_host_paths_check(&p, &h, &hi), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_against_the_agents_folders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
