/* grpc.health.v1.Health: Check and Watch, answered inline on the poller (no auth, never
 * queued behind compute), so orchestrators see the truth even when workers are saturated. */
#include "grpc/health/v1/health.pb-c.h"
#include "server.h"
#include "services.h"

void sg_svc_health_check(sg_call *call, const ProtobufCMessage *req) {
  const Grpc__Health__V1__HealthCheckRequest *r = (const void *)req;
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  int status = 0;
  if (sg_health_check(srv->health, r->service, &status, &err) != SG_OK) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  resp.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
  sg_call_reply(call, &resp.base, NULL);
}

void sg_svc_health_watch(sg_call *call, const ProtobufCMessage *req) {
  const Grpc__Health__V1__HealthCheckRequest *r = (const void *)req;
  sg_server *srv = sg_call_app(call);
  sg_health_watch(srv->health, call, r->service);
}
