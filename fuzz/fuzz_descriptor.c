/* fuzz_descriptor: plugin descriptor JSON, as plugins:extract leaves it in the cache, -> plug_desc_load -> map_check
 * -> daw_ardour_render: everything that reads a descriptor and where its values go (ports, ardour_param, ranges,
 * properties, the plugin's URI and name). The harness writes the input as the descriptor of the allports fixture in a
 * private cache whose index holds the input's checksum, so every input gets past the checksum to the JSON reading;
 * two fixed maps name ports the ways a map can (index, symbol, name, a typo, outputs, non-control ports). */
#include "cache/cache.h"
#include "daw/daw.h"
#include "maps/map.h"
#include "pipeline/fsx.h"
#include "plugins/plug.h"

#include <ftw.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CTRLMAP_FUZZ_SCHEMA_DIR
#define CTRLMAP_FUZZ_SCHEMA_DIR "schemas"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed fixture's URI, so that its descriptor is consistent with the index. */
#define URI      "urn:ctrlmap:test:allports"
#define DESC_REL "plugins/desc/fuzz.json"

/* Port names and symbols are those of the allports fixture (tests/fixtures/lv2/allports), the seed descriptor. */
static const char BY_URI_MAP[] =
    "version: 1.0.0\n"
    "device: {manufacturer: Fuzz, model: Pad}\n"
    "metadata: {name: fuzz by uri}\n"
    "plugin: {uri: \"" URI "\"}\n"
    "midi_channel: 2\n"
    "ardour: {route: Vocals, plugin_position: 2}\n"
    "controls:\n"
    "  - {id: by_index, type: encoder, cc: 1, encoding: enc-r, plugin_parameter: 3}\n"
    "  - {id: by_symbol, type: slider, cc: 2, parameter_range: [0.1, 0.9], plugin_parameter: gain}\n"
    "  - {id: by_name, type: slider, cc: 3, plugin_parameter: Cutoff}\n"
    "  - {id: twice, type: slider, cc: 4, plugin_parameter: gain}\n"
    "  - {id: typo, type: encoder, cc: 5, plugin_parameter: gian}\n"
    "  - {id: output, type: slider, cc: 6, plugin_parameter: level}\n"
    "  - {id: atom, type: slider, cc: 7, plugin_parameter: control}\n"
    "  - {id: toggle, type: slider, cc: 8, plugin_parameter: enable}\n"
    "  - {id: continuous, type: button, cc: 9, plugin_parameter: freq}\n"
    "  - {id: fn, type: button, cc: 10, function: transport-roll}\n"
    "  - id: row\n"
    "    type: button_group\n"
    "    buttons:\n"
    "      - {id: trigger, note: 11, mode: momentary, plugin_parameter: trig}\n"
    "      - {id: enum, cc: 12, mode: toggle, plugin_parameter: mode}\n"
    "      - {id: steps, cc: 13, mode: momentary, plugin_parameter: steps}\n";

/* Found through the index's name, the way maps without plugin.uri are. */
static const char BY_NAME_MAP[] = "version: 1.0.0\n"
                                  "device: {manufacturer: Fuzz, model: Pad}\n"
                                  "metadata: {name: fuzz by name}\n"
                                  "plugin: {name: ctrlmap all ports}\n"
                                  "midi_channel: 3\n"
                                  "controls:\n"
                                  "  - {id: first, type: slider, cc: 1, plugin_parameter: 0}\n"
                                  "  - {id: hidden, type: encoder, cc: 2, plugin_parameter: Hidden}\n";

typedef struct {
  char *dir, *cache_dir, *desc_path;
  CacheStore *store;
  json_t *index, *entry; /* entry: borrowed from index */
  MapSet *set;
  DawArdour *ardour;
} Env;

