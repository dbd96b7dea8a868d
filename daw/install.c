/* install.c: Ardour's user map folders, atomic installs that never clobber a file ctrlmap did not write, and the
 * provenance ctrlmap records in its files (for daw:list). */
#include "daw.h"

#include "../pipeline/fsx.h"
#include "../pipeline/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The provenance comment is on the second line; a few hundred bytes hold it. */
#define HEAD_BYTES 4096

void daw_strv_free(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

static char *config_home(void)
{
  const char *xdg = getenv("XDG_CONFIG_HOME");
  if (xdg && xdg[0] == '/')
    return pipe_xstrdup(xdg);
  const char *home = getenv("HOME");
  return pipe_xasprintf("%s/.config", home && *home ? home : "/root");
}

static bool is_dir(const char *path)
{
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

char **daw_ardour_user_dirs(const char *dir, bool create, PipeDiagList *diags)
{
  char **out = pipe_xcalloc(3, sizeof(char *));
  size_t n = 0;
  if (dir) {
    if (create ? pipe_fs_mkdirs(dir, diags) == PIPE_OK : is_dir(dir))
      out[n++] = pipe_xstrdup(dir);
    return out;
  }
  char *cfg = config_home();
  const char *versions[] = {"ardour8", "ardour7"}; /* Ardour reads its own version's folder only */
  for (size_t i = 0; i < 2; i++) {
    char *app = pipe_path_join(cfg, versions[i]), *maps = pipe_path_join(app, "midi_maps");
    if (is_dir(app) && (create ? pipe_fs_mkdirs(maps, diags) == PIPE_OK : is_dir(maps)))
      out[n++] = maps;
    else
      free(maps);
    free(app);
  }
  if (!n && create)
    pipe_diag_add(diags, PIPE_SEV_ERROR, "ardour-no-user-dir", cfg, 0, 0,
                  "no Ardour 7 or 8 configuration folder here (run Ardour once, or give --ardour-dir DIR)");
  free(cfg);
  return out;
}

static char *read_head(const char *path, size_t *len)
{
  /* Regular files only: a FIFO named *.map in Ardour's folder must not hang daw:list. */
  FILE *f = pipe_fs_open_regular(path, "rb");
  if (!f)
    return NULL;
  char *buf = pipe_xmalloc(HEAD_BYTES + 1);
  *len = fread(buf, 1, HEAD_BYTES, f);
  buf[*len] = '\0';
  fclose(f);
  return buf;
}

DawFileKind daw_file_kind(const char *path)
{
  size_t len = 0;
  char *head = read_head(path, &len);
  struct stat sb;
  if (!head) /* gone, or something that is not a regular file (a FIFO, a directory): that is not ours to replace */
    return lstat(path, &sb) != 0 && errno == ENOENT ? DAW_FILE_MISSING : DAW_FILE_FOREIGN;
  DawFileKind k = strstr(head, "<!-- " DAW_MARKER " ") ? DAW_FILE_OURS : DAW_FILE_FOREIGN;
  free(head);
  return k;
}

/* The value after `key` up to the next ';' (or the comment's end for the last field). */
static char *field(const char *comment, const char *key, bool last)
{
  const char *p = strstr(comment, key);
  if (!p)
    return NULL;
  p += strlen(key);
  const char *end = last ? strstr(p, " -->") : strchr(p, ';');
  if (!end)
    return NULL;
  char *out = pipe_xmalloc((size_t)(end - p) + 1), *w = out;
  for (; p < end; p++) { /* undo the percent-encoding of '%', ';' and '-' (ardour.c) */
    unsigned v;
    if (*p == '%' && end - p >= 3 && sscanf(p + 1, "%2x", &v) == 1) {
      *w++ = (char)v;
      p += 2;
    } else {
      *w++ = *p;
    }
  }
  *w = '\0';
  return out;
}

void daw_provenance_release(DawProvenance *p)
{
  free(p->map_path);
  free(p->map_hash);
  free(p->plugin);
  free(p->descriptor_hash);
  memset(p, 0, sizeof *p);
}

bool daw_file_provenance(const char *path, DawProvenance *p)
{
  memset(p, 0, sizeof *p);
  size_t len = 0;
  char *head = read_head(path, &len);
  const char *c = head ? strstr(head, "<!-- " DAW_MARKER " ") : NULL;
  if (c) {
    p->map_hash = field(c, "map-xxh3: ", false);
    p->descriptor_hash = field(c, "descriptor-xxh3: ", false);
    p->plugin = field(c, "plugin: ", false);
    p->map_path = field(c, "; map: ", true);
  }
  free(head);
  if (p->map_path && p->map_hash && p->descriptor_hash && p->plugin)
    return true;
  daw_provenance_release(p);
  return false;
}

static bool same_bytes(const char *path, const char *data, size_t len)
{
  char *old = NULL;
  size_t old_len = 0;
  bool same = pipe_fs_read(path, len + 1, &old, &old_len, NULL) == PIPE_OK && old_len == len && !memcmp(old, data, len);
  free(old);
  return same;
}

PipeStatus daw_install(const char *dir, const char *name, const char *data, size_t len, bool force, bool *written,
                       PipeDiagList *diags)
{
  *written = false;
  char *path = pipe_path_join(dir, name);
  PipeStatus st = PIPE_OK;
  if (!force && daw_file_kind(path) == DAW_FILE_FOREIGN) {
    pipe_diag_add(diags, PIPE_SEV_ERROR, "ardour-foreign", path, 0, 0,
                  "this file was not written by ctrlmap; not replacing it (use --force to replace it)");
    st = PIPE_ERR_INVALID;
  } else if (!same_bytes(path, data, len)) {
    st = pipe_fs_write_atomic(path, data, len, true, diags);
    *written = st == PIPE_OK;
  }
  free(path);
  return st;
}
