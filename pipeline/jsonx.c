/* jsonx.c: jansson helpers. */
#include "jsonx.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

json_t *pipe_json_array_sort(json_t *arr, PipeJsonCmp cmp)
{
  size_t n = json_array_size(arr);
  if (n < 2)
    return arr;
  json_t **items = pipe_xmalloc(n * sizeof(json_t *));
  for (size_t i = 0; i < n; i++)
    items[i] = json_incref(json_array_get(arr, i));
  qsort(items, n, sizeof(json_t *), cmp);
  json_array_clear(arr);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, items[i]);
  free(items);
  return arr;
}

int pipe_json_cmp_strings(const void *a, const void *b)
{
  const char *x = json_string_value(*(json_t *const *)a), *y = json_string_value(*(json_t *const *)b);
  return strcmp(x ? x : "", y ? y : "");
}
