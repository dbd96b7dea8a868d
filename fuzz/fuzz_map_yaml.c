/* fuzz_map_yaml: canonical map YAML text -> map_load_string. */
#include "maps/map.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  PipeDiagList *diags = pipe_diags_new();
  CanonMap *map = NULL;
  (void)map_load_string((const char *)data, size, "fuzz.yaml", &map, diags);
  map_free(map);
  pipe_diags_free(diags);
  return 0;
}
