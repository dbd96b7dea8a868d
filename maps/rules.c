/* rules.c: maps:validate. Loads a set of maps with their registries and device profiles, then runs the controller
 * rules, one table row per rule (lv2lint-style), so adding a rule is one row and one function. */
#include "maps_internal.h"

#include "yaml.h"

#include "../pipeline/fsx.h"
#include "../pipeline/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
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
  json_t *reals; /* path -> its real path ("" when it has none): a thousand maps share a few folders and files */
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

/* The files found, and the folder (its real path) the walk must not leave. */
typedef struct {
  char **files;
  size_t n, cap;
  const char *root;
  PipeDiagList *diags;
} Collect;

/* A file name with control characters or bytes that are not UTF-8 would reach the terminal, the cache's JSON (which
 * refuses it: the map silently vanished from maps:check) and the provenance comment of the Ardour map. Such a file is
 * refused, named with the bad bytes written as \xNN. */
static void add_path(Collect *c, const char *path)
{
  char *shown = yaml_printable(path);
  if (shown) {
    pipe_diag_add(c->diags, PIPE_SEV_ERROR, "path-name", shown, 0, 0,
                  "the path holds control characters or bytes that are not UTF-8; expected a printable UTF-8 name "
                  "(rename it)");
    free(shown);
    return;
  }
  pipe_grow((void **)&c->files, &c->cap, c->n + 1, sizeof(char *));
  c->files[c->n++] = pipe_xstrdup(path);
}

/* A symbolic link met in a walk. A link to a YAML file is read when the file is inside the folder given on the
 * command line, refused otherwise (a map folder from elsewhere must not pull in files from anywhere). A link to a
 * directory is not followed, as find(1) and git do not: a loop cannot form, and nothing is read twice. */
static void walk_link(Collect *c, const char *path, const char *name)
{
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    pipe_diag_add(c->diags, PIPE_SEV_WARNING, "path-symlink", path, 0, 0,
                  "symbolic link to a directory, not followed; expected the maps in real folders (or name the folder "
                  "on the command line)");
    return;
  }
  if (!has_yaml_suffix(name))
    return;
  char *real = realpath(path, NULL);
  if (real && yaml_path_outside(real, c->root))
    pipe_diag_add(c->diags, PIPE_SEV_ERROR, "path-outside", path, 0, 0,
                  "symbolic link to %s, outside %s; expected maps inside the folder given", real, c->root);
  else
    add_path(c, path); /* a dangling link is kept: loading it reports that it cannot be read */
  free(real);
}

static void walk(Collect *c, const char *dir, int depth)
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
    if (lstat(p, &sb) != 0)
      ;
    else if (S_ISLNK(sb.st_mode))
      walk_link(c, p, e->d_name);
    else if (S_ISDIR(sb.st_mode))
      walk(c, p, depth + 1);
    else if (S_ISREG(sb.st_mode) && has_yaml_suffix(e->d_name))
      add_path(c, p);
    free(p);
  }
  closedir(d);
}

/* Keeps the first of the files (sorted by path) that are one file by their real paths (a link inside the folder,
 * a file named twice), so that a map is never checked against itself. Sets (*reals)[i], owned, NULL when the real
 * path is unknown. */
static size_t dedupe(char **files, size_t n, char ***reals)
{
  json_t *seen = json_object();
  size_t w = 0;
  *reals = pipe_xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    char *real = realpath(files[i], NULL);
    if ((w && !strcmp(files[w - 1], files[i])) || (real && json_object_get(seen, real))) {
      free(files[i]);
      free(real);
      continue;
    }
    if (real)
      json_object_set_new(seen, real, json_true());
    (*reals)[w] = real;
    files[w++] = files[i];
  }
  json_decref(seen);
  return w;
}

