/* map.h: phase 2, canonical controller maps. A canonical map says, for one controller and one plugin, which
 * physical control drives which plugin parameter. It is YAML (read with libfyaml, so every finding points at
 * file:line:column), compatible with the TypeScript "audio-control" tool's format and extended for LV2
 * (schemas/canonical-map.schema.json documents every field). Device profiles (schemas/device.schema.json) and
 * channel registries are YAML too.
 *
 * The loaded structures are plain data, read-only for everything but their loader: three phases read them, and
 * a documented struct is clearer there than forty accessors. map_load_* returns what it could read together with
 * the diagnostics; the rules (map_validate) and the plugin cross-check (map_check) add theirs. */
#ifndef CTRLMAP_MAP_H
#define CTRLMAP_MAP_H

#include "../cache/cache.h"
#include "../pipeline/diag.h"
#include "../pipeline/status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Files larger than this are refused before parsing (a canonical map is a few kilobytes). */
#define MAP_MAX_FILE_BYTES (4u * 1024 * 1024)

typedef struct {
  unsigned line, column; /* 1-based; 0 when unknown */
} MapMark;

typedef enum { MAP_CTL_ENCODER, MAP_CTL_SLIDER, MAP_CTL_BUTTON, MAP_CTL_BUTTON_GROUP } MapControlType;

/* What the control sends. DEFAULT: as the device profile says, else a CC. */
typedef enum { MAP_MSG_DEFAULT, MAP_MSG_CC, MAP_MSG_NOTE } MapMessage;

/* How an encoder sends: absolute values, or relative in one of Ardour's encodings. */
typedef enum { MAP_ENC_DEFAULT, MAP_ENC_ABSOLUTE, MAP_ENC_R, MAP_ENC_L, MAP_ENC_2, MAP_ENC_B } MapEncoding;

typedef enum { MAP_MODE_DEFAULT, MAP_MODE_TOGGLE, MAP_MODE_MOMENTARY } MapMode;

/* plugin_parameter: absent, an LV2 port index (an integer, or a string of digits as the TypeScript tool writes
 * them), or a text that names a port by symbol (preferred: stable across plugin versions) or by name. */
typedef enum { MAP_PARAM_NONE, MAP_PARAM_INDEX, MAP_PARAM_TEXT } MapParamKind;

#define MAP_CHANNEL_GLOBAL (-1) /* channel: global (resolved through midi_channel or the registry) */

typedef struct MapControl {
  char *id, *name, *description; /* id required; others may be NULL */
  MapControlType type;
  MapMessage message;
  int number;  /* the CC or note number (cc: / note:), -1 when absent (then from the profile) */
  int channel; /* 1..16, MAP_CHANNEL_GLOBAL, or 0 when absent (treated as global) */
  bool has_range;
  int range[2]; /* MIDI value range, [0, 127] when absent */
  bool has_param_range;
  double param_range[2]; /* parameter_range: the part of the parameter's span the control sweeps */
  MapMode mode;
  MapEncoding encoding;
  MapParamKind param_kind;
  long param_index;
  char *param_text;
  char *function, *argument; /* an Ardour function (transport-roll...) instead of a plugin parameter */
  MapMark mark;              /* the control's mapping */
  MapMark id_mark, number_mark, channel_mark, range_mark, param_range_mark, mode_mark, param_mark, type_mark;
  struct MapControl *buttons; /* button_group members */
  size_t n_buttons;
} MapControl;

typedef struct {
  char *path; /* as given to the loader */
  char *dir;  /* directory of path: relative references resolve against it */
  char *version;
  struct {
    char *manufacturer, *model, *firmware, *profile;
    MapMark mark, profile_mark;
  } device;
  struct {
    char *name, *description, *author, *date, *notes;
    char **tags;
    size_t n_tags;
    MapMark mark;
  } metadata;
  struct {
    char *manufacturer, *name, *type, *format, *version, *descriptor, *uri;
    MapMark mark, uri_mark, descriptor_mark;
  } plugin;
  int midi_channel; /* 1..16; 0 when absent */
  MapMark midi_channel_mark;
  char *registry; /* midi_channel_registry, as written */
  MapMark registry_mark;
  struct {
    char *route;         /* Ardour route for phase 3 ("S1" when absent: NULL here) */
    int plugin_position; /* 1-based; 0 when absent */
    MapMark mark;
  } ardour;
  MapControl *controls;
  size_t n_controls;
  uint64_t content_hash; /* XXH3 of the file's bytes */
  MapMark root_mark;
} CanonMap;

/* Reads and structurally checks a canonical map: YAML syntax, required fields, types, value domains (cc 0-127,
 * channel 1-16 or "global", enums), unknown keys (a warning with a did-you-mean). Aliases are refused, never
 * expanded. Returns PIPE_OK with *map set when the document could be read as a map, even if diagnostics were added
 * (check the error count); PIPE_ERR_IO / PIPE_ERR_PARSE / PIPE_ERR_INVALID with *map NULL when there is nothing to
 * work with (unreadable, too large, empty, not YAML, not a mapping). */
