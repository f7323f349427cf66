/*
 * repo_public.c — a repository opened with its public key alone (repo.h,
 * bkp_repo_open_public): what an auditor holding no secret can check.
 *
 * Trust runs from the key the auditor pinned off the machine, never from
 * the host: the config is read only to compare its `sign_public` with that
 * key (its MAC needs the secret and cannot be checked here), and every
 * signed file is then checked against the pinned key. A host that replaced
 * config and key file with a pair of its own, and re-signed a rewritten
 * history with it, is caught by the comparison; one that kept the key signs
 * what it likes, which is why the pins on off-line media matter (pin.h).
 */
#include "bkp/store/repo.h"
#include "bkp/store/repo_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/store/config.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"

bool bkp_repo_is_public(const bkp_repo *r)
{
    return (r->flags & BKP_REPO_PUBLIC) != 0;
}

const uint8_t *bkp_repo_sign_pk(const bkp_repo *r)
{
    return r->keys ? bkp_keys_sign_pk(r->keys) : r->public_pk;
}

/* The config's fields, shape-checked (config.h); logs what is wrong. */
static int read_config(const bkp_repo *r, bkp_config *cfg)
{
    char *p = bkp_path_join(r->path, "config");
    const char *why = NULL;
    bkp_buf raw;
    bkp_buf_init(&raw);
    int rc = p ? bkp_read_file(p, &raw, BKP_CONFIG_MAX) : -ENOMEM;
    if (rc == -ENOENT)
        bkp_error(_("%s is not a bkp repository (no config file); check --repo"), r->path);
    else if (rc == -EFBIG ||
             (!rc && (rc = bkp_config_parse(raw.data, raw.len, cfg, &why)) && rc != -EPROTO))
        bkp_error(_("%s: not a valid bkp repository config (%s); check it against a copy on "
                    "another medium (MEDIUM/repo/config)"),
                  p, why ? why : "too large");
    else if (rc == -EPROTO)
        bkp_error(_("%s: repository format %s, which this bkp (format %d) does not read"), p, why,
                  BKP_CONFIG_VERSION);
    else if (rc)
        bkp_error(_("cannot read %s: %s"), p ? p : r->path, bkp_strerror(rc));
    if (rc == -EFBIG)
        rc = -EBADMSG;
    bkp_buf_free(&raw);
    free(p);
    return rc;
}

int bkp_repo_open_public(const char *path, const uint8_t pk[32], bkp_repo **out)
{
    bkp_config cfg;
    bkp_repo *r;
    int rc = bkp_repo_alloc(path, BKP_REPO_READONLY | BKP_REPO_PUBLIC, &r);
    if (rc)
        return rc;
    if ((rc = read_config(r, &cfg)))
        goto fail;
    /* The whole point of the pinned key: a mismatch is not a detail to
     * report beside the findings, it voids them, so nothing else is read. */
    if (sodium_memcmp(cfg.sign_pk, pk, 32) != 0) {
        char want[BKP_FINGERPRINT_LEN], have[BKP_FINGERPRINT_LEN];
        bkp_pubkey_fingerprint(pk, want);
        bkp_pubkey_fingerprint(cfg.sign_pk, have);
        bkp_error(_("%s is not the repository whose key you pinned: its config names the public "
                    "key\n  %s\nnot the one given,\n  %s\nEither it is another repository, or its "
                    "config and key file were replaced (and what it holds may be re-signed with "
                    "a new key). Nothing was checked; check the copies on off-line media with the "
                    "key you pinned"),
                  r->path, have, want);
        /* A key copied by hand from paper: a digit or two off is a slip of
         * the pen far more often than a replaced key. Said, never assumed. */
        size_t differ = 0;
        for (size_t i = 0; i < sizeof(want); i++)
            differ += want[i] != have[i];
        if (differ <= 2)
            bkp_error(_("the two keys differ in only %zu digit(s): check first that the key was "
                        "copied from the paper without a mistake"),
                      differ);
        rc = -EKEYREJECTED;
        goto fail;
    }
    memcpy(r->uuid, cfg.id, 37);
    memcpy(r->public_pk, pk, 32);
    *out = r;
    return 0;
fail:
    bkp_repo_free(r);
    return rc;
}
