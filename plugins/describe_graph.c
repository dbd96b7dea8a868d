/* describe_graph.c: the descriptor from a plugin's own Turtle files, streamed into a PlugGraph instead of lilv's
 * indexed store. It answers each question the way lilv answers it (same value choice, same language filter, same
 * fallbacks), so its output is byte-identical to describe.c's; tests/debian/engines.sh checks that on every
 * installed plugin. What the plugin's files do not describe (the units ontology, plugin classes) comes from the
 * lilv world, which holds every specification. */
#include "describe.h"
#include "graph.h"

#include "../pipeline/xalloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  LilvWorld *w;
  PlugNodes *n;
  const LilvPlugin *p;
  PlugGraph *g;
  PlugTerm plugin;
  /* predicates and classes, as terms of this graph (0 when the graph never mentions them) */
  PlugTerm port, index, symbol, name, type, designation, group, lv2_default, lv2_minimum, lv2_maximum, unit,
      unit_symbol, label, lv2_name, lv2_symbol, property, scale_point, value, range_steps, display_priority,
      buffer_type, supports, min_size, doap_name, maintainer, project, foaf_name, foaf_mbox, foaf_homepage, minor,
      micro, binary, required, optional, extension, writable, readable, range, lv2_plugin, prototype;
  PlugTerm input, control, audio, atom, cv, event;
} G;

static PlugTerm uri_term(const G *c, const char *uri)
{
  return plug_graph_uri(c->g, uri);
}

static void init_terms(G *c)
{
  c->port = uri_term(c, LV2_NS "port");
  c->index = uri_term(c, LV2_NS "index");
  c->symbol = uri_term(c, LV2_NS "symbol");
  c->lv2_symbol = c->symbol;
  c->name = uri_term(c, LV2_NS "name");
  c->lv2_name = c->name;
  c->type = uri_term(c, RDF_NS "type");
  c->designation = uri_term(c, LV2_NS "designation");
  c->group = uri_term(c, PG_NS "group");
  c->lv2_default = uri_term(c, LV2_NS "default");
  c->lv2_minimum = uri_term(c, LV2_NS "minimum");
  c->lv2_maximum = uri_term(c, LV2_NS "maximum");
  c->unit = uri_term(c, UNITS_NS "unit");
  c->unit_symbol = uri_term(c, UNITS_NS "symbol");
  c->label = uri_term(c, RDFS_NS "label");
  c->property = uri_term(c, LV2_NS "portProperty");
  c->scale_point = uri_term(c, LV2_NS "scalePoint");
  c->value = uri_term(c, RDF_NS "value");
  c->range_steps = uri_term(c, PPROPS_NS "rangeSteps");
  c->display_priority = uri_term(c, PPROPS_NS "displayPriority");
  c->buffer_type = uri_term(c, ATOM_NS "bufferType");
  c->supports = uri_term(c, ATOM_NS "supports");
  c->min_size = uri_term(c, RSZ_NS "minimumSize");
  c->doap_name = uri_term(c, DOAP_NS "name");
  c->maintainer = uri_term(c, DOAP_NS "maintainer");
  c->project = uri_term(c, LV2_NS "project");
  c->foaf_name = uri_term(c, FOAF_NS "name");
  c->foaf_mbox = uri_term(c, FOAF_NS "mbox");
  c->foaf_homepage = uri_term(c, FOAF_NS "homepage");
  c->minor = uri_term(c, LV2_NS "minorVersion");
  c->micro = uri_term(c, LV2_NS "microVersion");
  c->binary = uri_term(c, LV2_NS "binary");
  c->required = uri_term(c, LV2_NS "requiredFeature");
  c->optional = uri_term(c, LV2_NS "optionalFeature");
  c->extension = uri_term(c, LV2_NS "extensionData");
  c->writable = uri_term(c, PATCH_NS "writable");
  c->readable = uri_term(c, PATCH_NS "readable");
  c->range = uri_term(c, RDFS_NS "range");
  c->lv2_plugin = uri_term(c, LV2_NS "Plugin");
  c->prototype = uri_term(c, LV2_NS "prototype");
  c->input = uri_term(c, LV2_NS "InputPort");
  c->control = uri_term(c, LV2_NS "ControlPort");
  c->audio = uri_term(c, LV2_NS "AudioPort");
  c->atom = uri_term(c, ATOM_NS "AtomPort");
  c->cv = uri_term(c, LV2_NS "CVPort");
  c->event = uri_term(c, EV_NS "EventPort");
}

