/* progress.c: a one-line progress bar on stderr, drawn only when stderr is a terminal. */
#include "commands.h"

#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Redrawing on every item would cost more than the items (~1 ms each): at most ~20 redraws a second. */
static uint64_t last_draw;
static bool drawn;

void pipe_progress(void *vctx, size_t done, size_t total, const char *label)
{
  (void)vctx;
  uint64_t now = pipe_now_ns();
  if (done < total && now - last_draw < 50000000)
    return;
  last_draw = now;
  struct winsize ws;
  int cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40 ? ws.ws_col : 80;
  int bar = 24, filled = total ? (int)((double)done / (double)total * bar) : bar;
  char line[512];
  int n = snprintf(line, sizeof line, "\r[%.*s%*s] %zu/%zu ", filled, "########################", bar - filled, "",
                   done, total);
  int room = cols - n - 1;
  size_t len = label ? strlen(label) : 0;
  if (room > 0 && len > (size_t)room)
    label += len - (size_t)room; /* keep the informative tail of a URI */
  fprintf(stderr, "%s%.*s\033[K", line, room > 0 ? room : 0, label ? label : "");
  fflush(stderr);
  drawn = true;
}

void pipe_progress_end(PipeCtx *ctx)
{
  (void)ctx;
  if (drawn)
    fprintf(stderr, "\r\033[K");
  drawn = false;
}
