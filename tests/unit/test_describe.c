/* test_describe.c: the descriptor plugins:extract writes for the fixture plugin that has every port kind and
 * property (ctrlmap-allports.lv2), read back through the index, checked field by field. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "plugins/plug.h"
#include "testutil.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define URI "urn:ctrlmap:test:allports"
#define LV2 "http://lv2plug.in/ns/lv2core#"
#define ATOM "http://lv2plug.in/ns/ext/atom#"
#define UNITS "http://lv2plug.in/ns/extensions/units#"

typedef struct {
  char *tmp;
  json_t *index;
  json_t *desc;
  char *desc_text; /* the descriptor file as written */
} Fixture;

/* Extracts (with `engine`) the given bundles (copied from the fixtures, plus `extra_dirs`, absolute paths copied as they are) into
 * a fresh cache under f->tmp and loads the index and the allports descriptor. */
static void describe_into(Fixture *f, const char *const *extra_dirs, PlugEngine engine)
{
  f->tmp = tu_tempdir();
  char lv2[4096], cache[4096];
  snprintf(lv2, sizeof lv2, "%s/lv2", f->tmp);
  snprintf(cache, sizeof cache, "%s/cache", f->tmp);
  static const char *const bundles[] = {"ctrlmap-allports.lv2", NULL};
  tu_copy_bundles(lv2, bundles);
  for (size_t i = 0; extra_dirs && extra_dirs[i]; i++) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -R '%s' '%s/'", extra_dirs[i], lv2);
    assert_int_equal(system(cmd), 0);
  }

  PipeDiagList *diags = pipe_diags_new();
  PipeStatus st;
  CacheStore *store = cache_open(cache, CACHE_WRITE, 10000, &st, diags);
  assert_non_null(store);
  PlugExtractOpts opts = {.lv2_path = lv2, .engine = engine, .jobs = 1};
  PlugExtractReport *r = NULL;
  assert_int_equal(plug_extract(store, &opts, NULL, &r, diags), PIPE_OK);
  assert_int_equal(r->plugins, 1);
  assert_int_equal(r->extracted, 1);
  assert_int_equal(r->failed, 0);
  plug_extract_report_free(r);

  assert_int_equal(plug_index_load(store, &f->index, diags), PIPE_OK);
  assert_int_equal(plug_desc_load(store, f->index, URI, &f->desc, diags), PIPE_OK);
  assert_true(json_is_object(f->desc));
  json_t *entry = json_object_get(plug_index_entries(f->index), URI);
  char *path = cache_path(store, json_string_value(json_object_get(entry, "file")));
  f->desc_text = tu_read_file(path, NULL);
  assert_non_null(f->desc_text);
  free(path);
  cache_close(store);
  assert_int_equal(pipe_diags_count_severity(diags, PIPE_SEV_ERROR), 0);
  pipe_diags_free(diags);
}

static int setup(void **state)
{
  Fixture *f = calloc(1, sizeof *f);
  describe_into(f, NULL, PLUG_ENGINE_STREAM);
  *state = f;
  return 0;
}

static void fixture_release(Fixture *f)
{
  json_decref(f->index);
  json_decref(f->desc);
  free(f->desc_text);
  tu_rmtree(f->tmp);
  free(f->tmp);
}

static int teardown(void **state)
{
  fixture_release(*state);
  free(*state);
  return 0;
}

/* ---- helpers ---- */

static const char *str_of(json_t *obj, const char *key)
{
  return json_string_value(json_object_get(obj, key));
}

static void assert_str(json_t *obj, const char *key, const char *want)
{
  const char *got = str_of(obj, key);
  if (!got)
    fail_msg("\"%s\" is missing or not a string (want \"%s\")", key, want);
  assert_string_equal(got, want);
}

static void assert_int_key(json_t *obj, const char *key, json_int_t want)
{
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v))
    fail_msg("\"%s\" is not an integer (want %lld)", key, (long long)want);
  assert_int_equal(json_integer_value(v), want);
}

static void assert_num_key(json_t *obj, const char *key, double want)
{
  json_t *v = json_object_get(obj, key);
  if (!json_is_number(v))
    fail_msg("\"%s\" is not a number (want %g)", key, want);
  if (json_number_value(v) != want)
    fail_msg("\"%s\" is %.17g, want %.17g", key, json_number_value(v), want);
}

static json_t *port_by_symbol(Fixture *f, const char *symbol)
{
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(f->desc, "ports"), i, p)
    if (!strcmp(str_of(p, "symbol"), symbol))
      return p;
  fail_msg("no port \"%s\"", symbol);
  return NULL;
}

