/* pool.c: fork-based worker pool. Workers are forked from a parent that holds only the LV2 manifests, which keeps
 * fork cheap (~0.3 ms, see LV2-HOST-FACTS), and jobs are dispatched one at a time so a failure is always attributed
 * to the job that caused it. */
#include "pool.h"

#include "../pipeline/perf.h"
#include "../pipeline/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A result larger than this is a protocol error, not a descriptor. */
#define POOL_MAX_RESULT (64u * 1024 * 1024)
/* What the log keeps of one job's output by default. */
#define POOL_OUTPUT_LIMIT (1024u * 1024)
/* How often busy workers' memory is looked at when there is a limit. */
#define POOL_MEMORY_POLL_MS 5

typedef struct {
  pid_t pid;  /* 0: no process */
  int job_fd; /* parent -> worker: job indexes */
  int res_fd; /* worker -> parent: results */
  int out_fd; /* worker's stdout+stderr -> parent; -1 once at EOF */
  bool busy;
  size_t job, served;
  uint64_t started;             /* dispatch time, ns */
  unsigned long long out_bytes; /* the current job's output so far */
} Worker;

typedef struct {
  const PlugPoolOpts *o;
  Worker *w;
  int n_workers;
  size_t next, done, n_jobs;
  char *rbuf; /* result assembly buffer */
  size_t rcap;
  size_t out_limit;
  uint64_t mem_checked; /* last memory check, ns */
} Pool;

