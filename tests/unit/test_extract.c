/* test_extract.c: plugins:extract's incremental cache -- what a cold, warm, touched, grown, shrunk, forced and
 * damaged cache each cause to be described again. Every test has its own LV2 directory (copies of fixture bundles)
 * and its own cache. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "plugins/plug.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALLPORTS "urn:ctrlmap:test:allports"
#define NOISY "urn:ctrlmap:test:noisy"
#define NAN_URI "urn:ctrlmap:test:nan"

static const char *const THREE[] = {"ctrlmap-allports.lv2", "ctrlmap-noisy.lv2", "ctrlmap-nan.lv2", NULL};

typedef struct {
  char *tmp;
  char lv2[8200]; /* the LV2 path used by run_extract() */
  char cache[4096];
} Env;

/* One extract run's outcome. */
typedef struct {
  PipeStatus st;
  PlugExtractReport *r;
  PipeDiagList *diags;
  json_t *described; /* URIs the progress callback saw, sorted */
} Run;

static int env_setup(void **state)
{
  Env *e = calloc(1, sizeof *e);
  e->tmp = tu_tempdir();
  snprintf(e->lv2, sizeof e->lv2, "%s/lv2", e->tmp);
  snprintf(e->cache, sizeof e->cache, "%s/cache", e->tmp);
  *state = e;
  return 0;
}

static int env_teardown(void **state)
{
  Env *e = *state;
  tu_rmtree(e->tmp);
  free(e->tmp);
  free(e);
  return 0;
}

static void on_progress(void *data, size_t done, size_t total, const char *label)
{
  json_t *seen = data;
  assert_true(done >= 1 && done <= total);
  json_array_append_new(seen, json_string(label));
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static json_t *sorted(json_t *arr)
{
  size_t n = json_array_size(arr);
  json_t **items = calloc(n + 1, sizeof *items);
  for (size_t i = 0; i < n; i++)
    items[i] = json_incref(json_array_get(arr, i));
  qsort(items, n, sizeof *items, cmp_str);
  json_array_clear(arr);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, items[i]);
  free(items);
  return arr;
}

static Run run_extract(const Env *e, bool force)
{
  Run run = {.diags = pipe_diags_new(), .described = json_array()};
  PipeStatus st;
  CacheStore *store = cache_open(e->cache, CACHE_WRITE, 10000, &st, run.diags);
  assert_non_null(store);
  PlugExtractOpts opts = {
      .lv2_path = e->lv2, .jobs = 2, .force = force, .progress = on_progress, .progress_data = run.described};
  run.st = plug_extract(store, &opts, NULL, &run.r, run.diags);
  assert_non_null(run.r);
  cache_close(store);
  sorted(run.described);
  return run;
}

static void run_free(Run *run)
{
  plug_extract_report_free(run->r);
  pipe_diags_free(run->diags);
  json_decref(run->described);
}

/* The counters of a run that went through, with no failures. */
static void assert_counts(const Run *run, size_t plugins, size_t extracted, size_t cached, size_t removed)
{
  assert_int_equal(run->st, PIPE_OK);
  if (run->r->plugins != plugins || run->r->extracted != extracted || run->r->cached != cached ||
      run->r->removed != removed)
    fail_msg("plugins %zu extracted %zu cached %zu removed %zu; want %zu %zu %zu %zu", run->r->plugins,
             run->r->extracted, run->r->cached, run->r->removed, plugins, extracted, cached, removed);
  assert_int_equal(run->r->failed, 0);
  assert_int_equal(json_array_size(run->r->failures), 0);
  assert_int_equal(json_array_size(run->described), extracted);
}

