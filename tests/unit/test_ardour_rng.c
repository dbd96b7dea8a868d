/* test_ardour_rng.c: schemas/ardour-midi-map.rng, the Ardour 7.3 Generic MIDI map format that phase 3 validates
 * every generated .map against.
 *
 *   - good fixtures (tests/data/ardour/good) validate with no message at all;
 *   - bad fixtures (tests/data/ardour/bad, one defect each) are rejected, with a message on the defect's line
 *     (marked <!-- defect -->) that says what the fixture's <!-- expect: ... --> comment says;
 *   - the maps Ardour ships (/usr/share/ardour7/midi_maps, Debian package ardour-data): the strict schema accepts
 *     every one except the 16 listed in SHIPPED_DEFECTS, which it rejects for the listed reasons, and all 44
 *     validate against schemas/ardour-midi-map.rng (the tolerant format) (the strict schema plus exactly those defects).
 *
 * The shipped maps are required: the test command installs Debian's ardour-data (3.8 MB, no dependencies) with the
 * other test dependencies (scripts/deps test), so a missing or empty /usr/share/ardour7/midi_maps is a failure
 * (`apt-get install ardour-data`), never a skip.
 * libxml2 prints nothing: every message is captured and checked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>

#ifndef SHIPPED_MAPS_DIR
#define SHIPPED_MAPS_DIR "/usr/share/ardour7/midi_maps"
#endif
#define SHIPPED_MAPS_COUNT 44 /* ardour-data 1:7.3.0+ds0-1 (Debian 12) */

/* ---------------------------------------------------------------------------------------------------------------
 * Captured libxml2 messages */

#define MAX_ERRS 512

typedef struct {
  int line;
  char msg[256];
} Err;

typedef struct {
  Err e[MAX_ERRS];
  size_t n;     /* kept */
  size_t total; /* reported */
} Errs;

static void errs_add(Errs *errs, int line, const char *msg)
{
  errs->total++;
  if (errs->n == MAX_ERRS)
    return;
  Err *e = &errs->e[errs->n++];
  e->line = line;
  snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "(no message)");
  size_t len = strlen(e->msg);
  while (len && (e->msg[len - 1] == '\n' || e->msg[len - 1] == ' '))
    e->msg[--len] = '\0';
}

static void on_structured_error(void *data, xmlErrorPtr err)
{
  if (err)
    errs_add(data, err->line, err->message);
}

/* Whatever libxml2 would still print through its generic channel (nothing, when every context has a structured
 * handler) lands here instead of on stderr. */
static Errs stray;

__attribute__((format(printf, 2, 3))) static void on_generic_error(void *data, const char *fmt, ...)
{
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  errs_add(data, 0, buf);
}

static void errs_print(const char *what, const Errs *errs)
{
  for (size_t i = 0; i < errs->n; i++)
    print_message("  %s:%d: %s\n", what, errs->e[i].line, errs->e[i].msg);
}

