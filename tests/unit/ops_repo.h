/*
 * Shared by the unit tests of bkp/ops/: a real repository in a temporary
 * folder, with generations sealed at chosen times, media registered as a
 * rotation leaves them, and records in its audit log.
 */
#ifndef BKP_TEST_OPS_REPO_H
#define BKP_TEST_OPS_REPO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/capture/capture.h"
#include "bkp/io/clock.h"
#include "bkp/store/generation.h"
#include "bkp/store/seal.h"
#include "bkp/media/registry.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"

#include "label_util.h"
#include "testutil.h"

#define OPS_PASS "correct horse battery staple"
/* The head of a policy of these tests: the repository under the top folder
 * ("%1$s"), an on-line disk `nas` and an off-line removable disk `usb-a`. */
#define OPS_POLICY_HEAD                                                                            \
    "repository: %1$s/repo\n"                                                                      \
    "passphrase_file: /etc/bkp/passphrase\n"                                                       \
    "media:\n"                                                                                     \
    "  - { name: nas, type: disk, path: %1$s/nas, location: onsite }\n"                            \
    "  - { name: usb-a, type: removable, path: %1$s/usb-a, location: offsite, offline: true }\n"

#define OPS_DAY 86400

typedef struct ops_repo {
    char top[64], repo[128], src[128];
    bkp_repo *r;
    pol_policy *p;
} ops_repo;

/* A new repository with its audit log under /tmp, a folder of one file to
 * back up, and the policy `yaml` (its "%1$s" replaced by the top folder,
 * where the media are): 0, or -1. */
static inline int ops_repo_new(ops_repo *f, const char *name, const char *yaml)
{
    char text[4096], file[160];
    snprintf(f->top, sizeof(f->top), "/tmp/bkp-test-%s-XXXXXX", name);
    if (sodium_init() < 0 || !mkdtemp(f->top))
        return -1;
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->top);
    snprintf(f->src, sizeof(f->src), "%s/src", f->top);
    snprintf(file, sizeof(file), "%s/a", f->src);
    FILE *x = mkdir(f->src, 0700) ? NULL : fopen(file, "w");
    if (!x || fputs("patient record\n", x) < 0 || fclose(x))
        return -1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(text, sizeof(text), yaml, f->top);
#pragma GCC diagnostic pop
    bkp_audit_rec init = {.op = "init"};
    if (bkp_repo_init(f->repo, OPS_PASS, strlen(OPS_PASS)) ||
        bkp_repo_open(f->repo, OPS_PASS, strlen(OPS_PASS), 0, &f->r) ||
        bkp_audit_create(f->r, &init))
        return -1;
    return pol_load_buffer("ops.yaml", (const uint8_t *)text, strlen(text), &f->p) ? -1 : 0;
}

static inline void ops_repo_free(ops_repo *f)
{
    bkp_repo_free(f->r);
    pol_free(f->p);
    test_rm_rf(f->top);
}

/* Seal a generation of `dataset` finished `age` seconds ago into `*out`
 * (may be NULL): 0 or an error. */
/* The same with the guard's verdict (NULL: none judged it). */
static inline int ops_repo_seal_guarded(ops_repo *f, const char *dataset, time_t age,
                                        const bkp_gen_guard *guard, bkp_gen **out)
{
    const char *paths[] = {f->src};
    bkp_capture_opts o = {.dataset = dataset, .paths = paths, .npaths = 1};
    bkp_capture cap;
    time_t t = bkp_now() - age;
    int rc = bkp_capture_run(f->r, &o, &cap);
    if (!rc)
        rc = bkp_gen_seal(f->r, dataset, &cap, t - 60, t, guard, out);
    bkp_capture_clear(&cap);
    return rc;
}

static inline int ops_repo_seal(ops_repo *f, const char *dataset, time_t age, bkp_gen **out)
{
    return ops_repo_seal_guarded(f, dataset, age, NULL, out);
}

typedef struct ops_fixture_held {
    bkp_label label;
    const bkp_gen *g;
    time_t last_write;
    bool verify_ok;
} ops_fixture_held;

static inline int ops_held_set(bkp_media_entry *e, void *ctx)
{
    ops_fixture_held *h = ctx;
    bkp_media_held held = {.seq = h->g->seq};
    snprintf(held.dataset, sizeof(held.dataset), "%s", h->g->dataset);
    snprintf(held.uuid, sizeof(held.uuid), "%s", h->g->uuid);
    bkp_iso_time(held.finished, sizeof(held.finished), h->g->finished);
    e->label = h->label;
    e->last_write = h->last_write;
    e->verify = h->verify_ok ? BKP_MEDIA_VERIFIED : BKP_MEDIA_FAILED;
    return bkp_media_entry_set_held(e, &held, 1);
}

/* Register medium `name` (type, location) as holding generation `g`,
 * written `written` seconds ago, its last check `verify_ok`. */
static inline int ops_repo_register(ops_repo *f, const char *name, const char *type,
                                    const char *location, const bkp_gen *g, time_t written,
                                    bool verify_ok)
{
    ops_fixture_held h = {.g = g, .last_write = bkp_now() - written, .verify_ok = verify_ok};
    if (ops_label_new(f->r, name, type, location, &h.label))
        return -1;
    return bkp_media_update(f->r, name, ops_held_set, &h);
}

/* Append a record of `op` to the log, with `figures` (taken). */
static inline int ops_repo_record(ops_repo *f, const char *op, const char *dataset, bool failed,
                                  json_t *figures)
{
    bkp_audit_rec rec = {.op = op, .dataset = dataset, .failed = failed, .figures = figures};
    int rc = bkp_audit_append(f->r, &rec);
    json_decref(figures);
    return rc;
}

/* cmocka's setup and teardown of a fixture: a repository named `name`
 * with the policy `yaml` into `*state`. */
static inline int ops_repo_setup(void **state, const char *name, const char *yaml)
{
    ops_repo *f = calloc(1, sizeof(*f));
    if (!f || ops_repo_new(f, name, yaml))
        return -1;
    *state = f;
    return 0;
}

static inline int ops_repo_teardown(void **state)
{
    ops_repo_free(*state);
    free(*state);
    return 0;
}

#endif
