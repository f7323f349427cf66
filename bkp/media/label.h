/*
 * label.h — the label at the top of a medium, BKP-LABEL (FORMAT.md §9c):
 * which physical medium it is (a random UUID), its name, type and location
 * in the policy, the repository it belongs to and that repository's key.
 * It is how the tool knows which disk, folder or bucket it is talking to.
 *
 * A label is a typed value inside the program; JSON is only its bytes on a
 * medium, in the registry (registry.h) and under --json. This file is its
 * one codec: what it parses, it has checked in every field, so a holder of
 * a bkp_label uses each field without checking it again.
 *
 * A label of version 2 is signed by the repository's key: "fingerprint"
 * names the key and "signature" is its Ed25519 signature of "bkp-label-2\n"
 * and the label without "signature", compact, keys sorted, ASCII only. A
 * bucket's label is signed, so that a label put in front of it (any fields,
 * our uuid and repository too) is told from ours without the registry; a
 * disk's label need not be (the disk is in the operator's hands). A label
 * has exactly the fields below and no other: the signature covers what the
 * program reads, nothing it would drop.
 */
#ifndef BKP_LABEL_H
#define BKP_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/keys/keys.h"
#include "bkp/keys/pubkey.h"

#define BKP_LABEL_FILE "BKP-LABEL"

/* No label is larger: it is read no further. */
#define BKP_LABEL_MAX (64U << 10)

/* A medium name: like a data set name (letters, digits, '.', '_', '-'). */
#define BKP_MEDIUM_NAME_MAX 64
bool bkp_medium_name_ok(const char *name);
bool bkp_medium_type_ok(const char *type);
bool bkp_medium_location_ok(const char *location);
/* A UUID in exactly the text bkp writes: lower case, so that comparisons
 * by string hold. */
bool bkp_medium_uuid_ok(const char *s);

/* A label zeroed (version 0) is none: where a label may be missing, a
 * holder tests `version`. */
typedef struct bkp_label {
    int version;                           /* 1, or 2: signed; 0: no label */
    char uuid[37];                         /* this physical medium, lower case */
    char name[BKP_MEDIUM_NAME_MAX + 1];    /* its name in the policy */
    char type[16];                         /* disk | removable | archive | object */
    char location[8];                      /* onsite | offsite */
    char repository[37];                   /* the repository's UUID, lower case */
    char fingerprint[BKP_FINGERPRINT_LEN]; /* the repository key's; "" in labels before it */
    time_t created;                        /* when it was labelled */
    char signature[129];                   /* version 2: 128 hex digits; else "" */
} bkp_label;

/* A new label (version 1, a fresh uuid, created now) for medium `name` of
 * the repository `repository` whose signing key is `pk`: 0, or -EINVAL for
 * a name, type or location no label may carry. */
int bkp_label_make(bkp_label *l, const char *repository, const uint8_t pk[32], const char *name,
                   const char *type, const char *location);

/* Parse `len` bytes (at most BKP_LABEL_MAX) into `*out`: 0, or -EBADMSG
 * (nothing logged) unless every field is present with exactly its form
 * (FORMAT.md §9c), no other field is, and no key twice. */
int bkp_label_parse(const void *buf, size_t len, bkp_label *out);
/* The same from a JSON value (a registry entry's "label"). */
int bkp_label_from_json(const json_t *j, bkp_label *out);
/* As JSON (a new reference, NULL without memory): the registry and --json. */
json_t *bkp_label_json(const bkp_label *l);

/* Are `a` and `b` the same label, field for field? */
bool bkp_label_same(const bkp_label *a, const bkp_label *b);

/* Sign `l` with `k`: version 2, `k`'s fingerprint, its signature. */
int bkp_label_sign(bkp_label *l, const bkp_keys *k);
/* Is `l` of version 2 and signed by `pk`? */
bool bkp_label_signed_by(const bkp_label *l, const uint8_t pk[32]);
/* Is `l` the repository's own: naming `repository`, without a fingerprint
 * or with `pk`'s, and either the very label `registered` (the registry's,
 * may be NULL) or signed by `pk` with the registered uuid (any uuid without
 * a registry)? The one test of a bucket's label, by rotation, labelling and
 * fetch. */
bool bkp_label_ours(const bkp_label *l, const bkp_label *registered, const uint8_t pk[32],
                    const char *repository);

/* Read the label of the medium at `path`: 0 with `*out`, -ENOENT when there
 * is none, -EBADMSG when it is not a valid label (logged, naming the file and
 * how to relabel the medium). */
int bkp_label_read(const char *path, bkp_label *out);
/* The same, nothing logged: for a second look at a label another step of
 * the same command reads and reports. */
int bkp_label_read_quiet(const char *path, bkp_label *out);
/* Write `l` onto the medium at `path`, durably; an existing label is
 * replaced only with `replace` (-EEXIST otherwise). */
int bkp_label_write(const char *path, const bkp_label *l, bool replace)
    __attribute__((warn_unused_result));
/* `l` as the bytes of a label file (pretty-printed, keys sorted, a final
 * newline): malloc'd with `*len`, or NULL without memory. */
char *bkp_label_text(const bkp_label *l, size_t *len);

/* Is the repository folder `repo` on a medium: a label file at
 * REPO/BKP-LABEL (an archive extracted) or REPO/../BKP-LABEL (a disk's
 * copy)? Its name alone, unread: for what a reader must not write there
 * (a planted one beside a primary only makes its readers write less). */
bool bkp_medium_folder(const char *repo);

#endif
