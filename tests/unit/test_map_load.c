/* test_map_load.c: the phase 2 loaders (maps/load.c, profile.c, registry.c over yaml.c). Good and bad fixtures in
 * tests/data/maps, each bad one with the exact findings it must produce; the audio-control corpus (a verbatim copy
 * in tests/data/maps/audio-control); hostile input (huge files, alias bombs, deep nesting, binary bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cache/cache.h"
#include "maps/map.h"
#include "maps/yaml.h"
#include "pipeline/fsx.h"
#include "testutil.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------------------------
 * Helpers */

/* Owned absolute path of `rel` under tests/data/maps. */
static char *data_path(const char *rel)
{
  const char *src = getenv("CTRLMAP_SOURCE_DIR");
  assert_non_null(src);
  size_t n = strlen(src) + strlen(rel) + 32;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/tests/data/maps/%s", src, rel);
  return p;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kb(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static size_t findings(const PipeDiagList *d)
{
  return pipe_diags_count_severity(d, PIPE_SEV_ERROR) + pipe_diags_count_severity(d, PIPE_SEV_WARNING);
}

static size_t errors(const PipeDiagList *d)
{
  return pipe_diags_count_severity(d, PIPE_SEV_ERROR);
}

/* The first finding with `code`, or NULL. */
static const PipeDiag *find_code(const PipeDiagList *d, const char *code)
{
  for (size_t i = 0; i < pipe_diags_count(d); i++)
    if (!strcmp(pipe_diags_get(d, i)->code, code))
      return pipe_diags_get(d, i);
  return NULL;
}

static bool has_finding(const PipeDiagList *d, const char *code, unsigned line, unsigned column)
{
  for (size_t i = 0; i < pipe_diags_count(d); i++) {
    const PipeDiag *g = pipe_diags_get(d, i);
    if (!strcmp(g->code, code) && g->line == line && g->column == column)
      return true;
  }
  return false;
}

/* Prints the findings when a test is about to fail, so the failure says what the loader did say. */
static void dump_if(bool failing, const char *what, const PipeDiagList *d)
{
  if (!failing)
    return;
  fprintf(stderr, "--- findings for %s:\n", what);
  pipe_diags_print(d, stderr);
}

static char *slurp(const char *path, size_t *len)
{
  char *text = tu_read_file(path, len);
  assert_non_null(text);
  return text;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Bad fixtures and the exact findings (errors and warnings) each must produce */

typedef struct {
  const char *code;
  unsigned line, column;
} Finding;

typedef struct {
  const char *file; /* under tests/data/maps */
  PipeStatus status;
  Finding expect[16]; /* ends at the first NULL code */
} BadCase;

static const BadCase BAD_MAPS[] = {
    {"bad/empty.yaml", PIPE_ERR_INVALID, {{"map-empty", 0, 0}}},
    {"bad/syntax.yaml", PIPE_ERR_PARSE, {{"yaml-syntax", 2, 61}}},
    {"bad/duplicate-key.yaml", PIPE_ERR_PARSE, {{"yaml-syntax", 11, 5}}},
    {"bad/alias.yaml", PIPE_ERR_PARSE, {{"yaml-alias", 12, 5}, {"yaml-alias", 12, 10}, {"yaml-alias", 14, 10}}},
    {"bad/billion-laughs.yaml",
     PIPE_ERR_PARSE,
     {{"yaml-alias", 2, 13},
      {"yaml-alias", 2, 18},
      {"yaml-alias", 2, 23},
      {"yaml-alias", 2, 28},
      {"yaml-alias", 2, 33}}},
    {"bad/multidoc.yaml", PIPE_ERR_PARSE, {{"yaml-multidoc", 5, 1}}},
    {"bad/depth.yaml", PIPE_ERR_PARSE, {{"yaml-depth", 7, 47}}},
    {"bad/not-mapping.yaml", PIPE_ERR_INVALID, {{"schema-not-mapping", 2, 1}}},
    {"bad/required.yaml",
     PIPE_OK,
     {{"schema-required", 3, 3},
      {"schema-required", 5, 3},
      {"schema-required", 7, 5},
      {"schema-required", 10, 5},
      {"schema-required", 15, 9},
      {"schema-required", 1, 1}}},
    {"bad/types.yaml",
     PIPE_OK,
     {{"schema-type", 1, 10},
      {"schema-type", 4, 10},
      {"schema-type", 7, 14},
      {"schema-type", 8, 15}, /* a quoted scalar starts at its quote (libfyaml marks the text after it) */
      {"schema-type", 12, 9},
      {"schema-type", 13, 14},
      {"schema-type", 16, 9},
      {"schema-type", 17, 23},
      {"schema-type", 20, 11},
      {"schema-type", 21, 16},
      {"schema-type", 22, 23},
      {"schema-type", 23, 5},
      {"schema-type", 24, 5}}},
    {"bad/enum.yaml",
     PIPE_OK,
     {{"schema-enum", 6, 11},
      {"schema-enum", 11, 11},
      {"schema-enum", 12, 14},
      {"schema-enum", 16, 15},
      {"schema-enum", 21, 15}}},
    {"bad/unknown-key.yaml",
     PIPE_OK,
     {{"schema-unknown-key", 2, 62},
      {"schema-unknown-key", 8, 5},
      {"schema-unknown-key", 9, 5},
      {"schema-unknown-key", 13, 5},
      {"schema-unknown-key", 14, 1}}},
    {"bad/schema-range.yaml",
     PIPE_OK,
     {{"schema-range", 6, 20}, {"schema-range", 11, 23}, {"schema-range", 15, 23 /* at the quote */}}},
    {"bad/midi-range.yaml",
     PIPE_OK,
     {{"channel-range", 4, 15},
      {"cc-range", 8, 9},
      {"channel-range", 9, 14},
      {"note-range", 12, 11},
      {"channel-range", 13, 14},
      {"cc-range", 16, 9}}},
    {"bad/range-invalid.yaml",
     PIPE_OK,
     {{"range-invalid", 8, 12}, {"range-invalid", 12, 12}, {"range-invalid", 16, 12}, {"range-invalid", 20, 22}}},
    {"bad/channel-both.yaml", PIPE_OK, {{"channel-both", 5, 15}}},
    {"bad/message-conflict.yaml",
     PIPE_OK,
     {{"message-conflict", 8, 11}, {"message-conflict", 11, 14}, {"message-conflict", 15, 14}}},
    {"bad/encoding.yaml", PIPE_OK, {{"encoding-not-encoder", 8, 15}}},
    {"bad/buttons.yaml",
     PIPE_OK,
     {{"button-group-empty", 5, 5},
      {"button-group-empty", 9, 14},
      {"buttons-not-group", 14, 7},
      {"schema-type", 18, 14}}},
};

static const BadCase BAD_PROFILES[] = {
    {"profiles/bad/duplicate-id.yaml", PIPE_ERR_INVALID, {{"profile-duplicate-id", 7, 5}}},
    {"profiles/bad/duplicate-number.yaml", PIPE_ERR_INVALID, {{"profile-duplicate-number", 9, 5}}},
    {"profiles/bad/schema.yaml",
     PIPE_ERR_INVALID,
     {{"schema-pattern", 1, 5},
      {"channel-range", 3, 18},
      {"schema-unknown-key", 4, 1},
      {"schema-enum", 6, 27},
      {"schema-required", 7, 5},
      {"message-conflict", 8, 50},
      {"cc-range", 9, 40},
      {"channel-range", 9, 54},
      {"schema-unknown-key", 10, 20},
      {"note-range", 10, 36},
      {"schema-required", 10, 5},
      {"schema-required", 1, 1}}},
};

static const BadCase BAD_REGISTRIES[] = {
    {"registry/bad/channel-range.yaml",
     PIPE_ERR_INVALID,
     {{"registry-channel-range", 4, 3},
      {"registry-channel-range", 6, 3},
      {"schema-type", 8, 3},
      {"schema-required", 11, 5},
      {"schema-type", 12, 6},
      {"registry-duplicate-channel", 15, 3}}},
};

typedef enum { LOAD_MAP_FILE, LOAD_MAP_STRING, LOAD_PROFILE, LOAD_REGISTRY } LoadKind;

/* Loads `path` with one of the loaders, frees the result, and returns the status and whether a result came back. */
static PipeStatus load_any(LoadKind kind, const char *path, PipeDiagList *d, bool *got)
{
  PipeStatus st = PIPE_OK;
  *got = false;
  if (kind == LOAD_MAP_FILE || kind == LOAD_MAP_STRING) {
    CanonMap *m = NULL;
    if (kind == LOAD_MAP_FILE) {
      st = map_load_file(path, &m, d);
    } else {
      size_t len = 0;
      char *text = slurp(path, &len);
      st = map_load_string(text, len, path, &m, d);
      free(text);
    }
    *got = m != NULL;
    map_free(m);
  } else if (kind == LOAD_PROFILE) {
    MapProfile *p = NULL;
    st = map_profile_load_file(path, &p, d);
    *got = p != NULL;
    map_profile_free(p);
  } else {
    MapRegistry *r = NULL;
    st = map_registry_load_file(path, &r, d);
    *got = r != NULL;
    map_registry_free(r);
  }
  return st;
}

static void run_bad_cases(const BadCase *cases, size_t n, LoadKind kind)
{
  for (size_t i = 0; i < n; i++) {
    char *path = data_path(cases[i].file);
    PipeDiagList *d = pipe_diags_new();
    bool got = false;
    PipeStatus st = load_any(kind, path, d, &got);
    size_t want = 0;
    bool ok = st == cases[i].status && got == (st == PIPE_OK);
    for (; want < 16 && cases[i].expect[want].code; want++) {
      const Finding *f = &cases[i].expect[want];
      if (!has_finding(d, f->code, f->line, f->column)) {
        fprintf(stderr, "%s: missing %s at %u:%u\n", cases[i].file, f->code, f->line, f->column);
        ok = false;
      }
    }
    ok = ok && findings(d) == want;
    dump_if(!ok, cases[i].file, d);
    assert_true(ok);
    for (size_t k = 0; k < pipe_diags_count(d); k++) /* every finding names the file it is about */
      assert_string_equal(pipe_diags_get(d, k)->file, path);
    pipe_diags_free(d);
    free(path);
  }
}

static void test_bad_maps_from_file(void **state)
{
  (void)state;
  run_bad_cases(BAD_MAPS, sizeof BAD_MAPS / sizeof *BAD_MAPS, LOAD_MAP_FILE);
}

static void test_bad_maps_from_string(void **state)
{
  (void)state;
  run_bad_cases(BAD_MAPS, sizeof BAD_MAPS / sizeof *BAD_MAPS, LOAD_MAP_STRING);
}

static void test_bad_profiles(void **state)
{
  (void)state;
  run_bad_cases(BAD_PROFILES, sizeof BAD_PROFILES / sizeof *BAD_PROFILES, LOAD_PROFILE);
}

static void test_bad_registries(void **state)
{
  (void)state;
  run_bad_cases(BAD_REGISTRIES, sizeof BAD_REGISTRIES / sizeof *BAD_REGISTRIES, LOAD_REGISTRY);
}

/* Messages: lower case, what is wrong, then what was expected. */
static void test_messages(void **state)
{
  (void)state;
  struct {
    const char *file, *code, *text;
  } cases[] = {
      {"bad/midi-range.yaml", "cc-range", "cc is 300; expected a whole number from 0 to 127"},
      {"bad/midi-range.yaml", "channel-range", "1 to 16"},
      {"bad/unknown-key.yaml", "schema-unknown-key", "expected manufacturer, model, firmware or profile"},
      {"bad/enum.yaml", "schema-enum",
       "type is 'encodr'; expected encoder, slider, button or button_group (did "
       "you mean 'encoder'?)"},
      {"bad/alias.yaml", "yaml-alias", "merge keys"},
      {"bad/types.yaml", "schema-type", "version is a sequence; expected"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *path = data_path(cases[i].file);
    PipeDiagList *d = pipe_diags_new();
    CanonMap *m = NULL;
    map_load_file(path, &m, d);
    const PipeDiag *g = find_code(d, cases[i].code);
    assert_non_null(g);
    assert_non_null(strstr(g->message, cases[i].text));
    assert_true(g->message[0] >= 'a' && g->message[0] <= 'z');
    assert_true(g->message[strlen(g->message) - 1] != '.');
    map_free(m);
    pipe_diags_free(d);
    free(path);
  }
  /* The did-you-mean of a misspelt key. */
  char *path = data_path("bad/unknown-key.yaml");
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_file(path, &m, d), PIPE_OK);
  bool seen = false;
  for (size_t i = 0; i < pipe_diags_count(d); i++)
    seen |=
        strstr(pipe_diags_get(d, i)->message, "'plugin_paramter' in control; did you mean 'plugin_parameter'?") != NULL;
  assert_true(seen);
  assert_int_equal(pipe_diags_get(d, 0)->severity, PIPE_SEV_WARNING);
  map_free(m);
  pipe_diags_free(d);
  free(path);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Good maps */

/* Loads a good map: PIPE_OK, a map, and no finding at all. */
static CanonMap *load_clean(const char *rel)
{
  char *path = data_path(rel);
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  PipeStatus st = map_load_file(path, &m, d);
  dump_if(st != PIPE_OK || findings(d) > 0, rel, d);
  assert_int_equal(st, PIPE_OK);
  assert_non_null(m);
  assert_int_equal(findings(d), 0);
  assert_string_equal(m->path, path);
  pipe_diags_free(d);
  free(path);
  return m;
}

static void assert_mark(MapMark m, unsigned line, unsigned column)
{
  if (m.line != line || m.column != column)
    fprintf(stderr, "mark %u:%u, expected %u:%u\n", m.line, m.column, line, column);
  assert_int_equal(m.line, line);
  assert_int_equal(m.column, column);
}

static void test_full_map_header(void **state)
{
  (void)state;
  CanonMap *m = load_clean("good/full.yaml");
  assert_string_equal(m->version, "1.0.0");
  assert_string_equal(m->device.manufacturer, "Novation");
  assert_string_equal(m->device.model, "Launch Control XL 3");
  assert_string_equal(m->device.firmware, ">=1.0");
  assert_string_equal(m->device.profile, "novation-launch-control-xl3");
  assert_mark(m->device.mark, 4, 3);
  assert_mark(m->device.profile_mark, 7, 12);
  assert_string_equal(m->metadata.name, "x42 fil4 on Launch Control XL 3");
  assert_string_equal(m->metadata.author, "ctrlmap tests");
  assert_string_equal(m->metadata.date, "2025-09-23"); /* the text, not a YAML timestamp */
  assert_string_equal(m->metadata.notes, "Two lines\nof notes.\n");
  assert_non_null(m->metadata.description);
  assert_int_equal(m->metadata.n_tags, 3);
  assert_string_equal(m->metadata.tags[2], "fil4");
  assert_string_equal(m->plugin.manufacturer, "x42");
  assert_string_equal(m->plugin.name, "x42-eq - Parametric Equalizer Mono");
  assert_string_equal(m->plugin.type, "EQ");
  assert_string_equal(m->plugin.format, "lv2");
  assert_string_equal(m->plugin.version, "0.6");
  assert_string_equal(m->plugin.descriptor, "descriptors/fil4-mono.json");
  assert_string_equal(m->plugin.uri, "http://gareus.org/oss/lv2/fil4#mono");
  assert_mark(m->plugin.mark, 18, 3);
  assert_mark(m->plugin.uri_mark, 24, 8);
  assert_mark(m->plugin.descriptor_mark, 23, 15);
  assert_int_equal(m->midi_channel, 3);
  assert_mark(m->midi_channel_mark, 25, 15);
  assert_null(m->registry);
  assert_string_equal(m->ardour.route, "Vocals");
  assert_int_equal(m->ardour.plugin_position, 2);
  assert_mark(m->ardour.mark, 27, 3);
  assert_mark(m->root_mark, 2, 1);
  assert_int_equal(m->n_controls, 5);
  assert_true(m->dir[0] == '/' && strstr(m->dir, "tests/data/maps/good") != NULL);
  map_free(m);
}

static void test_full_map_controls(void **state)
{
  (void)state;
  CanonMap *m = load_clean("good/full.yaml");
  const MapControl *e = &m->controls[0];
  assert_string_equal(e->id, "encoder_1");
  assert_string_equal(e->name, "High-pass frequency");
  assert_string_equal(e->description, "High-pass corner");
  assert_int_equal(e->type, MAP_CTL_ENCODER);
  assert_int_equal(e->message, MAP_MSG_CC);
  assert_int_equal(e->number, 13);
  assert_int_equal(e->channel, 2);
  assert_true(e->has_range);
  assert_int_equal(e->range[0], 10);
  assert_int_equal(e->range[1], 120);
  assert_true(e->has_param_range);
  assert_true(e->param_range[0] == 20.0 && e->param_range[1] == 1000.5);
  assert_int_equal(e->encoding, MAP_ENC_R);
  assert_int_equal(e->param_kind, MAP_PARAM_INDEX);
  assert_int_equal(e->param_index, 6);
  assert_mark(e->mark, 30, 5);
  assert_mark(e->id_mark, 30, 9);
  assert_mark(e->type_mark, 32, 11);
  assert_mark(e->number_mark, 33, 9);
  assert_mark(e->channel_mark, 34, 14);
  assert_mark(e->range_mark, 35, 12);
  assert_mark(e->param_range_mark, 36, 22);
  assert_mark(e->param_mark, 39, 23);

  const MapControl *s = &m->controls[1];
  assert_int_equal(s->type, MAP_CTL_SLIDER);
  assert_int_equal(s->message, MAP_MSG_NOTE); /* note: implies message note */
  assert_int_equal(s->number, 41);
  assert_int_equal(s->channel, MAP_CHANNEL_GLOBAL);
  assert_false(s->has_range);
  assert_int_equal(s->range[0], 0);
  assert_int_equal(s->range[1], 127);
  assert_int_equal(s->param_kind, MAP_PARAM_TEXT);
  assert_string_equal(s->param_text, "HPfreq");
  assert_int_equal(s->encoding, MAP_ENC_DEFAULT);

  const MapControl *b1 = &m->controls[2];
  assert_int_equal(b1->message, MAP_MSG_NOTE);
  assert_int_equal(b1->number, -1); /* from the profile */
  assert_int_equal(b1->channel, 0);
  assert_int_equal(b1->mode, MAP_MODE_MOMENTARY);
  assert_mark(b1->mode_mark, 48, 11);
  assert_string_equal(b1->function, "transport-roll");
  assert_string_equal(b1->argument, "1");
  assert_int_equal(b1->param_kind, MAP_PARAM_NONE);

  const MapControl *b2 = &m->controls[3];
  assert_int_equal(b2->message, MAP_MSG_CC);
  assert_int_equal(b2->number, 127);
  assert_int_equal(b2->mode, MAP_MODE_TOGGLE);
  assert_int_equal(b2->param_kind, MAP_PARAM_INDEX); /* "12": digits in quotes, as the TypeScript tool writes */
  assert_int_equal(b2->param_index, 12);

  const MapControl *g = &m->controls[4];
  assert_int_equal(g->type, MAP_CTL_BUTTON_GROUP);
  assert_int_equal(g->n_buttons, 2);
  assert_int_equal(g->buttons[0].type, MAP_CTL_BUTTON);
  assert_int_equal(g->buttons[0].number, 41);
  assert_string_equal(g->buttons[0].param_text, "enable");
  assert_mark(g->buttons[0].mark, 60, 9);
  assert_int_equal(g->buttons[1].message, MAP_MSG_NOTE);
  assert_int_equal(g->buttons[1].number, 0);
  assert_int_equal(g->buttons[1].channel, 16);
  assert_string_equal(g->buttons[1].argument, "two");
  assert_null(g->buttons[1].buttons);
  map_free(m);
}

static void test_minimal_map(void **state)
{
  (void)state;
  CanonMap *m = load_clean("good/minimal.yaml");
  assert_string_equal(m->version, "1");
  assert_string_equal(m->metadata.name, "Minimal");
  assert_int_equal(m->n_controls, 0);
  assert_null(m->controls);
  assert_null(m->plugin.name);
  assert_null(m->plugin.uri);
  assert_int_equal(m->midi_channel, 0);
  assert_null(m->ardour.route);
  assert_int_equal(m->ardour.plugin_position, 0);
  assert_int_equal(m->metadata.n_tags, 0);
  map_free(m);
}

static void test_button_groups(void **state)
{
  (void)state;
  CanonMap *m = load_clean("good/button-groups.yaml");
  assert_string_equal(m->registry, "../registry.yaml");
  assert_mark(m->registry_mark, 10, 24);
  assert_int_equal(m->n_controls, 2);
  const MapControl *r1 = &m->controls[0], *r2 = &m->controls[1];
  assert_int_equal(r1->type, MAP_CTL_BUTTON_GROUP);
  assert_int_equal(r1->n_buttons, 2);
  for (size_t i = 0; i < r1->n_buttons; i++)
    assert_int_equal(r1->buttons[i].type, MAP_CTL_BUTTON); /* members without a type are buttons */
  assert_int_equal(r1->buttons[0].param_index, 33);
  assert_int_equal(r1->buttons[0].channel, MAP_CHANNEL_GLOBAL);
  assert_int_equal(r1->buttons[1].mode, MAP_MODE_MOMENTARY);
  assert_int_equal(r2->n_buttons, 3);
  assert_int_equal(r2->buttons[0].message, MAP_MSG_NOTE);
  assert_int_equal(r2->buttons[0].number, 60);
  assert_string_equal(r2->buttons[1].param_text, "bypass");
  assert_int_equal(r2->buttons[2].number, 62);
  map_free(m);
}

/* ---------------------------------------------------------------------------------------------------------------
 * The audio-control corpus */

static const char *const CORPUS_MAPS[] = {
    "audio-control/channel-strips/analog-obsession-channev.yaml",
    "audio-control/moog-minimoog/arturia-mini-v4.yaml",
    "audio-control/roland-jupiter-8/arturia-jup8v.yaml",
    "audio-control/roland-jupiter-8/jupiter-8-base.yaml",
    "audio-control/roland-jupiter-8/tal-j8.yaml",
};

/* Controls (group members included, groups themselves not) whose plugin_parameter is of `kind`. */
static size_t count_params(const MapControl *c, size_t n, MapParamKind kind)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += c[i].type == MAP_CTL_BUTTON_GROUP ? count_params(c[i].buttons, c[i].n_buttons, kind) : c[i].param_kind == kind;
  return k;
}

/* The corpus has real mistakes (shared CCs, a registry with stale categories), but they are for the rules to find:
 * the loader reads every file without a single error or warning. */
static void test_corpus_maps_load_clean(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof CORPUS_MAPS / sizeof *CORPUS_MAPS; i++) {
    CanonMap *m = load_clean(CORPUS_MAPS[i]);
    assert_string_equal(m->version, "1.0.0");
    assert_string_equal(m->device.model, "Launch Control XL 3");
    assert_string_equal(m->metadata.date, "2025-09-23");
    assert_string_equal(m->registry, "../midi-channel-registry.yaml");
    assert_int_equal(m->midi_channel, 0);
    assert_true(m->n_controls >= 34);
    size_t groups = 0, buttons = 0;
    for (size_t k = 0; k < m->n_controls; k++) {
      const MapControl *c = &m->controls[k];
      if (c->type != MAP_CTL_BUTTON_GROUP) {
        assert_int_equal(c->channel, MAP_CHANNEL_GLOBAL);
        assert_int_equal(c->message, MAP_MSG_CC);
        continue;
      }
      groups++, buttons += c->n_buttons;
      for (size_t j = 0; j < c->n_buttons; j++) {
        assert_int_equal(c->buttons[j].type, MAP_CTL_BUTTON);
        assert_int_equal(c->buttons[j].channel, MAP_CHANNEL_GLOBAL);
        assert_true(c->buttons[j].mode != MAP_MODE_DEFAULT);
      }
    }
    assert_true(groups >= 2);
    assert_int_equal(buttons, 16);
    map_free(m);
  }
}

static void test_corpus_map_details(void **state)
{
  (void)state;
  CanonMap *m = load_clean(CORPUS_MAPS[0]); /* CHANNEV: digits in quotes, and two symbols */
  assert_string_equal(m->plugin.name, "CHANNEV");
  assert_int_equal(m->n_controls, 34);
  assert_int_equal(m->controls[0].param_kind, MAP_PARAM_INDEX);
  assert_int_equal(m->controls[0].param_index, 5);
  assert_int_equal(m->controls[0].number, 13);
  assert_int_equal(count_params(m->controls, m->n_controls, MAP_PARAM_TEXT), 2); /* "window", "bypass" */
  assert_int_equal(count_params(m->controls, m->n_controls, MAP_PARAM_INDEX), 34);
  assert_string_equal(m->controls[33].buttons[3].param_text, "bypass");
  map_free(m);

  m = load_clean(CORPUS_MAPS[3]); /* the Jupiter-8 template: no plugin, no parameters */
  assert_null(m->plugin.name);
  assert_int_equal(m->n_controls, 36);
  assert_int_equal(count_params(m->controls, m->n_controls, MAP_PARAM_NONE), 48);
  map_free(m);

  m = load_clean(CORPUS_MAPS[4]); /* TAL-J-8: plain integers, and a descriptor */
  assert_string_equal(m->plugin.descriptor, "plugin-descriptors/tal-togu-audio-line-tal-j-8.json");
  assert_int_equal(m->controls[0].param_kind, MAP_PARAM_INDEX);
  assert_int_equal(m->controls[0].param_index, 105);
  map_free(m);
}

static void test_corpus_registry(void **state)
{
  (void)state;
  char *path = data_path("audio-control/midi-channel-registry.yaml");
  PipeDiagList *d = pipe_diags_new();
  MapRegistry *r = NULL;
  assert_int_equal(map_registry_load_file(path, &r, d), PIPE_OK);
  assert_int_equal(findings(d), 0);
  assert_non_null(r);
  assert_string_equal(r->path, path);
  assert_non_null(strstr(r->dir, "tests/data/maps/audio-control"));
  assert_string_equal(r->manufacturer, "Novation");
  assert_string_equal(r->model, "Launch Control XL 3");
  assert_int_equal(r->n_entries, 5);
  static const char *const paths[] = {"roland-jupiter-8/tal-j8", "roland-jupiter-8/arturia-jup8v",
                                      "roland-jupiter-8/jupiter-8-base", "channel-strips/analog-obsession-channev",
                                      "moog-minimoog/arturia-mini-v4"};
  for (size_t i = 0; i < 5; i++) { /* sorted by channel, though the file lists 4, 2, 3, 1, 5 */
    assert_int_equal(r->entries[i].channel, (int)i + 1);
    assert_string_equal(r->entries[i].path, paths[i]);
    assert_non_null(r->entries[i].description);
  }
  assert_mark(r->entries[3].mark, 20, 3);
  assert_true(map_file_is_registry(path));
  map_registry_free(r);
  pipe_diags_free(d);
  free(path);
}

static void test_file_is_registry(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof CORPUS_MAPS / sizeof *CORPUS_MAPS; i++) {
    char *path = data_path(CORPUS_MAPS[i]);
    assert_false(map_file_is_registry(path));
    free(path);
  }
  char *dir = data_path("good");
  char *missing = data_path("good/no-such-file.yaml");
  char *bad = data_path("bad/syntax.yaml");
  assert_false(map_file_is_registry(dir));
  assert_false(map_file_is_registry(missing));
  assert_false(map_file_is_registry(bad));
  free(dir);
  free(missing);
  free(bad);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Device profiles */

static void test_good_profile(void **state)
{
  (void)state;
  char *path = data_path("profiles/good/test-controller.yaml");
  PipeDiagList *d = pipe_diags_new();
  MapProfile *p = NULL;
  assert_int_equal(map_profile_load_file(path, &p, d), PIPE_OK);
  assert_int_equal(findings(d), 0);
  assert_string_equal(p->id, "test-controller-2");
  assert_string_equal(p->manufacturer, "ctrlmap");
  assert_string_equal(p->model, "Test Controller 2");
  assert_string_equal(p->path, path);
  assert_int_equal(p->default_channel, 2);
  assert_int_equal(p->n_controls, 4);
  const MapProfileControl *c = map_profile_find(p, "encoder_1");
  assert_non_null(c);
  assert_int_equal(c->type, MAP_CTL_ENCODER);
  assert_int_equal(c->message, MAP_MSG_CC);
  assert_int_equal(c->number, 13);
  assert_int_equal(c->channel, 0);
  assert_string_equal(c->label, "Top row 1");
  c = map_profile_find(p, "fader_1");
  assert_int_equal(c->type, MAP_CTL_SLIDER);
  assert_int_equal(c->channel, 3);
  c = map_profile_find(p, "button_1");
  assert_int_equal(c->message, MAP_MSG_NOTE);
  assert_int_equal(c->number, 13);
  assert_null(c->label);
  assert_null(map_profile_find(p, "encoder_9"));
  assert_null(map_profile_find(p, NULL));
  assert_null(map_profile_find(NULL, "encoder_1"));
  map_profile_free(p);
  pipe_diags_free(d);
  free(path);
}

static void test_profile_defaults(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char *path = pipe_path_join(dir, "p.yaml");
  const char text[] = "id: x1\nmanufacturer: m\nmodel: x\ncontrols: []\n";
  tu_write_file(path, text, sizeof text - 1);
  PipeDiagList *d = pipe_diags_new();
  MapProfile *p = NULL;
  assert_int_equal(map_profile_load_file(path, &p, d), PIPE_OK);
  assert_int_equal(p->default_channel, 1);
  assert_int_equal(p->n_controls, 0);
  map_profile_free(p);
  /* Not a mapping, and not there at all. */
  tu_write_file(path, "- a\n", 4);
  assert_int_equal(map_profile_load_file(path, &p, d), PIPE_ERR_INVALID);
  assert_null(p);
  assert_non_null(find_code(d, "schema-not-mapping"));
  unlink(path);
  assert_int_equal(map_profile_load_file(path, &p, d), PIPE_ERR_IO);
  assert_null(p);
  assert_non_null(find_code(d, "map-io"));
  pipe_diags_free(d);
  free(path);
  tu_rmtree(dir);
  free(dir);
}

/* ---------------------------------------------------------------------------------------------------------------
 * From a string */

static void test_load_string(void **state)
{
  (void)state;
  char *path = data_path("good/full.yaml");
  size_t len = 0;
  char *text = slurp(path, &len);
  PipeDiagList *d = pipe_diags_new();
  CanonMap *a = NULL, *b = NULL, *c = NULL;
  assert_int_equal(map_load_file(path, &a, d), PIPE_OK);
  assert_int_equal(map_load_string(text, len, NULL, &b, d), PIPE_OK);
  assert_int_equal(map_load_string(text, len, "some/dir/x.yaml", &c, d), PIPE_OK);
  assert_int_equal(findings(d), 0);
  assert_string_equal(b->path, "<string>");
  assert_string_equal(b->dir, ".");
  assert_string_equal(c->path, "some/dir/x.yaml");
  assert_string_equal(c->dir, "some/dir");
  assert_true(a->content_hash == cache_hash(text, len));
  assert_true(b->content_hash == a->content_hash);
  assert_int_equal(b->n_controls, a->n_controls);
  assert_string_equal(b->plugin.uri, a->plugin.uri);
  assert_int_equal(b->controls[4].buttons[1].number, a->controls[4].buttons[1].number);
  map_free(a);
  map_free(b);
  map_free(c);

  /* The text need not be NUL-terminated: only `len` bytes are read. */
  const char doc[] = "version: 1\ndevice: {manufacturer: a, model: b}\nmetadata: {name: n}\ncontrols: []\nXXXX";
  assert_int_equal(map_load_string(doc, sizeof doc - 5, "doc.yaml", &a, d), PIPE_OK);
  assert_int_equal(findings(d), 0);
  assert_string_equal(a->dir, ".");
  map_free(a);

  /* Findings name the origin. */
  assert_int_equal(map_load_string("[", 1, "mem.yaml", &a, d), PIPE_ERR_PARSE);
  assert_null(a);
  const PipeDiag *g = find_code(d, "yaml-syntax");
  assert_non_null(g);
  assert_string_equal(g->file, "mem.yaml");
  pipe_diags_free(d);
  free(text);
  free(path);
}

static void test_empty_and_not_mapping(void **state)
{
  (void)state;
  static const char *const empties[] = {"", "   \n\n", "# only a comment\n", "---\n", "---\n...\n"};
  for (size_t i = 0; i < sizeof empties / sizeof *empties; i++) {
    PipeDiagList *d = pipe_diags_new();
    CanonMap *m = NULL;
    assert_int_equal(map_load_string(empties[i], strlen(empties[i]), "e.yaml", &m, d), PIPE_ERR_INVALID);
    assert_null(m);
    assert_non_null(find_code(d, "map-empty"));
    assert_int_equal(pipe_diags_count(d), 1);
    pipe_diags_free(d);
  }
  static const char *const scalars[] = {"~\n", "just text\n", "42\n", "[1, 2]\n"};
  for (size_t i = 0; i < sizeof scalars / sizeof *scalars; i++) {
    PipeDiagList *d = pipe_diags_new();
    CanonMap *m = NULL;
    assert_int_equal(map_load_string(scalars[i], strlen(scalars[i]), "s.yaml", &m, d), PIPE_ERR_INVALID);
    assert_null(m);
    const PipeDiag *g = find_code(d, "schema-not-mapping");
    assert_non_null(g);
    assert_int_equal(g->line, 1);
    assert_int_equal(g->column, 1);
    pipe_diags_free(d);
  }
}

/* ---------------------------------------------------------------------------------------------------------------
 * Hostile input */

/* A 50 MB (sparse) file is refused from its size: quickly, and without its bytes ever coming into memory. */
static void test_too_large_not_read(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char *path = pipe_path_join(dir, "huge.yaml");
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, 50L * 1024 * 1024), 0);
  close(fd);
  long rss0 = max_rss_kb();
  double t0 = now_s();
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  MapProfile *p = NULL;
  MapRegistry *r = NULL;
  assert_int_equal(map_load_file(path, &m, d), PIPE_ERR_INVALID);
  assert_int_equal(map_profile_load_file(path, &p, d), PIPE_ERR_INVALID);
  assert_int_equal(map_registry_load_file(path, &r, d), PIPE_ERR_INVALID);
  assert_false(map_file_is_registry(path));
  double dt = now_s() - t0;
  long drss = max_rss_kb() - rss0;
  assert_null(m);
  assert_null(p);
  assert_null(r);
  assert_int_equal(pipe_diags_count(d), 3);
  const PipeDiag *g = find_code(d, "map-too-large");
  assert_non_null(g);
  assert_non_null(strstr(g->message, "52428800"));
  assert_true(dt < 0.5);
  assert_true(drss < 10 * 1024);
  pipe_diags_free(d);

  /* The same cap for text already in memory. */
  d = pipe_diags_new();
  size_t len = MAP_MAX_FILE_BYTES + 1;
  char *big = malloc(len);
  assert_non_null(big);
  memset(big, ' ', len);
  assert_int_equal(map_load_string(big, len, "big.yaml", &m, d), PIPE_ERR_INVALID);
  assert_non_null(find_code(d, "map-too-large"));
  free(big);
  pipe_diags_free(d);
  tu_rmtree(dir);
  free(path);
  free(dir);
}

