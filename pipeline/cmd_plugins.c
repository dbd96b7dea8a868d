/* cmd_plugins.c: the plugins:* commands (phase 1). */
#include "commands.h"

#include "../plugins/plug.h"
#include "fsx.h"
#include "jsonx.h"
#include "text.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HEALTH_DOC  "plugins/health"
#define HEALTH_KIND "plugin-health"

static bool str_is(const json_t *j, const char *s)
{
  const char *v = json_string_value(j);
  return v && !strcmp(v, s);
}

/* ---- plugins:extract ---- */

static json_t *extract_report_json(const PlugExtractReport *r, const char *cache_dir)
{
  return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:O}", "cache_dir", cache_dir, "plugins",
                   (json_int_t)r->plugins, "extracted", (json_int_t)r->extracted, "cached", (json_int_t)r->cached,
                   "failed", (json_int_t)r->failed, "removed", (json_int_t)r->removed, "turtle_loaded",
                   r->turtle_loaded, "failures", r->failures);
}

static void print_extract_report(PipeCtx *ctx, const PlugExtractReport *r)
{
  fprintf(ctx->out, "plugins: %zu installed, %zu described now, %zu from cache, %zu removed, %zu failed\n", r->plugins,
          r->extracted, r->cached, r->removed, r->failed);
  size_t i;
  json_t *f;
  json_array_foreach(r->failures, i, f) {
    fputs("  failed: ", ctx->out); /* a URI and a reason naming files: both come from the LV2 folders */
    pipe_fputs_printable(json_string_value(json_object_get(f, "uri")), ctx->out);
    fputs(": ", ctx->out);
    pipe_fputs_printable(json_string_value(json_object_get(f, "error")), ctx->out);
    fputc('\n', ctx->out);
  }
  fprintf(ctx->out, "cache: %s\n", ctx->cache_dir);
}

PipeStatus pipe_extract(PipeCtx *ctx, bool force, PlugExtractReport **report)
{
  PlugExtractOpts o = {.lv2_path = ctx->opts->lv2_path,
                       .engine = ctx->opts->engine_lilv ? PLUG_ENGINE_LILV : PLUG_ENGINE_STREAM,
                       .jobs = ctx->opts->jobs,
                       .timeout_s = ctx->opts->timeout_s,
                       .memory_limit_mib = ctx->opts->memory_limit_mib,
                       .force = force,
                       .progress = ctx->tty ? pipe_progress : NULL};
  PipeStatus st = plug_extract(ctx->store, &o, ctx->perf, report, ctx->diags);
  pipe_progress_end(ctx);
  return st;
}

int pipe_cmd_plugins_extract(PipeCtx *ctx)
{
  PlugExtractReport *r = NULL;
  PipeStatus st = pipe_extract(ctx, ctx->opts->force, &r);
  if (st == PIPE_OK || r->plugins > 0) { /* a run stopped before the scan has nothing to report */
    if (ctx->opts->format == PIPE_FMT_JSON)
      pipe_print_json(ctx, extract_report_json(r, ctx->cache_dir));
    else
      print_extract_report(ctx, r);
  }
  int rc = st != PIPE_OK ? PIPE_EXIT_ENV : (ctx->opts->strict && r->failed) ? PIPE_EXIT_FINDINGS : PIPE_EXIT_OK;
  plug_extract_report_free(r);
  return rc;
}

/* ---- plugins:list ---- */

static int cmp_entries(const void *a, const void *b)
{
  json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  const char *nx = json_string_value(json_object_get(x, "name")), *ny = json_string_value(json_object_get(y, "name"));
  int c = strcasecmp(nx ? nx : "", ny ? ny : "");
  return c ? c : strcmp(json_string_value(json_object_get(x, "uri")), json_string_value(json_object_get(y, "uri")));
}

