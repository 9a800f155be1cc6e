/* shopgpu.v1.Forecast: forecasts as batch jobs (answered in the call for up to 1,000 series, or
 * as a job for any number), and the replenishment arithmetic, which is cheap enough to run in
 * the handler. */
#include <stdlib.h>
#include <string.h>

#include "arima/replenish.h"
#include "forecast_jobs.h"
#include "pb.h"
#include "server.h"
#include "services.h"
#include "util.h"

#define DIRECT_MAX_SERIES 1000
#define REPLENISH_MAX_ITEMS 1000000

static void reply_forecast(sg_job *job, void *arg) {
  sg_call *call = arg;
  sg_err err = sg_job_error(job);
  Shopgpu__V1__ForecastResponse resp;
  if (sg_job_state_of(job) != SG_JOB_SUCCEEDED ||
      sg_forecast_response(sg_job_data(job), &resp, &err) != SG_OK) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  sg_call_reply(call, &resp.base, NULL);
}

void sg_svc_forecast_forecast(sg_call *call, const ProtobufCMessage *req) {
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  const Shopgpu__V1__ForecastRequest *q = (const void *)req;
  if (sg_priority_check(q->priority, &err) != SG_OK) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  sg_forecast_job *f =
      sg_forecast_job_new(q, DIRECT_MAX_SERIES, (size_t)srv->cfg.max_message_mb << 20, &err);
  if (!f) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  int64_t left = sg_call_remaining_ms(call);
  sg_job_spec spec = {.ops = &sg_forecast_job_ops,
                      .data = f,
                      .work = sg_forecast_job_work(f),
                      .cls = SG_JOB_BATCH,
                      .priority = q->priority,
                      .deadline_us = left == INT64_MAX ? 0 : sg_mono_us() + left * 1000,
                      .cancel_src = sg_call_cancel_flag(call),
                      .on_done = reply_forecast,
                      .arg = call};
  if (sg_sched_submit(srv->sched, &spec, NULL, &err) != SG_OK) sg_call_reply(call, NULL, &err);
}

void sg_svc_forecast_start(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__ForecastRequest *r = (const void *)req;
  sg_server *srv = sg_call_app(call);
  Shopgpu__V1__SubmitJobRequest sub = SHOPGPU__V1__SUBMIT_JOB_REQUEST__INIT;
  sub.priority = r->priority;
  sub.request_case = SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_FORECAST;
  sub.forecast = (Shopgpu__V1__ForecastRequest *)(uintptr_t)r;
  sg_err err = {0};
  char id[SG_JOB_ID_LEN + 1];
  if (sg_jobs_start(srv->jobs, &sub, id, &err) != SG_OK) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  Shopgpu__V1__JobTicket t = SHOPGPU__V1__JOB_TICKET__INIT;
  t.id = id;
  t.kind = sg_pb_str("forecast");
  sg_call_reply(call, &t.base, NULL);
}

/* ---- Replenish ---- */

typedef struct replenish_work {
  size_t n;
  int h;
  double *mean, *se;
  sg_replenish_item *items;
  sg_replenish_plan *plans;
} replenish_work;

