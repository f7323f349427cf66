/* runbook_doc.c — printable procedures and drill reports (runbook_doc.h). */
#include "restore/runbook_doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/text.h"
#include "policies/policy.h"
#include "restore/drill_report.h"
#include "restore/procedure.h"

/* ---- the printable procedure ---- */

static char *dup_or(const char *s, const char *none)
{
    return strdup(s ? s : none);
}

static void copy_clear(rb_copy *x)
{
    free(x->medium);
    free(x->type);
    free(x->location);
    free(x->generation);
    free(x->captured);
    free(x->path);
}

int rb_copies_add(rb_copies *c, const rb_copy *row)
{
    if (bkp_grow(&c->v, &c->cap, c->n, sizeof(*c->v), 8))
        return -ENOMEM;
    rb_copy *x = &c->v[c->n];
    *x = (rb_copy){.offline = row->offline, .archive = row->archive};
    memcpy(x->kit, row->kit, sizeof(x->kit));
    x->kit[sizeof(x->kit) - 1] = '\0';
    x->medium = dup_or(row->medium, "-");
    x->type = dup_or(row->type, "-");
    x->location = dup_or(row->location, "-");
    x->generation = dup_or(row->generation, "-");
    x->captured = dup_or(row->captured, "-");
    x->path = row->path ? strdup(row->path) : NULL;
    if (!x->medium || !x->type || !x->location || !x->generation || !x->captured ||
        (row->path && !x->path)) {
        copy_clear(x); /* a row whole or none */
        return -ENOMEM;
    }
    c->n++;
    return 0;
}

void rb_folders_clear(rb_folders *f)
{
    free(f->v);
    free(f->recovery);
    free(f->buckets);
    *f = (rb_folders){0};
}

void rb_copies_free(rb_copies *c)
{
    for (size_t i = 0; i < c->n; i++)
        copy_clear(&c->v[i]);
    free(c->v);
    *c = (rb_copies){0};
}

/* The folder of data set `ds` when it is one folder, or NULL. */
static const char *folder_of(const rb_folders *f, const char *ds)
{
    for (size_t i = 0; f && i < f->n; i++)
        if (!strcmp(f->v[i].dataset, ds))
            return f->v[i].folder;
    return NULL;
}

/* The newest generation of `ds` among `copies` ("ds:SEQ"), or NULL. */
static const char *newest_of(const rb_copies *copies, const char *ds)
{
    const char *best = NULL;
    long long bseq = -1;
    size_t l = strlen(ds);
    for (size_t i = 0; copies && i < copies->n; i++) {
        const char *g = copies->v[i].generation;
        if (!strncmp(g, ds, l) && g[l] == ':' && atoll(g + l + 1) > bseq) {
            bseq = atoll(g + l + 1);
            best = g;
        }
    }
    return best;
}

/* The folder of the first restore step of `rb`, or NULL. */
static const char *restore_target(const rb_runbook *rb)
{
    for (size_t i = 0; i < rb->nsteps; i++)
        if (rb->steps[i].action == RB_RESTORE)
            return rb->steps[i].restore.to;
    return NULL;
}

/* Do the restore steps of `rb` write to more than one folder? The engine's
 * $BKP_TARGET is then the last restore's (procedure.c), and each restore's
 * line on paper sets it as it goes. */
static bool targets_differ(const rb_runbook *rb)
{
    const char *first = restore_target(rb);
    for (size_t i = 0; first && i < rb->nsteps; i++)
        if (rb->steps[i].action == RB_RESTORE && strcmp(rb->steps[i].restore.to, first))
            return true;
    return false;
}

/* A run or check step as a person types it: its command as bkp runs it —
 * by `sh -c`, with the values its `env:` adds, as its user — so that the
 * paper's line does what the drill did: `runuser -u USER -- env NAME=value
 * sh -c 'COMMAND'`. Always in a shell of its own: an `exit`, `set -e`, a
 * comment or a here-document in it then act as in the drill, never on the
 * shell of the person typing it. Then how it ended as the drill judges it,
 * by its exit status: a check says whether it passed (many print nothing
 * when they do), a run step only when it failed, where the drill stops;
 * a line that failed still fails (`{ echo …; false; }`), so that the paper
 * pasted into a script stops there too. */
