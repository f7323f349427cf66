/*
 * The policy language: every malformed policy is refused with the line and a
 * message a person can act on; the shipped examples (the design's among them)
 * parse as written; durations and schedules parse exactly.
 */
#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "policies/duration.h"
#include "policies/policy.h"

#include "catalogue.h"

static char logbuf[8192];

static void sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level, (void)ctx;
    size_t l = strlen(logbuf);
    snprintf(logbuf + l, sizeof(logbuf) - l, "%s\n", msg);
}

/* Load `text` from a temporary file named "p.yaml"; returns pol_load's result. */
static int load_text(const char *text, pol_policy **out)
{
    char dir[] = "/tmp/bkp-test-policy-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return -EIO;
    snprintf(path, sizeof(path), "%s/p.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    logbuf[0] = '\0';
    int r = pol_load(path, out);
    unlink(path);
    rmdir(dir);
    return r;
}

#define HEAD "repository: /srv/bkp/repo\n"
#define DS "datasets:\n  - name: emr\n    paths: [/var/backups/emr]\n"
/* A source server, and a data set of it (one more line). */
#define EDKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICFyBO79xZuAN6GekWxF3zHRX+umPFvoQy58zLY5oFGC"
#define HOST(extra)                                                                                \
    "hosts:\n  - name: emr-db\n    ssh: bkp@10.0.0.12\n    host_key: \"" EDKEY "\"\n" extra
#define REMOTE(line)                                                                               \
    "datasets:\n  - name: karte\n    host: emr-db\n    stream: { command: emr-dump, name: "        \
    "emr.dump }\n" line
/* An object medium with one more key. */
#define OBJ(extra)                                                                                 \
    "media:\n  - { name: c, type: object, endpoint: https://s3.example.jp, bucket: b-1, "          \
    "credentials_file: /etc/bkp/s3.cred, " extra " }\n"

static const struct bad {
    const char *text;
    int line;             /* the line the first message names */
    const char *expected; /* in that message */
} bad[] = {
    {HEAD DS "colour: blue\n", 5, "unknown key 'colour' in the policy"},
    {HEAD REMOTE(""), 3, "is on host 'emr-db', which is not under hosts"},
    {HEAD HOST("") "datasets:\n  - name: k\n    host: emr-db\n    paths: [/dev/sda]\n    "
                   "read_special: true\n",
     7, "read_special reads this server's devices"},
    {HEAD HOST("") "datasets:\n  - name: k\n    host: emr-db\n    paths: [\"/srv/a\\tb\"]\n", 7,
     "has a control character"},
    {HEAD HOST("") "datasets:\n  - name: k\n    host: emr-db\n    stream: { command: \"pg_dump "
                   "emr\", name: e.dump }\n",
     7, "its command is the name of a command in the agent's commands"},
    {HEAD
     "hosts:\n  - name: emr-db\n    ssh: bkp@10.0.0.12\n    host_key: \"ssh-rsa AAAA\"\n" REMOTE(
         ""),
     5, "host_key is not a host key"},
    {HEAD "hosts:\n  - name: emr-db\n    ssh: 10.0.0.12\n    host_key: \"" EDKEY "\"\n" REMOTE(""),
     4, "is not user@address"},
    {HEAD "hosts:\n  - name: emr-db\n    ssh: bkp@-oProxyCommand=x\n    host_key: \"" EDKEY
          "\"\n" REMOTE(""),
     4, "is not user@address"},
    {HEAD "hosts:\n  - name: emr-db\n    ssh: bkp@10.0.0.12\n" REMOTE(""), 3, "has no host_key"},
    {HEAD HOST("    identity: id_ed25519\n") REMOTE(""), 6, "is not absolute"},
    {HEAD DS "    stream: { command: pg_dump, name: emr.dump }\n", 3, "both paths and a stream"},
    {HEAD "datasets:\n  - name: emr\n    stream: { command: pg_dump, name: ../emr.dump }\n", 4,
     "is not a plain file name"},
    {HEAD "datasets:\n  - name: emr\n    stream: { command: pg_dump, name: \".\" }\n", 4,
     "is not a plain file name"},
    {HEAD "datasets:\n  - name: emr\n    stream: { command: pg_dump, name: \"-x\" }\n", 4,
     "is not a plain file name"},
    {HEAD "datasets:\n  - name: emr\n    stream: \"pg_dump -Fc emr\"\n", 4, "stream is a mapping"},
    {HEAD "datasets:\n  - name: emr\n    stream: { command: \"pg_dump emr | gzip\", name: e.gz }\n",
     4, "is a pipeline, whose status is only its last command's"},
    {HEAD "datasets:\n  - name: emr\n    stream: { command: pg_dump }\n", 4, "stream has no name"},
    {HEAD "datasets:\n  - name: emr\n    stream: { name: x.dump, colour: red }\n", 4,
     "unknown key 'colour' in stream"},
    {HEAD "datasets:\n  - name: emr\n    stream: { command: x, name: e.dump }\n"
          "    exclude: [\"*.tmp\"]\n",
     3, "one_file_system and read_special are for paths"},
    {HEAD "datasets:\n  - name: emr\n    schedule: daily 02:00\n", 3, "has no paths"},
    {HEAD DS "    scheduel: daily 02:00\n", 5, "unknown key 'scheduel' in a data set"},
    {HEAD DS "    schedule: daily 25:00\n", 5, "is not a schedule"},
    {HEAD DS "    schedule: fortnightly\n", 5, "'weekly sun 03:00'"},
    {HEAD DS "    schedule: weekly someday 03:00\n", 5, "is not a schedule"},
    {HEAD DS "    before: { command: \"pg_dump\", timeout: 30 }\n", 5, "is not a duration"},
    {HEAD DS "    before: { command: \"pg_dump\", timeout: 5y }\n", 5, "30s, 30m, 12h, 7d"},
    {HEAD DS "    before: { timeout: 5m }\n", 5, "has no command"},
    {HEAD DS "    priority: first\n", 5, "not a whole number"},
    {HEAD DS "    retention: { keep_last: -1 }\n", 5, "not a whole number from 0"},
    {HEAD DS "    retention: { keep_everything: 3 }\n", 5, "unknown key 'keep_everything'"},
    {HEAD DS "    paths: [/a]\n", 5, "'paths' is given twice"},
    {HEAD "datasets:\n  - name: emr\n", 3, "has no paths"},
    {HEAD "datasets:\n  - name: emr\n    paths: [relative/dir]\n", 3, "is not absolute"},
    {HEAD "datasets:\n  - name: \"bad name\"\n    paths: [/a]\n", 3, "data set name 'bad name'"},
    {HEAD DS "  - name: emr\n    paths: [/b]\n", 5,
     "data set 'emr' is defined twice (also on line 3)"},
    {HEAD DS "    copy_to: [usb-z]\n", 3, "copies to 'usb-z', which is not under media"},
    {HEAD DS "media:\n  - name: usb-a\n    type: floppy\n    path: /m\n", 7, "not a medium type"},
    {HEAD DS "media:\n  - name: usb-a\n    path: /m\n", 6, "has no type"},
    {HEAD DS "media:\n  - name: usb-a\n    type: disk\n", 6, "has no path"},
    {HEAD DS "media:\n  - name: usb-a\n    type: disk\n    path: /m\n    location: home\n", 9,
     "write onsite or offsite"},
    {HEAD DS "media:\n  - name: usb-a\n    type: disk\n    path: /m\n    offline: maybe\n", 9,
     "not true or false"},
    {HEAD DS
     "media:\n  - { name: a, type: disk, path: /m }\n  - { name: a, type: disk, path: /n }\n",
     7, "medium 'a' is defined twice"},
    {HEAD DS "rule_321: { copies: many }\n", 5, "not a whole number"},
    {HEAD DS "rule_321: { offline_max_age: soon }\n", 5, "is not a duration"},
    {DS, 1, "no repository"},
    {HEAD, 1, "no datasets"},
    {HEAD "datasets: emr\n", 2, "write a list"},
    {HEAD DS "    paths: [/a\n", 6, "inside what starts on line 5, column 12"},
    {"", 1, "the policy is empty"},
    {HEAD DS "drills:\n  - schedule: monthly 32 05:00\n", 6, "is not a schedule"},
    {"repository: srv/bkp\n" DS, 1, "'repository: srv/bkp' is not absolute"},
    {HEAD DS "passphrase_file: pass.txt\n", 5, "is not absolute"},
    {HEAD DS "media:\n  - { name: a, type: disk, path: null }\n", 6, "'path' is null here"},
    {HEAD DS "media:\n  - { name: a, type: disk, path: media/a }\n", 6, "is not absolute"},
    {HEAD "datasets:\n  - name: emr\n    paths: [/a, ~]\n", 4, "'paths' is null here"},
    {HEAD DS "    before: { command: x, env: { PGPASSWORD: !!null } }\n", 5, "is null here"},
    {HEAD DS "    before: { command: x, env: [\"-u PATH=x\"] }\n", 5, "is not NAME=value"},
    {HEAD DS "    before: { command: x, env: { \"-u\": x } }\n", 5, "env name '-u'"},
    {HEAD DS "---\nrepository: /elsewhere\n", 5, "a second YAML document begins here"},
    {HEAD DS "    description: &d [*d]\n", 5, "levels of nesting"},
    {HEAD DS "key_drill_every: yearly\n", 5, "is not a duration"},
    {HEAD DS "key_drill_every: 0d\n", 5, "is not a duration"},
    {HEAD DS "parallel: 0\n", 5, "is not a whole number from 1 to 16"},
    {HEAD HOST("    idle_timeout: 2d\n") REMOTE(""), 6, "idle_timeout is at most a day"},
    {HEAD DS "parallel: 17\n", 5, "is not a whole number from 1 to 16"},
    {HEAD DS "status_page: share/status.html\n", 5, "is not absolute"},
    {HEAD DS "status_page: /srv/share/status.txt\n", 5, "is not a file name ending in .html"},
    {HEAD DS "status_page: /srv/share/.html\n", 5, "is not a file name ending in .html"},
    {HEAD DS "metrics: bkp.prom\n", 5, "is not absolute"},
    {HEAD DS "metrics: /var/lib/bkp.txt\n", 5, "is not a file name ending in .prom"},
    {HEAD DS "language: fr\n", 5, "write 'language: ja' or 'language: en'"},
    {HEAD DS "media:\n  - { name: repository, type: removable, path: /m }\n", 6,
     "names the primary repository"},
    {HEAD DS "facility: \"a\\u202eb\"\n", 5, "the facility's name on one line"},
    {HEAD DS "facility: \"a\\u0085b\"\n", 5, "the facility's name on one line"},
    {HEAD DS "facility: \"a\\nb\"\n", 5, "the facility's name on one line"},
    {HEAD DS "facility: \"\\e[31mOK\"\n", 5, "the facility's name on one line"},
    /* Object media: what they must say, and what only they may say. */
    {HEAD DS OBJ("path: /m"), 6, "it has no path — remove 'path:'"},
    {HEAD DS OBJ("offline: true"), 6, "always on-line: remove 'offline: true'"},
    {HEAD DS "media:\n  - { name: c, type: object, bucket: b-1, credentials_file: /c }\n", 6,
     "has no endpoint"},
    {HEAD DS "media:\n  - { name: c, type: object, endpoint: https://s3, credentials_file: /c }\n",
     6, "has no bucket"},
    {HEAD DS "media:\n  - { name: c, type: object, endpoint: https://s3, bucket: b-1 }\n", 6,
     "has no credentials_file"},
    {HEAD DS "media:\n  - { name: c, type: object, endpoint: http://s3.example.jp, bucket: b-1, "
             "credentials_file: /c }\n",
     6, "plain http is allowed only to this machine"},
    {HEAD DS "media:\n  - { name: c, type: object, endpoint: https://s3, bucket: Big_Bucket, "
             "credentials_file: /c }\n",
     6, "is not an S3 bucket name"},
    {HEAD DS OBJ("lock: { mode: legal }"), 6, "write compliance"},
    {HEAD DS OBJ("lock: { days: 0 }"), 6, "not a whole number from 1"},
    {HEAD DS OBJ("lock: { years: 7 }"), 6, "unknown key 'years'"},
    {HEAD DS "media:\n  - { name: c, type: object, endpoint: https://s3, bucket: b-1, "
             "credentials_file: s3.cred }\n",
     6, "is not absolute"},
    {HEAD DS "media:\n  - { name: u, type: disk, path: /m, bucket: b-1 }\n", 6,
     "are for 'type: object' only"},
    {HEAD DS "rule_321: { immutable: lots }\n", 5, "not a whole number"},
};

/* An anchor named again and again (a "billion laughs") is refused after a
 * small, fixed amount of work, before any reader copies what it expands to. */
static void test_alias_bomb(void **state)
{
    (void)state;
    size_t n = 10000, big = 100 * 1024;
    char *text = malloc(big + 6 * n + 256), *w = text;
    w += sprintf(w, HEAD "datasets:\n  - name: x\n    description: &p \"/");
    memset(w, 'a', big);
    w += big;
    w += sprintf(w, "\"\n    paths: [*p");
    for (size_t i = 1; i < n; i++)
        w += sprintf(w, ", *p");
    strcpy(w, "]\n");
    pol_policy *p = NULL;
    bkp_log_set_sink(sink, NULL);
    assert_int_equal(load_text(text, &p), -EINVAL);
    bkp_log_set_sink(NULL, NULL);
    assert_null(p);
    assert_non_null(strstr(logbuf, "p.yaml:4: the file holds more than"));
    assert_non_null(strstr(logbuf, "aliases"));
    free(text);
}

/* env as a mapping is the same as NAME=value entries. */
static void test_env_mapping(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(
        load_text(HEAD DS "    before: { command: x, env: { PGPASSWORD: s3cret, A: b } }\n", &p),
        0);
    assert_int_equal(p->datasets[0].before.nenv, 2);
    assert_string_equal(p->datasets[0].before.env[0], "PGPASSWORD=s3cret");
    json_t *o = pol_to_json(p);
    char *j = json_dumps(o, 0);
    json_decref(o);
    assert_null(strstr(j, "s3cret"));
    assert_non_null(strstr(j, "\"PGPASSWORD\": \"***\""));
    free(j);
    pol_free(p);
}

/* A data set that is a command's output: its command, name and limits,
 * the 6-hour default, and its line in `policy check --json`. */
static void test_stream(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(load_text(HEAD
                               "datasets:\n  - name: emr-db\n    stream: { command: \"pg_dump -Fc "
                               "emr\", name: emr.dump, run_as: postgres }\n",
                               &p),
                     0);
    const pol_dataset *d = &p->datasets[0];
    assert_int_equal(d->npaths, 0);
    assert_string_equal(d->stream.command.command, "pg_dump -Fc emr");
    assert_string_equal(d->stream.name, "emr.dump");
    assert_string_equal(d->stream.command.run_as, "postgres");
    assert_int_equal(d->stream.command.timeout, 6 * 3600);
    json_t *o = pol_to_json(p);
    json_t *st = json_object_get(json_array_get(json_object_get(o, "datasets"), 0), "stream");
    assert_string_equal(json_string_value(json_object_get(st, "name")), "emr.dump");
    assert_string_equal(json_string_value(json_object_get(st, "command")), "pg_dump -Fc emr");
    json_decref(o);
    pol_free(p);
    assert_int_equal(load_text(HEAD "datasets:\n  - name: emr-db\n    stream: { command: x, name: "
                                    "e.dump, timeout: 20m }\n",
                               &p),
                     0);
    assert_int_equal(p->datasets[0].stream.command.timeout, 1200);
    pol_free(p);
    /* A pipeline under pipefail reports a failed dump: accepted. */
    assert_int_equal(load_text(HEAD "datasets:\n  - name: emr-db\n    stream: { command: 'bash -o "
                                    "pipefail -c \"pg_dump emr | gzip\"', name: e.gz }\n",
                               &p),
                     0);
    pol_free(p);
}

static void test_hosts(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(load_text(HEAD HOST("    port: 2222\n") REMOTE(""), &p), 0);
    const pol_host *h = pol_host_find(p, "emr-db");
    assert_non_null(h);
    assert_string_equal(h->user, "bkp");
    assert_string_equal(h->address, "10.0.0.12");
    assert_int_equal(h->port, 2222);
    assert_string_equal(h->identity, POL_HOST_IDENTITY);
    assert_int_equal(h->connect_timeout, 30);
    assert_string_equal(p->datasets[0].host, "emr-db");
    json_t *o = pol_to_json(p);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(o, "hosts"), 0), "address")),
                        "10.0.0.12");
    json_decref(o);
    pol_free(p);
}

