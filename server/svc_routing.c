/* shopgpu.v1.Routing: route solving as batch jobs, answered in the call within its deadline,
 * or as a job followed with the Jobs service. */
#include <math.h>
#include <stdlib.h>

#include "pb.h"
#include "route_jobs.h"
#include "server.h"
#include "services.h"
#include "util.h"

static void reply_routes(sg_job *job, void *arg) {
  sg_call *call = arg;
  sg_err err = sg_job_error(job);
  Shopgpu__V1__SolveRoutesResponse resp;
  if (sg_job_state_of(job) != SG_JOB_SUCCEEDED ||
      sg_route_response(sg_job_data(job), &resp, &err) != SG_OK) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  sg_call_reply(call, &resp.base, NULL);
}

void sg_svc_routing_solve(sg_call *call, const ProtobufCMessage *req) {
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  const Shopgpu__V1__SolveRoutesRequest *q = (const void *)req;
  if (sg_priority_check(q->priority, &err) != SG_OK) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  int64_t left = sg_call_remaining_ms(call);
  /* leave a tenth of the deadline (and at least 50 ms) to answer and send */
  int64_t answer_by =
      left == INT64_MAX ? 0 : sg_mono_us() + (int64_t)(fmax(0.01, left * 0.9e-3 - 0.05) * 1e6);
  sg_route_job *r = sg_route_job_new((const void *)req, answer_by, &err);
  if (!r) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  sg_job_spec spec = {.ops = &sg_route_job_ops,
                      .data = r,
                      .cls = SG_JOB_BATCH,
                      .priority = q->priority,
                      .deadline_us = left == INT64_MAX ? 0 : sg_mono_us() + left * 1000,
                      .cancel_src = sg_call_cancel_flag(call),
                      .on_done = reply_routes,
                      .arg = call};
  sg_route_job_size(r, &spec.cost, &spec.work);
  if (sg_sched_submit(srv->sched, &spec, NULL, &err) != SG_OK) sg_call_reply(call, NULL, &err);
}

void sg_svc_routing_start(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__SolveRoutesRequest *r = (const void *)req;
  sg_server *srv = sg_call_app(call);
  Shopgpu__V1__SubmitJobRequest sub = SHOPGPU__V1__SUBMIT_JOB_REQUEST__INIT;
  sub.priority = r->priority;
  sub.request_case = SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_SOLVE_ROUTES;
  sub.solve_routes = (Shopgpu__V1__SolveRoutesRequest *)(uintptr_t)r;
  sg_err err = {0};
  char id[SG_JOB_ID_LEN + 1];
  if (sg_jobs_start(srv->jobs, &sub, id, &err) != SG_OK) {
    sg_call_reply(call, NULL, &err);
    return;
  }
  Shopgpu__V1__JobTicket t = SHOPGPU__V1__JOB_TICKET__INIT;
  t.id = id;
  t.kind = sg_pb_str("solve_routes");
  sg_call_reply(call, &t.base, NULL);
}