static void test_directory_and_missing(void **state)
{
  (void)state;
  char *dir = data_path("good");
  char *missing = data_path("good/no-such-map.yaml");
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_file(dir, &m, d), PIPE_ERR_IO);
  assert_null(m);
  const PipeDiag *g = find_code(d, "map-io");
  assert_non_null(g);
  assert_int_equal(g->severity, PIPE_SEV_ERROR);
  assert_non_null(strstr(g->message, "directory"));
  assert_int_equal(map_load_file(missing, &m, d), PIPE_ERR_IO);
  assert_null(m);
  assert_int_equal(pipe_diags_count(d), 2);
  assert_non_null(strstr(pipe_diags_get(d, 1)->message, "No such file"));
  MapRegistry *r = NULL;
  assert_int_equal(map_registry_load_file(dir, &r, d), PIPE_ERR_IO);
  assert_null(r);
  pipe_diags_free(d);
  free(dir);
  free(missing);
}

/* Ten levels of ten aliases: a billion strings if expanded. Refused at the first aliases, in no time. */
static void test_alias_bomb_is_cheap(void **state)
{
  (void)state;
  char *path = data_path("bad/billion-laughs.yaml");
  double t0 = now_s();
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_file(path, &m, d), PIPE_ERR_PARSE);
  assert_true(now_s() - t0 < 0.5);
  assert_null(m);
  const PipeDiag *g = find_code(d, "yaml-alias");
  assert_non_null(g);
  assert_string_equal(g->message, "aliases are not supported in canonical maps; write the value out");
  pipe_diags_free(d);
  free(path);
}