/* An error on `line` whose message contains `needle`. */
static bool errs_have(const Errs *errs, int line, const char *needle)
{
  for (size_t i = 0; i < errs->n; i++)
    if (errs->e[i].line == line && strstr(errs->e[i].msg, needle))
      return true;
  return false;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Schemas and documents */

typedef struct {
  xmlRelaxNGPtr strict;  /* schemas/ardour-midi-map-strict.rng */
  xmlRelaxNGPtr shipped; /* schemas/ardour-midi-map.rng (the tolerant format) */
} Schemas;

/* Owned path of `rel` under the source tree. */
static char *src_path(const char *rel)
{
  const char *src = getenv("CTRLMAP_SOURCE_DIR");
  if (!src) {
    print_error("CTRLMAP_SOURCE_DIR is not set: run the tests through ctest\n");
    return NULL;
  }
  size_t n = strlen(src) + strlen(rel) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s", src, rel);
  return p;
}

static xmlRelaxNGPtr load_schema(const char *rel)
{
  char *path = src_path(rel);
  if (!path)
    return NULL;
  Errs *errs = calloc(1, sizeof *errs);
  xmlSetStructuredErrorFunc(errs, on_structured_error); /* loading the file, and the include */
  xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt(path);
  xmlRelaxNGSetParserStructuredErrors(pc, on_structured_error, errs);
  xmlRelaxNGPtr schema = xmlRelaxNGParse(pc);
  xmlRelaxNGFreeParserCtxt(pc);
  xmlSetStructuredErrorFunc(NULL, NULL);
  if (!schema || errs->total) {
    print_error("%s: %s\n", path, schema ? "parsed with messages" : "does not parse");
    errs_print(rel, errs);
    xmlRelaxNGFree(schema);
    schema = NULL;
  }
  free(errs);
  free(path);
  return schema;
}

/* Validates `doc` (freed). 0: valid; > 0: invalid; < 0: libxml2 failed. Messages into `errs`. */
static int validate_doc(xmlRelaxNGPtr schema, xmlDocPtr doc, Errs *errs)
{
  if (!doc)
    return 1; /* not well-formed: the parse messages are in errs */
  xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schema);
  assert_non_null(vc);
  xmlRelaxNGSetValidStructuredErrors(vc, on_structured_error, errs);
  int rc = xmlRelaxNGValidateDoc(vc, doc);
  xmlRelaxNGFreeValidCtxt(vc);
  xmlFreeDoc(doc);
  return rc;
}

static int validate_file(xmlRelaxNGPtr schema, const char *path, Errs *errs)
{
  memset(errs, 0, sizeof *errs);
  xmlSetStructuredErrorFunc(errs, on_structured_error);
  xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
  xmlSetStructuredErrorFunc(NULL, NULL);
  return validate_doc(schema, doc, errs);
}

static int validate_string(xmlRelaxNGPtr schema, const char *xml, Errs *errs)
{
  memset(errs, 0, sizeof *errs);
  xmlSetStructuredErrorFunc(errs, on_structured_error);
  xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "inline.map", NULL, XML_PARSE_NONET);
  xmlSetStructuredErrorFunc(NULL, NULL);
  return validate_doc(schema, doc, errs);
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.map files of `dir`, sorted, NULL-terminated (owned); *count set. NULL if the directory cannot be read. */
static char **list_maps(const char *dir, size_t *count)
{
  *count = 0;
  DIR *d = opendir(dir);
  if (!d)
    return NULL;
  size_t cap = 64;
  char **names = malloc(cap * sizeof *names);
  assert_non_null(names);
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    if (len <= 4 || strcmp(de->d_name + len - 4, ".map"))
      continue;
    if (*count + 2 > cap) {
      cap *= 2;
      names = realloc(names, cap * sizeof *names);
      assert_non_null(names);
    }
    names[(*count)++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, *count, sizeof *names, cmp_names);
  names[*count] = NULL;
  return names;
}

static void free_names(char **names)
{
  for (size_t i = 0; names && names[i]; i++)
    free(names[i]);
  free(names);
}

