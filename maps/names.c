/* names.c: the spellings of the map enums, Ardour's function names, and did-you-mean suggestions. */
#include "maps_internal.h"
#include "yaml.h"

#include <stdlib.h>
#include <string.h>

/* Ardour 7.3's Generic MIDI functions that do something (midifunction.cc: names are matched case-insensitively;
 * transport-zero, track-set-solo and track-set-mute load but do nothing, so they are not offered). set-bank and the
 * select functions take an argument. */
const char *const MAP_ARDOUR_FUNCTIONS[] = {
    "transport-stop", "transport-roll", "transport-start", "transport-end", "loop-toggle", "toggle-rec-enable",
    "rec-enable",     "rec-disable",    "next-bank",       "prev-bank",     "set-bank",    "select",
    "select-set",     "select-add",     "select-remove",   "select-toggle", NULL};

const char *map_control_type_name(MapControlType t)
{
  switch (t) {
  case MAP_CTL_ENCODER: return "encoder";
  case MAP_CTL_SLIDER: return "slider";
  case MAP_CTL_BUTTON: return "button";
  case MAP_CTL_BUTTON_GROUP: return "button_group";
  }
  return "?";
}

const char *map_message_name(MapMessage m)
{
  return m == MAP_MSG_NOTE ? "note" : "cc";
}

const char *map_encoding_name(MapEncoding e)
{
  switch (e) {
  case MAP_ENC_R: return "enc-r";
  case MAP_ENC_L: return "enc-l";
  case MAP_ENC_2: return "enc-2";
  case MAP_ENC_B: return "enc-b";
  case MAP_ENC_DEFAULT:
  case MAP_ENC_ABSOLUTE: break;
  }
  return "absolute";
}

const char *map_mode_name(MapMode m)
{
  return m == MAP_MODE_TOGGLE ? "toggle" : m == MAP_MODE_MOMENTARY ? "momentary" : NULL;
}

const char *map_did_you_mean(const char *word, const char *const *candidates, size_t n)
{
  const char *best = NULL;
  size_t best_d = 3;
  for (size_t i = 0; (n ? i < n : candidates[i] != NULL); i++) {
    size_t d = yaml_levenshtein(word, candidates[i]);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best;
}
