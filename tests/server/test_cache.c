/* Hot recommendations in a real redis-server the test starts (label redis): publishing,
 * cache-aside, corrupted blobs, TTLs, Redis down at start, coming back, hung and killed, a
 * password. */
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "pyclient.h"
#include "redis_fixture.h"
#include "server_fixture.h"

TestSuite(cache, .timeout = 180);

/* Runs scenario with the server on redis (and extra flags); scenario args after the server's. */
static void with_redis(const char *scenario, const sg_test_redis *r, const char *const *more,
                       const char *const *args) {
  const char *flags[16] = {"--redis",     r->addr,       "--metrics-listen",
                           "127.0.0.1:0", "--cache-ttl", "600"};
  int n = 6;
  for (int i = 0; more && more[i]; i++)
    flags[n++] = more[i];
  flags[n] = NULL;
  sg_test_scenario(scenario, flags, args);
}

Test(cache, recommend_all_publishes_every_list_with_ttls_and_hits_skip_the_backend) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  const char *args[] = {r.addr, "600", NULL};
  with_redis("redis_publish", &r, NULL, args);
  sg_test_redis_stop(&r, SIGTERM);
}

Test(cache, an_idle_server_notices_redis_going_away) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)r.pid);
  const char *args[] = {pid, NULL};
  with_redis("redis_gone_idle", &r, NULL, args); /* it kills Redis */
  sg_test_redis_stop(&r, SIGKILL);
}

Test(cache, a_miss_writes_back_and_a_corrupted_blob_is_a_miss) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  const char *args[] = {r.addr, NULL};
  with_redis("redis_cache_aside", &r, NULL, args);
  sg_test_redis_stop(&r, SIGTERM);
}

Test(cache, password_and_database_index) {
  char dir[] = "/tmp/shopgpu-redis-XXXXXX", pw[64];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(pw, sizeof pw, "%s/pw", dir);
  FILE *f = fopen(pw, "w");
  fputs("s3cret\n", f);
  fclose(f);
  sg_test_redis r;
  const char *extra[] = {"--requirepass", "s3cret", NULL};
  cr_assert_eq(sg_test_redis_start(&r, 0, extra), 0);
  const char *more[] = {"--redis-password-file", pw, "--redis-db", "3", NULL};
  const char *args[] = {r.addr, "s3cret", "3", NULL};
  with_redis("redis_auth", &r, more, args);
  sg_test_redis_stop(&r, SIGTERM);
  remove(pw);
  remove(dir);
}

Test(cache, redis_down_at_start_then_back_without_a_restart) {
  int port = sg_test_free_port();
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
  const char *flags[] = {"--redis", addr, "--metrics-listen", "127.0.0.1:0", NULL};
  sg_test_server s;
  cr_assert_eq(sg_test_server_start(&s, flags), 0, "the server starts without Redis");
  char portbuf[16];
  snprintf(portbuf, sizeof portbuf, "%d", port);
  const char *down[] = {portbuf, NULL};
  cr_expect_eq(sg_test_pyclient(&s, "redis_down", down), 0);
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, port, NULL), 0);
  const char *back[] = {addr, NULL};
  cr_expect_eq(sg_test_pyclient(&s, "redis_back", back), 0);
  kill(r.pid, SIGSTOP); /* hung: connections are accepted, nothing is answered */
  cr_expect_eq(sg_test_pyclient(&s, "redis_hung", NULL), 0);
  kill(r.pid, SIGCONT);
  sg_test_redis_stop(&r, SIGKILL); /* a crash while the server runs: it must not care */
  const char *again[] = {portbuf, NULL};
  cr_expect_eq(sg_test_pyclient(&s, "redis_down_again", again), 0);
  cr_expect_eq(sg_test_server_stop(&s, SIGTERM, 20), 0);
  sg_test_server_cleanup(&s);
}

/* Runs scenario against a server with one CPU worker publishing to a fresh Redis (args: its
 * address and pid); hang: SIGSTOP it first (else the scenario does). */
static void with_one_worker(const char *scenario, int hang) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  const char *flags[] = {"--redis",       r.addr,      "--metrics-listen",
                         "127.0.0.1:0",   "--backend", "cpu",
                         "--cpu-workers", "1",         NULL};
  sg_test_server s;
  cr_assert_eq(sg_test_server_start(&s, flags), 0);
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)r.pid);
  const char *args[] = {r.addr, pid, NULL};
  if (hang) kill(r.pid, SIGSTOP);
  cr_expect_eq(sg_test_pyclient(&s, scenario, args), 0);
  kill(r.pid, SIGCONT); /* also in case a scenario died between its stop and its continue */
  cr_expect_eq(sg_test_server_stop(&s, SIGTERM, 20), 0);
  sg_test_server_cleanup(&s);
  sg_test_redis_stop(&r, SIGTERM);
}