static char *join(const char *dir, const char *name)
{
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Fixtures */

/* Every good fixture validates against the strict schema (and so against ardour-midi-map.rng, a superset),
 * with no message at all. */
static void test_good_fixtures(void **state)
{
  const Schemas *s = *state;
  char *dir = src_path("tests/data/ardour/good");
  assert_non_null(dir);
  size_t n;
  char **names = list_maps(dir, &n);
  assert_non_null(names);
  /* the four kinds of map the brief names must be among them */
  const char *required[] = {"plugin-parameters.map", "enc-r.map", "note-momentary.map", "device-info.map"};
  for (size_t r = 0; r < sizeof required / sizeof *required; r++) {
    bool found = false;
    for (size_t i = 0; i < n; i++)
      found = found || !strcmp(names[i], required[r]);
    if (!found)
      fail_msg("good fixture %s is missing", required[r]);
  }
  Errs *errs = malloc(sizeof *errs);
  assert_non_null(errs);
  for (size_t i = 0; i < n; i++) {
    char *path = join(dir, names[i]);
    for (int which = 0; which < 2; which++) {
      int rc = validate_file(which ? s->shipped : s->strict, path, errs);
      if (rc != 0 || errs->total) {
        errs_print(names[i], errs);
        fail_msg("good fixture %s is rejected by %s (rc %d)", names[i], which ? "ardour-midi-map.rng" : "the strict schema", rc);
      }
    }
    free(path);
  }
  free(errs);
  free_names(names);
  free(dir);
}

/* The line (1-based) of the first line of `text` containing `needle`, 0 if none. */
static int line_of(const char *text, const char *needle)
{
  const char *hit = strstr(text, needle);
  if (!hit)
    return 0;
  int line = 1;
  for (const char *p = text; p < hit; p++)
    line += *p == '\n';
  return line;
}

/* Each bad fixture says what it breaks: `<!-- expect: TEXT -->` is a message libxml2 must give on the line
 * marked `<!-- defect -->`, and no message may point at any other line (one defect per fixture). */
static void test_bad_fixtures(void **state)
{
  const Schemas *s = *state;
  char *dir = src_path("tests/data/ardour/bad");
  assert_non_null(dir);
  size_t n;
  char **names = list_maps(dir, &n);
  assert_non_null(names);
  assert_true(n >= 30);
  Errs *errs = malloc(sizeof *errs);
  assert_non_null(errs);
  for (size_t i = 0; i < n; i++) {
    char *path = join(dir, names[i]);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    const char *exp = strstr(text, "<!-- expect: ");
    if (!exp)
      fail_msg("bad fixture %s has no <!-- expect: ... --> comment", names[i]);
    exp += strlen("<!-- expect: ");
    const char *end = strstr(exp, " -->");
    assert_non_null(end);
    char expect[256];
    snprintf(expect, sizeof expect, "%.*s", (int)(end - exp), exp);
    int defect_line = line_of(text, "<!-- defect -->");
    if (!defect_line)
      fail_msg("bad fixture %s marks no line with <!-- defect -->", names[i]);

    int rc = validate_file(s->strict, path, errs);
    if (rc <= 0) {
      errs_print(names[i], errs);
      fail_msg("bad fixture %s is %s", names[i], rc == 0 ? "accepted" : "not validated (libxml2 failure)");
    }
    if (!errs_have(errs, defect_line, expect)) {
      errs_print(names[i], errs);
      fail_msg("bad fixture %s: no message \"%s\" on line %d", names[i], expect, defect_line);
    }
    for (size_t k = 0; k < errs->n; k++)
      if (errs->e[k].line != defect_line && errs->e[k].line != 0) {
        errs_print(names[i], errs);
        fail_msg("bad fixture %s: a message on line %d, not the defect's line %d", names[i], errs->e[k].line,
                 defect_line);
      }
    free(text);
    free(path);
  }
  free(errs);
  free_names(names);
  free(dir);
}

/* Single rules, on one-binding documents: the edges of each range and each value form. */
typedef struct {
  const char *content; /* the root's content */
  bool valid;
} Case;

static void test_rules(void **state)
{
  const Schemas *s = *state;
  static const Case cases[] = {
      /* channel: 1..16, decimal */
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/gain 1\"/>", true},
      {"<Binding channel=\"16\" ctl=\"7\" uri=\"/route/gain 1\"/>", true},
      {"<Binding channel=\"0\" ctl=\"7\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"17\" ctl=\"7\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"0x1\" ctl=\"7\" uri=\"/route/gain 1\"/>", false},
      {"<Binding ctl=\"7\" uri=\"/route/gain 1\"/>", false},
      /* 7-bit numbers */
      {"<Binding channel=\"1\" ctl=\"0\" uri=\"/route/gain 1\"/>", true},
      {"<Binding channel=\"1\" ctl=\"127\" uri=\"/route/gain 1\"/>", true},
      {"<Binding channel=\"1\" ctl=\"-1\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" ctl=\"+7\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7.0\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" note=\"128\" uri=\"/route/mute 1\"/>", false},
      {"<Binding channel=\"1\" pgm=\"128\" uri=\"/route/mute 1\"/>", false},
      {"<Binding channel=\"1\" enc-r=\"128\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" rpn=\"255\" uri=\"/route/gain 1\"/>", true},
      /* one message attribute, one kind */
      {"<Binding channel=\"1\" ctl=\"7\" note=\"7\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/gain 1\" action=\"Transport/Roll\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" function=\"transport-roll\" action=\"Transport/Roll\"/>", false},
      {"<Binding channel=\"1\" sysex=\"f0 7f f7\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" rpn-delta=\"1\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" nrpn-delta=\"1\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" rpn-value=\"1\" uri=\"/route/gain 1\"/>", false},
      {"<Binding channel=\"1\" pb=\"0\" function=\"transport-roll\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/gain 1\"><Binding/></Binding>", false},
      /* momentary: notes only, a bool string_to_bool reads */
      {"<Binding channel=\"1\" note=\"7\" uri=\"/route/mute 1\" momentary=\"no\"/>", true},
      {"<Binding channel=\"1\" note=\"7\" uri=\"/route/mute 1\" momentary=\"1\"/>", true},
      {"<Binding channel=\"1\" note=\"7\" uri=\"/route/mute 1\" momentary=\"on\"/>", false},
      {"<Binding channel=\"1\" note=\"7\" function=\"transport-roll\" momentary=\"yes\"/>", false},
      /* functions */
      {"<Binding channel=\"1\" ctl=\"7\" function=\"set-bank\" argument=\"2\"/>", true},
      {"<Binding channel=\"1\" ctl=\"7\" function=\"set-bank\" argument=\"\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" function=\"set-bank\" argument=\"two\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" function=\"select\" argument=\"1\" arg=\"2\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" function=\"track-set-solo\" argument=\"1\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" function=\"Transport-Roll\"/>", false},
      {"<Binding msg=\"b0 2c 7f\" function=\"transport-roll\"/>", true},
      {"<Binding msg=\"\" function=\"transport-roll\"/>", false},
      {"<Binding msg=\"b0 2c 17f\" function=\"transport-roll\"/>", false},
      {"<Binding msg=\"0xb0 2c 7f\" function=\"transport-roll\"/>", false},
      /* actions */
      {"<Binding channel=\"1\" note=\"7\" action=\"Editor/select-next-route\"/>", true},
      {"<Binding channel=\"1\" note=\"7\" action=\"\"/>", false},
      {"<Binding channel=\"1\" note=\"7\" action=\"Editor/select next route\"/>", false},
      /* uris */
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/plugin/parameter S1 1 6\"/>", true},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/plugin/parameter Bass 1 6\"/>", true},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/plugin/parameter 2nd-guitar 1 6\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/plugin/parameter 1 1 6 7\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/plugin/parameter 1 0 6\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/plugin/parameter S0 1 6\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/plugin/parameter\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/vca/plugin/parameter 1 1 6\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/track/gain S1\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/gain\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/send/gain 1\"/>", false},
      {"<Binding channel=\"1\" ctl=\"7\" uri=\"/route/plugin/parameter&#9;1 1 6\"/>", false},
      /* DeviceInfo */
      {"<DeviceInfo bank-size=\"0\" motorized=\"yes\" threshold=\"127\"/>", true},
      {"<DeviceInfo threshold=\"128\"/>", false},
      {"<DeviceInfo motorized=\"maybe\"/>", false},
      {"<DeviceInfo device-name=\"BCF2000\"/>", false},
      {"<DeviceInfo bank-size=\"8\">text</DeviceInfo>", false},
      /* the root */
      {"", true},
      {"<!-- a comment --> <Binding channel=\"1\" ctl=\"7\" uri=\"/route/gain 1\"/>", true},
  };
  Errs *errs = malloc(sizeof *errs);
  assert_non_null(errs);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char xml[1024];
    snprintf(xml, sizeof xml, "<ArdourMIDIBindings version=\"1.0.0\" name=\"t\">%s</ArdourMIDIBindings>",
             cases[i].content);
    int rc = validate_string(s->strict, xml, errs);
    if ((rc == 0) != cases[i].valid || rc < 0) {
      errs_print("inline", errs);
      fail_msg("%s: %s, expected %s", cases[i].content, rc == 0 ? "valid" : "invalid",
               cases[i].valid ? "valid" : "invalid");
    }
    if (!cases[i].valid && errs->n == 0)
      fail_msg("%s: rejected without a message", cases[i].content);
  }
  free(errs);
}

