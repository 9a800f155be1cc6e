/* Backend selection (auto | cpu | cuda), the backend object, worker execs and the op gate.
 * Invariant: a backend that opened is usable until a sticky device error marks it lost; the
 * auto choice never fails, it falls back to the CPU and says why. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"

struct sg_backend {
  const sg_backend_ops *ops;
  sg_backend_kind kind;
  sg_backend_config cfg;
  int has_device;
  sg_device_info device;
  char reason[SG_ERR_MSG_MAX + 64];
  atomic_int lost; /* set once by the first worker that sees a sticky error */
  char lost_why[SG_ERR_MSG_MAX];
};

sg_status sg_backend_kind_parse(const char *text, sg_backend_kind *out, sg_err *err) {
  static const char *const names[] = {"auto", "cpu", "cuda"};
  for (size_t i = 0; text && i < SG_ARRAY_LEN(names); i++) {
    if (strcmp(text, names[i]) == 0) {
      *out = (sg_backend_kind)i;
      return SG_OK;
    }
  }
  return sg_err_set(err, SG_INVALID_ARGUMENT, "backend: \"%.64s\" is not one of auto, cpu, cuda",
                    text ? text : "(null)");
}

const char *sg_backend_kind_name(sg_backend_kind kind) {
  switch (kind) {
  case SG_BACKEND_AUTO: return "auto";
  case SG_BACKEND_CPU: return "cpu";
  case SG_BACKEND_CUDA: return "cuda";
  }
  return "unknown";
}

void sg__backend_log(sg_backend *be, sg_log_level level, const char *fmt, ...) {
  if (!be->cfg.log) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  be->cfg.log(be->cfg.log_ctx, level, msg);
}

static sg_backend *backend_new(const sg_backend_ops *ops, sg_backend_kind kind,
                               const sg_backend_config *cfg, sg_err *err) {
  sg_backend *be = calloc(1, sizeof *be);
  if (!be) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "backend: out of memory");
    return NULL;
  }
  if (cfg) be->cfg = *cfg;
  if (be->cfg.min_free_bytes == 0) be->cfg.min_free_bytes = SG_DEFAULT_MIN_FREE_BYTES;
  be->ops = ops;
  be->kind = kind;
  atomic_init(&be->lost, 0);
  return be;
}

static void describe_device(char *buf, size_t cap, const char *prefix, const sg_device_info *d) {
  snprintf(buf, cap,
           "%scuda device %d: %s (compute capability %d.%d, %d SMs, %.1f of %.1f GiB free)", prefix,
           d->id, d->name, d->cc_major, d->cc_minor, d->sm_count, (double)d->mem_free / (1 << 30),
           (double)d->mem_total / (1 << 30));
}

/* Probes CUDA for cfg; on success returns a cuda backend, else NULL with probe_err filled. */
static sg_backend *open_cuda(const sg_backend_config *cfg, const char *prefix, sg_err *probe_err,
                             sg_err *err) {
  sg_device_info info;
  size_t min_free = cfg && cfg->min_free_bytes ? cfg->min_free_bytes : SG_DEFAULT_MIN_FREE_BYTES;
  if (sg_cuda_probe(cfg ? cfg->device : 0, min_free, &info, probe_err) != SG_OK) return NULL;
  sg_backend *be = backend_new(sg__cuda_ops(), SG_BACKEND_CUDA, cfg, err);
  if (!be) return NULL;
  be->has_device = 1;
  be->device = info;
  describe_device(be->reason, sizeof be->reason, prefix, &info);
  return be;
}

sg_backend *sg_backend_open(const sg_backend_config *cfg, sg_err *err) {
  sg_backend_kind want = cfg ? cfg->kind : SG_BACKEND_AUTO;
  sg_backend *be = NULL;
  sg_err probe_err = {0};
  switch (want) {
  case SG_BACKEND_CPU:
    be = backend_new(sg__cpu_ops(), SG_BACKEND_CPU, cfg, err);
    if (be) snprintf(be->reason, sizeof be->reason, "cpu requested (--backend cpu)");
    break;
  case SG_BACKEND_CUDA:
    be = open_cuda(cfg, "cuda requested: ", &probe_err, err);
    if (!be && probe_err.code != SG_OK) {
      sg_err_set(err, probe_err.code, "cuda backend requested but unusable: %s",
                 sg_err_message(&probe_err));
    }
    break;
  case SG_BACKEND_AUTO:
    be = open_cuda(cfg, "auto: ", &probe_err, err);
    if (be || probe_err.code == SG_OK) break;
    be = backend_new(sg__cpu_ops(), SG_BACKEND_CPU, cfg, err);
    if (be) {
      snprintf(be->reason, sizeof be->reason, "auto: cuda unavailable (%s); using cpu",
               sg_err_message(&probe_err));
    }
    break;
  default:
    sg_err_set(err, SG_INVALID_ARGUMENT, "backend: kind %d is not auto, cpu or cuda", (int)want);
    return NULL;
  }
  if (be)
    sg__backend_log(be, be->kind == want ? SG_LOG_INFO : SG_LOG_WARN, "backend %s: %s",
                    be->ops->name, be->reason);
  return be;
}

