/* rules.c: maps:validate. Loads a set of maps with their registries and device profiles, then runs the controller
 * rules, one table row per rule (lv2lint-style), so adding a rule is one row and one function. */
#include "maps_internal.h"

#include "../pipeline/fsx.h"
#include "../pipeline/xalloc.h"

#include <dirent.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CTRLMAP_SOURCE_DATA_DIR
#define CTRLMAP_SOURCE_DATA_DIR "maps"
#endif
#ifndef CTRLMAP_INSTALL_DATA_DIR
#define CTRLMAP_INSTALL_DATA_DIR "/usr/local/share/ctrlmap"
#endif

/* A directory walk stops this deep (a symlink loop must end). */
#define WALK_MAX_DEPTH 16

typedef struct {
  CanonMap *map;
  char *real;            /* realpath of the file */
  MapProfile *profile;   /* borrowed from the set's profile list */
  MapRegistry *registry; /* borrowed */
  int channel;
  size_t unbound;
  const MapControl *first_unbound;
} Entry;

struct MapSet {
  Entry *entries;
  size_t n, cap;
  MapProfile **profiles;
  size_t n_profiles, cap_profiles;
  MapRegistry **registries;
  char **registry_reals;
  size_t n_registries, cap_registries;
  char *profiles_dir;
  char **broken_profiles; /* profiles that failed to load */
  size_t n_broken, cap_broken;
};

const char *map_data_dir(void)
{
  static char *dir;
  if (dir)
    return dir;
  const char *env = getenv("CTRLMAP_DATA_DIR");
  struct stat sb;
  if (env && *env)
    dir = pipe_xstrdup(env);
  else if (stat(CTRLMAP_INSTALL_DATA_DIR "/devices", &sb) == 0)
    dir = pipe_xstrdup(CTRLMAP_INSTALL_DATA_DIR);
  else
    dir = pipe_xstrdup(CTRLMAP_SOURCE_DATA_DIR);
  return dir;
}

/* ---- collecting files ---- */

static bool has_yaml_suffix(const char *name)
{
  size_t n = strlen(name);
  return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static int cmp_strs(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_path(char ***files, size_t *n, size_t *cap, const char *path)
{
  pipe_grow((void **)files, cap, *n + 1, sizeof(char *));
  (*files)[(*n)++] = pipe_xstrdup(path);
}

static void walk(const char *dir, int depth, char ***files, size_t *n, size_t *cap)
{
  DIR *d = depth < WALK_MAX_DEPTH ? opendir(dir) : NULL;
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char *p = pipe_path_join(dir, e->d_name);
    struct stat sb;
    if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
      walk(p, depth + 1, files, n, cap);
    else if (S_ISREG(sb.st_mode) && has_yaml_suffix(e->d_name))
      add_path(files, n, cap, p);
    free(p);
  }
  closedir(d);
}

/* Every YAML file named by `paths`, sorted, without duplicates. Missing paths are reported. */
static char **collect(const char *const *paths, size_t n_paths, size_t *n, PipeDiagList *diags)
{
  char **files = NULL;
  size_t cap = 0;
  *n = 0;
  for (size_t i = 0; i < n_paths; i++) {
    struct stat sb;
    if (stat(paths[i], &sb) != 0)
      pipe_diag_add(diags, PIPE_SEV_ERROR, "map-io", paths[i], 0, 0, "no such file or directory");
    else if (S_ISDIR(sb.st_mode))
      walk(paths[i], 0, &files, n, &cap);
    else
      add_path(&files, n, &cap, paths[i]);
  }
  if (*n)
    qsort(files, *n, sizeof(char *), cmp_strs);
  size_t w = 0;
  for (size_t i = 0; i < *n; i++)
    if (w && !strcmp(files[w - 1], files[i]))
      free(files[i]);
    else
      files[w++] = files[i];
  *n = w;
  return files;
}

/* A cheap look at the text before the real parse: registries have "channels:" and no "controls:" at the top. */
static bool looks_like_registry(const char *path)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  char line[512];
  bool channels = false, controls = false;
  for (int i = 0; i < 4000 && fgets(line, sizeof line, f); i++) {
    channels = channels || !strncmp(line, "channels:", 9);
    controls = controls || !strncmp(line, "controls:", 9);
  }
  fclose(f);
  return channels && !controls;
}

