/*
 * gen-data — deterministic, seeded generator of the benchmark data sets.
 *
 *   gen-data generate [--profile P] [--seed N] [--size SIZE] [--files N] DIR
 *   gen-data sync     [--profile P] [--seed N] [--size SIZE] [--files N] DIR   (same as generate)
 *   gen-data mutate   [--profile P] [--seed N] [--size SIZE] [--files N] [--step K] DIR
 *   gen-data info     [--profile P] [--seed N] [--size SIZE] [--files N]
 *
 * Profiles: hospital (the default, described here), and smallfiles, folders
 * and million, the many-small-files trees of gen-small.h (--files sets their
 * file count; --size is the hospital's only).
 * SIZE accepts a plain byte count or a K/M/G suffix (binary units: 2G = 2 GiB).
 * Defaults: --seed 1 --size 2G --step 1.
 *
 * generate/sync bring DIR to the exact base state for (seed, size): files whose
 * bytes already match are left alone, differing or missing files are rewritten,
 * files that do not belong to the set are deleted.  Running it after `mutate`
 * therefore reverts the mutation.
 *
 * mutate applies mutation number K to the base state: about 1 % of the bytes
 * change (rows edited and inserted in the middle of the dump, documents
 * rewritten, added and deleted, images added and deleted).  The result depends
 * only on (seed, size, step), provided DIR was in the base state before.
 *
 * Layout of DIR (shares of SIZE):
 *   db/hospital_dump.sql        34 %  pg_dump-like plain SQL text
 *   docs/<dept>/<yyyy>/<mm>/...  16 %  1-64 KiB notes (.txt), summaries (.html), CDA (.xml)
 *   images/<mod>/<yyyy>/...     50 %  1-10 MiB files: small header + random bytes
 *
 * Every file is derived from its own PRNG stream (seed, kind, index), so any
 * single file can be regenerated without producing the others.  Only integer
 * arithmetic is used: the same seed gives the same bytes on every machine.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

#define DUMP_PATH "db/hospital_dump.sql"

/* PRNG stream identifiers: one per kind of content. */
enum {
    S_DUMP = 1, S_DOCMETA, S_DOCBODY, S_IMGMETA, S_IMGBODY,
    S_MUTPLAN, S_MUTDUMP, S_MUTDOC, S_NEWDOC, S_NEWIMG
};

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "gen-data: ");
    fprintf(stderr, fmt, arg);
    if (errno) fprintf(stderr, ": %s", strerror(errno));
    fputc('\n', stderr);
    exit(1);
}

#include "gen-rng.h"
#include "gen-words.h"
#include "gen-dump.h"

/* ---------------------------------------------------------- documents */

typedef struct { unsigned kind, dept, year, month; uint64_t target; } docmeta_t;

static const char *DOC_KIND[] = {"note", "summary", "cda"};
static const char *DOC_EXT[] = {"txt", "html", "xml"};

static docmeta_t doc_meta(uint64_t seed, uint64_t stream, uint64_t i)
{
    rng_t r;
    docmeta_t d;
    rng_init(&r, seed, stream, i);
    d.kind = rng_below(&r, 3);
    d.dept = rng_below(&r, sizeof(DEPT) / sizeof(DEPT[0]));
    d.year = 2019 + rng_below(&r, 6);
    d.month = 1 + rng_below(&r, 12);
    d.target = rng_range(&r, 1 * KiB, 64 * KiB);
    return d;
}

static void doc_path(char *p, size_t n, const docmeta_t *d, const char *tag, uint64_t i)
{
    snprintf(p, n, "docs/%s/%u/%02u/%s-%s%06llu.%s", DEPT[d->dept][2], d->year, d->month,
             DOC_KIND[d->kind], tag, (unsigned long long)i, DOC_EXT[d->kind]);
}

