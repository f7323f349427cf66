/*
 * evidence.h — the inspection evidence report for checklist item 3-②, from
 * the evidence `bkp audit report` gathers (evidence_doc.h): per data set,
 * backups, generations, the 3-2-1 verdict, rotations, drills; the
 * verifications; the audit chain; the key operations; and the closing
 * statement, each part with the dated audit records it rests on.
 */
#ifndef RST_EVIDENCE_H
#define RST_EVIDENCE_H

#include <stdbool.h>

#include "bkp/report/doc.h"
#include "bkp/report/evidence_doc.h"

/* The closing statement of `ev` into its answer and parts (replacing any):
 * a pure judgement of the evidence, each part's evidence in both languages
 * whatever the locale. false without memory (`ev` then not judged). */
bool rb_evidence_judge(rb_evidence *ev);

/* The report for people, in Markdown or HTML, Japanese or English. */
char *rb_evidence_render(const rb_evidence *ev, rb_format f, bool ja);

/* The section on the key (evidence_keys.c): the table of `ev`'s key
 * operations, or that there were none; nothing for evidence gathered
 * before key operations were. */
void rb_evidence_key_section(rb_doc *doc, const rb_evidence *ev, bool ja);

/* A drill of the report, for people: attended (by whom), unattended, or a
 * key-recovery drill. */
const char *rb_evidence_drill_kind(const rb_ev_drill *drill, char *buf, size_t n);

#endif
