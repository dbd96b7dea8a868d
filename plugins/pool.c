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

typedef struct {
  pid_t pid;  /* 0: no process */
  int job_fd; /* parent -> worker: job indexes */
  int res_fd; /* worker -> parent: results */
  bool busy;
  size_t job, served;
  uint64_t started; /* dispatch time, ns */
} Worker;

typedef struct {
  const PlugPoolOpts *o;
  Worker *w;
  int n_workers;
  size_t next, done, n_jobs;
  char *rbuf; /* result assembly buffer */
  size_t rcap;
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

static void child_setup(Pool *p, int self, int out_fd)
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
    }
  int devnull = open("/dev/null", O_RDWR);
  int out = out_fd >= 0 ? out_fd : devnull;
  dup2(devnull, STDIN_FILENO);
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  if (devnull > STDERR_FILENO)
    close(devnull);
}

static bool worker_spawn(Pool *p, int i, PipeDiagList *diags)
{
  int jp[2], rp[2];
  if (pipe2(jp, O_CLOEXEC) != 0)
    goto fail;
  if (pipe2(rp, O_CLOEXEC) != 0) {
    close(jp[0]);
    close(jp[1]);
    goto fail;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(jp[0]), close(jp[1]), close(rp[0]), close(rp[1]);
    goto fail;
  }
  if (pid == 0) {
    close(jp[1]);
    close(rp[0]);
    child_setup(p, i, p->o->output_fd);
    if (p->o->child_init)
      p->o->child_init(p->o->ctx);
    worker_main(p->o, jp[0], rp[1]);
    _exit(0); /* _exit: the parent's atexit handlers and stdio buffers are not ours to run */
  }
  close(jp[0]);
  close(rp[1]);
  p->w[i] = (Worker){.pid = pid, .job_fd = jp[1], .res_fd = rp[0]};
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

/* Ends worker i (killing it if asked) and reaps it; returns its wait status. */
static int worker_end(Pool *p, int i, bool kill_it)
{
  Worker *w = &p->w[i];
  close(w->job_fd);
  close(w->res_fd);
  int status = reap(w->pid, kill_it);
  memset(w, 0, sizeof *w);
  return status;
}

static void finish(Pool *p, size_t job, PlugJobResult *res, uint64_t started)
{
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
  return true;
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
      finish(p, job, &res, started);
      return;
    }
  }
  /* EOF: the worker is exiting, and its wait status says how. Anything else is garbage: kill the sender. */
  char probe;
  struct pollfd pf = {.fd = w->res_fd, .events = POLLIN};
  bool eof = poll(&pf, 1, 0) == 1 && read(w->res_fd, &probe, 1) == 0;
  int status = worker_end(p, i, !eof);
  if (!eof) {
    res.outcome = PLUG_JOB_PROTOCOL;
  } else if (WIFSIGNALED(status)) {
    res.outcome = PLUG_JOB_CRASHED;
    res.signal = WTERMSIG(status);
  } else {
    res.outcome = PLUG_JOB_EXITED;
    res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  finish(p, job, &res, started);
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
  return best > INT32_MAX ? INT32_MAX : (int)best;
}

static void expire(Pool *p)
{
  uint64_t now = pipe_now_ns(), limit = (uint64_t)(p->o->timeout_s * 1e9);
  for (int i = 0; i < p->n_workers; i++) {
    Worker *w = &p->w[i];
    if (!w->busy || now - w->started < limit)
      continue;
    size_t job = w->job;
    uint64_t started = w->started;
    worker_end(p, i, true);
    PlugJobResult res = {.outcome = PLUG_JOB_TIMEOUT};
    finish(p, job, &res, started);
  }
}

/* Gives every idle worker a job, starting replacement workers as needed. Returns false if none can be started. */
static bool feed(Pool *p, PipeDiagList *diags)
{
  for (int i = 0; i < p->n_workers && p->next < p->n_jobs; i++) {
    if (p->w[i].busy)
      continue;
    if (p->w[i].pid && p->o->jobs_per_worker > 0 && p->w[i].served >= (size_t)p->o->jobs_per_worker)
      worker_end(p, i, false); /* retired: its job pipe closes and it leaves */
    if (!p->w[i].pid && !worker_spawn(p, i, diags))
      return false;
    if (!dispatch(p, i))
      worker_end(p, i, true); /* died between jobs: the job is still p->next, a new worker takes it */
  }
  return true;
}

static PipeStatus pool_loop(Pool *p, PipeDiagList *diags)
{
  struct pollfd *fds = pipe_xcalloc((size_t)p->n_workers, sizeof(struct pollfd));
  int *idx = pipe_xcalloc((size_t)p->n_workers, sizeof(int));
  PipeStatus st = PIPE_OK;
  while (p->done < p->n_jobs) {
    if (!feed(p, diags)) {
      st = PIPE_ERR_CHILD;
      break;
    }
    nfds_t n = 0;
    for (int i = 0; i < p->n_workers; i++)
      if (p->w[i].busy) {
        fds[n] = (struct pollfd){.fd = p->w[i].res_fd, .events = POLLIN};
        idx[n++] = i;
      }
    if (n == 0)
      continue; /* every worker died between jobs (dispatch failed): without this, poll() waits forever */
    int r = poll(fds, n, next_timeout_ms(p));
    if (r < 0 && errno != EINTR) {
      st = PIPE_ERR_CHILD;
      break;
    }
    for (nfds_t k = 0; r > 0 && k < n; k++)
      if (fds[k].revents)
        collect(p, idx[k]);
    expire(p);
  }
  free(fds);
  free(idx);
  return st;
}

PipeStatus plug_pool_run(const PlugPoolOpts *opts, size_t n_jobs, PipeDiagList *diags)
{
  if (n_jobs == 0)
    return PIPE_OK;
  Pool p = {.o = opts, .n_jobs = n_jobs};
  p.n_workers = opts->workers < 1 ? 1 : opts->workers;
  if ((size_t)p.n_workers > n_jobs)
    p.n_workers = (int)n_jobs;
  p.w = pipe_xcalloc((size_t)p.n_workers, sizeof(Worker));
  struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
  sigaction(SIGPIPE, &ign, &old_pipe);
  PipeStatus st = pool_loop(&p, diags);
  for (int i = 0; i < p.n_workers; i++)
    if (p.w[i].pid)
      worker_end(&p, i, st != PIPE_OK); /* idle workers leave on EOF of their job pipe */
  sigaction(SIGPIPE, &old_pipe, NULL);
  free(p.w);
  free(p.rbuf);
  return st;
}