/* The cached entries that match --plugin, each with its URI and last health result, sorted by name. */
static json_t *list_rows(PipeCtx *ctx, json_t *index, json_t *health)
{
  json_t *rows = json_array();
  const char *uri;
  json_t *e;
  json_object_foreach(plug_index_entries(index), uri, e) {
    const char *name = json_string_value(json_object_get(e, "name"));
    if (!plug_filter_match(ctx->opts->plugin, uri, name))
      continue;
    json_t *row =
        json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O}", "uri", uri, "name",
                  json_object_get(e, "name") ? json_object_get(e, "name") : json_null(), "class",
                  json_object_get(e, "class") ? json_object_get(e, "class") : json_null(), "control_in",
                  json_object_get(e, "control_in") ? json_object_get(e, "control_in") : json_null(), "control_out",
                  json_object_get(e, "control_out") ? json_object_get(e, "control_out") : json_null(), "status",
                  json_object_get(e, "status"), "bundle",
                  json_object_get(e, "bundle") ? json_object_get(e, "bundle") : json_null());
    if (json_object_get(e, "error"))
      json_object_set(row, "error", json_object_get(e, "error"));
    json_t *h = json_object_get(health, uri);
    if (h && json_equal(json_object_get(h, "fp"), json_object_get(e, "fp")))
      json_object_set_new(row, "health",
                          json_pack("{s:O, s:O}", "status", json_object_get(h, "status"), "detail",
                                    json_object_get(h, "detail") ? json_object_get(h, "detail") : json_null()));
    json_array_append_new(rows, row);
  }
  pipe_json_array_sort(rows, cmp_entries);
  return rows;
}

/* Prints `s` in a column of `width` characters (UTF-8 aware: "μ-Law" is 5 wide, not 6), cut if longer. */
static void print_cell(FILE *out, const char *text, size_t width)
{
  size_t chars = 0, i = 0;
  char *s = pipe_printable_dup(text ? text : ""); /* a plugin's name is whatever its Turtle says */
  for (; s[i] && chars < width; chars++)
    for (i++; ((unsigned char)s[i] & 0xC0) == 0x80; i++)
      ;
  fprintf(out, "%.*s%*s ", (int)i, s, (int)(width - chars), "");
  free(s);
}

static void print_list_table(PipeCtx *ctx, json_t *rows)
{
  fprintf(ctx->out, "%-32s %-20s %4s %4s %-12s %s\n", "NAME", "CLASS", "IN", "OUT", "STATUS", "URI");
  size_t i;
  json_t *r;
  json_array_foreach(rows, i, r) {
    json_t *h = json_object_get(r, "health");
    const char *st = json_string_value(json_object_get(r, "status"));
    if (str_is(json_object_get(r, "status"), "ok") && h)
      st = json_string_value(json_object_get(h, "status"));
    print_cell(ctx->out, json_string_value(json_object_get(r, "name")), 32);
    print_cell(ctx->out, json_string_value(json_object_get(r, "class")), 20);
    fprintf(ctx->out, "%4lld %4lld ", (long long)json_integer_value(json_object_get(r, "control_in")),
            (long long)json_integer_value(json_object_get(r, "control_out")));
    print_cell(ctx->out, st, 12);
    pipe_fputs_printable(json_string_value(json_object_get(r, "uri")), ctx->out);
    fputc('\n', ctx->out);
  }
  fprintf(ctx->out, "%zu plugins\n", json_array_size(rows));
}

int pipe_cmd_plugins_list(PipeCtx *ctx)
{
  json_t *index = NULL, *health = NULL;
  int ph = pipe_perf_phase_begin(ctx->perf, "read");
  PipeStatus st = plug_index_load(ctx->store, &index, ctx->diags);
  pipe_perf_phase_end(ctx->perf, ph);
  if (st != PIPE_OK) {
    if (st == PIPE_ERR_NOTFOUND)
      pipe_diag_add(ctx->diags, PIPE_SEV_ERROR, "cache-empty", ctx->cache_dir, 0, 0,
                    "no plugin descriptors in this cache; run `ctrlmap plugins:extract` first");
    else
      pipe_diag_add(ctx->diags, PIPE_SEV_ERROR, "cache-damaged", ctx->cache_dir, 0, 0,
                    "the plugin index cannot be used; run `ctrlmap plugins:extract` to rebuild it");
    return PIPE_EXIT_ENV;
  }
  cache_doc_load(ctx->store, HEALTH_DOC, HEALTH_KIND, &health, NULL);
  json_t *rows = list_rows(ctx, index, health);
  if (ctx->opts->format == PIPE_FMT_JSON)
    pipe_print_json(ctx, json_incref(rows));
  else
    print_list_table(ctx, rows);
  json_decref(rows);
  json_decref(index);
  json_decref(health);
  return PIPE_EXIT_OK;
}

