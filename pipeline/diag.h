/* diag.h: diagnostics as data. Modules append records to a list the caller owns; only commands print them. */
#ifndef CTRLMAP_DIAG_H
#define CTRLMAP_DIAG_H

#include <stdio.h>
#include <stddef.h>

typedef enum { PIPE_SEV_NOTE, PIPE_SEV_WARNING, PIPE_SEV_ERROR } PipeSeverity;

typedef struct {
  PipeSeverity severity;
  char *code;    /* stable identifier, e.g. "cache-index-corrupt" */
  char *file;    /* may be NULL */
  unsigned line; /* 1-based; 0 when not applicable */
  unsigned column;
  char *message; /* lower case, no final period: what is wrong, then what was expected */
} PipeDiag;

typedef struct PipeDiagList PipeDiagList;

PipeDiagList *pipe_diags_new(void);
void pipe_diags_free(PipeDiagList *list); /* NULL is a no-op */

/* Appends a record; file may be NULL. Strings are copied. */
void pipe_diag_add(PipeDiagList *list, PipeSeverity sev, const char *code, const char *file, unsigned line,
                   unsigned column, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

size_t pipe_diags_count(const PipeDiagList *list);
size_t pipe_diags_count_severity(const PipeDiagList *list, PipeSeverity sev);
/* Borrowed; valid until the list is freed or appended to. */
const PipeDiag *pipe_diags_get(const PipeDiagList *list, size_t i);

const char *pipe_severity_name(PipeSeverity sev);
/* Prints "file:line:column: severity: message [code]" lines, as compilers do. */
void pipe_diags_print(const PipeDiagList *list, FILE *out);

#endif