/* ---- values, as lilv gives them ---- */

static bool is_type(const G *c, PlugTerm t, PlugTermType type)
{
  return t && plug_term_type(c->g, t) == type;
}

/* lilv's LILV_VALUE_STRING: a literal whose datatype is none of the ones lilv converts. */
static bool is_string(const G *c, PlugTerm t)
{
  if (!is_type(c, t, PLUG_TERM_LITERAL))
    return false;
  const char *dt = plug_term_datatype(c->g, t);
  static const char *const typed[] = {XSD_NS "boolean", XSD_NS "decimal", XSD_NS "double", XSD_NS "integer",
                                      XSD_NS "base64Binary"};
  for (size_t i = 0; dt && i < sizeof typed / sizeof typed[0]; i++)
    if (!strcmp(dt, typed[i]))
      return false;
  return true;
}

static json_t *term_str(const G *c, PlugTerm t)
{
  return t ? json_string(plug_term_str(c->g, t)) : json_null();
}

static json_t *term_num(const G *c, PlugTerm t)
{
  if (!is_type(c, t, PLUG_TERM_LITERAL))
    return json_null();
  const char *dt = plug_term_datatype(c->g, t);
  return plug_desc_number(plug_term_str(c->g, t), dt && !strcmp(dt, XSD_NS "integer"));
}

/* The first object of (s, p) in store order, without language filtering (sord_iter_get_node on a search). */
static PlugTerm first_object(const G *c, PlugTerm s, PlugTerm p)
{
  size_t first = 0;
  return plug_graph_find(c->g, s, p, &first) ? plug_graph_object(c->g, first) : 0;
}

/* lilv_world_get for a subject that may be described only in the world (a URI outside the plugin's files). */
static LilvNode *world_get(const G *c, PlugTerm s, const LilvNode *pred)
{
  if (!is_type(c, s, PLUG_TERM_URI) || !pred)
    return NULL;
  LilvNode *subject = lilv_new_uri(c->w, plug_term_str(c->g, s));
  LilvNode *v = lilv_world_get(c->w, subject, pred, NULL);
  lilv_node_free(subject);
  return v;
}

static json_t *lilv_str(LilvNode *v)
{
  json_t *j = v ? json_string(lilv_node_as_string(v)) : json_null();
  lilv_node_free(v);
  return j;
}

static json_t *lilv_num(LilvNode *v)
{
  json_t *j =
      v && lilv_node_is_literal(v) ? plug_desc_number(lilv_node_as_string(v), lilv_node_is_int(v)) : json_null();
  lilv_node_free(v);
  return j;
}

/* A value's string from the plugin's files, else from the world. */
static json_t *get_str(const G *c, PlugTerm s, PlugTerm p, const LilvNode *wp)
{
  PlugTerm v = plug_graph_get(c->g, s, p);
  return v ? term_str(c, v) : lilv_str(world_get(c, s, wp));
}

static json_t *get_num(const G *c, PlugTerm s, PlugTerm p, const LilvNode *wp)
{
  PlugTerm v = plug_graph_get(c->g, s, p);
  return v ? term_num(c, v) : lilv_num(world_get(c, s, wp));
}

