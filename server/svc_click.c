/* shopgpu.v1.Click: validates requests, maps external ids to model rows, and queues the work
 * as jobs (scoring and recommendations interactive, training and recommend-all batch); the
 * job's on_done sends the reply. Uploads and reads of stored results run on the handler. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "click_jobs.h"
#include "common/size.h"
#include "pb.h"
#include "server.h"
#include "services.h"
#include "shopgpu/v1/jobs.pb-c.h"
#include "util.h"

#define MAX_PAIRS ((size_t)1 << 28)
#define MAX_RECOMMEND_USERS 100000
#define MAX_UPLOAD_FLOATS ((size_t)1 << 32) /* 16 GiB of vectors */

static void reply_error(sg_call *call, const sg_err *err) { sg_call_reply(call, NULL, err); }

/* Queues an interactive job for call with its deadline and cancellation; on failure the data is
 * freed (by the scheduler) and the error is in err. */
static sg_status submit_interactive(sg_call *call, const sg_job_ops *ops, void *data, double work,
                                    void (*on_done)(sg_job *, void *), sg_job **out, sg_err *err) {
  sg_server *srv = sg_call_app(call);
  int64_t left = sg_call_remaining_ms(call);
  sg_job_spec spec = {.ops = ops,
                      .data = data,
                      .cls = SG_JOB_INTERACTIVE,
                      .work = work,
                      .deadline_us = left == INT64_MAX ? 0 : sg_mono_us() + left * 1000,
                      .cancel_src = sg_call_cancel_flag(call),
                      .on_done = on_done,
                      .arg = call};
  return sg_sched_submit(srv->sched, &spec, out, err);
}

/* ---- ScorePairs ---- */

static double score_work(const sg_score_job *s) { return (double)s->n * s->model->m.dim; }

/* A score job for req (ids mapped to rows), or NULL with err. */
static sg_score_job *score_job_for(sg_server *srv, const Shopgpu__V1__ScorePairsRequest *req,
                                   sg_err *err) {
  size_t n = req->n_user_ids;
  if (n == 0) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "user_ids: empty");
    return NULL;
  }
  if (req->n_item_ids != n || n > MAX_PAIRS) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "item_ids: %zu ids for %zu user_ids (at most %zu pairs)",
               req->n_item_ids, n, MAX_PAIRS);
    return NULL;
  }
  /* 4 bytes of score a pair: 1-byte ids make an answer twice the request's size, which may not
   * be sent; refused before it is computed */
  size_t max_bytes = (size_t)srv->cfg.max_message_mb << 20;
  if (n > (max_bytes - 64) / 4) {
    sg_err_set(err, SG_INVALID_ARGUMENT,
               "user_ids: %zu pairs make an answer over the %zu MB a message may have "
               "(--max-message-mb): at most %zu pairs a call (or ScorePairsStream)",
               n, max_bytes >> 20, (max_bytes - 64) / 4);
    return NULL;
  }
  sg_score_job *s = calloc(1, sizeof *s);
  if (!s || sg_models_get(srv->models, req->model, req->version, &s->model, err) != SG_OK) {
    if (!s) sg_err_set(err, SG_OUT_OF_MEMORY, "score: out of memory");
    free(s);
    return NULL;
  }
  s->n = n;
  s->users = malloc(n * sizeof *s->users);
  s->items = malloc(n * sizeof *s->items);
  s->scores = malloc(n * sizeof *s->scores);
  sg_status st = s->users && s->items && s->scores
                     ? SG_OK
                     : sg_err_set(err, SG_OUT_OF_MEMORY, "score: out of memory for %zu pairs", n);
  if (st == SG_OK) st = sg_idmap_rows(s->model->users, req->user_ids, n, s->users, "user_ids", err);
  if (st == SG_OK) st = sg_idmap_rows(s->model->items, req->item_ids, n, s->items, "item_ids", err);
  if (st != SG_OK) {
    sg_score_job_ops.cleanup(s);
    return NULL;
  }
  return s;
}