static void test_bad_policies(void **state)
{
    (void)state;
    bkp_log_set_sink(sink, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        pol_policy *p = NULL;
        char where[32];
        int r = load_text(bad[i].text, &p);
        snprintf(where, sizeof(where), "p.yaml:%d:", bad[i].line);
        if (r != -EINVAL || !strstr(logbuf, where) || !strstr(logbuf, bad[i].expected)) {
            bkp_log_set_sink(NULL, NULL);
            print_error("case %zu: want %s...%s, got (%d):\n%s", i, where, bad[i].expected, r,
                        logbuf);
            fail();
        }
        assert_null(p);
        /* Every refusal ends by saying that nothing ran and how to check. */
        assert_non_null(strstr(logbuf, "nothing was run"));
    }
    bkp_log_set_sink(NULL, NULL);
}

/* A YAML syntax error, in the reader's language: where (file:line:column),
 * what is wrong and what to check are ours; libyaml's own English words
 * follow in parentheses, never translated. */
static const struct syntax {
    const char *text, *where, *en, *ja, *libyaml;
} syntax[] = {
    /* the reader: a byte that is not UTF-8 (its column counted in characters) */
    {HEAD "# 患者\xff\n" DS, "p.yaml:2:5: ", "the file is not plain UTF-8 text — save it as UTF-8",
     "ファイルが UTF-8 のテキストではありません — UTF-8 で保存し",
     "libyaml: invalid leading UTF-8 octet"},
    /* the scanner: a tab where indentation is */
    {HEAD "datasets:\n\t- name: emr\n",
     "p.yaml:3:1: ", "this cannot be read as YAML — check the indentation (spaces, not tabs)",
     "YAML として読めません — この近くのインデント（タブではなく空白）",
     "libyaml: found character that cannot start any token while scanning for the next token"},
    /* the parser: a flow list not closed */
    {HEAD DS "    paths: [/a\n", "p.yaml:6:1: ",
     "the lists and mappings do not fit together here, inside what starts on line 5, column 12",
     "リストとマッピングの組み立てが合いません（5 行 12 文字目から始まる部分）",
     "libyaml: did not find expected ',' or ']' while parsing a flow sequence"},
    /* the composer: an alias of no anchor */
    {HEAD DS "    description: *nope\n", "p.yaml:5:18: ",
     "an alias (*name) or anchor (&name) is wrong here — define each anchor (&name) once",
     "別名（*名前）かアンカー（&名前）が誤っています — アンカー（&名前）は",
     "libyaml: found undefined alias"},
};