static void command_how(const rb_runbook *rb, const rb_step *st, char *buf, size_t n)
{
    const char *user = rb_step_user(rb, st), *text = st->text ? st->text : "";
    const char *passed = _("check passed"), *failed = _("CHECK FAILED"),
               *stop = _("STEP FAILED: do not go on; read its message above");
    bool check = st->action == RB_CHECK;
    size_t longest =
        strlen(text) + (user ? strlen(user) : 0) + strlen(passed) + strlen(failed) + strlen(stop);
    for (size_t i = 0; i < st->nenv; i++)
        longest += strlen(st->env[i]);
    size_t cap = 4 * longest + 16; /* each quote a word holds takes 4 */
    char *w = malloc(cap);
    buf[0] = '\0';
    if (!w) {
        snprintf(buf, n, "%s", text);
        return;
    }
    if (user)
        bkp_strappend(buf, n, "runuser -u %s -- ", bkp_shell_word(w, cap, user));
    if (st->nenv) /* `--`: whatever the runbook holds, never an option of env */
        bkp_strappend(buf, n, "env -- ");
    for (size_t i = 0; i < st->nenv; i++)
        bkp_strappend(buf, n, "%s ", bkp_shell_word(w, cap, st->env[i]));
    bkp_strappend(buf, n, "sh -c %s", bkp_shell_word(w, cap, text));
    if (check)
        bkp_strappend(buf, n, " && echo %s", bkp_shell_word(w, cap, passed));
    bkp_strappend(buf, n, " || { echo %s; false; }", bkp_shell_word(w, cap, check ? failed : stop));
    free(w);
    if (strlen(buf) + 8 >= n) /* never a command cut short on paper */
        snprintf(buf, n, "%s",
                 _("(too long for this page: type the command of this step in the "
                   "runbook file as sh -c '…', with its env: and as its run_as: user)"));
}

/* How step `st` is done from the medium `on` on a machine that has never
 * seen bkp: the medium's own kit and its copy, or a bucket through the
 * policy the paper gives; the key typed from paper. */
static void on_medium_how(const rb_runbook *rb, const rb_step *st, const rb_on_medium *on,
                          const rb_copies *copies, const rb_folders *folders, char *buf, size_t n)
{
    const char *ds = st->select.dataset    ? st->select.dataset
                     : st->restore.dataset ? st->restore.dataset
                     : rb->ndatasets       ? rb->datasets[0]
                                           : "?";
    const char *gen = newest_of(copies, ds);
    /* A repository copy at a path is listed and verified whole; archives
     * and a bucket are authenticated as they are restored. */
    bool whole = !on->archive && !on->bucket;
    char seq[128], path[1100], kit[2300] = "bkp", from[2400], repo[2300], to[2300],
                               extra[2400] = "";
    snprintf(seq, sizeof(seq), "%s", gen ? gen : ds);
    if (!gen)
        snprintf(seq, sizeof(seq), "%s:SEQ", ds);
    if (on->bucket) {
        snprintf(from, sizeof(from), "%s --policy recovery.yaml", on->name);
    } else {
        snprintf(path, sizeof(path), "%s/bkp-recovery/bkp", on->mount);
        bkp_shell_word(kit, sizeof(kit), path);
        bkp_shell_word(from, sizeof(from), on->mount);
        snprintf(path, sizeof(path), "%s/repo", on->mount);
        bkp_shell_word(repo, sizeof(repo), path);
    }
    switch (st->action) {
    case RB_SELECT:
        if (!gen)
            snprintf(buf, n, _("this medium holds no generation of %s: take another medium"), ds);
        else if (on->bucket) /* its signed records alone: nothing else is fetched */
            snprintf(buf, n,
                     _("%s, the newest generation of %s this medium holds (table above). List "
                       "them: %s generations %s --from %s"),
                     gen, ds, kit, ds, from);
        else if (!whole)
            snprintf(buf, n, _("%s, the newest generation of %s this medium holds (table above)"),
                     gen, ds);
        else
            snprintf(buf, n,
                     _("%s, the newest generation of %s this medium holds (table above). List "
                       "them: %s generations --repo %s"),
                     gen, ds, kit, repo);
        break;
    case RB_VERIFY:
        if (!whole)
            snprintf(buf, n, "%s",
                     _("every file is authenticated as it is restored (the restore step, with "
                       "--verify)"));
        else
            snprintf(buf, n, "%s verify --read-data --repo %s", kit, repo);
        break;
    case RB_RESTORE: {
        const char *folder = st->restore.path ? NULL : folder_of(folders, ds);
        char w[2300];
        if (st->restore.path)
            snprintf(extra, sizeof(extra), " --path %s",
                     bkp_shell_word(w, sizeof(w), st->restore.path));
        else if (folder)
            snprintf(extra, sizeof(extra), " --folder %s", bkp_shell_word(w, sizeof(w), folder));
        bkp_shell_word(to, sizeof(to), st->restore.to);
        /* The folder named first: a restore that ends in error (some files
         * damaged, the rest restored) still leaves the steps after it the
         * folder of this data set, not of the one before. */
        if (targets_differ(rb))
            snprintf(buf, n, "export BKP_TARGET=%s; ", to);
        else
            buf[0] = '\0';
        bkp_strappend(buf, n, "%s restore %s %s%s --from %s --verify", kit, seq, to, extra, from);
        break;
    }
    case RB_RUN:
    case RB_CHECK:
        command_how(rb, st, buf, n);
        break;
    default:
        snprintf(buf, n, "%s", st->text ? st->text : "");
        break;
    }
}

