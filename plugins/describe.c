/* describe.c: one plugin's LV2 data -> its JSON descriptor. Each query below is a lookup in lilv's store, and there
 * are ~33k control ports on a Debian system, so the describer asks each port only for what it needs: one property
 * query classified locally rather than one query per property, and unit details memoised per unit. */
#include "describe.h"

#include "../pipeline/jsonx.h"
#include "../pipeline/xalloc.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Every node the describers query, by field: one row each, so creating and freeing them cannot drift apart. */
static const struct {
  size_t field;
  const char *uri;
} NODE_URIS[] = {
    {offsetof(PlugNodes, input), LV2_NS "InputPort"},
    {offsetof(PlugNodes, output), LV2_NS "OutputPort"},
    {offsetof(PlugNodes, control), LV2_NS "ControlPort"},
    {offsetof(PlugNodes, audio), LV2_NS "AudioPort"},
    {offsetof(PlugNodes, atom), ATOM_NS "AtomPort"},
    {offsetof(PlugNodes, cv), LV2_NS "CVPort"},
    {offsetof(PlugNodes, event), EV_NS "EventPort"},
    {offsetof(PlugNodes, unit), UNITS_NS "unit"},
    {offsetof(PlugNodes, unit_symbol), UNITS_NS "symbol"},
    {offsetof(PlugNodes, rdfs_label), RDFS_NS "label"},
    {offsetof(PlugNodes, lv2_name), LV2_NS "name"},
    {offsetof(PlugNodes, lv2_symbol), LV2_NS "symbol"},
    {offsetof(PlugNodes, group), PG_NS "group"},
    {offsetof(PlugNodes, designation), LV2_NS "designation"},
    {offsetof(PlugNodes, minor), LV2_NS "minorVersion"},
    {offsetof(PlugNodes, micro), LV2_NS "microVersion"},
    {offsetof(PlugNodes, doap_name), DOAP_NS "name"},
    {offsetof(PlugNodes, maintainer), DOAP_NS "maintainer"},
    {offsetof(PlugNodes, rdf_type), RDF_NS "type"},
    {offsetof(PlugNodes, foaf_name), FOAF_NS "name"},
    {offsetof(PlugNodes, foaf_mbox), FOAF_NS "mbox"},
    {offsetof(PlugNodes, foaf_homepage), FOAF_NS "homepage"},
    {offsetof(PlugNodes, writable), PATCH_NS "writable"},
    {offsetof(PlugNodes, readable), PATCH_NS "readable"},
    {offsetof(PlugNodes, range), RDFS_NS "range"},
    {offsetof(PlugNodes, lv2_default), LV2_NS "default"},
    {offsetof(PlugNodes, lv2_minimum), LV2_NS "minimum"},
    {offsetof(PlugNodes, lv2_maximum), LV2_NS "maximum"},
    {offsetof(PlugNodes, buffer_type), ATOM_NS "bufferType"},
    {offsetof(PlugNodes, supports), ATOM_NS "supports"},
    {offsetof(PlugNodes, min_size), RSZ_NS "minimumSize"},
    {offsetof(PlugNodes, range_steps), PPROPS_NS "rangeSteps"},
    {offsetof(PlugNodes, display_priority), PPROPS_NS "displayPriority"},
};

static LilvNode **node_field(PlugNodes *n, size_t i)
{
  return (LilvNode **)((char *)n + NODE_URIS[i].field);
}

PlugNodes *plug_nodes_new(LilvWorld *w)
{
  PlugNodes *n = pipe_xcalloc(1, sizeof(PlugNodes));
  for (size_t i = 0; i < sizeof NODE_URIS / sizeof NODE_URIS[0]; i++)
    *node_field(n, i) = lilv_new_uri(w, NODE_URIS[i].uri);
  return n;
}