/* All values of (s, p) as strings, with lilv's language filter on literals. */
static json_t *get_all(const G *c, PlugTerm s, PlugTerm p)
{
  json_t *a = json_array();
  size_t first = 0, n = plug_graph_find(c->g, s, p, &first);
  bool literal_only = true;
  for (size_t i = first; i < first + n; i++) {
    PlugTerm o = plug_graph_object(c->g, i);
    if (!is_type(c, o, PLUG_TERM_LITERAL)) {
      json_array_append_new(a, term_str(c, o));
      literal_only = false;
    }
  }
  if (literal_only && n) {
    PlugTerm v = plug_graph_get(c->g, s, p);
    if (v)
      json_array_append_new(a, term_str(c, v));
  }
  return plug_desc_sorted_strings(a);
}

/* ---- ports ---- */

static bool has_class(const G *c, PlugTerm port, PlugTerm cls)
{
  size_t first = 0, n = plug_graph_find(c->g, port, c->type, &first);
  for (size_t i = first; cls && i < first + n; i++)
    if (plug_graph_object(c->g, i) == cls)
      return true;
  return false;
}

static const char *port_kind(const G *c, PlugTerm port)
{
  if (has_class(c, port, c->control))
    return "control";
  if (has_class(c, port, c->audio))
    return "audio";
  if (has_class(c, port, c->atom))
    return "atom";
  if (has_class(c, port, c->cv))
    return "cv";
  if (has_class(c, port, c->event))
    return "event";
  return "unknown";
}

static json_t *unit_json(const G *c, PlugTerm unit)
{
  /* Only units that the plugin's own files leave to the units ontology are memoised: a plugin may describe a
   * standard unit itself (Ardour's a-* plugins label units:db "dB"), and that must not leak into the next plugin
   * this worker describes. */
  size_t first;
  bool own = plug_graph_find(c->g, unit, c->unit_symbol, &first) || plug_graph_find(c->g, unit, c->label, &first);
  bool memo = is_type(c, unit, PLUG_TERM_URI) && !own;
  const char *key = plug_term_str(c->g, unit);
  json_t *j = memo ? plug_desc_unit_memo(c->n, key) : NULL;
  if (j)
    return j;
  j = json_object();
  if (is_type(c, unit, PLUG_TERM_URI))
    json_object_set_new(j, "uri", json_string(key));
  plug_desc_set_if(j, "symbol", get_str(c, unit, c->unit_symbol, c->n->unit_symbol));
  plug_desc_set_if(j, "label", get_str(c, unit, c->label, c->n->rdfs_label));
  if (memo)
    plug_desc_unit_remember(c->n, key, j);
  return j;
}

static json_t *group_json(const G *c, PlugTerm group)
{
  json_t *j = json_object();
  if (is_type(c, group, PLUG_TERM_URI))
    json_object_set_new(j, "uri", json_string(plug_term_str(c->g, group)));
  plug_desc_set_if(j, "symbol", get_str(c, group, c->lv2_symbol, c->n->lv2_symbol));
  json_t *label = get_str(c, group, c->label, c->n->rdfs_label);
  if (json_is_null(label)) {
    json_decref(label);
    label = get_str(c, group, c->lv2_name, c->n->lv2_name);
  }
  plug_desc_set_if(j, "label", label);
  return j;
}

static json_t *scale_points_json(const G *c, PlugTerm port)
{
  json_t *a = json_array();
  size_t first = 0, n = plug_graph_find(c->g, port, c->scale_point, &first);
  for (size_t i = first; i < first + n; i++) {
    PlugTerm sp = plug_graph_object(c->g, i);
    PlugTerm value = plug_graph_get(c->g, sp, c->value), label = plug_graph_get(c->g, sp, c->label);
    json_t *v = value && label ? term_num(c, value) : json_null();
    if (json_is_null(v)) {
      json_decref(v);
      continue;
    }
    json_array_append_new(a, json_pack("{s:o, s:s}", "value", v, "label", plug_term_str(c->g, label)));
  }
  return plug_desc_sort_scale_points(a);
}

