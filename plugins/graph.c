/* graph.c: serd -> interned terms + sorted (s, p, o) triples. */
#include "graph.h"

#include "../pipeline/xalloc.h"

#include <serd/serd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct {
  uint32_t str;      /* offset into the string pool */
  uint32_t datatype; /* pool offset + 1, or 0 */
  uint32_t lang;     /* pool offset + 1, or 0 */
  uint8_t type;
} Term;

typedef struct {
  PlugTerm s, p, o;
} Triple;

struct PlugGraph {
  char *pool;
  size_t pool_len, pool_cap;
  Term *terms; /* terms[0] unused */
  size_t n_terms, cap_terms;
  uint32_t *slots; /* open-addressing hash: term ids */
  size_t n_slots;
  Triple *triples;
  size_t n_triples, cap_triples;
  SerdEnv *env;
  char *error; /* the first error serd reported */
  /* CURIE or relative URI -> term, valid while the prefixes and base stay as they are: a file repeats "lv2:index"
   * a thousand times, and expanding it each time (a prefix search, URI parsing, an allocation) was a third of the
   * read time. */
  uint32_t *curie_keys; /* pool offsets + 1 */
  PlugTerm *curie_vals;
  size_t n_curie_slots, n_curies;
  unsigned files;
  char *blank_prefix;
  char *syslang;
};

static char *system_lang(void);
static void curies_clear(PlugGraph *g);

PlugGraph *plug_graph_new(void)
{
  PlugGraph *g = pipe_xcalloc(1, sizeof(PlugGraph));
  g->n_terms = 1;
  g->cap_terms = 1024;
  g->terms = pipe_xcalloc(g->cap_terms, sizeof(Term));
  g->n_slots = 4096;
  g->slots = pipe_xcalloc(g->n_slots, sizeof(uint32_t));
  g->env = serd_env_new(NULL);
  g->syslang = system_lang();
  curies_clear(g);
  return g;
}

void plug_graph_free(PlugGraph *g)
{
  if (!g)
    return;
  serd_env_free(g->env);
  free(g->pool);
  free(g->terms);
  free(g->slots);
  free(g->triples);
  free(g->blank_prefix);
  free(g->error);
  free(g->syslang);
  free(g->curie_keys);
  free(g->curie_vals);
  free(g);
}

/* ---- interning ---- */

static uint32_t pool_add(PlugGraph *g, const char *s, size_t len)
{
  pipe_grow((void **)&g->pool, &g->pool_cap, g->pool_len + len + 1, 1);
  uint32_t off = (uint32_t)g->pool_len;
  memcpy(g->pool + off, s, len);
  g->pool[off + len] = '\0';
  g->pool_len += len + 1;
  return off;
}

static const char *opt_str(const PlugGraph *g, uint32_t off1)
{
  return off1 ? g->pool + off1 - 1 : NULL;
}

static uint64_t term_hash(uint8_t type, const char *s, size_t len, const char *dt, const char *lang)
{
  uint64_t h = XXH3_64bits_withSeed(s, len, type);
  if (dt)
    h ^= XXH3_64bits(dt, strlen(dt)) * 31;
  if (lang)
    h ^= XXH3_64bits(lang, strlen(lang)) * 131;
  return h;
}

static bool term_is(const PlugGraph *g, const Term *t, uint8_t type, const char *s, size_t len, const char *dt,
                    const char *lang)
{
  const char *ts = g->pool + t->str, *tdt = opt_str(g, t->datatype), *tl = opt_str(g, t->lang);
  return t->type == type && strlen(ts) == len && !memcmp(ts, s, len) && (!dt == !tdt) && (!dt || !strcmp(dt, tdt)) &&
         (!lang == !tl) && (!lang || !strcmp(lang, tl));
}

static void rehash(PlugGraph *g)
{
  size_t n = g->n_slots * 2;
  uint32_t *slots = pipe_xcalloc(n, sizeof(uint32_t));
  for (size_t id = 1; id < g->n_terms; id++) {
    const Term *t = &g->terms[id];
    const char *s = g->pool + t->str;
    uint64_t h = term_hash(t->type, s, strlen(s), opt_str(g, t->datatype), opt_str(g, t->lang));
    size_t i = h & (n - 1);
    while (slots[i])
      i = (i + 1) & (n - 1);
    slots[i] = (uint32_t)id;
  }
  free(g->slots);
  g->slots = slots;
  g->n_slots = n;
}

