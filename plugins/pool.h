/* pool.h (internal to plugins/): a pool of forked worker processes that run jobs in isolation. A job that crashes
 * its worker or overruns its deadline is reported and the worker replaced; the run goes on. */
#ifndef CTRLMAP_PLUG_POOL_H
#define CTRLMAP_PLUG_POOL_H

#include "../pipeline/diag.h"
#include "../pipeline/status.h"

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>

typedef enum {
  PLUG_JOB_OK,      /* the worker returned a result (the payload) */
  PLUG_JOB_CRASHED, /* killed by a signal (res.signal) */
  PLUG_JOB_EXITED,  /* exited (res.exit_code) while running the job */
  PLUG_JOB_TIMEOUT, /* overran the deadline and was killed */
  PLUG_JOB_MEMORY,  /* went over the memory limit and was killed (res.rss_mib) */
  PLUG_JOB_PROTOCOL /* sent something that is not a result */
} PlugJobOutcome;

typedef struct {
  PlugJobOutcome outcome;
  int signal;
  int exit_code;
  const char *payload; /* borrowed; NUL-terminated; only for PLUG_JOB_OK */
  size_t payload_len;
  double ms;                 /* wall time from dispatch to result */
  unsigned long rss_mib;     /* PLUG_JOB_MEMORY: the resident size seen when the worker was killed */
  unsigned long long output; /* bytes the job wrote to stdout and stderr */
  bool output_truncated;     /* more than PlugPoolOpts.output_limit: the log holds only the first part */
} PlugJobResult;

/* A job's result text, built in the worker. */
typedef struct {
  char *data;
  size_t len, cap;
} PlugBuf;

void plug_buf_append(PlugBuf *buf, const char *data, size_t len);
/* Appends `value` as compact JSON and releases it. */
void plug_buf_append_json(PlugBuf *buf, json_t *value);

/* How a failed job ended, for reports: returns a status word ("crashed", "timeout", "memory-limit", "error") and sets
 * *detail to an owned explanation ("SIGSEGV", "no answer within 5 s", "exit status 1 from the worker"). */
const char *plug_job_failure(const PlugJobResult *r, double timeout_s, char **detail);

typedef struct {
  int workers;      /* > 0 */
  double timeout_s; /* per job; > 0 */
  /* The workers' stdout and stderr come back to the parent through a pipe, which appends each job's output to
   * output_fd under a "== label ==" line, keeping at most output_limit bytes per job (0: 1 MiB): a plugin that
   * floods its output cannot fill the disk or stall the run. output_fd -1: the output is counted, not kept. */
  int output_fd;
  size_t output_limit;
  /* Name of job `job` for the log (a plugin URI). May be NULL: "job N". */
  const char *(*label)(void *ctx, size_t job);
  /* > 0: a worker whose resident memory goes over this many MiB is killed (checked every few milliseconds, so a
   * very fast allocator can go a little over before it is stopped); the job ends as PLUG_JOB_MEMORY. */
  unsigned long memory_limit_mib;
  int jobs_per_worker; /* > 0: a worker is replaced after this many jobs (1: every job in a fresh process) */
  /* In a new worker, once, after fork. May be NULL. */
  void (*child_init)(void *ctx);
  /* In a worker: runs job `job` and appends its result text to `out`. */
  void (*run)(void *ctx, size_t job, PlugBuf *out);
  /* In the parent, in completion order. */
  void (*done)(void *ctx, size_t job, const PlugJobResult *res);
  void *ctx;
} PlugPoolOpts;

/* Runs jobs 0..n_jobs-1. Jobs reach workers by index, so the job table must be in memory before the call (workers
 * inherit it at fork). Returns PIPE_ERR_CHILD only when no worker can be started at all. */
PipeStatus plug_pool_run(const PlugPoolOpts *opts, size_t n_jobs, PipeDiagList *diags);

/* "SIGSEGV" for SIGSEGV...: a string literal for the usual signals; for others ("SIGUSR1", "signal 99") a
 * per-thread buffer valid until the next such call. */
const char *plug_signal_name(int sig);

#endif