void plug_nodes_free(PlugNodes *n)
{
  if (!n)
    return;
  for (size_t i = 0; i < sizeof NODE_URIS / sizeof NODE_URIS[0]; i++)
    lilv_node_free(*node_field(n, i));
  for (size_t i = 0; i < n->n_units; i++) {
    free(n->units[i].uri);
    json_decref(n->units[i].unit);
  }
  free(n->units);
  free(n);
}

/* ---- small converters ---- */

/* Takes ownership of `node`: its string form as JSON, or null. */
static json_t *take_str(LilvNode *node)
{
  json_t *j = node ? json_string(lilv_node_as_string(node)) : NULL;
  lilv_node_free(node);
  return j ? j : json_null();
}

json_t *plug_desc_number(const char *text, bool is_int)
{
  if (is_int)
    return json_integer(strtol(text, NULL, 10)); /* what lilv_node_as_int gives */
  char *end = NULL;
  double v = strtod(text, &end);
  if (end == text || !isfinite(v))
    return json_null();
  if (v == floor(v) && fabs(v) < 9007199254740992.0)
    return json_integer((json_int_t)v);
  return json_real(v);
}

/* A numeric literal as JSON, keeping the precision of its Turtle text (lilv's float accessor would round to
 * float). Integral values are written as integers. */
static json_t *num_json(const LilvNode *node)
{
  if (!node || !lilv_node_is_literal(node))
    return json_null();
  return plug_desc_number(lilv_node_as_string(node), lilv_node_is_int(node));
}

static json_t *take_num(LilvNode *node)
{
  json_t *j = num_json(node);
  lilv_node_free(node);
  return j;
}

/* lilv hands multiple values back in an order that varies from run to run; taking the least (URIs before blank
 * nodes before literals, then by text, as sord orders them) makes every choice repeatable. Takes `values`. */
static LilvNode *pick(LilvNodes *values)
{
  const LilvNode *best = NULL;
  LILV_FOREACH(nodes, i, values) {
    const LilvNode *v = lilv_nodes_get(values, i);
    int tv = lilv_node_is_uri(v) ? 0 : lilv_node_is_blank(v) ? 1 : 2;
    int tb = !best ? 3 : lilv_node_is_uri(best) ? 0 : lilv_node_is_blank(best) ? 1 : 2;
    if (tv < tb || (tv == tb && strcmp(lilv_node_as_string(v), lilv_node_as_string(best)) < 0))
      best = v;
  }
  LilvNode *r = best ? lilv_node_duplicate(best) : NULL;
  lilv_nodes_free(values);
  return r;
}

static LilvNode *port_get(const LilvPlugin *p, const LilvPort *port, const LilvNode *pred)
{
  return pick(lilv_port_get_value(p, port, pred));
}

static LilvNode *world_get(LilvWorld *w, const LilvNode *s, const LilvNode *pred)
{
  return pick(lilv_world_find_nodes(w, s, pred, NULL));
}

/* URIs in LV2's own namespaces are written by local name ("toggled"); others in full. */
const char *plug_desc_short_name(const char *uri)
{
  static const char *const ns[] = {LV2_NS, PPROPS_NS};
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
    if (!strncmp(uri, ns[i], strlen(ns[i])))
      return uri + strlen(ns[i]);
  return uri;
}

void plug_desc_set_if(json_t *obj, const char *key, json_t *val)
{
  if (val && !json_is_null(val))
    json_object_set_new(obj, key, val);
  else
    json_decref(val);
}

static json_t *node_list(LilvNodes *nodes)
{
  json_t *a = json_array();
  LILV_FOREACH(nodes, i, nodes)
    json_array_append_new(a, json_string(lilv_node_as_string(lilv_nodes_get(nodes, i))));
  lilv_nodes_free(nodes);
  return a;
}

/* Sorted, so descriptors do not depend on lilv's store order. Takes `arr`. */
json_t *plug_desc_sorted_strings(json_t *arr)
{
  return pipe_json_array_sort(arr, pipe_json_cmp_strings);
}

/* ---- ports ---- */

