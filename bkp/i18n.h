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

#define _(s) gettext(s)
#define N_(s) (s)

/* Bind the catalogue (once, first thing in main). */
void bkp_i18n_init(void);

#endif
