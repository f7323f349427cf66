/*
 * test_pin.c — pins of the primary's heads on media (bkp/media/pin.h).
 *
 * Proves that a pin written by a repository reads back equal, and that one
 * with a flipped byte, cut short, of another repository or not a pin at all
 * is refused; that the parser refuses wrong types, names and hashes; that
 * the log reader counts complete lines only and hashes the one asked; and
 * that the comparison finds a primary behind (a head deleted, a head
 * missing under later ones, a "not copied" tombstone in its place, a log
 * cut) or beside (another record under the pinned number, another log
 * line), while a primary that moved on, or pruned the pinned head behind a
 * tombstone of prune, passes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/media/pin.h"
#include "bkp/store/repo.h"

#include "testutil.h"

#define PASS "a long enough passphrase"
#define PLEN (sizeof(PASS) - 1)

static const char GOOD[] =
    "{\"audit\":{\"last\":\"" "0101010101010101010101010101010101010101010101010101010101010101"
    "\",\"records\":7},\"format\":\"bkp-pin\",\"heads\":{\"emr\":{\"record\":\""
    "0202020202020202020202020202020202020202020202020202020202020202\",\"seq\":3}},"
    "\"medium\":\"usb-a\",\"repository\":\"00000000-0000-0000-0000-000000000000\",\"time\":"
    "\"2026-11-23T10:00:00Z\",\"version\":1}";

static int parse(const char *s, bkp_pin **p)
{
    return bkp_pin_parse((const uint8_t *)s, strlen(s), p);
}

/* GOOD with `from` replaced by `to`. */
static int parse_with(const char *from, const char *to)
{
    char buf[2048];
    const char *at = strstr(GOOD, from);
    bkp_pin *p = NULL;
    assert_non_null(at);
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
    int rc = parse(buf, &p);
    bkp_pin_free(p);
    return rc;
}

static void test_parse(void **state)
{
    (void)state;
    bkp_pin *p = NULL;
    assert_int_equal(parse(GOOD, &p), 0);
    assert_string_equal(p->medium, "usb-a");
    assert_int_equal(p->nheads, 1);
    assert_string_equal(p->heads[0].dataset, "emr");
    assert_int_equal(p->heads[0].seq, 3);
    assert_int_equal(p->heads[0].record[31], 2);
    assert_int_equal(p->audit_records, 7);
    assert_int_equal(p->audit_last[0], 1);
    bkp_pin_free(p);

    assert_int_equal(parse_with("\"seq\":3", "\"seq\":\"3\""), -EBADMSG);
    assert_int_equal(parse_with("\"seq\":3", "\"seq\":0"), -EBADMSG);
    assert_int_equal(parse_with("\"seq\":3", "\"seq\":4000000001"), -EBADMSG);
    assert_int_equal(parse_with("\"emr\"", "\"../x\""), -EBADMSG);
    assert_int_equal(parse_with("\"usb-a\"", "5"), -EBADMSG);
    assert_int_equal(parse_with("\"usb-a\"", "\"a/b\""), -EBADMSG);
    assert_int_equal(parse_with("\"records\":7", "\"records\":-1"), -EBADMSG);
    assert_int_equal(parse_with("\"records\":7", "\"records\":0"), -EBADMSG); /* a last line of none */
    assert_int_equal(parse_with("02020202\"", "0202020g\""), -EBADMSG);
    assert_int_equal(parse_with("0202020202020202\"", "02020202\""), -EBADMSG);
    assert_int_equal(parse_with("\"bkp-pin\"", "\"bkp-pim\""), -EBADMSG);
    assert_int_equal(parse_with("\"version\":1", "\"version\":2"), -EBADMSG);
    assert_int_equal(parse_with("\"2026-11-23T10:00:00Z\"", "\"yesterday\""), -EBADMSG);
    assert_int_equal(parse_with("{\"emr\":{", "{\"emr\":{\"x\":1,"), -EBADMSG);
    assert_int_equal(parse_with("\"heads\":{", "\"heads\":{\"emr\":[],"), -EBADMSG); /* duplicate */
    assert_int_equal(parse("[]", &p), -EBADMSG);
    assert_int_equal(parse("", &p), -EBADMSG);
}

typedef struct fixture {
    char base[64], repo[128];
    bkp_repo *r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || sodium_init() < 0)
        return -1;
    strcpy(f->base, "/tmp/bkp-test-pin-XXXXXX");
    if (!mkdtemp(f->base))
        return -1;
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    if (bkp_repo_init(f->repo, PASS, PLEN) || bkp_repo_open(f->repo, PASS, PLEN, 0, &f->r))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_repo_free(f->r);
    test_rm_rf(f->base);
    free(f);
    return 0;
}

