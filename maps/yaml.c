/* yaml.c: YAML files into a small marked tree (from libfyaml's events), strict scalar reads, and the table-driven
 * mapping walker the map, profile and registry loaders share. */
#include "yaml.h"

#include "maps_internal.h"

#include "../pipeline/text.h"
#include "../pipeline/xalloc.h"

#include <libfyaml.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARENA_BLOCK  (64u * 1024)
#define ALIAS_REPORT 5 /* aliases and merge keys reported before the parse gives up */

/* ---------------------------------------------------------------------------------------------------------------
 * Arena: a tree is thousands of small nodes and strings freed together. */

typedef struct Block {
  struct Block *next;
  size_t used, cap;
  alignas(max_align_t) unsigned char data[];
} Block;

struct YamlDoc {
  Block *blocks;
  YamlNode *root;
  size_t n_nodes;
};

static void *arena_alloc(YamlDoc *doc, size_t size)
{
  size = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
  Block *b = doc->blocks;
  if (!b || b->cap - b->used < size) {
    size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
    b = pipe_xmalloc(sizeof(Block) + cap);
    b->next = doc->blocks;
    b->used = 0;
    b->cap = cap;
    doc->blocks = b;
  }
  void *p = b->data + b->used;
  b->used += size;
  return p;
}

