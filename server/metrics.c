/* The /metrics endpoint: renders sg_method_stats and server gauges as Prometheus text 0.0.4.
 * Runs on libmicrohttpd's own thread; it only reads atomics and asks the backend for memory. */
#include "metrics.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "common/backend.h"
#include "log.h"
#include "server.h"
#include "sg_version.h"
#include "util.h"

struct sg_metrics {
  struct MHD_Daemon *daemon;
  sg_server *srv;
  char address[128];
};

typedef struct buf {
  char *p;
  size_t len, cap;
  int oom;
} buf;

static void put(buf *b, const char *fmt, ...) SG_PRINTF(2, 3);
static void put(buf *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t ncap = b->cap * 2 + (size_t)n + 1;
    char *np = realloc(b->p, ncap);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = ncap;
  }
}

static const char *code_name(int code) {
  static const char *const names[] = {"OK",
                                      "CANCELLED",
                                      "UNKNOWN",
                                      "INVALID_ARGUMENT",
                                      "DEADLINE_EXCEEDED",
                                      "NOT_FOUND",
                                      "ALREADY_EXISTS",
                                      "PERMISSION_DENIED",
                                      "RESOURCE_EXHAUSTED",
                                      "FAILED_PRECONDITION",
                                      "ABORTED",
                                      "OUT_OF_RANGE",
                                      "UNIMPLEMENTED",
                                      "INTERNAL",
                                      "UNAVAILABLE",
                                      "DATA_LOSS",
                                      "UNAUTHENTICATED"};
  return code >= 0 && code < SG_STATS_CODES ? names[code] : "UNKNOWN";
}

static const char *method_label(int i) {
  return i < sg_method_count ? sg_methods[i].path : "unknown";
}

static void render_counters(buf *b, const sg_method_stats *stats, int rows) {
  static const struct {
    const char *name, *help;
    int outcome; /* -1 = all outcomes */
  } families[] = {
      {"shopgpu_rpc_calls_total", "Finished calls by method and gRPC status code.", -1},
      {"shopgpu_rpc_rejected_total",
       "Calls refused before the handler ran (bad request, auth, busy, shutting down, deadline).",
       SG_OUTCOME_REJECTED},
      {"shopgpu_rpc_failed_total", "Calls whose handler ran and answered an error.",
       SG_OUTCOME_FAILED},
  };
  for (size_t f = 0; f < SG_ARRAY_LEN(families); f++) {
    put(b, "# HELP %s %s\n# TYPE %s counter\n", families[f].name, families[f].help,
        families[f].name);
    for (int i = 0; i < rows; i++) {
      for (int code = 0; code < SG_STATS_CODES; code++) {
        uint64_t n = 0;
        for (int o = 0; o < 3; o++)
          if (families[f].outcome < 0 || families[f].outcome == o)
            n += atomic_load(&stats[i].by_code[o][code]);
        /* every method shows its OK series so rates start at zero */
        if (n == 0 && !(code == 0 && families[f].outcome < 0 && i < sg_method_count)) continue;
        put(b, "%s{method=\"%s\",code=\"%s\"} %llu\n", families[f].name, method_label(i),
            code_name(code), (unsigned long long)n);
      }
    }
  }
}

static void render_latency(buf *b, const sg_method_stats *stats, int rows) {
  put(b, "# HELP shopgpu_rpc_latency_seconds Call latency from arrival to the end of the call.\n"
         "# TYPE shopgpu_rpc_latency_seconds histogram\n");
  for (int i = 0; i < rows; i++) {
    uint64_t cum = 0;
    for (int k = 0; k < SG_STATS_BUCKETS; k++) {
      cum += atomic_load(&stats[i].bucket[k]);
      if (k == SG_STATS_BUCKETS - 1)
        put(b, "shopgpu_rpc_latency_seconds_bucket{method=\"%s\",le=\"+Inf\"} %llu\n",
            method_label(i), (unsigned long long)cum);
      else
        put(b, "shopgpu_rpc_latency_seconds_bucket{method=\"%s\",le=\"%g\"} %llu\n",
            method_label(i), sg_stats_bucket_le[k], (unsigned long long)cum);
    }
    put(b, "shopgpu_rpc_latency_seconds_sum{method=\"%s\"} %.6f\n", method_label(i),
        (double)atomic_load(&stats[i].latency_us_sum) * 1e-6);
    put(b, "shopgpu_rpc_latency_seconds_count{method=\"%s\"} %llu\n", method_label(i),
        (unsigned long long)cum);
  }
  put(b, "# HELP shopgpu_rpc_in_flight Calls in progress.\n# TYPE shopgpu_rpc_in_flight gauge\n");
  for (int i = 0; i < rows; i++)
    put(b, "shopgpu_rpc_in_flight{method=\"%s\"} %lld\n", method_label(i),
        (long long)atomic_load(&stats[i].in_flight));
}

