/* cmd_workflow.c: workflow:complete, the phases in a row. Every phase is incremental on its own (fingerprints and
 * recorded results in the cache), so a run with nothing changed does almost nothing. */
#include "commands.h"

#include "../daw/daw.h"
#include "../maps/map.h"
#include "../plugins/plug.h"
#include "fsx.h"
#include "xalloc.h"

#include <jansson.h>
#include <libfyaml.h>
#include <libxml/xmlversion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CTRLMAP_LILV_VERSION
#define CTRLMAP_LILV_VERSION "?"
#endif

int pipe_cmd_workflow_complete(PipeCtx *ctx)
{
  PlugExtractReport *r = NULL;
  PipeStatus st = pipe_extract(ctx, ctx->opts->force, &r);
  if (st != PIPE_OK) {
    fprintf(ctx->out, "workflow: phase extract failed (%s); nothing else was run\n", pipe_strerror(st));
    plug_extract_report_free(r);
    return PIPE_EXIT_ENV;
  }
  if (ctx->opts->format == PIPE_FMT_TABLE)
    fprintf(ctx->out, "extract: %zu plugins, %zu described now, %zu from cache, %zu failed\n", r->plugins, r->extracted,
            r->cached, r->failed);
  ctx->plug_index = json_incref(r->index); /* the later phases read this index instead of scanning again */
  plug_extract_report_free(r);
  /* validate, check, generate (and install): a map with errors stops the run before anything is written */
  return pipe_daw_generate(ctx, true);
}

/* ---- workflow:health ---- */

enum { HEALTH_OK, HEALTH_WARNING, HEALTH_ERROR };

typedef struct {
  PipeCtx *ctx;
  json_t *rows;
  int worst;
} Health;