void yaml_doc_free(YamlDoc *doc)
{
  if (!doc)
    return;
  for (Block *b = doc->blocks, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(doc);
}

const YamlNode *yaml_doc_root(const YamlDoc *doc)
{
  return doc ? doc->root : NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Reporting */

void yaml_report(YamlCtx *ctx, PipeSeverity sev, const char *code, MapMark mark, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *msg = pipe_xvasprintf(fmt, ap);
  va_end(ap);
  pipe_diag_add(ctx->diags, sev, code, ctx->file, mark.line, mark.column, "%s", msg);
  free(msg);
  ctx->errors += sev == PIPE_SEV_ERROR;
}

/* libfyaml marks are 0-based; ours are 1-based, 0 meaning unknown. */
static MapMark mark_from_fy(const struct fy_mark *m)
{
  MapMark mark = {0, 0};
  if (m && m->line >= 0 && m->column >= 0) {
    mark.line = (unsigned)m->line + 1;
    mark.column = (unsigned)m->column + 1;
  }
  return mark;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Reading */

/* stat before anything is opened: a directory or FIFO must not be read, a huge file must not be read at all. */
static PipeStatus check_file(YamlCtx *ctx, const char *path, size_t *size)
{
  struct stat sb;
  MapMark none = {0, 0};
  if (stat(path, &sb) != 0) {
    yaml_report(ctx, PIPE_SEV_ERROR, "map-io", none, "cannot read file: %s", strerror(errno));
    return PIPE_ERR_IO;
  }
  if (!S_ISREG(sb.st_mode)) {
    yaml_report(ctx, PIPE_SEV_ERROR, "map-io", none, "%s; expected a YAML file",
                S_ISDIR(sb.st_mode) ? "is a directory" : "is not a regular file");
    return PIPE_ERR_IO;
  }
  if ((uintmax_t)sb.st_size > MAP_MAX_FILE_BYTES) {
    yaml_report(ctx, PIPE_SEV_ERROR, "map-too-large", none, "file is %jd bytes; expected at most %u",
                (intmax_t)sb.st_size, (unsigned)MAP_MAX_FILE_BYTES);
    return PIPE_ERR_INVALID;
  }
  *size = (size_t)sb.st_size;
  return PIPE_OK;
}

/* Reads fd to its end, but never more than the cap plus one byte: the file may have grown since the stat. */
static PipeStatus read_capped(YamlCtx *ctx, int fd, size_t size, char **data, size_t *len)
{
  size_t cap = MAP_MAX_FILE_BYTES + 1, n = 0, want = size + 1;
  char *buf = pipe_xmalloc(want + 1);
  for (;;) {
    if (n == want) {
      if (want >= cap)
        break;
      want = want * 2 < cap ? want * 2 : cap;
      buf = pipe_xrealloc(buf, want + 1);
    }
    ssize_t r = read(fd, buf + n, want - n);
    if (r == 0)
      break;
    if (r > 0) {
      n += (size_t)r;
    } else if (errno != EINTR) {
      yaml_report(ctx, PIPE_SEV_ERROR, "map-io", (MapMark){0, 0}, "cannot read file: %s", strerror(errno));
      free(buf);
      return PIPE_ERR_IO;
    }
  }
  if (n > MAP_MAX_FILE_BYTES) {
    yaml_report(ctx, PIPE_SEV_ERROR, "map-too-large", (MapMark){0, 0}, "file is over %u bytes; expected at most %u",
                (unsigned)MAP_MAX_FILE_BYTES, (unsigned)MAP_MAX_FILE_BYTES);
    free(buf);
    return PIPE_ERR_INVALID;
  }
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return PIPE_OK;
}

PipeStatus yaml_read_file(const char *path, char **data, size_t *len, PipeDiagList *diags)
{
  YamlCtx ctx = {path, diags, 0};
  size_t size = 0;
  *data = NULL;
  *len = 0;
  PipeStatus st = check_file(&ctx, path, &size);
  if (st != PIPE_OK)
    return st;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* non-blocking: a FIFO swapped in since the stat */
  if (fd < 0) {
    yaml_report(&ctx, PIPE_SEV_ERROR, "map-io", (MapMark){0, 0}, "cannot read file: %s", strerror(errno));
    return PIPE_ERR_IO;
  }
  st = read_capped(&ctx, fd, size, data, len);
  close(fd);
  return st;
}

/* Length of the UTF-8 sequence at s (at most `avail` bytes), or 0 when it is not well formed. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
  size_t n;
  return pipe_utf8_next(s, avail, &n) < 0 ? 0 : n;
}

/* YAML is text: libfyaml stops quietly at a NUL byte, so binary input is refused here, with its position. */
static bool check_text(YamlCtx *ctx, const char *text, size_t len, size_t *flow_marks)
{
  static const unsigned char flow[256] = {['['] = 1, ['{'] = 1, [','] = 1, [':'] = 1};
  const unsigned char *s = (const unsigned char *)text;
  MapMark at = {1, 1};
  *flow_marks = 0;
  for (size_t i = 0; i < len;) {
    if (s[i] >= 0x20 && s[i] < 0x7F) { /* most of a map: printable ASCII */
      *flow_marks += flow[s[i]];
      at.column++, i++;
      continue;
    }
    size_t n = utf8_len(s + i, len - i);
    if (n == 0) {
      yaml_report(ctx, PIPE_SEV_ERROR, "yaml-syntax", at, "byte 0x%02x is not UTF-8; expected a YAML text file", s[i]);
      return false;
    }
    if (n == 1 && ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') || s[i] == 0x7F)) {
      yaml_report(ctx, PIPE_SEV_ERROR, "yaml-syntax", at, "control character 0x%02x; expected a YAML text file", s[i]);
      return false;
    }
    /* A bare CR is a line break to libfyaml but not to editors or to this count: the marks of everything after it
     * would disagree with what the user sees, and a CR inside a name moves the terminal's cursor. */
    if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n')) {
      yaml_report(ctx, PIPE_SEV_ERROR, "yaml-syntax", at,
                  "carriage return (0x0d) not followed by a line feed; expected LF or CRLF line ends");
      return false;
    }
    if (s[i] == '\n')
      at.line++, at.column = 1;
    else
      at.column++;
    i += n;
  }
  return true;
}

/* Block explicit keys ("? key") are refused before libfyaml sees them: ctrlmap's files only use plain keys, and
 * libfyaml 0.7.12 (Debian 12) crashes in fy_parser_destroy after the error it reports for an explicit key followed
 * by a tab and a block indicator ("? a:\t|", found by fuzz_registry; see fuzz/regress). A line is looked at after
 * its indentation and any "- " entries; a "?" there followed by a blank or the line's end is an explicit key. (A
 * block scalar line that starts with "? " is refused too: the price of not lexing YAML twice.) */
static bool check_explicit_keys(YamlCtx *ctx, const char *s, size_t len)
{
  if (!memchr(s, '?', len))
    return true; /* nearly every map */
  unsigned line = 1;
  for (size_t i = 0; i < len; line++) {
    size_t start = i;
    while (i < len && (s[i] == ' ' || (s[i] == '-' && i + 1 < len && (s[i + 1] == ' ' || s[i + 1] == '\t'))))
      i++;
    if (i < len && s[i] == '?' && (i + 1 == len || strchr(" \t\r\n", s[i + 1]))) {
      yaml_report(ctx, PIPE_SEV_ERROR, "yaml-syntax", (MapMark){line, (unsigned)(i - start + 1)},
                  "explicit key ('? '); expected a plain 'key: value'");
      return false;
    }
    const char *nl = memchr(s + i, '\n', len - i);
    i = nl ? (size_t)(nl - s) + 1 : len;
  }
  return true;
}

/* libfyaml 0.7 queues every token of a flow collection that could be a simple key (one at the top of a document or
 * after "- ") until the collection ends, before it yields a single event: 4 MiB of "[[[[" cost 1.4 GB and 2 s
 * before the depth check of the builder ever ran, and a 4 MiB "[a, a, ...]" 840 MB. This lexical pass bounds flow
 * nesting and the size of one flow collection first. It skips quoted scalars, comments and block scalars, and counts
 * a bracket only where a node can start (or inside a flow collection, where plain scalars cannot hold one), so the
 * brackets of text are not counted; one it misses only leaves the bound to the builder. */
typedef struct {
  MapMark at, outer;             /* the current byte; where the outermost open flow collection starts */
  size_t depth, items;           /* flow nesting; indicators in the outermost flow collection */
  char open[YAML_MAX_DEPTH + 1]; /* the brackets open, for closing a cut */
  size_t cut;                    /* too deep: the length of the text up to the bracket one level too deep */
  char quote;                    /* inside a '- or "-quoted scalar */
  bool node_start;               /* a node may start here (a bracket or quote opens one) */
  bool comment;                  /* the rest of the line is a comment */
  bool line_start;               /* still in the line's indentation */
  bool prop;                     /* in the name of an anchor (&a) or tag (!t) */
  size_t indent;                 /* the line's indentation */
  long block_parent;             /* >= 0: a block scalar was opened on a line of this indentation */
  long block_indent;             /* the block scalar's content indentation, -1 until its first line */
  PipeStatus st;                 /* why the scan stopped */
} FlowScan;

/* At the first non-space byte `c` of a line: whether the line is block scalar content (skipped). */
static bool flow_block_line(FlowScan *f, unsigned char c)
{
  if (f->block_parent < 0 || f->quote || f->depth)
    return false;
  if (c == '\n' || c == '\r')
    return true; /* blank lines belong to the scalar */
  if (f->block_indent < 0 && (long)f->indent > f->block_parent)
    f->block_indent = (long)f->indent;
  if (f->block_indent >= 0 && (long)f->indent >= f->block_indent)
    return true;
  f->block_parent = f->block_indent = -1;
  return false;
}

/* Opens a flow collection with the bracket at s[i]; false when it is one level too deep (f->cut is then set). */
static bool flow_open(FlowScan *f, const char *s, size_t i)
{
  if (f->depth == 0)
    f->outer = f->at, f->items = 0;
  f->open[f->depth++] = s[i];
  f->node_start = true;
  f->items++;
  if (f->depth <= YAML_MAX_DEPTH)
    return true;
  f->cut = i + 1;
  f->st = PIPE_ERR_PARSE;
  return false;
}

/* One byte outside quotes and comments; false when a bound is crossed. */
static bool flow_byte(YamlCtx *ctx, FlowScan *f, const char *s, size_t i, size_t len)
{
  unsigned char c = (unsigned char)s[i], next = i + 1 < len ? (unsigned char)s[i + 1] : '\n';
  bool space_next = next == ' ' || next == '\t' || next == '\n' || next == '\r';
  bool flow_end = f->depth && (c == ',' || c == ']' || c == '}');
  if (f->prop && c != ' ' && c != '\t' && !flow_end)
    return true; /* the name of an anchor or tag: the node starts after it */
  f->prop = false;
  if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\n'))
    f->comment = true;
  else if (c == ' ' || c == '\t' || c == '\r')
    ; /* keeps node_start */
  else if (f->node_start && (c == '"' || c == '\''))
    f->quote = (char)c;
  else if ((c == '[' || c == '{') && (f->depth || f->node_start))
    return flow_open(f, s, i);
  else if (f->depth && (c == ']' || c == '}'))
    f->depth--, f->node_start = false;
  else if (f->depth && (c == ',' || c == ':'))
    f->node_start = true, f->items++;
  else if (!f->depth && (c == '-' || c == '?' || c == ':') && space_next)
    f->node_start = true; /* "- ", "? ", ": " */
  else if (!f->depth && f->node_start && (c == '|' || c == '>'))
    f->block_parent = (long)f->indent, f->block_indent = -1, f->comment = true; /* the header, then content */
  else if (f->node_start && (c == '&' || c == '!'))
    f->prop = true;
  else
    f->node_start = false;
  if (f->depth && f->items > YAML_MAX_FLOW_ITEMS) {
    yaml_report(ctx, PIPE_SEV_ERROR, "map-too-large", f->outer,
                "a flow collection ([...] or {...}) with more than %u items; expected block style for large "
                "collections",
                (unsigned)YAML_MAX_FLOW_ITEMS);
    f->st = PIPE_ERR_INVALID;
    return false;
  }
  return true;
}

/* Inside a quoted scalar: a doubled ' and a \-escape are skipped, the closing quote ends it. */
static void flow_quoted(FlowScan *f, const char *s, size_t *i, size_t len)
{
  char c = s[*i];
  if (f->quote == '"' && c == '\\' && *i + 1 < len && s[*i + 1] != '\n')
    ++*i;
  else if (f->quote == '\'' && c == '\'' && *i + 1 < len && s[*i + 1] == '\'')
    ++*i;
  else if (c == f->quote)
    f->quote = 0, f->node_start = false;
}

/* At the first non-space byte of a line: block scalar content and directives are skipped, "---" starts a node. */
static void flow_line(FlowScan *f, const char *s, size_t *i, size_t len)
{
  f->line_start = false;
  if (flow_block_line(f, (unsigned char)s[*i]) || (f->indent == 0 && !f->depth && s[*i] == '%'))
    f->comment = true;
  else if (f->indent == 0 && len - *i >= 3 && !memcmp(s + *i, "---", 3) &&
           (len - *i == 3 || strchr(" \t\r\n", s[*i + 3])))
    *i += 2, f->at.column += 2, f->node_start = true;
}

/* The bytes flow_byte and the line handling look at; any other byte only ends a possible node start. */
static bool flow_special(unsigned char c)
{
  static const bool special[256] = {
      [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, ['#'] = 1, ['"'] = 1, ['\''] = 1, ['['] = 1, [']'] = 1, ['{'] = 1,
      ['}'] = 1, [','] = 1,  [':'] = 1,  ['-'] = 1,  ['?'] = 1, ['|'] = 1, ['>'] = 1,  ['&'] = 1, ['!'] = 1, ['%'] = 1};
  return special[c];
}

static PipeStatus check_flow(YamlCtx *ctx, const char *s, size_t len, FlowScan *f)
{
  *f = (FlowScan){.at = {1, 0}, .node_start = true, .line_start = true, .block_parent = -1, .block_indent = -1};
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n') {
      f->at.line++, f->at.column = 0; /* at: the byte's own column once counted below */
      f->comment = false, f->line_start = true, f->indent = 0;
      f->node_start = f->node_start || (!f->depth && !f->quote);
      continue;
    }
    if (f->comment) { /* to the end of the line; columns do not matter there */
      const char *nl = memchr(s + i, '\n', len - i);
      i = nl ? (size_t)(nl - s) - 1 : len;
      continue;
    }
    if (!f->line_start && !f->quote && !f->prop && !flow_special(c)) { /* the text of a plain scalar: most bytes */
      f->at.column += (c & 0xC0) != 0x80;
      f->node_start = false;
      continue;
    }
    if ((c & 0xC0) != 0x80)
      f->at.column++;
    if (f->line_start && c == ' ' && !f->quote) {
      f->indent++;
      continue;
    }
    if (f->line_start && !f->quote)
      flow_line(f, s, &i, len);
    f->line_start = false; /* also on a line that goes on a quoted scalar: its spaces are text */
    if (f->comment)
      continue;
    if (f->quote)
      flow_quoted(f, s, &i, len);
    else if (!flow_byte(ctx, f, s, i, len))
      return f->st;
  }
  return PIPE_OK;
}

/* Too deep: the text up to the bracket one level too deep, with its open brackets closed. The builder reads that
 * in bounded memory and reports the depth where it is crossed, counting the block levels this scan does not know. */
static char *flow_cut_text(const char *s, const FlowScan *f, size_t *len)
{
  char *out = pipe_xmalloc(f->cut + f->depth + 2);
  memcpy(out, s, f->cut);
  *len = f->cut;
  for (size_t k = f->depth; k-- > 0;)
    out[(*len)++] = f->open[k] == '[' ? ']' : '}';
  out[(*len)++] = '\n';
  out[*len] = '\0';
  return out;
}

/* C0, DEL and C1: the characters that move a terminal's cursor or break a line. */
static bool is_control(long cp)
{
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

char *yaml_printable(const char *s)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t len = strlen(s), i = 0, n = 0;
  long cp;
  while (i < len && (cp = pipe_utf8_next(u + i, len - i, &n)) >= 0 && !is_control(cp))
    i += n;
  if (i == len)
    return NULL;
  char *out = pipe_xmalloc(4 * len + 1), *w = out;
  for (i = 0; i < len; i += n) {
    cp = pipe_utf8_next(u + i, len - i, &n); /* n is 1 when it is not UTF-8 */
    if (cp < 0 || is_control(cp)) {
      for (size_t k = 0; k < n; k++)
        w += sprintf(w, "\\x%02x", u[i + k]);
    } else {
      memcpy(w, u + i, n);
      w += n;
    }
  }
  *w = '\0';
  return out;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Building the tree from events */

typedef struct {
  YamlDoc *doc;
  YamlCtx *ctx;
  YamlNode *open[YAML_MAX_DEPTH]; /* the collections being filled */
  YamlNode *tail[YAML_MAX_DEPTH]; /* their last child */
  int depth;
  int docs;
  size_t aliases, bad_chars;
  bool cut, deep;   /* reading a text cut where it is too deep (check_flow); the depth was reported */
  const char *text; /* what libfyaml reads */
  size_t len;
  MapMark last; /* the latest known mark: where an empty value (no token) is reported */
  bool failed, stop;
} Builder;

static YamlNode *node_new(Builder *b, YamlKind kind, MapMark mark)
{
  if (++b->doc->n_nodes > YAML_MAX_NODES) {
    yaml_report(b->ctx, PIPE_SEV_ERROR, "map-too-large", mark, "more than %u YAML nodes; expected a few thousand",
                YAML_MAX_NODES);
    b->failed = b->stop = true;
    return NULL;
  }
  YamlNode *n = arena_alloc(b->doc, sizeof(YamlNode));
  memset(n, 0, sizeof *n);
  n->kind = kind;
  n->mark = mark;
  n->text = "";
  return n;
}

/* Whether the next node appended to the innermost open collection is a mapping key. */
static bool at_key(const Builder *b)
{
  return b->depth > 0 && b->open[b->depth - 1]->kind == YAML_MAPPING && b->open[b->depth - 1]->n % 2 == 0;
}

static void attach(Builder *b, YamlNode *n)
{
  if (b->depth == 0) {
    b->doc->root = n;
    return;
  }
  YamlNode *parent = b->open[b->depth - 1];
  if (b->tail[b->depth - 1])
    b->tail[b->depth - 1]->next = n;
  else
    parent->child = n;
  b->tail[b->depth - 1] = n;
  parent->n++;
}

/* Whether a scalar holds what must not reach a name, a message line or an XML attribute: a control character other
 * than TAB and LF (C0, DEL, C1: check_text refuses them raw, so only an escape such as "\e" or "\x01" writes one; a
 * NUL would also cut the C string), a line break in a key, or bytes that are not UTF-8 ("\uD800" makes a lone
 * surrogate). *cp is the code point, or -1 for bad UTF-8. */
static bool scalar_bad_char(const char *text, size_t len, bool key, long *cp)
{
  const unsigned char *s = (const unsigned char *)text;
  for (size_t i = 0; i < len;) {
    if (s[i] >= 0x20 && s[i] < 0x7F) {
      i++;
      continue;
    }
    size_t n;
    long c = pipe_utf8_next(s + i, len - i, &n);
    if (c < 0 || (is_control(c) && c != '\t' && (c != '\n' || key))) {
      *cp = c;
      return true;
    }
    i += n;
  }
  return false;
}

static void refuse_chars(Builder *b, MapMark mark, long cp)
{
  if (cp < 0)
    yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-control-char", mark,
                "text is not UTF-8 (an escape such as \\uD800 writes a lone surrogate); expected UTF-8 text");
  else
    yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-control-char", mark,
                "text holds the control character U+%04lX%s; expected printable text", (unsigned long)cp,
                cp == '\n' ? " (a line break, in a key)" : "");
  b->failed = true;
  if (++b->bad_chars >= ALIAS_REPORT)
    b->stop = true;
}