static void fill_scores(sg_job *job, Shopgpu__V1__ScorePairsResponse *resp) {
  sg_score_job *s = sg_job_data(job);
  shopgpu__v1__score_pairs_response__init(resp);
  resp->scores = s->scores;
  resp->n_scores = s->n;
  resp->model_version = s->model->version;
}

static void reply_scores(sg_job *job, void *arg) {
  sg_err e = sg_job_error(job);
  if (sg_job_state_of(job) != SG_JOB_SUCCEEDED) {
    reply_error(arg, &e);
    return;
  }
  Shopgpu__V1__ScorePairsResponse resp;
  fill_scores(job, &resp);
  sg_call_reply(arg, &resp.base, NULL);
}

void sg_svc_click_score_pairs(sg_call *call, const ProtobufCMessage *req) {
  sg_err err = {0};
  sg_score_job *s = score_job_for(sg_call_app(call), (const void *)req, &err);
  if (!s || submit_interactive(call, &sg_score_job_ops, s, score_work(s), reply_scores, NULL,
                               &err) != SG_OK)
    reply_error(call, &err);
}

void sg_svc_click_score_pairs_stream(sg_call *call, const ProtobufCMessage *req) {
  (void)req;
  sg_err err = {0};
  for (size_t at = 0;; at++) {
    ProtobufCMessage *m = NULL;
    if (sg_call_recv(call, &m, &err) != SG_OK || !m) break;
    sg_score_job *s = score_job_for(sg_call_app(call), (const void *)m, &err);
    protobuf_c_message_free_unpacked(m, NULL);
    if (!s) sg_err_prefix(&err, "message %zu", at); /* of thousands, maybe */
    sg_job *job = NULL;
    if (!s ||
        submit_interactive(call, &sg_score_job_ops, s, score_work(s), NULL, &job, &err) != SG_OK)
      break;
    sg_job_wait(job);
    if (sg_job_state_of(job) == SG_JOB_SUCCEEDED) {
      Shopgpu__V1__ScorePairsResponse resp;
      fill_scores(job, &resp);
      sg_call_send(call, &resp.base, &err);
    } else {
      err = sg_job_error(job);
    }
    sg_job_unref(job);
    if (err.code != SG_OK) break;
  }
  sg_call_reply(call, NULL, &err);
}

/* ---- Recommend ---- */

static sg_status exclusions(sg_recommend_job *r, sg_err *err) {
  const sg_model *m = r->model;
  r->ex_offsets = malloc((r->n + 1) * sizeof *r->ex_offsets);
  if (!r->ex_offsets) return sg_err_set(err, SG_OUT_OF_MEMORY, "recommend: out of memory");
  r->ex_offsets[0] = 0;
  for (size_t j = 0; j < r->n; j++)
    r->ex_offsets[j + 1] =
        r->ex_offsets[j] + m->seen_offsets[r->users[j] + 1] - m->seen_offsets[r->users[j]];
  r->ex_items = malloc((r->ex_offsets[r->n] ? r->ex_offsets[r->n] : 1) * sizeof *r->ex_items);
  if (!r->ex_items) return sg_err_set(err, SG_OUT_OF_MEMORY, "recommend: out of memory");
  for (size_t j = 0; j < r->n; j++)
    memcpy(r->ex_items + r->ex_offsets[j], m->seen_items + m->seen_offsets[r->users[j]],
           (r->ex_offsets[j + 1] - r->ex_offsets[j]) * sizeof *r->ex_items);
  return SG_OK;
}

