/* shopgpu_rec_lookup and `shopgpu rec-get` against a real redis-server that a real shopgpu-server
 * published to (RecommendAll): a hit decodes to the double-reference top k and to Recommend's
 * list; a corrupted blob (SET here through hiredis), a missing key and an unknown user are
 * misses; a dead Redis is an error; AUTH through --redis-password-file; --redis-db. */
#include <hiredis/hiredis.h>

#include "cli_run.h"
#include "click_test.h"
#include "redis_fixture.h"
#include "shopgpu_rec.h"

static sg_test_redis redis;

static void cleanup_rec(void) {
  if (redis.pid > 0) sg_test_redis_stop(&redis, SIGKILL);
  cleanup_cli();
}

TestSuite(rec, .init = seed_rng, .fini = cleanup_rec, .timeout = 120);

/* Starts redis (extra: its arguments) and a server publishing to it (server_extra appended). */
static void start_both(const char *const *extra, const char *password_file) {
  cr_assert_eq(sg_test_redis_start(&redis, 0, extra), 0, "redis-server did not start");
  const char *flags[] = {
      "--backend",   "cpu", "--redis", redis.addr, password_file ? "--redis-password-file" : NULL,
      password_file, NULL};
  start_server(flags);
}

/* Uploads m as "shop" and publishes every user's top k; returns after the job succeeded. */
static void publish(const test_model *m, uint32_t k) {
  shopgpu_client *c = open_client();
  upload_model(c, "shop", m, 0);
  Shopgpu__V1__RecommendAllRequest req = SHOPGPU__V1__RECOMMEND_ALL_REQUEST__INIT;
  req.model = "shop";
  req.k = k;
  char id[SHOPGPU_JOB_ID_SIZE];
  shopgpu_status st;
  cr_assert_eq(shopgpu_click_recommend_all(c, &req, id, 5000, &st), 0, "%s", st.message);
  Shopgpu__V1__Job *job = wait_job(c, id);
  cr_assert_eq(job->state, SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED, "%s", job->error_message);
  cr_assert_eq(job->recommend_all->published, m->nu, "every list published");
  protobuf_c_message_free_unpacked(&job->base, NULL);
  shopgpu_client_close(c);
}

static redisContext *connect_redis(void) {
  redisContext *ctx = redisConnect("127.0.0.1", redis.port);
  cr_assert(ctx && !ctx->err, "connect to redis: %s", ctx ? ctx->errstr : "no memory");
  return ctx;
}

/* Recommend's list for user row u of m (the caller frees). */
static Shopgpu__V1__RecommendResponse *recommend(const test_model *m, uint32_t u, uint32_t k) {
  shopgpu_client *c = open_client();
  Shopgpu__V1__RecommendResponse *resp = NULL;
  shopgpu_status st;
  cr_assert_eq(shopgpu_click_recommend(c, "shop", 0, &m->uids[u], 1, k, 0, &resp, 5000, &st), 0,
               "%s", st.message);
  shopgpu_client_close(c);
  return resp;
}

Test(rec, lookup_hit_equals_recommend_and_bad_or_missing_keys_are_misses) {
  start_both(NULL, NULL);
  test_model m;
  make_model(&m, 12, 20, 5, 0);
  publish(&m, 5);
  redisContext *ctx = connect_redis();
  uint32_t items[8];
  float scores[8];
  shopgpu_rec rec = {.items = items, .scores = scores, .capacity = 8};
  for (uint32_t u = 0; u < m.nu; u++) {
    cr_assert_eq(shopgpu_rec_lookup(ctx, "shop", m.uids[u], &rec), SHOPGPU_REC_FOUND, "user %u: %s",
                 u, rec.reason);
    cr_assert(rec.k == 5 && rec.total == 5 && rec.model_version == 1, "user %u: k %u", u, rec.k);
    cr_expect_gt(rec.published_at_ms, 1600000000000ULL, "a publish time in ms");
    uint32_t want[5];
    ref_topk(&m, u, 5, want);
    Shopgpu__V1__RecommendResponse *resp = recommend(&m, u, 5);
    for (uint32_t s = 0; s < 5; s++) {
      cr_expect_eq(items[s], m.iids[want[s]], "user %u rank %u: the reference", u, s + 1);
      cr_expect_eq(items[s], resp->users[0]->item_ids[s], "user %u rank %u: Recommend", u, s + 1);
      cr_expect_lt(fabs(scores[s] - ref_score(&m, u, want[s], 1)), 1e-5);
    }
    protobuf_c_message_free_unpacked(&resp->base, NULL);
  }
  char key[64];
  snprintf(key, sizeof key, "shopgpu:rec:shop:%llu", (unsigned long long)m.uids[3]);
  redisReply *r = redisCommand(ctx, "SET %s %b", key, "garbage!garbage!garbage!garbage!", 32);
  cr_assert(r && r->type == REDIS_REPLY_STATUS);
  freeReplyObject(r);
  cr_expect_eq(shopgpu_rec_lookup(ctx, "shop", m.uids[3], &rec), SHOPGPU_REC_MISS);
  cr_expect_neq(strstr(rec.reason, "magic"), NULL, "a corrupted blob: %s", rec.reason);
  cr_expect_eq(rec.k, 0);
  freeReplyObject(redisCommand(ctx, "DEL %s", key));
  cr_expect_eq(shopgpu_rec_lookup(ctx, "shop", m.uids[3], &rec), SHOPGPU_REC_MISS);
  cr_expect_neq(strstr(rec.reason, "no key shopgpu:rec:shop:"), NULL, "%s", rec.reason);
  cr_expect_eq(shopgpu_rec_lookup(ctx, "other", m.uids[0], &rec), SHOPGPU_REC_MISS);
  cr_expect_eq(shopgpu_rec_lookup(ctx, "", m.uids[0], &rec), SHOPGPU_REC_ERROR, "an empty model");
  freeReplyObject(redisCommand(ctx, "HSET %s a b", key));
  cr_expect_eq(shopgpu_rec_lookup(ctx, "shop", m.uids[3], &rec), SHOPGPU_REC_MISS, "a hash");
  stop_server_checked();
  sg_test_redis_stop(&redis, SIGKILL);
  cr_expect_eq(shopgpu_rec_lookup(ctx, "shop", m.uids[0], &rec), SHOPGPU_REC_ERROR,
               "redis is gone");
  cr_expect_neq(ctx->err, 0);
  redisFree(ctx);
}