static void add_control_fields(const G *c, PlugTerm port, json_t *j)
{
  json_object_set_new(j, "default", term_num(c, plug_graph_get(c->g, port, c->lv2_default)));
  json_object_set_new(j, "minimum", term_num(c, plug_graph_get(c->g, port, c->lv2_minimum)));
  json_object_set_new(j, "maximum", term_num(c, plug_graph_get(c->g, port, c->lv2_maximum)));
  PlugTerm unit = plug_graph_get(c->g, port, c->unit);
  json_object_set_new(j, "unit", unit ? unit_json(c, unit) : json_null());
  json_t *props = get_all(c, port, c->property);
  size_t i;
  json_t *v;
  json_array_foreach(props, i, v)
    json_array_set_new(props, i, json_string(plug_desc_short_name(json_string_value(v))));
  json_object_set_new(j, "properties", plug_desc_sorted_strings(props));
  json_object_set_new(j, "scale_points", scale_points_json(c, port));
  plug_desc_set_if(j, "range_steps", term_num(c, plug_graph_get(c->g, port, c->range_steps)));
  plug_desc_set_if(j, "display_priority", term_num(c, plug_graph_get(c->g, port, c->display_priority)));
}

static void add_atom_fields(const G *c, PlugTerm port, json_t *j)
{
  PlugTerm bt = plug_graph_get(c->g, port, c->buffer_type);
  plug_desc_set_if(j, "buffer_type", bt ? term_str(c, bt) : NULL);
  json_object_set_new(j, "supports", get_all(c, port, c->supports));
  plug_desc_set_if(j, "minimum_size", term_num(c, plug_graph_get(c->g, port, c->min_size)));
}

static json_t *port_json(const G *c, PlugTerm port, uint32_t index, json_int_t *ardour_param, PlugPortCounts *counts)
{
  const char *kind = port_kind(c, port);
  bool in = has_class(c, port, c->input);
  PlugTerm name = plug_graph_get(c->g, port, c->name);
  json_t *j = json_pack("{s:I, s:s, s:o, s:s, s:s}", "index", (json_int_t)index, "symbol",
                        plug_term_str(c->g, plug_graph_get(c->g, port, c->symbol)), "name",
                        is_string(c, name) ? term_str(c, name) : json_null(), "kind", kind, "direction",
                        in ? "input" : "output");
  plug_desc_count_port(counts, kind, in);
  PlugTerm desig = plug_graph_get(c->g, port, c->designation);
  if (desig)
    json_object_set_new(j, "designation", json_string(plug_desc_short_name(plug_term_str(c->g, desig))));
  PlugTerm group = plug_graph_get(c->g, port, c->group);
  if (group)
    json_object_set_new(j, "group", group_json(c, group));
  if (!strcmp(kind, "control")) {
    json_object_set_new(j, "ardour_param", json_integer(++*ardour_param));
    json_object_set_new(j, "bindable", json_boolean(in));
    add_control_fields(c, port, j);
  } else if (!strcmp(kind, "atom")) {
    add_atom_fields(c, port, j);
  }
  return j;
}

static bool is_symbol(const char *s)
{
  if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
    return false;
  for (s++; *s; s++)
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
      return false;
  return true;
}

/* The plugin's ports by index, as lilv_plugin_load_ports_if_necessary finds them. Returns NULL (use lilv) on
 * anything lilv would complain about: a bad index or symbol, a duplicate, a gap. */
static PlugTerm *ports_by_index(const G *c, uint32_t *n_ports)
{
  size_t first = 0, n = plug_graph_find(c->g, c->plugin, c->port, &first);
  PlugTerm *ports = pipe_xcalloc(n + 1, sizeof(PlugTerm));
  for (size_t i = first; i < first + n; i++) {
    PlugTerm port = plug_graph_object(c->g, i);
    PlugTerm idx = plug_graph_get(c->g, port, c->index), sym = plug_graph_get(c->g, port, c->symbol);
    const char *dt = plug_term_datatype(c->g, idx);
    long k = idx && dt && !strcmp(dt, XSD_NS "integer") ? strtol(plug_term_str(c->g, idx), NULL, 10) : -1;
    if (k < 0 || (size_t)k >= n || ports[k] || !is_string(c, sym) || !is_symbol(plug_term_str(c->g, sym))) {
      free(ports);
      return NULL;
    }
    ports[k] = port;
  }
  *n_ports = (uint32_t)n;
  return ports;
}

