/* fuzz_registry: MIDI channel registry YAML file -> map_registry_load_file. */
#include "fuzz_file.h"
#include "maps/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file_write(data, size);
  PipeDiagList *diags = pipe_diags_new();
  MapRegistry *registry = NULL;
  (void)map_registry_load_file(path, &registry, diags);
  if (registry)
    map_registry_free(registry);
  pipe_diags_free(diags);
  return 0;
}
