/* The flag table and its parser. Adding a flag is one row here and one field in sg_config. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sg_version.h"

typedef enum { T_STR, T_INT, T_DOUBLE, T_BACKEND, T_LOGLEVEL } flag_type;

typedef struct flag {
  const char *name; /* without "--" */
  const char *env;
  const char *metavar;
  const char *def;
  flag_type type;
  size_t offset;
  double min, max; /* T_INT, T_DOUBLE */
  const char *help;
} flag;

#define F(field) offsetof(sg_config, field)
static const flag flags[] = {
    {"listen", "SHOPGPU_LISTEN", "ADDR", "127.0.0.1:50051", T_STR, F(listen), 0, 0,
     "address to serve gRPC on: HOST:PORT (PORT 0 picks a free one) or unix:PATH"},
    {"backend", "SHOPGPU_BACKEND", "KIND", "auto", T_BACKEND, F(backend), 0, 0,
     "compute backend: auto (cuda when a usable GPU is found, else cpu), cpu or cuda"},
    {"data-dir", "SHOPGPU_DATA_DIR", "DIR", "./var", T_STR, F(data_dir), 0, 0,
     "where models, job specs and results are kept (created if missing)"},
    {"redis", "SHOPGPU_REDIS", "ADDR", "127.0.0.1:6379", T_STR, F(redis), 0, 0,
     "Redis for cached recommendations: HOST:PORT, unix:PATH or none"},
    {"threads", "SHOPGPU_THREADS", "N", "0", T_INT, F(threads), 0, 1024,
     "RPC handler threads: they validate requests and queue jobs (0 = cores, at least 2)"},
    {"stream-threads", "SHOPGPU_STREAM_THREADS", "N", "16", T_INT, F(stream_threads), 1, 1024,
     "handler threads of streaming calls (uploads, score streams, result reads), apart from "
     "--threads: slow or idle streams never hold the threads of unary calls"},
    {"stream-idle-timeout", "SHOPGPU_STREAM_IDLE_TIMEOUT", "S", "60", T_DOUBLE, F(stream_idle_s), 0,
     86400,
     "a streaming call whose next message neither arrives nor can be sent for S seconds ends "
     "DEADLINE_EXCEEDED (0 = never)"},
    {"streams", "SHOPGPU_STREAMS", "N", "2", T_INT, F(streams), 1, 64,
     "cuda backend: scheduler workers, each with its own CUDA stream, cuBLAS handle and memory"},
    {"cpu-workers", "SHOPGPU_CPU_WORKERS", "N", "0", T_INT, F(cpu_workers), 0, 1024,
     "cpu backend: scheduler workers; the cores are divided among them (0 = 2, or 1 on 1 core)"},
    {"batch-window-us", "SHOPGPU_BATCH_WINDOW_US", "US", "200", T_INT, F(batch_window_us), 0,
     1000000, "dynamic batching: small scoring calls arriving within US are merged"},
    {"max-batch", "SHOPGPU_MAX_BATCH", "PAIRS", "262144", T_INT, F(max_batch), 0, 1 << 28,
     "dynamic batching: most pairs in one merged kernel call (0 = batching off)"},
    {"aging", "SHOPGPU_AGING", "S", "5", T_DOUBLE, F(aging_s), 0.001, 86400,
     "a batch job waits at most about S seconds while interactive work keeps arriving"},
    {"batch-nice", "SHOPGPU_BATCH_NICE", "N", "10", T_INT, F(batch_nice), 0, 19,
     "nice value of the threads running batch job steps: interactive calls go first (0 = off)"},
    {"fallback", "SHOPGPU_FALLBACK", "WHERE", "none", T_STR, F(fallback), 0, 0,
     "none: out of device memory is RESOURCE_EXHAUSTED; cpu: such jobs run on the cpu instead"},
    {"max-jobs", "SHOPGPU_MAX_JOBS", "N", "10000", T_INT, F(max_jobs), 1, 10000000,
     "jobs kept (with their specs and results) at most: a new one deletes the oldest finished"},
    {"job-ttl", "SHOPGPU_JOB_TTL", "S", "604800", T_DOUBLE, F(job_ttl_s), 0, 1e9,
     "finished jobs and their results are deleted after S seconds (0 = never)"},
    {"cache-ttl", "SHOPGPU_CACHE_TTL", "S", "86400", T_INT, F(cache_ttl_s), 1, 1 << 30,
     "TTL of the recommendation lists written to Redis"},
    {"redis-password-file", "SHOPGPU_REDIS_PASSWORD_FILE", "FILE", "", T_STR,
     F(redis_password_file), 0, 0, "Redis AUTH password: the first line of FILE"},
    {"redis-db", "SHOPGPU_REDIS_DB", "N", "0", T_INT, F(redis_db), 0, 1 << 20,
     "Redis database index (SELECT)"},
    {"pollers", "SHOPGPU_POLLERS", "N", "2", T_INT, F(pollers), 1, 64,
     "gRPC poller threads, each with its own completion queue"},
    {"queue-limit", "SHOPGPU_QUEUE_LIMIT", "N", "4096", T_INT, F(queue_limit), 1, 1 << 20,
     "calls waiting for a handler, and jobs waiting per class, before RESOURCE_EXHAUSTED"},
    {"max-message-mb", "SHOPGPU_MAX_MESSAGE_MB", "MB", "64", T_INT, F(max_message_mb), 1, 2047,
     "largest request or response message, in MiB (larger requests: RESOURCE_EXHAUSTED)"},
    {"max-inflight-mb", "SHOPGPU_MAX_INFLIGHT_MB", "MB", "1024", T_INT, F(max_inflight_mb), 0,
     1048576,
     "decoded unary requests the server holds at once, queued or running: past it a call is "
     "RESOURCE_EXHAUSTED at once (one call is always taken; 0 = no limit)"},
    {"tls-cert", "SHOPGPU_TLS_CERT", "FILE", "", T_STR, F(tls_cert), 0, 0,
     "PEM certificate chain: serve TLS (with --tls-key)"},
    {"tls-key", "SHOPGPU_TLS_KEY", "FILE", "", T_STR, F(tls_key), 0, 0,
     "PEM private key for --tls-cert"},
    {"auth-token-file", "SHOPGPU_AUTH_TOKEN_FILE", "FILE", "", T_STR, F(auth_token_file), 0, 0,
     "require 'authorization: Bearer TOKEN' on every call but health; one token per line; blank "
     "lines and lines starting with # are skipped"},
    {"metrics-listen", "SHOPGPU_METRICS_LISTEN", "ADDR", "", T_STR, F(metrics_listen), 0, 0,
     "serve Prometheus metrics on http://ADDR/metrics (HOST:PORT; empty = off)"},
    {"log-level", "SHOPGPU_LOG_LEVEL", "LEVEL", "info", T_LOGLEVEL, F(log_level), 0, 0,
     "debug, info, warn or error"},
    {"shutdown-grace", "SHOPGPU_SHUTDOWN_GRACE", "S", "10", T_DOUBLE, F(shutdown_grace_s), 0, 3600,
     "on SIGTERM/SIGINT, seconds in-flight calls may take before they are cancelled"},
    {"ready-file", "SHOPGPU_READY_FILE", "FILE", "", T_STR, F(ready_file), 0, 0,
     "once serving, write the bound gRPC address to FILE (line 1) and, with --metrics-listen, the "
     "metrics address (line 2)"},
};
#undef F

