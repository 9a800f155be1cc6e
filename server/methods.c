/* THE method table: one row per RPC (path, kind, request and response types, handler, flags).
 * protoc-c drops `stream` from its descriptors, so the kind is stated here; a test checks this
 * table against the generated service descriptors one to one. */
#include "grpc/health/v1/health.pb-c.h"
#include "server.h"
#include "services.h"
#include "shopgpu/v1/admin.pb-c.h"
#include "shopgpu/v1/jobs.pb-c.h"

#define HEALTH_REQ &grpc__health__v1__health_check_request__descriptor
#define HEALTH_RESP &grpc__health__v1__health_check_response__descriptor

const sg_method sg_methods[] = {
    {"/grpc.health.v1.Health/Check", SG_RPC_UNARY, HEALTH_REQ, HEALTH_RESP, sg_svc_health_check,
     SG_METHOD_NO_AUTH | SG_METHOD_INLINE},
    {"/grpc.health.v1.Health/Watch", SG_RPC_SERVER_STREAM, HEALTH_REQ, HEALTH_RESP,
     sg_svc_health_watch, SG_METHOD_NO_AUTH | SG_METHOD_INLINE},
    {"/shopgpu.v1.Admin/GetServerInfo", SG_RPC_UNARY, &shopgpu__v1__server_info_request__descriptor,
     &shopgpu__v1__server_info__descriptor, sg_svc_admin_server_info, SG_METHOD_INLINE},
    {"/shopgpu.v1.Admin/Echo", SG_RPC_UNARY, &shopgpu__v1__echo_request__descriptor,
     &shopgpu__v1__echo_response__descriptor, sg_svc_admin_echo, 0},
    {"/shopgpu.v1.Admin/EchoStream", SG_RPC_SERVER_STREAM,
     &shopgpu__v1__echo_stream_request__descriptor, &shopgpu__v1__echo_response__descriptor,
     sg_svc_admin_echo_stream, 0},
    {"/shopgpu.v1.Admin/EchoUpload", SG_RPC_CLIENT_STREAM, &shopgpu__v1__echo_request__descriptor,
     &shopgpu__v1__echo_upload_response__descriptor, sg_svc_admin_echo_upload, 0},
    {"/shopgpu.v1.Admin/EchoBidi", SG_RPC_BIDI_STREAM, &shopgpu__v1__echo_request__descriptor,
     &shopgpu__v1__echo_response__descriptor, sg_svc_admin_echo_bidi, 0},
    {"/shopgpu.v1.Jobs/Submit", SG_RPC_UNARY, &shopgpu__v1__submit_job_request__descriptor,
     &shopgpu__v1__job__descriptor, sg_svc_jobs_submit, 0},
    {"/shopgpu.v1.Jobs/Get", SG_RPC_UNARY, &shopgpu__v1__get_job_request__descriptor,
     &shopgpu__v1__job__descriptor, sg_svc_jobs_get, 0},
    {"/shopgpu.v1.Jobs/Watch", SG_RPC_SERVER_STREAM, &shopgpu__v1__get_job_request__descriptor,
     &shopgpu__v1__job__descriptor, sg_svc_jobs_watch, 0},
    {"/shopgpu.v1.Jobs/Cancel", SG_RPC_UNARY, &shopgpu__v1__get_job_request__descriptor,
     &shopgpu__v1__job__descriptor, sg_svc_jobs_cancel, 0},
    {"/shopgpu.v1.Jobs/List", SG_RPC_UNARY, &shopgpu__v1__list_jobs_request__descriptor,
     &shopgpu__v1__list_jobs_response__descriptor, sg_svc_jobs_list, 0},
};
const int sg_method_count = (int)(sizeof sg_methods / sizeof sg_methods[0]);

const ProtobufCServiceDescriptor *const sg_services[] = {
    &grpc__health__v1__health__descriptor,
    &shopgpu__v1__admin__descriptor,
    &shopgpu__v1__jobs__descriptor,
};
const int sg_service_count = (int)(sizeof sg_services / sizeof sg_services[0]);
