/* test_cli.c: pipe_options_parse on tables of accepted and refused command lines, and the generated help. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pipeline/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXW 8

/* The option set of a typical command (plugins:extract). */
#define EXTRACT_OPTS                                                                                                 \
  (PIPE_OPT_CACHE_DIR | PIPE_OPT_LV2_PATH | PIPE_OPT_JOBS | PIPE_OPT_TIMEOUT | PIPE_OPT_FORCE | PIPE_OPT_FORMAT |    \
   PIPE_OPT_PLUGIN | PIPE_OPT_PERFORMANCE | PIPE_OPT_PERF_JSON | PIPE_OPT_LOCK_TIMEOUT)
#define ALL_OPTS (EXTRACT_OPTS | PIPE_OPT_HELP | PIPE_OPT_STRICT)

typedef struct {
  const char *words[MAXW]; /* NULL-terminated */
  unsigned accepted;
  int max_args;
  /* Expected results. */
  unsigned seen;
  const char *cache_dir, *lv2_path, *plugin, *perf_json;
  int jobs;
  double timeout_s;
  int lock_timeout_ms; /* 0: the default, 60000 */
  bool force, strict, performance, help;
  PipeFormat format;
  const char *args[MAXW]; /* NULL-terminated */
} GoodCase;

static const GoodCase GOOD[] = {
    {.words = {NULL}, .accepted = EXTRACT_OPTS, .max_args = 0},
    {.words = {"--jobs", "4"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_JOBS, .jobs = 4},
    {.words = {"--jobs=4"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_JOBS, .jobs = 4},
    {.words = {"-j", "1024"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_JOBS, .jobs = 1024},
    {.words = {"-j", "1"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_JOBS, .jobs = 1},
    {.words = {"--timeout", "2.5"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_TIMEOUT,
     .timeout_s = 2.5},
    {.words = {"--timeout=0.25"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_TIMEOUT,
     .timeout_s = 0.25},
    {.words = {"--lock-timeout", "1.5"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_LOCK_TIMEOUT,
     .lock_timeout_ms = 1500},
    {.words = {"--cache-dir", "/tmp/c", "--lv2-path=/a:/b"}, .accepted = EXTRACT_OPTS, .max_args = 0,
     .seen = PIPE_OPT_CACHE_DIR | PIPE_OPT_LV2_PATH, .cache_dir = "/tmp/c", .lv2_path = "/a:/b"},
    /* An '=' inside a value belongs to the value. */
    {.words = {"--plugin=a=b"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_PLUGIN, .plugin = "a=b"},
    {.words = {"-p", "eq"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_PLUGIN, .plugin = "eq"},
    /* A value that looks like an option is still the value of the option before it. */
    {.words = {"--plugin", "-f"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_PLUGIN, .plugin = "-f"},
    {.words = {"-f", "--performance", "--performance-json", "p.json"}, .accepted = EXTRACT_OPTS, .max_args = 0,
     .seen = PIPE_OPT_FORCE | PIPE_OPT_PERFORMANCE | PIPE_OPT_PERF_JSON, .force = true, .performance = true,
     .perf_json = "p.json"},
    {.words = {"--format", "json"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_FORMAT,
     .format = PIPE_FMT_JSON},
    {.words = {"--format=table"}, .accepted = EXTRACT_OPTS, .max_args = 0, .seen = PIPE_OPT_FORMAT,
     .format = PIPE_FMT_TABLE},
    {.words = {"--strict", "a.yaml", "b.yaml"}, .accepted = PIPE_OPT_STRICT, .max_args = -1,
     .seen = PIPE_OPT_STRICT, .strict = true, .args = {"a.yaml", "b.yaml"}},
    /* Options and positional arguments interleave. */
    {.words = {"x", "--force", "y"}, .accepted = PIPE_OPT_FORCE, .max_args = 2, .seen = PIPE_OPT_FORCE,
     .force = true, .args = {"x", "y"}},
    /* "--" ends the options; a lone "-" is an argument. */
    {.words = {"--", "--force", "-j"}, .accepted = PIPE_OPT_FORCE, .max_args = -1, .args = {"--force", "-j"}},
    {.words = {"-f", "--", "--"}, .accepted = PIPE_OPT_FORCE, .max_args = 1, .seen = PIPE_OPT_FORCE, .force = true,
     .args = {"--"}},
    {.words = {"-"}, .accepted = 0, .max_args = 1, .args = {"-"}},
    /* --help is accepted by every command, even one that lists no options, and excuses extra arguments. */
    {.words = {"--help"}, .accepted = 0, .max_args = 0, .seen = PIPE_OPT_HELP, .help = true},
    {.words = {"-h"}, .accepted = PIPE_OPT_FORCE, .max_args = 0, .seen = PIPE_OPT_HELP, .help = true},
    {.words = {"a", "b", "--help"}, .accepted = 0, .max_args = 0, .seen = PIPE_OPT_HELP, .help = true,
     .args = {"a", "b"}},
    /* The last of a repeated option wins. */
    {.words = {"-j", "2", "--jobs", "3"}, .accepted = PIPE_OPT_JOBS, .max_args = 0, .seen = PIPE_OPT_JOBS,
     .jobs = 3},
};

typedef struct {
  const char *words[MAXW];
  unsigned accepted;
  int max_args;
  const char *names; /* the diagnostic must contain this */
} BadCase;

static const BadCase BAD[] = {
    /* Options that exist but that this command does not take. */
    {{"--force"}, PIPE_OPT_JOBS, 0, "--force"},
    {{"-f"}, PIPE_OPT_JOBS, 0, "-f"},
    {{"--strict"}, EXTRACT_OPTS, 0, "--strict"},
    {{"--jobs", "2"}, 0, 0, "--jobs"},
    /* Options that do not exist at all. */
    {{"--frobnicate"}, ALL_OPTS, 0, "--frobnicate"},
    {{"-x"}, ALL_OPTS, 0, "-x"},
    {{"--forc"}, ALL_OPTS, 0, "--forc"}, /* no prefix matching */
    {{"-fj"}, ALL_OPTS, 0, "-fj"},        /* no clustering */
    {{"-j4"}, ALL_OPTS, 0, "-j4"},        /* no attached short values */
    /* Missing values. */
    {{"--jobs"}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"-j"}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"--force", "--cache-dir"}, ALL_OPTS, 0, "--cache-dir"},
    {{"--timeout"}, PIPE_OPT_TIMEOUT, 0, "--timeout"},
    /* A flag given a value. */
    {{"--force=yes"}, PIPE_OPT_FORCE, 0, "--force"},
    /* Bad --jobs. */
    {{"--jobs", "0"}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"--jobs", "-1"}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"--jobs=abc"}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"--jobs", "99999"}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"--jobs", "1025"}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"--jobs", "4x"}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"--jobs", ""}, PIPE_OPT_JOBS, 0, "--jobs"},
    {{"-j", "99999999999999999999"}, PIPE_OPT_JOBS, 0, "--jobs"},
    /* Bad --timeout and --lock-timeout. */
    {{"--timeout", "0"}, PIPE_OPT_TIMEOUT, 0, "--timeout"},
    {{"--timeout", "-1"}, PIPE_OPT_TIMEOUT, 0, "--timeout"},
    {{"--timeout", "nan"}, PIPE_OPT_TIMEOUT, 0, "--timeout"},
    {{"--timeout", "inf"}, PIPE_OPT_TIMEOUT, 0, "--timeout"},
    {{"--timeout=abc"}, PIPE_OPT_TIMEOUT, 0, "--timeout"},
    {{"--timeout", "1e400"}, PIPE_OPT_TIMEOUT, 0, "--timeout"},
    {{"--lock-timeout", "-5"}, PIPE_OPT_LOCK_TIMEOUT, 0, "--lock-timeout"},
    /* Bad --format. */
    {{"--format", "xml"}, PIPE_OPT_FORMAT, 0, "--format"},
    {{"--format="}, PIPE_OPT_FORMAT, 0, "--format"},
    {{"--format", "JSON"}, PIPE_OPT_FORMAT, 0, "--format"},
    /* Too many positional arguments: the first extra one is named. */
    {{"a"}, ALL_OPTS, 0, "'a'"},
    {{"a", "b", "c"}, ALL_OPTS, 2, "'c'"},
    {{"--", "-f"}, PIPE_OPT_FORCE, 0, "'-f'"},
};

static int count_words(const char *const *w)
{
  int n = 0;
  while (n < MAXW && w[n])
    n++;
  return n;
}

/* argv as the parser gets it: a mutable, NULL-terminated array. */
static char **make_argv(const char *const *words, int n)
{
  char **argv = calloc((size_t)n + 1, sizeof(char *));
  assert_non_null(argv);
  for (int i = 0; i < n; i++)
    argv[i] = (char *)words[i];
  return argv;
}

static void str_eq_or_null(const char *got, const char *want)
{
  if (!want)
    assert_null(got);
  else
    assert_string_equal(got, want);
}

static void test_good_command_lines(void **state)
{
  (void)state;
  for (size_t c = 0; c < sizeof GOOD / sizeof GOOD[0]; c++) {
    const GoodCase *g = &GOOD[c];
    int argc = count_words(g->words);
    char **argv = make_argv(g->words, argc);
    PipeDiagList *diags = pipe_diags_new();
    PipeOptions o;
    PipeStatus st = pipe_options_parse(argc, argv, g->accepted, g->max_args, &o, diags);
    if (st != PIPE_OK || pipe_diags_count(diags) != 0)
      fail_msg("case %zu (%s ...): status %d, %zu diagnostics: %s", c, argc ? argv[0] : "", (int)st,
               pipe_diags_count(diags), pipe_diags_count(diags) ? pipe_diags_get(diags, 0)->message : "");
    assert_int_equal(o.seen, g->seen);
    str_eq_or_null(o.cache_dir, g->cache_dir);
    str_eq_or_null(o.lv2_path, g->lv2_path);
    str_eq_or_null(o.plugin, g->plugin);
    str_eq_or_null(o.perf_json, g->perf_json);
    assert_int_equal(o.jobs, g->jobs);
    assert_float_equal(o.timeout_s, g->timeout_s, 1e-12);
    assert_int_equal(o.lock_timeout_ms, g->lock_timeout_ms ? g->lock_timeout_ms : 60000);
    assert_int_equal(o.force, g->force);
    assert_int_equal(o.strict, g->strict);
    assert_int_equal(o.performance, g->performance);
    assert_int_equal(o.help, g->help);
    assert_int_equal(o.format, g->format);
    int n_args = count_words(g->args);
    if (o.n_args != n_args)
      fail_msg("case %zu: %d positional arguments, expected %d", c, o.n_args, n_args);
    for (int i = 0; i < n_args; i++) {
      assert_string_equal(o.args[i], g->args[i]);
      /* Borrowed from argv, not copied: the pointer is one of argv's. */
      bool from_argv = false;
      for (int k = 0; k < argc; k++)
        from_argv |= o.args[i] == argv[k];
      assert_true(from_argv);
    }
    pipe_options_release(&o);
    assert_null(o.args);
    pipe_diags_free(diags);
    free(argv);
  }
}

static void test_args_are_borrowed(void **state)
{
  (void)state;
  char a0[] = "--force", a1[] = "file.yaml";
  char *argv[] = {a0, a1, NULL};
  PipeOptions o;
  assert_int_equal(pipe_options_parse(2, argv, PIPE_OPT_FORCE, 1, &o, NULL), PIPE_OK);
  assert_int_equal(o.n_args, 1);
  assert_ptr_equal(o.args[0], a1);
  pipe_options_release(&o);
}

static void test_bad_command_lines(void **state)
{
  (void)state;
  for (size_t c = 0; c < sizeof BAD / sizeof BAD[0]; c++) {
    const BadCase *b = &BAD[c];
    int argc = count_words(b->words);
    char **argv = make_argv(b->words, argc);
    PipeDiagList *diags = pipe_diags_new();
    PipeOptions o;
    PipeStatus st = pipe_options_parse(argc, argv, b->accepted, b->max_args, &o, diags);
    if (st != PIPE_ERR_USAGE)
      fail_msg("case %zu (%s ...): status %d, expected PIPE_ERR_USAGE", c, argv[0], (int)st);
    if (pipe_diags_count(diags) != 1)
      fail_msg("case %zu (%s ...): %zu diagnostics, expected 1", c, argv[0], pipe_diags_count(diags));
    const PipeDiag *d = pipe_diags_get(diags, 0);
    assert_int_equal(d->severity, PIPE_SEV_ERROR);
    assert_string_equal(d->code, "usage");
    if (!strstr(d->message, b->names))
      fail_msg("case %zu: diagnostic '%s' does not name %s", c, d->message, b->names);
    pipe_options_release(&o);
    pipe_diags_free(diags);
    free(argv);
  }
}

/* The option names on the lines of a help text, as a PipeOptionId set; `lines` gets the number of option lines. */
static unsigned help_option_set(const char *text, int *lines)
{
  static const struct {
    const char *name;
    unsigned id;
  } NAMES[] = {{"help", PIPE_OPT_HELP},
               {"cache-dir", PIPE_OPT_CACHE_DIR},
               {"lv2-path", PIPE_OPT_LV2_PATH},
               {"jobs", PIPE_OPT_JOBS},
               {"timeout", PIPE_OPT_TIMEOUT},
               {"force", PIPE_OPT_FORCE},
               {"format", PIPE_OPT_FORMAT},
               {"plugin", PIPE_OPT_PLUGIN},
               {"strict", PIPE_OPT_STRICT},
               {"performance", PIPE_OPT_PERFORMANCE},
               {"performance-json", PIPE_OPT_PERF_JSON},
               {"lock-timeout", PIPE_OPT_LOCK_TIMEOUT}};
  unsigned set = 0;
  *lines = 0;
  char *copy = strdup(text);
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    const char *dd = strstr(line, "--");
    if (!dd)
      continue;
    (*lines)++;
    size_t len = strcspn(dd + 2, " \t");
    bool found = false;
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
      if (strlen(NAMES[i].name) == len && !strncmp(NAMES[i].name, dd + 2, len)) {
        assert_false(set & NAMES[i].id); /* listed once */
        set |= NAMES[i].id;
        found = true;
      }
    if (!found)
      fail_msg("help line names an unknown option: %s", line);
  }
  free(copy);
  return set;
}

static char *help_text(unsigned accepted)
{
  FILE *f = tmpfile();
  assert_non_null(f);
  pipe_options_help(accepted, f);
  long n = ftell(f);
  rewind(f);
  char *buf = calloc(1, (size_t)n + 1);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  return buf;
}

static void test_help_lists_accepted_options(void **state)
{
  (void)state;
  const unsigned sets[] = {0, PIPE_OPT_FORCE, PIPE_OPT_PERF_JSON, PIPE_OPT_PERFORMANCE, EXTRACT_OPTS,
                           PIPE_OPT_STRICT | PIPE_OPT_FORMAT, ALL_OPTS};
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
    char *text = help_text(sets[i]);
    assert_true(!strncmp(text, "Options:\n", 9));
    int lines = 0;
    unsigned got = help_option_set(text, &lines);
    unsigned want = sets[i] | PIPE_OPT_HELP;
    if (got != want)
      fail_msg("set %zu: help lists 0x%x, expected 0x%x:\n%s", i, got, want, text);
    assert_int_equal(lines, __builtin_popcount(want));
    /* Options that take a value show it. */
    if (sets[i] & PIPE_OPT_JOBS)
      assert_non_null(strstr(text, "-j, --jobs N"));
    free(text);
  }
}

static void test_option_names(void **state)
{
  (void)state;
  FILE *f = tmpfile();
  pipe_options_names(PIPE_OPT_FORCE | PIPE_OPT_JOBS, f);
  long n = ftell(f);
  rewind(f);
  char buf[256] = {0};
  assert_true(n > 0 && (size_t)n < sizeof buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  /* One line of space-separated long names: exactly --help (always) and the two accepted options. */
  assert_int_equal(buf[n - 1], '\n');
  buf[n - 1] = '\0';
  assert_null(strchr(buf, '\n'));
  int help = 0, jobs = 0, force = 0, words = 0;
  char *save = NULL;
  for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
    words++;
    help += !strcmp(w, "--help");
    jobs += !strcmp(w, "--jobs");
    force += !strcmp(w, "--force");
  }
  assert_int_equal(words, 3);
  assert_int_equal(help, 1);
  assert_int_equal(jobs, 1);
  assert_int_equal(force, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_command_lines),
      cmocka_unit_test(test_args_are_borrowed),
      cmocka_unit_test(test_bad_command_lines),
      cmocka_unit_test(test_help_lists_accepted_options),
      cmocka_unit_test(test_option_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
