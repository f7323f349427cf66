/*
 * gen-dump.h — the pg_dump-style SQL dump: its tables, rows and edits.
 * Part of gen-data.c, which includes it: the generator stays one translation
 * unit, built with one `cc` command.
 */

/* ------------------------------------------------------------- dump */

/*
 * Tables in dump order with their share of the dump (percent).  patients is
 * written as INSERT statements (pg_dump --inserts style), the others as COPY.
 */
enum { T_PATIENTS, T_VISITS, T_LABS, T_RX, NTABLES };
static const unsigned TABLE_SHARE[NTABLES] = {20, 30, 35, 15};
static const char *TABLE_COPY[NTABLES] = {
    NULL,
    "COPY public.visits (visit_id, patient_id, department, admitted_at, discharged_at, attending, "
    "diagnosis_code, diagnosis, note) FROM stdin;\n",
    "COPY public.lab_results (result_id, visit_id, patient_id, test_code, test_name, value, unit, "
    "reference_range, flag, collected_at) FROM stdin;\n",
    "COPY public.prescriptions (rx_id, visit_id, patient_id, drug_code, drug_name, dose, frequency, "
    "days, prescriber, issued_at) FROM stdin;\n",
};

static const char DUMP_HEAD[] =
    "--\n-- PostgreSQL database dump\n--\n\n"
    "-- Dumped from database version 15.4\n-- Dumped by pg_dump version 15.4\n\n"
    "SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\n"
    "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n"
    "SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n"
    "SET xmloption = content;\nSET client_min_messages = warning;\nSET row_security = off;\n\n"
    "SET default_tablespace = '';\n\nSET default_table_access_method = heap;\n\n"
    "--\n-- Name: patients; Type: TABLE; Schema: public; Owner: hospital\n--\n\n"
    "CREATE TABLE public.patients (\n    patient_id bigint NOT NULL,\n    mrn character varying(16) NOT NULL,\n"
    "    family_name text NOT NULL,\n    given_name text NOT NULL,\n    family_kana text,\n    given_kana text,\n"
    "    name_romaji text,\n    sex character(1),\n    birth_date date,\n    blood_type character varying(3),\n"
    "    phone character varying(16),\n    postal_code character(8),\n    address text,\n"
    "    insurer_number character varying(8),\n    allergies text,\n    created_at timestamp with time zone,\n"
    "    updated_at timestamp with time zone\n);\n\n\nALTER TABLE public.patients OWNER TO hospital;\n\n"
    "--\n-- Name: visits; Type: TABLE; Schema: public; Owner: hospital\n--\n\n"
    "CREATE TABLE public.visits (\n    visit_id bigint NOT NULL,\n    patient_id bigint NOT NULL,\n"
    "    department character varying(4),\n    admitted_at timestamp with time zone,\n"
    "    discharged_at timestamp with time zone,\n    attending text,\n    diagnosis_code character varying(8),\n"
    "    diagnosis text,\n    note text\n);\n\n\nALTER TABLE public.visits OWNER TO hospital;\n\n"
    "--\n-- Name: lab_results; Type: TABLE; Schema: public; Owner: hospital\n--\n\n"
    "CREATE TABLE public.lab_results (\n    result_id bigint NOT NULL,\n    visit_id bigint NOT NULL,\n"
    "    patient_id bigint NOT NULL,\n    test_code character varying(8),\n    test_name text,\n"
    "    value numeric(10,2),\n    unit text,\n    reference_range text,\n    flag character(1),\n"
    "    collected_at timestamp with time zone\n);\n\n\nALTER TABLE public.lab_results OWNER TO hospital;\n\n"
    "--\n-- Name: prescriptions; Type: TABLE; Schema: public; Owner: hospital\n--\n\n"
    "CREATE TABLE public.prescriptions (\n    rx_id bigint NOT NULL,\n    visit_id bigint NOT NULL,\n"
    "    patient_id bigint NOT NULL,\n    drug_code character varying(12),\n    drug_name text,\n"
    "    dose text,\n    frequency text,\n    days integer,\n    prescriber text,\n"
    "    issued_at timestamp with time zone\n);\n\n\nALTER TABLE public.prescriptions OWNER TO hospital;\n\n";

static const char DUMP_TAIL[] =
    "--\n-- Name: patients patients_pkey; Type: CONSTRAINT; Schema: public; Owner: hospital\n--\n\n"
    "ALTER TABLE ONLY public.patients\n    ADD CONSTRAINT patients_pkey PRIMARY KEY (patient_id);\n\n"
    "ALTER TABLE ONLY public.visits\n    ADD CONSTRAINT visits_pkey PRIMARY KEY (visit_id);\n\n"
    "ALTER TABLE ONLY public.lab_results\n    ADD CONSTRAINT lab_results_pkey PRIMARY KEY (result_id);\n\n"
    "ALTER TABLE ONLY public.prescriptions\n    ADD CONSTRAINT prescriptions_pkey PRIMARY KEY (rx_id);\n\n"
    "CREATE INDEX visits_patient_idx ON public.visits USING btree (patient_id);\n\n"
    "CREATE INDEX lab_results_visit_idx ON public.lab_results USING btree (visit_id);\n\n"
    "--\n-- PostgreSQL database dump complete\n--\n\n";

