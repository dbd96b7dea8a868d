/* status.c: descriptions of PipeStatus codes. */
#include "status.h"

const char *pipe_strerror(PipeStatus st)
{
  switch (st) {
  case PIPE_OK: return "success";
  case PIPE_ERR_IO: return "input/output error";
  case PIPE_ERR_PARSE: return "parse error";
  case PIPE_ERR_INVALID: return "invalid input";
  case PIPE_ERR_CORRUPT: return "corrupt cache entry";
  case PIPE_ERR_VERSION: return "unsupported format version";
  case PIPE_ERR_NOTFOUND: return "not found";
  case PIPE_ERR_BUSY: return "cache is locked by another ctrlmap";
  case PIPE_ERR_CHILD: return "worker process failed";
  case PIPE_ERR_USAGE: return "usage error";
  }
  return "unknown status";
}