static void b_patient_line(buf_t *b, rng_t *r, const char **f, const char **g, uint64_t pid)
{
    b_puts(b, "患者ID: "); b_pad(b, pid, 8); b_puts(b, "  氏名: "); b_puts(b, f[0]);
    b_ch(b, ' '); b_puts(b, g[0]); b_puts(b, " ("); b_puts(b, f[1]); b_ch(b, ' ');
    b_puts(b, g[1]); b_puts(b, ")  生年月日: "); b_date(b, r, 1930, 2022); b_ch(b, '\n');
}

static void gen_doc(buf_t *b, const docmeta_t *d, rng_t *r, uint64_t idx)
{
    unsigned sex = rng_below(r, 2);
    const char **f = PICK(r, FAM), **g = GIV[sex][rng_below(r, 16)];
    uint64_t pid = rng_range(r, 1, 999999), tail = 0;
    const char *dept = DEPT[d->dept][1];

    b->len = 0;
    if (d->kind == 0) {
        b_puts(b, "診療記録 / Progress Note\n"); b_patient_line(b, r, f, g, pid);
        b_puts(b, "診療科: "); b_puts(b, dept); b_puts(b, "  文書番号: "); b_pad(b, idx, 8);
        b_puts(b, "\n----------------------------------------\n");
        while (b->len < d->target) {
            b_puts(b, "\n記載日時: "); b_ts(b, r, d->year, d->year); b_puts(b, "  記載者: 医師 ");
            b_doctor(b, r); b_puts(b, "\n[S] "); b_sentences(b, r, 1, 3);
            b_puts(b, "\n[O] "); b_vitals(b, r); b_puts(b, "。"); b_sentences(b, r, 1, 3);
            b_puts(b, "\n[A] "); b_puts(b, PICK(r, DIAG)[1]); b_puts(b, "。"); b_sentences(b, r, 0, 2);
            b_puts(b, "\n[P] "); b_sentences(b, r, 1, 3); b_ch(b, '\n');
        }
    } else if (d->kind == 1) {
        b_puts(b, "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n<title>退院サマリー 患者ID ");
        b_pad(b, pid, 8);
        b_puts(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/css/summary.css\">\n</head>\n<body>\n"
                  "<header><h1>退院サマリー</h1><p class=\"hospital\">Sakura General Hospital "
                  "さくら総合病院</p></header>\n<table class=\"patient\">\n<tr><th>患者ID</th><td>");
        b_pad(b, pid, 8); b_puts(b, "</td></tr>\n<tr><th>氏名</th><td>"); b_puts(b, f[0]); b_ch(b, ' ');
        b_puts(b, g[0]); b_puts(b, "</td></tr>\n<tr><th>診療科</th><td>"); b_puts(b, dept);
        b_puts(b, "</td></tr>\n<tr><th>入院日</th><td>"); b_date(b, r, d->year, d->year);
        b_puts(b, "</td></tr>\n<tr><th>主治医</th><td>"); b_doctor(b, r); b_puts(b, "</td></tr>\n</table>\n");
        tail = 16;
        while (b->len + tail < d->target) {
            b_puts(b, "<section>\n<h2>"); b_puts(b, PICK(r, SECTION)); b_puts(b, "</h2>\n");
            if (rng_below(r, 3) == 0) {
                b_puts(b, "<table class=\"labs\">\n<tr><th>項目</th><th>値</th><th>単位</th><th>判定</th></tr>\n");
                for (unsigned n = (unsigned)rng_range(r, 3, 8); n; n--) {
                    unsigned t = rng_below(r, sizeof(LAB) / sizeof(LAB[0]));
                    unsigned v = (unsigned)rng_range(r, LAB[t].lo, LAB[t].hi);
                    b_puts(b, "<tr><td>"); b_puts(b, LAB[t].name); b_puts(b, "</td><td>");
                    b_fix(b, v, LAB[t].dec); b_puts(b, "</td><td>"); b_puts(b, LAB[t].unit);
                    b_puts(b, "</td><td>");
                    b_ch(b, v < LAB[t].rlo ? 'L' : v > LAB[t].rhi ? 'H' : 'N');
                    b_puts(b, "</td></tr>\n");
                }
                b_puts(b, "</table>\n");
            }
            for (unsigned n = (unsigned)rng_range(r, 1, 3); n; n--) {
                b_puts(b, "<p>"); b_sentences(b, r, 2, 6); b_puts(b, "</p>\n");
            }
            b_puts(b, "</section>\n");
        }
        b_puts(b, "</body>\n</html>\n");
    } else {
        b_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
                  "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
                  "  <typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>\n"
                  "  <id root=\"1.2.392.200119.6.102.1131234567\" extension=\"");
        b_pad(b, idx, 8);
        b_puts(b, "\"/>\n  <code code=\"18842-5\" codeSystem=\"2.16.840.1.113883.6.1\" displayName=\"Discharge summary\"/>\n"
                  "  <effectiveTime value=\"");
        b_u64(b, d->year); b_pad(b, d->month, 2); b_pad(b, rng_range(r, 1, 28), 2);
        b_pad(b, rng_below(r, 24), 2); b_pad(b, rng_below(r, 60), 2);
        b_puts(b, "+0900\"/>\n  <recordTarget>\n    <patientRole>\n      <id root=\"1.2.392.200119.6.101\" extension=\"");
        b_pad(b, pid, 8);
        b_puts(b, "\"/>\n      <patient>\n        <name><family>"); b_puts(b, f[0]);
        b_puts(b, "</family><given>"); b_puts(b, g[0]); b_puts(b, "</given></name>\n"
                  "        <administrativeGenderCode code=\""); b_puts(b, sex ? "F" : "M");
        b_puts(b, "\" codeSystem=\"2.16.840.1.113883.5.1\"/>\n      </patient>\n    </patientRole>\n"
                  "  </recordTarget>\n  <component>\n    <structuredBody>\n");
        tail = 64;
        while (b->len + tail < d->target) {
            b_puts(b, "      <component>\n        <section>\n          <title>"); b_puts(b, PICK(r, SECTION));
            b_puts(b, "</title>\n          <text>"); b_sentences(b, r, 1, 4); b_puts(b, "</text>\n");
            for (unsigned n = (unsigned)rng_range(r, 1, 5); n; n--) {
                unsigned t = rng_below(r, sizeof(LAB) / sizeof(LAB[0]));
                unsigned v = (unsigned)rng_range(r, LAB[t].lo, LAB[t].hi);
                b_puts(b, "          <entry>\n            <observation classCode=\"OBS\" moodCode=\"EVN\">\n"
                          "              <code code=\""); b_puts(b, LAB[t].code);
                b_puts(b, "\" codeSystem=\"1.2.392.200119.4.504\" displayName=\""); b_puts(b, LAB[t].name);
                b_puts(b, "\"/>\n              <value xsi:type=\"PQ\" value=\""); b_fix(b, v, LAB[t].dec);
                b_puts(b, "\" unit=\""); b_puts(b, LAB[t].unit);
                b_puts(b, "\"/>\n              <interpretationCode code=\"");
                b_ch(b, v < LAB[t].rlo ? 'L' : v > LAB[t].rhi ? 'H' : 'N');
                b_puts(b, "\"/>\n            </observation>\n          </entry>\n");
            }
            b_puts(b, "        </section>\n      </component>\n");
        }
        b_puts(b, "    </structuredBody>\n  </component>\n</ClinicalDocument>\n");
    }
}