static void test_syntax_errors(void **state)
{
    (void)state;
    test_bind_catalogue();
    bkp_log_set_sink(sink, NULL);
    for (int ja = 0; ja < 2; ja++) {
        if (ja)
            setenv("LANGUAGE", "ja", 1);
        setlocale(LC_MESSAGES, ja ? "C.UTF-8" : "C");
        for (size_t i = 0; i < sizeof(syntax) / sizeof(*syntax); i++) {
            pol_policy *p = NULL;
            int r = load_text(syntax[i].text, &p);
            const char *want = ja ? syntax[i].ja : syntax[i].en;
            if (r != -EINVAL || !strstr(logbuf, syntax[i].where) || !strstr(logbuf, want) ||
                !strstr(logbuf, syntax[i].libyaml)) {
                bkp_log_set_sink(NULL, NULL);
                print_error("case %zu (%s): want %s...%s...%s, got (%d):\n%s", i, ja ? "ja" : "en",
                            syntax[i].where, want, syntax[i].libyaml, r, logbuf);
                fail();
            }
        }
    }
    unsetenv("LANGUAGE");
    setlocale(LC_MESSAGES, "C");
    bkp_log_set_sink(NULL, NULL);
}

static void test_examples_parse(void **state)
{
    (void)state;
    static const char *const files[] = {"policies/examples/hospital.yaml",
                                        "policies/examples/hospital-200-beds.yaml",
                                        "policies/examples/clinic.yaml"};
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        char path[4096];
        pol_policy *p = NULL;
        snprintf(path, sizeof(path), "%s/%s", BKP_SOURCE_DIR, files[i]);
        assert_int_equal(pol_load(path, &p), 0);
        assert_true(p->ndatasets >= 2);
        pol_free(p);
    }
}

