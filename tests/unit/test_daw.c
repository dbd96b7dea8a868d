/* test_daw.c: phase 3, the Ardour backend (daw/ardour.c) and the installer (daw/install.c).
 *
 *   - rendering: the root, one Binding per binding with the right channel, message attribute (ctl, ctl-toggle,
 *     note, enc-r/-l/-2/-b) and uri, momentary only on momentary note bindings, function bindings, the route and
 *     plugin position from the options, the bindings' ardour block or the defaults (S1, 1);
 *   - rejection without output: a bad channel, number, parameter number or route, and what only the schema catches;
 *   - escaping (parsed back with libxml2), determinism, file names;
 *   - provenance (daw_file_kind, daw_file_provenance), atomic installs that never clobber a foreign file, a writer
 *     SIGKILLed mid-install, and Ardour's user folders under a temporary XDG_CONFIG_HOME.
 *
 * The bindings are built by hand, as schemas/map-bindings.schema.json describes them; the schema is the tree's own
 * (CTRLMAP_SCHEMA_DIR=$CTRLMAP_SOURCE_DIR/schemas). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "daw/daw.h"
#include "pipeline/diag.h"
#include "pipeline/fsx.h"
#include "testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EM_DASH    "\xe2\x80\x94"
#define DISPLAY    "Novation Launch Control XL 3 " EM_DASH " x42 EQ"
#define MAP_PATH   "/maps/lcxl3/x42-eq.yaml"
#define MAP_HASH   "0123456789abcdef"
#define DESC_HASH  "fedcba9876543210"
#define PLUGIN_URI "http://gareus.org/oss/lv2/fil4#mono"

/* ---------------------------------------------------------------------------------------------------------------
 * Helpers */



/* A map's resolved bindings with no binding yet. */
static json_t *bindings_new(void)
{
  json_t *b = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:s, s:i, s:{s:s, s:i}, s:{s:i, s:i}, s:[]}",
                        "map", MAP_PATH, "map_hash", MAP_HASH, "name", "x42 EQ on LCXL3", "device", "manufacturer",
                        "Novation", "model", "Launch Control XL 3", "profile", "novation-launch-control-xl3", "plugin",
                        "uri", PLUGIN_URI, "name", "x42 EQ", "descriptor_hash", DESC_HASH, "channel", 1, "ardour",
                        "route", "S1", "plugin_position", 1, "coverage", "bound", 0, "bindable", 30, "bindings");
  assert_non_null(b);
  return b;
}

/* Appends a binding to a plugin parameter; returns it (borrowed) for further fields. */
static json_t *add_param(json_t *b, const char *control, const char *type, const char *message, int number, int channel,
                         int ardour_param)
{
  json_t *x = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:{s:i, s:s, s:i}}", "control", control, "name", control,
                        "type", type, "message", message, "number", number, "channel", channel, "parameter", "index",
                        ardour_param + 1, "symbol", control, "ardour_param", ardour_param);
  assert_non_null(x);
  json_array_append_new(json_object_get(b, "bindings"), x);
  return x;
}

/* Appends a binding to an Ardour function (argument NULL: none). */
static json_t *add_function(json_t *b, const char *control, const char *message, int number, int channel,
                            const char *function, const char *argument)
{
  json_t *x = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "control", control, "name", control, "type", "button",
                        "message", message, "number", number, "channel", channel, "function", function);
  assert_non_null(x);
  if (argument)
    json_object_set_new(x, "argument", json_string(argument));
  json_array_append_new(json_object_get(b, "bindings"), x);
  return x;
}

static bool has_code(const PipeDiagList *d, const char *code)
{
  for (size_t i = 0; i < pipe_diags_count(d); i++)
    if (!strcmp(pipe_diags_get(d, i)->code, code) && pipe_diags_get(d, i)->severity == PIPE_SEV_ERROR)
      return true;
  return false;
}

static void print_diags(const PipeDiagList *d)
{
  for (size_t i = 0; i < pipe_diags_count(d); i++)
    fprintf(stderr, "  diag: %s: %s\n", pipe_diags_get(d, i)->code, pipe_diags_get(d, i)->message);
}

/* Renders and requires success with no error; owned XML. */
static char *render_ok(DawArdour *ar, json_t *b, const DawArdourOpts *o, size_t *len)
{
  PipeDiagList *d = pipe_diags_new();
  char *xml = NULL;
  size_t n = 0;
  PipeStatus st = daw_ardour_render(ar, b, o, &xml, &n, d);
  if (st != PIPE_OK)
    print_diags(d);
  assert_int_equal(st, PIPE_OK);
  assert_int_equal(pipe_diags_count_severity(d, PIPE_SEV_ERROR), 0);
  assert_non_null(xml);
  assert_int_equal(strlen(xml), n);
  pipe_diags_free(d);
  if (len)
    *len = n;
  return xml;
}

static xmlDocPtr parse(const char *xml, size_t len)
{
  xmlDocPtr doc = xmlReadMemory(xml, (int)len, "rendered.map", NULL, XML_PARSE_NONET);
  if (!doc)
    fprintf(stderr, "not well-formed XML:\n%s\n", xml);
  assert_non_null(doc);
  return doc;
}