/* How a person does step `st` by hand: what to read, what to type. */
static void how(const rb_runbook *rb, const rb_step *st, const char *first_medium,
                const rb_folders *folders, const rb_on_medium *on, const rb_copies *copies,
                char *buf, size_t n)
{
    if (on) {
        on_medium_how(rb, st, on, copies, folders, buf, n);
        return;
    }
    /* Whether the select before this step lets a failed verification fall back. */
    bool fallback = false;
    for (const rb_step *p = rb->steps; p < st; p++)
        if (p->action == RB_SELECT)
            fallback = p->select.fallback;
    const char *ds = st->select.dataset    ? st->select.dataset
                     : st->restore.dataset ? st->restore.dataset
                     : rb->ndatasets       ? rb->datasets[0]
                                           : "?";
    char list[256];
    switch (st->action) {
    case RB_CONFIRM:
        snprintf(buf, n, "%s", st->text);
        break;
    case RB_SELECT:
        /* One whole sentence for each choice: the languages put the conditions
         * in different places. Listed where the restore reads. */
        snprintf(list, sizeof(list), "%s%s%s", ds, first_medium ? " --from " : "",
                 first_medium ? first_medium : "");
        if (st->select.verified && st->select.not_suspicious)
            snprintf(buf, n,
                     _("the newest generation of %s that verifies, not suspicious. List them: bkp "
                       "generations %s"),
                     ds, list);
        else if (st->select.verified)
            snprintf(buf, n,
                     _("the newest generation of %s that verifies. List them: bkp generations %s"),
                     ds, list);
        else if (st->select.not_suspicious)
            snprintf(
                buf, n,
                _("the newest generation of %s, not suspicious. List them: bkp generations %s"), ds,
                list);
        else
            snprintf(buf, n, _("the newest generation of %s. List them: bkp generations %s"), ds,
                     list);
        break;
    case RB_VERIFY: {
        const char *m = st->medium ? st->medium : first_medium;
        snprintf(buf, n, "bkp verify --read-data%s%s%s", m ? " --media " : "", m ? m : "",
                 fallback ? _(" (if it fails, take the next older generation)") : "");
        break;
    }
    case RB_RESTORE: {
        /* Quoted for a shell, as the rows of a new machine are. */
        const char *folder = st->restore.path ? NULL : folder_of(folders, ds);
        char to[2300], w[2300];
        bkp_shell_word(to, sizeof(to), st->restore.to);
        /* The folder named first, as on a medium's paper (above). */
        if (targets_differ(rb))
            snprintf(buf, n, "export BKP_TARGET=%s; ", to);
        else
            buf[0] = '\0';
        bkp_strappend(
            buf, n, "bkp restore %s:SEQ %s%s%s%s%s%s%s", ds, to, st->restore.path ? " --path " : "",
            st->restore.path ? bkp_shell_word(w, sizeof(w), st->restore.path) : "",
            folder ? " --folder " : "", folder ? bkp_shell_word(w, sizeof(w), folder) : "",
            first_medium ? " --from " : "", first_medium ? first_medium : "");
        break;
    }
    case RB_RUN:
    case RB_CHECK:
        command_how(rb, st, buf, n);
        break;
    case RB_NOTE:
        snprintf(buf, n, "%s", st->text);
        break;
    }
}