static void expect_syntax_error(const char *text, size_t len)
{
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_string(text, len, "x.yaml", &m, d), PIPE_ERR_PARSE);
  assert_null(m);
  const PipeDiag *g = find_code(d, "yaml-syntax");
  dump_if(!g || g->line == 0 || g->column == 0, "not yaml", d);
  assert_non_null(g);
  assert_true(g->line >= 1);
  assert_true(g->column >= 1);
  pipe_diags_free(d);
}

static void test_not_yaml(void **state)
{
  (void)state;
  static const char binary[] = {'\x7f', 'E', 'L', 'F', '\x02', '\x01', '\x01', '\0', '\0', '\xff', '\xfe'};
  expect_syntax_error(binary, sizeof binary);
  expect_syntax_error("{{{{", 4);
  expect_syntax_error("a: 1\nb: \"\\q\"\n", 13);
  expect_syntax_error("a: b: c\n", 8);
  expect_syntax_error("a: 1\n\xc3\x28: 2\n", 10); /* invalid UTF-8 */
  expect_syntax_error("a: 1\ncc: >00\n", 13);     /* an error libfyaml reports without a position */
  expect_syntax_error("a:\n\t- b\n", 8);          /* a tab as indentation */

  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_string("{{{{", 4, "x.yaml", &m, d), PIPE_ERR_PARSE);
  const PipeDiag *g = find_code(d, "yaml-syntax");
  assert_int_equal(g->line, 2); /* libfyaml reports the end of the input */
  assert_int_equal(g->column, 1);
  pipe_diags_free(d);

  d = pipe_diags_new();
  assert_int_equal(map_load_string("a: 1\nb:\x01\n", 9, "x.yaml", &m, d), PIPE_ERR_PARSE);
  g = find_code(d, "yaml-syntax");
  assert_int_equal(g->line, 2);
  assert_int_equal(g->column, 3);
  pipe_diags_free(d);
}