/* The progress callback saw exactly these URIs (sorted, NULL-terminated). */
static void assert_described(const Run *run, const char *const *uris)
{
  size_t n = 0;
  while (uris[n])
    n++;
  if (json_array_size(run->described) != n) {
    char *s = json_dumps(run->described, JSON_COMPACT);
    fail_msg("described %s, want %zu plugin(s)", s, n);
  }
  for (size_t i = 0; i < n; i++)
    assert_string_equal(json_string_value(json_array_get(run->described, i)), uris[i]);
}

static bool has_diag(PipeDiagList *diags, PipeSeverity sev, const char *code)
{
  for (size_t i = 0; i < pipe_diags_count(diags); i++) {
    const PipeDiag *d = pipe_diags_get(diags, i);
    if (d->severity == sev && !strcmp(d->code, code))
      return true;
  }
  return false;
}

static json_t *load_index(const Env *e)
{
  PipeStatus st;
  CacheStore *store = cache_open(e->cache, CACHE_READ, 10000, &st, NULL);
  assert_non_null(store);
  json_t *index = NULL;
  assert_int_equal(plug_index_load(store, &index, NULL), PIPE_OK);
  cache_close(store);
  return index;
}

static PipeStatus load_desc(const Env *e, json_t *index, const char *uri, json_t **desc, PipeDiagList *diags)
{
  PipeStatus st;
  CacheStore *store = cache_open(e->cache, CACHE_READ, 10000, &st, NULL);
  assert_non_null(store);
  st = plug_desc_load(store, index, uri, desc, diags);
  cache_close(store);
  return st;
}

/* Absolute path of a plugin's descriptor file, from the index. Owned. */
static char *desc_path(const Env *e, json_t *index, const char *uri)
{
  const char *file = json_string_value(json_object_get(json_object_get(plug_index_entries(index), uri), "file"));
  assert_non_null(file);
  char *p = malloc(8192);
  snprintf(p, 8192, "%s/%s", e->cache, file);
  return p;
}

/* The index lists exactly these plugins (NULL-terminated), each "ok" with a descriptor that loads and is its own. */
static void assert_index_holds(const Env *e, const char *const *uris)
{
  json_t *index = load_index(e);
  size_t n = 0;
  for (; uris[n]; n++) {
    json_t *entry = json_object_get(plug_index_entries(index), uris[n]);
    if (!entry)
      fail_msg("index has no <%s>", uris[n]);
    assert_string_equal(json_string_value(json_object_get(entry, "status")), "ok");
    json_t *desc = NULL;
    assert_int_equal(load_desc(e, index, uris[n], &desc, NULL), PIPE_OK);
    assert_string_equal(json_string_value(json_object_get(desc, "uri")), uris[n]);
    assert_int_equal(json_integer_value(json_object_get(entry, "control_in")),
                     json_integer_value(json_object_get(json_object_get(desc, "counts"), "control_in")));
    json_decref(desc);
  }
  assert_int_equal(json_object_size(plug_index_entries(index)), n);
  json_decref(index);
}

static void copy_three(Env *e)
{
  tu_copy_bundles(e->lv2, THREE);
}

/* ---- the tests ---- */

static void test_cold_run(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run run = run_extract(e, false);
  assert_counts(&run, 3, 3, 0, 0);
  assert_true(run.r->turtle_loaded);
  assert_described(&run, (const char *const[]){ALLPORTS, NAN_URI, NOISY, NULL});
  assert_int_equal(pipe_diags_count_severity(run.diags, PIPE_SEV_ERROR), 0);
  run_free(&run);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NAN_URI, NULL});
  /* What plugins print while being described goes to the cache's log; noisy prints only when run, so here the
   * log exists and holds none of its output. */
  char log[8192];
  snprintf(log, sizeof log, "%s/logs/extract.log", e->cache);
  char *text = tu_read_file(log, NULL);
  assert_non_null(text);
  assert_null(strstr(text, "NOISY-"));
  free(text);
}

static void test_warm_run(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);
  Run warm = run_extract(e, false);
  assert_counts(&warm, 3, 0, 3, 0);
  assert_false(warm.r->turtle_loaded);
  assert_int_equal(pipe_diags_count(warm.diags), 0);
  run_free(&warm);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NAN_URI, NULL});
}