/* libfyaml marks a block scalar (| or >) at the start of its first content line; the node starts at its indicator,
 * the first " |" or " >" (or one opening the line) on the last line before that with anything on it. Returns the
 * indicator's mark, or `at` when there is no such line. */
static MapMark block_scalar_mark(const Builder *b, const struct fy_mark *fm, MapMark at)
{
  size_t end = fm->input_pos <= b->len ? fm->input_pos : b->len, start;
  unsigned line = at.line;
  for (;;) { /* back to the previous line holding more than blanks */
    while (end > 0 && b->text[end - 1] != '\n')
      end--;
    if (end == 0)
      return at;
    end--, line--;
    for (start = end; start > 0 && b->text[start - 1] != '\n'; start--)
      ;
    if (strspn(b->text + start, " \t\r") < end - start)
      break;
    end = start;
  }
  unsigned column = 1;
  for (size_t i = start; i < end; i++) {
    char c = b->text[i];
    if ((c == '|' || c == '>') && (i == start || b->text[i - 1] == ' ' || b->text[i - 1] == '\t'))
      return (MapMark){line, column};
    column += ((unsigned char)c & 0xC0) != 0x80;
  }
  return at;
}

static void on_scalar(Builder *b, struct fy_event *fye)
{
  struct fy_token *tok = fye->scalar.value;
  MapMark mark = tok ? mark_from_fy(fy_event_start_mark(fye)) : b->last;
  enum fy_scalar_style style = tok ? fy_token_scalar_style(tok) : FYSS_PLAIN;
  if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) && mark.column > 1)
    mark.column--; /* libfyaml marks a quoted scalar's text; the node starts at its quote */
  else if (style == FYSS_LITERAL || style == FYSS_FOLDED)
    mark = block_scalar_mark(b, fy_event_start_mark(fye), mark);
  bool key = at_key(b);
  YamlNode *n = node_new(b, YAML_SCALAR, mark);
  if (!n)
    return;
  size_t len = 0;
  const char *text = tok ? fy_token_get_text(tok, &len) : NULL;
  if (text) {
    n->text = arena_alloc(b->doc, len + 1);
    memcpy(n->text, text, len);
    n->text[len] = '\0';
    n->len = len;
  }
  long cp;
  if (scalar_bad_char(n->text, n->len, key, &cp))
    refuse_chars(b, mark, cp);
  n->plain = style == FYSS_PLAIN;
  if (fye->scalar.tag) {
    size_t tlen = 0;
    const char *tag = fy_token_get_text(fye->scalar.tag, &tlen);
    if (tag && tlen == 21 && !memcmp(tag, "tag:yaml.org,2002:str", 21))
      n->plain = false;
  }
  if (key && n->plain && !strcmp(n->text, "<<")) {
    yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-alias", mark,
                "merge keys (<<) are not supported in canonical maps; write the keys out");
    b->failed = true;
    if (++b->aliases >= ALIAS_REPORT)
      b->stop = true;
  }
  attach(b, n);
}

