/* The server object handed to every handler (sg_call_app): configuration, backend, RPC layer,
 * health. Built in main.c; handlers read it, never replace its members. */
#ifndef SG_SERVER_SERVER_H
#define SG_SERVER_SERVER_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/backend.h"
#include "config.h"
#include "health.h"
#include "rpc.h"
#include "scheduler.h"

typedef struct sg_metrics sg_metrics;
typedef struct sg_jobs sg_jobs;
typedef struct sg_models sg_models;
typedef struct sg_cache sg_cache;

typedef struct sg_server {
  sg_config cfg;
  sg_backend *backend;
  sg_backend *fallback; /* cpu backend for --fallback cpu, or NULL */
  sg_sched *sched;
  sg_jobs *jobs;
  sg_models *models;
  sg_cache *cache; /* Redis; disabled, never NULL, with --redis none */
  sg_rpc *rpc;
  sg_health *health;
  sg_metrics *metrics;
  int64_t started_unix_ms;
  int64_t started_mono_us;
  int lock_fd;                /* DATA_DIR/.lock, held; its mtime is the heartbeat */
  atomic_int echo_waiting[2]; /* delayed Echo / paced EchoStream calls holding a handler thread */
  int64_t last_alive_unix_ms; /* the previous server's last heartbeat, 0 if unknown */
} sg_server;

/* How often the main thread touches the lock file (and deletes expired jobs). */
#define SG_HEARTBEAT_MS 5000

/* The method table (methods.c) and the services it covers, for the RPC layer and tests. */
extern const sg_method sg_methods[];
extern const int sg_method_count;
extern const ProtobufCServiceDescriptor *const sg_services[];
extern const int sg_service_count;

#endif
