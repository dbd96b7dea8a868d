/* test_map_check.c: maps:check's cross-check of canonical maps against plugin descriptors (maps/check.c). The
 * descriptors come from a real plug_extract run over a temporary copy of the allports fixture bundle
 * (tests/fixtures/lv2/allports: gain 2, freq 3, level 4 (output), enable 5 (toggled), control 6 (atom), mode 9
 * (enumeration), steps 10, trig 11 (trigger, toggled), hidden 12, cutoff 13, latency 14 (output)), plus two
 * Turtle-only variants written here: "ctrlmap twin" twice (urn:ctrlmap:test:ambig and :twin), the first with two
 * ports named "Gain". The maps are in tests/data/rules/check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cache/cache.h"
#include "maps/map.h"
#include "pipeline/diag.h"
#include "plugins/plug.h"
#include "testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  char *tmp, *lv2, *cache;
  CacheStore *store;
  json_t *index;
  MapChecker *checker;
} Env;

/* ---------------------------------------------------------------------------------------------------------------
 * Helpers */



/* A Turtle-only copy of the allports bundle under another URI and name (the stream engine reads only Turtle). */
static void write_variant(const Env *e, const char *bundle, const char *uri, const char *name, bool twin_gain)
{
  char *dir = tu_path_join(e->lv2, bundle);
  assert_int_equal(mkdir(dir, 0755), 0);
  const char *files[] = {"manifest.ttl", "allports.ttl"};
  for (size_t i = 0; i < 2; i++) {
    char *src_dir = tu_path_join(tu_fixture_lv2_dir(), "ctrlmap-allports.lv2");
    char *src = tu_path_join(src_dir, files[i]);
    char *text = tu_read_file(src, NULL);
    assert_non_null(text);
    char *a = tu_replace_all(text, "urn:ctrlmap:test:allports", uri);
    char *b = tu_replace_all(a, "doap:name \"ctrlmap all ports\"", name);
    char *c = twin_gain ? tu_replace_all(b, "lv2:name \"Hidden\"", "lv2:name \"Gain\"") : strdup(b);
    char *dst = tu_path_join(dir, files[i]);
    tu_write_file(dst, c, strlen(c));
    free(dst);
    free(c);
    free(b);
    free(a);
    free(text);
    free(src);
    free(src_dir);
  }
  free(dir);
}

static int setup(void **state)
{
  Env *e = calloc(1, sizeof(Env));
  assert_non_null(e);
  e->tmp = tu_tempdir();
  e->lv2 = tu_path_join(e->tmp, "lv2");
  e->cache = tu_path_join(e->tmp, "cache");
  const char *bundles[] = {"ctrlmap-allports.lv2", NULL};
  tu_copy_bundles(e->lv2, bundles);
  write_variant(e, "ctrlmap-ambig.lv2", "urn:ctrlmap:test:ambig", "doap:name \"ctrlmap twin\"", true);
  write_variant(e, "ctrlmap-twin.lv2", "urn:ctrlmap:test:twin", "doap:name \"ctrlmap twin\"", false);

  PipeDiagList *d = pipe_diags_new();
  PipeStatus st;
  e->store = cache_open(e->cache, CACHE_WRITE, 10000, &st, d);
  assert_non_null(e->store);
  PlugExtractOpts opts = {.lv2_path = e->lv2, .jobs = 1};
  PlugExtractReport *r = NULL;
  assert_int_equal(plug_extract(e->store, &opts, NULL, &r, d), PIPE_OK);
  assert_non_null(r);
  if (r->plugins != 3 || r->failed != 0) {
    pipe_diags_print(d, stderr);
    fail_msg("extracted %zu plugins, %zu failed; want 3 and 0", r->plugins, r->failed);
  }
  plug_extract_report_free(r);
  assert_int_equal(plug_index_load(e->store, &e->index, d), PIPE_OK);
  assert_int_equal(json_object_size(plug_index_entries(e->index)), 3);
  e->checker = map_checker_new(e->store, e->index);
  assert_non_null(e->checker);
  pipe_diags_free(d);
  *state = e;
  return 0;
}

static int teardown(void **state)
{
  Env *e = *state;
  map_checker_free(e->checker);
  json_decref(e->index);
  cache_close(e->store);
  tu_rmtree(e->tmp);
  free(e->tmp);
  free(e->lv2);
  free(e->cache);
  free(e);
  return 0;
}

