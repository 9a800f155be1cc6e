/* libshopgpu-client: one function per RPC (grpc.health.v1.Health, shopgpu.v1.Admin,
 * shopgpu.v1.Jobs), each a thin typed layer over the generic calls in call.c and stream.c. A new
 * RPC adds one function here (and its declaration in shopgpu_client.h). */
#include "client_internal.h"

#define HEALTH_CHECK "/grpc.health.v1.Health/Check"
#define HEALTH_WATCH "/grpc.health.v1.Health/Watch"
#define ADMIN_INFO "/shopgpu.v1.Admin/GetServerInfo"
#define ADMIN_ECHO "/shopgpu.v1.Admin/Echo"
#define ADMIN_ECHO_STREAM "/shopgpu.v1.Admin/EchoStream"
#define ADMIN_ECHO_UPLOAD "/shopgpu.v1.Admin/EchoUpload"
#define JOBS_SUBMIT "/shopgpu.v1.Jobs/Submit"
#define JOBS_GET "/shopgpu.v1.Jobs/Get"
#define JOBS_WATCH "/shopgpu.v1.Jobs/Watch"
#define JOBS_CANCEL "/shopgpu.v1.Jobs/Cancel"
#define JOBS_LIST "/shopgpu.v1.Jobs/List"

int shopgpu_health_check(shopgpu_client *client, const char *service, int *serving,
                         int64_t timeout_ms, shopgpu_status *status) {
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = shopgpu__pb_str(service ? service : "");
  ProtobufCMessage *resp = NULL;
  int rc = shopgpu_call_unary(client, HEALTH_CHECK, &req.base,
                              &grpc__health__v1__health_check_response__descriptor, &resp,
                              timeout_ms, status);
  if (rc == GRPC_STATUS_OK && serving)
    *serving = (int)((Grpc__Health__V1__HealthCheckResponse *)(void *)resp)->status;
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}

typedef struct health_watch_arg {
  shopgpu_health_fn fn;
  void *arg;
} health_watch_arg;

static int on_health_message(const ProtobufCMessage *msg, void *arg) {
  const health_watch_arg *w = arg;
  return w->fn((int)((const Grpc__Health__V1__HealthCheckResponse *)(const void *)msg)->status,
               w->arg);
}

int shopgpu_health_watch(shopgpu_client *client, const char *service, shopgpu_health_fn on_status,
                         void *arg, int64_t timeout_ms, shopgpu_status *status) {
  if (!on_status)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "on_status: NULL");
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = shopgpu__pb_str(service ? service : "");
  health_watch_arg w = {on_status, arg};
  return shopgpu_call_server_stream(client, HEALTH_WATCH, &req.base,
                                    &grpc__health__v1__health_check_response__descriptor,
                                    on_health_message, &w, timeout_ms, status);
}

int shopgpu_server_info(shopgpu_client *client, Shopgpu__V1__ServerInfo **info, int64_t timeout_ms,
                        shopgpu_status *status) {
  Shopgpu__V1__ServerInfoRequest req = SHOPGPU__V1__SERVER_INFO_REQUEST__INIT;
  ProtobufCMessage *resp = NULL;
  int rc = shopgpu_call_unary(client, ADMIN_INFO, &req.base, &shopgpu__v1__server_info__descriptor,
                              &resp, timeout_ms, status);
  if (info)
    *info = (Shopgpu__V1__ServerInfo *)(void *)resp;
  else if (resp)
    protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}

int shopgpu_echo(shopgpu_client *client, const void *payload, size_t len, uint32_t delay_ms,
                 Shopgpu__V1__EchoResponse **response, int64_t timeout_ms, shopgpu_status *status) {
  Shopgpu__V1__EchoRequest req = SHOPGPU__V1__ECHO_REQUEST__INIT;
  req.payload.data = shopgpu__pb_bytes(payload);
  req.payload.len = payload ? len : 0;
  req.delay_ms = delay_ms;
  ProtobufCMessage *resp = NULL;
  int rc = shopgpu_call_unary(client, ADMIN_ECHO, &req.base,
                              &shopgpu__v1__echo_response__descriptor, &resp, timeout_ms, status);
  if (response)
    *response = (Shopgpu__V1__EchoResponse *)(void *)resp;
  else if (resp)
    protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}

typedef struct echo_stream_arg {
  shopgpu_echo_fn fn;
  void *arg;
} echo_stream_arg;

static int on_echo_message(const ProtobufCMessage *msg, void *arg) {
  const echo_stream_arg *e = arg;
  return e->fn((const Shopgpu__V1__EchoResponse *)(const void *)msg, e->arg);
}

int shopgpu_echo_stream(shopgpu_client *client, const void *payload, size_t len, uint32_t count,
                        uint32_t interval_ms, shopgpu_echo_fn on_message, void *arg,
                        int64_t timeout_ms, shopgpu_status *status) {
  if (!on_message)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "on_message: NULL");
  Shopgpu__V1__EchoStreamRequest req = SHOPGPU__V1__ECHO_STREAM_REQUEST__INIT;
  req.payload.data = shopgpu__pb_bytes(payload);
  req.payload.len = payload ? len : 0;
  req.count = count;
  req.interval_ms = interval_ms;
  echo_stream_arg e = {on_message, arg};
  return shopgpu_call_server_stream(client, ADMIN_ECHO_STREAM, &req.base,
                                    &shopgpu__v1__echo_response__descriptor, on_echo_message, &e,
                                    timeout_ms, status);
}

typedef struct upload_state {
  const shopgpu_bytes *chunks;
  size_t n, next;
  Shopgpu__V1__EchoRequest msg;
} upload_state;