void plug_buf_append(PlugBuf *buf, const char *data, size_t len)
{
  pipe_grow((void **)&buf->data, &buf->cap, buf->len + len + 1, 1);
  memcpy(buf->data + buf->len, data, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
}

void plug_buf_append_json(PlugBuf *buf, json_t *value)
{
  char *s = json_dumps(value, JSON_COMPACT);
  plug_buf_append(buf, s, strlen(s));
  free(s);
  json_decref(value);
}

const char *plug_job_failure(const PlugJobResult *r, double timeout_s, char **detail)
{
  switch (r->outcome) {
  case PLUG_JOB_CRASHED: *detail = pipe_xstrdup(plug_signal_name(r->signal)); return "crashed";
  case PLUG_JOB_TIMEOUT: *detail = pipe_xasprintf("no answer within %g s", timeout_s); return "timeout";
  case PLUG_JOB_MEMORY:
    *detail = pipe_xasprintf("killed at %lu MiB of resident memory, over the limit (--memory-limit)", r->rss_mib);
    return "memory-limit";
  case PLUG_JOB_EXITED:
    /* A plugin that calls exit(), or a sanitizer that stopped on the plugin's own memory error. */
    *detail = pipe_xasprintf("the worker ended with exit status %d", r->exit_code);
    return "crashed";
  case PLUG_JOB_PROTOCOL:
  case PLUG_JOB_OK: break;
  }
  *detail = pipe_xstrdup("the worker sent a malformed result");
  return "error";
}

const char *plug_signal_name(int sig)
{
  switch (sig) {
  case SIGSEGV: return "SIGSEGV";
  case SIGABRT: return "SIGABRT";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGKILL: return "SIGKILL";
  case SIGTERM: return "SIGTERM";
  case SIGTRAP: return "SIGTRAP";
  case SIGSYS: return "SIGSYS";
  case SIGXCPU: return "SIGXCPU";
  case SIGPIPE: return "SIGPIPE";
  default: break;
  }
  static _Thread_local char other[32]; /* rare signals only; valid until the next such call */
  const char *abbrev = sigabbrev_np(sig);
  if (abbrev)
    snprintf(other, sizeof other, "SIG%s", abbrev);
  else
    snprintf(other, sizeof other, "signal %d", sig);
  return other;
}

static bool io_all(int fd, void *data, size_t len, bool writing)
{
  char *p = data;
  while (len > 0) {
    ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

/* The worker's side: read a job index, run it, send [job][len][payload]; leave on EOF. */
static void worker_main(const PlugPoolOpts *o, int job_fd, int res_fd)
{
  PlugBuf buf = {0};
  uint64_t job;
  while (io_all(job_fd, &job, sizeof job, false)) {
    buf.len = 0;
    o->run(o->ctx, (size_t)job, &buf);
    fflush(stdout); /* a plugin's printf output belongs in the log, not lost in a buffer */
    uint64_t hdr[2] = {job, buf.len};
    if (!io_all(res_fd, hdr, sizeof hdr, true) || !io_all(res_fd, buf.data ? buf.data : "", buf.len, true))
      break;
  }
  free(buf.data);
}

static void child_setup(Pool *p, int self, int out_w)
{
  /* A worker must not outlive the parent: a hung plugin would otherwise keep running forever. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1)
    _exit(0);
  /* A crashing plugin is expected here; it must not leave core files behind. */
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  for (int i = 0; i < p->n_workers; i++)
    if (i != self && p->w[i].pid) {
      close(p->w[i].job_fd);
      close(p->w[i].res_fd);
      if (p->w[i].out_fd >= 0)
        close(p->w[i].out_fd);
    }
  int devnull = open("/dev/null", O_RDWR);
  dup2(devnull, STDIN_FILENO);
  dup2(out_w, STDOUT_FILENO);
  dup2(out_w, STDERR_FILENO);
  if (devnull > STDERR_FILENO)
    close(devnull);
}

static void close_pair(int fds[2])
{
  close(fds[0]);
  close(fds[1]);
}

static bool worker_spawn(Pool *p, int i, PipeDiagList *diags)
{
  int jp[2], rp[2], op[2];
  if (pipe2(jp, O_CLOEXEC) != 0)
    goto fail;
  if (pipe2(rp, O_CLOEXEC) != 0) {
    close_pair(jp);
    goto fail;
  }
  if (pipe2(op, O_CLOEXEC) != 0) {
    close_pair(jp), close_pair(rp);
    goto fail;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close_pair(jp), close_pair(rp), close_pair(op);
    goto fail;
  }
  if (pid == 0) {
    close(jp[1]);
    close(rp[0]);
    close(op[0]);
    child_setup(p, i, op[1]);
    close(op[1]);
    if (p->o->child_init)
      p->o->child_init(p->o->ctx);
    worker_main(p->o, jp[0], rp[1]);
    _exit(0); /* _exit: the parent's atexit handlers and stdio buffers are not ours to run */
  }
  close(jp[0]);
  close(rp[1]);
  close(op[1]);
  /* Non-blocking: the parent drains what is there and never waits on a worker's output. */
  fcntl(op[0], F_SETFL, fcntl(op[0], F_GETFL) | O_NONBLOCK);
  p->w[i] = (Worker){.pid = pid, .job_fd = jp[1], .res_fd = rp[0], .out_fd = op[0]};
  return true;
fail:
  pipe_diag_add(diags, PIPE_SEV_ERROR, "pool-spawn", NULL, 0, 0, "cannot start a worker process: %s", strerror(errno));
  return false;
}

/* Waits for a worker that is exiting; one that has not exited within a second is killed. */
static int reap(pid_t pid, bool kill_now)
{
  int status = 0;
  if (kill_now)
    kill(pid, SIGKILL);
  for (int tries = 0;; tries++) {
    pid_t r = waitpid(pid, &status, kill_now ? 0 : WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR))
      return status;
    if (r == 0 && tries >= 1000) {
      kill(pid, SIGKILL);
      kill_now = true;
    } else if (r == 0) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
}

static void log_write(const Pool *p, const char *data, size_t len)
{
  /* The log is best effort: a full disk loses log lines, never the run. */
  if (p->o->output_fd >= 0)
    (void)io_all(p->o->output_fd, (void *)data, len, true);
}

/* Appends a chunk of worker i's output to the log, under its job's label, up to the per-job limit. */
static void log_output(Pool *p, Worker *w, const char *data, size_t len)
{
  unsigned long long before = w->out_bytes;
  w->out_bytes += len;
  if (before == 0) { /* the job's first output: its label first */
    const char *label = p->o->label ? p->o->label(p->o->ctx, w->job) : NULL;
    char *head = label ? pipe_xasprintf("== %s ==\n", label) : pipe_xasprintf("== job %zu ==\n", w->job);
    log_write(p, head, strlen(head));
    free(head);
  }
  if (before < p->out_limit)
    log_write(p, data, (size_t)(len < p->out_limit - before ? len : p->out_limit - before));
  if (before <= p->out_limit && w->out_bytes > p->out_limit) { /* crossing the limit: say so, once */
    char note[96];
    int n = snprintf(note, sizeof note, "\n[ctrlmap: output cut here, after %zu bytes]\n", p->out_limit);
    log_write(p, note, (size_t)n);
  }
}

/* Reads whatever worker i's output pipe holds now, without waiting. */
static void drain_output(Pool *p, Worker *w)
{
  char buf[16384];
  while (w->out_fd >= 0) {
    ssize_t n = read(w->out_fd, buf, sizeof buf);
    if (n > 0) {
      log_output(p, w, buf, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0) { /* the worker and everything it started closed their output */
      close(w->out_fd);
      w->out_fd = -1;
    }
    return; /* EAGAIN: nothing more for now */
  }
}

/* Ends worker i (killing it if asked) and reaps it; returns its wait status. Its last output is logged first, and
 * *out_bytes (if not NULL) says how much its job wrote in all. */
static int worker_end(Pool *p, int i, bool kill_it, unsigned long long *out_bytes)
{
  Worker *w = &p->w[i];
  close(w->job_fd);
  close(w->res_fd);
  int status = reap(w->pid, kill_it);
  drain_output(p, w); /* dead now: the pipe holds all it will ever write (a plugin's own children aside) */
  if (w->out_fd >= 0)
    close(w->out_fd);
  if (out_bytes)
    *out_bytes = w->out_bytes;
  memset(w, 0, sizeof *w);
  w->out_fd = -1;
  return status;
}

static void finish(Pool *p, size_t job, PlugJobResult *res, uint64_t started, unsigned long long out_bytes)
{
  res->output = out_bytes;
  res->output_truncated = out_bytes > p->out_limit;
  res->ms = (double)(pipe_now_ns() - started) / 1e6;
  p->done++;
  if (p->o->done)
    p->o->done(p->o->ctx, job, res);
}

static bool dispatch(Pool *p, int i)
{
  Worker *w = &p->w[i];
  uint64_t job = p->next;
  /* SIGPIPE is ignored by the caller of plug_pool_run, so a dead worker shows up as a failed write. */
  if (!io_all(w->job_fd, &job, sizeof job, true))
    return false;
  w->busy = true;
  w->served++;
  w->job = p->next++;
  w->started = pipe_now_ns();
  w->out_bytes = 0;
  return true;
}

/* Kills busy worker i for `res` (timeout, memory) and reports its job. */
static void kill_job(Pool *p, int i, PlugJobResult *res)
{
  size_t job = p->w[i].job;
  uint64_t started = p->w[i].started;
  unsigned long long out = 0;
  worker_end(p, i, true, &out);
  finish(p, job, res, started, out);
}

/* Reads one result from a busy worker whose result pipe is readable; on any failure the worker is ended and the
 * job reported with the reason. */
static void collect(Pool *p, int i)
{
  Worker *w = &p->w[i];
  uint64_t hdr[2];
  PlugJobResult res = {0};
  size_t job = w->job;
  uint64_t started = w->started;
  if (io_all(w->res_fd, hdr, sizeof hdr, false) && hdr[0] == job && hdr[1] <= POOL_MAX_RESULT) {
    pipe_grow((void **)&p->rbuf, &p->rcap, hdr[1] + 1, 1);
    if (io_all(w->res_fd, p->rbuf, hdr[1], false)) {
      p->rbuf[hdr[1]] = '\0';
      res.outcome = PLUG_JOB_OK;
      res.payload = p->rbuf;
      res.payload_len = hdr[1];
      w->busy = false;
      /* The worker wrote its output before its result, so all of it is in the pipe now. */
      drain_output(p, w);
      finish(p, job, &res, started, w->out_bytes);
      return;
    }
  }
  /* EOF: the worker is exiting, and its wait status says how. Anything else is garbage: kill the sender. */
  char probe;
  struct pollfd pf = {.fd = w->res_fd, .events = POLLIN};
  bool eof = poll(&pf, 1, 0) == 1 && read(w->res_fd, &probe, 1) == 0;
  unsigned long long out = 0;
  int status = worker_end(p, i, !eof, &out);
  if (!eof) {
    res.outcome = PLUG_JOB_PROTOCOL;
  } else if (WIFSIGNALED(status)) {
    res.outcome = PLUG_JOB_CRASHED;
    res.signal = WTERMSIG(status);
  } else {
    res.outcome = PLUG_JOB_EXITED;
    res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  finish(p, job, &res, started, out);
}

static int next_timeout_ms(const Pool *p)
{
  uint64_t now = pipe_now_ns(), limit = (uint64_t)(p->o->timeout_s * 1e9);
  int64_t best = -1;
  for (int i = 0; i < p->n_workers; i++) {
    if (!p->w[i].busy)
      continue;
    uint64_t end = p->w[i].started + limit;
    int64_t left = end > now ? (int64_t)((end - now) / 1000000 + 1) : 0;
    if (best < 0 || left < best)
      best = left;
  }
  if (p->o->memory_limit_mib > 0 && best > POOL_MEMORY_POLL_MS)
    best = POOL_MEMORY_POLL_MS;
  return best > INT32_MAX ? INT32_MAX : (int)best;
}

static void expire(Pool *p)
{
  uint64_t now = pipe_now_ns(), limit = (uint64_t)(p->o->timeout_s * 1e9);
  for (int i = 0; i < p->n_workers; i++)
    if (p->w[i].busy && now - p->w[i].started >= limit)
      kill_job(p, i, &(PlugJobResult){.outcome = PLUG_JOB_TIMEOUT});
}

/* A process's resident memory in MiB, from /proc (0 if it cannot be read). */
static unsigned long rss_mib(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
  FILE *f = fopen(path, "re");
  unsigned long size = 0, resident = 0;
  if (!f)
    return 0;
  if (fscanf(f, "%lu %lu", &size, &resident) != 2)
    resident = 0;
  fclose(f);
  return (unsigned long)((unsigned long long)resident * (unsigned long long)sysconf(_SC_PAGESIZE) >> 20);
}

/* The memory limit is enforced from outside: an rlimit would also stop the allocator of a sanitizer build and
 * cannot tell a plugin's heap from its reserved address space. */
static void check_memory(Pool *p)
{
  unsigned long limit = p->o->memory_limit_mib;
  uint64_t now = pipe_now_ns();
  if (limit == 0 || now - p->mem_checked < (uint64_t)POOL_MEMORY_POLL_MS * 1000000)
    return;
  p->mem_checked = now;
  for (int i = 0; i < p->n_workers; i++) {
    if (!p->w[i].busy)
      continue;
    unsigned long mib = rss_mib(p->w[i].pid);
    if (mib > limit)
      kill_job(p, i, &(PlugJobResult){.outcome = PLUG_JOB_MEMORY, .rss_mib = mib});
  }
}

/* Gives every idle worker a job, starting replacement workers as needed. Returns false if none can be started. */
static bool feed(Pool *p, PipeDiagList *diags)
{
  for (int i = 0; i < p->n_workers && p->next < p->n_jobs; i++) {
    if (p->w[i].busy)
      continue;
    if (p->w[i].pid && p->o->jobs_per_worker > 0 && p->w[i].served >= (size_t)p->o->jobs_per_worker)
      worker_end(p, i, false, NULL); /* retired: its job pipe closes and it leaves */
    if (!p->w[i].pid && !worker_spawn(p, i, diags))
      return false;
    if (!dispatch(p, i))
      worker_end(p, i, true, NULL); /* died between jobs: the job is still p->next, a new worker takes it */
  }
  return true;
}

/* Fills `fds` with what to wait for: each busy worker's result pipe and its output pipe (output is read as it
 * comes, so a worker never blocks on a full pipe). fds[k] belongs to worker idx[k]; out[k] says which pipe. */
static nfds_t watch_list(const Pool *p, struct pollfd *fds, int *idx, bool *out)
{
  nfds_t n = 0;
  for (int i = 0; i < p->n_workers; i++) {
    if (!p->w[i].busy)
      continue;
    fds[n] = (struct pollfd){.fd = p->w[i].res_fd, .events = POLLIN};
    out[n] = false;
    idx[n++] = i;
    if (p->w[i].out_fd >= 0) {
      fds[n] = (struct pollfd){.fd = p->w[i].out_fd, .events = POLLIN};
      out[n] = true;
      idx[n++] = i;
    }
  }
  return n;
}

static PipeStatus pool_loop(Pool *p, PipeDiagList *diags)
{
  size_t cap = 2 * (size_t)p->n_workers;
  struct pollfd *fds = pipe_xcalloc(cap, sizeof(struct pollfd));
  int *idx = pipe_xcalloc(cap, sizeof(int));
  bool *out = pipe_xcalloc(cap, sizeof(bool));
  PipeStatus st = PIPE_OK;
  while (p->done < p->n_jobs) {
    if (!feed(p, diags)) {
      st = PIPE_ERR_CHILD;
      break;
    }
    nfds_t n = watch_list(p, fds, idx, out);
    if (n == 0)
      continue; /* every worker died between jobs (dispatch failed): without this, poll() waits forever */
    int r = poll(fds, n, next_timeout_ms(p));
    if (r < 0 && errno != EINTR) {
      st = PIPE_ERR_CHILD;
      break;
    }
    /* Output first: a job's output is logged before its result is handled. A worker ended by an earlier entry of
     * this round is no longer busy, and its later entries are skipped. */
    for (nfds_t k = 0; r > 0 && k < n; k++)
      if (out[k] && fds[k].revents && p->w[idx[k]].busy)
        drain_output(p, &p->w[idx[k]]);
    for (nfds_t k = 0; r > 0 && k < n; k++)
      if (!out[k] && fds[k].revents && p->w[idx[k]].busy)
        collect(p, idx[k]);
    expire(p);
    check_memory(p);
  }
  free(fds);
  free(idx);
  free(out);
  return st;
}

PipeStatus plug_pool_run(const PlugPoolOpts *opts, size_t n_jobs, PipeDiagList *diags)
{
  if (n_jobs == 0)
    return PIPE_OK;
  Pool p = {.o = opts, .n_jobs = n_jobs};
  p.out_limit = opts->output_limit > 0 ? opts->output_limit : POOL_OUTPUT_LIMIT;
  p.n_workers = opts->workers < 1 ? 1 : opts->workers;
  if ((size_t)p.n_workers > n_jobs)
    p.n_workers = (int)n_jobs;
  p.w = pipe_xcalloc((size_t)p.n_workers, sizeof(Worker));
  for (int i = 0; i < p.n_workers; i++)
    p.w[i].out_fd = -1;
  struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
  sigaction(SIGPIPE, &ign, &old_pipe);
  PipeStatus st = pool_loop(&p, diags);
  for (int i = 0; i < p.n_workers; i++)
    if (p.w[i].pid)
      worker_end(&p, i, st != PIPE_OK, NULL); /* idle workers leave on EOF of their job pipe */
  sigaction(SIGPIPE, &old_pipe, NULL);
  free(p.w);
  free(p.rbuf);
  return st;
}