static void test_touched_bundle(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);
  json_t *before = load_index(e);

  char ttl[16384];
  snprintf(ttl, sizeof ttl, "%s/ctrlmap-noisy.lv2/noisy.ttl", e->lv2);
  tu_touch(ttl, 5);
  Run run = run_extract(e, false);
  assert_counts(&run, 3, 1, 2, 0);
  assert_true(run.r->turtle_loaded);
  assert_described(&run, (const char *const[]){NOISY, NULL});
  run_free(&run);

  /* The untouched plugins' index entries are reused as they were. */
  json_t *after = load_index(e);
  assert_true(json_equal(json_object_get(plug_index_entries(before), ALLPORTS),
                         json_object_get(plug_index_entries(after), ALLPORTS)));
  assert_true(json_equal(json_object_get(plug_index_entries(before), NAN_URI),
                         json_object_get(plug_index_entries(after), NAN_URI)));
  assert_false(json_equal(json_object_get(plug_index_entries(before), NOISY),
                          json_object_get(plug_index_entries(after), NOISY)));
  json_decref(before);
  json_decref(after);

  Run warm = run_extract(e, false);
  assert_counts(&warm, 3, 0, 3, 0);
  assert_false(warm.r->turtle_loaded);
  run_free(&warm);
}

static void test_added_bundle(void **state)
{
  Env *e = *state;
  tu_copy_bundles(e->lv2, (const char *const[]){"ctrlmap-allports.lv2", "ctrlmap-noisy.lv2", NULL});
  Run cold = run_extract(e, false);
  assert_counts(&cold, 2, 2, 0, 0);
  run_free(&cold);
  tu_copy_bundles(e->lv2, (const char *const[]){"ctrlmap-nan.lv2", NULL});
  Run run = run_extract(e, false);
  assert_counts(&run, 3, 1, 2, 0);
  assert_described(&run, (const char *const[]){NAN_URI, NULL});
  run_free(&run);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NAN_URI, NULL});
}

static void test_removed_bundle(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);
  json_t *index = load_index(e);
  char *gone = desc_path(e, index, NAN_URI);
  json_decref(index);
  assert_int_equal(access(gone, F_OK), 0);

  char dir[16384];
  snprintf(dir, sizeof dir, "%s/ctrlmap-nan.lv2", e->lv2);
  tu_rmtree(dir);
  Run run = run_extract(e, false);
  assert_counts(&run, 2, 0, 2, 1);
  assert_described(&run, (const char *const[]){NULL});
  run_free(&run);
  assert_int_equal(access(gone, F_OK), -1);
  free(gone);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NULL});

  Run warm = run_extract(e, false);
  assert_counts(&warm, 2, 0, 2, 0);
  assert_false(warm.r->turtle_loaded);
  run_free(&warm);
}

static void test_force(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);
  Run forced = run_extract(e, true);
  assert_counts(&forced, 3, 3, 0, 0);
  assert_true(forced.r->turtle_loaded);
  assert_described(&forced, (const char *const[]){ALLPORTS, NAN_URI, NOISY, NULL});
  run_free(&forced);
  Run warm = run_extract(e, false);
  assert_counts(&warm, 3, 0, 3, 0);
  run_free(&warm);
}

