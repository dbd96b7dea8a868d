/* cmd_daw.c: the daw:* commands (phase 3). */
#include "commands.h"

#include "../daw/daw.h"

#ifndef CTRLMAP_VERSION
#define CTRLMAP_VERSION "0.0.0"
#endif
#include "../plugins/plug.h"
#include "fsx.h"
#include "jsonx.h"
#include "xalloc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *out_dir(PipeCtx *ctx)
{
  return ctx->opts->out_dir ? pipe_xstrdup(ctx->opts->out_dir) : cache_path(ctx->store, "ardour");
}

/* The map's display name and file name, made unique within the run: Ardour lists maps by name, so two maps of one
 * device and one plugin (different channels, say) get their map file's name added. */
static char *unique_names(json_t *taken, json_t *b, char **display)
{
  *display = daw_ardour_display_name(b);
  char *name = daw_file_name(*display);
  if (json_object_get(taken, name) || json_object_get(taken, *display)) {
    const char *map = json_string_value(json_object_get(b, "map")), *slash = strrchr(map, '/');
    char *stem = pipe_xstrdup(slash ? slash + 1 : map), *dot = strrchr(stem, '.');
    if (dot)
      *dot = '\0';
    char *longer = pipe_xasprintf("%s (%s)", *display, stem);
    free(*display);
    *display = longer;
    free(name);
    name = daw_file_name(longer);
    free(stem);
  }
  json_object_set_new(taken, name, json_true());
  json_object_set_new(taken, *display, json_true());
  return name;
}

typedef struct {
  PipeCtx *ctx;
  DawArdour *ar;
  char *out;
  char **install_dirs;
  json_t *taken, *report;
  PipeDiagList *findings;
  size_t written, unchanged, installed, failed;
  size_t refused; /* maps with errors in maps:check: not generated */
  bool no_schema, generated_dirty;
} Gen;

static void install_one(Gen *g, const char *name, const char *xml, size_t len, json_t *row)
{
  json_t *targets = json_array();
  for (size_t k = 0; g->install_dirs && g->install_dirs[k]; k++) {
    bool w = false;
    if (daw_install(g->install_dirs[k], name, xml, len, g->ctx->opts->force, &w, g->findings) == PIPE_OK) {
      char *p = pipe_path_join(g->install_dirs[k], name);
      json_array_append_new(targets, json_string(p));
      free(p);
      g->installed += w;
    } else {
      g->failed++;
      json_object_set_new(row, "status", json_string("refused")); /* kept the file already there */
    }
  }
  json_object_set_new(row, "installed", targets);
}

static json_t *generate_one(Gen *g, json_t *b)
{
  char *display = NULL, *xml = NULL, *name = unique_names(g->taken, b, &display);
  DawArdourOpts o = {.route = g->ctx->opts->route, .plugin_position = g->ctx->opts->plugin_position, .name = display};
  size_t len = 0;
  json_t *row = json_pack("{s:O, s:s}", "map", json_object_get(b, "map"), "file", name);
  bool w = false;
  if (!g->ar && !g->no_schema) { /* parsed only when a file has to be written: a run with nothing to do skips it */
    g->ar = daw_ardour_new(NULL, g->findings);
    g->no_schema = !g->ar; /* reported once */
  }
  if (!g->ar || daw_ardour_render(g->ar, b, &o, &xml, &len, g->findings) != PIPE_OK ||
      daw_install(g->out, name, xml, len, g->ctx->opts->force, &w, g->findings) != PIPE_OK) {
    g->failed++;
    json_object_set_new(row, "status", json_string("failed"));
  } else {
    json_object_set_new(row, "status", json_string(w ? "written" : "unchanged"));
    *(w ? &g->written : &g->unchanged) += 1;
    if (g->install_dirs)
      install_one(g, name, xml, len, row);
  }
  json_object_set_new(row, "name", json_string(display));
  free(display);
  json_array_append_new(g->report, row);
  free(xml);
  free(name);
  return row;
}

/* ---- skipping what did not change ---- */

#define GENERATED_DOC  "daw/generated"
#define GENERATED_KIND "daw-generated"

