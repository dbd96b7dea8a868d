/* perf.h: --performance figures: per-phase wall and CPU time, per-item percentiles, cache hits, peak memory. */
#ifndef CTRLMAP_PERF_H
#define CTRLMAP_PERF_H

#include "diag.h"
#include "status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct PipePerf PipePerf;

/* Monotonic clock in nanoseconds. */
uint64_t pipe_now_ns(void);

PipePerf *pipe_perf_new(const char *command);
void pipe_perf_free(PipePerf *perf); /* NULL is a no-op */

/* Starts a phase and returns its handle. Phases may not nest. */
int pipe_perf_phase_begin(PipePerf *perf, const char *name);
void pipe_perf_phase_end(PipePerf *perf, int phase);
/* One item of work done in the phase (a plugin, a map): its duration and whether it succeeded. */
void pipe_perf_item(PipePerf *perf, int phase, double ms, bool ok);
void pipe_perf_cache(PipePerf *perf, int phase, size_t hits, size_t misses);

/* Linear-interpolated percentile (p in 0..100) of n ascending values; 0 for n == 0. */
double pipe_percentile(const double *sorted, size_t n, double p);

/* The report as a human table, and as JSON (schemas/performance-report.schema.json). */
void pipe_perf_print(const PipePerf *perf, FILE *out);
json_t *pipe_perf_json(const PipePerf *perf); /* owned (one reference) */
PipeStatus pipe_perf_write_json(const PipePerf *perf, const char *path, PipeDiagList *diags);

/* Compares the report with a budget ({"commands": {CMD: {wall_ms, peak_rss_kib, phases: {NAME: {wall_ms}}}}}):
 * each breach becomes a warning diagnostic (code "perf-budget"). Returns the number of breaches. */
size_t pipe_perf_check_budget(const PipePerf *perf, json_t *budget, PipeDiagList *diags);

#endif