static sg_recommend_job *recommend_job_for(sg_server *srv, const Shopgpu__V1__RecommendRequest *q,
                                           sg_err *err) {
  uint32_t k = q->k;
  if (q->n_user_ids == 0 || q->n_user_ids > MAX_RECOMMEND_USERS) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "user_ids: %zu users (1..%d per call)", q->n_user_ids,
               MAX_RECOMMEND_USERS);
    return NULL;
  }
  if (k == 0 || k > SG_CLICK_MAX_K) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "k: %u is outside 1..%u", k, SG_CLICK_MAX_K);
    return NULL;
  }
  sg_recommend_job *r = calloc(1, sizeof *r);
  if (!r || sg_models_get(srv->models, q->model, q->version, &r->model, err) != SG_OK) {
    if (!r) sg_err_set(err, SG_OUT_OF_MEMORY, "recommend: out of memory");
    free(r);
    return NULL;
  }
  r->n = q->n_user_ids;
  /* no list is longer than the model's items: n x k memory only for what can be answered */
  r->k = k < r->model->m.n_items ? k : r->model->m.n_items;
  r->k_asked = k;
  /* every entry takes 5 bytes of the answer at the least (a score and a 1-byte id): an answer
   * that cannot be sent is refused before n x k memory is spent on it (100,000 users x 1,024
   * took 1.6 GB and then failed) */
  size_t max_bytes = (size_t)srv->cfg.max_message_mb << 20;
  if ((double)r->n * r->k * 5 > (double)max_bytes) {
    sg_err_set(err, SG_INVALID_ARGUMENT,
               "k: %u items for %zu users make an answer over the %zu MB a message may have "
               "(--max-message-mb): fewer users per call, or a smaller k",
               r->k, r->n, max_bytes >> 20);
    sg_recommend_job_ops.cleanup(r);
    return NULL;
  }
  r->users = malloc(r->n * sizeof *r->users);
  r->items = malloc(r->n * r->k * sizeof *r->items);
  r->scores = malloc(r->n * r->k * sizeof *r->scores);
  r->counts = malloc(r->n * sizeof *r->counts);
  sg_status st = r->users && r->items && r->scores && r->counts
                     ? SG_OK
                     : sg_err_set(err, SG_OUT_OF_MEMORY, "recommend: out of memory");
  if (st == SG_OK)
    st = sg_idmap_rows(r->model->users, q->user_ids, r->n, r->users, "user_ids", err);
  if (st == SG_OK && !q->include_seen && r->model->seen_offsets) st = exclusions(r, err);
  if (st != SG_OK) {
    sg_recommend_job_ops.cleanup(r);
    return NULL;
  }
  return r;
}

/* The response for n users, built in the call's arena from rows of item ids (external) and
 * scores, k per row, counts[j] filled. */
static sg_status reply_lists(sg_call *call, const sg_model *m, const uint64_t *user_ids, size_t n,
                             uint32_t k, const uint64_t *items, const float *scores,
                             const uint32_t *counts, int from_cache) {
  Shopgpu__V1__UserRecommendations *users = sg_call_alloc(call, n * sizeof *users);
  Shopgpu__V1__UserRecommendations **ptrs = sg_call_alloc(call, n * sizeof *ptrs);
  sg_err e = {0};
  if (!users || !ptrs) {
    sg_err_set(&e, SG_OUT_OF_MEMORY, "recommend: out of memory");
    reply_error(call, &e);
    return SG_OUT_OF_MEMORY;
  }
  for (size_t j = 0; j < n; j++) {
    shopgpu__v1__user_recommendations__init(&users[j]);
    users[j].user_id = user_ids[j];
    users[j].n_item_ids = users[j].n_scores = counts[j];
    users[j].item_ids = (uint64_t *)(uintptr_t)(items + j * k);
    users[j].scores = (float *)(uintptr_t)(scores + j * k);
    ptrs[j] = &users[j];
  }
  Shopgpu__V1__RecommendResponse resp = SHOPGPU__V1__RECOMMEND_RESPONSE__INIT;
  resp.users = ptrs;
  resp.n_users = n;
  resp.model_version = m->version;
  resp.from_cache = from_cache;
  sg_call_reply(call, &resp.base, NULL);
  return SG_OK;
}

