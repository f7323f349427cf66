/*
 * evidence_doc.h — the evidence for checklist item 3-② over a period as one
 * typed record: what bkp/ops/report.c gathers from the signed audit log and
 * the status of now, what evidence.c judges (the statement) and renders for
 * people, and what `bkp audit report --json` emits. This file's codec
 * (evidence_doc.c) is the one place that turns it into JSON and back.
 *
 * Every claim keeps the audit records it rests on (rb_ev_entry: sequence
 * number, time, outcome). Times are time_t, 0 for "none"; strings are owned
 * by the record (rb_evidence_clear frees them), NULL for "not said". The
 * parser takes what the emitter writes, each member optional (a document of
 * an older bkp lacks the newer ones; a hand-made one in the tests lacks
 * many), and refuses a member of the wrong type, a time not written as bkp
 * writes one, an unknown verdict, medium type, drill kind or statement part,
 * and a number out of range: what it accepts it writes back the same.
 */
#ifndef RB_EVIDENCE_DOC_H
#define RB_EVIDENCE_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/report/status_doc.h"
#include "policies/schedule.h"

/* One audit record cited: "seq", "time", and what it says. */
typedef struct rb_ev_entry {
    uint64_t seq;
    time_t time;
    char *outcome;    /* "ok", "failed"…; NULL: not said */
    char *medium;     /* NULL: none */
    char *generation; /* NULL: none */
    char *error;      /* NULL: none */
    char *error_ja;   /* the same in Japanese (a rotation's figure "error_ja"); NULL: none */
} rb_ev_entry;

/* A rotation to a medium that holds the data set. */
typedef struct rb_ev_rotation {
    rb_ev_entry e;
    bool refused; /* the medium was not there: nothing written */
    bool offline; /* to a medium the policy keeps off-line: it counts as the off-line copy */
} rb_ev_rotation;

/* Who confirmed a drill: a person who attended it, nobody (a schedule's),
 * or the key sheets alone (a key-recovery drill); or no drill at all, a
 * restore by the runbook (`bkp restore --runbook`) that people attended,
 * done for real ("recovery"). */
typedef enum { RB_EV_ATTENDED, RB_EV_UNATTENDED, RB_EV_KEY_RECOVERY, RB_EV_RECOVERY } rb_ev_kind;

typedef struct rb_ev_drill {
    rb_ev_entry e;
    char *runbook;      /* NULL: not said */
    double seconds;     /* < 0: not said */
    int64_t rto_target; /* "rto_target_seconds": 0 none, < 0 not said */
    rst_tri rto_met;
    int64_t failed_step, not_rehearsed, damaged; /* < 0: not said */
    rb_ev_kind kind;
    char *attested_by, *read_from, *user; /* NULL: not said */
} rb_ev_drill;

/* The data set's written procedure ("runbook": null when it names none). */
typedef struct rb_ev_runbook {
    char *name;   /* NULL: the data set names none */
    bool invalid; /* named, but it does not load */
    char *file, *title;
    size_t steps;
    int64_t rto; /* "rto_seconds" */
} rb_ev_runbook;

typedef struct rb_ev_dataset {
    char *name;        /* "dataset" */
    char *description; /* NULL: none */
    int priority;
    size_t backups_ok, backups_failed, backups_suspicious; /* "backups" */
    rb_ev_entry *backups;                                  /* "backups"."records" */
    size_t nbackups;
    /* The slots of its schedule in the period since its first backup
     * ("backups"."scheduled", "missed", "missed_slots": absent in a document
     * written before, or without a schedule or a backup). */
    bool has_slots;
    size_t slots, slots_missed;
    time_t missed[POL_SLOTS_NAMED]; /* the first of the missed */
    size_t nmissed;
    /* The status of now ("generations_kept", "verdict", "reasons",
     * "reasons_ja", "counted", "required", "copies_on_media"): all null
     * when it could not be had. */
    bool has_status;
    size_t generations;
    pol_verdict verdict;
    rst_words en, ja; /* their reasons */
    rst_counts counted, required;
    rst_copy *copies;
    size_t ncopies;
    rb_ev_rotation *rotations;
    size_t nrotations;
    int64_t offline_gap;     /* "offline_longest_gap_seconds" */
    time_t offline_gap_end;  /* "offline_longest_gap_end": when it ended (0: null) */
    bool offline_gap_ok;     /* there was an off-line copy, and never older than the rule */
    int64_t offline_max_age; /* "offline_max_age_seconds" */
    /* "offline_at_end_ok": an off-line copy no older than the rule at the
     * period's end (what the checklist's answer is: whether it is done),
     * unsaid in a document written before it; "offline_lapses": how many
     * times in the period the newest off-line copy grew older than the
     * rule (the one still running at the end counted). */
    rst_tri offline_at_end_ok;
    int64_t offline_lapses;
    /* The generations held at the period's end, from the log: sealed by its
     * backup records up to then, less those its prunes deleted
     * ("generations_at_end"; -1: not known, null); the last of those
     * records ("generations_at_end_record", 0: none). */
    int64_t held_at_end;
    uint64_t held_seq;
    rb_ev_drill *drills;
    size_t ndrills;
    rb_ev_runbook runbook;
} rb_ev_dataset;