/* A RecommendAll publishing into a hung Redis holds its worker a step at a time, not for the 5 s
 * of retries: with one worker, Recommend calls still answer. */
Test(cache, a_stalled_publish_leaves_the_worker_to_interactive_calls) {
  with_one_worker("redis_publish_stalls", 1);
}

/* The same hang, over within 1 s: the job resends and succeeds. */
Test(cache, a_publish_resumes_when_redis_answers_again) {
  with_one_worker("redis_publish_resumes", 0);
}

/* ---- the publisher itself, several batches (two in flight at a time) ---- */

static redisContext *redis_at(const sg_test_redis *r) {
  redisContext *ctx = redisConnect("127.0.0.1", r->port);
  cr_assert(ctx && !ctx->err, "connect to %s", r->addr);
  return ctx;
}

static long long redis_int(redisContext *ctx, const char *cmd) {
  redisReply *rep = redisCommand(ctx, cmd);
  cr_assert(rep && rep->type == REDIS_REPLY_INTEGER, "%s", cmd);
  long long v = rep->integer;
  freeReplyObject(rep);
  return v;
}

/* Every user's blob is there, of k entries, for model version 7, with the first item = user. */
static void expect_published(redisContext *ctx, long users, uint32_t k) {
  cr_expect_eq(redis_int(ctx, "DBSIZE"), users + 1, "every list and the meta hash");
  for (long u = 0; u < users; u += 97) {
    redisReply *rep = redisCommand(ctx, "GET shopgpu:rec:pub:%ld", u);
    cr_assert(rep && rep->type == REDIS_REPLY_STRING, "user %ld published", u);
    cr_expect_eq(rep->len, (size_t)(24 + 8 * k), "user %ld: blob of %u entries", u, k);
    uint32_t version, first;
    memcpy(&version, rep->str + 8, 4);
    memcpy(&first, rep->str + 24, 4);
    cr_expect(version == 7 && first == (uint32_t)u, "user %ld: version %u, item %u", u, version,
              first);
    freeReplyObject(rep);
  }
  redisReply *rep = redisCommand(ctx, "HGET shopgpu:rec:pub:meta users");
  cr_assert(rep && rep->type == REDIS_REPLY_STRING);
  cr_expect_eq(atol(rep->str), users, "meta users %s", rep->str);
  freeReplyObject(rep);
}

/* Publishes users 0..users-1 (k = 3, first item = the user); after kill_after of them, every
 * other client of Redis (the publisher's connection) is killed. */
static void publish_users(const sg_test_redis *r, long users, long kill_after) {
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", r->port);
  sg_cache_config cfg = {
      .addr = addr, .ttl_s = 600, .connect_timeout_ms = 1000, .command_timeout_ms = 2000};
  sg_err e = {0};
  signal(SIGPIPE, SIG_IGN); /* as the server does: a write to the killed connection is EPIPE */
  sg_cache *c = sg_cache_open(&cfg, &e);
  cr_assert_not_null(c, "%s", e.msg);
  sg_cache_publisher *p = sg_cache_publish_begin(c, "pub", 7, 3, &e);
  cr_assert_not_null(p, "%s", e.msg);
  redisContext *killer = redis_at(r);
  int stalls = 0;
  for (long u = 0; u < users; u++) {
    uint32_t items[3] = {(uint32_t)u, 1, 2};
    float scores[3] = {0.9f, 0.5f, 0.1f};
    for (; sg_cache_publish_stalled(p); stalls++) /* as the RecommendAll job does between steps */
      cr_assert_eq(sg_cache_publish_resume(p, 20, &e), SG_OK, "%s", e.msg);
    cr_assert_eq(sg_cache_publish_add(p, (uint64_t)u, items, scores, 3, &e), SG_OK, "%s", e.msg);
    if (u + 1 == kill_after)
      cr_assert_geq(redis_int(killer, "CLIENT KILL TYPE normal SKIPME yes"), 1,
                    "the publisher's connection was killed");
  }
  cr_assert_eq(sg_cache_publish_end(p, 1, &e), SG_OK, "%s", e.msg);
  cr_expect_eq(stalls > 0, kill_after > 0, "a killed connection stalls the publisher (%d)", stalls);
  cr_expect_eq(atomic_load(&sg_cache_get_stats(c)->published), (uint64_t)users);
  expect_published(killer, users, 3);
  redisFree(killer);
  sg_cache_close(c);
}

