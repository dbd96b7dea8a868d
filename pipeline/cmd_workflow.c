/* cmd_workflow.c: workflow:complete, the phases in a row. Every phase is incremental on its own (fingerprints and
 * recorded results in the cache), so a run with nothing changed does almost nothing. */
#include "commands.h"

#include "../plugins/plug.h"

#include <stdio.h>

int pipe_cmd_workflow_complete(PipeCtx *ctx)
{
  PlugExtractOpts o = {.lv2_path = ctx->opts->lv2_path,
                       .engine = ctx->opts->engine_lilv ? PLUG_ENGINE_LILV : PLUG_ENGINE_STREAM,
                       .jobs = ctx->opts->jobs,
                       .timeout_s = ctx->opts->timeout_s,
                       .force = ctx->opts->force,
                       .progress = ctx->tty ? pipe_progress : NULL};
  PlugExtractReport *r = NULL;
  PipeStatus st = plug_extract(ctx->store, &o, ctx->perf, &r, ctx->diags);
  pipe_progress_end(ctx);
  if (st != PIPE_OK) {
    fprintf(ctx->out, "workflow: phase extract failed (%s); nothing else was run\n", pipe_strerror(st));
    plug_extract_report_free(r);
    return PIPE_EXIT_ENV;
  }
  if (ctx->opts->format == PIPE_FMT_TABLE)
    fprintf(ctx->out, "extract: %zu plugins, %zu described now, %zu from cache, %zu failed\n", r->plugins, r->extracted,
            r->cached, r->failed);
  plug_extract_report_free(r);
  /* validate, check, generate (and install): a map with errors stops the run before anything is written */
  return pipe_daw_generate(ctx, true);
}