/* One figure of a key operation, as its record said it ("figures"),
 * written as text (rb_ev_key_op_figure). */
typedef struct rb_ev_figure {
    char *name, *value;
    bool integer; /* the record said an integer: written back as one */
} rb_ev_figure;

/* A use or change of the key ("key_operations"). */
typedef struct rb_ev_key_op {
    rb_ev_entry e; /* its medium */
    char *op;      /* "key-export", …, "drill" */
    bool key_recovery;
    /* "older_split": the record of the last key split before it when the
     * sheets it took are not all of that split's (bkp_audit_sheets_older):
     * an older split's, so enough of those are still kept, and a drill with
     * them did not rehearse the new ones. 0: they are, or not known. */
    uint64_t older_split;
    char *user, *host, *dataset; /* NULL: not said */
    rb_ev_figure *figures;
    size_t nfigures;
} rb_ev_key_op;

/* Figure `k` = `v` of a key operation's audit record into `op`, as text:
 * a scalar, a list of scalars joined with ",", an object one level deep as
 * its members; a name that says secret, passphrase or master never, a name
 * already there not again. 0 or -ENOMEM. The one rule, for the gathering
 * from the audit log and for the parse of what it wrote. */
int rb_ev_key_op_figure(rb_ev_key_op *op, const char *k, const json_t *v);

/* The parts of the statement, in its order. */
typedef enum {
    RB_EV_GENERATIONS,
    RB_EV_OFFLINE,
    RB_EV_IMMUTABLE, /* one copy in a form that cannot be edited */
    RB_EV_MEDIA,     /* two kinds of media, the 3-2-1 verdict of now */
    RB_EV_OFFSITE,   /* one copy off-site */
    RB_EV_RULE,      /* the policy's 3-2-1 rule holds now: no data set NON-COMPLIANT */
    RB_EV_PROCEDURE,
    RB_EV_DRILL,
    RB_EV_AUDIT,
    RB_EV_PARTS
} rb_ev_part_id;

/* A part: whether it holds, and its evidence in each language. */
typedef struct rb_ev_part {
    bool ok;
    char *en, *ja; /* NULL: not judged */
} rb_ev_part;

typedef struct rb_evidence {
    char *repository, *repository_id, *fingerprint; /* NULL: not said */
    char *facility;                                 /* NULL: none */
    time_t from, to;                                /* "period" */
    time_t asked_from; /* when the period was shortened to the creation; 0 otherwise */
    bool from_default; /* the period's start was the default, not asked for */
    time_t generated;
    rst_audit audit; /* "ok", "records", "problem", "code", "detail" */
    rb_ev_entry *verifications;
    size_t nverifications;
    rb_ev_dataset *datasets;
    size_t ndatasets;
    bool has_key_ops; /* evidence gathered before key operations were has none */
    rb_ev_key_op *key_ops;
    size_t nkey_ops;
    bool judged; /* "statement": the answer and parts below */
    bool answer;
    rb_ev_part parts[RB_EV_PARTS];
} rb_evidence;

/* The whole record as JSON (`bkp audit report --json`); NULL without memory. */
json_t *rb_evidence_json(const rb_evidence *ev);

/* The record of `j` (what rb_evidence_json writes) into `out`: 0,
 * -EBADMSG when out of shape (`out` then cleared), -ENOMEM. */
int rb_evidence_parse(const json_t *j, rb_evidence *out);

/* Free what `ev` holds; `ev` is left empty. */
void rb_evidence_clear(rb_evidence *ev);
void rb_ev_entry_clear(rb_ev_entry *e);

#endif