static void render_scheduler(buf *b, sg_server *srv) {
  put(b,
      "# HELP shopgpu_jobs_queued Jobs waiting for a worker, by class.\n"
      "# TYPE shopgpu_jobs_queued gauge\n"
      "shopgpu_jobs_queued{class=\"interactive\"} %zu\nshopgpu_jobs_queued{class=\"batch\"} %zu\n",
      sg_sched_queued(srv->sched, SG_JOB_INTERACTIVE), sg_sched_queued(srv->sched, SG_JOB_BATCH));
  put(b,
      "# HELP shopgpu_jobs_queued_estimated_seconds Run-time estimates of the waiting jobs, "
      "summed.\n"
      "# TYPE shopgpu_jobs_queued_estimated_seconds gauge\n"
      "shopgpu_jobs_queued_estimated_seconds{class=\"interactive\"} %.6g\n"
      "shopgpu_jobs_queued_estimated_seconds{class=\"batch\"} %.6g\n",
      sg_sched_queued_estimate(srv->sched, SG_JOB_INTERACTIVE),
      sg_sched_queued_estimate(srv->sched, SG_JOB_BATCH));
  uint64_t calls, jobs;
  sg_sched_batch_counts(srv->sched, &calls, &jobs);
  put(b,
      "# HELP shopgpu_batched_calls_total Merged kernel calls made by dynamic batching.\n"
      "# TYPE shopgpu_batched_calls_total counter\nshopgpu_batched_calls_total %llu\n"
      "# HELP shopgpu_batched_jobs_total Jobs that went through merged calls.\n"
      "# TYPE shopgpu_batched_jobs_total counter\nshopgpu_batched_jobs_total %llu\n",
      (unsigned long long)calls, (unsigned long long)jobs);
}

static void render_cache(buf *b, sg_server *srv) {
  if (!sg_cache_enabled(srv->cache)) return;
  const sg_cache_stats *c = sg_cache_get_stats(srv->cache);
  static const char *const names[] = {"hits",    "misses",  "errors",    "bad_blobs",
                                      "written", "dropped", "published", "reconnects"};
  const atomic_uint_fast64_t *vals[] = {&c->hits,    &c->misses,  &c->errors,    &c->bad_blobs,
                                        &c->written, &c->dropped, &c->published, &c->reconnects};
  put(b, "# HELP shopgpu_cache_events_total Redis cache events: lookups that hit or missed, "
         "errors, invalid blobs read, write-backs written or dropped, lists published, "
         "reconnections.\n# TYPE shopgpu_cache_events_total counter\n");
  for (size_t i = 0; i < SG_ARRAY_LEN(names); i++)
    put(b, "shopgpu_cache_events_total{event=\"%s\"} %llu\n", names[i],
        (unsigned long long)atomic_load(vals[i]));
  put(b,
      "# HELP shopgpu_cache_connected 1 while Redis answers.\n"
      "# TYPE shopgpu_cache_connected gauge\nshopgpu_cache_connected %d\n",
      sg_cache_connected(srv->cache));
}