/* ---- plugin ---- */

static json_t *class_json(const G *c)
{
  const LilvPluginClasses *classes = lilv_world_get_plugin_classes(c->w);
  const LilvPluginClass *cls = NULL;
  PlugTerm other = 0; /* the least rdf:type URI besides lv2:Plugin */
  size_t first = 0, n = plug_graph_find(c->g, c->plugin, c->type, &first);
  for (size_t i = first; i < first + n && !cls; i++) {
    PlugTerm t = plug_graph_object(c->g, i);
    if (!is_type(c, t, PLUG_TERM_URI) || t == c->lv2_plugin)
      continue;
    other = other ? other : t;
    LilvNode *uri = lilv_new_uri(c->w, plug_term_str(c->g, t));
    cls = lilv_plugin_classes_get_by_uri(classes, uri);
    lilv_node_free(uri);
  }
  if (!cls && other) { /* the class ontology is not on the LV2 path: keep the plugin's own type */
    json_t *label = get_str(c, other, c->label, c->n->rdfs_label);
    json_t *j = plug_desc_class(plug_term_str(c->g, other), json_string_value(label));
    json_decref(label);
    return j;
  }
  if (!cls)
    cls = lilv_world_get_plugin_class(c->w);
  const LilvNode *label = lilv_plugin_class_get_label(cls);
  return plug_desc_class(lilv_node_as_uri(lilv_plugin_class_get_uri(cls)), label ? lilv_node_as_string(label) : NULL);
}

/* lilv_plugin_get_author: the plugin's doap:maintainer, else its project's; the first in store order. */
static json_t *author_json(const G *c)
{
  json_t *j = json_object();
  PlugTerm author = first_object(c, c->plugin, c->maintainer);
  if (!author)
    author = first_object(c, first_object(c, c->plugin, c->project), c->maintainer);
  if (author) {
    PlugTerm name = plug_graph_get(c->g, author, c->foaf_name), mbox = plug_graph_get(c->g, author, c->foaf_mbox),
             home = plug_graph_get(c->g, author, c->foaf_homepage);
    plug_desc_set_if(j, "name", name ? term_str(c, name) : NULL);
    plug_desc_set_if(j, "email", mbox ? term_str(c, mbox) : NULL);
    plug_desc_set_if(j, "homepage", home ? term_str(c, home) : NULL);
  }
  return j;
}

static json_t *project_json(const G *c)
{
  PlugTerm proj = first_object(c, c->plugin, c->project);
  if (!proj)
    return json_null();
  json_t *j = json_object();
  if (is_type(c, proj, PLUG_TERM_URI))
    json_object_set_new(j, "uri", json_string(plug_term_str(c->g, proj)));
  plug_desc_set_if(j, "name", get_str(c, proj, c->doap_name, c->n->doap_name));
  return j;
}

static json_t *binary_json(const G *c)
{
  size_t first = 0, n = plug_graph_find(c->g, c->plugin, c->binary, &first);
  for (size_t i = first; i < first + n; i++) {
    PlugTerm t = plug_graph_object(c->g, i);
    if (!is_type(c, t, PLUG_TERM_URI))
      continue;
    char *path = lilv_file_uri_parse(plug_term_str(c->g, t), NULL);
    json_t *j = path ? json_string(path) : json_null();
    lilv_free(path);
    return j;
  }
  return json_null();
}

