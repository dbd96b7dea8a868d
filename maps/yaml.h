/* yaml.h: internal to maps/. Reads a YAML file into a small tree with 1-based marks, and walks mappings against
 * tables of allowed keys, so each loader (map, profile, registry) is a table of rows plus small store functions.
 *
 * The tree is built from libfyaml's event stream, not from its document API: events carry a mark for every node
 * (the document API of libfyaml 0.7 exposes none for collections), an alias can be refused the moment it is seen
 * (an alias bomb costs nothing), and nesting is bounded before anything deep is built. Scalars keep their text
 * exactly as written (no implicit typing: 2025-09-23 stays text); the typed getters below parse plain scalars
 * strictly, YAML 1.2 core decimal forms only. */
#ifndef CTRLMAP_MAPS_YAML_H
#define CTRLMAP_MAPS_YAML_H

#include "map.h"

#include <stdbool.h>
#include <stddef.h>

/* Deepest collection nesting accepted (the root mapping is depth 1). */
#define YAML_MAX_DEPTH 32
/* Most nodes a document may have; a canonical map has a few thousand. Bounds memory for hostile input. */
#define YAML_MAX_NODES 200000u
/* Most indicators ([ { , :) one flow collection may hold: libfyaml reads a flow collection whole before it yields
 * its first event, at ~200 bytes a token, so this bounds its memory (a canonical map's flow lines hold a dozen). */
#define YAML_MAX_FLOW_ITEMS 65536u
/* Texts with fewer flow indicators ([ { , :) than this are not scanned for the two bounds above: so few keep
 * libfyaml's queue small whatever their nesting, and the builder bounds the depth. */
#define YAML_FLOW_SCAN_FROM 8192u

typedef enum { YAML_SCALAR, YAML_SEQUENCE, YAML_MAPPING } YamlKind;

typedef struct YamlNode YamlNode;
struct YamlNode {
  YamlKind kind;
  bool plain;   /* scalar written plain (unquoted, not block, no !!str tag): may be a number or null */
  MapMark mark; /* where the node starts (for an empty value: its key) */
  char *text;   /* scalar text, NUL-terminated, escapes resolved; "" for collections */
  size_t len;   /* scalar text length */
  size_t n;     /* children: sequence items; for a mapping 2 * pairs, key then value */
  YamlNode *child, *next;
};

typedef struct YamlDoc YamlDoc;

/* Reads `path` into an owned NUL-terminated buffer. The size is checked with stat before any read: a directory or
 * other non-regular file is `map-io`, a file over MAP_MAX_FILE_BYTES is `map-too-large` (PIPE_ERR_INVALID). */
PipeStatus yaml_read_file(const char *path, char **data, size_t *len, PipeDiagList *diags);

/* Parses one YAML document. `file` names the input in diagnostics. Refuses with a diagnostic and *doc NULL:
 * map-too-large (len over the cap, more than YAML_MAX_NODES nodes, a flow collection of more than
 * YAML_MAX_FLOW_ITEMS), map-empty (no document, or only an empty one), yaml-syntax (not UTF-8 text, a bare CR,
 * libfyaml's errors with their line:column, duplicate keys), yaml-control-char (a scalar holding a control
 * character, written as an escape), yaml-alias (aliases and merge keys, the first five), yaml-multidoc, yaml-depth
 * (also checked lexically before libfyaml runs). Status: PIPE_ERR_INVALID for size and emptiness,
 * PIPE_ERR_PARSE for the yaml-* codes. libfyaml never prints: its diagnostics are collected. The tree does not point
 * into `text`. */
PipeStatus yaml_parse(const char *text, size_t len, const char *file, YamlDoc **doc, PipeDiagList *diags);
/* yaml_read_file, then yaml_parse: a file's document, or an error status with *doc NULL. */
PipeStatus yaml_parse_file(const char *path, YamlDoc **doc, PipeDiagList *diags);
const YamlNode *yaml_doc_root(const YamlDoc *doc); /* borrowed */
void yaml_doc_free(YamlDoc *doc);                  /* NULL is a no-op */

/* Reporting: every finding of a loader goes through one context, which counts the errors. */
typedef struct {
  const char *file;
  PipeDiagList *diags;
  size_t errors;
} YamlCtx;