/* Finds or (when `add`) creates the term; returns 0 when absent and not added. */
static PlugTerm intern(PlugGraph *g, uint8_t type, const char *s, size_t len, const char *dt, const char *lang,
                       bool add)
{
  uint64_t h = term_hash(type, s, len, dt, lang);
  size_t i = h & (g->n_slots - 1);
  for (; g->slots[i]; i = (i + 1) & (g->n_slots - 1))
    if (term_is(g, &g->terms[g->slots[i]], type, s, len, dt, lang))
      return g->slots[i];
  if (!add)
    return 0;
  pipe_grow((void **)&g->terms, &g->cap_terms, g->n_terms + 1, sizeof(Term));
  PlugTerm id = (PlugTerm)g->n_terms++;
  Term *t = &g->terms[id];
  t->type = type;
  t->str = pool_add(g, s, len);
  t->datatype = dt ? pool_add(g, dt, strlen(dt)) + 1 : 0;
  t->lang = lang ? pool_add(g, lang, strlen(lang)) + 1 : 0;
  g->slots[i] = id;
  if (g->n_terms * 2 > g->n_slots)
    rehash(g);
  return id;
}

/* ---- CURIE cache ---- */

static void curies_clear(PlugGraph *g)
{
  free(g->curie_keys);
  free(g->curie_vals);
  g->n_curie_slots = 256;
  g->n_curies = 0;
  g->curie_keys = pipe_xcalloc(g->n_curie_slots, sizeof(uint32_t));
  g->curie_vals = pipe_xcalloc(g->n_curie_slots, sizeof(PlugTerm));
}

static size_t curie_slot(const PlugGraph *g, const char *s, size_t len)
{
  size_t mask = g->n_curie_slots - 1, i = XXH3_64bits(s, len) & mask;
  for (; g->curie_keys[i]; i = (i + 1) & mask) {
    const char *k = g->pool + g->curie_keys[i] - 1;
    if (!strncmp(k, s, len) && k[len] == '\0')
      break;
  }
  return i;
}

static void curie_put(PlugGraph *g, const char *s, size_t len, PlugTerm t)
{
  if ((g->n_curies + 1) * 2 > g->n_curie_slots) {
    uint32_t *keys = g->curie_keys;
    PlugTerm *vals = g->curie_vals;
    size_t n = g->n_curie_slots;
    g->n_curie_slots *= 2;
    g->curie_keys = pipe_xcalloc(g->n_curie_slots, sizeof(uint32_t));
    g->curie_vals = pipe_xcalloc(g->n_curie_slots, sizeof(PlugTerm));
    for (size_t i = 0; i < n; i++)
      if (keys[i]) {
        const char *k = g->pool + keys[i] - 1;
        size_t j = curie_slot(g, k, strlen(k));
        g->curie_keys[j] = keys[i];
        g->curie_vals[j] = vals[i];
      }
    free(keys);
    free(vals);
  }
  size_t i = curie_slot(g, s, len);
  g->curie_keys[i] = pool_add(g, s, len) + 1;
  g->curie_vals[i] = t;
  g->n_curies++;
}

/* ---- reading ---- */

static SerdStatus on_base(void *handle, const SerdNode *uri)
{
  PlugGraph *g = handle;
  curies_clear(g);
  return serd_env_set_base_uri(g->env, uri);
}

static SerdStatus on_prefix(void *handle, const SerdNode *name, const SerdNode *uri)
{
  PlugGraph *g = handle;
  curies_clear(g);
  return serd_env_set_prefix(g->env, name, uri);
}

