/* test_perf.c: percentiles and the --performance report (JSON and table). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pipeline/perf.h"
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EPS 1e-9

static void test_percentile_empty_and_single(void **state)
{
  (void)state;
  assert_float_equal(pipe_percentile(NULL, 0, 50), 0.0, EPS);
  const double one[] = {4.25};
  const double ps[] = {0, 50, 95, 99, 100};
  for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
    assert_float_equal(pipe_percentile(one, 1, ps[i]), 4.25, EPS);
}

static void test_percentile_odd(void **state)
{
  (void)state;
  /* n = 5: rank = p/100 * 4. */
  const double v[] = {10, 20, 30, 40, 50};
  assert_float_equal(pipe_percentile(v, 5, 0), 10, EPS);
  assert_float_equal(pipe_percentile(v, 5, 50), 30, EPS); /* rank 2: the middle value */
  assert_float_equal(pipe_percentile(v, 5, 25), 20, EPS); /* rank 1 */
  assert_float_equal(pipe_percentile(v, 5, 95), 48, EPS); /* rank 3.8: 40 + 0.8 * 10 */
  assert_float_equal(pipe_percentile(v, 5, 99), 49.6, 1e-6);
  assert_float_equal(pipe_percentile(v, 5, 100), 50, EPS);
}

static void test_percentile_even(void **state)
{
  (void)state;
  /* n = 4: rank = p/100 * 3. The median interpolates between the two middle values. */
  const double v[] = {1, 2, 4, 8};
  assert_float_equal(pipe_percentile(v, 4, 0), 1, EPS);
  assert_float_equal(pipe_percentile(v, 4, 50), 3, EPS);    /* rank 1.5: 2 + 0.5 * 2 */
  assert_float_equal(pipe_percentile(v, 4, 95), 7.4, 1e-6); /* rank 2.85: 4 + 0.85 * 4 */
  assert_float_equal(pipe_percentile(v, 4, 99), 7.88, 1e-6);
  assert_float_equal(pipe_percentile(v, 4, 100), 8, EPS);
  const double two[] = {0, 100};
  for (int p = 0; p <= 100; p += 10)
    assert_float_equal(pipe_percentile(two, 2, p), (double)p, 1e-6);
}

static void test_percentile_monotonic(void **state)
{
  (void)state;
  double v[101];
  for (int i = 0; i <= 100; i++)
    v[i] = (double)i * (double)i;
  double prev = -1;
  for (double p = 0; p <= 100; p += 0.5) {
    double x = pipe_percentile(v, 101, p);
    assert_true(x >= prev);
    assert_true(x >= v[0] && x <= v[100]);
    prev = x;
  }
  /* With 101 values, integer p hits a value exactly. */
  assert_float_equal(pipe_percentile(v, 101, 37), 37.0 * 37.0, EPS);
}

/* A report with two phases: "scan" (items, cache figures) and "extract" (items, some failed, no cache). */
static PipePerf *two_phase_perf(void)
{
  PipePerf *perf = pipe_perf_new("plugins:extract");
  int scan = pipe_perf_phase_begin(perf, "scan");
  assert_int_equal(scan, 0);
  /* Items given out of order: the report must sort them. */
  const double scan_ms[] = {5, 1, 4, 2, 3};
  for (size_t i = 0; i < 5; i++)
    pipe_perf_item(perf, scan, scan_ms[i], true);
  pipe_perf_cache(perf, scan, 3, 1);
  pipe_perf_cache(perf, scan, 3, 1); /* accumulates: 6 hits, 2 misses */
  pipe_perf_phase_end(perf, scan);

  int extract = pipe_perf_phase_begin(perf, "extract");
  assert_int_equal(extract, 1);
  const double ex_ms[] = {40, 10, 30, 20};
  for (size_t i = 0; i < 4; i++)
    pipe_perf_item(perf, extract, ex_ms[i], i != 2); /* one failure */
  pipe_perf_phase_end(perf, extract);

  /* Bad handles are ignored. */
  pipe_perf_item(perf, 7, 1000, false);
  pipe_perf_item(perf, -1, 1000, false);
  pipe_perf_cache(perf, 9, 100, 100);
  pipe_perf_phase_end(perf, 5);
  return perf;
}

static double num(const json_t *o, const char *key)
{
  const json_t *v = json_object_get(o, key);
  assert_non_null(v);
  assert_true(json_is_number(v));
  return json_number_value(v);
}

