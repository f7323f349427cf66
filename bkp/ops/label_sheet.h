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

/* The sheet of `label` (label.h; one written before labels carried the
 * key's fingerprint has no sheet) of a medium kept `offsite` or not, `offline` or not
 * (as the policy says today), for `facility` (may be NULL); `format` an
 * rb_format (bkp/report/doc.h); Japanese when `ja`. malloc'd; NULL without
 * memory or for a label without its fields. */
char *ops_label_sheet(const bkp_label *label, bool offsite, bool offline, const char *facility,
                      int format, bool ja);

#endif
