/*
 * naive_extract: the honest naive baseline for `scripts/bench`.
 *
 * One process, one lilv world, lilv_world_load_all(), then every plugin in
 * turn and every port in turn, querying what a ctrlmap plugin descriptor holds
 * the straightforward way, building the same kind of JSON with jansson and
 * serialising it to a string per plugin.  Nothing is written to disk; the
 * total length and a checksum of the serialised JSON are kept so the work
 * cannot be optimised away.
 *
 * Usage: naive_extract [LV2_PATH]
 *   LV2_PATH in the environment is honoured by lilv; argv[1], if given,
 *   overrides it via LILV_OPTION_LV2_PATH.
 *
 * Prints one line to stdout:
 *   naive_extract: <plugins> plugins, <ports> ports, <control> control ports, <bytes> bytes of JSON
 */
#include <jansson.h>
#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/port-groups/port-groups.h>
#include <lv2/port-props/port-props.h>
#include <lv2/units/units.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOAP_NAME "http://usefulinc.com/ns/doap#name"
#define RDFS_LABEL "http://www.w3.org/2000/01/rdf-schema#label"

/* Port properties reported in the descriptor, in output order. */
static const struct {
  const char *key;
  const char *uri;
} k_props[] = {
    {"toggled", LV2_CORE__toggled},
    {"integer", LV2_CORE__integer},
    {"enumeration", LV2_CORE__enumeration},
    {"sampleRate", LV2_CORE__sampleRate},
    {"reportsLatency", LV2_CORE__reportsLatency},
    {"connectionOptional", LV2_CORE__connectionOptional},
    {"logarithmic", LV2_PORT_PROPS__logarithmic},
    {"trigger", LV2_PORT_PROPS__trigger},
    {"notOnGUI", LV2_PORT_PROPS__notOnGUI},
    {"expensive", LV2_PORT_PROPS__expensive},
    {"causesArtifacts", LV2_PORT_PROPS__causesArtifacts},
    {"notAutomatic", LV2_PORT_PROPS__notAutomatic},
    {"hasStrictBounds", LV2_PORT_PROPS__hasStrictBounds},
};
#define N_PROPS (sizeof k_props / sizeof k_props[0])

typedef struct {
  LilvNode *input, *output, *audio, *control, *atom, *cv;
  LilvNode *unit, *unit_symbol, *rdfs_label, *doap_name;
  LilvNode *group, *designation;
  LilvNode *props[N_PROPS];
} Uris;

typedef struct {
  unsigned long plugins, ports, control_ports;
  unsigned long long bytes;
  uint64_t checksum;
} Totals;

/* Keeps the checksum observable so the serialisation cannot be dropped. */
static volatile uint64_t g_checksum_sink;

static LilvNode *must_uri(LilvWorld *world, const char *uri) {
  LilvNode *n = lilv_new_uri(world, uri);
  if (!n) {
    fprintf(stderr, "naive_extract: cannot create URI node %s\n", uri);
    exit(1);
  }
  return n;
}

static void uris_init(Uris *u, LilvWorld *world) {
  u->input = must_uri(world, LV2_CORE__InputPort);
  u->output = must_uri(world, LV2_CORE__OutputPort);
  u->audio = must_uri(world, LV2_CORE__AudioPort);
  u->control = must_uri(world, LV2_CORE__ControlPort);
  u->atom = must_uri(world, LV2_ATOM__AtomPort);
  u->cv = must_uri(world, LV2_CORE__CVPort);
  u->unit = must_uri(world, LV2_UNITS__unit);
  u->unit_symbol = must_uri(world, LV2_UNITS__symbol);
  u->rdfs_label = must_uri(world, RDFS_LABEL);
  u->doap_name = must_uri(world, DOAP_NAME);
  u->group = must_uri(world, LV2_PORT_GROUPS__group);
  u->designation = must_uri(world, LV2_CORE__designation);
  for (size_t i = 0; i < N_PROPS; ++i) {
    u->props[i] = must_uri(world, k_props[i].uri);
  }
}

static void uris_free(Uris *u) {
  lilv_node_free(u->input);
  lilv_node_free(u->output);
  lilv_node_free(u->audio);
  lilv_node_free(u->control);
  lilv_node_free(u->atom);
  lilv_node_free(u->cv);
  lilv_node_free(u->unit);
  lilv_node_free(u->unit_symbol);
  lilv_node_free(u->rdfs_label);
  lilv_node_free(u->doap_name);
  lilv_node_free(u->group);
  lilv_node_free(u->designation);
  for (size_t i = 0; i < N_PROPS; ++i) {
    lilv_node_free(u->props[i]);
  }
}

/* ---- small jansson helpers: NULL / invalid inputs become JSON null ---- */

