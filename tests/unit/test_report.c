/*
 * What people read on paper, byte for byte: the report of a drill (Markdown
 * in Japanese and English, HTML in English) rendered from a fixed report, and
 * the printable procedure of the shipped emr-db runbook with fixed copies and
 * a fixed time, against tests/golden/. Escaping (Markdown table bars, line
 * breaks in cells; HTML specials) is part of what is compared.
 *
 * To regenerate after an intended change: BKP_UPDATE_GOLDEN=1 ./test_report,
 * then read the diff of tests/golden/ before committing it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <libintl.h>

#include "restore/drill_report.h"
#include "restore/runbook_doc.h"
#include "restore/runbook.h"

#include "catalogue.h"
#include "golden.h"
#define golden(name, text) golden_check("test_report", name, text)

/* ---- the report of a drill ---- */

/* A drill of a five-step runbook that failed at its check: a confirm not
 * rehearsed (unattended), select and restore done (after one fallback), the
 * check failed, the note not reached. Texts carry the characters each
 * format must escape. */
static rb_report_step fixed_steps[] = {
    {.who = "システム担当",
     .action = RB_CONFIRM,
     .text = "感染端末をネットワークから切り離した",
     .status = RB_NOT_REHEARSED,
     .seconds = 0.0,
     .detail = "unattended drill: not rehearsed by a person",
     .detail_ja = "無人の訓練: 人による実施はありません"},
    {.who = "システム担当",
     .action = RB_SELECT,
     .status = RB_DONE,
     .seconds = 0.4,
     .detail = "emr-db:42 from usb-a (captured 2025-01-30T02:00:05Z); newer suspicious "
               "generations skipped",
     .detail_ja = "emr-db:42（usb-a から、取得 2025-01-30T02:00:05Z）。"
                  "より新しい疑わしい世代は除外しました"},
    /* Said in English only: the Japanese report shows the English. */
    {.who = "システム担当",
     .action = RB_RESTORE,
     .what = "DB のダンプを戻す",
     .status = RB_DONE,
     .seconds = 61.5,
     .detail = "emr-db:42 from usb-a into /var/tmp/bkp-drill-Ab12Cd/var/restore/emr: 1 file(s), "
               "1048576 byte(s), read back and compared"},
    {.who = "DB管理者",
     .action = RB_CHECK,
     .text = "test \"$(psql -tAc 'select count(*) from patients' emr_restore | tr -d ' ')\" -gt 0 "
             "&& echo ok",
     .status = RB_FAILED,
     .seconds = 692.3,
     .detail = "check failed with exit 1",
     .detail_ja = "確認に失敗（終了コード 1）"},
    {.who = "DB管理者",
     .action = RB_NOTE,
     .text = "病棟・外来へ連絡する。紙運用の終了時刻を決める",
     .status = RB_NOT_REACHED,
     .seconds = 0.0,
     .detail = ""},
};

static char *fixed_datasets[] = {"emr-db"};

/* A drill of a five-step runbook that failed at its check: a confirm not
 * rehearsed (unattended), select and restore done (after one fallback), the
 * check failed, the note not reached. Texts carry the characters each
 * format must escape. Attended, from the off-line disk connected. */
static rb_report fixed_report(void)
{
    return (rb_report){.ok = false,
                       .runbook = "emr-db",
                       .title = "電子カルテDB 復旧手順",
                       .file = "/etc/bkp/runbooks/emr-db.yaml",
                       .owner = "医療情報システム安全管理責任者",
                       .datasets = fixed_datasets,
                       .ndatasets = 1,
                       .drill = true,
                       .started = 1738314000, /* 2025-01-31T09:00:00Z */
                       .sandbox = "/var/tmp/bkp-drill-Ab12Cd",
                       .user = "yamada",
                       .rto_target = 14400,
                       .seconds = 754.2,
                       .rto_met = true,
                       .failed_step = 4,
                       .generation = "emr-db:42",
                       .source = "usb-a",
                       .files = 1,
                       .bytes = 1048576,
                       .damaged = 0,
                       .fallbacks = 1,
                       .steps = fixed_steps,
                       .nsteps = sizeof(fixed_steps) / sizeof(*fixed_steps),
                       .attended = true,
                       .read_from = "offline"};
}

