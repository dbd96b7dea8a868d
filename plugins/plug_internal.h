/* plug_internal.h: what the files of plugins/ share; not for use outside this folder (tests excepted). */
#ifndef CTRLMAP_PLUG_INTERNAL_H
#define CTRLMAP_PLUG_INTERNAL_H

#include "plug.h"

#include <lilv/lilv.h>
#include <stdint.h>

/* Debian's lilv default search path (lilv does not export it; see `strings liblilv-0.so.0`). */
#define PLUG_DEFAULT_LV2_PATH "~/.lv2:/usr/lib/x86_64-linux-gnu/lv2:/usr/lib/lv2:/usr/local/lib/lv2"

typedef struct {
  char *path; /* absolute directory with a trailing '/', the form lilv_file_uri_parse gives bundle URIs */
  uint64_t fp;
} PlugBundle;

/* Lists the bundles (directories holding a manifest.ttl) of every directory of `lv2_path`, with their metadata
 * fingerprints, in path order. Unreadable path entries are skipped, as lilv skips them; *readable_dirs counts the
 * ones that could be read. A bundle whose manifest.ttl is not a regular file (a FIFO would block the reader
 * forever, /dev/zero would feed it forever) or is larger than PLUG_MANIFEST_MAX is left out, with a warning
 * (lv2-bundle-skipped) in `diags` if not NULL. */
PlugBundle *plug_scan_bundles(const char *lv2_path, size_t *n, size_t *readable_dirs, PipeDiagList *diags);
void plug_bundles_free(PlugBundle *bundles, size_t n);

/* The largest manifest.ttl read: Debian's largest (lsp-plugins) is 33 KiB. */
#define PLUG_MANIFEST_MAX (16u * 1024 * 1024)

/* A lilv world with the manifests of `bundles` loaded, and nothing else (plugin data is read when asked for, in
 * the workers). What lilv prints while loading goes to `log_fd` (-1: discarded) instead of the terminal. */
LilvWorld *plug_world_load(const char *lv2_path, const PlugBundle *bundles, size_t n, int log_fd);

/* The directory part of a file: URI with a trailing '/', or NULL. Owned. */
char *plug_uri_dir(const char *file_uri);

/* Nodes the describer queries, created once per world. */
typedef struct PlugNodes PlugNodes;
PlugNodes *plug_nodes_new(LilvWorld *world);
void plug_nodes_free(PlugNodes *nodes);

/* The descriptor of one plugin (schemas/plugin-descriptor.schema.json). Owned. */
json_t *plug_describe(LilvWorld *world, PlugNodes *nodes, const LilvPlugin *plugin);

/* Shared by the two describers (describe.c over lilv, describe_graph.c over a PlugGraph), so that both write the
 * same descriptor. */
typedef struct {
  json_int_t audio_in, audio_out, control_in, control_out, atom_in, atom_out, cv_in, cv_out, other;
} PlugPortCounts;
json_t *plug_desc_number(const char *text, bool is_int);          /* a literal's text as a JSON number, or null */
const char *plug_desc_short_name(const char *uri);                /* LV2 core / port-props URIs by local name */
void plug_desc_set_if(json_t *obj, const char *key, json_t *val); /* sets unless val is NULL or null */
json_t *plug_desc_sorted_strings(json_t *arr);                    /* sorts arr in place and returns it */
json_t *plug_desc_sort_scale_points(json_t *arr);                 /* by value, then label; in place */
json_t *plug_desc_sort_by_uri(json_t *arr);                       /* objects by their "uri"; in place */
void plug_desc_count_port(PlugPortCounts *c, const char *kind, bool input);
json_t *plug_desc_counts_json(const PlugPortCounts *c, json_int_t ardour_params);

/* The descriptor from a plugin's own Turtle files read into a PlugGraph (graph.h), falling back to the world for
 * what those files do not describe (unit symbols, plugin classes). Returns NULL when the data has something this
 * reader does not model (a prototype, a broken port list): the caller then uses plug_describe. */
struct PlugGraph;
json_t *plug_describe_graph(LilvWorld *world, PlugNodes *nodes, const LilvPlugin *plugin, struct PlugGraph *g);

/* Opens (append) the log file that receives what plugins and lilv print; -1 if it cannot be opened. */
int plug_log_open(const char *path);

/* The host features plug_health_run_one offers (NULL-terminated, static). */
const char *const *plug_health_supported_features(void);

/* Runs one plugin for a block and returns {status, detail, ...} (health.c). Runs inside a worker. */
json_t *plug_health_run_one(LilvWorld *world, const LilvPlugin *plugin, double rate, unsigned block);

#endif
