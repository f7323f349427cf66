/*
 * backup_record.h — the audit record of a backup (FORMAT.md §9b, op
 * "backup"), written by the program once per capture whatever its outcome,
 * and read back by the status and the evidence report: its figures' names
 * are spelled here alone.
 */
#ifndef BKP_OPS_BACKUP_RECORD_H
#define BKP_OPS_BACKUP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/capture/capture.h"
#include "bkp/host/hook.h"
#include "bkp/store/generation.h"

/* What the record of one capture says of it. Borrowed. */
typedef struct ops_backup_figures {
    /* The schedule it ran under (pol_schedule_text), NULL: none. The evidence
     * report counts the nights asked for since it last changed. */
    const char *schedule;
    const bkp_gen *gen;             /* the generation sealed; NULL: none, and no figures of it */
    const bkp_capture_stats *stats; /* with `gen` */
    double seconds;                 /* with `gen`: how long it took */
    size_t unreadable;              /* with `gen`: paths that could not be read */
    bool suspicious;                /* with `gen`: the change-rate guard marked it */
    const bkp_hook_result *stream;  /* a stream's command that ran to its end; NULL: none */
} ops_backup_figures;

/* The figures `f` into `rec`: its op, and the figures, a new reference the
 * caller releases with json_decref after writing it (without memory, fewer
 * figures, or NULL). The rest of `rec` (data set, generation, outcome,
 * error) is the caller's. */
void ops_backup_rec(const ops_backup_figures *f, bkp_audit_rec *rec);

/* A backup's record read back; what is absent or of another type, and any
 * record of another op, reads as unsaid (NULL, false; began: its time). */
/* Was the generation it sealed marked suspicious (it is recorded failed)? */
bool ops_backup_suspicious(const bkp_audit_entry *e);
/* The schedule it ran under, as ops_backup_figures says it. */
const char *ops_backup_schedule(const bkp_audit_entry *e);
/* When it began: its time is its end, less what it took. */
time_t ops_backup_began(const bkp_audit_entry *e);

#endif