json_t *plug_desc_unit_memo(PlugNodes *n, const char *uri)
{
  for (size_t i = 0; i < n->n_units; i++)
    if (!strcmp(n->units[i].uri, uri))
      return json_incref(n->units[i].unit);
  return NULL;
}

void plug_desc_unit_remember(PlugNodes *n, const char *uri, json_t *unit)
{
  pipe_grow((void **)&n->units, &n->cap_units, n->n_units + 1, sizeof(UnitMemo));
  n->units[n->n_units++] = (UnitMemo){pipe_xstrdup(uri), json_incref(unit)};
}

static json_t *unit_json(LilvWorld *w, PlugNodes *n, const LilvNode *unit)
{
  bool is_uri = lilv_node_is_uri(unit);
  const char *key = lilv_node_as_string(unit);
  json_t *j = is_uri ? plug_desc_unit_memo(n, key) : NULL;
  if (j)
    return j;
  j = json_object();
  if (is_uri)
    json_object_set_new(j, "uri", json_string(key));
  plug_desc_set_if(j, "symbol", take_str(world_get(w, unit, n->unit_symbol)));
  plug_desc_set_if(j, "label", take_str(world_get(w, unit, n->rdfs_label)));
  if (is_uri)
    plug_desc_unit_remember(n, key, j);
  return j;
}

static json_t *group_json(LilvWorld *w, PlugNodes *n, const LilvNode *group)
{
  json_t *j = json_object();
  if (lilv_node_is_uri(group))
    json_object_set_new(j, "uri", json_string(lilv_node_as_string(group)));
  plug_desc_set_if(j, "symbol", take_str(world_get(w, group, n->lv2_symbol)));
  LilvNode *label = world_get(w, group, n->rdfs_label);
  plug_desc_set_if(j, "label", take_str(label ? label : world_get(w, group, n->lv2_name)));
  return j;
}

static int cmp_scale_point(const void *a, const void *b)
{
  json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  double dx = json_number_value(json_object_get(x, "value")), dy = json_number_value(json_object_get(y, "value"));
  if (dx != dy)
    return (dx > dy) - (dx < dy);
  return strcmp(json_string_value(json_object_get(x, "label")), json_string_value(json_object_get(y, "label")));
}

static int cmp_by_uri(const void *a, const void *b)
{
  return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "uri")),
                json_string_value(json_object_get(*(json_t *const *)b, "uri")));
}

json_t *plug_desc_sort_scale_points(json_t *arr)
{
  return pipe_json_array_sort(arr, cmp_scale_point);
}

json_t *plug_desc_sort_by_uri(json_t *arr)
{
  return pipe_json_array_sort(arr, cmp_by_uri);
}

static json_t *scale_points_json(const LilvPlugin *p, const LilvPort *port)
{
  LilvScalePoints *sps = lilv_port_get_scale_points(p, port);
  json_t *a = json_array();
  LILV_FOREACH(scale_points, i, sps) {
    const LilvScalePoint *sp = lilv_scale_points_get(sps, i);
    json_t *v = num_json(lilv_scale_point_get_value(sp));
    const LilvNode *label = lilv_scale_point_get_label(sp);
    if (json_is_null(v)) {
      json_decref(v);
      continue;
    }
    json_array_append_new(a, json_pack("{s:o, s:s}", "value", v, "label", label ? lilv_node_as_string(label) : ""));
  }
  lilv_scale_points_free(sps);
  return plug_desc_sort_scale_points(a);
}

