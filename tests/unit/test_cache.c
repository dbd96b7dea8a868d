/* test_cache.c: document framing, the cache store and its lock, fingerprints, hashes, and the fsx helpers the
 * cache is built on (atomic writes, temp sweeping, bounded reads). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cache/cache.h"
#include "pipeline/fsx.h"
#include "pipeline/perf.h"
#include "pipeline/xalloc.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---- */

static json_t *sample_doc(void)
{
  json_error_t err;
  json_t *doc = json_loads("{\"plugins\": [{\"uri\": \"urn:x:eq\", \"ports\": [1, 2.5, null, true, false],"
                           " \"meta\": {\"name\": \"EQ \\u00e9\\n\", \"tags\": []}}, {}],"
                           " \"count\": 2, \"empty\": {}, \"neg\": -7}",
                           0, &err);
  if (!doc)
    fail_msg("sample JSON: %s", err.text);
  return doc;
}

/* Exactly one diagnostic, with `code`; returns it. */
static const PipeDiag *only_diag(const PipeDiagList *diags, const char *code)
{
  if (pipe_diags_count(diags) != 1)
    fail_msg("expected 1 diagnostic [%s], got %zu", code, pipe_diags_count(diags));
  const PipeDiag *d = pipe_diags_get(diags, 0);
  assert_string_equal(d->code, code);
  return d;
}

static int wait_child(pid_t pid)
{
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    assert_int_equal(errno, EINTR);
  return status;
}

static int child_exit_code(pid_t pid)
{
  int status = wait_child(pid);
  if (!WIFEXITED(status))
    fail_msg("child did not exit normally (status 0x%x)", status);
  return WEXITSTATUS(status);
}

static size_t count_entries_containing(const char *dir, const char *needle)
{
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += strstr(e->d_name, needle) != NULL;
  closedir(d);
  return n;
}

static uint64_t fp_of(const char *dir)
{
  uint64_t fp = 0;
  assert_int_equal(cache_fingerprint_dir(dir, &fp), PIPE_OK);
  return fp;
}

/* ---- document framing ---- */

static void test_doc_roundtrip(void **state)
{
  (void)state;
  json_t *doc = sample_doc();
  size_t len = 0;
  char *enc = cache_doc_encode("plugin-index", doc, &len);
  assert_non_null(enc);
  assert_int_equal(len, strlen(enc));
  assert_true(!strncmp(enc, "ctrlmap:plugin-index v1 xxh3:", 29));

  /* The header's length field is the body's length. */
  const char *nl = memchr(enc, '\n', len);
  assert_non_null(nl);
  size_t body_len = len - (size_t)(nl + 1 - enc);
  char want_tail[32];
  snprintf(want_tail, sizeof want_tail, " %zu\n", body_len);
  assert_true(!strncmp(nl + 1 - strlen(want_tail), want_tail, strlen(want_tail)));
  /* ... and its checksum is the body's hash. */
  char hex[17];
  cache_hash_hex(cache_hash(nl + 1, body_len), hex);
  assert_non_null(strstr(enc, hex));

  PipeDiagList *diags = pipe_diags_new();
  json_t *back = NULL;
  assert_int_equal(cache_doc_decode(enc, len, "plugin-index", "mem", &back, diags), PIPE_OK);
  assert_int_equal(pipe_diags_count(diags), 0);
  assert_non_null(back);
  assert_true(json_equal(doc, back));
  json_decref(back);

  /* Equal documents encode to equal bytes, whatever the key insertion order. */
  json_t *other = json_object();
  json_object_set_new(other, "neg", json_integer(-7));
  json_object_set_new(other, "empty", json_object());
  json_object_set_new(other, "count", json_integer(2));
  json_object_set(other, "plugins", json_object_get(doc, "plugins"));
  size_t len2 = 0;
  char *enc2 = cache_doc_encode("plugin-index", other, &len2);
  assert_int_equal(len2, len);
  assert_memory_equal(enc, enc2, len);
  free(enc2);
  json_decref(other);

  /* Scalars and arrays are documents too. */
  json_t *arr = json_pack("[i, s, [f]]", 1, "two", 3.5);
  char *enc3 = cache_doc_encode("list", arr, &len2);
  assert_int_equal(cache_doc_decode(enc3, len2, "list", "mem", &back, diags), PIPE_OK);
  assert_true(json_equal(arr, back));
  json_decref(back);
  free(enc3);
  json_decref(arr);

  assert_int_equal(pipe_diags_count(diags), 0);
  pipe_diags_free(diags);
  free(enc);
  json_decref(doc);
}

typedef enum { MUT_NONE, MUT_TRUNCATE, MUT_EXTEND, MUT_FLIP_BODY, MUT_VERSION2, MUT_BAD_MAGIC, MUT_BAD_LEN, MUT_NO_NL } Mutation;

typedef struct {
  const char *what;
  Mutation mut;
  const char *decode_kind;
  PipeStatus want;
  const char *code;
} RejectCase;

