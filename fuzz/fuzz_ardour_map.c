/* fuzz_ardour_map: an Ardour .map file -> every reader of one: daw_file_kind and daw_file_provenance (what daw:list
 * and daw_install read), then the file parsed with libxml2 and validated against schemas/ardour-midi-map.rng and
 * ardour-midi-map-strict.rng the way tests/unit/test_ardour_rng.c validates Ardour's shipped maps. */
#include "daw/daw.h"
#include "fuzz_file.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>

#ifndef CTRLMAP_FUZZ_SCHEMA_DIR
#define CTRLMAP_FUZZ_SCHEMA_DIR "schemas"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xmlRelaxNGPtr schemas[2]; /* the tolerant format, the strict one */

/* Messages are not findings here: libxml2 would print every one of them. */
static void quiet(void *data, xmlErrorPtr err)
{
  (void)data, (void)err;
}

static void schemas_free(void)
{
  for (size_t i = 0; i < 2; i++)
    xmlRelaxNGFree(schemas[i]);
}

static void schemas_load(void)
{
  const char *names[] = {"ardour-midi-map.rng", "ardour-midi-map-strict.rng"};
  char path[4096];
  for (size_t i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", CTRLMAP_FUZZ_SCHEMA_DIR, names[i]);
    xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt(path);
    schemas[i] = xmlRelaxNGParse(pc);
    xmlRelaxNGFreeParserCtxt(pc);
    if (!schemas[i]) {
      fprintf(stderr, "fuzz_ardour_map: cannot load %s\n", path);
      abort();
    }
  }
  atexit(schemas_free);
  xmlSetStructuredErrorFunc(NULL, quiet);
}

static void validate(const uint8_t *data, size_t size)
{
  if (size > INT32_MAX)
    return;
  xmlDocPtr doc = xmlReadMemory((const char *)data, (int)size, "fuzz.map", NULL, XML_PARSE_NONET);
  if (!doc)
    return;
  for (size_t i = 0; i < 2; i++) {
    xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schemas[i]);
    xmlRelaxNGSetValidStructuredErrors(vc, quiet, NULL);
    (void)xmlRelaxNGValidateDoc(vc, doc);
    xmlRelaxNGFreeValidCtxt(vc);
  }
  xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!schemas[0])
    schemas_load();
  const char *path = fuzz_file_write(data, size);
  (void)daw_file_kind(path);
  DawProvenance prov;
  if (daw_file_provenance(path, &prov))
    daw_provenance_release(&prov);
  validate(data, size);
  return 0;
}