/* ---------------------------------------------------------------------------------------------------------------
 * The maps Ardour ships */

/* What the strict schema rejects in ardour-data 1:7.3.0, each an error it must report: file, line, message.
 * Every defect is explained in schemas/ardour-midi-map.rng (the tolerant format), which admits exactly these (and the lines like
 * them), so the strict schema's other rules hold for all 44 maps. */
typedef struct {
  const char *file;
  int line;
  const char *message;
} ShippedDefect;

static const ShippedDefect SHIPPED_DEFECTS[] = {
    {"AKAI_MPK225_Plugins.map", 9, "Element Binding failed to validate attributes"}, /* parameter S1 0 0 */
    {"AKAI_MPK249.map", 10, "Invalid attribute momentary for element Binding"},      /* on an action */
    {"AKAI_MPKmini.map", 12, "Invalid attribute motorised for element DeviceInfo"},
    {"Korg_nanoKONTROL_Studio.map", 89, "Invalid attribute channel for element Binding"},  /* with msg */
    {"Korg_nanoKONTROL_Studio.map", 146, "Element Binding failed to validate attributes"}, /* uri="" */
    {"M-Audio_Axiom61.map", 2, "Did not expect text in element ArdourMIDIBindings content"},
    {"M-Audio_Axiom_AIR_Mini_32.map", 74, "Element Binding failed to validate attributes"}, /* Transport-Forward */
    {"M-Audio_Axiom_AIR_Mini_32.map", 75, "Element Binding failed to validate attributes"}, /* Transport/Rewind */
    {"M-Audio_Oxygen49.map", 2, "Did not expect text in element ArdourMIDIBindings content"},
    {"Nektar_Panorama.map", 22, "Invalid attribute momentary for element Binding"}, /* on a ctl */
    {"Nektar_Panorama.map", 54, "Invalid attribute momentary for element Binding"}, /* on a function */
    {"Novation_Impulse61.map", 2, "Did not expect text in element ArdourMIDIBindings content"},
    {"Novation_LaunchControl_XL.map", 5, "Invalid attribute motorised for element DeviceInfo"},
    {"Novation_LaunchKey49.map", 2, "Did not expect text in element ArdourMIDIBindings content"},
    {"Roland_SI-24.map", 5, "Did not expect text in element ArdourMIDIBindings content"},
    {"Roland_V_Studio_20.map", 6, "Invalid attribute momentary for element Binding"}, /* on a function */
    {"akai-mpd-32.map", 45, "Element Binding failed to validate attributes"},         /* channel 17 */
    {"bcf2000.map", 8, "Invalid attribute motorised for element DeviceInfo"},
    {"bcf2000_mackie.map", 7, "Invalid attribute motorised for element DeviceInfo"},
    {"bcf2000_mackie.map", 104, "Element Binding failed to validate attributes"}, /* channel 0 */
};
#define N_SHIPPED_DEFECTS (sizeof SHIPPED_DEFECTS / sizeof *SHIPPED_DEFECTS)

