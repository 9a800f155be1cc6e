/* libshopgpu-client's Click functions against a real shopgpu-server: uploads from memory and
 * streamed (equal models), scores against a double-precision reference, the streaming scorer
 * (order, chunking, window, errors naming the chunk, a stop), recommendations against a full
 * sort, training to recommend-all and its lists read back, list and delete, and the generic bidi
 * call with large messages both ways. */
#include "click_test.h"

TestSuite(client_click, .init = seed_rng, .fini = cleanup_all, .timeout = 120);

#define CPU ((const char *const[]){"--backend", "cpu", NULL})

/* Every pair of m, scored with ScorePairs, checked against the double reference. */
static void check_scores(shopgpu_client *c, const char *name, const test_model *m) {
  uint64_t users[64 * 64], items[64 * 64];
  float scores[64 * 64];
  size_t n = 0;
  for (uint32_t u = 0; u < m->nu; u++)
    for (uint32_t i = 0; i < m->ni; i++, n++)
      users[n] = m->uids[u], items[n] = m->iids[i];
  uint32_t version = 0;
  shopgpu_status st;
  int rc = shopgpu_click_score(c, name, 0, users, items, n, scores, &version, 5000, &st);
  cr_assert_eq(rc, 0, "score: %s", st.message);
  double worst = 0;
  for (size_t p = 0; p < n; p++)
    worst = fmax(worst,
                 fabs(scores[p] - ref_score(m, (uint32_t)(p / m->ni), (uint32_t)(p % m->ni), 1)));
  cr_expect_lt(worst, 1e-5, "%zu scores of %s: worst error %g", n, name, worst);
}

Test(client_click, upload_from_memory_scores_match_double_reference) {
  start_server(CPU);
  test_model m;
  make_model(&m, 9, 13, 6, 0);
  shopgpu_client *c = open_client();
  cr_expect_eq(upload_model(c, "m1", &m, 50), 1, "first upload is version 1"); /* 2 rows a chunk */
  cr_expect_eq(upload_model(c, "m1", &m, 0), 2, "second upload is version 2");
  check_scores(c, "m1", &m);
  float s;
  shopgpu_status st;
  uint64_t bad_user = 4, item = m.iids[0];
  int rc = shopgpu_click_score(c, "m1", 0, &bad_user, &item, 1, &s, NULL, 5000, &st);
  cr_expect_eq(rc, GRPC_STATUS_INVALID_ARGUMENT);
  cr_expect_neq(strstr(st.message, "user_ids[0]: unknown id 4"), NULL, "%s", st.message);
  rc = shopgpu_click_score(c, "nope", 0, &bad_user, &item, 1, &s, NULL, 5000, &st);
  cr_expect_eq(rc, GRPC_STATUS_NOT_FOUND, "%s", st.message);
  shopgpu_client_close(c);
  stop_server_checked();
}

/* ---- streamed upload ---- */

typedef struct row_source {
  const test_model *m;
  uint64_t next[2]; /* the next row expected per matrix */
  int calls, fail_at;
} row_source;

static int read_model_rows(void *arg, int matrix, uint64_t row_offset, size_t n_rows, float *buf) {
  row_source *r = arg;
  if (++r->calls == r->fail_at) return -1;
  cr_assert_eq(row_offset, r->next[matrix], "rows asked for in order");
  for (size_t j = 0; j < n_rows; j++)
    memcpy(buf + j * r->m->d, matrix ? r->m->V[row_offset + j] : r->m->U[row_offset + j],
           r->m->d * sizeof(float));
  r->next[matrix] += n_rows;
  return 0;
}

