/*
 * notify_send.h — telling people of a change (the events of policies/notify.h):
 * an operator's command, given the event as JSON on its standard input
 * (and BKP_EVENT, BKP_KEY, BKP_STATE, BKP_SEVERITY, BKP_SUMMARY in its
 * environment), and/or a mail through sendmail, in Japanese and English.
 *
 * Both run as hooks do (hook.h): a clean environment, a time limit, the
 * user named. Nothing of an event reaches a mail header unencoded: the
 * subject is RFC 2047 base64, the addresses were checked by the policy.
 */
#ifndef BKP_NOTIFY_SEND_H
#define BKP_NOTIFY_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct bkp_notify_target {
    const char *command; /* NULL: none */
    int64_t timeout;     /* seconds, for the command and for sendmail */
    const char *run_as;  /* the command's user, or NULL */
    char *const *env;    /* the command's own "NAME=value" */
    size_t nenv;
    const char *mail_to;   /* NULL: no mail */
    const char *mail_from; /* NULL: sendmail's default */
    const char *sendmail;  /* NULL: /usr/sbin/sendmail */
    const char *mail_run_as; /* sendmail's user; NULL: `run_as` (the command's) */
    bool english;            /* the policy's language is English: the mail in English alone */
} bkp_notify_target;

/* One event, as told. */
typedef struct bkp_notify_event {
    const char *kind;       /* "raised", "changed", "reminder", "cleared", "event" */
    const char *key;        /* or NULL: a one-off */
    const char *state;      /* or NULL */
    const char *previous;   /* or NULL */
    const char *cause;      /* why it is in its state (pol_condition.cause), or NULL */
    time_t since;           /* when it began */
    const char *summary;    /* English */
    const char *summary_ja; /* or NULL */
    int severity;           /* 0 info, 1 warning, 2 error */
    const char *host, *repository;
    const char *facility; /* or NULL */
    const char *json;     /* the whole event as JSON: the command's standard input */
} bkp_notify_event;

/* The mail of the `n` events `v` of one run (malloc'd; NULL without memory
 * or events): headers and a UTF-8 body, named after the first of the most
 * severe, each event's lines in order — one mail a run, not one an event. */
char *bkp_notify_mail(const bkp_notify_target *t, const bkp_notify_event *v, size_t n);

/* Tell `e` to the command of `t`, when it has one: 0 when it took it, else
 * the failure (logged with what to check). */
int bkp_notify_command(const bkp_notify_target *t, const bkp_notify_event *e);

/* Mail the `n` events `v` of one run in one mail, when `t` has an address:
 * 0 when sendmail took it, else the failure (logged with what to check). */
int bkp_notify_mail_send(const bkp_notify_target *t, const bkp_notify_event *v, size_t n);

#endif
