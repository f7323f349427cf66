/* bucket_trust.c — the one rule by which a copy fetched from a bucket is
 * believed (bucket.h, bkp_bucket_trust): which key it must verify under,
 * and what of each small object verifies under it. */
#include "bkp/media/bucket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/media/bucket_internal.h"
#include "bkp/store/config.h"
#include "bkp/keys/envelope.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/key_slots.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"

/* ---- what verifies under the key ---- */

/* Is record file `rel` ("generations/DS/SEQ.EXT"), of bytes `b`, signed by
 * the key, of its kind, for the data set and sequence it is named for? A
 * version put in front of ours (another record of ours replayed under this
 * name: a rollback; or garbage) is not. */
static bool record_verifies(const bkp_bucket_trust *t, const char *rel, const uint8_t *b,
                            size_t len)
{
    static const struct {
        const char *ext, *magic;
    } kinds[] = {{".gen", BKP_GEN_MAGIC},
                 {".pruned", "BKPPRN01"},
                 {".cleared", "BKPCLR01"},
                 {".packs", MANIFEST_MAGIC}};
    char ds[256];
    unsigned seq = 0;
    int end = 0;
    const char *name = strrchr(rel, '/');
    if (!name || name - rel - 12 <= 0 || (size_t)(name - rel - 12) >= sizeof(ds) ||
        sscanf(name + 1, "%10u%n", &seq, &end) != 1 || end != 10)
        return false;
    memcpy(ds, rel + 12, (size_t)(name - rel - 12));
    ds[name - rel - 12] = '\0';
    const char *magic = NULL;
    bool record = false;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
        if (!strcmp(name + 11, kinds[i].ext))
            magic = kinds[i].magic, record = i == 0;
    const uint8_t *text;
    size_t tlen;
    if (!magic || bkp_envelope_open(t->pk, magic, b, len, &text, &tlen))
        return false;
    json_t *j = json_loadb((const char *)text, tlen, JSON_REJECT_DUPLICATES, NULL);
    const char *jds = json_string_value(json_object_get(j, "dataset"));
    json_t *jseq = json_object_get(j, "seq");
    bool ok = jds && !strcmp(jds, ds) && json_is_integer(jseq) &&
              json_integer_value(jseq) == (json_int_t)seq;
    json_decref(j);
    if (ok && record) {
        bkp_gen *g = calloc(1, sizeof(*g));
        ok = g && !bkp_gen_record_parse(text, tlen, t->id, g);
        bkp_gen_free(g);
    }
    return ok;
}

bool bkp_bucket_verifies(const bkp_bucket_trust *t, const char *rel, const uint8_t *b, size_t len)
{
    if (!strcmp(rel, LABEL_KEY)) {
        /* Found through a config (no label signed yet), the unsigned label
         * of this repository and key is the one an earlier bkp wrote. */
        bkp_label l;
        return !bkp_label_parse(b, len, &l) &&
               (bkp_label_ours(&l, t->registered, t->pk, t->id) ||
                (!t->by_label && !t->registered && l.version == 1 &&
                 bkp_label_ours(&l, &l, t->pk, t->id)));
    }
    if (!strcmp(rel, "config")) {
        /* Naming the key and the repository, under the MAC of the keys; a
         * format 2 config, which carries no MAC, only when none of a later
         * format names them (config_with_mac). */
        bkp_config cfg;
        return !bkp_config_parse(b, len, &cfg, NULL) && !memcmp(cfg.sign_pk, t->pk, 32) &&
               !strcmp(cfg.id, t->id) &&
               (cfg.version < 3 ? !t->config_mac : !bkp_config_check(&cfg, b, len, t->keys));
    }
    if (!strcmp(rel, "keys/key")) {
        /* Opened by the passphrase: the very file that took it. */
        if (t->key_file)
            return len == t->key_len && !memcmp(b, t->key_file, len);
        bkp_key_slots *slots = malloc(sizeof(*slots));
        bool ok = slots && !bkp_key_slots_read(b, len, t->pk, t->rid, slots);
        free(slots);
        return ok;
    }
    if (!strncmp(rel, "generations/", 12))
        return record_verifies(t, rel, b, len);
    return true; /* the audit copy: its chain is checked where it is read */
}

/* ---- which key ---- */

