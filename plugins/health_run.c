/* health_run.c: the health check of one plugin in a forked worker: a minimal host runs one block and checks outputs. */
#include "plug_internal.h"

#include "../pipeline/xalloc.h"

#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/resize-port/resize-port.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The host features this file offers to plugins, NULL-terminated. */

#define BUF_ALIGN            64          /* enough for any SIMD load a plugin may do on its buffers */
#define DEFAULT_BUF_SIZE     8192u       /* atom, event and unknown-type ports */
#define MAX_ATOM_BUF         (64u << 20) /* a bogus rsz:minimumSize must not exhaust the worker's memory */
#define MAX_QUEUED_RESPONSES 4096
#define MAX_RESPONSE_ROUNDS  16 /* work_response may schedule more work; a loop of that must still end */
#define MAX_DETAIL_PORTS     5
#define N_FEATURES           12

static const char *const supported_features[] = {
    LV2_URID__map,
    LV2_URID__unmap,
    LV2_OPTIONS__options,
    LV2_BUF_SIZE__boundedBlockLength,
    LV2_BUF_SIZE__fixedBlockLength,
    LV2_BUF_SIZE__powerOf2BlockLength, /* offered only when the block is one */
    LV2_LOG__log,
    LV2_WORKER__schedule,
    LV2_STATE__loadDefaultState,
    LV2_CORE__isLive,
    LV2_CORE__inPlaceBroken, /* true of this host: no two ports share a buffer */
    LV2_CORE__hardRTCapable,
    NULL};

const char *const *plug_health_supported_features(void)
{
  return supported_features;
}

typedef struct {
  void *data;
  uint32_t size;
} Response;

/* Everything the features point into; one per run, so nothing is shared between plugins. */
typedef struct {
  char **uris; /* URID i is uris[i - 1] */
  size_t n_uris, cap_uris;
  const LV2_Worker_Interface *worker; /* known only after instantiation */
  LV2_Handle handle;
  Response *responses;
  size_t n_responses, cap_responses;
  int32_t block_len, seq_size;
  float rate;
  LV2_URID_Map map;
  LV2_URID_Unmap unmap;
  LV2_Log_Log log;
  LV2_Worker_Schedule schedule;
  LV2_Options_Option options[6];
  LV2_Feature feature_structs[N_FEATURES];
  const LV2_Feature *features[N_FEATURES + 1];
  size_t n_features;
} Host;

typedef enum { KIND_CONTROL, KIND_SIGNAL, KIND_ATOM, KIND_OTHER } PortKind;

typedef struct {
  void *buf;
  size_t size;
  PortKind kind;
  bool output;
  const char *symbol; /* owned by the world */
} PortBuf;

typedef struct {
  LilvNode *input, *output, *control, *audio, *cv, *atom, *min_size;
} HealthNodes;

static bool is_pow2(unsigned n)
{
  return n && !(n & (n - 1));
}

/* A zeroed buffer; out of memory aborts, as pipe_xmalloc does. */
static void *aligned_zalloc(size_t size)
{
  void *p = NULL;
  if (posix_memalign(&p, BUF_ALIGN, size ? size : 1) != 0) {
    fprintf(stderr, "ctrlmap: out of memory (%zu bytes)\n", size);
    abort();
  }
  memset(p, 0, size);
  return p;
}

/* ---- urid:map, urid:unmap: a linear table is fast enough for the few dozen URIs one plugin maps ---- */

static LV2_URID urid_map(LV2_URID_Map_Handle handle, const char *uri)
{
  Host *h = handle;
  if (!uri)
    return 0;
  for (size_t i = 0; i < h->n_uris; i++)
    if (!strcmp(h->uris[i], uri))
      return (LV2_URID)(i + 1);
  pipe_grow((void **)&h->uris, &h->cap_uris, h->n_uris + 1, sizeof(char *));
  h->uris[h->n_uris++] = pipe_xstrdup(uri);
  return (LV2_URID)h->n_uris;
}

