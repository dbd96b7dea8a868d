/* cli.c: option table and parser. */
#include "cli.h"

#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { ARG_NONE, ARG_STRING, ARG_INT, ARG_SECONDS, ARG_MIB, ARG_FORMAT, ARG_ENGINE } ArgKind;

typedef struct {
  PipeOptionId id;
  const char *name;
  char short_name;
  ArgKind arg;
  const char *metavar;
  const char *help;
} OptSpec;

static const OptSpec OPTS[] = {
    {PIPE_OPT_HELP, "help", 'h', ARG_NONE, NULL, "show this help"},
    {PIPE_OPT_CACHE_DIR, "cache-dir", 0, ARG_STRING, "DIR", "cache directory (default $XDG_CACHE_HOME/ctrlmap)"},
    {PIPE_OPT_LV2_PATH, "lv2-path", 0, ARG_STRING, "PATH", "LV2 search path (default $LV2_PATH, else lilv's)"},
    {PIPE_OPT_JOBS, "jobs", 'j', ARG_INT, "N", "worker processes (default: online CPUs)"},
    {PIPE_OPT_TIMEOUT, "timeout", 0, ARG_SECONDS, "SECONDS", "per-plugin time limit"},
    {PIPE_OPT_MEMORY_LIMIT, "memory-limit", 0, ARG_MIB, "MIB",
     "kill a plugin's worker above this resident memory (default 2048; 0: no limit)"},
    {PIPE_OPT_FORCE, "force", 'f', ARG_NONE, NULL, "redo the work even if the cache is current"},
    {PIPE_OPT_FORMAT, "format", 0, ARG_FORMAT, "table|json", "output format (default table)"},
    {PIPE_OPT_PLUGIN, "plugin", 'p', ARG_STRING, "TEXT", "only plugins whose URI or name contains TEXT"},
    {PIPE_OPT_DEVICE, "device", 'd', ARG_STRING, "TEXT", "only maps whose device (manufacturer, model) contains TEXT"},
    {PIPE_OPT_STRICT, "strict", 0, ARG_NONE, NULL, "exit 1 on any finding, warnings included"},
    {PIPE_OPT_PERFORMANCE, "performance", 0, ARG_NONE, NULL, "print timing, percentiles, memory and cache figures"},
    {PIPE_OPT_PERF_JSON, "performance-json", 0, ARG_STRING, "FILE", "also write the performance report as JSON"},
    {PIPE_OPT_ENGINE, "engine", 0, ARG_ENGINE, "stream|lilv",
     "how plugin Turtle is read: stream (default, fast) or lilv (lilv's store, the reference)"},
    {PIPE_OPT_OUT, "out", 'o', ARG_STRING, "DIR", "where generated maps go (default <cache>/ardour)"},
    {PIPE_OPT_ROUTE, "route", 0, ARG_STRING, "SPEC",
     "Ardour route the bindings drive: S1 = first selected track (default), a number, a name"},
    {PIPE_OPT_PLUGIN_POSITION, "plugin-position", 0, ARG_INT, "N", "the plugin's position on the route (default 1)"},
    {PIPE_OPT_INSTALL, "install", 0, ARG_NONE, NULL, "also copy the maps into Ardour's user map folders"},
    {PIPE_OPT_ARDOUR_DIR, "ardour-dir", 0, ARG_STRING, "DIR",
     "Ardour map folder (default $XDG_CONFIG_HOME/ardour{8,7}/midi_maps)"},
    {PIPE_OPT_BUDGET, "budget", 0, ARG_STRING, "FILE", "performance budgets (default: the shipped budget.json)"},
    {PIPE_OPT_LOCK_TIMEOUT, "lock-timeout", 0, ARG_SECONDS, "SECONDS",
     "how long to wait for another ctrlmap to release the cache (default 60)"},
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

static const OptSpec *find_long(const char *name, size_t len)
{
  for (size_t i = 0; i < N_OPTS; i++)
    if (strlen(OPTS[i].name) == len && !strncmp(OPTS[i].name, name, len))
      return &OPTS[i];
  return NULL;
}

static const OptSpec *find_short(char c)
{
  for (size_t i = 0; i < N_OPTS; i++)
    if (OPTS[i].short_name && OPTS[i].short_name == c)
      return &OPTS[i];
  return NULL;
}

static bool parse_value(const OptSpec *o, const char *v, PipeOptions *opts, PipeDiagList *diags)
{
  char *end = NULL;
  errno = 0;
  switch (o->arg) {
  case ARG_INT: {
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end || errno || n < 1 || n > 1024) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0, "--%s: '%s' is not a whole number from 1 to 1024",
                    o->name, v);
      return false;
    }
    if (o->id == PIPE_OPT_JOBS)
      opts->jobs = (int)n;
    else
      opts->plugin_position = (int)n;
    return true;
  }
  case ARG_SECONDS: {
    double d = strtod(v, &end);
    if (*v == '\0' || *end || errno || !isfinite(d) || d <= 0 || d > 86400) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0, "--%s: '%s' is not a number of seconds above 0",
                    o->name, v);
      return false;
    }
    if (o->id == PIPE_OPT_TIMEOUT)
      opts->timeout_s = d;
    else
      opts->lock_timeout_ms = (int)(d * 1000);
    return true;
  }
  case ARG_MIB: {
    unsigned long long n = strtoull(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || errno || n > 1024ull * 1024) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0,
                    "--%s: '%s' is not a number of MiB from 0 (no limit) to 1048576", o->name, v);
      return false;
    }
    opts->memory_limit_mib = (unsigned long)n;
    return true;
  }
  case ARG_FORMAT:
    if (strcmp(v, "table") && strcmp(v, "json")) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0, "--format: '%s' is not one of table, json", v);
      return false;
    }
    opts->format = !strcmp(v, "json") ? PIPE_FMT_JSON : PIPE_FMT_TABLE;
    return true;
  case ARG_ENGINE:
    if (strcmp(v, "stream") && strcmp(v, "lilv")) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0, "--engine: '%s' is not one of stream, lilv", v);
      return false;
    }
    opts->engine_lilv = !strcmp(v, "lilv");
    return true;
  case ARG_STRING:
    if (o->id == PIPE_OPT_CACHE_DIR)
      opts->cache_dir = v;
    else if (o->id == PIPE_OPT_LV2_PATH)
      opts->lv2_path = v;
    else if (o->id == PIPE_OPT_PLUGIN)
      opts->plugin = v;
    else if (o->id == PIPE_OPT_DEVICE)
      opts->device = v;
    else if (o->id == PIPE_OPT_OUT)
      opts->out_dir = v;
    else if (o->id == PIPE_OPT_ROUTE)
      opts->route = v;
    else if (o->id == PIPE_OPT_ARDOUR_DIR)
      opts->ardour_dir = v;
    else if (o->id == PIPE_OPT_BUDGET)
      opts->budget = v;
    else
      opts->perf_json = v;
    return true;
  case ARG_NONE: break;
  }
  return true;
}

