/* libshopgpu-client streaming calls against a real shopgpu-server: EchoStream (all messages,
 * cancel from the callback, server-side validation), health Watch (cancel, deadline), EchoUpload
 * (counts, empty upload, cancel from the producer) and auth failures on both stream kinds. */
#include "client_test.h"
#include "shopgpu_client.h"

TestSuite(client_stream, .fini = cleanup_all, .timeout = 60);

static shopgpu_client *open_client(const char *token) {
  shopgpu_client_options o = {.target = srv.addr, .token = token};
  shopgpu_status st;
  shopgpu_client *c = shopgpu_client_open(&o, &st);
  cr_assert_not_null(c, "open: %s", st.message);
  return c;
}

typedef struct seen {
  int n, stop_after, bad_payload;
  const char *want;
} seen;

static int on_echo(const Shopgpu__V1__EchoResponse *msg, void *arg) {
  seen *s = arg;
  size_t len = strlen(s->want);
  if (msg->payload.len != len || memcmp(msg->payload.data, s->want, len) != 0) s->bad_payload++;
  s->n++;
  return s->stop_after && s->n >= s->stop_after;
}

Test(client_stream, echo_stream_delivers_every_message) {
  start_server(NULL);
  shopgpu_client *c = open_client(NULL);
  seen s = {.want = "tick"};
  shopgpu_status st;
  int rc = shopgpu_echo_stream(c, "tick", 4, 50, 0, on_echo, &s, 10000, &st);
  cr_expect_eq(rc, 0, "%s: %s", shopgpu_status_code_name(rc), st.message);
  cr_expect_eq(s.n, 50, "got %d of 50 messages", s.n);
  cr_expect_eq(s.bad_payload, 0);
  seen none = {.want = ""};
  cr_expect_eq(shopgpu_echo_stream(c, NULL, 0, 0, 0, on_echo, &none, 10000, &st), 0);
  cr_expect_eq(none.n, 0);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_stream, callback_cancels_promptly) {
  start_server(NULL);
  shopgpu_client *c = open_client(NULL);
  seen s = {.want = "x", .stop_after = 3};
  shopgpu_status st;
  double t0 = now_s();
  /* 1000 messages 10 ms apart would take 10 s */
  int rc = shopgpu_echo_stream(c, "x", 1, 1000, 10, on_echo, &s, 30000, &st);
  double dt = now_s() - t0;
  cr_expect_eq(rc, 1, "want CANCELLED, got %s: %s", shopgpu_status_code_name(rc), st.message);
  cr_expect_eq(st.code, 1);
  cr_expect_eq(s.n, 3, "callback ran %d times", s.n);
  cr_expect_lt(dt, 1.0, "cancel took %.3f s", dt);
  /* the client and server stay usable */
  seen again = {.want = "y"};
  cr_expect_eq(shopgpu_echo_stream(c, "y", 1, 5, 0, on_echo, &again, 10000, &st), 0);
  cr_expect_eq(again.n, 5);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_stream, server_validation_error_comes_back_as_status) {
  start_server(NULL);
  shopgpu_client *c = open_client(NULL);
  seen s = {.want = ""};
  shopgpu_status st;
  cr_expect_eq(shopgpu_echo_stream(c, NULL, 0, 2000000, 0, on_echo, &s, 5000, &st), 3);
  cr_expect_neq(strstr(st.message, "count"), NULL, "message: %s", st.message);
  cr_expect_eq(s.n, 0);
  shopgpu_client_close(c);
  stop_server_checked();
}

typedef struct watch {
  int first, n, keep_going;
} watch;

static int on_health(int serving, void *arg) {
  watch *w = arg;
  if (w->n++ == 0) w->first = serving;
  return !w->keep_going;
}

