/* commands.h: the command table. Every command is one row; the dispatcher, `ctrlmap --help`, `ctrlmap CMD --help`
 * and shell completion are all generated from it. */
#ifndef CTRLMAP_COMMANDS_H
#define CTRLMAP_COMMANDS_H

#include "../cache/cache.h"
#include "../plugins/plug.h"
#include "cli.h"
#include "diag.h"
#include "perf.h"

#include <stdio.h>

/* Exit codes (README "Exit codes"). */
enum {
  PIPE_EXIT_OK = 0,
  PIPE_EXIT_FINDINGS = 1, /* the command ran and found problems */
  PIPE_EXIT_USAGE = 2,    /* bad command line */
  PIPE_EXIT_ENV = 3       /* the environment failed: cache unusable or locked, file system error */
};

/* What the dispatcher sets up for a handler, per the command's flags. */
enum {
  PIPE_CMD_CACHE_WRITE = 1u << 0,   /* open the cache locked for writing */
  PIPE_CMD_CACHE_READ = 1u << 1,    /* open the cache with a shared lock */
  PIPE_CMD_CACHE_OPTIONAL = 1u << 2 /* with READ: a missing cache is no error (ctx->store stays NULL) */
};

typedef struct {
  PipeOptions *opts;
  PipeDiagList *diags;
  PipePerf *perf; /* always present; printed only with --performance */
  CacheStore *store;
  char *cache_dir;
  FILE *out;
  bool tty;           /* stderr is a terminal: progress may be drawn */
  json_t *plug_index; /* the plugin index once a phase of this run brought it up to date (owned), else NULL */
} PipeCtx;

typedef struct PipeCommand {
  const char *name;
  int (*handler)(PipeCtx *ctx);
  unsigned flags;
  unsigned options; /* accepted PipeOptionId bits */
  int max_args;
  const char *args_usage; /* e.g. "[PATHS...]", or "" */
  const char *summary;
  const char *description; /* a paragraph for CMD --help */
} PipeCommand;

/* Runs ctrlmap with the process arguments; returns the exit code. */
int pipe_main(int argc, char **argv);

/* Draws a progress bar on stderr (only called when it is a terminal). */
void pipe_progress(void *ctx, size_t done, size_t total, const char *label);
void pipe_progress_end(PipeCtx *ctx);

/* Handlers (cmd_*.c). */
int pipe_cmd_plugins_extract(PipeCtx *ctx);
int pipe_cmd_plugins_list(PipeCtx *ctx);
int pipe_cmd_plugins_health(PipeCtx *ctx);
int pipe_cmd_maps_validate(PipeCtx *ctx);
int pipe_cmd_maps_check(PipeCtx *ctx);
int pipe_cmd_maps_list(PipeCtx *ctx);
int pipe_cmd_daw_generate(PipeCtx *ctx);
int pipe_cmd_daw_list(PipeCtx *ctx);
int pipe_cmd_workflow_complete(PipeCtx *ctx);
int pipe_cmd_workflow_health(PipeCtx *ctx);

/* A .map file's status for daw:list and workflow:health: "current", "stale", "orphan" or "foreign"; sets "map"
 * and "plugin" in `row` (cmd_daw.c). */
const char *pipe_daw_file_status(const char *path, json_t *index, json_t *row);
/* Appends a {file, where, status, map, plugin} row for every .map file in `dir` (cmd_daw.c). */
void pipe_daw_list_dir(const char *dir, const char *where, json_t *index, json_t *rows);

/* daw:generate's run (cmd_daw.c); with all_or_nothing, any failing map stops it before anything is written. */
int pipe_daw_generate(PipeCtx *ctx, bool all_or_nothing);

/* Shared by maps:check and daw:generate (cmd_maps.c): validates and checks the command line's maps. */
long pipe_maps_check_run(PipeCtx *ctx, bool with_bindings, bool print, json_t **rows, PipeDiagList *findings);
int pipe_maps_findings_exit(PipeCtx *ctx, const PipeDiagList *findings);
/* realpath(3) of `path`, or a copy of it when it has none; memoised (cmd_maps.c). Owned. */
char *pipe_real_path(const char *path);
/* Findings as a JSON array of {severity, code, file, line, column, message} (owned). */
json_t *pipe_findings_json(const PipeDiagList *diags);
/* The bindings maps:check recorded for a map (owned), or NULL. */
json_t *pipe_maps_load_bindings(PipeCtx *ctx, const char *map_path);

/* Brings the plugin descriptors up to date with the command's options (cmd_plugins.c): plugins:extract,
 * workflow:complete, and maps:check before it reads descriptors. */
PipeStatus pipe_extract(PipeCtx *ctx, bool force, PlugExtractReport **report);

/* Prints diagnostics the way every command does: to stderr, as "file:line:col: severity: message [code]". */
void pipe_print_diags(PipeCtx *ctx);
/* Writes a JSON value to ctx->out, indented, with a final newline. Takes a reference. */
void pipe_print_json(PipeCtx *ctx, json_t *value);

#endif
