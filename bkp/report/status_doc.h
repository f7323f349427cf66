/*
 * status_doc.h — the status of a repository as one typed record: what
 * `bkp status` prints, what `--json` emits, what the status page
 * (status_page.h) renders, what `bkp run` alerts on and what the metrics and
 * the evidence report read. bkp/ops/status.c gathers it; this file's codec
 * (status_doc.c) is the one place that turns it into JSON and back, so that
 * a renamed key is one change and no reader spells one.
 *
 * Per data set, in priority order: its verdict from policies/compliance.c,
 * the copies on media the registry records (a medium whose last check failed
 * does not count), the last backup, verification and drill from the audit
 * log, the reasons and the next action — in English for programs, in the
 * reader's language (`shown`) and in Japanese (`ja`, for the page). The
 * document adds the key-recovery drill reminder, the coming rotations, the
 * audit log as checked, the off-line media left plugged in and what a copy
 * of the repository needs.
 *
 * Times are time_t, 0 for "none" (null or absent in the JSON); strings are
 * owned by the record (rst_status_clear frees them). The JSON is written
 * with the names below; the parser takes what the emitter writes, each
 * member optional (a document of an older bkp lacks the newer ones) but the
 * verdicts and the time of each record named, and refuses a member of the
 * wrong type, a time not written as bkp writes one, an unknown verdict or
 * medium type, more reasons than a verdict gives, or a drill's seconds
 * beyond RST_SECONDS_MAX: what it accepts it writes back the same.
 */
#ifndef RST_STATUS_DOC_H
#define RST_STATUS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/audit/audit.h"
#include "bkp/io/json.h"
#include "policies/compliance.h"
#include "policies/policy.h"

/* Reasons (most serious first) and what to do, the most urgent first
 * (policies/compliance.h): "reasons", "actions", and "action" the first of
 * them ("" when none is due), as a bkp before "actions" wrote it alone. */
typedef struct rst_words {
    size_t nreasons;
    char reasons[POL_REASONS][256];
    size_t nactions;
    char actions[POL_ACTIONS][1024];
} rst_words;

/* The most urgent action of `w`, "" when none is due. */
const char *rst_next(const rst_words *w);

/* What the 3-2-1 rule counts, or asks for: "copies", "media_types",
 * "offline", "offsite", "immutable". */
typedef struct rst_counts {
    int copies, media_types, offline, offsite, immutable;
} rst_counts;

/* A copy of a data set on a medium ("copies_on_media"). */
/* Unsaid, no or yes: what an older record may not carry. */
typedef enum { RST_UNSAID = -1, RST_NO = 0, RST_YES = 1 } rst_tri;

typedef struct rst_copy {
    char *medium;
    pol_medium_type type;
    bool offline, offsite;
    bool non_editable; /* off-line, or an object lock a probe proved */
    time_t proven;     /* when that probe was ("proven"; 0: null, not proven) */
    rst_tri immutable_files; /* a disk's sealed files took the immutable attribute at its last
                                rotation (no: read-only by their mode alone) */
    uint32_t seq;      /* the newest generation on it */
    time_t captured;   /* and its capture time */
} rst_copy;

/* A record's time and outcome ({time, outcome} or null: time 0). */
typedef struct rst_event {
    time_t time;
    char *outcome; /* NULL: not said */
} rst_event;

/* Whether event `e` ended well: its outcome "ok". */
bool rst_event_ok(const rst_event *e);
/* Whether event `e` happened and did not end well: a time, and an outcome
 * said that is not "ok". */
bool rst_event_failed(const rst_event *e);

/* The most seconds a drill's time or target may be (about 31 years). */
#define RST_SECONDS_MAX 1000000000

/* The last drill of a data set, with what it measured. */
typedef struct rst_drill {
    rst_event when;
    char *runbook;      /* NULL: not said */
    double seconds;     /* < 0: not said */
    int64_t rto_target; /* "rto_target_seconds": 0 none, < 0 not said */
    rst_tri rto_met, attended;
    char *read_from;   /* "primary", "offline"…; NULL: not said */
    char *attested_by; /* who attended; NULL: nobody named */
} rst_drill;

/* Whether drill `d` was to read the off-line media and found none
 * connected, so that it read the server's own repository ("read_from":
 * "no_offline"): it proved the procedure, not that a copy away from the
 * server restores. A scheduled drill reads every source by design, and one
 * asked to read the server reads it: neither is this. */
