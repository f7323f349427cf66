/*
 * sheet.h — a 32-byte secret on paper: the master secret (a "paper" sheet) or
 * one Shamir share of it (a "share" sheet), as text a person can type back.
 *
 * The text (FORMAT §9d) is a header line naming the kind, the repository id
 * and a checksum of the whole, then lines of grouped base32 characters (no
 * I, L, O or U: they read as 1 and 0), each ending in two check characters
 * over its line number and its characters, so that a typing mistake is found
 * on the line where it was made. Nothing in the checks is keyed: a sheet is
 * checked without any secret. The same text goes into the sheet's QR code.
 *
 * A parsed sheet holds a secret: keep it in guarded memory or wipe it
 * (sodium_memzero) when done.
 */
#ifndef BKP_SHEET_H
#define BKP_SHEET_H

#include <stddef.h>
#include <stdint.h>

#define BKP_SHEET_SECRET_LEN 32
/* Room for the text of any sheet, with its final NUL. */
#define BKP_SHEET_TEXT_MAX 512
/* At most this many shares (libgfshare numbers them 1..255). */
#define BKP_SHEET_SHARES_MAX 255
/* A sheet's checksum as text, with its NUL (bkp_sheet_sum_text). */
#define BKP_SHEET_SUM_LEN 9

typedef enum { BKP_SHEET_PAPER = 1, BKP_SHEET_SHARE = 2 } bkp_sheet_kind;

typedef struct bkp_sheet {
    bkp_sheet_kind kind;
    uint8_t repo_id[16];
    /* Shares only (0 on a paper sheet): this share's number (1..n), how many
     * were made, how many open the secret. */
    uint8_t index, n, k;
    uint8_t secret[BKP_SHEET_SECRET_LEN];
} bkp_sheet;

/* Which sheets opened a key, for the audit record and the drill's report
 * (never a secret): the paper sheet, or shares of a split of `of` needing
 * `threshold`, by their numbers; how many were typed at the terminal. */
typedef struct bkp_sheets_used {
    bkp_sheet_kind kind; /* 0: none was used */
    int typed;
    int threshold, of;
    int nshares;
    uint8_t shares[BKP_SHEET_SHARES_MAX];
    char sums[BKP_SHEET_SHARES_MAX][BKP_SHEET_SUM_LEN]; /* each share's bkp_sheet_sum_text */
} bkp_sheets_used;

/* The checksum a sheet prints on its BKP-SHEET line ("SUM PZ8D NVKV"), as
 * 8 characters and a NUL ("PZ8DNVKV"): 40 bits of a hash of the whole,
 * secret included, which tells the sheets of one split from another's and
 * gives nothing of the secret away. The audit log keeps those of each
 * split and of the shares each use of the sheets took. */
void bkp_sheet_sum_text(const bkp_sheet *s, char out[BKP_SHEET_SUM_LEN]);

/* The text of `s` into `out` (BKP_SHEET_TEXT_MAX bytes, NUL-terminated).
 * -EINVAL for a share whose numbers are out of range. The text holds the
 * secret: wipe it after use. */
int bkp_sheet_format(const bkp_sheet *s, char out[BKP_SHEET_TEXT_MAX]);

/*
 * Read a sheet back from typed or scanned text: case, spaces, tabs, CR and
 * blank lines do not matter; the "N:" label in front of a line may be left
 * out. Returns 0, or -EBADMSG with `*bad_line` set to where the mistake is:
 * 1.. for a line of characters (counted from the first after the header),
 * 0 for the header or for the sheet as a whole (its checksum). -EINVAL for
 * text too long to be a sheet (`*bad_line` 0). `out` is wiped on failure.
 */
int bkp_sheet_parse(const char *text, size_t len, bkp_sheet *out, int *bad_line)
    __attribute__((warn_unused_result));

/* Text typed with a Japanese input method on, made plain in place: the
 * full-width forms of ASCII (U+FF01..U+FF5E: "０", "Ａ", "：") as the
 * characters they stand for, the ideographic space as a space. Returns the
 * new length (never longer). */
size_t bkp_sheet_halfwidth(char *s, size_t n);

/* What is wrong with a sheet that does not read, for the person typing it. */
typedef enum bkp_sheet_fault {
    BKP_SHEET_FAULT_NONE = 0,
    BKP_SHEET_FAULT_HEADER,  /* the BKP-SHEET line, or the sheet's checksum */
    BKP_SHEET_FAULT_MISSING, /* line `line` is not there */
    BKP_SHEET_FAULT_SHORT,   /* line `line` has `got` characters, the paper's `want` */
    BKP_SHEET_FAULT_LONG,    /* the same, more */
    BKP_SHEET_FAULT_CHAR,    /* line `line` holds `ch`, which a sheet never uses */
    BKP_SHEET_FAULT_LABEL,   /* its "N:" label names another line */
    BKP_SHEET_FAULT_CHECK,   /* its check characters do not match: a typing mistake */
    BKP_SHEET_FAULT_EXTRA,   /* a line after the last (`line`) */
} bkp_sheet_fault;

typedef struct bkp_sheet_why {
    bkp_sheet_fault fault;
    int line; /* as bkp_sheet_parse's `bad_line` */
    char ch;
    int got, want;
} bkp_sheet_why;

/* bkp_sheet_parse, saying what is wrong in `*why`. */
int bkp_sheet_parse_why(const char *text, size_t len, bkp_sheet *out, bkp_sheet_why *why)
    __attribute__((warn_unused_result));

/*
 * A sheet typed back one line at a time (`--key-from -`): each line is
 * checked as it is typed, so that a mistake is named on the line where it was
 * made and only that line is typed again. The entry holds what was typed, the
 * secret included: it lives in guarded memory (sodium_malloc) and is wiped by
 * _reset and _free. _new returns NULL when memory is short; _free(NULL) is a
 * no-op.
 */
#define BKP_SHEET_LINES 4 /* lines of characters below the header */
typedef struct bkp_sheet_entry bkp_sheet_entry;
bkp_sheet_entry *bkp_sheet_entry_new(void);
void bkp_sheet_entry_free(bkp_sheet_entry *e);
/* Forget everything typed: the next line is the header again. */
void bkp_sheet_entry_reset(bkp_sheet_entry *e);
/* What is to be typed next: 0 the header (BKP-SHEET ...), 1..BKP_SHEET_LINES
 * a line of characters. */
int bkp_sheet_entry_next(const bkp_sheet_entry *e);
/* The header typed so far (kind, repository, share numbers; no secret) into
 * `out`: 0, or -ENOENT before the header was accepted. */
int bkp_sheet_entry_header(const bkp_sheet_entry *e, bkp_sheet *out);
/* What was wrong with the line last refused (a fault of NONE otherwise). */
bkp_sheet_why bkp_sheet_entry_why(const bkp_sheet_entry *e);
/*
 * Add the typed line `line` (`n` bytes, without its newline; blank lines are
 * ignored). Returns 1 when it was taken (ask for bkp_sheet_entry_next), 0 when
 * it completed the sheet (`out` receives it, secret included, and the entry
 * starts again at the header), or -EBADMSG when it was not taken: then
 * bkp_sheet_entry_next says what to type again — the same line (a typing
 * mistake on it), or 0 after the last line when every line checked but the
 * sheet's checksum in its header did not (the whole sheet again).
 */
int bkp_sheet_entry_add(bkp_sheet_entry *e, const char *line, size_t n, bkp_sheet *out)
    __attribute__((warn_unused_result));

#endif
