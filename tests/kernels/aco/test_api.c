/* The aco family through the backend gate, with a fake ops table: a backend without the family
 * answers UNSUPPORTED, a device error in a step is reported and marks the backend unhealthy,
 * a failing open leaves nothing behind (ASan checks leaks). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "aco/aco_backends.h"
#include "check.h"
#include "common/backend_impl.h"

static int opened, closed;

static sg_status fake_open(sg_exec *x, const sg__aco_model *m, int colonies, int ants, void **state,
                           sg_err *err) {
  (void)x;
  (void)m;
  (void)colonies;
  (void)ants;
  (void)err;
  opened++;
  *state = &opened;
  return SG_OK;
}

static sg_status fake_open_oom(sg_exec *x, const sg__aco_model *m, int colonies, int ants,
                               void **state, sg_err *err) {
  (void)x;
  (void)m;
  (void)colonies;
  (void)ants;
  (void)state;
  return sg_err_set(err, SG_DEVICE_OOM, "fake: out of device memory");
}

static sg_status fake_lost(sg_exec *x, void *state, const sg__aco_iter *it, sg__aco_out *out,
                           sg_err *err) {
  (void)x;
  (void)state;
  (void)it;
  (void)out;
  return sg_err_set(err, SG_DEVICE_LOST, "fake: illegal address");
}

static sg_status fake_close(sg_exec *x, void *state, sg_err *err) {
  (void)x;
  (void)state;
  (void)err;
  closed++;
  return SG_OK;
}

static sg_exec *fake_exec(const sg_backend_ops *ops, sg_backend **be) {
  sg_err e = {0};
  *be = sg_backend_open_ops(ops, SG_BACKEND_CUDA, NULL, &e);
  cr_assert_not_null(*be, "%s", e.msg);
  sg_exec *x = sg_exec_create(*be, &e);
  cr_assert_not_null(x, "%s", e.msg);
  return x;
}

static sg_aco_params quick(void) {
  sg_aco_params q;
  sg_aco_params_default(&q);
  q.colonies = 1;
  q.ants = 2;
  q.max_iterations = 5;
  return q;
}

Test(aco_api, a_backend_without_the_family_is_unsupported) {
  sg_backend_ops ops = {.name = "bare"};
  sg_backend *be;
  sg_exec *x = fake_exec(&ops, &be);
  sg_aco_instance *in = ref_load("burma14.tsp", 0);
  sg_aco_params q = quick();
  sg_err e = {0};
  cr_assert_null(sg_aco_begin(x, &in->problem, &q, &e));
  cr_assert_eq(e.code, SG_UNSUPPORTED, "%s", e.msg);
  cr_assert(strstr(e.msg, "aco_open"), "%s", e.msg);
  sg_aco_instance_free(in);
  sg_exec_destroy(x);
  sg_backend_close(be);
}

Test(aco_api, a_device_error_fails_the_step_and_marks_the_backend) {
  static const sg_aco_ops fake = {fake_open, fake_lost, fake_close};
  sg_backend_ops ops = {.name = "fake", .aco = &fake};
  sg_backend *be;
  sg_exec *x = fake_exec(&ops, &be);
  sg_aco_instance *in = ref_load("eil51.tsp", 0);
  sg_aco_params q = quick();
  sg_err e = {0};
  opened = closed = 0;
  sg_aco_solver *s = sg_aco_begin(x, &in->problem, &q, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_assert_eq(opened, 1);
  sg_aco_progress pr;
  cr_assert_eq(sg_aco_step(s, 3, &pr, &e), SG_DEVICE_LOST);
  cr_assert(strstr(e.msg, "illegal address"), "%s", e.msg);
  cr_assert_not(sg_backend_healthy(be));
  cr_assert_eq(pr.iterations, 0);
  cr_assert(isfinite(pr.best_cost), "the initial solution stays reported");
  sg_aco_solution sol;
  sg_aco_best(s, &sol); /* the initial solution is still there and valid */
  double cost;
  char why[256];
  cr_assert(ref_check_solution(&in->problem, &sol, &cost, why, sizeof why), "%s", why);
  sg_aco_end(s);
  cr_assert_eq(closed, 1, "host state is freed even on an unhealthy backend");
  sg_err_clear(&e);
  cr_assert_null(sg_aco_begin(x, &in->problem, &q, &e));
  cr_assert_eq(e.code, SG_DEVICE_LOST, "%s", e.msg);
  sg_aco_instance_free(in);
  sg_exec_destroy(x);
  sg_backend_close(be);
}

Test(aco_api, a_failed_open_is_reported_and_leaks_nothing) {
  static const sg_aco_ops fake = {fake_open_oom, fake_lost, fake_close};
  sg_backend_ops ops = {.name = "fake", .aco = &fake};
  sg_backend *be;
  sg_exec *x = fake_exec(&ops, &be);
  sg_aco_instance *in = ref_load("E-n13-k4.vrp", 0);
  sg_aco_params q = quick();
  sg_err e = {0};
  cr_assert_null(sg_aco_begin(x, &in->problem, &q, &e));
  cr_assert_eq(e.code, SG_DEVICE_OOM, "%s", e.msg);
  cr_assert(sg_backend_healthy(be));
  sg_aco_instance_free(in);
  sg_exec_destroy(x);
  sg_backend_close(be);
}
