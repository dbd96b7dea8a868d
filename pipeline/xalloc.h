/* xalloc.h: allocation that never returns NULL (out of memory aborts with a message), and small string helpers. */
#ifndef CTRLMAP_XALLOC_H
#define CTRLMAP_XALLOC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *pipe_xmalloc(size_t size);
void *pipe_xcalloc(size_t n, size_t size);
void *pipe_xrealloc(void *ptr, size_t size);
/* Returns an owned copy; pipe_xstrdup(NULL) is NULL. */
char *pipe_xstrdup(const char *s);
/* Returns an owned, formatted string. */
char *pipe_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *pipe_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Whether `hay` contains `needle`, ignoring ASCII case. A NULL or empty needle is in everything (a filter that
 * was not given); a NULL hay holds nothing else. */
bool pipe_contains_nocase(const char *hay, const char *needle);

/* Grows *items (of *cap elements of elem_size) so that it holds at least need elements. */
void pipe_grow(void **items, size_t *cap, size_t need, size_t elem_size);

#endif