/* `arr` is exactly the given strings, in this order (NULL-terminated). */
static void assert_strings(json_t *arr, const char *const *want)
{
  assert_true(json_is_array(arr));
  size_t n = 0;
  while (want[n])
    n++;
  if (json_array_size(arr) != n) {
    char *s = json_dumps(arr, JSON_COMPACT);
    fail_msg("array %s has %zu items, want %zu", s, json_array_size(arr), n);
  }
  for (size_t i = 0; i < n; i++)
    assert_string_equal(json_string_value(json_array_get(arr, i)), want[i]);
}

static bool array_has_string(json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
    if (json_is_string(v) && !strcmp(json_string_value(v), s))
      return true;
  return false;
}

/* The descriptor's "class" is exactly {uri, label}. */
static void assert_class(json_t *desc, const char *uri, const char *label)
{
  json_t *cls = json_object_get(desc, "class");
  if (!json_is_object(cls))
    fail_msg("\"class\" is missing or not an object");
  const char *got_uri = str_of(cls, "uri"), *got_label = str_of(cls, "label");
  if (!got_uri || strcmp(got_uri, uri) || !got_label || strcmp(got_label, label))
    fail_msg("class is {uri: %s, label: %s}, want {uri: %s, label: %s}", got_uri ? got_uri : "(none)",
             got_label ? got_label : "(none)", uri, label);
  assert_int_equal(json_object_size(cls), 2);
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

/* ---- the plugin ---- */

static void test_plugin_metadata(void **state)
{
  Fixture *f = *state;
  json_t *d = f->desc;
  assert_int_key(d, "format", 1);
  assert_int_equal(PLUG_DESC_FORMAT, 1);
  assert_str(d, "uri", URI);
  assert_str(d, "name", "ctrlmap all ports");

  /* Without the LV2 class ontology on the path (fixtures only), the class is the plugin's own rdf:type, labelled
   * with its local name (test_class_without_ontology checks the lilv engine, test_with_spec_bundles the label the
   * ontology gives). */
  assert_class(d, LV2 "EQPlugin", "EQPlugin");

  json_t *author = json_object_get(d, "author");
  assert_str(author, "name", "ctrlmap tests");
  assert_str(author, "email", "mailto:tests@example.org");
  assert_str(author, "homepage", "https://example.org/ctrlmap");
  json_t *project = json_object_get(d, "project");
  assert_str(project, "name", "ctrlmap test suite");
  assert_str(project, "uri", "urn:ctrlmap:test:project");
  json_t *version = json_object_get(d, "version");
  assert_int_key(version, "minor", 2);
  assert_int_key(version, "micro", 4);

  assert_strings(json_object_get(d, "required_features"),
                 (const char *const[]){"http://lv2plug.in/ns/ext/urid#map", NULL});
  assert_strings(json_object_get(d, "optional_features"), (const char *const[]){LV2 "hardRTCapable", NULL});
  assert_strings(json_object_get(d, "extension_data"), (const char *const[]){NULL});

  const char *bundle = str_of(d, "bundle");
  assert_non_null(bundle);
  assert_true(bundle[0] == '/');
  assert_true(ends_with(bundle, "/ctrlmap-allports.lv2/"));
  assert_non_null(strstr(bundle, f->tmp)); /* the copy, not the build tree */
  const char *binary = str_of(d, "binary");
  assert_non_null(binary);
  assert_true(ends_with(binary, "/ctrlmap-allports.lv2/allports.so"));

  assert_int_equal(json_array_size(json_object_get(d, "ports")), 15);
}

static void test_counts(void **state)
{
  Fixture *f = *state;
  json_t *c = json_object_get(f->desc, "counts");
  assert_true(json_is_object(c));
  assert_int_key(c, "audio_in", 1);
  assert_int_key(c, "audio_out", 1);
  assert_int_key(c, "control_in", 8);
  assert_int_key(c, "control_out", 2);
  assert_int_key(c, "atom_in", 1);
  assert_int_key(c, "atom_out", 1);
  assert_int_key(c, "cv_in", 1);
  assert_int_key(c, "cv_out", 0);
  assert_int_key(c, "other", 0);
  assert_int_key(c, "ardour_params", 10);

  /* The counts agree with the port list. */
  json_int_t in = 0, out = 0, params = 0;
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(f->desc, "ports"), i, p) {
    if (!strcmp(str_of(p, "kind"), "control")) {
      in += !strcmp(str_of(p, "direction"), "input");
      out += !strcmp(str_of(p, "direction"), "output");
    }
    params += json_object_get(p, "ardour_param") != NULL;
  }
  assert_int_equal(in, 8);
  assert_int_equal(out, 2);
  assert_int_equal(params, 10);
}