Test(cache, the_publisher_sends_batches_back_to_back_and_confirms_every_one) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  publish_users(&r, 2500, -1); /* 1000, 1000, then 500 at the end */
  sg_test_redis_stop(&r, SIGTERM);
}

Test(cache, the_publisher_resends_the_batches_in_flight_when_its_connection_dies) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  publish_users(&r, 3500, 1500); /* the first batch sent, the second half-filled */
  sg_test_redis_stop(&r, SIGTERM);
}

/* ---- error replies and restarts ---- */

static sg_cache *cache_on(const sg_test_redis *r) {
  static char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", r->port);
  sg_cache_config cfg = {
      .addr = addr, .ttl_s = 600, .connect_timeout_ms = 1000, .command_timeout_ms = 2000};
  sg_err e = {0};
  signal(SIGPIPE, SIG_IGN);
  sg_cache *c = sg_cache_open(&cfg, &e);
  cr_assert_not_null(c, "%s", e.msg);
  return c;
}

static void redis_do(redisContext *ctx, const char *cmd) {
  redisReply *rep = redisCommand(ctx, cmd);
  cr_assert(rep && rep->type != REDIS_REPLY_ERROR, "%s: %s", cmd, rep ? rep->str : ctx->errstr);
  freeReplyObject(rep);
}

/* Adds users from..to-1 (k = 3); returns the first error's status (SG_OK when none), resuming a
 * stalled publisher as the RecommendAll job does. */
static sg_status add_users(sg_cache_publisher *p, long from, long to, sg_err *e) {
  for (long u = from; u < to; u++) {
    uint32_t items[3] = {(uint32_t)u, 1, 2};
    float scores[3] = {0.9f, 0.5f, 0.1f};
    while (sg_cache_publish_stalled(p))
      if (sg_cache_publish_resume(p, 20, e) != SG_OK) return e->code;
    if (sg_cache_publish_add(p, (uint64_t)u, items, scores, 3, e) != SG_OK) return e->code;
  }
  return SG_OK;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Redis out of memory (maxmemory, noeviction) answers every SET with an error that retrying
 * will not cure: the publish fails at once with Redis's own words (it retried 5 s and then said
 * only "publishing failed", while lookups were backed off as if Redis were down). */
Test(cache, an_error_reply_fails_a_publish_at_once_with_its_text) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  redisContext *admin = redis_at(&r);
  redis_do(admin, "CONFIG SET maxmemory-policy noeviction");
  redis_do(admin, "CONFIG SET maxmemory 1");
  sg_cache *c = cache_on(&r);
  sg_err e = {0};
  sg_cache_publisher *p = sg_cache_publish_begin(c, "pub", 7, 3, &e);
  cr_assert_not_null(p, "%s", e.msg);
  double t0 = mono_s();
  sg_status st = add_users(p, 0, 2500, &e);
  if (st == SG_OK) st = sg_cache_publish_end(p, 1, &e), p = NULL;
  double took = mono_s() - t0;
  cr_expect_eq(st, SG_UNAVAILABLE, "%s", e.msg);
  cr_expect(strstr(e.msg, "refused a SET: OOM"), "%s", e.msg);
  cr_expect_lt(took, 2.0, "failed at once, not after retries: %.2f s", took);
  if (p) sg_cache_publish_end(p, 0, NULL);
  /* the connection was fine all along: lookups still reach Redis (a key of another type is a
   * bad blob and a miss, and the next lookup is answered on the same pool) */
  redis_do(admin, "CONFIG SET maxmemory 0");
  redis_do(admin, "RPUSH shopgpu:rec:pub:5 x");
  uint32_t items[3], n;
  float scores[3];
  int hit = 1;
  uint64_t bad = atomic_load(&sg_cache_get_stats(c)->bad_blobs);
  sg_cache_lookup(c, "pub", 7, 5, 3, items, scores, &n, &hit, NULL, NULL);
  cr_expect(!hit && n == 0, "a list under the key is a miss");
  cr_expect_eq(atomic_load(&sg_cache_get_stats(c)->bad_blobs), bad + 1, "counted as a bad blob");
  cr_expect(sg_cache_connected(c), "WRONGTYPE is an answer, not a lost connection");
  redisFree(admin);
  sg_cache_close(c);
  sg_test_redis_stop(&r, SIGTERM);
}

