/* diag.c: the diagnostic list. */
#include "diag.h"

#include "text.h"

#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>

struct PipeDiagList {
  PipeDiag *items;
  size_t n, cap;
};

PipeDiagList *pipe_diags_new(void)
{
  return pipe_xcalloc(1, sizeof(PipeDiagList));
}

void pipe_diags_free(PipeDiagList *list)
{
  if (!list)
    return;
  for (size_t i = 0; i < list->n; i++) {
    free(list->items[i].code);
    free(list->items[i].file);
    free(list->items[i].message);
  }
  free(list->items);
  free(list);
}

void pipe_diag_add(PipeDiagList *list, PipeSeverity sev, const char *code, const char *file, unsigned line,
                   unsigned column, const char *fmt, ...)
{
  if (!list)
    return;
  pipe_grow((void **)&list->items, &list->cap, list->n + 1, sizeof(PipeDiag));
  PipeDiag *d = &list->items[list->n++];
  va_list ap;
  va_start(ap, fmt);
  d->message = pipe_xvasprintf(fmt, ap);
  va_end(ap);
  d->severity = sev;
  d->code = pipe_xstrdup(code);
  d->file = pipe_xstrdup(file);
  d->line = line;
  d->column = column;
}

size_t pipe_diags_count(const PipeDiagList *list)
{
  return list ? list->n : 0;
}

size_t pipe_diags_count_severity(const PipeDiagList *list, PipeSeverity sev)
{
  size_t n = 0;
  for (size_t i = 0; list && i < list->n; i++)
    n += list->items[i].severity == sev;
  return n;
}

const PipeDiag *pipe_diags_get(const PipeDiagList *list, size_t i)
{
  return list && i < list->n ? &list->items[i] : NULL;
}

const char *pipe_severity_name(PipeSeverity sev)
{
  switch (sev) {
  case PIPE_SEV_NOTE: return "note";
  case PIPE_SEV_WARNING: return "warning";
  case PIPE_SEV_ERROR: return "error";
  }
  return "?";
}

void pipe_diags_print(const PipeDiagList *list, FILE *out)
{
  for (size_t i = 0; list && i < list->n; i++) {
    const PipeDiag *d = &list->items[i];
    /* File names and messages quote what came from outside (paths, plugin names): no control character of theirs
     * reaches the terminal. */
    pipe_fputs_printable(d->file, out);
    if (d->file && d->line)
      fprintf(out, ":%u:%u: ", d->line, d->column);
    else if (d->file)
      fputs(": ", out);
    fprintf(out, "%s: ", pipe_severity_name(d->severity));
    pipe_fputs_printable(d->message, out);
    fprintf(out, " [%s]\n", d->code);
  }
}
