/*
 * qr.h — a QR code of a text, drawn for paper (libqrencode encodes): an SVG
 * for HTML, or blocks of text, two rows of modules to a character, for
 * Markdown and a terminal; a quiet zone of two modules around it. The key
 * sheets draw the secret with it, so the modules are wiped once drawn.
 */
#ifndef BKP_QR_H
#define BKP_QR_H

#include <stdbool.h>

/* Where the drawing goes, piece by piece. */
typedef void (*bkp_qr_put)(void *ctx, const char *piece);

/* Draw `text` (error correction M, bytes mode) as an SVG (`svg`) or as
 * text blocks, through `put`. 0, or -ENOMEM when it could not be encoded
 * (then nothing was put). */
int bkp_qr_draw(const char *text, bool svg, bkp_qr_put put, void *ctx);

#endif