static void set_flag(const OptSpec *o, PipeOptions *opts)
{
  switch (o->id) {
  case PIPE_OPT_HELP: opts->help = true; break;
  case PIPE_OPT_FORCE: opts->force = true; break;
  case PIPE_OPT_STRICT: opts->strict = true; break;
  case PIPE_OPT_PERFORMANCE: opts->performance = true; break;
  case PIPE_OPT_INSTALL: opts->install = true; break;
  default: break;
  }
}

/* Handles one option word (and possibly the next word, its value). Returns how many words it used, 0 on error. */
static int parse_option(int argc, char **argv, int i, unsigned accepted, PipeOptions *opts, PipeDiagList *diags)
{
  const char *w = argv[i];
  const char *eq = NULL;
  const OptSpec *o;
  if (w[1] == '-') {
    eq = strchr(w + 2, '=');
    o = find_long(w + 2, eq ? (size_t)(eq - w - 2) : strlen(w + 2));
  } else {
    o = w[2] == '\0' ? find_short(w[1]) : NULL;
  }
  if (!o || !(accepted & o->id)) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0, "unknown option '%s' for this command (see --help)", w);
    return 0;
  }
  opts->seen |= o->id;
  if (o->arg == ARG_NONE) {
    if (eq) {
      pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0, "--%s takes no value", o->name);
      return 0;
    }
    set_flag(o, opts);
    return 1;
  }
  const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
  if (!v) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0, "--%s needs a value (%s)", o->name, o->metavar);
    return 0;
  }
  return parse_value(o, v, opts, diags) ? (eq ? 1 : 2) : 0;
}