/* Random bytes and random YAML-ish text: whatever comes back, nothing crashes or leaks and a result always comes
 * with PIPE_OK. */
static void test_random_input(void **state)
{
  (void)state;
  static const char alphabet[] = "ab:- \n[]{},&*!|>'\"#?~0123456789.\t";
  unsigned seed = 12345;
  char buf[256];
  for (int round = 0; round < 3000; round++) {
    size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
    for (size_t i = 0; i < len; i++)
      buf[i] = round % 2 ? (char)(rand_r(&seed) & 0xff) : alphabet[rand_r(&seed) % (int)(sizeof alphabet - 1)];
    PipeDiagList *d = pipe_diags_new();
    CanonMap *m = NULL;
    PipeStatus st = map_load_string(buf, len, "r.yaml", &m, d);
    assert_true((st == PIPE_OK) == (m != NULL));
    assert_true(st == PIPE_OK || errors(d) > 0);
    map_free(m);
    pipe_diags_free(d);
  }
}

/* Owned text of `depth` nested flow sequences, or mappings {a: {a: ...}}. */
static char *nested(size_t depth, bool mappings)
{
  char *s = malloc(depth * 5 + 16);
  assert_non_null(s);
  size_t n = 0;
  for (size_t i = 0; i < depth; i++) {
    if (mappings)
      memcpy(s + n, "{a: ", 4), n += 4;
    else
      s[n++] = '[';
  }
  s[n++] = 'x';
  for (size_t i = 0; i < depth; i++)
    s[n++] = mappings ? '}' : ']';
  s[n++] = '\n';
  s[n] = '\0';
  return s;
}

