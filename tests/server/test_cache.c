/* Hot recommendations in a real redis-server the test starts (label redis): publishing,
 * cache-aside, corrupted blobs, TTLs, Redis down at start and coming back, a password. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>

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
  sg_test_redis_stop(&r, SIGKILL); /* a crash while the server runs: it must not care */
  const char *again[] = {portbuf, NULL};
  cr_expect_eq(sg_test_pyclient(&s, "redis_down_again", again), 0);
  cr_expect_eq(sg_test_server_stop(&s, SIGTERM, 20), 0);
  sg_test_server_cleanup(&s);
}
