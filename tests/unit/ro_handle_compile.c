/*
 * Compiled by tests/support/ro-handle-check.sh, never linked: a read-only
 * repository handle (`const bkp_repo *`, repo.h) reads but cannot write.
 *
 * Built as it is, it reads through the read handle the way a restore does
 * and must compile with every warning an error. Built with -DRO_HANDLE_WRITE
 * it tries a write through the same handle, which must not compile: passing
 * a `const bkp_repo *` where `bkp_repo *` is wanted discards a qualifier.
 * RO_HANDLE_HANDLER is a reading command's handler that writes through the
 * handle the dispatcher gives it, c->ro (bkp/cli/cli.h): it must not
 * compile either.
 */
#include <stddef.h>
#include <stdint.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

int ro_handle_use(const bkp_repo *ro, const uint8_t id[BKP_ID_LEN], bkp_buf *out);

int ro_handle_use(const bkp_repo *ro, const uint8_t id[BKP_ID_LEN], bkp_buf *out)
{
#ifdef RO_HANDLE_WRITE
    uint8_t got[BKP_ID_LEN];
    return bkp_repo_put(ro, BKP_BLOB_DATA, "x", 1, got, NULL);
#elif defined(RO_HANDLE_FLUSH)
    return bkp_repo_flush(ro);
#elif defined(RO_HANDLE_HANDLER)
    (void)ro;
    (void)out;
    (void)id;
    return 0;
#elif defined(RO_HANDLE_AUDIT)
    const bkp_audit_rec rec = {.op = "restore"};
    return bkp_audit_append(ro, &rec);
#else
    uint8_t pack[BKP_ID_LEN];
    if (!bkp_repo_has(ro, id) || bkp_repo_locate(ro, id, pack, NULL) != 0)
        return -1;
    int rc = bkp_repo_get(ro, BKP_BLOB_DATA, id, out);
    /* The one write a read handle may make: its audit record (audit.h). */
    const bkp_audit_rec rec = {.op = "restore"};
    return rc ? rc : bkp_audit_append_ro(ro, &rec);
#endif
}

/* A reading command's handler: it lists through c->ro; with
 * RO_HANDLE_HANDLER it tries to clear a mark through it. */
int ro_handler(cli *c, const bkp_gen *g);

int ro_handler(cli *c, const bkp_gen *g)
{
#ifdef RO_HANDLE_HANDLER
    return bkp_gen_clear(c->ro, g);
#else
    bkp_gen **v = NULL;
    size_t n = 0;
    int rc = bkp_gen_list(c->ro, g->dataset, &v, &n);
    (void)v;
    return rc;
#endif
}