/* The newest BKP_BUCKET_TRIES versions of `key` that are no delete marker
 * and within `max`, fetched into memory, newest first. */
typedef struct fetched {
    void *b[BKP_BUCKET_TRIES];
    size_t len[BKP_BUCKET_TRIES];
    size_t n;
} fetched;

static void fetched_free(fetched *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->b[i]);
    f->n = 0;
}

static int fetch_versions(bkp_s3 *s, const char *key, uint64_t max, fetched *out)
{
    bucket_few lv = {.key = key};
    int rc = bkp_s3_list_versions(s, key, bucket_take_few, &lv);
    for (size_t i = 0; rc >= 0 && i < lv.n && out->n < BKP_BUCKET_TRIES; i++) {
        rc = bkp_s3_get(s, key, lv.v[i], max, &out->b[out->n], &out->len[out->n]);
        if (!rc)
            out->n++;
        else if (rc == -EFBIG || rc == -ENOENT)
            rc = 0; /* not ours: larger than any such file, or gone meanwhile */
    }
    return rc < 0 ? rc : 0;
}

/* What the search for the key works with: the versions fetched (labels,
 * configs, key files) and, per key file, what the passphrase opened. Each
 * key file costs its Argon2id runs once, whatever number of labels and
 * configs name keys (a slot of a list is sealed at the cost bkp writes: at
 * most BKP_BUCKET_TRIES files of BKP_KEY_SLOTS_MAX slots are ever tried). */
typedef struct search {
    fetched labels, configs, keyfiles;
    bool tried[BKP_BUCKET_TRIES];
    bkp_keys *opened[BKP_BUCKET_TRIES];
} search;

/* Key file `i` opened by the passphrase, once (NULL: it does not take it). */
static int opened_file(bkp_bucket_trust *t, search *sr, size_t i, const bkp_key_slots *slots,
                       bkp_keys **out)
{
    for (size_t j = 0; !sr->tried[i] && j < i; j++)
        if (sr->tried[j] && sr->keyfiles.len[j] == sr->keyfiles.len[i] &&
            !memcmp(sr->keyfiles.b[j], sr->keyfiles.b[i], sr->keyfiles.len[i])) {
            *out = sr->opened[j]; /* the same bytes put again */
            return 0;
        }
    if (!sr->tried[i]) {
        unsigned which;
        int rc = bkp_key_slots_open(slots, t->pass, t->plen, &sr->opened[i], &which);
        if (rc == -ENOMEM)
            return rc;
        sr->tried[i] = true;
    }
    *out = sr->opened[i];
    return 0;
}

/* The newest key file signed by `pk` for `rid` that takes the passphrase
 * and opens `pk`: 0 with a copy of its keys in `*out` and the file kept in
 * `t`, or -EKEYREJECTED. */
static int open_key_file(bkp_bucket_trust *t, search *sr, const uint8_t pk[32], const uuid_t rid,
                         bkp_keys **out)
{
    bkp_key_slots *slots = malloc(sizeof(*slots));
    int rc = slots ? -EKEYREJECTED : -ENOMEM;
    for (size_t i = 0; rc == -EKEYREJECTED && i < sr->keyfiles.n; i++) {
        bkp_keys *k = NULL;
        if (bkp_key_slots_read(sr->keyfiles.b[i], sr->keyfiles.len[i], pk, rid, slots))
            continue;
        if ((rc = opened_file(t, sr, i, slots, &k)))
            break;
        if (!k || memcmp(bkp_keys_sign_pk(k), pk, 32)) {
            rc = -EKEYREJECTED;
            continue;
        }
        if ((rc = bkp_keys_dup(k, out)) || !(t->key_file = malloc(sr->keyfiles.len[i]))) {
            rc = -ENOMEM;
            break;
        }
        memcpy(t->key_file, sr->keyfiles.b[i], sr->keyfiles.len[i]);
        t->key_len = sr->keyfiles.len[i];
    }
    free(slots);
    return rc;
}

/* The keys of (pk, id) from the sheets or the passphrase: 0 with `t` set,
 * -EKEYREJECTED when they do not open them. */
