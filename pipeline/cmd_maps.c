/* cmd_maps.c: the maps:* commands (phase 2). Findings are these commands' output: they go to stdout (or into the
 * JSON document), one line each, as compilers print them. */
#include "commands.h"

#include "../maps/map.h"
#include "../plugins/plug.h"
#include "fsx.h"
#include "xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define STATUS_DOC    "maps/status"
#define STATUS_KIND   "map-status"
#define BINDINGS_KIND "map-bindings"

/* The maps named on the command line, or the bundled default maps. */
static const char *const *map_paths(PipeCtx *ctx, size_t *n, char **dflt)
{
  *dflt = NULL;
  if (ctx->opts->n_args > 0) {
    *n = (size_t)ctx->opts->n_args;
    return (const char *const *)ctx->opts->args;
  }
  *dflt = pipe_path_join(map_data_dir(), "defaults");
  *n = 1;
  return (const char *const *)dflt;
}

/* Findings of one file, by severity. */
static void count_findings(const PipeDiagList *diags, const char *file, size_t count[3])
{
  count[0] = count[1] = count[2] = 0;
  for (size_t i = 0; i < pipe_diags_count(diags); i++) {
    const PipeDiag *d = pipe_diags_get(diags, i);
    if (d->file && !strcmp(d->file, file))
      count[d->severity]++;
  }
}

json_t *pipe_findings_json(const PipeDiagList *diags)
{
  json_t *a = json_array();
  for (size_t i = 0; i < pipe_diags_count(diags); i++) {
    const PipeDiag *d = pipe_diags_get(diags, i);
    json_array_append_new(a, json_pack("{s:s, s:s, s:s?, s:i, s:i, s:s}", "severity", pipe_severity_name(d->severity),
                                       "code", d->code, "file", d->file, "line", (int)d->line, "column", (int)d->column,
                                       "message", d->message));
  }
  return a;
}

static const char *verdict(const size_t count[3])
{
  return count[PIPE_SEV_ERROR] ? "errors" : count[PIPE_SEV_WARNING] ? "warnings" : "ok";
}

/* Each map's absolute path keys its records; realpath(3) walks every component with a syscall, and a run asks for
 * the same few thousand paths several times, so the answers are kept for the process's life. */
char *pipe_real_path(const char *path)
{
  static json_t *memo;
  if (!memo)
    memo = json_object();
  const char *known = json_string_value(json_object_get(memo, path));
  if (known)
    return pipe_xstrdup(known);
  char *r = realpath(path, NULL);
  json_object_set_new(memo, path, json_string(r ? r : path));
  return r ? r : pipe_xstrdup(path);
}

/* Where maps:check keeps a map's bindings: named by the hash of the map's absolute path. Owned. */
static char *bindings_rel(const char *map_path)
{
  char *real = pipe_real_path(map_path), hex[17];
  cache_hash_hex(cache_hash(real, strlen(real)), hex);
  free(real);
  return pipe_xasprintf("maps/bindings/%s", hex);
}

/* The status document (per map: its hash and latest results) and whether this run changed it. */
typedef struct {
  json_t *doc;
  bool dirty;
} Status;

/* Sets e[key] = value (taking it), noting whether that changed anything. */
static void status_set(Status *st, json_t *e, const char *key, json_t *value)
{
  if (!json_equal(json_object_get(e, key), value))
    st->dirty = true;
  json_object_set_new(e, key, value);
}

/* Records a map's latest validation (and check) result in the cache for maps:list. */
static json_t *status_put(Status *st, const CanonMap *m, int channel, const char *phase, const size_t count[3])
{
  char *key = pipe_real_path(m->path), hex[17];
  cache_hash_hex(m->content_hash, hex);
  json_t *e = json_object_get(st->doc, key);
  const char *had = json_string_value(json_object_get(e, "hash"));
  if (!e || !had || strcmp(had, hex)) { /* a changed file starts a fresh record */
    e = json_object();
    json_object_set_new(st->doc, key, e);
    st->dirty = true;
  }
  status_set(st, e, "hash", json_string(hex));
  status_set(st, e, phase,
             json_pack("{s:s, s:I, s:I}", "status", verdict(count), "errors", (json_int_t)count[2], "warnings",
                       (json_int_t)count[1]));
  status_set(st, e, "channel", json_integer(channel));
  free(key);
  return e;
}

/* The status document is rewritten only when a result changed: a repeated run writes nothing. */
static void status_save(PipeCtx *ctx, Status *st)
{
  if (st->dirty)
    cache_doc_save(ctx->store, STATUS_DOC, STATUS_KIND, st->doc, ctx->diags);
}

