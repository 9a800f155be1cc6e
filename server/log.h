/* One line per event on stderr: "2026-11-25T13:40:00.123Z info  rpc: listening on ...".
 * The level is set once at start, before any thread exists (the one process-wide setting besides
 * the method counters); logging itself is thread-safe (one write(2) per line). */
#ifndef SG_SERVER_LOG_H
#define SG_SERVER_LOG_H

#include "common/backend.h"

/* "debug" | "info" | "warn" | "error" */
sg_status sg_log_level_parse(const char *text, sg_log_level *out, sg_err *err);
void sg_log_set_level(sg_log_level level);
int sg_log_enabled(sg_log_level level);
void sg_log(sg_log_level level, const char *component, const char *fmt, ...) SG_PRINTF(3, 4);
/* An sg_log_fn for the kernels' backend (ctx = component name). */
void sg_log_backend_sink(void *ctx, sg_log_level level, const char *msg);

#define SG_DEBUG(comp, ...)                                                                        \
  do {                                                                                             \
    if (sg_log_enabled(SG_LOG_DEBUG)) sg_log(SG_LOG_DEBUG, comp, __VA_ARGS__);                     \
  } while (0)
#define SG_INFO(comp, ...) sg_log(SG_LOG_INFO, comp, __VA_ARGS__)
#define SG_WARN(comp, ...) sg_log(SG_LOG_WARN, comp, __VA_ARGS__)
#define SG_ERROR(comp, ...) sg_log(SG_LOG_ERROR, comp, __VA_ARGS__)

#endif