void sg_config_usage(FILE *out) {
  fprintf(out,
          "usage: shopgpu-server [FLAGS]\n\n"
          "shopgpu %s: gRPC compute server for click scoring, forecasting and routing.\n"
          "Every flag can also be set by its environment variable; flags win.\n\n",
          SG_VERSION);
  for (size_t i = 0; i < SG_ARRAY_LEN(flags); i++) {
    const flag *f = &flags[i];
    char left[64];
    snprintf(left, sizeof left, "--%s %s", f->name, f->metavar);
    fprintf(out, "  %-26s %s\n  %-26s [%s; default: %s]\n", left, f->help, "", f->env,
            f->def[0] ? f->def : "none");
  }
  fprintf(out, "  %-26s %s\n  %-26s %s\n", "--help", "print this and exit", "--version",
          "print the version and exit");
}

static sg_status set_value(sg_config *cfg, const flag *f, const char *v, const char *origin,
                           sg_err *err) {
  char *field = (char *)cfg + f->offset;
  char *end = NULL;
  switch (f->type) {
  case T_STR:
    if (strlen(v) >= SG_PATH_MAX)
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s%s: value longer than %d bytes", origin,
                        f->name, SG_PATH_MAX - 1);
    strcpy(field, v);
    return SG_OK;
  case T_INT: {
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < f->min || n > f->max)
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s%s: \"%.64s\" is not an integer in %.0f..%.0f",
                        origin, f->name, v, f->min, f->max);
    *(int *)field = (int)n;
    return SG_OK;
  }
  case T_DOUBLE: {
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= f->min && d <= f->max))
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s%s: \"%.64s\" is not a number in %g..%g",
                        origin, f->name, v, f->min, f->max);
    *(double *)field = d;
    return SG_OK;
  }
  case T_BACKEND:
    SG_TRY(sg_backend_kind_parse(v, (sg_backend_kind *)(void *)field, err));
    return SG_OK;
  case T_LOGLEVEL: SG_TRY(sg_log_level_parse(v, (sg_log_level *)(void *)field, err)); return SG_OK;
  }
  return SG_INTERNAL;
}

