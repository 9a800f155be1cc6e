/* The requests the Jobs service accepts, one row per kind: how a SubmitJobRequest becomes a
 * scheduler job and how its result goes back into the Job message. Compute kinds (training,
 * recommend-all, forecasts, routes) add their rows here as they land. */
#include <stdlib.h>
#include <time.h>

#include "click_jobs.h"
#include "forecast_jobs.h"
#include "route_jobs.h"
#include "jobs.h"
#include "server.h"

#define SLEEP_MAX_MS 3600000u
#define SLEEP_STEP_MAX_MS 10000u

/* ---- sleep: a diagnostic job that holds a worker ---- */

typedef struct sleep_job {
  uint32_t duration_ms, step_ms, elapsed_ms, steps;
} sleep_job;

static sg_status sleep_step(sg_job *job, sg_exec *x, int *done, sg_err *err) {
  (void)x, (void)err;
  sleep_job *s = sg_job_data(job);
  uint32_t ms = s->duration_ms - s->elapsed_ms;
  if (ms > s->step_ms) ms = s->step_ms;
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  s->elapsed_ms += ms;
  s->steps++;
  sg_job_progress p = {.done = s->elapsed_ms, .total = s->duration_ms};
  sg_job_set_progress(job, &p);
  *done = s->elapsed_ms >= s->duration_ms;
  return SG_OK;
}

static const sg_job_ops sleep_ops = {.kind = "sleep", .step = sleep_step, .cleanup = free};

static sg_status sleep_prepare(sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                               sg_job_spec *spec, sg_err *err) {
  (void)srv;
  const Shopgpu__V1__SleepJobRequest *r = req->sleep;
  uint32_t step = r->step_ms ? r->step_ms : 10;
  if (r->duration_ms > SLEEP_MAX_MS)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "sleep.duration_ms: %u > %u", r->duration_ms,
                      SLEEP_MAX_MS);
  if (step > SLEEP_STEP_MAX_MS)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "sleep.step_ms: %u > %u", step, SLEEP_STEP_MAX_MS);
  sleep_job *s = calloc(1, sizeof *s);
  if (!s) return sg_err_set(err, SG_OUT_OF_MEMORY, "sleep: out of memory");
  s->duration_ms = r->duration_ms;
  s->step_ms = step;
  *spec = (sg_job_spec){
      .ops = &sleep_ops, .data = s, .cls = SG_JOB_BATCH, .cost = r->duration_ms * 1e-3};
  return SG_OK;
}

static void sleep_result(sg_job *job, Shopgpu__V1__Job *out) {
  Shopgpu__V1__SleepJobResult *r = malloc(sizeof *r);
  if (!r) return;
  shopgpu__v1__sleep_job_result__init(r);
  r->steps = ((sleep_job *)sg_job_data(job))->steps;
  out->result_case = SHOPGPU__V1__JOB__RESULT_SLEEP;
  out->sleep = r;
}

static void sleep_free(Shopgpu__V1__Job *out) { free(out->sleep); }

const sg_submit_kind sg_submit_kinds[] = {
    {SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_SLEEP, "sleep", "ms", sleep_prepare, sleep_result,
     sleep_free, NULL},
    {SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_TRAIN_MODEL, "train_model", "minibatches",
     sg_train_prepare, sg_train_result, sg_train_free_result, NULL},
    {SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_RECOMMEND_ALL, "recommend_all", "users",
     sg_recommend_all_prepare, sg_recommend_all_result, sg_recommend_all_free_result,
     sg_recommend_all_bind},
    {SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_FORECAST, "forecast", "series", sg_forecast_prepare,
     sg_forecast_result, sg_forecast_free_result, NULL},
    {SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_SOLVE_ROUTES, "solve_routes", "ms", sg_route_prepare,
     sg_route_result, sg_route_free_result, NULL},
};
const int sg_submit_kind_count = (int)(sizeof sg_submit_kinds / sizeof sg_submit_kinds[0]);