/* ------------------------------------------------------------- images */

typedef struct { unsigned mod, year; uint64_t size; } imgmeta_t;

static void img_path(char *p, size_t n, const imgmeta_t *m, const char *tag, uint64_t i)
{
    snprintf(p, n, "images/%s/%u/%s-%s%05llu.dcm", MODALITY[m->mod], m->year, MODALITY[m->mod], tag,
             (unsigned long long)i);
}

/* DICOM-like: 128-byte preamble, "DICM", a few readable tags, then noise. */
static void gen_img(buf_t *b, const imgmeta_t *m, rng_t *r, uint64_t idx)
{
    b->len = 0;
    if (b->cap < m->size + 1024) b_grow(b, m->size + 1024);
    memset(b->p, 0, 128);
    b->len = 128;
    b_puts(b, "DICM\nModality=");
    b_puts(b, MODALITY[m->mod]);
    b_puts(b, "\nPatientID="); b_pad(b, rng_range(r, 1, 999999), 8);
    b_puts(b, "\nStudyDate="); b_u64(b, m->year); b_pad(b, rng_range(r, 1, 12), 2); b_pad(b, rng_range(r, 1, 28), 2);
    b_puts(b, "\nInstitutionName=Sakura General Hospital\nSOPInstanceUID=1.2.392.200119.6.103.");
    b_u64(b, idx); b_puts(b, "\nTransferSyntax=1.2.840.10008.1.2.4.90\n\n");
    while (b->len + 8 <= m->size) {
        uint64_t v = rng_next(r);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap64(v);  /* same bytes on every CPU */
#endif
        memcpy(b->p + b->len, &v, 8);
        b->len += 8;
    }
    while (b->len < m->size) b->p[b->len++] = (char)rng_next(r);
}

