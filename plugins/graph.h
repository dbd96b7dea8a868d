/* graph.h (internal to plugins/): a compact, read-only triple table for one plugin's Turtle files, streamed with
 * serd. It answers "objects of (subject, predicate)" by binary search over sorted triples, which is all the
 * descriptor needs, without building lilv's sord indexes (the dominant cost of a cold extract; see README). */
#ifndef CTRLMAP_PLUG_GRAPH_H
#define CTRLMAP_PLUG_GRAPH_H

#include "../pipeline/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t PlugTerm; /* 0: no term */

typedef enum { PLUG_TERM_URI = 1, PLUG_TERM_BLANK = 2, PLUG_TERM_LITERAL = 3 } PlugTermType;

typedef struct PlugGraph PlugGraph;

PlugGraph *plug_graph_new(void);
void plug_graph_free(PlugGraph *g); /* NULL is a no-op */

/* Parses a Turtle file (a file: URI) into the graph. Prefixes carry over from one file to the next, as lilv reads a
 * plugin's data files with one environment; blank nodes stay distinct per file. Returns PIPE_ERR_PARSE on a syntax
 * error (the graph then holds what was read before it). */
PipeStatus plug_graph_load(PlugGraph *g, const char *file_uri);

/* The first syntax or read error of any load, as "path:line:column: message" (serd's words), or NULL. */
const char *plug_graph_error(const PlugGraph *g);

/* Sorts the triples; call once after the last load and before any query. */
void plug_graph_seal(PlugGraph *g);

/* The term for a URI, or 0 if the graph never mentions it. */
PlugTerm plug_graph_uri(const PlugGraph *g, const char *uri);

/* The triples (s, p, ?o) are a run of `n` in sord's object order (by type, then text), so "the first value" means
 * what it means to lilv: plug_graph_object(g, first + i) for i < n. Returns n; *first is set when n > 0. */
size_t plug_graph_find(const PlugGraph *g, PlugTerm s, PlugTerm p, size_t *first);
PlugTerm plug_graph_object(const PlugGraph *g, size_t triple);

PlugTermType plug_term_type(const PlugGraph *g, PlugTerm t);
const char *plug_term_str(const PlugGraph *g, PlugTerm t);
/* Literal datatype URI and language tag; NULL when absent. */
const char *plug_term_datatype(const PlugGraph *g, PlugTerm t);
const char *plug_term_lang(const PlugGraph *g, PlugTerm t);

/* lilv's choice among the values of (s, p) for one value: with literals, the one in the system language (LANG),
 * else an untranslated one, else any (lilv_nodes_from_stream_objects_i18n); 0 if none. */
PlugTerm plug_graph_get(const PlugGraph *g, PlugTerm s, PlugTerm p);

#endif