/* The design's example, exactly as written there. */
static void test_design_example(void **state)
{
    (void)state;
    char path[4096];
    pol_policy *p = NULL;
    snprintf(path, sizeof(path), "%s/policies/examples/hospital.yaml", BKP_SOURCE_DIR);
    assert_int_equal(pol_load(path, &p), 0);
    assert_string_equal(p->repository, "/srv/bkp/repo");
    assert_string_equal(p->passphrase_file, "/etc/bkp/passphrase");
    assert_int_equal(p->rule.copies, 3);
    assert_int_equal(p->rule.offline_max_age, 8 * 86400);
    assert_int_equal(p->nmedia, 3);
    const pol_medium *tape = pol_medium_find(p, "tape");
    assert_non_null(tape);
    char names[64], small[12];
    assert_string_equal(pol_media_names(p, names, sizeof(names)), "usb-a, usb-b, tape");
    assert_string_equal(pol_media_names(p, small, sizeof(small)), "usb-a, ...");
    assert_int_equal(tape->type, POL_ARCHIVE);
    assert_true(tape->offline && tape->offsite);
    assert_int_equal(tape->rotate_every, 30 * 86400);
    const pol_dataset *emr = pol_dataset_find(p, "emr-db");
    assert_non_null(emr);
    assert_string_equal(emr->description, "電子カルテ データベース");
    assert_int_equal(emr->priority, 1);
    assert_string_equal(emr->before.command, "pg_dump -Fc -f /var/backups/emr/emr.dump emr");
    assert_int_equal(emr->before.timeout, 1800);
    assert_int_equal(emr->schedule.kind, POL_DAILY);
    assert_int_equal(emr->schedule.hour, 2);
    assert_int_equal(emr->retention.keep_monthly, 12);
    assert_int_equal(emr->retention.lock_days, 7);
    assert_int_equal(emr->ncopy_to, 3);
    assert_string_equal(emr->exclude[0], "*.tmp");
    assert_string_equal(emr->runbook, "emr-db");
    assert_int_equal(p->ndrills, 1);
    assert_int_equal(p->drills[0].schedule.kind, POL_MONTHLY);
    assert_int_equal(p->drills[0].schedule.mday, 1);
    pol_free(p);
}