static void on_alias(Builder *b, struct fy_event *fye)
{
  MapMark mark = mark_from_fy(fy_event_start_mark(fye));
  yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-alias", mark,
              "aliases are not supported in canonical maps; write the value out");
  b->failed = true;
  if (++b->aliases >= ALIAS_REPORT)
    b->stop = true;
  YamlNode *n = node_new(b, YAML_SCALAR, mark); /* a null placeholder keeps keys and values paired */
  if (n) {
    n->plain = true;
    attach(b, n);
  }
}

static void on_start(Builder *b, struct fy_event *fye, YamlKind kind)
{
  MapMark mark = mark_from_fy(fy_event_start_mark(fye));
  if (b->depth == YAML_MAX_DEPTH) {
    yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-depth", mark, "nesting is deeper than %d levels; expected at most %d",
                YAML_MAX_DEPTH, YAML_MAX_DEPTH);
    b->failed = b->stop = b->deep = true;
    return;
  }
  YamlNode *n = node_new(b, kind, mark);
  if (!n)
    return;
  attach(b, n);
  b->open[b->depth] = n;
  b->tail[b->depth] = NULL;
  b->depth++;
}

static int key_cmp(const void *pa, const void *pb)
{
  const YamlNode *a = *(const YamlNode *const *)pa, *b = *(const YamlNode *const *)pb;
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->text, b->text, n);
  if (c || a->len != b->len)
    return c ? c : (a->len < b->len ? -1 : 1);
  if (a->mark.line != b->mark.line)
    return a->mark.line < b->mark.line ? -1 : 1;
  return a->mark.column < b->mark.column ? -1 : a->mark.column > b->mark.column;
}

