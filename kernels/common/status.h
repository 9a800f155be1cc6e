/* Status codes and the error object every fallible function fills.
 * One X-macro table gives each status its name, the gRPC code the server answers with, and a
 * default message, so the enum, the names and the mapping cannot drift apart.
 * sg_err keeps the FIRST error set on it: later failures during cleanup do not hide the cause. */
#ifndef SG_COMMON_STATUS_H
#define SG_COMMON_STATUS_H

#include <stddef.h>

#include "hd.h"

SG_BEGIN_DECLS

/*  X(NAME, grpc_code, default message)
 *  gRPC codes: 0 OK, 1 CANCELLED, 3 INVALID_ARGUMENT, 4 DEADLINE_EXCEEDED, 5 NOT_FOUND,
 *  6 ALREADY_EXISTS, 8 RESOURCE_EXHAUSTED, 9 FAILED_PRECONDITION, 12 UNIMPLEMENTED,
 *  13 INTERNAL, 14 UNAVAILABLE, 15 DATA_LOSS, 16 UNAUTHENTICATED. */
#define SG_STATUS_TABLE(X)                                                                         \
  X(OK, 0, "ok")                                                                                   \
  X(CANCELLED, 1, "cancelled")                                                                     \
  X(INVALID_ARGUMENT, 3, "invalid argument")                                                       \
  X(DEADLINE_EXCEEDED, 4, "deadline exceeded")                                                     \
  X(NOT_FOUND, 5, "not found")                                                                     \
  X(ALREADY_EXISTS, 6, "already exists")                                                           \
  X(OVERFLOW, 3, "size overflow")                                                                  \
  X(OUT_OF_MEMORY, 8, "out of host memory")                                                        \
  X(DEVICE_OOM, 8, "out of device memory")                                                         \
  X(RESOURCE_EXHAUSTED, 8, "resource exhausted")                                                   \
  X(FAILED_PRECONDITION, 9, "failed precondition")                                                 \
  X(OUT_OF_RANGE, 11, "out of range")                                                     \
  X(UNSUPPORTED, 12, "not supported by this backend")                                              \
  X(UNIMPLEMENTED, 12, "unknown method")                                                           \
  X(UNAUTHENTICATED, 16, "missing or bad bearer token")                                            \
  X(NO_DEVICE, 14, "no usable cuda device")                                                        \
  X(DEVICE_ERROR, 13, "cuda error")                                                                \
  X(DEVICE_LOST, 14, "cuda device lost (sticky error)")                                            \
  X(UNAVAILABLE, 14, "unavailable")                                                                \
  X(IO, 13, "i/o error")                                                                           \
  X(DATA_LOSS, 15, "data loss")                                                                    \
  X(INTERNAL, 13, "internal error")

typedef enum sg_status {
#define SG__STATUS_ENUM(name, code, msg) SG_##name,
  SG_STATUS_TABLE(SG__STATUS_ENUM)
#undef SG__STATUS_ENUM
      SG_STATUS_COUNT
} sg_status;

/* "INVALID_ARGUMENT" etc.; "UNKNOWN_STATUS" for a value outside the table. */
const char *sg_status_name(sg_status s);
/* The gRPC status code the server answers with (2 = UNKNOWN outside the table). */
int sg_status_grpc_code(sg_status s);
/* The table's default message. */
const char *sg_status_message(sg_status s);

#define SG_ERR_MSG_MAX 256

/* An error: a status and a message. Zero-initialise (sg_err e = {0}) or sg_err_clear() it.
 * Not thread-safe: one sg_err per thread of work. */
typedef struct sg_err {
  sg_status code;
  char msg[SG_ERR_MSG_MAX];
} sg_err;

void sg_err_clear(sg_err *err);

/* Sets err to code + printf-formatted message unless err already holds an error (first error
 * wins) or err is NULL. Messages are lowercase and name the field and value. The message is
 * truncated to SG_ERR_MSG_MAX-1 bytes. Returns code, so `return sg_err_set(err, ...)` reads well.
 */
sg_status sg_err_set(sg_err *err, sg_status code, const char *fmt, ...) SG_PRINTF(3, 4);

/* Prefixes the held message with "prefix: " (context added on the way up, e.g. "series 17").
 * No-op when err is NULL or holds no error. */
void sg_err_prefix(sg_err *err, const char *fmt, ...) SG_PRINTF(2, 3);

/* The message, or the status's default message when none was set. */
const char *sg_err_message(const sg_err *err);

/* Early return / jump on a failed status:  SG_TRY(sg_foo(..., err));
 * SG_TRY_GOTO(st, sg_foo(..., err), fail);  (st is the caller's sg_status variable) */
#define SG_TRY(expr)                                                                               \
  do {                                                                                             \
    sg_status sg_try_st_ = (expr);                                                                 \
    if (sg_try_st_ != SG_OK) return sg_try_st_;                                                    \
  } while (0)
#define SG_TRY_GOTO(st, expr, label)                                                               \
  do {                                                                                             \
    if (((st) = (expr)) != SG_OK) goto label;                                                      \
  } while (0)

SG_END_DECLS

#endif
