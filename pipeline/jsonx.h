/* jsonx.h: small jansson helpers shared by the modules. */
#ifndef CTRLMAP_JSONX_H
#define CTRLMAP_JSONX_H

#include <jansson.h>

/* Compares two array items (pointers to json_t *), as qsort does. */
typedef int (*PipeJsonCmp)(const void *a, const void *b);

/* Sorts the items of `arr` in place and returns it. */
json_t *pipe_json_array_sort(json_t *arr, PipeJsonCmp cmp);

/* An item comparator for arrays of strings. */
int pipe_json_cmp_strings(const void *a, const void *b);

#endif
