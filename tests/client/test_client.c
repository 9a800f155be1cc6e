/* libshopgpu-client unary calls against a real shopgpu-server: server info, health, echo
 * (empty, binary, 1 MiB, over the receive limit), deadlines, bearer auth, TLS, a unix socket,
 * a dead address, option checks, and one client shared by several threads. */
#include <pthread.h>

#include "client_test.h"
#include "shopgpu_client.h"

TestSuite(client, .fini = cleanup_all, .timeout = 60);

static shopgpu_client *open_client(const char *target, const char *token) {
  shopgpu_client_options o = {.target = target, .token = token};
  shopgpu_status st;
  shopgpu_client *c = shopgpu_client_open(&o, &st);
  cr_assert_not_null(c, "open %s: %s", target, st.message);
  return c;
}

static void expect_echo(shopgpu_client *c, const void *data, size_t len) {
  Shopgpu__V1__EchoResponse *r = NULL;
  shopgpu_status st;
  int rc = shopgpu_echo(c, data, len, 0, &r, SHOPGPU_TIMEOUT_DEFAULT, &st);
  cr_assert_eq(rc, 0, "echo %zu bytes: %s: %s", len, shopgpu_status_code_name(rc), st.message);
  cr_assert_eq(st.code, 0);
  cr_assert_not_null(r);
  cr_assert_eq(r->payload.len, len, "echo of %zu bytes came back with %zu", len, r->payload.len);
  if (len) cr_assert_eq(memcmp(r->payload.data, data, len), 0, "payload differs");
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(client, server_info_fields_are_sane) {
  start_server(NULL);
  shopgpu_client *c = open_client(srv.addr, NULL);
  Shopgpu__V1__ServerInfo *info = NULL;
  shopgpu_status st;
  cr_assert_eq(shopgpu_server_info(c, &info, 5000, &st), 0, "%s", st.message);
  cr_assert_not_null(info);
  cr_expect_gt(strlen(info->version), 0, "empty version");
  cr_expect_gt(strlen(info->commit), 0, "empty commit");
  cr_assert_not_null(info->backend);
  cr_expect(strcmp(info->backend->name, "cpu") == 0 || strcmp(info->backend->name, "cuda") == 0,
            "backend %s", info->backend->name);
  cr_expect_str_eq(info->listen, srv.addr);
  cr_expect_geq(info->uptime_s, 0.0);
  cr_expect_lt(info->uptime_s, 60.0);
  cr_expect_gt(info->worker_threads, 0);
  cr_expect_gt(info->poller_threads, 0);
  cr_expect_str_eq(info->redis, "none");
  int found = 0;
  for (size_t i = 0; i < info->n_methods; i++)
    found += strcmp(info->methods[i]->method, "/shopgpu.v1.Admin/GetServerInfo") == 0;
  cr_expect_eq(found, 1, "GetServerInfo listed %d times", found);
  protobuf_c_message_free_unpacked(&info->base, NULL);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client, health_is_serving_and_unknown_service_is_not_found) {
  start_server(NULL);
  shopgpu_client *c = open_client(srv.addr, NULL);
  shopgpu_status st;
  int serving = -1;
  cr_assert_eq(shopgpu_health_check(c, "", &serving, 5000, &st), 0, "%s", st.message);
  cr_expect_eq(serving, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  serving = -1;
  cr_assert_eq(shopgpu_health_check(c, "shopgpu.v1.Admin", &serving, 5000, &st), 0);
  cr_expect_eq(serving, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  serving = -1;
  cr_expect_eq(shopgpu_health_check(c, "no.such.Service", &serving, 5000, &st), 5 /*NOT_FOUND*/);
  cr_expect_eq(st.code, 5);
  cr_expect_neq(strstr(st.message, "no.such.Service"), NULL, "message: %s", st.message);
  cr_expect_eq(serving, -1, "serving written on failure");
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client, echo_round_trips_empty_binary_and_one_mib_payloads) {
  start_server(NULL);
  shopgpu_client *c = open_client(srv.addr, NULL);
  expect_echo(c, NULL, 0);
  const unsigned char bin[] = {0, 1, 2, 0xff, 0x80, 0, '\n', '"'};
  expect_echo(c, bin, sizeof bin);
  size_t big = 1 << 20;
  unsigned char *data = malloc(big);
  cr_assert_not_null(data);
  unsigned seed = (unsigned)time(NULL);
  printf("echo seed %u\n", seed);
  for (size_t i = 0; i < big; i++)
    data[i] = (unsigned char)rand_r(&seed);
  expect_echo(c, data, big);
  free(data);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client, response_over_max_receive_bytes_is_resource_exhausted) {
  start_server(NULL);
  shopgpu_client_options o = {.target = srv.addr, .max_receive_bytes = 1000};
  shopgpu_client *c = shopgpu_client_open(&o, NULL);
  cr_assert_not_null(c);
  char payload[2000] = {0};
  Shopgpu__V1__EchoResponse *r = (void *)&o; /* must be reset to NULL */
  shopgpu_status st;
  cr_expect_eq(shopgpu_echo(c, payload, sizeof payload, 0, &r, 5000, &st), 8, "%s", st.message);
  cr_expect_null(r);
  expect_echo(c, payload, 500);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client, deadline_ends_a_slow_call_on_time) {
  start_server(NULL);
  shopgpu_client *c = open_client(srv.addr, NULL);
  shopgpu_status st;
  double t0 = now_s();
  int rc = shopgpu_echo(c, "x", 1, 2000, NULL, 200, &st);
  double dt = now_s() - t0;
  cr_expect_eq(rc, 4, "want DEADLINE_EXCEEDED, got %s: %s", shopgpu_status_code_name(rc),
               st.message);
  cr_expect_geq(dt, 0.15, "returned after %.3f s, before the deadline", dt);
  cr_expect_lt(dt, 1.0, "returned after %.3f s", dt);
  /* the client's own default applies when the call passes SHOPGPU_TIMEOUT_DEFAULT */
  shopgpu_client_options o = {.target = srv.addr, .timeout_ms = 300};
  shopgpu_client *c2 = shopgpu_client_open(&o, NULL);
  t0 = now_s();
  cr_expect_eq(shopgpu_echo(c2, "x", 1, 2000, NULL, SHOPGPU_TIMEOUT_DEFAULT, &st), 4);
  cr_expect_lt(now_s() - t0, 1.2);
  shopgpu_client_close(c2);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client, bearer_token_is_required_except_for_health) {
  make_aux_dir();
  char token_file[128];
  write_aux_file("token", "s3cret-token\n", token_file, sizeof token_file);
  const char *flags[] = {"--auth-token-file", token_file, NULL};
  start_server(flags);
  shopgpu_status st;
  shopgpu_client *anon = open_client(srv.addr, NULL);
  cr_expect_eq(shopgpu_server_info(anon, NULL, 5000, &st), 16, "no token: %s", st.message);
  cr_expect_eq(st.code, 16);
  int serving = 0;
  cr_expect_eq(shopgpu_health_check(anon, "", &serving, 5000, &st), 0, "health: %s", st.message);
  cr_expect_eq(serving, 1);
  shopgpu_client *wrong = open_client(srv.addr, "s3cret-tokeX");
  cr_expect_eq(shopgpu_echo(wrong, "a", 1, 0, NULL, 5000, &st), 16, "wrong token");
  shopgpu_client *right = open_client(srv.addr, "s3cret-token");
  cr_expect_eq(shopgpu_server_info(right, NULL, 5000, &st), 0, "right token: %s", st.message);
  expect_echo(right, "abc", 3);
  shopgpu_client_close(anon);
  shopgpu_client_close(wrong);
  shopgpu_client_close(right);
  stop_server_checked();
}

Test(client, tls_with_the_ca_and_a_server_name_override) {
  const char *dir = make_aux_dir();
  char cmd[512], key[128], crt[128];
  snprintf(key, sizeof key, "%s/server.key", dir);
  snprintf(crt, sizeof crt, "%s/server.crt", dir);
  snprintf(
      cmd, sizeof cmd,
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 -subj /CN=localhost"
      " -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' 2>/dev/null",
      key, crt);
  cr_assert_eq(system(cmd), 0, "openssl failed");
  const char *flags[] = {"--tls-cert", crt, "--tls-key", key, NULL};
  start_server_tls(flags, crt);
  shopgpu_status st;
  shopgpu_client_options o = {
      .target = srv.addr, .tls_ca_file = crt, .tls_server_name = "localhost"};
  shopgpu_client *tls = shopgpu_client_open(&o, &st);
  cr_assert_not_null(tls, "%s", st.message);
  expect_echo(tls, "over tls", 8);
  shopgpu_client *plain = open_client(srv.addr, NULL);
  cr_expect_eq(shopgpu_echo(plain, "x", 1, 0, NULL, 5000, &st), 14, "plaintext to a TLS port");
  o.tls_server_name = "not-this-host";
  shopgpu_client *wrong_name = shopgpu_client_open(&o, &st);
  cr_assert_not_null(wrong_name);
  cr_expect_eq(shopgpu_echo(wrong_name, "x", 1, 0, NULL, 5000, &st), 14, "name mismatch");
  shopgpu_client_close(wrong_name);
  shopgpu_client_close(plain);
  shopgpu_client_close(tls);
  stop_server_checked();
}

Test(client, unix_socket) {
  const char *dir = make_aux_dir();
  char listen[128];
  snprintf(listen, sizeof listen, "unix:%s/sock", dir);
  const char *flags[] = {"--listen", listen, NULL};
  start_server(flags);
  cr_assert_str_eq(srv.addr, listen);
  shopgpu_client *c = open_client(srv.addr, NULL);
  expect_echo(c, "via unix", 8);
  int serving = 0;
  cr_expect_eq(shopgpu_health_check(c, NULL, &serving, 5000, NULL), 0);
  cr_expect_eq(serving, 1);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client, dead_address_is_unavailable_at_once) {
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", dead_port());
  const char *targets[] = {addr, "unix:/tmp/shopgpu-no-such-dir/sock"};
  for (int i = 0; i < 2; i++) {
    shopgpu_client *c = open_client(targets[i], NULL);
    shopgpu_status st;
    double t0 = now_s();
    int rc = shopgpu_server_info(c, NULL, 10000, &st);
    cr_expect_eq(rc, 14, "%s: %s: %s", targets[i], shopgpu_status_code_name(rc), st.message);
    cr_expect_lt(now_s() - t0, 3.0, "%s: took %.2f s", targets[i], now_s() - t0);
    shopgpu_client_close(c);
  }
}

Test(client, open_rejects_bad_options_and_names_the_field) {
  shopgpu_status st;
  shopgpu_client_options o = {.target = ""};
  cr_expect_null(shopgpu_client_open(&o, &st));
  cr_expect_eq(st.code, 3);
  cr_expect_neq(strstr(st.message, "target"), NULL, "%s", st.message);
  cr_expect_null(shopgpu_client_open(NULL, &st));
  o = (shopgpu_client_options){.target = "127.0.0.1:1", .tls_ca_file = "/no/such/ca.pem"};
  cr_expect_null(shopgpu_client_open(&o, &st));
  cr_expect_eq(st.code, 3);
  cr_expect_neq(strstr(st.message, "tls_ca_file"), NULL, "%s", st.message);
  o.tls_ca_file = "/proc/self/cmdline"; /* readable, not PEM */
  cr_expect_null(shopgpu_client_open(&o, &st));
  cr_expect_neq(strstr(st.message, "no PEM certificate"), NULL, "%s", st.message);
  o = (shopgpu_client_options){.target = "127.0.0.1:1", .token = "a\nb"};
  cr_expect_null(shopgpu_client_open(&o, &st));
  cr_expect_neq(strstr(st.message, "token"), NULL, "%s", st.message);
  o = (shopgpu_client_options){.target = "127.0.0.1:1", .timeout_ms = -5};
  cr_expect_null(shopgpu_client_open(&o, &st));
  cr_expect_neq(strstr(st.message, "timeout_ms"), NULL, "%s", st.message);
  shopgpu_client_close(NULL);
}

Test(client, status_code_names) {
  cr_expect_str_eq(shopgpu_status_code_name(0), "OK");
  cr_expect_str_eq(shopgpu_status_code_name(4), "DEADLINE_EXCEEDED");
  cr_expect_str_eq(shopgpu_status_code_name(14), "UNAVAILABLE");
  cr_expect_str_eq(shopgpu_status_code_name(16), "UNAUTHENTICATED");
  cr_expect_str_eq(shopgpu_status_code_name(17), "UNKNOWN");
  cr_expect_str_eq(shopgpu_status_code_name(-1), "UNKNOWN");
}

typedef struct worker {
  shopgpu_client *client;
  int id, ok;
} worker;

static void *echo_many(void *arg) {
  worker *w = arg;
  for (int i = 0; i < 25; i++) {
    char msg[64];
    int n = snprintf(msg, sizeof msg, "thread %d call %d", w->id, i);
    Shopgpu__V1__EchoResponse *r = NULL;
    if (shopgpu_echo(w->client, msg, (size_t)n, 0, &r, 10000, NULL) == 0 &&
        r->payload.len == (size_t)n && memcmp(r->payload.data, msg, (size_t)n) == 0)
      w->ok++;
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  return NULL;
}

Test(client, one_client_serves_several_threads_at_once) {
  start_server(NULL);
  shopgpu_client *c = open_client(srv.addr, NULL);
  pthread_t t[6];
  worker w[6];
  for (int i = 0; i < 6; i++) {
    w[i] = (worker){c, i, 0};
    cr_assert_eq(pthread_create(&t[i], NULL, echo_many, &w[i]), 0);
  }
  for (int i = 0; i < 6; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < 6; i++)
    cr_expect_eq(w[i].ok, 25, "thread %d: %d of 25 echoes ok", i, w[i].ok);
  shopgpu_client_close(c);
  stop_server_checked();
}

/* A server that went away and came back on the same address: with reconnect_backoff_max_ms
 * 500, calls reach it again within about that backoff, not on gRPC's 5 s backup poll tick
 * (they failed UNAVAILABLE for 5-10 s after it was back). */
Test(client, a_server_that_comes_back_is_reached_within_the_backoff) {
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", dead_port());
  const char *flags[] = {"--listen", listen, NULL};
  sg_test_server a, b;
  cr_assert_eq(sg_test_server_start(&a, flags), 0);
  shopgpu_client_options o = {.target = listen, .reconnect_backoff_max_ms = 500};
  shopgpu_status st;
  shopgpu_client *c = shopgpu_client_open(&o, &st);
  cr_assert_not_null(c, "%s", st.message);
  cr_assert_eq(shopgpu_server_info(c, NULL, 5000, &st), 0, "%s", st.message);
  cr_assert_eq(sg_test_server_stop(&a, SIGTERM, 20), 0);
  cr_expect_eq(shopgpu_server_info(c, NULL, 2000, &st), 14, "down: %s", st.message);
  nanosleep(&(struct timespec){1, 500000000}, NULL); /* a few failed tries, deep in backoff */
  const char *again[] = {"--listen", listen, "--data-dir", a.dir, NULL};
  cr_assert_eq(sg_test_server_start(&b, again), 0);
  double t0 = now_s(), took = -1;
  while (now_s() - t0 < 12) {
    if (shopgpu_server_info(c, NULL, 2000, &st) == 0) {
      took = now_s() - t0;
      break;
    }
    nanosleep(&(struct timespec){0, 100000000}, NULL);
  }
  cr_expect(took >= 0 && took < 2.5, "reached %.2f s after the server was back (-1: never)", took);
  shopgpu_client_close(c);
  cr_expect_eq(sg_test_server_stop(&b, SIGTERM, 20), 0);
  sg_test_server_cleanup(&b);
  sg_test_server_cleanup(&a);
}
