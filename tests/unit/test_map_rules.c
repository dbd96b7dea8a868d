/* test_map_rules.c: maps:validate's controller rules (maps/rules.c, map_set_load). One fixture directory per rule
 * under tests/data/rules, each asserted finding by finding (code, file, line:column); the bundled default maps must
 * be clean; the audio-control corpus (tests/data/maps/audio-control, a verbatim copy of the real maps) must show its
 * real mistakes where they are. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "maps/map.h"
#include "pipeline/diag.h"
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------------------------
 * Helpers */

static const char *source_dir(void)
{
  const char *src = getenv("CTRLMAP_SOURCE_DIR");
  assert_non_null(src);
  return src;
}

/* Owned absolute path of `rel` under the source tree. */
static char *src_path(const char *rel)
{
  size_t n = strlen(source_dir()) + strlen(rel) + 2;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/%s", source_dir(), rel);
  return p;
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = s ? strlen(s) : 0, m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix) && (n == m || s[n - m - 1] == '/');
}

/* Loads the paths (relative to the source tree) as one set. */
static MapSet *load_set(const char *const *rel, size_t n, PipeDiagList **diags)
{
  char *paths[8];
  assert_true(n <= 8);
  for (size_t i = 0; i < n; i++)
    paths[i] = src_path(rel[i]);
  *diags = pipe_diags_new();
  MapSet *set = map_set_load((const char *const *)paths, n, NULL, *diags);
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  assert_non_null(set);
  return set;
}

static MapSet *load_one(const char *rel, PipeDiagList **diags)
{
  return load_set(&rel, 1, diags);
}

/* The index of the map whose path ends with `/suffix`; fails when there is none. */
static size_t map_index(const MapSet *set, const char *suffix)
{
  for (size_t i = 0; i < map_set_size(set); i++)
    if (ends_with(map_set_map(set, i)->path, suffix))
      return i;
  fail_msg("no map ending with %s in the set", suffix);
  return 0;
}

static const MapControl *control(const CanonMap *m, const char *id)
{
  for (size_t i = 0; i < m->n_controls; i++) {
    if (m->controls[i].id && !strcmp(m->controls[i].id, id))
      return &m->controls[i];
    for (size_t j = 0; j < m->controls[i].n_buttons; j++)
      if (m->controls[i].buttons[j].id && !strcmp(m->controls[i].buttons[j].id, id))
        return &m->controls[i].buttons[j];
  }
  fail_msg("no control %s in %s", id, m->path);
  return NULL;
}

/* The finding with this code in a file ending with `file` at line:column, or NULL. */
static const PipeDiag *finding_at(const PipeDiagList *d, const char *code, const char *file, unsigned line,
                                  unsigned column)
{
  for (size_t i = 0; i < pipe_diags_count(d); i++) {
    const PipeDiag *g = pipe_diags_get(d, i);
    if (!strcmp(g->code, code) && ends_with(g->file, file) && g->line == line && g->column == column)
      return g;
  }
  return NULL;
}

static size_t count_code(const PipeDiagList *d, const char *code, const char *file)
{
  size_t n = 0;
  for (size_t i = 0; i < pipe_diags_count(d); i++) {
    const PipeDiag *g = pipe_diags_get(d, i);
    n += !strcmp(g->code, code) && (!file || ends_with(g->file, file));
  }
  return n;
}

static size_t findings(const PipeDiagList *d)
{
  return pipe_diags_count_severity(d, PIPE_SEV_ERROR) + pipe_diags_count_severity(d, PIPE_SEV_WARNING);
}

static void dump(const char *what, const PipeDiagList *d)
{
  fprintf(stderr, "--- findings for %s:\n", what);
  pipe_diags_print(d, stderr);
}

/* The severity map_rules() gives a code; -1 when the code is not a rule's. */
static int rule_severity(const char *code)
{
  size_t n;
  const MapRuleInfo *rules = map_rules(&n);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(rules[i].code, code))
      return (int)rules[i].severity;
  return -1;
}

/* ---------------------------------------------------------------------------------------------------------------
 * One fixture directory (or file) per rule, with every error and warning it must produce and the notes it must
 * contain. `file` is the fixture's name inside its directory; `text` is a part of the message (NULL: not checked). */