/* A YAML mapping must not repeat a key; libfyaml's event parser does not check it (its document loader does). */
static void check_duplicates(Builder *b, const YamlNode *map)
{
  size_t n = 0;
  if (map->n < 4)
    return;
  const YamlNode **keys = pipe_xmalloc(map->n / 2 * sizeof *keys);
  for (const YamlNode *k = map->child; k && k->next; k = k->next->next)
    if (k->kind == YAML_SCALAR)
      keys[n++] = k;
  qsort(keys, n, sizeof *keys, key_cmp);
  for (size_t i = 1; i < n; i++) {
    if (keys[i]->len != keys[i - 1]->len || memcmp(keys[i]->text, keys[i - 1]->text, keys[i]->len))
      continue;
    yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-syntax", keys[i]->mark,
                "duplicate key '%.64s' (first at line %u); expected each key once per mapping", keys[i]->text,
                keys[i - 1]->mark.line);
    b->failed = true;
  }
  free(keys);
}

static void on_end(Builder *b)
{
  if (b->depth == 0)
    return;
  YamlNode *n = b->open[--b->depth];
  if (n->kind == YAML_MAPPING)
    check_duplicates(b, n);
}

static void on_event(Builder *b, struct fy_event *fye)
{
  const struct fy_mark *m = fy_event_start_mark(fye);
  if (m)
    b->last = mark_from_fy(m);
  switch (fye->type) {
  case FYET_DOCUMENT_START:
    if (++b->docs > 1) {
      yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-multidoc", b->last,
                  "a second YAML document starts here; expected one document per file");
      b->failed = b->stop = true;
    }
    break;
  case FYET_SCALAR: on_scalar(b, fye); break;
  case FYET_ALIAS: on_alias(b, fye); break;
  case FYET_MAPPING_START: on_start(b, fye, YAML_MAPPING); break;
  case FYET_SEQUENCE_START: on_start(b, fye, YAML_SEQUENCE); break;
  case FYET_MAPPING_END:
  case FYET_SEQUENCE_END: on_end(b); break;
  default: break;
  }
}