/* The key-recovery drill's period: a year unless the policy says otherwise,
 * and shown as applied. */
/* An object medium as the guide shows it: the defaults filled in. */
static void test_object_medium(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(load_text(HEAD DS
                               "media:\n  - name: cloud\n    type: object\n"
                               "    endpoint: https://s3.example.jp\n"
                               "    bucket: hospital-bkp\n"
                               "    credentials_file: /etc/bkp/s3.credentials\n"
                               "    location: offsite\n    rotate_every: 1d\n"
                               "  - { name: c2, type: object, endpoint: 'http://127.0.0.1:7480',"
                               " bucket: b-2, region: ap-northeast-1, credentials_file: /c,"
                               " lock: { mode: governance, days: 400 } }\n",
                               &p),
                     0);
    const pol_medium *m = pol_medium_find(p, "cloud"), *m2 = pol_medium_find(p, "c2");
    assert_int_equal(m->type, POL_OBJECT);
    assert_null(m->path);
    assert_string_equal(m->object.region, "us-east-1");
    assert_int_equal(m->object.lock_days, 30);
    assert_false(m->object.governance);
    assert_true(m->offsite);
    assert_false(m->offline);
    assert_string_equal(m2->object.region, "ap-northeast-1");
    assert_true(m2->object.governance);
    assert_int_equal(m2->object.lock_days, 400);
    assert_string_equal(pol_medium_type_name(m->type), "object");
    assert_int_equal(p->rule.immutable, 1); /* the default: as many as off-line copies */
    json_t *j = pol_to_json(p);
    assert_non_null(j);
    json_t *jm = json_array_get(json_object_get(j, "media"), 0);
    assert_string_equal(json_string_value(json_object_get(jm, "bucket")), "hospital-bkp");
    assert_true(json_is_null(json_object_get(jm, "path")));
    json_decref(j);
    pol_free(p);
}

