/* load.c: canonical maps, YAML to CanonMap: one table of allowed keys per mapping, small store functions, and the
 * cross-field checks of a control (message conflicts, encodings, button groups) once its mapping is read. */
#include "map.h"

#include "yaml.h"

#include "../cache/cache.h"
#include "../pipeline/xalloc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Orders match the enums: CONTROL_TYPES[i] is MapControlType i; the others are offset by their DEFAULT (0). */
static const char *const CONTROL_TYPES[] = {"encoder", "slider", "button", "button_group", NULL};
static const char *const MESSAGES[] = {"cc", "note", NULL};
static const char *const MODES[] = {"toggle", "momentary", NULL};
static const char *const ENCODINGS[] = {"absolute", "enc-r", "enc-l", "enc-2", "enc-b", NULL};

#define EXPECT_MIDI7   "a whole number from 0 to 127"
#define EXPECT_CHANNEL "a MIDI channel from 1 to 16 (Ardour numbers channels 1-16)"

/* What one control's mapping said, beyond what MapControl holds, for the checks that need the whole mapping. */
typedef struct {
  MapControl *c;
  bool member; /* inside a button_group's buttons */
  bool type_ok;
  const YamlNode *cc, *note, *message, *encoding, *buttons;
  long cc_value, note_value;
} ControlLoad;

static void load_controls(YamlCtx *ctx, const YamlNode *seq, bool member, MapControl **out, size_t *n_out);

/* --- control fields --- */

static void ctl_id(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  ControlLoad *cl = obj;
  yaml_store_string(ctx, key, v, cl->c);
  cl->c->id_mark = v->mark;
}

static void ctl_string(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, ((ControlLoad *)obj)->c);
}

static void ctl_type(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  ControlLoad *cl = obj;
  cl->c->type_mark = v->mark;
  MapControlType t = (MapControlType)yaml_enum_index(CONTROL_TYPES, v->text);
  if (cl->member && t == MAP_CTL_BUTTON_GROUP) {
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-enum", v->mark,
                "type is 'button_group' inside a button group; expected encoder, slider or button");
    return;
  }
  cl->c->type = t;
  cl->type_ok = true;
}

static void ctl_cc(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  ControlLoad *cl = obj;
  cl->cc = v;
  if (!yaml_get_long(ctx, key, v, 0, 127, "cc-range", &cl->cc_value))
    cl->cc_value = -1;
}

static void ctl_note(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  ControlLoad *cl = obj;
  cl->note = v;
  if (!yaml_get_long(ctx, key, v, 0, 127, "note-range", &cl->note_value))
    cl->note_value = -1;
}

static void ctl_message(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)ctx, (void)key;
  ControlLoad *cl = obj;
  cl->message = v;
  cl->c->message = (MapMessage)(yaml_enum_index(MESSAGES, v->text) + 1);
}

static void ctl_channel(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  MapControl *c = ((ControlLoad *)obj)->c;
  long ch;
  c->channel_mark = v->mark;
  if (!strcmp(v->text, "global"))
    c->channel = MAP_CHANNEL_GLOBAL;
  else if (yaml_get_long(ctx, key, v, 1, 16, "channel-range", &ch))
    c->channel = (int)ch;
}

/* Reads a [min, max] pair of numbers (integers when `ints`); element type errors at the element. */
static bool read_pair(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, bool ints, double out[2])
{
  char desc[64];
  if (v->n != 2) {
    yaml_report(ctx, PIPE_SEV_ERROR, "range-invalid", v->mark, "%s has %zu items; expected %s", key->name, v->n,
                key->expected);
    return false;
  }
  bool ok = true;
  size_t i = 0;
  for (const YamlNode *item = v->child; item; item = item->next, i++) {
    long l;
    if (ints && yaml_scalar_long(item, &l))
      out[i] = (double)l;
    else if (!ints && yaml_scalar_double(item, &out[i]))
      continue;
    else {
      yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", item->mark, "%s[%zu] is %s; expected %s", key->name, i,
                  yaml_describe(item, desc, sizeof desc), ints ? "a whole number" : "a number");
      ok = false;
    }
  }
  return ok;
}