Test(client_click, streamed_upload_equals_the_model_and_a_stop_stores_nothing) {
  start_server(CPU);
  test_model m;
  make_model(&m, 20, 30, 4, 0);
  shopgpu_client *c = open_client();
  row_source src = {.m = &m};
  shopgpu_model_upload up = {.name = "streamed",
                             .n_users = m.nu,
                             .n_items = m.ni,
                             .dim = m.d,
                             .interaction = 1,
                             .bias = m.b,
                             .weights = m.w,
                             .user_ids = m.uids,
                             .item_ids = m.iids,
                             .read_rows = read_model_rows,
                             .arg = &src,
                             .chunk_bytes = 3 * 4 * sizeof(float)}; /* 3 rows a chunk */
  Shopgpu__V1__ModelInfo *info = NULL;
  shopgpu_status st;
  int rc = shopgpu_click_upload_model(c, &up, &info, 10000, &st);
  cr_assert_eq(rc, 0, "upload: %s", st.message);
  cr_expect(info->n_users == 20 && info->n_items == 30 && info->dim == 4 && info->version == 1);
  cr_expect_str_eq(info->source, "uploaded");
  protobuf_c_message_free_unpacked(&info->base, NULL);
  cr_expect_eq(src.calls, 7 + 10, "ceil(20/3) + 30/3 chunks read");
  check_scores(c, "streamed", &m);
  row_source failing = {.m = &m, .fail_at = 3};
  up.name = "broken";
  up.arg = &failing;
  rc = shopgpu_click_upload_model(c, &up, NULL, 10000, &st);
  cr_expect_eq(rc, GRPC_STATUS_CANCELLED, "%s", st.message);
  Shopgpu__V1__ListModelsResponse *list = NULL;
  cr_assert_eq(shopgpu_click_list_models(c, &list, 5000, &st), 0, "%s", st.message);
  cr_expect_eq(list->n_models, 1, "the stopped upload stored nothing");
  cr_expect_str_eq(list->models[0]->name, "streamed");
  protobuf_c_message_free_unpacked(&list->base, NULL);
  up.dim = 0;
  cr_expect_eq(shopgpu_click_upload_model(c, &up, NULL, 1000, &st), GRPC_STATUS_INVALID_ARGUMENT);
  shopgpu_client_close(c);
  stop_server_checked();
}

/* ---- the streaming scorer ---- */

#define N_PAIRS 10007

typedef struct stream_pairs {
  const test_model *m;
  uint32_t u[N_PAIRS], i[N_PAIRS]; /* model rows of each pair */
  size_t n, fed, got, chunks, stop_after, bad_at;
  float scores[N_PAIRS];
  uint32_t version;
} stream_pairs;

static long feed(void *arg, uint64_t *users, uint64_t *items, size_t cap) {
  stream_pairs *p = arg;
  size_t n = 0;
  for (; n < cap && p->fed < p->n; n++, p->fed++) {
    users[n] = p->m->uids[p->u[p->fed]];
    items[n] = p->fed == p->bad_at ? 999999 : p->m->iids[p->i[p->fed]];
  }
  cr_assert_leq(p->fed - p->got, 3 * 333, "at most window chunks in flight");
  return (long)n;
}

static int take(void *arg, const uint64_t *users, const uint64_t *items, const float *scores,
                size_t n, uint32_t version) {
  stream_pairs *p = arg;
  for (size_t k = 0; k < n; k++, p->got++) {
    cr_assert_eq(users[k], p->m->uids[p->u[p->got]], "pair %zu: user in order", p->got);
    cr_assert_eq(items[k], p->m->iids[p->i[p->got]], "pair %zu: item in order", p->got);
    p->scores[p->got] = scores[k];
  }
  p->version = version;
  return ++p->chunks == p->stop_after;
}

static int run_stream(shopgpu_client *c, stream_pairs *p, const char *model, shopgpu_status *st) {
  p->fed = p->got = p->chunks = 0;
  shopgpu_score_stream s = {.model = model,
                            .chunk_pairs = 333,
                            .window = 3,
                            .next_pairs = feed,
                            .on_scores = take,
                            .arg = p};
  return shopgpu_click_score_stream(c, &s, 20000, st);
}

Test(client_click, score_stream_keeps_order_over_many_chunks_and_names_a_bad_chunk) {
  start_server(CPU);
  test_model m;
  make_model(&m, 40, 50, 8, 0);
  shopgpu_client *c = open_client();
  upload_model(c, "s", &m, 0);
  static stream_pairs p;
  p = (stream_pairs){.m = &m, .n = N_PAIRS, .bad_at = SIZE_MAX};
  for (size_t k = 0; k < p.n; k++)
    p.u[k] = rng_next() % m.nu, p.i[k] = rng_next() % m.ni;
  shopgpu_status st;
  int rc = run_stream(c, &p, "s", &st);
  cr_assert_eq(rc, 0, "stream: %s", st.message);
  cr_expect_eq(p.got, N_PAIRS);
  cr_expect_eq(p.chunks, (N_PAIRS + 332) / 333, "chunks of at most 333 pairs");
  cr_expect_eq(p.version, 1);
  double worst = 0;
  for (size_t k = 0; k < p.n; k++)
    worst = fmax(worst, fabs(p.scores[k] - ref_score(&m, p.u[k], p.i[k], 1)));
  cr_expect_lt(worst, 1e-5, "worst error %g", worst);
  p.bad_at = 2 * 333 + 5; /* in chunk 2 */
  rc = run_stream(c, &p, "s", &st);
  cr_expect_eq(rc, GRPC_STATUS_INVALID_ARGUMENT, "%s", st.message);
  cr_expect_neq(strstr(st.message, "chunk 2 (pairs 666..998 of the stream): item_ids[5]: unknown "
                                   "id 999999"),
                NULL, "%s", st.message);
  p.bad_at = SIZE_MAX;
  p.stop_after = 2;
  cr_expect_eq(run_stream(c, &p, "s", &st), GRPC_STATUS_CANCELLED, "%s", st.message);
  p.stop_after = 0;
  cr_expect_eq(run_stream(c, &p, "missing", &st), GRPC_STATUS_NOT_FOUND, "%s", st.message);
  p.n = 0;
  cr_expect_eq(run_stream(c, &p, "s", &st), 0, "an empty stream: %s", st.message);
  cr_expect_eq(p.chunks, 0);
  shopgpu_client_close(c);
  stop_server_checked();
}

