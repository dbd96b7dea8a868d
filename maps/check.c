/* check.c: maps:check. Each binding is resolved against the plugin's descriptor from the cache: the parameter
 * must exist and be a control input, and the control should suit it. The result, with each parameter's Ardour
 * number, is what phase 3 writes Ardour maps from. */
#include "maps_internal.h"

#include "../pipeline/xalloc.h"
#include "../plugins/plug.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct MapChecker {
  const CacheStore *store;
  json_t *index;
  json_t *descriptors; /* uri -> descriptor, loaded once per run */
};

MapChecker *map_checker_new(const CacheStore *store, json_t *index)
{
  MapChecker *ck = pipe_xcalloc(1, sizeof(MapChecker));
  ck->store = store;
  ck->index = index;
  ck->descriptors = json_object();
  return ck;
}

void map_checker_free(MapChecker *ck)
{
  if (!ck)
    return;
  json_decref(ck->descriptors);
  free(ck);
}

#define DIAG_AT(diags, sev, code, m, mark, ...)                                                                        \
  pipe_diag_add(diags, sev, code, (m)->path, (mark).line, (mark).column, __VA_ARGS__)

/* ---- finding the plugin ---- */

static const char *find_by_name(MapChecker *ck, const CanonMap *m, PipeDiagList *diags)
{
  const char *found = NULL, *uri;
  json_t *e, *all = json_array();
  json_object_foreach(plug_index_entries(ck->index), uri, e) {
    const char *name = json_string_value(json_object_get(e, "name"));
    if (name && !strcasecmp(name, m->plugin.name)) {
      found = uri;
      json_array_append_new(all, json_string(uri));
    }
  }
  if (json_array_size(all) > 1) {
    char *list = json_dumps(all, JSON_COMPACT);
    DIAG_AT(diags, PIPE_SEV_ERROR, "plugin-ambiguous", m, m->plugin.mark,
            "%zu installed plugins are named '%s': %s; add plugin.uri to choose one", json_array_size(all),
            m->plugin.name, list);
    free(list);
    found = NULL;
  } else if (found) {
    DIAG_AT(diags, PIPE_SEV_NOTE, "plugin-by-name", m, m->plugin.mark,
            "plugin found by name; add `uri: \"%s\"` so that the map survives a rename", found);
  }
  json_decref(all);
  return found;
}

static json_t *plugin_descriptor(MapChecker *ck, const CanonMap *m, PipeDiagList *diags)
{
  const char *uri = m->plugin.uri;
  if (uri && !json_object_get(plug_index_entries(ck->index), uri)) {
    DIAG_AT(diags, PIPE_SEV_ERROR, "plugin-not-installed", m, m->plugin.uri_mark,
            "no installed LV2 plugin has the URI <%s> (see `ctrlmap plugins:list`)", uri);
    return NULL;
  }
  size_t before = pipe_diags_count(diags);
  if (!uri && m->plugin.name)
    uri = find_by_name(ck, m, diags);
  if (!uri) {
    if (m->plugin.name && !m->plugin.uri && pipe_diags_count(diags) == before) /* else plugin-ambiguous said why */
      DIAG_AT(diags, PIPE_SEV_ERROR, "plugin-not-installed", m, m->plugin.mark,
              "no installed LV2 plugin is named '%s'; expected plugin.uri or the name of an installed LV2 plugin "
              "(VST and AU plugins cannot be bound by Ardour's Generic MIDI parameter URIs here)",
              m->plugin.name);
    return NULL;
  }
  json_t *desc = json_object_get(ck->descriptors, uri);
  if (desc)
    return desc;
  if (plug_desc_load(ck->store, ck->index, uri, &desc, diags) != PIPE_OK) {
    DIAG_AT(diags, PIPE_SEV_ERROR, "plugin-descriptor", m, m->plugin.mark,
            "the descriptor of <%s> is not usable (its extraction failed, or the cache is damaged); run "
            "`ctrlmap plugins:extract`",
            uri);
    return NULL;
  }
  json_object_set_new(ck->descriptors, uri, desc);
  return desc;
}

