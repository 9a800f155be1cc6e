/* Backend selection (auto | cpu | cuda) and the op gate, on any machine: the auto choice is
 * checked against an independent probe, and a fake ops table injects device errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/backend_impl.h"
#include "rng/rng.h"
#include "rng/rng_backends.h"

Test(backend, parses_kinds_and_names_bad_text) {
  sg_backend_kind k;
  sg_err e = {0};
  cr_assert_eq(sg_backend_kind_parse("cuda", &k, &e), SG_OK);
  cr_assert_eq(k, SG_BACKEND_CUDA);
  cr_assert_eq(sg_backend_kind_parse("cpu", &k, &e), SG_OK);
  cr_assert_eq(k, SG_BACKEND_CPU);
  cr_assert_eq(sg_backend_kind_parse("auto", &k, &e), SG_OK);
  cr_assert_eq(k, SG_BACKEND_AUTO);
  cr_assert_eq(sg_backend_kind_parse("gpu", &k, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "backend") && strstr(e.msg, "\"gpu\""), "%s", e.msg);
  cr_assert_str_eq(sg_backend_kind_name(SG_BACKEND_CUDA), "cuda");
}

static char logged[1024];
static void capture(void *ctx, sg_log_level level, const char *msg) {
  (void)ctx;
  (void)level;
  snprintf(logged, sizeof logged, "%s", msg);
}

Test(backend, cpu_always_opens) {
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CPU, .log = capture};
  sg_backend *be = sg_backend_open(&cfg, &e);
  cr_assert_not_null(be, "%s", e.msg);
  cr_assert_eq(sg_backend_kind_of(be), SG_BACKEND_CPU);
  cr_assert_str_eq(sg_backend_name(be), "cpu");
  cr_assert_null(sg_backend_device(be));
  cr_assert(sg_backend_healthy(be));
  cr_assert(strstr(logged, "backend cpu"), "log: %s", logged);
  sg_exec *x = sg_exec_create(be, &e);
  cr_assert_not_null(x);
  cr_assert_gt(x->threads, 0);
  sg_exec_destroy(x);
  sg_backend_close(be);
}

Test(backend, auto_follows_the_probe_and_says_why) {
  sg_device_info info;
  sg_err probe = {0};
  sg_status pst = sg_cuda_probe(0, SG_DEFAULT_MIN_FREE_BYTES, &info, &probe);
  sg_err e = {0};
  logged[0] = '\0';
  sg_backend_config cfg = {.kind = SG_BACKEND_AUTO, .log = capture};
  sg_backend *be = sg_backend_open(&cfg, &e);
  cr_assert_not_null(be, "auto never fails: %s", e.msg);
  if (pst == SG_OK) {
    cr_assert_eq(sg_backend_kind_of(be), SG_BACKEND_CUDA);
    cr_assert(strstr(sg_backend_reason(be), info.name));
  } else {
    cr_assert_eq(sg_backend_kind_of(be), SG_BACKEND_CPU);
    cr_assert(strstr(sg_backend_reason(be), "cuda unavailable"), "%s", sg_backend_reason(be));
    cr_assert(strstr(sg_backend_reason(be), probe.msg), "%s", sg_backend_reason(be));
    cr_assert(strstr(logged, probe.msg), "the fallback reason is logged: %s", logged);
  }
  sg_backend_close(be);
}

Test(backend, required_cuda_fails_with_the_probe_reason_when_unusable) {
  sg_device_info info;
  sg_err probe = {0};
  sg_status pst = sg_cuda_probe(0, SG_DEFAULT_MIN_FREE_BYTES, &info, &probe);
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CUDA};
  sg_backend *be = sg_backend_open(&cfg, &e);
  if (pst == SG_OK) {
    cr_assert_not_null(be, "%s", e.msg);
    sg_backend_close(be);
    return;
  }
  cr_assert_null(be);
  cr_assert_eq(e.code, pst);
  cr_assert(strstr(e.msg, "cuda backend requested") && strstr(e.msg, probe.msg), "%s", e.msg);
}

Test(backend, probe_of_a_missing_device_index_is_an_error_not_a_crash) {
  sg_device_info info;
  sg_err e = {0};
  cr_assert_eq(sg_cuda_probe(4096, 0, &info, &e), SG_NO_DEVICE);
  cr_assert(e.msg[0]);
}

/* A fake backend whose rng slot fails as told. */
static int calls;
static sg_status fake_result;
static sg_status fake_rng(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset, size_t n,
                          float *out, sg_err *err) {
  (void)x, (void)seed, (void)stream, (void)offset, (void)n, (void)out;
  calls++;
  if (fake_result == SG_OK) return SG_OK;
  return sg_err_set(err, fake_result, "injected %s", sg_status_name(fake_result));
}
static const sg_rng_ops fake_rng_ops = {.uniform = fake_rng};
static const sg_backend_ops fake_ops = {.name = "fake", .rng = &fake_rng_ops};
static const sg_backend_ops empty_ops = {.name = "empty"};