/* ---- ports ---- */

static void test_port_table(void **state)
{
  Fixture *f = *state;
  static const struct {
    const char *symbol, *name, *kind, *direction;
  } want[15] = {
      {"in", "In", "audio", "input"},          {"out", "Out", "audio", "output"},
      {"gain", "Gain", "control", "input"},    {"freq", "Frequency", "control", "input"},
      {"level", "Level", "control", "output"}, {"enable", "Enable", "control", "input"},
      {"control", "Control", "atom", "input"}, {"notify", "Notify", "atom", "output"},
      {"mod", "Mod", "cv", "input"},           {"mode", "Mode", "control", "input"},
      {"steps", "Steps", "control", "input"},  {"trig", "Trigger", "control", "input"},
      {"hidden", "Hidden", "control", "input"}, {"cutoff", "Cutoff", "control", "input"},
      {"latency", "Latency", "control", "output"},
  };
  json_t *ports = json_object_get(f->desc, "ports");
  assert_int_equal(json_array_size(ports), 15);
  for (size_t i = 0; i < 15; i++) {
    json_t *p = json_array_get(ports, i);
    assert_int_key(p, "index", (json_int_t)i);
    assert_str(p, "symbol", want[i].symbol);
    assert_str(p, "name", want[i].name);
    assert_str(p, "kind", want[i].kind);
    assert_str(p, "direction", want[i].direction);
  }
}

static void test_ardour_params(void **state)
{
  Fixture *f = *state;
  /* Ardour numbers all control ports, outputs included, in index order. */
  static const int control_index[10] = {2, 3, 4, 5, 9, 10, 11, 12, 13, 14};
  json_t *ports = json_object_get(f->desc, "ports");
  for (int k = 0; k < 10; k++) {
    json_t *p = json_array_get(ports, (size_t)control_index[k]);
    assert_int_key(p, "ardour_param", k + 1);
    bool output = control_index[k] == 4 || control_index[k] == 14;
    json_t *b = json_object_get(p, "bindable");
    assert_true(json_is_boolean(b));
    if (json_is_true(b) != !output)
      fail_msg("port %d: bindable is %s", control_index[k], json_is_true(b) ? "true" : "false");
  }
  static const int other_index[5] = {0, 1, 6, 7, 8};
  for (int k = 0; k < 5; k++) {
    json_t *p = json_array_get(ports, (size_t)other_index[k]);
    if (json_object_get(p, "ardour_param") || json_object_get(p, "bindable"))
      fail_msg("non-control port %d has an ardour_param or bindable", other_index[k]);
    /* Control-only fields stay off the other kinds. */
    assert_null(json_object_get(p, "default"));
    assert_null(json_object_get(p, "properties"));
    assert_null(json_object_get(p, "scale_points"));
  }
}

static void test_ranges(void **state)
{
  Fixture *f = *state;
  json_t *gain = port_by_symbol(f, "gain");
  assert_num_key(gain, "minimum", -20);
  assert_num_key(gain, "maximum", 20);
  assert_num_key(gain, "default", 0);
  json_t *freq = port_by_symbol(f, "freq");
  assert_num_key(freq, "minimum", 20);
  assert_num_key(freq, "maximum", 20000);
  assert_num_key(freq, "default", 1000);
  json_t *steps = port_by_symbol(f, "steps");
  assert_int_key(steps, "default", 2);
  assert_int_key(steps, "maximum", 4);

  /* 0.25 exactly, as written in the Turtle (not 0.25 rounded through float and back, and not an integer). */
  json_t *hidden = port_by_symbol(f, "hidden");
  assert_true(json_is_real(json_object_get(hidden, "default")));
  assert_num_key(hidden, "default", 0.25);
  assert_num_key(port_by_symbol(f, "cutoff"), "maximum", 0.5);
  assert_null(strstr(f->desc_text, "0.2500000"));
  assert_null(strstr(f->desc_text, "0.4999999"));

  /* Outputs without a default have an explicit null default. */
  json_t *level = port_by_symbol(f, "level");
  assert_true(json_is_null(json_object_get(level, "default")));
  assert_num_key(level, "maximum", 1);
  assert_num_key(port_by_symbol(f, "latency"), "maximum", 8192);
}