PipeStatus pipe_options_parse(int argc, char **argv, unsigned accepted, int max_args, PipeOptions *opts,
                              PipeDiagList *diags)
{
  memset(opts, 0, sizeof *opts);
  opts->lock_timeout_ms = 60000;
  opts->memory_limit_mib = PIPE_MEMORY_LIMIT_MIB;
  opts->args = pipe_xcalloc((size_t)argc + 1, sizeof(char *));
  bool only_args = false;
  for (int i = 0; i < argc;) {
    const char *w = argv[i];
    if (!only_args && !strcmp(w, "--")) {
      only_args = true;
      i++;
    } else if (!only_args && w[0] == '-' && w[1] != '\0') {
      int used = parse_option(argc, argv, i, accepted | PIPE_OPT_HELP, opts, diags);
      if (!used)
        return PIPE_ERR_USAGE;
      i += used;
    } else {
      opts->args[opts->n_args++] = argv[i++];
    }
  }
  if (max_args >= 0 && opts->n_args > max_args && !opts->help) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "usage", NULL, 0, 0, "unexpected argument '%s' (see --help)",
                  opts->args[max_args]);
    return PIPE_ERR_USAGE;
  }
  return PIPE_OK;
}

void pipe_options_release(PipeOptions *opts)
{
  free(opts->args);
  opts->args = NULL;
}

void pipe_options_help(unsigned accepted, FILE *out)
{
  fprintf(out, "Options:\n");
  for (size_t i = 0; i < N_OPTS; i++) {
    const OptSpec *o = &OPTS[i];
    if (!((accepted | PIPE_OPT_HELP) & o->id))
      continue;
    char left[64];
    if (o->short_name)
      snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
               o->metavar ? o->metavar : "");
    else
      snprintf(left, sizeof left, "    --%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
    fprintf(out, "  %-30s %s\n", left, o->help);
  }
}

void pipe_options_names(unsigned accepted, FILE *out)
{
  const char *sep = "";
  for (size_t i = 0; i < N_OPTS; i++)
    if ((accepted | PIPE_OPT_HELP) & OPTS[i].id) {
      fprintf(out, "%s--%s", sep, OPTS[i].name);
      sep = " ";
    }
  fputc('\n', out);
}

/* troff-escapes '-' and '\\' (man pages want "\\-" for a real minus). */
static void troff(FILE *out, const char *s)
{
  for (; *s; s++) {
    if (*s == '-' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
}

void pipe_options_man(unsigned accepted, FILE *out)
{
  for (size_t i = 0; i < N_OPTS; i++) {
    const OptSpec *o = &OPTS[i];
    if (!((accepted | PIPE_OPT_HELP) & o->id))
      continue;
    fputs(".TP\n\\fB", out);
    if (o->short_name)
      fprintf(out, "\\-%c\\fR, \\fB", o->short_name);
    fputs("\\-\\-", out);
    troff(out, o->name);
    fputs("\\fR", out);
    if (o->metavar) {
      fputs(" \\fI", out);
      troff(out, o->metavar);
      fputs("\\fR", out);
    }
    fputc('\n', out);
    troff(out, o->help);
    fputc('\n', out);
  }
}
