/*
 * runbook.h — a recovery procedure: ordered steps, each with who does it,
 * what it is, and one action; printed for people, executed by the restore
 * engine, rehearsed by drills (docs/operator-guide.md, chapter 6).
 *
 *   title: "電子カルテDB 復旧手順"
 *   datasets: [emr-db]
 *   owner: "医療情報システム安全管理責任者"
 *   rto: 4h
 *   passphrase_note: "金庫の封筒 (事務長室)"   # where the passphrase is kept, never the secret
 *   steps:
 *     - { who: "システム担当", confirm: "感染端末をネットワークから切り離した" }
 *     - { who: "システム担当", select: { dataset: emr-db, newest: verified, not: suspicious } }
 *     - { who: "システム担当", verify: {} }
 *     - { who: "システム担当", restore: { dataset: emr-db, to: /var/restore/emr } }
 *     - { who: "DB管理者", run: "pg_restore -d emr_restore $BKP_TARGET/emr.dump", timeout: 30m }
 *     - { who: "DB管理者", check: "test $(psql -tAc 'select count(*) from patients' emr_restore)
 * -gt 0" }
 *     - { who: "DB管理者", note: "病棟へ復旧を連絡する" }
 *   run_as: bkp-drill        # optional: run and check steps run as this user
 *
 * A run or check step may also carry `env: ["PGHOST=/run/postgresql"]`
 * (NAME=value entries added to its clean environment; no BKP_ names) and
 * `run_as: USER` of its own. Commands never run with bkp's environment:
 * see bkp/host/cmdenv.h for what they get.
 *
 * Parsed strictly, like the policy: unknown keys, wrong types, a step with
 * no action or two, a bad duration, a select or restore naming a data set
 * the runbook does not list → "file:line: what is wrong — what to write".
 * A runbook is named by its file's stem.
 */
#ifndef RST_RUNBOOK_H
#define RST_RUNBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    RB_CONFIRM, /* a person attests `text` */
    RB_SELECT,  /* pick a generation */
    RB_VERIFY,  /* authenticate the selected generation on its medium */
    RB_RESTORE, /* a data set (or a path of it) into a folder */
    RB_RUN,     /* a command; a non-zero exit fails the step */
    RB_CHECK,   /* a command whose exit status decides */
    RB_NOTE,    /* text for the people doing it */
} rb_action;

typedef struct rb_select {
    char *dataset;       /* NULL: the runbook's first data set */
    bool verified;       /* newest: verified (default) — not just the newest */
    bool not_suspicious; /* not: suspicious (default true) */
    int64_t before;      /* before: YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD; 0: none */
    bool fallback;       /* fallback: older (default true): a generation that fails
                          * verification gives way to the next older clean one */
} rb_select;

typedef struct rb_restore {
    char *dataset; /* NULL: the selected generation's */
    char *path;    /* NULL: all of it; else a path inside the generation */
    char *to;      /* the target folder (re-rooted under the sandbox in a drill) */
} rb_restore;

typedef struct rb_step {
    char *who;
    char *what; /* optional: a line for people */
    rb_action action;
    char *text; /* confirm: the statement; run/check: the command (sh -c); note: the text */
    rb_select select;
    rb_restore restore;
    char *medium;    /* verify: { medium: NAME } — NULL: the medium the generation is read from */
    int64_t timeout; /* run/check: seconds, default 3600 */
    char *run_as;    /* run/check: the user it runs as; NULL: the runbook's */
    char **env;      /* run/check: "NAME=value" added to its environment */
    size_t nenv;
    int line; /* where the step starts in the file */
} rb_step;

typedef struct rb_runbook {
    char *name; /* the file's stem */
    char *file;
    char *title;
    char *owner;
    char **datasets;
    size_t ndatasets;
    int64_t rto; /* target recovery time in seconds; 0: none given */
    char *passphrase_note;
    char *run_as; /* the user run and check steps run as; NULL: as bkp runs */
    int run_as_line;
    rb_step *steps;
    size_t nsteps;
} rb_runbook;

/* Load and validate `file`; every problem is logged as file:line. 0, -EINVAL
 * for an invalid runbook, or a negative errno for an unreadable file. */
int rb_load(const char *file, rb_runbook **out);
void rb_free(rb_runbook *rb);

/* Where runbook `name` lives: a path when it has a '/', else NAME.yaml in, in
 * order, `runbooks/` beside the policy file, `../runbooks/` from it (so the
 * examples in policies/examples find policies/runbooks), and
 * /etc/bkp/runbooks. NULL (logged, with the places tried, and `hint` — what
 * the caller knows of the name — or else where to put the file) when none
 * exists. */
char *rb_find(const char *name, const char *policy_file, const char *hint);

const char *rb_action_name(rb_action a); /* "confirm", "select", ... */
/* The same word for people, in the language of the messages. */
const char *rb_action_word(rb_action a);
/* The name records and kits give runbook `runbook` (a name, or a path the
 * policy gives): its file's name without folders and ".yaml". */
void rb_runbook_stem(const char *runbook, char *stem, size_t n);

/* The user step `s` runs as: its own run_as, else the runbook's; NULL: as
 * bkp runs. */
const char *rb_step_user(const rb_runbook *rb, const rb_step *s);

/* Does every user a step runs as exist on this host? 0, or -ENOENT with
 * each missing one logged as file:line — checked before a drill or a
 * restore starts, so that it does not stop half-way. */
int rb_check_users(const rb_runbook *rb);

/* Put what care needs back first first: the blocks of steps that each begin
 * with a `select` are ordered by the priority of their data set (lower
 * first; equal ones keep their order); the steps before the first select
 * (the pre-restore confirms) and the closing notes stay where they are.
 * True when the order changed. */
bool rb_order_by_priority(rb_runbook *rb, int (*priority)(const char *dataset, void *ctx),
                          void *ctx);

#endif
