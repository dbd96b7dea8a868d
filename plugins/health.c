/* health.c: plugins:health. Each plugin is instantiated and run for one block in a worker process, so a plugin that
 * crashes, aborts or hangs is reported as such and the run goes on. The in-worker check is health_run.c. */
#include "plug_internal.h"
#include "pool.h"

#include "../pipeline/xalloc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_S 10.0

typedef struct {
  const PlugHealthOpts *opts;
  LilvWorld *world;
  const LilvPlugins *all;
  char **uris;
  json_t **results;
  size_t n_jobs, n_done;
  double timeout_s;
  PipePerf *perf;
  int phase;
} HealthCtx;

const char *plug_health_status_name(PlugHealthStatus st)
{
  switch (st) {
  case PLUG_HEALTH_OK: return "ok";
  case PLUG_HEALTH_MISSING_FEATURE: return "missing-feature";
  case PLUG_HEALTH_INSTANTIATE_FAILED: return "instantiate-failed";
  case PLUG_HEALTH_CRASHED: return "crashed";
  case PLUG_HEALTH_TIMEOUT: return "timeout";
  case PLUG_HEALTH_NONFINITE: return "non-finite";
  case PLUG_HEALTH_MEMORY_LIMIT: return "memory-limit";
  case PLUG_HEALTH_OUTPUT_FLOOD: return "output-flood";
  case PLUG_HEALTH_ERROR: return "error";
  }
  return "error";
}

static void health_child_init(void *ctx)
{
  (void)ctx;
  /* Sanitizer builds install handlers that turn a plugin's SIGSEGV into an exit status; a crash in plugin code
   * must be reported as the signal it is. */
  int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    signal(sigs[i], SIG_DFL);
}

static void health_run(void *vctx, size_t job, PlugBuf *out)
{
  HealthCtx *h = vctx;
  LilvNode *uri = lilv_new_uri(h->world, h->uris[job]);
  const LilvPlugin *p = lilv_plugins_get_by_uri(h->all, uri);
  lilv_node_free(uri);
  json_t *res = p ? plug_health_run_one(h->world, p, h->opts->sample_rate > 0 ? h->opts->sample_rate : 48000.0,
                                        h->opts->block > 0 ? h->opts->block : 1024)
                  : json_pack("{s:s, s:s}", "status", "error", "detail", "plugin not found");
  plug_buf_append_json(out, res);
}

static json_t *failure_result(const PlugJobResult *r, double timeout_s)
{
  char *detail = NULL;
  const char *status = plug_job_failure(r, timeout_s, &detail);
  json_t *j = json_pack("{s:s, s:s}", "status", status, "detail", detail);
  free(detail);
  return j;
}

/* Printing megabytes from instantiate() or run() is a real-time hazard in a DAW, so a plugin that did it and was
 * otherwise fine is reported; a worse status (crashed...) stays the status. */
static void flag_flood(json_t *entry, const PlugJobResult *r)
{
  if (!r->output_truncated || strcmp(json_string_value(json_object_get(entry, "status")), "ok"))
    return;
  char *detail = pipe_xasprintf("wrote %.1f MiB to stdout/stderr in one instantiate and run; the log keeps the "
                                "first part",
                                (double)r->output / (1024.0 * 1024.0));
  json_object_set_new(entry, "status", json_string(plug_health_status_name(PLUG_HEALTH_OUTPUT_FLOOD)));
  json_object_set_new(entry, "detail", json_string(detail));
  free(detail);
}

static const char *health_label(void *vctx, size_t job)
{
  return ((HealthCtx *)vctx)->uris[job];
}

static void health_done(void *vctx, size_t job, const PlugJobResult *r)
{
  HealthCtx *h = vctx;
  json_t *res = r->outcome == PLUG_JOB_OK ? json_loadb(r->payload, r->payload_len, 0, NULL) : NULL;
  if (!json_is_object(res) || !json_is_string(json_object_get(res, "status"))) {
    json_decref(res);
    res = failure_result(r, h->timeout_s);
  }
  json_t *entry = json_pack("{s:s}", "uri", h->uris[job]);
  json_object_update(entry, res);
  flag_flood(entry, r);
  json_object_set_new(entry, "ms", json_real(r->ms));
  json_decref(res);
  h->results[job] = entry;
  bool ok = !strcmp(json_string_value(json_object_get(entry, "status")), "ok");
  pipe_perf_item(h->perf, h->phase, r->ms, ok);
  h->n_done++;
  if (h->opts->progress)
    h->opts->progress(h->opts->progress_data, h->n_done, h->n_jobs, h->uris[job]);
}

static void select_plugins(HealthCtx *h)
{
  size_t cap = lilv_plugins_size(h->all);
  h->uris = pipe_xcalloc(cap + 1, sizeof(char *));
  LILV_FOREACH(plugins, i, h->all) {
    const char *uri = lilv_node_as_uri(lilv_plugin_get_uri(lilv_plugins_get(h->all, i)));
    const char *name = json_string_value(json_object_get(json_object_get(h->opts->names, uri), "name"));
    if (plug_filter_match(h->opts->filter, uri, name))
      h->uris[h->n_jobs++] = pipe_xstrdup(uri);
  }
}

PipeStatus plug_health(const PlugHealthOpts *opts, PipePerf *perf, json_t **results, PipeDiagList *diags)
{
  HealthCtx h = {.opts = opts, .perf = perf};
  h.timeout_s = opts->timeout_s > 0 ? opts->timeout_s : DEFAULT_TIMEOUT_S;
  char *lv2_path = plug_lv2_path(opts->lv2_path);
  int log_fd = plug_log_open(opts->log_path);
  int ph = pipe_perf_phase_begin(perf, "load");
  size_t nb = 0, readable = 0;
  PlugBundle *b = plug_scan_bundles(lv2_path, &nb, &readable, diags);
  h.world = plug_world_load(lv2_path, b, nb, log_fd);
  plug_bundles_free(b, nb);
  h.all = lilv_world_get_all_plugins(h.world);
  select_plugins(&h);
  pipe_perf_phase_end(perf, ph);
  h.results = pipe_xcalloc(h.n_jobs + 1, sizeof(json_t *));
  h.phase = pipe_perf_phase_begin(perf, "health");
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  PlugPoolOpts po = {.workers = opts->jobs > 0 ? opts->jobs : (int)(cpus > 0 ? cpus : 1),
                     .timeout_s = h.timeout_s,
                     .output_fd = log_fd,
                     .label = health_label,
                     .memory_limit_mib = opts->memory_limit_mib,
                     .jobs_per_worker = 1,
                     /* isolation: no plugin sees another's leftovers */ .child_init = health_child_init,
                     .run = health_run,
                     .done = health_done,
                     .ctx = &h};
  PipeStatus st = plug_pool_run(&po, h.n_jobs, diags);
  pipe_perf_phase_end(perf, h.phase);
  *results = json_array();
  for (size_t i = 0; i < h.n_jobs; i++) {
    if (h.results[i])
      json_array_append_new(*results, h.results[i]);
    free(h.uris[i]);
  }
  free(h.results);
  free(h.uris);
  lilv_world_free(h.world);
  if (log_fd >= 0)
    close(log_fd);
  free(lv2_path);
  return st;
}