/* What libfyaml prints when it has no position to collect with (e.g. "indentation indicator 0"): the first message
 * is kept as the fallback text of a yaml-syntax finding. */
typedef struct {
  char text[200];
} FyOutput;

static void keep_output(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
  FyOutput *out = user;
  (void)diag;
  if (out->text[0])
    return;
  if (len > 7 && !memcmp(buf, "[ERR]: ", 7))
    buf += 7, len -= 7;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
    len--;
  if (len >= sizeof out->text)
    len = sizeof out->text - 1;
  memcpy(out->text, buf, len);
  out->text[len] = '\0';
}

/* libfyaml's errors, collected instead of printed, as yaml-syntax findings (their marks are already 1-based). An
 * error libfyaml could only print is reported with its text at the last event's mark. */
static void report_fy_errors(Builder *b, struct fy_diag *diag, const FyOutput *out)
{
  void *it = NULL;
  struct fy_diag_error *e;
  size_t n = 0;
  while ((e = fy_diag_errors_iterate(diag, &it))) {
    if (e->type < FYET_ERROR)
      continue;
    MapMark at = {e->line > 0 ? (unsigned)e->line : 0, e->column > 0 ? (unsigned)e->column : 0};
    yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-syntax", at, "invalid YAML: %s", e->msg ? e->msg : "parse error");
    n++;
  }
  if (n == 0)
    yaml_report(b->ctx, PIPE_SEV_ERROR, "yaml-syntax", b->last, "invalid YAML: %s",
                out->text[0] ? out->text : "parse error");
}

/* Runs libfyaml's parser over `text`, feeding the builder until the stream ends, an error, or a refusal. */
static bool run_parser(Builder *b, const char *text, size_t len)
{
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = NULL;
  FyOutput out = {""};
  dcfg.output_fn = keep_output;
  dcfg.user = &out;
  dcfg.level = FYET_ERROR;
  dcfg.colorize = false;
  struct fy_diag *diag = fy_diag_create(&dcfg);
  if (!diag)
    abort(); /* only fails on out of memory */
  fy_diag_set_collect_errors(diag, true);
  struct fy_parse_cfg pcfg = {.search_path = NULL, .flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2, .diag = diag};
  struct fy_parser *fyp = fy_parser_create(&pcfg);
  if (!fyp || fy_parser_set_string(fyp, text, len) != 0)
    abort();
  struct fy_event *fye;
  while (!b->stop && (fye = fy_parser_parse(fyp))) {
    on_event(b, fye);
    fy_parser_event_free(fyp, fye);
  }
  bool ok = true;
  if (!b->stop && fy_parser_get_stream_error(fyp)) {
    if (!b->cut) /* else an error of the cut, not of the file; the depth is reported instead */
      report_fy_errors(b, diag, &out);
    ok = false;
  }
  fy_parser_destroy(fyp);
  fy_diag_destroy(diag);
  return ok && !b->failed;
}