bool rst_drill_missed_offline(const rst_drill *d);

typedef struct rst_dataset {
    char *name;        /* "dataset" */
    char *description; /* "" when none */
    int priority;
    pol_verdict verdict;
    size_t generations;
    rst_counts counted, required;
    int64_t offline_age;     /* "offline_age_seconds": -1 none */
    int64_t offline_max_age; /* "offline_max_age_seconds" */
    time_t last_backup;      /* the newest generation's capture */
    rst_event last_backup_run, last_verify;
    rst_drill last_drill;    /* the newest failure among the last drill of each runbook the
                                policy names for it, else the newest drill (ops/status.c) */
    rst_drill last_attended; /* "last_attended_drill": when `last_drill` is another record
                                (unattended, or another runbook's failure), the last one a
                                person attended (none: its time 0) */
    rst_copy *copies;
    size_t ncopies;
    rst_words en;    /* "reasons", "action" at the data set's level */
    rst_words shown; /* "shown", when has_shown */
    bool has_shown;
    rst_words ja; /* "ja" */
    /* "suspicious": the newest generation sealed as suspicious under a
     * suspicion not settled (store/generation.h); 0, absent: none. While
     * one is, no off-line disk is to be brought to the server. */
    uint32_t suspicious;
    /* "runbook_unusable": the runbook the policy names for it, when it
     * cannot be used (policies/compliance.h); NULL, absent: none. */
    char *runbook_unusable;
} rst_dataset;

/* The key-recovery drill reminder ("key_drill"). */
typedef struct rst_key_drill {
    time_t last;   /* the last successful one, 0: never */
    int64_t every; /* "every_seconds" */
    bool due;
    /* One since that opened the key with share sheets of an older split than
     * the newest ("old_split", absent when none): it proves the holders keep
     * sheets that no longer go together, and does not count. */
    time_t old_split;
    /* The shares split again after the last key-recovery drill that counted
     * ("new_split", absent when not): the new sheets are not rehearsed,
     * and a drill is due. */
    time_t new_split;
} rst_key_drill;

/* A rotation of the calendar ("rotations"): done in the last week, or due. */
typedef struct rst_turn {
    char *medium;
    char *kept_at; /* where the policy says it is kept ("kept_at"); NULL: unsaid */
    pol_medium_type type;
    bool offline, offsite, done;
    time_t when;
} rst_turn;

/* The audit log as it was checked ("audit"); `checked` 0: not checked. */
typedef struct rst_audit {
    time_t checked;
    uint64_t records, restarts;
    bool ok, absent;
    char problem[512];     /* in English ("" when sound) */
    bkp_audit_problem why; /* "code", "detail" */
} rst_audit;

/* An off-line medium plugged in ("connected"). */
typedef struct rst_connected {
    char *medium, *path;
    time_t last_write; /* 0: never written ("") */
    bool left;         /* left there since its last rotation */
    bool due;          /* its rotation is due: to be made before it is taken away */
} rst_connected;

/* A rotation to a medium that did not end with the medium written
 * ("unfinished": {"state", "began", "why"}, absent when the last one did). */
typedef enum rst_unfinished {
    RST_FINISHED = 0,
    RST_RUNNING, /* "running": its process is alive on this server */
    RST_CUT_OFF, /* "cut_off": it never ended (killed, the server stopped) */
    RST_FAILED,  /* "failed": it ended, and the medium does not count as written */
} rst_unfinished;

/* A medium of the policy and what it held after its last rotation
 * ("media"): what a disk, a tape or a bucket of its kind will need; and a
 * rotation to it that did not finish, which nothing else shows: the copy
 * the medium holds is the one of `written`. */
typedef struct rst_medium {
    char *medium;
    pol_medium_type type;
    uint64_t bytes; /* 0: not measured (a tape; or not rotated since bkp measured) — null */
    time_t written; /* its last rotation ("last_write"); 0: never */
    rst_unfinished unfinished;
    time_t began;      /* when that rotation began; 0 unless unfinished */
    char *why;         /* why it failed, in English as its audit record says it; NULL: unsaid */
    char *why_ja;      /* the same in Japanese ("why_ja"); NULL: unsaid */
    bool full;         /* it failed because the medium was full ("full") */
    bool pruned_first; /* even after its retention was applied first ("pruned_first") */
    /* A disk: the room its last rotation left ("free_after", absent when not
     * said) and what a rotation to it copies ("wrote", ops_rotate_next_copy). */
    bool has_free;
    uint64_t free_after, wrote;
    /* The policy keeps it on-line (a NAS, a bucket: nobody takes it away;
     * "online": true, absent otherwise). */
    bool online;
    /* Off-line, and a disk of another repository is at its path
     * ("other_repository", that repository's UUID; "" none), `path`. */
    char other_repository[37];
    char *path; /* NULL unless other_repository */
    /* A disk whose last rotation came before the last change of the key
     * slots (rst_status.key_changed): until its next one, it opens with the
     * passphrases of before ("keys_behind": true, absent otherwise). */
    bool keys_behind;
} rst_medium;