/* ---- finding the parameter ---- */

static bool str_is(json_t *j, const char *s)
{
  const char *v = json_string_value(j);
  return v && s && !strcmp(v, s);
}

/* The port a plugin_parameter names: an index, else a symbol, else a (unique, case-insensitive) name. */
static json_t *find_port(json_t *desc, const MapControl *c, const CanonMap *m, PipeDiagList *diags)
{
  json_t *ports = json_object_get(desc, "ports"), *p, *by_name = NULL;
  size_t i, names = 0;
  json_array_foreach(ports, i, p) {
    if (c->param_kind == MAP_PARAM_INDEX && json_integer_value(json_object_get(p, "index")) == c->param_index)
      return p;
    if (c->param_kind == MAP_PARAM_TEXT && str_is(json_object_get(p, "symbol"), c->param_text))
      return p;
    const char *name = json_string_value(json_object_get(p, "name"));
    if (c->param_kind == MAP_PARAM_TEXT && name && !strcasecmp(name, c->param_text)) {
      by_name = p;
      names++;
    }
  }
  if (names == 1)
    return by_name;
  if (names > 1) {
    DIAG_AT(diags, PIPE_SEV_ERROR, "param-ambiguous", m, c->param_mark,
            "%zu ports are named '%s'; name the port by its symbol", names, c->param_text);
    return NULL;
  }
  const char **symbols = pipe_xcalloc(json_array_size(ports) + 1, sizeof(char *));
  size_t n = 0;
  /* Only ports with a symbol: a damaged or hand-made descriptor may lack one, and a NULL candidate would crash the
   * did-you-mean (fuzz/regress/fuzz_descriptor/control-input-without-symbol.json). */
  json_array_foreach(ports, i, p)
    if (str_is(json_object_get(p, "kind"), "control") && str_is(json_object_get(p, "direction"), "input") &&
        json_is_string(json_object_get(p, "symbol")))
      symbols[n++] = json_string_value(json_object_get(p, "symbol"));
  const char *dym = c->param_kind == MAP_PARAM_TEXT ? map_did_you_mean(c->param_text, symbols, n) : NULL;
  if (c->param_kind == MAP_PARAM_INDEX)
    DIAG_AT(diags, PIPE_SEV_ERROR, "param-not-found", m, c->param_mark,
            "the plugin has no port %ld (it has %zu ports, numbered from 0)", c->param_index, json_array_size(ports));
  else
    DIAG_AT(diags, PIPE_SEV_ERROR, "param-not-found", m, c->param_mark,
            "the plugin has no port with symbol or name '%s'%s%s%s", c->param_text, dym ? "; did you mean '" : "",
            dym ? dym : "", dym ? "'?" : "");
  free(symbols);
  return NULL;
}

static bool has_property(json_t *port, const char *prop)
{
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(port, "properties"), i, v)
    if (str_is(v, prop))
      return true;
  return false;
}

/* A parameter a button can switch: toggled, an enumeration, a trigger, or an integer with two values. */
static bool is_switch(json_t *port)
{
  double min = json_number_value(json_object_get(port, "minimum"));
  double max = json_number_value(json_object_get(port, "maximum"));
  return has_property(port, "toggled") || has_property(port, "enumeration") || has_property(port, "trigger") ||
         (has_property(port, "integer") && max - min <= 1);
}

