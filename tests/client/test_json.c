/* The CLI's JSON writer: separators, string escaping (quotes, controls, valid and invalid
 * UTF-8), numbers, base64 (RFC 4648 test vectors), and protobuf-c messages written from their
 * descriptors (nested, null, repeated, enums by name). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "json.h"
#include "shopgpu/v1/admin.pb-c.h"

typedef struct capture {
  char *buf;
  size_t len;
  sg__json j;
} capture;

static void cap_open(capture *c) {
  FILE *f = open_memstream(&c->buf, &c->len);
  cr_assert_not_null(f);
  sg__json_init(&c->j, f);
}

/* Closes the stream and checks what was written; frees it. */
static void cap_expect(capture *c, const char *want) {
  fclose(c->j.out);
  cr_expect_str_eq(c->buf, want);
  free(c->buf);
}

static void expect_string(const char *in, size_t n, const char *want) {
  capture c;
  cap_open(&c);
  sg__json_string_n(&c.j, in, n);
  cap_expect(&c, want);
}

Test(json, escapes_quotes_backslashes_and_control_characters) {
  expect_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
  expect_string("l1\nl2\r\t", 7, "\"l1\\nl2\\r\\t\"");
  expect_string("\x01\x1f", 2, "\"\\u0001\\u001f\"");
  expect_string("nul\0in", 6, "\"nul\\u0000in\"");
  expect_string("/ and \x7f stay", 12, "\"/ and \x7f stay\"");
}

Test(json, passes_valid_utf8_and_replaces_invalid_bytes) {
  expect_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
                "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  expect_string("\xff", 1, "\"\\ufffd\"");
  expect_string("\xc3", 1, "\"\\ufffd\"");                       /* truncated */
  expect_string("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");            /* overlong '/' */
  expect_string("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
}

Test(json, containers_get_commas_in_the_right_places) {
  capture c;
  cap_open(&c);
  sg__json_begin_object(&c.j);
  sg__json_key(&c.j, "a");
  sg__json_begin_array(&c.j);
  sg__json_int(&c.j, -1);
  sg__json_uint(&c.j, 18446744073709551615ull);
  sg__json_begin_object(&c.j);
  sg__json_end_object(&c.j);
  sg__json_begin_array(&c.j);
  sg__json_end_array(&c.j);
  sg__json_end_array(&c.j);
  sg__json_key(&c.j, "b");
  sg__json_bool(&c.j, 1);
  sg__json_key(&c.j, "c");
  sg__json_string(&c.j, NULL);
  sg__json_end_object(&c.j);
  sg__json_finish(&c.j);
  cap_expect(&c, "{\"a\":[-1,18446744073709551615,{},[]],\"b\":true,\"c\":null}\n");
}

Test(json, doubles_read_back_exactly_and_non_finite_is_null) {
  capture c;
  cap_open(&c);
  sg__json_begin_array(&c.j);
  sg__json_double(&c.j, 0.5);
  sg__json_double(&c.j, 0.1);
  sg__json_double(&c.j, 1e300);
  sg__json_double(&c.j, NAN);
  sg__json_double(&c.j, -INFINITY);
  sg__json_end_array(&c.j);
  cap_expect(&c, "[0.5,0.1,1e+300,null,null]");
  double x = 1449070 * 1e-6; /* needs 17 digits */
  cap_open(&c);
  sg__json_double(&c.j, x);
  fclose(c.j.out);
  cr_expect_eq(strtod(c.buf, NULL), x, "%s does not read back", c.buf);
  free(c.buf);
}

