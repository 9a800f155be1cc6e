/* Hot recommendations in a real redis-server the test starts (label redis): publishing,
 * cache-aside, corrupted blobs, TTLs, Redis down at start, coming back, hung and killed, a
 * password. */
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