typedef struct { uint64_t patients, visits; } dump_scale_t;

static void row_patient(buf_t *b, rng_t *r, uint64_t id)
{
    unsigned sex = rng_below(r, 2);
    const char **f = PICK(r, FAM), **g = GIV[sex][rng_below(r, 16)], **c = PICK(r, CITY);
    b_puts(b, "INSERT INTO public.patients VALUES ("); b_u64(b, id);
    b_puts(b, ", 'MRN-"); b_pad(b, 10000000 + id * 7 % 9000000, 8);
    b_puts(b, "', '"); b_puts(b, f[0]); b_puts(b, "', '"); b_puts(b, g[0]);
    b_puts(b, "', '"); b_puts(b, f[1]); b_puts(b, "', '"); b_puts(b, g[1]);
    b_puts(b, "', '"); b_puts(b, f[2]); b_ch(b, ' '); b_puts(b, g[2]);
    b_puts(b, sex ? "', 'F', '" : "', 'M', '"); b_date(b, r, 1930, 2022);
    b_puts(b, "', '"); b_puts(b, PICK(r, BLOOD));
    b_puts(b, "', '0"); b_u64(b, rng_range(r, 70, 90)); b_ch(b, '-');
    b_pad(b, rng_below(r, 10000), 4); b_ch(b, '-'); b_pad(b, rng_below(r, 10000), 4);
    b_puts(b, "', '"); b_pad(b, rng_range(r, 100, 999), 3); b_ch(b, '-'); b_pad(b, rng_below(r, 10000), 4);
    b_puts(b, "', '"); b_puts(b, c[0]); b_puts(b, c[1]); b_puts(b, PICK(r, TOWN));
    b_u64(b, rng_range(r, 1, 9)); b_ch(b, '-'); b_u64(b, rng_range(r, 1, 30)); b_ch(b, '-');
    b_u64(b, rng_range(r, 1, 20));
    b_puts(b, "', '"); b_pad(b, rng_range(r, 1000000, 39999999), 8);
    uint32_t a = rng_below(r, 10);
    if (a < 6) b_puts(b, "', 'なし', '");
    else if (a < 9) { b_puts(b, "', '"); b_puts(b, PICK(r, ALLERGY)); b_puts(b, "', '"); }
    else b_puts(b, "', NULL, '");
    b_ts(b, r, 2012, 2019); b_puts(b, "', '"); b_ts(b, r, 2020, 2024); b_puts(b, "');\n");
}

static void row_visit(buf_t *b, rng_t *r, uint64_t id, const dump_scale_t *sc)
{
    const char **d = PICK(r, DIAG);
    b_u64(b, id); b_ch(b, '\t'); b_u64(b, rng_range(r, 1, sc->patients)); b_ch(b, '\t');
    b_puts(b, PICK(r, DEPT)[0]); b_ch(b, '\t'); b_ts(b, r, 2019, 2024); b_ch(b, '\t');
    if (rng_below(r, 8)) b_ts(b, r, 2019, 2024); else b_puts(b, "\\N");
    b_ch(b, '\t'); b_doctor(b, r); b_ch(b, '\t'); b_puts(b, d[0]); b_ch(b, '\t');
    b_puts(b, d[1]); b_ch(b, '\t'); b_sentences(b, r, 1, 5); b_ch(b, '\n');
}

static void row_lab(buf_t *b, rng_t *r, uint64_t id, const dump_scale_t *sc)
{
    unsigned t = rng_below(r, sizeof(LAB) / sizeof(LAB[0]));
    unsigned v = (unsigned)rng_range(r, LAB[t].lo, LAB[t].hi);
    b_u64(b, id); b_ch(b, '\t'); b_u64(b, rng_range(r, 1, sc->visits)); b_ch(b, '\t');
    b_u64(b, rng_range(r, 1, sc->patients)); b_ch(b, '\t');
    b_puts(b, LAB[t].code); b_ch(b, '\t'); b_puts(b, LAB[t].name); b_ch(b, '\t');
    b_fix(b, v, LAB[t].dec); b_ch(b, '\t'); b_puts(b, LAB[t].unit); b_ch(b, '\t');
    b_fix(b, LAB[t].rlo, LAB[t].dec); b_ch(b, '-'); b_fix(b, LAB[t].rhi, LAB[t].dec); b_ch(b, '\t');
    b_ch(b, v < LAB[t].rlo ? 'L' : v > LAB[t].rhi ? 'H' : 'N'); b_ch(b, '\t');
    b_ts(b, r, 2019, 2024); b_ch(b, '\n');
}