/* One map of tests/data/rules/check, validated and checked. */
typedef struct {
  MapSet *set;
  PipeDiagList *validate, *check;
  json_t *bindings;
} Checked;

static Checked check_map(Env *e, const char *name)
{
  char rel[256];
  snprintf(rel, sizeof rel, "%s/tests/data/rules/check/%s", getenv("CTRLMAP_SOURCE_DIR"), name);
  const char *paths[] = {rel};
  Checked c = {.validate = pipe_diags_new(), .check = pipe_diags_new()};
  c.set = map_set_load(paths, 1, NULL, c.validate);
  assert_int_equal(map_set_size(c.set), 1);
  if (pipe_diags_count_severity(c.validate, PIPE_SEV_ERROR) ||
      pipe_diags_count_severity(c.validate, PIPE_SEV_WARNING)) {
    pipe_diags_print(c.validate, stderr);
    fail_msg("%s does not pass maps:validate", name);
  }
  c.bindings = map_check(e->checker, c.set, 0, c.check);
  return c;
}

static void checked_free(Checked *c)
{
  json_decref(c->bindings);
  map_set_free(c->set);
  pipe_diags_free(c->validate);
  pipe_diags_free(c->check);
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = s ? strlen(s) : 0, m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

static const PipeDiag *finding_at(const PipeDiagList *d, const char *code, unsigned line, unsigned column)
{
  for (size_t i = 0; i < pipe_diags_count(d); i++) {
    const PipeDiag *g = pipe_diags_get(d, i);
    if (!strcmp(g->code, code) && g->line == line && g->column == column)
      return g;
  }
  return NULL;
}

static size_t count_code(const PipeDiagList *d, const char *code)
{
  size_t n = 0;
  for (size_t i = 0; i < pipe_diags_count(d); i++)
    n += !strcmp(pipe_diags_get(d, i)->code, code);
  return n;
}

/* The finding must be there, with its severity, on the map's file, and saying `text` (if not NULL). */
static void expect(const Checked *c, PipeSeverity sev, const char *code, unsigned line, unsigned column,
                   const char *text)
{
  const PipeDiag *g = finding_at(c->check, code, line, column);
  if (!g || g->severity != sev || (text && !strstr(g->message, text)) || !ends_with(g->file, ".yaml")) {
    pipe_diags_print(c->check, stderr);
    fail_msg("expected %s at %u:%u%s%s", code, line, column, text ? " saying " : "", text ? text : "");
  }
}

static json_t *binding(json_t *bindings, const char *control)
{
  size_t i;
  json_t *b;
  json_array_foreach(json_object_get(bindings, "bindings"), i, b)
    if (!strcmp(json_string_value(json_object_get(b, "control")), control))
      return b;
  fail_msg("no binding for %s", control);
  return NULL;
}

static json_int_t int_at(json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v))
    fail_msg("%s is not an integer", key);
  return json_integer_value(v);
}

static const char *str_at(json_t *obj, const char *key)
{
  const char *s = json_string_value(json_object_get(obj, key));
  if (!s)
    fail_msg("%s is not a string", key);
  return s;
}

