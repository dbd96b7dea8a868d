/* cache.h: the on-disk cache every phase reads and writes: a locked directory of checksummed documents and blobs,
 * plus content fingerprints. Phases talk to each other only through it. */
#ifndef CTRLMAP_CACHE_H
#define CTRLMAP_CACHE_H

#include "../pipeline/diag.h"
#include "../pipeline/status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Version of the cache's on-disk formats; documents of any other version are rebuilt, never trusted. */
#define CACHE_FORMAT 1

typedef struct CacheStore CacheStore;

typedef enum {
  CACHE_READ, /* shared lock: readers never see a half-updated index */
  CACHE_WRITE /* exclusive lock: one writer at a time */
} CacheMode;

/* The default cache directory: $XDG_CACHE_HOME/ctrlmap, else $HOME/.cache/ctrlmap. Owned. */
char *cache_default_dir(void);

/* Opens (creating when writing) the cache at `dir` and locks it, waiting up to lock_timeout_ms (negative: forever).
 * Returns NULL with *st set and a diagnostic on failure. */
CacheStore *cache_open(const char *dir, CacheMode mode, int lock_timeout_ms, PipeStatus *st, PipeDiagList *diags);
void cache_close(CacheStore *store); /* releases the lock; NULL is a no-op */

/* The cache root (borrowed), and an owned absolute path of `rel` inside it. */
const char *cache_root(const CacheStore *store);
char *cache_path(const CacheStore *store, const char *rel);
/* Creates the directory `rel` inside the cache (and parents). */
PipeStatus cache_mkdir(const CacheStore *store, const char *rel, PipeDiagList *diags);

/* A document is one JSON value behind a header line naming its kind, the cache format and a checksum of the body:
 *     ctrlmap:<kind> v<format> xxh3:<16 hex digits> <body length>
 * Loading checks all four; a mismatch is PIPE_ERR_CORRUPT (or PIPE_ERR_VERSION) with a warning, and the caller
 * rebuilds. A missing document is PIPE_ERR_NOTFOUND with no diagnostic. Saving is atomic (temp file + rename) but
 * not fsync'd: everything in the cache can be rebuilt, and a thousand fsyncs would cost more than a rebuild. */
PipeStatus cache_doc_load(const CacheStore *store, const char *rel, const char *kind, json_t **doc,
                          PipeDiagList *diags);
PipeStatus cache_doc_save(const CacheStore *store, const char *rel, const char *kind, const json_t *doc,
                          PipeDiagList *diags);
/* The same framing on memory, for tests and for readers that already hold the bytes. */
char *cache_doc_encode(const char *kind, const json_t *doc, size_t *len); /* owned */
PipeStatus cache_doc_decode(const char *data, size_t len, const char *kind, const char *origin, json_t **doc,
                            PipeDiagList *diags);

/* 64-bit content hash (XXH3) and its fixed 16-digit lower-case hex form. */
uint64_t cache_hash(const void *data, size_t len);
void cache_hash_hex(uint64_t h, char out[17]);
bool cache_hash_parse(const char *hex, uint64_t *h);

/* Fingerprint of a directory tree from metadata only (relative names, types, sizes, modification times), so that
 * touching, editing, adding or removing any file changes it without reading file contents. Follows symlinks.
 * Returns PIPE_ERR_IO when `dir` cannot be read. */
PipeStatus cache_fingerprint_dir(const char *dir, uint64_t *fp);

#endif
