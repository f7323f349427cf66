/*
 * gen-data — deterministic, seeded generator of a hospital-like data set.
 *
 *   gen-data generate [--seed N] [--size SIZE] DIR
 *   gen-data sync     [--seed N] [--size SIZE] DIR   (same as generate)
 *   gen-data mutate   [--seed N] [--size SIZE] [--step K] DIR
 *   gen-data info     [--seed N] [--size SIZE]
 *
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

/* ---------------------------------------------------------------- PRNG */

typedef struct { uint64_t s[4]; } rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_init(rng_t *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL ^ stream * 0xd1b54a32d192ed03ULL
               ^ index * 0xaf251af3b0f025b5ULL;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, n); multiply-shift, deterministic everywhere. */
static inline uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline uint64_t rng_range(rng_t *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_next(r) % (hi - lo + 1);
}

#define PICK(r, arr) (arr[rng_below((r), sizeof(arr) / sizeof(arr[0]))])

/* -------------------------------------------------------------- buffer */

typedef struct { char *p; size_t len, cap; } buf_t;

static void b_grow(buf_t *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) die("out of memory%s", "");
    b->cap = cap;
}

static inline void b_put(buf_t *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) b_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static inline void b_puts(buf_t *b, const char *s) { b_put(b, s, strlen(s)); }

static inline void b_ch(buf_t *b, char c)
{
    if (b->len + 1 > b->cap) b_grow(b, 1);
    b->p[b->len++] = c;
}

static void b_u64(buf_t *b, uint64_t v)
{
    char t[24];
    int n = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    if (b->len + n > b->cap) b_grow(b, n);
    while (n) b->p[b->len++] = t[--n];
}

/* Zero-padded to width w. */
static void b_pad(buf_t *b, uint64_t v, int w)
{
    char t[24];
    int n = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n < w) t[n++] = '0';
    if (b->len + n > b->cap) b_grow(b, n);
    while (n) b->p[b->len++] = t[--n];
}

/* Fixed-point number v / 10^dec. */
static void b_fix(buf_t *b, uint64_t v, int dec)
{
    uint64_t p = 1;
    for (int i = 0; i < dec; i++) p *= 10;
    b_u64(b, v / p);
    if (dec) { b_ch(b, '.'); b_pad(b, v % p, dec); }
}

/* ------------------------------------------------------ word material */