static void test_units(void **state)
{
  Fixture *f = *state;
  /* Named units: the URI (their symbol and label come from the units spec bundle, which is not on this path). */
  json_t *u = json_object_get(port_by_symbol(f, "gain"), "unit");
  assert_true(json_is_object(u));
  assert_str(u, "uri", UNITS "db");
  assert_str(json_object_get(port_by_symbol(f, "freq"), "unit"), "uri", UNITS "hz");
  /* A blank-node unit: symbol and label from the plugin's own data, and no URI. */
  u = json_object_get(port_by_symbol(f, "cutoff"), "unit");
  assert_true(json_is_object(u));
  assert_str(u, "symbol", "fs");
  assert_str(u, "label", "fraction of rate");
  assert_null(json_object_get(u, "uri"));
  /* No unit: null. */
  assert_true(json_is_null(json_object_get(port_by_symbol(f, "mode"), "unit")));
}

static void test_properties(void **state)
{
  Fixture *f = *state;
  static const struct {
    const char *symbol;
    const char *props[3];
  } want[] = {
      {"gain", {NULL}},
      {"freq", {"logarithmic", NULL}},
      {"level", {NULL}},
      {"enable", {"toggled", NULL}},
      {"mode", {"enumeration", "integer", NULL}},
      {"steps", {"integer", NULL}},
      {"trig", {"toggled", "trigger", NULL}},
      {"hidden", {"notOnGUI", NULL}},
      {"cutoff", {"sampleRate", NULL}},
      {"latency", {"integer", "reportsLatency", NULL}},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    assert_strings(json_object_get(port_by_symbol(f, want[i].symbol), "properties"), want[i].props);
}

static void test_designations(void **state)
{
  Fixture *f = *state;
  assert_str(port_by_symbol(f, "enable"), "designation", "enabled");
  assert_str(port_by_symbol(f, "latency"), "designation", "latency");
  assert_str(port_by_symbol(f, "control"), "designation", "control");
  size_t i;
  json_t *p;
  int n = 0;
  json_array_foreach (json_object_get(f->desc, "ports"), i, p)
    n += json_object_get(p, "designation") != NULL;
  assert_int_equal(n, 3);
}

static void test_scale_points_steps_groups(void **state)
{
  Fixture *f = *state;
  json_t *sp = json_object_get(port_by_symbol(f, "mode"), "scale_points");
  assert_int_equal(json_array_size(sp), 3);
  static const char *const labels[] = {"Low", "Mid", "High"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_key(json_array_get(sp, i), "value", (json_int_t)i);
    assert_str(json_array_get(sp, i), "label", labels[i]);
  }
  assert_int_equal(json_array_size(json_object_get(port_by_symbol(f, "gain"), "scale_points")), 0);

  assert_int_key(port_by_symbol(f, "steps"), "range_steps", 5);
  assert_null(json_object_get(port_by_symbol(f, "mode"), "range_steps"));

  static const char *const grouped[] = {"gain", "freq"};
  for (size_t i = 0; i < 2; i++) {
    json_t *g = json_object_get(port_by_symbol(f, grouped[i]), "group");
    assert_true(json_is_object(g));
    assert_str(g, "uri", URI "#main");
    assert_str(g, "symbol", "main");
    assert_str(g, "label", "Main");
  }
  assert_null(json_object_get(port_by_symbol(f, "level"), "group"));
  assert_null(json_object_get(port_by_symbol(f, "in"), "group"));
}

static void test_atom_ports(void **state)
{
  Fixture *f = *state;
  json_t *in = port_by_symbol(f, "control");
  assert_str(in, "buffer_type", ATOM "Sequence");
  assert_true(array_has_string(json_object_get(in, "supports"), "http://lv2plug.in/ns/ext/midi#MidiEvent"));
  assert_int_equal(json_array_size(json_object_get(in, "supports")), 1);
  assert_null(json_object_get(in, "minimum_size"));
  json_t *out = port_by_symbol(f, "notify");
  assert_str(out, "buffer_type", ATOM "Sequence");
  assert_int_key(out, "minimum_size", 65536);
  assert_int_equal(json_array_size(json_object_get(out, "supports")), 0);
}

static json_t *parameter(Fixture *f, const char *uri)
{
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(f->desc, "parameters"), i, p)
    if (!strcmp(str_of(p, "uri"), uri))
      return p;
  fail_msg("no parameter <%s>", uri);
  return NULL;
}