static void test_deep_nesting(void **state)
{
  (void)state;
  for (int mappings = 0; mappings < 2; mappings++) {
    char *deep = nested(1000, mappings);
    double t0 = now_s();
    PipeDiagList *d = pipe_diags_new();
    CanonMap *m = NULL;
    assert_int_equal(map_load_string(deep, strlen(deep), "deep.yaml", &m, d), PIPE_ERR_PARSE);
    assert_true(now_s() - t0 < 0.5);
    assert_null(m);
    const PipeDiag *g = find_code(d, "yaml-depth");
    assert_non_null(g);
    assert_int_equal(g->line, 1);
    assert_int_equal(g->column, mappings ? 33 * 4 - 3 : 33); /* the 33rd opening bracket */
    pipe_diags_free(d);
    free(deep);

    /* 32 levels are fine for YAML; the document is then just not a map. */
    char *ok = nested(32, mappings);
    d = pipe_diags_new();
    assert_int_equal(map_load_string(ok, strlen(ok), "ok.yaml", &m, d), mappings ? PIPE_OK : PIPE_ERR_INVALID);
    assert_null(find_code(d, "yaml-depth"));
    assert_null(find_code(d, "yaml-syntax"));
    map_free(m);
    pipe_diags_free(d);
    free(ok);
  }
}