static void row_rx(buf_t *b, rng_t *r, uint64_t id, const dump_scale_t *sc)
{
    const char **d = PICK(r, DRUG);
    b_u64(b, id); b_ch(b, '\t'); b_u64(b, rng_range(r, 1, sc->visits)); b_ch(b, '\t');
    b_u64(b, rng_range(r, 1, sc->patients)); b_ch(b, '\t');
    b_puts(b, d[0]); b_pad(b, rng_below(r, 1000), 3); b_ch(b, '\t'); b_puts(b, d[1]); b_ch(b, '\t');
    b_u64(b, rng_range(r, 1, 3)); b_puts(b, rng_below(r, 4) ? "錠" : "包"); b_ch(b, '\t');
    b_puts(b, PICK(r, FREQ)); b_ch(b, '\t'); b_u64(b, rng_range(r, 3, 90)); b_ch(b, '\t');
    b_doctor(b, r); b_ch(b, '\t'); b_ts(b, r, 2019, 2024); b_ch(b, '\n');
}

static void gen_row(int table, buf_t *b, rng_t *r, uint64_t id, const dump_scale_t *sc)
{
    switch (table) {
    case T_PATIENTS: row_patient(b, r, id); break;
    case T_VISITS: row_visit(b, r, id, sc); break;
    case T_LABS: row_lab(b, r, id, sc); break;
    default: row_rx(b, r, id, sc); break;
    }
}

/* A place in the dump where the mutation replaces or inserts rows. */
typedef struct { uint64_t offset, len; int insert; } edit_t;

/*
 * The sink either writes the stream to fd or compares it with fd's contents
 * (to find out whether an existing dump is already the wanted one).
 */
typedef struct { int fd, compare, differs; char *cmp; } sink_t;

static void read_full(int fd, char *p, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t k = read(fd, p + *got, n - *got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) die("read failed%s", "");
        if (k == 0) break;
        *got += (size_t)k;
    }
}

static void write_full(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) die("write failed%s", "");
        p += k; n -= (size_t)k;
    }
}

static void sink_flush(sink_t *s, buf_t *b)
{
    if (!b->len) return;
    if (s->compare) {
        size_t got;
        if (!s->differs) {
            s->cmp = realloc(s->cmp, b->len);
            read_full(s->fd, s->cmp, b->len, &got);
            if (got != b->len || memcmp(s->cmp, b->p, b->len)) s->differs = 1;
        }
    } else {
        write_full(s->fd, b->p, b->len);
    }
    b->len = 0;
}

static uint64_t dump_budget(uint64_t size) { return size / 100 * 34; }

/*
 * Streams the dump into the sink.  Table sizes are decided on the position in
 * the *base* stream, and every base row is generated even where an edit skips
 * it, so the bytes after an edit are identical to the base dump.
 */
static uint64_t gen_dump(uint64_t seed, uint64_t size, const edit_t *ed, int ned,
                         uint64_t step, sink_t *s)
{
    rng_t r, m;
    buf_t out = {0}, row = {0};
    uint64_t budget = dump_budget(size), base = 0, total = 0, end = 0, newid = 900000000;
    dump_scale_t sc;
    int e = 0;
    uint64_t skip = 0;

    rng_init(&r, seed, S_DUMP, 0);
    rng_init(&m, seed, S_MUTDUMP, step);
    sc.patients = budget / 100 * TABLE_SHARE[T_PATIENTS] / 330 + 1;
    sc.visits = budget / 100 * TABLE_SHARE[T_VISITS] / 280 + 1;

    b_puts(&out, DUMP_HEAD);
    base += out.len;
    for (int t = 0; t < NTABLES; t++) {
        size_t hdr = out.len;
        end += budget / 100 * TABLE_SHARE[t];
        b_puts(&out, "--\n-- Data for Name: ");
        b_puts(&out, t == T_PATIENTS ? "patients" : t == T_VISITS ? "visits" : t == T_LABS ? "lab_results" : "prescriptions");
        b_puts(&out, "; Type: TABLE DATA; Schema: public; Owner: hospital\n--\n\n");
        if (TABLE_COPY[t]) b_puts(&out, TABLE_COPY[t]);
        base += out.len - hdr;  /* header bytes are identical in base and edited dumps */
        skip = 0;
        for (uint64_t id = 1; base < end; id++) {
            row.len = 0;
            gen_row(t, &row, &r, id, &sc);
            base += row.len;
            if (skip) {
                /* Replaced row: same key, new contents from the mutation stream. */
                skip = skip > row.len ? skip - row.len : 0;
                gen_row(t, &out, &m, id, &sc);
            } else {
                b_put(&out, row.p, row.len);
            }
            while (e < ned && base >= ed[e].offset) {
                if (ed[e].insert) {
                    /* Inserted rows with fresh keys. */
                    for (uint64_t n = 0; n < ed[e].len;) {
                        size_t before = out.len;
                        gen_row(t, &out, &m, newid++, &sc);
                        n += out.len - before;
                    }
                } else {
                    skip += ed[e].len;
                }
                e++;
            }
            if (out.len >= 1 * MiB) { total += out.len; sink_flush(s, &out); }
        }
        hdr = out.len;
        b_puts(&out, TABLE_COPY[t] ? "\\.\n\n\n" : "\n\n");
        base += out.len - hdr;
    }
    b_puts(&out, DUMP_TAIL);
    total += out.len;
    sink_flush(s, &out);
    free(out.p); free(row.p);
    return total;
}