static json_t *status_load(PipeCtx *ctx)
{
  json_t *status = NULL;
  if (!ctx->store || cache_doc_load(ctx->store, STATUS_DOC, STATUS_KIND, &status, NULL) != PIPE_OK ||
      !json_is_object(status)) {
    json_decref(status);
    status = json_object();
  }
  return status;
}

static bool str_eq(json_t *j, const char *s)
{
  const char *v = json_string_value(j);
  return v && s && !strcmp(v, s);
}

static int findings_exit(PipeCtx *ctx, const PipeDiagList *findings)
{
  size_t errors = pipe_diags_count_severity(findings, PIPE_SEV_ERROR);
  size_t warnings = pipe_diags_count_severity(findings, PIPE_SEV_WARNING);
  return errors || (ctx->opts->strict && warnings) ? PIPE_EXIT_FINDINGS : PIPE_EXIT_OK;
}

/* ---- maps:validate ---- */

int pipe_cmd_maps_validate(PipeCtx *ctx)
{
  char *dflt;
  size_t n_paths;
  const char *const *paths = map_paths(ctx, &n_paths, &dflt);
  PipeDiagList *findings = pipe_diags_new();
  int ph = pipe_perf_phase_begin(ctx->perf, "validate");
  MapSet *set = map_set_load(paths, n_paths, NULL, findings);
  Status status = {status_load(ctx), false};
  json_t *maps = json_array();
  for (size_t i = 0; i < map_set_size(set); i++) {
    const CanonMap *m = map_set_map(set, i);
    size_t count[3];
    count_findings(findings, m->path, count);
    status_put(&status, m, map_set_channel(set, i), "validate", count);
    json_array_append_new(maps, json_pack("{s:s, s:s, s:i, s:I, s:I}", "path", m->path, "status", verdict(count),
                                          "channel", map_set_channel(set, i), "errors", (json_int_t)count[2],
                                          "warnings", (json_int_t)count[1]));
    pipe_perf_item(ctx->perf, ph, 0, count[2] == 0);
  }
  pipe_perf_phase_end(ctx->perf, ph);
  status_save(ctx, &status);
  if (ctx->opts->format == PIPE_FMT_JSON) {
    pipe_print_json(ctx, json_pack("{s:o, s:o}", "maps", maps, "findings", pipe_findings_json(findings)));
  } else {
    pipe_diags_print(findings, ctx->out);
    fprintf(ctx->out, "%zu maps: %zu errors, %zu warnings\n", map_set_size(set),
            pipe_diags_count_severity(findings, PIPE_SEV_ERROR), pipe_diags_count_severity(findings, PIPE_SEV_WARNING));
    json_decref(maps);
  }
  int rc = findings_exit(ctx, findings);
  json_decref(status.doc);
  map_set_free(set);
  pipe_diags_free(findings);
  free(dflt);
  return rc;
}

/* ---- maps:check ---- */

/* Writes a map's bindings for daw:generate, unless the same bytes are already there (their hash is in the map's
 * status entry): creating and renaming a thousand files costs more than resolving a thousand maps. */
static void save_bindings(PipeCtx *ctx, const CanonMap *m, json_t *bindings, Status *st, json_t *status_entry)
{
  char doc_hex[17];
  char *rel = bindings_rel(m->path), *path = cache_path(ctx->store, rel);
  size_t len = 0;
  char *data = cache_doc_encode(BINDINGS_KIND, bindings, &len);
  cache_hash_hex(cache_hash(data, len), doc_hex);
  const char *had = json_string_value(json_object_get(status_entry, "bindings_hash"));
  struct stat sb;
  if (!had || strcmp(had, doc_hex) || stat(path, &sb) != 0 || (size_t)sb.st_size != len) {
    if (cache_doc_save(ctx->store, rel, BINDINGS_KIND, bindings, ctx->diags) == PIPE_OK)
      status_set(st, status_entry, "bindings_hash", json_string(doc_hex));
  }
  free(data);
  free(path);
  free(rel);
}

/* Phase 1 first: a plugin that is installed but not described yet gets described (a warm run costs ~10 ms). */
static json_t *current_index(PipeCtx *ctx)
{
  if (ctx->plug_index) /* workflow:complete ran the extraction already */
    return json_incref(ctx->plug_index);
  PlugExtractReport *r = NULL;
  PipeStatus st = pipe_extract(ctx, false, &r);
  json_t *index = st == PIPE_OK && r->index ? json_incref(r->index) : NULL;
  plug_extract_report_free(r);
  return index;
}

