/* libshopgpu-client: the shopgpu.v1.Click calls that take or give whole messages (score one
 * batch, recommend, train, recommend-all, read recommendations, list, delete). The streaming
 * scorer and the upload, which feed the call a chunk at a time, are in click_stream.c. */
#include <string.h>

#include "client_internal.h"

#define CLICK_SCORE "/shopgpu.v1.Click/ScorePairs"
#define CLICK_RECOMMEND "/shopgpu.v1.Click/Recommend"
#define CLICK_TRAIN "/shopgpu.v1.Click/TrainModel"
#define CLICK_RECOMMEND_ALL "/shopgpu.v1.Click/RecommendAll"
#define CLICK_READ_RECS "/shopgpu.v1.Click/ReadRecommendations"
#define CLICK_LIST "/shopgpu.v1.Click/ListModels"
#define CLICK_DELETE "/shopgpu.v1.Click/DeleteModel"

/* The library's arrays are const; protobuf-c wants them writable in requests it only reads. */
static uint64_t *ids_in(const uint64_t *p) {
  union {
    const uint64_t *c;
    uint64_t *m;
  } u = {p};
  return u.m;
}

static void drop(ProtobufCMessage *msg) {
  if (msg) protobuf_c_message_free_unpacked(msg, NULL);
}

int shopgpu_click_score(shopgpu_client *client, const char *model, uint32_t version,
                        const uint64_t *user_ids, const uint64_t *item_ids, size_t n, float *scores,
                        uint32_t *model_version, int64_t timeout_ms, shopgpu_status *status) {
  if (!model || (n && (!user_ids || !item_ids || !scores)))
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               "model, user_ids, item_ids and scores: must not be NULL");
  Shopgpu__V1__ScorePairsRequest req = SHOPGPU__V1__SCORE_PAIRS_REQUEST__INIT;
  req.model = shopgpu__pb_str(model);
  req.version = version;
  req.user_ids = ids_in(user_ids);
  req.item_ids = ids_in(item_ids);
  req.n_user_ids = req.n_item_ids = n;
  ProtobufCMessage *msg = NULL;
  int rc =
      shopgpu_call_unary(client, CLICK_SCORE, &req.base,
                         &shopgpu__v1__score_pairs_response__descriptor, &msg, timeout_ms, status);
  const Shopgpu__V1__ScorePairsResponse *resp = (const void *)msg;
  if (rc == GRPC_STATUS_OK && resp->n_scores != n)
    rc = shopgpu__status_set(status, GRPC_STATUS_INTERNAL, "response: %zu scores for %zu pairs",
                             resp->n_scores, n);
  if (rc == GRPC_STATUS_OK) {
    if (n) memcpy(scores, resp->scores, n * sizeof *scores);
    if (model_version) *model_version = resp->model_version;
  }
  drop(msg);
  return rc;
}

int shopgpu_click_recommend(shopgpu_client *client, const char *model, uint32_t version,
                            const uint64_t *user_ids, size_t n_users, uint32_t k, int include_seen,
                            Shopgpu__V1__RecommendResponse **response, int64_t timeout_ms,
                            shopgpu_status *status) {
  if (response) *response = NULL;
  if (!model || (n_users && !user_ids))
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               "model and user_ids: must not be NULL");
  Shopgpu__V1__RecommendRequest req = SHOPGPU__V1__RECOMMEND_REQUEST__INIT;
  req.model = shopgpu__pb_str(model);
  req.version = version;
  req.user_ids = ids_in(user_ids);
  req.n_user_ids = n_users;
  req.k = k;
  req.include_seen = include_seen != 0;
  ProtobufCMessage *msg = NULL;
  int rc =
      shopgpu_call_unary(client, CLICK_RECOMMEND, &req.base,
                         &shopgpu__v1__recommend_response__descriptor, &msg, timeout_ms, status);
  if (response)
    *response = (Shopgpu__V1__RecommendResponse *)(void *)msg;
  else
    drop(msg);
  return rc;
}

