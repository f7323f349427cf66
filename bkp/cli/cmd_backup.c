#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bkp/capture.h"
#include "bkp/cli/cli.h"
#include "bkp/generation.h"
#include "bkp/log.h"

static json_t *summary_json(const bkp_gen *g, const bkp_capture *cap, double seconds)
{
    const bkp_capture_stats *s = &cap->stats;
    json_t *errors = json_array();
    for (size_t i = 0; i < cap->nerrors; i++)
        json_array_append_new(errors, json_pack("{s:o, s:o}", "path", bkp_json_bytes(cap->errors[i].path),
                                                "error", bkp_json_bytes(cap->errors[i].message)));
    return json_pack("{s:s, s:i, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "dataset",
                     g->dataset, "seq", (int)g->seq, "uuid", g->uuid, "seconds", seconds, "files",
                     (json_int_t)s->files, "bytes", (json_int_t)s->bytes, "bytes_read",
                     (json_int_t)s->bytes_read, "files_unchanged", (json_int_t)s->files_cached,
                     "bytes_new", (json_int_t)s->bytes_new, "stored_new", (json_int_t)s->stored_new,
                     "errors", errors);
}

int cmd_backup(cli *c)
{
    bkp_repo *r = c->r;
    bkp_capture cap;
    bkp_gen *g = NULL;
    struct timespec t0, t1;
    int ex;

    if (!c->dataset) {
        bkp_error("name the data set: bkp backup --dataset NAME PATH...");
        return EXIT_USAGE;
    }
    if (!bkp_dataset_name_ok(c->dataset)) {
        bkp_error("'%s' is not a valid data set name: use letters, digits, '.', '_' and '-' "
                  "(at most 64, not starting with '.' or '-')",
                  c->dataset);
        return EXIT_USAGE;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    time_t started = time(NULL);
    bkp_capture_opts o = {.dataset = c->dataset, .paths = (const char *const *)c->args,
                          .npaths = (size_t)c->nargs, .workers = c->workers,
                          .one_fs = c->one_fs, .no_cache = c->no_cache};
    int rc = bkp_capture_run(r, &o, &cap);
    if (rc) {
        bkp_error("the backup of %s failed (%s); nothing was sealed, earlier generations are "
                  "untouched. Fix the cause and run it again",
                  c->dataset, bkp_strerror(rc));
        bkp_capture_clear(&cap);
        return EXIT_FAILED;
    }
    rc = bkp_gen_seal(r, c->dataset, &cap, started, time(NULL), &g);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc) {
        ex = EXIT_FAILED;
        goto out;
    }
    const bkp_capture_stats *s = &cap.stats;
    if (c->json) {
        cli_print_json(summary_json(g, &cap, secs));
    } else if (c->tty || bkp_log_get_level() >= BKP_LOG_INFO) {
        char a[32], b[32], d[32], e[32];
        printf("sealed %s:%u (%.8s) in %.1f s\n"
               "  %llu files, %s; %llu unchanged and not read; %s read\n"
               "  new data: %s (stored as %s)\n",
               g->dataset, g->seq, g->uuid, secs, (unsigned long long)s->files,
               cli_size(a, sizeof(a), s->bytes), (unsigned long long)s->files_cached,
               cli_size(b, sizeof(b), s->bytes_read), cli_size(d, sizeof(d), s->bytes_new),
               cli_size(e, sizeof(e), s->stored_new));
    }
    ex = EXIT_OK;
    if (cap.nerrors) {
        bkp_error("%zu path(s) could not be read and are not in %s:%u (listed above and in the "
                  "generation); fix their permissions and run the backup again",
                  cap.nerrors, g->dataset, g->seq);
        ex = EXIT_FAILED;
    }
out:
    bkp_gen_free(g);
    bkp_capture_clear(&cap);
    return ex;
}
