/* shopgpu CLI commands for the server itself: `info` (GetServerInfo as a readable summary and
 * method table, or the whole message as JSON) and `health [SERVICE]` (grpc.health.v1 Check;
 * exit 0 only when SERVING). */
#include <inttypes.h>
#include <time.h>

#include "cli.h"
#include "json.h"

static void print_duration(FILE *out, double s) {
  if (s < 60) {
    fprintf(out, "%.1fs", s);
    return;
  }
  int64_t t = (int64_t)s;
  int64_t d = t / 86400, h = t / 3600 % 24, m = t / 60 % 60, sec = t % 60;
  if (d) fprintf(out, "%" PRId64 "d ", d);
  if (d || h) fprintf(out, "%" PRId64 "h ", h);
  fprintf(out, "%" PRId64 "m %" PRId64 "s", m, sec);
}

static void print_started(FILE *out, int64_t unix_ms) {
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;
  char buf[32];
  if (unix_ms > 0 && gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
    fprintf(out, " (since %s)", buf);
}

static void print_device(FILE *out, const Shopgpu__V1__Device *d) {
  if (!d) {
    fprintf(out, "%-9s none\n", "device");
    return;
  }
  fprintf(out,
          "%-9s %s, compute %d.%d, %d SMs, %.1f of %.1f GiB free, driver %d.%d, runtime %d.%d\n",
          "device", d->name, d->compute_capability_major, d->compute_capability_minor, d->sm_count,
          (double)d->memory_free_bytes / (1 << 30), (double)d->memory_total_bytes / (1 << 30),
          d->driver_version / 1000, d->driver_version % 1000 / 10, d->runtime_version / 1000,
          d->runtime_version % 1000 / 10);
}

static void print_backend(FILE *out, const Shopgpu__V1__Backend *b) {
  if (!b) {
    fprintf(out, "%-9s unknown\n", "backend");
    return;
  }
  fprintf(out, "%-9s %s (requested %s): %s\n", "backend", b->name, b->requested, b->reason);
  if (b->healthy)
    fprintf(out, "%-9s healthy\n", "health");
  else
    fprintf(out, "%-9s unhealthy: %s\n", "health", b->health_reason);
  print_device(out, b->device);
}

static void print_methods(FILE *out, const Shopgpu__V1__ServerInfo *info) {
  fprintf(out, "\n%-36s %8s %8s %8s %8s %9s %9s\n", "METHOD", "CALLS", "OK", "REJECTED", "FAILED",
          "P50_MS", "P99_MS");
  for (size_t i = 0; i < info->n_methods; i++) {
    const Shopgpu__V1__MethodStats *m = info->methods[i];
    fprintf(out, "%-36s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %9.3f %9.3f\n",
            m->method, m->calls, m->ok, m->rejected, m->failed, m->latency_p50_ms,
            m->latency_p99_ms);
  }
}

static void print_info(FILE *out, const Shopgpu__V1__ServerInfo *info) {
  fprintf(out, "%-9s shopgpu-server %s (commit %s)\n", "version", info->version, info->commit);
  print_backend(out, info->backend);
  fprintf(out, "%-9s ", "uptime");
  print_duration(out, info->uptime_s);
  print_started(out, info->started_at_unix_ms);
  fprintf(out, "\n%-9s %s\n", "listen", info->listen);
  uint64_t in_flight = 0;
  for (size_t i = 0; i < info->n_methods; i++)
    in_flight += info->methods[i]->in_flight;
  fprintf(out,
          "%-9s %d handler threads, %d pollers; calls: %" PRIu64 " in flight, %" PRIu64
          " queued\n",
          "rpc", info->worker_threads, info->poller_threads, in_flight, info->queue_depth);
  fprintf(out,
          "%-9s %d scheduler workers; queued: %" PRIu64 " interactive (~%.3g s), %" PRIu64
          " batch (~%.3g s)\n",
          "jobs", info->scheduler_workers, info->jobs_queued_interactive,
          info->jobs_queued_interactive_estimated_s, info->jobs_queued_batch,
          info->jobs_queued_batch_estimated_s);
  fprintf(out, "%-9s %s\n", "redis", info->redis);
  print_methods(out, info);
}

int sg_cli_cmd_info(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  Shopgpu__V1__ServerInfo *info = NULL;
  shopgpu_status st;
  if (shopgpu_server_info(cli->client, &info, cli->timeout_ms, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  if (cli->json) {
    sg__json j;
    sg__json_init(&j, cli->out);
    sg__json_message(&j, &info->base);
    sg__json_finish(&j);
  } else {
    print_info(cli->out, info);
  }
  protobuf_c_message_free_unpacked(&info->base, NULL);
  return SG_CLI_OK;
}

static const char *serving_name(int serving) {
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
      &grpc__health__v1__health_check_response__serving_status__descriptor, serving);
  return v ? v->name : "UNKNOWN";
}

int sg_cli_cmd_health(sg_cli *cli, int argc, char **argv) {
  const char *service = argc > 0 ? argv[0] : "";
  int serving = 0;
  shopgpu_status st;
  if (shopgpu_health_check(cli->client, service, &serving, cli->timeout_ms, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  if (cli->json) {
    sg__json j;
    sg__json_init(&j, cli->out);
    sg__json_begin_object(&j);
    sg__json_key(&j, "service");
    sg__json_string(&j, service);
    sg__json_key(&j, "status");
    sg__json_string(&j, serving_name(serving));
    sg__json_end_object(&j);
    sg__json_finish(&j);
  } else {
    fprintf(cli->out, "%s\n", serving_name(serving));
  }
  return serving == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING ? SG_CLI_OK
                                                                                     : SG_CLI_FAIL;
}