/* Many small nodes in little text: refused before they cost much memory. */
static void test_node_cap(void **state)
{
  (void)state;
  size_t items = YAML_MAX_NODES + 10;
  size_t cap = items * 2 + 64;
  char *text = malloc(cap);
  assert_non_null(text);
  size_t n = (size_t)snprintf(text, cap, "controls: [");
  for (size_t i = 0; i < items; i++)
    text[n++] = '1', text[n++] = ',';
  text[n++] = ']';
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_string(text, n, "many.yaml", &m, d), PIPE_ERR_INVALID);
  assert_null(m);
  assert_non_null(find_code(d, "map-too-large"));
  pipe_diags_free(d);
  free(text);
}

/* libfyaml must never print: its diagnostics are collected into ours. */
static void test_nothing_on_stderr(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char *log = pipe_path_join(dir, "stderr.txt");
  fflush(stderr);
  int saved = dup(2);
  int fd = open(log, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  assert_true(saved >= 0 && fd >= 0);
  dup2(fd, 2);
  close(fd);
  static const char *const inputs[] = {"{{{{",      "a: [1, 2\nb: 3\n", "a: \"\\q\"\n",
                                       "cc: >00\n", "a: *x\n",          "- a\n- b: c: d\n"};
  for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
    PipeDiagList *d = pipe_diags_new();
    CanonMap *m = NULL;
    map_load_string(inputs[i], strlen(inputs[i]), "q.yaml", &m, d);
    map_free(m);
    pipe_diags_free(d);
  }
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  size_t len = 99;
  char *out = tu_read_file(log, &len);
  assert_non_null(out);
  assert_int_equal(len, 0);
  free(out);
  free(log);
  tu_rmtree(dir);
  free(dir);
}

/* ---------------------------------------------------------------------------------------------------------------
 * yaml.c helpers */

static YamlNode scalar(const char *text, bool plain)
{
  YamlNode n;
  memset(&n, 0, sizeof n);
  n.kind = YAML_SCALAR;
  n.plain = plain;
  n.text = (char *)text;
  n.len = strlen(text);
  return n;
}

