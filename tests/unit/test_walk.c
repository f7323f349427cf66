/*
 * test_walk.c — the walk of a tree and its order (bkp/capture/walk.h).
 *
 * Proves that a walk visits exactly the expected paths in the documented
 * order — depth first, a folder before its contents, names sorted bytewise,
 * so "b/inner" before "b-c" and "b.txt", "B" before "a", bytes >= 0x80 last —
 * and that bkp_walk_cmp agrees with that order for every pair (strictly, and
 * antisymmetric), which is what lets the files cache merge with the next
 * walk. Symbolic links are returned, never followed (as the root too, and
 * when a folder is swapped for one while the walk runs); a root that does not
 * exist is one entry with -ENOENT; a folder that cannot be read is returned,
 * then reported; a folder not descended into is not entered.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/capture/walk.h"

#include "testutil.h"

#define MAXV 64

typedef struct fixture {
    char base[64];
} fixture;

/* What a walk returned: each entry's path relative to the root ("" for the
 * root), its type letter (d f l p, or e for an error entry) and its error. */
typedef struct visit {
    size_t n;
    char rel[MAXV][64];
    char type[MAXV];
    int err[MAXV];
} visit;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    strcpy(f->base, "/tmp/bkp-test-walk-XXXXXX");
    if (!mkdtemp(f->base)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_rm_rf(f->base);
    free(f);
    return 0;
}

static void at(const fixture *f, const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", f->base, rel);
}

static void mkfile(const fixture *f, const char *rel)
{
    char p[256];
    at(f, rel, p, sizeof(p));
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, rel, strlen(rel)), (ssize_t)strlen(rel));
    close(fd);
}

static void mkdir_(const fixture *f, const char *rel)
{
    char p[256];
    at(f, rel, p, sizeof(p));
    assert_int_equal(mkdir(p, 0755), 0);
}

static char type_of(const bkp_walk_entry *e)
{
    if (e->err)
        return 'e';
    return S_ISDIR(e->st.st_mode)    ? 'd'
           : S_ISREG(e->st.st_mode)  ? 'f'
           : S_ISLNK(e->st.st_mode)  ? 'l'
           : S_ISFIFO(e->st.st_mode) ? 'p'
                                     : '?';
}

/* Check what every entry promises besides its path: a folder comes with its
 * own open descriptor (the same inode), `name` is its last component and
 * `dirfd` holds it; nothing else has a descriptor. */
