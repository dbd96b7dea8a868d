/* fuzz_cache_doc: framed cache document bytes -> cache_doc_decode (kind "plugin-index"). */
#include "cache/cache.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  PipeDiagList *diags = pipe_diags_new();
  json_t *doc = NULL;
  (void)cache_doc_decode((const char *)data, size, "plugin-index", "fuzz", &doc, diags);
  json_decref(doc);
  pipe_diags_free(diags);
  return 0;
}