static int open_with(bkp_bucket_trust *t, search *sr, const uint8_t pk[32], const char *id)
{
    uuid_t rid;
    bkp_keys *k = NULL;
    int rc = uuid_parse(id, rid) ? -EKEYREJECTED
             : t->master         ? bkp_keys_from_master(t->master, rid, &k)
                                 : open_key_file(t, sr, pk, rid, &k);
    if (!rc && memcmp(bkp_keys_sign_pk(k), pk, 32))
        rc = -EKEYREJECTED; /* sheets of another repository */
    if (rc) {
        bkp_keys_free(k);
        free(t->key_file);
        t->key_file = NULL;
        t->key_len = 0;
        return rc == -ENOMEM ? rc : -EKEYREJECTED;
    }
    t->own = k;
    t->keys = k;
    memcpy(t->pk, pk, 32);
    snprintf(t->id, sizeof(t->id), "%s", id);
    return 0;
}

/* The key and repository a label (signed by the key it names) or a config
 * names: 0, or -EBADMSG when it is neither. */
static int names_key(const void *b, size_t len, bool label, uint8_t pk[32], char id[37])
{
    if (!label) {
        bkp_config cfg;
        if (bkp_config_parse(b, len, &cfg, NULL))
            return -EBADMSG;
        memcpy(pk, cfg.sign_pk, 32);
        memcpy(id, cfg.id, 37);
        return 0;
    }
    bkp_label l;
    if (bkp_label_parse(b, len, &l) || !l.fingerprint[0] ||
        bkp_pubkey_parse(l.fingerprint, strlen(l.fingerprint), pk) || !bkp_label_signed_by(&l, pk))
        return -EBADMSG;
    memcpy(id, l.repository, 37);
    return 0;
}

/* Try the keys named by `of` (labels, or configs), newest first, each
 * (key, repository) once; `*named` counts those named. */
static int try_named(bkp_bucket_trust *t, search *sr, const fetched *of, bool label,
                     uint8_t (*seen)[32 + 37], size_t *named)
{
    int rc = -EKEYREJECTED;
    for (size_t i = 0; rc == -EKEYREJECTED && i < of->n; i++) {
        uint8_t pk[32];
        char id[37];
        bool again = false;
        if (names_key(of->b[i], of->len[i], label, pk, id) || (t->pinned && memcmp(pk, t->pin, 32)))
            continue;
        for (size_t j = 0; j < *named && !again; j++)
            again = !memcmp(seen[j], pk, 32) && !strcmp((char *)seen[j] + 32, id);
        if (again)
            continue;
        memcpy(seen[*named], pk, 32);
        memcpy(seen[(*named)++] + 32, id, 37);
        rc = open_with(t, sr, pk, id);
    }
    return rc;
}

/* Does a config of a later format than 2, under the MAC of the keys, name
 * the key? Then a format 2 one (which has no MAC) is never taken: bkp only
 * ever raises the format, and one stripped from ours would open before the
 * packs that show its chunk-ID function wrong are fetched. */
static bool config_with_mac(const bkp_bucket_trust *t, const fetched *configs)
{
    for (size_t i = 0; i < configs->n; i++) {
        bkp_config cfg;
        if (!bkp_config_parse(configs->b[i], configs->len[i], &cfg, NULL) && cfg.version >= 3 &&
            !memcmp(cfg.sign_pk, t->pk, 32) && !strcmp(cfg.id, t->id) &&
            !bkp_config_check(&cfg, configs->b[i], configs->len[i], t->keys))
            return true;
    }
    return false;
}

static void said(const bkp_bucket_trust *t, const char *medium)
{
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(t->pk, fp);
    if (t->pinned) /* the person gave the key: only a copy under it was taken */
        bkp_info(t->by_label ? _("%s: the copy in the bucket is repository %s, under the key you "
                                 "gave (%s), named by its signed label")
                             : _("%s: the copy in the bucket is repository %s, under the key you "
                                 "gave (%s), named by its config"),
                 medium, t->id, fp);
    else
        bkp_info(t->by_label
                     ? _("%s: the copy in the bucket is repository %s, key %s, named by its "
                         "signed label; compare the key with the fingerprint on the key sheet "
                         "or the printed procedure")
                     : _("%s: the copy in the bucket is repository %s, key %s, named by its "
                         "config; compare the key with the fingerprint on the key sheet or "
                         "the printed procedure"),
                 medium, t->id, fp);
    if (!t->by_label)
        bkp_warn(_("%s: no label in the bucket is signed by the repository's key (an earlier bkp "
                   "labelled it, or labels were put in front of it); the next `bkp rotate %s` "
                   "signs it and puts it in front"),
                 medium, medium);
}