static void test_truncated_descriptor(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);

  json_t *index = load_index(e);
  char *path = desc_path(e, index, ALLPORTS);
  size_t len = 0;
  char *text = tu_read_file(path, &len);
  assert_non_null(text);
  assert_true(len > 100);
  tu_write_file(path, text, len / 2);

  /* A reader notices (checksum), and says how to fix it. */
  PipeDiagList *diags = pipe_diags_new();
  json_t *desc = (json_t *)1;
  assert_int_equal(load_desc(e, index, ALLPORTS, &desc, diags), PIPE_ERR_CORRUPT);
  assert_null(desc);
  assert_true(has_diag(diags, PIPE_SEV_ERROR, "cache-corrupt"));
  pipe_diags_free(diags);
  /* The others are unaffected. */
  assert_int_equal(load_desc(e, index, NOISY, &desc, NULL), PIPE_OK);
  json_decref(desc);
  json_decref(index);

  /* The next run re-describes only the damaged one. */
  Run run = run_extract(e, false);
  assert_counts(&run, 3, 1, 2, 0);
  assert_described(&run, (const char *const[]){ALLPORTS, NULL});
  run_free(&run);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NAN_URI, NULL});
  size_t len2 = 0;
  char *again = tu_read_file(path, &len2);
  assert_int_equal(len2, len);
  assert_memory_equal(again, text, len);
  free(again);
  free(text);
  free(path);
}

static void test_altered_descriptor(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);
  json_t *index = load_index(e);
  char *path = desc_path(e, index, NAN_URI);
  size_t len = 0;
  char *text = tu_read_file(path, &len);
  /* Same size, still valid JSON, one letter changed: only the checksum can tell. */
  char *name = strstr(text, "\"ctrlmap nan\"");
  assert_non_null(name);
  name[9] = 'N';
  tu_write_file(path, text, len);
  /* The warm-run check is a stat (size, mtime): make sure the edit is not inside the same clock tick as the write. */
  tu_touch(path, 5);
  json_t *desc = (json_t *)1;
  assert_int_equal(load_desc(e, index, NAN_URI, &desc, NULL), PIPE_ERR_CORRUPT);
  assert_null(desc);
  json_decref(index);
  free(text);
  free(path);
  /* Its mtime changed, so the next run rebuilds it. */
  Run run = run_extract(e, false);
  assert_counts(&run, 3, 1, 2, 0);
  assert_described(&run, (const char *const[]){NAN_URI, NULL});
  run_free(&run);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NAN_URI, NULL});
}

static void index_path(const Env *e, char *out, size_t size)
{
  snprintf(out, size, "%s/plugins/index", e->cache);
}

static void test_garbage_index(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);

  char path[8192];
  index_path(e, path, sizeof path);
  unsigned char junk[4096];
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < sizeof junk; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    junk[i] = (unsigned char)x;
  }
  tu_write_file(path, junk, sizeof junk);

  Run run = run_extract(e, false);
  assert_true(has_diag(run.diags, PIPE_SEV_WARNING, "cache-corrupt"));
  assert_counts(&run, 3, 3, 0, 0);
  assert_true(run.r->turtle_loaded);
  run_free(&run);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NAN_URI, NULL});
  Run warm = run_extract(e, false);
  assert_counts(&warm, 3, 0, 3, 0);
  assert_int_equal(pipe_diags_count(warm.diags), 0);
  run_free(&warm);
}

static void test_index_other_version(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);

  char path[8192];
  index_path(e, path, sizeof path);
  size_t len = 0;
  char *text = tu_read_file(path, &len);
  assert_non_null(text);
  assert_true(!strncmp(text, "ctrlmap:plugin-index v1 ", 24));
  char *nl = strchr(text, '\n');
  assert_non_null(nl);
  /* The body and its checksum stay valid: only the version says no. */
  size_t out_len = len + 1;
  char *out = malloc(out_len + 1);
  snprintf(out, out_len + 1, "ctrlmap:plugin-index v99 %s", text + 24);
  tu_write_file(path, out, out_len);
  free(out);
  free(text);

  PipeStatus st;
  CacheStore *store = cache_open(e->cache, CACHE_READ, 10000, &st, NULL);
  json_t *index = (json_t *)1;
  PipeDiagList *diags = pipe_diags_new();
  assert_int_equal(plug_index_load(store, &index, diags), PIPE_ERR_VERSION);
  assert_null(index);
  assert_true(has_diag(diags, PIPE_SEV_WARNING, "cache-version"));
  pipe_diags_free(diags);
  cache_close(store);

  Run run = run_extract(e, false);
  assert_true(has_diag(run.diags, PIPE_SEV_WARNING, "cache-version"));
  assert_counts(&run, 3, 3, 0, 0);
  run_free(&run);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NAN_URI, NULL});
}