static void check_entry(const char *root, const bkp_walk_entry *e)
{
    if (e->err) {
        assert_int_equal(e->fd, -1);
        return;
    }
    struct stat st;
    assert_int_equal(fstatat(e->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_ino, e->st.st_ino);
    assert_int_equal(st.st_dev, e->st.st_dev);
    if (strcmp(e->path, root) != 0) {
        const char *slash = strrchr(e->path, '/');
        assert_non_null(slash);
        assert_string_equal(slash + 1, e->name);
    }
    if (S_ISDIR(e->st.st_mode) && e->fd >= 0) {
        assert_int_equal(fstat(e->fd, &st), 0);
        assert_int_equal(st.st_ino, e->st.st_ino);
    } else if (!S_ISDIR(e->st.st_mode)) {
        assert_int_equal(e->fd, -1);
    }
}

/* Walk `root`, entering every folder (but none named in `skip`). */
static void walk_all(const char *root, const char *skip, visit *v)
{
    bkp_walk *w = NULL;
    bkp_walk_entry e;
    int rc;
    size_t rlen = strlen(root);
    memset(v, 0, sizeof(*v));
    assert_int_equal(bkp_walk_open(root, false, &w), 0);
    while ((rc = bkp_walk_next(w, &e)) > 0) {
        assert_true(v->n < MAXV);
        check_entry(root, &e);
        assert_true(strncmp(e.path, root, rlen) == 0);
        const char *rel = e.path + rlen;
        rel += *rel == '/';
        snprintf(v->rel[v->n], sizeof(v->rel[0]), "%s", rel);
        v->type[v->n] = type_of(&e);
        v->err[v->n] = e.err;
        v->n++;
        if (!e.err && S_ISDIR(e.st.st_mode) && !(skip && strcmp(rel, skip) == 0))
            bkp_walk_descend(w);
    }
    assert_int_equal(rc, 0);
    bkp_walk_free(w);
}

/* The tree of the order test, created in an order of its own. */
static void make_tree(const fixture *f)
{
    char p[256], t[256];
    mkdir_(f, "z");
    mkdir_(f, "z/y");
    mkfile(f, "z/y/deep");
    mkfile(f, "z/\x80x");
    mkfile(f, "\xff");
    mkfile(f, "b.txt");
    mkfile(f, "b-c");
    mkdir_(f, "b");
    mkfile(f, "b/inner");
    mkfile(f, "a");
    mkfile(f, "B");
    mkfile(f, "\xc3\xa9");
    mkdir_(f, "empty");
    at(f, "fifo", p, sizeof(p));
    assert_int_equal(mkfifo(p, 0644), 0);
    at(f, "link", p, sizeof(p));
    at(f, "b", t, sizeof(t));
    assert_int_equal(symlink(t, p), 0); /* to a folder: returned, not followed */
}

static const struct {
    const char *rel;
    char type;
} expected[] = {
    {"", 'd'},         {"B", 'f'},       {"a", 'f'},        {"b", 'd'},
    {"b/inner", 'f'},  {"b-c", 'f'},     {"b.txt", 'f'},    {"empty", 'd'},
    {"fifo", 'p'},     {"link", 'l'},    {"z", 'd'},        {"z/y", 'd'},
    {"z/y/deep", 'f'}, {"z/\x80x", 'f'}, {"\xc3\xa9", 'f'}, {"\xff", 'f'},
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static void walk_order(void **state)
{
    fixture *f = *state;
    visit v;
    make_tree(f);
    walk_all(f->base, NULL, &v);
    for (size_t i = 0; i < v.n && i < NEXPECTED; i++) {
        assert_string_equal(v.rel[i], expected[i].rel);
        assert_int_equal(v.type[i], expected[i].type);
    }
    assert_int_equal(v.n, NEXPECTED);

    /* The order of the paths as walked, for every pair; and cmpn agrees. */
    char abs[MAXV][128];
    for (size_t i = 0; i < v.n; i++)
        snprintf(abs[i], sizeof(abs[i]), "%s%s%s", f->base, *v.rel[i] ? "/" : "", v.rel[i]);
    for (size_t i = 0; i < v.n; i++) {
        assert_int_equal(bkp_walk_cmp(abs[i], abs[i]), 0);
        for (size_t j = i + 1; j < v.n; j++) {
            assert_true(bkp_walk_cmp(abs[i], abs[j]) < 0);
            assert_true(bkp_walk_cmp(abs[j], abs[i]) > 0);
            assert_true(bkp_walk_cmpn(abs[i], strlen(abs[i]), abs[j], strlen(abs[j])) < 0);
            assert_true(bkp_walk_cmpn(abs[j], strlen(abs[j]), abs[i], strlen(abs[i])) > 0);
        }
    }
}

static void cmp_edges(void **state)
{
    (void)state;
    /* The root "/" comes before everything under it. */
    assert_true(bkp_walk_cmp("/", "/a") < 0);
    assert_true(bkp_walk_cmp("/a", "/") > 0);
    assert_true(bkp_walk_cmp("/", "/\x01") < 0);
    /* A folder's contents before any longer name with the same start. */
    assert_true(bkp_walk_cmp("/b/x", "/b-c") < 0);
    assert_true(bkp_walk_cmp("/b/x", "/b.txt") < 0);
    assert_true(bkp_walk_cmp("/b/\xff", "/b\x01") < 0);
    assert_true(bkp_walk_cmp("/b", "/b/x") < 0);
    /* Bytes compare unsigned. */
    assert_true(bkp_walk_cmp("/\x7f", "/\x80") < 0);
    assert_true(bkp_walk_cmp("/B", "/a") < 0);
    /* Lengths, not NULs, end a path given by length. */
    assert_true(bkp_walk_cmpn("/ab", 2, "/ab", 3) < 0);
    assert_int_equal(bkp_walk_cmpn("/ab", 2, "/ax", 2), 0);
    /* Roots sorted with it walk in one rising order across them. */
    assert_true(bkp_walk_cmp("/srv/b/zzz", "/srv/b.old") < 0);
}

static void root_file(void **state)
{
    fixture *f = *state;
    char p[256];
    visit v;
    mkfile(f, "only");
    at(f, "only", p, sizeof(p));
    walk_all(p, NULL, &v);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.rel[0], "");
    assert_int_equal(v.type[0], 'f');
}

static void root_symlink(void **state)
{
    fixture *f = *state;
    char p[256], t[256];
    visit v;
    mkdir_(f, "real");
    mkfile(f, "real/secret");
    at(f, "real", t, sizeof(t));
    at(f, "ln", p, sizeof(p));
    assert_int_equal(symlink(t, p), 0);
    walk_all(p, NULL, &v); /* walk_all would enter a folder: it is not one */
    assert_int_equal(v.n, 1);
    assert_int_equal(v.type[0], 'l');
    assert_int_equal(v.err[0], 0);
}

static void root_missing(void **state)
{
    fixture *f = *state;
    char p[256];
    visit v;
    at(f, "not-there", p, sizeof(p));
    walk_all(p, NULL, &v);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.type[0], 'e');
    assert_int_equal(v.err[0], -ENOENT);
}

