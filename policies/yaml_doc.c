/* Strict YAML reading shared by the policy and the runbooks: libyaml's
 * document API keeps the line of every node for the error messages. */
#include "policies/yaml_doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/log.h"
#include "policies/policy.h"

int pol_yaml_load(pol_yaml_ctx *c, const char *file)
{
    yaml_parser_t parser;
    FILE *f = fopen(file, "rb");
    if (!f)
        return -errno;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return -ENOMEM;
    }
    *c = (pol_yaml_ctx){.file = file};
    yaml_parser_set_input_file(&parser, f);
    int rc = 0;
    if (!yaml_parser_load(&parser, &c->doc)) {
        /* libyaml names the construct it was inside and where it began, which
         * is usually where the missing bracket or bad indentation is. */
        if (parser.context)
            bkp_error("%s:%zu: %s %s that starts on line %zu — check the indentation, brackets "
                      "and quoting there",
                      file, parser.problem_mark.line + 1,
                      parser.problem ? parser.problem : "invalid YAML", parser.context,
                      parser.context_mark.line + 1);
        else
            bkp_error("%s:%zu: %s — check the indentation and quoting near there", file,
                      parser.problem_mark.line + 1,
                      parser.problem ? parser.problem : "invalid YAML");
        rc = -EINVAL;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

void pol_yaml_done(pol_yaml_ctx *c)
{
    yaml_document_delete(&c->doc);
}

pol_yaml_node *pol_yaml_root(pol_yaml_ctx *c)
{
    return yaml_document_get_root_node(&c->doc);
}

void pol_yaml_error(pol_yaml_ctx *c, const pol_yaml_node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    bkp_error("%s:%zu: %s", c->file, n ? n->start_mark.line + 1 : 0, msg);
    c->errors++;
}

pol_yaml_node *pol_yaml_get(pol_yaml_ctx *c, int id)
{
    return yaml_document_get_node(&c->doc, id);
}

int pol_yaml_line(const pol_yaml_node *n)
{
    return (int)n->start_mark.line + 1;
}

const char *pol_yaml_kind(const pol_yaml_node *n)
{
    return n->type == YAML_MAPPING_NODE    ? "a mapping"
           : n->type == YAML_SEQUENCE_NODE ? "a list"
                                           : "a value";
}

const char *pol_yaml_scalar(pol_yaml_ctx *c, pol_yaml_node *n, const char *key)
{
    if (n->type != YAML_SCALAR_NODE) {
        pol_yaml_error(c, n, "'%s' is %s here — write a single value", key, pol_yaml_kind(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

char *pol_yaml_str(pol_yaml_ctx *c, pol_yaml_node *n, const char *key)
{
    const char *s = pol_yaml_scalar(c, n, key);
    if (!s)
        return NULL;
    if (!*s) {
        pol_yaml_error(c, n, "'%s' is empty — give a value or leave the key out", key);
        return NULL;
    }
    return strdup(s);
}

void pol_yaml_int(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, int lo, int hi, int *out)
{
    const char *s = pol_yaml_scalar(c, n, key);
    char *end;
    if (!s)
        return;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        pol_yaml_error(c, n, "'%s: %s' is not a whole number from %d to %d — write e.g. '%s: %d'",
                       key, s, lo, hi, key, lo > 1 ? lo : 1);
        return;
    }
    *out = (int)v;
}

void pol_yaml_bool(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, bool *out)
{
    const char *s = pol_yaml_scalar(c, n, key);
    if (!s)
        return;
    if (!strcmp(s, "true") || !strcmp(s, "yes"))
        *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "no"))
        *out = false;
    else
        pol_yaml_error(c, n, "'%s: %s' is not true or false — write '%s: true' or '%s: false'", key,
                       s, key, key);
}

void pol_yaml_duration(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, int64_t *out)
{
    const char *s = pol_yaml_scalar(c, n, key);
    if (s && pol_duration_parse(s, out))
        pol_yaml_error(
            c, n, "'%s: %s' is not a duration — write a number and a unit: 30s, 30m, 12h, 7d, 2w",
            key, s);
}

void pol_yaml_str_list(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, char ***out,
                       size_t *count)
{
    if (n->type == YAML_SCALAR_NODE) {
        char *s = pol_yaml_str(c, n, key);
        if (s && (*out = calloc(2, sizeof(char *)))) {
            (*out)[0] = s;
            *count = 1;
        } else {
            free(s);
        }
        return;
    }
    if (!pol_yaml_list(c, n, key, "a list, e.g. [a, b]"))
        return;
    size_t len = pol_yaml_len(n);
    *out = calloc(len + 1, sizeof(char *));
    if (!*out)
        return;
    for (size_t i = 0; i < len; i++) {
        char *s = pol_yaml_str(c, pol_yaml_item(c, n, i), key);
        if (s)
            (*out)[(*count)++] = s;
    }
}

bool pol_yaml_list(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, const char *advice)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return true;
    pol_yaml_error(c, n, "'%s' is %s here — write %s", key, pol_yaml_kind(n), advice);
    return false;
}

size_t pol_yaml_len(const pol_yaml_node *n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return 0;
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

pol_yaml_node *pol_yaml_item(pol_yaml_ctx *c, const pol_yaml_node *list, size_t i)
{
    return pol_yaml_get(c, list->data.sequence.items.start[i]);
}

void pol_yaml_mapping(pol_yaml_ctx *c, pol_yaml_node *n, const char *what,
                      const char *const *allowed, pol_yaml_pair_fn fn, void *target)
{
    if (n->type != YAML_MAPPING_NODE) {
        pol_yaml_error(c, n, "%s is %s here — write 'key: value' lines", what, pol_yaml_kind(n));
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        pol_yaml_node *k = pol_yaml_get(c, p->key), *v = pol_yaml_get(c, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            pol_yaml_error(c, k, "a key in %s is not text", what);
            continue;
        }
        const char *key = (const char *)k->data.scalar.value;
        bool known = false, seen = false;
        for (const char *const *a = allowed; *a; a++)
            known |= !strcmp(*a, key);
        /* libyaml keeps both pairs of a repeated key; the later one would
         * silently win in most YAML readers, so it is refused here. */
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            pol_yaml_node *qk = pol_yaml_get(c, q->key);
            seen |=
                qk->type == YAML_SCALAR_NODE && !strcmp((const char *)qk->data.scalar.value, key);
        }
        if (!known) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", *a);
            }
            pol_yaml_error(c, k, "unknown key '%s' in %s — the keys here are: %s", key, what, list);
        } else if (seen) {
            pol_yaml_error(c, k, "'%s' is given twice in %s — keep one", key, what);
        } else {
            fn(c, key, v, target);
        }
    }
}
