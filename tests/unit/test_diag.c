/* test_diag.c: the diagnostic list (add, count, get, print) and pipe_strerror. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pipeline/diag.h"
#include "pipeline/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints `list` into a memory buffer and returns it (owned). */
static char *print_to_string(const PipeDiagList *list)
{
  FILE *f = tmpfile();
  assert_non_null(f);
  pipe_diags_print(list, f);
  long n = ftell(f);
  assert_true(n >= 0);
  rewind(f);
  char *buf = calloc(1, (size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  return buf;
}

static void test_add_count_get(void **state)
{
  (void)state;
  PipeDiagList *list = pipe_diags_new();
  assert_non_null(list);
  assert_int_equal(pipe_diags_count(list), 0);
  assert_null(pipe_diags_get(list, 0));

  char file[] = "maps/x.yaml";
  char code[] = "map-key";
  pipe_diag_add(list, PIPE_SEV_ERROR, code, file, 12, 3, "unknown key '%s', expected one of %d", "foo", 4);
  /* Strings are copied: damaging the caller's buffers must not change the record. */
  memset(file, 'z', sizeof file - 1);
  memset(code, 'z', sizeof code - 1);
  pipe_diag_add(list, PIPE_SEV_WARNING, "w1", NULL, 0, 0, "plain %s", "warning");

  assert_int_equal(pipe_diags_count(list), 2);
  const PipeDiag *d0 = pipe_diags_get(list, 0);
  assert_non_null(d0);
  assert_int_equal(d0->severity, PIPE_SEV_ERROR);
  assert_string_equal(d0->code, "map-key");
  assert_string_equal(d0->file, "maps/x.yaml");
  assert_int_equal(d0->line, 12);
  assert_int_equal(d0->column, 3);
  assert_string_equal(d0->message, "unknown key 'foo', expected one of 4");

  const PipeDiag *d1 = pipe_diags_get(list, 1);
  assert_non_null(d1);
  assert_int_equal(d1->severity, PIPE_SEV_WARNING);
  assert_string_equal(d1->code, "w1");
  assert_null(d1->file);
  assert_int_equal(d1->line, 0);
  assert_string_equal(d1->message, "plain warning");

  assert_null(pipe_diags_get(list, 2));
  assert_null(pipe_diags_get(NULL, 0));
  assert_int_equal(pipe_diags_count(NULL), 0);
  pipe_diags_free(list);
}

static void test_many_records_grow(void **state)
{
  (void)state;
  PipeDiagList *list = pipe_diags_new();
  for (unsigned i = 0; i < 1000; i++)
    pipe_diag_add(list, (PipeSeverity)(i % 3), "c", NULL, i, 0, "n%u", i);
  assert_int_equal(pipe_diags_count(list), 1000);
  for (unsigned i = 0; i < 1000; i += 97) {
    const PipeDiag *d = pipe_diags_get(list, i);
    char want[16];
    snprintf(want, sizeof want, "n%u", i);
    assert_string_equal(d->message, want);
    assert_int_equal(d->line, i);
    assert_int_equal(d->severity, (PipeSeverity)(i % 3));
  }
  pipe_diags_free(list);
}

static void test_severity_counts(void **state)
{
  (void)state;
  PipeDiagList *list = pipe_diags_new();
  const PipeSeverity sevs[] = {PIPE_SEV_NOTE,    PIPE_SEV_ERROR, PIPE_SEV_WARNING, PIPE_SEV_ERROR,
                               PIPE_SEV_WARNING, PIPE_SEV_ERROR, PIPE_SEV_ERROR};
  size_t want[3] = {0, 0, 0};
  for (size_t i = 0; i < sizeof sevs / sizeof sevs[0]; i++) {
    pipe_diag_add(list, sevs[i], "c", NULL, 0, 0, "m%zu", i);
    want[sevs[i]]++;
  }
  assert_int_equal(pipe_diags_count_severity(list, PIPE_SEV_NOTE), want[PIPE_SEV_NOTE]);
  assert_int_equal(pipe_diags_count_severity(list, PIPE_SEV_WARNING), want[PIPE_SEV_WARNING]);
  assert_int_equal(pipe_diags_count_severity(list, PIPE_SEV_ERROR), want[PIPE_SEV_ERROR]);
  assert_int_equal(want[PIPE_SEV_NOTE] + want[PIPE_SEV_WARNING] + want[PIPE_SEV_ERROR], pipe_diags_count(list));
  assert_int_equal(pipe_diags_count_severity(NULL, PIPE_SEV_ERROR), 0);
  pipe_diags_free(list);
}

static void test_add_to_null_list_is_ignored(void **state)
{
  (void)state;
  /* Modules are called with diags == NULL when the caller does not want records. */
  pipe_diag_add(NULL, PIPE_SEV_ERROR, "x", "f", 1, 1, "ignored %d", 1);
  pipe_diags_free(NULL);
}

static void test_severity_names(void **state)
{
  (void)state;
  assert_string_equal(pipe_severity_name(PIPE_SEV_NOTE), "note");
  assert_string_equal(pipe_severity_name(PIPE_SEV_WARNING), "warning");
  assert_string_equal(pipe_severity_name(PIPE_SEV_ERROR), "error");
  assert_non_null(pipe_severity_name((PipeSeverity)42));
}

static void test_print_format(void **state)
{
  (void)state;
  PipeDiagList *list = pipe_diags_new();
  pipe_diag_add(list, PIPE_SEV_ERROR, "map-key", "maps/a.yaml", 7, 12, "unknown key '%s'", "gain");
  pipe_diag_add(list, PIPE_SEV_WARNING, "cache-corrupt", "/c/index.json", 0, 0, "checksum mismatch");
  pipe_diag_add(list, PIPE_SEV_NOTE, "no-file", NULL, 0, 0, "nothing to do");
  char *out = print_to_string(list);
  assert_string_equal(out, "maps/a.yaml:7:12: error: unknown key 'gain' [map-key]\n"
                           "/c/index.json: warning: checksum mismatch [cache-corrupt]\n"
                           "note: nothing to do [no-file]\n");
  free(out);
  pipe_diags_free(list);

  /* An empty list and a NULL list print nothing. */
  list = pipe_diags_new();
  out = print_to_string(list);
  assert_string_equal(out, "");
  free(out);
  out = print_to_string(NULL);
  assert_string_equal(out, "");
  free(out);
  pipe_diags_free(list);
}

static void test_strerror(void **state)
{
  (void)state;
  const char *seen[PIPE_ERR_USAGE + 1];
  for (int s = PIPE_OK; s <= PIPE_ERR_USAGE; s++) {
    const char *m = pipe_strerror((PipeStatus)s);
    assert_non_null(m);
    assert_true(strlen(m) > 0);
    /* Every code has its own description. */
    for (int t = PIPE_OK; t < s; t++)
      assert_string_not_equal(m, seen[t]);
    seen[s] = m;
  }
  const char *other = pipe_strerror((PipeStatus)(PIPE_ERR_USAGE + 100));
  assert_non_null(other);
  assert_true(strlen(other) > 0);
  assert_non_null(pipe_strerror((PipeStatus)-1));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_count_get),
      cmocka_unit_test(test_many_records_grow),
      cmocka_unit_test(test_severity_counts),
      cmocka_unit_test(test_add_to_null_list_is_ignored),
      cmocka_unit_test(test_severity_names),
      cmocka_unit_test(test_print_format),
      cmocka_unit_test(test_strerror),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
