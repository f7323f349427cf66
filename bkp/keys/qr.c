/* qr.c — see qr.h. */
#include "bkp/keys/qr.h"

#include <errno.h>
#include <stdio.h>

#include <qrencode.h>
#include <sodium.h>

#define QUIET 2

static bool dark(const QRcode *q, int x, int y)
{
    return x >= 0 && y >= 0 && x < q->width && y < q->width && (q->data[y * q->width + x] & 1);
}

static void svg(const QRcode *q, bkp_qr_put put, void *ctx)
{
    char piece[256];
    int size = q->width + 2 * QUIET;
    snprintf(piece, sizeof(piece),
             "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%dmm\" "
             "height=\"%dmm\" shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
             "fill=\"#fff\"/><path fill=\"#000\" d=\"",
             size, size, size, size, size, size);
    put(ctx, piece);
    for (int y = 0; y < q->width; y++)
        for (int x = 0; x < q->width; x++)
            if (dark(q, x, y)) {
                snprintf(piece, sizeof(piece), "M%d %dh1v1h-1z", x + QUIET, y + QUIET);
                put(ctx, piece);
            }
    put(ctx, "\"/></svg>\n");
}

static void blocks(const QRcode *q, bkp_qr_put put, void *ctx)
{
    for (int y = -QUIET; y < q->width + QUIET; y += 2) {
        for (int x = -QUIET; x < q->width + QUIET; x++) {
            bool top = dark(q, x, y), bottom = dark(q, x, y + 1);
            put(ctx, top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ");
        }
        put(ctx, "\n");
    }
}

int bkp_qr_draw(const char *text, bool as_svg, bkp_qr_put put, void *ctx)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return -ENOMEM;
    if (as_svg)
        svg(q, put, ctx);
    else
        blocks(q, put, ctx);
    sodium_memzero(q->data, (size_t)q->width * (size_t)q->width);
    QRcode_free(q);
    return 0;
}
