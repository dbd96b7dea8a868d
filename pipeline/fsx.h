/* fsx.h: file-system helpers every writer shares: atomic replace, whole-file reads, directory creation, locks. */
#ifndef CTRLMAP_FSX_H
#define CTRLMAP_FSX_H

#include "diag.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Creates `path` and its missing parents (mode 0755). */
PipeStatus pipe_fs_mkdirs(const char *path, PipeDiagList *diags);

/* Replaces `path` with `len` bytes of `data`: written to a temporary file in the same directory, then renamed over
 * `path`, so readers and a killed writer only ever see the old file or the new one. With `durable`, the data is
 * fsync'd before the rename (for files whose loss would cost more than a rebuild). */
PipeStatus pipe_fs_write_atomic(const char *path, const void *data, size_t len, bool durable, PipeDiagList *diags);

/* Opens a regular file for reading as a stdio stream ("r" or "rb"), or NULL (errno set; EINVAL: not a regular
 * file). The open does not block: a FIFO put where a file was expected would otherwise wait for a writer forever. */
FILE *pipe_fs_open_regular(const char *path, const char *mode);

/* Reads a whole file into an owned, NUL-terminated buffer. Files larger than `max_len` are refused. */
PipeStatus pipe_fs_read(const char *path, size_t max_len, char **data, size_t *len, PipeDiagList *diags);

/* Removes temporary files that a killed writer left in `dir` (names containing ".tmp."). Only for directories
 * ctrlmap owns and holds the lock of (the cache). */
void pipe_fs_sweep_temps(const char *dir);
/* Removes the temporary files of pipe_fs_write_atomic ("NAME.tmp.PID.XXXXXX") whose writer is dead, and nothing
 * else: for shared directories (Ardour's map folder, --out), where another ctrlmap may be writing right now and a
 * user's own file may have ".tmp." in its name. */
void pipe_fs_sweep_dead_temps(const char *dir);

/* Takes an flock(2) on `path` (created if missing), shared or exclusive, waiting up to `timeout_ms` (negative:
 * forever). The lock dies with the process, so a killed run never leaves a stale lock. Returns the lock fd in *fd. */
PipeStatus pipe_fs_lock(const char *path, bool exclusive, int timeout_ms, int *fd, PipeDiagList *diags);
void pipe_fs_unlock(int fd); /* -1 is a no-op */

/* Joins two path parts with exactly one '/'. Owned result. */
char *pipe_path_join(const char *a, const char *b);

#endif
