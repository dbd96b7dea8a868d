/* describe.h (internal to plugins/): what describe.c and describe_graph.c share beyond plug_internal.h. */
#ifndef CTRLMAP_PLUG_DESCRIBE_H
#define CTRLMAP_PLUG_DESCRIBE_H

#include "plug_internal.h"

#define LV2_NS    "http://lv2plug.in/ns/lv2core#"
#define PPROPS_NS "http://lv2plug.in/ns/ext/port-props#"
#define ATOM_NS   "http://lv2plug.in/ns/ext/atom#"
#define UNITS_NS  "http://lv2plug.in/ns/extensions/units#"
#define PG_NS     "http://lv2plug.in/ns/ext/port-groups#"
#define RDF_NS    "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define RDFS_NS   "http://www.w3.org/2000/01/rdf-schema#"
#define PATCH_NS  "http://lv2plug.in/ns/ext/patch#"
#define RSZ_NS    "http://lv2plug.in/ns/ext/resize-port#"
#define DOAP_NS   "http://usefulinc.com/ns/doap#"
#define FOAF_NS   "http://xmlns.com/foaf/0.1/"
#define EV_NS     "http://lv2plug.in/ns/ext/event#"
#define XSD_NS    "http://www.w3.org/2001/XMLSchema#"

typedef struct {
  char *uri;
  json_t *unit; /* {uri, symbol, label} */
} UnitMemo;

struct PlugNodes {
  LilvNode *input, *output, *control, *audio, *atom, *cv, *event;
  LilvNode *unit, *unit_symbol, *rdfs_label, *lv2_name, *lv2_symbol, *group, *designation;
  LilvNode *minor, *micro, *doap_name, *writable, *readable, *range, *lv2_default, *lv2_minimum, *lv2_maximum;
  LilvNode *buffer_type, *supports, *min_size, *range_steps, *display_priority;
  LilvNode *maintainer, *foaf_name, *foaf_mbox, *foaf_homepage, *rdf_type;
  UnitMemo *units;
  size_t n_units, cap_units;
};

/* {uri, label}; with no label, the URI's local name ("EQPlugin"). */
json_t *plug_desc_class(const char *uri, const char *label);

/* Units seen before in this process (their symbol and label come from the units ontology, the same every time). */
json_t *plug_desc_unit_memo(PlugNodes *n, const char *uri); /* new reference, or NULL */
void plug_desc_unit_remember(PlugNodes *n, const char *uri, json_t *unit);

#endif