/* ---- registries and profiles ---- */

static MapRegistry *registry_get(MapSet *set, const char *path, PipeDiagList *diags, PipeStatus *st)
{
  char *real = realpath(path, NULL);
  *st = PIPE_OK;
  if (!real) {
    *st = PIPE_ERR_NOTFOUND;
    return NULL;
  }
  for (size_t i = 0; i < set->n_registries; i++)
    if (!strcmp(set->registry_reals[i], real)) {
      free(real);
      return set->registries[i];
    }
  MapRegistry *r = NULL;
  *st = map_registry_load_file(path, &r, diags);
  if (!r) {
    free(real);
    return NULL;
  }
  pipe_grow((void **)&set->registries, &set->cap_registries, set->n_registries + 1, sizeof(MapRegistry *));
  set->registry_reals = pipe_xrealloc(set->registry_reals, set->cap_registries * sizeof(char *));
  set->registries[set->n_registries] = r;
  set->registry_reals[set->n_registries++] = real;
  return r;
}

static char *profile_path(const MapSet *set, const CanonMap *m)
{
  const char *p = m->device.profile;
  if (strchr(p, '/') || has_yaml_suffix(p))
    return p[0] == '/' ? pipe_xstrdup(p) : pipe_path_join(m->dir, p);
  char *file = pipe_xasprintf("%s.yaml", p);
  char *path = pipe_path_join(set->profiles_dir, file);
  free(file);
  return path;
}

static bool string_in(char **v, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i], s))
      return true;
  return false;
}

static MapProfile *profile_get(MapSet *set, const CanonMap *m, PipeDiagList *diags)
{
  char *path = profile_path(set, m);
  MapProfile *prof = NULL;
  for (size_t i = 0; i < set->n_profiles && !prof; i++)
    if (!strcmp(set->profiles[i]->path, path))
      prof = set->profiles[i];
  struct stat sb;
  if (!prof && stat(path, &sb) != 0) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "profile-unknown", m->path, m->device.profile_mark.line,
                  m->device.profile_mark.column, "device profile '%s' not found (looked for %s)", m->device.profile,
                  path);
  } else if (!prof && !string_in(set->broken_profiles, set->n_broken, path)) {
    if (map_profile_load_file(path, &prof, diags) == PIPE_OK && prof) {
      pipe_grow((void **)&set->profiles, &set->cap_profiles, set->n_profiles + 1, sizeof(MapProfile *));
      set->profiles[set->n_profiles++] = prof;
    } else { /* reported once, not once per map that uses it */
      pipe_grow((void **)&set->broken_profiles, &set->cap_broken, set->n_broken + 1, sizeof(char *));
      set->broken_profiles[set->n_broken++] = pipe_xstrdup(path);
    }
  }
  free(path);
  return prof;
}

/* ---- the rules ---- */

typedef struct {
  MapSet *set;
  PipeDiagList *diags;
} Ctx;

#define DIAG_AT(ctx, sev, code, m, mark, ...)                                                                          \
  pipe_diag_add((ctx)->diags, sev, code, (m)->path, (mark).line, (mark).column, __VA_ARGS__)

typedef void (*ControlFn)(Ctx *ctx, Entry *e, const MapControl *c);

/* Calls fn for every bindable control (button-group members included, groups themselves not). */
static void each_control(Ctx *ctx, Entry *e, ControlFn fn)
{
  for (size_t i = 0; i < e->map->n_controls; i++) {
    const MapControl *c = &e->map->controls[i];
    if (c->type != MAP_CTL_BUTTON_GROUP && c->id) /* no id: already schema-required */
      fn(ctx, e, c);
    for (size_t j = 0; j < c->n_buttons; j++)
      if (c->buttons[j].id)
        fn(ctx, e, &c->buttons[j]);
  }
}