/* ---- plugins:health ---- */

static void print_health_table(PipeCtx *ctx, json_t *results)
{
  size_t i, n_ok = 0;
  json_t *r, *tally = json_object();
  bool all = ctx->opts->plugin != NULL; /* a filtered run shows every row; a full run only the problems */
  fprintf(ctx->out, "%-18s %-8s %-50s %s\n", "STATUS", "MS", "PLUGIN", "DETAIL");
  json_array_foreach(results, i, r) {
    const char *st = json_string_value(json_object_get(r, "status"));
    json_object_set_new(tally, st, json_integer(json_integer_value(json_object_get(tally, st)) + 1));
    n_ok += !strcmp(st, "ok");
    if (!strcmp(st, "ok") && !all)
      continue;
    const char *detail = json_string_value(json_object_get(r, "detail"));
    char *uri = pipe_printable_dup(json_string_value(json_object_get(r, "uri")));
    fprintf(ctx->out, "%-18s %-8.1f %-50s ", st, json_real_value(json_object_get(r, "ms")), uri);
    free(uri);
    pipe_fputs_printable(detail, ctx->out);
    fputc('\n', ctx->out);
  }
  fprintf(ctx->out, "%zu plugins:", json_array_size(results));
  const char *k;
  json_t *v;
  const char *sep = " ";
  json_object_foreach(tally, k, v) {
    fprintf(ctx->out, "%s%lld %s", sep, (long long)json_integer_value(v), k);
    sep = ", ";
  }
  fprintf(ctx->out, "\n");
  json_decref(tally);
}

/* Keeps the results in the cache (keyed by plugin, with the plugin's fingerprint) for plugins:list. */
static void save_health(PipeCtx *ctx, json_t *index, json_t *results)
{
  json_t *doc = NULL;
  if (cache_doc_load(ctx->store, HEALTH_DOC, HEALTH_KIND, &doc, NULL) != PIPE_OK || !json_is_object(doc)) {
    json_decref(doc);
    doc = json_object();
  }
  size_t i;
  json_t *r;
  json_array_foreach(results, i, r) {
    const char *uri = json_string_value(json_object_get(r, "uri"));
    json_t *fp = json_object_get(json_object_get(plug_index_entries(index), uri), "fp");
    json_t *h = json_pack("{s:O, s:O}", "status", json_object_get(r, "status"), "fp", fp ? fp : json_null());
    if (json_object_get(r, "detail"))
      json_object_set(h, "detail", json_object_get(r, "detail"));
    json_object_set_new(doc, uri, h);
  }
  cache_doc_save(ctx->store, HEALTH_DOC, HEALTH_KIND, doc, ctx->diags);
  json_decref(doc);
}

int pipe_cmd_plugins_health(PipeCtx *ctx)
{
  json_t *index = NULL, *results = NULL;
  plug_index_load(ctx->store, &index, NULL); /* optional: lets --plugin match names */
  cache_mkdir(ctx->store, "logs", ctx->diags);
  char *log_path = cache_path(ctx->store, "logs/health.log");
  unlink(log_path);
  PlugHealthOpts o = {.lv2_path = ctx->opts->lv2_path,
                      .filter = ctx->opts->plugin,
                      .jobs = ctx->opts->jobs,
                      .timeout_s = ctx->opts->timeout_s,
                      .memory_limit_mib = ctx->opts->memory_limit_mib,
                      .log_path = log_path,
                      .names = plug_index_entries(index),
                      .progress = ctx->tty ? pipe_progress : NULL};
  PipeStatus st = plug_health(&o, ctx->perf, &results, ctx->diags);
  pipe_progress_end(ctx);
  free(log_path);
  size_t i, bad = 0;
  json_t *r;
  json_array_foreach(results, i, r)
    bad += !str_is(json_object_get(r, "status"), "ok");
  save_health(ctx, index, results);
  if (ctx->opts->format == PIPE_FMT_JSON)
    pipe_print_json(ctx, json_incref(results));
  else
    print_health_table(ctx, results);
  json_decref(results);
  json_decref(index);
  return st != PIPE_OK ? PIPE_EXIT_ENV : (ctx->opts->strict && bad) ? PIPE_EXIT_FINDINGS : PIPE_EXIT_OK;
}
