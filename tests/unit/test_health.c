/* test_health.c: plug_health over copies of all eight fixture bundles -- each defect is reported as what it is,
 * in one run, and what the plugins print goes to the log file, never to this process's output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "plugins/plug.h"
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_NS "urn:ctrlmap:test:"

static const char *const ALL[] = {"ctrlmap-allports.lv2", "ctrlmap-crash.lv2",    "ctrlmap-hang.lv2",
                                  "ctrlmap-needfeature.lv2", "ctrlmap-noisy.lv2", "ctrlmap-nan.lv2",
                                  "ctrlmap-abort.lv2",    "ctrlmap-nullinst.lv2", NULL};

typedef struct {
  char *tmp;
  char lv2[4096], log[4096];
  json_t *results;  /* the full run */
  char *own_output; /* what this process's stdout and stderr received during the run */
  double wall_ms;
} Fixture;

static int setup(void **state)
{
  Fixture *f = calloc(1, sizeof *f);
  f->tmp = tu_tempdir();
  snprintf(f->lv2, sizeof f->lv2, "%s/lv2", f->tmp);
  snprintf(f->log, sizeof f->log, "%s/health.log", f->tmp);
  tu_copy_bundles(f->lv2, ALL);

  /* Catch anything that would reach this process's stdout/stderr while the plugins run. */
  char out_path[4200];
  snprintf(out_path, sizeof out_path, "%s/own-output", f->tmp);
  fflush(stdout);
  fflush(stderr);
  int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
  int sink = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (sink < 0 || saved_out < 0 || saved_err < 0)
    return -1;
  dup2(sink, STDOUT_FILENO);
  dup2(sink, STDERR_FILENO);
  close(sink);

  PipeDiagList *diags = pipe_diags_new();
  PlugHealthOpts opts = {.lv2_path = f->lv2, .jobs = 2, .timeout_s = 2, .log_path = f->log};
  PipePerf *perf = pipe_perf_new("plugins:health");
  uint64_t t0 = pipe_now_ns();
  PipeStatus st = plug_health(&opts, perf, &f->results, diags);
  f->wall_ms = (double)(pipe_now_ns() - t0) / 1e6;

  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, STDOUT_FILENO);
  dup2(saved_err, STDERR_FILENO);
  close(saved_out);
  close(saved_err);
  f->own_output = tu_read_file(out_path, NULL);
  pipe_perf_free(perf);
  size_t n_diags = pipe_diags_count(diags);
  pipe_diags_free(diags);
  *state = f;
  if (st != PIPE_OK || !json_is_array(f->results) || n_diags) {
    fprintf(stderr, "plug_health: status %d, %zu diagnostics\n", (int)st, n_diags);
    return -1;
  }
  return 0;
}

static int teardown(void **state)
{
  Fixture *f = *state;
  json_decref(f->results);
  free(f->own_output);
  tu_rmtree(f->tmp);
  free(f->tmp);
  free(f);
  return 0;
}

static json_t *result_of(json_t *results, const char *uri)
{
  size_t i;
  json_t *r;
  json_array_foreach (results, i, r)
    if (!strcmp(json_string_value(json_object_get(r, "uri")), uri))
      return r;
  fail_msg("no result for <%s>", uri);
  return NULL;
}

static void assert_status(json_t *results, const char *name, const char *status, const char *detail_part)
{
  char uri[256];
  snprintf(uri, sizeof uri, TEST_NS "%s", name);
  json_t *r = result_of(results, uri);
  const char *got = json_string_value(json_object_get(r, "status"));
  const char *detail = json_string_value(json_object_get(r, "detail"));
  if (!got || strcmp(got, status))
    fail_msg("%s: status %s (%s), want %s", name, got ? got : "(none)", detail ? detail : "no detail", status);
  if (detail_part && (!detail || !strstr(detail, detail_part)))
    fail_msg("%s: detail \"%s\" does not contain \"%s\"", name, detail ? detail : "(none)", detail_part);
}

static void test_every_plugin_once(void **state)
{
  Fixture *f = *state;
  assert_int_equal(json_array_size(f->results), 8);
  for (size_t i = 0; ALL[i]; i++) {
    char uri[256];
    /* "ctrlmap-NAME.lv2" -> urn:ctrlmap:test:NAME */
    snprintf(uri, sizeof uri, TEST_NS "%.*s", (int)(strlen(ALL[i]) - 12), ALL[i] + 8);
    json_t *r = result_of(f->results, uri);
    json_t *ms = json_object_get(r, "ms");
    assert_true(json_is_number(ms));
    assert_true(json_number_value(ms) >= 0);
  }
}

static void test_healthy(void **state)
{
  Fixture *f = *state;
  assert_status(f->results, "allports", "ok", NULL);
  assert_status(f->results, "noisy", "ok", NULL);
}