static void test_parameters(void **state)
{
  Fixture *f = *state;
  assert_int_equal(json_array_size(json_object_get(f->desc, "parameters")), 2);
  json_t *amount = parameter(f, URI "#amount");
  assert_str(amount, "label", "Amount");
  assert_str(amount, "access", "read-write");
  assert_str(amount, "range", ATOM "Float");
  assert_num_key(amount, "default", 0.5);
  assert_num_key(amount, "minimum", 0);
  assert_num_key(amount, "maximum", 1);
  assert_true(json_is_false(json_object_get(amount, "bindable")));
  json_t *sample = parameter(f, URI "#sample");
  assert_str(sample, "label", "Sample");
  assert_str(sample, "access", "write");
  assert_str(sample, "range", ATOM "Path");
  assert_true(json_is_false(json_object_get(sample, "bindable")));
  assert_null(json_object_get(sample, "default"));
}

static void test_index_entry(void **state)
{
  Fixture *f = *state;
  json_t *entries = plug_index_entries(f->index);
  assert_int_equal(json_object_size(entries), 1);
  json_t *e = json_object_get(entries, URI);
  assert_non_null(e);
  assert_str(e, "status", "ok");
  assert_str(e, "name", "ctrlmap all ports");
  assert_int_key(e, "control_in", 8);
  assert_int_key(e, "control_out", 2);
  assert_int_key(e, "ports", 15);
  assert_string_equal(str_of(e, "bundle"), str_of(f->desc, "bundle"));
  assert_string_equal(str_of(e, "class"), str_of(json_object_get(f->desc, "class"), "label"));
  const char *file = str_of(e, "file");
  assert_non_null(file);
  assert_true(!strncmp(file, "plugins/desc/", 13) && ends_with(file, ".json"));
  assert_int_key(e, "size", (json_int_t)strlen(f->desc_text));
  /* Written with 1-space indentation, one key per line (the shell tests grep it). */
  assert_non_null(strstr(f->desc_text, "\n \"uri\": \"" URI "\",\n"));
}

static void test_desc_load_unknown(void **state)
{
  Fixture *f = *state;
  json_t *d = (json_t *)1;
  assert_int_equal(plug_desc_load(NULL, f->index, "urn:ctrlmap:test:nope", &d, NULL), PIPE_ERR_NOTFOUND);
  assert_null(d);
}

/* No class ontology on the path: the lilv engine, too, keeps the plugin's own rdf:type (lilv alone would say
 * lv2:Plugin), and the index shows its label. */
static void test_class_without_ontology(void **state)
{
  Fixture *f = *state;
  assert_class(f->desc, LV2 "EQPlugin", "EQPlugin");
  assert_str(json_object_get(plug_index_entries(f->index), URI), "class", "EQPlugin");
  Fixture lilv = {0};
  describe_into(&lilv, NULL, PLUG_ENGINE_LILV);
  assert_class(lilv.desc, LV2 "EQPlugin", "EQPlugin");
  assert_str(json_object_get(plug_index_entries(lilv.index), URI), "class", "EQPlugin");
  fixture_release(&lilv);
}

/* With the LV2 spec bundles (core, units) on the path, lilv knows the class and the units' symbols. Skipped on a
 * machine without lv2-dev's spec bundles. */
static void test_with_spec_bundles(void **state)
{
  (void)state;
  if (access("/usr/lib/lv2/core.lv2/manifest.ttl", R_OK) || access("/usr/lib/lv2/units.lv2/manifest.ttl", R_OK))
    skip();
  Fixture f = {0};
  static const char *const specs[] = {"/usr/lib/lv2/core.lv2", "/usr/lib/lv2/units.lv2", NULL};
  describe_into(&f, specs, PLUG_ENGINE_STREAM);
  assert_class(f.desc, LV2 "EQPlugin", "Equaliser Plugin");
  json_t *u = json_object_get(port_by_symbol(&f, "gain"), "unit");
  assert_str(u, "uri", UNITS "db");
  assert_str(u, "symbol", "dB");
  assert_str(u, "label", "decibels");
  u = json_object_get(port_by_symbol(&f, "freq"), "unit");
  assert_str(u, "uri", UNITS "hz");
  assert_str(u, "symbol", "Hz");
  /* The spec bundles hold no plugin: still the one descriptor. */
  assert_int_equal(json_object_size(plug_index_entries(f.index)), 1);
  assert_str(json_object_get(plug_index_entries(f.index), URI), "class", "Equaliser Plugin");
  fixture_release(&f);
}