Test(client_stream, health_watch_reports_then_cancels) {
  start_server(NULL);
  shopgpu_client *c = open_client(NULL);
  shopgpu_status st;
  watch w = {-1, 0, 0};
  double t0 = now_s();
  int rc = shopgpu_health_watch(c, "", on_health, &w, SHOPGPU_TIMEOUT_NONE, &st);
  cr_expect_eq(rc, 1, "want CANCELLED, got %s: %s", shopgpu_status_code_name(rc), st.message);
  cr_expect_eq(w.n, 1);
  cr_expect_eq(w.first, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  cr_expect_lt(now_s() - t0, 2.0);
  watch u = {-1, 0, 0};
  rc = shopgpu_health_watch(c, "no.such.Service", on_health, &u, 5000, &st);
  cr_expect_eq(rc, 1);
  cr_expect_eq(u.first, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_stream, deadline_ends_an_endless_stream) {
  start_server(NULL);
  shopgpu_client *c = open_client(NULL);
  shopgpu_status st;
  watch w = {-1, 0, 1}; /* Watch never ends on its own */
  double t0 = now_s();
  int rc = shopgpu_health_watch(c, "", on_health, &w, 300, &st);
  double dt = now_s() - t0;
  cr_expect_eq(rc, 4, "want DEADLINE_EXCEEDED, got %s: %s", shopgpu_status_code_name(rc),
               st.message);
  cr_expect_eq(w.n, 1, "%d statuses", w.n);
  cr_expect_geq(dt, 0.25, "returned after %.3f s", dt);
  cr_expect_lt(dt, 1.5, "returned after %.3f s", dt);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_stream, echo_upload_counts_messages_and_bytes) {
  start_server(NULL);
  shopgpu_client *c = open_client(NULL);
  static char big[100000];
  memset(big, 'b', sizeof big);
  const shopgpu_bytes chunks[] = {
      {NULL, 0}, {"a", 1}, {"0123456789", 10}, {big, 1000}, {big, sizeof big}};
  Shopgpu__V1__EchoUploadResponse *r = NULL;
  shopgpu_status st;
  int rc = shopgpu_echo_upload(c, chunks, 5, &r, 10000, &st);
  cr_assert_eq(rc, 0, "%s: %s", shopgpu_status_code_name(rc), st.message);
  cr_assert_not_null(r);
  cr_expect_eq(r->messages, 5);
  cr_expect_eq(r->bytes, 0 + 1 + 10 + 1000 + sizeof big);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  r = NULL;
  cr_assert_eq(shopgpu_echo_upload(c, NULL, 0, &r, 10000, &st), 0, "%s", st.message);
  cr_expect_eq(r->messages, 0);
  cr_expect_eq(r->bytes, 0);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  shopgpu_client_close(c);
  stop_server_checked();
}

typedef struct producer {
  int sent, stop_at;
  Shopgpu__V1__EchoRequest msg;
} producer;

static int produce(void *arg, const ProtobufCMessage **msg) {
  producer *p = arg;
  if (p->sent == p->stop_at) return -1;
  p->sent++;
  *msg = &p->msg.base;
  return 1;
}

Test(client_stream, producer_cancels_an_upload) {
  start_server(NULL);
  shopgpu_client *c = open_client(NULL);
  producer p = {0, 3, SHOPGPU__V1__ECHO_REQUEST__INIT};
  ProtobufCMessage *r = (void *)&p; /* must be reset to NULL */
  shopgpu_status st;
  int rc =
      shopgpu_call_client_stream(c, "/shopgpu.v1.Admin/EchoUpload", produce, &p,
                                 &shopgpu__v1__echo_upload_response__descriptor, &r, 5000, &st);
  cr_expect_eq(rc, 1, "want CANCELLED, got %s: %s", shopgpu_status_code_name(rc), st.message);
  cr_expect_eq(p.sent, 3);
  cr_expect_null(r);
  shopgpu_client_close(c);
  stop_server_checked();
}

Test(client_stream, streams_without_a_token_are_unauthenticated) {
  make_aux_dir();
  char token_file[128];
  write_aux_file("token", "tok\n", token_file, sizeof token_file);
  const char *flags[] = {"--auth-token-file", token_file, NULL};
  start_server(flags);
  shopgpu_client *anon = open_client(NULL);
  shopgpu_status st;
  seen s = {.want = "x"};
  cr_expect_eq(shopgpu_echo_stream(anon, "x", 1, 3, 0, on_echo, &s, 5000, &st), 16, "%s",
               st.message);
  cr_expect_eq(s.n, 0);
  const shopgpu_bytes one = {"x", 1};
  Shopgpu__V1__EchoUploadResponse *r = NULL;
  cr_expect_eq(shopgpu_echo_upload(anon, &one, 1, &r, 5000, &st), 16, "%s", st.message);
  cr_expect_null(r);
  shopgpu_client *ok = open_client("tok");
  cr_expect_eq(shopgpu_echo_stream(ok, "x", 1, 3, 0, on_echo, &s, 5000, &st), 0, "%s", st.message);
  cr_expect_eq(s.n, 3);
  cr_expect_eq(shopgpu_echo_upload(ok, &one, 1, &r, 5000, &st), 0, "%s", st.message);
  cr_expect_eq(r ? r->bytes : 0, 1);
  if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
  shopgpu_client_close(anon);
  shopgpu_client_close(ok);
  stop_server_checked();
}
