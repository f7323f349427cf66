/*
 * media_doc.h — one medium as `bkp media list` and `media show` give it
 * (and --json prints): its registry entry, with what the policy says of it
 * and when its next rotation is due.
 */
#ifndef BKP_OPS_MEDIA_DOC_H
#define BKP_OPS_MEDIA_DOC_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "bkp/media/registry.h"
#include "policies/policy.h"

/* What is known of a medium: the policy's description, else its label's. */
typedef struct ops_medium_facts {
    const char *name, *type, *location; /* location may be NULL: "?" */
    bool offline;
    const char *path;     /* may be NULL */
    const pol_medium *pm; /* its entry in the policy, or NULL */
    const bkp_media_entry *entry; /* its registry entry, or NULL: never labelled */
} ops_medium_facts;

/* The registry entry (copied) with name, type, location, offline, path,
 * bucket (an object medium), in_policy, labelled, generations held,
 * next_due (ISO time, null when not known) and rotate_every. `due` as
 * ops_medium_due gives it: 0 not known, 1 never written (due `now`). A new
 * reference, NULL without memory. */
json_t *ops_medium_doc(const ops_medium_facts *m, time_t due, time_t now);

#endif
