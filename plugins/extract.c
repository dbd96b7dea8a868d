/* extract.c: plugins:extract. A warm run stats the bundles and the descriptors and stops there (no Turtle is
 * parsed); otherwise the manifests are loaded once in this process, and the plugins that need it are described in
 * forked workers, which write their descriptors straight into the cache. */
#include "plug_internal.h"
#include "graph.h"
#include "pool.h"

#include "../pipeline/fsx.h"
#include "../pipeline/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_DOC         "plugins/index"
#define INDEX_KIND        "plugin-index"
#define DESC_DIR          "plugins/desc"
#define EXTRACT_LOG       "logs/extract.log"
#define DEFAULT_TIMEOUT_S 5.0
/* Descriptors of the largest Debian plugins are ~1 MB; this only bounds a corrupt file. */
#define DESC_MAX (64u * 1024 * 1024)

typedef struct {
  const PlugExtractOpts *opts;
  CacheStore *store;
  LilvWorld *world;
  PlugNodes *nodes;
  const LilvPlugins *all;
  char *desc_dir;
  /* jobs */
  char **uris;
  json_t **job_entries; /* per job: the index entry being built (fp, bundles) */
  size_t n_jobs;
  PlugExtractReport *report;
  PipePerf *perf;
  int phase;
  double timeout_s;
  char *io_error; /* the first descriptor write failure: the run then fails with PIPE_ERR_IO */
} ExtractCtx;

void plug_extract_report_free(PlugExtractReport *report)
{
  if (!report)
    return;
  json_decref(report->failures);
  json_decref(report->index);
  free(report);
}

json_t *plug_index_entries(json_t *index)
{
  return json_object_get(index, "plugins");
}

PipeStatus plug_index_load(const CacheStore *store, json_t **index, PipeDiagList *diags)
{
  PipeStatus st = cache_doc_load(store, INDEX_DOC, INDEX_KIND, index, diags);
  if (st == PIPE_OK && !json_is_object(plug_index_entries(*index))) {
    pipe_diag_add(diags, PIPE_SEV_WARNING, "cache-corrupt", INDEX_DOC, 0, 0, "index has no plugin table");
    json_decref(*index);
    *index = NULL;
    st = PIPE_ERR_CORRUPT;
  }
  return st;
}

static bool json_str_is(const json_t *j, const char *s)
{
  const char *v = json_string_value(j);
  return v && s && !strcmp(v, s);
}

/* ---- descriptor files ---- */

static char *desc_rel_path(const char *uri)
{
  char hex[17];
  cache_hash_hex(cache_hash(uri, strlen(uri)), hex);
  return pipe_xasprintf(DESC_DIR "/%s.json", hex);
}

/* A cached descriptor is trusted on a warm run when its size and mtime are those the index recorded (a stat, not a
 * read); readers then check the full checksum (plug_desc_load). */
static bool desc_file_current(const CacheStore *store, json_t *entry)
{
  const char *file = json_string_value(json_object_get(entry, "file"));
  if (!file)
    return false;
  char *path = cache_path(store, file);
  struct stat sb;
  bool ok = stat(path, &sb) == 0 && (json_int_t)sb.st_size == json_integer_value(json_object_get(entry, "size")) &&
            (json_int_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec ==
                json_integer_value(json_object_get(entry, "mtime_ns"));
  free(path);
  return ok;
}

PipeStatus plug_desc_load(const CacheStore *store, json_t *index, const char *uri, json_t **desc, PipeDiagList *diags)
{
  *desc = NULL;
  json_t *entry = json_object_get(plug_index_entries(index), uri);
  const char *file = json_string_value(json_object_get(entry, "file"));
  uint64_t want = 0;
  if (!file || !cache_hash_parse(json_string_value(json_object_get(entry, "hash")), &want))
    return PIPE_ERR_NOTFOUND;
  char *path = cache_path(store, file), *data = NULL;
  size_t len = 0;
  PipeStatus st = pipe_fs_read(path, DESC_MAX, &data, &len, diags);
  if (st == PIPE_OK && cache_hash(data, len) != want) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "cache-corrupt", path, 0, 0,
                  "descriptor of <%s> fails its checksum (changed outside ctrlmap); run `ctrlmap plugins:extract --force` "
                  "to rebuild it",
                  uri);
    st = PIPE_ERR_CORRUPT;
  }
  json_error_t err;
  if (st == PIPE_OK && !(*desc = json_loadb(data, len, 0, &err))) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "cache-corrupt", path, (unsigned)err.line, (unsigned)err.column,
                  "unreadable descriptor: %s", err.text);
    st = PIPE_ERR_CORRUPT;
  }
  free(data);
  free(path);
  return st;
}