static void test_lv2_path_change(void **state)
{
  Env *e = *state;
  char a[4096], b[4096];
  snprintf(a, sizeof a, "%s/a", e->tmp);
  snprintf(b, sizeof b, "%s/b", e->tmp);
  tu_copy_bundles(a, (const char *const[]){"ctrlmap-allports.lv2", "ctrlmap-noisy.lv2", NULL});
  tu_copy_bundles(b, (const char *const[]){"ctrlmap-nan.lv2", NULL});
  snprintf(e->lv2, sizeof e->lv2, "%s", a);
  Run first = run_extract(e, false);
  assert_counts(&first, 2, 2, 0, 0);
  run_free(&first);
  json_t *index = load_index(e);
  char *allports_file = desc_path(e, index, ALLPORTS), *noisy_file = desc_path(e, index, NOISY);
  json_decref(index);

  snprintf(e->lv2, sizeof e->lv2, "%s", b);
  Run second = run_extract(e, false);
  assert_counts(&second, 1, 1, 0, 2);
  assert_described(&second, (const char *const[]){NAN_URI, NULL});
  run_free(&second);
  assert_index_holds(e, (const char *const[]){NAN_URI, NULL});
  assert_int_equal(access(allports_file, F_OK), -1);
  assert_int_equal(access(noisy_file, F_OK), -1);
  free(allports_file);
  free(noisy_file);

  /* Both directories: the nan plugin is reused, the others come back. */
  snprintf(e->lv2, sizeof e->lv2, "%s:%s", a, b);
  Run both = run_extract(e, false);
  assert_counts(&both, 3, 2, 1, 0);
  assert_described(&both, (const char *const[]){ALLPORTS, NOISY, NULL});
  run_free(&both);
}

static void test_deterministic(void **state)
{
  Env *e = *state;
  copy_three(e);
  static const char *const uris[] = {ALLPORTS, NOISY, NAN_URI};
  char *first[3];
  size_t first_len[3];
  Run one = run_extract(e, true);
  assert_counts(&one, 3, 3, 0, 0);
  run_free(&one);
  json_t *index = load_index(e);
  for (int i = 0; i < 3; i++) {
    char *p = desc_path(e, index, uris[i]);
    first[i] = tu_read_file(p, &first_len[i]);
    assert_non_null(first[i]);
    free(p);
  }
  json_decref(index);
  Run two = run_extract(e, true);
  assert_counts(&two, 3, 3, 0, 0);
  run_free(&two);
  index = load_index(e);
  for (int i = 0; i < 3; i++) {
    char *p = desc_path(e, index, uris[i]);
    size_t len = 0;
    char *again = tu_read_file(p, &len);
    assert_non_null(again);
    assert_int_equal(len, first_len[i]);
    assert_memory_equal(again, first[i], len);
    free(again);
    free(first[i]);
    free(p);
  }
  json_decref(index);
}

/* A bundle that adds data to a plugin defined in another bundle is part of that plugin's fingerprint: adding,
 * editing or removing it re-describes the plugin, and only it. */
