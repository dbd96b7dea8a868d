/* ardour.c: the Ardour backend. Bindings become an Ardour Generic MIDI binding map built with libxml2's tree API,
 * checked against schemas/ardour-midi-map.rng (the format as Ardour 7.3 parses it) before anything is written. */
#include "daw.h"

#include "../pipeline/fsx.h"
#include "../pipeline/text.h"
#include "../pipeline/xalloc.h"

#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CTRLMAP_VERSION
#define CTRLMAP_VERSION "0.0.0"
#endif
#ifndef CTRLMAP_SOURCE_SCHEMA_DIR
#define CTRLMAP_SOURCE_SCHEMA_DIR "schemas"
#endif
#ifndef CTRLMAP_INSTALL_SCHEMA_DIR
#define CTRLMAP_INSTALL_SCHEMA_DIR "/usr/local/share/ctrlmap/schemas"
#endif

/* What ctrlmap writes: ardour-midi-map.rng (the format as Ardour parses it) without the things Ardour tolerates
 * only by ignoring or misreading them. */
#define RNG_NAME "ardour-midi-map-strict.rng"

struct DawArdour {
  xmlRelaxNGPtr schema;
};

typedef struct {
  PipeDiagList *diags;
  const char *origin;
} ErrSink;

/* libxml2 prints its errors by default; they become diagnostics instead. */
static void on_xml_error(void *data, xmlErrorPtr err)
{
  ErrSink *sink = data;
  if (!err || !err->message)
    return;
  char *msg = pipe_xstrdup(err->message);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
    msg[--n] = '\0';
  pipe_diag_add(sink->diags, PIPE_SEV_ERROR, "ardour-schema", sink->origin, (unsigned)err->line, 0, "%s", msg);
  free(msg);
}

static char *schema_path_default(void)
{
  const char *env = getenv("CTRLMAP_SCHEMA_DIR");
  struct stat sb;
  if (env && *env)
    return pipe_path_join(env, RNG_NAME);
  char *installed = pipe_path_join(CTRLMAP_INSTALL_SCHEMA_DIR, RNG_NAME);
  if (stat(installed, &sb) == 0)
    return installed;
  free(installed);
  return pipe_path_join(CTRLMAP_SOURCE_SCHEMA_DIR, RNG_NAME);
}

DawArdour *daw_ardour_new(const char *schema_path, PipeDiagList *diags)
{
  char *path = schema_path ? pipe_xstrdup(schema_path) : schema_path_default();
  ErrSink sink = {diags, path};
  xmlSetStructuredErrorFunc(&sink, on_xml_error); /* loading errors ("failed to load external entity") too */
  xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt(path);
  xmlRelaxNGSetParserStructuredErrors(pc, on_xml_error, &sink);
  xmlRelaxNGPtr schema = xmlRelaxNGParse(pc);
  xmlRelaxNGFreeParserCtxt(pc);
  xmlSetStructuredErrorFunc(NULL, NULL);
  DawArdour *ar = NULL;
  if (!schema)
    pipe_diag_add(diags, PIPE_SEV_ERROR, "ardour-schema-missing", path, 0, 0,
                  "cannot load the Ardour map schema; expected %s (set CTRLMAP_SCHEMA_DIR)", RNG_NAME);
  else {
    ar = pipe_xcalloc(1, sizeof(DawArdour));
    ar->schema = schema;
  }
  free(path);
  return ar;
}

void daw_ardour_free(DawArdour *ar)
{
  if (!ar)
    return;
  xmlRelaxNGFree(ar->schema);
  free(ar);
}

/* ---- names ---- */

/* A plugin's name comes from its own Turtle, which nothing checked: a control character or a byte that is not
 * UTF-8 there is written as U+FFFD, so the name Ardour lists (and the line ctrlmap prints) stays one clean line,
 * and the XML is well formed (libxml2 writes "&#1;", which no XML 1.0 parser reads). */
char *daw_ardour_display_name(json_t *b)
{
  json_t *dev = json_object_get(b, "device"), *plug = json_object_get(b, "plugin");
  const char *manufacturer = json_string_value(json_object_get(dev, "manufacturer"));
  const char *model = json_string_value(json_object_get(dev, "model"));
  const char *plugin = json_string_value(json_object_get(plug, "name"));
  char *name = pipe_xasprintf("%s%s%s \u2014 %s", manufacturer ? manufacturer : "", manufacturer && model ? " " : "",
                              model ? model : "", plugin ? plugin : json_string_value(json_object_get(plug, "uri")));
  char *clean = pipe_printable_dup(name);
  free(name);
  return clean;
}