static int next_chunk(void *arg, const ProtobufCMessage **msg) {
  upload_state *u = arg;
  if (u->next == u->n) return 0;
  const shopgpu_bytes *c = &u->chunks[u->next++];
  shopgpu__v1__echo_request__init(&u->msg);
  u->msg.payload.data = shopgpu__pb_bytes(c->data);
  u->msg.payload.len = c->data ? c->len : 0;
  *msg = &u->msg.base;
  return 1;
}

int shopgpu_echo_upload(shopgpu_client *client, const shopgpu_bytes *chunks, size_t n,
                        Shopgpu__V1__EchoUploadResponse **response, int64_t timeout_ms,
                        shopgpu_status *status) {
  if (response) *response = NULL;
  if (n && !chunks)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "chunks: NULL with n = %zu",
                               n);
  upload_state u = {chunks, n, 0, SHOPGPU__V1__ECHO_REQUEST__INIT};
  ProtobufCMessage *resp = NULL;
  int rc = shopgpu_call_client_stream(client, ADMIN_ECHO_UPLOAD, next_chunk, &u,
                                      &shopgpu__v1__echo_upload_response__descriptor, &resp,
                                      timeout_ms, status);
  if (response)
    *response = (Shopgpu__V1__EchoUploadResponse *)(void *)resp;
  else if (resp)
    protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}

/* ---- shopgpu.v1.Jobs ---- */

const char *shopgpu_job_state_name(int state) {
  static const char *const names[] = {"unspecified", "queued", "running",
                                      "succeeded",   "failed", "cancelled"};
  return state > 0 && state < (int)(sizeof names / sizeof names[0]) ? names[state] : names[0];
}

int shopgpu_job_state_final(int state) {
  return state == SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED ||
         state == SHOPGPU__V1__JOB_STATE__JOB_STATE_FAILED ||
         state == SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED;
}

/* A unary Jobs call answering a Job; *job gets it (or it is freed when job is NULL). */
static int job_call(shopgpu_client *client, const char *path, const ProtobufCMessage *req,
                    Shopgpu__V1__Job **job, int64_t timeout_ms, shopgpu_status *status) {
  ProtobufCMessage *resp = NULL;
  int rc = shopgpu_call_unary(client, path, req, &shopgpu__v1__job__descriptor, &resp, timeout_ms,
                              status);
  if (job)
    *job = (Shopgpu__V1__Job *)(void *)resp;
  else if (resp)
    protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}

int shopgpu_job_submit(shopgpu_client *client, const Shopgpu__V1__SubmitJobRequest *request,
                       Shopgpu__V1__Job **job, int64_t timeout_ms, shopgpu_status *status) {
  if (job) *job = NULL;
  if (!request) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "request: NULL");
  return job_call(client, JOBS_SUBMIT, &request->base, job, timeout_ms, status);
}

int shopgpu_job_get(shopgpu_client *client, const char *id, int include_result,
                    Shopgpu__V1__Job **job, int64_t timeout_ms, shopgpu_status *status) {
  if (job) *job = NULL;
  if (!id) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "id: NULL");
  Shopgpu__V1__GetJobRequest req = SHOPGPU__V1__GET_JOB_REQUEST__INIT;
  req.id = shopgpu__pb_str(id);
  req.include_result = include_result != 0;
  return job_call(client, JOBS_GET, &req.base, job, timeout_ms, status);
}

int shopgpu_job_cancel(shopgpu_client *client, const char *id, Shopgpu__V1__Job **job,
                       int64_t timeout_ms, shopgpu_status *status) {
  if (job) *job = NULL;
  if (!id) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "id: NULL");
  Shopgpu__V1__GetJobRequest req = SHOPGPU__V1__GET_JOB_REQUEST__INIT;
  req.id = shopgpu__pb_str(id);
  return job_call(client, JOBS_CANCEL, &req.base, job, timeout_ms, status);
}

typedef struct job_watch_arg {
  shopgpu_job_fn fn;
  void *arg;
} job_watch_arg;

static int on_job_message(const ProtobufCMessage *msg, void *arg) {
  const job_watch_arg *w = arg;
  return w->fn((const Shopgpu__V1__Job *)(const void *)msg, w->arg);
}

int shopgpu_job_watch(shopgpu_client *client, const char *id, shopgpu_job_fn on_job, void *arg,
                      int64_t timeout_ms, shopgpu_status *status) {
  if (!id || !on_job)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               id ? "on_job: NULL" : "id: NULL");
  Shopgpu__V1__GetJobRequest req = SHOPGPU__V1__GET_JOB_REQUEST__INIT;
  req.id = shopgpu__pb_str(id);
  job_watch_arg w = {on_job, arg};
  return shopgpu_call_server_stream(client, JOBS_WATCH, &req.base, &shopgpu__v1__job__descriptor,
                                    on_job_message, &w, timeout_ms, status);
}

int shopgpu_job_list(shopgpu_client *client, uint32_t limit, int state, const char *kind,
                     Shopgpu__V1__ListJobsResponse **response, int64_t timeout_ms,
                     shopgpu_status *status) {
  if (response) *response = NULL;
  Shopgpu__V1__ListJobsRequest req = SHOPGPU__V1__LIST_JOBS_REQUEST__INIT;
  req.limit = limit;
  req.state = (Shopgpu__V1__JobState)state;
  req.kind = shopgpu__pb_str(kind ? kind : "");
  ProtobufCMessage *resp = NULL;
  int rc =
      shopgpu_call_unary(client, JOBS_LIST, &req.base, &shopgpu__v1__list_jobs_response__descriptor,
                         &resp, timeout_ms, status);
  if (response)
    *response = (Shopgpu__V1__ListJobsResponse *)(void *)resp;
  else if (resp)
    protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}