static void render_server(buf *b, sg_server *srv) {
  put(b,
      "# HELP shopgpu_rpc_queue_depth Calls waiting for a worker.\n"
      "# TYPE shopgpu_rpc_queue_depth gauge\nshopgpu_rpc_queue_depth %zu\n",
      sg_rpc_queue_depth(srv->rpc));
  const sg_device_info *d = sg_backend_device(srv->backend);
  put(b,
      "# HELP shopgpu_backend_info The compute backend in use.\n"
      "# TYPE shopgpu_backend_info gauge\n"
      "shopgpu_backend_info{backend=\"%s\",requested=\"%s\",device=\"%s\"} 1\n",
      sg_backend_name(srv->backend), sg_backend_kind_name(srv->cfg.backend), d ? d->name : "");
  put(b,
      "# HELP shopgpu_backend_healthy 0 after a sticky device error.\n"
      "# TYPE shopgpu_backend_healthy gauge\nshopgpu_backend_healthy %d\n",
      sg_backend_healthy(srv->backend) ? 1 : 0);
  size_t free_b, total_b;
  if (d && sg_backend_device_memory(srv->backend, &free_b, &total_b, NULL) == SG_OK) {
    put(b,
        "# HELP shopgpu_device_memory_bytes Device memory as the driver reports it.\n"
        "# TYPE shopgpu_device_memory_bytes gauge\n"
        "shopgpu_device_memory_bytes{kind=\"free\"} %zu\n"
        "shopgpu_device_memory_bytes{kind=\"total\"} %zu\n",
        free_b, total_b);
  }
  put(b,
      "# HELP shopgpu_uptime_seconds Seconds since the server started.\n"
      "# TYPE shopgpu_uptime_seconds gauge\nshopgpu_uptime_seconds %.3f\n",
      (double)(sg_mono_us() - srv->started_mono_us) * 1e-6);
  put(b,
      "# HELP shopgpu_build_info Version and commit.\n# TYPE shopgpu_build_info gauge\n"
      "shopgpu_build_info{version=\"%s\",commit=\"%s\"} 1\n",
      SG_VERSION, SG_COMMIT);
}

char *sg_metrics_render(sg_server *srv, size_t *len) {
  buf b = {malloc(16384), 0, 16384, 0};
  if (!b.p) return NULL;
  int rows = sg_method_count + 1;
  const sg_method_stats *stats = sg_rpc_stats(srv->rpc);
  render_counters(&b, stats, rows);
  render_latency(&b, stats, rows);
  render_server(&b, srv);
  render_scheduler(&b, srv);
  render_cache(&b, srv);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *len = b.len;
  return b.p;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
  (void)version, (void)upload, (void)upload_size, (void)state;
  sg_metrics *m = cls;
  struct MHD_Response *resp;
  unsigned code = MHD_HTTP_OK;
  if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
    char nf[] = "not found: GET /metrics\n";
    resp = MHD_create_response_from_buffer(sizeof nf - 1, nf, MHD_RESPMEM_MUST_COPY);
    code = MHD_HTTP_NOT_FOUND;
  } else {
    size_t len = 0;
    char *text = sg_metrics_render(m->srv, &len);
    if (!text) return MHD_NO;
    resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  }
  if (!resp) return MHD_NO;
  enum MHD_Result r = MHD_queue_response(conn, code, resp);
  MHD_destroy_response(resp);
  return r;
}

sg_metrics *sg_metrics_start(sg_server *srv, const char *listen, sg_err *err) {
  const char *colon = strrchr(listen, ':');
  if (!colon || !colon[1]) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "--metrics-listen: \"%.64s\" is not HOST:PORT", listen);
    return NULL;
  }
  char host[128];
  snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE},
                  *res = NULL;
  int gai = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
  if (gai != 0) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "--metrics-listen %.64s: %s", listen, gai_strerror(gai));
    return NULL;
  }
  sg_metrics *m = calloc(1, sizeof *m);
  if (m) {
    m->srv = srv;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (res->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR,
                                 res->ai_addr, MHD_OPTION_CONNECTION_LIMIT, 64u,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  }
  freeaddrinfo(res);
  if (!m || !m->daemon) {
    sg_err_set(err, SG_UNAVAILABLE, "--metrics-listen: cannot listen on %.64s (in use?)", listen);
    free(m);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
  snprintf(m->address, sizeof m->address, "%s:%u", host, info ? info->port : 0);
  SG_INFO("metrics", "serving http://%s/metrics", m->address);
  return m;
}

const char *sg_metrics_address(const sg_metrics *m) { return m->address; }

void sg_metrics_stop(sg_metrics *m) {
  if (!m) return;
  MHD_stop_daemon(m->daemon);
  free(m);
}