static void ctl_range(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  MapControl *c = ((ControlLoad *)obj)->c;
  double r[2];
  c->range_mark = v->mark;
  if (!read_pair(ctx, key, v, true, r))
    return;
  if (r[0] < 0 || r[1] > 127 || r[0] >= r[1]) {
    yaml_report(ctx, PIPE_SEV_ERROR, "range-invalid", v->mark, "range is [%.24s, %.24s]; expected %s", v->child->text,
                v->child->next->text, key->expected);
    return;
  }
  c->has_range = true;
  c->range[0] = (int)r[0];
  c->range[1] = (int)r[1];
}

static void ctl_param_range(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  MapControl *c = ((ControlLoad *)obj)->c;
  double r[2];
  c->param_range_mark = v->mark;
  if (!read_pair(ctx, key, v, false, r))
    return;
  if (r[0] >= r[1]) {
    yaml_report(ctx, PIPE_SEV_ERROR, "range-invalid", v->mark, "parameter_range is [%.24s, %.24s]; expected %s",
                v->child->text, v->child->next->text, key->expected);
    return;
  }
  c->has_param_range = true;
  c->param_range[0] = r[0];
  c->param_range[1] = r[1];
}

static void ctl_mode(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)ctx, (void)key;
  MapControl *c = ((ControlLoad *)obj)->c;
  c->mode = (MapMode)(yaml_enum_index(MODES, v->text) + 1);
  c->mode_mark = v->mark;
}

static void ctl_encoding(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)ctx, (void)key;
  ControlLoad *cl = obj;
  cl->c->encoding = (MapEncoding)(yaml_enum_index(ENCODINGS, v->text) + 1);
  cl->encoding = v;
}


/* An integer is a port index; so is a quoted string of digits (the TypeScript tool writes "5"); any other text
 * names a port by symbol or name. A plain float or bool is neither. */
static void ctl_param(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  MapControl *c = ((ControlLoad *)obj)->c;
  char desc[64];
  double d;
  bool b;
  c->param_mark = v->mark;
  bool signed_int = v->plain && (v->text[0] == '-' || v->text[0] == '+') && yaml_all_digits(v->text + 1);
  if (yaml_all_digits(v->text) || signed_int) {
    long long idx = strtoll(v->text, NULL, 10);
    if (idx < 0 || idx > UINT32_MAX || v->len > 12) {
      yaml_report(ctx, PIPE_SEV_ERROR, "schema-range", v->mark, "plugin_parameter is %.24s; expected %s", v->text,
                  key->expected);
      return;
    }
    c->param_kind = MAP_PARAM_INDEX;
    c->param_index = (long)idx;
    return;
  }
  if (v->len == 0 || (v->plain && (yaml_scalar_double(v, &d) || yaml_scalar_bool(v, &b)))) {
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", v->mark, "plugin_parameter is %s; expected %s",
                yaml_describe(v, desc, sizeof desc), key->expected);
    return;
  }
  c->param_kind = MAP_PARAM_TEXT;
  c->param_text = yaml_scalar_dup(v);
}

static void ctl_buttons(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)ctx, (void)key;
  ((ControlLoad *)obj)->buttons = v;
}

