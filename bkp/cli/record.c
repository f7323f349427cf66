/*
 * record.c — where what the program did is recorded: a writer's records in
 * its repository's audit log; a reader's in the primary's log, or where no
 * primary is open a journal beside what the command writes, never on the
 * medium read (audit.h); and the context of every command (locks taken
 * over, the policy's digest), after its handler.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/key_slots.h"
#include "bkp/ops/audit_context.h"
#include "bkp/store/generation.h"

int cli_audit(cli *c, const bkp_audit_rec *rec)
{
    /* Opened with the public key alone, nothing is recorded (audit.h,
     * cli_record): the auditor's check is theirs to keep, not the host's. */
    if (!c->ro)
        return 0;
    /* A writer records through its writable handle; a command that only
     * reads, where its reads are recorded (cli_record). */
    if (c->r)
        return bkp_audit_append(c->r, rec) ? EXIT_FAILED : 0;
    return cli_record(c, c->ro, false, rec);
}

/* Is the folder `dir` on the medium whose copy is `r`: the medium's folder
 * (the one holding the copy's folder and its label) or below it? */
static bool on_medium(const char *dir, const bkp_repo *r)
{
    char *d = realpath(dir, NULL), *top = strdup(bkp_repo_path(r)), *slash;
    bool on = false;
    if (d && top && (slash = strrchr(top, '/'))) {
        *slash = '\0'; /* the medium's folder: REPO/.. */
        size_t n = strlen(top);
        on = !n || (!strncmp(d, top, n) && (d[n] == '\0' || d[n] == '/'));
    }
    free(d);
    free(top);
    return on;
}

/* The journal of a read where no primary is open: beside what the command
 * writes (c->journal_near: a restore's target; in it with c->journal_in),
 * else in the current folder; never on the medium read (unless `staged`:
 * then `r` is in a folder of ours): then in $HOME. One per repository
 * (malloc'd); NULL (said) when there is no such place. */
static char *journal_path(const cli *c, const bkp_repo *r, bool staged)
{
    const char *near = c->journal_near, *slash = near ? strrchr(near, '/') : NULL;
    char *dir = !near || c->journal_in ? strdup(near ? near : ".")
                : !slash               ? strdup(".")
                                       : strndup(near, slash == near ? 1 : (size_t)(slash - near));
    const char *home = getenv("HOME");
    /* A restore makes its target's folders itself: the journal's folder may
     * not be there yet when the key's use is recorded, before the restore. */
    if (dir && near && bkp_mkdir_p(dir, 0700))
        bkp_debug("cannot make %s for the journal", dir);
    char *real = dir ? realpath(dir, NULL) : NULL; /* said as a full path */
    if (real) {
        free(dir);
        dir = real;
    }
    if (dir && !staged && on_medium(dir, r)) {
        free(dir);
        dir = home && *home == '/' && !on_medium(home, r) ? strdup(home) : NULL;
        if (!dir)
            bkp_warn(_("the journal of this read would go onto the medium read: run the command "
                       "from a folder on another disk"));
    }
    char *p = NULL;
    if (dir && asprintf(&p, "%s/" BKP_AUDIT_JOURNAL_NAME, dir, bkp_repo_uuid(r)) < 0)
        p = NULL;
    free(dir);
    return p;
}

/* The primary repository named here (--repo, the policy, $BKP_REPO) when it
 * is not `source` itself and opens with its keys, read-only: the log the
 * records of a copy's reads go to. NULL when there is none. */
bkp_repo *cli_primary_of(cli *c, const bkp_repo *source)
{
    struct stat st;
    bkp_repo *primary = NULL;
    char *mount = NULL;
    const char *path =
        c->repo || cli_policy_named(c) || getenv("BKP_REPO") ? cli_repo_path(c) : NULL;
    char *want = path ? realpath(path, NULL) : NULL;
    bool is_source = want && !strcmp(want, bkp_repo_path(source));
    free(want);
    /* Never a backup disk's copy named as the primary: nothing is written
     * on a medium but by its rotation. */
    bool copy = path && cli_repo_on_medium(path, &mount);
    free(mount);
    if (path && !is_source && !copy && stat(path, &st) == 0 &&
        bkp_repo_open_primary_of(path, source, &primary) == 0)
        return primary;
    return NULL;
}