static void test_write_read(void **state)
{
    fixture *f = *state;
    bkp_pin *p = NULL, *q = NULL;
    char path[256];
    bkp_buf b;
    assert_int_equal(bkp_pin_make(f->r, "usb-a", &p), 0);
    assert_int_equal(p->nheads, 0);
    free(p->heads);
    p->heads = calloc(2, sizeof(*p->heads));
    p->nheads = 2;
    strcpy(p->heads[0].dataset, "a");
    p->heads[0].seq = 9;
    strcpy(p->heads[1].dataset, "b");
    p->heads[1].seq = 1;
    p->heads[1].record[0] = 0xfe;
    p->audit_records = 4;
    p->audit_last[5] = 7;
    assert_int_equal(bkp_pin_write(f->r, p, f->base, BKP_PIN_FILE), 0);
    snprintf(path, sizeof(path), "%s/%s", f->base, BKP_PIN_FILE);
    assert_int_equal(bkp_pin_read(f->r, path, &q), 0);
    assert_string_equal(q->medium, "usb-a");
    assert_int_equal(q->nheads, 2);
    assert_int_equal(q->heads[0].seq, 9);
    assert_int_equal(q->heads[1].record[0], 0xfe);
    assert_int_equal(q->audit_records, 4);
    assert_int_equal(q->audit_last[5], 7);
    bkp_pin_free(q);
    /* Replaced by the next write. */
    p->heads[0].seq = 10;
    assert_int_equal(bkp_pin_write(f->r, p, f->base, BKP_PIN_FILE), 0);
    assert_int_equal(bkp_pin_read(f->r, path, &q), 0);
    assert_int_equal(q->heads[0].seq, 10);
    bkp_pin_free(q);
    bkp_pin_free(p);

    /* Every byte counts: a flip anywhere, a cut, a longer length. */
    bkp_buf_init(&b);
    assert_int_equal(bkp_read_file(path, &b, 1 << 20), 0);
    for (size_t i = 0; i < b.len; i += 7) {
        b.data[i] ^= 0x20;
        assert_int_equal(bkp_durable_write(f->base, "flip", b.data, b.len, 0), 0);
        b.data[i] ^= 0x20;
        snprintf(path, sizeof(path), "%s/flip", f->base);
        q = NULL;
        assert_int_equal(bkp_pin_read(f->r, path, &q), -EBADMSG);
        assert_null(q);
    }
    assert_int_equal(bkp_durable_write(f->base, "flip", b.data, b.len - 1, 0), 0);
    assert_int_equal(bkp_pin_read(f->r, path, &q), -EBADMSG);
    assert_int_equal(bkp_durable_write(f->base, "flip", b.data, 10, 0), 0);
    assert_int_equal(bkp_pin_read(f->r, path, &q), -EBADMSG);
    snprintf(path, sizeof(path), "%s/none", f->base);
    assert_int_equal(bkp_pin_read(f->r, path, &q), -ENOENT);
    bkp_buf_free(&b);
}

static void test_log(void **state)
{
    fixture *f = *state;
    char path[256];
    bkp_pin_log lg;
    uint8_t h[32];
    const char *text = "{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3}\n{\"se";
    assert_int_equal(bkp_durable_write(f->base, "log", text, strlen(text), 0), 0);
    snprintf(path, sizeof(path), "%s/log", f->base);
    assert_int_equal(bkp_pin_log_read(path, 0, &lg), 0);
    assert_int_equal(lg.records, 3); /* the torn tail is no record */
    crypto_generichash(h, 32, (const uint8_t *)"{\"seq\":3}", 9, NULL, 0);
    assert_true(lg.have_at);
    assert_memory_equal(lg.at, h, 32);
    assert_int_equal(bkp_pin_log_read(path, 2, &lg), 0);
    crypto_generichash(h, 32, (const uint8_t *)"{\"seq\":2}", 9, NULL, 0);
    assert_memory_equal(lg.at, h, 32);
    assert_int_equal(bkp_pin_log_read(path, 5, &lg), 0);
    assert_false(lg.have_at);
    snprintf(path, sizeof(path), "%s/nolog", f->base);
    assert_int_equal(bkp_pin_log_read(path, 0, &lg), -ENOENT);

    /* Several positions in one pass: each as read alone. */
    uint64_t at[] = {2, 0, 5, 2, 1};
    bkp_pin_log many[5], one;
    snprintf(path, sizeof(path), "%s/log", f->base);
    assert_int_equal(bkp_pin_log_read_many(path, at, 5, many), 0);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(bkp_pin_log_read(path, at[i], &one), 0);
        assert_int_equal(many[i].records, 3);
        assert_int_equal(many[i].have_at, one.have_at);
        assert_memory_equal(many[i].at, one.at, 32);
    }
    assert_false(many[2].have_at);
    crypto_generichash(h, 32, (const uint8_t *)"{\"seq\":1}", 9, NULL, 0);
    assert_memory_equal(many[4].at, h, 32);
    snprintf(path, sizeof(path), "%s/nolog", f->base);
    assert_int_equal(bkp_pin_log_read_many(path, at, 5, many), -ENOENT);
}