static void test_doc_decode_rejects(void **state)
{
  (void)state;
  static const RejectCase CASES[] = {
      {"wrong kind", MUT_NONE, "other-kind", PIPE_ERR_CORRUPT, "cache-corrupt"},
      {"kind prefix", MUT_NONE, "plugin", PIPE_ERR_CORRUPT, "cache-corrupt"},
      {"truncated by one byte", MUT_TRUNCATE, "plugin-index", PIPE_ERR_CORRUPT, "cache-corrupt"},
      {"one byte too many", MUT_EXTEND, "plugin-index", PIPE_ERR_CORRUPT, "cache-corrupt"},
      {"flipped body byte", MUT_FLIP_BODY, "plugin-index", PIPE_ERR_CORRUPT, "cache-corrupt"},
      {"version 2", MUT_VERSION2, "plugin-index", PIPE_ERR_VERSION, "cache-version"},
      {"bad magic", MUT_BAD_MAGIC, "plugin-index", PIPE_ERR_CORRUPT, "cache-corrupt"},
      {"wrong length field", MUT_BAD_LEN, "plugin-index", PIPE_ERR_CORRUPT, "cache-corrupt"},
      {"no header line", MUT_NO_NL, "plugin-index", PIPE_ERR_CORRUPT, "cache-corrupt"},
  };
  json_t *doc = sample_doc();
  size_t len0 = 0;
  char *enc0 = cache_doc_encode("plugin-index", doc, &len0);
  const char *nl0 = memchr(enc0, '\n', len0);
  size_t hdr_len = (size_t)(nl0 - enc0); /* without the newline */

  for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
    const RejectCase *k = &CASES[c];
    char *buf = calloc(1, len0 + 64);
    memcpy(buf, enc0, len0);
    size_t len = len0;
    switch (k->mut) {
    case MUT_NONE: break;
    case MUT_TRUNCATE: len--; break;
    case MUT_EXTEND: buf[len++] = ' '; break;
    case MUT_FLIP_BODY: buf[hdr_len + 1 + (len0 - hdr_len - 1) / 2] ^= 0x01; break;
    case MUT_VERSION2: {
      char *v = strstr(buf, " v1 ");
      assert_non_null(v);
      v[2] = '2';
      break;
    }
    case MUT_BAD_MAGIC: buf[3] = 'X'; break;
    case MUT_BAD_LEN: {
      /* The length field is the last word of the header: add one to its last digit (9 wraps to 0, still wrong). */
      char *last = buf + hdr_len - 1;
      *last = *last == '9' ? '0' : (char)(*last + 1);
      break;
    }
    case MUT_NO_NL: buf[hdr_len] = ' '; break;
    }
    PipeDiagList *diags = pipe_diags_new();
    json_t *out = (json_t *)1;
    PipeStatus st = cache_doc_decode(buf, len, k->decode_kind, "origin.doc", &out, diags);
    if (st != k->want)
      fail_msg("%s: status %d (%s), expected %d", k->what, (int)st, pipe_strerror(st), (int)k->want);
    assert_null(out);
    const PipeDiag *d = only_diag(diags, k->code);
    assert_int_equal(d->severity, PIPE_SEV_WARNING);
    assert_string_equal(d->file, "origin.doc");
    pipe_diags_free(diags);
    free(buf);
  }
  free(enc0);
  json_decref(doc);
}

static void test_doc_decode_bad_json_with_good_checksum(void **state)
{
  (void)state;
  const char *body = "{\"a\": [1, 2";
  char hex[17];
  cache_hash_hex(cache_hash(body, strlen(body)), hex);
  char *data = pipe_xasprintf("ctrlmap:k v1 xxh3:%s %zu\n%s", hex, strlen(body), body);
  PipeDiagList *diags = pipe_diags_new();
  json_t *out = NULL;
  assert_int_equal(cache_doc_decode(data, strlen(data), "k", "x", &out, diags), PIPE_ERR_CORRUPT);
  assert_null(out);
  only_diag(diags, "cache-corrupt");
  pipe_diags_free(diags);
  free(data);
}

