/*
 * gen-small.h — the many-small-files profiles: smallfiles, folders, million.
 * Part of gen-data.c, which includes it: the generator stays one translation
 * unit, built with one `cc` command.
 *
 *   smallfiles  patients/P<id>/<yyyy-mm-dd>/<kind>-<nn>.<ext>: 50 files of
 *               1-8 KiB per patient over 10 visit dates (notes, lab tables,
 *               prescriptions); default 100,000 files.
 *   folders     notes/<dept>/P<id>/note.txt: one note of 200 B-2 KiB per
 *               folder, the folder-heavy tree; default 20,000 folders.
 *   million     scans/P<id>/img-<nnn>.jpg: 500 JPEG-like files of 64-600
 *               bytes per patient folder (random bytes behind a small
 *               header, the shape of a thumbnail or scanned-page store);
 *               default 1,000,000 files in 2,000 folders.
 *   source      src/<m>/<d>/.../<name>.c|.h|.py|.md: a source-code tree,
 *               text files of 200 B-120 KiB (most a few KiB) in folders 2
 *               to 7 deep, 30 files to a folder, each with the project's
 *               license header; default 80,000 files, about 1.4 GB.
 *
 * Every file's path, size and mtime come from its own PRNG stream (seed,
 * index), its bytes from another, so sync can check a file with one lstat:
 * base files carry a fixed, old mtime that no mutation ever writes, and a
 * file whose size and mtime match was not touched.  Nothing reads file
 * contents back, which keeps the million-file tree cheap to generate and
 * to revert.
 */

enum { P_HOSPITAL, P_SMALLFILES, P_FOLDERS, P_MILLION, P_SOURCE };
static const char *PROFILE[] = {"hospital", "smallfiles", "folders", "million", "source"};

/* PRNG streams of the small profiles; distinct from the hospital ones. */
enum { S_SM_META = 101, S_SM_BODY, S_SM_MUTPLAN, S_SM_MUTBODY, S_SM_NEW, S_SM_NEWBODY };

enum { SM_PER_PATIENT = 50, SM_VISITS = 10, MILLION_PER_FOLDER = 500, SRC_PER_FOLDER = 30 };

typedef struct {
    int profile;
    uint64_t seed, files;
} tree_t;

typedef struct { uint64_t size; int64_t mtime; unsigned kind; } smeta_t;

