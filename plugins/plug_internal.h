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
 * fingerprints, in path order. Unreadable path entries are skipped, as lilv skips them. */
PlugBundle *plug_scan_bundles(const char *lv2_path, size_t *n);
void plug_bundles_free(PlugBundle *bundles, size_t n);

/* A lilv world with every manifest loaded from `lv2_path`, and nothing else. What lilv prints while loading goes to
 * `log_fd` (-1: discarded) instead of the terminal. */
LilvWorld *plug_world_load(const char *lv2_path, int log_fd);

/* The directory part of a file: URI with a trailing '/', or NULL. Owned. */
char *plug_uri_dir(const char *file_uri);

/* Nodes the describer queries, created once per world. */
typedef struct PlugNodes PlugNodes;
PlugNodes *plug_nodes_new(LilvWorld *world);
void plug_nodes_free(PlugNodes *nodes);

/* The descriptor of one plugin (schemas/plugin-descriptor.schema.json). Owned. */
json_t *plug_describe(LilvWorld *world, PlugNodes *nodes, const LilvPlugin *plugin);


/* Opens (append) the log file that receives what plugins and lilv print; -1 if it cannot be opened. */
int plug_log_open(const char *path);

/* Runs one plugin for a block and returns {status, detail, ...} (health.c). Runs inside a worker. */
json_t *plug_health_run_one(LilvWorld *world, const LilvPlugin *plugin, double rate, unsigned block);

#endif