static const YamlKey CONTROL_KEYS[] = {
    {"id", YAML_WANT_SCALAR, true, NULL, "an id such as encoder_1", ctl_id, offsetof(MapControl, id)},
    {"name", YAML_WANT_SCALAR, false, NULL, "a display name", ctl_string, offsetof(MapControl, name)},
    {"type", YAML_WANT_SCALAR, false, CONTROL_TYPES, "encoder, slider, button or button_group", ctl_type, 0},
    {"cc", YAML_WANT_SCALAR, false, NULL, EXPECT_MIDI7, ctl_cc, 0},
    {"note", YAML_WANT_SCALAR, false, NULL, EXPECT_MIDI7, ctl_note, 0},
    {"message", YAML_WANT_SCALAR, false, MESSAGES, "cc or note", ctl_message, 0},
    {"channel", YAML_WANT_SCALAR, false, NULL, EXPECT_CHANNEL " or global", ctl_channel, 0},
    {"range", YAML_WANT_SEQUENCE, false, NULL, "[min, max], whole numbers with 0 <= min < max <= 127", ctl_range, 0},
    {"parameter_range", YAML_WANT_SEQUENCE, false, NULL, "[min, max], numbers with min < max", ctl_param_range, 0},
    {"description", YAML_WANT_SCALAR, false, NULL, "a text", ctl_string, offsetof(MapControl, description)},
    {"mode", YAML_WANT_SCALAR, false, MODES, "toggle or momentary", ctl_mode, 0},
    {"encoding", YAML_WANT_SCALAR, false, ENCODINGS, "absolute, enc-r, enc-l, enc-2 or enc-b", ctl_encoding, 0},
    {"plugin_parameter", YAML_WANT_SCALAR, false, NULL,
     "an LV2 port index (a whole number from 0) or a port symbol or name", ctl_param, 0},
    {"function", YAML_WANT_SCALAR, false, NULL, "an Ardour function name", ctl_string, offsetof(MapControl, function)},
    {"argument", YAML_WANT_SCALAR, false, NULL, "a text or a number", ctl_string, offsetof(MapControl, argument)},
    {"buttons", YAML_WANT_SEQUENCE, false, NULL, "a sequence of buttons", ctl_buttons, 0},
};

/* --- one control --- */

static void control_init(MapControl *c)
{
  memset(c, 0, sizeof *c);
  c->number = -1;
  c->range[0] = 0;
  c->range[1] = 127;
}

/* cc or note, and message: at most one number, and a message that agrees with it. */
static void control_message(YamlCtx *ctx, ControlLoad *cl)
{
  MapControl *c = cl->c;
  if (cl->cc && cl->note) {
    yaml_report(ctx, PIPE_SEV_ERROR, "message-conflict", cl->note->mark,
                "control has both cc and note; expected one of them");
  } else if (cl->message && c->message == MAP_MSG_NOTE && cl->cc) {
    yaml_report(ctx, PIPE_SEV_ERROR, "message-conflict", cl->message->mark,
                "message is note but the control gives cc; expected note: for a note control");
  } else if (cl->message && c->message == MAP_MSG_CC && cl->note) {
    yaml_report(ctx, PIPE_SEV_ERROR, "message-conflict", cl->message->mark,
                "message is cc but the control gives note; expected cc: for a cc control");
  }
  if (cl->cc) {
    c->number = (int)cl->cc_value;
    c->number_mark = cl->cc->mark;
    if (!cl->message)
      c->message = MAP_MSG_CC;
  } else if (cl->note) {
    c->number = (int)cl->note_value;
    c->number_mark = cl->note->mark;
    if (!cl->message)
      c->message = MAP_MSG_NOTE;
  }
}

static void control_buttons(YamlCtx *ctx, ControlLoad *cl, const YamlNode *map)
{
  MapControl *c = cl->c;
  if (!cl->type_ok)
    return;
  if (c->type != MAP_CTL_BUTTON_GROUP) {
    if (cl->buttons)
      yaml_report(ctx, PIPE_SEV_ERROR, "buttons-not-group", cl->buttons->mark,
                  "buttons given on a control of type %s; expected them only on a button_group",
                  CONTROL_TYPES[c->type]);
    return;
  }
  if (!cl->buttons && yaml_lookup(map, "buttons"))
    return; /* there, but not a sequence: already a schema-type error */
  if (!cl->buttons || cl->buttons->n == 0) {
    yaml_report(ctx, PIPE_SEV_WARNING, "button-group-empty", cl->buttons ? cl->buttons->mark : map->mark,
                "button_group has no buttons; expected a sequence of buttons");
    return;
  }
  load_controls(ctx, cl->buttons, true, &c->buttons, &c->n_buttons);
}

