/* commands.c: the command table and the dispatcher (git's commands[] and run_builtin, in small). */
#include "commands.h"

#include "fsx.h"
#include "xalloc.h"

#include <libfyaml.h>
#include <jansson.h>
#include <libxml/xmlversion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#ifndef CTRLMAP_VERSION
#define CTRLMAP_VERSION "0.0.0"
#endif
#ifndef CTRLMAP_LILV_VERSION
#define CTRLMAP_LILV_VERSION "?"
#endif

#define COMMON_OPTS                                                                                                    \
  (PIPE_OPT_CACHE_DIR | PIPE_OPT_PERFORMANCE | PIPE_OPT_PERF_JSON | PIPE_OPT_LOCK_TIMEOUT | PIPE_OPT_BUDGET)

static const PipeCommand COMMANDS[] = {
    {"plugins:extract", pipe_cmd_plugins_extract, PIPE_CMD_CACHE_WRITE,
     COMMON_OPTS | PIPE_OPT_LV2_PATH | PIPE_OPT_JOBS | PIPE_OPT_TIMEOUT | PIPE_OPT_MEMORY_LIMIT | PIPE_OPT_FORCE |
         PIPE_OPT_FORMAT | PIPE_OPT_STRICT | PIPE_OPT_ENGINE,
     0, "", "describe every installed LV2 plugin into the cache (incremental)",
     "Scans the LV2 path, and describes each plugin whose bundle changed since the last run in a pool of worker\n"
     "processes: one JSON descriptor per plugin, with each control port's Ardour parameter number. A plugin whose\n"
     "interrogation crashes, overruns --timeout (default 5 s) or --memory-limit is recorded as failed and the run\n"
     "goes on; what plugins print goes to logs/extract.log in the cache (the first MiB of each). Exits 0 even when\n"
     "some plugins failed, 1 with --strict."},
    {"plugins:list", pipe_cmd_plugins_list, PIPE_CMD_CACHE_READ, COMMON_OPTS | PIPE_OPT_PLUGIN | PIPE_OPT_FORMAT, 0, "",
     "list the described plugins from the cache",
     "Prints name, URI, class, control inputs/outputs and status of each cached plugin descriptor (run\n"
     "plugins:extract first), and the last health result when plugins:health has been run."},
    {"plugins:health", pipe_cmd_plugins_health, PIPE_CMD_CACHE_WRITE,
     COMMON_OPTS | PIPE_OPT_LV2_PATH | PIPE_OPT_JOBS | PIPE_OPT_TIMEOUT | PIPE_OPT_MEMORY_LIMIT | PIPE_OPT_PLUGIN |
         PIPE_OPT_FORMAT | PIPE_OPT_STRICT,
     0, "", "instantiate and run each plugin in isolation, report the unhealthy ones",
     "Each plugin is instantiated at 48 kHz with the usual host features, every port connected (controls at their\n"
     "defaults, silent audio), activated, run for one 1024-frame block and freed, in a worker process. Reports ok,\n"
     "missing-feature, instantiate-failed, crashed (signal), timeout (default 10 s), memory-limit (over\n"
     "--memory-limit, default 2048 MiB), non-finite (which output) or output-flood (over 1 MiB printed; the log\n"
     "keeps the first MiB). Exits 1 when any plugin is unhealthy only with --strict."},
    {"maps:validate", pipe_cmd_maps_validate, PIPE_CMD_CACHE_WRITE, COMMON_OPTS | PIPE_OPT_FORMAT | PIPE_OPT_STRICT, -1,
     "[PATHS...]", "check canonical controller maps: schema, controller rules, conflicts",
     "Reads canonical maps (YAML files, or directories searched for *.yaml) with their channel registries and\n"
     "device profiles, and reports every finding as file:line:column: severity: message [code]: required fields\n"
     "and types, unknown keys (with a did-you-mean), CC 0-127, channel 1-16, duplicate ids, one channel+CC bound\n"
     "twice, registry conflicts and missing files, controls not in the device profile. No plugin knowledge is\n"
     "needed. Without PATHS, the bundled default maps. Exit 1 on any error (on warnings too with --strict)."},
    {"maps:check", pipe_cmd_maps_check, PIPE_CMD_CACHE_WRITE,
     COMMON_OPTS | PIPE_OPT_FORMAT | PIPE_OPT_STRICT | PIPE_OPT_LV2_PATH | PIPE_OPT_JOBS, -1, "[PATHS...]",
     "cross-check each binding against the plugin's descriptor",
     "Validates the maps, brings the plugin descriptors up to date (plugins:extract, usually a warm no-op), then\n"
     "resolves every plugin_parameter (port index, symbol or name) to a control input of the plugin and checks\n"
     "that the control suits it. Prints the coverage (bound / bindable parameters) per map and writes the resolved\n"
     "bindings, with each parameter's Ardour number, to the cache for daw:generate."},
    {"maps:list", pipe_cmd_maps_list, PIPE_CMD_CACHE_READ | PIPE_CMD_CACHE_OPTIONAL,
     COMMON_OPTS | PIPE_OPT_FORMAT | PIPE_OPT_DEVICE | PIPE_OPT_PLUGIN, -1, "[PATHS...]",
     "list canonical maps with their device, plugin, channel and last validation",
     "Lists the maps (the bundled defaults without PATHS) with device, plugin, MIDI channel, number of controls\n"
     "and the result of their last maps:validate and maps:check in this cache (\"stale\" when the file changed\n"
     "since). --device and --plugin filter by a case-insensitive substring."},
    {"daw:generate", pipe_cmd_daw_generate, PIPE_CMD_CACHE_WRITE,
     COMMON_OPTS | PIPE_OPT_FORMAT | PIPE_OPT_STRICT | PIPE_OPT_LV2_PATH | PIPE_OPT_OUT | PIPE_OPT_ROUTE |
         PIPE_OPT_PLUGIN_POSITION | PIPE_OPT_INSTALL | PIPE_OPT_ARDOUR_DIR | PIPE_OPT_FORCE,
     -1, "[MAPS...]", "write an Ardour Generic MIDI map for each map that passes maps:check",
     "Validates and checks the maps (the bundled defaults without MAPS), then writes one Ardour binding map per\n"
     "map into --out (default <cache>/ardour): <ArdourMIDIBindings name=\"device \u2014 plugin\">, one <Binding> per\n"
     "bound control with uri=\"/route/plugin/parameter ROUTE POSITION PARAM\" (PARAM: the descriptor's Ardour\n"
     "number), ctl/note or enc-r/enc-l/enc-2/enc-b, channel 1-16. Every file is checked against\n"
     "schemas/ardour-midi-map.rng before it is written; unchanged files are not rewritten. --install copies them\n"
     "atomically into $XDG_CONFIG_HOME/ardour{8,7}/midi_maps (those that exist) or --ardour-dir, and never\n"
     "replaces a file ctrlmap did not write unless --force."},
    {"workflow:complete", pipe_cmd_workflow_complete, PIPE_CMD_CACHE_WRITE,
     COMMON_OPTS | PIPE_OPT_FORMAT | PIPE_OPT_STRICT | PIPE_OPT_LV2_PATH | PIPE_OPT_JOBS | PIPE_OPT_TIMEOUT |
         PIPE_OPT_MEMORY_LIMIT | PIPE_OPT_FORCE | PIPE_OPT_ENGINE | PIPE_OPT_OUT | PIPE_OPT_ROUTE |
         PIPE_OPT_PLUGIN_POSITION | PIPE_OPT_INSTALL | PIPE_OPT_ARDOUR_DIR,
     -1, "[MAPS...]", "run every phase: extract, validate, check, generate (and install)",
     "Describes the installed plugins, validates and checks the maps (the bundled defaults without MAPS) and writes\n"
     "their Ardour maps, installing them with --install. Each phase skips what did not change since the last run\n"
     "(bundle fingerprints, map and descriptor hashes), so a second run with nothing changed does almost nothing.\n"
     "A failing phase stops the run with a message naming it; with map errors nothing is generated or installed.\n"
     "--force re-describes every plugin (and replaces foreign files in Ardour's folder)."},
    {"workflow:health", pipe_cmd_workflow_health, PIPE_CMD_CACHE_READ | PIPE_CMD_CACHE_OPTIONAL,
     COMMON_OPTS | PIPE_OPT_FORMAT | PIPE_OPT_LV2_PATH | PIPE_OPT_ARDOUR_DIR, -1, "[MAPS...]",
     "check the system: libraries, LV2 path, cache, maps, Ardour folders",
     "Prints one line per check, each with its status and, when it is not ok, a fix: library versions, the LV2\n"
     "path (readable directories, bundles), the cache (every descriptor's checksum), descriptors out of date\n"
     "with the installed bundles, maps that fail validation or use plugins that are not installed, Ardour's user\n"
     "map folders and the installed maps (stale, orphaned). With --performance, also the wall time of the last\n"
     "measured runs of each command (from the history in the cache). Changes nothing. Exit 0 healthy, 1 warnings,\n"
     "2 errors."},
    {"daw:list", pipe_cmd_daw_list, PIPE_CMD_CACHE_READ | PIPE_CMD_CACHE_OPTIONAL,
     COMMON_OPTS | PIPE_OPT_FORMAT | PIPE_OPT_OUT | PIPE_OPT_ARDOUR_DIR, 0, "",
     "list generated and installed Ardour maps with their status",
     "Lists the .map files in --out (default <cache>/ardour) and in Ardour's user map folders, each as current,\n"
     "stale (its canonical map or its plugin's descriptor changed since), orphan (its canonical map is gone) or\n"
     "foreign (not written by ctrlmap)."},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static const PipeCommand *find_command(const char *name)
{
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (!strcmp(COMMANDS[i].name, name))
      return &COMMANDS[i];
  return NULL;
}

static void print_version(FILE *out)
{
  fprintf(out, "ctrlmap %s (lilv %s, libxml2 %s, libfyaml %s, jansson %s, xxhash %u.%u.%u)\n", CTRLMAP_VERSION,
          CTRLMAP_LILV_VERSION, LIBXML_DOTTED_VERSION, fy_library_version(), jansson_version_str(), XXH_VERSION_MAJOR,
          XXH_VERSION_MINOR, XXH_VERSION_RELEASE);
}

static void print_main_help(FILE *out)
{
  fprintf(out, "usage: ctrlmap COMMAND [OPTIONS]\n       ctrlmap --help | --version | COMMAND --help\n\n"
               "Turns the installed LV2 plugins and canonical controller maps into Ardour MIDI binding maps.\n\n"
               "Commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-18s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
  fprintf(out, "\nExit codes: 0 ok, 1 findings, 2 usage error, 3 environment error (cache, files).\n"
               "Run 'ctrlmap COMMAND --help' for a command's options.\n");
}

static void print_command_help(const PipeCommand *c, FILE *out)
{
  fprintf(out, "usage: ctrlmap %s [OPTIONS]%s%s\n\n%s.\n\n%s\n\n", c->name, *c->args_usage ? " " : "", c->args_usage,
          c->summary, c->description);
  pipe_options_help(c->options, out);
}

static void man_text(FILE *out, const char *s)
{
  for (; *s; s++) {
    if (*s == '-' || *s == '\\')
      fputc('\\', out);
    if (*s == '\n') { /* the descriptions' line breaks are for terminals; troff fills paragraphs itself */
      fputc(' ', out);
      continue;
    }
    fputc(*s, out);
  }
}

/* `ctrlmap --man`: the manual page, from the command table (the build installs its output as ctrlmap.1). */
static int print_man(FILE *out)
{
  fprintf(out,
          ".TH CTRLMAP 1 \"\" \"ctrlmap %s\" \"User Commands\"\n.SH NAME\nctrlmap \\- LV2 plugins and "
          "canonical controller maps to Ardour Generic MIDI maps\n.SH SYNOPSIS\n\\fBctrlmap\\fR "
          "\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]\n.br\n\\fBctrlmap\\fR \\-\\-help | "
          "\\-\\-version\n.SH DESCRIPTION\nctrlmap describes the installed LV2 plugins, validates canonical "
          "controller maps (YAML) against them, and writes Ardour Generic MIDI binding maps that bind the "
          "intended plugin parameters. Every phase is incremental through an on\\-disk cache.\n.SH COMMANDS\n",
          CTRLMAP_VERSION);
  for (size_t i = 0; i < N_COMMANDS; i++) {
    const PipeCommand *c = &COMMANDS[i];
    fprintf(out, ".SS \"%s %s\"\n", c->name, c->args_usage);
    man_text(out, c->summary);
    fputs(".\n.PP\n", out);
    man_text(out, c->description);
    fputc('\n', out);
    pipe_options_man(c->options, out);
  }
  fputs(".SH EXIT STATUS\n0 done; 1 the command found problems; 2 bad command line (workflow:health: errors); 3 the "
        "environment failed (cache, files).\n.SH ENVIRONMENT\n.TP\nLV2_PATH\nwhere plugins are looked for.\n.TP\n"
        "XDG_CACHE_HOME\nthe cache is $XDG_CACHE_HOME/ctrlmap (default ~/.cache/ctrlmap).\n.TP\nXDG_CONFIG_HOME\n"
        "Ardour's user map folders are $XDG_CONFIG_HOME/ardour8/midi_maps and .../ardour7/midi_maps.\n.TP\n"
        "CTRLMAP_DATA_DIR, CTRLMAP_SCHEMA_DIR\ndevice profiles and default maps; schemas.\n.SH SEE ALSO\n"
        "\\fBardour\\fR(1), \\fBlv2info\\fR(1)\n",
        out);
  return PIPE_EXIT_OK;
}

/* `ctrlmap --complete [CMD]`: words for the bash/zsh completion scripts. */
static int complete_words(int argc, char **argv)
{
  const PipeCommand *c = argc > 2 ? find_command(argv[2]) : NULL;
  if (c) {
    pipe_options_names(c->options, stdout);
    return PIPE_EXIT_OK;
  }
  for (size_t i = 0; i < N_COMMANDS; i++)
    printf("%s%s", i ? " " : "", COMMANDS[i].name);
  printf(" --help --version\n");
  return PIPE_EXIT_OK;
}

void pipe_print_diags(PipeCtx *ctx)
{
  fflush(ctx->out);
  pipe_diags_print(ctx->diags, stderr);
}

void pipe_print_json(PipeCtx *ctx, json_t *value)
{
  json_dumpf(value, ctx->out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
  fputc('\n', ctx->out);
  json_decref(value);
}

static int open_cache(const PipeCommand *c, PipeCtx *ctx)
{
  if (!(c->flags & (PIPE_CMD_CACHE_WRITE | PIPE_CMD_CACHE_READ)))
    return PIPE_EXIT_OK;
  ctx->cache_dir = ctx->opts->cache_dir ? pipe_xstrdup(ctx->opts->cache_dir) : cache_default_dir();
  PipeStatus st;
  CacheMode mode = c->flags & PIPE_CMD_CACHE_WRITE ? CACHE_WRITE : CACHE_READ;
  bool optional = c->flags & PIPE_CMD_CACHE_OPTIONAL;
  PipeDiagList *open_diags = optional ? pipe_diags_new() : ctx->diags;
  ctx->store = cache_open(ctx->cache_dir, mode, ctx->opts->lock_timeout_ms, &st, open_diags);
  if (optional)
    pipe_diags_free(open_diags);
  return ctx->store || (optional && st == PIPE_ERR_NOTFOUND) ? PIPE_EXIT_OK : PIPE_EXIT_ENV;
}

#ifndef CTRLMAP_DEFAULT_BUDGET
#define CTRLMAP_DEFAULT_BUDGET "pipeline/budget.json"
#endif
#ifndef CTRLMAP_INSTALLED_BUDGET
#define CTRLMAP_INSTALLED_BUDGET "/usr/local/share/ctrlmap/budget.json"
#endif
#define HISTORY_FILE      "perf/history.jsonl"
#define HISTORY_MAX_BYTES (1024 * 1024)

static json_t *load_budget(PipeCtx *ctx)
{
  const char *path = ctx->opts->budget;
  if (!path)
    path = access(CTRLMAP_INSTALLED_BUDGET, R_OK) == 0 ? CTRLMAP_INSTALLED_BUDGET : CTRLMAP_DEFAULT_BUDGET;
  json_error_t err;
  json_t *b = json_load_file(path, 0, &err);
  if (!b && ctx->opts->budget) /* the shipped one missing is not the user's problem; a named one is */
    pipe_diag_add(ctx->diags, PIPE_SEV_ERROR, "perf-budget-file", path, (unsigned)err.line, (unsigned)err.column,
                  "cannot read the budget: %s", err.text);
  return b;
}

/* One JSON line per measured run, for workflow:health --performance; trimmed to its newer half past 1 MiB. */
static void append_history(PipeCtx *ctx)
{
  if (!ctx->store || cache_mkdir(ctx->store, "perf", NULL) != PIPE_OK)
    return;
  json_t *line = pipe_perf_json(ctx->perf);
  json_object_set_new(line, "time", json_integer((json_int_t)time(NULL)));
  char *text = json_dumps(line, JSON_COMPACT), *path = cache_path(ctx->store, HISTORY_FILE);
  json_decref(line);
  FILE *f = fopen(path, "a");
  if (f) {
    fprintf(f, "%s\n", text);
    long size = ftell(f);
    fclose(f);
    char *data = NULL;
    size_t len = 0;
    if (size > HISTORY_MAX_BYTES && pipe_fs_read(path, 4 * HISTORY_MAX_BYTES, &data, &len, NULL) == PIPE_OK) {
      const char *half = strchr(data + len / 2, '\n');
      if (half)
        pipe_fs_write_atomic(path, half + 1, len - (size_t)(half + 1 - data), false, NULL);
    }
    free(data);
  }
  free(path);
  free(text);
}

static int finish_performance(PipeCtx *ctx)
{
  bool measured = ctx->opts->performance || ctx->opts->perf_json || ctx->opts->budget;
  if (!measured)
    return PIPE_EXIT_OK;
  json_t *budget = load_budget(ctx);
  if (!budget && ctx->opts->budget)
    return PIPE_EXIT_ENV;
  size_t breaches = budget ? pipe_perf_check_budget(ctx->perf, budget, ctx->diags) : 0;
  json_decref(budget);
  if (ctx->opts->performance) {
    pipe_perf_print(ctx->perf, stderr);
    fprintf(stderr, "  budget: %s\n", breaches ? "exceeded (see the perf-budget warnings)" : "within");
  }
  if (ctx->opts->perf_json && pipe_perf_write_json(ctx->perf, ctx->opts->perf_json, ctx->diags) != PIPE_OK)
    return PIPE_EXIT_ENV;
  append_history(ctx);
  return breaches && ctx->opts->strict ? PIPE_EXIT_FINDINGS : PIPE_EXIT_OK;
}

static int run_command(const PipeCommand *c, int argc, char **argv)
{
  PipeOptions opts;
  PipeCtx ctx = {.opts = &opts, .diags = pipe_diags_new(), .out = stdout, .tty = isatty(STDERR_FILENO)};
  int rc = PIPE_EXIT_USAGE;
  if (pipe_options_parse(argc, argv, c->options, c->max_args, &opts, ctx.diags) != PIPE_OK) {
    pipe_diags_print(ctx.diags, stderr);
    fprintf(stderr, "usage: ctrlmap %s [OPTIONS]%s%s\n", c->name, *c->args_usage ? " " : "", c->args_usage);
    goto done;
  }
  if (opts.help) {
    print_command_help(c, stdout);
    rc = PIPE_EXIT_OK;
    goto done;
  }
  ctx.perf = pipe_perf_new(c->name);
  rc = open_cache(c, &ctx);
  if (rc == PIPE_EXIT_OK)
    rc = c->handler(&ctx);
  int prc = finish_performance(&ctx);
  if (rc == PIPE_EXIT_OK)
    rc = prc;
  /* An error left in the run's diagnostics (a cache document that could not be saved on a full disk...) means the
   * run did not do all it says, whatever the handler concluded from its own findings. */
  if ((rc == PIPE_EXIT_OK || rc == PIPE_EXIT_FINDINGS) && pipe_diags_count_severity(ctx.diags, PIPE_SEV_ERROR))
    rc = PIPE_EXIT_ENV;
  pipe_print_diags(&ctx);
  /* A command whose output could not be written (a full disk, a closed pipe) has not succeeded. */
  if ((fflush(stdout) != 0 || ferror(stdout)) && rc == PIPE_EXIT_OK) {
    fprintf(stderr, "ctrlmap: error writing output\n");
    rc = PIPE_EXIT_ENV;
  }
done:
  json_decref(ctx.plug_index);
  cache_close(ctx.store);
  free(ctx.cache_dir);
  pipe_perf_free(ctx.perf);
  pipe_diags_free(ctx.diags);
  pipe_options_release(&opts);
  return rc;
}

int pipe_main(int argc, char **argv)
{
  if (argc < 2) {
    print_main_help(stderr);
    return PIPE_EXIT_USAGE;
  }
  const char *w = argv[1];
  if (!strcmp(w, "--help") || !strcmp(w, "-h") || !strcmp(w, "help")) {
    const PipeCommand *c = argc > 2 ? find_command(argv[2]) : NULL;
    if (c)
      print_command_help(c, stdout);
    else
      print_main_help(stdout);
    return PIPE_EXIT_OK;
  }
  if (!strcmp(w, "--version") || !strcmp(w, "-V")) {
    print_version(stdout);
    return PIPE_EXIT_OK;
  }
  if (!strcmp(w, "--complete"))
    return complete_words(argc, argv);
  if (!strcmp(w, "--man"))
    return print_man(stdout);
  const PipeCommand *c = find_command(w);
  if (!c) {
    fprintf(stderr, "ctrlmap: '%s' is not a ctrlmap command; commands are:", w);
    for (size_t i = 0; i < N_COMMANDS; i++)
      fprintf(stderr, " %s", COMMANDS[i].name);
    fprintf(stderr, "\n");
    return PIPE_EXIT_USAGE;
  }
  return run_command(c, argc - 2, argv + 2);
}
