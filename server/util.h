/* Small file and clock helpers shared by the server and the client library. */
#ifndef SG_SERVER_UTIL_H
#define SG_SERVER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* Monotonic clock in microseconds. */
int64_t sg_mono_us(void);
/* Units (series, iterations) for the next step of a batch job that aims at target_s a step:
 * cur scaled by target_s / took_s (the last step's time), growing at most twofold (+1) a step,
 * at least min_units; took_s <= 0 keeps cur. */
int64_t sg_step_units(int64_t cur, double took_s, double target_s, int64_t min_units);
/* Reads a whole file (at most max_bytes) into a NUL-terminated malloc'd buffer (*out, caller
 * frees). Errors name the path. */
sg_status sg_read_file(const char *path, size_t max_bytes, char **out, size_t *len, sg_err *err);
/* Writes data to path atomically: a temp file in the same directory, fsync, rename, fsync of the
 * directory. A reader sees the old file or the new one, never a part. */
sg_status sg_write_file_atomic(const char *path, const void *data, size_t len, sg_err *err);
/* The status of a failed write with errno e: RESOURCE_EXHAUSTED for a full disk, a quota or a
 * file size limit (ENOSPC, EDQUOT, EFBIG: the client may free space and retry), else IO. */
sg_status sg_io_status(int e);

/* mkdir -p path (mode 0755). */
sg_status sg_mkdir_p(const char *path, sg_err *err);
/* SG_OK when s is valid UTF-8 (protobuf strings must be: a reply that echoes other bytes cannot
 * be parsed by other clients), else INVALID_ARGUMENT "FIELD: not UTF-8 (byte N)". */
sg_status sg_utf8_check(const char *s, const char *field, sg_err *err);
/* Rewrites err's message in the request's terms: its first `drop` bytes replaced by `add` (a
 * field's proto name for the kernel's, or the message it lives in). */
void sg_err_reword(sg_err *err, size_t drop, const char *add);
/* The memory that can be allocated now without swapping, in bytes: MemAvailable of /proc/meminfo,
 * or less when the cgroup (v2) limit leaves less; 0 when unknown. */
uint64_t sg_mem_available(void);
/* 1 when need bytes would take over 80% of the memory available now (*avail gets it, in bytes);
 * 0 when they fit or the available memory is unknown. */
int sg_mem_short(double need, double *avail);
/* Replaces every byte of s that is not part of valid UTF-8 with '?', in place. */
void sg_utf8_sanitize(char *s);

#endif