/* 1 when the model's item ids fit the cache blob's 32 bits (checked per reply: cheap). */
static int cacheable(const sg_model *m, const uint64_t *items, size_t n) {
  (void)m;
  for (size_t i = 0; i < n; i++)
    if (items[i] > UINT32_MAX) return 0;
  return 1;
}

static void reply_recommendations(sg_job *job, void *arg) {
  sg_call *call = arg;
  sg_server *srv = sg_call_app(call);
  sg_err e = sg_job_error(job);
  if (sg_job_state_of(job) != SG_JOB_SUCCEEDED) {
    reply_error(call, &e);
    return;
  }
  sg_recommend_job *r = sg_job_data(job);
  uint64_t *ids = sg_call_alloc(call, r->n * r->k * sizeof *ids + 1);
  uint64_t *uids = sg_call_alloc(call, r->n * sizeof *uids + 1);
  if (!ids || !uids) {
    sg_err_set(&e, SG_OUT_OF_MEMORY, "recommend: out of memory");
    reply_error(call, &e);
    return;
  }
  for (size_t j = 0; j < r->n; j++) {
    uids[j] = r->model->user_ids[r->users[j]];
    for (uint32_t s = 0; s < r->counts[j]; s++)
      ids[j * r->k + s] = r->model->item_ids[r->items[j * r->k + s]];
  }
  /* queue the write-backs (they run on the cache's own thread) before replying: the reply
   * may free the call, and with it ids and uids */
  uint32_t *row = sg_call_alloc(call, r->k * sizeof *row + 1);
  int back = r->cache_back && row && cacheable(r->model, ids, r->n * r->k);
  for (size_t j = 0; back && j < r->n; j++) {
    for (uint32_t s = 0; s < r->counts[j]; s++)
      row[s] = (uint32_t)ids[j * r->k + s];
    sg_cache_write_back(srv->cache, r->model->name, r->model->version, uids[j], row,
                        r->scores + j * r->k, r->counts[j], r->k_asked);
  }
  reply_lists(call, r->model, uids, r->n, r->k, ids, r->scores, r->counts, 0);
}

/* A cached list's item is one of the model's (a blob can be well formed and still wrong). */
static int item_known(const void *model, uint32_t item) {
  return sg_idmap_find(((const sg_model *)model)->items, item) != SG_IDMAP_NONE;
}

/* Answers from Redis when every user has a fresh list of at least k items, or a complete one of
 * fewer (all the user's items): 1 when it did. */
static int answer_from_cache(sg_call *call, const Shopgpu__V1__RecommendRequest *q) {
  sg_server *srv = sg_call_app(call);
  uint32_t k = q->k;
  if (!sg_cache_enabled(srv->cache) || q->include_seen || !q->n_user_ids || !k ||
      k > SG_CLICK_MAX_K || q->n_user_ids > 64)
    return 0;
  sg_model *m = NULL;
  if (sg_models_get(srv->models, q->model, q->version, &m, NULL) != SG_OK) return 0;
  size_t n = q->n_user_ids;
  uint64_t *items = sg_call_alloc(call, n * k * sizeof *items);
  float *scores = sg_call_alloc(call, n * k * sizeof *scores);
  uint32_t *counts = sg_call_alloc(call, n * sizeof *counts), *row = sg_call_alloc(call, k * 4);
  int hit = items && scores && counts && row;
  for (size_t j = 0; hit && j < n; j++) {
    uint32_t got = 0;
    /* an unknown user is computed, to answer the error a computed call gives */
    if (sg_idmap_find(m->users, q->user_ids[j]) == SG_IDMAP_NONE) {
      hit = 0;
      break;
    }
    sg_cache_lookup(srv->cache, m->name, m->version, q->user_ids[j], k, row, scores + j * k, &got,
                    &hit, item_known, m);
    for (uint32_t s = 0; s < got; s++)
      items[j * k + s] = row[s];
    counts[j] = got;
  }
  if (hit) reply_lists(call, m, q->user_ids, n, k, items, scores, counts, 1);
  sg_model_unref(m);
  return hit;
}