static void test_doc_decode_empty_and_random(void **state)
{
  (void)state;
  PipeDiagList *diags = pipe_diags_new();
  json_t *out = NULL;
  assert_int_equal(cache_doc_decode("", 0, "k", NULL, &out, diags), PIPE_ERR_CORRUPT);
  assert_null(out);
  only_diag(diags, "cache-corrupt");
  pipe_diags_free(diags);

  /* Random bytes, bare and behind a plausible header start. The buffers are NUL-terminated one past `len`
   * (see the report: cache_doc_decode's sscanf needs a NUL somewhere after the data). */
  uint64_t x = 0x9E3779B97F4A7C15u;
  static const char *const prefixes[] = {"", "ctrlmap:", "ctrlmap:k v1 xxh3:", "ctrlmap:k v1 xxh3:0123456789abcdef "};
  for (int iter = 0; iter < 4000; iter++) {
    const char *prefix = prefixes[iter % 4];
    size_t plen = strlen(prefix);
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t len = plen + (size_t)(x % 400);
    char *buf = malloc(len + 1);
    memcpy(buf, prefix, plen);
    for (size_t i = plen; i < len; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      buf[i] = (char)(x >> 24);
    }
    buf[len] = '\0';
    diags = pipe_diags_new();
    out = (json_t *)1;
    PipeStatus st = cache_doc_decode(buf, len, "k", "rnd", &out, diags);
    if (st == PIPE_OK)
      fail_msg("random input %d accepted", iter);
    assert_true(st == PIPE_ERR_CORRUPT || st == PIPE_ERR_VERSION);
    assert_null(out);
    assert_int_equal(pipe_diags_count(diags), 1);
    const char *code = pipe_diags_get(diags, 0)->code;
    assert_string_equal(code, st == PIPE_ERR_VERSION ? "cache-version" : "cache-corrupt");
    pipe_diags_free(diags);
    free(buf);
  }
}

/* ---- the store ---- */

static void test_store_save_load(void **state)
{
  (void)state;
  char *tmp = tu_tempdir();
  char *dir = pipe_path_join(tmp, "a/b/cache"); /* missing parents too */
  PipeDiagList *diags = pipe_diags_new();
  PipeStatus st = PIPE_ERR_IO;
  CacheStore *store = cache_open(dir, CACHE_WRITE, 1000, &st, diags);
  assert_non_null(store);
  assert_int_equal(st, PIPE_OK);
  struct stat sb;
  assert_int_equal(stat(dir, &sb), 0);
  assert_true(S_ISDIR(sb.st_mode));
  assert_string_equal(cache_root(store), dir);
  char *p = cache_path(store, "docs/index.json");
  char *want = pipe_xasprintf("%s/docs/index.json", dir);
  assert_string_equal(p, want);
  free(want);

  assert_int_equal(cache_mkdir(store, "docs", diags), PIPE_OK);
  json_t *doc = sample_doc();
  assert_int_equal(cache_doc_save(store, "docs/index.json", "plugin-index", doc, diags), PIPE_OK);
  assert_int_equal(pipe_diags_count(diags), 0);
  assert_int_equal(stat(p, &sb), 0);
  char *docs = cache_path(store, "docs");
  assert_int_equal(count_entries_containing(docs, ".tmp."), 0);

  json_t *back = NULL;
  assert_int_equal(cache_doc_load(store, "docs/index.json", "plugin-index", &back, diags), PIPE_OK);
  assert_int_equal(pipe_diags_count(diags), 0);
  assert_true(json_equal(doc, back));
  json_decref(back);

  /* The file on disk is exactly the encoded document. */
  size_t elen = 0, flen = 0;
  char *enc = cache_doc_encode("plugin-index", doc, &elen);
  char *file = tu_read_file(p, &flen);
  assert_int_equal(flen, elen);
  assert_memory_equal(file, enc, elen);
  free(file);

  /* A missing document: NOTFOUND and no diagnostic. */
  back = (json_t *)1;
  assert_int_equal(cache_doc_load(store, "docs/missing.json", "plugin-index", &back, diags), PIPE_ERR_NOTFOUND);
  assert_null(back);
  assert_int_equal(pipe_diags_count(diags), 0);

  /* A damaged document on disk: CORRUPT with a diagnostic naming the file. */
  tu_write_file(p, enc, elen - 1);
  assert_int_equal(cache_doc_load(store, "docs/index.json", "plugin-index", &back, diags), PIPE_ERR_CORRUPT);
  assert_null(back);
  const PipeDiag *d = only_diag(diags, "cache-corrupt");
  assert_string_equal(d->file, p);
  free(enc);

  cache_close(store);
  cache_close(NULL);

  /* Reopened for reading, a document saved again is there. */
  store = cache_open(dir, CACHE_WRITE, 1000, &st, NULL);
  assert_non_null(store);
  assert_int_equal(cache_doc_save(store, "docs/index.json", "plugin-index", doc, NULL), PIPE_OK);
  cache_close(store);
  store = cache_open(dir, CACHE_READ, 1000, &st, NULL);
  assert_non_null(store);
  assert_int_equal(cache_doc_load(store, "docs/index.json", "plugin-index", &back, NULL), PIPE_OK);
  assert_true(json_equal(doc, back));
  json_decref(back);
  cache_close(store);

  json_decref(doc);
  free(docs);
  free(p);
  pipe_diags_free(diags);
  free(dir);
  tu_rmtree(tmp);
  free(tmp);
}