static void add_control_fields(LilvWorld *w, PlugNodes *n, const LilvPlugin *p, const LilvPort *port, json_t *j)
{
  LilvNode *def = NULL, *min = NULL, *max = NULL;
  lilv_port_get_range(p, port, &def, &min, &max);
  json_object_set_new(j, "default", take_num(def));
  json_object_set_new(j, "minimum", take_num(min));
  json_object_set_new(j, "maximum", take_num(max));
  LilvNode *unit = port_get(p, port, n->unit);
  json_object_set_new(j, "unit", unit ? unit_json(w, n, unit) : json_null());
  lilv_node_free(unit);
  json_t *props = json_array();
  LilvNodes *pn = lilv_port_get_properties(p, port);
  LILV_FOREACH(nodes, i, pn)
    json_array_append_new(props, json_string(plug_desc_short_name(lilv_node_as_string(lilv_nodes_get(pn, i)))));
  lilv_nodes_free(pn);
  json_object_set_new(j, "properties", plug_desc_sorted_strings(props));
  json_object_set_new(j, "scale_points", scale_points_json(p, port));
  plug_desc_set_if(j, "range_steps", take_num(port_get(p, port, n->range_steps)));
  plug_desc_set_if(j, "display_priority", take_num(port_get(p, port, n->display_priority)));
}

static void add_atom_fields(PlugNodes *n, const LilvPlugin *p, const LilvPort *port, json_t *j)
{
  plug_desc_set_if(j, "buffer_type", take_str(port_get(p, port, n->buffer_type)));
  json_object_set_new(j, "supports", plug_desc_sorted_strings(node_list(lilv_port_get_value(p, port, n->supports))));
  plug_desc_set_if(j, "minimum_size", take_num(port_get(p, port, n->min_size)));
}

static const char *port_kind(PlugNodes *n, const LilvPlugin *p, const LilvPort *port)
{
  if (lilv_port_is_a(p, port, n->control))
    return "control";
  if (lilv_port_is_a(p, port, n->audio))
    return "audio";
  if (lilv_port_is_a(p, port, n->atom))
    return "atom";
  if (lilv_port_is_a(p, port, n->cv))
    return "cv";
  if (lilv_port_is_a(p, port, n->event))
    return "event";
  return "unknown";
}

void plug_desc_count_port(PlugPortCounts *c, const char *kind, bool in)
{
  json_int_t *slot = !strcmp(kind, "control") ? (in ? &c->control_in : &c->control_out)
                     : !strcmp(kind, "audio") ? (in ? &c->audio_in : &c->audio_out)
                     : !strcmp(kind, "atom")  ? (in ? &c->atom_in : &c->atom_out)
                     : !strcmp(kind, "cv")    ? (in ? &c->cv_in : &c->cv_out)
                                              : &c->other;
  (*slot)++;
}

json_t *plug_desc_counts_json(const PlugPortCounts *c, json_int_t ardour_params)
{
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "audio_in", c->audio_in, "audio_out",
                   c->audio_out, "control_in", c->control_in, "control_out", c->control_out, "atom_in", c->atom_in,
                   "atom_out", c->atom_out, "cv_in", c->cv_in, "cv_out", c->cv_out, "other", c->other, "ardour_params",
                   ardour_params);
}

/* Ardour numbers plugin parameters by position among all control ports, inputs and outputs alike, in port-index
 * order (LV2Plugin::nth_parameter); /route/plugin/parameter takes that number, 1-based. Only inputs can be driven. */
static json_t *port_json(LilvWorld *w, PlugNodes *n, const LilvPlugin *p, uint32_t index, json_int_t *ardour_param,
                         PlugPortCounts *counts)
{
  const LilvPort *port = lilv_plugin_get_port_by_index(p, index);
  const char *kind = port_kind(n, p, port);
  bool in = lilv_port_is_a(p, port, n->input);
  json_t *j = json_pack("{s:I, s:s, s:o, s:s, s:s}", "index", (json_int_t)index, "symbol",
                        lilv_node_as_string(lilv_port_get_symbol(p, port)), "name",
                        take_str(lilv_port_get_name(p, port)), "kind", kind, "direction", in ? "input" : "output");
  plug_desc_count_port(counts, kind, in);
  LilvNode *desig = port_get(p, port, n->designation);
  plug_desc_set_if(j, "designation", desig ? json_string(plug_desc_short_name(lilv_node_as_string(desig))) : NULL);
  lilv_node_free(desig);
  LilvNode *group = port_get(p, port, n->group);
  if (group)
    json_object_set_new(j, "group", group_json(w, n, group));
  lilv_node_free(group);
  if (!strcmp(kind, "control")) {
    json_object_set_new(j, "ardour_param", json_integer(++*ardour_param));
    json_object_set_new(j, "bindable", json_boolean(in));
    add_control_fields(w, n, p, port, j);
  } else if (!strcmp(kind, "atom")) {
    add_atom_fields(n, p, port, j);
  }
  return j;
}

