/* Strict YAML reading shared by the policy and the runbooks: libyaml's
 * document API keeps the line of every node for the error messages. */
#include "policies/yaml_doc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/stream.h"
#include "policies/duration.h"

/* What each kind of libyaml failure means for the person who wrote the file,
 * and what to look at: our words, in the reader's language. libyaml's own
 * (English, not ours to translate) follow in parentheses as a detail. */
static const struct {
    const char *what, *todo;
} yaml_kinds[] = {
    [YAML_READER_ERROR] = {N_("the file is not plain UTF-8 text"),
                           N_("save it as UTF-8 and remove any control character near here")},
    [YAML_SCANNER_ERROR] = {N_("this cannot be read as YAML"),
                            N_("check the indentation (spaces, not tabs), the colon after each "
                               "key and the closing quotes near here")},
    [YAML_PARSER_ERROR] = {N_("the lists and mappings do not fit together here"),
                           N_("check the indentation, the dashes, the colons and that every "
                              "bracket is closed")},
    [YAML_COMPOSER_ERROR] = {N_("an alias (*name) or anchor (&name) is wrong here"),
                             N_("define each anchor (&name) once, before the aliases (*name) "
                                "that name it")},
};

/* Line and column (1-based, in characters) of byte `off` of `buf`: where a
 * reader error is, which libyaml gives as an offset only. */
static void offset_mark(const uint8_t *buf, size_t len, size_t off, size_t *line, size_t *col)
{
    *line = 1, *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n')
            *line += 1, *col = 1;
        else if ((buf[i] & 0xc0) != 0x80)
            *col += 1;
    }
}

/* A YAML syntax error as "file:line:column: what — what to do (libyaml:
 * its words)". Returns -EINVAL, or -ENOMEM (not logged, as pol_yaml_load
 * says) when libyaml ran out of memory. */
static int syntax_error(const char *file, const yaml_parser_t *parser, const uint8_t *buf,
                        size_t len)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return -ENOMEM;
    size_t line = parser->problem_mark.line + 1, col = parser->problem_mark.column + 1;
    if (parser->error == YAML_READER_ERROR)
        offset_mark(buf, len, parser->problem_offset, &line, &col);
    const char *what = _("this cannot be read as YAML"), *todo = _("check the indentation and "
                                                                    "quoting near here");
    if ((size_t)parser->error < sizeof(yaml_kinds) / sizeof(*yaml_kinds) &&
        yaml_kinds[parser->error].what)
        what = _(yaml_kinds[parser->error].what), todo = _(yaml_kinds[parser->error].todo);
    char said[512], detail[600];
    snprintf(said, sizeof(said), "%s%s%s", parser->problem ? parser->problem : "",
             parser->context ? " " : "", parser->context ? parser->context : "");
    snprintf(detail, sizeof(detail), said[0] ? _(" (libyaml: %s)") : "%s", said);
    /* libyaml names the construct it was inside and where it began, which
     * is usually where the missing bracket or bad indentation is. */
    if (parser->context && (parser->context_mark.line != parser->problem_mark.line ||
                            parser->context_mark.column != parser->problem_mark.column))
        bkp_error(_("%s:%zu:%zu: %s, inside what starts on line %zu, column %zu — %s%s"), file,
                  line, col, what, parser->context_mark.line + 1,
                  parser->context_mark.column + 1, todo, detail);
    else
        bkp_error(_("%s:%zu:%zu: %s — %s%s"), file, line, col, what, todo, detail);
    return -EINVAL;
}

/* What walking the document costs once every alias is expanded. */
typedef struct budget {
    size_t nodes, bytes;
    const pol_yaml_node *over; /* where a limit was passed */
    const char *what; /* after "more than LIMIT" */
    int limit;
} budget;

/*
 * libyaml keeps one copy of an anchored node and lets every alias point at
 * it, so the document itself stays small; but each reader of the document
 * (pol_yaml_str_list, the loaders) walks and copies what it sees, so a
 * 160 KiB file that names one large anchor 10,000 times would cost a
 * gigabyte there. The walk below counts what the readers would see, and the
 * file is refused when that passes a budget far above any real policy or
 * runbook. An anchor may also contain an alias to itself (a cycle): the
 * budget ends that walk too, and the depth limit keeps the recursion short.
 */
static void walk(pol_yaml_ctx *c, const pol_yaml_node *n, int depth, budget *b)
{
    if (!n || b->over)
        return;
    if (++b->nodes > POL_YAML_MAX_NODES) {
        b->over = n;
        b->what = _("values once its aliases are expanded");
        b->limit = POL_YAML_MAX_NODES;
        return;
    }
    if (depth > POL_YAML_MAX_DEPTH) {
        b->over = n;
        b->what = _("levels of nesting");
        b->limit = POL_YAML_MAX_DEPTH;
        return;
    }
    if (n->type == YAML_SCALAR_NODE) {
        b->bytes += n->data.scalar.length;
        if (b->bytes > POL_YAML_MAX_EXPANDED) {
            b->over = n;
            b->what = _("bytes of text once its aliases are expanded");
            b->limit = POL_YAML_MAX_EXPANDED;
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
             i++)
            walk(c, pol_yaml_get(c, *i), depth + 1, b);
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            walk(c, pol_yaml_get(c, p->key), depth + 1, b);
            walk(c, pol_yaml_get(c, p->value), depth + 1, b);
        }
    }
}

