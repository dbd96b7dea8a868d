/* registry.c: channel registries (schemas/channel-registry.schema.json): which MIDI channel each map of a device
 * uses, in the TypeScript tool's midi-channel-registry.yaml format. */
#include "map.h"

#include "yaml.h"

#include "../pipeline/xalloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void reg_string(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  yaml_store_string(ctx, key, v, obj);
}

static const YamlKey ENTRY_KEYS[] = {
    {"path", YAML_WANT_SCALAR, true, NULL, "the map's path relative to the registry, without .yaml", reg_string,
     offsetof(MapRegistryEntry, path)},
    {"description", YAML_WANT_SCALAR, false, NULL, "a text", reg_string, offsetof(MapRegistryEntry, description)},
    {"manufacturer", YAML_WANT_SCALAR, false, NULL, "a text", NULL, 0},
    {"type", YAML_WANT_SCALAR, false, NULL, "a text", NULL, 0},
};

static const YamlKey DEVICE_KEYS[] = {
    {"manufacturer", YAML_WANT_SCALAR, true, NULL, "the controller's maker", reg_string,
     offsetof(MapRegistry, manufacturer)},
    {"model", YAML_WANT_SCALAR, true, NULL, "the controller's model", reg_string, offsetof(MapRegistry, model)},
    {"firmware", YAML_WANT_SCALAR, false, NULL, "a firmware version or range", NULL, 0},
};

static bool has_dotdot(const char *path)
{
  for (const char *p = path; *p; p += strcspn(p, "/"), p += *p == '/')
    if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
      return true;
  return false;
}

/* An entry names a map in the registry's folder or below it. A registry must not point ctrlmap at files elsewhere:
 * an absolute path, a ".." component and a link that leads out of the folder are refused. Sets e->real. */
static void entry_resolve(YamlCtx *ctx, const MapRegistry *r, MapRegistryEntry *e, MapMark mark)
{
  if (e->path[0] == '/' || has_dotdot(e->path)) {
    yaml_report(ctx, PIPE_SEV_ERROR, "path-outside", mark,
                "channel %d names %s, %s; expected a map in the registry's folder or below it", e->channel, e->path,
                e->path[0] == '/' ? "an absolute path" : "a path with \"..\"");
    return;
  }
  const char *exts[] = {".yaml", ".yml", ""};
  for (size_t x = 0; x < 3 && !e->real; x++) {
    char *f = pipe_xasprintf("%s/%s%s", r->dir, e->path, exts[x]);
    struct stat sb;
    if (stat(f, &sb) == 0 && S_ISREG(sb.st_mode))
      e->real = realpath(f, NULL);
    free(f);
  }
  char *dir = e->real ? realpath(r->dir, NULL) : NULL;
  if (dir && yaml_path_outside(e->real, dir)) {
    yaml_report(ctx, PIPE_SEV_ERROR, "path-outside", mark,
                "channel %d names %s, a link to %s, outside %s; expected a map in the registry's folder or below it",
                e->channel, e->path, e->real, dir);
    free(e->real);
    e->real = NULL;
  }
  free(dir);
}

/* One `channel: {path, ...}` pair. */
static void load_entry(YamlCtx *ctx, const YamlNode *k, MapRegistry *r)
{
  char desc[64];
  long ch;
  if (!yaml_scalar_long(k, &ch)) {
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", k->mark,
                "channel key is %s; expected a MIDI channel number from 1 to 16", yaml_describe(k, desc, sizeof desc));
    return;
  }
  if (ch < 1 || ch > 16) {
    yaml_report(ctx, PIPE_SEV_ERROR, "registry-channel-range", k->mark,
                "channel is %.24s; expected a MIDI channel from 1 to 16 (Ardour numbers channels 1-16)", k->text);
    return;
  }
  const YamlNode *v = k->next;
  if (v->kind != YAML_MAPPING) {
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", v->mark, "channel %ld is %s; expected a mapping with a path", ch,
                yaml_describe(v, desc, sizeof desc));
    return;
  }
  MapRegistryEntry *e = &r->entries[r->n_entries++];
  e->channel = (int)ch;
  e->mark = k->mark;
  yaml_walk(ctx, v, "channel entry", ENTRY_KEYS, YAML_N_KEYS(ENTRY_KEYS), e);
  if (e->path)
    entry_resolve(ctx, r, e, yaml_lookup(v, "path")->mark);
}

static int entry_order(const void *pa, const void *pb)
{
  const MapRegistryEntry *a = pa, *b = pb;
  if (a->channel != b->channel)
    return a->channel - b->channel;
  return a->mark.line < b->mark.line ? -1 : a->mark.line > b->mark.line;
}