/* The recovery kit's fingerprint on each medium that has one: on paper,
 * away from the disk, what the person compares `sha256sum SHA256SUMS`
 * with before running the kit (in four groups of 16, for the eye). */
static void kits_table(rb_doc *d, const rb_copies *copies)
{
    size_t shown = 0;
    for (size_t i = 0; copies && i < copies->n; i++) {
        const rb_copy *c = &copies->v[i];
        const char *kit = c->kit;
        char grouped[80];
        bool seen = false; /* one row a medium */
        for (size_t k = 0; k < i; k++)
            seen |= copies->v[k].kit[0] && !strcmp(copies->v[k].medium, c->medium);
        if (strlen(kit) != 64 || seen)
            continue;
        snprintf(grouped, sizeof(grouped), "%.16s %.16s %.16s %.16s", kit, kit + 16, kit + 32,
                 kit + 48);
        if (!shown++) {
            rb_doc_h2(d, _("The recovery kit's fingerprint"));
            rb_doc_para(d, "%s",
                        _("Before running the kit on a medium (bkp-recovery/), type `sha256sum "
                          "SHA256SUMS` in that folder and compare what it prints with this line, "
                          "then `sha256sum -c SHA256SUMS`, which must say OK for every file; do "
                          "not use the kit if anything differs."));
            rb_doc_table(d, (const char *[]){_("Medium"), _("SHA-256 of SHA256SUMS"), NULL});
        }
        rb_doc_row(d, (const char *[]){c->medium, grouped, NULL});
    }
    if (shown)
        rb_doc_table_end(d);
}

/* Where usable copies are today: one row per medium and generation. */
static void copies_table(rb_doc *d, const rb_copies *copies, bool on_medium)
{
    rb_doc_h2(d, on_medium ? _("What this medium holds") : _("Where usable copies are today"));
    if (copies && copies->n) {
        rb_doc_table(d, (const char *[]){_("Medium"), _("Type"), _("Where"), _("Generation"),
                                         _("Captured"), NULL});
        for (size_t i = 0; i < copies->n; i++) {
            const rb_copy *c = &copies->v[i];
            pol_medium_type kind;
            /* The kind and the place in the reader's words, as the status
             * and the media list say them. */
            const char *type = c->type && !pol_medium_type_named(c->type, &kind)
                                   ? pol_medium_type_words(kind)
                                   : c->type;
            const char *where =
                !strcmp(c->location, "-")
                    ? "-"
                    : pol_medium_place_words(!strcmp(c->location, "offsite"), c->offline);
            rb_doc_row(d, (const char *[]){rb_source_words(c->medium), type, where, c->generation,
                                           c->captured, NULL});
        }
        rb_doc_table_end(d);
    } else {
        rb_doc_para(d, "%s",
                    on_medium ? _("This medium holds no generation of these data sets.")
                              : _("No copy is known: check `bkp media list` and `bkp status`."));
    }
    if (!on_medium) /* a kit's fingerprint is compared with paper, never with the medium */
        kits_table(d, copies);
}

/* Is `c` a copy in a bucket? */
static bool in_bucket(const rb_copy *c)
{
    pol_medium_type kind;
    return c->type && !pol_medium_type_named(c->type, &kind) && !pol_type_at_path(kind);
}

