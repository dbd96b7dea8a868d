/* perf.c: timing and memory figures for --performance. */
#include "perf.h"

#include "fsx.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
  char *name;
  uint64_t wall_start, wall_ns;
  double cpu_start, cpu_ms;
  double *items;
  size_t n_items, cap_items, n_failed;
  size_t hits, misses;
  bool has_cache;
} Phase;

struct PipePerf {
  char *command;
  uint64_t start;
  Phase *phases;
  size_t n, cap;
};

uint64_t pipe_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process and of its reaped children (the worker pool), in ms. */
static double cpu_ms_now(void)
{
  struct rusage self, kids;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  double us = 0;
  const struct rusage *r[2] = {&self, &kids};
  for (int i = 0; i < 2; i++)
    us += (double)(r[i]->ru_utime.tv_sec + r[i]->ru_stime.tv_sec) * 1e6 +
          (double)(r[i]->ru_utime.tv_usec + r[i]->ru_stime.tv_usec);
  return us / 1000.0;
}

PipePerf *pipe_perf_new(const char *command)
{
  PipePerf *perf = pipe_xcalloc(1, sizeof(PipePerf));
  perf->command = pipe_xstrdup(command);
  perf->start = pipe_now_ns();
  return perf;
}

void pipe_perf_free(PipePerf *perf)
{
  if (!perf)
    return;
  for (size_t i = 0; i < perf->n; i++) {
    free(perf->phases[i].name);
    free(perf->phases[i].items);
  }
  free(perf->phases);
  free(perf->command);
  free(perf);
}

int pipe_perf_phase_begin(PipePerf *perf, const char *name)
{
  if (!perf)
    return -1;
  pipe_grow((void **)&perf->phases, &perf->cap, perf->n + 1, sizeof(Phase));
  Phase *ph = &perf->phases[perf->n];
  memset(ph, 0, sizeof *ph);
  ph->name = pipe_xstrdup(name);
  ph->wall_start = pipe_now_ns();
  ph->cpu_start = cpu_ms_now();
  return (int)perf->n++;
}

static Phase *phase_at(PipePerf *perf, int phase)
{
  return perf && phase >= 0 && (size_t)phase < perf->n ? &perf->phases[phase] : NULL;
}

void pipe_perf_phase_end(PipePerf *perf, int phase)
{
  Phase *ph = phase_at(perf, phase);
  if (!ph)
    return;
  ph->wall_ns = pipe_now_ns() - ph->wall_start;
  ph->cpu_ms = cpu_ms_now() - ph->cpu_start;
}

void pipe_perf_item(PipePerf *perf, int phase, double ms, bool ok)
{
  Phase *ph = phase_at(perf, phase);
  if (!ph)
    return;
  pipe_grow((void **)&ph->items, &ph->cap_items, ph->n_items + 1, sizeof(double));
  ph->items[ph->n_items++] = ms;
  ph->n_failed += !ok;
}

void pipe_perf_cache(PipePerf *perf, int phase, size_t hits, size_t misses)
{
  Phase *ph = phase_at(perf, phase);
  if (!ph)
    return;
  ph->hits += hits;
  ph->misses += misses;
  ph->has_cache = true;
}