/* ---- plugin ---- */

/* LV2 parameters (patch:writable / patch:readable): set through atom messages, which Ardour's Generic MIDI cannot
 * address, so they are listed for completeness and never bindable. */
static json_t *parameters_json(LilvWorld *w, PlugNodes *n, const LilvPlugin *p)
{
  json_t *a = json_array();
  const LilvNode *uri = lilv_plugin_get_uri(p);
  LilvNodes *wr = lilv_world_find_nodes(w, uri, n->writable, NULL);
  LilvNodes *rd = lilv_world_find_nodes(w, uri, n->readable, NULL);
  LilvNodes *sets[2] = {wr, rd};
  for (int s = 0; s < 2; s++) {
    LILV_FOREACH(nodes, i, sets[s]) {
      const LilvNode *param = lilv_nodes_get(sets[s], i);
      bool writable = lilv_nodes_contains(wr, param);
      if (s == 1 && writable)
        continue; /* already listed as writable */
      json_t *j = json_pack(
          "{s:s, s:o, s:o, s:s, s:b}", "uri", lilv_node_as_string(param), "label",
          take_str(world_get(w, param, n->rdfs_label)), "range", take_str(world_get(w, param, n->range)), "access",
          writable ? (lilv_nodes_contains(rd, param) ? "read-write" : "write") : "read", "bindable", 0);
      plug_desc_set_if(j, "default", take_num(world_get(w, param, n->lv2_default)));
      plug_desc_set_if(j, "minimum", take_num(world_get(w, param, n->lv2_minimum)));
      plug_desc_set_if(j, "maximum", take_num(world_get(w, param, n->lv2_maximum)));
      json_array_append_new(a, j);
    }
  }
  lilv_nodes_free(wr);
  lilv_nodes_free(rd);
  return plug_desc_sort_by_uri(a);
}

static json_t *file_path_json(const LilvNode *uri)
{
  char *path = uri ? lilv_file_uri_parse(lilv_node_as_uri(uri), NULL) : NULL;
  json_t *j = path ? json_string(path) : json_null();
  lilv_free(path);
  return j;
}

/* lilv_plugin_get_author: the plugin's doap:maintainer, else its project's, with repeatable choices. */
static json_t *author_json(LilvWorld *w, PlugNodes *n, const LilvPlugin *p)
{
  json_t *j = json_object();
  LilvNode *author = world_get(w, lilv_plugin_get_uri(p), n->maintainer);
  if (!author) {
    LilvNode *proj = lilv_plugin_get_project(p);
    author = proj ? world_get(w, proj, n->maintainer) : NULL;
    lilv_node_free(proj);
  }
  if (author) {
    plug_desc_set_if(j, "name", take_str(world_get(w, author, n->foaf_name)));
    plug_desc_set_if(j, "email", take_str(world_get(w, author, n->foaf_mbox)));
    plug_desc_set_if(j, "homepage", take_str(world_get(w, author, n->foaf_homepage)));
  }
  lilv_node_free(author);
  return j;
}

static json_t *project_json(LilvWorld *w, PlugNodes *n, const LilvPlugin *p)
{
  LilvNode *proj = lilv_plugin_get_project(p);
  if (!proj)
    return json_null();
  json_t *j = json_object();
  if (lilv_node_is_uri(proj))
    json_object_set_new(j, "uri", json_string(lilv_node_as_string(proj)));
  plug_desc_set_if(j, "name", take_str(world_get(w, proj, n->doap_name)));
  lilv_node_free(proj);
  return j;
}

