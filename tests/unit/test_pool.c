/* test_pool.c: the worker pool must survive hostile jobs (crashes, aborts, exits, hangs, noise, huge results), report
 * each job exactly once with the right outcome, and leave no processes behind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pipeline/perf.h"
#include "plugins/pool.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum { J_OK, J_SEGV, J_ABRT, J_EXIT7, J_HANG, J_NOISY, J_HUGE, J_CLOSE_JOB_PIPE, J_HOG, J_FLOOD } JobKind;

#define MAX_JOBS 64
#define HUGE_LEN (1024u * 1024u)
#define NOISE_LINES 2000
#define FLOOD_BYTES (3u * 1024 * 1024 + 17) /* far more than a pipe holds */

/* The job table: workers inherit it at fork. */
static JobKind g_kind[MAX_JOBS];
/* Set by child_init in a worker; 0 in the parent. */
static pid_t g_init_pid;

typedef struct {
  int calls;
  PlugJobOutcome outcome;
  int signal, exit_code;
  char *payload;
  size_t len;
  double ms;
  unsigned long rss_mib;
  unsigned long long output;
  bool truncated;
} Record;

static Record g_rec[MAX_JOBS];
static int g_total_done;

static void reset_records(void)
{
  for (size_t i = 0; i < MAX_JOBS; i++) {
    free(g_rec[i].payload);
    memset(&g_rec[i], 0, sizeof g_rec[i]);
  }
  g_total_done = 0;
}

static char huge_byte(size_t job, size_t k)
{
  return (char)('a' + (k * 7 + job) % 26);
}

static void child_init(void *ctx)
{
  (void)ctx;
  g_init_pid = getpid();
  /* Straight to the fd: a worker that crashes in its first job never flushes stdio. */
  dprintf(STDOUT_FILENO, "INIT %d\n", (int)getpid());
}

static void append_ok(size_t job, PlugBuf *out)
{
  char text[128];
  int n = snprintf(text, sizeof text, "ok:%zu init=%d pid=%d", job, g_init_pid == getpid(), (int)getpid());
  plug_buf_append(out, text, (size_t)n);
}

static void run_job(void *ctx, size_t job, PlugBuf *out)
{
  (void)ctx;
  switch (g_kind[job]) {
  case J_OK: append_ok(job, out); return;
  case J_SEGV:
    signal(SIGSEGV, SIG_DFL); /* sanitizer builds install their own SEGV handler */
    raise(SIGSEGV);
    break;
  case J_ABRT: abort();
  case J_EXIT7: _exit(7);
  case J_HANG:
    for (;;)
      pause();
  case J_NOISY:
    for (int i = 0; i < NOISE_LINES; i++) {
      printf("NOISE-OUT-%d some text a plugin prints on stdout\n", i);
      fprintf(stderr, "NOISE-ERR-%d some text a plugin prints on stderr\n", i);
    }
    append_ok(job, out);
    return;
  case J_CLOSE_JOB_PIPE:
    /* Closes the worker's end of its job pipe (the only read-only pipe it holds), then answers normally: the worker
     * leaves on its next read, so it is dead between jobs and the next dispatch to it fails. */
    for (int fd = 3; fd < 256; fd++) {
      struct stat sb;
      int fl = fcntl(fd, F_GETFL);
      if (fl >= 0 && (fl & O_ACCMODE) == O_RDONLY && fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode))
        close(fd);
    }
    append_ok(job, out);
    return;
  case J_HOG: /* touches up to 1 GiB, 8 MiB at a time, then waits: the memory limit must stop it first */
    for (int i = 0; i < 128; i++) {
      char *p = malloc(8u << 20);
      if (!p)
        break;
      memset(p, i + 1, 8u << 20);
    }
    for (;;)
      pause();
  case J_FLOOD: {
    char chunk[4096];
    memset(chunk, 'f', sizeof chunk);
    for (size_t k = 0; k < FLOOD_BYTES; k += sizeof chunk)
      fwrite(chunk, 1, FLOOD_BYTES - k < sizeof chunk ? FLOOD_BYTES - k : sizeof chunk, stdout);
    append_ok(job, out);
    return;
  }
  case J_HUGE: {
    char chunk[4096];
    for (size_t k = 0; k < HUGE_LEN; k += sizeof chunk) {
      for (size_t j = 0; j < sizeof chunk; j++)
        chunk[j] = huge_byte(job, k + j);
      plug_buf_append(out, chunk, sizeof chunk);
    }
    return;
  }
  }
  _exit(99); /* not reached */
}