PipeStatus map_load_file(const char *path, CanonMap **map, PipeDiagList *diags);
PipeStatus map_load_string(const char *text, size_t len, const char *origin, CanonMap **map, PipeDiagList *diags);
void map_free(CanonMap *map); /* NULL is a no-op */

/* --- device profiles --- */

typedef struct {
  char *id;
  MapControlType type;
  MapMessage message; /* CC or NOTE */
  int number;
  int channel; /* 0: the profile's default channel */
  char *label;
} MapProfileControl;

typedef struct {
  char *id, *manufacturer, *model, *path;
  int default_channel; /* 1..16 */
  MapProfileControl *controls;
  size_t n_controls;
} MapProfile;

PipeStatus map_profile_load_file(const char *path, MapProfile **profile, PipeDiagList *diags);
void map_profile_free(MapProfile *profile);
const MapProfileControl *map_profile_find(const MapProfile *profile, const char *control_id);

/* --- channel registries (one channel per map of a device) --- */

typedef struct {
  int channel;
  char *path; /* the map, relative to the registry's directory, without ".yaml" (as the TypeScript tool writes it) */
  char *real; /* the real path of the file it names (path.yaml, .yml, or as written), NULL when there is none */
  char *description;
  MapMark mark;
} MapRegistryEntry;

typedef struct {
  char *path, *dir;
  char *manufacturer, *model;
  MapRegistryEntry *entries;
  size_t n_entries;
} MapRegistry;

/* Entries name maps in the registry's folder or below it: an absolute path or a ".." component is `path-outside`, and
 * so is a name whose file is a symbolic link that leads out of the folder. Any error refuses the whole registry. */
PipeStatus map_registry_load_file(const char *path, MapRegistry **registry, PipeDiagList *diags);
void map_registry_free(MapRegistry *registry);

/* Whether a YAML file is a registry (a top-level "channels" mapping and no "controls") rather than a map; reads
 * only as much as it needs. */
bool map_file_is_registry(const char *path);

/* --- validation (maps:validate) --- */

/* A set of maps with what they reference (registries, device profiles), loaded together so that rules can look
 * across maps (two maps of one device on one channel). */
typedef struct MapSet MapSet;

typedef struct {
  const char *profiles_dir; /* where `device.profile: <id>` resolves; NULL: the bundled profiles */
} MapSetOpts;

/* Loads every map under `paths` (files, or directories searched recursively for *.yaml and *.yml; registries
 * found there are loaded as registries) and runs every controller rule. Findings go to `diags`; the set holds
 * whatever could be loaded. Collecting files: a file named in `paths` is read wherever it is; in a directory, a
 * symbolic link to a YAML file is read only when its real path is inside that directory (else path-outside), a
 * symbolic link to a directory is not followed (path-symlink, a warning), a path with control characters or bytes
 * that are not UTF-8 is refused (path-name, named with \xNN escapes), and a file reached twice is read once. */
MapSet *map_set_load(const char *const *paths, size_t n_paths, const MapSetOpts *opts, PipeDiagList *diags);
void map_set_free(MapSet *set);

size_t map_set_size(const MapSet *set);
const CanonMap *map_set_map(const MapSet *set, size_t i);
/* The map's MIDI channel (from midi_channel or its registry), 0 if unresolved. */
int map_set_channel(const MapSet *set, size_t i);
/* The map's device profile, or NULL. */
const MapProfile *map_set_profile(const MapSet *set, size_t i);
/* The CC or note number and message of a control after the profile filled in what the map omits. */
int map_set_number(const MapSet *set, size_t i, const MapControl *c, MapMessage *message);

/* The rule table, for documentation and --help: code, severity, summary. */
typedef struct {
  const char *code;
  PipeSeverity severity;
  const char *summary;
} MapRuleInfo;
const MapRuleInfo *map_rules(size_t *n);

/* The bundled data directory (device profiles in devices/, default maps in defaults/): $CTRLMAP_DATA_DIR, else the
 * installed share/ctrlmap, else the source tree. Borrowed. */
const char *map_data_dir(void);

/* --- plugin cross-check (maps:check) --- */

/* Resolves maps against plugin descriptors from the cache (plugins:extract writes them). */
typedef struct MapChecker MapChecker;

/* `store` and `index` (plug_index_load) are borrowed and must outlive the checker. */
MapChecker *map_checker_new(const CacheStore *store, json_t *index);
void map_checker_free(MapChecker *checker);

/* Checks map i of the set against its plugin: the plugin is found (by plugin.uri, else by plugin.name), every
 * plugin_parameter names a control input, and each control fits its parameter. Returns the resolved bindings as a
 * JSON object (owned; schemas/map-bindings.schema.json) with the Ardour parameter number of each binding and the
 * coverage, or NULL when the plugin cannot be found. */
json_t *map_check(MapChecker *checker, const MapSet *set, size_t i, PipeDiagList *diags);

#endif
