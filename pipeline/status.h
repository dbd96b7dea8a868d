/* status.h: the one status code every ctrlmap module returns. */
#ifndef CTRLMAP_STATUS_H
#define CTRLMAP_STATUS_H

typedef enum {
  PIPE_OK = 0,
  PIPE_ERR_IO,       /* a file or directory could not be read or written */
  PIPE_ERR_PARSE,    /* input is not well formed */
  PIPE_ERR_INVALID,  /* input is well formed but breaks a rule */
  PIPE_ERR_CORRUPT,  /* a cache entry failed its checksum or format check */
  PIPE_ERR_VERSION,  /* a cache entry written by another format version */
  PIPE_ERR_NOTFOUND, /* the thing asked for does not exist */
  PIPE_ERR_BUSY,     /* another ctrlmap holds the cache lock */
  PIPE_ERR_CHILD,    /* a worker process failed */
  PIPE_ERR_USAGE     /* bad command line */
} PipeStatus;

/* A static, lower-case description of `st`; never NULL. */
const char *pipe_strerror(PipeStatus st);

#endif
