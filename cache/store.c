/* store.c: the cache directory, its lock, and checksummed JSON documents. */
#include "cache.h"

#include "../pipeline/fsx.h"
#include "../pipeline/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Cache documents are small (the plugin index of ~550 plugins is ~300 KB); anything far larger is not ours. */
#define CACHE_DOC_MAX (256u * 1024 * 1024)

struct CacheStore {
  char *root;
  int lock_fd;
};

char *cache_default_dir(void)
{
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/')
    return pipe_path_join(xdg, "ctrlmap");
  const char *home = getenv("HOME");
  return pipe_xasprintf("%s/.cache/ctrlmap", home && *home ? home : "/tmp");
}

/* Removes what killed writers left in `dir` and its sub-folders down to `depth` (the cache is two levels deep:
 * plugins/desc, maps/bindings). Only under the exclusive lock, when no other writer can be at work. */
static void sweep_tree(const char *dir, int depth)
{
  pipe_fs_sweep_temps(dir);
  DIR *d = depth > 0 ? opendir(dir) : NULL;
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)))
    if ((e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) && e->d_name[0] != '.') {
      char *sub = pipe_path_join(dir, e->d_name);
      struct stat sb; /* DT_UNKNOWN: the file system does not say; never follow a link out of the cache */
      if (e->d_type == DT_DIR || (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)))
        sweep_tree(sub, depth - 1);
      free(sub);
    }
  closedir(d);
}

CacheStore *cache_open(const char *dir, CacheMode mode, int lock_timeout_ms, PipeStatus *st, PipeDiagList *diags)
{
  *st = PIPE_OK;
  if (mode == CACHE_WRITE && (*st = pipe_fs_mkdirs(dir, diags)) != PIPE_OK)
    return NULL;
  if (mode == CACHE_READ && access(dir, F_OK) != 0) {
    *st = PIPE_ERR_NOTFOUND;
    pipe_diag_add(diags, PIPE_SEV_ERROR, "cache-missing", dir, 0, 0,
                  "no cache here yet; run `ctrlmap plugins:extract` first");
    return NULL;
  }
  CacheStore *store = pipe_xcalloc(1, sizeof(CacheStore));
  store->root = pipe_xstrdup(dir);
  char *lock = pipe_path_join(dir, "lock");
  *st = pipe_fs_lock(lock, mode == CACHE_WRITE, lock_timeout_ms, &store->lock_fd, diags);
  free(lock);
  if (*st != PIPE_OK) {
    cache_close(store);
    return NULL;
  }
  if (mode == CACHE_WRITE)
    sweep_tree(dir, 2); /* a run killed mid-write (SIGKILL, power loss) leaves its temporary files */
  return store;
}

void cache_close(CacheStore *store)
{
  if (!store)
    return;
  pipe_fs_unlock(store->lock_fd);
  free(store->root);
  free(store);
}

const char *cache_root(const CacheStore *store)
{
  return store->root;
}

char *cache_path(const CacheStore *store, const char *rel)
{
  return pipe_path_join(store->root, rel);
}

PipeStatus cache_mkdir(const CacheStore *store, const char *rel, PipeDiagList *diags)
{
  char *p = cache_path(store, rel);
  PipeStatus st = pipe_fs_mkdirs(p, diags);
  free(p);
  return st;
}

char *cache_doc_encode(const char *kind, const json_t *doc, size_t *len)
{
  /* Sorted keys and fixed float precision make equal documents byte-identical. */
  char *body = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
  if (!body)
    body = pipe_xstrdup("null");
  size_t blen = strlen(body);
  char hex[17];
  cache_hash_hex(cache_hash(body, blen), hex);
  char *out = pipe_xasprintf("ctrlmap:%s v%d xxh3:%s %zu\n%s", kind, CACHE_FORMAT, hex, blen, body);
  free(body);
  *len = strlen(out);
  return out;
}

PipeStatus cache_doc_decode(const char *data, size_t len, const char *kind, const char *origin, json_t **doc,
                            PipeDiagList *diags)
{
  *doc = NULL;
  /* The header is parsed from a NUL-terminated copy of the first line only: `data` need not end in a NUL, and the
   * length must not be read from the body. */
  const char *nl = memchr(data, '\n', len < 256 ? len : 256);
  char line[256], got_kind[64], hex[17];
  int version = 0, consumed = 0;
  size_t blen = 0;
  if (nl) {
    memcpy(line, data, (size_t)(nl - data));
    line[nl - data] = '\0';
  }
  if (!nl || sscanf(line, "ctrlmap:%63s v%d xxh3:%16s %zu%n", got_kind, &version, hex, &blen, &consumed) != 4 ||
      line[consumed] != '\0' || strcmp(got_kind, kind) != 0) {
    pipe_diag_add(diags, PIPE_SEV_WARNING, "cache-corrupt", origin, 1, 1,
                  "not a ctrlmap %s document (bad header); rebuilding it", kind);
    return PIPE_ERR_CORRUPT;
  }
  if (version != CACHE_FORMAT) {
    pipe_diag_add(diags, PIPE_SEV_WARNING, "cache-version", origin, 1, 1,
                  "written in cache format v%d, this ctrlmap reads v%d; rebuilding it", version, CACHE_FORMAT);
    return PIPE_ERR_VERSION;
  }
  const char *body = nl + 1;
  size_t have = len - (size_t)(body - data);
  uint64_t want = 0;
  if (have != blen || !cache_hash_parse(hex, &want) || cache_hash(body, blen) != want) {
    pipe_diag_add(diags, PIPE_SEV_WARNING, "cache-corrupt", origin, 0, 0,
                  "checksum mismatch (%zu of %zu bytes, truncated or altered); rebuilding it", have, blen);
    return PIPE_ERR_CORRUPT;
  }
  json_error_t err;
  *doc = json_loadb(body, blen, 0, &err);
  if (!*doc) {
    pipe_diag_add(diags, PIPE_SEV_WARNING, "cache-corrupt", origin, (unsigned)err.line + 1, (unsigned)err.column,
                  "unreadable JSON (%s); rebuilding it", err.text);
    return PIPE_ERR_CORRUPT;
  }
  return PIPE_OK;
}

PipeStatus cache_doc_load(const CacheStore *store, const char *rel, const char *kind, json_t **doc, PipeDiagList *diags)
{
  *doc = NULL;
  char *path = cache_path(store, rel);
  char *data = NULL;
  size_t len = 0;
  PipeDiagList *read_diags = pipe_diags_new();
  PipeStatus st = pipe_fs_read(path, CACHE_DOC_MAX, &data, &len, read_diags);
  if (st == PIPE_OK)
    st = cache_doc_decode(data, len, kind, path, doc, diags);
  else if (st != PIPE_ERR_NOTFOUND)
    pipe_diag_add(diags, PIPE_SEV_WARNING, "cache-unreadable", path, 0, 0, "%s; rebuilding it",
                  pipe_diags_get(read_diags, 0)->message);
  pipe_diags_free(read_diags);
  free(data);
  free(path);
  return st;
}

PipeStatus cache_doc_save(const CacheStore *store, const char *rel, const char *kind, const json_t *doc,
                          PipeDiagList *diags)
{
  size_t len = 0;
  char *data = cache_doc_encode(kind, doc, &len);
  char *path = cache_path(store, rel);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  PipeStatus st = pipe_fs_mkdirs(path, diags);
  *slash = '/';
  if (st == PIPE_OK)
    st = pipe_fs_write_atomic(path, data, len, false, diags);
  free(path);
  free(data);
  return st;
}
