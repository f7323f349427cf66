/*
 * Fuzz target: one line of the audit log as `audit verify` checks it
 * (bkp_audit_check_line). The input is checked as it is, then re-signed
 * with a fixed key in its canonical form, so that the checks behind the
 * signature (sequence, chain, canonical form) are reached too. Its
 * figures are then read as a drill's (rb_drill_figures_read), a
 * rotation's (ops_rotation_*) and a backup's are (ops_backup_*), and
 * searched for a report
 * (bkp_audit_names_report).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/ops/backup_record.h"
#include "bkp/ops/rotate_record.h"
#include "restore/drill_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t seed[32] = {1}, pk[32], sk[64], sig[64], prev[32] = {0};
    char sighex[129];
    if (sodium_init() < 0)
        return 0;
    crypto_sign_seed_keypair(pk, sk, seed);
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    (void)bkp_audit_check_line(line, 1, NULL, pk);
    (void)bkp_audit_check_line(line, 2, prev, pk);
    free(line);

    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_object(j)) {
        json_object_del(j, "sig");
        char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (text) {
            crypto_sign_detached(sig, NULL, (const uint8_t *)text, strlen(text), sk);
            bkp_hex(sighex, sig, 64);
            json_object_set_new(j, "sig", json_string(sighex));
            char *signed_line = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
            json_int_t seq = json_integer_value(json_object_get(j, "seq"));
            if (signed_line) {
                (void)bkp_audit_check_line(signed_line, (uint64_t)seq, NULL, pk);
                (void)bkp_audit_check_line(signed_line, (uint64_t)seq, prev, pk);
            }
            free(signed_line);
        }
        free(text);
        bkp_audit_entry e = {.op = "drill", .figures = json_object_get(j, "figures")};
        rb_drill_figures f;
        rb_drill_figures_read(&e, &f);
        (void)bkp_audit_names_report(&e, "00", NULL);
        (void)bkp_audit_names_report(&e, NULL, "drill.ja.md");
        (void)bkp_audit_keeps_sums(&e);
        for (size_t i = 0; ops_rotation_generation(&e, i) && i < 1000; i++)
            ;
        (void)ops_rotation_captured(&e, "ds");
        (void)ops_rotation_refused(&e);
        (void)ops_rotation_lock(&e);
        e.time = 1764000000;
        (void)ops_backup_suspicious(&e);
        (void)ops_backup_schedule(&e);
        (void)ops_backup_began(&e);
        e.op = "prune";
        for (size_t i = 0; bkp_audit_pruned(&e, i) && i < 1000; i++)
            ;
    }
    json_decref(j);
    return 0;
}