/* Interns a node as serd hands it over: CURIEs and relative URIs resolved, blank labels made unique per file. */
static PlugTerm node_term(PlugGraph *g, const SerdNode *n, const SerdNode *dt, const SerdNode *lang)
{
  if (n->type == SERD_BLANK) {
    char small[256];
    size_t plen = strlen(g->blank_prefix), len = plen + n->n_bytes;
    char *buf = len < sizeof small ? small : pipe_xmalloc(len + 1);
    memcpy(buf, g->blank_prefix, plen);
    memcpy(buf + plen, n->buf, n->n_bytes + 1);
    PlugTerm t = intern(g, PLUG_TERM_BLANK, buf, len, NULL, NULL, true);
    if (buf != small)
      free(buf);
    return t;
  }
  if (n->type == SERD_LITERAL) {
    SerdNode edt = dt ? serd_env_expand_node(g->env, dt) : SERD_NODE_NULL;
    char *l = lang ? pipe_xasprintf("%.*s", (int)lang->n_bytes, (const char *)lang->buf) : NULL;
    PlugTerm t =
        intern(g, PLUG_TERM_LITERAL, (const char *)n->buf, n->n_bytes, edt.buf ? (const char *)edt.buf : NULL, l, true);
    free(l);
    serd_node_free(&edt);
    return t;
  }
  /* Most URIs in LV2 data are absolute already; only relative ones and CURIEs need the environment (and URI
   * resolution is the costliest step of reading). */
  if (n->type == SERD_URI && serd_uri_string_has_scheme(n->buf))
    return intern(g, PLUG_TERM_URI, (const char *)n->buf, n->n_bytes, NULL, NULL, true);
  /* CURIEs and relative URIs share the cache; a relative URI has no scheme, so it never looks like "pfx:name". */
  size_t slot = curie_slot(g, (const char *)n->buf, n->n_bytes);
  if (g->curie_keys[slot])
    return g->curie_vals[slot];
  SerdNode e = serd_env_expand_node(g->env, n);
  PlugTerm t = e.buf ? intern(g, PLUG_TERM_URI, (const char *)e.buf, e.n_bytes, NULL, NULL, true) : 0;
  serd_node_free(&e);
  if (t)
    curie_put(g, (const char *)n->buf, n->n_bytes, t);
  return t;
}

static SerdStatus on_statement(void *handle, SerdStatementFlags flags, const SerdNode *graph, const SerdNode *s,
                               const SerdNode *p, const SerdNode *o, const SerdNode *o_dt, const SerdNode *o_lang)
{
  (void)flags;
  (void)graph;
  PlugGraph *g = handle;
  Triple t = {node_term(g, s, NULL, NULL), node_term(g, p, NULL, NULL), node_term(g, o, o_dt, o_lang)};
  if (t.s && t.p && t.o) {
    pipe_grow((void **)&g->triples, &g->cap_triples, g->n_triples + 1, sizeof(Triple));
    g->triples[g->n_triples++] = t;
  }
  return SERD_SUCCESS;
}

/* Keeps the first error for the report; lilv logs them all in the log file. */
static SerdStatus on_error(void *handle, const SerdError *err)
{
  PlugGraph *g = handle;
  if (g->error)
    return SERD_SUCCESS;
  char msg[512];
  va_list args;
  va_copy(args, *err->args);
  vsnprintf(msg, sizeof msg, err->fmt, args);
  va_end(args);
  msg[strcspn(msg, "\n")] = '\0'; /* serd ends its messages with a newline */
  g->error = pipe_xasprintf("%s:%u:%u: %s", (const char *)err->filename, err->line, err->col, msg);
  return SERD_SUCCESS;
}

const char *plug_graph_error(const PlugGraph *g)
{
  return g->error;
}

PipeStatus plug_graph_load(PlugGraph *g, const char *file_uri)
{
  free(g->blank_prefix);
  g->blank_prefix = pipe_xasprintf("f%u_", g->files++);
  SerdNode base = serd_node_from_string(SERD_URI, (const uint8_t *)file_uri);
  serd_env_set_base_uri(g->env, &base);
  curies_clear(g);
  SerdReader *r = serd_reader_new(SERD_TURTLE, g, NULL, on_base, on_prefix, on_statement, NULL);
  serd_reader_set_error_sink(r, on_error, g);
  SerdStatus st = serd_reader_read_file(r, (const uint8_t *)file_uri);
  serd_reader_free(r);
  return st > SERD_FAILURE ? PIPE_ERR_PARSE : PIPE_OK;
}

/* ---- queries ---- */

static const PlugGraph *sort_graph; /* qsort has no context argument; sealing is single-threaded */

static int cmp_terms(PlugTerm a, PlugTerm b)
{
  if (a == b)
    return 0;
  const Term *x = &sort_graph->terms[a], *y = &sort_graph->terms[b];
  if (x->type != y->type)
    return x->type < y->type ? -1 : 1;
  int c = strcmp(sort_graph->pool + x->str, sort_graph->pool + y->str);
  if (c)
    return c;
  const char *lx = opt_str(sort_graph, x->lang), *ly = opt_str(sort_graph, y->lang);
  return strcmp(lx ? lx : "", ly ? ly : "");
}