/* Control-to-parameter fit: findings are warnings, the binding still works in Ardour. */
static void check_fit(const CanonMap *m, const MapControl *c, json_t *port, PipeDiagList *diags)
{
  const char *sym = json_string_value(json_object_get(port, "symbol"));
  if (c->type == MAP_CTL_BUTTON && !is_switch(port))
    DIAG_AT(diags, PIPE_SEV_WARNING, "fit-button-continuous", m, c->param_mark,
            "button '%s' drives '%s', a continuous parameter; a button suits a toggle or an enumeration", c->id, sym);
  if ((c->type == MAP_CTL_ENCODER || c->type == MAP_CTL_SLIDER) && has_property(port, "toggled"))
    DIAG_AT(diags, PIPE_SEV_WARNING, "fit-continuous-toggle", m, c->param_mark,
            "%s '%s' drives '%s', an on/off parameter; a button suits it better", map_control_type_name(c->type), c->id,
            sym);
  if (c->mode == MAP_MODE_MOMENTARY && !has_property(port, "trigger") && !has_property(port, "toggled"))
    DIAG_AT(diags, PIPE_SEV_WARNING, "fit-momentary", m, c->mode_mark,
            "momentary button '%s' drives '%s', which is neither a trigger nor a toggle", c->id, sym);
  json_t *jmin = json_object_get(port, "minimum"), *jmax = json_object_get(port, "maximum");
  if (c->has_param_range && json_is_number(jmin) && json_is_number(jmax) &&
      (c->param_range[0] < json_number_value(jmin) || c->param_range[1] > json_number_value(jmax)))
    DIAG_AT(diags, PIPE_SEV_WARNING, "fit-range", m, c->param_range_mark,
            "parameter_range [%g, %g] goes beyond '%s''s range [%g, %g]", c->param_range[0], c->param_range[1], sym,
            json_number_value(jmin), json_number_value(jmax));
}

/* ---- resolving ---- */

static json_t *port_summary(json_t *port)
{
  json_t *j = json_pack("{s:O, s:O, s:O, s:O}", "index", json_object_get(port, "index"), "symbol",
                        json_object_get(port, "symbol"), "name", json_object_get(port, "name"), "ardour_param",
                        json_object_get(port, "ardour_param"));
  const char *keys[] = {"minimum", "maximum", "default"};
  for (size_t i = 0; i < 3; i++)
    json_object_set(j, keys[i], json_object_get(port, keys[i]) ? json_object_get(port, keys[i]) : json_null());
  json_object_set_new(j, "toggled", json_boolean(has_property(port, "toggled")));
  json_object_set_new(j, "logarithmic", json_boolean(has_property(port, "logarithmic")));
  return j;
}

static json_t *binding_base(const MapSet *set, size_t i, const MapControl *c, int channel)
{
  MapMessage msg;
  int number = map_set_number(set, i, c, &msg);
  json_t *b = json_pack("{s:s, s:s*, s:s, s:s, s:i, s:i}", "control", c->id, "name", c->name, "type",
                        map_control_type_name(c->type), "message", map_message_name(msg), "number", number, "channel",
                        c->channel > 0 ? c->channel : channel);
  if (c->type == MAP_CTL_ENCODER || c->encoding != MAP_ENC_DEFAULT)
    json_object_set_new(b, "encoding", json_string(map_encoding_name(c->encoding)));
  if (map_mode_name(c->mode))
    json_object_set_new(b, "mode", json_string(map_mode_name(c->mode)));
  return b;
}

typedef struct {
  MapChecker *ck;
  const MapSet *set;
  size_t i;
  json_t *desc, *bindings, *bound; /* bound: symbol -> control id */
  PipeDiagList *diags;
} Resolve;