/* Whether medium `m`'s next rotation may not fit: its last one that wrote
 * left less room than it copied (unless one since failed with the disk
 * full: that is said as such). */
bool rst_medium_tight(const rst_medium *m);

/* What a repository takes and stands for ("storage"), in bytes. */
typedef struct rst_storage {
    uint64_t stored; /* the files a copy carries (all but the host's cache and locks) */
    uint64_t packs;  /* of which the packs */
    uint64_t newest; /* the files of the newest sealed generation of each data set */
    uint64_t kept;   /* every sealed generation kept, each counted whole */
    size_t generations;
    size_t datasets;
} rst_storage;

typedef struct rst_status {
    pol_verdict verdict; /* the worst of the data sets' */
    rst_dataset *datasets;
    size_t ndatasets;
    rst_key_drill key_drill;
    time_t generated;
    rst_turn *rotations;
    size_t nrotations;
    rst_audit audit;
    rst_connected *connected;
    size_t nconnected;
    char *facility; /* NULL: none */
    char *host;     /* "" when unknown */
    rst_storage storage;
    bool has_storage;
    rst_medium *media; /* in the policy's order */
    size_t nmedia;
    time_t key_changed; /* the last key add, passwd or remove ("key_changed"); 0: none */
} rst_status;

/* Whether medium `i` of `s` has a disk of another repository at its path,
 * the first of the media at that path (two disks taking turns at one mount
 * point are told of one such disk once). */
bool rst_medium_foreign_said(const rst_status *s, size_t i);

/* Which kinds of copy that take about the repository's size the policy
 * makes: on a disk (`*disk`), in a bucket (`*bucket`); an archive medium
 * grows by a generation each rotation instead. */
void rst_copy_kinds(const rst_status *s, bool *disk, bool *bucket);

/* Why medium `m`'s rotation failed, in Japanese when `ja` and said so,
 * else in English; `unsaid` when neither is. */
const char *rst_medium_why(const rst_medium *m, bool ja, const char *unsaid);

/* Stored bytes per byte of the newest generations (0 when they hold none):
 * below 1 is what compression and deduplication saved. */
double rst_storage_ratio(const rst_storage *s);

/* The whole record as JSON (`bkp status --json`); NULL without memory. */
json_t *rst_status_json(const rst_status *s);
/* Its parts, for the evidence report: the counts, a data set's copies,
 * its reasons. */
json_t *rst_counts_json(const rst_counts *c);
json_t *rst_copies_json(const rst_copy *v, size_t n);
json_t *rst_reasons_json(const rst_words *w);

/* Its parts' readers, for the evidence (bkp/io/json.h): the counts of
 * `j`; its "copies_on_media" into `*v` (`*n` of them, rst_copies_free);
 * the reasons of member `k` into `w`. */
void rst_counts_parse(bkp_jin *in, const json_t *j, rst_counts *c);
void rst_copies_parse(bkp_jin *in, const json_t *j, rst_copy **v, size_t *n);
void rst_reasons_parse(bkp_jin *in, const json_t *j, const char *k, rst_words *w);
void rst_copies_free(rst_copy *v, size_t n);

/* The record of `j` (what rst_status_json writes) into `out`: 0, -EBADMSG
 * when out of shape (`out` then cleared), -ENOMEM. */
int rst_status_parse(const json_t *j, rst_status *out);

/* Free what `s` holds; `s` is left empty. */
void rst_status_clear(rst_status *s);

/* The reasons and the action of `d` in Japanese when `ja`, else in the
 * reader's language when gathered for a person (`bkp status`), else in
 * English. The page chooses between Japanese and English alone. */
const rst_words *rst_dataset_words(const rst_dataset *d, bool ja);

#endif