void yaml_report(YamlCtx *ctx, PipeSeverity sev, const char *code, MapMark mark, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* --- scalars --- */

/* Whether `n` is a YAML null: a plain "", "~", "null", "Null" or "NULL". */
bool yaml_is_null(const YamlNode *n);
/* Strict typed reads of a plain scalar; false when `n` is not one (quoted, "12abc", "0x10", "1.5" for an int).
 * Integers are decimal with an optional sign; out-of-range integers saturate at LONG_MIN/LONG_MAX so that callers'
 * range checks report them. Doubles: YAML 1.2 core decimal floats, finite only. Bools: true/false in three casings. */
bool yaml_scalar_long(const YamlNode *n, long *out);
bool yaml_scalar_double(const YamlNode *n, double *out);
bool yaml_scalar_bool(const YamlNode *n, bool *out);
/* Owned copy of a scalar's text. */
char *yaml_scalar_dup(const YamlNode *n);
/* The value as messages show it: 300, 'knob', a mapping, a sequence, empty. Truncated to fit `size`. */
const char *yaml_describe(const YamlNode *n, char *buf, size_t size);

/* --- did you mean --- */

/* Levenshtein distance of two strings (bytes), capped at 255. */
unsigned yaml_levenshtein(const char *a, const char *b);
/* Whether s is one or more ASCII digits and nothing else. */
bool yaml_all_digits(const char *s);
/* The candidate closest to `word` within distance 2, or NULL. `candidates` is NULL-terminated. */
const char *yaml_suggest(const char *word, const char *const *candidates);
/* Index of `text` in the NULL-terminated `values`, or -1. */
int yaml_enum_index(const char *const *values, const char *text);

/* --- mapping walker --- */

/* What a key's value must be before its store function runs. SCALAR excludes null; ANY accepts everything. */
typedef enum { YAML_WANT_ANY, YAML_WANT_SCALAR, YAML_WANT_SEQUENCE, YAML_WANT_MAPPING } YamlWant;

typedef struct YamlKey YamlKey;
#define YAML_N_KEYS(table) (sizeof(table) / sizeof *(table))
/* Stores a value that passed the row's checks into `obj` (whatever the walker's caller passed). */
typedef void (*YamlKeyFn)(YamlCtx *ctx, const YamlKey *key, const YamlNode *value, void *obj);

/* One allowed key of a mapping: a row of the loader's table. */
struct YamlKey {
  const char *name;
  YamlWant want;
  bool required;
  const char *const *values; /* for an enumerated scalar: the allowed texts, NULL-terminated; else NULL */
  const char *expected;      /* how messages describe a good value: "a whole number from 0 to 127" */
  YamlKeyFn store;           /* NULL: accepted and ignored (documentation keys) */
  size_t offset;             /* for the generic stores below: where in obj the value goes */
};

/* Generic store: an owned copy of the scalar into the char * at obj + key->offset (replacing what was there). */
void yaml_store_string(YamlCtx *ctx, const YamlKey *key, const YamlNode *value, void *obj);

/* Walks the pairs of `map` (a mapping) in order. For each key: a non-scalar key is schema-type; a key not in
 * `keys` is a schema-unknown-key warning with a did-you-mean; a value of the wrong kind is schema-type; an
 * enumerated value not in `values` is schema-enum (listing them); a scalar with a line break is yaml-control-char,
 * but for "description" and "notes" (one line for ids, names, paths). Otherwise the row's store function runs. Then
 * every required key not seen is schema-required at the mapping's mark. `what` names the mapping in messages
 * ("device", "control"). */
void yaml_walk(YamlCtx *ctx, const YamlNode *map, const char *what, const YamlKey *keys, size_t n_keys, void *obj);

/* Value of `name` in `map`, or NULL. */
const YamlNode *yaml_lookup(const YamlNode *map, const char *name);

/* Reads an integer value of a row and checks it lies in [min, max]: not an integer is schema-type, outside is
 * `range_code`, both with the row's `expected` text. Returns whether *out was set. */
bool yaml_get_long(YamlCtx *ctx, const YamlKey *key, const YamlNode *value, long min, long max, const char *range_code,
                   long *out);

/* Whether the real path `real` lies outside the folder whose real path is `root` (not `root` nor below it). */
bool yaml_path_outside(const char *real, const char *root);

/* NULL when `s` is printable UTF-8 text (no C0, DEL or C1 control characters); else an owned copy with each bad byte
 * written as \xNN, for a message that names it. */
char *yaml_printable(const char *s);

/* The directory part of `path` ("." when it has none), owned: relative references in a file resolve against it. */
char *yaml_path_dir(const char *path);

#endif
