/*
 * label_sheet.h — the paper label of a medium (`bkp media sheet NAME`):
 * what a person sticks on the disk, the cartridge or its case. Its name in
 * large letters, its type and where it is kept, the facility, the date, the
 * short fingerprint of the repository's key that a person compares by eye
 * with `bkp key fingerprint` (pubkey.h), and a QR code of the whole
 * identity (medium, label, repository, the full fingerprint) for a machine
 * or a phone to compare. In Markdown or HTML, in Japanese or English.
 */
#ifndef BKP_OPS_LABEL_SHEET_H
#define BKP_OPS_LABEL_SHEET_H

#include <stdbool.h>

#include "bkp/media/label.h"

/* Where the medium is kept and for whom, as the policy says today. */
typedef struct ops_sheet_place {
    bool offsite, offline;
    const char *kept_at;  /* the policy's `kept_at` ("the director's safe"), or NULL */
    const char *facility; /* or NULL */
} ops_sheet_place;

/* The sheet of `label` (label.h; one written before labels carried the
 * key's fingerprint has no sheet) of a medium kept at `place`; `format` an
 * rb_format (bkp/report/doc.h); Japanese when `ja`. malloc'd; NULL without
 * memory or for a label without its fields. */
char *ops_label_sheet(const bkp_label *label, const ops_sheet_place *place, int format, bool ja);

#endif