/* Both ways of reading Turtle give the same descriptor, byte for byte (the file differs only in the bundle path,
 * which is each run's own temporary copy). Also with the spec bundles, whose data only the class and units use. */
static char *without_tmp(const Fixture *f)
{
  size_t n = strlen(f->tmp), len = strlen(f->desc_text);
  char *out = malloc(len + 1), *o = out;
  for (const char *p = f->desc_text; *p;) {
    if (!strncmp(p, f->tmp, n)) {
      memcpy(o, "<TMP>", 5);
      o += 5;
      p += n;
    } else {
      *o++ = *p++;
    }
  }
  *o = '\0';
  return out;
}

static void test_engines_agree(void **state)
{
  Fixture *f = *state;
  Fixture lilv = {0};
  describe_into(&lilv, NULL, PLUG_ENGINE_LILV);
  char *a = without_tmp(f), *b = without_tmp(&lilv);
  assert_non_null(strstr(a, "<TMP>/lv2/ctrlmap-allports.lv2/"));
  assert_string_equal(a, b);
  free(a);
  free(b);
  fixture_release(&lilv);

  if (access("/usr/lib/lv2/core.lv2/manifest.ttl", R_OK) || access("/usr/lib/lv2/units.lv2/manifest.ttl", R_OK))
    return;
  static const char *const specs[] = {"/usr/lib/lv2/core.lv2", "/usr/lib/lv2/units.lv2", NULL};
  Fixture s1 = {0}, s2 = {0};
  describe_into(&s1, specs, PLUG_ENGINE_STREAM);
  describe_into(&s2, specs, PLUG_ENGINE_LILV);
  a = without_tmp(&s1);
  b = without_tmp(&s2);
  assert_non_null(strstr(a, "\"Equaliser Plugin\""));
  assert_string_equal(a, b);
  free(a);
  free(b);
  fixture_release(&s1);
  fixture_release(&s2);
}

/* ---- schema (only when schemas/plugin-descriptor.schema.json exists) ----
 * A small JSON Schema validator for the keywords a descriptor schema uses; unknown keywords are ignored. */

typedef struct {
  json_t *root;
  char error[2048];
} Validator;

static bool validate(Validator *v, json_t *schema, json_t *inst, const char *where);

static json_t *resolve_ref(json_t *root, const char *ref)
{
  if (strncmp(ref, "#", 1))
    return NULL;
  json_t *cur = root;
  const char *p = ref + 1;
  while (*p == '/') {
    p++;
    char tok[256];
    size_t n = 0;
    while (*p && *p != '/' && n + 1 < sizeof tok) {
      if (p[0] == '~' && p[1] == '1')
        tok[n++] = '/', p += 2;
      else if (p[0] == '~' && p[1] == '0')
        tok[n++] = '~', p += 2;
      else
        tok[n++] = *p++;
    }
    tok[n] = '\0';
    cur = json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10)) : json_object_get(cur, tok);
    if (!cur)
      return NULL;
  }
  return cur;
}

static bool type_matches(const char *type, json_t *inst)
{
  if (!strcmp(type, "object"))
    return json_is_object(inst);
  if (!strcmp(type, "array"))
    return json_is_array(inst);
  if (!strcmp(type, "string"))
    return json_is_string(inst);
  if (!strcmp(type, "number"))
    return json_is_number(inst);
  if (!strcmp(type, "integer"))
    return json_is_integer(inst) || (json_is_real(inst) && json_real_value(inst) == floor(json_real_value(inst)));
  if (!strcmp(type, "boolean"))
    return json_is_boolean(inst);
  if (!strcmp(type, "null"))
    return json_is_null(inst);
  return true;
}

static bool json_equal_num(json_t *a, json_t *b)
{
  if (json_is_number(a) && json_is_number(b))
    return json_number_value(a) == json_number_value(b);
  return json_equal(a, b);
}

static bool fail_at(Validator *v, const char *where, const char *what)
{
  if (!*v->error)
    snprintf(v->error, sizeof v->error, "%.1000s: %.1000s", *where ? where : "(root)", what);
  return false;
}

