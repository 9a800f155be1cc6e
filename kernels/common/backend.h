/* The compute backend interface: which device runs the kernels, chosen once at start.
 *
 * sg_backend is one per process and device: the choice (cpu or cuda) and why, the device's
 * identity, its health. sg_exec is one per worker thread: on CUDA a stream, a cuBLAS handle and
 * scratch memory; on the CPU an OpenMP thread budget. Every op takes an sg_exec, so two workers
 * never share a stream or a handle.
 *
 * Each backend is a const table (sg_backend_ops) with one const sub-table per op family
 * (kernels/<op>/<op>_backends.h: one function pointer per op), defined in that op's cpu.c and
 * cuda.cu. A NULL table or slot means the backend lacks the op (it answers SG_UNSUPPORTED).
 * Ops validate their arguments once in kernels/<op>/<op>.c and then call the slot, which may
 * assume valid input.
 *
 * Selection: SG_BACKEND_CPU always works; SG_BACKEND_CUDA probes the driver, the device count,
 * the compute capability (>= 8.0) and free memory, and fails with the reason; SG_BACKEND_AUTO
 * probes and falls back to the CPU with the reason logged. A sticky device error (illegal
 * address, launch failure, ECC) marks the backend unhealthy: later ops fail fast with
 * SG_DEVICE_LOST instead of touching a poisoned context. */
#ifndef SG_COMMON_BACKEND_H
#define SG_COMMON_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

SG_BEGIN_DECLS

typedef enum sg_backend_kind { SG_BACKEND_AUTO, SG_BACKEND_CPU, SG_BACKEND_CUDA } sg_backend_kind;

/* "auto" | "cpu" | "cuda" (case-sensitive). Unknown text → SG_INVALID_ARGUMENT naming it. */
sg_status sg_backend_kind_parse(const char *text, sg_backend_kind *out, sg_err *err);
const char *sg_backend_kind_name(sg_backend_kind kind);

typedef enum sg_log_level { SG_LOG_DEBUG, SG_LOG_INFO, SG_LOG_WARN, SG_LOG_ERROR } sg_log_level;

/* Where the backend reports what it chose and why. Called from the opening thread only, except
 * for the one "device lost" message, which comes from the worker that saw the sticky error. */
typedef void (*sg_log_fn)(void *ctx, sg_log_level level, const char *msg);

typedef struct sg_backend_config {
  sg_backend_kind kind;  /* AUTO (the zero value), CPU or CUDA */
  int device;            /* CUDA device index; default 0 */
  size_t min_free_bytes; /* CUDA probe fails below this much free device memory; 0 = 256 MiB */
  int cpu_threads;       /* OpenMP threads per CPU exec; 0 = all the process may use */
  sg_log_fn log;         /* NULL = silent */
  void *log_ctx;
} sg_backend_config;

#define SG_MIN_CC_MAJOR 8
#define SG_DEFAULT_MIN_FREE_BYTES ((size_t)256 << 20)

typedef struct sg_device_info {
  int id;
  char name[256];
  int cc_major, cc_minor;
  int sm_count;
  size_t mem_free, mem_total; /* bytes, as seen by the probe */
  int driver_version;         /* e.g. 13000 for 13.0; 0 when there is no driver */
  int runtime_version;
} sg_device_info;

typedef struct sg_backend sg_backend;
typedef struct sg_exec sg_exec;

/* Per-op-family slot tables, defined in kernels/<op>/<op>_backends.h. */
struct sg_rng_ops;
struct sg_click_ops;
struct sg_arima_ops;
struct sg_aco_ops;

/* A backend: its per-worker context hooks and one slot table per op family (NULL = none). */
typedef struct sg_backend_ops {
  const char *name; /* "cpu" | "cuda" | a test's fake */
  /* per-worker context; exec_init may set x->impl, exec_fini frees it */
  sg_status (*exec_init)(sg_exec *x, sg_err *err);
  void (*exec_fini)(sg_exec *x);
  /* device memory now (bytes); NULL on backends without a device */
  sg_status (*device_memory)(sg_backend *be, size_t *free_bytes, size_t *total_bytes, sg_err *err);
  const struct sg_rng_ops *rng;     /* kernels/rng */
  const struct sg_click_ops *click; /* kernels/click */
  const struct sg_arima_ops *arima; /* kernels/arima */
  const struct sg_aco_ops *aco;     /* kernels/aco */
} sg_backend_ops;

/* Opens the backend cfg asks for (cfg NULL = all defaults, i.e. auto). Returns NULL and fills err
 * when CUDA was required and cannot be used. Thread-safe to use once opened; close after every
 * exec is destroyed. */
sg_backend *sg_backend_open(const sg_backend_config *cfg, sg_err *err);

/* Opens a backend over a caller's ops table (tests inject faults with it). The table must
 * outlive the backend. kind is reported as given. */
sg_backend *sg_backend_open_ops(const sg_backend_ops *ops, sg_backend_kind kind,
                                const sg_backend_config *cfg, sg_err *err);
void sg_backend_close(sg_backend *be);

sg_backend_kind sg_backend_kind_of(const sg_backend *be); /* CPU or CUDA, never AUTO */
const char *sg_backend_name(const sg_backend *be);        /* the ops table's name */
const char *sg_backend_reason(const sg_backend *be);      /* why this backend was chosen */
/* The CUDA device in use, or NULL on the CPU backend. */
const sg_device_info *sg_backend_device(const sg_backend *be);
/* 0 once a sticky device error was seen; sg_backend_health_reason says which. */
int sg_backend_healthy(const sg_backend *be);
/* Free and total device memory now; SG_UNSUPPORTED on the CPU backend. Thread-safe. */
sg_status sg_backend_device_memory(sg_backend *be, size_t *free_bytes, size_t *total_bytes,
                                   sg_err *err);
const char *sg_backend_health_reason(const sg_backend *be);

/* Probes CUDA device `device` without opening a backend: fills info and returns SG_OK when it
 * is usable, else the reason (SG_NO_DEVICE without a driver or device, or built without CUDA;
 * SG_UNSUPPORTED below compute capability 8.0; SG_RESOURCE_EXHAUSTED below min_free_bytes).
 * Never aborts. info may be partly filled on failure (driver version, name). */
sg_status sg_cuda_probe(int device, size_t min_free_bytes, sg_device_info *info, sg_err *err);

/* 1 when this library was built with the CUDA backend. */
int sg_cuda_built(void);

/* A worker's execution context. Not thread-safe: one thread uses an exec at a time. */
sg_exec *sg_exec_create(sg_backend *be, sg_err *err);
void sg_exec_destroy(sg_exec *x);
sg_backend *sg_exec_backend(const sg_exec *x);
/* OpenMP threads this exec's CPU work uses (the CPU backend's ops; a CUDA exec's host-side work),
 * instead of the backend's cpu_threads: a scheduler that runs several execs at once divides the
 * cores among them. threads <= 0 leaves it as it is. */
void sg_exec_set_threads(sg_exec *x, int threads);
/* The OpenMP threads this exec uses (at least 1). */
int sg_exec_threads(const sg_exec *x);

SG_END_DECLS

#endif