static void rule_channel(Ctx *ctx, Entry *e)
{
  CanonMap *m = e->map;
  if (m->midi_channel)
    e->channel = m->midi_channel;
  if (!m->registry)
    goto unresolved;
  char *path = m->registry[0] == '/' ? pipe_xstrdup(m->registry) : pipe_path_join(m->dir, m->registry);
  PipeStatus st;
  e->registry = registry_get(ctx->set, path, ctx->diags, &st);
  if (st == PIPE_ERR_NOTFOUND)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "registry-missing", m, m->registry_mark, "channel registry %s does not exist", path);
  free(path);
  if (!e->registry || m->midi_channel)
    goto unresolved;
  for (size_t i = 0; i < e->registry->n_entries && !e->channel; i++) {
    const MapRegistryEntry *r = &e->registry->entries[i];
    const char *exts[] = {".yaml", ".yml", ""};
    for (size_t k = 0; k < 3 && !e->channel; k++) {
      char *f = pipe_xasprintf("%s/%s%s", e->registry->dir, r->path, exts[k]);
      char *real = realpath(f, NULL);
      if (real && e->real && !strcmp(real, e->real))
        e->channel = r->channel;
      free(real);
      free(f);
    }
  }
  if (!e->channel)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "registry-unlisted", m, m->registry_mark,
            "this map is not listed in %s; expected an entry `N: {path: ...}` for it", e->registry->path);
unresolved:
  if (e->channel)
    return;
  bool needs = false;
  for (size_t i = 0; i < m->n_controls; i++)
    needs = needs || m->controls[i].channel <= 0 || m->controls[i].n_buttons;
  if (needs && !m->registry)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "channel-unresolved", m, m->root_mark,
            "no MIDI channel for controls without one; expected midi_channel (1-16) or midi_channel_registry");
}

/* A map that names no profile but whose device is one of the bundled profiles' is checked against it. */
static MapProfile *profile_by_device(Ctx *ctx, const CanonMap *m)
{
  const char *manufacturer = m->device.manufacturer, *model = m->device.model;
  DIR *d = manufacturer && model ? opendir(ctx->set->profiles_dir) : NULL;
  MapProfile *found = NULL;
  struct dirent *de;
  while (d && !found && (de = readdir(d))) {
    if (!has_yaml_suffix(de->d_name))
      continue;
    char *path = pipe_path_join(ctx->set->profiles_dir, de->d_name);
    MapProfile *p = NULL;
    PipeDiagList *ignore = pipe_diags_new(); /* a broken bundled profile is reported when named, not here */
    map_profile_load_file(path, &p, ignore);
    pipe_diags_free(ignore);
    free(path);
    if (p && !strcasecmp(p->manufacturer, manufacturer) && !strcasecmp(p->model, model)) {
      found = p;
      pipe_grow((void **)&ctx->set->profiles, &ctx->set->cap_profiles, ctx->set->n_profiles + 1, sizeof(MapProfile *));
      ctx->set->profiles[ctx->set->n_profiles++] = p;
    } else {
      map_profile_free(p);
    }
  }
  if (d)
    closedir(d);
  return found;
}

static void rule_profile(Ctx *ctx, Entry *e)
{
  if (e->map->device.profile) {
    e->profile = profile_get(ctx->set, e->map, ctx->diags);
    return;
  }
  for (size_t i = 0; i < ctx->set->n_profiles && !e->profile; i++) /* one already matched for another map */
    if (e->map->device.manufacturer && e->map->device.model &&
        !strcasecmp(ctx->set->profiles[i]->manufacturer, e->map->device.manufacturer) &&
        !strcasecmp(ctx->set->profiles[i]->model, e->map->device.model))
      e->profile = ctx->set->profiles[i];
  if (!e->profile)
    e->profile = profile_by_device(ctx, e->map);
  if (e->profile)
    DIAG_AT(ctx, PIPE_SEV_NOTE, "profile-by-device", e->map, e->map->device.mark,
            "checked against the %s profile (same device); add `profile: %s` to device to say so", e->profile->id,
            e->profile->id);
}

