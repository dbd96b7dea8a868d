/* test_text.c: UTF-8 decoding and the printable copies that stand between outside text and the terminal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pipeline/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_utf8_next(void **state)
{
  (void)state;
  size_t n = 0;
  assert_int_equal(pipe_utf8_next((const unsigned char *)"A", 1, &n), 'A');
  assert_int_equal(n, 1);
  assert_int_equal(pipe_utf8_next((const unsigned char *)"\xC2\xB5", 2, &n), 0xB5); /* µ */
  assert_int_equal(n, 2);
  assert_int_equal(pipe_utf8_next((const unsigned char *)"\xE2\x80\x94", 3, &n), 0x2014); /* em dash */
  assert_int_equal(pipe_utf8_next((const unsigned char *)"\xF0\x9F\x8E\xB9", 4, &n), 0x1F3B9);
  assert_int_equal(n, 4);
  /* Not well formed: each is one bad byte. */
  const char *bad[] = {"\xC0\x80", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80", "\xFF", "\xE2\x80"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(pipe_utf8_next((const unsigned char *)bad[i], strlen(bad[i]), &n), -1);
    assert_int_equal(n, 1);
  }
  /* Cut short by `avail`, whatever follows in memory. */
  assert_int_equal(pipe_utf8_next((const unsigned char *)"\xC2\xB5", 1, &n), -1);
}

static void test_printable(void **state)
{
  (void)state;
  assert_true(pipe_text_printable("Calf Compressor \xE2\x80\x94 \xC2\xB5-Law"));
  assert_true(pipe_text_printable(""));
  const char *bad[] = {"a\x1b[2Jb", "tab\there", "line\nbreak", "del\x7f", "c1\xC2\x85", "nul-free \xFF", "\xEF\xBF\xBF"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (pipe_text_printable(bad[i]))
      fail_msg("'%s' (case %zu) passed as printable", bad[i], i);
  char *c = pipe_printable_dup("Evil\x1b[2J\xFF name\n");
  assert_string_equal(c, "Evil\xEF\xBF\xBD[2J\xEF\xBF\xBD name\xEF\xBF\xBD");
  assert_true(pipe_text_printable(c));
  free(c);
  c = pipe_printable_dup("plain \xE2\x80\x94 text");
  assert_string_equal(c, "plain \xE2\x80\x94 text");
  free(c);
}

static void test_fputs_printable(void **state)
{
  (void)state;
  char buf[64] = {0};
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  pipe_fputs_printable("ok ", f);
  pipe_fputs_printable(NULL, f);
  pipe_fputs_printable("\x1b]0;title\x07", f);
  fclose(f);
  assert_string_equal(buf, "ok \xEF\xBF\xBD]0;title\xEF\xBF\xBD");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8_next),
      cmocka_unit_test(test_printable),
      cmocka_unit_test(test_fputs_printable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