static void check_report(const json_t *j)
{
  assert_true(json_is_object(j));
  assert_string_equal(json_string_value(json_object_get(j, "command")), "plugins:extract");
  assert_true(num(j, "wall_ms") >= 0);
  const json_t *phases = json_object_get(j, "phases");
  assert_true(json_is_array(phases));
  assert_int_equal(json_array_size(phases), 2);

  const json_t *scan = json_array_get(phases, 0);
  assert_string_equal(json_string_value(json_object_get(scan, "name")), "scan");
  assert_int_equal((int)num(scan, "items"), 5);
  assert_int_equal((int)num(scan, "failed"), 0);
  assert_float_equal(num(scan, "error_rate"), 0, EPS);
  assert_float_equal(num(scan, "p50_ms"), 3, EPS);
  assert_float_equal(num(scan, "max_ms"), 5, EPS);
  assert_float_equal(num(scan, "p95_ms"), 4.8, 1e-6); /* rank 3.8 of 1..5 */
  assert_true(num(scan, "wall_ms") >= 0);
  const json_t *cache = json_object_get(scan, "cache");
  assert_true(json_is_object(cache));
  assert_int_equal((int)num(cache, "hits"), 6);
  assert_int_equal((int)num(cache, "misses"), 2);
  assert_float_equal(num(cache, "hit_ratio"), 0.75, EPS);

  const json_t *ex = json_array_get(phases, 1);
  assert_string_equal(json_string_value(json_object_get(ex, "name")), "extract");
  assert_int_equal((int)num(ex, "items"), 4);
  assert_int_equal((int)num(ex, "failed"), 1);
  assert_float_equal(num(ex, "error_rate"), 0.25, EPS);
  assert_float_equal(num(ex, "p50_ms"), 25, EPS); /* between 20 and 30 */
  assert_float_equal(num(ex, "max_ms"), 40, EPS);
  /* No cache figures were given for this phase. */
  assert_null(json_object_get(ex, "cache"));
}

static void test_perf_json(void **state)
{
  (void)state;
  PipePerf *perf = two_phase_perf();
  json_t *j = pipe_perf_json(perf);
  assert_non_null(j);
  check_report(j);
  json_decref(j);
  pipe_perf_free(perf);
  pipe_perf_free(NULL);
}

static void test_perf_phase_without_items(void **state)
{
  (void)state;
  PipePerf *perf = pipe_perf_new("cache:check");
  int ph = pipe_perf_phase_begin(perf, "lookup");
  pipe_perf_cache(perf, ph, 0, 0);
  pipe_perf_phase_end(perf, ph);
  json_t *j = pipe_perf_json(perf);
  const json_t *p0 = json_array_get(json_object_get(j, "phases"), 0);
  assert_non_null(p0);
  assert_int_equal((int)num(p0, "items"), 0);
  assert_float_equal(num(p0, "p50_ms"), 0, EPS);
  assert_float_equal(num(p0, "error_rate"), 0, EPS);
  /* No lookups: a ratio of 0, not a division by zero. */
  assert_float_equal(num(json_object_get(p0, "cache"), "hit_ratio"), 0, EPS);
  json_decref(j);
  pipe_perf_free(perf);
}

static void test_perf_write_json(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/perf.json", dir);
  PipePerf *perf = two_phase_perf();
  PipeDiagList *diags = pipe_diags_new();
  assert_int_equal(pipe_perf_write_json(perf, path, diags), PIPE_OK);
  assert_int_equal(pipe_diags_count(diags), 0);
  json_error_t err;
  json_t *j = json_load_file(path, 0, &err);
  if (!j)
    fail_msg("perf.json does not parse: %s (line %d)", err.text, err.line);
  check_report(j);
  json_decref(j);

  /* A path in a missing directory fails with a diagnostic. */
  snprintf(path, sizeof path, "%s/missing/perf.json", dir);
  assert_int_equal(pipe_perf_write_json(perf, path, diags), PIPE_ERR_IO);
  assert_int_equal(pipe_diags_count(diags), 1);
  pipe_diags_free(diags);
  pipe_perf_free(perf);
  tu_rmtree(dir);
  free(dir);
}

static void test_perf_print(void **state)
{
  (void)state;
  PipePerf *perf = two_phase_perf();
  FILE *f = tmpfile();
  assert_non_null(f);
  pipe_perf_print(perf, f);
  long n = ftell(f);
  assert_true(n > 0);
  rewind(f);
  char *buf = calloc(1, (size_t)n + 1);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);

  assert_non_null(strstr(buf, "plugins:extract"));
  /* One line per phase, each starting with the phase name. */
  int scan_lines = 0, extract_lines = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    const char *p = line + strspn(line, " ");
    if (!strncmp(p, "scan ", 5)) {
      scan_lines++;
      assert_non_null(strstr(p, "6/2 (75%)")); /* cache hits/misses */
    } else if (!strncmp(p, "extract ", 8)) {
      extract_lines++;
      assert_non_null(strstr(p, " 25.0 ")); /* error rate in percent */
      assert_true(p[strlen(p) - 1] == '-'); /* no cache figures */
    }
  }
  assert_int_equal(scan_lines, 1);
  assert_int_equal(extract_lines, 1);
  free(buf);
  pipe_perf_free(perf);
}

static void test_now_monotonic(void **state)
{
  (void)state;
  uint64_t a = pipe_now_ns();
  usleep(2000);
  uint64_t b = pipe_now_ns();
  assert_true(b > a);
  assert_true(b - a >= 2000000u);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_percentile_empty_and_single),
      cmocka_unit_test(test_percentile_odd),
      cmocka_unit_test(test_percentile_even),
      cmocka_unit_test(test_percentile_monotonic),
      cmocka_unit_test(test_perf_json),
      cmocka_unit_test(test_perf_phase_without_items),
      cmocka_unit_test(test_perf_write_json),
      cmocka_unit_test(test_perf_print),
      cmocka_unit_test(test_now_monotonic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
