/*
 * evidence.h — the inspection evidence report for checklist item 3-②, from
 * the evidence gathered by `bkp audit report` (its --json form): per data
 * set, backups, generations, the 3-2-1 verdict, rotations, drills; the
 * verifications; the audit chain; and the closing statement, each part with
 * the dated audit records it rests on.
 */
#ifndef RST_EVIDENCE_H
#define RST_EVIDENCE_H

#include <stdbool.h>

#include <jansson.h>

#include "bkp/report/doc.h"

/* The closing statement: {"answer": bool, "parts": [{"part", "ok",
 * "evidence": {"en", "ja"}}]} — a pure judgement of the evidence `ev`, its
 * evidence in both languages whatever the locale. */
json_t *rb_evidence_statement(json_t *ev);

/* The report for people, in Markdown or HTML, Japanese or English. */
char *rb_evidence_render(json_t *ev, rb_format f, bool ja);

/* The section on the key (evidence_keys.c): the table of `ev`'s
 * "key_operations" ([{"seq", "time", "op", "outcome", "user", "host",
 * "dataset", "medium", "figures"}]), or that there were none; nothing when
 * `ev` has no such member. */
void rb_evidence_key_section(rb_doc *doc, json_t *ev, bool ja);

/* A drill of the report ("kind", "attested_by"), for people: attended (by
 * whom), unattended, or a key-recovery drill. */
const char *rb_evidence_drill_kind(json_t *drill, char *buf, size_t n);

#endif