static uint64_t profile_default_files(int profile)
{
    return profile == P_SMALLFILES ? 100000 : profile == P_FOLDERS ? 20000
         : profile == P_SOURCE     ? 80000
                                   : 1000000;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, unsigned *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

/* Day number of a smallfiles patient's visit v: visits are increasing dates. */
static int64_t sm_visit_day(uint64_t seed, uint64_t patient, unsigned v)
{
    rng_t r;
    rng_init(&r, seed, S_SM_META, ~patient);
    int64_t day = 16436 + (int64_t)rng_below(&r, 1200);  /* 2015-01-01 + up to ~3 years */
    for (unsigned k = 0; k < v; k++) day += 1 + (int64_t)rng_below(&r, 120);
    return day;
}

static smeta_t sm_meta(const tree_t *t, uint64_t stream, uint64_t i)
{
    rng_t r;
    smeta_t m;
    rng_init(&r, t->seed, stream, i);
    m.kind = rng_below(&r, 3);
    unsigned band = rng_below(&r, 10);
    m.size = t->profile == P_SMALLFILES ? rng_range(&r, 1 * KiB, 8 * KiB)
           : t->profile == P_FOLDERS    ? rng_range(&r, 200, 2 * KiB)
           : t->profile == P_SOURCE     ? (band < 6   ? rng_range(&r, 200, 8 * KiB)
                                           : band < 9 ? rng_range(&r, 8 * KiB, 40 * KiB)
                                                      : rng_range(&r, 40 * KiB, 120 * KiB))
                                        : rng_range(&r, 64, 600);
    /* Between 2015 and 2024, whole seconds: the same on every file system. */
    m.mtime = 1420070400 + (int64_t)rng_below(&r, 315360000);
    if (t->profile == P_SMALLFILES)  /* a note is written on its visit day */
        m.mtime = sm_visit_day(t->seed, i / SM_PER_PATIENT, (unsigned)(i % SM_PER_PATIENT) / 5) * 86400
                + 28800 + (int64_t)rng_below(&r, 36000);
    return m;
}

static const char *SM_KIND[] = {"note", "lab", "rx"};
static const char *SM_EXT[] = {"txt", "tsv", "txt"};

/* Identifiers of the source profile: part_part names, as C code has them. */
static const char *SRC_PART[] = {
    "buf", "len", "ctx", "node", "list", "item", "entry", "table", "hash", "key", "value",
    "read", "write", "open", "close", "init", "free", "alloc", "parse", "emit", "check",
    "find", "next", "prev", "count", "size", "index", "state", "flags", "mode", "path",
    "name", "file", "dir", "lock", "wait", "queue", "pool", "task", "job", "event", "timer",
    "sock", "conn", "peer", "send", "recv", "frame", "block", "page", "cache", "store",
    "patient", "order", "result", "ward", "visit", "record", "image", "report", "dose"};
static const char *SRC_TYPE[] = {"int", "size_t", "bool", "uint32_t", "uint64_t", "const char *",
                                 "struct entry *", "void *", "double", "ssize_t"};
static const char *SRC_EXTS[] = {"c", "c", "c", "h", "h", "py", "md", "c"};
static const char SRC_LICENSE[] =
    "/*\n"
    " * Copyright (c) 2009-2024 The Hospital Information Systems Project contributors.\n"
    " *\n"
    " * Licensed under the Apache License, Version 2.0 (the \"License\"); you may not\n"
    " * use this file except in compliance with the License. You may obtain a copy of\n"
    " * the License at http://www.apache.org/licenses/LICENSE-2.0. Unless required by\n"
    " * applicable law or agreed to in writing, software distributed under the License\n"
    " * is distributed on an \"AS IS\" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY\n"
    " * KIND, either express or implied.\n"
    " */\n";

/* Path of base file i. */
static void sm_path(const tree_t *t, uint64_t i, char *p, size_t n)
{
    if (t->profile == P_SMALLFILES) {
        uint64_t patient = i / SM_PER_PATIENT;
        unsigned j = (unsigned)(i % SM_PER_PATIENT), y, mo, d;
        civil_from_days(sm_visit_day(t->seed, patient, j / 5), &y, &mo, &d);
        smeta_t m = sm_meta(t, S_SM_META, i);
        snprintf(p, n, "patients/P%07llu/%u-%02u-%02u/%s-%02u.%s", (unsigned long long)(patient + 1),
                 y, mo, d, SM_KIND[m.kind], j % 5, SM_EXT[m.kind]);
    } else if (t->profile == P_FOLDERS) {
        unsigned dept = (unsigned)(i * 7 % (sizeof(DEPT) / sizeof(DEPT[0])));
        snprintf(p, n, "notes/%s/P%07llu/note.txt", DEPT[dept][2], (unsigned long long)(i + 1));
    } else if (t->profile == P_SOURCE) {
        /* The folder's path from its own stream: 2 to 7 levels under src/,
         * few names per level, so folders share their upper levels. */
        uint64_t folder = i / SRC_PER_FOLDER;
        rng_t r;
        rng_init(&r, t->seed, S_SM_META, ~(folder << 8));
        unsigned depth = 2 + rng_below(&r, 6);
        size_t o = (size_t)snprintf(p, n, "src");
        for (unsigned k = 0; k < depth && o < n; k++)
            o += (size_t)snprintf(p + o, n - o, "/%s%s%u", k ? "" : "m", SRC_PART[rng_below(&r, 60)],
                                  k ? (unsigned)rng_below(&r, 4) : (unsigned)(folder % 16));
        rng_t f;
        rng_init(&f, t->seed, S_SM_META, i);
        if (o < n)
            snprintf(p + o, n - o, "/%s_%s%03u.%s", SRC_PART[rng_below(&f, 60)], SRC_PART[rng_below(&f, 60)],
                     (unsigned)(i % SRC_PER_FOLDER), SRC_EXTS[rng_below(&f, 8)]);
    } else {
        snprintf(p, n, "scans/P%07llu/img-%03u.jpg", (unsigned long long)(i / MILLION_PER_FOLDER + 1),
                 (unsigned)(i % MILLION_PER_FOLDER));
    }
}

/* An identifier of one to three parts. */
static void src_ident(buf_t *b, rng_t *r)
{
    unsigned n = 1 + rng_below(r, 3);
    for (unsigned k = 0; k < n; k++) {
        if (k) b_ch(b, '_');
        b_puts(b, SRC_PART[rng_below(r, 60)]);
    }
}

/* Code-like text of exactly `size` bytes: the license, then functions of
 * declarations, conditions, calls and comments. */
static void src_text(buf_t *b, rng_t *r, uint64_t size)
{
    b->len = 0;
    b_puts(b, SRC_LICENSE);
    while (b->len < size) {
        b_puts(b, "\n/* "); src_ident(b, r); b_puts(b, ": "); src_ident(b, r); b_puts(b, " of the ");
        src_ident(b, r); b_puts(b, ". */\nstatic "); b_puts(b, SRC_TYPE[rng_below(r, 10)]); b_ch(b, ' ');
        src_ident(b, r); b_ch(b, '('); b_puts(b, SRC_TYPE[rng_below(r, 10)]); b_ch(b, ' ');
        src_ident(b, r); b_puts(b, ", "); b_puts(b, SRC_TYPE[rng_below(r, 10)]); b_ch(b, ' ');
        src_ident(b, r); b_puts(b, ")\n{\n");
        for (unsigned k = 0, lines = 3 + rng_below(r, 12); k < lines && b->len < size; k++) {
            unsigned kind = rng_below(r, 5);
            b_puts(b, "    ");
            if (kind == 0) {
                b_puts(b, SRC_TYPE[rng_below(r, 10)]); b_ch(b, ' '); src_ident(b, r); b_puts(b, " = ");
                src_ident(b, r); b_puts(b, "->"); src_ident(b, r); b_puts(b, ";\n");
            } else if (kind == 1) {
                b_puts(b, "if ("); src_ident(b, r); b_puts(b, " < "); b_u64(b, rng_below(r, 4096));
                b_puts(b, ")\n        return -E"); b_puts(b, rng_below(r, 2) ? "INVAL" : "NOMEM"); b_puts(b, ";\n");
            } else if (kind == 2) {
                b_puts(b, "rc = "); src_ident(b, r); b_ch(b, '('); src_ident(b, r); b_puts(b, ", ");
                src_ident(b, r); b_puts(b, ");\n");
            } else if (kind == 3) {
                b_puts(b, "for (size_t i = 0; i < "); src_ident(b, r); b_puts(b, "; i++)\n        ");
                src_ident(b, r); b_puts(b, "[i] = 0;\n");
            } else {
                b_puts(b, "/* "); src_ident(b, r); b_ch(b, ' '); src_ident(b, r); b_puts(b, " */\n");
            }
        }
        b_puts(b, "    return 0;\n}\n");
    }
    b->len = size;
}

/* Text of about m->size bytes, cut to exactly that size. */
static void sm_text(buf_t *b, rng_t *r, unsigned kind, uint64_t size, uint64_t idx)
{
    b->len = 0;
    b_puts(b, kind == 0 ? "診療記録 / Progress Note\n" : kind == 1 ? "検査結果 / Lab Results\n" : "処方箋 / Prescription\n");
    b_puts(b, "患者ID: "); b_pad(b, idx / SM_PER_PATIENT + 1, 8);
    b_puts(b, "  記載者: "); b_doctor(b, r); b_puts(b, "  日時: "); b_ts(b, r, 2015, 2024); b_ch(b, '\n');
    while (b->len < size) {
        if (kind == 1) {
            unsigned k = rng_below(r, sizeof(LAB) / sizeof(LAB[0]));
            unsigned v = (unsigned)rng_range(r, LAB[k].lo, LAB[k].hi);
            b_puts(b, LAB[k].code); b_ch(b, '\t'); b_puts(b, LAB[k].name); b_ch(b, '\t');
            b_fix(b, v, LAB[k].dec); b_ch(b, '\t'); b_puts(b, LAB[k].unit); b_ch(b, '\t');
            b_ch(b, v < LAB[k].rlo ? 'L' : v > LAB[k].rhi ? 'H' : 'N'); b_ch(b, '\n');
        } else if (kind == 2) {
            const char **d = PICK(r, DRUG);
            b_puts(b, d[0]); b_ch(b, ' '); b_puts(b, d[1]); b_ch(b, ' ');
            b_u64(b, rng_range(r, 1, 3)); b_puts(b, "錠 "); b_puts(b, PICK(r, FREQ));
            b_ch(b, ' '); b_u64(b, rng_range(r, 3, 90)); b_puts(b, "日分\n");
        } else {
            b_puts(b, "[S] "); b_sentences(b, r, 1, 3); b_puts(b, "\n[O] "); b_vitals(b, r);
            b_puts(b, "\n[A/P] "); b_sentences(b, r, 1, 3); b_ch(b, '\n');
        }
    }
    b->len = size;
}

/* JPEG-like: SOI and a JFIF-style header naming the page, then noise. */
static void sm_scan(buf_t *b, rng_t *r, uint64_t size, uint64_t idx)
{
    b->len = 0;
    if (b->cap < size + 64) b_grow(b, size + 64);
    b_put(b, "\xff\xd8\xff\xe0\x00\x10JFIF\x00", 11);
    b_puts(b, "P"); b_pad(b, idx / MILLION_PER_FOLDER + 1, 7); b_puts(b, "/"); b_pad(b, idx % MILLION_PER_FOLDER, 3);
    while (b->len < size) {
        uint64_t v = rng_next(r);
        for (int k = 0; k < 8 && b->len < size; k++, v >>= 8) b->p[b->len++] = (char)(v & 0xff);
    }
    b->len = size;
}

static void sm_body(const tree_t *t, buf_t *b, const smeta_t *m, uint64_t stream, uint64_t key, uint64_t idx)
{
    rng_t r;
    rng_init(&r, t->seed, stream, key);
    if (t->profile == P_MILLION) sm_scan(b, &r, m->size, idx);
    else if (t->profile == P_SOURCE) src_text(b, &r, m->size);
    else sm_text(b, &r, t->profile == P_FOLDERS ? 0 : m->kind, m->size, idx);
}

/* ------------------------------------------------------------ output */

/* Creates the directories of rel, skipping the ones made for the last file. */
static void sm_mkdirs(const char *rel)
{
    static char last[512];
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    if (n == strlen(last) && !strncmp(last, rel, n)) return;
    mkdirs_for(rel);
    snprintf(last, sizeof last, "%.*s", (int)n, rel);
}

/* Writes rel with the buffer's bytes; mtime < 0 leaves the time of writing. */
static void sm_write(const char *rel, const buf_t *b, int64_t mtime)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_root, rel);
    sm_mkdirs(rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("cannot create %s", path);
    write_full(fd, b->p, b->len);
    if (mtime >= 0) {
        struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        if (futimens(fd, ts)) die("cannot set the time of %s", path);
    }
    if (close(fd)) die("cannot write %s", path);
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int empty = 1;
    if (!d) die("cannot open %s", dir);
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    errno = 0;
    return empty;
}