/* ---- recommendations, training, recommend-all ---- */

Test(client_click, recommend_matches_a_full_sort) {
  start_server(CPU);
  test_model m;
  make_model(&m, 9, 13, 6, 0);
  shopgpu_client *c = open_client();
  upload_model(c, "r", &m, 0);
  Shopgpu__V1__RecommendResponse *resp = NULL;
  shopgpu_status st;
  int rc = shopgpu_click_recommend(c, "r", 0, m.uids, 3, 5, 0, &resp, 5000, &st);
  cr_assert_eq(rc, 0, "recommend: %s", st.message);
  cr_assert_eq(resp->n_users, 3);
  for (uint32_t u = 0; u < 3; u++) {
    uint32_t want[5];
    ref_topk(&m, u, 5, want);
    const Shopgpu__V1__UserRecommendations *got = resp->users[u];
    cr_expect_eq(got->user_id, m.uids[u]);
    cr_assert_eq(got->n_item_ids, 5);
    for (int s = 0; s < 5; s++)
      cr_expect_eq(got->item_ids[s], m.iids[want[s]], "user %u rank %d", u, s + 1);
  }
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  rc = shopgpu_click_recommend(c, "r", 0, m.uids, 1, 2000, 0, &resp, 5000, &st);
  cr_expect_eq(rc, GRPC_STATUS_INVALID_ARGUMENT, "k 2000: %s", st.message);
  cr_expect_null(resp);
  shopgpu_client_close(c);
  stop_server_checked();
}

typedef struct lists {
  uint64_t users[64];
  uint64_t first_items[64][3];
  size_t n;
} lists;

static int keep_list(const Shopgpu__V1__UserRecommendations *u, void *arg) {
  lists *l = arg;
  cr_assert_lt(l->n, 64);
  l->users[l->n] = u->user_id;
  for (size_t s = 0; s < 3 && s < u->n_item_ids; s++)
    l->first_items[l->n][s] = u->item_ids[s];
  l->n++;
  return 0;
}

/* Trains "parity" (users like items of their parity); returns the job's final state. */
static Shopgpu__V1__Job *train_parity(shopgpu_client *c, uint64_t *users, uint64_t *items) {
  for (int k = 0; k < 600; k++) {
    users[k] = (uint64_t)(k / 12);
    items[k] = 2 * (rng_next() % 20) + (uint64_t)(k / 12) % 2;
  }
  Shopgpu__V1__TrainConfig cfg = SHOPGPU__V1__TRAIN_CONFIG__INIT;
  cfg.dim = 8, cfg.epochs = 8, cfg.seed = 3, cfg.learning_rate = 0.05f;
  Shopgpu__V1__TrainModelRequest req = SHOPGPU__V1__TRAIN_MODEL_REQUEST__INIT;
  req.name = "parity";
  req.user_ids = users, req.item_ids = items, req.n_user_ids = req.n_item_ids = 600;
  req.config = &cfg;
  char id[SHOPGPU_JOB_ID_SIZE];
  shopgpu_status st;
  int rc = shopgpu_click_train(c, &req, id, 5000, &st);
  cr_assert_eq(rc, 0, "train: %s", st.message);
  cr_expect_eq(strlen(id), 32);
  return wait_job(c, id);
}

static int seen(const uint64_t *users, const uint64_t *items, uint64_t u, uint64_t i) {
  for (int k = 0; k < 600; k++)
    if (users[k] == u && items[k] == i) return 1;
  return 0;
}