/* ---- the worker side ---- */

static json_t *summary_of(const json_t *desc)
{
  json_t *counts = json_object_get(desc, "counts");
  return json_pack("{s:O, s:O, s:O, s:O, s:O, s:I}", "name", json_object_get(desc, "name"), "class",
                   json_object_get(json_object_get(desc, "class"), "label"), "bundle", json_object_get(desc, "bundle"),
                   "control_in", json_object_get(counts, "control_in"), "control_out",
                   json_object_get(counts, "control_out"), "ports",
                   (json_int_t)json_array_size(json_object_get(desc, "ports")));
}

static json_t *write_descriptor(ExtractCtx *x, const char *uri, json_t *desc)
{
  char *text = json_dumps(desc, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
  size_t len = strlen(text);
  text = pipe_xrealloc(text, len + 2);
  text[len++] = '\n';
  text[len] = '\0';
  char *rel = desc_rel_path(uri), *path = cache_path(x->store, rel);
  PipeDiagList *diags = pipe_diags_new();
  json_t *res;
  struct stat sb;
  if (pipe_fs_write_atomic(path, text, len, false, diags) == PIPE_OK && stat(path, &sb) == 0) {
    char hex[17];
    cache_hash_hex(cache_hash(text, len), hex);
    res = summary_of(desc);
    json_object_set_new(res, "file", json_string(rel));
    json_object_set_new(res, "hash", json_string(hex));
    json_object_set_new(res, "size", json_integer((json_int_t)len));
    json_object_set_new(res, "mtime_ns", json_integer((json_int_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec));
  } else {
    const PipeDiag *d = pipe_diags_get(diags, 0);
    res = json_pack("{s:s, s:b}", "error", d ? d->message : "cannot write descriptor", "io", 1);
  }
  pipe_diags_free(diags);
  free(path);
  free(rel);
  free(text);
  return res;
}

/* Why the plugin's data files (manifest and rdfs:seeAlso files) cannot be read, or NULL. Checked before reading:
 * a FIFO would block the reader until the timeout, /dev/zero would feed it forever, and a missing file would leave
 * a plugin with no name and no ports that lilv describes without a word. */
static char *data_file_problem(const LilvPlugin *p)
{
  const LilvNodes *data = lilv_plugin_get_data_uris(p);
  char *why = NULL;
  LILV_FOREACH(nodes, i, data) {
    char *path = lilv_file_uri_parse(lilv_node_as_uri(lilv_nodes_get(data, i)), NULL);
    struct stat sb;
    if (!path)
      why = pipe_xasprintf("a data file is not a local file: %s", lilv_node_as_uri(lilv_nodes_get(data, i)));
    else if (stat(path, &sb) != 0 || access(path, R_OK) != 0)
      why = pipe_xasprintf("cannot read its data file %s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
      why = pipe_xasprintf("its data file %s is not a regular file (a FIFO, device or socket)", path);
    lilv_free(path);
    if (why)
      break;
  }
  return why;
}

/* Streams the plugin's data files into a graph. On a Turtle error, NULL with *why set: a plugin whose Turtle is
 * broken is reported, not described from whatever part of it lilv managed to read. */
static PlugGraph *stream_data(const LilvPlugin *p, char **why)
{
  PlugGraph *g = plug_graph_new();
  const LilvNodes *data = lilv_plugin_get_data_uris(p);
  LILV_FOREACH(nodes, i, data) {
    const char *file = lilv_node_as_uri(lilv_nodes_get(data, i));
    if (plug_graph_load(g, file) != PIPE_OK) {
      const char *err = plug_graph_error(g);
      *why = err ? pipe_xasprintf("its Turtle has an error: %s", err) : pipe_xasprintf("cannot read %s", file);
      plug_graph_free(g);
      return NULL;
    }
  }
  plug_graph_seal(g);
  return g;
}

/* Describes the plugin from the streamed graph; NULL when the graph reader cannot model this plugin (lilv then
 * does it), or on a Turtle error (*why set). With the lilv engine, the files are streamed only for that check, so
 * that both engines refuse the same plugins. */
static json_t *describe_streamed(ExtractCtx *x, const LilvPlugin *p, char **why)
{
  PlugGraph *g = stream_data(p, why);
  json_t *desc = g && x->opts->engine == PLUG_ENGINE_STREAM ? plug_describe_graph(x->world, x->nodes, p, g) : NULL;
  plug_graph_free(g);
  return desc;
}

static void extract_run(void *vctx, size_t job, PlugBuf *out)
{
  ExtractCtx *x = vctx;
  LilvNode *uri = lilv_new_uri(x->world, x->uris[job]);
  const LilvPlugin *p = lilv_plugins_get_by_uri(x->all, uri);
  json_t *res;
  if (!p) {
    res = json_pack("{s:s}", "error", "plugin not found in the LV2 world");
  } else {
    char *why = data_file_problem(p);
    json_t *desc = why ? NULL : describe_streamed(x, p, &why);
    if (!desc && !why)
      desc = plug_describe(x->world, x->nodes, p);
    res = why ? json_pack("{s:s}", "error", why) : write_descriptor(x, x->uris[job], desc);
    json_decref(desc);
    free(why);
  }
  lilv_node_free(uri);
  plug_buf_append_json(out, res);
}

/* ---- the parent side ---- */

static char *failure_text(const PlugJobResult *r, double timeout_s)
{
  if (r->outcome == PLUG_JOB_OK)
    return NULL;
  char *detail = NULL;
  const char *status = plug_job_failure(r, timeout_s, &detail);
  char *text = pipe_xasprintf("%s: %s", status, detail);
  free(detail);
  return text;
}

static void record_failure(ExtractCtx *x, size_t job, const char *why)
{
  json_t *e = x->job_entries[job];
  json_object_set_new(e, "status", json_string("failed"));
  json_object_set_new(e, "error", json_string(why));
  json_array_append_new(x->report->failures, json_pack("{s:s, s:s}", "uri", x->uris[job], "error", why));
  x->report->failed++;
}

static const char *extract_label(void *vctx, size_t job)
{
  return ((ExtractCtx *)vctx)->uris[job];
}

static void extract_done(void *vctx, size_t job, const PlugJobResult *r)
{
  ExtractCtx *x = vctx;
  json_t *e = x->job_entries[job];
  json_t *res = r->outcome == PLUG_JOB_OK ? json_loadb(r->payload, r->payload_len, 0, NULL) : NULL;
  const char *err = json_string_value(json_object_get(res, "error"));
  char *why = failure_text(r, x->timeout_s);
  if (r->outcome == PLUG_JOB_OK && res && !err) {
    json_object_update(e, res);
    json_object_set_new(e, "status", json_string("ok"));
  } else if (json_is_true(json_object_get(res, "io"))) {
    /* The cache, not the plugin, failed: keep no fingerprint so that the next run tries this plugin again. */
    record_failure(x, job, err);
    json_object_set_new(e, "fp", json_string(""));
    if (!x->io_error)
      x->io_error = pipe_xasprintf("cannot write descriptors into %s: %s", x->desc_dir, err);
  } else {
    record_failure(x, job, why ? why : err ? err : "worker sent an unreadable result");
  }
  json_object_set_new(e, "extract_ms", json_real(r->ms));
  pipe_perf_item(x->perf, x->phase, r->ms, r->outcome == PLUG_JOB_OK && res && !err);
  x->report->extracted++;
  if (x->opts->progress)
    x->opts->progress(x->opts->progress_data, x->report->extracted, x->n_jobs, x->uris[job]);
  free(why);
  json_decref(res);
}

/* The bundle (from the scan) that holds `dir`: the longest scanned path that is a prefix of it. */
static const PlugBundle *bundle_of(const PlugBundle *b, size_t n, const char *dir)
{
  const PlugBundle *best = NULL;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(b[i].path);
    if (!strncmp(b[i].path, dir, len) && (!best || len > strlen(best->path)))
      best = &b[i];
  }
  return best;
}

static void add_data_dir(json_t *dirs, uint64_t *acc, const PlugBundle *b, size_t n, const char *dir)
{
  const PlugBundle *bundle = bundle_of(b, n, dir);
  const char *key = bundle ? bundle->path : dir;
  size_t i;
  json_t *v;
  json_array_foreach(dirs, i, v)
    if (!strcmp(json_string_value(v), key))
      return;
  uint64_t rec[2] = {cache_hash(key, strlen(key)), 0};
  if (bundle)
    rec[1] = bundle->fp;
  else
    cache_fingerprint_dir(key, &rec[1]); /* data outside any scanned bundle: fingerprint it where it is */
  json_array_append_new(dirs, json_string(key));
  *acc ^= cache_hash(rec, sizeof rec); /* XOR: independent of the order lilv lists data files in */
}

/* A plugin's fingerprint covers every bundle that contributes data to it (its own, and any that extend it). */
static json_t *plugin_fingerprint(const LilvPlugin *p, const PlugBundle *b, size_t n, char hex[17])
{
  json_t *dirs = json_array();
  uint64_t acc = 0;
  char *own = plug_uri_dir(lilv_node_as_uri(lilv_plugin_get_bundle_uri(p)));
  if (own)
    add_data_dir(dirs, &acc, b, n, own);
  free(own);
  const LilvNodes *data = lilv_plugin_get_data_uris(p);
  LILV_FOREACH(nodes, i, data) {
    char *dir = plug_uri_dir(lilv_node_as_uri(lilv_nodes_get(data, i)));
    if (dir)
      add_data_dir(dirs, &acc, b, n, dir);
    free(dir);
  }
  cache_hash_hex(acc, hex);
  return dirs;
}

/* ---- the run ---- */

static json_t *bundles_json(const PlugBundle *b, size_t n)
{
  json_t *o = json_object();
  for (size_t i = 0; i < n; i++) {
    char hex[17];
    cache_hash_hex(b[i].fp, hex);
    json_object_set_new(o, b[i].path, json_string(hex));
  }
  return o;
}

/* A warm run: same path, same bundles with the same fingerprints, every descriptor file as recorded. */
static bool index_current(const CacheStore *store, json_t *index, const char *lv2_path, json_t *bundles)
{
  if (!index || !json_str_is(json_object_get(index, "lv2_path"), lv2_path) ||
      !json_equal(json_object_get(index, "bundles"), bundles))
    return false;
  const char *uri;
  json_t *e;
  json_object_foreach(plug_index_entries(index), uri, e) {
    if (json_str_is(json_object_get(e, "status"), "ok") && !desc_file_current(store, e))
      return false;
    if (json_str_is(json_object_get(e, "fp"), "")) /* its descriptor could not be written: try again */
      return false;
  }
  return true;
}

static void report_cached(PlugExtractReport *r, const char *uri, json_t *entry)
{
  r->cached++;
  if (json_str_is(json_object_get(entry, "status"), "failed")) {
    r->failed++;
    json_array_append_new(r->failures, json_pack("{s:s, s:O}", "uri", uri, "error", json_object_get(entry, "error")));
  }
}

/* Decides, plugin by plugin, what can be reused; the rest becomes jobs. Returns the new plugin table. A descriptor
 * that is no longer the file the index recorded (truncated, edited, deleted) is described again, with a warning. */
static json_t *plan_jobs(ExtractCtx *x, json_t *old, const PlugBundle *b, size_t nb, PipeDiagList *diags)
{
  json_t *plugins = json_object();
  size_t cap = lilv_plugins_size(x->all);
  x->uris = pipe_xcalloc(cap + 1, sizeof(char *));
  x->job_entries = pipe_xcalloc(cap + 1, sizeof(json_t *));
  LILV_FOREACH(plugins, i, x->all) {
    const LilvPlugin *p = lilv_plugins_get(x->all, i);
    const char *uri = lilv_node_as_uri(lilv_plugin_get_uri(p));
    char fp[17];
    json_t *dirs = plugin_fingerprint(p, b, nb, fp);
    json_t *prev = json_object_get(old, uri);
    bool same = prev && json_str_is(json_object_get(prev, "fp"), fp);
    bool usable = json_str_is(json_object_get(prev, "status"), "failed") ||
                  (json_str_is(json_object_get(prev, "status"), "ok") && desc_file_current(x->store, prev));
    if (!x->opts->force && same && usable) {
      json_object_set(plugins, uri, prev);
      report_cached(x->report, uri, prev);
      json_decref(dirs);
      continue;
    }
    if (same && !usable && json_str_is(json_object_get(prev, "status"), "ok")) {
      const char *file = json_string_value(json_object_get(prev, "file"));
      char *path = file ? cache_path(x->store, file) : NULL;
      pipe_diag_add(diags, PIPE_SEV_WARNING, "cache-corrupt", path, 0, 0,
                    "the descriptor of <%s> is not the file the index recorded (changed or removed outside "
                    "ctrlmap); describing the plugin again",
                    uri);
      free(path);
    }
    json_t *e = json_pack("{s:s, s:o}", "fp", fp, "data_bundles", dirs);
    json_object_set_new(plugins, uri, e);
    x->job_entries[x->n_jobs] = e;
    x->uris[x->n_jobs++] = pipe_xstrdup(uri);
  }
  return plugins;
}

/* Drops the descriptors of plugins that are no longer installed. */
static void drop_removed(ExtractCtx *x, json_t *old, json_t *now)
{
  const char *uri;
  json_t *e;
  json_object_foreach(old, uri, e) {
    if (json_object_get(now, uri))
      continue;
    x->report->removed++;
    const char *file = json_string_value(json_object_get(e, "file"));
    if (file) {
      char *path = cache_path(x->store, file);
      unlink(path);
      free(path);
    }
  }
}

static int default_jobs(int jobs)
{
  long n = jobs > 0 ? jobs : sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static PipeStatus run_extraction(ExtractCtx *x, const char *lv2_path, json_t *old, const PlugBundle *b, size_t nb,
                                 json_t *bundles, PipeDiagList *diags)
{
  PipeStatus st = cache_mkdir(x->store, DESC_DIR, diags);
  if (st == PIPE_OK)
    st = cache_mkdir(x->store, "logs", diags);
  if (st != PIPE_OK)
    return st;
  x->desc_dir = cache_path(x->store, DESC_DIR);
  pipe_fs_sweep_temps(x->desc_dir); /* what a killed run was writing */
  char *plugins_dir = cache_path(x->store, "plugins");
  pipe_fs_sweep_temps(plugins_dir);
  free(plugins_dir);
  char *log_path = cache_path(x->store, EXTRACT_LOG);
  int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  free(log_path);
  int ph = pipe_perf_phase_begin(x->perf, "load");
  x->world = plug_world_load(lv2_path, b, nb, log_fd);
  x->report->turtle_loaded = true;
  x->all = lilv_world_get_all_plugins(x->world);
  x->nodes = plug_nodes_new(x->world);
  pipe_perf_phase_end(x->perf, ph);
  x->phase = pipe_perf_phase_begin(x->perf, "extract");
  json_t *plugins = plan_jobs(x, old, b, nb, diags);
  x->report->plugins = lilv_plugins_size(x->all);
  pipe_perf_cache(x->perf, x->phase, x->report->cached, x->n_jobs);
  /* The lilv engine reads each plugin in a fresh world: lilv answers from everything loaded so far, so a worker
   * that described another plugin first could answer differently (two lsp plugins share parameter URIs). */
  PlugPoolOpts po = {.workers = default_jobs(x->opts->jobs),
                     .timeout_s = x->timeout_s,
                     .output_fd = log_fd,
                     .label = extract_label,
                     .memory_limit_mib = x->opts->memory_limit_mib,
                     .jobs_per_worker = x->opts->engine == PLUG_ENGINE_LILV ? 1 : 0,
                     .run = extract_run,
                     .done = extract_done,
                     .ctx = x};
  st = plug_pool_run(&po, x->n_jobs, diags);
  drop_removed(x, old, plugins);
  pipe_perf_phase_end(x->perf, x->phase);
  if (st == PIPE_OK) {
    /* Saved even after write failures: the plugins that were written stay cached. */
    ph = pipe_perf_phase_begin(x->perf, "save");
    json_t *doc = json_pack("{s:s, s:O, s:o}", "lv2_path", lv2_path, "bundles", bundles, "plugins", plugins);
    st = cache_doc_save(x->store, INDEX_DOC, INDEX_KIND, doc, diags);
    if (st == PIPE_OK)
      x->report->index = json_incref(doc);
    json_decref(doc);
    pipe_perf_phase_end(x->perf, ph);
  } else {
    json_decref(plugins);
  }
  if (log_fd >= 0)
    close(log_fd);
  if (st == PIPE_OK && x->io_error) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "cache-write", NULL, 0, 0, "%s", x->io_error);
    st = PIPE_ERR_IO;
  }
  return st;
}

static void report_warm(ExtractCtx *x, json_t *index)
{
  int ph = pipe_perf_phase_begin(x->perf, "extract");
  const char *uri;
  json_t *e;
  json_object_foreach(plug_index_entries(index), uri, e)
    report_cached(x->report, uri, e);
  x->report->plugins = x->report->cached;
  pipe_perf_cache(x->perf, ph, x->report->cached, 0);
  pipe_perf_phase_end(x->perf, ph);
}

static void extract_ctx_release(ExtractCtx *x)
{
  for (size_t i = 0; i < x->n_jobs; i++)
    free(x->uris[i]);
  free(x->uris);
  free(x->job_entries);
  free(x->desc_dir);
  free(x->io_error);
  plug_nodes_free(x->nodes);
  if (x->world)
    lilv_world_free(x->world);
}

PipeStatus plug_extract(CacheStore *store, const PlugExtractOpts *opts, PipePerf *perf, PlugExtractReport **report,
                        PipeDiagList *diags)
{
  ExtractCtx x = {.opts = opts, .store = store, .perf = perf};
  x.timeout_s = opts->timeout_s > 0 ? opts->timeout_s : DEFAULT_TIMEOUT_S;
  x.report = pipe_xcalloc(1, sizeof(PlugExtractReport));
  x.report->failures = json_array();
  char *lv2_path = plug_lv2_path(opts->lv2_path);
  int ph = pipe_perf_phase_begin(perf, "scan");
  size_t nb = 0, readable = 0;
  PlugBundle *b = plug_scan_bundles(lv2_path, &nb, &readable, diags);
  json_t *bundles = bundles_json(b, nb);
  pipe_perf_phase_end(perf, ph);
  if (readable == 0) {
    /* A mistyped path must not empty the cache: with nothing readable, nothing is known to be uninstalled. */
    pipe_diag_add(diags, PIPE_SEV_ERROR, "lv2-path-unreadable", NULL, 0, 0,
                  "no directory of the LV2 path '%s' can be read; expected at least one existing directory", lv2_path);
    json_decref(bundles);
    plug_bundles_free(b, nb);
    free(lv2_path);
    *report = x.report;
    return PIPE_ERR_IO;
  }
  ph = pipe_perf_phase_begin(perf, "index");
  json_t *index = NULL;
  plug_index_load(store, &index, diags); /* missing or corrupt: start from nothing */
  bool warm = !opts->force && index_current(store, index, lv2_path, bundles);
  pipe_perf_phase_end(perf, ph);
  PipeStatus st = PIPE_OK;
  if (warm) {
    report_warm(&x, index);
    x.report->index = json_incref(index);
  } else
    st = run_extraction(&x, lv2_path, plug_index_entries(index), b, nb, bundles, diags);
  extract_ctx_release(&x);
  json_decref(index);
  json_decref(bundles);
  plug_bundles_free(b, nb);
  free(lv2_path);
  *report = x.report;
  return st;
}

/* ---- workflow:health ---- */

/* 0: the descriptor file has the recorded checksum; 1: it does not; 2: it cannot be read. Reads, no parsing. */
static int desc_checksum(const CacheStore *store, json_t *entry)
{
  const char *file = json_string_value(json_object_get(entry, "file"));
  uint64_t want = 0;
  if (!file || !cache_hash_parse(json_string_value(json_object_get(entry, "hash")), &want))
    return 1;
  char *path = cache_path(store, file), *data = NULL;
  size_t len = 0;
  int st = pipe_fs_read(path, DESC_MAX, &data, &len, NULL) != PIPE_OK ? 2 : cache_hash(data, len) != want;
  free(data);
  free(path);
  return st;
}

static size_t bundles_changed(json_t *recorded, json_t *now)
{
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach(now, k, v) n += !json_equal(v, json_object_get(recorded, k));
  json_object_foreach(recorded, k, v) n += !json_object_get(now, k);
  return n;
}

json_t *plug_cache_verify(const CacheStore *store, const char *lv2_path, PipeDiagList *diags)
{
  json_t *index = NULL;
  if (plug_index_load(store, &index, diags) != PIPE_OK)
    return NULL;
  char *path = plug_lv2_path(lv2_path);
  size_t nb = 0, readable = 0, plugins = 0, failed = 0, corrupt = 0, missing = 0;
  PlugBundle *b = plug_scan_bundles(path, &nb, &readable, diags);
  json_t *now = bundles_json(b, nb);
  const char *uri;
  json_t *e;
  json_object_foreach(plug_index_entries(index), uri, e) {
    plugins++;
    if (!json_str_is(json_object_get(e, "status"), "ok")) {
      failed++;
      continue;
    }
    int st = desc_checksum(store, e);
    corrupt += st == 1;
    missing += st == 2;
  }
  json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "plugins", (json_int_t)plugins, "failed",
                          (json_int_t)failed, "corrupt", (json_int_t)corrupt, "missing", (json_int_t)missing,
                          "bundles_changed",
                          (json_int_t)(json_str_is(json_object_get(index, "lv2_path"), path)
                                           ? bundles_changed(json_object_get(index, "bundles"), now)
                                           : nb + json_object_size(json_object_get(index, "bundles"))),
                          "same_path", json_str_is(json_object_get(index, "lv2_path"), path));
  json_decref(now);
  plug_bundles_free(b, nb);
  free(path);
  json_decref(index);
  return out;
}