static void write_extension(const Env *e, int minor)
{
  char dir[16384], path[16500];
  snprintf(dir, sizeof dir, "%s/zz-extension.lv2", e->lv2);
  char cmd[16600];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
  assert_int_equal(system(cmd), 0);
  static const char manifest[] = "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
                                 "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                                 "<" NAN_URI "> a lv2:Plugin ; rdfs:seeAlso <extra.ttl> .\n";
  snprintf(path, sizeof path, "%s/manifest.ttl", dir);
  tu_write_file(path, manifest, strlen(manifest));
  char extra[256];
  snprintf(extra, sizeof extra,
           "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n<" NAN_URI "> lv2:minorVersion %d ; lv2:microVersion 1 .\n",
           minor);
  snprintf(path, sizeof path, "%s/extra.ttl", dir);
  tu_write_file(path, extra, strlen(extra));
  tu_touch(path, 5 + minor);
}

static json_int_t nan_minor_version(const Env *e)
{
  json_t *index = load_index(e), *desc = NULL;
  assert_int_equal(load_desc(e, index, NAN_URI, &desc, NULL), PIPE_OK);
  json_t *minor = json_object_get(json_object_get(desc, "version"), "minor");
  json_int_t v = json_is_integer(minor) ? json_integer_value(minor) : -1;
  json_decref(desc);
  json_decref(index);
  return v;
}

static void test_extension_bundle(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);
  assert_int_equal(nan_minor_version(e), -1);

  write_extension(e, 7);
  Run added = run_extract(e, false);
  assert_counts(&added, 3, 1, 2, 0);
  assert_described(&added, (const char *const[]){NAN_URI, NULL});
  run_free(&added);
  assert_int_equal(nan_minor_version(e), 7);

  Run warm = run_extract(e, false);
  assert_counts(&warm, 3, 0, 3, 0);
  assert_false(warm.r->turtle_loaded);
  run_free(&warm);

  write_extension(e, 8);
  Run edited = run_extract(e, false);
  assert_counts(&edited, 3, 1, 2, 0);
  assert_described(&edited, (const char *const[]){NAN_URI, NULL});
  run_free(&edited);
  assert_int_equal(nan_minor_version(e), 8);

  char dir[16384];
  snprintf(dir, sizeof dir, "%s/zz-extension.lv2", e->lv2);
  tu_rmtree(dir);
  Run removed = run_extract(e, false);
  assert_counts(&removed, 3, 1, 2, 0); /* a plugin-less bundle going away removes no plugin */
  assert_described(&removed, (const char *const[]){NAN_URI, NULL});
  run_free(&removed);
  assert_int_equal(nan_minor_version(e), -1);
}

/* A relative LV2 path is taken from the current directory and recorded absolute: in the index and in the
 * descriptors' "bundle" (lilv cannot map a relative bundle path to a URI). */
static void test_relative_lv2_path(void **state)
{
  Env *e = *state;
  copy_three(e);
  char here[4096], real_tmp[4096], want[8200];
  assert_non_null(getcwd(here, sizeof here));
  assert_int_equal(chdir(e->tmp), 0);
  assert_non_null(getcwd(real_tmp, sizeof real_tmp)); /* physical path, as the library sees it */
  snprintf(want, sizeof want, "%s/lv2", real_tmp);
  snprintf(e->lv2, sizeof e->lv2, "lv2");
  Run run = run_extract(e, false);
  assert_int_equal(chdir(here), 0);
  assert_counts(&run, 3, 3, 0, 0);
  run_free(&run);

  json_t *index = load_index(e);
  const char *recorded = json_string_value(json_object_get(index, "lv2_path"));
  if (!recorded || strcmp(recorded, want))
    fail_msg("the index records lv2_path '%s', want '%s'", recorded ? recorded : "(none)", want);
  json_t *desc = NULL;
  assert_int_equal(load_desc(e, index, ALLPORTS, &desc, NULL), PIPE_OK);
  const char *bundle = json_string_value(json_object_get(desc, "bundle"));
  char want_bundle[8300];
  snprintf(want_bundle, sizeof want_bundle, "%s/ctrlmap-allports.lv2/", want);
  if (!bundle || strcmp(bundle, want_bundle))
    fail_msg("allports' bundle is '%s', want '%s'", bundle ? bundle : "(none)", want_bundle);
  json_decref(desc);
  json_decref(index);

  /* The same directory, now given absolute: nothing to do. */
  snprintf(e->lv2, sizeof e->lv2, "%s", want);
  Run warm = run_extract(e, false);
  assert_counts(&warm, 3, 0, 3, 0);
  assert_false(warm.r->turtle_loaded);
  run_free(&warm);
}

