/* Line logger: timestamp, level, component, message; user text is the caller's to cap. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sg_log_level min_level = SG_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

sg_status sg_log_level_parse(const char *text, sg_log_level *out, sg_err *err) {
  for (int i = 0; i < 4; i++) {
    if (text && strcmp(text, level_names[i]) == 0) {
      *out = (sg_log_level)i;
      return SG_OK;
    }
  }
  return sg_err_set(err, SG_INVALID_ARGUMENT,
                    "log-level: \"%.32s\" is not one of debug, info, warn, error",
                    text ? text : "(null)");
}

void sg_log_set_level(sg_log_level level) { min_level = level; }
int sg_log_enabled(sg_log_level level) { return level >= min_level; }

void sg_log(sg_log_level level, const char *component, const char *fmt, ...) {
  if (level < min_level) return;
  char line[1024];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line,
                   "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.tv_nsec / 1000000, level_names[level], component);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, len);
  (void)w;
}

void sg_log_backend_sink(void *ctx, sg_log_level level, const char *msg) {
  sg_log(level, ctx ? (const char *)ctx : "backend", "%s", msg);
}