static imgmeta_t img_meta(uint64_t seed, uint64_t stream, uint64_t i)
{
    rng_t r;
    imgmeta_t m;
    rng_init(&r, seed, stream, i);
    m.mod = rng_below(&r, sizeof(MODALITY) / sizeof(MODALITY[0]));
    m.year = 2019 + rng_below(&r, 6);
    m.size = rng_range(&r, 1 * MiB, 10 * MiB);
    return m;
}

/* ---------------------------------------------------------- the plan */

typedef struct {
    uint64_t seed, size;
    uint64_t ndocs, nimgs, last_img_size;  /* the last image is cut to fit the budget */
} plan_t;

static void make_plan(plan_t *p, uint64_t seed, uint64_t size)
{
    uint64_t docs_budget = size / 100 * 16, imgs_budget = size - dump_budget(size) - docs_budget, sum = 0;
    p->seed = seed; p->size = size;
    for (p->ndocs = 0; sum < docs_budget; p->ndocs++) sum += doc_meta(seed, S_DOCMETA, p->ndocs).target;
    sum = 0;
    p->last_img_size = 0;
    for (p->nimgs = 0; sum + 64 * KiB <= imgs_budget; p->nimgs++) {
        uint64_t s = img_meta(seed, S_IMGMETA, p->nimgs).size;
        if (sum + s > imgs_budget) s = imgs_budget - sum;
        p->last_img_size = s;
        sum += s;
    }
}

static imgmeta_t plan_img(const plan_t *p, uint64_t i)
{
    imgmeta_t m = img_meta(p->seed, S_IMGMETA, i);
    if (i + 1 == p->nimgs) m.size = p->last_img_size;
    return m;
}

/* -------------------------------------------------------- file output */

static char *g_root;

static void mkdirs_for(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_root, rel);
    for (char *s = path + strlen(g_root) + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(path, 0755) && errno != EEXIST) die("cannot create %s", path);
        *s = '/';
    }
    errno = 0;
}

/* Writes the buffer to rel unless the file already holds exactly these bytes. */
static int put_file(const char *rel, const buf_t *b, int check)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_root, rel);
    if (check) {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
            struct stat st;
            int same = 0;
            if (!fstat(fd, &st) && (uint64_t)st.st_size == b->len) {
                char *tmp = malloc(b->len + 1);
                size_t got;
                read_full(fd, tmp, b->len, &got);
                same = got == b->len && !memcmp(tmp, b->p, b->len);
                free(tmp);
            }
            close(fd);
            if (same) return 0;
        }
        errno = 0;
    }
    mkdirs_for(rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("cannot create %s", path);
    write_full(fd, b->p, b->len);
    if (close(fd)) die("cannot write %s", path);
    return 1;
}

static void remove_file(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_root, rel);
    if (unlink(path) && errno != ENOENT) die("cannot delete %s", path);
    errno = 0;
}