static const char *urid_unmap(LV2_URID_Unmap_Handle handle, LV2_URID urid)
{
  Host *h = handle;
  return urid >= 1 && urid <= h->n_uris ? h->uris[urid - 1] : NULL;
}

/* ---- log:log: plugin messages go to stderr, which the worker pool sends to the log file ---- */

__attribute__((format(printf, 3, 0))) static int log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char *fmt,
                                                             va_list ap)
{
  const char *uri = urid_unmap(handle, type);
  const char *hash = uri ? strrchr(uri, '#') : NULL;
  int a = fprintf(stderr, "[plugin log %s] ", hash ? hash + 1 : uri ? uri : "?");
  int b = vfprintf(stderr, fmt, ap);
  return a < 0 || b < 0 ? -1 : a + b;
}

__attribute__((format(printf, 3, 4))) static int log_printf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = log_vprintf(handle, type, fmt, ap);
  va_end(ap);
  return n;
}

/* ---- worker:schedule: work runs at once (as when free-wheeling); responses wait for the end of run() ---- */

static LV2_Worker_Status worker_respond(LV2_Worker_Respond_Handle handle, uint32_t size, const void *data)
{
  Host *h = handle;
  if (h->n_responses >= MAX_QUEUED_RESPONSES)
    return LV2_WORKER_ERR_NO_SPACE;
  pipe_grow((void **)&h->responses, &h->cap_responses, h->n_responses + 1, sizeof(Response));
  Response *r = &h->responses[h->n_responses++];
  r->size = size;
  r->data = pipe_xmalloc(size);
  if (size && data)
    memcpy(r->data, data, size);
  return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status worker_schedule(LV2_Worker_Schedule_Handle handle, uint32_t size, const void *data)
{
  Host *h = handle;
  if (!h->worker || !h->worker->work)
    return LV2_WORKER_ERR_UNKNOWN;
  return h->worker->work(h->handle, worker_respond, h, size, data);
}

static void responses_free(Response *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(r[i].data);
  free(r);
}

/* Delivers the queued responses in rounds (a response may cause more), then ends the cycle as the spec requires. */
static void worker_end_cycle(Host *h)
{
  if (!h->worker)
    return;
  for (int round = 0; round < MAX_RESPONSE_ROUNDS && h->n_responses; round++) {
    Response *batch = h->responses;
    size_t n = h->n_responses;
    h->responses = NULL;
    h->n_responses = h->cap_responses = 0;
    for (size_t i = 0; i < n && h->worker->work_response; i++)
      h->worker->work_response(h->handle, batch[i].size, batch[i].data);
    responses_free(batch, n);
  }
  if (h->worker->end_run)
    h->worker->end_run(h->handle);
}

/* ---- the host ---- */

static void set_option(LV2_Options_Option *o, LV2_URID key, LV2_URID type, uint32_t size, const void *value)
{
  *o = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, key, size, type, value};
}

/* The options point into the host, so seq_size can still be set before instantiation. */
static void host_init_options(Host *h)
{
  LV2_URID t_int = urid_map(h, LV2_ATOM__Int);
  set_option(&h->options[0], urid_map(h, LV2_BUF_SIZE__minBlockLength), t_int, sizeof(int32_t), &h->block_len);
  set_option(&h->options[1], urid_map(h, LV2_BUF_SIZE__maxBlockLength), t_int, sizeof(int32_t), &h->block_len);
  set_option(&h->options[2], urid_map(h, LV2_BUF_SIZE__nominalBlockLength), t_int, sizeof(int32_t), &h->block_len);
  set_option(&h->options[3], urid_map(h, LV2_BUF_SIZE__sequenceSize), t_int, sizeof(int32_t), &h->seq_size);
  set_option(&h->options[4], urid_map(h, LV2_PARAMETERS__sampleRate), urid_map(h, LV2_ATOM__Float), sizeof(float),
             &h->rate);
  h->options[5] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL};
}

static void add_feature(Host *h, const char *uri, void *data)
{
  LV2_Feature *f = &h->feature_structs[h->n_features];
  *f = (LV2_Feature){uri, data};
  h->features[h->n_features++] = f;
  h->features[h->n_features] = NULL;
}

