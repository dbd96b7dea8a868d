/* testutil.c: helpers shared by the cmocka tests. */
#include "testutil.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

const char *tu_fixture_lv2_dir(void)
{
  const char *d = getenv("CTRLMAP_TEST_LV2_DIR");
  assert_non_null(d);
  return d;
}

char *tu_tempdir(void)
{
  const char *base = getenv("TMPDIR");
  char *t = malloc(4096);
  snprintf(t, 4096, "%s/ctrlmap-test-XXXXXX", base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(t));
  return t;
}

#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* run() takes its formats from the literals below */
static int run(const char *fmt, const char *a, const char *b)
{
  char cmd[8192];
  snprintf(cmd, sizeof cmd, fmt, a, b);
  return system(cmd);
}

void tu_rmtree(const char *path)
{
  if (path && *path && strcmp(path, "/"))
    run("rm -rf '%s'%s", path, "");
}

void tu_copy_bundles(const char *dest, const char *const *bundles)
{
  assert_int_equal(run("mkdir -p '%s'%s", dest, ""), 0);
  for (size_t i = 0; bundles[i]; i++) {
    char src[4096];
    snprintf(src, sizeof src, "%s/%s", tu_fixture_lv2_dir(), bundles[i]);
    assert_int_equal(run("cp -R '%s' '%s/'", src, dest), 0);
  }
}

void tu_write_file(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
}

char *tu_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  buf[got] = '\0';
  fclose(f);
  if (len)
    *len = got;
  return buf;
}

void tu_touch(const char *path, int delta_s)
{
  struct timeval now;
  gettimeofday(&now, NULL);
  struct timespec ts[2] = {{now.tv_sec + delta_s, 0}, {now.tv_sec + delta_s, 0}};
  assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

char *tu_path_join(const char *a, const char *b)
{
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/%s", a, b);
  return p;
}

char *tu_replace_all(const char *text, const char *from, const char *to)
{
  size_t nf = strlen(from), nt = strlen(to), count = 0;
  for (const char *p = strstr(text, from); p; p = strstr(p + nf, from))
    count++;
  char *out = malloc(strlen(text) + count * (nt > nf ? nt - nf : 0) + 1), *w = out;
  assert_non_null(out);
  const char *r = text;
  for (const char *p = strstr(r, from); p; p = strstr(r, from)) {
    memcpy(w, r, (size_t)(p - r));
    w += p - r;
    memcpy(w, to, nt);
    w += nt;
    r = p + nf;
  }
  strcpy(w, r);
  return out;
}