static void test_report_md_ja(void **state)
{
    (void)state;
    rb_report r = fixed_report();
    char *t = rb_report_render(&r, RB_MARKDOWN, true);
    bool same = golden("report-drill.ja.md", t);
    free(t);
    assert_true(same);
}

static void test_report_md_en(void **state)
{
    (void)state;
    rb_report r = fixed_report();
    char *t = rb_report_render(&r, RB_MARKDOWN, false);
    bool same = golden("report-drill.en.md", t);
    free(t);
    assert_true(same);
}

static void test_report_html_en(void **state)
{
    (void)state;
    rb_report r = fixed_report();
    char *t = rb_report_render(&r, RB_HTML, false);
    bool same = golden("report-drill.en.html", t);
    free(t);
    assert_true(same);
}

/* A note of several lines (YAML `note: |`) keeps its line breaks in a table
 * cell, in either format: Markdown cannot hold a newline in a cell, and HTML
 * folds one into a space. */
static void test_cell_line_breaks(void **state)
{
    (void)state;
    rb_report_step step = {.who = "w",
                           .action = RB_NOTE,
                           .text = "first line\nsecond line",
                           .status = RB_DONE,
                           .detail = ""};
    rb_report r = {.ok = true,
                   .runbook = "x",
                   .title = "t",
                   .user = "u",
                   .seconds = 1.0,
                   .steps = &step,
                   .nsteps = 1};
    char *md = rb_report_render(&r, RB_MARKDOWN, false);
    char *html = rb_report_render(&r, RB_HTML, false);
    assert_non_null(md);
    assert_non_null(html);
    assert_non_null(strstr(md, "| first line<br>second line |"));
    bool ok = strstr(html, "<td>first line<br>second line</td>") != NULL;
    if (!ok) {
        const char *at = strstr(html, "first line");
        print_error("a line break in an HTML cell should be <br> (as in Markdown), got: %.40s\n",
                    at ? at : html);
    }
    free(md);
    free(html);
    assert_true(ok);
}

/* ---- the printable procedure ---- */

static rb_copies fixed_copies(void)
{
    static const rb_copy rows[] = {
        {.medium = "repository",
         .type = "disk",
         .location = "onsite",
         .offline = false,
         .generation = "emr-db:42",
         .captured = "2025-01-30 02:00 UTC"},
        {.medium = "usb-a",
         .type = "removable",
         .location = "offsite",
         .offline = true,
         .generation = "emr-db:41",
         .captured = "2025-01-29 02:00 UTC"},
        {.medium = "tape",
         .type = "archive",
         .location = "onsite",
         .offline = true,
         .generation = "emr-db:35",
         .captured = "2025-01-01 02:00 UTC"},
        {.medium = "cloud",
         .type = "object",
         .location = "offsite",
         .offline = false,
         .generation = "emr-db:40",
         .captured = "2025-01-28 02:00 UTC"},
    };
    rb_copies c = {0};
    for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++)
        assert_int_equal(rb_copies_add(&c, &rows[i]), 0);
    return c;
}

/* 2025-01-31 09:05:00 UTC */
static const time_t printed_at = 1738314300;

static void print_golden(const char *name, rb_format f, bool ja)
{
    char path[4096];
    rb_runbook *rb = NULL;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    rb_copies copies = fixed_copies();
    /* The policy a new machine writes to reach the bucket (ops_runbook_folders). */
    rb_folders folders = {(rb_folder[]){{"emr-db", "/var/backups/emr"}}, 1,
                          "repository: \"/var/lib/bkp/repo\"\nmedia:\n  - name: \"cloud\"\n",
                          (const char *[]){"cloud"}, 1};
    char *t = rb_print(rb, &copies, &folders, "/var/lib/bkp/repo",
                       "0123 4567 89ab cdef fedc ba98 7654 3210 0011 2233 4455 6677 8899 aabb "
                       "ccdd eeff",
                       f, ja, printed_at);
    bool same = golden(name, t);
    free(t);
    rb_copies_free(&copies);
    rb_free(rb);
    assert_true(same);
}