Test(rec, rec_get_prints_the_published_list_and_exits_1_on_a_miss) {
  start_both(NULL, NULL);
  test_model m;
  make_model(&m, 5, 9, 3, 1);
  publish(&m, 4);
  cli_run r;
  run_cli(&r, ARGS("rec-get", "--redis", redis.addr, "--model", "shop", "--user", "2", "--json"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  uint32_t want[4];
  ref_topk(&m, 2, 4, want);
  char prefix[96];
  snprintf(prefix, sizeof prefix, "{\"user\":2,\"items\":[{\"item\":%u,\"score\":", want[0]);
  cr_expect_eq(strncmp(r.out, prefix, strlen(prefix)), 0, "%s\nwant %s...", r.out, prefix);
  char args[4][16];
  for (int s = 0; s < 4; s++)
    snprintf(args[s], sizeof args[s], "%u", want[s]);
  const char *script = "import json,sys\n"
                       "d=json.load(open(sys.argv[1]))\n"
                       "assert list(d)==['user','items','model_version','published_at_ms'], d\n"
                       "assert [x['item'] for x in d['items']]==[int(a) for a in sys.argv[2:]], d\n"
                       "assert d['model_version']==1 and d['published_at_ms']>0, d\n";
  cr_expect_eq(
      sg_test_run_python("-c", ARGS(script, r.out_path, args[0], args[1], args[2], args[3])), 0,
      "%s", r.out);
  run_cli(&r, ARGS("rec-get", "--redis", redis.addr, "--model", "shop", "--user", "2"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(strncmp(r.out, "user 2, model shop v1, published 20", 35), 0, "%s", r.out);
  cr_expect_neq(strstr(r.out, ", 4 items\nRANK  ITEM"), NULL, "%s", r.out);
  run_cli(&r, ARGS("rec-get", "--redis", redis.addr, "--model", "shop", "--user", "424242"), NULL);
  cr_expect_eq(r.status, 1);
  char want_err[160];
  snprintf(want_err, sizeof want_err,
           "shopgpu: NOT_FOUND: no list for user 424242 of model shop in redis %s: no key "
           "shopgpu:rec:shop:424242\n",
           redis.addr);
  cr_expect_str_eq(r.err, want_err);
  run_cli(&r, ARGS("rec-get", "--redis", "nowhere", "--model", "shop", "--user", "1"), NULL);
  cr_expect_eq(r.status, 2, "a bad address is a usage error");
  char dead[32];
  snprintf(dead, sizeof dead, "127.0.0.1:%d", dead_port());
  run_cli(&r, ARGS("rec-get", "--redis", dead, "--model", "shop", "--user", "1"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_neq(strstr(r.err, "shopgpu: UNAVAILABLE: redis 127.0.0.1:"), NULL, "%s", r.err);
  stop_server_checked();
}

Test(rec, rec_get_authenticates_with_the_password_file) {
  make_aux_dir();
  char pw[128];
  write_aux_file("redis.pw", "s3cret\n", pw, sizeof pw);
  start_both(ARGS("--requirepass", "s3cret"), pw);
  test_model m;
  make_model(&m, 3, 5, 2, 1);
  publish(&m, 2);
  cli_run r;
  run_cli(&r,
          ARGS("rec-get", "--redis", redis.addr, "--redis-password-file", pw, "--model", "shop",
               "--user", "1"),
          NULL);
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  run_cli(&r, ARGS("rec-get", "--redis", redis.addr, "--model", "shop", "--user", "1"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_neq(strstr(r.err, "NOAUTH"), NULL, "%s", r.err);
  stop_server_checked();
}

Test(rec, rec_get_reads_the_database_the_server_publishes_to) {
  make_aux_dir();
  cr_assert_eq(sg_test_redis_start(&redis, 0, NULL), 0, "redis-server did not start");
  start_server(ARGS("--backend", "cpu", "--redis", redis.addr, "--redis-db", "2"));
  test_model m;
  make_model(&m, 3, 5, 2, 1);
  publish(&m, 2);
  cli_run r;
  run_cli(&r, ARGS("rec-get", "--redis", redis.addr, "--model", "shop", "--user", "1"), NULL);
  cr_expect_eq(r.status, 1, "database 0 has no list: %s", r.out);
  run_cli(
      &r,
      ARGS("rec-get", "--redis", redis.addr, "--redis-db", "2", "--model", "shop", "--user", "1"),
      NULL);
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  stop_server_checked();
}
