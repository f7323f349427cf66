#include <stdio.h>

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/generation.h"
#include "bkp/log.h"
#include "bkp/verify.h"

int cmd_verify(cli *c)
{
    bkp_repo *r = c->r;
    bkp_verify_result res;
    int rc = bkp_verify(r, c->read_data, c->workers, &res);
    json_t *fig = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "read_data", c->read_data,
                            "generations", (json_int_t)res.generations, "packs_read",
                            (json_int_t)res.packs_read, "blobs_read", (json_int_t)res.blobs_read,
                            "bytes_read", (json_int_t)res.bytes_read, "problems",
                            (json_int_t)res.problems);
    bkp_audit_rec rec = {.op = "verify", .failed = rc != 0, .figures = fig,
                         .error = rc ? (res.nmessages ? res.messages[0] : bkp_strerror(rc)) : NULL};
    int aex = cli_audit(c, &rec);
    json_decref(fig);
    if (aex && rc == 0)
        rc = 1;
    if (rc < 0) {
        bkp_error("verification could not run: %s", bkp_strerror(rc));
        bkp_verify_result_clear(&res);
        return EXIT_FAILED;
    }
    if (c->json) {
        json_t *msgs = json_array();
        for (size_t i = 0; i < res.nmessages; i++)
            json_array_append_new(msgs, bkp_json_bytes(res.messages[i]));
        cli_print_json(json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:o}", "ok", rc == 0,
                                 "read_data", c->read_data, "generations",
                                 (json_int_t)res.generations, "packs_read",
                                 (json_int_t)res.packs_read, "blobs_read",
                                 (json_int_t)res.blobs_read, "bytes_read",
                                 (json_int_t)res.bytes_read, "problems",
                                 (json_int_t)res.problems, "messages", msgs));
    } else if (rc == 0 && c->tty) {
        char a[32];
        printf("verified %llu generation(s): signatures, chains and objects in place", 
               (unsigned long long)res.generations);
        if (c->read_data)
            printf("; %llu packs (%s, %llu blobs) read back and authenticated",
                   (unsigned long long)res.packs_read, cli_size(a, sizeof(a), res.bytes_read),
                   (unsigned long long)res.blobs_read);
        printf("\n");
    }
    if (rc)
        bkp_error("%llu problem(s) found; see above. Restore affected files from another medium "
                  "or an older generation",
                  (unsigned long long)res.problems);
    bkp_verify_result_clear(&res);
    return rc ? EXIT_FAILED : EXIT_OK;
}