/* A generated file depends on the map's bindings (their hash), the options and ctrlmap's version. */
static char *generation_key(Gen *g, json_t *row)
{
  const char *bh = json_string_value(json_object_get(row, "bindings_hash"));
  return bh ? pipe_xasprintf("%s|%s|%d|%s|%s", bh, g->ctx->opts->route ? g->ctx->opts->route : "",
                             g->ctx->opts->plugin_position, CTRLMAP_VERSION, g->out)
            : NULL;
}

/* The file recorded for this map when its key is unchanged, the file is still there and its names are free. */
static json_t *reusable(Gen *g, json_t *rec, const char *key)
{
  const char *file = json_string_value(json_object_get(rec, "file"));
  const char *display = json_string_value(json_object_get(rec, "name"));
  if (!key || !file || !display || !json_is_string(json_object_get(rec, "key")) ||
      strcmp(key, json_string_value(json_object_get(rec, "key"))) || json_object_get(g->taken, file) ||
      json_object_get(g->taken, display))
    return NULL;
  /* Untouched since it was written: same size and modification time (a stat, not a read). */
  char *path = pipe_path_join(g->out, file);
  struct stat sb;
  bool there = stat(path, &sb) == 0 && (json_int_t)sb.st_size == json_integer_value(json_object_get(rec, "size")) &&
               (json_int_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec ==
                   json_integer_value(json_object_get(rec, "mtime_ns"));
  free(path);
  return there ? rec : NULL;
}

static void reuse_one(Gen *g, json_t *rec, const char *map)
{
  const char *file = json_string_value(json_object_get(rec, "file"));
  json_object_set_new(g->taken, file, json_true());
  json_object_set_new(g->taken, json_string_value(json_object_get(rec, "name")), json_true());
  json_t *row = json_pack("{s:s, s:s, s:s, s:O}", "map", map, "file", file, "status", "unchanged", "name",
                          json_object_get(rec, "name"));
  g->unchanged++;
  if (g->install_dirs) {
    char *path = pipe_path_join(g->out, file), *xml = NULL;
    size_t len = 0;
    if (pipe_fs_read(path, 64u * 1024 * 1024, &xml, &len, g->findings) == PIPE_OK)
      install_one(g, file, xml, len, row);
    free(xml);
    free(path);
  }
  json_array_append_new(g->report, row);
}

static json_t *record(Gen *g, const char *key, json_t *out)
{
  char *path = pipe_path_join(g->out, json_string_value(json_object_get(out, "file")));
  struct stat sb = {0};
  stat(path, &sb);
  free(path);
  return json_pack("{s:s, s:O, s:O, s:I, s:I}", "key", key, "file", json_object_get(out, "file"), "name",
                   json_object_get(out, "name"), "size", (json_int_t)sb.st_size, "mtime_ns",
                   (json_int_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec);
}

/* One map: reused when nothing it depends on changed, else rendered from its bindings; the record is updated. */
static void generate_row(Gen *g, json_t *row, json_t *generated)
{
  const char *map = json_string_value(json_object_get(row, "path"));
  char *real = pipe_real_path(map), *key = generation_key(g, row);
  const char *id = real;
  json_t *rec = reusable(g, json_object_get(generated, id), key);
  if (rec) {
    reuse_one(g, rec, map);
  } else {
    json_t *b = pipe_maps_load_bindings(g->ctx, map);
    json_t *out = b ? generate_one(g, b) : NULL;
    if (out && strcmp(json_string_value(json_object_get(out, "status")), "failed") && key) {
      json_t *fresh = record(g, key, out);
      g->generated_dirty = g->generated_dirty || !json_equal(fresh, json_object_get(generated, id));
      json_object_set_new(generated, id, fresh);
    }
    json_decref(b);
  }
  free(key);
  free(real);
}

static void print_generate(Gen *g)
{
  size_t i;
  json_t *r;
  json_array_foreach(g->report, i, r) {
    /* unchanged files are only counted (a thousand "unchanged" lines say nothing); --format json lists them */
    if (!strcmp(json_string_value(json_object_get(r, "status")), "unchanged") &&
        !json_array_size(json_object_get(r, "installed")))
      continue;
    fprintf(g->ctx->out, "%-9s %s/%s  (%s)\n", json_string_value(json_object_get(r, "status")), g->out,
            json_string_value(json_object_get(r, "file")), json_string_value(json_object_get(r, "name")));
    size_t k;
    json_t *t;
    json_array_foreach(json_object_get(r, "installed"), k, t)
      fprintf(g->ctx->out, "          installed %s\n", json_string_value(t));
  }
  pipe_diags_print(g->findings, g->ctx->out);
  fprintf(g->ctx->out, "%zu Ardour maps: %zu written, %zu unchanged, %zu failed", json_array_size(g->report),
          g->written, g->unchanged, g->failed);
  if (g->refused)
    fprintf(g->ctx->out, "; %zu maps not generated (errors above)", g->refused);
  fprintf(g->ctx->out, "%s\n", g->install_dirs ? "" : " (not installed: use --install)");
}

static size_t failing_maps(json_t *rows)
{
  size_t i, n = 0;
  json_t *row;
  json_array_foreach(rows, i, row)
    n += !strcmp(json_string_value(json_object_get(row, "status")), "errors");
  return n;
}

/* daw:generate writes what it can; with `all_or_nothing` (workflow:complete), one failing map stops the run
 * before anything is written or installed. */
int pipe_daw_generate(PipeCtx *ctx, bool all_or_nothing)
{
  Gen g = {.ctx = ctx, .taken = json_object(), .report = json_array(), .findings = pipe_diags_new()};
  json_t *rows = NULL;
  int rc = PIPE_EXIT_ENV;
  long n = pipe_maps_check_run(ctx, false, false, &rows, g.findings);
  size_t bad = n >= 0 ? failing_maps(rows) : 0;
  g.refused = bad;
  if (all_or_nothing && bad) {
    pipe_diags_print(g.findings, ctx->out);
    fprintf(ctx->out,
            "workflow: phase check failed: %zu of %ld maps have errors; nothing was generated or "
            "installed\n",
            bad, n);
    rc = PIPE_EXIT_FINDINGS;
    goto done;
  }
  g.out = out_dir(ctx);
  if (n < 0 || pipe_fs_mkdirs(g.out, ctx->diags) != PIPE_OK)
    goto done;
  pipe_fs_sweep_dead_temps(g.out); /* what a killed run was writing */
  if (ctx->opts->install || ctx->opts->ardour_dir) {
    g.install_dirs = daw_ardour_user_dirs(ctx->opts->ardour_dir, true, ctx->diags);
    if (!g.install_dirs[0])
      goto done; /* nowhere to install: nothing is written, nothing half-done */
    for (size_t k = 0; g.install_dirs[k]; k++)
      pipe_fs_sweep_dead_temps(g.install_dirs[k]);
  }
  int ph = pipe_perf_phase_begin(ctx->perf, "generate");
  size_t i;
  json_t *row;
  json_t *generated = NULL;
  if (cache_doc_load(ctx->store, GENERATED_DOC, GENERATED_KIND, &generated, NULL) != PIPE_OK ||
      !json_is_object(generated)) {
    json_decref(generated);
    generated = json_object();
  }
  json_array_foreach(rows, i, row) {
    uint64_t t0 = pipe_now_ns();
    bool passed = strcmp(json_string_value(json_object_get(row, "status")), "errors") != 0;
    if (passed)
      generate_row(&g, row, generated);
    pipe_perf_item(ctx->perf, ph, (double)(pipe_now_ns() - t0) / 1e6, passed);
  }
  pipe_perf_phase_end(ctx->perf, ph);
  if (g.generated_dirty) /* a run that regenerated nothing writes nothing */
    cache_doc_save(ctx->store, GENERATED_DOC, GENERATED_KIND, generated, ctx->diags);
  json_decref(generated);
  if (ctx->opts->format == PIPE_FMT_JSON)
    pipe_print_json(
        ctx, json_pack("{s:O, s:s, s:o}", "maps", g.report, "out", g.out, "findings", pipe_findings_json(g.findings)));
  else
    print_generate(&g);
  rc = g.failed ? PIPE_EXIT_FINDINGS : pipe_maps_findings_exit(ctx, g.findings);
done:
  if (rc == PIPE_EXIT_ENV)
    pipe_diags_print(g.findings, stderr);
  daw_strv_free(g.install_dirs);
  daw_ardour_free(g.ar);
  free(g.out);
  json_decref(rows);
  json_decref(g.taken);
  json_decref(g.report);
  pipe_diags_free(g.findings);
  return rc;
}

int pipe_cmd_daw_generate(PipeCtx *ctx)
{
  return pipe_daw_generate(ctx, false);
}

/* ---- daw:list ---- */

static char *file_hash_hex(const char *path)
{
  char *data = NULL, hex[17];
  size_t len = 0;
  if (pipe_fs_read(path, 64u * 1024 * 1024, &data, &len, NULL) != PIPE_OK)
    return NULL;
  cache_hash_hex(cache_hash(data, len), hex);
  free(data);
  return pipe_xstrdup(hex);
}

/* current, stale (its map or its plugin's descriptor changed), orphan (its map is gone), foreign. */
const char *pipe_daw_file_status(const char *path, json_t *index, json_t *row)
{
  DawProvenance p;
  if (!daw_file_provenance(path, &p))
    return "foreign";
  json_object_set_new(row, "map", json_string(p.map_path));
  json_object_set_new(row, "plugin", json_string(p.plugin));
  char *now = file_hash_hex(p.map_path);
  const char *desc = json_string_value(json_object_get(json_object_get(plug_index_entries(index), p.plugin), "hash"));
  const char *st = !now                                                                  ? "orphan"
                   : strcmp(now, p.map_hash) || !desc || strcmp(desc, p.descriptor_hash) ? "stale"
                                                                                         : "current";
  free(now);
  daw_provenance_release(&p);
  return st;
}

void pipe_daw_list_dir(const char *dir, const char *where, json_t *index, json_t *rows)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".map"))
      continue;
    char *path = pipe_path_join(dir, e->d_name);
    json_t *row = json_pack("{s:s, s:s}", "file", path, "where", where);
    json_object_set_new(row, "status", json_string(pipe_daw_file_status(path, index, row)));
    json_array_append_new(rows, row);
    free(path);
  }
  if (d)
    closedir(d);
}

