/* scan.c: LV2 path resolution, bundle discovery and world loading. */
#include "plug_internal.h"

#include "../pipeline/fsx.h"
#include "../pipeline/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Relative entries are made absolute: lilv cannot map a relative bundle path to a URI (it crashes on one), and the
 * path recorded in the cache must not depend on the directory ctrlmap was started in. */
static char *absolute_path_list(const char *path)
{
  char cwd[4096];
  bool have_cwd = getcwd(cwd, sizeof cwd) != NULL;
  char *copy = pipe_xstrdup(path), *save = NULL, *out = pipe_xstrdup("");
  for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
    char *next = (tok[0] == '/' || tok[0] == '~' || !have_cwd)
                     ? pipe_xasprintf("%s%s%s", out, *out ? ":" : "", tok)
                     : pipe_xasprintf("%s%s%s/%s", out, *out ? ":" : "", cwd, tok);
    free(out);
    out = next;
  }
  free(copy);
  return out;
}

char *plug_lv2_path(const char *explicit_path)
{
  if (explicit_path && *explicit_path)
    return absolute_path_list(explicit_path);
  const char *env = getenv("LV2_PATH");
  return absolute_path_list(env && *env ? env : PLUG_DEFAULT_LV2_PATH);
}

static char *expand_home(const char *dir)
{
  const char *home = getenv("HOME");
  if (dir[0] == '~' && (dir[1] == '/' || dir[1] == '\0') && home)
    return pipe_xasprintf("%s%s", home, dir + 1);
  return pipe_xstrdup(dir);
}

static int cmp_strs(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether entry `name` of `dirfd` has a manifest lilv can read safely; if it has one that is unsafe, says why. */
static bool manifest_ok(int dir_fd, const char *dir, const char *name, PipeDiagList *diags)
{
  char *manifest = pipe_xasprintf("%s/manifest.ttl", name);
  struct stat sb;
  bool ok = faccessat(dir_fd, manifest, R_OK, 0) == 0 && fstatat(dir_fd, manifest, &sb, 0) == 0;
  const char *why = !ok                              ? NULL
                    : !S_ISREG(sb.st_mode)           ? "is not a regular file (it is a FIFO, device or socket)"
                    : sb.st_size > PLUG_MANIFEST_MAX ? "is larger than 16 MiB, which no manifest is"
                                                     : NULL;
  if (why) {
    char *file = pipe_xasprintf("%s/%s", dir, manifest);
    pipe_diag_add(diags, PIPE_SEV_WARNING, "lv2-bundle-skipped", file, 0, 0, "this manifest %s; the bundle is skipped",
                  why);
    free(file);
  }
  free(manifest);
  return ok && !why;
}

/* Appends the bundles of one LV2 directory, sorted by name. Returns false if the directory cannot be read. */
static bool scan_dir(const char *dir, PlugBundle **out, size_t *n, size_t *cap, PipeDiagList *diags)
{
  DIR *d = opendir(dir);
  if (!d)
    return false;
  char **names = NULL;
  size_t nn = 0, ncap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    if (manifest_ok(dirfd(d), dir, e->d_name, diags)) {
      pipe_grow((void **)&names, &ncap, nn + 1, sizeof(char *));
      names[nn++] = pipe_xstrdup(e->d_name);
    }
  }
  closedir(d);
  if (nn)
    qsort(names, nn, sizeof(char *), cmp_strs);
  for (size_t i = 0; i < nn; i++) {
    char *path = pipe_xasprintf("%s/%s/", dir, names[i]);
    pipe_grow((void **)out, cap, *n + 1, sizeof(PlugBundle));
    (*out)[*n] = (PlugBundle){.path = path};
    if (cache_fingerprint_dir(path, &(*out)[*n].fp) == PIPE_OK)
      (*n)++;
    else
      free(path);
    free(names[i]);
  }
  free(names);
  return true;
}

PlugBundle *plug_scan_bundles(const char *lv2_path, size_t *n, size_t *readable_dirs, PipeDiagList *diags)
{
  *readable_dirs = 0;
  PlugBundle *out = NULL;
  size_t cap = 0;
  *n = 0;
  char *copy = pipe_xstrdup(lv2_path), *save = NULL;
  for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
    char *dir = expand_home(tok);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
      dir[--len] = '\0';
    *readable_dirs += scan_dir(dir, &out, n, &cap, diags);
    free(dir);
  }
  free(copy);
  return out;
}

void plug_bundles_free(PlugBundle *bundles, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(bundles[i].path);
  free(bundles);
}

int plug_log_open(const char *path)
{
  return path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
}

LilvWorld *plug_world_load(const char *lv2_path, const PlugBundle *bundles, size_t n, int log_fd)
{
  LilvWorld *world = lilv_world_new();
  LilvNode *path = lilv_new_string(world, lv2_path);
  lilv_world_set_option(world, LILV_OPTION_LV2_PATH, path);
  lilv_node_free(path);
  /* lilv reports Turtle errors on stderr; they belong in the log, not in the user's terminal. */
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int sink = log_fd >= 0 ? log_fd : open("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2(sink, STDERR_FILENO);
  /* Bundle by bundle rather than lilv_world_load_all: only the manifests plug_scan_bundles found safe to read.
   * The rest is what lilv_world_load_all does after loading the bundles. */
  for (size_t i = 0; i < n; i++) {
    LilvNode *uri = lilv_new_file_uri(world, NULL, bundles[i].path);
    lilv_world_load_bundle(world, uri);
    lilv_node_free(uri);
  }
  lilv_world_load_specifications(world);
  lilv_world_load_plugin_classes(world);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  if (sink != log_fd)
    close(sink);
  return world;
}

char *plug_uri_dir(const char *file_uri)
{
  char *path = lilv_file_uri_parse(file_uri, NULL);
  if (!path)
    return NULL;
  char *slash = strrchr(path, '/');
  char *dir = NULL;
  if (slash) {
    size_t len = (size_t)(slash - path) + 1;
    dir = pipe_xmalloc(len + 1);
    memcpy(dir, path, len);
    dir[len] = '\0';
  }
  lilv_free(path);
  return dir;
}

bool plug_filter_match(const char *filter, const char *uri, const char *name)
{
  return pipe_contains_nocase(uri, filter) || pipe_contains_nocase(name, filter);
}

json_t *plug_path_info(const char *lv2_path)
{
  json_t *out = json_array();
  char *copy = pipe_xstrdup(lv2_path), *save = NULL;
  for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
    char *dir = expand_home(tok);
    size_t n = 0, cap = 0;
    PlugBundle *b = NULL;
    bool readable = scan_dir(dir, &b, &n, &cap, NULL);
    json_array_append_new(out,
                          json_pack("{s:s, s:b, s:I}", "dir", dir, "readable", readable, "bundles", (json_int_t)n));
    plug_bundles_free(b, n);
    free(dir);
  }
  free(copy);
  return out;
}