char *daw_file_name(const char *display)
{
  size_t n = strlen(display);
  char *out = pipe_xmalloc(n + 8);
  size_t w = 0;
  for (const unsigned char *c = (const unsigned char *)display; *c && w < 96; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
      out[w++] = (char)*c;
    else if (*c >= 'A' && *c <= 'Z')
      out[w++] = (char)(*c - 'A' + 'a');
    else if (w && out[w - 1] != '-')
      out[w++] = '-'; /* every other byte (space, dot, slash, UTF-8) separates words */
  }
  while (w && out[w - 1] == '-')
    w--;
  if (!w)
    out[w++] = 'x';
  memcpy(out + w, ".map", 5);
  return out;
}

/* ---- rendering ---- */

static void set_prop(xmlNodePtr node, const char *name, const char *value)
{
  xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

static void set_int(xmlNodePtr node, const char *name, json_int_t v)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  set_prop(node, name, buf);
}

/* The message attribute. Encoders in a relative mode use Ardour's enc-r / enc-l / enc-2 / enc-b. A button that
 * sends a CC is a ctl-toggle: a value of 64 or more toggles the parameter and a lower one switches it off
 * (midicontrollable.cc), which is what both latching and momentary buttons need; as a plain ctl, Ardour's pick-up
 * rule would ignore the jump from 0 to 127 (the real-Ardour test in tests/ardour shows both). */
static const char *message_attr(json_t *b)
{
  const char *msg = json_string_value(json_object_get(b, "message"));
  const char *enc = json_string_value(json_object_get(b, "encoding"));
  const char *type = json_string_value(json_object_get(b, "type"));
  if (enc && strcmp(enc, "absolute"))
    return enc;
  if (msg && !strcmp(msg, "note"))
    return "note";
  return type && !strcmp(type, "button") && json_object_get(b, "parameter") ? "ctl-toggle" : "ctl"; /* fn: ctl */
}

static bool binding_ok(json_t *b, const char *origin, PipeDiagList *diags)
{
  const char *id = json_string_value(json_object_get(b, "control"));
  json_int_t ch = json_integer_value(json_object_get(b, "channel"));
  json_int_t num = json_integer_value(json_object_get(b, "number"));
  json_t *param = json_object_get(b, "parameter");
  bool ok = true;
  if (ch < 1 || ch > 16) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "ardour-channel", origin, 0, 0,
                  "control '%s' is on channel %lld; Ardour channels are 1-16", id, (long long)ch);
    ok = false;
  }
  if (!json_is_integer(json_object_get(b, "number")) || num < 0 || num > 127) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "ardour-number", origin, 0, 0, "control '%s' has no CC/note number in 0-127",
                  id);
    ok = false;
  }
  const char *fn = json_string_value(json_object_get(b, "function"));
  const char *arg = json_string_value(json_object_get(b, "argument"));
  /* maps:validate refuses these; this is the writer's own guard */
  if ((fn && !pipe_text_printable(fn)) || (arg && !pipe_text_printable(arg))) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "ardour-text", origin, 0, 0,
                  "control '%s' has a function or argument with control characters or bytes that are not UTF-8", id);
    ok = false;
  }
  if (param && json_integer_value(json_object_get(param, "ardour_param")) < 1) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "ardour-param", origin, 0, 0, "control '%s' has no Ardour parameter number",
                  id);
    ok = false;
  }
  return ok;
}

static xmlNodePtr binding_node(json_t *b, const char *route, int position)
{
  xmlNodePtr n = xmlNewNode(NULL, (const xmlChar *)"Binding");
  set_int(n, "channel", json_integer_value(json_object_get(b, "channel")));
  const char *attr = message_attr(b);
  set_int(n, attr, json_integer_value(json_object_get(b, "number")));
  json_t *param = json_object_get(b, "parameter");
  if (param) {
    char *uri = pipe_xasprintf("/route/plugin/parameter %s %d %lld", route, position,
                               (long long)json_integer_value(json_object_get(param, "ardour_param")));
    set_prop(n, "uri", uri);
    free(uri); /* not a fixed buffer: a long route name would cut the parameter number (227 chars: 34 -> 3) */
  } else {
    set_prop(n, "function", json_string_value(json_object_get(b, "function")));
    if (json_string_value(json_object_get(b, "argument")))
      set_prop(n, "argument", json_string_value(json_object_get(b, "argument")));
  }
  const char *mode = json_string_value(json_object_get(b, "mode"));
  if (param && !strcmp(attr, "note") && mode && !strcmp(mode, "momentary")) /* only on notes; never on functions */
    set_prop(n, "momentary", "yes");
  return n;
}

/* Provenance values go into an XML comment, which cannot hold "--" (nor end in '-'), and are separated by ';':
 * '%', ';' and such dashes are percent-encoded (daw_file_provenance decodes them), so every path and URI reads
 * back. So is every byte of a control character or of a sequence that is not UTF-8: a file name may hold any byte
 * but NUL and '/', and one with \x01 made the comment, so the whole file, unreadable as XML. */