static void health_line(Health *h, int level, const char *check, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void health_line(Health *h, int level, const char *check, const char *fix, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *detail = pipe_xvasprintf(fmt, ap);
  va_end(ap);
  static const char *const names[] = {"ok", "warning", "error"};
  json_t *row = json_pack("{s:s, s:s, s:s}", "check", check, "status", names[level], "detail", detail);
  if (fix && level != HEALTH_OK)
    json_object_set_new(row, "fix", json_string(fix));
  json_array_append_new(h->rows, row);
  h->worst = level > h->worst ? level : h->worst;
  free(detail);
}

static void check_libraries(Health *h)
{
  health_line(h, HEALTH_OK, "libraries", NULL, "lilv %s, libxml2 %s, libfyaml %s, jansson %s", CTRLMAP_LILV_VERSION,
              LIBXML_DOTTED_VERSION, fy_library_version(), jansson_version_str());
}

static void check_lv2_path(Health *h)
{
  char *path = plug_lv2_path(h->ctx->opts->lv2_path);
  json_t *info = plug_path_info(path);
  size_t i, readable = 0, bundles = 0;
  json_t *d;
  json_array_foreach(info, i, d) {
    readable += json_is_true(json_object_get(d, "readable"));
    bundles += (size_t)json_integer_value(json_object_get(d, "bundles"));
  }
  if (!readable)
    health_line(h, HEALTH_ERROR, "lv2-path", "install LV2 plugins (e.g. apt-get install x42-plugins) or set LV2_PATH",
                "no directory of %s can be read", path);
  else
    health_line(h, HEALTH_OK, "lv2-path", NULL, "%zu bundles in %zu readable directories of %s", bundles, readable,
                path);
  json_decref(info);
  free(path);
}

static void check_cache(Health *h, json_t *index)
{
  if (!h->ctx->store) {
    health_line(h, HEALTH_WARNING, "cache", "run `ctrlmap workflow:complete`", "no cache at %s yet", h->ctx->cache_dir);
    return;
  }
  PipeDiagList *quiet = pipe_diags_new();
  json_t *v = index ? plug_cache_verify(h->ctx->store, h->ctx->opts->lv2_path, quiet) : NULL;
  pipe_diags_free(quiet);
  if (!v) {
    health_line(h, HEALTH_ERROR, "cache", "run `ctrlmap plugins:extract` to rebuild it",
                "the plugin index in %s is missing or damaged", h->ctx->cache_dir);
    return;
  }
  json_int_t corrupt =
      json_integer_value(json_object_get(v, "corrupt")) + json_integer_value(json_object_get(v, "missing"));
  json_int_t changed = json_integer_value(json_object_get(v, "bundles_changed"));
  json_int_t failed = json_integer_value(json_object_get(v, "failed"));
  if (corrupt)
    health_line(h, HEALTH_ERROR, "cache", "run `ctrlmap plugins:extract` to rebuild them",
                "%lld descriptors fail their checksum or are missing", (long long)corrupt);
  else
    health_line(h, HEALTH_OK, "cache", NULL, "%lld descriptors, all matching their checksums",
                (long long)json_integer_value(json_object_get(v, "plugins")));
  if (changed)
    health_line(h, HEALTH_WARNING, "descriptors", "run `ctrlmap plugins:extract`",
                "%lld LV2 bundles changed since the last extraction", (long long)changed);
  else
    health_line(h, HEALTH_OK, "descriptors", NULL, "up to date with the installed bundles");
  if (failed)
    health_line(h, HEALTH_WARNING, "plugins", "see `ctrlmap plugins:list` for the failures",
                "%lld plugins could not be described", (long long)failed);
  json_decref(v);
}

static void check_maps(Health *h, json_t *index)
{
  char *dflt = NULL;
  const char *const *paths = (const char *const *)h->ctx->opts->args;
  size_t n = (size_t)h->ctx->opts->n_args;
  if (!n) {
    dflt = pipe_path_join(map_data_dir(), "defaults");
    paths = (const char *const *)&dflt;
    n = 1;
  }
  PipeDiagList *findings = pipe_diags_new();
  MapSet *set = map_set_load(paths, n, NULL, findings);
  size_t errors = pipe_diags_count_severity(findings, PIPE_SEV_ERROR), missing = 0;
  const char *example = NULL;
  for (size_t i = 0; i < map_set_size(set); i++) {
    const char *uri = map_set_map(set, i)->plugin.uri;
    if (uri && index && !json_object_get(plug_index_entries(index), uri)) {
      missing++;
      example = example ? example : uri;
    }
  }
  if (errors)
    health_line(h, HEALTH_ERROR, "maps", "run `ctrlmap maps:validate` to see them", "%zu errors in %zu maps", errors,
                map_set_size(set));
  else
    health_line(h, HEALTH_OK, "maps", NULL, "%zu maps validate", map_set_size(set));
  if (missing)
    health_line(h, HEALTH_WARNING, "map-plugins", "install the plugin, or fix plugin.uri",
                "%zu maps use plugins that are not installed (e.g. <%s>)", missing, example);
  map_set_free(set);
  pipe_diags_free(findings);
  free(dflt);
}

static void check_ardour(Health *h, json_t *index)
{
  PipeDiagList *quiet = pipe_diags_new();
  char **dirs = daw_ardour_user_dirs(h->ctx->opts->ardour_dir, false, quiet);
  pipe_diags_free(quiet);
  if (!dirs[0])
    health_line(h, HEALTH_WARNING, "ardour-folders", "run Ardour 7 or 8 once, or pass --ardour-dir",
                "no Ardour user map folder (maps cannot be installed)");
  json_t *rows = json_array();
  for (size_t i = 0; dirs[i]; i++) {
    health_line(h, HEALTH_OK, "ardour-folders", NULL, "%s", dirs[i]);
    pipe_daw_list_dir(dirs[i], "installed", index, rows);
  }
  size_t stale = 0, foreign = 0, current = 0, k;
  json_t *r;
  json_array_foreach(rows, k, r) {
    const char *st = json_string_value(json_object_get(r, "status"));
    stale += !strcmp(st, "stale") || !strcmp(st, "orphan");
    foreign += !strcmp(st, "foreign");
    current += !strcmp(st, "current");
  }
  json_decref(rows);
  if (stale)
    health_line(h, HEALTH_WARNING, "ardour-maps", "run `ctrlmap workflow:complete --install`",
                "%zu installed maps are stale or orphaned (see `ctrlmap daw:list`)", stale);
  else if (dirs[0])
    health_line(h, HEALTH_OK, "ardour-maps", NULL, "%zu current ctrlmap maps installed, %zu maps of other origin",
                current, foreign);
  daw_strv_free(dirs);
}

/* --performance: the last runs of each measured command, from the history the dispatcher keeps in the cache. */
static void check_trend(Health *h)
{
  if (!h->ctx->opts->performance || !h->ctx->store)
    return;
  char *path = cache_path(h->ctx->store, "perf/history.jsonl"), *data = NULL;
  size_t len = 0;
  json_t *by_cmd = json_object();
  if (pipe_fs_read(path, 8u * 1024 * 1024, &data, &len, NULL) == PIPE_OK) {
    for (char *line = data, *next; line && *line; line = next) {
      next = strchr(line, '\n');
      if (next)
        *next++ = '\0';
      json_t *run = json_loads(line, 0, NULL);
      const char *cmd = json_string_value(json_object_get(run, "command"));
      if (cmd) {
        if (!json_object_get(by_cmd, cmd))
          json_object_set_new(by_cmd, cmd, json_array());
        json_array_append(json_object_get(by_cmd, cmd), json_object_get(run, "wall_ms"));
      }
      json_decref(run);
    }
  }
  const char *cmd;
  json_t *walls;
  json_object_foreach(by_cmd, cmd, walls) {
    size_t n = json_array_size(walls), from = n > 10 ? n - 10 : 0;
    char buf[256] = "", *w = buf;
    for (size_t i = from; i < n && w < buf + sizeof buf - 16; i++)
      w += snprintf(w, 16, "%s%.0f", i > from ? " " : "", json_number_value(json_array_get(walls, i)));
    char *check = pipe_xasprintf("trend %s", cmd);
    health_line(h, HEALTH_OK, check, NULL, "last %zu runs (ms, oldest first): %s", n - from, buf);
    free(check);
  }
  if (!json_object_size(by_cmd))
    health_line(h, HEALTH_OK, "trend", NULL, "no measured runs yet (run commands with --performance)");
  json_decref(by_cmd);
  free(data);
  free(path);
}

static void print_health(Health *h)
{
  size_t i;
  json_t *r;
  json_array_foreach(h->rows, i, r) {
    const char *fix = json_string_value(json_object_get(r, "fix"));
    fprintf(h->ctx->out, "%-8s %-15s %s%s%s\n", json_string_value(json_object_get(r, "status")),
            json_string_value(json_object_get(r, "check")), json_string_value(json_object_get(r, "detail")),
            fix ? "\n                         fix: " : "", fix ? fix : "");
  }
}

int pipe_cmd_workflow_health(PipeCtx *ctx)
{
  Health h = {.ctx = ctx, .rows = json_array()};
  json_t *index = NULL;
  int ph = pipe_perf_phase_begin(ctx->perf, "health");
  if (ctx->store)
    plug_index_load(ctx->store, &index, NULL);
  check_libraries(&h);
  check_lv2_path(&h);
  check_cache(&h, index);
  check_maps(&h, index);
  check_ardour(&h, index);
  check_trend(&h);
  pipe_perf_phase_end(ctx->perf, ph);
  if (ctx->opts->format == PIPE_FMT_JSON)
    pipe_print_json(ctx, json_incref(h.rows));
  else
    print_health(&h);
  json_decref(h.rows);
  json_decref(index);
  return h.worst; /* 0 healthy, 1 warnings, 2 errors */
}