static json_t *jstr(const char *s) {
  json_t *j = s ? json_string(s) : NULL; /* json_string rejects bad UTF-8 */
  return j ? j : json_null();
}

/* String form of a node: URI, literal or blank-node id. */
static json_t *jnode(const LilvNode *n) {
  if (!n) {
    return json_null();
  }
  if (lilv_node_is_uri(n)) {
    return jstr(lilv_node_as_uri(n));
  }
  if (lilv_node_is_blank(n)) {
    return jstr(lilv_node_as_blank(n));
  }
  return jstr(lilv_node_as_string(n));
}

static json_t *jnum(const LilvNode *n) {
  if (!n) {
    return json_null();
  }
  if (lilv_node_is_int(n)) {
    return json_integer(lilv_node_as_int(n));
  }
  if (lilv_node_is_float(n)) {
    double d = (double)lilv_node_as_float(n);
    return isfinite(d) ? json_real(d) : json_null();
  }
  return json_null();
}

/* Takes ownership of `n`. */
static json_t *jnode_take(LilvNode *n) {
  json_t *j = jnode(n);
  lilv_node_free(n);
  return j;
}

static json_t *jnodes_take(LilvNodes *nodes) {
  json_t *arr = json_array();
  LILV_FOREACH(nodes, it, nodes) {
    json_array_append_new(arr, jnode(lilv_nodes_get(nodes, it)));
  }
  lilv_nodes_free(nodes);
  return arr;
}

/* ---- descriptor ---- */

static json_t *port_json(LilvWorld *world, const LilvPlugin *plugin,
                         const LilvPort *port, const Uris *u, Totals *tot) {
  json_t *jp = json_object();

  json_object_set_new(jp, "index",
                      json_integer(lilv_port_get_index(plugin, port)));
  json_object_set_new(jp, "symbol", jnode(lilv_port_get_symbol(plugin, port)));
  json_object_set_new(jp, "name", jnode_take(lilv_port_get_name(plugin, port)));

  const char *type = "other";
  int is_control = 0;
  if (lilv_port_is_a(plugin, port, u->audio)) {
    type = "audio";
  } else if (lilv_port_is_a(plugin, port, u->control)) {
    type = "control";
    is_control = 1;
  } else if (lilv_port_is_a(plugin, port, u->atom)) {
    type = "atom";
  } else if (lilv_port_is_a(plugin, port, u->cv)) {
    type = "cv";
  }
  const char *direction = "none";
  if (lilv_port_is_a(plugin, port, u->input)) {
    direction = "input";
  } else if (lilv_port_is_a(plugin, port, u->output)) {
    direction = "output";
  }
  json_object_set_new(jp, "type", json_string(type));
  json_object_set_new(jp, "direction", json_string(direction));

  if (is_control) {
    tot->control_ports++;

    LilvNode *def = NULL, *min = NULL, *max = NULL;
    lilv_port_get_range(plugin, port, &def, &min, &max);
    json_t *range = json_object();
    json_object_set_new(range, "min", jnum(min));
    json_object_set_new(range, "max", jnum(max));
    json_object_set_new(range, "default", jnum(def));
    json_object_set_new(jp, "range", range);
    lilv_node_free(def);
    lilv_node_free(min);
    lilv_node_free(max);

    /* Unit: a units: URI, or a custom (often blank) unit with a symbol. */
    LilvNodes *units = lilv_port_get_value(plugin, port, u->unit);
    const LilvNode *unit = units ? lilv_nodes_get_first(units) : NULL;
    if (unit) {
      json_t *ju = json_object();
      json_object_set_new(ju, "uri", jnode(unit));
      if (lilv_node_is_uri(unit) || lilv_node_is_blank(unit)) {
        json_object_set_new(
            ju, "symbol",
            jnode_take(lilv_world_get(world, unit, u->unit_symbol, NULL)));
        json_object_set_new(
            ju, "label",
            jnode_take(lilv_world_get(world, unit, u->rdfs_label, NULL)));
      }
      json_object_set_new(jp, "unit", ju);
    } else {
      json_object_set_new(jp, "unit", json_null());
    }
    lilv_nodes_free(units);

    json_t *props = json_object();
    for (size_t i = 0; i < N_PROPS; ++i) {
      json_object_set_new(
          props, k_props[i].key,
          json_boolean(lilv_port_has_property(plugin, port, u->props[i])));
    }
    json_object_set_new(jp, "properties", props);

    json_t *jsp = json_array();
    LilvScalePoints *sps = lilv_port_get_scale_points(plugin, port);
    if (sps) {
      LILV_FOREACH(scale_points, it, sps) {
        const LilvScalePoint *sp = lilv_scale_points_get(sps, it);
        json_t *e = json_object();
        json_object_set_new(e, "label", jnode(lilv_scale_point_get_label(sp)));
        json_object_set_new(e, "value", jnum(lilv_scale_point_get_value(sp)));
        json_array_append_new(jsp, e);
      }
      lilv_scale_points_free(sps);
    }
    json_object_set_new(jp, "scale_points", jsp);
  }

  json_object_set_new(jp, "group",
                      jnode_take(lilv_port_get(plugin, port, u->group)));
  json_object_set_new(jp, "designation",
                      jnode_take(lilv_port_get(plugin, port, u->designation)));
  return jp;
}