PipeStatus yaml_parse(const char *text, size_t len, const char *file, YamlDoc **doc, PipeDiagList *diags)
{
  *doc = NULL;
  YamlCtx ctx = {file, diags, 0};
  if (len > MAP_MAX_FILE_BYTES) {
    yaml_report(&ctx, PIPE_SEV_ERROR, "map-too-large", (MapMark){0, 0}, "input is %zu bytes; expected at most %u", len,
                (unsigned)MAP_MAX_FILE_BYTES);
    return PIPE_ERR_INVALID;
  }
  size_t flow_marks;
  if (!check_text(&ctx, text, len, &flow_marks) || !check_explicit_keys(&ctx, text, len))
    return PIPE_ERR_PARSE;
  /* Few flow indicators bound libfyaml's queue by themselves (a map has a few hundred): the scan is skipped. */
  FlowScan flow;
  PipeStatus st = flow_marks > YAML_FLOW_SCAN_FROM ? check_flow(&ctx, text, len, &flow) : PIPE_OK;
  if (st == PIPE_ERR_INVALID)
    return st;
  char *cut = st == PIPE_OK ? NULL : flow_cut_text(text, &flow, &len);
  Builder b = {
      .doc = pipe_xcalloc(1, sizeof(YamlDoc)), .ctx = &ctx, .cut = cut != NULL, .text = cut ? cut : text, .len = len};
  bool parsed = run_parser(&b, cut ? cut : text, len);
  free(cut);
  if (b.cut && !b.deep) { /* the builder finds it first, counting block levels too; this is in case it did not */
    yaml_report(&ctx, PIPE_SEV_ERROR, "yaml-depth", flow.at, "nesting is deeper than %d levels; expected at most %d",
                YAML_MAX_DEPTH, YAML_MAX_DEPTH);
    parsed = false;
  }
  if (!parsed) {
    st = b.doc->n_nodes > YAML_MAX_NODES ? PIPE_ERR_INVALID : PIPE_ERR_PARSE;
    yaml_doc_free(b.doc);
    return st;
  }
  const YamlNode *root = b.doc->root;
  if (!root || (root->kind == YAML_SCALAR && root->plain && root->len == 0)) {
    yaml_report(&ctx, PIPE_SEV_ERROR, "map-empty", (MapMark){0, 0}, "file has no content; expected a YAML mapping");
    yaml_doc_free(b.doc);
    return PIPE_ERR_INVALID;
  }
  *doc = b.doc;
  return PIPE_OK;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Scalars */

bool yaml_is_null(const YamlNode *n)
{
  if (!n || n->kind != YAML_SCALAR || !n->plain)
    return false;
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
  return yaml_enum_index(nulls, n->text) >= 0;
}

bool yaml_all_digits(const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* Whether s is [-+]?[0-9]+ */
static bool is_decimal(const char *s)
{
  return yaml_all_digits(s + (*s == '-' || *s == '+'));
}

bool yaml_scalar_long(const YamlNode *n, long *out)
{
  if (!n || n->kind != YAML_SCALAR || !n->plain || !is_decimal(n->text))
    return false;
  errno = 0;
  *out = strtol(n->text, NULL, 10); /* saturates on overflow, which the callers' range checks then report */
  return true;
}

static const char *skip_digits(const char *s, size_t *count)
{
  *count = 0;
  while (*s >= '0' && *s <= '9')
    s++, ++*count;
  return s;
}

/* YAML 1.2 core schema float, decimal only: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_core_float(const char *s)
{
  size_t a = 0, b = 0;
  if (*s == '-' || *s == '+')
    s++;
  s = skip_digits(s, &a);
  if (*s == '.')
    s = skip_digits(s + 1, &b);
  if (a == 0 && b == 0)
    return false;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '-' || *s == '+')
      s++;
    s = skip_digits(s, &a);
    if (a == 0)
      return false;
  }
  return *s == '\0';
}

bool yaml_scalar_double(const YamlNode *n, double *out)
{
  if (!n || n->kind != YAML_SCALAR || !n->plain || !is_core_float(n->text))
    return false;
  double v = strtod(n->text, NULL);
  if (!isfinite(v))
    return false;
  *out = v;
  return true;
}

bool yaml_scalar_bool(const YamlNode *n, bool *out)
{
  static const char *const yes[] = {"true", "True", "TRUE", NULL}, *const no[] = {"false", "False", "FALSE", NULL};
  if (!n || n->kind != YAML_SCALAR || !n->plain)
    return false;
  if (yaml_enum_index(yes, n->text) >= 0)
    *out = true;
  else if (yaml_enum_index(no, n->text) >= 0)
    *out = false;
  else
    return false;
  return true;
}

char *yaml_scalar_dup(const YamlNode *n)
{
  return pipe_xstrdup(n && n->kind == YAML_SCALAR ? n->text : "");
}

const char *yaml_describe(const YamlNode *n, char *buf, size_t size)
{
  double d;
  if (!n)
    snprintf(buf, size, "missing");
  else if (n->kind == YAML_MAPPING)
    snprintf(buf, size, "a mapping");
  else if (n->kind == YAML_SEQUENCE)
    snprintf(buf, size, "a sequence");
  else if (yaml_is_null(n))
    snprintf(buf, size, "empty");
  else if (n->plain && yaml_scalar_double(n, &d) && n->len < 24)
    snprintf(buf, size, "%s", n->text);
  else if (!n->plain && is_core_float(n->text) && n->len < 24)
    snprintf(buf, size, "'%s' (quoted, so a text)", n->text);
  else if (n->len <= 40 && !strchr(n->text, '\n'))
    snprintf(buf, size, "'%s'", n->text);
  else /* a finding is one line: a block scalar's text is cut at its first line break */
    snprintf(buf, size, "'%.*s...'", (int)(strcspn(n->text, "\n") < 37 ? strcspn(n->text, "\n") : 37), n->text);
  return buf;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Did you mean */

unsigned yaml_levenshtein(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) /* keys are short; long words are never close to one */
    return 255;
  unsigned row[65];
  for (size_t j = 0; j <= lb; j++)
    row[j] = (unsigned)j;
  for (size_t i = 1; i <= la; i++) {
    unsigned diag = row[0];
    row[0] = (unsigned)i;
    for (size_t j = 1; j <= lb; j++) {
      unsigned up = row[j];
      unsigned best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb] > 255 ? 255 : row[lb];
}

const char *yaml_suggest(const char *word, const char *const *candidates)
{
  return map_did_you_mean(word, candidates, 0);
}

int yaml_enum_index(const char *const *values, const char *text)
{
  for (int i = 0; values[i]; i++)
    if (!strcmp(values[i], text))
      return i;
  return -1;
}

/* ---------------------------------------------------------------------------------------------------------------
 * The mapping walker */

static const char *want_name(YamlWant want)
{
  switch (want) {
  case YAML_WANT_SCALAR: return "a value";
  case YAML_WANT_SEQUENCE: return "a sequence";
  case YAML_WANT_MAPPING: return "a mapping";
  case YAML_WANT_ANY: break;
  }
  return "a value";
}

static bool kind_ok(YamlWant want, const YamlNode *v)
{
  switch (want) {
  case YAML_WANT_ANY: return true;
  case YAML_WANT_SCALAR: return v->kind == YAML_SCALAR && !yaml_is_null(v);
  case YAML_WANT_SEQUENCE: return v->kind == YAML_SEQUENCE;
  case YAML_WANT_MAPPING: return v->kind == YAML_MAPPING;
  }
  return false;
}

/* "a, b or c" of a NULL-terminated list, owned. */
static char *join_names(const char *const *names)
{
  size_t n = 0, size = 1;
  for (; names[n]; n++)
    size += strlen(names[n]) + 4;
  char *out = pipe_xmalloc(size);
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      strcat(out, i + 1 == n ? " or " : ", ");
    strcat(out, names[i]);
  }
  return out;
}

static void report_unknown(YamlCtx *ctx, const YamlNode *k, const char *what, const YamlKey *keys, size_t n_keys)
{
  const char *names[64];
  size_t n = 0;
  for (size_t i = 0; i < n_keys && n < 63; i++)
    names[n++] = keys[i].name;
  names[n] = NULL;
  const char *hint = yaml_suggest(k->text, names);
  if (hint) {
    yaml_report(ctx, PIPE_SEV_WARNING, "schema-unknown-key", k->mark, "unknown key '%.64s' in %s; did you mean '%s'?",
                k->text, what, hint);
    return;
  }
  char *all = join_names(names);
  yaml_report(ctx, PIPE_SEV_WARNING, "schema-unknown-key", k->mark, "unknown key '%.64s' in %s; expected %s", k->text,
              what, all);
  free(all);
}

/* Keys whose text may run over several lines. Every other value ends up in a finding's line, a file name or an XML
 * attribute, where a line break would split the line (or forge one that looks like another finding). */
static bool multiline_key(const char *name)
{
  return !strcmp(name, "description") || !strcmp(name, "notes");
}

/* Checks one value against its row; true when the row's store function may run. */
static bool value_ok(YamlCtx *ctx, const YamlKey *key, const YamlNode *v)
{
  char desc[64];
  if (!kind_ok(key->want, v)) {
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", v->mark, "%s is %s; expected %s", key->name,
                yaml_describe(v, desc, sizeof desc), key->expected ? key->expected : want_name(key->want));
    return false;
  }
  if (v->kind == YAML_SCALAR && key->store && !multiline_key(key->name) && memchr(v->text, '\n', v->len)) {
    yaml_report(ctx, PIPE_SEV_ERROR, "yaml-control-char", v->mark, "%s holds a line break; expected one line of text",
                key->name);
    return false;
  }
  if (key->values && yaml_enum_index(key->values, v->text) < 0) {
    char *all = join_names(key->values);
    const char *hint = yaml_suggest(v->text, key->values);
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-enum", v->mark, "%s is %s; expected %s%s%s%s", key->name,
                yaml_describe(v, desc, sizeof desc), all, hint ? " (did you mean '" : "", hint ? hint : "",
                hint ? "'?)" : "");
    free(all);
    return false;
  }
  return true;
}

