/* libshopgpu-client: the shopgpu.v1.Routing calls (SolveRoutes answered in the call,
 * StartSolveRoutes as a job), thin typed layers over the generic unary call that also check a
 * feasible answer carries routes. */
#include "client_internal.h"

#define ROUTING_SOLVE "/shopgpu.v1.Routing/SolveRoutes"
#define ROUTING_START "/shopgpu.v1.Routing/StartSolveRoutes"

static int check_request(const Shopgpu__V1__SolveRoutesRequest *request, shopgpu_status *status) {
  if (!request) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "request: NULL");
  if (!request->problem)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "request.problem: NULL");
  return GRPC_STATUS_OK;
}

int shopgpu_route_solve(shopgpu_client *client, const Shopgpu__V1__SolveRoutesRequest *request,
                        Shopgpu__V1__SolveRoutesResponse **response, int64_t timeout_ms,
                        shopgpu_status *status) {
  if (response) *response = NULL;
  int rc = check_request(request, status);
  if (rc != GRPC_STATUS_OK) return rc;
  ProtobufCMessage *msg = NULL;
  rc =
      shopgpu_call_unary(client, ROUTING_SOLVE, &request->base,
                         &shopgpu__v1__solve_routes_response__descriptor, &msg, timeout_ms, status);
  const Shopgpu__V1__SolveRoutesResponse *resp = (const void *)msg;
  if (rc == GRPC_STATUS_OK && resp->feasible && resp->n_routes == 0)
    rc = shopgpu__status_set(status, GRPC_STATUS_INTERNAL, "response: feasible without routes");
  if (rc == GRPC_STATUS_OK && response) {
    *response = (Shopgpu__V1__SolveRoutesResponse *)(void *)msg;
    return rc;
  }
  if (msg) protobuf_c_message_free_unpacked(msg, NULL);
  return rc;
}

int shopgpu_route_start(shopgpu_client *client, const Shopgpu__V1__SolveRoutesRequest *request,
                        char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                        shopgpu_status *status) {
  int rc = check_request(request, status);
  if (rc != GRPC_STATUS_OK) return rc;
  return shopgpu__ticket_call(client, ROUTING_START, &request->base, job_id, timeout_ms, status);
}
