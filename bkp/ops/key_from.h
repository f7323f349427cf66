/*
 * key_from.h — the key sheets from the safe turned back into the master
 * secret (`--key-from FILE...`): one paper sheet, or K share sheets, read
 * from files, checked line by line (sheet.h) and combined (shares.h). The
 * program reads the sheets typed at its terminal itself (`--key-from -`)
 * and hands them here with the rest.
 *
 * The sheets and the secret are secrets: the caller keeps them in guarded
 * memory (sodium_malloc) and wipes them; what is read from a file here is
 * wiped before it is freed.
 *
 * Errors: -EINVAL (logged, naming the file and the line, or why the sheets
 * do not make a key) for a sheet that cannot be read or sheets that do not
 * combine; -ENOMEM.
 */
#ifndef BKP_OPS_KEY_FROM_H
#define BKP_OPS_KEY_FROM_H

#include <stddef.h>
#include <stdint.h>

#include "bkp/keys/sheet.h"

/* A sheet file is a printed document (`bkp key export --paper`, `bkp key
 * split`) or the sheet typed into a text file: far below this. */
#define OPS_SHEET_FILE_MAX (64 * 1024)

/* The sheet in the file `path`: its text from the "BKP-SHEET" header to the
 * end of the block that holds it (a Markdown fence, an HTML <pre>) or of the
 * file. 0, or -EINVAL (logged); `s` is wiped on failure. */
int ops_key_sheet_read(const char *path, bkp_sheet *s) __attribute__((warn_unused_result));

/* The master secret from the sheets `s[0..n-1]` (`typed` of them typed at
 * the terminal) into `master`, and which were used, for the audit record,
 * into `*used`. A paper sheet must come alone; shares must be at least
 * their K, of one split. Nothing here says whether the secret is this
 * repository's: opening with it does. Shares that do not combine (too few,
 * of two splits) are -EKEYREJECTED, as a wrong passphrase; anything else
 * wrong with the sheets -EINVAL (logged). */
int ops_key_sheets_master(const bkp_sheet *s, int n, int typed, uint8_t master[32],
                          bkp_sheets_used *used) __attribute__((warn_unused_result));

#endif