sg_backend *sg_backend_open_ops(const sg_backend_ops *ops, sg_backend_kind kind,
                                const sg_backend_config *cfg, sg_err *err) {
  if (!ops || !ops->name) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "backend: ops table is NULL or unnamed");
    return NULL;
  }
  sg_backend *be = backend_new(ops, kind, cfg, err);
  if (be) snprintf(be->reason, sizeof be->reason, "custom ops table \"%s\"", ops->name);
  return be;
}

void sg_backend_close(sg_backend *be) { free(be); }

sg_backend_kind sg_backend_kind_of(const sg_backend *be) { return be->kind; }
const char *sg_backend_name(const sg_backend *be) { return be->ops->name; }
const char *sg_backend_reason(const sg_backend *be) { return be->reason; }
const sg_device_info *sg_backend_device(const sg_backend *be) {
  return be->has_device ? &be->device : NULL;
}
int sg_backend_healthy(const sg_backend *be) { return !atomic_load(&be->lost); }
const char *sg_backend_health_reason(const sg_backend *be) {
  switch (atomic_load(&be->lost)) {
  case 0: return "healthy";
  case 1: return be->lost_why;
  default: return "device lost";
  }
}

sg_status sg_backend_device_memory(sg_backend *be, size_t *free_bytes, size_t *total_bytes,
                                   sg_err *err) {
  if (!be->ops->device_memory)
    return sg_err_set(err, SG_UNSUPPORTED, "backend %s has no device memory", be->ops->name);
  if (atomic_load(&be->lost))
    return sg_err_set(err, SG_DEVICE_LOST, "backend %s is unhealthy: %s", be->ops->name,
                      sg_backend_health_reason(be));
  return be->ops->device_memory(be, free_bytes, total_bytes, err);
}

void sg__backend_mark_lost(sg_backend *be, const char *why) {
  /* lost goes 0 -> 2 (writing why) -> 1 (published); readers only read lost_why at 1 */
  int expected = 0;
  if (!atomic_compare_exchange_strong(&be->lost, &expected, 2)) return;
  snprintf(be->lost_why, sizeof be->lost_why, "%s", why);
  atomic_store(&be->lost, 1);
  sg__backend_log(be, SG_LOG_ERROR, "backend %s marked unhealthy: %s", be->ops->name, why);
}

sg_exec *sg_exec_create(sg_backend *be, sg_err *err) {
  sg_exec *x = calloc(1, sizeof *x);
  if (!x) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "exec: out of memory");
    return NULL;
  }
  x->be = be;
  x->ops = be->ops;
  x->threads = be->cfg.cpu_threads;
  if (x->ops->exec_init && x->ops->exec_init(x, err) != SG_OK) {
    free(x);
    return NULL;
  }
  return x;
}

void sg_exec_destroy(sg_exec *x) {
  if (!x) return;
  if (x->ops->exec_fini) x->ops->exec_fini(x);
  free(x);
}

sg_backend *sg_exec_backend(const sg_exec *x) { return x->be; }

void sg_exec_set_threads(sg_exec *x, int threads) {
  if (x && threads > 0) x->threads = threads;
}

int sg_exec_threads(const sg_exec *x) { return x && x->threads > 0 ? x->threads : 1; }

sg_status sg__op_begin(sg_exec *x, int has_slot, const char *op, sg_err *err) {
  if (!x) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: exec is NULL", op);
  if (!has_slot) {
    return sg_err_set(err, SG_UNSUPPORTED, "%s: not supported by the %s backend", op, x->ops->name);
  }
  if (atomic_load(&x->be->lost)) {
    return sg_err_set(err, SG_DEVICE_LOST, "%s: backend %s is unhealthy: %s", op, x->ops->name,
                      sg_backend_health_reason(x->be));
  }
  return SG_OK;
}

sg_status sg__op_end(sg_exec *x, sg_status st, sg_err *err) {
  if (st == SG_DEVICE_LOST) sg__backend_mark_lost(x->be, err ? sg_err_message(err) : "device lost");
  return st;
}
