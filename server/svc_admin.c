/* shopgpu.v1.Admin: server information and the echo diagnostics (the transport's ceiling in
 * benchmarks; slow and streaming variants for deadline, cancellation and shutdown checks). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "pb.h"
#include "server.h"
#include "services.h"
#include "sg_version.h"
#include "shopgpu/v1/admin.pb-c.h"
#include "util.h"

#define MAX_DELAY_MS 60000
#define MAX_STREAM_COUNT 1000000
#define MAX_INTERVAL_MS 10000
#define MAX_STREAM_MS 86400000 /* a paced stream lasts at most a day */

/* Sleeps ms in short slices; returns 0 as soon as the call is cancelled. */
static int cancellable_sleep(sg_call *call, uint32_t ms) {
  int64_t until = sg_mono_us() + (int64_t)ms * 1000;
  while (!sg_call_cancelled(call)) {
    int64_t left = until - sg_mono_us();
    if (left <= 0) return 1;
    struct timespec ts = {0, (long)(left < 10000 ? left : 10000) * 1000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static void fill_method_stats(sg_call *call, Shopgpu__V1__ServerInfo *info) {
  const sg_method_stats *stats = sg_rpc_stats(sg_call_server(call));
  Shopgpu__V1__MethodStats *rows = sg_call_alloc(call, (size_t)sg_method_count * sizeof *rows);
  Shopgpu__V1__MethodStats **ptrs = sg_call_alloc(call, (size_t)sg_method_count * sizeof *ptrs);
  if (!rows || !ptrs) return;
  for (int i = 0; i < sg_method_count; i++) {
    const sg_method_stats *s = &stats[i];
    Shopgpu__V1__MethodStats *m = &rows[i];
    shopgpu__v1__method_stats__init(m);
    m->method = sg_pb_str(sg_methods[i].path);
    m->ok = sg_stats_count(s, SG_OUTCOME_OK);
    m->rejected = sg_stats_count(s, SG_OUTCOME_REJECTED);
    m->failed = sg_stats_count(s, SG_OUTCOME_FAILED);
    m->calls = m->ok + m->rejected + m->failed;
    int64_t fl = atomic_load(&s->in_flight);
    m->in_flight = fl > 0 ? (uint64_t)fl : 0;
    m->latency_p50_ms = sg_stats_quantile(s, 0.5) * 1e3;
    m->latency_p99_ms = sg_stats_quantile(s, 0.99) * 1e3;
    ptrs[i] = m;
  }
  info->methods = ptrs;
  info->n_methods = (size_t)sg_method_count;
}

static void fill_backend(const sg_server *srv, Shopgpu__V1__Backend *b, Shopgpu__V1__Device *d) {
  b->name = sg_pb_str(sg_backend_name(srv->backend));
  b->requested = sg_pb_str(sg_backend_kind_name(srv->cfg.backend));
  b->reason = sg_pb_str(sg_backend_reason(srv->backend));
  b->healthy = sg_backend_healthy(srv->backend) != 0;
  b->health_reason = sg_pb_str(sg_backend_health_reason(srv->backend));
  const sg_device_info *dev = sg_backend_device(srv->backend);
  if (!dev) return;
  d->name = sg_pb_str(dev->name);
  d->compute_capability_major = dev->cc_major;
  d->compute_capability_minor = dev->cc_minor;
  d->sm_count = dev->sm_count;
  d->driver_version = dev->driver_version;
  d->runtime_version = dev->runtime_version;
  size_t free_b = dev->mem_free, total_b = dev->mem_total;
  sg_backend_device_memory(srv->backend, &free_b, &total_b, NULL); /* live, when it answers */
  d->memory_free_bytes = free_b;
  d->memory_total_bytes = total_b;
  b->device = d;
}

void sg_svc_admin_server_info(sg_call *call, const ProtobufCMessage *req) {
  (void)req;
  sg_server *srv = sg_call_app(call);
  Shopgpu__V1__ServerInfo info = SHOPGPU__V1__SERVER_INFO__INIT;
  Shopgpu__V1__Backend backend = SHOPGPU__V1__BACKEND__INIT;
  Shopgpu__V1__Device device = SHOPGPU__V1__DEVICE__INIT;
  info.version = SG_VERSION;
  info.commit = SG_COMMIT;
  fill_backend(srv, &backend, &device);
  info.backend = &backend;
  info.uptime_s = (double)(sg_mono_us() - srv->started_mono_us) * 1e-6;
  info.started_at_unix_ms = srv->started_unix_ms;
  info.listen = sg_pb_str(sg_rpc_address(sg_call_server(call)));
  info.worker_threads = srv->cfg.threads;
  info.poller_threads = srv->cfg.pollers;
  info.redis = srv->cfg.redis;
  info.queue_depth = sg_rpc_queue_depth(sg_call_server(call));
  info.jobs_queued_interactive = sg_sched_queued(srv->sched, SG_JOB_INTERACTIVE);
  info.jobs_queued_batch = sg_sched_queued(srv->sched, SG_JOB_BATCH);
  info.jobs_queued_interactive_estimated_s =
      sg_sched_queued_estimate(srv->sched, SG_JOB_INTERACTIVE);
  info.jobs_queued_batch_estimated_s = sg_sched_queued_estimate(srv->sched, SG_JOB_BATCH);
  sg_sched_batch_counts(srv->sched, &info.batched_calls, &info.batched_jobs);
  info.redis_connected = sg_cache_connected(srv->cache) != 0;
  info.jobs_done_interactive = sg_sched_done(srv->sched, SG_JOB_INTERACTIVE);
  info.scheduler_workers =
      sg_backend_kind_of(srv->backend) == SG_BACKEND_CUDA ? srv->cfg.streams : srv->cfg.cpu_workers;
  fill_method_stats(call, &info);
  sg_call_reply(call, &info.base, NULL);
}

/* A delayed Echo or a paced EchoStream sleeps on a handler thread: at most all but one of the
 * pool's threads may do so at once (`threads` Echo calls with delay_ms held every unary call
 * back), the next ones are RESOURCE_EXHAUSTED. Returns 1 with a place taken (give it back). */
static int take_waiter(sg_call *call, int which, int pool, const char *field, sg_err *err) {
  sg_server *srv = sg_call_app(call);
  int most = pool > 1 ? pool - 1 : 1;
  /* up to 200 ms for a place: one whose call just ended (a deadline, a cancel) is given back
   * within a sleep slice */
  for (int tries = 0; tries < 20 && !sg_call_cancelled(call); tries++) {
    if (atomic_fetch_add(&srv->echo_waiting[which], 1) < most) return 1;
    atomic_fetch_sub(&srv->echo_waiting[which], 1);
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  sg_err_set(err, SG_RESOURCE_EXHAUSTED,
             "%s: %d calls already wait on handler threads (at most %d at once, so that one "
             "thread stays for other calls)",
             field, most, most);
  return 0;
}

void sg_svc_admin_echo(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__EchoRequest *r = (const void *)req;
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  if (r->delay_ms > MAX_DELAY_MS) {
    sg_err_set(&err, SG_INVALID_ARGUMENT, "delay_ms: %u > %d", r->delay_ms, MAX_DELAY_MS);
  } else if (r->delay_ms && take_waiter(call, 0, srv->cfg.threads, "delay_ms", &err)) {
    if (!cancellable_sleep(call, r->delay_ms))
      sg_err_set(&err, sg_call_cancel_status(call), "echo stopped early");
    atomic_fetch_sub(&srv->echo_waiting[0], 1);
  }
  Shopgpu__V1__EchoResponse resp = SHOPGPU__V1__ECHO_RESPONSE__INIT;
  resp.payload = r->payload;
  sg_call_reply(call, &resp.base, &err);
}

void sg_svc_admin_echo_stream(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__EchoStreamRequest *r = (const void *)req;
  sg_err err = {0};
  if (r->count > MAX_STREAM_COUNT) {
    sg_err_set(&err, SG_INVALID_ARGUMENT, "count: %u > %d", r->count, MAX_STREAM_COUNT);
  } else if (r->interval_ms > MAX_INTERVAL_MS) {
    sg_err_set(&err, SG_INVALID_ARGUMENT, "interval_ms: %u > %d", r->interval_ms, MAX_INTERVAL_MS);
  } else if ((uint64_t)r->count * r->interval_ms > MAX_STREAM_MS) { /* 1e6 x 10 s: 115 days */
    sg_err_set(&err, SG_INVALID_ARGUMENT, "count x interval_ms: %u x %u ms > %d ms", r->count,
               r->interval_ms, MAX_STREAM_MS);
  }
  sg_server *srv = sg_call_app(call);
  int paced = err.code == SG_OK && r->interval_ms && r->count > 1;
  if (paced && !take_waiter(call, 1, srv->cfg.stream_threads, "interval_ms", &err)) paced = 0;
  Shopgpu__V1__EchoResponse msg = SHOPGPU__V1__ECHO_RESPONSE__INIT;
  msg.payload = r->payload;
  for (uint32_t i = 0; err.code == SG_OK && i < r->count; i++) {
    if (i && r->interval_ms && !cancellable_sleep(call, r->interval_ms)) {
      sg_err_set(&err, sg_call_cancel_status(call), "echo stream stopped after %u messages", i);
      break;
    }
    if (sg_call_send(call, &msg.base, &err) != SG_OK) break;
  }
  if (paced) atomic_fetch_sub(&srv->echo_waiting[1], 1);
  sg_call_reply(call, NULL, &err);
}

void sg_svc_admin_echo_upload(sg_call *call, const ProtobufCMessage *req) {
  (void)req;
  sg_err err = {0};
  Shopgpu__V1__EchoUploadResponse resp = SHOPGPU__V1__ECHO_UPLOAD_RESPONSE__INIT;
  for (;;) {
    ProtobufCMessage *m = NULL;
    if (sg_call_recv(call, &m, &err) != SG_OK || !m) break;
    resp.messages++;
    resp.bytes += ((Shopgpu__V1__EchoRequest *)(void *)m)->payload.len;
    protobuf_c_message_free_unpacked(m, NULL);
  }
  sg_call_reply(call, &resp.base, &err);
}

void sg_svc_admin_echo_bidi(sg_call *call, const ProtobufCMessage *req) {
  (void)req;
  sg_err err = {0};
  for (;;) {
    ProtobufCMessage *m = NULL;
    if (sg_call_recv(call, &m, &err) != SG_OK || !m) break;
    Shopgpu__V1__EchoResponse resp = SHOPGPU__V1__ECHO_RESPONSE__INIT;
    resp.payload = ((Shopgpu__V1__EchoRequest *)(void *)m)->payload;
    sg_status st = sg_call_send(call, &resp.base, &err);
    protobuf_c_message_free_unpacked(m, NULL);
    if (st != SG_OK) break;
  }
  sg_call_reply(call, NULL, &err);
}