double pipe_percentile(const double *sorted, size_t n, double p)
{
  if (n == 0)
    return 0;
  double rank = p / 100.0 * (double)(n - 1);
  size_t lo = (size_t)rank;
  if (lo + 1 >= n)
    return sorted[n - 1];
  double frac = rank - (double)lo;
  return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct {
  double wall_ms, cpu_ms, p50, p95, p99, max, rate, error_rate, hit_ratio;
} PhaseFigures;

static PhaseFigures figures(const Phase *ph)
{
  PhaseFigures f = {0};
  f.wall_ms = (double)ph->wall_ns / 1e6;
  f.cpu_ms = ph->cpu_ms;
  double *s = pipe_xmalloc((ph->n_items + 1) * sizeof(double));
  if (ph->n_items) /* items is NULL in a phase without items: memcpy(s, NULL, 0) is undefined */
    memcpy(s, ph->items, ph->n_items * sizeof(double));
  qsort(s, ph->n_items, sizeof(double), cmp_double);
  f.p50 = pipe_percentile(s, ph->n_items, 50);
  f.p95 = pipe_percentile(s, ph->n_items, 95);
  f.p99 = pipe_percentile(s, ph->n_items, 99);
  f.max = ph->n_items ? s[ph->n_items - 1] : 0;
  free(s);
  f.rate = f.wall_ms > 0 ? (double)ph->n_items / (f.wall_ms / 1000.0) : 0;
  f.error_rate = ph->n_items ? (double)ph->n_failed / (double)ph->n_items : 0;
  size_t lookups = ph->hits + ph->misses;
  f.hit_ratio = lookups ? (double)ph->hits / (double)lookups : 0;
  return f;
}

/* Peak resident set sizes in KiB: this process, and the largest reaped child. */
static void peak_rss(long *self_kib, long *child_kib)
{
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  *self_kib = r.ru_maxrss;
  getrusage(RUSAGE_CHILDREN, &r);
  *child_kib = r.ru_maxrss;
}

void pipe_perf_print(const PipePerf *perf, FILE *out)
{
  if (!perf)
    return;
  fprintf(out, "\nperformance: %s\n", perf->command);
  fprintf(out, "  %-10s %9s %9s %7s %9s %9s %9s %9s %9s %6s %s\n", "phase", "wall ms", "cpu ms", "items", "items/s",
          "p50 ms", "p95 ms", "p99 ms", "max ms", "err %", "cache hit/miss");
  for (size_t i = 0; i < perf->n; i++) {
    const Phase *ph = &perf->phases[i];
    PhaseFigures f = figures(ph);
    fprintf(out, "  %-10s %9.1f %9.1f %7zu %9.0f %9.2f %9.2f %9.2f %9.2f %6.1f ", ph->name, f.wall_ms, f.cpu_ms,
            ph->n_items, f.rate, f.p50, f.p95, f.p99, f.max, f.error_rate * 100);
    if (ph->has_cache)
      fprintf(out, "%zu/%zu (%.0f%%)\n", ph->hits, ph->misses, f.hit_ratio * 100);
    else
      fprintf(out, "-\n");
  }
  long self_kib, child_kib;
  peak_rss(&self_kib, &child_kib);
  fprintf(out, "  total wall %.1f ms; peak RSS %.1f MiB (ctrlmap), %.1f MiB (largest worker)\n",
          (double)(pipe_now_ns() - perf->start) / 1e6, self_kib / 1024.0, child_kib / 1024.0);
}

static json_t *phase_json(const Phase *ph)
{
  PhaseFigures f = figures(ph);
  json_t *o =
      json_pack("{s:s, s:f, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "name", ph->name, "wall_ms", f.wall_ms,
                "cpu_ms", f.cpu_ms, "items", (json_int_t)ph->n_items, "failed", (json_int_t)ph->n_failed, "items_per_s",
                f.rate, "p50_ms", f.p50, "p95_ms", f.p95, "p99_ms", f.p99, "max_ms", f.max, "error_rate", f.error_rate);
  if (ph->has_cache)
    json_object_set_new(o, "cache",
                        json_pack("{s:I, s:I, s:f}", "hits", (json_int_t)ph->hits, "misses", (json_int_t)ph->misses,
                                  "hit_ratio", f.hit_ratio));
  return o;
}

json_t *pipe_perf_json(const PipePerf *perf)
{
  long self_kib, child_kib;
  peak_rss(&self_kib, &child_kib);
  json_t *phases = json_array();
  for (size_t i = 0; i < perf->n; i++)
    json_array_append_new(phases, phase_json(&perf->phases[i]));
  return json_pack("{s:i, s:s, s:f, s:I, s:I, s:o}", "format", 1, "command", perf->command, "wall_ms",
                   (double)(pipe_now_ns() - perf->start) / 1e6, "peak_rss_kib", (json_int_t)self_kib,
                   "peak_worker_rss_kib", (json_int_t)child_kib, "phases", phases);
}

PipeStatus pipe_perf_write_json(const PipePerf *perf, const char *path, PipeDiagList *diags)
{
  json_t *j = pipe_perf_json(perf);
  char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
  json_decref(j);
  size_t len = strlen(s);
  s = pipe_xrealloc(s, len + 2);
  s[len] = '\n';
  PipeStatus st = pipe_fs_write_atomic(path, s, len + 1, false, diags);
  free(s);
  return st;
}

static size_t check_limit(const char *what, double value, json_t *limit, const char *unit, PipeDiagList *diags)
{
  if (!json_is_number(limit) || value <= json_number_value(limit))
    return 0;
  pipe_diag_add(diags, PIPE_SEV_WARNING, "perf-budget", NULL, 0, 0, "%s took %.1f %s, over its budget of %g %s", what,
                value, unit, json_number_value(limit), unit);
  return 1;
}

size_t pipe_perf_check_budget(const PipePerf *perf, json_t *budget, PipeDiagList *diags)
{
  json_t *b = json_object_get(json_object_get(budget, "commands"), perf->command);
  if (!b)
    return 0;
  long self_kib, child_kib;
  peak_rss(&self_kib, &child_kib);
  char what[160];
  snprintf(what, sizeof what, "%s", perf->command);
  size_t n = check_limit(what, (double)(pipe_now_ns() - perf->start) / 1e6, json_object_get(b, "wall_ms"), "ms", diags);
  if (json_is_number(json_object_get(b, "peak_rss_kib")) &&
      self_kib > json_integer_value(json_object_get(b, "peak_rss_kib"))) {
    pipe_diag_add(diags, PIPE_SEV_WARNING, "perf-budget", NULL, 0, 0,
                  "%s peaked at %ld KiB, over its budget of %lld KiB", perf->command, self_kib,
                  (long long)json_integer_value(json_object_get(b, "peak_rss_kib")));
    n++;
  }
  for (size_t i = 0; i < perf->n; i++) {
    json_t *pb = json_object_get(json_object_get(b, "phases"), perf->phases[i].name);
    snprintf(what, sizeof what, "%s phase %s", perf->command, perf->phases[i].name);
    n += check_limit(what, (double)perf->phases[i].wall_ns / 1e6, json_object_get(pb, "wall_ms"), "ms", diags);
  }
  return n;
}
