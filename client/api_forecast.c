/* libshopgpu-client: the shopgpu.v1.Forecast calls (Forecast answered in the call, StartForecast
 * as a job, Replenish), thin typed layers over the generic unary call that also check the
 * answer holds one entry per series or item. */
#include "client_internal.h"

#define FORECAST_FORECAST "/shopgpu.v1.Forecast/Forecast"
#define FORECAST_START "/shopgpu.v1.Forecast/StartForecast"
#define FORECAST_REPLENISH "/shopgpu.v1.Forecast/Replenish"

static void drop(ProtobufCMessage *msg) {
  if (msg) protobuf_c_message_free_unpacked(msg, NULL);
}

int shopgpu_forecast(shopgpu_client *client, const Shopgpu__V1__ForecastRequest *request,
                     Shopgpu__V1__ForecastResponse **response, int64_t timeout_ms,
                     shopgpu_status *status) {
  if (response) *response = NULL;
  if (!request) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "request: NULL");
  ProtobufCMessage *msg = NULL;
  int rc =
      shopgpu_call_unary(client, FORECAST_FORECAST, &request->base,
                         &shopgpu__v1__forecast_response__descriptor, &msg, timeout_ms, status);
  const Shopgpu__V1__ForecastResponse *resp = (const void *)msg;
  if (rc == GRPC_STATUS_OK && resp->n_series != request->n_series)
    rc = shopgpu__status_set(status, GRPC_STATUS_INTERNAL, "response: %zu series for %zu",
                             resp->n_series, request->n_series);
  if (rc == GRPC_STATUS_OK && response) {
    *response = (Shopgpu__V1__ForecastResponse *)(void *)msg;
    return rc;
  }
  drop(msg);
  return rc;
}

int shopgpu_forecast_start(shopgpu_client *client, const Shopgpu__V1__ForecastRequest *request,
                           char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                           shopgpu_status *status) {
  if (!request) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "request: NULL");
  return shopgpu__ticket_call(client, FORECAST_START, &request->base, job_id, timeout_ms, status);
}

int shopgpu_replenish(shopgpu_client *client, const Shopgpu__V1__ReplenishRequest *request,
                      Shopgpu__V1__ReplenishResponse **response, int64_t timeout_ms,
                      shopgpu_status *status) {
  if (response) *response = NULL;
  if (!request) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "request: NULL");
  ProtobufCMessage *msg = NULL;
  int rc =
      shopgpu_call_unary(client, FORECAST_REPLENISH, &request->base,
                         &shopgpu__v1__replenish_response__descriptor, &msg, timeout_ms, status);
  const Shopgpu__V1__ReplenishResponse *resp = (const void *)msg;
  if (rc == GRPC_STATUS_OK && resp->n_plans != request->n_items)
    rc = shopgpu__status_set(status, GRPC_STATUS_INTERNAL, "response: %zu plans for %zu items",
                             resp->n_plans, request->n_items);
  if (rc == GRPC_STATUS_OK && response) {
    *response = (Shopgpu__V1__ReplenishResponse *)(void *)msg;
    return rc;
  }
  drop(msg);
  return rc;
}
