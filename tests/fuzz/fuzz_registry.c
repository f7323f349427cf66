/* Fuzz target: a registry entry REPO/media/NAME.json, through its one codec
 * (registry.h). What is accepted has a valid label of that name, held
 * generations of the right shape, which status and runbooks walk, and
 * round-trips: the entry written back parses to the same entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/reread.h"
#include "bkp/media/registry.h"

static void same(const bkp_media_entry *a, const bkp_media_entry *b)
{
    if (!bkp_label_same(&a->label, &b->label) || !a->path != !b->path ||
        (a->path && strcmp(a->path, b->path)) || a->labelled != b->labelled ||
        a->last_seen != b->last_seen || a->last_write != b->last_write ||
        a->last_verify != b->last_verify || a->verify != b->verify || a->n_held != b->n_held ||
        a->held_known != b->held_known || a->probe.when != b->probe.when ||
        a->probe.proven != b->probe.proven || strcmp(a->label_version, b->label_version) ||
        strcmp(a->kit_sha256, b->kit_sha256) || a->bytes != b->bytes ||
        a->reread.n != b->reread.n || a->reread.last_run != b->reread.last_run ||
        (a->reread.n && memcmp(a->reread.v, b->reread.v, a->reread.n * sizeof(*a->reread.v))) ||
        a->attempt.began != b->attempt.began || a->attempt.ended != b->attempt.ended ||
        a->attempt.failed != b->attempt.failed || a->attempt.full != b->attempt.full ||
        a->attempt.pruned_first != b->attempt.pruned_first || a->attempt.pid != b->attempt.pid ||
        strcmp(a->attempt.host, b->attempt.host) || strcmp(a->attempt.why, b->attempt.why) ||
        strcmp(a->attempt.why_ja, b->attempt.why_ja))
        abort();
    for (size_t i = 0; i < a->n_held; i++)
        if (memcmp(&a->held[i], &b->held[i], sizeof(a->held[i])))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const time_t now = 1800000000;
    bkp_media_entry e, again;
    if (bkp_media_entry_parse(data, size, "usb-a", now, &e) != 0)
        return 0;
    if (!e.label.version || strcmp(e.label.name, "usb-a"))
        abort();
    for (size_t i = 0; i < e.n_held; i++)
        if (!bkp_medium_name_ok(e.held[i].dataset) || !e.held[i].seq ||
            !bkp_medium_uuid_ok(e.held[i].uuid))
            abort();
    for (size_t i = 0; i < e.reread.n; i++)
        if (e.reread.v[i].at < 0 || e.reread.v[i].at > now + 86400 ||
            (i && memcmp(e.reread.v[i - 1].id, e.reread.v[i].id, sizeof(e.reread.v[i].id)) >= 0))
            abort();
    /* The label's version id is sent to the bucket: printable, bounded. */
    for (const char *c = e.label_version; *c; c++)
        if (*c <= ' ' || *c > '~')
            abort();
    json_t *j = bkp_media_entry_json(&e);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text) {
        if (bkp_media_entry_parse(text, strlen(text), "usb-a", now, &again))
            abort(); /* what it writes back it refuses */
        same(&e, &again);
        bkp_media_entry_clear(&again);
        free(text);
    }
    bkp_media_entry_clear(&e);
    return 0;
}
