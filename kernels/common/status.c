/* The status table's lookups and sg_err. First error wins: sg_err_set never overwrites. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  int grpc_code;
  const char *message;
} table[] = {
#define SG__STATUS_ROW(name, code, msg) {#name, code, msg},
    SG_STATUS_TABLE(SG__STATUS_ROW)
#undef SG__STATUS_ROW
};

_Static_assert(sizeof(table) / sizeof(table[0]) == SG_STATUS_COUNT, "status table size");

static int in_table(sg_status s) { return (unsigned)s < (unsigned)SG_STATUS_COUNT; }

const char *sg_status_name(sg_status s) { return in_table(s) ? table[s].name : "UNKNOWN_STATUS"; }

int sg_status_grpc_code(sg_status s) { return in_table(s) ? table[s].grpc_code : 2; }

const char *sg_status_message(sg_status s) {
  return in_table(s) ? table[s].message : "unknown status";
}

void sg_err_clear(sg_err *err) {
  if (!err) return;
  err->code = SG_OK;
  err->msg[0] = '\0';
}

sg_status sg_err_set(sg_err *err, sg_status code, const char *fmt, ...) {
  if (!err || err->code != SG_OK || code == SG_OK) return code;
  err->code = code;
  err->msg[0] = '\0';
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

void sg_err_prefix(sg_err *err, const char *fmt, ...) {
  if (!err || err->code == SG_OK) return;
  char joined[2 * SG_ERR_MSG_MAX + 2];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(joined, SG_ERR_MSG_MAX, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = strlen(joined);
  const char *tail = err->msg[0] ? err->msg : sg_status_message(err->code);
  memcpy(joined + len, ": ", 2);
  memcpy(joined + len + 2, tail, strlen(tail) + 1);
  memcpy(err->msg, joined, SG_ERR_MSG_MAX - 1);
  err->msg[SG_ERR_MSG_MAX - 1] = '\0';
}

const char *sg_err_message(const sg_err *err) {
  if (!err) return "";
  return err->msg[0] ? err->msg : sg_status_message(err->code);
}