static void test_non_finite(void **state)
{
  Fixture *f = *state;
  assert_status(f->results, "nan", "non-finite", "out");
  assert_status(f->results, "nan", "non-finite", "meter");
  json_t *ports = json_object_get(result_of(f->results, TEST_NS "nan"), "ports");
  assert_int_equal(json_array_size(ports), 2);
  assert_string_equal(json_string_value(json_array_get(ports, 0)), "out");
  assert_string_equal(json_string_value(json_array_get(ports, 1)), "meter");
}

static void test_crashes(void **state)
{
  Fixture *f = *state;
  assert_status(f->results, "crash", "crashed", "SIGSEGV");
  assert_status(f->results, "abort", "crashed", "SIGABRT");
}

static void test_timeout(void **state)
{
  Fixture *f = *state;
  assert_status(f->results, "hang", "timeout", NULL);
  double ms = json_number_value(json_object_get(result_of(f->results, TEST_NS "hang"), "ms"));
  if (ms < 1900 || ms > 10000)
    fail_msg("hang took %.1f ms with a 2 s timeout", ms);
  /* The hang held one worker; the other finished the rest meanwhile, so the run took about the timeout. */
  if (f->wall_ms > 8000)
    fail_msg("the whole run took %.0f ms", f->wall_ms);
}

static void test_missing_feature(void **state)
{
  Fixture *f = *state;
  assert_status(f->results, "needfeature", "missing-feature", "urn:ctrlmap:test:unsupported-feature");
}

static void test_instantiate_failed(void **state)
{
  Fixture *f = *state;
  assert_status(f->results, "nullinst", "instantiate-failed", NULL);
}

static void test_output_captured(void **state)
{
  Fixture *f = *state;
  char *log = tu_read_file(f->log, NULL);
  assert_non_null(log);
  assert_non_null(strstr(log, "NOISY-STDOUT"));
  assert_non_null(strstr(log, "NOISY-STDERR"));
  /* Each of instantiate, activate and run printed to both streams. */
  assert_non_null(strstr(log, "NOISY-STDOUT run"));
  assert_non_null(strstr(log, "NOISY-STDERR activate"));
  free(log);
  assert_non_null(f->own_output);
  if (strstr(f->own_output, "NOISY-"))
    fail_msg("plugin output reached the caller's stdout/stderr: %s", f->own_output);
}

static void test_filter(void **state)
{
  Fixture *f = *state;
  PlugHealthOpts opts = {.lv2_path = f->lv2, .filter = "noisy", .jobs = 2, .timeout_s = 2};
  json_t *results = NULL;
  assert_int_equal(plug_health(&opts, NULL, &results, NULL), PIPE_OK);
  assert_int_equal(json_array_size(results), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(results, 0), "uri")), TEST_NS "noisy");
  assert_status(results, "noisy", "ok", NULL);
  json_decref(results);

  /* With an index, the filter also matches names, case-insensitively. */
  json_t *names = json_pack("{s:{s:s}}", TEST_NS "allports", "name", "ctrlmap all ports");
  opts.filter = "ALL PORTS";
  opts.names = names;
  assert_int_equal(plug_health(&opts, NULL, &results, NULL), PIPE_OK);
  assert_int_equal(json_array_size(results), 1);
  assert_status(results, "allports", "ok", NULL);
  json_decref(results);
  json_decref(names);

  /* Nothing matches: nothing runs. */
  opts.filter = "no-such-plugin";
  opts.names = NULL;
  assert_int_equal(plug_health(&opts, NULL, &results, NULL), PIPE_OK);
  assert_int_equal(json_array_size(results), 0);
  json_decref(results);
}

static void test_status_names(void **state)
{
  (void)state;
  assert_string_equal(plug_health_status_name(PLUG_HEALTH_OK), "ok");
  assert_string_equal(plug_health_status_name(PLUG_HEALTH_MISSING_FEATURE), "missing-feature");
  assert_string_equal(plug_health_status_name(PLUG_HEALTH_INSTANTIATE_FAILED), "instantiate-failed");
  assert_string_equal(plug_health_status_name(PLUG_HEALTH_CRASHED), "crashed");
  assert_string_equal(plug_health_status_name(PLUG_HEALTH_TIMEOUT), "timeout");
  assert_string_equal(plug_health_status_name(PLUG_HEALTH_NONFINITE), "non-finite");
  assert_string_equal(plug_health_status_name(PLUG_HEALTH_ERROR), "error");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_plugin_once), cmocka_unit_test(test_healthy),
      cmocka_unit_test(test_non_finite),        cmocka_unit_test(test_crashes),
      cmocka_unit_test(test_timeout),           cmocka_unit_test(test_missing_feature),
      cmocka_unit_test(test_instantiate_failed), cmocka_unit_test(test_output_captured),
      cmocka_unit_test(test_filter),            cmocka_unit_test(test_status_names),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