static const char *FAM[][3] = {
    {"佐藤", "サトウ", "Sato"}, {"鈴木", "スズキ", "Suzuki"}, {"高橋", "タカハシ", "Takahashi"},
    {"田中", "タナカ", "Tanaka"}, {"伊藤", "イトウ", "Ito"}, {"渡辺", "ワタナベ", "Watanabe"},
    {"山本", "ヤマモト", "Yamamoto"}, {"中村", "ナカムラ", "Nakamura"}, {"小林", "コバヤシ", "Kobayashi"},
    {"加藤", "カトウ", "Kato"}, {"吉田", "ヨシダ", "Yoshida"}, {"山田", "ヤマダ", "Yamada"},
    {"佐々木", "ササキ", "Sasaki"}, {"山口", "ヤマグチ", "Yamaguchi"}, {"松本", "マツモト", "Matsumoto"},
    {"井上", "イノウエ", "Inoue"}, {"木村", "キムラ", "Kimura"}, {"林", "ハヤシ", "Hayashi"},
    {"斎藤", "サイトウ", "Saito"}, {"清水", "シミズ", "Shimizu"}, {"山崎", "ヤマザキ", "Yamazaki"},
    {"森", "モリ", "Mori"}, {"池田", "イケダ", "Ikeda"}, {"橋本", "ハシモト", "Hashimoto"},
    {"阿部", "アベ", "Abe"}, {"石川", "イシカワ", "Ishikawa"}, {"山下", "ヤマシタ", "Yamashita"},
    {"中島", "ナカジマ", "Nakajima"}, {"石井", "イシイ", "Ishii"}, {"小川", "オガワ", "Ogawa"},
    {"前田", "マエダ", "Maeda"}, {"岡田", "オカダ", "Okada"},
};
static const char *GIV[2][16][3] = {{
    {"翔太", "ショウタ", "Shota"}, {"大輔", "ダイスケ", "Daisuke"}, {"健太", "ケンタ", "Kenta"},
    {"拓也", "タクヤ", "Takuya"}, {"直樹", "ナオキ", "Naoki"}, {"誠", "マコト", "Makoto"},
    {"浩", "ヒロシ", "Hiroshi"}, {"隆", "タカシ", "Takashi"}, {"蓮", "レン", "Ren"},
    {"悠真", "ユウマ", "Yuma"}, {"陽翔", "ハルト", "Haruto"}, {"和夫", "カズオ", "Kazuo"},
    {"清", "キヨシ", "Kiyoshi"}, {"茂", "シゲル", "Shigeru"}, {"修", "オサム", "Osamu"},
    {"健一", "ケンイチ", "Kenichi"},
}, {
    {"陽子", "ヨウコ", "Yoko"}, {"恵子", "ケイコ", "Keiko"}, {"美咲", "ミサキ", "Misaki"},
    {"さくら", "サクラ", "Sakura"}, {"結衣", "ユイ", "Yui"}, {"由美", "ユミ", "Yumi"},
    {"直美", "ナオミ", "Naomi"}, {"久美子", "クミコ", "Kumiko"}, {"幸子", "サチコ", "Sachiko"},
    {"花子", "ハナコ", "Hanako"}, {"愛", "アイ", "Ai"}, {"陽菜", "ヒナ", "Hina"},
    {"明美", "アケミ", "Akemi"}, {"千尋", "チヒロ", "Chihiro"}, {"和子", "カズコ", "Kazuko"},
    {"節子", "セツコ", "Setsuko"},
}};
static const char *CITY[][2] = {
    {"東京都", "新宿区"}, {"東京都", "世田谷区"}, {"東京都", "練馬区"}, {"神奈川県", "横浜市港北区"},
    {"神奈川県", "川崎市中原区"}, {"大阪府", "大阪市北区"}, {"大阪府", "堺市堺区"},
    {"愛知県", "名古屋市中区"}, {"埼玉県", "さいたま市浦和区"}, {"千葉県", "船橋市"},
    {"福岡県", "福岡市博多区"}, {"北海道", "札幌市中央区"}, {"兵庫県", "神戸市中央区"},
    {"京都府", "京都市左京区"}, {"宮城県", "仙台市青葉区"}, {"広島県", "広島市中区"},
};
static const char *TOWN[] = {
    "本町", "中央", "栄町", "緑町", "旭町", "若葉", "東町", "西町",
    "南町", "北町", "桜台", "富士見町", "宮前", "大手町", "駅前", "新町",
};
static const char *DEPT[][3] = {
    {"IM", "内科", "internal-medicine"}, {"SU", "外科", "surgery"}, {"PE", "小児科", "pediatrics"},
    {"OB", "産婦人科", "obstetrics"}, {"OR", "整形外科", "orthopedics"}, {"CA", "循環器内科", "cardiology"},
    {"NE", "神経内科", "neurology"}, {"PS", "精神科", "psychiatry"}, {"DE", "皮膚科", "dermatology"},
    {"OP", "眼科", "ophthalmology"}, {"EN", "耳鼻咽喉科", "otolaryngology"}, {"UR", "泌尿器科", "urology"},
};
static const char *DIAG[][2] = {
    {"I10", "本態性高血圧症"}, {"E11.9", "2型糖尿病"}, {"E78.5", "脂質異常症"}, {"J18.9", "肺炎"},
    {"J06.9", "急性上気道炎"}, {"K29.7", "胃炎"}, {"I50.9", "心不全"}, {"I63.9", "脳梗塞"},
    {"N18.3", "慢性腎臓病ステージ3"}, {"M17.1", "変形性膝関節症"}, {"S72.0", "大腿骨頸部骨折"},
    {"C34.1", "肺癌"}, {"C16.9", "胃癌"}, {"F32.9", "うつ病"}, {"G47.3", "睡眠時無呼吸症候群"},
    {"J45.9", "気管支喘息"}, {"K80.2", "胆石症"}, {"N39.0", "尿路感染症"}, {"L20.9", "アトピー性皮膚炎"},
    {"H25.9", "老人性白内障"}, {"A09", "感染性胃腸炎"}, {"I48.9", "心房細動"},
    {"E03.9", "甲状腺機能低下症"}, {"M54.5", "腰痛症"},
};
static const char *JP[] = {
    "血圧は安定している", "疼痛の訴えあり", "経過観察とする", "食事摂取良好", "夜間の睡眠は良好",
    "CTにて明らかな異常所見なし", "採血結果を本人に説明した", "内服薬を継続とする", "退院指導を実施した",
    "発熱なし", "創部の発赤・腫脹なし", "リハビリテーションを開始", "歩行は自立している",
    "家族へ病状を説明し同意を得た", "呼吸状態に変化なし", "胸部X線で浸潤影の改善を認める",
    "腹部症状の訴えなし", "点滴を終了した", "血糖コントロール不良のため薬剤を調整",
    "次回外来は2週間後とする", "嚥下評価を依頼した", "転倒リスクが高いため見守りを継続",
    "排便あり、性状は普通", "尿量は保たれている", "疼痛スケールは3/10", "抗菌薬の投与を開始した",
    "心電図で洞調律を確認", "浮腫は軽度改善", "意識清明、見当識障害なし", "服薬アドヒアランス良好",
    "栄養指導を実施", "酸素投与を中止した", "MRIの予約を入れた", "紹介状を作成した",
};
static const char *EN[] = {
    "Patient tolerated the procedure well", "No acute distress", "Vital signs stable",
    "Continue current medication", "Follow-up in two weeks", "Labs reviewed with the patient",
    "Wound clean and dry", "Denies chest pain or dyspnea", "Ambulating independently",
    "Plan discussed with family", "Afebrile overnight", "Pain controlled with oral analgesics",
};
static const struct { const char *code, *name, *unit; unsigned lo, hi, dec, rlo, rhi; } LAB[] = {
    {"3D010", "HbA1c", "%", 45, 110, 1, 46, 62},
    {"3D045", "グルコース", "mg/dL", 70, 250, 0, 73, 109},
    {"3F015", "総コレステロール", "mg/dL", 120, 300, 0, 142, 248},
    {"3F070", "HDLコレステロール", "mg/dL", 25, 100, 0, 40, 90},
    {"3F077", "LDLコレステロール", "mg/dL", 50, 220, 0, 65, 163},
    {"3C015", "クレアチニン", "mg/dL", 40, 300, 2, 65, 107},
    {"3C025", "尿素窒素", "mg/dL", 50, 600, 1, 80, 200},
    {"3B035", "AST", "U/L", 10, 200, 0, 13, 30},
    {"3B045", "ALT", "U/L", 5, 200, 0, 10, 42},
    {"2A010", "白血球数", "10^3/uL", 20, 200, 1, 33, 86},
    {"2A020", "赤血球数", "10^6/uL", 300, 600, 2, 386, 492},
    {"2A030", "ヘモグロビン", "g/dL", 80, 180, 1, 116, 148},
    {"2A050", "血小板数", "10^3/uL", 50, 450, 0, 158, 348},
    {"5C070", "CRP", "mg/dL", 0, 1500, 2, 0, 14},
    {"3H010", "ナトリウム", "mmol/L", 125, 150, 0, 138, 145},
    {"3H015", "カリウム", "mmol/L", 30, 60, 1, 36, 48},
};
static const char *DRUG[][2] = {
    {"2171022F1", "アムロジピン錠5mg"}, {"3969007F1", "メトホルミン塩酸塩錠250mg"},
    {"2189016F1", "ロスバスタチン錠2.5mg"}, {"1149019F1", "ロキソプロフェンNa錠60mg"},
    {"2329023F1", "ランソプラゾールOD錠15mg"}, {"6132011M1", "セファゾリンNa注射用1g"},
    {"3339950F1", "ワルファリンK錠1mg"}, {"2149039F1", "カンデサルタン錠8mg"},
    {"1124009F1", "ゾルピデム酒石酸塩錠5mg"}, {"6241013F1", "レボフロキサシン錠500mg"},
    {"2454004F1", "プレドニゾロン錠5mg"}, {"3999018F1", "エドキサバン錠30mg"},
    {"1141007C1", "アセトアミノフェン細粒20%"}, {"2251001F1", "テオフィリン徐放錠100mg"},
};
static const char *FREQ[] = {
    "1日1回朝食後", "1日2回朝夕食後", "1日3回毎食後", "就寝前", "疼痛時頓用", "1日1回夕食後",
};
static const char *ALLERGY[] = {"ペニシリン", "セフェム系", "造影剤", "卵", "そば", "ラテックス"};
static const char *BLOOD[] = {"A+", "A+", "O+", "O+", "B+", "AB+", "A-", "O-"};
static const char *MODALITY[] = {"CT", "MR", "CR", "US", "XA", "MG"};
static const char *SECTION[] = {"入院時現症", "既往歴", "入院後経過", "検査所見", "退院時処方", "今後の方針"};