static void test_key_drill_every(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(load_text(HEAD DS, &p), 0);
    assert_int_equal(p->key_drill_every, 365 * 86400);
    pol_free(p);
    p = NULL;
    assert_int_equal(load_text(HEAD DS "key_drill_every: 26w\n", &p), 0);
    assert_int_equal(p->key_drill_every, 26 * 7 * 86400);
    json_t *j = pol_to_json(p);
    assert_int_equal(json_integer_value(json_object_get(j, "key_drill_every")), 26 * 7 * 86400);
    json_decref(j);
    pol_free(p);
}

static void test_parallel(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(load_text(HEAD DS, &p), 0);
    assert_int_equal(p->parallel, 2);
    pol_free(p);
    p = NULL;
    assert_int_equal(load_text(HEAD DS "parallel: 1\n", &p), 0);
    assert_int_equal(p->parallel, 1);
    json_t *j = pol_to_json(p);
    assert_int_equal(json_integer_value(json_object_get(j, "parallel")), 1);
    json_decref(j);
    pol_free(p);
}

static void test_status_page(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(load_text(HEAD DS, &p), 0);
    assert_null(p->status_page);
    pol_free(p);
    p = NULL;
    assert_int_equal(load_text(HEAD DS "status_page: /srv/share/bkp/status.html\n", &p), 0);
    assert_string_equal(p->status_page, "/srv/share/bkp/status.html");
    json_t *j = pol_to_json(p);
    assert_string_equal(json_string_value(json_object_get(j, "status_page")),
                        "/srv/share/bkp/status.html");
    assert_null(json_object_get(j, "metrics"));
    json_decref(j);
    pol_free(p);
    p = NULL;
    assert_int_equal(load_text(HEAD DS "metrics: /var/lib/node/bkp.prom\n", &p), 0);
    assert_string_equal(p->metrics, "/var/lib/node/bkp.prom");
    pol_free(p);
}