typedef struct {
  const char *code, *file;
  unsigned line, column;
  const char *text;
} Expect;

typedef struct {
  const char *path;  /* under tests/data/rules */
  Expect expect[10]; /* errors and warnings, exactly; ends at the first NULL code */
  Expect notes[4];   /* notes that must be there */
} RuleCase;

static const RuleCase RULE_CASES[] = {
    {"profile-unknown",
     {{"profile-unknown", "map.yaml", 5, 12, "devices/no-such-profile.yaml"},
      {"profile-unknown", "relative.yaml", 5, 12, "profiles/missing.yaml"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"registry-missing",
     {{"registry-missing", "map.yaml", 8, 24, "nowhere/midi-channel-registry.yaml does not exist"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"registry-unlisted", {{"registry-unlisted", "map.yaml", 8, 24, "not listed in"}}, {{NULL, NULL, 0, 0, NULL}}},
    {"registry-missing-file",
     {{"registry-missing-file", "registry.yaml", 8, 3, "channel 2 names sub/gone"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"channel-unresolved", {{"channel-unresolved", "map.yaml", 1, 1, NULL}}, {{NULL, NULL, 0, 0, NULL}}},
    /* a-fixed (midi_channel 3) and b-registry (channel 3 from the registry; the device in another case);
     * c-fixed and d-fixed (midi_channel 7); e-other-device is on 7 too, but another device */
    {"channel-conflict",
     {{"channel-conflict", "b-registry.yaml", 8, 24, "a-fixed.yaml"},
      {"channel-conflict", "d-fixed.yaml", 8, 15, "c-fixed.yaml"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"profile-control-unknown",
     {{"profile-control-unknown", "map.yaml", 10, 9, "(did you mean 'encoder_1'?)"},
      {"profile-control-unknown", "map.yaml", 13, 9, "'encoder_25' is not a control of novation-launch-control-xl3"},
      {"profile-control-unknown", "map.yaml", 17, 9, "'fader_1' is not a control of novation-launch-control-xl3"}},
     {{NULL, NULL, 0, 0, NULL}}},
    /* the group member has no type: key; its finding points at its id */
    {"profile-type-mismatch",
     {{"profile-type-mismatch", "map.yaml", 11, 11, "'knob_1'"},
      {"profile-type-mismatch", "map.yaml", 19, 13, "'knob_2'"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"profile-number-differs",
     {{"profile-number-differs", "map.yaml", 12, 9, "sends cc 10 on test-rig, the map says cc 12"},
      {"profile-number-differs", "map.yaml", 20, 9, "sends note 36 on test-rig, the map says cc 36"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"number-missing",
     {{"number-missing", "map.yaml", 13, 5, "'knob_2'"}, {"number-missing", "map.yaml", 22, 9, "'pad_2'"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"duplicate-id",
     {{"duplicate-id", "map.yaml", 10, 10, "'knob_1' is already used at line 9"},
      {"duplicate-id", "map.yaml", 15, 14, "'pad_1' is already used at line 14"},
      {"duplicate-id", "map.yaml", 16, 14, "'pads' is already used at line 11"},
      {"duplicate-id", "map.yaml", 20, 14, "'knob_1' is already used at line 9"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"duplicate-number",
     {{"duplicate-number", "map.yaml", 11, 32, "cc 10 on channel 1 is also bound to 'a'"},
      {"duplicate-number", "map.yaml", 13, 32, "cc 10 on channel 1 is also bound to 'a'"},
      {"duplicate-number", "map.yaml", 22, 21, "cc 10 on channel 2 is also bound to 'd'"},
      {"duplicate-number", "map.yaml", 24, 23, "note 10 on channel 1 is also bound to 'e'"},
      {"profile-number-differs", "profiled.yaml", 11, 37, "'fader_1'"},
      {"duplicate-number", "profiled.yaml", 15, 5, "cc 11 on channel 4 is also bound to 'fader_1'"},
      {"profile-number-differs", "profiled.yaml", 24, 27, "'pad_2'"},
      {"duplicate-number", "profiled.yaml", 24, 27, "note 36 on channel 4 is also bound to 'pad_1'"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"binding-conflict",
     {{"binding-conflict", "map.yaml", 10, 77, "'knob_1'"}, {"binding-conflict", "map.yaml", 18, 23, "'pad_2'"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"function-unknown",
     {{"function-unknown", "map.yaml", 10, 5,
       "'transport-rol' is not an Ardour Generic MIDI function; did you mean "
       "'transport-roll'?"},
      {"function-unknown", "map.yaml", 16, 5, "'make-coffee' is not an Ardour Generic MIDI function ("}},
     {{NULL, NULL, 0, 0, NULL}}},
    /* a function on a relative encoder cannot fire; an absolute one can */
    {"function-encoder",
     {{"function-encoder", "map.yaml", 10, 5, "'knob_1' runs a function"}},
     {{NULL, NULL, 0, 0, NULL}}},
    /* set-bank and select* need a whole-number argument, other functions take none */
    {"function-argument",
     {{"function-argument", "map.yaml", 10, 5, "'set-bank' needs an argument"},
      {"function-argument", "map.yaml", 12, 5, "'select-toggle' needs an argument"},
      /* an argument that is not a number, or one on a function without arguments, failed only in daw:generate */
      {"function-argument", "map.yaml", 13, 5, "takes a whole number from 0 (a bank or track number), not '1 & <2>'"},
      {"function-argument", "map.yaml", 14, 5, "'transport-roll' takes no argument"}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"mode-not-button",
     {{"mode-not-button", "map.yaml", 12, 11, "'knob_1'"}, {"mode-not-button", "map.yaml", 14, 39, "'fader_1'"}},
     {{NULL, NULL, 0, 0, NULL}}},
    /* one note per map, counting the unbound controls (group members too, bound functions not) */
    {"control-unbound",
     {{NULL, NULL, 0, 0, NULL}},
     {{"control-unbound", "many.yaml", 11, 5, "3 controls bind nothing"},
      {"control-unbound", "many.yaml", 11, 5, "starting with 'knob_2'"},
      {"control-unbound", "one.yaml", 11, 5, "1 control binds nothing"}}},
    {"profile-by-device",
     {{"profile-number-differs", "map.yaml", 10, 40, "sends cc 14 on novation-launch-control-xl3, the map says cc 15"},
      {"profile-control-unknown", "map.yaml", 11, 10, "'knob_9'"}},
     {{"profile-by-device", "map.yaml", 3, 3, "checked against the novation-launch-control-xl3 profile"}}},
    /* files a map or a registry names stay near it: nothing above the map's parent folder (but ctrlmap's own
     * profiles), no ".." in a registry entry (ctrlmap used to read, and quote back, whatever a map named, /etc/shadow
     * included) */
    {"path-outside",
     {{"path-outside", "registry.yaml", 7, 11, "channel 1 names ../registry-missing/map, a path with \"..\""},
      {"path-outside", "climb.yaml", 5, 12, "device.profile leads to "},
      {"path-outside", "registry-up.yaml", 8, 24, "midi_channel_registry leads to "}},
     {{NULL, NULL, 0, 0, NULL}}},
    {"path-not-yaml",
     {{"path-not-yaml", "map.yaml", 8, 24, "midi_channel_registry is not a .yaml or .yml file"}},
     {{NULL, NULL, 0, 0, NULL}}},
    /* a map whose registry has errors has no channel: it used to pass, then fail in daw:generate on channel 0 */
    {"registry-invalid",
     {{"registry-channel-range", "registry.yaml", 6, 3, "channel is 17"},
      {"registry-invalid", "map.yaml", 8, 24, "has errors, so this map has no channel"}},
     {{NULL, NULL, 0, 0, NULL}}},
    /* controls without an id are the loader's error; the rules skip them (they used to crash on them) */
    {"missing-id",
     {{"schema-required", "map.yaml", 10, 5, NULL},
      {"schema-required", "map.yaml", 11, 5, NULL},
      {"schema-required", "map.yaml", 15, 9, NULL}},
     {{"control-unbound", "map.yaml", 16, 9, "1 control binds nothing"}}},
};
#define N_RULE_CASES (sizeof RULE_CASES / sizeof RULE_CASES[0])

static void check_expect(const RuleCase *rc, const Expect *x, const PipeDiagList *d)
{
  const PipeDiag *g = finding_at(d, x->code, x->file, x->line, x->column);
  if (!g || (x->text && !strstr(g->message, x->text))) {
    dump(rc->path, d);
    fail_msg("%s: expected %s at %s:%u:%u%s%s%s", rc->path, x->code, x->file, x->line, x->column,
             x->text ? " saying \"" : "", x->text ? x->text : "", x->text ? "\"" : "");
  }
  int sev = rule_severity(x->code);
  if (sev >= 0)
    assert_int_equal(g->severity, sev);
}

static void test_rule_cases(void **state)
{
  (void)state;
  for (size_t c = 0; c < N_RULE_CASES; c++) {
    const RuleCase *rc = &RULE_CASES[c];
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/rules/%s", rc->path);
    PipeDiagList *d;
    MapSet *set = load_one(rel, &d);
    assert_true(map_set_size(set) > 0);
    size_t n = 0;
    for (; n < 10 && rc->expect[n].code; n++)
      check_expect(rc, &rc->expect[n], d);
    for (size_t k = 0; k < 4 && rc->notes[k].code; k++)
      check_expect(rc, &rc->notes[k], d);
    if (findings(d) != n) {
      dump(rc->path, d);
      fail_msg("%s: %zu errors and warnings, want %zu", rc->path, findings(d), n);
    }
    /* every finding a rule makes has the rule's severity */
    for (size_t i = 0; i < pipe_diags_count(d); i++) {
      const PipeDiag *g = pipe_diags_get(d, i);
      int sev = rule_severity(g->code);
      if (sev >= 0 && (int)g->severity != sev)
        fail_msg("%s: %s has severity %d, the rule table says %d", rc->path, g->code, (int)g->severity, sev);
    }
    map_set_free(set);
    pipe_diags_free(d);
  }
}

/* Every rule of the table has a case above, and the table is well formed. */
static void test_every_rule_tested(void **state)
{
  (void)state;
  size_t n;
  const MapRuleInfo *rules = map_rules(&n);
  assert_int_equal(n, 22);
  for (size_t i = 0; i < n; i++) {
    assert_non_null(rules[i].summary);
    assert_true(strlen(rules[i].summary) > 10);
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(rules[i].code, rules[j].code);
    bool tested = false;
    for (size_t c = 0; c < N_RULE_CASES && !tested; c++) {
      for (size_t k = 0; k < 10 && RULE_CASES[c].expect[k].code && !tested; k++)
        tested = !strcmp(RULE_CASES[c].expect[k].code, rules[i].code);
      for (size_t k = 0; k < 4 && RULE_CASES[c].notes[k].code && !tested; k++)
        tested = !strcmp(RULE_CASES[c].notes[k].code, rules[i].code);
    }
    if (!tested)
      fail_msg("rule %s has no fixture in RULE_CASES", rules[i].code);
  }
  assert_int_equal(rule_severity("control-unbound"), PIPE_SEV_NOTE);
  assert_int_equal(rule_severity("profile-number-differs"), PIPE_SEV_WARNING);
  assert_int_equal(rule_severity("duplicate-number"), PIPE_SEV_ERROR);
}

/* ---------------------------------------------------------------------------------------------------------------
 * What the rules resolve: channels, profiles, numbers */

static void test_channels_resolved(void **state)
{
  (void)state;
  PipeDiagList *d;
  MapSet *set = load_one("tests/data/rules/channel-conflict", &d);
  assert_int_equal(map_set_size(set), 5);
  assert_int_equal(map_set_channel(set, map_index(set, "a-fixed.yaml")), 3);
  assert_int_equal(map_set_channel(set, map_index(set, "b-registry.yaml")), 3); /* through registry.yaml */
  assert_int_equal(map_set_channel(set, map_index(set, "c-fixed.yaml")), 7);
  assert_int_equal(map_set_channel(set, map_index(set, "e-other-device.yaml")), 7);
  assert_int_equal(map_set_channel(set, 99), 0);
  assert_null(map_set_map(set, 99));
  map_set_free(set);
  pipe_diags_free(d);

  /* a registry reached from a map that is given alone (the registry is not among the paths) */
  set = load_one("tests/data/rules/registry-unlisted/other.yaml", &d);
  assert_int_equal(map_set_size(set), 1);
  assert_int_equal(map_set_channel(set, 0), 1);
  assert_int_equal(findings(d), 0);
  map_set_free(set);
  pipe_diags_free(d);

  /* unresolved: 0 */
  set = load_one("tests/data/rules/channel-unresolved", &d);
  assert_int_equal(map_set_channel(set, map_index(set, "map.yaml")), 0);
  assert_int_equal(map_set_channel(set, map_index(set, "explicit.yaml")), 0);
  map_set_free(set);
  pipe_diags_free(d);
}

static void test_number_from_profile(void **state)
{
  (void)state;
  PipeDiagList *d;
  MapSet *set = load_one("tests/data/rules/duplicate-number/profiled.yaml", &d);
  const CanonMap *m = map_set_map(set, 0);
  const MapProfile *p = map_set_profile(set, 0);
  assert_non_null(p);
  assert_string_equal(p->id, "test-rig");
  MapMessage msg = MAP_MSG_DEFAULT;
  assert_int_equal(control(m, "knob_1")->number, -1);
  assert_int_equal(map_set_number(set, 0, control(m, "knob_1"), &msg), 10); /* the profile's */
  assert_int_equal(msg, MAP_MSG_CC);
  assert_int_equal(map_set_number(set, 0, control(m, "fader_1"), &msg), 11); /* the map's own */
  assert_int_equal(msg, MAP_MSG_CC);
  assert_int_equal(map_set_number(set, 0, control(m, "pad_1"), &msg), 36); /* a note, from the profile */
  assert_int_equal(msg, MAP_MSG_NOTE);
  assert_int_equal(map_set_number(set, 0, control(m, "pad_2"), &msg), 36);
  assert_int_equal(msg, MAP_MSG_NOTE);
  map_set_free(set);
  pipe_diags_free(d);

  /* no profile, no number: -1 (and a cc by default) */
  set = load_one("tests/data/rules/number-missing/map.yaml", &d);
  m = map_set_map(set, 0);
  assert_null(map_set_profile(set, 0));
  assert_int_equal(map_set_number(set, 0, control(m, "knob_2"), &msg), -1);
  assert_int_equal(msg, MAP_MSG_CC);
  assert_int_equal(map_set_number(set, 0, control(m, "pad_1"), &msg), 36);
  assert_int_equal(msg, MAP_MSG_NOTE);
  map_set_free(set);
  pipe_diags_free(d);
}

static void test_profile_by_device(void **state)
{
  (void)state;
  PipeDiagList *d;
  MapSet *set = load_one("tests/data/rules/profile-by-device/map.yaml", &d);
  const MapProfile *p = map_set_profile(set, 0);
  assert_non_null(p);
  assert_string_equal(p->id, "novation-launch-control-xl3");
  MapMessage msg;
  assert_int_equal(map_set_number(set, 0, control(map_set_map(set, 0), "encoder_1"), &msg), 13);
  /* a map that names its (missing) profile is not matched by device */
  map_set_free(set);
  pipe_diags_free(d);
  set = load_one("tests/data/rules/profile-unknown/map.yaml", &d);
  assert_null(map_set_profile(set, 0));
  assert_int_equal(count_code(d, "profile-by-device", NULL), 0);
  map_set_free(set);
  pipe_diags_free(d);
}

/* The bundled default maps: no error, no warning, each on its registry channel, numbers from the profile. */
static void test_default_maps_clean(void **state)
{
  (void)state;
  PipeDiagList *d;
  MapSet *set = load_one("maps/defaults", &d);
  if (findings(d))
    dump("maps/defaults", d);
  assert_int_equal(pipe_diags_count_severity(d, PIPE_SEV_ERROR), 0);
  assert_int_equal(pipe_diags_count_severity(d, PIPE_SEV_WARNING), 0);
  assert_int_equal(map_set_size(set), 5);
  static const struct {
    const char *file;
    int channel;
  } CHANNELS[] = {{"x42-fil4-mono.yaml", 1},
                  {"calf-compressor.yaml", 2},
                  {"dragonfly-room.yaml", 3},
                  {"mda-dubdelay.yaml", 4},
                  {"zam-zamcomp.yaml", 5}};
  for (size_t i = 0; i < 5; i++) {
    size_t k = map_index(set, CHANNELS[i].file);
    assert_int_equal(map_set_channel(set, k), CHANNELS[i].channel);
    assert_non_null(map_set_profile(set, k));
    assert_string_equal(map_set_profile(set, k)->id, "novation-launch-control-xl3");
  }
  size_t fil4 = map_index(set, "x42-fil4-mono.yaml");
  const CanonMap *m = map_set_map(set, fil4);
  MapMessage msg;
  static const struct {
    const char *id;
    int cc;
  } NUMBERS[] = {{"encoder_1", 13}, {"encoder_9", 21}, {"encoder_23", 35}, {"slider_1", 53}, {"button_8", 44}};
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(control(m, NUMBERS[i].id)->number, -1); /* the map leaves the numbers to the profile */
    assert_int_equal(map_set_number(set, fil4, control(m, NUMBERS[i].id), &msg), NUMBERS[i].cc);
    assert_int_equal(msg, MAP_MSG_CC);
  }
  map_set_free(set);
  pipe_diags_free(d);
}

/* ---------------------------------------------------------------------------------------------------------------
 * The audio-control corpus: its real mistakes, where they are */

#define CORPUS "tests/data/maps/audio-control"

static void test_corpus(void **state)
{
  (void)state;
  PipeDiagList *d;
  MapSet *set = load_one(CORPUS, &d);
  assert_int_equal(map_set_size(set), 5);
  /* every map's channel through the registry (none has midi_channel) */
  static const struct {
    const char *file;
    int channel;
  } CHANNELS[] = {{"roland-jupiter-8/tal-j8.yaml", 1},
                  {"roland-jupiter-8/arturia-jup8v.yaml", 2},
                  {"roland-jupiter-8/jupiter-8-base.yaml", 3},
                  {"channel-strips/analog-obsession-channev.yaml", 4},
                  {"moog-minimoog/arturia-mini-v4.yaml", 5}};
  for (size_t i = 0; i < 5; i++) {
    size_t k = map_index(set, CHANNELS[i].file);
    assert_int_equal(map_set_channel(set, k), CHANNELS[i].channel);
    /* none names a profile: each is checked against the bundled LCXL3 profile, with a note at device: */
    assert_non_null(map_set_profile(set, k));
    assert_non_null(finding_at(d, "profile-by-device", CHANNELS[i].file, 3, 3));
  }
  assert_int_equal(count_code(d, "registry-unlisted", NULL), 0);
  assert_int_equal(count_code(d, "registry-missing-file", NULL), 0);
  assert_int_equal(count_code(d, "channel-conflict", NULL), 0);

  /* tal-j8.yaml: button_2 (line 334) repeats button_1's CC 37 on channel 1 */
  const char *tal = "roland-jupiter-8/tal-j8.yaml";
  const PipeDiag *g = finding_at(d, "duplicate-number", tal, 334, 13);
  if (!g)
    dump(CORPUS, d);
  assert_non_null(g);
  assert_non_null(strstr(g->message, "cc 37 on channel 1 is also bound to 'button_1'"));
  /* encoder_8 sends CC 41 where the profile says 20 (line 96), and button_5's CC 41 then collides with it */
  g = finding_at(d, "profile-number-differs", tal, 96, 9);
  assert_non_null(g);
  assert_non_null(strstr(g->message, "'encoder_8' sends cc 20 on novation-launch-control-xl3, the map says cc 41"));
  g = finding_at(d, "duplicate-number", tal, 352, 13);
  assert_non_null(g);
  assert_non_null(strstr(g->message, "cc 41 on channel 1 is also bound to 'encoder_8'"));
  /* encoder_20 on CC 61 (line 206) */
  assert_non_null(finding_at(d, "profile-number-differs", tal, 206, 9));
  /* tal-j8: the button rows repeat CC 37, 41 and 45 (3 + 4 + 3 duplicates); 11 numbers differ from the profile;
   * nothing else is wrong with it */
  assert_int_equal(count_code(d, "duplicate-number", tal), 10);
  assert_int_equal(count_code(d, "profile-number-differs", tal), 11);
  size_t tal_findings = 0;
  for (size_t i = 0; i < pipe_diags_count(d); i++) {
    const PipeDiag *x = pipe_diags_get(d, i);
    tal_findings += ends_with(x->file, tal) && x->severity != PIPE_SEV_NOTE;
  }
  assert_int_equal(tal_findings, 21);

  /* the Jupiter-8 template binds nothing: one note for its 48 controls */
  g = finding_at(d, "control-unbound", "roland-jupiter-8/jupiter-8-base.yaml", 27, 5);
  assert_non_null(g);
  assert_non_null(strstr(g->message, "48 controls bind nothing"));
  /* CHANNEV: encoder_24's CC 37 is button_1's too (line 323) */
  g = finding_at(d, "duplicate-number", "channel-strips/analog-obsession-channev.yaml", 323, 13);
  assert_non_null(g);
  assert_non_null(strstr(g->message, "also bound to 'encoder_24'"));
  /* across the corpus, only these two kinds of mistakes (no loader error: ctrlmap reads the format) */
  assert_int_equal(pipe_diags_count_severity(d, PIPE_SEV_ERROR), count_code(d, "duplicate-number", NULL));
  assert_int_equal(pipe_diags_count_severity(d, PIPE_SEV_WARNING), count_code(d, "profile-number-differs", NULL));
  map_set_free(set);
  pipe_diags_free(d);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Paths */

static void test_paths(void **state)
{
  (void)state;
  /* a path that does not exist: map-io, and the rest still loads */
  const char *rel[] = {"tests/data/rules/no-such-dir", "tests/data/rules/control-unbound/one.yaml"};
  PipeDiagList *d;
  MapSet *set = load_set(rel, 2, &d);
  assert_int_equal(map_set_size(set), 1);
  assert_int_equal(count_code(d, "map-io", NULL), 1);
  assert_true(ends_with(pipe_diags_get(d, 0)->file, "tests/data/rules/no-such-dir"));
  map_set_free(set);
  pipe_diags_free(d);

  /* the same file twice (and through its directory): loaded once */
  const char *twice[] = {"tests/data/rules/control-unbound/one.yaml", "tests/data/rules/control-unbound",
                         "tests/data/rules/control-unbound/one.yaml"};
  set = load_set(twice, 3, &d);
  assert_int_equal(map_set_size(set), 2);
  assert_int_equal(count_code(d, "control-unbound", "one.yaml"), 1);
  assert_int_equal(count_code(d, "channel-conflict", NULL), 0);
  map_set_free(set);
  pipe_diags_free(d);

  /* an empty set */
  set = map_set_load(NULL, 0, NULL, (d = pipe_diags_new()));
  assert_int_equal(map_set_size(set), 0);
  assert_int_equal(pipe_diags_count(d), 0);
  map_set_free(set);
  pipe_diags_free(d);
  map_set_free(NULL);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Collecting files from a folder that is not what it seems (tests/faults/maps.sh runs the same through the binary) */

static const char GOOD_MAP[] =
    "version: 1.0.0\ndevice: {manufacturer: Acme, model: Box}\nmetadata: {name: m}\n"
    "midi_channel: 1\ncontrols:\n  - {id: a, type: encoder, cc: 10, plugin_parameter: gain}\n";

static void write_text(const char *dir, const char *name, const char *text)
{
  char *p = tu_path_join(dir, name);
  tu_write_file(p, text, strlen(text));
  free(p);
}

static void link_at(const char *dir, const char *name, const char *target)
{
  char *p = tu_path_join(dir, name);
  assert_int_equal(symlink(target, p), 0);
  free(p);
}

static MapSet *load_abs(const char *path, PipeDiagList **d)
{
  *d = pipe_diags_new();
  return map_set_load(&path, 1, NULL, *d);
}

/* Links to directories are not followed: four links to ".." made 4^16 walks (minutes); now a warning each. A link
 * to a map inside the folder is read once (no conflict with itself); one to a file outside is refused, and so is a
 * file name with control characters (named with \xNN). A FIFO is skipped in a walk and refused when named. */
static void test_collect_hostile_folder(void **state)
{
  (void)state;
  char *root = tu_tempdir(), *elsewhere = tu_tempdir();
  char *dev = tu_path_join(root, "dev");
  assert_int_equal(mkdir(dev, 0755), 0);
  write_text(dev, "a.yaml", GOOD_MAP);
  write_text(elsewhere, "out.yaml", GOOD_MAP);
  char *out = tu_path_join(elsewhere, "out.yaml");
  for (int k = 0; k < 4; k++) {
    char name[8];
    snprintf(name, sizeof name, "up%d", k);
    link_at(dev, name, "..");
  }
  link_at(dev, "b-alias.yaml", "a.yaml");
  link_at(dev, "c-out.yaml", out);
  write_text(dev, "d\x01\x1b[2J.yaml", GOOD_MAP);
  char *fifo = tu_path_join(dev, "e.yaml");
  assert_int_equal(mkfifo(fifo, 0644), 0);
  PipeDiagList *d;
  MapSet *set = load_abs(root, &d);
  bool bad = map_set_size(set) != 1 || count_code(d, "path-symlink", NULL) != 4 ||
             count_code(d, "path-outside", "c-out.yaml") != 1 || count_code(d, "path-name", NULL) != 1 ||
             count_code(d, "channel-conflict", NULL) != 0 || findings(d) != 6;
  if (bad)
    dump(root, d);
  assert_false(bad);
  for (size_t i = 0; i < pipe_diags_count(d); i++) {
    const PipeDiag *g = pipe_diags_get(d, i);
    if (!strcmp(g->code, "path-name"))
      assert_true(ends_with(g->file, "d\\x01\\x1b[2J.yaml"));
  }
  map_set_free(set);
  pipe_diags_free(d);
  set = load_abs(fifo, &d); /* named: refused without blocking */
  assert_int_equal(map_set_size(set), 0);
  assert_int_equal(count_code(d, "map-io", "e.yaml"), 1);
  map_set_free(set);
  pipe_diags_free(d);
  tu_rmtree(root);
  tu_rmtree(elsewhere);
  free(fifo);
  free(out);
  free(dev);
  free(root);
  free(elsewhere);
}

/* A cc or midi_channel that is there but wrong is one finding, not two (number-missing, channel-unresolved). */
static void test_no_cascade(void **state)
{
  (void)state;
  char *root = tu_tempdir();
  write_text(root, "cc.yaml",
             "version: 1.0.0\ndevice: {manufacturer: Acme, model: A}\nmetadata: {name: m}\nmidi_channel: 1\n"
             "controls:\n  - {id: a, type: encoder, cc: 128}\n  - {id: b, type: encoder, cc: [1]}\n");
  write_text(root, "ch.yaml",
             "version: 1.0.0\ndevice: {manufacturer: Acme, model: B}\nmetadata: {name: m}\nmidi_channel: 17\n"
             "controls:\n  - {id: a, type: encoder, cc: 1}\n");
  write_text(root, "ch2.yaml",
             "version: 1.0.0\ndevice: {manufacturer: Acme, model: C}\nmetadata: {name: m}\nmidi_channel: [1]\n"
             "controls:\n  - {id: a, type: encoder, cc: 1}\n");
  PipeDiagList *d;
  MapSet *set = load_abs(root, &d);
  bool bad = count_code(d, "number-missing", NULL) != 0 || count_code(d, "channel-unresolved", NULL) != 0 ||
             count_code(d, "cc-range", "cc.yaml") != 1 || count_code(d, "schema-type", "cc.yaml") != 1 ||
             count_code(d, "channel-range", "ch.yaml") != 1 || count_code(d, "schema-type", "ch2.yaml") != 1;
  if (bad)
    dump(root, d);
  assert_false(bad);
  map_set_free(set);
  pipe_diags_free(d);
  tu_rmtree(root);
  free(root);
}

int main(void)
{
  /* the bundled profiles of this source tree, whatever is installed: before the first map_data_dir() call */
  const char *src = getenv("CTRLMAP_SOURCE_DIR");
  if (!src) {
    fprintf(stderr, "CTRLMAP_SOURCE_DIR is not set: run the tests through ctest\n");
    return 1;
  }
  char data[4096];
  snprintf(data, sizeof data, "%s/maps", src);
  setenv("CTRLMAP_DATA_DIR", data, 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rule_cases),
      cmocka_unit_test(test_every_rule_tested),
      cmocka_unit_test(test_channels_resolved),
      cmocka_unit_test(test_number_from_profile),
      cmocka_unit_test(test_profile_by_device),
      cmocka_unit_test(test_default_maps_clean),
      cmocka_unit_test(test_corpus),
      cmocka_unit_test(test_paths),
      cmocka_unit_test(test_collect_hostile_folder),
      cmocka_unit_test(test_no_cascade),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
