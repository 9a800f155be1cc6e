/* shopgpu.v1.Jobs: thin handlers over the job registry (jobs.c). */
#include "jobs.h"
#include "server.h"
#include "services.h"

#define JOBS(call) (((sg_server *)sg_call_app(call))->jobs)

void sg_svc_jobs_submit(sg_call *call, const ProtobufCMessage *req) {
  sg_jobs_submit(JOBS(call), call, (const Shopgpu__V1__SubmitJobRequest *)(const void *)req);
}

void sg_svc_jobs_get(sg_call *call, const ProtobufCMessage *req) {
  sg_jobs_get(JOBS(call), call, (const Shopgpu__V1__GetJobRequest *)(const void *)req);
}

void sg_svc_jobs_watch(sg_call *call, const ProtobufCMessage *req) {
  sg_jobs_watch(JOBS(call), call, (const Shopgpu__V1__GetJobRequest *)(const void *)req);
}

void sg_svc_jobs_cancel(sg_call *call, const ProtobufCMessage *req) {
  sg_jobs_cancel(JOBS(call), call, (const Shopgpu__V1__GetJobRequest *)(const void *)req);
}

void sg_svc_jobs_list(sg_call *call, const ProtobufCMessage *req) {
  sg_jobs_list(JOBS(call), call, (const Shopgpu__V1__ListJobsRequest *)(const void *)req);
}