static Host *host_new(double rate, unsigned block)
{
  Host *h = pipe_xcalloc(1, sizeof(Host));
  h->block_len = (int32_t)block;
  h->seq_size = DEFAULT_BUF_SIZE;
  h->rate = (float)rate;
  h->map = (LV2_URID_Map){h, urid_map};
  h->unmap = (LV2_URID_Unmap){h, urid_unmap};
  h->log = (LV2_Log_Log){h, log_printf, log_vprintf};
  h->schedule = (LV2_Worker_Schedule){h, worker_schedule};
  host_init_options(h);
  /* In the order of supported_features; the others are flags with no data. */
  void *data[] = {&h->map, &h->unmap, h->options, NULL, NULL, NULL, &h->log, &h->schedule, NULL, NULL, NULL, NULL};
  _Static_assert(sizeof data / sizeof data[0] == N_FEATURES, "one data pointer per feature");
  _Static_assert(sizeof supported_features / sizeof supported_features[0] == N_FEATURES + 1, "feature count");
  for (size_t i = 0; supported_features[i]; i++)
    if (strcmp(supported_features[i], LV2_BUF_SIZE__powerOf2BlockLength) || is_pow2(block))
      add_feature(h, supported_features[i], data[i]);
  return h;
}

static void host_free(Host *h)
{
  for (size_t i = 0; i < h->n_uris; i++)
    free(h->uris[i]);
  free(h->uris);
  responses_free(h->responses, h->n_responses);
  free(h);
}

/* ---- checks before instantiation ---- */

/* The required features this host lacks, space-separated, or NULL. powerOf2BlockLength holds only for some blocks. */
static char *missing_features(const LilvPlugin *plugin, unsigned block)
{
  char *missing = NULL;
  LilvNodes *req = lilv_plugin_get_required_features(plugin);
  LILV_FOREACH(nodes, i, req) {
    const char *uri = lilv_node_as_uri(lilv_nodes_get(req, i));
    bool ok = false;
    for (size_t k = 0; supported_features[k] && !ok; k++)
      ok = !strcmp(uri, supported_features[k]);
    if (!strcmp(uri, LV2_BUF_SIZE__powerOf2BlockLength) && !is_pow2(block))
      ok = false;
    if (ok)
      continue;
    char *more = missing ? pipe_xasprintf("%s %s", missing, uri) : pipe_xstrdup(uri);
    free(missing);
    missing = more;
  }
  lilv_nodes_free(req);
  return missing;
}

/* dlopen's own error names what lilv would only report as a NULL instance (e.g. an undefined symbol). */
static void *open_binary(const LilvPlugin *plugin, char **why)
{
  const LilvNode *lib = lilv_plugin_get_library_uri(plugin);
  char *path = lib ? lilv_file_uri_parse(lilv_node_as_uri(lib), NULL) : NULL;
  if (!path) {
    *why = pipe_xstrdup("plugin has no binary file");
    return NULL;
  }
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    const char *err = dlerror();
    *why = err ? pipe_xasprintf("cannot load the library: %s", err) /* dlerror() names the file */
               : pipe_xasprintf("cannot load %s", path);
  }
  lilv_free(path);
  return dl;
}

/* ---- ports ---- */

static void nodes_init(HealthNodes *n, LilvWorld *w)
{
  n->input = lilv_new_uri(w, LV2_CORE__InputPort);
  n->output = lilv_new_uri(w, LV2_CORE__OutputPort);
  n->control = lilv_new_uri(w, LV2_CORE__ControlPort);
  n->audio = lilv_new_uri(w, LV2_CORE__AudioPort);
  n->cv = lilv_new_uri(w, LV2_CORE__CVPort);
  n->atom = lilv_new_uri(w, LV2_ATOM__AtomPort);
  n->min_size = lilv_new_uri(w, LV2_RESIZE_PORT__minimumSize);
}