static json_t *bundle_json(const LilvPlugin *p)
{
  char *path = lilv_file_uri_parse(lilv_node_as_uri(lilv_plugin_get_bundle_uri(p)), NULL);
  json_t *j = path ? json_string(path) : json_null();
  lilv_free(path);
  return j;
}

static bool json_array_has(const json_t *a, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v)
    if (!strcmp(json_string_value(v), s))
      return true;
  return false;
}

static json_t *parameters_json(const G *c)
{
  json_t *wr = get_all(c, c->plugin, c->writable), *rd = get_all(c, c->plugin, c->readable);
  json_t *all = json_array(), *sets[2] = {wr, rd};
  for (int s = 0; s < 2; s++) {
    size_t i;
    json_t *v;
    json_array_foreach(sets[s], i, v) {
      const char *uri = json_string_value(v);
      bool writable = json_array_has(wr, uri);
      if (s == 1 && writable)
        continue;
      PlugTerm param = uri_term(c, uri);
      json_t *j =
          json_pack("{s:s, s:o, s:o, s:s, s:b}", "uri", uri, "label", get_str(c, param, c->label, c->n->rdfs_label),
                    "range", get_str(c, param, c->range, c->n->range), "access",
                    writable ? (json_array_has(rd, uri) ? "read-write" : "write") : "read", "bindable", 0);
      plug_desc_set_if(j, "default", get_num(c, param, c->lv2_default, c->n->lv2_default));
      plug_desc_set_if(j, "minimum", get_num(c, param, c->lv2_minimum, c->n->lv2_minimum));
      plug_desc_set_if(j, "maximum", get_num(c, param, c->lv2_maximum, c->n->lv2_maximum));
      json_array_append_new(all, j);
    }
  }
  json_decref(wr);
  json_decref(rd);
  return plug_desc_sort_by_uri(all);
}

json_t *plug_describe_graph(LilvWorld *w, PlugNodes *n, const LilvPlugin *p, PlugGraph *g)
{
  G c = {.w = w, .n = n, .p = p, .g = g};
  const char *uri = lilv_node_as_uri(lilv_plugin_get_uri(p));
  c.plugin = plug_graph_uri(g, uri);
  init_terms(&c);
  uint32_t n_ports = 0;
  PlugTerm *ports = c.plugin && !first_object(&c, c.plugin, c.prototype) ? ports_by_index(&c, &n_ports) : NULL;
  if (!ports)
    return NULL;
  PlugTerm name = plug_graph_get(g, c.plugin, c.doap_name);
  json_t *d = json_pack("{s:i, s:s, s:o}", "format", PLUG_DESC_FORMAT, "uri", uri, "name",
                        is_string(&c, name) ? term_str(&c, name) : json_null());
  json_object_set_new(d, "class", class_json(&c));
  json_object_set_new(d, "author", author_json(&c));
  json_object_set_new(d, "project", project_json(&c));
  json_object_set_new(d, "version",
                      json_pack("{s:o, s:o}", "minor", get_num(&c, c.plugin, c.minor, n->minor), "micro",
                                get_num(&c, c.plugin, c.micro, n->micro)));
  json_object_set_new(d, "bundle", bundle_json(p));
  json_object_set_new(d, "binary", binary_json(&c));
  json_object_set_new(d, "required_features", get_all(&c, c.plugin, c.required));
  json_object_set_new(d, "optional_features", get_all(&c, c.plugin, c.optional));
  json_object_set_new(d, "extension_data", get_all(&c, c.plugin, c.extension));
  json_t *jports = json_array();
  json_int_t ardour_param = 0;
  PlugPortCounts counts = {0};
  for (uint32_t i = 0; i < n_ports; i++)
    json_array_append_new(jports, port_json(&c, ports[i], i, &ardour_param, &counts));
  free(ports);
  json_object_set_new(d, "ports", jports);
  json_object_set_new(d, "parameters", parameters_json(&c));
  json_object_set_new(d, "counts", plug_desc_counts_json(&counts, ardour_param));
  return d;
}