static void test_open_read_missing(void **state)
{
  (void)state;
  char *tmp = tu_tempdir();
  char *dir = pipe_path_join(tmp, "nope");
  PipeDiagList *diags = pipe_diags_new();
  PipeStatus st = PIPE_OK;
  assert_null(cache_open(dir, CACHE_READ, 100, &st, diags));
  assert_int_equal(st, PIPE_ERR_NOTFOUND);
  assert_int_equal(pipe_diags_count(diags), 1);
  assert_int_equal(pipe_diags_get(diags, 0)->severity, PIPE_SEV_ERROR);
  /* Reading must not create it. */
  assert_int_equal(access(dir, F_OK), -1);
  pipe_diags_free(diags);
  free(dir);
  tu_rmtree(tmp);
  free(tmp);
}

/* In a child: tries cache_open and exits 0 if the result is `want` (and, for BUSY, a "cache-busy" diagnostic after
 * waiting about the timeout), else a code saying what went wrong. Never returns. */
static void child_try_open(const char *dir, CacheMode mode, int timeout_ms, PipeStatus want)
{
  PipeDiagList *diags = pipe_diags_new();
  PipeStatus st = PIPE_OK;
  uint64_t t0 = pipe_now_ns();
  CacheStore *s = cache_open(dir, mode, timeout_ms, &st, diags);
  double waited_ms = (double)(pipe_now_ns() - t0) / 1e6;
  int code = 0;
  if (st != want)
    code = 10 + (int)st;
  else if (want == PIPE_OK && (!s || pipe_diags_count(diags) != 0))
    code = 2;
  else if (want == PIPE_ERR_BUSY && (s || pipe_diags_count(diags) != 1 ||
                                     strcmp(pipe_diags_get(diags, 0)->code, "cache-busy") != 0))
    code = 3;
  else if (want == PIPE_ERR_BUSY && waited_ms < timeout_ms * 0.9)
    code = 4;
  cache_close(s);
  pipe_diags_free(diags);
  _exit(code);
}

static int run_child_open(const char *dir, CacheMode mode, int timeout_ms, PipeStatus want)
{
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    child_try_open(dir, mode, timeout_ms, want);
  return child_exit_code(pid);
}

static void test_lock_exclusive(void **state)
{
  (void)state;
  char *tmp = tu_tempdir();
  char *dir = pipe_path_join(tmp, "cache");
  PipeStatus st;
  CacheStore *w = cache_open(dir, CACHE_WRITE, 100, &st, NULL);
  assert_non_null(w);
  /* Another process can neither write nor read while a writer holds the cache. */
  assert_int_equal(run_child_open(dir, CACHE_WRITE, 100, PIPE_ERR_BUSY), 0);
  assert_int_equal(run_child_open(dir, CACHE_READ, 100, PIPE_ERR_BUSY), 0);
  cache_close(w);
  /* Released: a second child gets it. */
  assert_int_equal(run_child_open(dir, CACHE_WRITE, 100, PIPE_OK), 0);

  /* Readers share the lock, but keep writers out. */
  CacheStore *r = cache_open(dir, CACHE_READ, 100, &st, NULL);
  assert_non_null(r);
  assert_int_equal(run_child_open(dir, CACHE_READ, 100, PIPE_OK), 0);
  assert_int_equal(run_child_open(dir, CACHE_WRITE, 100, PIPE_ERR_BUSY), 0);
  cache_close(r);
  assert_int_equal(run_child_open(dir, CACHE_WRITE, 100, PIPE_OK), 0);

  /* The same, in process: a second open of our own cache is refused too (flock is per open file). */
  w = cache_open(dir, CACHE_WRITE, 100, &st, NULL);
  assert_non_null(w);
  PipeDiagList *diags = pipe_diags_new();
  assert_null(cache_open(dir, CACHE_WRITE, 60, &st, diags));
  assert_int_equal(st, PIPE_ERR_BUSY);
  only_diag(diags, "cache-busy");
  pipe_diags_free(diags);
  cache_close(w);

  free(dir);
  tu_rmtree(tmp);
  free(tmp);
}

static void test_lock_dies_with_process(void **state)
{
  (void)state;
  char *tmp = tu_tempdir();
  char *dir = pipe_path_join(tmp, "cache");
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(ready[0]);
    PipeStatus st;
    CacheStore *s = cache_open(dir, CACHE_WRITE, 1000, &st, NULL);
    char c = s ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1)
      _exit(1);
    for (;;)
      pause();
  }
  close(ready[1]);
  char c = 0;
  ssize_t got = read(ready[0], &c, 1);
  close(ready[0]);

  /* The child holds it... (results checked after the child is gone, so that a failure leaves no process behind) */
  PipeStatus busy_st = PIPE_OK;
  CacheStore *busy = got == 1 && c == 'y' ? cache_open(dir, CACHE_WRITE, 100, &busy_st, NULL) : NULL;
  /* ...until it is killed without a chance to clean up. */
  int killed = kill(pid, SIGKILL);
  int status = wait_child(pid);
  assert_int_equal(got, 1);
  assert_int_equal(c, 'y');
  assert_null(busy);
  assert_int_equal(busy_st, PIPE_ERR_BUSY);
  assert_int_equal(killed, 0);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  PipeStatus st = PIPE_OK;
  CacheStore *s = cache_open(dir, CACHE_WRITE, 100, &st, NULL);
  assert_non_null(s);
  assert_int_equal(st, PIPE_OK);
  cache_close(s);

  free(dir);
  tu_rmtree(tmp);
  free(tmp);
}