static int find(bkp_s3 *s, const char *medium, bkp_bucket_trust *t, search *sr)
{
    uint8_t seen[2 * BKP_BUCKET_TRIES][32 + 37];
    size_t named = 0;
    int rc = fetch_versions(s, BKP_BUCKET_REPO "config", BKP_CONFIG_MAX, &sr->configs);
    if (!rc && !t->like)
        rc = fetch_versions(s, LABEL_KEY, BKP_LABEL_MAX, &sr->labels);
    if (!rc && t->like) {
        memcpy(t->pk, bkp_repo_sign_pk(t->like), 32);
        snprintf(t->id, sizeof(t->id), "%s", bkp_repo_uuid(t->like));
        t->keys = bkp_repo_keys(t->like);
        t->by_label = true;
    } else if (!rc) {
        if (t->pass)
            rc = fetch_versions(s, BKP_BUCKET_REPO "keys/key", bkp_copy_member_max("keys/key"),
                                &sr->keyfiles);
        if (!rc)
            rc = try_named(t, sr, &sr->labels, true, seen, &named);
        t->by_label = !rc;
        /* No signed label of ours among the newest (an earlier bkp labelled
         * the bucket, or labels were put in front): the configs name it. */
        if (rc == -EKEYREJECTED)
            rc = try_named(t, sr, &sr->configs, false, seen, &named);
    }
    if (rc == -EKEYREJECTED && t->pinned && !named) {
        char fp[BKP_FINGERPRINT_LEN];
        bkp_pubkey_fingerprint(t->pin, fp);
        bkp_error(_("%s: nothing among the bucket's newest labels and configs names the key you "
                    "gave (%s): check it against the key sheet; else this is not that "
                    "repository's copy, or ours was hidden behind more versions put in front"),
                  medium, fp);
        return -EKEYREVOKED;
    }
    if (rc == -EKEYREJECTED && !named) {
        bkp_error(_("%s: the bucket holds no signed label and no config of a bkp repository: it "
                    "is not a copy bkp wrote, or not the bucket the policy meant"),
                  medium);
        return -ENOENT;
    }
    if (rc == -EKEYREJECTED)
        /* A slip first: that is what it nearly always is. */
        bkp_error(t->master ? _("%s: these key sheets do not open this bucket's copy: they are "
                                "another repository's sheets, or a line was mistyped. Take the "
                                "sheets of this repository (its name is on them), or open with "
                                "the passphrase. (Were the sheets surely right, what the bucket "
                                "holds was replaced.)")
                            : _("%s: wrong passphrase: it does not open this bucket's copy. Type "
                                "it again, or open with the key sheet from the safe: --key-from "
                                "SHEET. (Were it surely right, what the bucket holds was "
                                "replaced.)"),
                  medium);
    if (rc)
        return rc;
    memcpy(t->rid, bkp_keys_repo_id(t->keys), 16);
    t->config_mac = config_with_mac(t, &sr->configs);
    if (!t->like)
        said(t, medium);
    return 0;
}

int bkp_bucket_trust_find(bkp_s3 *s, const char *medium, bkp_bucket_trust *t)
{
    if (!t->like && !t->master && !t->pass)
        return -EINVAL;
    search *sr = calloc(1, sizeof(*sr));
    int rc = sr ? find(s, medium ? medium : "bucket", t, sr) : -ENOMEM;
    for (size_t i = 0; sr && i < BKP_BUCKET_TRIES; i++)
        bkp_keys_free(sr->opened[i]);
    if (sr) {
        fetched_free(&sr->labels);
        fetched_free(&sr->configs);
        fetched_free(&sr->keyfiles);
    }
    free(sr);
    return rc;
}

void bkp_bucket_trust_clear(bkp_bucket_trust *t)
{
    bkp_keys_free(t->own);
    free(t->key_file);
    t->own = NULL;
    t->keys = NULL;
    t->key_file = NULL;
    t->key_len = 0;
}
