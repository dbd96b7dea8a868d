/* text.c: UTF-8 decoding and printable copies (see text.h). */
#include "text.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

long pipe_utf8_next(const unsigned char *s, size_t avail, size_t *n)
{
  size_t need = s[0] < 0x80                    ? 1
                : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
                : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                               : 0;
  static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
  *n = 1;
  if (need == 0 || avail < need)
    return -1;
  long cp = need == 1 ? s[0] : s[0] & (0x7F >> need);
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  *n = need;
  return cp;
}

bool pipe_char_printable(long cp)
{
  return cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F) && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) &&
         cp != 0xFFFE && cp != 0xFFFF;
}

bool pipe_text_printable(const char *s)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t len = strlen(s), n;
  for (size_t i = 0; i < len; i += n)
    if (!pipe_char_printable(pipe_utf8_next(u + i, len - i, &n)))
      return false;
  return true;
}

char *pipe_printable_dup(const char *s)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t len = strlen(s), n;
  char *out = pipe_xmalloc(3 * len + 1), *w = out;
  for (size_t i = 0; i < len; i += n) {
    if (pipe_char_printable(pipe_utf8_next(u + i, len - i, &n))) {
      memcpy(w, u + i, n);
      w += n;
    } else {
      memcpy(w, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
      w += 3;
    }
  }
  *w = '\0';
  return out;
}

void pipe_fputs_printable(const char *s, FILE *out)
{
  if (!s)
    return;
  if (pipe_text_printable(s)) { /* nearly always: no copy */
    fputs(s, out);
    return;
  }
  char *clean = pipe_printable_dup(s);
  fputs(clean, out);
  free(clean);
}