/* ---- fingerprints ---- */

static void test_fingerprint(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char *a = pipe_path_join(dir, "a.ttl");
  char *sub = pipe_path_join(dir, "sub.lv2");
  char *b = pipe_path_join(sub, "b.ttl");
  char *c = pipe_path_join(dir, "c.ttl");
  tu_write_file(a, "hello", 5);
  assert_int_equal(mkdir(sub, 0755), 0);
  tu_write_file(b, "bee", 3);

  uint64_t fp0 = fp_of(dir);
  /* Stable, and reading files does not change it. */
  size_t n = 0;
  free(tu_read_file(a, &n));
  free(tu_read_file(b, &n));
  assert_int_equal(fp_of(dir), fp0);
  assert_int_equal(fp_of(dir), fp0);

  /* Touching a file. */
  tu_touch(a, 5);
  uint64_t fp1 = fp_of(dir);
  assert_int_not_equal(fp1, fp0);
  assert_int_equal(fp_of(dir), fp1);

  /* Adding a file. */
  tu_write_file(c, "", 0);
  uint64_t fp2 = fp_of(dir);
  assert_int_not_equal(fp2, fp1);

  /* Removing it. */
  assert_int_equal(unlink(c), 0);
  uint64_t fp3 = fp_of(dir);
  assert_int_not_equal(fp3, fp2);

  /* A size change alone (the modification time put back as it was). */
  struct stat before;
  assert_int_equal(stat(a, &before), 0);
  tu_write_file(a, "hello, world", 12);
  struct timespec ts[2] = {before.st_atim, before.st_mtim};
  assert_int_equal(utimensat(AT_FDCWD, a, ts, 0), 0);
  struct stat after;
  assert_int_equal(stat(a, &after), 0);
  assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  uint64_t fp4 = fp_of(dir);
  assert_int_not_equal(fp4, fp3);

  /* A file in a subdirectory (which changes neither the top directory nor the subdirectory's own mtime). */
  tu_touch(b, 10);
  uint64_t fp5 = fp_of(dir);
  assert_int_not_equal(fp5, fp4);

  /* A rename (same sizes, same times, another name). */
  char *b2 = pipe_path_join(sub, "b2.ttl");
  struct stat sub_before;
  assert_int_equal(stat(sub, &sub_before), 0);
  assert_int_equal(rename(b, b2), 0);
  struct timespec sts[2] = {sub_before.st_atim, sub_before.st_mtim};
  assert_int_equal(utimensat(AT_FDCWD, sub, sts, 0), 0);
  uint64_t fp6 = fp_of(dir);
  assert_int_not_equal(fp6, fp5);

  /* Symlinks are followed: touching the target changes the fingerprint of a tree that only links to it. */
  char *other = tu_tempdir();
  char *target = pipe_path_join(other, "target.so");
  char *link = pipe_path_join(sub, "link.so");
  tu_write_file(target, "x", 1);
  assert_int_equal(symlink(target, link), 0);
  uint64_t fp7 = fp_of(dir);
  tu_touch(target, 20);
  assert_int_not_equal(fp_of(dir), fp7);

  /* Nothing changed since the last call. */
  uint64_t fp8 = fp_of(dir);
  assert_int_equal(fp_of(dir), fp8);

  /* Not a readable directory. */
  char *missing = pipe_path_join(dir, "missing");
  uint64_t fp = 42;
  assert_int_equal(cache_fingerprint_dir(missing, &fp), PIPE_ERR_IO);
  assert_int_equal(cache_fingerprint_dir(a, &fp), PIPE_ERR_IO);

  free(missing);
  free(link);
  free(target);
  tu_rmtree(other);
  free(other);
  free(b2);
  free(a);
  free(b);
  free(c);
  free(sub);
  tu_rmtree(dir);
  free(dir);
}

static void test_fingerprint_same_tree_same_value(void **state)
{
  (void)state;
  /* Two directories with the same names, sizes and times fingerprint equal; the directory's own path does not
   * count. */
  char *d1 = tu_tempdir(), *d2 = tu_tempdir();
  char *dirs[2] = {d1, d2};
  struct timespec fixed[2] = {{1700000000, 5}, {1700000000, 5}};
  for (int i = 0; i < 2; i++) {
    char *f = pipe_path_join(dirs[i], "x.ttl");
    tu_write_file(f, "abc", 3);
    assert_int_equal(utimensat(AT_FDCWD, f, fixed, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, dirs[i], fixed, 0), 0);
    free(f);
  }
  assert_int_equal(fp_of(d1), fp_of(d2));
  tu_rmtree(d1);
  tu_rmtree(d2);
  free(d1);
  free(d2);
}