/* Writes the dump (optionally with edits) via a temporary file and rename. */
static uint64_t write_dump(const plan_t *p, const edit_t *ed, int ned, uint64_t step)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", g_root, DUMP_PATH);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    mkdirs_for(DUMP_PATH);
    sink_t s = {0};
    s.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (s.fd < 0) die("cannot create %s", tmp);
    uint64_t n = gen_dump(p->seed, p->size, ed, ned, step, &s);
    if (close(s.fd)) die("cannot write %s", tmp);
    if (rename(tmp, path)) die("cannot rename %s", tmp);
    return n;
}

/* ------------------------------------------------------------- sync */

static char **g_expect;
static size_t g_nexpect;
static uint64_t g_removed;

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int prune_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    if (ftw->level == 0) return 0;
    const char *rel = fpath + strlen(g_root) + 1;
    if (type == FTW_DP) { rmdir(fpath); errno = 0; return 0; }  /* only succeeds when empty */
    if (!bsearch(&rel, g_expect, g_nexpect, sizeof(char *), cmpstr)) {
        if (unlink(fpath)) die("cannot delete %s", fpath);
        g_removed++;
    }
    return 0;
}

static void cmd_sync(const plan_t *p)
{
    buf_t b = {0};
    char rel[512];
    uint64_t written = 0, bytes = 0;
    rng_t r;

    g_nexpect = 1 + p->ndocs + p->nimgs;
    g_expect = calloc(g_nexpect, sizeof(char *));
    g_expect[0] = strdup(DUMP_PATH);

    /* The dump: compare first, write only when it differs. */
    {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", g_root, DUMP_PATH);
        sink_t s = {0};
        s.compare = 1;
        s.fd = open(path, O_RDONLY);
        errno = 0;
        uint64_t n;
        if (s.fd >= 0) {
            n = gen_dump(p->seed, p->size, NULL, 0, 0, &s);
            char extra;
            size_t got;
            if (!s.differs) { read_full(s.fd, &extra, 1, &got); s.differs = got != 0; }
            close(s.fd);
        }
        if (s.fd < 0 || s.differs) { n = write_dump(p, NULL, 0, 0); written++; }
        bytes += n;
        free(s.cmp);
    }
    for (uint64_t i = 0; i < p->ndocs; i++) {
        docmeta_t d = doc_meta(p->seed, S_DOCMETA, i);
        doc_path(rel, sizeof rel, &d, "", i);
        rng_init(&r, p->seed, S_DOCBODY, i);
        gen_doc(&b, &d, &r, i);
        written += put_file(rel, &b, 1);
        bytes += b.len;
        g_expect[1 + i] = strdup(rel);
    }
    for (uint64_t i = 0; i < p->nimgs; i++) {
        imgmeta_t m = plan_img(p, i);
        img_path(rel, sizeof rel, &m, "", i);
        rng_init(&r, p->seed, S_IMGBODY, i);
        gen_img(&b, &m, &r, i);
        written += put_file(rel, &b, 1);
        bytes += b.len;
        g_expect[1 + p->ndocs + i] = strdup(rel);
    }
    qsort(g_expect, g_nexpect, sizeof(char *), cmpstr);
    if (nftw(g_root, prune_cb, 32, FTW_DEPTH | FTW_PHYS)) die("cannot walk %s", g_root);
    printf("gen-data: %llu files, %llu bytes (seed %llu): %llu written, %llu unchanged, %llu removed\n",
           (unsigned long long)g_nexpect, (unsigned long long)bytes, (unsigned long long)p->seed,
           (unsigned long long)written, (unsigned long long)(g_nexpect - written),
           (unsigned long long)g_removed);
    free(b.p);
}

/* ------------------------------------------------------------ mutate */

static int cmp_edit(const void *a, const void *b)
{
    uint64_t x = ((const edit_t *)a)->offset, y = ((const edit_t *)b)->offset;
    return x < y ? -1 : x > y;
}

/* n distinct indices below lim (n <= lim), marked in 'used'. */
static void pick_distinct(rng_t *r, uint64_t *out, uint64_t n, uint64_t lim, unsigned char *used)
{
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i;
        do i = rng_next(r) % lim; while (used[i]);
        used[i] = 1;
        out[k] = i;
    }
}