void sg_svc_click_recommend(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__RecommendRequest *q = (const void *)req;
  if (answer_from_cache(call, q)) return; /* no job, no backend */
  sg_err err = {0};
  sg_recommend_job *r = recommend_job_for(sg_call_app(call), q, &err);
  if (r) r->cache_back = !q->include_seen;
  double work = r ? (double)r->n * r->model->m.n_items * r->model->m.dim : 0;
  if (!r || submit_interactive(call, &sg_recommend_job_ops, r, work, reply_recommendations, NULL,
                               &err) != SG_OK)
    reply_error(call, &err);
}

/* ---- jobs: training and recommend-all ---- */

static void start_job(sg_call *call, Shopgpu__V1__SubmitJobRequest *sub, const char *kind) {
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  char id[SG_JOB_ID_LEN + 1];
  if (sg_jobs_start(srv->jobs, sub, id, &err) != SG_OK) {
    reply_error(call, &err);
    return;
  }
  Shopgpu__V1__JobTicket t = SHOPGPU__V1__JOB_TICKET__INIT;
  t.id = id;
  t.kind = sg_pb_str(kind);
  sg_call_reply(call, &t.base, NULL);
}

void sg_svc_click_train_model(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__TrainModelRequest *r = (const void *)req;
  Shopgpu__V1__SubmitJobRequest sub = SHOPGPU__V1__SUBMIT_JOB_REQUEST__INIT;
  sub.priority = r->priority;
  sub.request_case = SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_TRAIN_MODEL;
  sub.train_model = (Shopgpu__V1__TrainModelRequest *)(uintptr_t)r;
  start_job(call, &sub, "train_model");
}

void sg_svc_click_recommend_all(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__RecommendAllRequest *r = (const void *)req;
  Shopgpu__V1__SubmitJobRequest sub = SHOPGPU__V1__SUBMIT_JOB_REQUEST__INIT;
  sub.priority = r->priority;
  sub.request_case = SHOPGPU__V1__SUBMIT_JOB_REQUEST__REQUEST_RECOMMEND_ALL;
  sub.recommend_all = (Shopgpu__V1__RecommendAllRequest *)(uintptr_t)r;
  start_job(call, &sub, "recommend_all");
}

/* ---- ReadRecommendations ---- */

static sg_status open_recs(const char *dir, FILE **f, uint32_t *k, uint64_t *users, sg_err *err) {
  char path[SG_PATH_MAX + 96];
  snprintf(path, sizeof path, "%s/%s", dir, SG_RECS_FILE);
  *f = fopen(path, "rb");
  if (!*f && errno == ENOENT) /* deleted since it was found (--job-ttl, --max-jobs) */
    return sg_err_set(err, SG_NOT_FOUND, "job_id: the job's results were deleted");
  char magic[8];
  uint32_t version;
  if (!*f || fread(magic, 1, 8, *f) != 8 || memcmp(magic, "SGRECS01", 8) != 0 ||
      fread(k, 4, 1, *f) != 1 || fread(&version, 4, 1, *f) != 1 || fread(users, 8, 1, *f) != 1 ||
      *k == 0 || *k > SG_CLICK_MAX_K) {
    if (*f) fclose(*f);
    *f = NULL;
    return sg_err_set(err, SG_DATA_LOSS, "%s: missing or unreadable", path);
  }
  return SG_OK;
}

