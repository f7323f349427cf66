/*
 * seal.h — sealing a generation: its record written once under the next
 * sequence number, never given twice. Declared apart from generation.h
 * (records, listing, resolving) because the floor of sequence numbers reads
 * the audit log and the media's pins, which themselves know generations:
 * seal.c is the one place above all three, and the includes say so.
 */
#ifndef BKP_SEAL_H
#define BKP_SEAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bkp/capture/capture.h"
#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

/* The highest sequence number of `dataset` the audit log of `r` records as
 * sealed (0 when none): bkp_gen_seal never goes below it. */
int bkp_gen_seq_floor(const bkp_repo *r, const char *dataset, uint32_t *floor);

/* The change-rate guard's verdict on a capture: the record's "guard". */
typedef struct bkp_gen_guard {
    bool suspicious;
    const char *reason; /* why, when suspicious */
    double change;      /* the share of its files that changed */
} bkp_gen_guard;

/* Seal a generation for `c`, with the guard's verdict (NULL: no guard
 * judged it). `*out` (may be NULL) receives the record. */
int bkp_gen_seal(bkp_repo *r, const char *dataset, const bkp_capture *c, time_t started,
                 time_t finished, const bkp_gen_guard *guard, bkp_gen **out)
    __attribute__((warn_unused_result));

#endif
