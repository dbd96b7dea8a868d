/* profile.c: device profiles (schemas/device.schema.json): a controller's physical controls and the MIDI message
 * each sends by default, so that maps can name a control and leave its number to the profile. */
#include "map.h"

#include "yaml.h"

#include "../pipeline/xalloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const PROFILE_TYPES[] = {"encoder", "slider", "button", NULL}; /* MapControlType 0..2 */

#define EXPECT_CHANNEL "a MIDI channel from 1 to 16 (Ardour numbers channels 1-16)"

/* Loading state: the profile, and per control what the checks after the walk need. */
typedef struct {
  MapProfile *p;
  MapMark *marks; /* of each control's mapping, parallel to p->controls */
} ProfileLoad;

typedef struct {
  MapProfileControl *c;
  const YamlNode *cc, *note;
} ControlLoad;

/* --- a control --- */

static void pc_string(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, ((ControlLoad *)obj)->c);
}

static void pc_type(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)ctx, (void)key;
  ((ControlLoad *)obj)->c->type = (MapControlType)yaml_enum_index(PROFILE_TYPES, v->text);
}

static void pc_cc(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  ControlLoad *cl = obj;
  long n;
  cl->cc = v;
  if (yaml_get_long(ctx, key, v, 0, 127, "cc-range", &n) && !cl->note)
    cl->c->number = (int)n, cl->c->message = MAP_MSG_CC;
}

static void pc_note(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  ControlLoad *cl = obj;
  long n;
  cl->note = v;
  if (yaml_get_long(ctx, key, v, 0, 127, "note-range", &n) && !cl->cc)
    cl->c->number = (int)n, cl->c->message = MAP_MSG_NOTE;
}

static void pc_channel(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  long ch;
  if (yaml_get_long(ctx, key, v, 1, 16, "channel-range", &ch))
    ((ControlLoad *)obj)->c->channel = (int)ch;
}

static const YamlKey CONTROL_KEYS[] = {
    {"id", YAML_WANT_SCALAR, true, NULL, "an id such as encoder_1", pc_string, offsetof(MapProfileControl, id)},
    {"type", YAML_WANT_SCALAR, true, PROFILE_TYPES, "encoder, slider or button", pc_type, 0},
    {"cc", YAML_WANT_SCALAR, false, NULL, "a whole number from 0 to 127", pc_cc, 0},
    {"note", YAML_WANT_SCALAR, false, NULL, "a whole number from 0 to 127", pc_note, 0},
    {"channel", YAML_WANT_SCALAR, false, NULL, EXPECT_CHANNEL, pc_channel, 0},
    {"label", YAML_WANT_SCALAR, false, NULL, "a text", pc_string, offsetof(MapProfileControl, label)},
};

static void load_control(YamlCtx *ctx, const YamlNode *map, MapProfileControl *c)
{
  ControlLoad cl = {.c = c};
  memset(c, 0, sizeof *c);
  c->number = -1;
  yaml_walk(ctx, map, "control", CONTROL_KEYS, YAML_N_KEYS(CONTROL_KEYS), &cl);
  if (cl.cc && cl.note)
    yaml_report(ctx, PIPE_SEV_ERROR, "message-conflict", cl.note->mark,
                "control has both cc and note; expected one of them");
  else if (!cl.cc && !cl.note)
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-required", map->mark,
                "control has neither 'cc' nor 'note'; expected the number the control sends");
}

static void pr_controls(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  ProfileLoad *pl = obj;
  char desc[64];
  pl->p->controls = v->n ? pipe_xcalloc(v->n, sizeof(MapProfileControl)) : NULL;
  pl->marks = v->n ? pipe_xcalloc(v->n, sizeof(MapMark)) : NULL;
  for (const YamlNode *item = v->child; item; item = item->next) {
    if (item->kind != YAML_MAPPING) {
      yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", item->mark, "a control is %s; expected a mapping",
                  yaml_describe(item, desc, sizeof desc));
      continue;
    }
    pl->marks[pl->p->n_controls] = item->mark;
    load_control(ctx, item, &pl->p->controls[pl->p->n_controls++]);
  }
}

/* --- the top level --- */

static void pr_string(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, ((ProfileLoad *)obj)->p);
}

static void pr_id(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  if (v->len == 0 || strspn(v->text, "abcdefghijklmnopqrstuvwxyz0123456789-") != v->len) {
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-pattern", v->mark, "id is '%.64s'; expected %s", v->text, key->expected);
    return;
  }
  pr_string(ctx, key, v, obj);
}

static void pr_channel(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  long ch;
  if (yaml_get_long(ctx, key, v, 1, 16, "channel-range", &ch))
    ((ProfileLoad *)obj)->p->default_channel = (int)ch;
}