static sg_status send_recs(sg_call *call, FILE *f, uint32_t k, uint64_t n, sg_err *err) {
  uint64_t *items = malloc(k * sizeof *items);
  float *scores = malloc(k * sizeof *scores);
  sg_status st = items && scores ? SG_OK : sg_err_set(err, SG_OUT_OF_MEMORY, "out of memory");
  for (uint64_t i = 0; st == SG_OK && i < n; i++) {
    Shopgpu__V1__UserRecommendations u = SHOPGPU__V1__USER_RECOMMENDATIONS__INIT;
    uint32_t count;
    if (fread(&u.user_id, 8, 1, f) != 1 || fread(&count, 4, 1, f) != 1 || count > k ||
        fread(items, 8, k, f) != k || fread(scores, 4, k, f) != k) {
      st = sg_err_set(err, SG_DATA_LOSS, "recommendations file truncated at row %llu",
                      (unsigned long long)i);
      break;
    }
    u.item_ids = items;
    u.scores = scores;
    u.n_item_ids = u.n_scores = count;
    st = sg_call_send(call, &u.base, err);
  }
  free(items);
  free(scores);
  return st;
}

void sg_svc_click_read_recommendations(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__ReadRecommendationsRequest *q = (const void *)req;
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  char dir[SG_PATH_MAX + 64];
  FILE *f = NULL;
  uint32_t k = 0;
  uint64_t users = 0;
  if (sg_jobs_result_dir(srv->jobs, q->job_id, "recommend_all", dir, sizeof dir, &err) == SG_OK &&
      open_recs(dir, &f, &k, &users, &err) == SG_OK) {
    if (q->offset > users) {
      sg_err_set(&err, SG_OUT_OF_RANGE, "offset: %llu > %llu users", (unsigned long long)q->offset,
                 (unsigned long long)users);
    } else if (fseeko(f, (off_t)(SG_RECS_HEADER_BYTES + q->offset * sg_recs_row_bytes(k)),
                      SEEK_SET) != 0) {
      sg_err_set(&err, SG_DATA_LOSS, "offset: cannot seek to row %llu",
                 (unsigned long long)q->offset);
    } else {
      uint64_t n = users - q->offset;
      if (q->limit && q->limit < n) n = q->limit;
      send_recs(call, f, k, n, &err);
    }
  }
  if (f) fclose(f);
  sg_call_reply(call, NULL, &err);
}

/* ---- UploadModel ---- */

static sg_status upload_header(const Shopgpu__V1__UploadModelHeader *h, sg_model_draft *d,
                               sg_err *err) {
  SG_TRY(sg_model_name_check(h->name, "header.name", err));
  /* named as in the request (the model's own check would say "model: dim is 0") */
  if (h->dim == 0 || h->dim > SG_CLICK_MAX_DIM)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "header.dim: %u is outside 1..%u", h->dim,
                      SG_CLICK_MAX_DIM);
  if (h->n_users == 0 || h->n_items == 0)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "header.%s: 0", h->n_users ? "n_items" : "n_users");
  if (!isfinite(h->bias))
    return sg_err_set(err, SG_INVALID_ARGUMENT, "header.bias: %g is not finite", h->bias);
  for (size_t i = 0; i < h->n_weights; i++)
    if (!isfinite(h->weights[i]))
      return sg_err_set(err, SG_INVALID_ARGUMENT, "header.weights[%zu]: %g is not finite", i,
                        (double)h->weights[i]);
  size_t floats;
  if (!sg_size_mul((size_t)h->n_users + h->n_items, h->dim, &floats) || floats > MAX_UPLOAD_FLOATS)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "header: (%u + %u) × %u values is over the limit",
                      h->n_users, h->n_items, h->dim);
  /* the draft and the placed copy of the vectors, and the ids: refused before a header of a
   * few bytes has 20 GiB allocated for rows that may never come */
  double need =
      2.0 * (double)floats * sizeof(float) + 16.0 * ((double)h->n_users + (double)h->n_items);
  double avail;
  if (sg_mem_short(need, &avail))
    return sg_err_set(err, SG_RESOURCE_EXHAUSTED,
                      "header: (%u + %u) × %u values need about %.1f GiB; %.1f GiB of memory is "
                      "available",
                      h->n_users, h->n_items, h->dim, need / (1u << 30), avail / (1u << 30));
  if (h->n_weights != h->dim)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "header.weights: %zu values for dim %u",
                      h->n_weights, h->dim);
  if (h->n_user_ids && h->n_user_ids != h->n_users)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "header.user_ids: %zu ids for %u users",
                      h->n_user_ids, h->n_users);
  if (h->n_item_ids && h->n_item_ids != h->n_items)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "header.item_ids: %zu ids for %u items",
                      h->n_item_ids, h->n_items);
  snprintf(d->name, sizeof d->name, "%s", h->name);
  SG_TRY(sg_click_model_alloc(h->n_users, h->n_items, h->dim, h->interaction, &d->m, err));
  memcpy(d->m.w, h->weights, h->dim * sizeof(float));
  d->m.b = h->bias;
  if (h->n_user_ids) d->user_ids = malloc(h->n_users * sizeof(uint64_t));
  if (h->n_item_ids) d->item_ids = malloc(h->n_items * sizeof(uint64_t));
  if ((h->n_user_ids && !d->user_ids) || (h->n_item_ids && !d->item_ids))
    return sg_err_set(err, SG_OUT_OF_MEMORY, "upload: out of memory");
  if (d->user_ids) memcpy(d->user_ids, h->user_ids, h->n_users * sizeof(uint64_t));
  if (d->item_ids) memcpy(d->item_ids, h->item_ids, h->n_items * sizeof(uint64_t));
  d->source = "uploaded";
  return SG_OK;
}