/* The meta hash refused (a key of another type there): the publish fails with Redis's words,
 * and the connection, which answered, stays in use (it was dropped and backed off). */
Test(cache, a_refused_meta_hash_fails_the_publish_with_its_text) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  redisContext *admin = redis_at(&r);
  redis_do(admin, "RPUSH shopgpu:rec:pub:meta x");
  sg_cache *c = cache_on(&r);
  sg_err e = {0};
  sg_cache_publisher *p = sg_cache_publish_begin(c, "pub", 7, 3, &e);
  cr_assert_not_null(p, "%s", e.msg);
  cr_assert_eq(add_users(p, 0, 10, &e), SG_OK, "%s", e.msg);
  cr_expect_eq(sg_cache_publish_end(p, 1, &e), SG_UNAVAILABLE);
  cr_expect(strstr(e.msg, "refused the meta hash: WRONGTYPE"), "%s", e.msg);
  cr_expect(sg_cache_connected(c), "an error reply is not a lost connection");
  redisFree(admin);
  sg_cache_close(c);
  sg_test_redis_stop(&r, SIGTERM);
}

/* Redis restarted (no persistence) while a publish was under way: what it had confirmed is gone,
 * so the publish must fail, not report every list published. */
Test(cache, a_redis_restart_during_a_publish_fails_it) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  sg_cache *c = cache_on(&r);
  sg_err e = {0};
  sg_cache_publisher *p = sg_cache_publish_begin(c, "pub", 7, 3, &e);
  cr_assert_not_null(p, "%s", e.msg);
  cr_assert_eq(add_users(p, 0, 2500, &e), SG_OK, "%s", e.msg); /* two batches out */
  int port = r.port;
  sg_test_redis_stop(&r, SIGKILL);
  cr_assert_eq(sg_test_redis_start(&r, port, NULL), 0, "redis back on port %d", port);
  sg_status st = add_users(p, 2500, 4500, &e);
  if (st == SG_OK) st = sg_cache_publish_end(p, 1, &e), p = NULL;
  cr_expect_eq(st, SG_UNAVAILABLE, "%s", e.msg);
  cr_expect(strstr(e.msg, "restarted during the publish"), "%s", e.msg);
  if (p) sg_cache_publish_end(p, 0, NULL);
  sg_cache_close(c);
  sg_test_redis_stop(&r, SIGTERM);
}

/* A well-formed blob of the right version is still checked: a score that is no number, or an
 * item the caller does not know, make it a bad blob. */
static int below_100(const void *arg, uint32_t item) {
  (void)arg;
  return item < 100;
}

Test(cache, a_blob_with_a_nan_score_or_an_unknown_item_is_a_miss) {
  sg_test_redis r;
  cr_assert_eq(sg_test_redis_start(&r, 0, NULL), 0);
  redisContext *admin = redis_at(&r);
  sg_cache *c = cache_on(&r);
  uint8_t blob[24 + 8 * 2];
  uint32_t good[2] = {3, 4}, far[2] = {3, 4000};
  float ok[2] = {0.9f, 0.1f}, nan2[2] = {0.9f, NAN};
  const struct {
    const uint32_t *items;
    const float *scores;
    int hit;
  } cases[] = {{good, ok, 1}, {good, nan2, 0}, {far, ok, 0}};
  for (size_t i = 0; i < 3; i++) {
    size_t len = sg_rec_encode(blob, 7, 1, 0, cases[i].items, cases[i].scores, 2);
    redisReply *rep = redisCommand(admin, "SET shopgpu:rec:m:1 %b", blob, len);
    cr_assert(rep && rep->type == REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    uint32_t items[2], n;
    float scores[2];
    int hit = -1;
    sg_cache_lookup(c, "m", 7, 1, 2, items, scores, &n, &hit, below_100, NULL);
    cr_expect_eq(hit, cases[i].hit, "case %zu", i);
    cr_expect_eq(n, cases[i].hit ? 2u : 0u, "case %zu", i);
  }
  cr_expect_eq(atomic_load(&sg_cache_get_stats(c)->bad_blobs), 2);
  redisFree(admin);
  sg_cache_close(c);
  sg_test_redis_stop(&r, SIGTERM);
}