static bool shipped_defective(const char *file)
{
  for (size_t i = 0; i < N_SHIPPED_DEFECTS; i++)
    if (!strcmp(SHIPPED_DEFECTS[i].file, file))
      return true;
  return false;
}

/* The shipped maps, or a failure: the test needs them (apt-get install ardour-data). */
static char **shipped_maps(size_t *n)
{
  char **names = list_maps(SHIPPED_MAPS_DIR, n);
  if (!names)
    fail_msg("%s cannot be read: install Ardour's maps with `apt-get install ardour-data`", SHIPPED_MAPS_DIR);
  if (*n == 0) {
    free_names(names);
    fail_msg("%s holds no .map file: install Ardour's maps with `apt-get install ardour-data`", SHIPPED_MAPS_DIR);
  }
  return names;
}

static void test_shipped_maps_strict(void **state)
{
  const Schemas *s = *state;
  size_t n;
  char **names = shipped_maps(&n);
  Errs *errs = malloc(sizeof *errs);
  assert_non_null(errs);
  size_t valid = 0, rejected = 0;
  for (size_t i = 0; i < n; i++) {
    char *path = join(SHIPPED_MAPS_DIR, names[i]);
    int rc = validate_file(s->strict, path, errs);
    if (rc < 0)
      fail_msg("%s: libxml2 could not validate it", path);
    if (!shipped_defective(names[i])) {
      if (rc != 0 || errs->total) {
        errs_print(names[i], errs);
        fail_msg("%s is rejected by the schema", path);
      }
      valid++;
    } else {
      if (rc == 0)
        fail_msg("%s is accepted, but SHIPPED_DEFECTS says the schema rejects it: update the list", path);
      for (size_t d = 0; d < N_SHIPPED_DEFECTS; d++)
        if (!strcmp(SHIPPED_DEFECTS[d].file, names[i]) &&
            !errs_have(errs, SHIPPED_DEFECTS[d].line, SHIPPED_DEFECTS[d].message)) {
          errs_print(names[i], errs);
          fail_msg("%s: no message \"%s\" on line %d", path, SHIPPED_DEFECTS[d].message, SHIPPED_DEFECTS[d].line);
        }
      rejected++;
    }
    free(path);
  }
  /* every listed map exists: the list cannot go stale silently */
  for (size_t d = 0; d < N_SHIPPED_DEFECTS; d++) {
    bool found = false;
    for (size_t i = 0; i < n; i++)
      found = found || !strcmp(names[i], SHIPPED_DEFECTS[d].file);
    if (!found)
      fail_msg("SHIPPED_DEFECTS names %s, which is not in %s", SHIPPED_DEFECTS[d].file, SHIPPED_MAPS_DIR);
  }
  print_message("%zu shipped maps: %zu valid, %zu rejected for known defects\n", n, valid, rejected);
  if (n != SHIPPED_MAPS_COUNT)
    print_message("note: ardour-data 1:7.3.0 ships %d maps, %s holds %zu\n", SHIPPED_MAPS_COUNT, SHIPPED_MAPS_DIR, n);
  free(errs);
  free_names(names);
}

