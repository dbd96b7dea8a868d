/* xalloc.c: out-of-memory is not recoverable in a command-line tool; fail loudly in one place. */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void die_oom(size_t size)
{
  fprintf(stderr, "ctrlmap: out of memory (%zu bytes)\n", size);
  abort();
}

void *pipe_xmalloc(size_t size)
{
  void *p = malloc(size ? size : 1);
  if (!p)
    die_oom(size);
  return p;
}

void *pipe_xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    die_oom(n * size);
  return p;
}

void *pipe_xrealloc(void *ptr, size_t size)
{
  void *p = realloc(ptr, size ? size : 1);
  if (!p)
    die_oom(size);
  return p;
}

char *pipe_xstrdup(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  return memcpy(pipe_xmalloc(n), s, n);
}

char *pipe_xvasprintf(const char *fmt, va_list ap)
{
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    die_oom(0);
  char *s = pipe_xmalloc((size_t)n + 1);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

char *pipe_xasprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = pipe_xvasprintf(fmt, ap);
  va_end(ap);
  return s;
}

void pipe_grow(void **items, size_t *cap, size_t need, size_t elem_size)
{
  if (need <= *cap)
    return;
  size_t n = *cap ? *cap : 8;
  while (n < need)
    n *= 2;
  *items = pipe_xrealloc(*items, n * elem_size);
  *cap = n;
}

bool pipe_contains_nocase(const char *hay, const char *needle)
{
  if (!needle || !*needle)
    return true;
  size_t n = strlen(needle);
  for (; hay && *hay; hay++)
    if (!strncasecmp(hay, needle, n))
      return true;
  return false;
}