int shopgpu__ticket_call(shopgpu_client *client, const char *path, const ProtobufCMessage *req,
                         char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                         shopgpu_status *status) {
  if (!job_id) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "job_id: NULL");
  job_id[0] = '\0';
  ProtobufCMessage *msg = NULL;
  int rc = shopgpu_call_unary(client, path, req, &shopgpu__v1__job_ticket__descriptor, &msg,
                              timeout_ms, status);
  const Shopgpu__V1__JobTicket *t = (const void *)msg;
  if (rc == GRPC_STATUS_OK && strlen(t->id) != SHOPGPU_JOB_ID_SIZE - 1)
    rc = shopgpu__status_set(status, GRPC_STATUS_INTERNAL,
                             "response: job id \"%.40s\" is not "
                             "32 hex digits",
                             t->id);
  if (rc == GRPC_STATUS_OK) memcpy(job_id, t->id, SHOPGPU_JOB_ID_SIZE);
  drop(msg);
  return rc;
}

int shopgpu_click_train(shopgpu_client *client, const Shopgpu__V1__TrainModelRequest *request,
                        char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                        shopgpu_status *status) {
  if (!request) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "request: NULL");
  return shopgpu__ticket_call(client, CLICK_TRAIN, &request->base, job_id, timeout_ms, status);
}

int shopgpu_click_recommend_all(shopgpu_client *client,
                                const Shopgpu__V1__RecommendAllRequest *request,
                                char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                                shopgpu_status *status) {
  if (!request) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "request: NULL");
  return shopgpu__ticket_call(client, CLICK_RECOMMEND_ALL, &request->base, job_id, timeout_ms,
                              status);
}

typedef struct user_recs_arg {
  shopgpu_user_recs_fn fn;
  void *arg;
} user_recs_arg;

static int on_user_message(const ProtobufCMessage *msg, void *arg) {
  const user_recs_arg *u = arg;
  return u->fn((const Shopgpu__V1__UserRecommendations *)(const void *)msg, u->arg);
}

int shopgpu_click_read_recommendations(shopgpu_client *client, const char *job_id, uint64_t offset,
                                       uint64_t limit, shopgpu_user_recs_fn on_user, void *arg,
                                       int64_t timeout_ms, shopgpu_status *status) {
  if (!job_id || !on_user)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               job_id ? "on_user: NULL" : "job_id: NULL");
  Shopgpu__V1__ReadRecommendationsRequest req = SHOPGPU__V1__READ_RECOMMENDATIONS_REQUEST__INIT;
  req.job_id = shopgpu__pb_str(job_id);
  req.offset = offset;
  req.limit = limit;
  user_recs_arg u = {on_user, arg};
  return shopgpu_call_server_stream(client, CLICK_READ_RECS, &req.base,
                                    &shopgpu__v1__user_recommendations__descriptor, on_user_message,
                                    &u, timeout_ms, status);
}

int shopgpu_click_list_models(shopgpu_client *client, Shopgpu__V1__ListModelsResponse **response,
                              int64_t timeout_ms, shopgpu_status *status) {
  if (response) *response = NULL;
  Shopgpu__V1__ListModelsRequest req = SHOPGPU__V1__LIST_MODELS_REQUEST__INIT;
  ProtobufCMessage *msg = NULL;
  int rc =
      shopgpu_call_unary(client, CLICK_LIST, &req.base,
                         &shopgpu__v1__list_models_response__descriptor, &msg, timeout_ms, status);
  if (response)
    *response = (Shopgpu__V1__ListModelsResponse *)(void *)msg;
  else
    drop(msg);
  return rc;
}

int shopgpu_click_delete_model(shopgpu_client *client, const char *name, uint32_t version,
                               uint32_t *deleted, int64_t timeout_ms, shopgpu_status *status) {
  if (deleted) *deleted = 0;
  if (!name) return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT, "name: NULL");
  Shopgpu__V1__DeleteModelRequest req = SHOPGPU__V1__DELETE_MODEL_REQUEST__INIT;
  req.name = shopgpu__pb_str(name);
  req.version = version;
  ProtobufCMessage *msg = NULL;
  int rc =
      shopgpu_call_unary(client, CLICK_DELETE, &req.base,
                         &shopgpu__v1__delete_model_response__descriptor, &msg, timeout_ms, status);
  if (rc == GRPC_STATUS_OK && deleted)
    *deleted = ((const Shopgpu__V1__DeleteModelResponse *)(const void *)msg)->deleted;
  drop(msg);
  return rc;
}
