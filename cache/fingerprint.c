/* fingerprint.c: content hashes and metadata-only directory fingerprints (cheap enough to run on every start). */
#include "cache.h"

#include "../pipeline/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* Bundles are shallow; the bound keeps a symlink loop from recursing forever. */
#define FP_MAX_DEPTH 8

uint64_t cache_hash(const void *data, size_t len)
{
  return XXH3_64bits(data, len);
}

void cache_hash_hex(uint64_t h, char out[17])
{
  snprintf(out, 17, "%016" PRIx64, h);
}

bool cache_hash_parse(const char *hex, uint64_t *h)
{
  if (!hex || strlen(hex) != 16 || strspn(hex, "0123456789abcdef") != 16)
    return false;
  *h = strtoull(hex, NULL, 16);
  return true;
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the names in `fd` (sorted, so the fingerprint does not depend on readdir order). */
static char **sorted_names(int fd, size_t *n)
{
  *n = 0;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return NULL;
  }
  char **names = NULL;
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    pipe_grow((void **)&names, &cap, *n + 1, sizeof(char *));
    names[(*n)++] = pipe_xstrdup(e->d_name);
  }
  closedir(d);
  if (*n)
    qsort(names, *n, sizeof(char *), cmp_names);
  return names;
}

static void hash_tree(XXH3_state_t *state, int dirfd_, int depth)
{
  size_t n = 0;
  char **names = sorted_names(dup(dirfd_), &n);
  for (size_t i = 0; i < n; i++) {
    struct stat sb;
    if (fstatat(dirfd_, names[i], &sb, 0) != 0)
      memset(&sb, 0, sizeof sb); /* a dangling link still counts, as an empty entry */
    int64_t rec[4] = {(int64_t)(sb.st_mode & S_IFMT), (int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec,
                      (int64_t)sb.st_mtim.tv_nsec};
    XXH3_64bits_update(state, names[i], strlen(names[i]) + 1);
    XXH3_64bits_update(state, rec, sizeof rec);
    if (S_ISDIR(sb.st_mode) && depth < FP_MAX_DEPTH) {
      int sub = openat(dirfd_, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (sub >= 0) {
        hash_tree(state, sub, depth + 1);
        close(sub);
      }
    }
    free(names[i]);
  }
  free(names);
  XXH3_64bits_update(state, "\0end", 4);
}

PipeStatus cache_fingerprint_dir(const char *dir, uint64_t *fp)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return PIPE_ERR_IO;
  struct stat sb;
  fstat(fd, &sb);
  XXH3_state_t *state = XXH3_createState();
  XXH3_64bits_reset(state);
  int64_t top[2] = {(int64_t)sb.st_mtim.tv_sec, (int64_t)sb.st_mtim.tv_nsec};
  XXH3_64bits_update(state, top, sizeof top);
  hash_tree(state, fd, 0);
  *fp = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  close(fd);
  return PIPE_OK;
}
