/* testutil.h: helpers shared by the cmocka tests (temporary directories, fixture bundles). */
#ifndef CTRLMAP_TESTUTIL_H
#define CTRLMAP_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* The fixture bundles the build compiled ($CTRLMAP_TEST_LV2_DIR). */
const char *tu_fixture_lv2_dir(void);
/* A new empty directory under $TMPDIR; owned path. */
char *tu_tempdir(void);
/* rm -rf */
void tu_rmtree(const char *path);
/* Copies the named fixture bundles ("ctrlmap-allports.lv2"...; NULL-terminated) into `dest` (created). */
void tu_copy_bundles(const char *dest, const char *const *bundles);
/* Writes `len` bytes to `path` (plain, non-atomic: tests use it to damage files). */
void tu_write_file(const char *path, const void *data, size_t len);
/* Whole file as an owned string, NULL if unreadable. */
char *tu_read_file(const char *path, size_t *len);
/* Sets a file's mtime to now + `delta_s` seconds (like touch, but guaranteed to differ). */
void tu_touch(const char *path, int delta_s);

/* "a/b", owned. */
char *tu_path_join(const char *a, const char *b);
/* Owned copy of `text` with every `from` replaced by `to`. */
char *tu_replace_all(const char *text, const char *from, const char *to);

#endif