static void cmd_mutate(const plan_t *p, uint64_t step)
{
    rng_t r, body;
    buf_t b = {0};
    char rel[512];
    enum { NEDITS = 12 };
    edit_t ed[NEDITS];
    uint64_t db = dump_budget(p->size), changed = 0;

    rng_init(&r, p->seed, S_MUTPLAN, step);

    /* Dump: a dozen edits of 1-8 KiB between 20 % and 80 % of the file. */
    for (int i = 0; i < NEDITS; i++) {
        ed[i].offset = db / 5 + rng_next(&r) % (db * 3 / 5);
        ed[i].len = rng_range(&r, 1 * KiB, 8 * KiB);
        ed[i].insert = (int)rng_below(&r, 2);
        changed += ed[i].len;
    }
    qsort(ed, NEDITS, sizeof ed[0], cmp_edit);
    write_dump(p, ed, NEDITS, step);

    /* Documents: rewrite 1 %, delete 0.3 %, add 0.5 %. */
    uint64_t nrw = p->ndocs / 100 + 1, ndel = p->ndocs * 3 / 1000 + 1, nnew = p->ndocs / 200 + 1;
    if (nrw + ndel > p->ndocs) nrw = ndel = 0;
    unsigned char *used = calloc(p->ndocs + 1, 1);
    uint64_t *idx = calloc(nrw + ndel + 1, sizeof(uint64_t));
    pick_distinct(&r, idx, nrw + ndel, p->ndocs, used);
    for (uint64_t k = 0; k < nrw + ndel; k++) {
        docmeta_t d = doc_meta(p->seed, S_DOCMETA, idx[k]);
        doc_path(rel, sizeof rel, &d, "", idx[k]);
        if (k < nrw) {
            rng_init(&body, p->seed, S_MUTDOC, step * 1000003 + idx[k]);
            gen_doc(&b, &d, &body, idx[k]);
            put_file(rel, &b, 0);
            changed += b.len;
        } else {
            remove_file(rel);
        }
    }
    for (uint64_t k = 0; k < nnew; k++) {
        docmeta_t d = doc_meta(p->seed, S_NEWDOC, step * 1000003 + k);
        char tag[32];
        d.year = 2025;
        snprintf(tag, sizeof tag, "s%llu-", (unsigned long long)step);
        doc_path(rel, sizeof rel, &d, tag, k);
        rng_init(&body, p->seed, S_NEWDOC, step * 1000003 + k + 500000);
        gen_doc(&b, &d, &body, k);
        put_file(rel, &b, 0);
        changed += b.len;
    }

    /* Images: delete one, add new ones worth 0.7 % of the set. */
    uint64_t idel = 0;
    if (p->nimgs >= 4) {
        idel = rng_next(&r) % (p->nimgs - 1);
        imgmeta_t m = plan_img(p, idel);
        img_path(rel, sizeof rel, &m, "", idel);
        remove_file(rel);
    }
    uint64_t ibudget = p->size / 1000 * 7, isum = 0, inew = 0;
    for (; isum + 64 * KiB <= ibudget; inew++) {
        imgmeta_t m = img_meta(p->seed, S_NEWIMG, step * 1000003 + inew);
        char tag[32];
        if (isum + m.size > ibudget) m.size = ibudget - isum;
        m.year = 2025;
        snprintf(tag, sizeof tag, "s%llu-", (unsigned long long)step);
        img_path(rel, sizeof rel, &m, tag, inew);
        rng_init(&body, p->seed, S_NEWIMG, step * 1000003 + inew + 500000);
        gen_img(&b, &m, &body, inew);
        put_file(rel, &b, 0);
        isum += m.size;
    }
    changed += isum;
    printf("gen-data: mutation %llu: %d dump edits, %llu documents rewritten, %llu deleted, %llu added, "
           "%d image deleted, %llu added; about %llu bytes changed (%.2f %%)\n",
           (unsigned long long)step, NEDITS, (unsigned long long)nrw, (unsigned long long)ndel,
           (unsigned long long)nnew, p->nimgs >= 4, (unsigned long long)inew,
           (unsigned long long)changed, 100.0 * (double)changed / (double)p->size);
    free(used); free(idx); free(b.p);
}