/* The Binding elements as text, one line each: "attr=value attr=value", attributes in document order. */
static char *bindings_text(const char *xml, size_t len)
{
  xmlDocPtr doc = parse(xml, len);
  xmlNodePtr root = xmlDocGetRootElement(doc);
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  assert_non_null(f);
  for (xmlNodePtr c = root->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    assert_string_equal((const char *)c->name, "Binding");
    assert_null(c->children); /* empty elements */
    for (xmlAttrPtr a = c->properties; a; a = a->next) {
      xmlChar *v = xmlGetProp(c, a->name);
      fprintf(f, "%s%s=%s", a == c->properties ? "" : " ", (const char *)a->name, (const char *)v);
      xmlFree(v);
    }
    fputc('\n', f);
  }
  fclose(f);
  xmlFreeDoc(doc);
  return buf;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Fixtures */

static int setup(void **state)
{
  const char *src = getenv("CTRLMAP_SOURCE_DIR");
  if (!src) {
    fprintf(stderr, "CTRLMAP_SOURCE_DIR is not set: run the tests through ctest\n");
    return -1;
  }
  char *schemas = tu_path_join(src, "schemas");
  setenv("CTRLMAP_SCHEMA_DIR", schemas, 1);
  free(schemas);
  PipeDiagList *d = pipe_diags_new();
  DawArdour *ar = daw_ardour_new(NULL, d);
  if (!ar)
    print_diags(d);
  pipe_diags_free(d);
  *state = ar;
  return ar ? 0 : -1;
}

static int teardown(void **state)
{
  daw_ardour_free(*state);
  xmlCleanupParser();
  return 0;
}

/* Every kind of binding the backend writes, and the line each becomes (route S1, plugin 1). */
static json_t *all_kinds(void)
{
  json_t *b = bindings_new();
  add_param(b, "slider_1", "slider", "cc", 53, 1, 2);
  json_object_set_new(add_param(b, "encoder_1", "encoder", "cc", 13, 1, 6), "encoding", json_string("absolute"));
  json_object_set_new(add_param(b, "encoder_2", "encoder", "cc", 14, 2, 7), "encoding", json_string("enc-r"));
  json_object_set_new(add_param(b, "encoder_3", "encoder", "cc", 15, 3, 9), "encoding", json_string("enc-l"));
  json_object_set_new(add_param(b, "encoder_4", "encoder", "cc", 16, 4, 14), "encoding", json_string("enc-2"));
  json_object_set_new(add_param(b, "encoder_5", "encoder", "cc", 17, 16, 16), "encoding", json_string("enc-b"));
  json_object_set_new(add_param(b, "button_1", "button", "cc", 41, 1, 5), "mode", json_string("toggle"));
  json_object_set_new(add_param(b, "button_2", "button", "cc", 42, 1, 15), "mode", json_string("momentary"));
  json_object_set_new(add_param(b, "button_3", "button", "note", 60, 1, 19), "mode", json_string("toggle"));
  json_object_set_new(add_param(b, "button_4", "button", "note", 61, 1, 23), "mode", json_string("momentary"));
  add_param(b, "slider_2", "slider", "cc", 0, 1, 1);
  add_param(b, "button_5", "button", "note", 127, 16, 34);
  add_function(b, "play", "note", 94, 1, "transport-roll", NULL);
  add_function(b, "stop", "cc", 95, 1, "transport-stop", NULL);
  json_object_set_new(add_function(b, "select_2", "note", 96, 1, "select", "2"), "mode", json_string("momentary"));
  add_function(b, "bank_0", "cc", 97, 2, "set-bank", "0");
  return b;
}

static const char ALL_KINDS_TEXT[] = "channel=1 ctl=53 uri=/route/plugin/parameter S1 1 2\n"
                                     "channel=1 ctl=13 uri=/route/plugin/parameter S1 1 6\n"
                                     "channel=2 enc-r=14 uri=/route/plugin/parameter S1 1 7\n"
                                     "channel=3 enc-l=15 uri=/route/plugin/parameter S1 1 9\n"
                                     "channel=4 enc-2=16 uri=/route/plugin/parameter S1 1 14\n"
                                     "channel=16 enc-b=17 uri=/route/plugin/parameter S1 1 16\n"
                                     "channel=1 ctl-toggle=41 uri=/route/plugin/parameter S1 1 5\n"
                                     "channel=1 ctl-toggle=42 uri=/route/plugin/parameter S1 1 15\n"
                                     "channel=1 note=60 uri=/route/plugin/parameter S1 1 19\n"
                                     "channel=1 note=61 uri=/route/plugin/parameter S1 1 23 momentary=yes\n"
                                     "channel=1 ctl=0 uri=/route/plugin/parameter S1 1 1\n"
                                     "channel=16 note=127 uri=/route/plugin/parameter S1 1 34\n"
                                     "channel=1 note=94 function=transport-roll\n"
                                     "channel=1 ctl=95 function=transport-stop\n"
                                     "channel=1 note=96 function=select argument=2\n"
                                     "channel=2 ctl=97 function=set-bank argument=0\n";

/* ---------------------------------------------------------------------------------------------------------------
 * Rendering */

static void test_render_root(void **state)
{
  json_t *b = all_kinds();
  size_t len = 0;
  char *xml = render_ok(*state, b, NULL, &len);
  /* The XML declaration, then the provenance comment on line 2, then the root. */
  const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- " DAW_MARKER " ";
  assert_memory_equal(xml, decl, strlen(decl));
  const char *line3 = strchr(strchr(xml, '\n') + 1, '\n') + 1;
  assert_memory_equal(line3, "<ArdourMIDIBindings ", 20);
  assert_int_equal(xml[len - 1], '\n');

  xmlDocPtr doc = parse(xml, len);
  xmlNodePtr root = xmlDocGetRootElement(doc);
  assert_string_equal((const char *)root->name, "ArdourMIDIBindings");
  xmlChar *version = xmlGetProp(root, (const xmlChar *)"version"), *name = xmlGetProp(root, (const xmlChar *)"name");
  assert_string_equal((const char *)version, "1.0.0");
  assert_string_equal((const char *)name, DISPLAY); /* derived: "<manufacturer> <model> — <plugin name>" */
  xmlFree(version);
  xmlFree(name);
  size_t n_bindings = 0;
  for (xmlNodePtr c = root->children; c; c = c->next)
    n_bindings += c->type == XML_ELEMENT_NODE;
  assert_int_equal(n_bindings, json_array_size(json_object_get(b, "bindings")));
  xmlFreeDoc(doc);

  char *dn = daw_ardour_display_name(b);
  assert_string_equal(dn, DISPLAY);
  free(dn);
  free(xml);
  json_decref(b);
}

static void test_render_bindings(void **state)
{
  json_t *b = all_kinds();
  size_t len = 0;
  char *xml = render_ok(*state, b, NULL, &len);
  char *text = bindings_text(xml, len);
  assert_string_equal(text, ALL_KINDS_TEXT);
  free(text);
  free(xml);
  json_decref(b);
}

/* The route and plugin position: the options win, then the bindings' ardour block, then S1 and 1. */
static void test_render_route_position(void **state)
{
  static const struct {
    const char *opt_route;
    int opt_pos;
    const char *ard_route; /* NULL: no ardour block */
    int ard_pos;
    const char *want;
  } cases[] = {
      {NULL, 0, NULL, 0, "S1 1 "},             /* defaults */
      {NULL, 0, "S1", 1, "S1 1 "},             /* what the default maps say */
      {"2", 3, NULL, 0, "2 3 "},               /* --route 2 --plugin-position 3 */
      {"2", 3, "Vocals", 4, "2 3 "},           /* the options override the map */
      {NULL, 0, "Vocals", 4, "Vocals 4 "},     /* the map's own */
      {NULL, 0, "B2", 2, "B2 2 "},             /* banked */
      {"master", 0, "Vocals", 4, "master 4 "}, /* each one separately */
      {NULL, 7, "Vocals", 4, "Vocals 7 "},
      {"S12", -1, "3", 0, "S12 1 "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *b = all_kinds();
    if (cases[i].ard_route)
      json_object_set_new(b, "ardour",
                          json_pack("{s:s, s:i}", "route", cases[i].ard_route, "plugin_position", cases[i].ard_pos));
    else
      json_object_del(b, "ardour");
    DawArdourOpts o = {.route = cases[i].opt_route, .plugin_position = cases[i].opt_pos};
    size_t len = 0;
    char *xml = render_ok(*state, b, &o, &len);
    char *text = bindings_text(xml, len), *want = tu_replace_all(ALL_KINDS_TEXT, "S1 1 ", cases[i].want);
    if (strcmp(text, want))
      fprintf(stderr, "case %zu: route %s position %d\n", i, cases[i].opt_route ? cases[i].opt_route : "-",
              cases[i].opt_pos);
    assert_string_equal(text, want);
    free(want);
    free(text);
    free(xml);
    json_decref(b);
  }
}

/* A long route name is written whole: a URI cut to a fixed buffer would bind another parameter (or none). */
static void test_render_long_route(void **state)
{
  for (size_t n = 200; n <= 300; n++) {
    char route[301];
    memset(route, 'x', n);
    route[n] = '\0';
    json_t *b = bindings_new();
    add_param(b, "encoder_1", "encoder", "cc", 13, 1, 34);
    DawArdourOpts o = {.route = route};
    size_t len = 0;
    char *xml = render_ok(*state, b, &o, &len);
    char *text = bindings_text(xml, len);
    char want[512];
    snprintf(want, sizeof want, "channel=1 ctl=13 uri=/route/plugin/parameter %s 1 34\n", route);
    assert_string_equal(text, want);
    free(text);
    free(xml);
    json_decref(b);
  }
}

/* ---------------------------------------------------------------------------------------------------------------
 * Rejection: nothing is written, a diagnostic says why */

typedef enum { T_BINDING, T_PARAMETER, T_FUNCTION, T_ARDOUR, T_OPTS } Target;

static const struct {
  const char *what, *code;
  Target target;
  const char *key;
  const char *json; /* the new value as JSON; NULL: the key is removed */
} REJECTS[] = {
    {"channel 0", "ardour-channel", T_BINDING, "channel", "0"},
    {"channel 17", "ardour-channel", T_BINDING, "channel", "17"},
    {"channel missing", "ardour-channel", T_BINDING, "channel", NULL},
    {"channel 0 on a function", "ardour-channel", T_FUNCTION, "channel", "0"},
    {"number 128", "ardour-number", T_BINDING, "number", "128"},
    {"number -1", "ardour-number", T_BINDING, "number", "-1"},
    {"number missing", "ardour-number", T_BINDING, "number", NULL},
    {"number as a string", "ardour-number", T_BINDING, "number", "\"20\""},
    {"number 200 on a function", "ardour-number", T_FUNCTION, "number", "200"},
    {"ardour_param 0", "ardour-param", T_PARAMETER, "ardour_param", "0"},
    {"ardour_param -3", "ardour-param", T_PARAMETER, "ardour_param", "-3"},
    {"ardour_param missing", "ardour-param", T_PARAMETER, "ardour_param", NULL},
    {"route with a space", "ardour-route", T_ARDOUR, "route", "\"my track\""},
    {"route with a tab", "ardour-route", T_ARDOUR, "route", "\"my\\ttrack\""},
    {"route S0", "ardour-route", T_ARDOUR, "route", "\"S0\""},
    {"route 0", "ardour-route", T_ARDOUR, "route", "\"0\""},
    {"route B0", "ardour-route", T_ARDOUR, "route", "\"B0\""},
    {"route B1x", "ardour-route", T_ARDOUR, "route", "\"B1x\""},
    {"route 2nd", "ardour-route", T_ARDOUR, "route", "\"2nd\""},
    {"route empty", "ardour-route", T_ARDOUR, "route", "\"\""},
    {"--route with a space", "ardour-route", T_OPTS, "route", "\"my track\""},
    {"--route S0", "ardour-route", T_OPTS, "route", "\"S0\""},
    /* only the schema catches these */
    {"unknown function", "ardour-schema", T_FUNCTION, "function", "\"plugin-parameter[3]\""},
    {"function in upper case", "ardour-schema", T_FUNCTION, "function", "\"Transport-Roll\""},
    {"select without its argument", "ardour-schema", T_FUNCTION, "argument", NULL},
    {"select with a word for an argument", "ardour-schema", T_FUNCTION, "argument", "\"two\""},
    {"a blank map name", "ardour-schema", T_OPTS, "name", "\"   \""},
    {"an empty map name", "ardour-schema", T_OPTS, "name", "\"\""},
};

static void test_render_rejects(void **state)
{
  for (size_t i = 0; i < sizeof REJECTS / sizeof REJECTS[0]; i++) {
    json_t *b = bindings_new();
    json_t *param = add_param(b, "encoder_1", "encoder", "cc", 13, 1, 6);
    json_t *fn = add_function(b, "select_1", "note", 96, 1, "select", "1");
    DawArdourOpts o = {0};
    json_t *value = REJECTS[i].json ? json_loads(REJECTS[i].json, JSON_DECODE_ANY, NULL) : NULL;
    assert_true(!REJECTS[i].json || value);
    json_t *obj = NULL;
    switch (REJECTS[i].target) {
    case T_BINDING: obj = param; break;
    case T_PARAMETER: obj = json_object_get(param, "parameter"); break;
    case T_FUNCTION: obj = fn; break;
    case T_ARDOUR: obj = json_object_get(b, "ardour"); break;
    case T_OPTS:
      if (!strcmp(REJECTS[i].key, "route"))
        o.route = json_string_value(value);
      else
        o.name = json_string_value(value);
      break;
    }
    if (obj && value)
      json_object_set(obj, REJECTS[i].key, value);
    else if (obj)
      json_object_del(obj, REJECTS[i].key);

    PipeDiagList *d = pipe_diags_new();
    char *xml = (char *)"untouched";
    size_t len = 99;
    PipeStatus st = daw_ardour_render(*state, b, &o, &xml, &len, d);
    if (st != PIPE_ERR_INVALID || !has_code(d, REJECTS[i].code)) {
      fprintf(stderr, "case '%s': status %d, want code %s\n", REJECTS[i].what, (int)st, REJECTS[i].code);
      print_diags(d);
    }
    assert_int_equal(st, PIPE_ERR_INVALID);
    assert_null(xml);
    assert_int_equal(len, 0);
    assert_true(has_code(d, REJECTS[i].code));
    /* the diagnostic points at the canonical map */
    for (size_t k = 0; k < pipe_diags_count(d); k++)
      assert_string_equal(pipe_diags_get(d, k)->file, MAP_PATH);
    pipe_diags_free(d);
    json_decref(value);
    json_decref(b);
  }

  /* The same bindings unharmed render, so each rejection above is the change's doing. */
  json_t *b = bindings_new();
  add_param(b, "encoder_1", "encoder", "cc", 13, 1, 6);
  add_function(b, "select_1", "note", 96, 1, "select", "1");
  free(render_ok(*state, b, NULL, NULL));
  json_decref(b);
}

/* Every bad binding is reported, each by its control. */
static void test_render_rejects_all(void **state)
{
  json_t *b = bindings_new();
  add_param(b, "encoder_1", "encoder", "cc", 13, 0, 6);
  add_param(b, "encoder_2", "encoder", "cc", 14, 1, 7);
  add_param(b, "encoder_3", "encoder", "cc", 130, 1, 8);
  add_param(b, "encoder_4", "encoder", "cc", 16, 1, 0);
  PipeDiagList *d = pipe_diags_new();
  char *xml = NULL;
  size_t len = 0;
  assert_int_equal(daw_ardour_render(*state, b, NULL, &xml, &len, d), PIPE_ERR_INVALID);
  assert_null(xml);
  assert_int_equal(pipe_diags_count_severity(d, PIPE_SEV_ERROR), 3);
  const char *want[][2] = {
      {"ardour-channel", "encoder_1"}, {"ardour-number", "encoder_3"}, {"ardour-param", "encoder_4"}};
  for (size_t k = 0; k < 3; k++) {
    assert_string_equal(pipe_diags_get(d, k)->code, want[k][0]);
    assert_non_null(strstr(pipe_diags_get(d, k)->message, want[k][1]));
  }
  pipe_diags_free(d);
  json_decref(b);
}

static void test_schema_missing(void **state)
{
  (void)state;
  PipeDiagList *d = pipe_diags_new();
  assert_null(daw_ardour_new("/nonexistent/ctrlmap/ardour-midi-map.rng", d));
  assert_true(has_code(d, "ardour-schema-missing"));
  pipe_diags_free(d);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Escaping and determinism */

static void test_escaping(void **state)
{
  static const char *const names[] = {
      "A <b> & \"c\" 'd' -- e",
      "<!-- not a comment -->",
      "]]> & &amp; &#60;",
      "Caf\xc3\xa9 " EM_DASH " \xe2\x80\x9cquoted\xe2\x80\x9d",
  };
  static const char *const paths[] = {
      "/tmp/odd maps/<m> & \"q\" 'a'--b.yaml",
      "/tmp/x--y/---/end-",
      "/tmp/a -->b/c.yaml",
      "/tmp/--> <!-- .yaml",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    json_t *b = all_kinds();
    json_object_set_new(b, "map", json_string(paths[i]));
    json_object_set_new(json_object_get(b, "plugin"), "uri", json_string("urn:x--y:<z>&'\"--"));
    DawArdourOpts o = {.name = names[i]};
    size_t len = 0;
    char *xml = render_ok(*state, b, &o, &len);
    xmlDocPtr doc = parse(xml, len);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlChar *name = xmlGetProp(root, (const xmlChar *)"name");
    assert_string_equal((const char *)name, names[i]);
    xmlFree(name);
    /* Exactly one node before the root: the provenance comment, whole. */
    size_t comments = 0;
    for (xmlNodePtr c = doc->children; c; c = c->next) {
      if (c == root)
        break;
      assert_int_equal(c->type, XML_COMMENT_NODE);
      assert_int_equal(strncmp((const char *)c->content, " " DAW_MARKER " ", strlen(DAW_MARKER) + 2), 0);
      assert_null(strstr((const char *)c->content, "--"));
      assert_non_null(strstr((const char *)c->content, "; map: "));
      comments++;
    }
    assert_int_equal(comments, 1);
    /* In the text: the comment is line 2 and its first "-->" ends it. */
    const char *line2 = strchr(xml, '\n') + 1, *end = strchr(line2, '\n');
    assert_memory_equal(line2, "<!-- ", 5);
    assert_ptr_equal(strstr(line2, "-->") + 3, end);
    assert_ptr_equal(strstr(line2 + 4, "--") + 3, end); /* no "--" inside */
    /* The bindings are unaffected. */
    char *text = bindings_text(xml, len);
    assert_string_equal(text, ALL_KINDS_TEXT);
    free(text);
    xmlFreeDoc(doc);
    free(xml);
    json_decref(b);
  }
}

/* What XML cannot hold, or a terminal must not get, never reaches the file as it is: control characters and bytes
 * that are not UTF-8 in the map's path (a file name may hold any byte but NUL and '/') are percent-encoded in the
 * provenance comment and read back; in the plugin's name (from its own Turtle) they become U+FFFD; a route,
 * function or argument with one is refused. libxml2 used to write them through, making the file unreadable. */
static void test_hostile_text(void **state)
{
  static const char *const paths[] = {"/tmp/a\001b\033[31m/m\177.yaml", "/tmp/\xff\xfe--x.yaml", "/tmp/\xc2\x85-"};
  static const char *const encoded[] = {"/tmp/a%01b%1B[31m/m%7F.yaml", "/tmp/%FF%FE%2D-x.yaml", "/tmp/%C2%85%2D"};
  char *dir = tu_tempdir(), *file = tu_path_join(dir, "hostile.map");
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    json_t *b = all_kinds();
    json_object_set_new(b, "map", json_string_nocheck(paths[i]));
    json_object_set_new(json_object_get(b, "plugin"), "name",
                        json_string_nocheck("Evil\x01\x1b[2J\x7f\xc2\x85\xff end"));
    size_t len = 0;
    char *xml = render_ok(*state, b, NULL, &len);
    xmlDocPtr doc = parse(xml, len);
    xmlChar *name = xmlGetProp(xmlDocGetRootElement(doc), (const xmlChar *)"name");
    assert_string_equal((const char *)name, "Novation Launch Control XL 3 " EM_DASH " Evil\xef\xbf\xbd\xef\xbf\xbd[2J"
                                            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
    xmlFree(name);
    xmlFreeDoc(doc);
    assert_non_null(strstr(xml, encoded[i]));
    tu_write_file(file, xml, len);
    DawProvenance p;
    assert_true(daw_file_provenance(file, &p));
    assert_string_equal(p.map_path, paths[i]);
    daw_provenance_release(&p);
    free(xml);
    json_decref(b);
  }
  /* a name given by the caller is cleaned the same way */
  json_t *b = all_kinds();
  DawArdourOpts o = {.name = "A\001B"};
  size_t len = 0;
  char *xml = render_ok(*state, b, &o, &len);
  assert_non_null(strstr(xml, "name=\"A\357\277\275B\""));
  free(xml);
  /* refused: a route, a function argument with a control character */
  PipeDiagList *d = pipe_diags_new();
  o = (DawArdourOpts){.route = "Tr\001ck"};
  xml = NULL;
  assert_int_equal(daw_ardour_render(*state, b, &o, &xml, &len, d), PIPE_ERR_INVALID);
  assert_null(xml);
  assert_true(has_code(d, "ardour-route"));
  pipe_diags_free(d);
  json_decref(b);
  b = bindings_new();
  add_function(b, "bank", "cc", 97, 2, "set-bank", "1\x1b");
  d = pipe_diags_new();
  assert_int_equal(daw_ardour_render(*state, b, NULL, &xml, &len, d), PIPE_ERR_INVALID);
  assert_null(xml);
  assert_true(has_code(d, "ardour-text"));
  pipe_diags_free(d);
  json_decref(b);
  tu_rmtree(dir);
  free(file);
  free(dir);
}

static void test_deterministic(void **state)
{
  json_t *b = all_kinds();
  size_t n1 = 0, n2 = 0, n3 = 0;
  char *x1 = render_ok(*state, b, NULL, &n1), *x2 = render_ok(*state, b, NULL, &n2);
  assert_int_equal(n1, n2);
  assert_memory_equal(x1, x2, n1);
  /* The same data in another object (keys inserted in another order), with another schema instance. */
  char *dump = json_dumps(b, JSON_SORT_KEYS);
  json_t *copy = json_loads(dump, 0, NULL);
  assert_non_null(copy);
  free(dump);
  PipeDiagList *d = pipe_diags_new();
  DawArdour *other = daw_ardour_new(NULL, d);
  assert_non_null(other);
  char *x3 = render_ok(other, copy, NULL, &n3);
  assert_int_equal(n1, n3);
  assert_memory_equal(x1, x3, n1);
  daw_ardour_free(other);
  pipe_diags_free(d);
  /* And a change in the data is a change in the bytes. */
  json_object_set_new(json_array_get(json_object_get(copy, "bindings"), 0), "number", json_integer(54));
  char *x4 = render_ok(*state, copy, NULL, NULL);
  assert_string_not_equal(x1, x4);
  free(x1);
  free(x2);
  free(x3);
  free(x4);
  json_decref(copy);
  json_decref(b);
}

/* A file name: [a-z0-9-] words, ".map" once and at the end, not hidden, bounded. */
static void assert_file_name(const char *display, const char *name)
{
  size_t n = strlen(name);
  if (n < 5 || strcmp(name + n - 4, ".map") || strstr(name, ".map") != name + n - 4)
    fail_msg("'%s' -> '%s': not a single .map suffix", display, name);
  for (size_t i = 0; i < n - 4; i++)
    if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
      fail_msg("'%s' -> '%s': byte %zu is '%c'", display, name, i, name[i]);
  if (name[0] == '-' || name[n - 5] == '-' || strstr(name, "--"))
    fail_msg("'%s' -> '%s': stray dashes", display, name);
  assert_true(n <= 128);
}

static void test_file_name(void **state)
{
  (void)state;
  static const char *const cases[][2] = {
      {DISPLAY, "novation-launch-control-xl-3-x42-eq.map"},
      {"Novation Launch Control XL 3 " EM_DASH " x42-eq - Parametric Equalizer Mono",
       "novation-launch-control-xl-3-x42-eq-parametric-equalizer-mono.map"},
      {"v1.2.map.bak", "v1-2-map-bak.map"},
      {"x.map", "x-map.map"},
      {"UPPER lower 123", "upper-lower-123.map"},
      {"../../etc/passwd", "etc-passwd.map"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *name = daw_file_name(cases[i][0]);
    assert_string_equal(name, cases[i][1]);
    assert_file_name(cases[i][0], name);
    free(name);
  }
  static const char *const odd[] = {
      "",           " ",      ".",      "..",    ".map",         "..map..", "map.map.map",
      ".map.map",   "a.map.", "A.MAP",  "-map-", "---",          EM_DASH,   "\xe2\x80\x94\xe2\x80\x94 \xc3\xa9",
      "!@#$%^&*()", "/",      "a/b\\c", "\t\n",  "x.tmp.123456",
  };
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    char *name = daw_file_name(odd[i]);
    assert_file_name(odd[i], name);
    free(name);
  }
  /* Long names are cut, and still end in a word. */
  char *lng = malloc(10001);
  for (size_t i = 0; i < 10000; i++)
    lng[i] = i % 3 == 2 ? ' ' : 'a';
  lng[10000] = '\0';
  char *name = daw_file_name(lng);
  assert_file_name("10000 characters", name);
  assert_memory_equal(name, "aa-aa-aa", 8);
  free(name);
  free(lng);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Provenance */

static void test_provenance(void **state)
{
  char *dir = tu_tempdir();
  static const char *const paths[] = {
      MAP_PATH,
      "/home/me/my maps/x42; eq.yaml",
      "relative/path with  two spaces ;;; and semicolons; map: fake.yaml",
      "/tmp/trailing space ",
  };
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    json_t *b = all_kinds();
    json_object_set_new(b, "map", json_string(paths[i]));
    size_t len = 0;
    char *xml = render_ok(*state, b, NULL, &len);
    char *file = tu_path_join(dir, "ours.map");
    tu_write_file(file, xml, len);
    assert_int_equal(daw_file_kind(file), DAW_FILE_OURS);
    DawProvenance p;
    assert_true(daw_file_provenance(file, &p));
    assert_string_equal(p.map_path, paths[i]);
    assert_string_equal(p.map_hash, MAP_HASH);
    assert_string_equal(p.plugin, PLUGIN_URI);
    assert_string_equal(p.descriptor_hash, DESC_HASH);
    daw_provenance_release(&p);
    assert_null(p.map_path);
    free(file);
    free(xml);
    json_decref(b);
  }

  /* A descriptor hash of null is written as "-". */
  json_t *b = all_kinds();
  json_object_set_new(b, "descriptor_hash", json_null());
  size_t len = 0;
  char *xml = render_ok(*state, b, NULL, &len);
  char *file = tu_path_join(dir, "nodesc.map");
  tu_write_file(file, xml, len);
  DawProvenance p;
  assert_true(daw_file_provenance(file, &p));
  assert_string_equal(p.descriptor_hash, "-");
  assert_string_equal(p.map_path, MAP_PATH);
  daw_provenance_release(&p);
  free(file);
  free(xml);
  json_decref(b);

  /* Foreign files: Ardour's own, one that mentions ctrlmap, an empty one. */
  static const char *const foreign[] = {
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ArdourMIDIBindings version=\"1.0.0\" name=\"Mine\">\n"
      "  <Binding channel=\"1\" ctl=\"7\" uri=\"/route/gain B1\"/>\n</ArdourMIDIBindings>\n",
      "<?xml version=\"1.0\"?>\n<!-- made by hand, not Generated by ctrlmap -->\n<ArdourMIDIBindings version=\"1\" "
      "name=\"x\"/>\n",
      "",
  };
  for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
    char *f = tu_path_join(dir, "foreign.map");
    tu_write_file(f, foreign[i], strlen(foreign[i]));
    assert_int_equal(daw_file_kind(f), DAW_FILE_FOREIGN);
    DawProvenance fp;
    assert_false(daw_file_provenance(f, &fp));
    assert_null(fp.map_path);
    assert_null(fp.map_hash);
    assert_null(fp.plugin);
    assert_null(fp.descriptor_hash);
    free(f);
  }

  /* A missing file. */
  char *missing = tu_path_join(dir, "missing.map");
  assert_int_equal(daw_file_kind(missing), DAW_FILE_MISSING);
  DawProvenance mp;
  assert_false(daw_file_provenance(missing, &mp));
  assert_null(mp.map_path);
  free(missing);
  tu_rmtree(dir);
  free(dir);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Installing */

static size_t count_temps(const char *dir)
{
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

static void assert_file_is(const char *path, const char *data, size_t len)
{
  size_t n = 0;
  char *got = tu_read_file(path, &n);
  assert_non_null(got);
  assert_int_equal(n, len);
  assert_memory_equal(got, data, len);
  free(got);
}

static void test_install(void **state)
{
  char *dir = tu_tempdir(), *path = tu_path_join(dir, "eq.map");
  json_t *b = all_kinds();
  size_t len1 = 0, len2 = 0;
  char *x1 = render_ok(*state, b, NULL, &len1);
  DawArdourOpts o = {.route = "2"};
  char *x2 = render_ok(*state, b, &o, &len2);
  PipeDiagList *d = pipe_diags_new();
  bool written = false;

  assert_int_equal(daw_install(dir, "eq.map", x1, len1, false, &written, d), PIPE_OK);
  assert_true(written);
  assert_file_is(path, x1, len1);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0644);

  /* The same bytes again: not rewritten (the mtime, set in the past, stays). */
  tu_touch(path, -100);
  struct stat before, after;
  assert_int_equal(stat(path, &before), 0);
  written = true;
  assert_int_equal(daw_install(dir, "eq.map", x1, len1, false, &written, d), PIPE_OK);
  assert_false(written);
  assert_int_equal(stat(path, &after), 0);
  assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  assert_int_equal(before.st_ino, after.st_ino);

  /* Other bytes replace ours. */
  assert_int_equal(daw_install(dir, "eq.map", x2, len2, false, &written, d), PIPE_OK);
  assert_true(written);
  assert_file_is(path, x2, len2);
  /* A shorter file after a longer one leaves no tail. */
  assert_int_equal(daw_install(dir, "eq.map", x1, len1 / 2, false, &written, d), PIPE_OK);
  assert_file_is(path, x1, len1 / 2);
  assert_int_equal(daw_install(dir, "eq.map", x1, len1, false, &written, d), PIPE_OK);
  assert_int_equal(pipe_diags_count(d), 0);

  /* A foreign file of that name is kept, unless forced. */
  const char *mine = "<?xml version=\"1.0\"?>\n<ArdourMIDIBindings version=\"1.0.0\" name=\"Mine\"/>\n";
  char *fpath = tu_path_join(dir, "mine.map");
  tu_write_file(fpath, mine, strlen(mine));
  tu_touch(fpath, -100);
  assert_int_equal(stat(fpath, &before), 0);
  written = true;
  assert_int_equal(daw_install(dir, "mine.map", x1, len1, false, &written, d), PIPE_ERR_INVALID);
  assert_false(written);
  assert_true(has_code(d, "ardour-foreign"));
  assert_string_equal(pipe_diags_get(d, 0)->file, fpath);
  assert_file_is(fpath, mine, strlen(mine));
  assert_int_equal(stat(fpath, &after), 0);
  assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  assert_int_equal(daw_file_kind(fpath), DAW_FILE_FOREIGN);
  pipe_diags_free(d);
  d = pipe_diags_new();
  assert_int_equal(daw_install(dir, "mine.map", x1, len1, true, &written, d), PIPE_OK);
  assert_true(written);
  assert_file_is(fpath, x1, len1);
  assert_int_equal(daw_file_kind(fpath), DAW_FILE_OURS);
  /* Now ours: replaced without force. */
  assert_int_equal(daw_install(dir, "mine.map", x2, len2, false, &written, d), PIPE_OK);
  assert_true(written);
  assert_int_equal(pipe_diags_count(d), 0);

  /* A folder that does not exist: an error, nothing created. */
  char *nowhere = tu_path_join(dir, "no/such/dir");
  assert_int_not_equal(daw_install(nowhere, "eq.map", x1, len1, false, &written, d), PIPE_OK);
  assert_false(written);
  assert_true(pipe_diags_count_severity(d, PIPE_SEV_ERROR) >= 1);

  assert_int_equal(count_temps(dir), 0);
  pipe_diags_free(d);
  free(nowhere);
  free(fpath);
  free(x1);
  free(x2);
  json_decref(b);
  free(path);
  tu_rmtree(dir);
  free(dir);
}

/* Two 1 MB contents, both ours, that differ everywhere after the marker. */
static char *big_content(char fill, size_t size)
{
  char *c = malloc(size);
  assert_non_null(c);
  const char *head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- " DAW_MARKER " test; -->\n<!-- ";
  size_t h = strlen(head);
  memcpy(c, head, h);
  for (size_t i = h; i < size - 5; i++)
    c[i] = (char)(fill + (char)(i % 7));
  memcpy(c + size - 5, " -->\n", 5);
  return c;
}

static void test_install_killed(void **state)
{
  (void)state;
  const size_t size = 1024 * 1024;
  char *dir = tu_tempdir(), *path = tu_path_join(dir, "big.map");
  char *a = big_content('a', size), *b = big_content('n', size);
  PipeDiagList *d = pipe_diags_new();
  bool written = false;
  assert_int_equal(daw_install(dir, "big.map", a, size, false, &written, d), PIPE_OK);
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  srand(seed);
  size_t leftovers = 0, saw_b = 0;
  for (int round = 0; round < 8; round++) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      for (unsigned long i = 0;; i++) {
        bool w = false;
        if (daw_install(dir, "big.map", i % 2 ? a : b, size, false, &w, NULL) != PIPE_OK)
          _exit(3);
      }
    }
    useconds_t wait_us = (useconds_t)(rand() % 20000);
    usleep(wait_us);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status))
      fail_msg("seed %u round %d: the installer ended on its own (status %d)", seed, round, status);
    assert_int_equal(WTERMSIG(status), SIGKILL);
    size_t n = 0;
    char *got = tu_read_file(path, &n);
    if (!got || n != size || (memcmp(got, a, size) && memcmp(got, b, size)))
      fail_msg("seed %u round %d (killed after %u us): big.map is %zu bytes, neither content", seed, round,
               (unsigned)wait_us, got ? n : 0);
    saw_b += !memcmp(got, b, size);
    free(got);
    leftovers += count_temps(dir);
    pipe_fs_sweep_temps(dir);
    assert_int_equal(count_temps(dir), 0);
  }
  printf("kill test: seed %u, %zu rounds ended on the second content, %zu temporary files swept\n", seed, saw_b,
         leftovers);
  assert_int_equal(daw_file_kind(path), DAW_FILE_OURS);
  pipe_diags_free(d);
  free(a);
  free(b);
  free(path);
  tu_rmtree(dir);
  free(dir);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Ardour's user folders */