int pol_yaml_load_buffer(pol_yaml_ctx *c, const char *file, const uint8_t *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t next;
    if (len > POL_YAML_MAX_FILE) {
        bkp_error(_("%s: the file is %zu bytes, more than the %d a policy or runbook may be — "
                    "check that it is the right file"),
                  file, len, POL_YAML_MAX_FILE);
        return -EINVAL;
    }
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    *c = (pol_yaml_ctx){.file = file};
    yaml_parser_set_input_string(&parser, buf, len);
    if (!yaml_parser_load(&parser, &c->doc)) {
        int rc = syntax_error(file, &parser, buf, len);
        yaml_parser_delete(&parser);
        return rc;
    }
    /* A second document ("---" again) would be ignored by a reader that takes
     * the first, and used by one that takes the last: refuse it, so that what
     * the file says is not a matter of which reader reads it. Its size is
     * bounded by the file's. */
    int rc = 0;
    if (!yaml_parser_load(&parser, &next)) {
        rc = syntax_error(file, &parser, buf, len);
    } else {
        if (yaml_document_get_root_node(&next)) {
            bkp_error(_("%s:%zu: a second YAML document begins here — keep one document per file "
                        "(remove this '---' and what follows, or merge it into the first)"),
                      file, next.start_mark.line + 1);
            rc = -EINVAL;
        }
        yaml_document_delete(&next);
    }
    yaml_parser_delete(&parser);
    budget b = {0};
    if (!rc)
        walk(c, pol_yaml_root(c), 0, &b);
    if (!rc && b.over) {
        bkp_error(_("%s:%zu: the file holds more than %d %s — write the values out, or use fewer "
                    "aliases (*name)"),
                  file, b.over->start_mark.line + 1, b.limit, b.what);
        rc = -EINVAL;
    }
    if (rc)
        yaml_document_delete(&c->doc);
    return rc;
}

int pol_yaml_load(pol_yaml_ctx *c, const char *file)
{
    /* One byte more than the limit is enough to know it was passed. */
    uint8_t *buf = malloc((size_t)POL_YAML_MAX_FILE + 1);
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    int rc = fd < 0 ? -errno : buf ? 0 : -ENOMEM;
    bkp_stream s;
    bkp_stream_fd(&s, fd, BKP_STREAM_OWN);
    size_t len = rc ? 0 : bkp_stream_read(&s, buf, (size_t)POL_YAML_MAX_FILE + 1);
    int closed = bkp_stream_close(&s);
    rc = rc ? rc : closed;
    if (!rc)
        rc = pol_yaml_load_buffer(c, file, buf, len);
    free(buf);
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
    return n->type == YAML_MAPPING_NODE    ? _("a mapping")
           : n->type == YAML_SEQUENCE_NODE ? _("a list")
                                           : _("a value");
}

const char *pol_yaml_scalar(pol_yaml_ctx *c, pol_yaml_node *n, const char *key)
{
    if (n->type != YAML_SCALAR_NODE) {
        pol_yaml_error(c, n, _("'%s' is %s here — write a single value"), key, pol_yaml_kind(n));
        return NULL;
    }
    if (pol_yaml_is_null(n)) {
        pol_yaml_error(c, n, _("'%s' is null here — write a value, or leave the key out"), key);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

bool pol_yaml_is_null(const pol_yaml_node *n)
{
    /* YAML 1.1 reads a plain ~, null, Null or NULL (and !!null) as "no
     * value"; another reader would give the program nothing where this one
     * would give the text "null" — a path named null, say. Neither is what
     * the writer meant, so it is refused. An empty value is refused by the
     * readers with their own message. */
    static const char *const nulls[] = {"~", "null", "Null", "NULL"};
    if (n->type != YAML_SCALAR_NODE)
        return false;
    if (n->tag && !strcmp((const char *)n->tag, YAML_NULL_TAG))
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof(nulls) / sizeof(*nulls); i++)
        if (!strcmp((const char *)n->data.scalar.value, nulls[i]))
            return true;
    return false;
}

char *pol_yaml_str(pol_yaml_ctx *c, pol_yaml_node *n, const char *key)
{
    const char *s = pol_yaml_scalar(c, n, key);
    if (!s)
        return NULL;
    if (!*s) {
        pol_yaml_error(c, n, _("'%s' is empty — give a value or leave the key out"), key);
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
        pol_yaml_error(c, n,
                       _("'%s: %s' is not a whole number from %d to %d — write e.g. '%s: %d'"), key,
                       s, lo, hi, key, lo > 1 ? lo : 1);
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
        pol_yaml_error(c, n, _("'%s: %s' is not true or false — write '%s: true' or '%s: false'"),
                       key, s, key, key);
}

void pol_yaml_duration(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, int64_t *out)
{
    const char *s = pol_yaml_scalar(c, n, key);
    if (s && pol_duration_parse(s, out))
        pol_yaml_error(
            c, n,
            _("'%s: %s' is not a duration — write a number and a unit: 30s, 30m, 12h, 7d, 2w"), key,
            s);
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
    if (!pol_yaml_list(c, n, key, _("a list, e.g. [a, b]")))
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
    pol_yaml_error(c, n, _("'%s' is %s here — write %s"), key, pol_yaml_kind(n), advice);
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
        pol_yaml_error(c, n, _("%s is %s here — write 'key: value' lines"), what, pol_yaml_kind(n));
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        pol_yaml_node *k = pol_yaml_get(c, p->key), *v = pol_yaml_get(c, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            pol_yaml_error(c, k, _("a key in %s is not text"), what);
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
            pol_yaml_error(c, k, _("unknown key '%s' in %s — the keys here are: %s"), key, what,
                           list);
        } else if (seen) {
            pol_yaml_error(c, k, _("'%s' is given twice in %s — keep one"), key, what);
        } else {
            fn(c, key, v, target);
        }
    }
}