/* Copies a chunk's rows into the draft; counts rows received per matrix in got[]. */
static sg_status upload_chunk(const Shopgpu__V1__UploadModelChunk *c, sg_model_draft *d,
                              uint8_t *seen_u, uint8_t *seen_v, uint64_t got[2], sg_err *err) {
  if (c->matrix != SHOPGPU__V1__UPLOAD_MODEL_CHUNK__MATRIX__USERS &&
      c->matrix != SHOPGPU__V1__UPLOAD_MODEL_CHUNK__MATRIX__ITEMS)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "chunk.matrix: %d is neither USERS (0) nor ITEMS (1)", (int)c->matrix);
  if (c->rows.len == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "chunk.rows: empty");
  int users = c->matrix == SHOPGPU__V1__UPLOAD_MODEL_CHUNK__MATRIX__USERS;
  uint32_t rows = users ? d->m.n_users : d->m.n_items;
  size_t row_bytes = (size_t)d->m.dim * sizeof(float);
  if (c->rows.len % row_bytes)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "chunk.rows: %zu bytes is not whole rows of %zu",
                      c->rows.len, row_bytes);
  uint64_t n = c->rows.len / row_bytes;
  if (c->row_offset > rows || n > rows - c->row_offset)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "chunk: rows %llu..%llu past %u %s rows",
                      (unsigned long long)c->row_offset, (unsigned long long)(c->row_offset + n),
                      rows, users ? "user" : "item");
  uint8_t *seen = users ? seen_u : seen_v;
  for (uint64_t r = c->row_offset; r < c->row_offset + n; r++) {
    if (seen[r])
      return sg_err_set(err, SG_INVALID_ARGUMENT, "chunk: %s row %llu sent twice",
                        users ? "user" : "item", (unsigned long long)r);
    seen[r] = 1;
  }
  memcpy((users ? d->m.U : d->m.V) + c->row_offset * d->m.dim, c->rows.data, c->rows.len);
  got[!users] += n;
  return SG_OK;
}

