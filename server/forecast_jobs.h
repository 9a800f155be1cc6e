/* Forecast jobs: the ForecastRequest → arima kernels → ForecastResponse path shared by
 * Forecast.Forecast (answered in the call), Forecast.StartForecast and Jobs.Submit. */
#ifndef SG_SERVER_FORECAST_JOBS_H
#define SG_SERVER_FORECAST_JOBS_H

#include "jobs.h"
#include "scheduler.h"
#include "shopgpu/v1/forecast.pb-c.h"

typedef struct sg_forecast_job sg_forecast_job;
extern const sg_job_ops sg_forecast_job_ops; /* batch class, a few dozen series per step */

/* Copies and checks the request (spec fields, regressor sizes; INVALID_ARGUMENT naming the
 * field), at most max_series series, whose answer fits max_answer_bytes (0: any size).
 * Per-series problems are found while running. */
sg_forecast_job *sg_forecast_job_new(const Shopgpu__V1__ForecastRequest *req, size_t max_series,
                                     size_t max_answer_bytes, sg_err *err);
void sg_forecast_job_free(sg_forecast_job *f);
/* The job's size for the scheduler's estimate: points x candidate models per series. */
double sg_forecast_job_work(const sg_forecast_job *f);
/* The response of a finished job; its arrays point into f (valid while f lives). */
sg_status sg_forecast_response(sg_forecast_job *f, Shopgpu__V1__ForecastResponse *resp,
                               sg_err *err);

sg_status sg_forecast_prepare(struct sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                              sg_job_spec *spec, sg_err *err);
void sg_forecast_result(sg_job *job, Shopgpu__V1__Job *out);
void sg_forecast_free_result(Shopgpu__V1__Job *out);

#endif