Test(client_click, train_then_recommend_all_lists_equal_recommend_then_delete) {
  start_server(CPU);
  shopgpu_client *c = open_client();
  static uint64_t users[600], items[600];
  Shopgpu__V1__Job *job = train_parity(c, users, items);
  cr_assert_eq(job->state, SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "%s", job->error_message);
  cr_assert_eq(job->result_case, SHOPGPU__V1__JOB__RESULT_TRAIN_MODEL);
  cr_expect_eq(job->train_model->model->n_users, 50);
  cr_expect_gt(job->train_model->model->valid_auc, 0.8, "a learnable pattern");
  protobuf_c_message_free_unpacked(&job->base, NULL);
  Shopgpu__V1__RecommendResponse *resp = NULL;
  shopgpu_status st;
  uint64_t u0 = 0;
  cr_assert_eq(shopgpu_click_recommend(c, "parity", 0, &u0, 1, 5, 0, &resp, 5000, &st), 0);
  for (size_t s = 0; s < resp->users[0]->n_item_ids; s++)
    cr_expect(!seen(users, items, 0, resp->users[0]->item_ids[s]), "no seen item");
  Shopgpu__V1__RecommendAllRequest all = SHOPGPU__V1__RECOMMEND_ALL_REQUEST__INIT;
  all.model = "parity", all.k = 5;
  char id[SHOPGPU_JOB_ID_SIZE];
  cr_assert_eq(shopgpu_click_recommend_all(c, &all, id, 5000, &st), 0, "%s", st.message);
  job = wait_job(c, id);
  cr_assert_eq(job->state, SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "%s", job->error_message);
  cr_expect_eq(job->recommend_all->users, 50);
  protobuf_c_message_free_unpacked(&job->base, NULL);
  static lists l;
  cr_assert_eq(shopgpu_click_read_recommendations(c, id, 0, 0, keep_list, &l, 5000, &st), 0);
  cr_expect_eq(l.n, 50);
  cr_expect_eq(l.users[0], 0);
  for (int s = 0; s < 3; s++)
    cr_expect_eq(l.first_items[0][s], resp->users[0]->item_ids[s]);
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  l.n = 0;
  cr_assert_eq(shopgpu_click_read_recommendations(c, id, 10, 3, keep_list, &l, 5000, &st), 0);
  cr_expect(l.n == 3 && l.users[0] == 10, "offset 10 limit 3: %zu from %llu", l.n,
            (unsigned long long)l.users[0]);
  uint32_t deleted = 0;
  cr_assert_eq(shopgpu_click_delete_model(c, "parity", 0, &deleted, 5000, &st), 0, "%s",
               st.message);
  cr_expect_eq(deleted, 1);
  cr_expect_eq(shopgpu_click_delete_model(c, "parity", 0, &deleted, 5000, &st),
               GRPC_STATUS_NOT_FOUND);
  shopgpu_client_close(c);
  stop_server_checked();
}

/* ---- the generic bidi call ---- */

#define ECHO_N 24
#define ECHO_BYTES (1 << 20)

typedef struct echo_run {
  Shopgpu__V1__EchoRequest req;
  uint8_t *payload;
  size_t sent, got, window, most_ahead;
} echo_run;

static int next_echo(void *arg, const ProtobufCMessage **msg) {
  echo_run *e = arg;
  if (e->sent == ECHO_N) return 0;
  memset(e->payload, (int)e->sent, ECHO_BYTES);
  shopgpu__v1__echo_request__init(&e->req);
  e->req.payload.data = e->payload;
  e->req.payload.len = ECHO_BYTES;
  e->sent++;
  if (e->sent - e->got > e->most_ahead) e->most_ahead = e->sent - e->got;
  *msg = &e->req.base;
  return 1;
}

static int on_echo(const ProtobufCMessage *msg, void *arg) {
  echo_run *e = arg;
  const Shopgpu__V1__EchoResponse *r = (const void *)msg;
  cr_assert_eq(r->payload.len, ECHO_BYTES);
  cr_assert(r->payload.data[0] == (uint8_t)e->got &&
                r->payload.data[ECHO_BYTES - 1] == (uint8_t)e->got,
            "echo %zu in order", e->got);
  e->got++;
  return 0;
}

Test(client_click, bidi_call_moves_large_messages_both_ways_within_its_window) {
  start_server(NULL);
  shopgpu_client *c = open_client();
  for (size_t window = 0; window <= 1; window++) {
    echo_run e = {.payload = malloc(ECHO_BYTES)};
    shopgpu_bidi io = {next_echo, &e, &shopgpu__v1__echo_response__descriptor, on_echo, &e, window};
    shopgpu_status st;
    int rc = shopgpu_call_bidi(c, "/shopgpu.v1.Admin/EchoBidi", &io, 30000, &st);
    free(e.payload);
    cr_assert_eq(rc, 0, "window %zu: %s", window, st.message);
    cr_expect_eq(e.got, ECHO_N);
    if (window) cr_expect_eq(e.most_ahead, 1, "window 1: one message ahead at most");
  }
  shopgpu_status st;
  cr_expect_eq(shopgpu_call_bidi(c, "/shopgpu.v1.Admin/EchoBidi", NULL, 1000, &st),
               GRPC_STATUS_INVALID_ARGUMENT);
  shopgpu_client_close(c);
  stop_server_checked();
}