static void test_scalar_reads(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    bool plain, ok;
    long value;
  } longs[] = {
      {"12", true, true, 12},    {"-3", true, true, -3},   {"+4", true, true, 4},    {"007", true, true, 7},
      {"12abc", true, false, 0}, {"0x10", true, false, 0}, {"0o17", true, false, 0}, {"1.5", true, false, 0},
      {"1e3", true, false, 0},   {"", true, false, 0},     {"-", true, false, 0},    {"12", false, false, 0},
      {" 12", true, false, 0},   {"true", true, false, 0},
  };
  for (size_t i = 0; i < sizeof longs / sizeof *longs; i++) {
    YamlNode n = scalar(longs[i].text, longs[i].plain);
    long v = -999;
    assert_int_equal(yaml_scalar_long(&n, &v), longs[i].ok);
    if (longs[i].ok)
      assert_int_equal(v, longs[i].value);
  }
  YamlNode huge = scalar("99999999999999999999999", true);
  long v = 0;
  assert_true(yaml_scalar_long(&huge, &v));
  assert_true(v == LONG_MAX); /* saturated, so a range check reports it */

  static const struct {
    const char *text;
    bool ok;
    double value;
  } doubles[] = {
      {"1.5", true, 1.5}, {".5", true, 0.5},  {"1.", true, 1.0},  {"-2E-2", true, -0.02}, {"1e3", true, 1000},
      {"7", true, 7},     {".inf", false, 0}, {".nan", false, 0}, {"1e999", false, 0},    {"1.2.3", false, 0},
      {"abc", false, 0},  {".", false, 0},    {"1e", false, 0},   {"0x1p3", false, 0},
  };
  for (size_t i = 0; i < sizeof doubles / sizeof *doubles; i++) {
    YamlNode n = scalar(doubles[i].text, true);
    double d = -999;
    assert_int_equal(yaml_scalar_double(&n, &d), doubles[i].ok);
    if (doubles[i].ok)
      assert_true(d == doubles[i].value);
  }

  bool b = false;
  YamlNode t = scalar("True", true), f = scalar("false", true), y = scalar("yes", true), q = scalar("true", false);
  assert_true(yaml_scalar_bool(&t, &b) && b);
  assert_true(yaml_scalar_bool(&f, &b) && !b);
  assert_false(yaml_scalar_bool(&y, &b)); /* YAML 1.2: yes is a text */
  assert_false(yaml_scalar_bool(&q, &b));

  YamlNode n1 = scalar("", true), n2 = scalar("~", true), n3 = scalar("null", false), n4 = scalar("NULL", true);
  assert_true(yaml_is_null(&n1));
  assert_true(yaml_is_null(&n2));
  assert_false(yaml_is_null(&n3));
  assert_true(yaml_is_null(&n4));
  assert_false(yaml_is_null(NULL));

  char buf[64];
  YamlNode num = scalar("300", true), text = scalar("knob", true), quoted = scalar("3", false);
  assert_string_equal(yaml_describe(&num, buf, sizeof buf), "300");
  assert_string_equal(yaml_describe(&text, buf, sizeof buf), "'knob'");
  assert_string_equal(yaml_describe(&quoted, buf, sizeof buf), "'3' (quoted, so a text)");
  assert_string_equal(yaml_describe(&n1, buf, sizeof buf), "empty");
}

static void test_did_you_mean(void **state)
{
  (void)state;
  assert_int_equal(yaml_levenshtein("plugin_paramter", "plugin_parameter"), 1);
  assert_int_equal(yaml_levenshtein("", "abc"), 3);
  assert_int_equal(yaml_levenshtein("kitten", "sitting"), 3);
  assert_int_equal(yaml_levenshtein("same", "same"), 0);
  static const char *const keys[] = {"channel", "cc", "plugin_parameter", "parameter_range", NULL};
  assert_string_equal(yaml_suggest("chanel", keys), "channel");
  assert_string_equal(yaml_suggest("plugin_paramter", keys), "plugin_parameter");
  assert_null(yaml_suggest("flavour", keys));
  assert_null(yaml_suggest("xyz", keys)); /* "cc" is 3 edits away */
  assert_int_equal(yaml_enum_index(keys, "cc"), 1);
  assert_int_equal(yaml_enum_index(keys, "CC"), -1);
  char *d1 = yaml_path_dir("a/b/c.yaml"), *d2 = yaml_path_dir("c.yaml"), *d3 = yaml_path_dir("/c.yaml");
  assert_string_equal(d1, "a/b");
  assert_string_equal(d2, ".");
  assert_string_equal(d3, "/");
  free(d1);
  free(d2);
  free(d3);
}

static void test_free_null(void **state)
{
  (void)state;
  map_free(NULL);
  map_profile_free(NULL);
  map_registry_free(NULL);
  yaml_doc_free(NULL);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Hostile text: control characters, flow nesting and size (tests/faults/maps.sh runs the same through the binary) */

/* A map whose metadata name (line 3, column 18) is `name`, as written. Owned. */
static char *map_named(const char *name)
{
  size_t n = strlen(name) + 128;
  char *text = malloc(n);
  assert_non_null(text);
  snprintf(text, n, "version: 1.0.0\ndevice: {manufacturer: A, model: B}\nmetadata: {name: %s}\ncontrols: []\n", name);
  return text;
}

/* A name never reaches a finding, a file name or an XML attribute with a control character in it: written as a YAML
 * escape it is yaml-control-char (the whole file is refused), raw it is yaml-syntax at its byte, a line break is
 * refused in everything but descriptions and notes; a tab and CRLF line ends are fine. */
static void test_control_characters(void **state)
{
  (void)state;
  static const struct {
    const char *name, *code, *text;
    unsigned column;
    PipeStatus st;
  } cases[] = {
      {"\"a\\x01b\"", "yaml-control-char", "control character U+0001", 18, PIPE_ERR_PARSE},
      {"\"a\\eb\"", "yaml-control-char", "control character U+001B", 18, PIPE_ERR_PARSE},
      {"\"a\\x7fb\"", "yaml-control-char", "control character U+007F", 18, PIPE_ERR_PARSE},
      {"\"a\\u0085b\"", "yaml-control-char", "control character U+0085", 18, PIPE_ERR_PARSE},
      {"\"a\\0b\"", "yaml-control-char", "control character U+0000", 18, PIPE_ERR_PARSE},
      {"\"a\\rb\"", "yaml-control-char", "control character U+000D", 18, PIPE_ERR_PARSE},
      {"'a\x01'", "yaml-syntax", "control character 0x01", 20, PIPE_ERR_PARSE},
      {"a\rb", "yaml-syntax", "carriage return (0x0d) not followed by a line feed", 19, PIPE_ERR_PARSE},
      {"\"a\\nb\"", "yaml-control-char", "name holds a line break", 18, PIPE_OK},
      {"\"a\\tb\"", NULL, NULL, 0, PIPE_OK},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = map_named(cases[i].name);
    PipeDiagList *d = pipe_diags_new();
    CanonMap *m = NULL;
    PipeStatus st = map_load_string(text, strlen(text), "ctl.yaml", &m, d);
    const PipeDiag *g = cases[i].code ? find_code(d, cases[i].code) : NULL;
    bool bad = st != cases[i].st ||
               (cases[i].code ? !g || g->line != 3 || g->column != cases[i].column || !strstr(g->message, cases[i].text)
                              : errors(d) != 0);
    dump_if(bad, cases[i].name, d);
    assert_false(bad);
    map_free(m);
    pipe_diags_free(d);
    free(text);
  }
  /* a key with a line break; CRLF line ends */
  const char *key = "version: 1.0.0\n\"a\\nb\": 1\n";
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_string(key, strlen(key), "key.yaml", &m, d), PIPE_ERR_PARSE);
  assert_true(has_finding(d, "yaml-control-char", 2, 1));
  pipe_diags_free(d);
  char *crlf = tu_replace_all("version: 1.0.0\ndevice: {manufacturer: A, model: B}\nmetadata: {name: n}\n"
                              "controls: []\n",
                              "\n", "\r\n");
  d = pipe_diags_new();
  assert_int_equal(map_load_string(crlf, strlen(crlf), "crlf.yaml", &m, d), PIPE_OK);
  assert_int_equal(findings(d), 0);
  map_free(m);
  pipe_diags_free(d);
  free(crlf);
}