/* ------------------------------------------------------ field helpers */

static void b_date(buf_t *b, rng_t *r, unsigned y0, unsigned y1)
{
    b_u64(b, rng_range(r, y0, y1)); b_ch(b, '-');
    b_pad(b, rng_range(r, 1, 12), 2); b_ch(b, '-');
    b_pad(b, rng_range(r, 1, 28), 2);
}

static void b_ts(buf_t *b, rng_t *r, unsigned y0, unsigned y1)
{
    b_date(b, r, y0, y1); b_ch(b, ' ');
    b_pad(b, rng_below(r, 24), 2); b_ch(b, ':');
    b_pad(b, rng_below(r, 60), 2); b_ch(b, ':');
    b_pad(b, rng_below(r, 60), 2); b_puts(b, "+09");
}

static void b_doctor(buf_t *b, rng_t *r)
{
    b_puts(b, PICK(r, FAM)[0]); b_puts(b, " ");
    b_puts(b, GIV[rng_below(r, 2)][rng_below(r, 16)][0]);
}

static void b_vitals(buf_t *b, rng_t *r)
{
    b_puts(b, "BP "); b_u64(b, rng_range(r, 98, 178)); b_ch(b, '/');
    b_u64(b, rng_range(r, 52, 104)); b_puts(b, " mmHg、HR ");
    b_u64(b, rng_range(r, 52, 118)); b_puts(b, "、BT 3");
    b_fix(b, rng_range(r, 58, 84), 1); b_puts(b, "℃、SpO2 ");
    b_u64(b, rng_range(r, 91, 99)); b_puts(b, "%");
}