/* Is `c` in a bucket that the paper's policy (rb_folders.recovery) reaches?
 * One the registry still knows but the policy no longer names is not. */
static bool reached(const rb_copy *c, const rb_folders *folders)
{
    for (size_t i = 0; in_bucket(c) && folders && folders->recovery && i < folders->nbuckets; i++)
        if (!strcmp(folders->buckets[i], c->medium))
            return true;
    return false;
}

/* Whether the procedure has a section for the day this server is gone: a
 * medium at a path, with its kit, or a bucket the policy reaches. */
static bool lost_section(const rb_copies *copies, const rb_folders *folders)
{
    for (size_t i = 0; copies && i < copies->n; i++)
        if ((copies->v[i].path && copies->v[i].kit[0]) || reached(&copies->v[i], folders))
            return true;
    return false;
}

/* The rows of medium `on` for the steps that read a copy: how each is done
 * on a new machine, from the generations `copies` say it holds. */
static void medium_rows(rb_doc *d, const rb_runbook *rb, const rb_on_medium *on,
                        const rb_copies *copies, const rb_folders *folders)
{
    rb_copies mine = {0};
    for (size_t k = 0; k < copies->n; k++)
        if (!strcmp(copies->v[k].medium, on->name) && rb_copies_add(&mine, &copies->v[k]))
            break;
    for (size_t k = 0; k < rb->nsteps; k++) {
        const rb_step *st = &rb->steps[k];
        char num[24], h[16384];
        if (st->action != RB_SELECT && st->action != RB_VERIFY && st->action != RB_RESTORE)
            continue;
        snprintf(num, sizeof(num), "%zu", k + 1);
        on_medium_how(rb, st, on, &mine, folders, h, sizeof(h));
        rb_doc_row(d, (const char *[]){on->name, num, h, NULL});
    }
    rb_copies_free(&mine);
}

/* On paper, for the day this server and its policy are gone: a bucket is
 * reached through a policy that names it, which a new machine writes from
 * this page (its keys are the credentials file kept in the safe). */
static void new_machine_bucket(rb_doc *d, const rb_runbook *rb, const rb_copies *copies,
                               const rb_folders *folders)
{
    bool shown = false;
    for (size_t i = 0; copies && i < copies->n; i++) {
        const rb_copy *c = &copies->v[i];
        bool seen = false; /* one set of rows a bucket */
        for (size_t k = 0; k < i; k++)
            seen |= !strcmp(copies->v[k].medium, c->medium);
        if (!reached(c, folders) || seen)
            continue;
        if (!shown) {
            shown = true;
            rb_doc_para(
                d, "%s",
                _("From a bucket, on a new machine: install bkp (its Debian package), put the "
                  "bucket's keys (the credentials file kept in the safe) where the policy below "
                  "names them, mode 0600 (`chmod 600 FILE`), write the policy below as "
                  "recovery.yaml in the folder you work in, and type the commands of the table. "
                  "Each asks for the repository's passphrase (the sealed envelope); with the key "
                  "sheet from the safe instead, add `--key-from KEY` (KEY: a file with the "
                  "sheet's text, or `-` to type it). The generation named is the newest when "
                  "this was printed: after an attack it may already hold encrypted files. List "
                  "them first (the `generations` command of the table), look inside one with "
                  "`bkp ls GENERATION --from MEDIUM --policy recovery.yaml`, and restore the "
                  "last one from before the attack by its number."));
            rb_doc_para(d, "%s",
                        _("The packs a command needs are fetched into $TMPDIR (/var/tmp when it "
                          "is not set) and removed afterwards: it needs room for the data "
                          "restored. Where /var/tmp is small, first type `export TMPDIR=DIR`, "
                          "DIR on a disk that has the room."));
            rb_doc_code(d, folders->recovery);
            rb_doc_table(d, (const char *[]){_("Medium"), "#", _("How"), NULL});
            rb_doc_commands(d, 2);
        }
        medium_rows(d, rb, &(rb_on_medium){c->medium, NULL, false, true}, copies, folders);
    }
    if (shown)
        rb_doc_table_end(d);
}