static void check_profile_control(Ctx *ctx, Entry *e, const MapControl *c)
{
  const MapProfileControl *pc = e->profile ? map_profile_find(e->profile, c->id) : NULL;
  if (e->profile && !pc) {
    const char **ids = pipe_xcalloc(e->profile->n_controls + 1, sizeof(char *));
    for (size_t i = 0; i < e->profile->n_controls; i++)
      ids[i] = e->profile->controls[i].id;
    const char *dym = map_did_you_mean(c->id, ids, e->profile->n_controls);
    DIAG_AT(ctx, PIPE_SEV_ERROR, "profile-control-unknown", e->map, c->id_mark,
            "control '%s' is not a control of %s%s%s%s", c->id, e->profile->id, dym ? " (did you mean '" : "",
            dym ? dym : "", dym ? "'?)" : "");
    free(ids);
    return;
  }
  if (!pc) {
    if (c->number < 0)
      DIAG_AT(ctx, PIPE_SEV_ERROR, "number-missing", e->map, c->mark,
              "control '%s' has no cc or note; expected one, or a device profile that gives it", c->id);
    return;
  }
  if (pc->type != c->type && c->type != MAP_CTL_BUTTON_GROUP)
    DIAG_AT(ctx, PIPE_SEV_WARNING, "profile-type-mismatch", e->map, c->type_mark.line ? c->type_mark : c->id_mark,
            "control '%s' is of type %s on %s, not %s", c->id, map_control_type_name(pc->type), e->profile->id,
            map_control_type_name(c->type));
  MapMessage msg = c->message == MAP_MSG_DEFAULT ? pc->message : c->message;
  if (c->number >= 0 && (c->number != pc->number || msg != pc->message))
    DIAG_AT(ctx, PIPE_SEV_WARNING, "profile-number-differs", e->map, c->number_mark,
            "control '%s' sends %s %d on %s, the map says %s %d; drop the number to use the profile's", c->id,
            map_message_name(pc->message), pc->number, e->profile->id, map_message_name(msg), c->number);
}

static void rule_profile_controls(Ctx *ctx, Entry *e)
{
  each_control(ctx, e, check_profile_control);
}

/* Duplicate ids and two controls on one channel + message + number: the second of each pair is reported. */
typedef struct {
  const MapControl *c;
  int channel, number;
  MapMessage msg;
} Slot;

static int control_channel(const Entry *e, const MapControl *c)
{
  if (c->channel > 0)
    return c->channel;
  const MapProfileControl *pc = e->profile ? map_profile_find(e->profile, c->id) : NULL;
  return e->channel ? e->channel : pc && pc->channel ? pc->channel : 0;
}

static void rule_duplicates(Ctx *ctx, Entry *e)
{
  size_t n = 0, cap = 0;
  Slot *slots = NULL;
  for (size_t i = 0; i < e->map->n_controls; i++) {
    const MapControl *group = &e->map->controls[i];
    for (size_t j = 0; j <= group->n_buttons; j++) {
      const MapControl *c = j == 0 ? group : &group->buttons[j - 1];
      if (!c->id) /* already schema-required */
        continue;
      for (size_t k = 0; k < n; k++)
        if (!strcmp(slots[k].c->id, c->id)) { /* the first earlier one only: one finding per control */
          DIAG_AT(ctx, PIPE_SEV_ERROR, "duplicate-id", e->map, c->id_mark, "control id '%s' is already used at line %u",
                  c->id, slots[k].c->id_mark.line);
          break;
        }
      if (c->type == MAP_CTL_BUTTON_GROUP) {
        pipe_grow((void **)&slots, &cap, n + 1, sizeof(Slot));
        slots[n++] = (Slot){c, 0, -1, MAP_MSG_CC};
        continue;
      }
      MapMessage msg;
      int number = map_set_number(ctx->set, (size_t)(e - ctx->set->entries), c, &msg);
      int channel = control_channel(e, c);
      size_t k = 0; /* the first earlier control on the same message: one finding per control */
      while (number >= 0 && k < n && !(slots[k].number == number && slots[k].msg == msg && slots[k].channel == channel))
        k++;
      if (number >= 0 && k < n)
        DIAG_AT(ctx, PIPE_SEV_ERROR, "duplicate-number", e->map, c->number_mark.line ? c->number_mark : c->mark,
                "%s %d on channel %d is also bound to '%s' (line %u); one message can drive only one control",
                map_message_name(msg), number, channel, slots[k].c->id, slots[k].c->mark.line);
      pipe_grow((void **)&slots, &cap, n + 1, sizeof(Slot));
      slots[n++] = (Slot){c, channel, number, msg};
    }
  }
  free(slots);
}