static Env env;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void env_release(void)
{
  daw_ardour_free(env.ardour);
  map_set_free(env.set);
  json_decref(env.index);
  cache_close(env.store);
  if (env.dir)
    nftw(env.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(env.dir);
  free(env.cache_dir);
  free(env.desc_path);
  memset(&env, 0, sizeof env);
}

static void die(const char *what, PipeDiagList *diags)
{
  fprintf(stderr, "fuzz_descriptor: %s\n", what);
  pipe_diags_print(diags, stderr);
  abort();
}

static void write_map(const char *dir, const char *name, const char *text, PipeDiagList *diags)
{
  char *path = pipe_path_join(dir, name);
  if (pipe_fs_write_atomic(path, text, strlen(text), false, diags) != PIPE_OK)
    die("cannot write a map", diags);
  free(path);
}

/* The private cache, the index entry of URI, the two maps (validated once) and the Ardour schema. */
static void env_init(void)
{
  PipeDiagList *diags = pipe_diags_new();
  const char *tmp = getenv("TMPDIR");
  char *templ = pipe_path_join(tmp && *tmp ? tmp : "/tmp", "ctrlmap-fuzz-desc-XXXXXX");
  if (!mkdtemp(templ))
    die("mkdtemp failed", diags);
  env.dir = templ;
  atexit(env_release);
  env.cache_dir = pipe_path_join(env.dir, "cache");
  PipeStatus st;
  env.store = cache_open(env.cache_dir, CACHE_WRITE, 0, &st, diags);
  if (!env.store || cache_mkdir(env.store, "plugins/desc", diags) != PIPE_OK)
    die("cannot open the cache", diags);
  env.desc_path = cache_path(env.store, DESC_REL);
  env.index = json_pack("{s:{s:{s:s, s:s, s:s}}}", "plugins", URI, "name", "ctrlmap all ports", "file", DESC_REL,
                        "hash", "0000000000000000");
  env.entry = json_object_get(plug_index_entries(env.index), URI);

  char *maps = pipe_path_join(env.dir, "maps");
  if (pipe_fs_mkdirs(maps, diags) != PIPE_OK)
    die("cannot make the map folder", diags);
  write_map(maps, "by-uri.yaml", BY_URI_MAP, diags);
  write_map(maps, "by-name.yaml", BY_NAME_MAP, diags);
  const char *paths[] = {maps};
  MapSetOpts opts = {.profiles_dir = env.dir};
  env.set = map_set_load(paths, 1, &opts, diags);
  if (map_set_size(env.set) != 2 || pipe_diags_count_severity(diags, PIPE_SEV_ERROR))
    die("the fixed maps do not load", diags);
  free(maps);

  char *rng = pipe_path_join(CTRLMAP_FUZZ_SCHEMA_DIR, "ardour-midi-map-strict.rng");
  env.ardour = daw_ardour_new(rng, diags);
  if (!env.ardour)
    die("cannot load the Ardour schema", diags);
  free(rng);
  pipe_diags_free(diags);
}

/* The descriptor file and its checksum in the index, as plugins:extract writes them. */
static void put_descriptor(const uint8_t *data, size_t size)
{
  FILE *f = fopen(env.desc_path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror("fuzz_descriptor: cannot write the descriptor");
    abort();
  }
  char hex[17];
  cache_hash_hex(cache_hash(data, size), hex);
  json_object_set_new(env.entry, "hash", json_string(hex));
}

/* What daw:generate does with a map's bindings. */
static void render(json_t *bindings, PipeDiagList *diags)
{
  char *xml = NULL, *display = daw_ardour_display_name(bindings);
  size_t len = 0;
  char *file = daw_file_name(display);
  (void)daw_ardour_render(env.ardour, bindings, NULL, &xml, &len, diags);
  free(xml);
  free(file);
  free(display);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!env.store)
    env_init();
  put_descriptor(data, size);
  PipeDiagList *diags = pipe_diags_new();
  /* A new checker each time: it keeps the descriptors it loaded. */
  MapChecker *checker = map_checker_new(env.store, env.index);
  for (size_t i = 0; i < map_set_size(env.set); i++) {
    json_t *bindings = map_check(checker, env.set, i, diags);
    if (bindings)
      render(bindings, diags);
    json_decref(bindings);
  }
  map_checker_free(checker);
  pipe_diags_free(diags);
  return 0;
}