/* The first line to type on a new machine: bkp then speaks the paper's
 * language (Japanese needs no locale installed, bkp/io/i18n.h) and shows
 * times in the zone the paper was printed in (a TZ value that needs no
 * zone data). */
static void speak_as_paper(rb_doc *d)
{
    char tz[64];
    bkp_tz_value(tz, sizeof(tz), bkp_now());
    if (bkp_i18n_reader_japanese())
        rb_doc_para(d,
                    _("First type `export LANGUAGE=ja LANG=ja_JP.UTF-8 TZ=%s`: bkp then speaks "
                      "Japanese and shows times as this paper does, on any machine."),
                    tz);
    else
        rb_doc_para(d,
                    _("First type `export TZ=%s`: bkp then shows times as this paper does, on any "
                      "machine."),
                    tz);
}

/* On paper, the commands each medium with a kit carries beside it
 * (rb_print_on_medium), for the day this server and its policy are gone:
 * a new machine has neither, and the steps above name media by the
 * policy's names. The off-line media first: an on-line disk was within
 * reach of what encrypted the server. */
static void new_machine(rb_doc *d, const rb_runbook *rb, const rb_copies *copies,
                        const rb_folders *folders)
{
    bool shown = false;
    for (size_t at = 0; copies && at < 2 * copies->n; at++) {
        const rb_copy *c = &copies->v[at % copies->n];
        size_t i = at % copies->n;
        if (c->offline != (at < copies->n)) /* off-line in the first pass, on-line in the second */
            continue;
        bool seen = false; /* one set of rows a medium: at its first row with a kit */
        for (size_t k = 0; k < i; k++)
            seen |=
                copies->v[k].path && copies->v[k].kit[0] && !strcmp(copies->v[k].medium, c->medium);
        if (!c->path || !c->kit[0] || seen)
            continue;
        if (!shown) {
            shown = true;
            rb_doc_h2(d, _("If this server and its policy are gone"));
            speak_as_paper(d);
            rb_doc_para(
                d, "%s",
                _("On a new machine, without bkp: mount the medium read-only where it was "
                  "mounted here (# 0 in the table below), check its kit against the fingerprint "
                  "above, "
                  "and type the commands below; each asks for the repository's passphrase (the "
                  "sealed envelope). With the key sheet from the safe instead, add "
                  "`--key-from KEY` to each (KEY: a file with the sheet's text, or `-` to "
                  "type it). The generations are those of the day this was printed; the "
                  "procedure on the medium (bkp-recovery/) names what it holds now. After an "
                  "attack the newest may already hold encrypted files: list them (the "
                  "`generations` command), look inside one with `ls`, and restore the last one "
                  "from before the attack by its number."));
            rb_doc_table(d, (const char *[]){_("Medium"), "#", _("How"), NULL});
            rb_doc_commands(d, 2);
        }
        rb_on_medium on = {c->medium, c->path, c->archive, false};
        char mount[2300], first[5000];
        bkp_shell_word(mount, sizeof(mount), c->path);
        snprintf(first, sizeof(first),
                 _("mount it read-only so that %s/bkp-recovery is there; a disk mounted whole: "
                   "mkdir -p %s && mount -o ro DEVICE %s (DEVICE: its partition as lsblk shows "
                   "it, such as /dev/sdb1)"),
                 mount, mount, mount);
        rb_doc_row(d, (const char *[]){c->medium, "0", first, NULL});
        medium_rows(d, rb, &on, copies, folders);
    }
    if (shown)
        rb_doc_table_end(d);
    /* The buckets, under the same heading. */
    bool bucket = false;
    for (size_t i = 0; copies && i < copies->n; i++)
        bucket |= reached(&copies->v[i], folders);
    if (bucket && !shown) {
        rb_doc_h2(d, _("If this server and its policy are gone"));
        speak_as_paper(d);
    }
    if (bucket)
        new_machine_bucket(d, rb, copies, folders);
    /* What the day leaves is the record of what was read: more than one
     * file, in more than one folder. */
    if (shown || bucket)
        rb_doc_para(d, "%s",
                    _("A restore, a verification, and any command given the key sheet record "
                      "what they did in signed journals and say where (`bkp-journal-*.jsonl`: in "
                      "the folder you work in, or your home folder when that folder is on the "
                      "medium; for a restore, beside the folder it restores to); a listing with "
                      "the passphrase records nothing. Keep every journal they name with this "
                      "paper."));
}

