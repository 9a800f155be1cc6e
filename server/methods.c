/* THE method table: one row per RPC (path, kind, request and response types, handler, flags).
 * protoc-c drops `stream` from its descriptors, so the kind is stated here; a test checks this
 * table against the generated service descriptors one to one. */
#include "grpc/health/v1/health.pb-c.h"
#include "server.h"
#include "services.h"
#include "shopgpu/v1/admin.pb-c.h"
#include "shopgpu/v1/click.pb-c.h"
#include "shopgpu/v1/forecast.pb-c.h"
#include "shopgpu/v1/routing.pb-c.h"
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
    {"/shopgpu.v1.Click/ScorePairs", SG_RPC_UNARY, &shopgpu__v1__score_pairs_request__descriptor,
     &shopgpu__v1__score_pairs_response__descriptor, sg_svc_click_score_pairs, 0},
    {"/shopgpu.v1.Click/ScorePairsStream", SG_RPC_BIDI_STREAM,
     &shopgpu__v1__score_pairs_request__descriptor, &shopgpu__v1__score_pairs_response__descriptor,
     sg_svc_click_score_pairs_stream, 0},
    {"/shopgpu.v1.Click/Recommend", SG_RPC_UNARY, &shopgpu__v1__recommend_request__descriptor,
     &shopgpu__v1__recommend_response__descriptor, sg_svc_click_recommend, 0},
    {"/shopgpu.v1.Click/TrainModel", SG_RPC_UNARY, &shopgpu__v1__train_model_request__descriptor,
     &shopgpu__v1__job_ticket__descriptor, sg_svc_click_train_model, 0},
    {"/shopgpu.v1.Click/RecommendAll", SG_RPC_UNARY,
     &shopgpu__v1__recommend_all_request__descriptor, &shopgpu__v1__job_ticket__descriptor,
     sg_svc_click_recommend_all, 0},
    {"/shopgpu.v1.Click/ReadRecommendations", SG_RPC_SERVER_STREAM,
     &shopgpu__v1__read_recommendations_request__descriptor,
     &shopgpu__v1__user_recommendations__descriptor, sg_svc_click_read_recommendations, 0},
    {"/shopgpu.v1.Click/UploadModel", SG_RPC_CLIENT_STREAM,
     &shopgpu__v1__upload_model_request__descriptor, &shopgpu__v1__model_info__descriptor,
     sg_svc_click_upload_model, 0},
    {"/shopgpu.v1.Click/ListModels", SG_RPC_UNARY, &shopgpu__v1__list_models_request__descriptor,
     &shopgpu__v1__list_models_response__descriptor, sg_svc_click_list_models, 0},
    {"/shopgpu.v1.Click/DeleteModel", SG_RPC_UNARY, &shopgpu__v1__delete_model_request__descriptor,
     &shopgpu__v1__delete_model_response__descriptor, sg_svc_click_delete_model, 0},
    {"/shopgpu.v1.Forecast/Forecast", SG_RPC_UNARY, &shopgpu__v1__forecast_request__descriptor,
     &shopgpu__v1__forecast_response__descriptor, sg_svc_forecast_forecast, 0},
    {"/shopgpu.v1.Forecast/StartForecast", SG_RPC_UNARY, &shopgpu__v1__forecast_request__descriptor,
     &shopgpu__v1__job_ticket__descriptor, sg_svc_forecast_start, 0},
    {"/shopgpu.v1.Forecast/Replenish", SG_RPC_UNARY, &shopgpu__v1__replenish_request__descriptor,
     &shopgpu__v1__replenish_response__descriptor, sg_svc_forecast_replenish, 0},
    {"/shopgpu.v1.Routing/SolveRoutes", SG_RPC_UNARY,
     &shopgpu__v1__solve_routes_request__descriptor,
     &shopgpu__v1__solve_routes_response__descriptor, sg_svc_routing_solve, 0},
    {"/shopgpu.v1.Routing/StartSolveRoutes", SG_RPC_UNARY,
     &shopgpu__v1__solve_routes_request__descriptor, &shopgpu__v1__job_ticket__descriptor,
     sg_svc_routing_start, 0},
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
    &grpc__health__v1__health__descriptor, &shopgpu__v1__admin__descriptor,
    &shopgpu__v1__click__descriptor,       &shopgpu__v1__forecast__descriptor,
    &shopgpu__v1__routing__descriptor,
    &shopgpu__v1__jobs__descriptor,
};
const int sg_service_count = (int)(sizeof sg_services / sizeof sg_services[0]);
