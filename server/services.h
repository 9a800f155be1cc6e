/* Every RPC handler, one group per svc_*.c file; the method table (methods.c) lists them.
 * Handlers translate and validate; they never touch gRPC batches, CUDA or hiredis directly. */
#ifndef SG_SERVER_SERVICES_H
#define SG_SERVER_SERVICES_H

#include "rpc.h"

/* svc_health.c: grpc.health.v1.Health */
void sg_svc_health_check(sg_call *call, const ProtobufCMessage *req);
void sg_svc_health_watch(sg_call *call, const ProtobufCMessage *req);

/* svc_admin.c: shopgpu.v1.Admin */
void sg_svc_admin_server_info(sg_call *call, const ProtobufCMessage *req);
void sg_svc_admin_echo(sg_call *call, const ProtobufCMessage *req);
void sg_svc_admin_echo_stream(sg_call *call, const ProtobufCMessage *req);
void sg_svc_admin_echo_upload(sg_call *call, const ProtobufCMessage *req);
void sg_svc_admin_echo_bidi(sg_call *call, const ProtobufCMessage *req);

/* svc_click.c: shopgpu.v1.Click */
void sg_svc_click_score_pairs(sg_call *call, const ProtobufCMessage *req);
void sg_svc_click_score_pairs_stream(sg_call *call, const ProtobufCMessage *req);
void sg_svc_click_recommend(sg_call *call, const ProtobufCMessage *req);
void sg_svc_click_train_model(sg_call *call, const ProtobufCMessage *req);
void sg_svc_click_recommend_all(sg_call *call, const ProtobufCMessage *req);
void sg_svc_click_read_recommendations(sg_call *call, const ProtobufCMessage *req);
void sg_svc_click_upload_model(sg_call *call, const ProtobufCMessage *req);
void sg_svc_click_list_models(sg_call *call, const ProtobufCMessage *req);
void sg_svc_click_delete_model(sg_call *call, const ProtobufCMessage *req);

/* svc_forecast.c: shopgpu.v1.Forecast */
void sg_svc_forecast_forecast(sg_call *call, const ProtobufCMessage *req);
void sg_svc_forecast_start(sg_call *call, const ProtobufCMessage *req);
void sg_svc_forecast_replenish(sg_call *call, const ProtobufCMessage *req);

/* svc_routing.c: shopgpu.v1.Routing */
void sg_svc_routing_solve(sg_call *call, const ProtobufCMessage *req);
void sg_svc_routing_start(sg_call *call, const ProtobufCMessage *req);

/* svc_jobs.c: shopgpu.v1.Jobs */
void sg_svc_jobs_submit(sg_call *call, const ProtobufCMessage *req);
void sg_svc_jobs_get(sg_call *call, const ProtobufCMessage *req);
void sg_svc_jobs_watch(sg_call *call, const ProtobufCMessage *req);
void sg_svc_jobs_cancel(sg_call *call, const ProtobufCMessage *req);
void sg_svc_jobs_list(sg_call *call, const ProtobufCMessage *req);

#endif
