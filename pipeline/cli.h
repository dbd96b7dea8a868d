/* cli.h: command-line options. Parsing is a pure function from argv to a PipeOptions, checked against the options a
 * command accepts, so every accepted and refused command line can be unit-tested without running anything. */
#ifndef CTRLMAP_CLI_H
#define CTRLMAP_CLI_H

#include "diag.h"
#include "status.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum { PIPE_FMT_TABLE, PIPE_FMT_JSON } PipeFormat;

/* Every option any command takes. A command lists the ones it accepts (PipeOptionId bits). */
typedef enum {
  PIPE_OPT_HELP = 1u << 0,
  PIPE_OPT_CACHE_DIR = 1u << 1,
  PIPE_OPT_LV2_PATH = 1u << 2,
  PIPE_OPT_JOBS = 1u << 3,
  PIPE_OPT_TIMEOUT = 1u << 4,
  PIPE_OPT_FORCE = 1u << 5,
  PIPE_OPT_FORMAT = 1u << 6,
  PIPE_OPT_PLUGIN = 1u << 7,
  PIPE_OPT_STRICT = 1u << 8,
  PIPE_OPT_PERFORMANCE = 1u << 9,
  PIPE_OPT_PERF_JSON = 1u << 10,
  PIPE_OPT_LOCK_TIMEOUT = 1u << 11,
  PIPE_OPT_ENGINE = 1u << 12,
  PIPE_OPT_DEVICE = 1u << 13,
  PIPE_OPT_OUT = 1u << 14,
  PIPE_OPT_ROUTE = 1u << 15,
  PIPE_OPT_PLUGIN_POSITION = 1u << 16,
  PIPE_OPT_INSTALL = 1u << 17,
  PIPE_OPT_ARDOUR_DIR = 1u << 18,
  PIPE_OPT_BUDGET = 1u << 19,
  PIPE_OPT_MEMORY_LIMIT = 1u << 20
} PipeOptionId;

/* The default --memory-limit: far above what any Debian plugin needs to instantiate (see README), far below what
 * would push a studio machine into swap. */
#define PIPE_MEMORY_LIMIT_MIB 2048

typedef struct {
  unsigned seen; /* PipeOptionId bits given on the command line */
  const char *cache_dir, *lv2_path, *plugin, *perf_json, *device, *out_dir, *route, *ardour_dir, *budget;
  int jobs, plugin_position;
  double timeout_s;
  unsigned long memory_limit_mib; /* default PIPE_MEMORY_LIMIT_MIB; 0: none */
  int lock_timeout_ms;
  bool force, strict, performance, help, install;
  bool engine_lilv; /* --engine lilv */
  PipeFormat format;
  char **args; /* positional arguments (borrowed from argv) */
  int n_args;
} PipeOptions;

/* Parses argv[0..argc) (the words after the command name). `accepted` is the set of PipeOptionId bits, `max_args`
 * the number of positional arguments allowed (-1: any). On error, a diagnostic says what was wrong and what was
 * expected, and PIPE_ERR_USAGE is returned. `opts->args` must be freed with pipe_options_release. */
PipeStatus pipe_options_parse(int argc, char **argv, unsigned accepted, int max_args, PipeOptions *opts,
                              PipeDiagList *diags);
void pipe_options_release(PipeOptions *opts);

/* Prints the "Options:" block for the accepted set (used by generated help). */
void pipe_options_help(unsigned accepted, FILE *out);
/* The same as man-page (troff) paragraphs. */
void pipe_options_man(unsigned accepted, FILE *out);
/* For shell completion: the long option names of the accepted set, space-separated, into `out`. */
void pipe_options_names(unsigned accepted, FILE *out);

#endif