static void nodes_free(HealthNodes *n)
{
  LilvNode *all[] = {n->input, n->output, n->control, n->audio, n->cv, n->atom, n->min_size};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    lilv_node_free(all[i]);
}

/* max(rsz:minimumSize, 8192), bounded so that the atom header's 32-bit size holds it. */
static size_t atom_capacity(const LilvPlugin *plugin, const LilvPort *port, const HealthNodes *n)
{
  LilvNode *v = lilv_port_get(plugin, port, n->min_size);
  double want = !v ? 0 : lilv_node_is_int(v) ? lilv_node_as_int(v) : lilv_node_is_float(v) ? lilv_node_as_float(v) : 0;
  lilv_node_free(v);
  if (!(want > DEFAULT_BUF_SIZE))
    return DEFAULT_BUF_SIZE;
  size_t cap = want > MAX_ATOM_BUF ? MAX_ATOM_BUF : (size_t)want;
  return (cap + 7) & ~(size_t)7; /* atoms are 64-bit aligned */
}

/* Inputs hold an empty sequence; outputs announce their capacity as a Chunk, as the atom spec asks of hosts. */
static void atom_init(PortBuf *p, Host *h)
{
  LV2_Atom_Sequence *seq = p->buf;
  if (p->output) {
    seq->atom.size = (uint32_t)(p->size - sizeof(LV2_Atom));
    seq->atom.type = urid_map(h, LV2_ATOM__Chunk);
  } else {
    seq->atom.size = sizeof(LV2_Atom_Sequence_Body);
    seq->atom.type = urid_map(h, LV2_ATOM__Sequence);
    seq->body.unit = 0;
  }
}

/* A control input starts at its default, else its minimum, else 0. */
static float control_start(float def, float min)
{
  return !isnan(def) ? def : !isnan(min) ? min : 0.0f;
}

static void port_setup(PortBuf *p, const LilvPlugin *plugin, uint32_t i, const HealthNodes *n, unsigned block)
{
  const LilvPort *port = lilv_plugin_get_port_by_index(plugin, i);
  p->symbol = lilv_node_as_string(lilv_port_get_symbol(plugin, port));
  p->output = lilv_port_is_a(plugin, port, n->output);
  p->size = DEFAULT_BUF_SIZE;
  p->kind = KIND_OTHER;
  if (lilv_port_is_a(plugin, port, n->control)) {
    p->kind = KIND_CONTROL;
    p->size = sizeof(float);
  } else if (lilv_port_is_a(plugin, port, n->audio) || lilv_port_is_a(plugin, port, n->cv)) {
    p->kind = KIND_SIGNAL;
    p->size = (block ? block : 1) * sizeof(float);
  } else if (lilv_port_is_a(plugin, port, n->atom)) {
    p->kind = KIND_ATOM;
    p->size = atom_capacity(plugin, port, n);
  } /* old ev:EventPorts and unknown types get a zeroed DEFAULT_BUF_SIZE buffer: no events, nothing to read */
  p->buf = aligned_zalloc(p->size);
}

/* One buffer per port, none shared; also sizes the host's sequenceSize option to the largest atom buffer. */
static PortBuf *ports_new(LilvWorld *world, const LilvPlugin *plugin, Host *h, unsigned block, uint32_t n_ports)
{
  HealthNodes nodes;
  nodes_init(&nodes, world);
  float *mins = pipe_xcalloc(n_ports, sizeof(float)), *defs = pipe_xcalloc(n_ports, sizeof(float));
  lilv_plugin_get_port_ranges_float(plugin, mins, NULL, defs);
  PortBuf *ports = pipe_xcalloc(n_ports, sizeof(PortBuf));
  for (uint32_t i = 0; i < n_ports; i++) {
    PortBuf *p = &ports[i];
    port_setup(p, plugin, i, &nodes, block);
    if (p->kind == KIND_CONTROL && !p->output)
      *(float *)p->buf = control_start(defs[i], mins[i]);
    if (p->kind == KIND_ATOM) {
      atom_init(p, h);
      if (p->size > (size_t)h->seq_size)
        h->seq_size = (int32_t)p->size;
    }
  }
  free(mins);
  free(defs);
  nodes_free(&nodes);
  return ports;
}

