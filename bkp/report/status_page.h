/*
 * status_page.h — the status page for the people who do not open a
 * terminal: one static HTML file (inline CSS, no script, nothing fetched
 * from the network) that a clerk opens from a shared folder. What to do
 * today; each data set's verdict (a colour and always a word) with its next
 * action in plain words and the age of each copy; the calendar of the coming
 * rotations (which medium, which day, where it is kept); the last drill of
 * each data set against its target time; the audit log as it was checked;
 * the time the page was made, in local time with the zone. Readable on a
 * phone, printable on one A4 page. Nothing is looked up: text from values.
 */
#ifndef RST_STATUS_PAGE_H
#define RST_STATUS_PAGE_H

#include <stdbool.h>

#include "bkp/report/status_doc.h"

/* The page of `status` (status_doc.h), in Japanese when `ja` (through the
 * message catalogue, whatever the locale), else English. Times are shown
 * in the local time zone (TZ), with its name. Every string of `status` is
 * escaped: a data set named "<script>" is shown as those characters.
 * Returns the page (malloc'd), or NULL when out of memory. */
char *rst_status_page(const rst_status *status, bool ja);

#endif
