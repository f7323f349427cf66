/*
 * runbook_doc.h — what people read of a runbook: its printable procedure
 * (手順書), and the report of a drill or a restore by runbook, in Markdown or
 * HTML (bkp/report/doc.h), in Japanese or English. Everything here is text built
 * from values the caller gathered; nothing is looked up.
 */
#ifndef RST_RUNBOOK_DOC_H
#define RST_RUNBOOK_DOC_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "bkp/report/doc.h"
#include "restore/runbook.h"

/* The printable procedure. `copies` (may be NULL) lists where usable copies
 * are today: [{"medium", "type", "location", "offline", "generation",
 * "captured"}]; `folders` (may be NULL) maps a data set of one folder to it
 * ({"emr-db": "/var/backups/emr"}), so the printed restore puts its contents
 * where the engine would; `repo` is the primary repository's path,
 * `fingerprint` its key's (pubkey.h; NULL when it is not open), `now` the
 * date printed on it (0: none, for a copy kept on a medium, which should
 * not change with the day). */
char *rb_print(const rb_runbook *rb, json_t *copies, json_t *folders, const char *repo,
               const char *fingerprint, rb_format f, bool ja, time_t now);

/* The procedure as a medium carries it beside its recovery kit, for a
 * machine that has never seen bkp: mounted read-only at `mount` (the
 * medium's path in the policy), every command runs the medium's kit there
 * with the key typed from paper (KEY). */
typedef struct rb_on_medium {
    const char *name;  /* the medium's name in the policy */
    const char *mount; /* where the procedure mounts it */
    bool archive;      /* a folder of archives (DATASET@SEQ.tar), not a repository copy */
} rb_on_medium;

/* The procedure of `rb` for the medium `on`, in Markdown: `held` lists the
 * generations it holds, one row each, as rb_print's `copies`; `now` the
 * rotation that wrote it. */
char *rb_print_on_medium(const rb_runbook *rb, const rb_on_medium *on, json_t *held,
                         json_t *folders, const char *fingerprint, bool ja, time_t now);

/* The report of a drill or run, from rb_report_json. */
char *rb_report_render(json_t *report, rb_format f, bool ja);

/* Which sources a drill read, and why, for people: a report's "read_from"
 * ("offline", "no_offline", "primary", "named", "key_recovery", "all";
 * bkp/ops/drill.h). */
const char *rb_read_from_text(const char *from);

const char *rb_status_word(const char *status);

#endif