static const flag *find_flag(const char *name, size_t len) {
  for (size_t i = 0; i < SG_ARRAY_LEN(flags); i++)
    if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0) return &flags[i];
  return NULL;
}

static sg_status check(sg_config *cfg, sg_err *err) {
  if (!cfg->listen[0]) return sg_err_set(err, SG_INVALID_ARGUMENT, "--listen: empty address");
  if (!cfg->tls_cert[0] != !cfg->tls_key[0])
    return sg_err_set(err, SG_INVALID_ARGUMENT, "--tls-cert and --tls-key go together");
  if (!cfg->redis[0]) strcpy(cfg->redis, "none");
  if (strcmp(cfg->fallback, "none") != 0 && strcmp(cfg->fallback, "cpu") != 0)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "--fallback: \"%.32s\" is not none or cpu",
                      cfg->fallback);
  if (cfg->cpu_workers == 0) cfg->cpu_workers = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
  if (cfg->threads == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cores < 2 ? 2 : (int)cores;
  }
  return SG_OK;
}

sg_status sg_config_load(sg_config *cfg, int argc, char **argv, FILE *out, sg_config_action *action,
                         sg_err *err) {
  memset(cfg, 0, sizeof *cfg);
  *action = SG_CONFIG_RUN;
  for (size_t i = 0; i < SG_ARRAY_LEN(flags); i++) {
    SG_TRY(set_value(cfg, &flags[i], flags[i].def, "--", err));
    const char *env = getenv(flags[i].env);
    if (env) {
      sg_status st = set_value(cfg, &flags[i], env, "", err);
      if (st != SG_OK) {
        sg_err_prefix(err, "%s", flags[i].env);
        return st;
      }
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      sg_config_usage(out);
      *action = SG_CONFIG_EXIT_OK;
      return SG_OK;
    }
    if (strcmp(a, "--version") == 0) {
      fprintf(out, "shopgpu-server %s (commit %s)\n", SG_VERSION, SG_COMMIT);
      *action = SG_CONFIG_EXIT_OK;
      return SG_OK;
    }
    if (strncmp(a, "--", 2) != 0)
      return sg_err_set(err, SG_INVALID_ARGUMENT, "unexpected argument \"%.64s\" (see --help)", a);
    const char *eq = strchr(a + 2, '=');
    size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    const flag *f = find_flag(a + 2, len);
    if (!f) return sg_err_set(err, SG_INVALID_ARGUMENT, "unknown flag \"%.64s\" (see --help)", a);
    const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!v) return sg_err_set(err, SG_INVALID_ARGUMENT, "--%s: missing value", f->name);
    SG_TRY(set_value(cfg, f, v, "--", err));
  }
  return check(cfg, err);
}