static void resolve_control(Resolve *r, const MapControl *c)
{
  const CanonMap *m = map_set_map(r->set, r->i);
  if (!c->id || c->type == MAP_CTL_BUTTON_GROUP || (!c->function && c->param_kind == MAP_PARAM_NONE))
    return;
  json_t *b = binding_base(r->set, r->i, c, map_set_channel(r->set, r->i));
  if (c->function) {
    json_object_set_new(b, "function", json_string(c->function));
    if (c->argument)
      json_object_set_new(b, "argument", json_string(c->argument));
    json_array_append_new(r->bindings, b);
    return;
  }
  json_t *port = find_port(r->desc, c, m, r->diags);
  const char *sym = port ? json_string_value(json_object_get(port, "symbol")) : NULL;
  if (port && (!sym || !json_is_string(json_object_get(port, "kind")))) {
    /* Only a descriptor damaged behind the checksum's back (or hand-made) lacks these; every message needs them. */
    DIAG_AT(r->diags, PIPE_SEV_ERROR, "plugin-descriptor", m, c->param_mark,
            "the descriptor's port for this parameter has no symbol or kind; run `ctrlmap plugins:extract --force`");
    port = NULL;
  } else if (port && !str_is(json_object_get(port, "kind"), "control")) {
    DIAG_AT(r->diags, PIPE_SEV_ERROR, "param-not-control", m, c->param_mark,
            "port '%s' is an %s port; only control ports are plugin parameters", sym,
            json_string_value(json_object_get(port, "kind")));
    port = NULL;
  } else if (port && !json_is_true(json_object_get(port, "bindable"))) {
    DIAG_AT(r->diags, PIPE_SEV_ERROR, "param-output", m, c->param_mark,
            "port '%s' is an output (a meter or a report): nothing can drive it", sym);
    port = NULL;
  }
  if (!port) {
    json_decref(b);
    return;
  }
  const char *twice = json_string_value(json_object_get(r->bound, sym));
  if (twice)
    DIAG_AT(r->diags, PIPE_SEV_WARNING, "param-bound-twice", m, c->param_mark,
            "parameter '%s' is already driven by control '%s'", sym, twice);
  else
    json_object_set_new(r->bound, sym, json_string(c->id));
  check_fit(m, c, port, r->diags);
  json_object_set_new(b, "parameter", port_summary(port));
  json_array_append_new(r->bindings, b);
}

static size_t count_bindable(json_t *desc)
{
  size_t i, n = 0;
  json_t *p;
  json_array_foreach(json_object_get(desc, "ports"), i, p)
    n += json_is_true(json_object_get(p, "bindable"));
  return n;
}

json_t *map_check(MapChecker *ck, const MapSet *set, size_t i, PipeDiagList *diags)
{
  const CanonMap *m = map_set_map(set, i);
  json_t *desc = plugin_descriptor(ck, m, diags);
  if (!desc)
    return NULL;
  Resolve r = {ck, set, i, desc, json_array(), json_object(), diags};
  for (size_t k = 0; k < m->n_controls; k++) {
    resolve_control(&r, &m->controls[k]);
    for (size_t j = 0; j < m->controls[k].n_buttons; j++)
      resolve_control(&r, &m->controls[k].buttons[j]);
  }
  char hex[17];
  cache_hash_hex(m->content_hash, hex);
  json_t *out = json_pack("{s:s, s:s, s:s*, s:{s:s*, s:s*, s:s*}, s:{s:O, s:O}, s:i, s:{s:s, s:i}}", "map", m->path,
                          "map_hash", hex, "name", m->metadata.name, "device", "manufacturer", m->device.manufacturer,
                          "model", m->device.model, "profile", m->device.profile, "plugin", "uri",
                          json_object_get(desc, "uri"), "name", json_object_get(desc, "name"), "channel",
                          map_set_channel(set, i), "ardour", "route", m->ardour.route ? m->ardour.route : "S1",
                          "plugin_position", m->ardour.plugin_position > 0 ? m->ardour.plugin_position : 1);
  json_object_set(
      out, "descriptor_hash",
      json_object_get(json_object_get(plug_index_entries(ck->index), json_string_value(json_object_get(desc, "uri"))),
                      "hash"));
  json_object_set_new(out, "coverage",
                      json_pack("{s:I, s:I}", "bound", (json_int_t)json_object_size(r.bound), "bindable",
                                (json_int_t)count_bindable(desc)));
  json_object_set_new(out, "bindings", r.bindings);
  json_decref(r.bound);
  return out;
}