Test(backend, sticky_device_error_marks_the_backend_unhealthy_and_later_ops_fail_fast) {
  sg_err e = {0};
  sg_backend *be = sg_backend_open_ops(&fake_ops, SG_BACKEND_CUDA, NULL, &e);
  sg_exec *x = sg_exec_create(be, &e);
  float out[4];
  calls = 0;
  fake_result = SG_DEVICE_OOM; /* not sticky: backend stays healthy */
  cr_assert_eq(sg_rng_uniform(x, 1, 0, 0, 4, out, &e), SG_DEVICE_OOM);
  cr_assert(sg_backend_healthy(be));
  sg_err_clear(&e);
  fake_result = SG_DEVICE_LOST;
  cr_assert_eq(sg_rng_uniform(x, 1, 0, 0, 4, out, &e), SG_DEVICE_LOST);
  cr_assert_not(sg_backend_healthy(be));
  cr_assert(strstr(sg_backend_health_reason(be), "injected DEVICE_LOST"));
  sg_err_clear(&e);
  fake_result = SG_OK;
  cr_assert_eq(sg_rng_uniform(x, 1, 0, 0, 4, out, &e), SG_DEVICE_LOST);
  cr_assert_eq(calls, 2, "the slot is not called once the backend is lost");
  cr_assert(strstr(e.msg, "unhealthy"), "%s", e.msg);
  sg_exec_destroy(x);
  sg_backend_close(be);
}

Test(backend, empty_slot_is_unsupported_naming_op_and_backend) {
  sg_err e = {0};
  sg_backend *be = sg_backend_open_ops(&empty_ops, SG_BACKEND_CPU, NULL, &e);
  sg_exec *x = sg_exec_create(be, &e);
  float out[1];
  cr_assert_eq(sg_rng_uniform(x, 1, 0, 0, 1, out, &e), SG_UNSUPPORTED);
  cr_assert(strstr(e.msg, "rng_uniform") && strstr(e.msg, "empty"), "%s", e.msg);
  sg_exec_destroy(x);
  sg_backend_close(be);
}

static sg_status failing_init(sg_exec *x, sg_err *err) {
  (void)x;
  return sg_err_set(err, SG_DEVICE_OOM, "no room for scratch");
}
static const sg_backend_ops failing_init_ops = {.name = "failing", .exec_init = failing_init};

Test(backend, exec_init_failure_returns_null_with_the_reason) {
  sg_err e = {0};
  sg_backend *be = sg_backend_open_ops(&failing_init_ops, SG_BACKEND_CUDA, NULL, &e);
  cr_assert_null(sg_exec_create(be, &e));
  cr_assert_eq(e.code, SG_DEVICE_OOM);
  cr_assert_str_eq(e.msg, "no room for scratch");
  sg_backend_close(be);
}