/* What a person does first with the medium `on` on a machine that has
 * never seen bkp, before the steps. */
static void on_medium_first(rb_doc *d, const rb_on_medium *on)
{
    rb_doc_h2(d, _("On a machine that has never seen bkp"));
    speak_as_paper(d);
    char mount[2300], kit[2300], path[1100];
    bkp_shell_word(mount, sizeof(mount), on->mount);
    snprintf(path, sizeof(path), "%s/bkp-recovery", on->mount);
    bkp_shell_word(kit, sizeof(kit), path);
    rb_doc_para(d,
                _("1. Mount the medium read-only where the commands below expect it: `mkdir -p "
                  "%s && mount -o ro DEVICE %s` (DEVICE: its partition as `lsblk` shows it, such "
                  "as /dev/sdb1). Nothing is written on it."),
                mount, mount);
    rb_doc_para(d,
                _("2. Check its recovery kit: `cd %s && sha256sum SHA256SUMS`, and compare what it "
                  "prints with the kit's fingerprint on the procedure kept on paper; then "
                  "`sha256sum -c SHA256SUMS` must say OK for every file (the launcher `bkp` "
                  "among them). Do not run the kit if anything differs, or if the paper has "
                  "none. Compare the commands below with the paper's too."),
                kit);
    rb_doc_para(d, "%s",
                _("3. Each command asks for the repository's passphrase (the sealed envelope). "
                  "With the key sheet from the safe instead, add `--key-from KEY` to it: KEY is "
                  "the name of a file into which the sheet's text was typed, or `-` to type it "
                  "when asked; with share sheets, `--key-from` once for each sheet."));
}

