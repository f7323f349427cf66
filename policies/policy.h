/*
 * policy.h — the policy file: the contract with operators (docs/operator-guide.md, chapter 2).
 *
 * pol_load parses a YAML policy strictly: unknown keys, wrong types, bad
 * durations or schedules, duplicate names, a data set without paths, a medium
 * referenced but not defined — each is refused before anything runs, with
 * "file:line: what is wrong — what to write instead". The parser may accept
 * more than the operator guide shows, never less.
 *
 * Everything here is a pure description; deciding what is due lives in
 * schedule.h. All durations are in seconds.
 */
#ifndef POL_POLICY_H
#define POL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/store/blob.h"

#include <jansson.h>

#define POL_DEFAULT_FILE "/etc/bkp/policy.yaml"

typedef enum { POL_DISK, POL_REMOVABLE, POL_ARCHIVE, POL_OBJECT } pol_medium_type;

typedef enum { POL_SCHED_NONE, POL_HOURLY, POL_DAILY, POL_WEEKLY, POL_MONTHLY } pol_sched_kind;

typedef struct pol_schedule {
    pol_sched_kind kind;
    int minute, hour; /* local time */
    int wday;         /* 0 = Sunday, weekly */
    int mday;         /* 1..31, monthly (clamped to the month's last day) */
} pol_schedule;

typedef struct pol_hook {
    char *command;   /* NULL: no hook */
    int64_t timeout; /* seconds; default 1 hour */
    char **env;      /* "NAME=value" */
    size_t nenv;
    char *run_as; /* a user name to run it as, or NULL: as bkp runs (root) */
} pol_hook;

typedef struct pol_retention {
    int keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly;
    int lock_days; /* no rule deletes a generation younger than this */
} pol_retention;

/* The change-rate guard (guard.h). */
typedef struct pol_guard {
    bool enabled;      /* default true */
    double max_change; /* share of files, 0..1; default 0.2 */
    double factor;     /* times the usual share; default 5 */
    int min_files;     /* fewer changed files never alarm; default 10 */
} pol_guard;

/* Where an `object` medium is: a bucket of an S3 store with Object Lock. */
typedef struct pol_object {
    char *endpoint; /* https://HOST[:PORT][/], or http:// to a loopback address */
    char *bucket;
    char *region;           /* default "us-east-1" */
    char *credentials_file; /* absolute; an AWS shared-credentials file */
    bool governance;        /* lock mode: COMPLIANCE unless `lock: {mode: governance}` */
    int lock_days;          /* the shortest retention of any object; default 30 */
    bool lock_given;        /* the medium said `lock:` (refused on other types) */
} pol_object;

/* The most bytes of a medium's `kept_at`. */
#define POL_KEPT_AT_MAX 200

typedef struct pol_medium {
    char *name;
    pol_medium_type type;
    char *path;        /* NULL for an object medium */
    pol_object object; /* type POL_OBJECT only */
    bool offsite;
    bool offline;
    int64_t rotate_every; /* 0: not rotated */
    char *kept_at;        /* where it is kept, in the clinic's words ("院長の自宅"); NULL: unsaid */
    int line;
} pol_medium;

/* A data set that is one command's output (`stream:`), stored as one file:
 * `pg_dump -Fc emr` captured straight into the repository, no dump on disk.
 * A command that fails, is killed or runs past `timeout` (default 6 hours)
 * leaves no generation. */
typedef struct pol_stream {
    pol_hook command; /* command.command NULL: the data set is paths */
    char *name;       /* the file it is restored as: a plain name */
    bool given;       /* `stream:` was written (even wrongly) */
} pol_stream;

#define POL_HOST_IDENTITY "/etc/bkp/ssh/id_ed25519"

/* A source server the backup server pulls from over SSH (bkp/host/remote.h):
 * `bkp agent` answers there, as the forced command of our key. */