static void check_binding(Ctx *ctx, Entry *e, const MapControl *c)
{
  if (c->function && c->param_kind != MAP_PARAM_NONE)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "binding-conflict", e->map, c->param_mark,
            "control '%s' has both a function and a plugin_parameter; expected one of them", c->id);
  if (c->function) {
    bool known = false;
    for (size_t i = 0; MAP_ARDOUR_FUNCTIONS[i] && !known; i++)
      known = !strcmp(MAP_ARDOUR_FUNCTIONS[i], c->function);
    const char *dym = known ? NULL : map_did_you_mean(c->function, MAP_ARDOUR_FUNCTIONS, 0);
    if (!known)
      DIAG_AT(ctx, PIPE_SEV_ERROR, "function-unknown", e->map, c->mark,
              "'%s' is not an Ardour Generic MIDI function%s%s%s (plugin parameters take plugin_parameter)",
              c->function, dym ? "; did you mean '" : "", dym ? dym : "", dym ? "'?" : "");
  }
  if (c->function && c->encoding != MAP_ENC_DEFAULT && c->encoding != MAP_ENC_ABSOLUTE)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "function-encoder", e->map, c->mark,
            "control '%s' runs a function; Ardour triggers functions from a CC, note or program change, not a relative "
            "encoder",
            c->id);
  bool needs_arg = c->function && (!strcmp(c->function, "set-bank") || !strncmp(c->function, "select", 6));
  if (needs_arg && !c->argument)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "function-argument", e->map, c->mark,
            "function '%s' needs an argument (a bank or track number); expected `argument:`", c->function);
  if (c->mode != MAP_MODE_DEFAULT && c->type != MAP_CTL_BUTTON)
    DIAG_AT(ctx, PIPE_SEV_WARNING, "mode-not-button", e->map, c->mode_mark,
            "mode applies to buttons; control '%s' is of type %s", c->id, map_control_type_name(c->type));
}

static void count_unbound(Ctx *ctx, Entry *e, const MapControl *c)
{
  (void)ctx;
  if (!c->function && c->param_kind == MAP_PARAM_NONE && e->unbound++ == 0)
    e->first_unbound = c;
}

static void rule_bindings(Ctx *ctx, Entry *e)
{
  each_control(ctx, e, check_binding);
  each_control(ctx, e, count_unbound);
  /* One note per map: a template leaves every control unbound on purpose. */
  if (e->unbound)
    DIAG_AT(ctx, PIPE_SEV_NOTE, "control-unbound", e->map, e->first_unbound->mark,
            "%zu control%s bind%s nothing (no plugin_parameter, no function), starting with '%s'; they are left "
            "out of the Ardour map",
            e->unbound, e->unbound == 1 ? "" : "s", e->unbound == 1 ? "s" : "", e->first_unbound->id);
}

static bool same_device(const CanonMap *a, const CanonMap *b)
{
  return a->device.manufacturer && b->device.manufacturer && a->device.model && b->device.model &&
         !strcasecmp(a->device.manufacturer, b->device.manufacturer) && !strcasecmp(a->device.model, b->device.model);
}

/* Two maps of one device on one channel: a controller move would drive both plugins. */
static void rule_channel_conflicts(Ctx *ctx, Entry *e)
{
  for (Entry *o = ctx->set->entries; e->channel && o < e; o++)
    if (o->channel == e->channel && same_device(o->map, e->map))
      DIAG_AT(ctx, PIPE_SEV_ERROR, "channel-conflict", e->map,
              e->map->registry ? e->map->registry_mark : e->map->midi_channel_mark,
              "channel %d is also used by %s for the same device; expected one channel per map", e->channel,
              o->map->path);
}

/* The passes, in order: each may use what the earlier ones resolved (profile, channel). The codes they emit are
 * listed in RULE_INFO below. */
static void (*const PASSES[])(Ctx *ctx, Entry *e) = {rule_profile,    rule_channel,  rule_profile_controls,
                                                     rule_duplicates, rule_bindings, rule_channel_conflicts};