static void on_done(void *ctx, size_t job, const PlugJobResult *res)
{
  (void)ctx;
  assert_true(job < MAX_JOBS);
  Record *r = &g_rec[job];
  r->calls++;
  g_total_done++;
  r->outcome = res->outcome;
  r->signal = res->signal;
  r->exit_code = res->exit_code;
  r->ms = res->ms;
  r->rss_mib = res->rss_mib;
  r->output = res->output;
  r->truncated = res->output_truncated;
  r->len = res->payload_len;
  free(r->payload);
  r->payload = NULL;
  if (res->outcome == PLUG_JOB_OK) {
    assert_non_null(res->payload);
    assert_int_equal(res->payload[res->payload_len], '\0');
    r->payload = malloc(res->payload_len + 1);
    memcpy(r->payload, res->payload, res->payload_len + 1);
  }
}

static PlugPoolOpts opts_for(int workers, double timeout_s, int output_fd)
{
  return (PlugPoolOpts){.workers = workers,
                        .timeout_s = timeout_s,
                        .output_fd = output_fd,
                        .child_init = child_init,
                        .run = run_job,
                        .done = on_done,
                        .ctx = NULL};
}

/* A good job's payload names its own index, and child_init ran in the worker that produced it. Returns the pid. */
static int check_ok_payload(size_t job)
{
  const Record *r = &g_rec[job];
  if (r->calls != 1 || r->outcome != PLUG_JOB_OK)
    fail_msg("job %zu: %d calls, outcome %d; expected one OK", job, r->calls, (int)r->outcome);
  size_t got_job = 0;
  int init = -1, pid = 0;
  if (sscanf(r->payload, "ok:%zu init=%d pid=%d", &got_job, &init, &pid) != 3)
    fail_msg("job %zu: payload '%.80s'", job, r->payload);
  assert_int_equal(got_job, job);
  assert_int_equal(init, 1);
  assert_int_equal(r->len, strlen(r->payload));
  assert_true(pid > 0 && pid != (int)getpid());
  return pid;
}