void yaml_walk(YamlCtx *ctx, const YamlNode *map, const char *what, const YamlKey *keys, size_t n_keys, void *obj)
{
  bool seen[64] = {false};
  for (const YamlNode *k = map->child; k && k->next; k = k->next->next) {
    char desc[64];
    if (k->kind != YAML_SCALAR) {
      yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", k->mark, "a key in %s is %s; expected a name", what,
                  yaml_describe(k, desc, sizeof desc));
      continue;
    }
    size_t i = 0;
    while (i < n_keys && strcmp(keys[i].name, k->text))
      i++;
    if (i == n_keys) {
      report_unknown(ctx, k, what, keys, n_keys);
      continue;
    }
    if (i < 64)
      seen[i] = true;
    if (value_ok(ctx, &keys[i], k->next) && keys[i].store)
      keys[i].store(ctx, &keys[i], k->next, obj);
  }
  for (size_t i = 0; i < n_keys && i < 64; i++)
    if (keys[i].required && !seen[i])
      yaml_report(ctx, PIPE_SEV_ERROR, "schema-required", map->mark, "%s has no '%s'; expected %s", what, keys[i].name,
                  keys[i].expected ? keys[i].expected : want_name(keys[i].want));
}

void yaml_store_string(YamlCtx *ctx, const YamlKey *key, const YamlNode *value, void *obj)
{
  (void)ctx;
  char **slot = (char **)((char *)obj + key->offset);
  free(*slot);
  *slot = yaml_scalar_dup(value);
}

const YamlNode *yaml_lookup(const YamlNode *map, const char *name)
{
  if (!map || map->kind != YAML_MAPPING)
    return NULL;
  for (const YamlNode *k = map->child; k && k->next; k = k->next->next)
    if (k->kind == YAML_SCALAR && !strcmp(k->text, name))
      return k->next;
  return NULL;
}

char *yaml_path_dir(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    return pipe_xstrdup(".");
  if (slash == path)
    return pipe_xstrdup("/");
  char *dir = pipe_xmalloc((size_t)(slash - path) + 1);
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  return dir;
}

bool yaml_path_outside(const char *real, const char *root)
{
  size_t n = strlen(root);
  if (n == 1 && root[0] == '/')
    return false;
  return strncmp(real, root, n) != 0 || (real[n] != '/' && real[n] != '\0');
}

bool yaml_get_long(YamlCtx *ctx, const YamlKey *key, const YamlNode *value, long min, long max, const char *range_code,
                   long *out)
{
  char desc[64];
  long v;
  if (!yaml_scalar_long(value, &v)) {
    yaml_report(ctx, PIPE_SEV_ERROR, "schema-type", value->mark, "%s is %s; expected %s", key->name,
                yaml_describe(value, desc, sizeof desc), key->expected ? key->expected : "a whole number");
    return false;
  }
  if (v < min || v > max) {
    yaml_report(ctx, PIPE_SEV_ERROR, range_code, value->mark, "%s is %.24s; expected %s", key->name, value->text,
                key->expected ? key->expected : "a whole number in range");
    return false;
  }
  *out = v;
  return true;
}

PipeStatus yaml_parse_file(const char *path, YamlDoc **doc, PipeDiagList *diags)
{
  char *text = NULL;
  size_t len = 0;
  *doc = NULL;
  PipeStatus st = yaml_read_file(path, &text, &len, diags);
  if (st == PIPE_OK)
    st = yaml_parse(text, len, path, doc, diags);
  free(text);
  return st;
}