/* With exactly the known defects admitted, every shipped map validates: the schema's other rules (the format,
 * every uri, every number, every function and action) hold for Ardour's own maps. */
static void test_shipped_maps_tolerated(void **state)
{
  const Schemas *s = *state;
  size_t n;
  char **names = shipped_maps(&n);
  Errs *errs = malloc(sizeof *errs);
  assert_non_null(errs);
  for (size_t i = 0; i < n; i++) {
    char *path = join(SHIPPED_MAPS_DIR, names[i]);
    int rc = validate_file(s->shipped, path, errs);
    if (rc != 0 || errs->total) {
      errs_print(names[i], errs);
      fail_msg("%s is rejected by schemas/ardour-midi-map.rng (the tolerant format) (rc %d)", path, rc);
    }
    free(path);
  }
  free(errs);
  free_names(names);
}

/* The tolerance grammar is not a blanket: defects Ardour's maps do not have are still rejected by it. */
static void test_shipped_grammar_still_strict(void **state)
{
  const Schemas *s = *state;
  static const char *const still_bad[] = {"encoder-attr.map",     "no-message.map", "function-plugin-parameter.map",
                                          "uri-and-function.map", "nrpn.map",       "wrong-root.map"};
  char *dir = src_path("tests/data/ardour/bad");
  assert_non_null(dir);
  Errs *errs = malloc(sizeof *errs);
  assert_non_null(errs);
  for (size_t i = 0; i < sizeof still_bad / sizeof *still_bad; i++) {
    char *path = join(dir, still_bad[i]);
    if (validate_file(s->shipped, path, errs) <= 0)
      fail_msg("%s is accepted by ardour-midi-map.rng", still_bad[i]);
    free(path);
  }
  free(errs);
  free(dir);
}