static char *print(const rb_runbook *rb, const rb_on_medium *on, const rb_copies *copies,
                   const rb_folders *folders, const char *repo, const char *fingerprint,
                   rb_format f, time_t now)
{
    char date[32], rto[32], line[1024], num[24];
    bkp_local_time(date, sizeof(date), now, "-");
    rb_doc *d = rb_doc_new(f, rb->title);
    if (!d)
        return NULL;
    const char *first_medium = NULL;
    /* The medium with the newest copy: where to restore from by hand — an
     * off-line one when there is one (an on-line disk was within reach of
     * what encrypted the server). */
    const char *newest = NULL;
    const rb_copy *online = NULL; /* the newest copy on-line */
    bool offline = false;
    for (size_t i = 0; copies && i < copies->n; i++) {
        const rb_copy *c = &copies->v[i];
        if (strcmp(c->medium, "repository") && !c->offline &&
            (!online || strcmp(c->captured, online->captured) > 0))
            online = c;
        if (!strcmp(c->medium, "repository") || (offline && !c->offline))
            continue;
        if (!newest || (c->offline && !offline) || strcmp(c->captured, newest) > 0) {
            first_medium = c->medium;
            newest = c->captured;
            offline = c->offline;
        }
    }
    line[0] = '\0';
    for (size_t k = 0; k < rb->ndatasets; k++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", k ? ", " : "",
                 rb->datasets[k]);
    rb_doc_table(d, (const char *[]){_("Item"), _("Value"), NULL});
    rb_doc_row(d, (const char *[]){_("Runbook"), rb->name, NULL});
    rb_doc_row(d, (const char *[]){_("Data sets"), line, NULL});
    rb_doc_row(d, (const char *[]){_("Owner"), rb->owner ? rb->owner : "-", NULL});
    rb_doc_row(d, (const char *[]){
                      _("Target recovery time (RTO)"),
                      rb->rto ? rb_duration_text(rto, sizeof(rto), (double)rb->rto) : "-", NULL});
    rb_doc_row(d, (const char *[]){_("Where the passphrase is kept"),
                                   rb->passphrase_note
                                       ? rb->passphrase_note
                                       : _("(not written in the runbook: add passphrase_note)"),
                                   NULL});
    rb_doc_row(d, (const char *[]){_("Printed"), date, NULL});
    rb_doc_row(d, (const char *[]){_("Repository"), repo ? repo : "-", NULL});
    /* On paper, away from the host: what `--public-key` is checked against. */
    rb_doc_row(d, (const char *[]){_("Repository key fingerprint"), fingerprint ? fingerprint : "-",
                                   NULL});
    rb_doc_table_end(d);
    rb_doc_para(d, "%s",
                _("This paper is for the day the computers are down: do the steps in order, tick "
                  "each box, sign and write the time. The passphrase itself is never printed."));
    if (on)
        on_medium_first(d, on);
    else if (lost_section(copies, folders))
        rb_doc_para(d, "%s",
                    _("If this server is gone and bkp runs on another machine, start at the "
                      "section \"If this server and its policy are gone\" below: the steps of "
                      "the table need this server's policy."));
    copies_table(d, copies, on);
    if (!on && offline && online && strcmp(online->captured, newest) > 0)
        rb_doc_para(d,
                    _("The steps read %s, the newest copy off-line. %s holds a newer one (%s), "
                      "but it was within reach of the network: use it only once it is certain "
                      "that the attack did not reach it."),
                    first_medium, online->medium, online->generation);
    rb_doc_h2(d, _("Steps"));
    const char *to = restore_target(rb);
    char quoted[2300];
    if (to && targets_differ(rb))
        rb_doc_para(d, "%s",
                    _("Commands of run and check steps see the folder of the restore before them "
                      "as $BKP_TARGET: each restore step's line sets it."));
    else if (to) /* before the table: its run and check steps need it */
        rb_doc_para(d,
                    _("Commands of run and check steps see the restored folder as $BKP_TARGET: "
                      "type `export BKP_TARGET=%s` first."),
                    bkp_shell_word(quoted, sizeof(quoted), to));
    rb_doc_table(
        d, (const char *[]){"✓", "#", _("Who"), _("What"), _("How"), _("Signature / time"), NULL});
    rb_doc_commands(d, 4);
    for (size_t k = 0; k < rb->nsteps; k++) {
        const rb_step *st = &rb->steps[k];
        char what[512], h[16384];
        snprintf(num, sizeof(num), "%zu", k + 1);
        snprintf(what, sizeof(what), "%s%s%s", rb_action_word(st->action), st->what ? ": " : "",
                 st->what ? st->what : "");
        how(rb, st, first_medium, folders, on, copies, h, sizeof(h));
        rb_doc_row(d, (const char *[]){"☐", num, st->who, what, h, "", NULL});
    }
    rb_doc_table_end(d);
    if (!on)
        new_machine(d, rb, copies, folders);
    if (!on)
        rb_doc_para(d,
                    _("While this server works, the whole procedure runs as `bkp restore "
                      "--runbook %s`; `bkp drill %s` rehearses it in a sandbox."),
                    rb->name, rb->name);
    return rb_doc_finish(d);
}

char *rb_print(const rb_runbook *rb, const rb_copies *copies, const rb_folders *folders,
               const char *repo, const char *fingerprint, rb_format f, bool ja, time_t now)
{
    /* In the language asked for, whatever the locale of whoever prints it
     * (cron, a recovery kit made by root). */
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    char *text = print(rb, NULL, copies, folders, repo, fingerprint, f, now);
    bkp_i18n_end(&saved);
    return text;
}

char *rb_print_on_medium(const rb_runbook *rb, const rb_on_medium *on, const rb_copies *held,
                         const rb_folders *folders, const char *fingerprint, bool ja, time_t now)
{
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, ja ? "ja" : "en");
    char repo[1100];
    snprintf(repo, sizeof(repo), on->archive ? "%s" : "%s/repo", on->mount);
    char *text = print(rb, on, held, folders, repo, fingerprint, RB_MARKDOWN, now);
    bkp_i18n_end(&saved);
    return text;
}