/* Brings the root to the base state; see the header comment on the checks. */
static void sm_sync(const tree_t *t)
{
    buf_t b = {0};
    char rel[512], path[4096];
    uint64_t written = 0, bytes = 0;
    int fresh = dir_is_empty(g_root);

    g_nexpect = t->files;
    g_expect = fresh ? NULL : calloc(g_nexpect, sizeof(char *));
    for (uint64_t i = 0; i < t->files; i++) {
        smeta_t m = sm_meta(t, S_SM_META, i);
        struct stat st;
        sm_path(t, i, rel, sizeof rel);
        bytes += m.size;
        if (!fresh) {
            g_expect[i] = strdup(rel);
            snprintf(path, sizeof path, "%s/%s", g_root, rel);
            if (!lstat(path, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size == m.size &&
                st.st_mtim.tv_sec == m.mtime && st.st_mtim.tv_nsec == 0)
                continue;
            errno = 0;
            unlink(path);  /* a directory or link in its place is an error below */
            errno = 0;
        }
        sm_body(t, &b, &m, S_SM_BODY, i, i);
        sm_write(rel, &b, m.mtime);
        written++;
    }
    if (!fresh) {
        qsort(g_expect, g_nexpect, sizeof(char *), cmpstr);
        if (nftw(g_root, prune_cb, 32, FTW_DEPTH | FTW_PHYS)) die("cannot walk %s", g_root);
    }
    printf("gen-data: %s: %llu files, %llu bytes (seed %llu): %llu written, %llu unchanged, %llu removed\n",
           PROFILE[t->profile], (unsigned long long)t->files, (unsigned long long)bytes,
           (unsigned long long)t->seed, (unsigned long long)written,
           (unsigned long long)(t->files - written), (unsigned long long)g_removed);
    free(b.p);
}

/* Path of the k-th file added by mutation step: beside base file 'near'
 * (smallfiles, million) or in a folder of its own (folders). */
static void sm_new_path(const tree_t *t, uint64_t step, uint64_t k, uint64_t near, char *p, size_t n)
{
    char base[256];
    sm_path(t, near, base, sizeof base);
    char *slash = strrchr(base, '/');
    *slash = 0;
    if (t->profile == P_FOLDERS) {
        *strrchr(base, '/') = 0;
        snprintf(p, n, "%s/N%llu-%06llu/note.txt", base, (unsigned long long)step, (unsigned long long)k);
    } else {
        snprintf(p, n, "%s/new-s%llu-%04llu.%s", base, (unsigned long long)step, (unsigned long long)k,
                 t->profile == P_MILLION ? "jpg" : t->profile == P_SOURCE ? "c" : "txt");
    }
}

/* About 1 % of the files: 0.5 % rewritten (new size and bytes), 0.3 %
 * deleted, 0.2 % added.  Rewritten and added files get the time of writing. */
static void sm_mutate(const tree_t *t, uint64_t step)
{
    rng_t r;
    buf_t b = {0};
    char rel[512];
    uint64_t nrw = t->files / 200 + 1, ndel = t->files * 3 / 1000 + 1, nnew = t->files / 500 + 1, changed = 0;
    if (nrw + ndel > t->files) nrw = ndel = 0;

    rng_init(&r, t->seed, S_SM_MUTPLAN, step);
    unsigned char *used = calloc(t->files + 1, 1);
    uint64_t *idx = calloc(nrw + ndel + 1, sizeof(uint64_t));
    pick_distinct(&r, idx, nrw + ndel, t->files, used);
    for (uint64_t k = 0; k < nrw + ndel; k++) {
        sm_path(t, idx[k], rel, sizeof rel);
        if (k < nrw) {
            smeta_t m = sm_meta(t, S_SM_MUTPLAN, step * 1000003 + idx[k]);
            m.kind = sm_meta(t, S_SM_META, idx[k]).kind;  /* what its name says it is */
            sm_body(t, &b, &m, S_SM_MUTBODY, step * 1000003 + idx[k], idx[k]);
            sm_write(rel, &b, -1);
            changed += b.len;
        } else {
            remove_file(rel);
        }
    }
    for (uint64_t k = 0; k < nnew; k++) {
        uint64_t near = rng_next(&r) % t->files;
        smeta_t m = sm_meta(t, S_SM_NEW, step * 1000003 + k);
        sm_new_path(t, step, k, near, rel, sizeof rel);
        sm_body(t, &b, &m, S_SM_NEWBODY, step * 1000003 + k, near);
        sm_write(rel, &b, -1);
        changed += b.len;
    }
    printf("gen-data: %s mutation %llu: %llu files rewritten, %llu deleted, %llu added; %llu bytes written\n",
           PROFILE[t->profile], (unsigned long long)step, (unsigned long long)nrw,
           (unsigned long long)ndel, (unsigned long long)nnew, (unsigned long long)changed);
    free(used); free(idx); free(b.p);
}

static void sm_info(const tree_t *t)
{
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < t->files; i++) bytes += sm_meta(t, S_SM_META, i).size;
    printf("profile %s seed %llu files %llu: %llu bytes\n", PROFILE[t->profile], (unsigned long long)t->seed,
           (unsigned long long)t->files, (unsigned long long)bytes);
}
