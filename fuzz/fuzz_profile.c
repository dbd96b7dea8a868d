/* fuzz_profile: device profile YAML file -> map_profile_load_file. */
#include "fuzz_file.h"
#include "maps/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file_write(data, size);
  PipeDiagList *diags = pipe_diags_new();
  MapProfile *profile = NULL;
  (void)map_profile_load_file(path, &profile, diags);
  if (profile)
    map_profile_free(profile);
  pipe_diags_free(diags);
  return 0;
}