static void load_control(YamlCtx *ctx, const YamlNode *map, bool member, MapControl *c)
{
  ControlLoad cl = {.c = c, .member = member, .cc_value = -1, .note_value = -1};
  control_init(c);
  c->mark = map->mark;
  if (member) {
    c->type = MAP_CTL_BUTTON; /* the TypeScript tool's group members carry no type */
    cl.type_ok = true;
  }
  yaml_walk(ctx, map, member ? "button" : "control", CONTROL_KEYS, YAML_N_KEYS(CONTROL_KEYS), &cl);
  const YamlNode *number = yaml_lookup(map, "cc") ? yaml_lookup(map, "cc") : yaml_lookup(map, "note");
  if (number && !cl.cc &&
      !cl.note) /* of the wrong kind (a sequence, empty): reported; number-missing would repeat it */
    c->number_mark = number->mark;
  if (!member && !yaml_lookup(map, "type"))
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-required", map->mark,
                "control has no 'type'; expected encoder, slider, button or button_group");
  control_message(ctx, &cl);
  if (cl.encoding && cl.type_ok && c->type != MAP_CTL_ENCODER)
    yaml_report(ctx, PIPE_SEV_WARNING, "encoding-not-encoder", cl.encoding->mark,
                "encoding is given on a control of type %s; expected it only on an encoder", CONTROL_TYPES[c->type]);
  control_buttons(ctx, &cl, map);
}

static void load_controls(YamlCtx *ctx, const YamlNode *seq, bool member, MapControl **out, size_t *n_out)
{
  char desc[64];
  *out = seq->n ? pipe_xcalloc(seq->n, sizeof(MapControl)) : NULL;
  *n_out = 0;
  for (const YamlNode *item = seq->child; item; item = item->next) {
    if (item->kind != YAML_MAPPING) {
      yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", item->mark, "%s is %s; expected a mapping",
                  member ? "a button" : "a control", yaml_describe(item, desc, sizeof desc));
      continue;
    }
    load_control(ctx, item, member, &(*out)[(*n_out)++]);
  }
}

/* --- the top level --- */

static void top_string(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, obj);
}

static void dev_profile(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, obj);
  ((CanonMap *)obj)->device.profile_mark = v->mark;
}

static void meta_tags(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  CanonMap *m = obj;
  char desc[64];
  (void)key;
  m->metadata.tags = v->n ? pipe_xcalloc(v->n, sizeof(char *)) : NULL;
  for (const YamlNode *item = v->child; item; item = item->next) {
    if (item->kind != YAML_SCALAR || yaml_is_null(item)) {
      yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", item->mark, "a tag is %s; expected a text",
                  yaml_describe(item, desc, sizeof desc));
      continue;
    }
    m->metadata.tags[m->metadata.n_tags++] = yaml_scalar_dup(item);
  }
}

static void plugin_uri(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, obj);
  ((CanonMap *)obj)->plugin.uri_mark = v->mark;
}

static void plugin_descriptor(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, obj);
  ((CanonMap *)obj)->plugin.descriptor_mark = v->mark;
}

static void ardour_position(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  long pos;
  if (yaml_get_long(ctx, key, v, 1, 1000000, "schema-range", &pos))
    ((CanonMap *)obj)->ardour.plugin_position = (int)pos;
}

static const YamlKey DEVICE_KEYS[] = {
    {"manufacturer", YAML_WANT_SCALAR, true, NULL, "the controller's maker, e.g. Novation", top_string,
     offsetof(CanonMap, device.manufacturer)},
    {"model", YAML_WANT_SCALAR, true, NULL, "the controller's model, e.g. Launch Control XL 3", top_string,
     offsetof(CanonMap, device.model)},
    {"firmware", YAML_WANT_SCALAR, false, NULL, "a firmware version or range", top_string,
     offsetof(CanonMap, device.firmware)},
    {"profile", YAML_WANT_SCALAR, false, NULL, "a device profile id or a path to a profile file", dev_profile,
     offsetof(CanonMap, device.profile)},
};

static const YamlKey METADATA_KEYS[] = {
    {"name", YAML_WANT_SCALAR, true, NULL, "the map's name", top_string, offsetof(CanonMap, metadata.name)},
    {"description", YAML_WANT_SCALAR, false, NULL, "a text", top_string, offsetof(CanonMap, metadata.description)},
    {"author", YAML_WANT_SCALAR, false, NULL, "a text", top_string, offsetof(CanonMap, metadata.author)},
    {"date", YAML_WANT_SCALAR, false, NULL, "a date such as 2025-09-23", top_string, offsetof(CanonMap, metadata.date)},
    {"tags", YAML_WANT_SEQUENCE, false, NULL, "a sequence of texts", meta_tags, 0},
    {"notes", YAML_WANT_SCALAR, false, NULL, "a text", top_string, offsetof(CanonMap, metadata.notes)},
};

