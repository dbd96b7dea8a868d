/* fuzz_cli: input split at NUL bytes into up to 32 argv words -> pipe_options_parse (every option, any args). */
#include "pipeline/cli.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 32
#define ALL_OPTIONS ((unsigned)PIPE_OPT_BUDGET * 2u - 1u) /* every PipeOptionId bit */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* One NUL-terminated copy: each word is its own string, the last one terminated by the extra byte. */
  char *buf = malloc(size + 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  char *argv[MAX_WORDS + 1];
  int argc = 0;
  size_t start = 0;
  for (size_t i = 0; i <= size && argc < MAX_WORDS; i++)
    if (buf[i] == '\0') {
      argv[argc++] = buf + start;
      start = i + 1;
    }
  argv[argc] = NULL;
  if (size == 0)
    argc = 0; /* empty input: no words at all */

  PipeDiagList *diags = pipe_diags_new();
  PipeOptions opts;
  memset(&opts, 0, sizeof opts);
  (void)pipe_options_parse(argc, argv, ALL_OPTIONS, -1, &opts, diags);
  pipe_options_release(&opts);
  pipe_diags_free(diags);
  free(buf);
  return 0;
}