static sg_status receive_upload(sg_call *call, sg_model_draft *d, sg_err *err) {
  ProtobufCMessage *m = NULL;
  SG_TRY(sg_call_recv(call, &m, err));
  Shopgpu__V1__UploadModelRequest *r = (void *)m;
  sg_status st =
      !r || r->part_case != SHOPGPU__V1__UPLOAD_MODEL_REQUEST__PART_HEADER
          ? sg_err_set(err, SG_INVALID_ARGUMENT, "header: the first message must be the header")
          : upload_header(r->header, d, err);
  if (m) protobuf_c_message_free_unpacked(m, NULL);
  if (st != SG_OK) return st;
  uint8_t *seen_u = calloc(d->m.n_users, 1), *seen_v = calloc(d->m.n_items, 1);
  uint64_t got[2] = {0, 0};
  st = seen_u && seen_v ? SG_OK : sg_err_set(err, SG_OUT_OF_MEMORY, "upload: out of memory");
  while (st == SG_OK && (st = sg_call_recv(call, &m, err)) == SG_OK && m) {
    r = (void *)m;
    st = r->part_case == SHOPGPU__V1__UPLOAD_MODEL_REQUEST__PART_CHUNK
             ? upload_chunk(r->chunk, d, seen_u, seen_v, got, err)
             : sg_err_set(err, SG_INVALID_ARGUMENT, "header: sent twice");
    protobuf_c_message_free_unpacked(m, NULL);
  }
  free(seen_u);
  free(seen_v);
  if (st == SG_OK && (got[0] != d->m.n_users || got[1] != d->m.n_items))
    st = sg_err_set(
        err, SG_INVALID_ARGUMENT, "chunks: %llu of %u user rows and %llu of %u item rows",
        (unsigned long long)got[0], d->m.n_users, (unsigned long long)got[1], d->m.n_items);
  return st;
}

void sg_svc_click_upload_model(sg_call *call, const ProtobufCMessage *req) {
  (void)req;
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  sg_model_draft d = {0};
  sg_model *m = NULL;
  if (receive_upload(call, &d, &err) != SG_OK) {
    sg_click_model_free(&d.m);
    free(d.user_ids), free(d.item_ids);
    reply_error(call, &err);
    return;
  }
  if (sg_models_put(srv->models, &d, &m, &err) != SG_OK) {
    reply_error(call, &err);
    return;
  }
  Shopgpu__V1__ModelInfo info;
  sg_model_info(m, &info);
  sg_call_reply(call, &info.base, NULL);
  sg_model_unref(m);
}

/* ---- ListModels, DeleteModel ---- */

void sg_svc_click_list_models(sg_call *call, const ProtobufCMessage *req) {
  (void)req;
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  sg_model **list;
  size_t n;
  if (sg_models_list(srv->models, &list, &n, &err) != SG_OK) {
    reply_error(call, &err);
    return;
  }
  Shopgpu__V1__ModelInfo *infos = sg_call_alloc(call, (n + 1) * sizeof *infos);
  Shopgpu__V1__ModelInfo **ptrs = sg_call_alloc(call, (n + 1) * sizeof *ptrs);
  Shopgpu__V1__ListModelsResponse resp = SHOPGPU__V1__LIST_MODELS_RESPONSE__INIT;
  for (size_t i = 0; infos && ptrs && i < n; i++) {
    sg_model_info(list[i], &infos[i]);
    ptrs[i] = &infos[i];
  }
  resp.models = ptrs;
  resp.n_models = infos && ptrs ? n : 0;
  if (!infos || !ptrs) sg_err_set(&err, SG_OUT_OF_MEMORY, "list: out of memory");
  sg_call_reply(call, &resp.base, &err); /* packed here, while the references are held */
  for (size_t i = 0; i < n; i++)
    sg_model_unref(list[i]);
  free(list);
}

void sg_svc_click_delete_model(sg_call *call, const ProtobufCMessage *req) {
  const Shopgpu__V1__DeleteModelRequest *q = (const void *)req;
  sg_server *srv = sg_call_app(call);
  sg_err err = {0};
  Shopgpu__V1__DeleteModelResponse resp = SHOPGPU__V1__DELETE_MODEL_RESPONSE__INIT;
  sg_models_delete(srv->models, q->name, q->version, &resp.deleted, &err);
  sg_call_reply(call, &resp.base, &err);
}