static sg_status replenish_input(const Shopgpu__V1__ReplenishRequest *r, replenish_work *w,
                                 sg_err *err) {
  w->n = r->n_items;
  if (!w->n || w->n > REPLENISH_MAX_ITEMS)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "items: %zu items (1..%d)", w->n,
                      REPLENISH_MAX_ITEMS);
  size_t h = r->items[0]->n_mean;
  for (size_t i = 0; i < w->n; i++)
    if (r->items[i]->n_mean != h || r->items[i]->n_se != h || !h)
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "items[%zu]: %zu means and %zu standard errors (want %zu each, >= 1)", i,
                        r->items[i]->n_mean, r->items[i]->n_se, h);
  for (size_t i = 0; i < w->n; i++) {
    char field[48];
    snprintf(field, sizeof field, "items[%zu].id", i);
    SG_TRY(sg_utf8_check(r->items[i]->id, field, err)); /* echoed in the answer */
    /* before the ints the kernel takes (it checks the rest) */
    if ((uint64_t)r->items[i]->lead_time + r->items[i]->review_period > h)
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "items[%zu]: lead_time %u + review_period %u > forecast horizon %zu", i,
                        r->items[i]->lead_time, r->items[i]->review_period, h);
  }
  if (!(r->error_correlation >= 0 && r->error_correlation <= 1))
    return sg_err_set(err, SG_INVALID_ARGUMENT, "error_correlation: %g outside [0, 1]",
                      r->error_correlation);
  w->h = (int)h;
  w->mean = malloc(w->n * h * sizeof *w->mean);
  w->se = malloc(w->n * h * sizeof *w->se);
  w->items = malloc(w->n * sizeof *w->items);
  w->plans = malloc(w->n * sizeof *w->plans);
  if (!w->mean || !w->se || !w->items || !w->plans)
    return sg_err_set(err, SG_OUT_OF_MEMORY, "replenish: out of memory");
  for (size_t i = 0; i < w->n; i++) {
    const Shopgpu__V1__ReplenishItem *it = r->items[i];
    memcpy(w->mean + i * h, it->mean, h * sizeof(double));
    memcpy(w->se + i * h, it->se, h * sizeof(double));
    w->items[i] = (sg_replenish_item){it->on_hand, it->on_order, it->backorders, (int)it->lead_time,
                                      (int)it->review_period,
                                      /* unset (0): the defaults; anything else is checked */
                                      it->service_level == 0 ? 0.95 : it->service_level, it->moq,
                                      it->pack_size == 0 ? 1 : it->pack_size};
  }
  return SG_OK;
}

static void replenish_reply(sg_call *call, const Shopgpu__V1__ReplenishRequest *r,
                            const replenish_work *w) {
  Shopgpu__V1__ReplenishPlan *rows = sg_call_alloc(call, w->n * sizeof *rows);
  Shopgpu__V1__ReplenishPlan **ptrs = sg_call_alloc(call, w->n * sizeof *ptrs);
  sg_err err = {0};
  if (!rows || !ptrs) {
    sg_err_set(&err, SG_OUT_OF_MEMORY, "replenish: out of memory");
    sg_call_reply(call, NULL, &err);
    return;
  }
  for (size_t i = 0; i < w->n; i++) {
    const sg_replenish_plan *p = &w->plans[i];
    shopgpu__v1__replenish_plan__init(&rows[i]);
    rows[i].id = r->items[i]->id;
    rows[i].demand_lead_time = p->demand_lt, rows[i].sd_lead_time = p->sd_lt;
    rows[i].demand_protection = p->demand_pi, rows[i].sd_protection = p->sd_pi;
    rows[i].safety_stock = p->safety_stock, rows[i].reorder_point = p->reorder_point;
    rows[i].order_up_to = p->order_up_to, rows[i].inventory_position = p->position;
    rows[i].order_quantity = p->order_qty;
    ptrs[i] = &rows[i];
  }
  Shopgpu__V1__ReplenishResponse resp = SHOPGPU__V1__REPLENISH_RESPONSE__INIT;
  resp.plans = ptrs;
  resp.n_plans = w->n;
  sg_call_reply(call, &resp.base, NULL);
}

void sg_svc_forecast_replenish(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__ReplenishRequest *r = (const void *)req;
  replenish_work w = {0};
  sg_err err = {0};
  if (replenish_input(r, &w, &err) == SG_OK &&
      sg_replenish_plan_batch(w.n, w.mean, w.se, w.h, r->error_correlation, w.items, w.plans,
                              &err) == SG_OK)
    replenish_reply(call, r, &w);
  else
    sg_call_reply(call, NULL, &err);
  free(w.mean), free(w.se), free(w.items), free(w.plans);
}