static json_t *plugin_json(LilvWorld *world, const LilvPlugin *plugin,
                           const Uris *u, Totals *tot) {
  json_t *jd = json_object();

  json_object_set_new(jd, "uri", jnode(lilv_plugin_get_uri(plugin)));
  json_object_set_new(jd, "name", jnode_take(lilv_plugin_get_name(plugin)));

  const LilvPluginClass *cls = lilv_plugin_get_class(plugin);
  json_object_set_new(jd, "class",
                      cls ? jnode(lilv_plugin_class_get_label(cls))
                          : json_null());

  json_t *author = json_object();
  json_object_set_new(author, "name",
                      jnode_take(lilv_plugin_get_author_name(plugin)));
  json_object_set_new(author, "email",
                      jnode_take(lilv_plugin_get_author_email(plugin)));
  json_object_set_new(author, "homepage",
                      jnode_take(lilv_plugin_get_author_homepage(plugin)));
  json_object_set_new(jd, "author", author);

  LilvNode *project = lilv_plugin_get_project(plugin);
  if (project) {
    json_t *jproj = json_object();
    json_object_set_new(jproj, "uri", jnode(project));
    json_object_set_new(
        jproj, "name",
        jnode_take(lilv_world_get(world, project, u->doap_name, NULL)));
    json_object_set_new(jd, "project", jproj);
    lilv_node_free(project);
  } else {
    json_object_set_new(jd, "project", json_null());
  }

  json_object_set_new(jd, "bundle", jnode(lilv_plugin_get_bundle_uri(plugin)));
  json_object_set_new(jd, "required_features",
                      jnodes_take(lilv_plugin_get_required_features(plugin)));
  json_object_set_new(jd, "optional_features",
                      jnodes_take(lilv_plugin_get_optional_features(plugin)));

  json_t *ports = json_array();
  uint32_t n_ports = lilv_plugin_get_num_ports(plugin);
  for (uint32_t i = 0; i < n_ports; ++i) {
    const LilvPort *port = lilv_plugin_get_port_by_index(plugin, i);
    if (!port) {
      continue;
    }
    tot->ports++;
    json_array_append_new(ports, port_json(world, plugin, port, u, tot));
  }
  json_object_set_new(jd, "ports", ports);
  return jd;
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

int main(int argc, char **argv) {
  if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "-h") ||
                                 !strcmp(argv[1], "--help")))) {
    fprintf(stderr, "usage: %s [LV2_PATH]\n", argv[0]);
    return 2;
  }

  LilvWorld *world = lilv_world_new();
  if (!world) {
    fprintf(stderr, "naive_extract: lilv_world_new failed\n");
    return 1;
  }
  if (argc == 2) {
    LilvNode *path = lilv_new_string(world, argv[1]);
    lilv_world_set_option(world, LILV_OPTION_LV2_PATH, path);
    lilv_node_free(path);
  }
  lilv_world_load_all(world);

  Uris u;
  uris_init(&u, world);
  Totals tot = {0, 0, 0, 0, 14695981039346656037ULL};

  const LilvPlugins *plugins = lilv_world_get_all_plugins(world);
  LILV_FOREACH(plugins, it, plugins) {
    const LilvPlugin *plugin = lilv_plugins_get(plugins, it);
    json_t *jd = plugin_json(world, plugin, &u, &tot);
    char *text = json_dumps(jd, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(jd);
    if (!text) {
      fprintf(stderr, "naive_extract: json_dumps failed for %s\n",
              lilv_node_as_uri(lilv_plugin_get_uri(plugin)));
      continue;
    }
    size_t len = strlen(text);
    tot.bytes += len;
    tot.checksum = fnv1a(tot.checksum, text, len);
    free(text);
    tot.plugins++;
  }
  g_checksum_sink = tot.checksum;

  uris_free(&u);
  lilv_world_free(world);

  printf("naive_extract: %lu plugins, %lu ports, %lu control ports, %llu bytes "
         "of JSON\n",
         tot.plugins, tot.ports, tot.control_ports, tot.bytes);
  return 0;
}