static size_t strv_len(char **v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

static bool is_dir(const char *p)
{
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void test_user_dirs(void **state)
{
  (void)state;
  char *tmp = tu_tempdir(), *cfg = tu_path_join(tmp, "config");
  char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
  char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  assert_int_equal(mkdir(cfg, 0755), 0);
  setenv("XDG_CONFIG_HOME", cfg, 1);

  /* No Ardour at all. */
  PipeDiagList *d = pipe_diags_new();
  char **v = daw_ardour_user_dirs(NULL, false, d);
  assert_int_equal(strv_len(v), 0);
  assert_int_equal(pipe_diags_count(d), 0);
  daw_strv_free(v);
  v = daw_ardour_user_dirs(NULL, true, d);
  assert_int_equal(strv_len(v), 0);
  assert_true(has_code(d, "ardour-no-user-dir"));
  daw_strv_free(v);
  pipe_diags_free(d);

  /* Ardour 7 has run: its midi_maps is made only when asked to. */
  char *a7 = tu_path_join(cfg, "ardour7"), *m7 = tu_path_join(a7, "midi_maps");
  char *a8 = tu_path_join(cfg, "ardour8"), *m8 = tu_path_join(a8, "midi_maps");
  assert_int_equal(mkdir(a7, 0755), 0);
  d = pipe_diags_new();
  v = daw_ardour_user_dirs(NULL, false, d);
  assert_int_equal(strv_len(v), 0);
  assert_false(is_dir(m7));
  daw_strv_free(v);
  v = daw_ardour_user_dirs(NULL, true, d);
  assert_int_equal(strv_len(v), 1);
  assert_string_equal(v[0], m7);
  assert_true(is_dir(m7));
  daw_strv_free(v);
  v = daw_ardour_user_dirs(NULL, false, d); /* now it exists */
  assert_int_equal(strv_len(v), 1);
  assert_string_equal(v[0], m7);
  daw_strv_free(v);
  assert_int_equal(pipe_diags_count(d), 0);

  /* Ardour 7 and 8: both, the newer first. */
  assert_int_equal(mkdir(a8, 0755), 0);
  v = daw_ardour_user_dirs(NULL, true, d);
  assert_int_equal(strv_len(v), 2);
  assert_string_equal(v[0], m8);
  assert_string_equal(v[1], m7);
  assert_true(is_dir(m8));
  daw_strv_free(v);
  assert_int_equal(pipe_diags_count(d), 0);

  /* An explicit folder replaces the search, and is made only when asked to. */
  char *explicit = tu_path_join(tmp, "explicit/deep/maps");
  v = daw_ardour_user_dirs(explicit, false, d);
  assert_int_equal(strv_len(v), 0);
  assert_int_equal(pipe_diags_count(d), 0);
  daw_strv_free(v);
  v = daw_ardour_user_dirs(explicit, true, d);
  assert_int_equal(strv_len(v), 1);
  assert_string_equal(v[0], explicit);
  assert_true(is_dir(explicit));
  daw_strv_free(v);
  v = daw_ardour_user_dirs(explicit, false, d);
  assert_int_equal(strv_len(v), 1);
  daw_strv_free(v);
  assert_int_equal(pipe_diags_count(d), 0);
  /* One that cannot be made (under a regular file): none, and an error. */
  char *file = tu_path_join(tmp, "plain"), *under = tu_path_join(file, "maps");
  tu_write_file(file, "x", 1);
  v = daw_ardour_user_dirs(under, true, d);
  assert_int_equal(strv_len(v), 0);
  assert_true(pipe_diags_count_severity(d, PIPE_SEV_ERROR) >= 1);
  daw_strv_free(v);
  pipe_diags_free(d);

  /* A relative XDG_CONFIG_HOME is ignored (XDG): ~/.config is used. */
  char *home = tu_path_join(tmp, "home"), *hcfg = tu_path_join(home, ".config/ardour8");
  char *hmaps = tu_path_join(hcfg, "midi_maps");
  d = pipe_diags_new();
  assert_int_equal(pipe_fs_mkdirs(hcfg, d), PIPE_OK);
  setenv("XDG_CONFIG_HOME", "relative/config", 1);
  setenv("HOME", home, 1);
  v = daw_ardour_user_dirs(NULL, true, d);
  assert_int_equal(strv_len(v), 1);
  assert_string_equal(v[0], hmaps);
  daw_strv_free(v);
  pipe_diags_free(d);

  if (old_xdg)
    setenv("XDG_CONFIG_HOME", old_xdg, 1);
  else
    unsetenv("XDG_CONFIG_HOME");
  if (old_home)
    setenv("HOME", old_home, 1);
  free(old_xdg);
  free(old_home);
  free(home);
  free(hcfg);
  free(hmaps);
  free(file);
  free(under);
  free(explicit);
  free(a7);
  free(m7);
  free(a8);
  free(m8);
  free(cfg);
  tu_rmtree(tmp);
  free(tmp);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_render_root),
      cmocka_unit_test(test_render_bindings),
      cmocka_unit_test(test_render_route_position),
      cmocka_unit_test(test_render_long_route),
      cmocka_unit_test(test_render_rejects),
      cmocka_unit_test(test_render_rejects_all),
      cmocka_unit_test(test_schema_missing),
      cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_file_name),
      cmocka_unit_test(test_provenance),
      cmocka_unit_test(test_install),
      cmocka_unit_test(test_install_killed),
      cmocka_unit_test(test_user_dirs),
      cmocka_unit_test(test_hostile_text),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