/* The parameter a binding resolved to: port index, symbol, Ardour parameter number. */
static void assert_param(json_t *b, json_int_t index, const char *symbol, json_int_t ardour_param)
{
  json_t *p = json_object_get(b, "parameter");
  assert_non_null(p);
  assert_int_equal(int_at(p, "index"), index);
  assert_string_equal(str_at(p, "symbol"), symbol);
  assert_int_equal(int_at(p, "ardour_param"), ardour_param);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Resolving */

static void test_good_map(void **state)
{
  Env *e = *state;
  Checked c = check_map(e, "good.yaml");
  assert_non_null(c.bindings);
  if (pipe_diags_count(c.check)) {
    pipe_diags_print(c.check, stderr);
    fail_msg("good.yaml has check findings");
  }
  json_t *b = c.bindings;
  assert_true(ends_with(str_at(b, "map"), "tests/data/rules/check/good.yaml"));
  assert_int_equal(strlen(str_at(b, "map_hash")), 16);
  assert_int_equal(strlen(str_at(b, "descriptor_hash")), 16);
  assert_string_equal(str_at(b, "descriptor_hash"),
                      json_string_value(json_object_get(
                          json_object_get(plug_index_entries(e->index), "urn:ctrlmap:test:allports"), "hash")));
  assert_string_equal(str_at(b, "name"), "allports, every way of naming a parameter");
  assert_string_equal(str_at(json_object_get(b, "plugin"), "uri"), "urn:ctrlmap:test:allports");
  assert_string_equal(str_at(json_object_get(b, "plugin"), "name"), "ctrlmap all ports");
  assert_string_equal(str_at(json_object_get(b, "device"), "profile"), "novation-launch-control-xl3");
  assert_int_equal(int_at(b, "channel"), 6);
  /* no ardour: section: the first plugin of route S1 */
  assert_string_equal(str_at(json_object_get(b, "ardour"), "route"), "S1");
  assert_int_equal(int_at(json_object_get(b, "ardour"), "plugin_position"), 1);
  /* 7 parameters bound (gain steps freq cutoff enable mode trig) of the 8 control inputs; hidden is not */
  assert_int_equal(int_at(json_object_get(b, "coverage"), "bound"), 7);
  assert_int_equal(int_at(json_object_get(b, "coverage"), "bindable"), 8);
  /* 7 parameter bindings and one function; the unbound slider_8 is left out */
  assert_int_equal(json_array_size(json_object_get(b, "bindings")), 8);

  /* by symbol; the CC from the profile (encoder_1: 13); absolute by default */
  json_t *x = binding(b, "encoder_1");
  assert_param(x, 2, "gain", 1);
  assert_string_equal(str_at(x, "name"), "Gain");
  assert_string_equal(str_at(x, "type"), "encoder");
  assert_string_equal(str_at(x, "message"), "cc");
  assert_int_equal(int_at(x, "number"), 13);
  assert_int_equal(int_at(x, "channel"), 6);
  assert_string_equal(str_at(x, "encoding"), "absolute");
  assert_null(json_object_get(x, "mode"));
  json_t *p = json_object_get(x, "parameter");
  assert_true(json_number_value(json_object_get(p, "minimum")) == -20.0);
  assert_true(json_number_value(json_object_get(p, "maximum")) == 20.0);
  assert_true(json_is_false(json_object_get(p, "toggled")));
  /* by index (an integer), relative encoding */
  x = binding(b, "encoder_2");
  assert_param(x, 10, "steps", 6);
  assert_string_equal(str_at(x, "encoding"), "enc-r");
  assert_int_equal(int_at(x, "number"), 14);
  assert_null(json_object_get(x, "name")); /* the control has no name: no key (the schema wants a string) */
  /* by index, written as a string of digits */
  x = binding(b, "encoder_3");
  assert_param(x, 3, "freq", 2);
  assert_true(json_is_true(json_object_get(json_object_get(x, "parameter"), "logarithmic")));
  /* by name (the symbol is "cutoff"), on its own channel */
  x = binding(b, "encoder_4");
  assert_param(x, 13, "cutoff", 9);
  assert_int_equal(int_at(x, "channel"), 9);
  /* buttons: no encoding, their mode */
  x = binding(b, "button_1");
  assert_param(x, 5, "enable", 4);
  assert_string_equal(str_at(x, "mode"), "toggle");
  assert_null(json_object_get(x, "encoding"));
  assert_int_equal(int_at(x, "number"), 37);
  assert_true(json_is_true(json_object_get(json_object_get(x, "parameter"), "toggled")));
  x = binding(b, "button_2");
  assert_param(x, 9, "mode", 5);
  x = binding(b, "button_3");
  assert_param(x, 11, "trig", 7);
  assert_string_equal(str_at(x, "mode"), "momentary");
  /* a function */
  x = binding(b, "button_9");
  assert_string_equal(str_at(x, "function"), "transport-roll");
  assert_null(json_object_get(x, "parameter"));
  assert_int_equal(int_at(x, "number"), 45);
  checked_free(&c);
}

static void test_plugin_by_name(void **state)
{
  Env *e = *state;
  Checked c = check_map(e, "by-name.yaml");
  assert_non_null(c.bindings);
  /* the name matches whatever its case */
  expect(&c, PIPE_SEV_NOTE, "plugin-by-name", 9, 3, "urn:ctrlmap:test:allports");
  assert_int_equal(pipe_diags_count(c.check), 1);
  json_t *b = c.bindings;
  assert_string_equal(str_at(json_object_get(b, "plugin"), "uri"), "urn:ctrlmap:test:allports");
  assert_int_equal(int_at(b, "channel"), 12);
  assert_string_equal(str_at(json_object_get(b, "ardour"), "route"), "Bus 2");
  assert_int_equal(int_at(json_object_get(b, "ardour"), "plugin_position"), 3);
  assert_int_equal(int_at(json_object_get(b, "coverage"), "bound"), 2);
  assert_int_equal(int_at(json_object_get(b, "coverage"), "bindable"), 8);
  /* by name: "Frequency" is freq's name */
  json_t *x = binding(b, "encoder_1");
  assert_param(x, 3, "freq", 2);
  assert_int_equal(int_at(x, "number"), 13);
  /* "13" is port 13 */
  x = binding(b, "slider_1");
  assert_param(x, 13, "cutoff", 9);
  assert_int_equal(int_at(x, "number"), 53);
  assert_null(json_object_get(x, "encoding"));
  checked_free(&c);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Findings */

static void test_bad_bindings(void **state)
{
  Env *e = *state;
  Checked c = check_map(e, "bad.yaml");
  assert_non_null(c.bindings); /* the plugin is there: the bindings that work are returned */
  expect(&c, PIPE_SEV_ERROR, "param-not-found", 13, 54, "'gian'; did you mean 'gain'?");
  expect(&c, PIPE_SEV_ERROR, "param-not-found", 14, 54, "no port 99 (it has 15 ports");
  expect(&c, PIPE_SEV_ERROR, "param-output", 15, 54, "'level'");
  expect(&c, PIPE_SEV_ERROR, "param-output", 16, 54, "'latency'"); /* found by its name, Latency */
  expect(&c, PIPE_SEV_ERROR, "param-not-control", 17, 54, "'control' is an atom port");
  expect(&c, PIPE_SEV_ERROR, "param-not-control", 18, 54, "'in' is an audio port");
  expect(&c, PIPE_SEV_WARNING, "fit-button-continuous", 20, 52, "'gain'");
  expect(&c, PIPE_SEV_WARNING, "fit-continuous-toggle", 21, 54, "encoder 'encoder_7' drives 'enable'");
  expect(&c, PIPE_SEV_WARNING, "fit-momentary", 22, 40, "'mode'");
  expect(&c, PIPE_SEV_WARNING, "fit-range", 24, 51, "[10, 20000] goes beyond 'freq''s range [20, 20000]");
  expect(&c, PIPE_SEV_WARNING, "param-bound-twice", 27, 69, "'enable' is already driven by control 'encoder_7'");
  expect(&c, PIPE_SEV_WARNING, "param-bound-twice", 28, 54, "'gain' is already driven by control 'button_1'");
  if (pipe_diags_count(c.check) != 12) {
    pipe_diags_print(c.check, stderr);
    fail_msg("%zu findings, want 12", pipe_diags_count(c.check));
  }
  /* a momentary button on a trigger (line 23) or a toggle (line 27) fits; parameter_range inside cutoff's fits */
  assert_int_equal(count_code(c.check, "fit-momentary"), 1);
  assert_int_equal(count_code(c.check, "fit-range"), 1);
  /* bound: gain enable mode trig freq cutoff; the failed ones are not bindings, the twice-bound ones are */
  assert_int_equal(int_at(json_object_get(c.bindings, "coverage"), "bound"), 6);
  assert_int_equal(json_array_size(json_object_get(c.bindings, "bindings")), 8);
  assert_param(binding(c.bindings, "encoder_8"), 2, "gain", 1); /* "Gain": the name */
  checked_free(&c);
}

static void test_plugin_not_found(void **state)
{
  Env *e = *state;
  /* an unknown URI (the name, which would match, is not used when there is a URI) */
  Checked c = check_map(e, "not-installed.yaml");
  assert_null(c.bindings);
  expect(&c, PIPE_SEV_ERROR, "plugin-not-installed", 10, 8, "<urn:ctrlmap:test:nothing>");
  assert_int_equal(pipe_diags_count(c.check), 1);
  checked_free(&c);
  /* a name only, like the corpus's VSTs */
  c = check_map(e, "name-only.yaml");
  assert_null(c.bindings);
  expect(&c, PIPE_SEV_ERROR, "plugin-not-installed", 9, 3, "no installed LV2 plugin is named 'TAL-J-8'");
  assert_int_equal(pipe_diags_count(c.check), 1);
  checked_free(&c);
  /* a name two installed plugins have: plugin-ambiguous, and nothing else (not "not installed") */
  c = check_map(e, "twin-plugin.yaml");
  assert_null(c.bindings);
  expect(&c, PIPE_SEV_ERROR, "plugin-ambiguous", 9, 3, "[\"urn:ctrlmap:test:ambig\",\"urn:ctrlmap:test:twin\"]");
  if (pipe_diags_count(c.check) != 1) {
    pipe_diags_print(c.check, stderr);
    fail_msg("%zu findings, want 1", pipe_diags_count(c.check));
  }
  checked_free(&c);
}

static void test_param_ambiguous(void **state)
{
  Env *e = *state;
  Checked c = check_map(e, "twin-param.yaml");
  assert_non_null(c.bindings);
  expect(&c, PIPE_SEV_ERROR, "param-ambiguous", 12, 54, "2 ports are named 'GAIN'");
  assert_int_equal(pipe_diags_count(c.check), 1);
  /* the symbol is exact, so "gain" is not ambiguous */
  assert_param(binding(c.bindings, "encoder_2"), 2, "gain", 1);
  assert_string_equal(str_at(json_object_get(c.bindings, "plugin"), "name"), "ctrlmap twin");
  assert_int_equal(int_at(json_object_get(c.bindings, "coverage"), "bound"), 1);
  checked_free(&c);
}

/* The same map twice on one checker (the descriptor is loaded once): the same bindings. */
static void test_repeatable(void **state)
{
  Env *e = *state;
  Checked a = check_map(e, "good.yaml"), b = check_map(e, "good.yaml");
  assert_non_null(a.bindings);
  assert_true(json_equal(a.bindings, b.bindings));
  checked_free(&a);
  checked_free(&b);
}

/* ---------------------------------------------------------------------------------------------------------------
 * The schema (when python3-jsonschema is there: a test-only tool) */

static void test_schema(void **state)
{
  Env *e = *state;
  if (system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") != 0) {
    fprintf(stderr, "skipped: /usr/bin/python3 with jsonschema is not available\n");
    skip();
  }
  const char *maps[] = {"good.yaml", "by-name.yaml", "bad.yaml", "twin-param.yaml"};
  for (size_t i = 0; i < 4; i++) {
    Checked c = check_map(e, maps[i]);
    assert_non_null(c.bindings);
    char *file = tu_path_join(e->tmp, "bindings.json");
    assert_int_equal(json_dump_file(c.bindings, file, JSON_INDENT(1)), 0);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json, sys, jsonschema; "
             "s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2])); "
             "errs = list(jsonschema.Draft202012Validator(s).iter_errors(d)); "
             "[print(e.json_path, e.message, file=sys.stderr) for e in errs]; sys.exit(1 if errs else 0)' "
             "'%s/schemas/map-bindings.schema.json' '%s'",
             getenv("CTRLMAP_SOURCE_DIR"), file);
    if (system(cmd) != 0)
      fail_msg("the bindings of %s do not validate against schemas/map-bindings.schema.json", maps[i]);
    free(file);
    checked_free(&c);
  }
}

/* A descriptor damaged in the cache: plugin-descriptor, not a crash or a guess. Last: it damages the cache. */
static void test_damaged_descriptor(void **state)
{
  Env *e = *state;
  char *dir = tu_path_join(e->cache, "plugins/desc");
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *de;
  size_t damaged = 0;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    char *path = tu_path_join(dir, de->d_name);
    tu_write_file(path, "{\"broken\": ", 11);
    free(path);
    damaged++;
  }
  closedir(d);
  free(dir);
  assert_int_equal(damaged, 3);
  MapChecker *fresh = map_checker_new(e->store, e->index); /* the old one has the descriptor in memory */
  MapChecker *old = e->checker;
  e->checker = fresh;
  Checked c = check_map(e, "by-name.yaml");
  assert_null(c.bindings);
  expect(&c, PIPE_SEV_ERROR, "plugin-descriptor", 9, 3, "<urn:ctrlmap:test:allports>");
  checked_free(&c);
  e->checker = old;
  map_checker_free(fresh);
}

int main(void)
{
  const char *src = getenv("CTRLMAP_SOURCE_DIR");
  if (!src) {
    fprintf(stderr, "CTRLMAP_SOURCE_DIR is not set: run the tests through ctest\n");
    return 1;
  }
  char data[4096];
  snprintf(data, sizeof data, "%s/maps", src); /* the bundled profiles of this tree */
  setenv("CTRLMAP_DATA_DIR", data, 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_map),        cmocka_unit_test(test_plugin_by_name),
      cmocka_unit_test(test_bad_bindings),    cmocka_unit_test(test_plugin_not_found),
      cmocka_unit_test(test_param_ambiguous), cmocka_unit_test(test_repeatable),
      cmocka_unit_test(test_schema),          cmocka_unit_test(test_damaged_descriptor),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