/* ---------------------------------------------------------------------------------------------------------------
 * libxml2 prints nothing */

static void test_nothing_printed(void **state)
{
  const Schemas *s = *state;
  fflush(stderr);
  fflush(stdout);
  char *dir = tu_tempdir();
  char *capture = join(dir, "output");
  int fd = open(capture, O_CREAT | O_RDWR | O_TRUNC, 0600);
  assert_true(fd >= 0);
  int saved_err = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO);
  assert_true(saved_err >= 0 && saved_out >= 0);
  assert_true(dup2(fd, STDERR_FILENO) >= 0);
  assert_true(dup2(fd, STDOUT_FILENO) >= 0);

  Errs *errs = malloc(sizeof *errs);
  assert_non_null(errs);
  /* invalid */
  int rc_invalid = validate_string(s->strict,
                                   "<ArdourMIDIBindings version=\"1\" name=\"t\"><Binding channel=\"17\" "
                                   "encoder=\"yes\"/><Foo/></ArdourMIDIBindings>",
                                   errs);
  size_t invalid_msgs = errs->n;
  /* not well-formed */
  int rc_broken = validate_string(s->strict, "<ArdourMIDIBindings version=\"1\" name=\"t\"><Binding", errs);
  size_t broken_msgs = errs->n;
  /* a schema that does not exist */
  Errs *schema_errs = calloc(1, sizeof *schema_errs);
  assert_non_null(schema_errs);
  xmlSetStructuredErrorFunc(schema_errs, on_structured_error);
  xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt("/nonexistent/ardour-midi-map.rng");
  xmlRelaxNGSetParserStructuredErrors(pc, on_structured_error, schema_errs);
  xmlRelaxNGPtr none = xmlRelaxNGParse(pc);
  xmlRelaxNGFreeParserCtxt(pc);
  xmlSetStructuredErrorFunc(NULL, NULL);

  fflush(stderr);
  fflush(stdout);
  dup2(saved_err, STDERR_FILENO);
  dup2(saved_out, STDOUT_FILENO);
  close(saved_err);
  close(saved_out);
  close(fd);
  size_t printed_len = 0;
  char *printed = tu_read_file(capture, &printed_len);

  assert_true(rc_invalid > 0);
  assert_true(invalid_msgs > 0);
  assert_true(rc_broken > 0);
  assert_true(broken_msgs > 0);
  assert_null(none);
  assert_true(schema_errs->total > 0);
  if (printed_len)
    fail_msg("libxml2 printed: %s", printed);
  if (stray.total) {
    errs_print("generic", &stray);
    fail_msg("%zu message(s) went to libxml2's generic error channel", stray.total);
  }
  free(printed);
  free(schema_errs);
  free(errs);
  unlink(capture);
  free(capture);
  tu_rmtree(dir);
  free(dir);
}

/* ---------------------------------------------------------------------------------------------------------------
 * main */

static int setup(void **state)
{
  xmlInitParser();
  xmlSetGenericErrorFunc(&stray, on_generic_error);
  Schemas *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->strict = load_schema("schemas/ardour-midi-map-strict.rng");
  s->shipped = load_schema("schemas/ardour-midi-map.rng");
  *state = s;
  return s->strict && s->shipped ? 0 : -1;
}

static int teardown(void **state)
{
  Schemas *s = *state;
  if (s) {
    xmlRelaxNGFree(s->strict);
    xmlRelaxNGFree(s->shipped);
    free(s);
  }
  xmlSetGenericErrorFunc(NULL, NULL);
  xmlCleanupParser();
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_fixtures),
      cmocka_unit_test(test_bad_fixtures),
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_shipped_maps_strict),
      cmocka_unit_test(test_shipped_maps_tolerated),
      cmocka_unit_test(test_shipped_grammar_still_strict),
      cmocka_unit_test(test_nothing_printed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