/* One sentence of free clinical text, Japanese mostly. */
static void b_sentence(buf_t *b, rng_t *r)
{
    uint32_t k = rng_below(r, 12);
    if (k < 6) { b_puts(b, PICK(r, JP)); b_puts(b, "。"); }
    else if (k < 8) { b_puts(b, PICK(r, EN)); b_puts(b, ". "); }
    else if (k < 9) { b_vitals(b, r); b_puts(b, "。"); }
    else if (k < 10) {
        const char **d = PICK(r, DRUG);
        b_date(b, r, 2019, 2024); b_puts(b, "より"); b_puts(b, d[1]); b_puts(b, "を");
        b_puts(b, PICK(r, FREQ)); b_puts(b, "で開始。");
    } else if (k < 11) {
        unsigned t = rng_below(r, sizeof(LAB) / sizeof(LAB[0]));
        b_puts(b, LAB[t].name); b_ch(b, ' ');
        b_fix(b, rng_range(r, LAB[t].lo, LAB[t].hi), LAB[t].dec); b_puts(b, LAB[t].unit); b_puts(b, "。");
    } else {
        b_doctor(b, r); b_puts(b, "医師に対診を依頼 ("); b_puts(b, PICK(r, DEPT)[1]); b_puts(b, ")。");
    }
}

static void b_sentences(buf_t *b, rng_t *r, unsigned lo, unsigned hi)
{
    for (unsigned n = (unsigned)rng_range(r, lo, hi); n; n--) b_sentence(b, r);
}

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

/* -------------------------------------------------------------- main */

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
            "usage: gen-data generate|sync [--seed N] [--size SIZE] DIR\n"
            "       gen-data mutate [--seed N] [--size SIZE] [--step K] DIR\n"
            "       gen-data info [--seed N] [--size SIZE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, size = 2 * GiB, step = 1;
    const char *cmd, *dir = NULL;

    if (argc < 2) usage();
    cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = parse_size(argv[++i]);
        else if (!strcmp(argv[i], "--step") && i + 1 < argc) step = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' || dir) usage();
        else dir = argv[i];
    }
    if (size < 4 * MiB) { errno = 0; die("size must be at least 4M%s", ""); }

    plan_t p;
    make_plan(&p, seed, size);
    if (!strcmp(cmd, "info")) {
        printf("seed %llu size %llu: dump ~%llu bytes, %llu documents, %llu images\n",
               (unsigned long long)seed, (unsigned long long)size,
               (unsigned long long)dump_budget(size), (unsigned long long)p.ndocs,
               (unsigned long long)p.nimgs);
        return 0;
    }
    if (!dir) usage();
    g_root = strdup(dir);
    while (strlen(g_root) > 1 && g_root[strlen(g_root) - 1] == '/') g_root[strlen(g_root) - 1] = 0;
    if (mkdir(g_root, 0755) && errno != EEXIST) die("cannot create %s", g_root);
    errno = 0;

    if (!strcmp(cmd, "generate") || !strcmp(cmd, "sync")) cmd_sync(&p);
    else if (!strcmp(cmd, "mutate")) cmd_mutate(&p, step);
    else usage();
    return 0;
}