/* ---- hashes ---- */

static void test_hash_hex(void **state)
{
  (void)state;
  const uint64_t values[] = {0, 1, 0xabcdef, 0x0123456789abcdefu, UINT64_MAX, 0x8000000000000000u,
                             cache_hash("ctrlmap", 7)};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    char hex[17];
    memset(hex, '#', sizeof hex);
    cache_hash_hex(values[i], hex);
    assert_int_equal(strlen(hex), 16);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 16);
    uint64_t back = ~values[i];
    assert_true(cache_hash_parse(hex, &back));
    assert_true(back == values[i]);
  }
  char hex[17];
  cache_hash_hex(0xab, hex);
  assert_string_equal(hex, "00000000000000ab"); /* fixed width, zero padded */

  static const char *const bad[] = {"",
                                    "0123456789abcde",   /* 15 */
                                    "0123456789abcdef0", /* 17 */
                                    "0123456789ABCDEF",  /* upper case */
                                    "0123456789abcdeg",  /* not hex */
                                    " 123456789abcdef",  /* space */
                                    "-123456789abcdef",  /* sign */
                                    "0x23456789abcdef"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint64_t h = 77;
    if (cache_hash_parse(bad[i], &h))
      fail_msg("cache_hash_parse accepted '%s'", bad[i]);
    assert_true(h == 77); /* untouched */
  }
  uint64_t h = 0;
  assert_false(cache_hash_parse(NULL, &h));

  /* The hash itself: deterministic, and sensitive to every byte. */
  assert_true(cache_hash("abc", 3) == cache_hash("abc", 3));
  assert_true(cache_hash("abc", 3) != cache_hash("abd", 3));
  assert_true(cache_hash("abc", 3) != cache_hash("abc", 2));
}

/* ---- fsx helpers ---- */

static void test_write_atomic(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char *f = pipe_path_join(dir, "out.json");
  PipeDiagList *diags = pipe_diags_new();
  assert_int_equal(pipe_fs_write_atomic(f, "first", 5, false, diags), PIPE_OK);
  assert_int_equal(pipe_fs_write_atomic(f, "second\n", 7, true, diags), PIPE_OK);
  assert_int_equal(pipe_diags_count(diags), 0);
  size_t n = 0;
  char *got = tu_read_file(f, &n);
  assert_int_equal(n, 7);
  assert_string_equal(got, "second\n");
  free(got);
  /* Binary data with NULs, and an empty file. */
  const char bin[] = {'a', 0, 'b', 0, 0, 'c'};
  assert_int_equal(pipe_fs_write_atomic(f, bin, sizeof bin, false, diags), PIPE_OK);
  got = tu_read_file(f, &n);
  assert_int_equal(n, sizeof bin);
  assert_memory_equal(got, bin, sizeof bin);
  free(got);
  assert_int_equal(pipe_fs_write_atomic(f, "", 0, false, diags), PIPE_OK);
  got = tu_read_file(f, &n);
  assert_int_equal(n, 0);
  free(got);
  /* Generated files are ordinary user files, not mkstemp's 0600. */
  struct stat sb;
  assert_int_equal(stat(f, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0644);
  assert_int_equal(count_entries_containing(dir, ".tmp."), 0);

  /* The rename fails (a directory is in the way): IO error, and the temporary file is cleaned up. */
  char *in_way = pipe_path_join(dir, "in_way");
  char *in_way_child = pipe_path_join(in_way, "child");
  assert_int_equal(mkdir(in_way, 0755), 0);
  tu_write_file(in_way_child, "c", 1);
  assert_int_equal(pipe_fs_write_atomic(in_way, "x", 1, true, diags), PIPE_ERR_IO);
  assert_int_equal(pipe_diags_count(diags), 1);
  assert_string_equal(pipe_diags_get(diags, 0)->code, "io-write");
  assert_int_equal(count_entries_containing(dir, ".tmp."), 0);
  assert_int_equal(stat(in_way, &sb), 0);
  assert_true(S_ISDIR(sb.st_mode));
  free(in_way_child);
  free(in_way);
  pipe_diags_free(diags);
  diags = pipe_diags_new();

  /* Into a missing directory: IO error, diagnostic, nothing created. */
  char *bad = pipe_path_join(dir, "missing/x");
  assert_int_equal(pipe_fs_write_atomic(bad, "x", 1, false, diags), PIPE_ERR_IO);
  assert_int_equal(pipe_diags_count(diags), 1);
  assert_int_equal(pipe_diags_get(diags, 0)->severity, PIPE_SEV_ERROR);
  free(bad);
  pipe_diags_free(diags);
  free(f);
  tu_rmtree(dir);
  free(dir);
}

/* In a read-only directory: fails with PIPE_ERR_IO, the old file intact, no temp file left. Returns an exit code:
 * 0 ok, else which check failed. */
static int readonly_write_checks(const char *ro_dir, const char *file)
{
  PipeDiagList *diags = pipe_diags_new();
  PipeStatus st = pipe_fs_write_atomic(file, "new content", 11, true, diags);
  int code = 0;
  if (st != PIPE_ERR_IO)
    code = 1;
  else if (pipe_diags_count(diags) != 1 || strcmp(pipe_diags_get(diags, 0)->code, "io-write") != 0)
    code = 2;
  pipe_diags_free(diags);
  if (code)
    return code;
  size_t n = 0;
  char *got = tu_read_file(file, &n);
  if (!got || n != 3 || memcmp(got, "old", 3) != 0)
    code = 3;
  free(got);
  if (!code && count_entries_containing(ro_dir, ".tmp.") != 0)
    code = 4;
  return code;
}

static void test_write_atomic_readonly_dir(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char *ro = pipe_path_join(dir, "ro");
  char *f = pipe_path_join(ro, "f");
  assert_int_equal(mkdir(ro, 0755), 0);
  tu_write_file(f, "old", 3);
  assert_int_equal(chmod(ro, 0555), 0);
  int code;
  if (geteuid() != 0) {
    code = readonly_write_checks(ro, f);
  } else {
    /* Root ignores permissions: run the check as an unprivileged owner of the directory, in a child. */
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chown(ro, 65534, 65534), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0 || access(ro, X_OK) != 0)
        _exit(77);
      _exit(readonly_write_checks(ro, f));
    }
    code = child_exit_code(pid);
    if (code == 77) {
      chmod(ro, 0755);
      tu_rmtree(dir);
      free(f), free(ro), free(dir);
      skip();
    }
  }
  if (code)
    fail_msg("read-only directory check %d failed", code);
  assert_int_equal(chmod(ro, 0755), 0);
  tu_rmtree(dir);
  free(f);
  free(ro);
  free(dir);
}