static void test_print_md_ja(void **state)
{
    (void)state;
    print_golden("print-emr-db.ja.md", RB_MARKDOWN, true);
}

static void test_print_md_en(void **state)
{
    (void)state;
    print_golden("print-emr-db.en.md", RB_MARKDOWN, false);
}

static void test_print_html_en(void **state)
{
    (void)state;
    print_golden("print-emr-db.en.html", RB_HTML, false);
}

/* The steps' commands are typed into a shell: a folder with a space or a
 * '$' stays one word and runs nothing. */
static void test_print_quoted(void **state)
{
    (void)state;
    char path[4096];
    rb_runbook *rb = NULL;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    rb_folders folders = {(rb_folder[]){{"emr-db", "/var/backups/emr $(x)"}}, 1, NULL, NULL, 0};
    char *t = rb_print(rb, NULL, &folders, "/var/lib/bkp/repo", NULL, RB_MARKDOWN, false, 0);
    assert_non_null(t);
    assert_non_null(strstr(t, "--folder '/var/backups/emr $(x)'"));
    free(t);
    rb_free(rb);
}

/* The shipped clinic runbook's check holds a bar: on the Markdown paper it
 * is never printed escaped (typed as read, `\|` failed), but follows the
 * table as a block to copy. */
static void test_print_bar(void **state)
{
    (void)state;
    char path[4096];
    rb_runbook *rb = NULL;
    snprintf(path, sizeof(path), "%s/policies/runbooks/clinic.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    char *t = rb_print(rb, NULL, NULL, "/var/lib/bkp/repo", NULL, RB_MARKDOWN, false, 0);
    assert_non_null(t);
    assert_null(strstr(t, "\\| wc"));
    assert_non_null(strstr(t, "(below the table: [1])"));
    /* A check says how it ended: many print nothing when they pass. */
    assert_non_null(strstr(t, "```\nsh -c 'test \"$(find \"$BKP_TARGET\" -type f | wc -l)\" -gt 0' "
                              "&& echo 'check passed' || { echo 'CHECK FAILED'; false; }\n```"));
    free(t);
    rb_free(rb);
}

/* The runbook of `yaml` loaded into `*rb` from a file of its own (removed
 * again): what rb_load returns. */
static int load_text(const char *yaml, rb_runbook **rb)
{
    char dir[] = "/tmp/bkp-test-print-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/rb.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(yaml, f);
    assert_int_equal(fclose(f), 0);
    *rb = NULL;
    int rc = rb_load(path, rb);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    return rc;
}

/* What the paper's line of a step of `kind` ("check" or "run") doing
 * `text` prints when a shell runs it (/bin/sh, as the clerk's would), into
 * `out`. */
static void paper_says(const char *kind, const char *text, char *out, size_t n)
{
    char yaml[1024], cmd[2048];
    rb_runbook *rb = NULL;
    snprintf(yaml, sizeof(yaml),
             "title: t\ndatasets: [d]\nsteps:\n  - { who: a, select: { dataset: d } }\n"
             "  - { who: a, restore: { to: /srv/r } }\n  - who: a\n    %s: |\n%s",
             kind, text);
    assert_int_equal(load_text(yaml, &rb), 0);
    char *t = rb_print(rb, NULL, NULL, "/r", NULL, RB_MARKDOWN, false, 0);
    assert_non_null(t);
    const char *at = strstr(t, "[1]\n\n```\n");
    assert_non_null(at);
    at += strlen("[1]\n\n```\n");
    const char *end = strstr(at, "\n```");
    assert_non_null(end);
    /* The line typed, then its status and a word: the shell is still
     * there after it. */
    snprintf(cmd, sizeof(cmd), "%.*s\necho \"status $?\"\necho still-here\n", (int)(end - at), at);
    free(t);
    rb_free(rb);
    char path[] = "/tmp/bkp-test-paper-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_true(write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd));
    close(fd);
    char run[128];
    snprintf(run, sizeof(run), "/bin/sh %s 2>&1 </dev/null", path);
    FILE *p = popen(run, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    pclose(p);
    unlink(path);
}

/* The paper's line of a check or a run step does what the drill did (`sh
 * -c`), whatever the step holds: `set -e`, a comment, an `exit`, a
 * here-document, never ending or arming the shell of the person who types
 * it; a run step says only that it failed, where the drill stops. */
static void test_print_check_as_drill(void **state)
{
    (void)state;
    char out[1024];
    paper_says("check", "      set -e; false; true\n", out, sizeof(out));
    assert_string_equal(out, "CHECK FAILED\nstatus 1\nstill-here\n");
    paper_says("check", "      test -d / # the root is there\n", out, sizeof(out));
    assert_string_equal(out, "check passed\nstatus 0\nstill-here\n");
    paper_says("check", "      exit 3\n", out, sizeof(out));
    assert_string_equal(out, "CHECK FAILED\nstatus 1\nstill-here\n");
    paper_says("check", "      cat <<EOF >/dev/null\n      x\n      EOF\n      test 1 = 1\n", out,
               sizeof(out));
    assert_string_equal(out, "check passed\nstatus 0\nstill-here\n");
    paper_says("run", "      set -e; false; true\n", out, sizeof(out));
    assert_string_equal(
        out, "STEP FAILED: do not go on; read its message above\nstatus 1\nstill-here\n");
    paper_says("run", "      echo made # a comment (\n", out, sizeof(out));
    assert_string_equal(out, "made\nstatus 0\nstill-here\n");
    paper_says("run", "      exit 0\n", out, sizeof(out));
    assert_string_equal(out, "status 0\nstill-here\n");
}

/* Two data sets restored to two folders: each restore's line sets
 * $BKP_TARGET for the steps after it, as the engine does (the last
 * restore's folder), where the paper said to export the first alone. */
static void test_print_two_targets(void **state)
{
    (void)state;
    rb_runbook *rb;
    assert_int_equal(
        load_text("title: two\n"
                  "datasets: [emr, lab]\n"
                  "steps:\n"
                  "  - { who: a, restore: { dataset: emr, to: /var/restore/emr } }\n"
                  "  - { who: a, run: \"test -s $BKP_TARGET/emr.dump\" }\n"
                  "  - { who: a, restore: { dataset: lab, to: \"/var/restore/my lab\" } }\n"
                  "  - { who: a, run: \"test -s $BKP_TARGET/lab.csv\" }\n",
                  &rb),
        0);
    char *t = rb_print(rb, NULL, NULL, NULL, NULL, RB_MARKDOWN, false, printed_at);
    assert_non_null(t);
    assert_non_null(strstr(t, "export BKP_TARGET=/var/restore/emr; bkp restore emr:SEQ /var/restore/emr"));
    assert_non_null(strstr(
        t, "export BKP_TARGET='/var/restore/my lab'; bkp restore lab:SEQ '/var/restore/my lab'"));
    assert_non_null(strstr(t, "each restore step's line sets it"));
    assert_null(strstr(t, "type `export BKP_TARGET"));
    free(t);
    rb_free(rb);
    /* One folder: the paragraph says it, quoted for the shell. */
    assert_int_equal(
        load_text("title: one\n"
                  "datasets: [emr]\n"
                  "steps:\n"
                  "  - { who: a, restore: { dataset: emr, to: \"/var/restore/my emr\" } }\n",
                  &rb),
        0);
    t = rb_print(rb, NULL, NULL, NULL, NULL, RB_MARKDOWN, false, printed_at);
    assert_non_null(strstr(t, "type `export BKP_TARGET='/var/restore/my emr'` first."));
    free(t);
    rb_free(rb);
}

/* The medium the paper restores from is an off-line one, though the
 * on-line NAS holds a newer copy: on the bad day the NAS was within reach of
 * what encrypted the server. Its generations are listed there too. */
static void test_print_offline_first(void **state)
{
    (void)state;
    char path[4096];
    rb_runbook *rb = NULL;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    /* usb-a's copy the newest off-line one, the on-line NAS's newer still. */
    rb_copies copies = fixed_copies();
    rb_copy nas = {.medium = "nas",
                   .type = "disk",
                   .location = "onsite",
                   .offline = false,
                   .generation = "emr-db:42",
                   .captured = "2025-01-30 03:00 UTC"};
    assert_int_equal(rb_copies_add(&copies, &nas), 0);
    char *t = rb_print(rb, &copies, NULL, "/var/lib/bkp/repo", NULL, RB_MARKDOWN, false, 0);
    assert_non_null(t);
    assert_non_null(strstr(t, "bkp generations emr-db --from usb-a"));
    assert_non_null(strstr(t, "bkp verify --read-data --media usb-a"));
    assert_non_null(strstr(t, "bkp restore emr-db:SEQ /var/restore/emr --from usb-a"));
    assert_null(strstr(t, "--from nas"));
    assert_null(strstr(t, "--media nas"));
    assert_non_null(strstr(t, "The steps read usb-a, the newest copy off-line. nas holds a newer "
                              "one (emr-db:42)"));
    free(t);
    rb_copies_free(&copies);
    rb_free(rb);
}

/* A step's env: and run_as: are on the paper: typed as printed, the
 * command runs as the drill ran it (the database's socket, its user), not
 * as root with no PGHOST. */
static void test_print_env_user(void **state)
{
    (void)state;
    rb_runbook *rb;
    assert_int_equal(load_text("title: db\n"
                               "datasets: [emr]\n"
                               "run_as: postgres\n"
                               "steps:\n"
                               "  - { who: a, restore: { dataset: emr, to: /var/restore/emr } }\n"
                               "  - { who: a, run: \"pg_restore -d emr $BKP_TARGET/emr.dump\",\n"
                               "      env: [\"PGHOST=/run/pg sock\", PGPORT=5433] }\n"
                               "  - { who: a, check: \"test -s /etc/hostname\", run_as: root }\n",
                               &rb),
                     0);
    char *t = rb_print(rb, NULL, NULL, NULL, NULL, RB_MARKDOWN, false, printed_at);
    assert_non_null(t);
    assert_non_null(strstr(t,
                           "runuser -u postgres -- env -- 'PGHOST=/run/pg sock' PGPORT=5433 sh -c "
                           "'pg_restore -d emr $BKP_TARGET/emr.dump'"));
    assert_non_null(strstr(t, "runuser -u root -- sh -c 'test -s /etc/hostname'"));
    free(t);
    rb_free(rb);
    /* An entry that is no NAME=value (an option of env(1) on paper) is refused. */
    assert_int_not_equal(load_text("title: db\n"
                                   "datasets: [emr]\n"
                                   "steps:\n"
                                   "  - { who: a, run: \"true\", env: [\"-Secho x=1\"] }\n",
                                   &rb),
                         0);
    rb_free(rb);
}

/* The procedure a disk carries beside its kit: the generations it holds,
 * the commands of a machine that has never seen bkp (the disk mounted
 * read-only where the policy has it, its kit, the key from paper), no kit
 * fingerprint of its own (that is compared with paper) and no runbook the
 * fresh machine does not have. */
static void on_medium_golden(const char *name, bool ja, bool archive)
{
    char path[4096];
    rb_runbook *rb = NULL;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    rb_copies held = {0};
    for (int seq = 7; seq >= 5; seq--) {
        char g[32], when[32];
        snprintf(g, sizeof(g), "emr-db:%d", seq);
        snprintf(when, sizeof(when), "2025-01-%02d 02:00 UTC", seq * 3);
        rb_copy row = {.medium = archive ? "rdx" : "usb-a",
                       .type = archive ? "archive" : "removable",
                       .location = "onsite",
                       .offline = true,
                       .generation = g,
                       .captured = when,
                       .kit = "ab"};
        assert_int_equal(rb_copies_add(&held, &row), 0);
    }
    rb_on_medium on = {archive ? "rdx" : "usb-a", archive ? "/mnt/rdx" : "/mnt/usb-a", archive,
                       false};
    char *t = rb_print_on_medium(rb, &on, &held, NULL, "0123 4567 89ab cdef", ja, printed_at);
    assert_non_null(t);
    assert_null(strstr(t, "--runbook"));
    assert_null(strstr(t, "SEQ"));
    bool same = golden(name, t);
    free(t);
    rb_copies_free(&held);
    rb_free(rb);
    assert_true(same);
}

static void test_print_on_disk_ja(void **state)
{
    (void)state;
    on_medium_golden("print-on-disk-emr-db.ja.md", true, false);
}

static void test_print_on_disk_en(void **state)
{
    (void)state;
    on_medium_golden("print-on-disk-emr-db.en.md", false, false);
}

static void test_print_on_archive_en(void **state)
{
    (void)state;
    on_medium_golden("print-on-archive-emr-db.en.md", false, true);
}

/* A mount point or a target with a space, a '$' or a quote stays one word
 * of the commands a person types, and runs nothing. */
static void test_print_on_medium_quotes(void **state)
{
    (void)state;
    char path[4096];
    rb_runbook *rb = NULL;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    rb_copies held = {0};
    rb_copy row = {.medium = "usb",
                   .type = "removable",
                   .location = "onsite",
                   .offline = true,
                   .generation = "emr-db:3",
                   .captured = "-"};
    assert_int_equal(rb_copies_add(&held, &row), 0);
    rb_on_medium on = {"usb", "/mnt/USB DISK$(x)'s", false, false};
    char *t = rb_print_on_medium(rb, &on, &held, NULL, NULL, false, printed_at);
    assert_non_null(t);
    assert_non_null(strstr(t, "mount -o ro DEVICE '/mnt/USB DISK$(x)'\\''s'"));
    assert_non_null(strstr(t, "'/mnt/USB DISK$(x)'\\''s/bkp-recovery/bkp' restore emr-db:3 "));
    assert_non_null(strstr(t, "--from '/mnt/USB DISK$(x)'\\''s' --verify"));
    assert_non_null(strstr(t, "sha256sum -c SHA256SUMS"));
    free(t);
    rb_copies_free(&held);
    rb_free(rb);
}

/* On paper, each disk with a kit carries its own commands for a machine
 * without the server and its policy; a mount point with a space, a '$' or
 * a quote stays one word there too. */
static void test_print_new_machine(void **state)
{
    (void)state;
    char path[4096];
    rb_runbook *rb = NULL;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    rb_copies copies = fixed_copies();
    /* An on-line disk with a kit, put before it: printed after it. */
    rb_copy nas = {.medium = "nas",
                   .type = "disk",
                   .location = "onsite",
                   .generation = "emr-db:41",
                   .captured = "2025-01-29 02:00 UTC",
                   .kit = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
                   .path = "/mnt/nas"};
    assert_int_equal(rb_copies_add(&copies, &nas), 0);
    rb_copy disk = {.medium = "usb-b",
                    .type = "removable",
                    .location = "offsite",
                    .offline = true,
                    .generation = "emr-db:40",
                    .captured = "2025-01-28 02:00 UTC",
                    .kit = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    .path = "/mnt/USB DISK$(x)'s"};
    assert_int_equal(rb_copies_add(&copies, &disk), 0);
    char *t =
        rb_print(rb, &copies, NULL, "/var/lib/bkp/repo", NULL, RB_MARKDOWN, false, printed_at);
    assert_non_null(t);
    const char *sec = strstr(t, "## If this server and its policy are gone");
    assert_non_null(sec);
    assert_non_null(strstr(sec, "| usb-b | "));
    assert_non_null(strstr(sec, "'/mnt/USB DISK$(x)'\\''s/bkp-recovery/bkp' restore emr-db:40 "));
    assert_non_null(strstr(sec, "--from '/mnt/USB DISK$(x)'\\''s' --verify"));
    /* Row 0: where to mount it, quoted as the commands quote it. */
    assert_non_null(strstr(sec, "| usb-b | 0 | mount it read-only"));
    assert_non_null(strstr(sec, "mkdir -p '/mnt/USB DISK$(x)'\\''s' && mount -o ro DEVICE"));
    assert_null(strstr(sec, "| usb-a | ")); /* no kit, no path: not in it */
    /* The off-line disk first: the on-line one was within reach of the attack. */
    assert_non_null(strstr(sec, "| nas | 0 | mount it read-only"));
    assert_true(strstr(sec, "| usb-b | 0 |") < strstr(sec, "| nas | 0 |"));
    /* The paper says where to start on the bad day, and how without the sheet. */
    const char *start = strstr(t, "start at the section");
    assert_non_null(start);
    assert_true(start < sec);
    assert_non_null(strstr(sec, "add `--key-from KEY` to each"));
    free(t);
    rb_copies_free(&copies);
    rb_free(rb);
}

/* Without copies the procedure says where to look instead of an empty table. */
static void test_print_no_copies(void **state)
{
    (void)state;
    char path[4096];
    rb_runbook *rb = NULL;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    char *t = rb_print(rb, NULL, NULL, NULL, NULL, RB_MARKDOWN, false, printed_at);
    assert_non_null(t);
    assert_non_null(strstr(t, "No copy is known"));
    assert_non_null(strstr(t, "| Repository | - |"));
    assert_non_null(strstr(t, "| Repository key fingerprint | - |"));
    assert_null(strstr(t, "| Medium |"));
    free(t);
    rb_free(rb);
}

static void test_durations(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(rb_duration_text(b, sizeof(b), 0), "0.0 s");
    assert_string_equal(rb_duration_text(b, sizeof(b), 12.34), "12.3 s");
    assert_string_equal(rb_duration_text(b, sizeof(b), 61.5), "1 min 01 s");
    assert_string_equal(rb_duration_text(b, sizeof(b), 754.2), "12 min 34 s");
    assert_string_equal(rb_duration_text(b, sizeof(b), 4 * 3600), "4 h 00 min");
    assert_string_equal(rb_duration_text(b, sizeof(b), 3 * 86400 + 61 * 60), "73 h 01 min");
}

/* A day for people is the server's: a drill at 08:32 in Tokyo on the 28th
 * is the 28th, though 23:32 UTC on the 27th. */
static void test_day_is_local(void **state)
{
    (void)state;
    char b[16];
    time_t t = 1795822320; /* 2026-11-27T23:32:00Z */
    assert_string_equal(rb_day(b, sizeof(b), t), "2026-11-27");
    setenv("TZ", "JST-9", 1);
    tzset();
    assert_string_equal(rb_day(b, sizeof(b), t), "2026-11-28");
    setenv("TZ", "UTC", 1);
    tzset();
    assert_string_equal(rb_day(b, sizeof(b), 0), "");
}

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    /* The Japanese texts come from the build's message catalogue. */
    test_bind_catalogue();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_md_ja),
        cmocka_unit_test(test_report_md_en),
        cmocka_unit_test(test_report_html_en),
        cmocka_unit_test(test_cell_line_breaks),
        cmocka_unit_test(test_print_md_ja),
        cmocka_unit_test(test_print_md_en),
        cmocka_unit_test(test_print_html_en),
        cmocka_unit_test(test_print_quoted),
        cmocka_unit_test(test_print_bar),
        cmocka_unit_test(test_print_check_as_drill),
        cmocka_unit_test(test_print_two_targets),
        cmocka_unit_test(test_print_env_user),
        cmocka_unit_test(test_print_offline_first),
        cmocka_unit_test(test_print_no_copies),
        cmocka_unit_test(test_print_new_machine),
        cmocka_unit_test(test_print_on_disk_ja),
        cmocka_unit_test(test_print_on_disk_en),
        cmocka_unit_test(test_print_on_archive_en),
        cmocka_unit_test(test_print_on_medium_quotes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_day_is_local),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