static void ports_free(PortBuf *ports, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    free(ports[i].buf);
  free(ports);
}

/* ---- results ---- */

/* json_pack fails on text that is not UTF-8 (a path, a dlerror message); keep the status then. */
static json_t *status_json(const char *status, const char *detail)
{
  json_t *r = detail ? json_pack("{s:s, s:s}", "status", status, "detail", detail) : NULL;
  if (!r)
    r = json_pack("{s:s}", "status", status);
  return r;
}

/* Whether an output holds a non-finite value, and the first one. */
static bool port_non_finite(const PortBuf *p, unsigned block, float *bad)
{
  size_t n = p->kind == KIND_CONTROL ? 1 : p->kind == KIND_SIGNAL ? block : 0;
  const float *v = p->buf;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) {
      *bad = v[i];
      return true;
    }
  return false;
}

static char *append_bad(char *detail, const char *symbol, float v)
{
  char num[32];
  snprintf(num, sizeof num, "%g", (double)v);
  const char *text = isnan(v) ? "nan" : num; /* "-nan" carries no meaning */
  char *more = detail ? pipe_xasprintf("%s %s=%s", detail, symbol, text) : pipe_xasprintf("%s=%s", symbol, text);
  free(detail);
  return more;
}

static json_t *check_outputs(const PortBuf *ports, uint32_t n_ports, unsigned block)
{
  json_t *bad_ports = json_array();
  char *detail = NULL;
  for (uint32_t i = 0; i < n_ports; i++) {
    float v;
    if (!ports[i].output || !port_non_finite(&ports[i], block, &v))
      continue;
    json_array_append_new(bad_ports, json_string(ports[i].symbol));
    if (json_array_size(bad_ports) <= MAX_DETAIL_PORTS)
      detail = append_bad(detail, ports[i].symbol, v);
  }
  if (!json_array_size(bad_ports)) {
    json_decref(bad_ports);
    return status_json("ok", NULL);
  }
  json_t *r = status_json("non-finite", detail);
  json_object_set_new(r, "ports", bad_ports);
  free(detail);
  return r;
}

/* ---- the run ---- */

static json_t *run_instance(const LilvPlugin *plugin, double rate, Host *h, PortBuf *ports, uint32_t n_ports,
                            unsigned block)
{
  LilvInstance *inst = lilv_plugin_instantiate(plugin, rate, h->features);
  if (!inst)
    return status_json("instantiate-failed", "instantiate returned NULL");
  h->worker = lilv_instance_get_extension_data(inst, LV2_WORKER__interface);
  h->handle = lilv_instance_get_handle(inst);
  for (uint32_t i = 0; i < n_ports; i++)
    lilv_instance_connect_port(inst, i, ports[i].buf);
  lilv_instance_activate(inst);
  lilv_instance_run(inst, block);
  worker_end_cycle(h);
  lilv_instance_deactivate(inst);
  json_t *result = check_outputs(ports, n_ports, block);
  lilv_instance_free(inst);
  return result;
}

json_t *plug_health_run_one(LilvWorld *world, const LilvPlugin *plugin, double rate, unsigned block)
{
  char *missing = missing_features(plugin, block);
  if (missing) {
    json_t *r = status_json("missing-feature", missing);
    free(missing);
    return r;
  }
  char *why = NULL;
  void *dl = open_binary(plugin, &why);
  if (!dl) {
    json_t *r = status_json("instantiate-failed", why);
    free(why);
    return r;
  }
  uint32_t n_ports = lilv_plugin_get_num_ports(plugin);
  Host *h = host_new(rate, block);
  PortBuf *ports = ports_new(world, plugin, h, block, n_ports);
  json_t *result = run_instance(plugin, rate, h, ports, n_ports, block);
  ports_free(ports, n_ports);
  host_free(h);
  dlclose(dl);
  return result;
}
