/*
 * i18n.c — finding the message catalogue (i18n.h).
 */
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/i18n.h"

#ifndef BKP_LOCALEDIR
#define BKP_LOCALEDIR "/usr/share/locale"
#endif

/* The language asked for, when its locale is not installed here (a fresh
 * machine, a recovery kit, whose C library knows only C.UTF-8): messages in
 * that language all the same. gettext ignores LANGUAGE in the C locale, and
 * C.UTF-8 is not it. */
static void language_without_locale(void)
{
    const char *loc = setlocale(LC_MESSAGES, NULL), *want = NULL;
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    if (loc && strcmp(loc, "C") && strcmp(loc, "POSIX"))
        return; /* installed, or C asked for */
    for (size_t i = 0; i < 3 && !want; i++) {
        const char *v = getenv(vars[i]);
        want = v && *v ? v : NULL;
    }
    const char *language = getenv("LANGUAGE");
    bool asked = (want && strcmp(want, "C") && strcmp(want, "POSIX") && strncmp(want, "C.", 2)) ||
                 (language && *language);
    if (!asked || !setlocale(LC_MESSAGES, "C.UTF-8"))
        return;
    setlocale(LC_CTYPE, "C.UTF-8");
    if (!(language && *language) && want) {
        char l[16];
        size_t n = strcspn(want, "_.@");
        if (n && n < sizeof(l)) {
            memcpy(l, want, n);
            l[n] = '\0';
            setenv("LANGUAGE", l, 0);
        }
    }
}

/* LANGUAGE lists catalogue names, which gettext joins into paths: an entry
 * that is a path ("../../x") would take a catalogue — printf formats — from
 * anywhere. Such entries are dropped. */
static void language_names_only(void)
{
    const char *l = getenv("LANGUAGE");
    char keep[256] = "";
    size_t n = 0;
    if (!l || (!strchr(l, '/') && *l != '.' && !strstr(l, ":.")))
        return;
    for (const char *p = l; *p;) {
        size_t len = strcspn(p, ":");
        if (len && len < 64 && p[0] != '.' && !memchr(p, '/', len) && n + len + 2 < sizeof(keep)) {
            if (n)
                keep[n++] = ':';
            memcpy(keep + n, p, len);
            n += len;
            keep[n] = '\0';
        }
        p += len + (p[len] == ':');
    }
    if (n)
        setenv("LANGUAGE", keep, 1);
    else
        unsetenv("LANGUAGE");
}

bool bkp_i18n_reader_japanese(void)
{
    const char *vars[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return !strncmp(v, "ja", 2);
    }
    return false;
}

bool bkp_i18n_asked(void)
{
    const char *language = getenv("LANGUAGE");
    if (language && *language)
        return true;
    /* LC_ALL or LC_MESSAGES are set by a person (the system sets LANG):
     * even C, asked for plain messages, is asked. */
    const char *all = getenv("LC_ALL"), *msgs = getenv("LC_MESSAGES"), *lang = getenv("LANG");
    if ((all && *all) || (msgs && *msgs))
        return true;
    return lang && *lang && strcmp(lang, "C") && strcmp(lang, "POSIX") && strncmp(lang, "C.", 2);
}

void bkp_i18n_init(void)
{
    language_names_only();
    /* Messages and the character type only: numbers in output for programs
     * keep their '.' whatever the locale. */
    setlocale(LC_MESSAGES, "");
    setlocale(LC_CTYPE, "");
    language_without_locale();
    /* Beside the program first: the build tree, or a recovery kit (a path
     * fixed by where the program is, never by the environment). */
    char exe[PATH_MAX], dir[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    const char *where = BKP_LOCALEDIR;
    struct stat st;
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(dir, sizeof(dir), "%s/locale", exe);
            if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                where = dir;
        }
    }
    bindtextdomain("bkp", where);
    bind_textdomain_codeset("bkp", "UTF-8");
    /* libc's own texts (strerror) too: under cron, with no locale and the
     * policy's `language: ja`, they would be converted to ASCII, "???". */
    bind_textdomain_codeset("libc", "UTF-8");
    textdomain("bkp");
}

const char *bkp_gettext_unless(bool english, const char *msgid)
{
    return english ? msgid : gettext(msgid);
}

const char *bkp_pgettext(const char *ctx_msgid, const char *msgid)
{
    const char *t = gettext(ctx_msgid);
    return t == ctx_msgid ? msgid : t;
}

/* gettext keeps what it found; setting the same text domain again is the
 * documented way to say the environment changed and it must look again. */
static void again(void)
{
    textdomain(textdomain(NULL));
}

void bkp_i18n_use(const char *lang)
{
    const char *loc = setlocale(LC_MESSAGES, NULL);
    setenv("LANGUAGE", lang, 1);
    if (!loc || !strcmp(loc, "C") || !strcmp(loc, "POSIX"))
        setlocale(LC_MESSAGES, "C.UTF-8"); /* gettext ignores LANGUAGE in "C" */
    again();
}

void bkp_i18n_begin(bkp_i18n_saved *s, const char *lang)
{
    const char *was = getenv("LANGUAGE");
    const char *loc = setlocale(LC_MESSAGES, NULL);
    s->language = was ? strdup(was) : NULL;
    s->messages = strdup(loc ? loc : "C");
    setenv("LANGUAGE", lang, 1);
    /* gettext ignores LANGUAGE in the "C" locale; C.UTF-8 is always there on
     * glibc and is not "C". */
    if (!loc || !strcmp(loc, "C") || !strcmp(loc, "POSIX"))
        setlocale(LC_MESSAGES, "C.UTF-8");
    again();
}

void bkp_i18n_end(bkp_i18n_saved *s)
{
    /* Emptied, never unset (an empty LANGUAGE is none to gettext): the
     * environment's table is then grown once at most, so another thread
     * looking a message up meanwhile (`bkp run` captures at once) never
     * reads a table that was freed under it. */
    setenv("LANGUAGE", s->language ? s->language : "", 1);
    setlocale(LC_MESSAGES, s->messages ? s->messages : "C");
    again();
    free(s->language);
    free(s->messages);
    s->language = s->messages = NULL;
}
