/* maps_internal.h: what the files of maps/ share; not for use outside this folder (tests excepted). */
#ifndef CTRLMAP_MAPS_INTERNAL_H
#define CTRLMAP_MAPS_INTERNAL_H

#include "map.h"

/* The closest of `candidates` (NULL-terminated, or n of them) to `word` within edit distance 2, or NULL. */
const char *map_did_you_mean(const char *word, const char *const *candidates, size_t n);

/* Ardour's Generic MIDI function names (function="..."), NULL-terminated. */
extern const char *const MAP_ARDOUR_FUNCTIONS[];

/* "encoder", "cc", "enc-r"...: the YAML spelling of each enum. */
const char *map_control_type_name(MapControlType t);
const char *map_message_name(MapMessage m);
const char *map_encoding_name(MapEncoding e);
const char *map_mode_name(MapMode m);

#endif
