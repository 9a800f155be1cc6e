/* Click models: shape and value checks (the first bad value named), allocation, placement. */
#include "click_test.h"

static ct_cpu cpu;
static void setup(void) { cpu = ct_open_cpu(2); }
static void teardown(void) { ct_close(&cpu); }
TestSuite(click_model, .init = setup, .fini = teardown);

static sg_click_model small_model(void) {
  sg_click_model m;
  ct_random_model(&m, 4, 5, 3, 1, 0.5, 0, 7);
  return m;
}

Test(click_model, alloc_rejects_zero_and_oversized_shapes) {
  sg_click_model m;
  sg_err e = {0};
  cr_assert_eq(sg_click_model_alloc(0, 5, 3, 1, &m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "n_users"), "%s", e.msg);
  sg_err_clear(&e);
  cr_assert_eq(sg_click_model_alloc(4, 0, 3, 1, &m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "n_items"), "%s", e.msg);
  sg_err_clear(&e);
  cr_assert_eq(sg_click_model_alloc(4, 5, 0, 1, &m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "dim"), "%s", e.msg);
  sg_err_clear(&e);
  cr_assert_eq(sg_click_model_alloc(4, 5, SG_CLICK_MAX_DIM + 1, 1, &m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "dim 1025"), "%s", e.msg);
}

Test(click_model, check_names_the_first_nan_in_U) {
  sg_click_model m = small_model();
  m.U[7] = NAN;
  m.U[9] = INFINITY;
  sg_err e = {0};
  cr_assert_eq(sg_click_model_check(&m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "U[7] (user 2, component 1) is nan"), "%s", e.msg);
  sg_click_model_free(&m);
}

Test(click_model, check_names_inf_in_V_w_and_b) {
  sg_click_model m = small_model();
  sg_err e = {0};
  m.V[14] = -INFINITY;
  cr_assert_eq(sg_click_model_check(&m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "V[14] (item 4, component 2) is inf"), "%s", e.msg);
  m.V[14] = 0.0f;
  m.w[1] = NAN;
  sg_err_clear(&e);
  cr_assert_eq(sg_click_model_check(&m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "w[1]"), "%s", e.msg);
  m.w[1] = 0.0f;
  m.b = INFINITY;
  sg_err_clear(&e);
  cr_assert_eq(sg_click_model_check(&m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "b is inf"), "%s", e.msg);
  m.b = 0.0f;
  sg_err_clear(&e);
  cr_assert_eq(sg_click_model_check(&m, &e), SG_OK, "%s", e.msg);
  sg_click_model_free(&m);
}

Test(click_model, check_rejects_null_arrays) {
  sg_click_model m = small_model();
  float *keep = m.V;
  m.V = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_model_check(&m, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "V is NULL"), "%s", e.msg);
  m.V = keep;
  sg_err_clear(&e);
  cr_assert_eq(sg_click_model_check(NULL, &e), SG_INVALID_ARGUMENT);
  sg_click_model_free(&m);
}

Test(click_model, place_rejects_a_bad_model_and_keeps_out_null) {
  sg_click_model m = small_model();
  m.U[0] = NAN;
  sg_click_placed *p = (sg_click_placed *)&m; /* anything non-NULL */
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_INVALID_ARGUMENT);
  cr_assert_null(p);
  cr_assert(strstr(e.msg, "U[0]"), "%s", e.msg);
  sg_click_model_free(&m);
}

Test(click_model, placement_reports_its_shape) {
  sg_click_model m = small_model();
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  uint32_t nu, ni, d;
  int inter;
  sg_click_placed_shape(p, &nu, &ni, &d, &inter);
  cr_assert(nu == 4 && ni == 5 && d == 3 && inter == 1);
  sg_click_unplace(p);
  sg_click_unplace(NULL);
  sg_click_model_free(&m);
  sg_click_model_free(&m); /* zeroed: no-op */
}

Test(click_model, a_placement_is_tied_to_its_backend) {
  ct_cpu other = ct_open_cpu(1);
  sg_click_model m = small_model();
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  uint32_t u = 0, i = 0;
  float out;
  cr_assert_eq(sg_click_score(other.x, p, &u, &i, 1, &out, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "another backend"), "%s", e.msg);
  sg_click_unplace(p);
  sg_click_model_free(&m);
  ct_close(&other);
}

Test(click_model, a_placement_keeps_its_own_copy) {
  sg_click_model m = small_model();
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  uint32_t u = 1, i = 2;
  float before, after;
  cr_assert_eq(sg_click_score(cpu.x, p, &u, &i, 1, &before, &e), SG_OK, "%s", e.msg);
  for (int c = 0; c < 3; c++)
    m.U[3 + c] = m.V[6 + c] = 100.0f; /* the caller's arrays change */
  cr_assert_eq(sg_click_score(cpu.x, p, &u, &i, 1, &after, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(before, after);
  sg_click_model_free(&m);
  cr_assert_eq(sg_click_score(cpu.x, p, &u, &i, 1, &after, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(before, after);
  sg_click_unplace(p);
}
