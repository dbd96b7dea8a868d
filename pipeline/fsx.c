/* fsx.c: temp-file-and-rename writes, flock-based locking, bounded reads. */
#include "fsx.h"

#include "xalloc.h"

#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *pipe_path_join(const char *a, const char *b)
{
  size_t la = strlen(a);
  while (la > 0 && a[la - 1] == '/')
    la--;
  while (*b == '/')
    b++;
  return pipe_xasprintf("%.*s/%s", (int)la, a, b);
}

PipeStatus pipe_fs_mkdirs(const char *path, PipeDiagList *diags)
{
  char *p = pipe_xstrdup(path);
  PipeStatus st = PIPE_OK;
  for (char *s = p + 1;; s++) {
    bool end = *s == '\0';
    if (*s != '/' && !end)
      continue;
    *s = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "io-mkdir", p, 0, 0, "cannot create directory: %s", strerror(errno));
      st = PIPE_ERR_IO;
      break;
    }
    if (end)
      break;
    *s = '/';
  }
  free(p);
  return st;
}

static bool write_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    len -= (size_t)n;
  }
  return true;
}

PipeStatus pipe_fs_write_atomic(const char *path, const void *data, size_t len, bool durable, PipeDiagList *diags)
{
  /* The writer's pid in the name lets pipe_fs_sweep_dead_temps tell a killed writer's leftovers from a live one's. */
  char *tmp = pipe_xasprintf("%s.tmp.%ld.XXXXXX", path, (long)getpid());
  PipeStatus st = PIPE_ERR_IO;
  int fd = mkstemp(tmp);
  if (fd < 0) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "io-write", path, 0, 0, "cannot create temporary file: %s", strerror(errno));
    goto done;
  }
  /* mkstemp creates 0600; generated files are ordinary user files. */
  fchmod(fd, 0644);
  bool ok = write_all(fd, data, len) && (!durable || fsync(fd) == 0);
  int err = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok || rename(tmp, path) != 0) {
    if (ok)
      err = errno;
    pipe_diag_add(diags, PIPE_SEV_ERROR, "io-write", path, 0, 0, "cannot write file: %s", strerror(err));
    unlink(tmp);
    goto done;
  }
  st = PIPE_OK;
done:
  free(tmp);
  return st;
}

FILE *pipe_fs_open_regular(const char *path, const char *mode)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat sb;
  if (fd < 0)
    return NULL;
  FILE *f = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? fdopen(fd, mode) : NULL;
  if (!f) {
    int err = S_ISREG(sb.st_mode) ? errno : EINVAL;
    close(fd);
    errno = err;
  }
  return f;
}

PipeStatus pipe_fs_read(const char *path, size_t max_len, char **data, size_t *len, PipeDiagList *diags)
{
  *data = NULL;
  *len = 0;
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; it is refused below. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    PipeSeverity sev = errno == ENOENT ? PIPE_SEV_NOTE : PIPE_SEV_ERROR;
    pipe_diag_add(diags, sev, "io-read", path, 0, 0, "cannot open file: %s", strerror(errno));
    return errno == ENOENT ? PIPE_ERR_NOTFOUND : PIPE_ERR_IO;
  }
  struct stat sb;
  PipeStatus st = PIPE_ERR_IO;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "io-read", path, 0, 0, "not a regular file");
    goto done;
  }
  if ((size_t)sb.st_size > max_len) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "io-too-large", path, 0, 0, "file is %lld bytes, expected at most %zu",
                  (long long)sb.st_size, max_len);
    st = PIPE_ERR_INVALID;
    goto done;
  }
  size_t cap = (size_t)sb.st_size + 1, n = 0;
  char *buf = pipe_xmalloc(cap);
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "io-read", path, 0, 0, "cannot read file: %s", strerror(errno));
      free(buf);
      goto done;
    }
    if (r == 0 || (n += (size_t)r) == cap - 1)
      break; /* a file that grows while we read is read up to its size at open time */
  }
  buf[n] = '\0';
  *data = buf;
  *len = n;
  st = PIPE_OK;
done:
  close(fd);
  return st;
}

void pipe_fs_sweep_temps(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp."))
      unlinkat(dirfd(d), e->d_name, 0);
  closedir(d);
}

/* The pid in "NAME.tmp.PID.XXXXXX", or 0 if `name` is not such a name. */
static pid_t temp_writer(const char *name)
{
  const char *t = strstr(name, ".tmp.");
  while (t && strstr(t + 1, ".tmp."))
    t = strstr(t + 1, ".tmp."); /* the last one: NAME may hold ".tmp." itself */
  if (!t)
    return 0;
  char *end = NULL;
  long pid = strtol(t + 5, &end, 10);
  if (end == t + 5 || pid <= 0 || *end != '.' || strlen(end + 1) != 6)
    return 0;
  return (pid_t)pid;
}

void pipe_fs_sweep_dead_temps(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d))) {
    pid_t pid = temp_writer(e->d_name);
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
      unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
}

PipeStatus pipe_fs_lock(const char *path, bool exclusive, int timeout_ms, int *fd, PipeDiagList *diags)
{
  *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0 && !exclusive)
    *fd = open(path, O_RDONLY | O_CLOEXEC); /* a read-only cache can still be read */
  if (*fd < 0) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "cache-lock", path, 0, 0, "cannot open lock file: %s", strerror(errno));
    return PIPE_ERR_IO;
  }
  int op = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  struct timespec nap = {0, 20 * 1000 * 1000};
  for (long waited = 0;; waited += 20) {
    if (flock(*fd, op) == 0)
      return PIPE_OK;
    if (errno != EWOULDBLOCK && errno != EINTR)
      break;
    if (timeout_ms >= 0 && waited >= timeout_ms) {
      errno = EWOULDBLOCK;
      break;
    }
    nanosleep(&nap, NULL);
  }
  PipeStatus st = errno == EWOULDBLOCK ? PIPE_ERR_BUSY : PIPE_ERR_IO;
  if (st == PIPE_ERR_BUSY)
    pipe_diag_add(diags, PIPE_SEV_ERROR, "cache-busy", path, 0, 0,
                  "another ctrlmap is using this cache (waited %d ms); try again when it has finished", timeout_ms);
  else
    pipe_diag_add(diags, PIPE_SEV_ERROR, "cache-lock", path, 0, 0, "cannot lock: %s", strerror(errno));
  close(*fd);
  *fd = -1;
  return st;
}

void pipe_fs_unlock(int fd)
{
  if (fd >= 0)
    close(fd);
}
