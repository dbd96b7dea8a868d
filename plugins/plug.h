/* plug.h: phase 1, plugin interrogation. Discovers the installed LV2 plugins, describes each one in a JSON
 * descriptor (schemas/plugin-descriptor.schema.json) inside a pool of worker processes, keeps the descriptors in the
 * cache incrementally, and health-checks plugins by running them. */
#ifndef CTRLMAP_PLUG_H
#define CTRLMAP_PLUG_H

#include "../cache/cache.h"
#include "../pipeline/diag.h"
#include "../pipeline/perf.h"
#include "../pipeline/status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Version of the descriptor JSON layout (the "format" field). */
#define PLUG_DESC_FORMAT 1

/* The LV2 search path in effect: `explicit_path` if given, else $LV2_PATH, else the path Debian's lilv uses by
 * default. Owned. */
char *plug_lv2_path(const char *explicit_path);

/* Case-insensitive substring match of `filter` against a plugin's URI or name (NULL filter matches all). */
bool plug_filter_match(const char *filter, const char *uri, const char *name);

/* Called in the parent after each finished item (for progress display). */
typedef void (*PlugProgressFn)(void *data, size_t done, size_t total, const char *label);

/* How plugin data is read. Both give byte-identical descriptors (tests/debian/engines.sh). */
typedef enum {
  PLUG_ENGINE_STREAM, /* the plugin's Turtle streamed with serd into a small table: ~5x cheaper */
  PLUG_ENGINE_LILV    /* lilv's own store and queries: the reference */
} PlugEngine;

typedef struct {
  const char *lv2_path; /* NULL: plug_lv2_path(NULL) */
  PlugEngine engine;
  int jobs;                       /* worker processes; <= 0: online CPUs */
  double timeout_s;               /* per plugin; <= 0: default */
  unsigned long memory_limit_mib; /* a worker over this resident size is killed; 0: no limit */
  bool force;                     /* re-extract everything */
  PlugProgressFn progress;
  void *progress_data;
} PlugExtractOpts;

/* What one extract run did. Owned by the caller: plug_extract_report_free. */
typedef struct {
  size_t plugins;     /* plugins installed now */
  size_t extracted;   /* interrogated in this run */
  size_t cached;      /* reused from the cache */
  size_t failed;      /* whose interrogation failed (now or in an earlier run of the same bundle) */
  size_t removed;     /* dropped from the index: no longer installed */
  bool turtle_loaded; /* false on a warm run: nothing was parsed */
  json_t *failures;   /* array of {uri, error} */
  json_t *index;      /* the plugin index as it now is (see plug_index_load), or NULL if the run failed */
} PlugExtractReport;

void plug_extract_report_free(PlugExtractReport *report);

/* Brings the cache's descriptors up to date with the installed plugins. The store must be open for writing.
 * Returns PIPE_OK even when some plugins failed (they are in the report); an error status means the run itself
 * could not be done (cache unwritable, LV2 path unreadable...). */
PipeStatus plug_extract(CacheStore *store, const PlugExtractOpts *opts, PipePerf *perf, PlugExtractReport **report,
                        PipeDiagList *diags);

/* The plugin index: one summary object per plugin, keyed by URI (see plug_index_entry). Owned json_t. Returns
 * PIPE_ERR_NOTFOUND when nothing was extracted yet. */
PipeStatus plug_index_load(const CacheStore *store, json_t **index, PipeDiagList *diags);
/* The summary object of one plugin (borrowed from `index`): uri, name, class, bundle, control_in, control_out,
 * status ("ok" or "failed"), error, file, hash... NULL when unknown. */
json_t *plug_index_entries(json_t *index);

/* Loads one plugin's descriptor from the cache, checking it against the index checksum. A descriptor that fails the
 * check is PIPE_ERR_CORRUPT (run plugins:extract to rebuild it). Owned json_t. */
PipeStatus plug_desc_load(const CacheStore *store, json_t *index, const char *uri, json_t **desc, PipeDiagList *diags);

/* For workflow:health: each directory of the LV2 path with whether it can be read and how many bundles it holds,
 * as a JSON array of {dir, readable, bundles} (owned). */
json_t *plug_path_info(const char *lv2_path);

/* For workflow:health: checks the cache against the installed plugins without changing anything. Returns a JSON
 * object {plugins, failed, corrupt (descriptors failing their checksum), missing (descriptors gone),
 * bundles_changed (new, changed or removed bundles since the last extract)} (owned), or NULL when there is no
 * usable index. */
json_t *plug_cache_verify(const CacheStore *store, const char *lv2_path, PipeDiagList *diags);

/* --- health --- */

typedef enum {
  PLUG_HEALTH_OK,
  PLUG_HEALTH_MISSING_FEATURE,
  PLUG_HEALTH_INSTANTIATE_FAILED,
  PLUG_HEALTH_CRASHED,
  PLUG_HEALTH_TIMEOUT,
  PLUG_HEALTH_NONFINITE,
  PLUG_HEALTH_MEMORY_LIMIT, /* killed for going over --memory-limit */
  PLUG_HEALTH_OUTPUT_FLOOD, /* worked, but wrote more to stdout/stderr than the log keeps (1 MiB) */
  PLUG_HEALTH_ERROR         /* the check itself could not be run (worker lost) */
} PlugHealthStatus;

const char *plug_health_status_name(PlugHealthStatus st);

typedef struct {
  const char *lv2_path;
  const char *filter; /* substring of URI or name, case-insensitive; NULL: all */
  int jobs;
  double timeout_s;
  unsigned long memory_limit_mib; /* a plugin over this resident size is killed (memory-limit); 0: no limit */
  double sample_rate;             /* <= 0: 48000 */
  unsigned block;                 /* <= 0: 1024 */
  const char *log_path;           /* where plugin output goes (appended); NULL: discarded */
  json_t *names;                  /* optional plugin index (uri -> {name...}), borrowed: lets --plugin match names */
  PlugProgressFn progress;
  void *progress_data;
} PlugHealthOpts;

/* Runs every matching plugin in isolation. *results: array of {uri, name, status, detail, ms}. */
PipeStatus plug_health(const PlugHealthOpts *opts, PipePerf *perf, json_t **results, PipeDiagList *diags);

#endif
