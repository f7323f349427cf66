/*
 * yaml_doc.h — strict reading of a YAML file: the policy and the runbooks.
 *
 * A thin layer over libyaml's document API, which keeps the line of every
 * node. Every problem found is logged as "file:line: what is wrong — what to
 * write instead" and counted in `errors`, so that a loader reports all the
 * problems of a file in one pass and refuses the file when `errors` > 0.
 *
 * Usage: pol_yaml_load(&c, file); walk pol_yaml_root(&c) with the helpers
 * below; pol_yaml_done(&c). Strings returned by pol_yaml_scalar are borrowed
 * from the document (valid until pol_yaml_done); pol_yaml_str and
 * pol_yaml_str_list return copies the caller owns (free()).
 */
#ifndef POL_YAML_DOC_H
#define POL_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

typedef yaml_node_t pol_yaml_node;

/* Limits far above any real policy or runbook (the largest example is a few
 * KiB), low enough that a crafted file costs little memory and time. */
#define POL_YAML_MAX_FILE (1024 * 1024)
#define POL_YAML_MAX_NODES 100000
#define POL_YAML_MAX_EXPANDED (4 * 1024 * 1024)
#define POL_YAML_MAX_DEPTH 64

typedef struct pol_yaml_ctx {
    const char *file; /* borrowed; the name in every message */
    yaml_document_t doc;
    int errors;
} pol_yaml_ctx;

/* Parse `file` into c->doc and set c->file = file, c->errors = 0. Returns 0;
 * -EINVAL for a YAML syntax error (logged as file:line with what to check);
 * or a negative errno when the file cannot be opened or memory runs out —
 * NOT logged, because only the caller knows what the file was for and where
 * to find another. On failure there is nothing to pol_yaml_done. */
int pol_yaml_load(pol_yaml_ctx *c, const char *file);
/* The same for the bytes `buf` (borrowed for the call), named `file` in
 * messages. Both refuse (-EINVAL, logged with file:line) a file larger than
 * POL_YAML_MAX_FILE, a second document, and a document that its aliases
 * expand beyond POL_YAML_MAX_NODES values or POL_YAML_MAX_EXPANDED bytes of
 * text, or that nests deeper than POL_YAML_MAX_DEPTH. */
int pol_yaml_load_buffer(pol_yaml_ctx *c, const char *file, const uint8_t *buf, size_t len);
/* Free the document. */
void pol_yaml_done(pol_yaml_ctx *c);
/* NULL for an empty file. */
pol_yaml_node *pol_yaml_root(pol_yaml_ctx *c);

/* Log "file:LINE: message" for node `n` (line 0 when NULL) and count it. */
void pol_yaml_error(pol_yaml_ctx *c, const pol_yaml_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

pol_yaml_node *pol_yaml_get(pol_yaml_ctx *c, int id);
int pol_yaml_line(const pol_yaml_node *n);         /* 1-based */
const char *pol_yaml_kind(const pol_yaml_node *n); /* "a mapping", "a list", "a value" */

/* A plain ~, null, Null, NULL or a !!null value: refused wherever a value
 * is read (pol_yaml_scalar and everything built on it). */
bool pol_yaml_is_null(const pol_yaml_node *n);

/* Values of `key`. Each logs and leaves *out unchanged on a bad value. */
const char *pol_yaml_scalar(pol_yaml_ctx *c, pol_yaml_node *n, const char *key); /* NULL: not one */
char *pol_yaml_str(pol_yaml_ctx *c, pol_yaml_node *n, const char *key); /* NULL: empty/bad */
void pol_yaml_int(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, int lo, int hi, int *out);
void pol_yaml_bool(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, bool *out);
/* 30s, 30m, 12h, 7d, 2w (duration.h) -> seconds. */
void pol_yaml_duration(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, int64_t *out);
/* A list of non-empty values; a single value is taken as a list of one.
 * *out is allocated (NULL-terminated) and *count set; entries that are not
 * values are logged and left out. */
void pol_yaml_str_list(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, char ***out,
                       size_t *count);

/* Lists of mappings: true when `n` is a list, else logs
 * "'key' is ... here — write ADVICE" and returns false. */
bool pol_yaml_list(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, const char *advice);
size_t pol_yaml_len(const pol_yaml_node *n); /* items of a list; 0 for anything else */
pol_yaml_node *pol_yaml_item(pol_yaml_ctx *c, const pol_yaml_node *list, size_t i);

/*
 * Visit the pairs of mapping `n` whose keys are in `allowed` (NULL-terminated),
 * calling fn(c, key, value, target) in file order; `what` names the mapping in
 * messages ("the policy", "a data set"). Unknown and repeated keys are errors
 * naming the allowed ones; so is `n` not being a mapping.
 */
typedef void (*pol_yaml_pair_fn)(pol_yaml_ctx *c, const char *key, pol_yaml_node *value,
                                 void *target);
void pol_yaml_mapping(pol_yaml_ctx *c, pol_yaml_node *n, const char *what,
                      const char *const *allowed, pol_yaml_pair_fn fn, void *target);

#endif