Test(json, floats_take_the_fewest_digits_that_read_back) {
  capture c;
  cap_open(&c);
  sg__json_begin_array(&c.j);
  sg__json_float(&c.j, 0.1f);
  sg__json_float(&c.j, 0.94474506f);
  sg__json_float(&c.j, 1e-7f);
  sg__json_float(&c.j, NAN);
  sg__json_end_array(&c.j);
  cap_expect(&c, "[0.1,0.94474506,1e-07,null]");
  for (uint32_t bits = 0x3f000000; bits < 0x3f800000; bits += 997) { /* [0.5, 1) */
    float v;
    memcpy(&v, &bits, sizeof v);
    char text[32];
    sg__float_text(text, sizeof text, v);
    cr_assert_eq(strtof(text, NULL), v, "%s does not read back as %a", text, (double)v);
  }
}

Test(json, base64_matches_rfc4648_vectors) {
  const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char *want[] = {"\"\"",         "\"Zg==\"",     "\"Zm8=\"",    "\"Zm9v\"",
                        "\"Zm9vYg==\"", "\"Zm9vYmE=\"", "\"Zm9vYmFy\""};
  for (int i = 0; i < 7; i++) {
    capture c;
    cap_open(&c);
    sg__json_base64(&c.j, (const uint8_t *)in[i], strlen(in[i]));
    cap_expect(&c, want[i]);
  }
}

Test(json, message_uses_proto_names_nulls_arrays_and_enum_names) {
  Shopgpu__V1__MethodStats m1 = SHOPGPU__V1__METHOD_STATS__INIT, m2 = m1;
  m1.method = "/a/B";
  m1.calls = 3;
  m1.ok = 2;
  m1.failed = 1;
  m1.latency_p50_ms = 0.25;
  m2.method = "/a/\"C\"";
  Shopgpu__V1__MethodStats *ms[] = {&m1, &m2};
  Shopgpu__V1__Backend b = SHOPGPU__V1__BACKEND__INIT;
  b.name = "cpu";
  b.healthy = 1;
  Shopgpu__V1__ServerInfo info = SHOPGPU__V1__SERVER_INFO__INIT;
  info.version = "1.2.3";
  info.backend = &b;
  info.started_at_unix_ms = -5;
  info.n_methods = 2;
  info.methods = ms;
  capture c;
  cap_open(&c);
  sg__json_message(&c.j, &info.base);
  cap_expect(
      &c, "{\"version\":\"1.2.3\",\"commit\":\"\",\"backend\":{\"name\":\"cpu\",\"requested\":\"\","
          "\"reason\":\"\",\"healthy\":true,\"health_reason\":\"\",\"device\":null},"
          "\"uptime_s\":0,\"started_at_unix_ms\":-5,\"listen\":\"\",\"worker_threads\":0,"
          "\"poller_threads\":0,\"redis\":\"\",\"queue_depth\":0,\"methods\":["
          "{\"method\":\"/a/B\",\"calls\":3,\"ok\":2,\"rejected\":0,\"failed\":1,\"in_flight\":0,"
          "\"latency_p50_ms\":0.25,\"latency_p99_ms\":0},"
          "{\"method\":\"/a/\\\"C\\\"\",\"calls\":0,\"ok\":0,\"rejected\":0,\"failed\":0,"
          "\"in_flight\":0,\"latency_p50_ms\":0,\"latency_p99_ms\":0}],"
          "\"jobs_queued_interactive\":0,\"jobs_queued_batch\":0,\"batched_calls\":0,"
          "\"batched_jobs\":0,\"scheduler_workers\":0,\"redis_connected\":false,"
          "\"jobs_done_interactive\":0,\"jobs_queued_interactive_estimated_s\":0,"
          "\"jobs_queued_batch_estimated_s\":0}");
  Grpc__Health__V1__HealthCheckResponse h = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  h.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
  cap_open(&c);
  sg__json_message(&c.j, &h.base);
  cap_expect(&c, "{\"status\":\"NOT_SERVING\"}");
  Shopgpu__V1__EchoResponse e = SHOPGPU__V1__ECHO_RESPONSE__INIT;
  e.payload.data = (uint8_t *)"foo";
  e.payload.len = 3;
  cap_open(&c);
  sg__json_message(&c.j, &e.base);
  cap_expect(&c, "{\"payload\":\"Zm9v\"}");
}