static int cmp_triples(const void *a, const void *b)
{
  const Triple *x = a, *y = b;
  if (x->s != y->s)
    return x->s < y->s ? -1 : 1;
  if (x->p != y->p)
    return x->p < y->p ? -1 : 1;
  return cmp_terms(x->o, y->o);
}

void plug_graph_seal(PlugGraph *g)
{
  sort_graph = g;
  if (g->n_triples)
    qsort(g->triples, g->n_triples, sizeof(Triple), cmp_triples);
  sort_graph = NULL;
  /* Duplicate statements (a file read twice, a triple stated twice) count once, as in a set-based store. */
  size_t w = 0;
  for (size_t i = 0; i < g->n_triples; i++)
    if (!w || memcmp(&g->triples[w - 1], &g->triples[i], sizeof(Triple)))
      g->triples[w++] = g->triples[i];
  g->n_triples = w;
}

PlugTerm plug_graph_uri(const PlugGraph *g, const char *uri)
{
  return intern((PlugGraph *)g, PLUG_TERM_URI, uri, strlen(uri), NULL, NULL, false);
}

size_t plug_graph_find(const PlugGraph *g, PlugTerm s, PlugTerm p, size_t *first)
{
  if (!s || !p)
    return 0;
  size_t lo = 0, hi = g->n_triples;
  while (lo < hi) { /* the first triple at or after (s, p) */
    size_t mid = lo + (hi - lo) / 2;
    const Triple *t = &g->triples[mid];
    if (t->s < s || (t->s == s && t->p < p))
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t end = lo;
  while (end < g->n_triples && g->triples[end].s == s && g->triples[end].p == p)
    end++;
  *first = lo;
  return end - lo;
}

PlugTerm plug_graph_object(const PlugGraph *g, size_t triple)
{
  return g->triples[triple].o;
}

/* lilv_get_lang: LANG as a lower-case tag ("en-ca"), NULL for C/POSIX/unset or an illegal value. */
static char *system_lang(void)
{
  const char *env = getenv("LANG");
  if (!env || !*env || !strcmp(env, "C") || !strcmp(env, "POSIX"))
    return NULL;
  char *lang = pipe_xstrdup(env);
  for (char *c = lang;; c++) {
    if (*c == '_')
      *c = '-';
    else if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c + ('a' - 'A'));
    else if (*c == '\0' || *c == '.') {
      *c = '\0';
      return lang;
    } else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))) {
      free(lang);
      return NULL;
    }
  }
}

static int lang_match(const char *a, const char *b) /* 0 none, 1 partial, 2 exact */
{
  if (!a || !b)
    return 0;
  if (!strcmp(a, b))
    return 2;
  size_t la = strcspn(a, "-"), lb = strcspn(b, "-");
  return la == lb && !strncmp(a, b, la);
}

PlugTerm plug_graph_get(const PlugGraph *g, PlugTerm s, PlugTerm p)
{
  size_t first = 0, n = plug_graph_find(g, s, p, &first);
  if (!n)
    return 0;
  PlugTerm value = 0, nolang = 0, partial = 0;
  for (size_t i = first; i < first + n && !value; i++) {
    PlugTerm o = g->triples[i].o;
    const char *lang = plug_term_type(g, o) == PLUG_TERM_LITERAL ? plug_term_lang(g, o) : NULL;
    if (plug_term_type(g, o) != PLUG_TERM_LITERAL)
      value = o;
    else if (!lang)
      nolang = o; /* the last one, in sord's order, as lilv keeps */
    else if (lang_match(lang, g->syslang) == 2)
      value = o;
    else if (lang_match(lang, g->syslang) == 1)
      partial = o;
  }
  if (value)
    return value;
  return (g->syslang && partial) ? partial : nolang ? nolang : partial;
}

PlugTermType plug_term_type(const PlugGraph *g, PlugTerm t)
{
  return (PlugTermType)g->terms[t].type;
}

const char *plug_term_str(const PlugGraph *g, PlugTerm t)
{
  return t ? g->pool + g->terms[t].str : NULL;
}

const char *plug_term_datatype(const PlugGraph *g, PlugTerm t)
{
  return t ? opt_str(g, g->terms[t].datatype) : NULL;
}

const char *plug_term_lang(const PlugGraph *g, PlugTerm t)
{
  return t ? opt_str(g, g->terms[t].lang) : NULL;
}