static void reg_channels(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  MapRegistry *r = obj;
  r->entries = v->n ? pipe_xcalloc(v->n / 2, sizeof(MapRegistryEntry)) : NULL;
  for (const YamlNode *k = v->child; k && k->next; k = k->next->next)
    load_entry(ctx, k, r);
  qsort(r->entries, r->n_entries, sizeof *r->entries, entry_order);
  /* "4" and "04" are different YAML keys but one channel. */
  for (size_t i = 1; i < r->n_entries; i++)
    if (r->entries[i].channel == r->entries[i - 1].channel)
      yaml_report(ctx, PIPE_SEV_ERROR, "registry-duplicate-channel", r->entries[i].mark,
                  "channel %d is assigned twice (first at line %u); expected one map per channel",
                  r->entries[i].channel, r->entries[i - 1].mark.line);
}

static void reg_device(YamlCtx *ctx, const YamlKey *key, const YamlNode *v, void *obj)
{
  (void)key;
  yaml_walk(ctx, v, "device", DEVICE_KEYS, YAML_N_KEYS(DEVICE_KEYS), obj);
}

/* The TypeScript registry carries documentation next to the channels; it is accepted and not read. */
static const YamlKey REGISTRY_KEYS[] = {
    {"version", YAML_WANT_SCALAR, false, NULL, "the format version, e.g. 1.0.0", NULL, 0},
    {"device", YAML_WANT_MAPPING, false, NULL, "a mapping with manufacturer and model", reg_device, 0},
    {"metadata", YAML_WANT_MAPPING, false, NULL, "a mapping", NULL, 0},
    {"channels", YAML_WANT_MAPPING, true, NULL, "a mapping from channel numbers (1-16) to maps", reg_channels, 0},
    {"available_channels", YAML_WANT_ANY, false, NULL, NULL, NULL, 0},
    {"guidelines", YAML_WANT_ANY, false, NULL, NULL, NULL, 0},
    {"categories", YAML_WANT_ANY, false, NULL, NULL, NULL, 0},
    {"usage", YAML_WANT_ANY, false, NULL, NULL, NULL, 0},
    {"integration", YAML_WANT_ANY, false, NULL, NULL, NULL, 0},
    {"notes", YAML_WANT_ANY, false, NULL, NULL, NULL, 0},
};

PipeStatus map_registry_load_file(const char *path, MapRegistry **registry, PipeDiagList *diags)
{
  char desc[64];
  YamlDoc *doc = NULL;
  *registry = NULL;
  PipeStatus st = yaml_parse_file(path, &doc, diags);
  if (st != PIPE_OK)
    return st;
  YamlCtx ctx = {path, diags, 0};
  const YamlNode *root = yaml_doc_root(doc);
  MapRegistry *r = pipe_xcalloc(1, sizeof *r);
  r->path = pipe_xstrdup(path);
  r->dir = yaml_path_dir(path);
  if (root->kind != YAML_MAPPING)
    yaml_report(&ctx, PIPE_SEV_ERROR, "schema-not-mapping", root->mark,
                "the document is %s; expected a mapping with channels", yaml_describe(root, desc, sizeof desc));
  else
    yaml_walk(&ctx, root, "the registry", REGISTRY_KEYS, YAML_N_KEYS(REGISTRY_KEYS), r);
  yaml_doc_free(doc);
  if (ctx.errors) { /* reference data: a partly read registry would put maps on the wrong channels */
    map_registry_free(r);
    return PIPE_ERR_INVALID;
  }
  *registry = r;
  return PIPE_OK;
}

void map_registry_free(MapRegistry *registry)
{
  if (!registry)
    return;
  for (size_t i = 0; i < registry->n_entries; i++) {
    free(registry->entries[i].path);
    free(registry->entries[i].real);
    free(registry->entries[i].description);
  }
  free(registry->entries);
  free(registry->path);
  free(registry->dir);
  free(registry->manufacturer);
  free(registry->model);
  free(registry);
}

bool map_file_is_registry(const char *path)
{
  YamlDoc *doc = NULL;
  if (yaml_parse_file(path, &doc, NULL) != PIPE_OK)
    return false;
  const YamlNode *root = yaml_doc_root(doc), *channels = yaml_lookup(root, "channels");
  bool is = channels && channels->kind == YAML_MAPPING && !yaml_lookup(root, "controls");
  yaml_doc_free(doc);
  return is;
}
