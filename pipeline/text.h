/* text.h: UTF-8 and printable text, for everything ctrlmap prints or writes that came from outside (plugin names
 * from Turtle, file names, map values): a control character there would move a terminal's cursor or forge a line. */
#ifndef CTRLMAP_PIPE_TEXT_H
#define CTRLMAP_PIPE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The code point of the UTF-8 sequence at `s` (at most `avail` bytes, avail >= 1), with its length in *n; -1 (and
 * *n = 1) when it is not well formed: overlong, a surrogate, beyond U+10FFFF, cut short. */
long pipe_utf8_next(const unsigned char *s, size_t avail, size_t *n);

/* Whether a code point may be shown as is: an XML 1.0 Char that is not a control character (C0, DEL, C1). */
bool pipe_char_printable(long cp);

/* Whether all of `s` is well-formed UTF-8 of printable characters. */
bool pipe_text_printable(const char *s);

/* A copy of `s` with every control character and every byte that is not UTF-8 replaced by U+FFFD. Owned. */
char *pipe_printable_dup(const char *s);

/* Writes `s` (NULL: nothing) to `out` as pipe_printable_dup would have it. */
void pipe_fputs_printable(const char *s, FILE *out);

#endif