/* A finding about a block scalar points at its indicator (libfyaml marks the next line's start), one about a quoted
 * scalar at its quote (libfyaml marks the text after it). */
static void test_scalar_marks(void **state)
{
  (void)state;
  const char *text = "version: 1.0.0\ndevice: {manufacturer: A, model: B}\nmetadata:\n  name: |\n    two\n"
                     "    lines\n  author: >-\n\n    x\ncontrols:\n  - {id: a, type: encoder, cc: \"7\"}\n";
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_string(text, strlen(text), "marks.yaml", &m, d), PIPE_OK);
  bool bad = !has_finding(d, "yaml-control-char", 4, 9) || !has_finding(d, "yaml-control-char", 7, 11) ||
             !has_finding(d, "schema-type", 11, 32);
  dump_if(bad, "marks.yaml", d);
  assert_false(bad);
  map_free(m);
  pipe_diags_free(d);
}

/* libfyaml reads a whole flow collection before its first event: 4 MiB of "[[[[" cost it 1.4 GB. The lexical scan
 * refuses deep and huge flow collections first, at the position the builder would report, in little memory. */
static void test_flow_bounds(void **state)
{
  (void)state;
  long rss0 = max_rss_kb();
  /* 100000 deep at the top, and under three block levels (the builder then reports the 33rd level overall) */
  char *deep = nested(100000, false);
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  double t0 = now_s();
  assert_int_equal(map_load_string(deep, strlen(deep), "deep.yaml", &m, d), PIPE_ERR_PARSE);
  assert_true(has_finding(d, "yaml-depth", 1, 33));
  assert_int_equal(errors(d), 1);
  pipe_diags_free(d);
  char *under = malloc(strlen(deep) + 64);
  assert_non_null(under);
  sprintf(under, "controls:\n  - id: e\n    description: %s", deep);
  d = pipe_diags_new();
  assert_int_equal(map_load_string(under, strlen(under), "under.yaml", &m, d), PIPE_ERR_PARSE);
  bool bad = !has_finding(d, "yaml-depth", 3, 47) || errors(d) != 1;
  dump_if(bad, "under.yaml", d);
  assert_false(bad);
  pipe_diags_free(d);
  free(under);
  free(deep);
  /* one flow sequence of 70000 items */
  size_t items = YAML_MAX_FLOW_ITEMS + 4464, cap = items * 2 + 64, n;
  char *wide = malloc(cap);
  assert_non_null(wide);
  n = (size_t)snprintf(wide, cap, "controls: [");
  for (size_t i = 0; i < items; i++)
    wide[n++] = 'a', wide[n++] = ',';
  wide[n++] = ']', wide[n] = '\0';
  d = pipe_diags_new();
  assert_int_equal(map_load_string(wide, n, "wide.yaml", &m, d), PIPE_ERR_INVALID);
  assert_true(has_finding(d, "map-too-large", 1, 11));
  pipe_diags_free(d);
  free(wide);
  assert_true(now_s() - t0 < 2.0);
  assert_true(max_rss_kb() - rss0 < 64 * 1024);
}

/* The scan counts no bracket of text: 9000 unbalanced brackets in quotes, a comment, a block scalar and plain text
 * (enough for the scan to run) leave a good map good. */
static void test_flow_scan_ignores_text(void **state)
{
  (void)state;
  char brackets[9001];
  memset(brackets, '[', 9000);
  brackets[9000] = '\0';
  size_t cap = 6 * 9000 + 512;
  char *text = malloc(cap);
  assert_non_null(text);
  snprintf(text, cap,
           "version: 1.0.0 # %s\n"
           "device: {manufacturer: \"%s\", model: '%s'}\n"
           "metadata:\n  name: a[b {c\n  description: |\n    %s\n    more [ text\n  notes: >-\n    %s\n"
           "controls:\n  - {id: e, type: encoder, cc: 1, name: \"x]\"}\n",
           brackets, brackets, brackets, brackets, brackets);
  PipeDiagList *d = pipe_diags_new();
  CanonMap *m = NULL;
  assert_int_equal(map_load_string(text, strlen(text), "text.yaml", &m, d), PIPE_OK);
  dump_if(errors(d) != 0, "text.yaml", d);
  assert_int_equal(errors(d), 0);
  assert_non_null(m);
  assert_int_equal(strlen(m->device.manufacturer), 9000);
  map_free(m);
  pipe_diags_free(d);
  free(text);
}

static void test_printable(void **state)
{
  (void)state;
  assert_null(yaml_printable("maps/x42 \xc3\xa9t\xc3\xa9.yaml"));
  char *p = yaml_printable("a\x01\x1b[31m\xff\xc2\x85z");
  assert_string_equal(p, "a\\x01\\x1b[31m\\xff\\xc2\\x85z");
  free(p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      /* first, while the process's peak RSS is still low */
      cmocka_unit_test(test_too_large_not_read),
      cmocka_unit_test(test_bad_maps_from_file),
      cmocka_unit_test(test_bad_maps_from_string),
      cmocka_unit_test(test_bad_profiles),
      cmocka_unit_test(test_bad_registries),
      cmocka_unit_test(test_messages),
      cmocka_unit_test(test_full_map_header),
      cmocka_unit_test(test_full_map_controls),
      cmocka_unit_test(test_minimal_map),
      cmocka_unit_test(test_button_groups),
      cmocka_unit_test(test_corpus_maps_load_clean),
      cmocka_unit_test(test_corpus_map_details),
      cmocka_unit_test(test_corpus_registry),
      cmocka_unit_test(test_file_is_registry),
      cmocka_unit_test(test_good_profile),
      cmocka_unit_test(test_profile_defaults),
      cmocka_unit_test(test_load_string),
      cmocka_unit_test(test_empty_and_not_mapping),
      cmocka_unit_test(test_directory_and_missing),
      cmocka_unit_test(test_alias_bomb_is_cheap),
      cmocka_unit_test(test_not_yaml),
      cmocka_unit_test(test_random_input),
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_node_cap),
      cmocka_unit_test(test_nothing_on_stderr),
      cmocka_unit_test(test_scalar_reads),
      cmocka_unit_test(test_did_you_mean),
      cmocka_unit_test(test_free_null),
      cmocka_unit_test(test_control_characters),
      cmocka_unit_test(test_scalar_marks),
      cmocka_unit_test(test_flow_bounds),
      cmocka_unit_test(test_flow_scan_ignores_text),
      cmocka_unit_test(test_printable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