static const YamlKey PROFILE_KEYS[] = {
    {"id", YAML_WANT_SCALAR, true, NULL, "lower-case letters, digits and '-', e.g. novation-launch-control-xl3", pr_id,
     offsetof(MapProfile, id)},
    {"manufacturer", YAML_WANT_SCALAR, true, NULL, "the controller's maker", pr_string,
     offsetof(MapProfile, manufacturer)},
    {"model", YAML_WANT_SCALAR, true, NULL, "the controller's model", pr_string, offsetof(MapProfile, model)},
    {"default_channel", YAML_WANT_SCALAR, false, NULL, EXPECT_CHANNEL, pr_channel, 0},
    {"description", YAML_WANT_SCALAR, false, NULL, "a text", NULL, 0},
    {"controls", YAML_WANT_SEQUENCE, true, NULL, "a sequence of controls", pr_controls, 0},
};

/* --- checks over all controls --- */

typedef struct {
  const char *id;
  size_t index;
} IdRef;

static int id_order(const void *pa, const void *pb)
{
  const IdRef *a = pa, *b = pb;
  int d = strcmp(a->id, b->id);
  return d ? d : (a->index > b->index) - (a->index < b->index);
}

static void check_ids(YamlCtx *ctx, const ProfileLoad *pl)
{
  const MapProfile *p = pl->p;
  IdRef *refs = pipe_xmalloc((p->n_controls + 1) * sizeof *refs);
  size_t n = 0;
  for (size_t i = 0; i < p->n_controls; i++)
    if (p->controls[i].id)
      refs[n++] = (IdRef){p->controls[i].id, i};
  qsort(refs, n, sizeof *refs, id_order);
  for (size_t k = 1; k < n; k++)
    if (!strcmp(refs[k - 1].id, refs[k].id))
      yaml_report(ctx, PIPE_SEV_ERROR, "profile-duplicate-id", pl->marks[refs[k].index],
                  "control id '%.64s' is used twice (first at line %u); expected unique ids", refs[k].id,
                  pl->marks[refs[k - 1].index].line);
  free(refs);
}

/* Two controls sending the same message number on the same channel cannot be told apart. */
static void check_numbers(YamlCtx *ctx, const ProfileLoad *pl)
{
  const MapProfile *p = pl->p;
  size_t *first = pipe_xcalloc(16 * 2 * 128, sizeof *first); /* control index + 1, per channel, message, number */
  for (size_t i = 0; i < p->n_controls; i++) {
    const MapProfileControl *c = &p->controls[i];
    int ch = c->channel ? c->channel : p->default_channel;
    if (c->number < 0 || c->message == MAP_MSG_DEFAULT || ch < 1 || ch > 16)
      continue;
    size_t slot = ((size_t)(ch - 1) * 2 + (c->message == MAP_MSG_NOTE)) * 128 + (size_t)c->number;
    if (!first[slot]) {
      first[slot] = i + 1;
      continue;
    }
    const MapProfileControl *f = &p->controls[first[slot] - 1];
    yaml_report(ctx, PIPE_SEV_ERROR, "profile-duplicate-number", pl->marks[i],
                "control '%.64s' sends %s %d on channel %d like '%.64s' (line %u); expected one control per number",
                c->id ? c->id : "?", c->message == MAP_MSG_NOTE ? "note" : "cc", c->number, ch, f->id ? f->id : "?",
                pl->marks[first[slot] - 1].line);
  }
  free(first);
}

/* --- entry points --- */

PipeStatus map_profile_load_file(const char *path, MapProfile **profile, PipeDiagList *diags)
{
  char desc[64];
  YamlDoc *doc = NULL;
  *profile = NULL;
  PipeStatus st = yaml_parse_file(path, &doc, diags);
  if (st != PIPE_OK)
    return st;
  YamlCtx ctx = {path, diags, 0};
  const YamlNode *root = yaml_doc_root(doc);
  ProfileLoad pl = {pipe_xcalloc(1, sizeof(MapProfile)), NULL};
  pl.p->path = pipe_xstrdup(path);
  pl.p->default_channel = 1;
  if (root->kind != YAML_MAPPING)
    yaml_report(&ctx, PIPE_SEV_ERROR, "schema-not-mapping", root->mark,
                "the document is %s; expected a mapping with id, manufacturer, model and controls",
                yaml_describe(root, desc, sizeof desc));
  else
    yaml_walk(&ctx, root, "the profile", PROFILE_KEYS, YAML_N_KEYS(PROFILE_KEYS), &pl);
  yaml_doc_free(doc);
  check_ids(&ctx, &pl);
  check_numbers(&ctx, &pl);
  free(pl.marks);
  if (ctx.errors) { /* a profile is reference data: half of one would bind the wrong controls */
    map_profile_free(pl.p);
    return PIPE_ERR_INVALID;
  }
  *profile = pl.p;
  return PIPE_OK;
}

void map_profile_free(MapProfile *profile)
{
  if (!profile)
    return;
  for (size_t i = 0; i < profile->n_controls; i++) {
    free(profile->controls[i].id);
    free(profile->controls[i].label);
  }
  free(profile->controls);
  free(profile->id);
  free(profile->manufacturer);
  free(profile->model);
  free(profile->path);
  free(profile);
}

const MapProfileControl *map_profile_find(const MapProfile *profile, const char *control_id)
{
  for (size_t i = 0; profile && control_id && i < profile->n_controls; i++)
    if (profile->controls[i].id && !strcmp(profile->controls[i].id, control_id))
      return &profile->controls[i];
  return NULL;
}
