/*
 * i18n.c — finding the message catalogue (i18n.h).
 */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/i18n.h"

#ifndef BKP_LOCALEDIR
#define BKP_LOCALEDIR "/usr/share/locale"
#endif

void bkp_i18n_init(void)
{
    /* Messages and the character type only: numbers in output for programs
     * keep their '.' whatever the locale. */
    setlocale(LC_MESSAGES, "");
    setlocale(LC_CTYPE, "");
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
    textdomain("bkp");
}
