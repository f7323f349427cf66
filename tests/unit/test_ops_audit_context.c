/*
 * What every command records besides its own record (bkp/ops/audit_context.h):
 * the policy in force, once per change of its bytes, each record naming
 * the previous digest; nothing more while it stays the same; nothing at
 * all without a repository.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/ops/audit_context.h"

#include "ops_repo.h"
#include "audit_json.h"

static const char policy_text[] =
    OPS_POLICY_HEAD "datasets:\n"
                    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00 }\n";

static int setup(void **state)
{
    return ops_repo_setup(state, "ops-audit-context", policy_text);
}

static int count_policy(const bkp_audit_entry *e, void *ctx)
{
    *(int *)ctx += !strcmp(e->op, "policy");
    return 0;
}

static int policies(ops_repo *f)
{
    int n = 0;
    char *log = bkp_audit_path(f->r);
    assert_int_equal(bkp_audit_each(log, count_policy, &n), 0);
    free(log);
    return n;
}

static void write_policy(const char *path, const char *text)
{
    FILE *x = fopen(path, "w");
    assert_non_null(x);
    fputs(text, x);
    assert_int_equal(fclose(x), 0);
}

static void test_policy_once_per_change(void **state)
{
    ops_repo *f = *state;
    char file[160], *log = bkp_audit_path(f->r);
    snprintf(file, sizeof(file), "%s/policy.yaml", f->top);
    write_policy(file, "repository: /srv/bkp\n");
    ops_audit_context(f->r, file, NULL, NULL);
    assert_int_equal(policies(f), 1);
    json_t *first = audit_last_json(log, NULL, &(bkp_audit_query){.op = "policy"});
    json_t *fig = json_object_get(first, "figures");
    assert_string_equal(json_string_value(json_object_get(fig, "file")), file);
    assert_int_equal(strlen(json_string_value(json_object_get(fig, "digest"))), 64);
    assert_true(json_is_null(json_object_get(fig, "previous")));
    ops_audit_context(f->r, file, NULL, NULL); /* the same bytes: nothing new */
    ops_audit_context(f->r, NULL, NULL, NULL);
    assert_int_equal(policies(f), 1);
    write_policy(file, "repository: /srv/bkp2\n");
    ops_audit_context(f->r, file, NULL, NULL);
    assert_int_equal(policies(f), 2);
    json_t *second = audit_last_json(log, NULL, &(bkp_audit_query){.op = "policy"});
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(second, "figures"), "previous")),
        json_string_value(json_object_get(fig, "digest")));
    json_decref(first);
    json_decref(second);
    free(log);
    ops_audit_context(NULL, file, NULL, NULL); /* no repository: nothing, and no crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_policy_once_per_change, setup, ops_repo_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
