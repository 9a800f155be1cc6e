/* grpc.health.v1 serving status, per service, and the open Watch streams that follow it.
 * Services are the ones in the method table plus "" (the whole server). */
#ifndef SG_SERVER_HEALTH_H
#define SG_SERVER_HEALTH_H

#include "common/status.h"
#include "rpc.h"

typedef struct sg_health sg_health;

/* Values of grpc.health.v1.HealthCheckResponse.ServingStatus */
enum {
  SG_HEALTH_UNKNOWN = 0,
  SG_HEALTH_SERVING = 1,
  SG_HEALTH_NOT_SERVING = 2,
  SG_HEALTH_SERVICE_UNKNOWN = 3
};

/* services: the method table's service names ("shopgpu.v1.Admin"), duplicates allowed. Every
 * service starts NOT_SERVING. */
sg_health *sg_health_create(const sg_method *methods, int n_methods, sg_err *err);
void sg_health_destroy(sg_health *h);
/* Sets every service (and "") to status and pushes the change to every watcher. */
void sg_health_set_all(sg_health *h, int status);
/* SG_OK with *status, or SG_NOT_FOUND for a service this server does not have. */
sg_status sg_health_check(sg_health *h, const char *service, int *status, sg_err *err);
/* Adds call (a Watch stream) as a watcher of service: sends the current status now and every
 * change after, until the call ends. An unknown service gets SERVICE_UNKNOWN and stays open. */
void sg_health_watch(sg_health *h, sg_call *call, const char *service);
/* Ends every Watch stream with UNAVAILABLE (before a graceful shutdown drains calls). */
void sg_health_finish_watches(sg_health *h);

#endif
