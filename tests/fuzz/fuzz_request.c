/* The server's checks and copies of two request messages that carry whole problems, as a
 * handler runs them after the message unpacked: SolveRoutesRequest (sg_route_job_new: the TSPLIB
 * text or the structured problem, the solver's parameters and the size bounds) and
 * ForecastRequest (sg_forecast_job_new: the spec, the series and their regressors). Byte 0
 * (mod 2) picks the message; the rest is its protobuf wire form. An accepted request must give
 * a finite, non-negative size estimate; a refused one must say why. */
#include <math.h>

#include "forecast_jobs.h"
#include "fuzz.h"
#include "route_jobs.h"

static void refused(const sg_err *err) {
  if (err->code == SG_OK || !err->msg[0]) abort();
}

static void route(const uint8_t *data, size_t size) {
  Shopgpu__V1__SolveRoutesRequest *req =
      shopgpu__v1__solve_routes_request__unpack(NULL, size, data);
  if (!req) return;
  sg_err err = {0};
  sg_route_job *r = sg_route_job_new(req, 0, &err);
  if (r) {
    double cost = 0, work = 0;
    sg_route_job_size(r, &cost, &work);
    if (!(cost >= 0 && isfinite(cost) && work >= 0 && isfinite(work))) abort();
    sg_route_job_free(r);
  } else {
    refused(&err);
  }
  shopgpu__v1__solve_routes_request__free_unpacked(req, NULL);
}

static void forecast(const uint8_t *data, size_t size) {
  Shopgpu__V1__ForecastRequest *req = shopgpu__v1__forecast_request__unpack(NULL, size, data);
  if (!req) return;
  sg_err err = {0};
  sg_forecast_job *f = sg_forecast_job_new(req, 1000, (size_t)1 << 24, &err);
  if (f) {
    double work = sg_forecast_job_work(f);
    if (!(work >= 0 && isfinite(work))) abort();
    sg_forecast_job_free(f);
  } else {
    refused(&err);
  }
  shopgpu__v1__forecast_request__free_unpacked(req, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] % 2)
    forecast(data + 1, size - 1);
  else
    route(data + 1, size - 1);
  return 0;
}