#include "gen-small.h"

/* -------------------------------------------------------------- main */

static void usage(void);

/* The output directory: created, without trailing slashes. */
static void set_root(const char *dir)
{
    if (!dir) usage();
    g_root = strdup(dir);
    while (strlen(g_root) > 1 && g_root[strlen(g_root) - 1] == '/') g_root[strlen(g_root) - 1] = 0;
    if (mkdir(g_root, 0755) && errno != EEXIST) die("cannot create %s", g_root);
    errno = 0;
}

static int small_main(const char *cmd, const char *dir, int profile, uint64_t seed, uint64_t files, uint64_t step)
{
    tree_t t = {profile, seed, files};
    if (!files) { errno = 0; die("--files must be at least 1%s", ""); }
    if (!strcmp(cmd, "info")) { sm_info(&t); return 0; }
    set_root(dir);
    if (!strcmp(cmd, "generate") || !strcmp(cmd, "sync")) sm_sync(&t);
    else if (!strcmp(cmd, "mutate")) sm_mutate(&t, step);
    else usage();
    return 0;
}

static uint64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0) die("bad size %s", s);
    switch (*end) {
    case 'k': case 'K': v *= KiB; end++; break;
    case 'm': case 'M': v *= MiB; end++; break;
    case 'g': case 'G': v *= GiB; end++; break;
    case 't': case 'T': v *= 1024.0 * GiB; end++; break;
    }
    if (*end == 'i' && end[1] == 'B') end += 2;
    else if (*end == 'B') end++;
    if (*end) die("bad size %s", s);
    return (uint64_t)v;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: gen-data generate|sync [--profile P] [--seed N] [--size SIZE] [--files N] DIR\n"
            "       gen-data mutate [--profile P] [--seed N] [--size SIZE] [--files N] [--step K] DIR\n"
            "       gen-data info [--profile P] [--seed N] [--size SIZE] [--files N]\n"
            "profiles: hospital (default), smallfiles, folders, million, source\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, size = 2 * GiB, step = 1, files = 0;
    const char *cmd, *dir = NULL;
    int profile = P_HOSPITAL;

    if (argc < 2) usage();
    cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = parse_size(argv[++i]);
        else if (!strcmp(argv[i], "--step") && i + 1 < argc) step = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--files") && i + 1 < argc) files = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
            const char *name = argv[++i];
            for (profile = 0; profile < (int)(sizeof(PROFILE) / sizeof(PROFILE[0])); profile++)
                if (!strcmp(name, PROFILE[profile])) break;
            if (profile == (int)(sizeof(PROFILE) / sizeof(PROFILE[0]))) { errno = 0; die("unknown profile %s", name); }
        }
        else if (argv[i][0] == '-' || dir) usage();
        else dir = argv[i];
    }
    if (size < 4 * MiB) { errno = 0; die("size must be at least 4M%s", ""); }
    if (profile != P_HOSPITAL) return small_main(cmd, dir, profile, seed, files ? files : profile_default_files(profile), step);

    plan_t p;
    make_plan(&p, seed, size);
    if (!strcmp(cmd, "info")) {
        printf("seed %llu size %llu: dump ~%llu bytes, %llu documents, %llu images\n",
               (unsigned long long)seed, (unsigned long long)size,
               (unsigned long long)dump_budget(size), (unsigned long long)p.ndocs,
               (unsigned long long)p.nimgs);
        return 0;
    }
    set_root(dir);
    if (!strcmp(cmd, "generate") || !strcmp(cmd, "sync")) cmd_sync(&p);
    else if (!strcmp(cmd, "mutate")) cmd_mutate(&p, step);
    else usage();
    return 0;
}