static void not_descended(void **state)
{
    fixture *f = *state;
    visit v;
    mkdir_(f, "a");
    mkfile(f, "a/hidden");
    mkdir_(f, "b");
    mkfile(f, "b/shown");
    walk_all(f->base, "a", &v);
    assert_int_equal(v.n, 4);
    assert_string_equal(v.rel[1], "a");
    assert_string_equal(v.rel[2], "b");
    assert_string_equal(v.rel[3], "b/shown");
}

/* Walk `base` as a user without rights on "locked": 0 when the walk returns
 * the folder, then an error entry for it with -EACCES, then goes on. */
static int walk_unreadable(const char *base)
{
    bkp_walk *w = NULL;
    bkp_walk_entry e;
    const char *want[] = {"", "a", "locked", "locked", "z"};
    int wanterr[] = {0, 0, 0, -EACCES, 0};
    size_t n = 0, blen = strlen(base);
    if (bkp_walk_open(base, false, &w) != 0)
        return 10;
    int rc;
    while ((rc = bkp_walk_next(w, &e)) > 0) {
        const char *rel = e.path + blen + (e.path[blen] == '/');
        if (n >= 5 || strcmp(rel, want[n]) != 0 || e.err != wanterr[n])
            return 20 + (int)n;
        if (n == 2 && (!S_ISDIR(e.st.st_mode) || e.fd != -1))
            return 30;
        if (!e.err && S_ISDIR(e.st.st_mode))
            bkp_walk_descend(w);
        n++;
    }
    bkp_walk_free(w);
    return rc != 0 ? 11 : n != 5 ? 12 : 0;
}

