/* A 5x7 bitmap font for plot labels (lib/io/font5x7.c). */
#ifndef LPC_FONT5X7_H
#define LPC_FONT5X7_H
#include <stdint.h>

/* Seven rows of the glyph for c, bit 4 the leftmost dot. Lower-case letters
 * use the upper-case glyphs; characters without a glyph give '?'. */
const uint8_t *lpci_glyph(char c);
#endif