static void print_check_row(PipeCtx *ctx, const CanonMap *m, const size_t count[3], json_t *entry)
{
  json_t *cov = json_object_get(entry, "coverage");
  char coverage[32] = "-";
  if (cov)
    snprintf(coverage, sizeof coverage, "%lld/%lld", (long long)json_integer_value(json_object_get(cov, "bound")),
             (long long)json_integer_value(json_object_get(cov, "bindable")));
  const char *uri = json_string_value(json_object_get(entry, "plugin"));
  fprintf(ctx->out, "%-9s %-9s %3lld  %-40s %s\n", verdict(count), coverage,
          (long long)json_integer_value(json_object_get(entry, "channel")), uri ? uri : "-", m->path);
}

/* What a map's check result depends on besides the map itself: its plugin's descriptor, its channel and its
 * device profile. Equal keys mean an equal result, so the check is skipped and its findings replayed. NULL when
 * the plugin is named without a URI (then the map is always checked). */
static char *check_key(const MapSet *set, size_t i, json_t *index)
{
  const CanonMap *m = map_set_map(set, i);
  const char *desc_hash =
      m->plugin.uri
          ? json_string_value(json_object_get(json_object_get(plug_index_entries(index), m->plugin.uri), "hash"))
          : NULL;
  if (!desc_hash)
    return NULL;
  const MapProfile *prof = map_set_profile(set, i);
  struct stat sb = {0};
  if (prof)
    stat(prof->path, &sb);
  char map_hex[17];
  cache_hash_hex(m->content_hash, map_hex);
  /* The version is part of the key: a newer ctrlmap may resolve the same map differently. */
  return pipe_xasprintf(CTRLMAP_VERSION "/%s/%s/%d/%s/%lld.%ld/%lld", map_hex, desc_hash, map_set_channel(set, i),
                        prof ? prof->path : "-", (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
                        (long long)sb.st_size);
}

static void replay(PipeDiagList *findings, const CanonMap *m, json_t *saved)
{
  size_t k;
  json_t *d;
  json_array_foreach(saved, k, d)
    pipe_diag_add(findings, (PipeSeverity)json_integer_value(json_object_get(d, "severity")),
                  json_string_value(json_object_get(d, "code")), m->path,
                  (unsigned)json_integer_value(json_object_get(d, "line")),
                  (unsigned)json_integer_value(json_object_get(d, "column")), "%s",
                  json_string_value(json_object_get(d, "message")));
}

static json_t *saved_findings(const PipeDiagList *diags)
{
  json_t *a = json_array();
  for (size_t k = 0; k < pipe_diags_count(diags); k++) {
    const PipeDiag *d = pipe_diags_get(diags, k);
    json_array_append_new(a, json_pack("{s:i, s:s, s:i, s:i, s:s}", "severity", (int)d->severity, "code", d->code,
                                       "line", (int)d->line, "column", (int)d->column, "message", d->message));
  }
  return a;
}

static bool bindings_on_disk(PipeCtx *ctx, const CanonMap *m)
{
  char *rel = bindings_rel(m->path), *path = cache_path(ctx->store, rel);
  struct stat sb;
  bool ok = stat(path, &sb) == 0;
  free(path);
  free(rel);
  return ok;
}

/* Checks map i (or replays its unchanged result) and records it; returns its bindings (owned) when the output
 * needs them or they were computed, else NULL. */
static json_t *check_one(PipeCtx *ctx, MapChecker *ck, const MapSet *set, size_t i, json_t *index, Status *status,
                         PipeDiagList *findings, size_t count[3])
{
  const CanonMap *m = map_set_map(set, i);
  count_findings(findings, m->path, count);
  status_put(status, m, map_set_channel(set, i), "validate", count);
  if (count[PIPE_SEV_ERROR]) /* a map that fails validation is not checked: its bindings would be guesses */
    return NULL;
  char *key = check_key(set, i, index);
  json_t *entry = status_put(status, m, map_set_channel(set, i), "check", count);
  json_t *bindings = NULL;
  if (key && str_eq(json_object_get(entry, "check_key"), key) && bindings_on_disk(ctx, m)) {
    replay(findings, m, json_object_get(entry, "check_findings"));
  } else {
    PipeDiagList *mine = pipe_diags_new();
    bindings = map_check(ck, set, i, mine);
    status_set(status, entry, "check_findings", saved_findings(mine));
    status_set(status, entry, "check_key", key ? json_string(key) : json_null());
    status_set(status, entry, "plugin",
               bindings ? json_incref(json_object_get(json_object_get(bindings, "plugin"), "uri")) : json_null());
    status_set(status, entry, "coverage", bindings ? json_incref(json_object_get(bindings, "coverage")) : json_null());
    replay(findings, m, json_object_get(entry, "check_findings"));
    pipe_diags_free(mine);
  }
  free(key);
  count_findings(findings, m->path, count);
  status_put(status, m, map_set_channel(set, i), "check", count);
  if (bindings && !count[PIPE_SEV_ERROR])
    save_bindings(ctx, m, bindings, status, entry);
  return bindings;
}

json_t *pipe_maps_load_bindings(PipeCtx *ctx, const char *map_path)
{
  char *rel = bindings_rel(map_path);
  json_t *b = NULL;
  cache_doc_load(ctx->store, rel, BINDINGS_KIND, &b, NULL);
  free(rel);
  return b;
}

/* Validates and checks the command line's maps (the defaults without arguments), recording results in the cache.
 * *rows gets one {path, status, bindings} per map; with `with_bindings`, bindings are there for every map that
 * passed (read back from the cache when the check was replayed). `print` draws the table rows as it goes. Returns
 * the number of maps, or -1 when the plugin index cannot be had. */
long pipe_maps_check_run(PipeCtx *ctx, bool with_bindings, bool print, json_t **rows, PipeDiagList *findings)
{
  *rows = json_array();
  json_t *index = current_index(ctx);
  if (!index)
    return -1;
  char *dflt;
  size_t n_paths;
  const char *const *paths = map_paths(ctx, &n_paths, &dflt);
  int ph = pipe_perf_phase_begin(ctx->perf, "check");
  MapSet *set = map_set_load(paths, n_paths, NULL, findings);
  MapChecker *ck = map_checker_new(ctx->store, index);
  Status status = {status_load(ctx), false};
  size_t hits = 0;
  for (size_t i = 0; i < map_set_size(set); i++) {
    const CanonMap *m = map_set_map(set, i);
    size_t count[3];
    json_t *bindings = check_one(ctx, ck, set, i, index, &status, findings, count);
    hits += !bindings && !count[PIPE_SEV_ERROR];
    if (print) {
      char *key = pipe_real_path(m->path);
      print_check_row(ctx, m, count, json_object_get(status.doc, key));
      free(key);
    }
    if (with_bindings && !bindings && !count[PIPE_SEV_ERROR])
      bindings = pipe_maps_load_bindings(ctx, m->path);
    char *key = pipe_real_path(m->path);
    json_t *entry = json_object_get(status.doc, key);
    free(key);
    json_array_append_new(
        *rows,
        json_pack("{s:s, s:s, s:o, s:O}", "path", m->path, "status", verdict(count), "bindings",
                  bindings && with_bindings ? json_incref(bindings) : json_null(), "bindings_hash",
                  json_object_get(entry, "bindings_hash") ? json_object_get(entry, "bindings_hash") : json_null()));
    json_decref(bindings);
    pipe_perf_item(ctx->perf, ph, 0, count[PIPE_SEV_ERROR] == 0);
  }
  pipe_perf_cache(ctx->perf, ph, hits, map_set_size(set) - hits);
  pipe_perf_phase_end(ctx->perf, ph);
  status_save(ctx, &status);
  long n = (long)map_set_size(set);
  json_decref(status.doc);
  map_checker_free(ck);
  map_set_free(set);
  json_decref(index);
  free(dflt);
  return n;
}

int pipe_cmd_maps_check(PipeCtx *ctx)
{
  PipeDiagList *findings = pipe_diags_new();
  json_t *rows = NULL;
  bool json = ctx->opts->format == PIPE_FMT_JSON;
  long n = pipe_maps_check_run(ctx, json, !json, &rows, findings);
  int rc = n < 0 ? PIPE_EXIT_ENV : findings_exit(ctx, findings);
  if (n >= 0 && json) {
    pipe_print_json(ctx, json_pack("{s:O, s:o}", "maps", rows, "findings", pipe_findings_json(findings)));
  } else if (n >= 0) {
    pipe_diags_print(findings, ctx->out);
    fprintf(ctx->out, "%ld maps: %zu errors, %zu warnings\n", n, pipe_diags_count_severity(findings, PIPE_SEV_ERROR),
            pipe_diags_count_severity(findings, PIPE_SEV_WARNING));
  }
  json_decref(rows);
  pipe_diags_free(findings);
  return rc;
}

int pipe_maps_findings_exit(PipeCtx *ctx, const PipeDiagList *findings)
{
  return findings_exit(ctx, findings);
}

/* ---- maps:list ---- */

static bool map_matches(PipeCtx *ctx, const CanonMap *m)
{
  char *device = pipe_xasprintf("%s %s", m->device.manufacturer ? m->device.manufacturer : "",
                                m->device.model ? m->device.model : "");
  bool ok =
      pipe_contains_nocase(device, ctx->opts->device) && (pipe_contains_nocase(m->plugin.name, ctx->opts->plugin) ||
                                                          pipe_contains_nocase(m->plugin.uri, ctx->opts->plugin));
  free(device);
  return ok;
}

static size_t count_controls(const CanonMap *m)
{
  size_t n = 0;
  for (size_t i = 0; i < m->n_controls; i++)
    n += m->controls[i].type == MAP_CTL_BUTTON_GROUP ? m->controls[i].n_buttons : 1;
  return n;
}

/* "ok", "errors", ...; "stale" when the file changed since; "not validated" when never seen. */
static const char *last_status(json_t *status, const CanonMap *m, const char *phase)
{
  char *key = pipe_real_path(m->path), hex[17];
  cache_hash_hex(m->content_hash, hex);
  json_t *e = json_object_get(status, key);
  free(key);
  const char *had = json_string_value(json_object_get(e, "hash"));
  if (!e || !had)
    return "-";
  if (strcmp(had, hex))
    return "stale";
  const char *s = json_string_value(json_object_get(json_object_get(e, phase), "status"));
  return s ? s : "-"; /* "-": never validated (or checked) in this cache */
}

int pipe_cmd_maps_list(PipeCtx *ctx)
{
  char *dflt;
  size_t n_paths;
  const char *const *paths = map_paths(ctx, &n_paths, &dflt);
  PipeDiagList *quiet = pipe_diags_new(); /* listing reports no findings: maps:validate does */
  MapSet *set = map_set_load(paths, n_paths, NULL, quiet);
  json_t *status = status_load(ctx), *rows = json_array();
  for (size_t i = 0; i < map_set_size(set); i++) {
    const CanonMap *m = map_set_map(set, i);
    if (!map_matches(ctx, m))
      continue;
    char *device = pipe_xasprintf("%s %s", m->device.manufacturer ? m->device.manufacturer : "?",
                                  m->device.model ? m->device.model : "?");
    json_array_append_new(
        rows, json_pack("{s:s, s:s?, s:s, s:s?, s:s?, s:i, s:I, s:s, s:s}", "path", m->path, "name", m->metadata.name,
                        "device", device, "plugin", m->plugin.name, "uri", m->plugin.uri, "channel",
                        map_set_channel(set, i), "controls", (json_int_t)count_controls(m), "validated",
                        last_status(status, m, "validate"), "checked", last_status(status, m, "check")));
    free(device);
  }
  if (ctx->opts->format == PIPE_FMT_JSON) {
    pipe_print_json(ctx, json_incref(rows));
  } else {
    fprintf(ctx->out, "%-30s %-26s %-28s %3s %4s %-9s %-9s %s\n", "NAME", "DEVICE", "PLUGIN", "CH", "CTLS", "VALID",
            "CHECKED", "PATH");
    size_t k;
    json_t *r;
    json_array_foreach(rows, k, r) {
      fprintf(ctx->out, "%-30.30s %-26.26s %-28.28s %3lld %4lld %-9s %-9s %s\n",
              json_string_value(json_object_get(r, "name")) ? json_string_value(json_object_get(r, "name")) : "-",
              json_string_value(json_object_get(r, "device")),
              json_string_value(json_object_get(r, "plugin")) ? json_string_value(json_object_get(r, "plugin")) : "-",
              (long long)json_integer_value(json_object_get(r, "channel")),
              (long long)json_integer_value(json_object_get(r, "controls")),
              json_string_value(json_object_get(r, "validated")), json_string_value(json_object_get(r, "checked")),
              json_string_value(json_object_get(r, "path")));
    }
    fprintf(ctx->out, "%zu maps\n", json_array_size(rows));
  }
  json_decref(rows);
  json_decref(status);
  map_set_free(set);
  pipe_diags_free(quiet);
  free(dflt);
  return PIPE_EXIT_OK;
}
