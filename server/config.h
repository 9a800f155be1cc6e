/* shopgpu-server's configuration: one table of flags, each with its SHOPGPU_* environment
 * variable, default and help text. Precedence: flag > environment > default. */
#ifndef SG_SERVER_CONFIG_H
#define SG_SERVER_CONFIG_H

#include <stdio.h>

#include "common/backend.h"

#define SG_PATH_MAX 1024

typedef struct sg_config {
  char listen[SG_PATH_MAX]; /* host:port or unix:PATH */
  sg_backend_kind backend;
  char data_dir[SG_PATH_MAX];
  char redis[SG_PATH_MAX];    /* host:port, unix:PATH or "none" */
  int threads;                /* RPC handler threads (they validate requests and queue jobs) */
  int stream_threads;         /* handler threads of streaming calls (apart from the above) */
  double stream_idle_s;       /* a stream that moves no message this long ends; 0 = never */
  int pollers;                /* gRPC poller threads, one completion queue each */
  int queue_limit;            /* waiting calls (RPC) and jobs (per class) before refusals */
  int streams;                /* cuda backend: scheduler workers, one stream each */
  int cpu_workers;            /* cpu backend: scheduler workers (0 = 2, or 1 on one core) */
  int batch_window_us;        /* dynamic batching: wait this long for more small calls */
  int max_batch;              /* dynamic batching: most pairs in one merged call; 0 = off */
  double aging_s;             /* longest a batch job waits while interactive work arrives */
  int batch_nice;             /* nice value of the threads running batch steps, 0 = unchanged */
  char fallback[SG_PATH_MAX]; /* "none" | "cpu": where jobs out of device memory go */
  double job_ttl_s;           /* finished jobs are deleted after this long (0 = never) */
  int max_jobs;               /* jobs kept at most (the oldest finished make room) */
  int cache_ttl_s;            /* TTL of the recommendation keys in Redis */
  char redis_password_file[SG_PATH_MAX];
  int redis_db;
  int max_message_mb;
  int max_inflight_mb; /* decoded unary requests held at once (queued or running); 0 = any */
  char tls_cert[SG_PATH_MAX], tls_key[SG_PATH_MAX];
  char auth_token_file[SG_PATH_MAX];
  char metrics_listen[SG_PATH_MAX]; /* host:port, empty = off */
  sg_log_level log_level;
  double shutdown_grace_s;
  char ready_file[SG_PATH_MAX]; /* written with the bound address once serving */
} sg_config;

typedef enum { SG_CONFIG_RUN, SG_CONFIG_EXIT_OK } sg_config_action;

/* Fills cfg from defaults, the environment and argv. SG_OK with *action = SG_CONFIG_EXIT_OK
 * after --help or --version (text printed to out). Errors name the flag and the value. */
sg_status sg_config_load(sg_config *cfg, int argc, char **argv, FILE *out, sg_config_action *action,
                         sg_err *err);
void sg_config_usage(FILE *out);

#endif