static void assert_no_children(void)
{
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static int make_output_file(char **path)
{
  char *dir = tu_tempdir();
  *path = malloc(strlen(dir) + 16);
  sprintf(*path, "%s/out.log", dir);
  free(dir);
  int fd = open(*path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  return fd;
}

static void remove_output_file(char *path)
{
  unlink(path);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  rmdir(path);
  free(path);
}

static void test_hostile_jobs(void **state)
{
  (void)state;
  reset_records();
  /* 20 good jobs with the hostile ones mixed in. */
  static const struct {
    size_t at;
    JobKind kind;
  } hostile[] = {{1, J_SEGV}, {4, J_NOISY}, {7, J_ABRT}, {11, J_HANG}, {14, J_HUGE}, {18, J_EXIT7}};
  const size_t n_hostile = sizeof hostile / sizeof hostile[0];
  const size_t n_jobs = 20 + n_hostile;
  for (size_t i = 0; i < n_jobs; i++)
    g_kind[i] = J_OK;
  for (size_t h = 0; h < n_hostile; h++)
    g_kind[hostile[h].at] = hostile[h].kind;

  char *log = NULL;
  int fd = make_output_file(&log);
  PlugPoolOpts o = opts_for(2, 0.5, fd);
  PipeDiagList *diags = pipe_diags_new();

  struct sigaction dfl = {.sa_handler = SIG_DFL}, old, after;
  sigaction(SIGPIPE, &dfl, &old);
  /* Watchdog: a pool that never enforces its deadline would otherwise hang the suite (alarms are not inherited by
   * forked workers). */
  alarm(60);
  uint64_t t0 = pipe_now_ns();
  PipeStatus st = plug_pool_run(&o, n_jobs, diags);
  double secs = (double)(pipe_now_ns() - t0) / 1e9;
  alarm(0);
  sigaction(SIGPIPE, NULL, &after);
  sigaction(SIGPIPE, &old, NULL);
  close(fd);

  assert_int_equal(st, PIPE_OK);
  assert_int_equal(pipe_diags_count(diags), 0);
  /* The caller's SIGPIPE disposition is given back. */
  assert_true(after.sa_handler == SIG_DFL);
  /* Sanity bound, not a benchmark: the hung job costs its 0.5 s, everything else is quick. */
  if (secs >= 10)
    fail_msg("run took %.1f s", secs);
  assert_no_children();

  /* Every job reported exactly once. */
  assert_int_equal(g_total_done, (int)n_jobs);
  for (size_t i = 0; i < n_jobs; i++)
    if (g_rec[i].calls != 1)
      fail_msg("job %zu reported %d times", i, g_rec[i].calls);

  int pids[MAX_JOBS], n_pids = 0;
  for (size_t i = 0; i < n_jobs; i++) {
    const Record *r = &g_rec[i];
    switch (g_kind[i]) {
    case J_OK:
    case J_CLOSE_JOB_PIPE: /* these three are not used in this run */
    case J_HOG:
    case J_FLOOD:
    case J_NOISY: {
      pids[n_pids++] = check_ok_payload(i);
      break;
    }
    case J_SEGV:
      assert_int_equal(r->outcome, PLUG_JOB_CRASHED);
      assert_int_equal(r->signal, SIGSEGV);
      break;
    case J_ABRT:
      assert_int_equal(r->outcome, PLUG_JOB_CRASHED);
      assert_int_equal(r->signal, SIGABRT);
      break;
    case J_EXIT7:
      assert_int_equal(r->outcome, PLUG_JOB_EXITED);
      assert_int_equal(r->exit_code, 7);
      break;
    case J_HANG:
      assert_int_equal(r->outcome, PLUG_JOB_TIMEOUT);
      /* Killed at its deadline: not before, and not long after. */
      if (r->ms < 450 || r->ms > 1250)
        fail_msg("hung job ended after %.0f ms, expected about 500", r->ms);
      break;
    case J_HUGE:
      assert_int_equal(r->outcome, PLUG_JOB_OK);
      assert_int_equal(r->len, HUGE_LEN);
      for (size_t k = 0; k < HUGE_LEN; k++)
        if (r->payload[k] != huge_byte(i, k))
          fail_msg("huge payload differs at byte %zu", k);
      break;
    }
    if (r->outcome != PLUG_JOB_OK) {
      assert_null(r->payload);
      assert_int_equal(r->len, 0);
    }
    assert_true(r->ms >= 0);
  }

  /* The noisy job's output went to the log, not into its result. */
  const char *noisy = g_rec[4].payload;
  assert_null(strstr(noisy, "NOISE"));
  size_t log_len = 0;
  char *text = tu_read_file(log, &log_len);
  assert_non_null(text);
  char line[64];
  snprintf(line, sizeof line, "NOISE-OUT-%d ", NOISE_LINES - 1);
  assert_non_null(strstr(text, "NOISE-OUT-0 "));
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "NOISE-ERR-%d ", NOISE_LINES - 1);
  assert_non_null(strstr(text, "NOISE-ERR-0 "));
  assert_non_null(strstr(text, line));

  /* child_init ran once in each worker: two, plus one replacement for each job that ended its worker while jobs were
   * left to dispatch. The segfault, abort and exit happen early enough for that to be certain; the hung job may be
   * the last one running when its deadline comes. Every good result came from one of those workers. */
  int init_pids[MAX_JOBS], n_init = 0;
  for (const char *p = strstr(text, "INIT "); p; p = strstr(p + 1, "INIT ")) {
    assert_true(n_init < MAX_JOBS);
    init_pids[n_init++] = atoi(p + 5);
  }
  if (n_init < 2 + 3 || n_init > 2 + 4)
    fail_msg("%d workers started, expected 5 or 6", n_init);
  for (int a = 0; a < n_init; a++)
    for (int b = 0; b < a; b++)
      assert_int_not_equal(init_pids[a], init_pids[b]);
  for (int k = 0; k < n_pids; k++) {
    bool known = false;
    for (int a = 0; a < n_init; a++)
      known |= pids[k] == init_pids[a];
    if (!known)
      fail_msg("a result came from pid %d, which child_init never saw", pids[k]);
  }
  /* The pool in the parent never runs child_init itself. */
  assert_int_equal(g_init_pid, 0);

  free(text);
  remove_output_file(log);
  pipe_diags_free(diags);
  reset_records();
}

static void test_workers_reused(void **state)
{
  (void)state;
  reset_records();
  const size_t n_jobs = 10;
  for (size_t i = 0; i < n_jobs; i++)
    g_kind[i] = J_OK;
  PlugPoolOpts o = opts_for(1, 5, -1);
  assert_int_equal(plug_pool_run(&o, n_jobs, NULL), PIPE_OK);
  assert_no_children();
  /* One worker serves every job, in order. */
  int pid0 = check_ok_payload(0);
  for (size_t i = 1; i < n_jobs; i++)
    assert_int_equal(check_ok_payload(i), pid0);
  reset_records();
}

static void test_more_workers_than_jobs(void **state)
{
  (void)state;
  reset_records();
  const size_t n_jobs = 3;
  for (size_t i = 0; i < n_jobs; i++)
    g_kind[i] = J_OK;
  char *log = NULL;
  int fd = make_output_file(&log);
  PlugPoolOpts o = opts_for(8, 5, fd);
  assert_int_equal(plug_pool_run(&o, n_jobs, NULL), PIPE_OK);
  close(fd);
  assert_no_children();
  assert_int_equal(g_total_done, (int)n_jobs);
  for (size_t i = 0; i < n_jobs; i++)
    check_ok_payload(i);
  /* No more workers than jobs are started. */
  char *text = tu_read_file(log, NULL);
  int n_init = 0;
  for (const char *p = strstr(text, "INIT "); p; p = strstr(p + 1, "INIT "))
    n_init++;
  assert_true(n_init >= 1 && n_init <= (int)n_jobs);
  free(text);
  remove_output_file(log);
  reset_records();
}

static void test_no_jobs(void **state)
{
  (void)state;
  reset_records();
  char *log = NULL;
  int fd = make_output_file(&log);
  PlugPoolOpts o = opts_for(4, 1, fd);
  PipeDiagList *diags = pipe_diags_new();
  assert_int_equal(plug_pool_run(&o, 0, diags), PIPE_OK);
  close(fd);
  assert_int_equal(g_total_done, 0);
  assert_int_equal(pipe_diags_count(diags), 0);
  /* No worker was started: nothing ran child_init. */
  size_t len = 99;
  char *text = tu_read_file(log, &len);
  assert_int_equal(len, 0);
  free(text);
  assert_no_children();
  remove_output_file(log);
  pipe_diags_free(diags);
}

static void test_noise_to_dev_null(void **state)
{
  (void)state;
  reset_records();
  g_kind[0] = J_NOISY;
  g_kind[1] = J_OK;
  PlugPoolOpts o = opts_for(2, 5, -1);
  assert_int_equal(plug_pool_run(&o, 2, NULL), PIPE_OK);
  assert_no_children();
  check_ok_payload(0);
  check_ok_payload(1);
  assert_null(strstr(g_rec[0].payload, "NOISE"));
  reset_records();
}

static void test_crash_with_one_worker(void **state)
{
  (void)state;
  /* A lone worker that keeps dying: every job is still reported, and the good ones after it still run. */
  reset_records();
  const JobKind kinds[] = {J_SEGV, J_SEGV, J_OK, J_EXIT7, J_ABRT, J_OK};
  const size_t n_jobs = sizeof kinds / sizeof kinds[0];
  for (size_t i = 0; i < n_jobs; i++)
    g_kind[i] = kinds[i];
  PlugPoolOpts o = opts_for(1, 5, -1);
  assert_int_equal(plug_pool_run(&o, n_jobs, NULL), PIPE_OK);
  assert_no_children();
  assert_int_equal(g_total_done, (int)n_jobs);
  assert_int_equal(g_rec[0].outcome, PLUG_JOB_CRASHED);
  assert_int_equal(g_rec[1].outcome, PLUG_JOB_CRASHED);
  assert_int_equal(g_rec[1].signal, SIGSEGV);
  check_ok_payload(2);
  assert_int_equal(g_rec[3].outcome, PLUG_JOB_EXITED);
  assert_int_equal(g_rec[3].exit_code, 7);
  assert_int_equal(g_rec[4].outcome, PLUG_JOB_CRASHED);
  assert_int_equal(g_rec[4].signal, SIGABRT);
  check_ok_payload(5);
  reset_records();
}

static void test_worker_dead_between_jobs(void **state)
{
  (void)state;
  /* With one worker that dies between jobs, the next job must go to a new worker (a regression: the pool used to
   * poll() an empty set forever). The alarm turns a hang into a failure. */
  reset_records();
  const JobKind kinds[] = {J_CLOSE_JOB_PIPE, J_OK, J_CLOSE_JOB_PIPE, J_OK};
  const size_t n_jobs = sizeof kinds / sizeof kinds[0];
  for (size_t i = 0; i < n_jobs; i++)
    g_kind[i] = kinds[i];
  PlugPoolOpts o = opts_for(1, 5, -1);
  alarm(30);
  PipeStatus st = plug_pool_run(&o, n_jobs, NULL);
  alarm(0);
  assert_int_equal(st, PIPE_OK);
  assert_no_children();
  assert_int_equal(g_total_done, (int)n_jobs);
  int pid[4];
  for (size_t i = 0; i < n_jobs; i++)
    pid[i] = check_ok_payload(i);
  assert_int_not_equal(pid[1], pid[0]);
  assert_int_not_equal(pid[3], pid[2]);
  reset_records();
}

static void test_jobs_per_worker(void **state)
{
  (void)state;
  const size_t n_jobs = 6;
  for (size_t i = 0; i < n_jobs; i++)
    g_kind[i] = J_OK;
  /* 1: every job in a fresh process. */
  reset_records();
  PlugPoolOpts o = opts_for(1, 5, -1);
  o.jobs_per_worker = 1;
  assert_int_equal(plug_pool_run(&o, n_jobs, NULL), PIPE_OK);
  assert_no_children();
  int pid[6];
  for (size_t i = 0; i < n_jobs; i++) {
    pid[i] = check_ok_payload(i);
    for (size_t k = 0; k < i; k++)
      assert_int_not_equal(pid[i], pid[k]);
  }
  /* 2: pairs of jobs share a worker (one worker, so jobs run in order). */
  reset_records();
  o.jobs_per_worker = 2;
  assert_int_equal(plug_pool_run(&o, n_jobs, NULL), PIPE_OK);
  assert_no_children();
  for (size_t i = 0; i < n_jobs; i++)
    pid[i] = check_ok_payload(i);
  for (size_t i = 0; i < n_jobs; i += 2) {
    assert_int_equal(pid[i], pid[i + 1]);
    if (i)
      assert_int_not_equal(pid[i], pid[i - 1]);
  }
  reset_records();
}

static void test_memory_limit(void **state)
{
  (void)state;
  /* A job that eats memory is killed at the limit and reported as such; the jobs around it are not disturbed. */
  reset_records();
  const JobKind kinds[] = {J_OK, J_HOG, J_OK};
  for (size_t i = 0; i < 3; i++)
    g_kind[i] = kinds[i];
  PlugPoolOpts o = opts_for(1, 20, -1);
  o.memory_limit_mib = 192;
  assert_int_equal(plug_pool_run(&o, 3, NULL), PIPE_OK);
  assert_no_children();
  check_ok_payload(0);
  assert_int_equal(g_rec[1].calls, 1);
  assert_int_equal(g_rec[1].outcome, PLUG_JOB_MEMORY);
  assert_true(g_rec[1].rss_mib > 192);
  assert_true(g_rec[1].rss_mib < 1024); /* stopped on the way, not after taking it all */
  assert_true(g_rec[1].ms < 10000);     /* by the memory check, not the timeout */
  check_ok_payload(2);
  char *detail = NULL;
  PlugJobResult r = {.outcome = PLUG_JOB_MEMORY, .rss_mib = 300};
  assert_string_equal(plug_job_failure(&r, 5, &detail), "memory-limit");
  assert_non_null(strstr(detail, "300 MiB"));
  free(detail);
  reset_records();
}

static const char *label_of(void *ctx, size_t job)
{
  (void)ctx;
  static const char *names[] = {"urn:job:zero", "urn:job:one", "urn:job:two"};
  return job < 3 ? names[job] : NULL;
}

static void test_output_limit(void **state)
{
  (void)state;
  /* A job that floods its output: the worker is never stuck on a full pipe, the log keeps the first output_limit
   * bytes under the job's label and says where it was cut, and the result says how much was written. */
  reset_records();
  const JobKind kinds[] = {J_FLOOD, J_NOISY, J_OK};
  for (size_t i = 0; i < 3; i++)
    g_kind[i] = kinds[i];
  char *log = NULL;
  int fd = make_output_file(&log);
  PlugPoolOpts o = opts_for(1, 20, fd);
  o.output_limit = 512 * 1024; /* the noisy job writes ~200 KiB */
  o.label = label_of;
  assert_int_equal(plug_pool_run(&o, 3, NULL), PIPE_OK);
  close(fd);
  assert_no_children();
  for (size_t i = 0; i < 3; i++)
    check_ok_payload(i);
  assert_true(g_rec[0].truncated);
  assert_true(g_rec[0].output >= FLOOD_BYTES); /* the flood, plus child_init's INIT line */
  assert_false(g_rec[1].truncated);
  assert_true(g_rec[1].output > 0);
  size_t len = 0;
  char *text = tu_read_file(log, &len);
  char *zero = strstr(text, "== urn:job:zero ==\n"), *one = strstr(text, "== urn:job:one ==\n");
  assert_non_null(zero);
  assert_non_null(one);
  assert_true(zero < one);
  char *cut = strstr(text, "[ctrlmap: output cut here, after 524288 bytes]");
  assert_true(cut && cut < one);
  assert_non_null(strstr(one, "NOISE-OUT-1999"));
  assert_true(len < 512 * 1024 + 2 * 2000 * 64 + 1024); /* the flood's first 512 KiB and the noisy job */
  free(text);
  remove_output_file(log);
  reset_records();
}

static void test_signal_names(void **state)
{
  (void)state;
  assert_string_equal(plug_signal_name(SIGSEGV), "SIGSEGV");
  assert_string_equal(plug_signal_name(SIGABRT), "SIGABRT");
  assert_string_equal(plug_signal_name(SIGKILL), "SIGKILL");
  const char *bogus = plug_signal_name(12345);
  assert_non_null(bogus);
  assert_non_null(strstr(bogus, "12345"));
}

static void test_plug_buf(void **state)
{
  (void)state;
  PlugBuf b = {0};
  plug_buf_append(&b, "", 0);
  assert_non_null(b.data);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.data, "");
  for (int i = 0; i < 1000; i++)
    plug_buf_append(&b, "abc", 3);
  assert_int_equal(b.len, 3000);
  assert_true(b.cap > b.len);
  assert_int_equal(b.data[3000], '\0');
  assert_memory_equal(b.data + 2997, "abc", 3);
  free(b.data);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hostile_jobs),
      cmocka_unit_test(test_workers_reused),
      cmocka_unit_test(test_more_workers_than_jobs),
      cmocka_unit_test(test_no_jobs),
      cmocka_unit_test(test_noise_to_dev_null),
      cmocka_unit_test(test_crash_with_one_worker),
      cmocka_unit_test(test_worker_dead_between_jobs),
      cmocka_unit_test(test_jobs_per_worker),
      cmocka_unit_test(test_memory_limit),
      cmocka_unit_test(test_output_limit),
      cmocka_unit_test(test_signal_names),
      cmocka_unit_test(test_plug_buf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