/* ---- compare, on lists made by hand ---- */

static bkp_gen *gen(const char *ds, uint32_t seq, uint8_t mark, const char *tomb)
{
    bkp_gen *g = calloc(1, sizeof(*g));
    g->dataset = strdup(ds);
    g->seq = seq;
    memset(g->hash, mark, sizeof(g->hash));
    if (tomb) {
        g->pruned = true;
        g->reason = strdup(tomb);
    }
    return g;
}

static bkp_pin *pin3(void)
{
    bkp_pin *p = calloc(1, sizeof(*p));
    strcpy(p->medium, "usb-a");
    p->heads = calloc(1, sizeof(*p->heads));
    p->nheads = 1;
    strcpy(p->heads[0].dataset, "emr");
    p->heads[0].seq = 3;
    memset(p->heads[0].record, 3, BKP_ID_LEN);
    p->audit_records = 7;
    memset(p->audit_last, 7, 32);
    return p;
}

/* The findings for list `v` (freed here) and a log of `records` lines whose
 * pinned line hashes to `mark`. */
static int findings(bkp_gen **v, size_t n, uint64_t records, uint8_t mark, bkp_pin_finding **f)
{
    bkp_pin *p = pin3();
    bkp_pin_log lg = {.records = records, .have_at = records >= 7};
    memset(lg.at, mark, 32);
    *f = NULL;
    int nf = bkp_pin_compare(p, v, n, &lg, f);
    for (size_t i = 0; i < n; i++)
        bkp_gen_free(v[i]);
    bkp_pin_free(p);
    return nf;
}

static void test_compare(void **state)
{
    (void)state;
    bkp_pin_finding *f = NULL;
    /* The same, or moved on: nothing to say. */
    bkp_gen *same[] = {gen("emr", 1, 1, NULL), gen("emr", 2, 2, NULL), gen("emr", 3, 3, NULL)};
    assert_int_equal(findings(same, 3, 7, 7, &f), 0);
    bkp_gen *ahead[] = {gen("emr", 3, 3, "pruned"), gen("emr", 4, 4, NULL), gen("x", 1, 9, NULL)};
    assert_int_equal(findings(ahead, 3, 12, 7, &f), 0);
    free(f);

    /* Rolled back: the head gone, the log cut. */
    bkp_gen *back[] = {gen("emr", 1, 1, NULL), gen("emr", 2, 2, NULL)};
    assert_int_equal(findings(back, 2, 5, 0, &f), 2);
    assert_string_equal(f[0].dataset, "emr");
    assert_false(f[0].beside);
    assert_non_null(strstr(f[0].what, "emr:3, pinned on usb-a, is missing"));
    assert_non_null(strstr(f[0].what, "emr:2"));
    assert_string_equal(f[1].dataset, "");
    assert_non_null(strstr(f[1].what, "records 6 to 7 are missing"));
    free(f);

    /* No generation of the data set left at all. */
    assert_int_equal(findings(NULL, 0, 7, 7, &f), 1);
    assert_non_null(strstr(f[0].what, "holds no generation of emr"));
    free(f);

    /* The pinned head deleted under later ones, no tombstone. */
    bkp_gen *hole[] = {gen("emr", 2, 2, NULL), gen("emr", 4, 4, NULL)};
    assert_int_equal(findings(hole, 2, 7, 7, &f), 1);
    assert_non_null(strstr(f[0].what, "its record was deleted"));
    free(f);

    /* A tombstone written for a medium does not stand in on the primary. */
    bkp_gen *nc[] = {gen("emr", 3, 3, "not copied")};
    assert_int_equal(findings(nc, 1, 7, 7, &f), 1);
    assert_non_null(strstr(f[0].what, "not copied"));
    free(f);

    /* A damaged record cannot be the pinned one. */
    bkp_gen *bad[] = {gen("emr", 3, 3, NULL)};
    bad[0]->status = -EBADMSG;
    assert_int_equal(findings(bad, 1, 7, 7, &f), 1);
    free(f);

    /* Beside: another record under seq 3, another line 7. */
    bkp_gen *other[] = {gen("emr", 3, 0x33, NULL)};
    assert_int_equal(findings(other, 1, 9, 0x77, &f), 2);
    assert_true(f[0].beside);
    assert_non_null(strstr(f[0].what, "history rewritten"));
    assert_true(f[1].beside);
    assert_non_null(strstr(f[1].what, "rewritten"));
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log, setup, teardown),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
