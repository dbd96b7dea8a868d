/* replay_main.c: runs a libFuzzer harness without libFuzzer, for the regression tests (tests/CMakeLists.txt): every
 * file named, and every file of every directory named (but README.md), goes through LLVMFuzzerTestOneInput once,
 * in name order. A crash is the harness crashing (under ASan, with its report); exit 1: an input was unreadable. */
#include "pipeline/fsx.h"
#include "pipeline/xalloc.h"

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INPUT_MAX (64u * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
  char *data = NULL;
  size_t len = 0;
  if (pipe_fs_read(path, INPUT_MAX, &data, &len, NULL) != PIPE_OK) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return 1;
  }
  printf("replay %s (%zu bytes)\n", path, len);
  fflush(stdout); /* the name is out before a crash */
  LLVMFuzzerTestOneInput((const uint8_t *)data, len);
  free(data);
  return 0;
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of `dir` but README.md, in name order. */
static int run_dir(const char *dir, size_t *count)
{
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: cannot read the folder %s\n", dir);
    return 1;
  }
  char **paths = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    struct stat sb;
    char *p = pipe_path_join(dir, e->d_name);
    if (strcmp(e->d_name, "README.md") && stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
      pipe_grow((void **)&paths, &cap, n + 1, sizeof(char *));
      paths[n++] = p;
    } else {
      free(p);
    }
  }
  closedir(d);
  if (n)
    qsort(paths, n, sizeof(char *), cmp_names);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    rc |= run_file(paths[i]);
    free(paths[i]);
  }
  free(paths);
  *count += n;
  return rc;
}

int main(int argc, char **argv)
{
  int rc = 0;
  size_t count = 0;
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
      rc |= run_dir(argv[i], &count);
    } else {
      rc |= run_file(argv[i]);
      count++;
    }
  }
  printf("replayed %zu inputs\n", count);
  return rc;
}