/* The journal this command's records went to, said once at its end, and
 * whether a primary was named at all (a kit run on a backup server still
 * standing names none, and its primary is there). */
static char journal_used[4096];
static bool primary_named;

void cli_record_end(void)
{
    if (journal_used[0] && primary_named)
        bkp_note(_("the primary repository of the copy read is not here (none, or another "
                   "repository), and nothing is written to the copy: what is done is recorded "
                   "in %s; keep it with the papers of this day"),
                 journal_used);
    else if (journal_used[0])
        bkp_note(_("no primary repository was named (--repo, or --policy with its policy), and "
                   "nothing is written to the copy: what is done is recorded in %s; keep it "
                   "with the papers of this day (on a backup server still standing, name its "
                   "repository with --repo to record it in its audit log instead)"),
                 journal_used);
    journal_used[0] = '\0';
}

/* Was the copy `source` opened with a key slot that `primary` no longer has
 * as it was: a passphrase changed or removed since the copy's rotation? */
static bool opened_retired(const bkp_repo *source, const bkp_repo *primary)
{
    bkp_key_slots *s = calloc(1, sizeof(*s));
    bool retired =
        s && !bkp_repo_key_slots(primary, s) && bkp_repo_key_slot_in(source, s) == -ESTALE;
    free(s);
    return retired;
}

/* Append `rec` to the primary's log; a copy opened with a retired
 * passphrase marks it so (figure key_retired), said once: what a person
 * who left does with a disk must not read as anyone's read. */
static int record_in_primary(bkp_repo *primary, const bkp_repo *source, const bkp_audit_rec *rec)
{
    static bool said;
    bkp_audit_rec marked = *rec;
    json_t *fig = NULL;
    if (opened_retired(source, primary)) {
        fig = rec->figures ? json_deep_copy(rec->figures) : json_object();
        if (!fig || json_object_set_new(fig, "key_retired", json_true())) {
            json_decref(fig);
            return -ENOMEM;
        }
        marked.figures = fig;
        if (!said)
            bkp_warn(
                _("the copy read was opened with a passphrase that the repository %s no longer "
                  "has (changed or removed since the copy was written): what is done is "
                  "recorded there, marked so"),
                bkp_repo_path(primary));
        said = true;
    }
    int rc = bkp_audit_append_ro(primary, &marked);
    json_decref(fig);
    return rc;
}

int cli_record(cli *c, const bkp_repo *source, bool staged, const bkp_audit_rec *rec)
{
    if (!source || bkp_repo_is_public(source))
        return 0;
    char *medium = staged ? NULL : bkp_gen_copy_medium(source), *journal = NULL;
    bkp_repo *primary = NULL;
    int rc = -EROFS; /* no log to take it */
    if (!staged && !medium)
        rc = bkp_audit_append_ro(source, rec); /* the source is a primary: its own log */
    else if ((primary = cli_primary_of(c, source)))
        /* Opened read-only for this record alone: the audit append is the
         * one write such a handle makes (audit.h). */
        rc = record_in_primary(primary, source, rec);
    /* Never dropped unsaid: no primary, or one that cannot take a line at
     * all (read-only, or refused as a copy): the journal, on paper the
     * person keeps, signed as the log's records are. A full primary counts
     * what it missed itself (audit.h). */
    if (rc == -EROFS) {
        journal = journal_path(c, source, staged);
        rc = journal ? bkp_audit_journal(source, journal, rec) : -ENOSPC;
        if (!rc) { /* said at the end: after what the command itself says */
            snprintf(journal_used, sizeof(journal_used), "%s", journal);
            primary_named = c->repo || cli_policy_named(c) || getenv("BKP_REPO");
        } else if (!journal) {
            bkp_warn(_("this %s is not recorded anywhere: write down what was done"), rec->op);
        }
    }
    bool said_there = bkp_audit_fault(rc) || journal || rc == -ENOSPC;
    bkp_repo_free(primary);
    free(medium);
    free(journal);
    return rc && !said_there ? EXIT_FAILED : 0;
}

/* The context's records, where this command's own go (cli_audit). */
static int context_append(void *ctx, const bkp_audit_rec *rec)
{
    return cli_audit(ctx, rec);
}

void cli_audit_context(cli *c)
{
    ops_audit_context(c->ro, c->policy ? c->policy->file : NULL, context_append, c);
}
