/*
 * seal.h — sealing a generation: its record written once under the next
 * sequence number, never given twice. Declared apart from generation.h
 * (records, listing, resolving) because the floor of sequence numbers reads
 * the audit log and the media's pins, which themselves know generations:
 * seal.c is the one place above all three, and the includes say so.
 */
#ifndef BKP_SEAL_H
#define BKP_SEAL_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/capture/capture.h"
#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

/* The highest sequence number of `dataset` the audit log of `r` records as
 * sealed (0 when none): bkp_gen_seal never goes below it. */
int bkp_gen_seq_floor(const bkp_repo *r, const char *dataset, uint32_t *floor);

/* Seal a generation for `c`. `extra` (borrowed, may be NULL) adds its keys to
 * the record (the change-rate guard's verdict). `*out` (may be NULL) receives
 * the record. */
int bkp_gen_seal(bkp_repo *r, const char *dataset, const bkp_capture *c, time_t started,
                 time_t finished, json_t *extra, bkp_gen **out) __attribute__((warn_unused_result));

#endif