/* Creates each of names[0..n) in dir. */
static void make_files(const char *dir, const char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char *p = pipe_path_join(dir, names[i]);
    tu_write_file(p, "t", 1);
    free(p);
  }
}

/* Fails unless each of names[0..n) in dir exists (exist) or is gone (!exist). */
static void assert_files(const char *dir, const char *const *names, size_t n, bool exist)
{
  for (size_t i = 0; i < n; i++) {
    char *p = pipe_path_join(dir, names[i]);
    if ((access(p, F_OK) == 0) != exist)
      fail_msg("%s was %s", names[i], exist ? "swept" : "not swept");
    free(p);
  }
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void test_sweep_temps(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  static const char *const leftovers[] = {"x.tmp.abc", "index.json.tmp.Q1w2E3", ".tmp.", "a.tmp.b.tmp.c"};
  static const char *const keep[] = {"x.tmp", "tmp.x", "x.temp.abc", "index.json", "xtmp.abc", "x.tmpabc"};
  make_files(dir, leftovers, N_OF(leftovers));
  make_files(dir, keep, N_OF(keep));
  pipe_fs_sweep_temps(dir);
  assert_files(dir, leftovers, N_OF(leftovers), false);
  assert_files(dir, keep, N_OF(keep), true);
  /* A missing directory is not an error. */
  char *missing = pipe_path_join(dir, "missing");
  pipe_fs_sweep_temps(missing);
  free(missing);
  tu_rmtree(dir);
  free(dir);
}

/* A pid that belonged to a process that has exited. */
static long dead_pid(void)
{
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  waitpid(pid, NULL, 0);
  return (long)pid;
}

static void test_sweep_dead_temps(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char dead[64], alive[64], dead_in_name[96];
  snprintf(dead, sizeof dead, "Mixer.map.tmp.%ld.Ab12Cd", dead_pid());
  snprintf(alive, sizeof alive, "Mixer.map.tmp.%ld.Ab12Cd", (long)getpid());
  snprintf(dead_in_name, sizeof dead_in_name, "my.tmp.1.map.tmp.%ld.zzzzzz", dead_pid());
  /* Only a dead writer's temporaries go: a live writer's, and a user's files that merely look alike, stay. */
  const char *const gone[] = {dead, dead_in_name};
  const char *const kept[] = {alive, "notes.tmp.map", "x.map.tmp.abc", "x.map.tmp.12.abc", "x.map.tmp.0.abcdef",
                              "x.map.tmp.-5.abcdef", "x.map"};
  make_files(dir, gone, N_OF(gone));
  make_files(dir, kept, N_OF(kept));
  pipe_fs_sweep_dead_temps(dir);
  assert_files(dir, gone, N_OF(gone), false);
  assert_files(dir, kept, N_OF(kept), true);
  pipe_fs_sweep_dead_temps("/nonexistent/ctrlmap");
  tu_rmtree(dir);
  free(dir);
}

static void test_open_sweeps_killed_writes(void **state)
{
  (void)state;
  /* What a writer killed mid-rename left, two levels down: a reader leaves it, the next writer removes it. */
  char *dir = tu_tempdir();
  char *sub = pipe_path_join(dir, "maps"), *deep = pipe_path_join(sub, "bindings");
  mkdir(sub, 0755);
  mkdir(deep, 0755);
  char *t1 = pipe_path_join(sub, "status.tmp.12345.Ab12Cd"), *t2 = pipe_path_join(deep, "x.tmp.1.zzzzzz"),
       *keep = pipe_path_join(deep, "x");
  tu_write_file(t1, "t", 1);
  tu_write_file(t2, "t", 1);
  tu_write_file(keep, "k", 1);
  PipeStatus st;
  CacheStore *store = cache_open(dir, CACHE_READ, 1000, &st, NULL);
  assert_non_null(store);
  cache_close(store);
  assert_int_equal(access(t1, F_OK), 0);
  store = cache_open(dir, CACHE_WRITE, 1000, &st, NULL);
  assert_non_null(store);
  cache_close(store);
  assert_int_not_equal(access(t1, F_OK), 0);
  assert_int_not_equal(access(t2, F_OK), 0);
  assert_int_equal(access(keep, F_OK), 0);
  tu_rmtree(dir);
  free(t1), free(t2), free(keep), free(sub), free(deep), free(dir);
}

static void test_fs_read(void **state)
{
  (void)state;
  char *dir = tu_tempdir();
  char *f = pipe_path_join(dir, "data");
  tu_write_file(f, "0123456789", 10);
  PipeDiagList *diags = pipe_diags_new();
  char *data = NULL;
  size_t len = 0;

  /* Exactly max_len is fine, and the buffer is NUL-terminated. */
  assert_int_equal(pipe_fs_read(f, 10, &data, &len, diags), PIPE_OK);
  assert_int_equal(len, 10);
  assert_string_equal(data, "0123456789");
  free(data);
  assert_int_equal(pipe_diags_count(diags), 0);

  /* One byte over: refused. */
  data = (char *)1;
  assert_int_equal(pipe_fs_read(f, 9, &data, &len, diags), PIPE_ERR_INVALID);
  assert_null(data);
  assert_int_equal(len, 0);
  const PipeDiag *d = only_diag(diags, "io-too-large");
  assert_string_equal(d->file, f);
  assert_non_null(strstr(d->message, "10"));
  pipe_diags_free(diags);

  /* Missing file: NOTFOUND; a directory: IO. */
  diags = pipe_diags_new();
  char *missing = pipe_path_join(dir, "missing");
  assert_int_equal(pipe_fs_read(missing, 100, &data, &len, diags), PIPE_ERR_NOTFOUND);
  assert_null(data);
  assert_int_equal(pipe_fs_read(dir, 100, &data, &len, diags), PIPE_ERR_IO);
  assert_null(data);
  assert_int_equal(pipe_diags_count(diags), 2);

  /* An empty file. */
  tu_write_file(f, "", 0);
  assert_int_equal(pipe_fs_read(f, 0, &data, &len, NULL), PIPE_OK);
  assert_int_equal(len, 0);
  assert_string_equal(data, "");
  free(data);

  free(missing);
  pipe_diags_free(diags);
  free(f);
  tu_rmtree(dir);
  free(dir);
}

static void test_path_join(void **state)
{
  (void)state;
  static const char *const cases[][3] = {
      {"a", "b", "a/b"}, {"a/", "b", "a/b"}, {"a//", "/b", "a/b"}, {"/", "b", "/b"}, {"/x/y", "z/w", "/x/y/z/w"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *j = pipe_path_join(cases[i][0], cases[i][1]);
    assert_string_equal(j, cases[i][2]);
    free(j);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_doc_roundtrip),
      cmocka_unit_test(test_doc_decode_rejects),
      cmocka_unit_test(test_doc_decode_bad_json_with_good_checksum),
      cmocka_unit_test(test_doc_decode_empty_and_random),
      cmocka_unit_test(test_store_save_load),
      cmocka_unit_test(test_open_read_missing),
      cmocka_unit_test(test_lock_exclusive),
      cmocka_unit_test(test_lock_dies_with_process),
      cmocka_unit_test(test_fingerprint),
      cmocka_unit_test(test_fingerprint_same_tree_same_value),
      cmocka_unit_test(test_hash_hex),
      cmocka_unit_test(test_write_atomic),
      cmocka_unit_test(test_write_atomic_readonly_dir),
      cmocka_unit_test(test_sweep_temps),
      cmocka_unit_test(test_sweep_dead_temps),
      cmocka_unit_test(test_open_sweeps_killed_writes),
      cmocka_unit_test(test_fs_read),
      cmocka_unit_test(test_path_join),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