static const MapRuleInfo RULE_INFO[] = {
    {"profile-unknown", PIPE_SEV_ERROR, "device.profile names a profile that does not exist"},
    {"registry-missing", PIPE_SEV_ERROR, "midi_channel_registry names a file that does not exist"},
    {"registry-unlisted", PIPE_SEV_ERROR, "the registry has no entry for this map"},
    {"registry-missing-file", PIPE_SEV_ERROR, "a registry entry names a map that does not exist"},
    {"channel-unresolved", PIPE_SEV_ERROR, "controls without a channel, and no midi_channel or registry"},
    {"channel-conflict", PIPE_SEV_ERROR, "two maps of one device on one channel"},
    {"profile-control-unknown", PIPE_SEV_ERROR, "a control id is not in the device profile"},
    {"profile-type-mismatch", PIPE_SEV_WARNING, "a control's type differs from the profile's"},
    {"profile-number-differs", PIPE_SEV_WARNING, "a control's CC/note differs from the profile's"},
    {"number-missing", PIPE_SEV_ERROR, "a control has no CC/note and no profile gives one"},
    {"duplicate-id", PIPE_SEV_ERROR, "two controls share an id"},
    {"duplicate-number", PIPE_SEV_ERROR, "two controls send the same channel + CC/note"},
    {"binding-conflict", PIPE_SEV_ERROR, "a control has both a function and a plugin_parameter"},
    {"function-unknown", PIPE_SEV_ERROR, "a function is not an Ardour Generic MIDI function"},
    {"function-encoder", PIPE_SEV_ERROR, "a function on a relative encoder (Ardour triggers functions by CC/note)"},
    {"function-argument", PIPE_SEV_ERROR, "set-bank and select* functions without an argument"},
    {"mode-not-button", PIPE_SEV_WARNING, "mode is set on a control that is not a button"},
    {"control-unbound", PIPE_SEV_NOTE, "controls that bind nothing (left out of the Ardour map)"},
    {"profile-by-device", PIPE_SEV_NOTE, "no profile named; the bundled profile of the same device is used"},
};

const MapRuleInfo *map_rules(size_t *n)
{
  *n = sizeof RULE_INFO / sizeof RULE_INFO[0];
  return RULE_INFO;
}

/* Registry entries that point at maps that do not exist. */
static void check_registry_files(MapSet *set, PipeDiagList *diags)
{
  for (size_t i = 0; i < set->n_registries; i++) {
    const MapRegistry *r = set->registries[i];
    for (size_t k = 0; k < r->n_entries; k++) {
      const char *exts[] = {".yaml", ".yml", ""};
      bool found = false;
      for (size_t x = 0; x < 3 && !found; x++) {
        char *f = pipe_xasprintf("%s/%s%s", r->dir, r->entries[k].path, exts[x]);
        struct stat sb;
        found = stat(f, &sb) == 0 && S_ISREG(sb.st_mode);
        free(f);
      }
      if (!found)
        pipe_diag_add(diags, PIPE_SEV_ERROR, "registry-missing-file", r->path, r->entries[k].mark.line,
                      r->entries[k].mark.column, "channel %d names %s, which does not exist in %s",
                      r->entries[k].channel, r->entries[k].path, r->dir);
    }
  }
}

/* ---- the set ---- */

/* ---- loading in parallel ---- */

/* Reading YAML is most of a validation run and each file is independent: the files are parsed by a few threads,
 * then taken in order, so the findings come out the same as from one thread. */
typedef struct {
  const char *file;
  bool registry;
  CanonMap *map;
  PipeDiagList *diags;
} Loaded;

typedef struct {
  Loaded *items;
  size_t n, next;
  pthread_mutex_t lock;
} LoadQueue;

static void *load_worker(void *arg)
{
  LoadQueue *q = arg;
  for (;;) {
    pthread_mutex_lock(&q->lock);
    size_t i = q->next++;
    pthread_mutex_unlock(&q->lock);
    if (i >= q->n)
      return NULL;
    Loaded *l = &q->items[i];
    l->diags = pipe_diags_new();
    l->registry = looks_like_registry(l->file) && map_file_is_registry(l->file);
    if (!l->registry)
      map_load_file(l->file, &l->map, l->diags);
  }
}

/* Threads pay off only on many files: one per 16 files, at most one per CPU (and 8). */
static int load_threads(size_t n_files)
{
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t t = cpus < 1 ? 1 : cpus > 8 ? 8 : (size_t)cpus, want = n_files / 16 ? n_files / 16 : 1;
  return (int)(want < t ? want : t);
}

