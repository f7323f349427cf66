/*
 * i18n.h — the messages people read, through the message catalogue
 * (gettext): `_("...")` where a message is made, `N_("...")` where it is only
 * named (a table) and translated where it is shown. The catalogue is
 * po/ja.po; its compiled form is looked for beside the program (a build
 * tree's locale/, a recovery kit's lib/locale/) and then where it is
 * installed. LANG=ja_JP.UTF-8, or LANGUAGE=ja, gives Japanese. Output is
 * UTF-8 whatever the locale's character set. What programs read (--json,
 * the audit log, metrics) is never translated.
 */
#ifndef BKP_I18N_H
#define BKP_I18N_H

#include <libintl.h>
#include <stdbool.h>

#define _(s) gettext(s)
#define N_(s) (s)
/* A message whose English is another's but whose translation is not (the
 * "Steps" of a printed procedure, 手順, and of a drill report,
 * 手順ごとの結果) is told apart by a context, as gettext's pgettext does: the
 * catalogue holds it under `msgctxt CTX`. Both arguments are literals. */
#define C_(ctx, s) bkp_pgettext(ctx "\004" s, s)

/* A message that is kept in English in one place (a signed record, the
 * audit log) and shown in the reader's language in another, made where no
 * language may be switched (a worker thread): `s` as it is when `english`,
 * else through the catalogue. `s` is a literal. */
#define E_(english, s) bkp_gettext_unless(english, s)
const char *bkp_gettext_unless(bool english, const char *msgid) __attribute__((format_arg(2)));

/* The translation of `ctx_msgid` (context, '\004', message), or `msgid` when
 * there is none. */
const char *bkp_pgettext(const char *ctx_msgid, const char *msgid) __attribute__((format_arg(2)));

/* Bind the catalogue (once, first thing in main). */
void bkp_i18n_init(void);
/* Whether the environment asks for a language: LANGUAGE, LC_ALL or
 * LC_MESSAGES set (even to C), or LANG other than C or POSIX. A fresh
 * machine's console (LANG=C.UTF-8) asks for none. */
bool bkp_i18n_asked(void);
/* From now on, messages in `lang` ("ja", "en") whatever the locale: a
 * command run without a terminal (cron, systemd) speaks the policy's
 * language, as its status page and mails do. Before any other thread. */
void bkp_i18n_use(const char *lang);

/* Writing in a language chosen by the caller rather than the reader's locale:
 * a report or a printed procedure asked for with --lang. Between
 * bkp_i18n_begin(&s, "ja") and bkp_i18n_end(&s), _() answers in that language
 * whatever LANG says (under cron it is often unset, the "C" locale, where
 * gettext translates nothing); "en" gives the English originals. The
 * environment and the message locale are changed, so this is for one thread,
 * around rendering; bkp_i18n_end puts back what was there (an unset
 * LANGUAGE comes back empty, which gettext reads the same). Other threads
 * stay safe meanwhile, and a message of theirs may come out in `lang`. */
typedef struct bkp_i18n_saved {
    char *language; /* LANGUAGE before, or NULL when unset */
    char *messages; /* LC_MESSAGES before */
} bkp_i18n_saved;

void bkp_i18n_begin(bkp_i18n_saved *s, const char *lang);
/* Does the person at this terminal read Japanese ($LANGUAGE, $LC_ALL,
 * $LC_MESSAGES, $LANG: the first that is set)? */
bool bkp_i18n_reader_japanese(void);
void bkp_i18n_end(bkp_i18n_saved *s);

#endif