/* Every YAML file named by `paths`, sorted, without duplicates, with their real paths. Missing paths are reported. */
static char **collect(const char *const *paths, size_t n_paths, size_t *n, char ***reals, PipeDiagList *diags)
{
  Collect c = {.diags = diags};
  for (size_t i = 0; i < n_paths; i++) {
    struct stat sb;
    if (stat(paths[i], &sb) != 0) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "map-io", paths[i], 0, 0, "no such file or directory");
    } else if (S_ISDIR(sb.st_mode)) {
      char *root = realpath(paths[i], NULL);
      c.root = root ? root : paths[i];
      walk(&c, paths[i], 0);
      free(root);
    } else {
      add_path(&c, paths[i]); /* named on the command line: read wherever it leads */
    }
  }
  if (c.n)
    qsort(c.files, c.n, sizeof(char *), cmp_strs);
  *n = dedupe(c.files, c.n, reals);
  return c.files;
}

/* A cheap look at the text before the real parse: registries have "channels:" and no "controls:" at the top. */
static bool looks_like_registry(const char *path)
{
  /* Not blocking, and only a regular file: a FIFO named on the command line hung here, before the loader's checks */
  FILE *f = pipe_fs_open_regular(path, "r");
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
      *st = set->registries[i] ? PIPE_OK : PIPE_ERR_INVALID;
      return set->registries[i];
    }
  MapRegistry *r = NULL;
  *st = map_registry_load_file(path, &r, diags);
  /* A registry that failed is kept as NULL: its findings are reported once, not once per map that names it. */
  pipe_grow((void **)&set->registries, &set->cap_registries, set->n_registries + 1, sizeof(MapRegistry *));
  set->registry_reals = pipe_xrealloc(set->registry_reals, set->cap_registries * sizeof(char *));
  set->registries[set->n_registries] = r;
  set->registry_reals[set->n_registries++] = real;
  return r;
}

/* The real path of a file or folder, NULL when it has none; borrowed from the set's memo. */
static const char *real_path(const MapSet *set, const char *path)
{
  json_t *known = json_object_get(set->reals, path);
  if (!known) {
    char *real = realpath(path, NULL);
    known = json_string(real ? real : "");
    json_object_set_new(set->reals, path, known);
    free(real);
  }
  return *json_string_value(known) ? json_string_value(known) : NULL;
}

/* Whether `real` is inside the folder `dir`. */
static bool inside_dir(const MapSet *set, const char *real, const char *dir)
{
  const char *root = dir ? real_path(set, dir) : NULL;
  return root && !yaml_path_outside(real, root);
}

/* A file a map names (midi_channel_registry, a device.profile path) is a .yaml or .yml file in the map's folder or
 * the one above it, where the audio-control layout keeps its registries and local profiles
 * (`../midi-channel-registry.yaml`, `../profiles/rig.yaml`), or one of ctrlmap's own profiles (scripts/gen-maps
 * names them by absolute path). Anything else (a ../ that climbs further, an absolute path elsewhere, a link that
 * leads out) is refused before it is opened: a map from elsewhere must not make ctrlmap read a file of the machine
 * and quote its lines back, which it did, /etc/shadow's included. Returns the path to read (owned), or NULL after a
 * finding; a file that does not exist is the caller's finding. */
static char *map_ref_path(const MapSet *set, PipeDiagList *diags, const CanonMap *m, const char *ref, MapMark mark,
                          const char *what)
{
  if (!has_yaml_suffix(ref)) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "path-not-yaml", m->path, mark.line, mark.column,
                  "%s is not a .yaml or .yml file; expected a YAML file next to the map", what);
    return NULL;
  }
  char *path = ref[0] == '/' ? pipe_xstrdup(ref) : pipe_path_join(m->dir, ref);
  const char *real = real_path(set, path), *dir = real ? real_path(set, m->dir) : NULL;
  char *area = dir ? yaml_path_dir(dir) : NULL;
  if (real && !(area && !yaml_path_outside(real, area)) && !inside_dir(set, real, map_data_dir()) &&
      !inside_dir(set, real, set->profiles_dir)) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "path-outside", m->path, mark.line, mark.column,
                  "%s leads to %s, outside %s; expected a file in the map's folder or the folder above it", what, real,
                  area ? area : m->dir);
    free(path);
    path = NULL;
  }
  free(area);
  return path;
}

