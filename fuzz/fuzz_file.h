/* fuzz_file.h: the path-taking loaders read a file; each process writes its input into one temp file. */
#ifndef CTRLMAP_FUZZ_FILE_H
#define CTRLMAP_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_path[64];
static int fuzz_fd = -1;

static void fuzz_file_cleanup(void) {
  if (fuzz_fd >= 0) {
    close(fuzz_fd);
    unlink(fuzz_path);
  }
}

/* Returns the path of the temp file now holding exactly data[0..size). */
static const char *fuzz_file_write(const uint8_t *data, size_t size) {
  if (fuzz_fd < 0) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_path, sizeof fuzz_path, "%s/ctrlmap-fuzz-XXXXXX.yaml",
             tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    fuzz_fd = mkstemps(fuzz_path, 5);
    if (fuzz_fd < 0) {
      perror("fuzz: mkstemps");
      abort();
    }
    atexit(fuzz_file_cleanup);
  }
  size_t off = 0;
  while (off < size) {
    ssize_t n = pwrite(fuzz_fd, data + off, size - off, (off_t)off);
    if (n <= 0) {
      perror("fuzz: pwrite");
      abort();
    }
    off += (size_t)n;
  }
  if (ftruncate(fuzz_fd, (off_t)size) != 0) {
    perror("fuzz: ftruncate");
    abort();
  }
  return fuzz_path;
}

#endif
