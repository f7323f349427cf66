/*
 * test_walk_deep.c — the walk of trees deeper than the descriptor limit (walk.h).
 *
 * Anyone who can write below a root can make a tree thousands of folders
 * deep. Proves that the walk returns every entry of a chain 1,500 folders
 * deep with a limit of 256 descriptors (so it holds a bounded number of
 * folders open, not one per level), and that a deep folder moved elsewhere
 * while the walk is below it costs nothing of the rest: the folders above
 * it, opened again, are walked to their end.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/capture/walk.h"

#include "testutil.h"

typedef struct fixture {
    char base[64];
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    test_rm_rf(f->base);
    free(f);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    strcpy(f->base, "/tmp/bkp-test-walkdeep-XXXXXX");
    if (!mkdtemp(f->base))
        return teardown(state), -1;
    return 0;
}

/* base/c/c/.../c, `depth` folders, each with a file "z" after its "c". */
static void make_chain(const fixture *f, int depth)
{
    int dfd = open(f->base, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    for (int i = 0; i < depth; i++) {
        int z = openat(dfd, "z", O_WRONLY | O_CREAT, 0644);
        assert_true(z >= 0);
        close(z);
        assert_int_equal(mkdirat(dfd, "c", 0755), 0);
        int next = openat(dfd, "c", O_RDONLY | O_DIRECTORY);
        assert_true(next >= 0);
        close(dfd);
        dfd = next;
    }
    close(dfd);
}

/* Walk base; at the entry `at` levels down, run `hook`. Count files and errors. */
static void walk(const fixture *f, int at, void (*hook)(const fixture *), int *files, int *errors)
{
    bkp_walk *w = NULL;
    bkp_walk_entry e;
    int rc;
    size_t baselen = strlen(f->base);
    *files = *errors = 0;
    assert_int_equal(bkp_walk_open(f->base, false, &w), 0);
    while ((rc = bkp_walk_next(w, &e)) > 0) {
        if (e.err) {
            (*errors)++;
            continue;
        }
        if (S_ISDIR(e.st.st_mode)) {
            bkp_walk_descend(w);
            if (hook && (int)((strlen(e.path) - baselen) / 2) == at)
                hook(f);
        } else {
            (*files)++;
        }
    }
    assert_int_equal(rc, 0);
    bkp_walk_free(w);
}

static void test_deeper_than_the_descriptor_limit(void **state)
{
    fixture *f = *state;
    struct rlimit old, low;
    int files, errors;
    make_chain(f, 1500);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 256;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    walk(f, -1, NULL, &files, &errors);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(errors, 0);
    assert_int_equal(files, 1500);
}

/* Move base/c (30 deep) away to base/moved: its parent is out of reach of "..". */
static void move_level_30(const fixture *f)
{
    char from[4096], to[256];
    int n = snprintf(from, sizeof(from), "%s", f->base);
    for (int i = 0; i < 30; i++)
        n += snprintf(from + n, sizeof(from) - (size_t)n, "/c");
    snprintf(to, sizeof(to), "%s/moved", f->base);
    assert_int_equal(rename(from, to), 0);
}

static void test_folder_moved_while_below_it(void **state)
{
    fixture *f = *state;
    int files, errors;
    make_chain(f, 200);
    walk(f, 150, move_level_30, &files, &errors);
    /* Every "z" is still found: those below the move in the folders moved,
     * those above it in their own. */
    assert_int_equal(errors, 0);
    assert_int_equal(files, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deeper_than_the_descriptor_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_moved_while_below_it, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