static const YamlKey PLUGIN_KEYS[] = {
    {"manufacturer", YAML_WANT_SCALAR, false, NULL, "a text", top_string, offsetof(CanonMap, plugin.manufacturer)},
    {"name", YAML_WANT_SCALAR, false, NULL, "the plugin's name", top_string, offsetof(CanonMap, plugin.name)},
    {"type", YAML_WANT_SCALAR, false, NULL, "a text such as LV2 or VST3", top_string, offsetof(CanonMap, plugin.type)},
    {"format", YAML_WANT_SCALAR, false, NULL, "a plugin format such as lv2", top_string,
     offsetof(CanonMap, plugin.format)},
    {"version", YAML_WANT_SCALAR, false, NULL, "a version or range", top_string, offsetof(CanonMap, plugin.version)},
    {"descriptor", YAML_WANT_SCALAR, false, NULL, "a path to a plugin descriptor", plugin_descriptor,
     offsetof(CanonMap, plugin.descriptor)},
    {"uri", YAML_WANT_SCALAR, false, NULL, "the LV2 plugin URI", plugin_uri, offsetof(CanonMap, plugin.uri)},
};

static const YamlKey ARDOUR_KEYS[] = {
    {"route", YAML_WANT_SCALAR, false, NULL, "an Ardour route name", top_string, offsetof(CanonMap, ardour.route)},
    {"plugin_position", YAML_WANT_SCALAR, false, NULL, "a whole number from 1 (the plugin's place on the route)",
     ardour_position, 0},
};

static void top_device(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  ((CanonMap *)obj)->device.mark = v->mark;
  yaml_walk(ctx, v, "device", DEVICE_KEYS, YAML_N_KEYS(DEVICE_KEYS), obj);
}

static void top_metadata(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  ((CanonMap *)obj)->metadata.mark = v->mark;
  yaml_walk(ctx, v, "metadata", METADATA_KEYS, YAML_N_KEYS(METADATA_KEYS), obj);
}

static void top_plugin(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  CanonMap *m = obj;
  m->plugin.mark = v->mark;
  yaml_walk(ctx, v, "plugin", PLUGIN_KEYS, YAML_N_KEYS(PLUGIN_KEYS), obj);
  if (!yaml_lookup(v, "name") && !yaml_lookup(v, "uri"))
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-required", v->mark,
                "plugin has neither 'name' nor 'uri'; expected at least one (uri: the LV2 plugin URI)");
}

static void top_channel(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  CanonMap *m = obj;
  long ch;
  m->midi_channel_mark = v->mark;
  if (yaml_get_long(ctx, key, v, 1, 16, "channel-range", &ch))
    m->midi_channel = (int)ch;
}

static void top_registry(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, obj);
  ((CanonMap *)obj)->registry_mark = v->mark;
}

static void top_controls(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  CanonMap *m = obj;
  load_controls(ctx, v, false, &m->controls, &m->n_controls);
}

static void top_ardour(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  ((CanonMap *)obj)->ardour.mark = v->mark;
  yaml_walk(ctx, v, "ardour", ARDOUR_KEYS, YAML_N_KEYS(ARDOUR_KEYS), obj);
}

static const YamlKey MAP_KEYS[] = {
    {"version", YAML_WANT_SCALAR, true, NULL, "the format version, e.g. 1.0.0", top_string,
     offsetof(CanonMap, version)},
    {"device", YAML_WANT_MAPPING, true, NULL, "a mapping with manufacturer and model", top_device, 0},
    {"metadata", YAML_WANT_MAPPING, true, NULL, "a mapping with at least a name", top_metadata, 0},
    {"plugin", YAML_WANT_MAPPING, false, NULL, "a mapping with the plugin's uri or name", top_plugin, 0},
    {"midi_channel", YAML_WANT_SCALAR, false, NULL, EXPECT_CHANNEL, top_channel, 0},
    {"midi_channel_registry", YAML_WANT_SCALAR, false, NULL, "a path to a channel registry", top_registry,
     offsetof(CanonMap, registry)},
    {"controls", YAML_WANT_SEQUENCE, true, NULL, "a sequence of controls", top_controls, 0},
    {"ardour", YAML_WANT_MAPPING, false, NULL, "a mapping with route and plugin_position", top_ardour, 0},
    {"notes", YAML_WANT_SCALAR, false, NULL, "a text", NULL, 0},
};