static void unreadable_folder(void **state)
{
    fixture *f = *state;
    char p[256];
    mkfile(f, "a");
    mkdir_(f, "locked");
    mkfile(f, "locked/inside");
    mkfile(f, "z");
    at(f, "locked", p, sizeof(p));
    assert_int_equal(chmod(p, 0), 0);
    assert_int_equal(chmod(f->base, 0755), 0);
    if (geteuid() != 0) {
        assert_int_equal(walk_unreadable(f->base), 0);
    } else {
        /* Root reads every folder: walk as nobody in a child instead. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(99);
            _exit(walk_unreadable(f->base));
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 99)
            skip();
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(chmod(p, 0755), 0);
}

/* A folder swapped for a link to another folder after its parent was read:
 * the walk reports the link and does not enter it. */
static void swapped_before_stat(void **state)
{
    fixture *f = *state;
    char p[256], q[256];
    bkp_walk *w = NULL;
    bkp_walk_entry e;
    mkdir_(f, "outside");
    mkfile(f, "outside/secret");
    mkdir_(f, "t");
    mkfile(f, "t/a");
    mkdir_(f, "t/b");
    mkfile(f, "t/b/own");
    mkfile(f, "t/c");
    at(f, "t", p, sizeof(p));
    assert_int_equal(bkp_walk_open(p, false, &w), 0);
    assert_int_equal(bkp_walk_next(w, &e), 1); /* t */
    bkp_walk_descend(w);
    assert_int_equal(bkp_walk_next(w, &e), 1); /* t/a: t's names are read */
    assert_string_equal(e.name, "a");
    at(f, "t/b", p, sizeof(p));
    at(f, "t/b.moved", q, sizeof(q));
    assert_int_equal(rename(p, q), 0);
    at(f, "outside", q, sizeof(q));
    assert_int_equal(symlink(q, p), 0);
    assert_int_equal(bkp_walk_next(w, &e), 1);
    assert_string_equal(e.name, "b");
    assert_true(S_ISLNK(e.st.st_mode));
    assert_int_equal(e.fd, -1);
    bkp_walk_descend(w); /* not a folder: nothing to enter */
    assert_int_equal(bkp_walk_next(w, &e), 1);
    assert_string_equal(e.name, "c");
    assert_int_equal(bkp_walk_next(w, &e), 0);
    bkp_walk_free(w);
}

/* A folder swapped for a link after it was returned: entering it walks the
 * folder that was stat'ed (held open), never the link's target. */
static void swapped_after_stat(void **state)
{
    fixture *f = *state;
    char p[256], q[256];
    bkp_walk *w = NULL;
    bkp_walk_entry e;
    mkdir_(f, "outside");
    mkfile(f, "outside/secret");
    mkdir_(f, "t");
    mkdir_(f, "t/b");
    mkfile(f, "t/b/own");
    at(f, "t", p, sizeof(p));
    assert_int_equal(bkp_walk_open(p, false, &w), 0);
    assert_int_equal(bkp_walk_next(w, &e), 1); /* t */
    bkp_walk_descend(w);
    assert_int_equal(bkp_walk_next(w, &e), 1);
    assert_string_equal(e.name, "b");
    assert_true(S_ISDIR(e.st.st_mode));
    at(f, "t/b", p, sizeof(p));
    at(f, "t/b.moved", q, sizeof(q));
    assert_int_equal(rename(p, q), 0);
    at(f, "outside", q, sizeof(q));
    assert_int_equal(symlink(q, p), 0);
    bkp_walk_descend(w);
    assert_int_equal(bkp_walk_next(w, &e), 1);
    assert_string_equal(e.name, "own");
    assert_int_equal(bkp_walk_next(w, &e), 0);
    bkp_walk_free(w);
}

/* The root "/" joins its children without a doubled separator. */
static void root_slash(void **state)
{
    (void)state;
    bkp_walk *w = NULL;
    bkp_walk_entry e;
    char prev[4096] = "/";
    int n = 0;
    assert_int_equal(bkp_walk_open("/", true, &w), 0);
    assert_int_equal(bkp_walk_next(w, &e), 1);
    assert_string_equal(e.path, "/");
    bkp_walk_descend(w);
    while (n < 20 && bkp_walk_next(w, &e) > 0) {
        assert_true(e.path[0] == '/' && e.path[1] != '/');
        assert_null(strchr(e.path + 1, '/'));
        assert_true(bkp_walk_cmp(prev, e.path) < 0);
        snprintf(prev, sizeof(prev), "%s", e.path);
        n++;
    }
    assert_true(n > 0);
    bkp_walk_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(walk_order, setup, teardown),
        cmocka_unit_test(cmp_edges),
        cmocka_unit_test_setup_teardown(root_file, setup, teardown),
        cmocka_unit_test_setup_teardown(root_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(root_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(not_descended, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(swapped_before_stat, setup, teardown),
        cmocka_unit_test_setup_teardown(swapped_after_stat, setup, teardown),
        cmocka_unit_test(root_slash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