static Loaded *load_all(char **files, size_t n)
{
  LoadQueue q = {.items = pipe_xcalloc(n + 1, sizeof(Loaded)), .n = n};
  for (size_t i = 0; i < n; i++)
    q.items[i].file = files[i];
  pthread_mutex_init(&q.lock, NULL);
  pthread_t th[8];
  int started = 0, nt = load_threads(n);
  for (int t = 1; t < nt; t++)
    started += pthread_create(&th[started], NULL, load_worker, &q) == 0;
  load_worker(&q);
  for (int t = 0; t < started; t++)
    pthread_join(th[t], NULL);
  pthread_mutex_destroy(&q.lock);
  return q.items;
}

static void diags_append(PipeDiagList *to, const PipeDiagList *from)
{
  for (size_t i = 0; i < pipe_diags_count(from); i++) {
    const PipeDiag *d = pipe_diags_get(from, i);
    pipe_diag_add(to, d->severity, d->code, d->file, d->line, d->column, "%s", d->message);
  }
}

MapSet *map_set_load(const char *const *paths, size_t n_paths, const MapSetOpts *opts, PipeDiagList *diags)
{
  MapSet *set = pipe_xcalloc(1, sizeof(MapSet));
  char *default_profiles = pipe_path_join(map_data_dir(), "devices");
  set->profiles_dir = pipe_xstrdup(opts && opts->profiles_dir ? opts->profiles_dir : default_profiles);
  free(default_profiles);
  size_t n = 0;
  char **files = collect(paths, n_paths, &n, diags);
  Loaded *loaded = load_all(files, n);
  for (size_t i = 0; i < n; i++) {
    Loaded *l = &loaded[i];
    PipeStatus st;
    if (l->registry)
      registry_get(set, l->file, diags, &st);
    diags_append(diags, l->diags);
    pipe_diags_free(l->diags);
    if (l->map) {
      pipe_grow((void **)&set->entries, &set->cap, set->n + 1, sizeof(Entry));
      set->entries[set->n++] = (Entry){.map = l->map, .real = realpath(l->file, NULL)};
    }
    free(files[i]);
  }
  free(loaded);
  free(files);
  Ctx ctx = {set, diags};
  for (size_t r = 0; r < sizeof PASSES / sizeof PASSES[0]; r++)
    for (size_t i = 0; i < set->n; i++)
      PASSES[r](&ctx, &set->entries[i]);
  check_registry_files(set, diags);
  return set;
}

void map_set_free(MapSet *set)
{
  if (!set)
    return;
  for (size_t i = 0; i < set->n; i++) {
    map_free(set->entries[i].map);
    free(set->entries[i].real);
  }
  for (size_t i = 0; i < set->n_profiles; i++)
    map_profile_free(set->profiles[i]);
  for (size_t i = 0; i < set->n_registries; i++) {
    map_registry_free(set->registries[i]);
    free(set->registry_reals[i]);
  }
  free(set->entries);
  free(set->profiles);
  free(set->registries);
  free(set->registry_reals);
  for (size_t i = 0; i < set->n_broken; i++)
    free(set->broken_profiles[i]);
  free(set->broken_profiles);
  free(set->profiles_dir);
  free(set);
}

size_t map_set_size(const MapSet *set)
{
  return set ? set->n : 0;
}

const CanonMap *map_set_map(const MapSet *set, size_t i)
{
  return i < set->n ? set->entries[i].map : NULL;
}

int map_set_channel(const MapSet *set, size_t i)
{
  return i < set->n ? set->entries[i].channel : 0;
}

const MapProfile *map_set_profile(const MapSet *set, size_t i)
{
  return i < set->n ? set->entries[i].profile : NULL;
}

int map_set_number(const MapSet *set, size_t i, const MapControl *c, MapMessage *message)
{
  const MapProfileControl *pc =
      i < set->n && set->entries[i].profile ? map_profile_find(set->entries[i].profile, c->id) : NULL;
  *message = c->message != MAP_MSG_DEFAULT ? c->message : pc ? pc->message : MAP_MSG_CC;
  return c->number >= 0 ? c->number : pc ? pc->number : -1;
}