/* An LV2 path none of whose directories can be read is an error (lv2-path-unreadable) that leaves the cache as it
 * was: a mistyped path must not drop every plugin. One missing directory beside a valid one is fine. */
static void test_unreadable_lv2_path(void **state)
{
  Env *e = *state;
  copy_three(e);
  Run cold = run_extract(e, false);
  assert_counts(&cold, 3, 3, 0, 0);
  run_free(&cold);
  char path[8192];
  index_path(e, path, sizeof path);
  size_t len = 0;
  char *before = tu_read_file(path, &len);
  assert_non_null(before);
  json_t *index = load_index(e);
  char *desc = desc_path(e, index, NOISY);
  json_decref(index);

  char good[8200];
  snprintf(good, sizeof good, "%s", e->lv2);
  snprintf(e->lv2, sizeof e->lv2, "%s/no-such-dir", e->tmp);
  Run bad = run_extract(e, false);
  assert_int_equal(bad.st, PIPE_ERR_IO);
  if (!has_diag(bad.diags, PIPE_SEV_ERROR, "lv2-path-unreadable"))
    fail_msg("no lv2-path-unreadable error among %zu diagnostics", pipe_diags_count(bad.diags));
  assert_int_equal(bad.r->removed, 0);
  run_free(&bad);
  size_t len2 = 0;
  char *after = tu_read_file(path, &len2);
  assert_non_null(after);
  if (len2 != len || memcmp(after, before, len))
    fail_msg("the index changed after a run on an unreadable LV2 path");
  free(after);
  free(before);
  assert_int_equal(access(desc, F_OK), 0);
  free(desc);
  assert_index_holds(e, (const char *const[]){ALLPORTS, NOISY, NAN_URI, NULL});

  snprintf(e->lv2, sizeof e->lv2, "%s", good);
  Run warm = run_extract(e, false);
  assert_counts(&warm, 3, 0, 3, 0);
  assert_false(warm.r->turtle_loaded);
  run_free(&warm);

  int n = snprintf(e->lv2, sizeof e->lv2, "%s/no-such-dir:%s", e->tmp, good);
  assert_true(n > 0 && (size_t)n < sizeof e->lv2);
  Run mixed = run_extract(e, false);
  assert_counts(&mixed, 3, 0, 3, 0);
  assert_int_equal(pipe_diags_count_severity(mixed.diags, PIPE_SEV_ERROR), 0);
  run_free(&mixed);
}

static void test_index_absent(void **state)
{
  Env *e = *state;
  PipeStatus st;
  CacheStore *store = cache_open(e->cache, CACHE_WRITE, 10000, &st, NULL);
  assert_non_null(store);
  json_t *index = (json_t *)1;
  PipeDiagList *diags = pipe_diags_new();
  assert_int_equal(plug_index_load(store, &index, diags), PIPE_ERR_NOTFOUND);
  assert_null(index);
  assert_int_equal(pipe_diags_count(diags), 0);
  pipe_diags_free(diags);
  cache_close(store);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
      T(test_cold_run),         T(test_warm_run),        T(test_touched_bundle),
      T(test_added_bundle),     T(test_removed_bundle),  T(test_force),
      T(test_truncated_descriptor), T(test_altered_descriptor), T(test_garbage_index),
      T(test_index_other_version),  T(test_lv2_path_change),    T(test_deterministic),
      T(test_extension_bundle),     T(test_relative_lv2_path),  T(test_unreadable_lv2_path),
      T(test_index_absent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