static char *profile_path(const MapSet *set, const CanonMap *m, PipeDiagList *diags)
{
  const char *p = m->device.profile;
  if (strchr(p, '/') || has_yaml_suffix(p))
    return map_ref_path(set, diags, m, p, m->device.profile_mark, "device.profile");
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
  char *path = profile_path(set, m, diags);
  MapProfile *prof = NULL;
  if (!path)
    return NULL;
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
  char *path = map_ref_path(ctx->set, ctx->diags, m, m->registry, m->registry_mark, "midi_channel_registry");
  if (!path)
    goto unresolved;
  PipeStatus st;
  e->registry = registry_get(ctx->set, path, ctx->diags, &st);
  if (st == PIPE_ERR_NOTFOUND)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "registry-missing", m, m->registry_mark, "channel registry %s does not exist", path);
  else if (!e->registry && !m->midi_channel) /* else the map passed, to fail in daw:generate on channel 0 */
    DIAG_AT(ctx, PIPE_SEV_ERROR, "registry-invalid", m, m->registry_mark,
            "channel registry %s has errors, so this map has no channel; expected a registry that loads", path);
  free(path);
  if (!e->registry || m->midi_channel)
    goto unresolved;
  for (size_t i = 0; i < e->registry->n_entries && !e->channel; i++) {
    const MapRegistryEntry *r = &e->registry->entries[i];
    if (r->real && e->real && !strcmp(r->real, e->real))
      e->channel = r->channel;
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
  if (needs && !m->registry && !m->midi_channel_mark.line) /* a wrong midi_channel is already reported */
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
    if (c->number < 0 && !c->number_mark.line) /* a cc or note that is there but wrong is already reported */
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
  /* Ardour reads the argument with sscanf("%d") and the Ardour schema wants a plain number (and none on other
   * functions): any other argument passed here and failed in daw:generate, with no line to show for it. */
  bool digits = c->argument && yaml_all_digits(c->argument) && strlen(c->argument) <= 10 &&
                strtoll(c->argument, NULL, 10) <= 2147483647;
  if (needs_arg && c->argument && !digits)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "function-argument", e->map, c->mark,
            "function '%s' takes a whole number from 0 (a bank or track number), not '%.40s'", c->function,
            c->argument);
  if (c->function && !needs_arg && c->argument)
    DIAG_AT(ctx, PIPE_SEV_ERROR, "function-argument", e->map, c->mark,
            "function '%s' takes no argument; expected none (Ardour ignores it)", c->function);
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
    {"registry-invalid", PIPE_SEV_ERROR, "midi_channel_registry names a registry that has errors"},
    {"path-outside", PIPE_SEV_ERROR,
     "a path leaves its folder: a map's registry or profile beyond the folder above the map, a registry entry "
     "outside the registry's folder, a symbolic link out of the folder given (collecting files)"},
    {"path-not-yaml", PIPE_SEV_ERROR, "midi_channel_registry or a device.profile path is not a .yaml/.yml file"},
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
    {"function-argument", PIPE_SEV_ERROR,
     "set-bank and select* functions without a whole-number argument, other functions with one"},
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
    if (!r)
      continue;
    for (size_t k = 0; k < r->n_entries; k++) {
      if (!r->entries[k].real)
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
  set->reals = json_object();
  char *default_profiles = pipe_path_join(map_data_dir(), "devices");
  set->profiles_dir = pipe_xstrdup(opts && opts->profiles_dir ? opts->profiles_dir : default_profiles);
  free(default_profiles);
  size_t n = 0;
  char **reals = NULL;
  char **files = collect(paths, n_paths, &n, &reals, diags);
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
      set->entries[set->n++] = (Entry){.map = l->map, .real = reals[i]};
      reals[i] = NULL;
    }
    free(reals[i]);
    free(files[i]);
  }
  free(loaded);
  free(reals);
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
  json_decref(set->reals);
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