/* The facility's name and the language of what is written for people. */
static void test_facility_language(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(load_text(HEAD DS, &p), 0);
    assert_null(p->facility);
    assert_null(p->language);
    pol_free(p);
    p = NULL;
    assert_int_equal(load_text(HEAD DS "facility: \"さくら診療所\"\nlanguage: ja\n", &p), 0);
    assert_string_equal(p->facility, "さくら診療所");
    assert_string_equal(p->language, "ja");
    json_t *j = pol_to_json(p);
    assert_string_equal(json_string_value(json_object_get(j, "facility")), "さくら診療所");
    assert_string_equal(json_string_value(json_object_get(j, "language")), "ja");
    json_decref(j);
    pol_free(p);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t v;
    } ok[] = {{"30s", 30}, {"30m", 1800}, {"12h", 43200}, {"7d", 604800}, {"2w", 1209600}};
    static const char *const no[] = {"",    "30",  "m",    "-5m", "0s",
                                     "5 m", "5mm", "1.5h", "5y",  "99999999999999999w"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
        int64_t v = 0;
        assert_int_equal(pol_duration_parse(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].v);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
        int64_t v = 0;
        assert_int_equal(pol_duration_parse(no[i], &v), -EINVAL);
    }
    /* Said back as a policy writes it, and read again the same. */
    static const struct {
        int64_t v;
        const char *s;
    } said[] = {{10800, "3h"}, {90, "90s"}, {5400, "90m"}, {604800, "7d"}, {86399, "86399s"}};
    char buf[32];
    for (size_t i = 0; i < sizeof(said) / sizeof(*said); i++) {
        int64_t v = 0;
        assert_string_equal(pol_duration_text(buf, sizeof(buf), said[i].v), said[i].s);
        assert_int_equal(pol_duration_parse(buf, &v), 0);
        assert_int_equal(v, said[i].v);
    }
}

static void test_schedules(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        const char *canonical;
    } ok[] = {{"hourly", "hourly :00"},
              {"hourly :15", "hourly :15"},
              {"daily 02:00", "daily 02:00"},
              {"DAILY 23:59", "daily 23:59"},
              {"weekly sun 03:00", "weekly sun 03:00"},
              {"weekly Monday 00:30", "weekly mon 00:30"},
              {"monthly 1 04:00", "monthly 1 04:00"},
              {"monthly 31 05:00", "monthly 31 05:00"}};
    static const char *const no[] = {"",
                                     "daily",
                                     "daily 2:00",
                                     "daily 24:00",
                                     "daily 02:60",
                                     "weekly 03:00",
                                     "weekly xyz 03:00",
                                     "monthly 0 04:00",
                                     "monthly 32 04:00",
                                     "hourly 15",
                                     "daily 02:00 extra",
                                     "yearly"};
    char buf[64];
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
        pol_schedule s;
        assert_int_equal(pol_schedule_parse(ok[i].s, &s), 0);
        assert_string_equal(pol_schedule_text(&s, buf, sizeof(buf)), ok[i].canonical);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
        pol_schedule s;
        if (pol_schedule_parse(no[i], &s) != -EINVAL) {
            print_error("'%s' was accepted\n", no[i]);
            fail();
        }
    }
}

/* Where a medium is kept, in the clinic's words: kept; one line, not
 * empty, not too long. */
static void test_kept_at(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    assert_int_equal(load_text(HEAD "media:\n  - { name: usb-a, type: removable, path: /media/bkp, "
                                    "offline: true, kept_at: \"院長の自宅\" }\n" DS,
                               &p),
                     0);
    assert_string_equal(p->media[0].kept_at, "院長の自宅");
    pol_free(p);
    static const char *const refused[] = {"\"\"", "\"two\\nlines\"", "[a, b]", "\"`safe`\""};
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 HEAD
                 "media:\n  - { name: usb-a, type: removable, path: /media/bkp, kept_at: %s }\n" DS,
                 refused[i]);
        if (load_text(text, &p) == 0) {
            print_error("kept_at: %s was accepted\n", refused[i]);
            pol_free(p);
            fail();
        }
    }
    char text[512], long_words[260];
    memset(long_words, 'x', 250);
    long_words[250] = '\0';
    snprintf(text, sizeof(text),
             HEAD
             "media:\n  - { name: usb-a, type: removable, path: /media/bkp, kept_at: %s }\n" DS,
             long_words);
    assert_int_not_equal(load_text(text, &p), 0);
}