json_t *plug_desc_class(const char *uri, const char *label)
{
  if (!label || !*label) { /* no ontology on the path to name it: its local name is the best label there is */
    const char *hash = strrchr(uri, '#'), *slash = strrchr(uri, '/');
    label = hash ? hash + 1 : slash ? slash + 1 : uri;
  }
  return json_pack("{s:s, s:s}", "uri", uri, "label", label);
}

/* lilv's class, or, when lilv knows the plugin only as lv2:Plugin because the class ontology is not on the LV2
 * path, the plugin's own rdf:type (the least other URI). */
static json_t *class_json(LilvWorld *w, PlugNodes *n, const LilvPlugin *p, const LilvPluginClass *cls)
{
  const char *cls_uri = lilv_node_as_uri(lilv_plugin_class_get_uri(cls));
  const LilvNode *cls_label = lilv_plugin_class_get_label(cls);
  if (strcmp(cls_uri, LV2_NS "Plugin"))
    return plug_desc_class(cls_uri, cls_label ? lilv_node_as_string(cls_label) : NULL);
  LilvNodes *types = lilv_world_find_nodes(w, lilv_plugin_get_uri(p), n->rdf_type, NULL);
  const LilvNode *best = NULL;
  LILV_FOREACH(nodes, i, types) {
    const LilvNode *t = lilv_nodes_get(types, i);
    if (lilv_node_is_uri(t) && strcmp(lilv_node_as_uri(t), LV2_NS "Plugin") &&
        (!best || strcmp(lilv_node_as_uri(t), lilv_node_as_uri(best)) < 0))
      best = t;
  }
  LilvNode *label = best ? world_get(w, best, n->rdfs_label) : NULL;
  json_t *j = best ? plug_desc_class(lilv_node_as_uri(best), label ? lilv_node_as_string(label) : NULL)
                   : plug_desc_class(cls_uri, cls_label ? lilv_node_as_string(cls_label) : NULL);
  lilv_node_free(label);
  lilv_nodes_free(types);
  return j;
}

json_t *plug_describe(LilvWorld *w, PlugNodes *n, const LilvPlugin *p)
{
  const LilvNode *uri = lilv_plugin_get_uri(p);
  const LilvPluginClass *cls = lilv_plugin_get_class(p);
  json_t *d = json_pack("{s:i, s:s, s:o}", "format", PLUG_DESC_FORMAT, "uri", lilv_node_as_uri(uri), "name",
                        take_str(lilv_plugin_get_name(p)));
  json_object_set_new(d, "class", class_json(w, n, p, cls));
  json_object_set_new(d, "author", author_json(w, n, p));
  json_object_set_new(d, "project", project_json(w, n, p));
  json_object_set_new(d, "version",
                      json_pack("{s:o, s:o}", "minor", take_num(world_get(w, uri, n->minor)), "micro",
                                take_num(world_get(w, uri, n->micro))));
  json_object_set_new(d, "bundle", file_path_json(lilv_plugin_get_bundle_uri(p)));
  json_object_set_new(d, "binary", file_path_json(lilv_plugin_get_library_uri(p)));
  json_object_set_new(d, "required_features",
                      plug_desc_sorted_strings(node_list(lilv_plugin_get_required_features(p))));
  json_object_set_new(d, "optional_features",
                      plug_desc_sorted_strings(node_list(lilv_plugin_get_optional_features(p))));
  json_object_set_new(d, "extension_data", plug_desc_sorted_strings(node_list(lilv_plugin_get_extension_data(p))));
  json_t *ports = json_array();
  json_int_t ardour_param = 0;
  PlugPortCounts c = {0};
  uint32_t n_ports = lilv_plugin_get_num_ports(p);
  for (uint32_t i = 0; i < n_ports; i++)
    json_array_append_new(ports, port_json(w, n, p, i, &ardour_param, &c));
  json_object_set_new(d, "ports", ports);
  json_object_set_new(d, "parameters", parameters_json(w, n, p));
  json_object_set_new(d, "counts", plug_desc_counts_json(&c, ardour_param));
  return d;
}