typedef struct pol_host {
    char *name;
    char *user, *address; /* ssh: user@address */
    int port;             /* default 22 */
    char *identity;       /* our private key for it; default /etc/bkp/ssh/id_ed25519 */
    char *host_key;       /* "TYPE BASE64": pinned, never learnt on first use */
    int64_t connect_timeout; /* seconds; default 30 */
    int64_t idle_timeout;    /* seconds a walk of its paths may send nothing; default 1 hour */
    int line;
} pol_host;

typedef struct pol_dataset {
    char *name;
    char *description;
    int priority; /* 1 = restored first */
    char *host;   /* a host's name: the data set is taken from there; NULL: here */
    char **paths;
    size_t npaths;
    pol_stream stream; /* instead of paths */
    char **exclude;
    size_t nexclude;
    bool one_file_system;
    bool read_special; /* a block device among the paths read as an image file */
    bkp_comp compression; /* compression: (blob.h); BKP_COMP_DEFAULT when not given */
    pol_hook before, after;
    pol_schedule schedule;
    pol_retention retention;
    char **copy_to;
    size_t ncopy_to;
    char *runbook;
    pol_guard guard;
    int line;
} pol_dataset;

typedef struct pol_rule321 {
    int copies, media_types, offline, offsite;
    int64_t offline_max_age;
    int immutable; /* copies in a non-editable form (compliance.h); default: `offline` */
} pol_rule321;

typedef struct pol_drill {
    char *runbook;
    pol_schedule schedule;
} pol_drill;

/* notify: whom to tell of a change (policies/notify.h, bkp/host/notify_send.h). */
typedef struct pol_notify {
    pol_hook command;     /* command.command NULL: none; the event JSON on stdin */
    char *mail_to;        /* NULL: no mail */
    char *mail_from;      /* default: the mail's envelope default */
    char *sendmail;       /* default /usr/sbin/sendmail */
    char *mail_run_as;    /* sendmail's user; default the command's run_as, else root */
    int64_t remind_every; /* seconds; default 1 day; 0: never */
} pol_notify;

typedef struct pol_policy {
    char *file;
    char *repository;
    char *passphrase_file;
    char *passphrase_command;
    pol_rule321 rule;
    pol_medium *media;
    size_t nmedia;
    pol_host *hosts;
    size_t nhosts;
    pol_dataset *datasets;
    size_t ndatasets;
    pol_drill *drills;
    size_t ndrills;
    int64_t
        reread_every; /* verify: every pack of the repository re-read within this; default 30d */
    int64_t key_drill_every; /* status reminds when no key-recovery drill succeeded within this;
                                default 365d */
    pol_notify notify;
    char *status_page; /* status_page: PATH, the page `bkp run` writes for staff; NULL: none */
    char *metrics;     /* metrics: PATH, the Prometheus textfile `bkp run` writes; NULL: none */
    char *facility;    /* facility: the clinic's name on what people read; NULL: none given */
    char *language;    /* language: "ja" or "en", what is written for people whatever the
                          locale of cron or systemd; NULL: the locale's */
    int parallel;      /* parallel: how many data sets of different sources `bkp run`
                          captures at once (1 to 16; default 2) */
} pol_policy;

/* Load and validate `file`. Every problem is logged as file:line; returns 0,
 * -EINVAL for an invalid policy, or a negative errno for an unreadable file. */
int pol_load(const char *file, pol_policy **out);
/* The same for the bytes `buf` (borrowed for the call), called `name` in
 * messages and in the policy's `file` (the fuzz target's entry point). */
int pol_load_buffer(const char *name, const uint8_t *buf, size_t len, pol_policy **out);
void pol_free(pol_policy *p);

const pol_dataset *pol_dataset_find(const pol_policy *p, const char *name);
/* Does data set `d` name medium `medium` in its copy_to? Either NULL: no. */
bool pol_dataset_copies_to(const pol_dataset *d, const char *medium);
const pol_medium *pol_medium_find(const pol_policy *p, const char *name);
/* The names of the policy's media, as "cloud, usb-a" in `buf` (cut with
 * "..." when longer), for a message that says which a reader may name;
 * "" when it names none. Returns buf. */