static char *comment_safe(const char *s)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t len = strlen(s), n;
  char *out = pipe_xmalloc(3 * len + 1), *w = out;
  for (size_t i = 0; i < len; i += n) {
    bool ok = pipe_char_printable(pipe_utf8_next(u + i, len - i, &n));
    bool dash = s[i] == '-' && (s[i + 1] == '-' || s[i + 1] == '\0'); /* only where it would end the comment */
    if (ok && s[i] != '%' && s[i] != ';' && !dash) {
      memcpy(w, u + i, n);
      w += n;
      continue;
    }
    for (size_t k = 0; k < n; k++)
      w += sprintf(w, "%%%02X", u[i + k]);
  }
  *w = '\0';
  return out;
}

static xmlDocPtr build_doc(json_t *b, const char *name, const char *route, int position)
{
  xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
  /* The absolute path, so that daw:list finds the map from any directory. */
  const char *given = json_string_value(json_object_get(b, "map"));
  char *real = realpath(given, NULL);
  char *path = comment_safe(real ? real : given);
  free(real);
  const char *dh = json_string_value(json_object_get(b, "descriptor_hash"));
  char *plugin = comment_safe(json_string_value(json_object_get(json_object_get(b, "plugin"), "uri")));
  char *text = pipe_xasprintf(
      " %s %s; map-xxh3: %s; descriptor-xxh3: %s; plugin: %s; do not edit, regenerate; map: %s ", DAW_MARKER,
      CTRLMAP_VERSION, json_string_value(json_object_get(b, "map_hash")), dh ? dh : "-", plugin, path);
  free(plugin);
  xmlAddChild((xmlNodePtr)doc, xmlNewDocComment(doc, (const xmlChar *)text));
  free(text);
  free(path);
  xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"ArdourMIDIBindings");
  set_prop(root, "version", "1.0.0");
  set_prop(root, "name", name);
  xmlAddChild((xmlNodePtr)doc, root);
  size_t i;
  json_t *binding;
  json_array_foreach(json_object_get(b, "bindings"), i, binding)
    xmlAddChild(root, binding_node(binding, route, position));
  return doc;
}

/* Ardour reads a route as N (presentation order), BN, SN (nth selected) when it starts like one, else as a name;
 * the URI is split on spaces (generic_midi_control_protocol.cc). N counts from 1. */
static bool route_ok(const char *route, const char *origin, PipeDiagList *diags)
{
  const char *digits = route + (route[0] == 'B' || route[0] == 'S');
  size_t nd = strspn(digits, "0123456789");
  bool numeric = nd > 0;
  bool ok = numeric ? digits[nd] == '\0' && strtol(digits, NULL, 10) >= 1
                    : *route && !strpbrk(route, " \t\n\"<>&") && pipe_text_printable(route); /* not checked elsewhere */
  if (!ok)
    pipe_diag_add(diags, PIPE_SEV_ERROR, "ardour-route", origin, 0, 0,
                  "route '%s' is not one Ardour can look up; expected S<n> (nth selected track, from 1), <n> (nth "
                  "track), B<n>, or a track name without spaces that does not start like those",
                  route);
  return ok;
}

PipeStatus daw_ardour_render(DawArdour *ar, json_t *b, const DawArdourOpts *opts, char **xml, size_t *len,
                             PipeDiagList *diags)
{
  *xml = NULL;
  *len = 0;
  const char *origin = json_string_value(json_object_get(b, "map"));
  json_t *ard = json_object_get(b, "ardour");
  const char *route = opts && opts->route ? opts->route : json_string_value(json_object_get(ard, "route"));
  int position = opts && opts->plugin_position > 0 ? opts->plugin_position
                                                   : (int)json_integer_value(json_object_get(ard, "plugin_position"));
  route = route ? route : "S1";
  position = position > 0 ? position : 1;
  bool ok = route_ok(route, origin, diags);
  size_t i;
  json_t *binding;
  json_array_foreach(json_object_get(b, "bindings"), i, binding)
    ok = binding_ok(binding, origin, diags) && ok;
  if (!ok)
    return PIPE_ERR_INVALID;
  char *name = opts && opts->name ? pipe_printable_dup(opts->name) : daw_ardour_display_name(b);
  xmlDocPtr doc = build_doc(b, name, route, position);
  free(name);
  ErrSink sink = {diags, origin};
  xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(ar->schema);
  xmlRelaxNGSetValidStructuredErrors(vc, on_xml_error, &sink);
  int rc = xmlRelaxNGValidateDoc(vc, doc);
  xmlRelaxNGFreeValidCtxt(vc);
  if (rc == 0) {
    xmlChar *out = NULL;
    int n = 0;
    xmlDocDumpFormatMemoryEnc(doc, &out, &n, "UTF-8", 1);
    *xml = pipe_xmalloc((size_t)n + 1);
    memcpy(*xml, out, (size_t)n);
    (*xml)[n] = '\0';
    *len = (size_t)n;
    xmlFree(out);
  }
  xmlFreeDoc(doc);
  return rc == 0 ? PIPE_OK : PIPE_ERR_INVALID;
}