static void test_compliance_warnings(void **state)
{
    (void)state;
    pol_policy *p = NULL;
    bkp_log_set_sink(sink, NULL);
    assert_int_equal(
        load_text(HEAD DS "    schedule: daily 02:00\n    retention: { keep_last: 2 }\n", &p), 0);
    logbuf[0] = '\0';
    /* Two generations, no off-line and no off-site medium: three warnings. */
    assert_int_equal(pol_warn_compliance(p), 3);
    bkp_log_set_sink(NULL, NULL);
    assert_non_null(strstr(logbuf, "3-②"));
    assert_non_null(strstr(logbuf, "keeps at most 2 generation"));
    assert_non_null(strstr(logbuf, "off-line"));
    assert_null(strstr(logbuf, "time zone"));
    pol_free(p);

    /* A Japanese policy on a server left on UTC: its schedules would run
     * nine hours off; in Japan's zone, nothing is said of it. */
    assert_int_equal(load_text("language: ja\n" HEAD DS "    schedule: daily 02:00\n"
                               "    retention: { keep_last: 2 }\n",
                               &p),
                     0);
    const char *tz = getenv("TZ");
    char *was = tz ? strdup(tz) : NULL;
    for (int utc = 1; utc >= 0; utc--) {
        setenv("TZ", utc ? "UTC0" : "JST-9", 1);
        tzset();
        bkp_log_set_sink(sink, NULL);
        logbuf[0] = '\0';
        assert_int_equal(pol_warn_compliance(p), utc ? 4 : 3);
        bkp_log_set_sink(NULL, NULL);
        assert_int_equal(strstr(logbuf, "timedatectl set-timezone Asia/Tokyo") != NULL, utc);
    }
    if (was)
        setenv("TZ", was, 1);
    else
        unsetenv("TZ");
    tzset();
    free(was);
    pol_free(p);

    /* An off-line disk that does not say where it is kept: said, with what
     * to add; one that does, not. */
    for (int kept = 0; kept < 2; kept++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 HEAD "media:\n  - { name: usb-a, type: removable, path: /media/bkp, location: "
                      "offsite, offline: true, rotate_every: 7d%s }\n" DS
                      "    copy_to: [usb-a]\n    schedule: daily 02:00\n",
                 kept ? ", kept_at: 院長の自宅" : "");
        assert_int_equal(load_text(text, &p), 0);
        bkp_log_set_sink(sink, NULL);
        logbuf[0] = '\0';
        (void)pol_warn_compliance(p);
        bkp_log_set_sink(NULL, NULL);
        assert_int_equal(strstr(logbuf, "medium usb-a does not say where it is kept") != NULL,
                         !kept);
        pol_free(p);
    }
}

/* What each medium type is, from the one table every layer asks: its name
 * round-trips, and a disk, a removable disk, an archive and a bucket are
 * told apart by their traits alone. */
static void test_medium_kinds(void **state)
{
    (void)state;
    const pol_medium_type all[] = {POL_DISK, POL_REMOVABLE, POL_ARCHIVE, POL_OBJECT};
    for (size_t i = 0; i < 4; i++) {
        pol_medium_type t;
        assert_int_equal(pol_medium_type_named(pol_medium_type_name(all[i]), &t), 0);
        assert_int_equal(t, all[i]);
        assert_non_null(pol_medium_type_paper(all[i]));
    }
    pol_medium_type t;
    assert_int_equal(pol_medium_type_named("tape", &t), -EINVAL);
    /* Where no policy says: carried away is off-line; a bucket is on-line. */
    assert_true(pol_type_offline(POL_REMOVABLE) && pol_type_offline(POL_ARCHIVE));
    assert_false(pol_type_offline(POL_DISK) || pol_type_offline(POL_OBJECT));
    assert_true(pol_type_write_once(POL_ARCHIVE) && !pol_type_write_once(POL_DISK));
    assert_true(pol_type_at_path(POL_ARCHIVE) && !pol_type_at_path(POL_OBJECT));
    pol_medium disk = {.type = POL_DISK}, off = {.type = POL_DISK, .offline = true},
               usb = {.type = POL_REMOVABLE}, cloud = {.type = POL_OBJECT};
    assert_true(pol_medium_online(&disk));
    assert_false(pol_medium_online(&off) || pol_medium_online(&usb) || pol_medium_online(&cloud));
    assert_null(pol_medium_bucket(&disk));
    assert_null(pol_medium_bucket(NULL));
    assert_ptr_equal(pol_medium_bucket(&cloud), &cloud.object);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_policies),
        cmocka_unit_test(test_examples_parse),
        cmocka_unit_test(test_design_example),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_compliance_warnings),
        cmocka_unit_test(test_kept_at),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_env_mapping),
        cmocka_unit_test(test_object_medium),
        cmocka_unit_test(test_key_drill_every),
        cmocka_unit_test(test_status_page),
        cmocka_unit_test(test_facility_language),
        cmocka_unit_test(test_parallel),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_medium_kinds),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