/* --- entry points --- */

static PipeStatus map_from_doc(const YamlNode *root, YamlCtx *ctx, CanonMap *m)
{
  char desc[64];
  m->root_mark = root->mark;
  if (root->kind != YAML_MAPPING) {
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-not-mapping", root->mark,
                "the document is %s; expected a mapping with version, device, metadata and controls",
                yaml_describe(root, desc, sizeof desc));
    return PIPE_ERR_INVALID;
  }
  yaml_walk(ctx, root, "the map", MAP_KEYS, YAML_N_KEYS(MAP_KEYS), m);
  const YamlNode *channel = yaml_lookup(root, "midi_channel");
  if (channel && !m->midi_channel_mark.line) /* of the wrong kind: reported; channel-unresolved would repeat it */
    m->midi_channel_mark = channel->mark;
  if (m->midi_channel && m->registry)
    yaml_report(ctx, PIPE_SEV_WARNING, "channel-both", m->midi_channel_mark,
                "both midi_channel and midi_channel_registry are given; expected one of them (midi_channel %d "
                "takes precedence)",
                m->midi_channel);
  return PIPE_OK;
}

PipeStatus map_load_string(const char *text, size_t len, const char *origin, CanonMap **map, PipeDiagList *diags)
{
  *map = NULL;
  const char *name = origin ? origin : "<string>";
  YamlDoc *doc = NULL;
  PipeStatus st = yaml_parse(text, len, name, &doc, diags);
  if (st != PIPE_OK)
    return st;
  CanonMap *m = pipe_xcalloc(1, sizeof *m);
  m->path = pipe_xstrdup(name);
  m->dir = origin ? yaml_path_dir(origin) : pipe_xstrdup(".");
  m->content_hash = cache_hash(text, len);
  YamlCtx ctx = {m->path, diags, 0};
  st = map_from_doc(yaml_doc_root(doc), &ctx, m);
  yaml_doc_free(doc);
  if (st != PIPE_OK) {
    map_free(m);
    return st;
  }
  *map = m;
  return PIPE_OK;
}

PipeStatus map_load_file(const char *path, CanonMap **map, PipeDiagList *diags)
{
  char *text = NULL;
  size_t len = 0;
  *map = NULL;
  PipeStatus st = yaml_read_file(path, &text, &len, diags);
  if (st == PIPE_OK)
    st = map_load_string(text, len, path, map, diags);
  free(text);
  return st;
}

static void control_release(MapControl *c)
{
  free(c->id);
  free(c->name);
  free(c->description);
  free(c->param_text);
  free(c->function);
  free(c->argument);
  for (size_t i = 0; i < c->n_buttons; i++)
    control_release(&c->buttons[i]);
  free(c->buttons);
}

void map_free(CanonMap *map)
{
  if (!map)
    return;
  free(map->path);
  free(map->dir);
  free(map->version);
  free(map->device.manufacturer);
  free(map->device.model);
  free(map->device.firmware);
  free(map->device.profile);
  free(map->metadata.name);
  free(map->metadata.description);
  free(map->metadata.author);
  free(map->metadata.date);
  free(map->metadata.notes);
  for (size_t i = 0; i < map->metadata.n_tags; i++)
    free(map->metadata.tags[i]);
  free(map->metadata.tags);
  free(map->plugin.manufacturer);
  free(map->plugin.name);
  free(map->plugin.type);
  free(map->plugin.format);
  free(map->plugin.version);
  free(map->plugin.descriptor);
  free(map->plugin.uri);
  free(map->registry);
  free(map->ardour.route);
  for (size_t i = 0; i < map->n_controls; i++)
    control_release(&map->controls[i]);
  free(map->controls);
  free(map);
}