static int cmp_rows(const void *a, const void *b)
{
  return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "file")),
                json_string_value(json_object_get(*(json_t *const *)b, "file")));
}

int pipe_cmd_daw_list(PipeCtx *ctx)
{
  json_t *index = NULL, *rows = json_array();
  if (ctx->store)
    plug_index_load(ctx->store, &index, NULL);
  char *out = ctx->opts->out_dir ? pipe_xstrdup(ctx->opts->out_dir)
              : ctx->store       ? cache_path(ctx->store, "ardour")
                                 : NULL;
  if (out)
    pipe_daw_list_dir(out, "generated", index, rows);
  PipeDiagList *quiet = pipe_diags_new(); /* no Ardour folder is not an error when listing */
  char **dirs = daw_ardour_user_dirs(ctx->opts->ardour_dir, false, quiet);
  for (size_t i = 0; dirs[i]; i++)
    pipe_daw_list_dir(dirs[i], "installed", index, rows);
  pipe_json_array_sort(rows, cmp_rows);
  if (ctx->opts->format == PIPE_FMT_JSON) {
    pipe_print_json(ctx, json_incref(rows));
  } else {
    size_t i;
    json_t *r;
    fprintf(ctx->out, "%-9s %-10s %s\n", "STATUS", "WHERE", "FILE");
    json_array_foreach(rows, i, r)
      fprintf(ctx->out, "%-9s %-10s %s\n", json_string_value(json_object_get(r, "status")),
              json_string_value(json_object_get(r, "where")), json_string_value(json_object_get(r, "file")));
    fprintf(ctx->out, "%zu maps\n", json_array_size(rows));
  }
  daw_strv_free(dirs);
  pipe_diags_free(quiet);
  free(out);
  json_decref(rows);
  json_decref(index);
  return PIPE_EXIT_OK;
}