static bool pattern_matches(const char *pattern, const char *s)
{
  /* POSIX ERE has no \d; everything else a descriptor schema is likely to use is the same. */
  char ere[1024];
  size_t n = 0;
  for (const char *p = pattern; *p && n + 8 < sizeof ere; p++) {
    if (p[0] == '\\' && p[1] == 'd') {
      memcpy(ere + n, "[0-9]", 5);
      n += 5;
      p++;
    } else {
      ere[n++] = *p;
    }
  }
  ere[n] = '\0';
  regex_t re;
  if (regcomp(&re, ere, REG_EXTENDED | REG_NOSUB))
    return true; /* a pattern this checker cannot compile is not checked */
  bool ok = regexec(&re, s, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

static bool validate_object(Validator *v, json_t *schema, json_t *inst, const char *where)
{
  char sub[1024];
  size_t i;
  json_t *r;
  json_array_foreach (json_object_get(schema, "required"), i, r)
    if (!json_object_get(inst, json_string_value(r))) {
      snprintf(sub, sizeof sub, "required key \"%s\" is missing", json_string_value(r));
      return fail_at(v, where, sub);
    }
  json_t *props = json_object_get(schema, "properties"), *pattern_props = json_object_get(schema, "patternProperties");
  json_t *additional = json_object_get(schema, "additionalProperties");
  const char *key;
  json_t *val;
  json_object_foreach (inst, key, val) {
    snprintf(sub, sizeof sub, "%s/%s", where, key);
    json_t *ps = json_object_get(props, key);
    bool matched = ps != NULL;
    if (ps && !validate(v, ps, val, sub))
      return false;
    const char *pat;
    json_t *pschema;
    json_object_foreach (pattern_props, pat, pschema)
      if (pattern_matches(pat, key)) {
        matched = true;
        if (!validate(v, pschema, val, sub))
          return false;
      }
    if (!matched && additional && !validate(v, additional, val, sub))
      return false;
  }
  json_t *mn = json_object_get(schema, "minProperties");
  if (mn && json_object_size(inst) < (size_t)json_integer_value(mn))
    return fail_at(v, where, "too few properties");
  return true;
}

static bool validate_array(Validator *v, json_t *schema, json_t *inst, const char *where)
{
  char sub[1024];
  json_t *items = json_object_get(schema, "items"), *prefix = json_object_get(schema, "prefixItems");
  size_t i;
  json_t *it;
  json_array_foreach (inst, i, it) {
    snprintf(sub, sizeof sub, "%s/%zu", where, i);
    json_t *s = i < json_array_size(prefix) ? json_array_get(prefix, i) : json_is_array(items) ? json_array_get(items, i) : items;
    if (s && !validate(v, s, it, sub))
      return false;
  }
  json_t *mn = json_object_get(schema, "minItems"), *mx = json_object_get(schema, "maxItems");
  if (mn && json_array_size(inst) < (size_t)json_integer_value(mn))
    return fail_at(v, where, "too few items");
  if (mx && json_array_size(inst) > (size_t)json_integer_value(mx))
    return fail_at(v, where, "too many items");
  if (json_is_true(json_object_get(schema, "uniqueItems")))
    for (size_t a = 0; a < json_array_size(inst); a++)
      for (size_t b = a + 1; b < json_array_size(inst); b++)
        if (json_equal(json_array_get(inst, a), json_array_get(inst, b)))
          return fail_at(v, where, "items are not unique");
  return true;
}

static bool validate_scalar(Validator *v, json_t *schema, json_t *inst, const char *where)
{
  if (json_is_number(inst)) {
    double x = json_number_value(inst);
    json_t *k;
    if ((k = json_object_get(schema, "minimum")) && x < json_number_value(k))
      return fail_at(v, where, "below minimum");
    if ((k = json_object_get(schema, "maximum")) && x > json_number_value(k))
      return fail_at(v, where, "above maximum");
    if ((k = json_object_get(schema, "exclusiveMinimum")) && json_is_number(k) && x <= json_number_value(k))
      return fail_at(v, where, "not above exclusiveMinimum");
    if ((k = json_object_get(schema, "exclusiveMaximum")) && json_is_number(k) && x >= json_number_value(k))
      return fail_at(v, where, "not below exclusiveMaximum");
  }
  if (json_is_string(inst)) {
    const char *s = json_string_value(inst);
    json_t *k;
    if ((k = json_object_get(schema, "minLength")) && strlen(s) < (size_t)json_integer_value(k))
      return fail_at(v, where, "string too short");
    if ((k = json_object_get(schema, "pattern")) && !pattern_matches(json_string_value(k), s))
      return fail_at(v, where, "string does not match pattern");
  }
  return true;
}

static bool validate(Validator *v, json_t *schema, json_t *inst, const char *where)
{
  if (json_is_boolean(schema))
    return json_is_true(schema) || fail_at(v, where, "schema false");
  if (!json_is_object(schema))
    return true;
  json_t *ref = json_object_get(schema, "$ref");
  if (json_is_string(ref)) {
    json_t *target = resolve_ref(v->root, json_string_value(ref));
    if (!target)
      return fail_at(v, where, "unresolvable $ref");
    if (!validate(v, target, inst, where))
      return false;
  }
  json_t *type = json_object_get(schema, "type");
  if (json_is_string(type) && !type_matches(json_string_value(type), inst))
    return fail_at(v, where, json_string_value(type));
  if (json_is_array(type)) {
    bool any = false;
    size_t i;
    json_t *t;
    json_array_foreach (type, i, t)
      any = any || type_matches(json_string_value(t), inst);
    if (!any)
      return fail_at(v, where, "type not among the allowed ones");
  }
  json_t *c = json_object_get(schema, "const");
  if (c && !json_equal_num(c, inst))
    return fail_at(v, where, "not the const value");
  json_t *en = json_object_get(schema, "enum");
  if (en) {
    bool any = false;
    size_t i;
    json_t *e;
    json_array_foreach (en, i, e)
      any = any || json_equal_num(e, inst);
    if (!any)
      return fail_at(v, where, "not one of the enum values");
  }
  size_t i;
  json_t *s;
  json_array_foreach (json_object_get(schema, "allOf"), i, s)
    if (!validate(v, s, inst, where))
      return false;
  json_t *any_of = json_object_get(schema, "anyOf"), *one_of = json_object_get(schema, "oneOf");
  Validator scratch = {.root = v->root};
  if (any_of) {
    bool any = false;
    json_array_foreach (any_of, i, s) {
      scratch.error[0] = '\0';
      any = any || validate(&scratch, s, inst, where);
    }
    if (!any)
      return fail_at(v, where, "matches none of anyOf");
  }
  if (one_of) {
    int n = 0;
    json_array_foreach (one_of, i, s) {
      scratch.error[0] = '\0';
      n += validate(&scratch, s, inst, where);
    }
    if (n != 1)
      return fail_at(v, where, n ? "matches several of oneOf" : "matches none of oneOf");
  }
  json_t *not = json_object_get(schema, "not");
  if (not) {
    scratch.error[0] = '\0';
    if (validate(&scratch, not, inst, where))
      return fail_at(v, where, "matches a \"not\" schema");
  }
  json_t *if_s = json_object_get(schema, "if");
  if (if_s) {
    scratch.error[0] = '\0';
    json_t *branch = json_object_get(schema, validate(&scratch, if_s, inst, where) ? "then" : "else");
    if (branch && !validate(v, branch, inst, where))
      return false;
  }
  if (json_is_object(inst) && !validate_object(v, schema, inst, where))
    return false;
  if (json_is_array(inst) && !validate_array(v, schema, inst, where))
    return false;
  return validate_scalar(v, schema, inst, where);
}

static void test_schema(void **state)
{
  Fixture *f = *state;
  const char *src = getenv("CTRLMAP_SOURCE_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/schemas/plugin-descriptor.schema.json", src ? src : ".");
  if (access(path, R_OK) != 0)
    return; /* the schema is not written yet: nothing to check against */
  json_error_t err;
  json_t *schema = json_load_file(path, 0, &err);
  if (!schema)
    fail_msg("%s:%d: %s", path, err.line, err.text);
  Validator v = {.root = schema};
  if (!validate(&v, schema, f->desc, ""))
    fail_msg("descriptor does not match %s: %s", path, v.error);
  /* The checker can fail: a descriptor without its ports is not a descriptor. */
  json_t *broken = json_deep_copy(f->desc);
  json_object_set_new(broken, "ports", json_string("none"));
  Validator v2 = {.root = schema};
  assert_false(validate(&v2, schema, broken, ""));
  json_decref(broken);
  json_decref(schema);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plugin_metadata),
      cmocka_unit_test(test_counts),
      cmocka_unit_test(test_port_table),
      cmocka_unit_test(test_ardour_params),
      cmocka_unit_test(test_ranges),
      cmocka_unit_test(test_units),
      cmocka_unit_test(test_properties),
      cmocka_unit_test(test_designations),
      cmocka_unit_test(test_scale_points_steps_groups),
      cmocka_unit_test(test_atom_ports),
      cmocka_unit_test(test_parameters),
      cmocka_unit_test(test_index_entry),
      cmocka_unit_test(test_desc_load_unknown),
      cmocka_unit_test(test_schema),
      cmocka_unit_test(test_class_without_ontology),
      cmocka_unit_test(test_with_spec_bundles),
      cmocka_unit_test(test_engines_agree),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