const char *pol_media_names(const pol_policy *p, char *buf, size_t n);
const pol_host *pol_host_find(const pol_policy *p, const char *name);
/* Whether `entry` of an `env:` list (a hook's, a stream's, a runbook
 * step's) is NAME=value with NAME a shell variable's name
 * ([A-Za-z_][A-Za-z0-9_]*): never an option of env(1) on the printed
 * procedure, nor a name no shell could set. */
bool pol_env_entry_ok(const char *entry);

/* Warnings that do not stop a run (fewer than three generations, no
 * off-line medium...), logged with checklist item 3-②. Returns how many. */
int pol_warn_compliance(const pol_policy *p);

/* What stands for a hook's env value in every output: names are shown,
 * values (passwords) never. */
#define POL_REDACTED "***"

/* The effective policy, defaults filled in; hook env values redacted. */
json_t *pol_to_json(const pol_policy *p);

/* "hourly", "hourly :MM", "daily HH:MM", "weekly DAY HH:MM", "monthly N HH:MM". */
int pol_schedule_parse(const char *s, pol_schedule *out);
/* The canonical text of a schedule into buf. */
const char *pol_schedule_text(const pol_schedule *s, char *buf, size_t n);
/* The same for people, in the reader's language ("daily at 21:30", "毎日 21:30"):
 * the status's reasons, `policy check` and the regulation annex. */
const char *pol_schedule_words(const pol_schedule *s, char *buf, size_t n);
/* A medium type's word in the policy ("removable"), and back: 0, or
 * -EINVAL for a word that is no type. */
const char *pol_medium_type_name(pol_medium_type t);
int pol_medium_type_named(const char *name, pol_medium_type *out);
/* The same for people, in the reader's language ("removable disk"); where a
 * medium is kept ("off-site, off-line"). */
const char *pol_medium_type_words(pol_medium_type t);
/* Where a person writes a labelled medium's name and fingerprint, as a
 * sentence to begin with ("Write on the disk's paper label"). */
const char *pol_medium_type_paper(pol_medium_type t);
/*
 * What a medium type is, asked by every layer instead of its name (policy.c
 * keeps the one table; a new type is a row there and a rotation driver,
 * bkp/ops/rotate_driver.h):
 *  - at a path: mounted at `path` (a disk, a removable disk, an archive
 *    folder); else reached over the network and locked object by object
 *    (a bucket: `object`, pol_medium_bucket);
 *  - write once: written whole and never pruned or added to (an archive:
 *    tape, optical, RDX written once), rotated by hand;
 *  - connected: the host's own disk, on-line unless the policy says
 *    `offline: true` (pol_medium_online); every other type is carried away
 *    or reached only when a rotation is due.
 * Off-line where no policy says (a medium known only by its label): one
 * carried away (a removable disk, an archive); a connected disk and a
 * bucket, reached over the network, are on-line (pol_type_offline).
 */
bool pol_type_at_path(pol_medium_type t);
bool pol_type_write_once(pol_medium_type t);
bool pol_type_offline(pol_medium_type t);
/* Does a rotation leave only the repository's key file of now on it (a
 * disk: replaced, the old one gone)? An archive keeps the one it was
 * written with; a bucket keeps each earlier version of it, locked, and any
 * of them opens the whole bucket with the passphrases of its day. */
bool pol_type_rekeyed(pol_medium_type t);
/* The bucket of medium `m` (NULL allowed), or NULL when it is none. */
const pol_object *pol_medium_bucket(const pol_medium *m);
/* Is `m` a disk the host keeps connected, reached by whatever reaches the host? */
bool pol_medium_online(const pol_medium *m);
const char *pol_medium_place_words(bool offsite, bool offline);

#endif
