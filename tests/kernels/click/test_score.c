/* Pair scoring on the CPU backend against a double-precision reference, and its bad input. */
#include "click_test.h"

static ct_cpu cpu;
static void setup(void) { cpu = ct_open_cpu(2); }
static void teardown(void) { ct_close(&cpu); }
TestSuite(click_score, .init = setup, .fini = teardown);

/* scores n random pairs and returns the max |p - p_double| */
static double max_error(const sg_click_model *m, size_t n, uint64_t seed, int resident) {
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, m, &p, &e), SG_OK, "%s", e.msg);
  uint32_t *users = malloc(n * sizeof *users), *items = malloc(n * sizeof *items);
  float *out = malloc(n * sizeof *out);
  ct_rng r = {seed};
  for (size_t j = 0; j < n; j++) {
    users[j] = ct_below(&r, m->n_users);
    items[j] = ct_below(&r, m->n_items);
  }
  sg_status st = resident ? sg_click_score_resident(cpu.x, p, users, items, n, out, &e)
                          : sg_click_score(cpu.x, p, users, items, n, out, &e);
  cr_assert_eq(st, SG_OK, "%s", e.msg);
  double worst = 0.0;
  for (size_t j = 0; j < n; j++) {
    double d = fabs(out[j] - ct_sigmoid(ct_logit(m, users[j], items[j])));
    worst = d > worst ? d : worst;
  }
  free(users);
  free(items);
  free(out);
  sg_click_unplace(p);
  return worst;
}

Test(click_score, matches_double_reference) {
  uint64_t seed = ct_seed("matches_double_reference");
  const uint32_t dims[] = {1, 7, 16, 64, 130};
  for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++) {
    for (int inter = 0; inter <= 1; inter++) {
      sg_click_model m;
      /* scale so the logits spread over about [-6, 6] */
      ct_random_model(&m, 300, 200, dims[t], inter, 1.2 / sqrt((double)dims[t]), 0, seed + t);
      double err = max_error(&m, 40000, seed ^ t, 0);
      cr_assert_leq(err, 1e-5, "dim %u interaction %d: max abs error %g", dims[t], inter, err);
      sg_click_model_free(&m);
    }
  }
}

Test(click_score, resident_equals_host_on_cpu) {
  uint64_t seed = ct_seed("resident_equals_host_on_cpu");
  sg_click_model m;
  ct_random_model(&m, 50, 60, 32, 1, 0.2, 0, seed);
  cr_assert_leq(max_error(&m, 1000, seed, 1), 1e-5);
  sg_click_model_free(&m);
}

Test(click_score, without_interaction_is_logistic_regression_on_u_plus_v) {
  sg_click_model m;
  ct_random_model(&m, 3, 3, 4, 0, 0.5, 0, 11);
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  uint32_t u = 2, i = 1;
  float out;
  cr_assert_eq(sg_click_score(cpu.x, p, &u, &i, 1, &out, &e), SG_OK, "%s", e.msg);
  double z = m.b;
  for (int c = 0; c < 4; c++)
    z += (double)m.w[c] * (m.U[2 * 4 + c] + m.V[1 * 4 + c]);
  cr_assert_float_eq(out, 1.0 / (1.0 + exp(-z)), 1e-6);
  sg_click_unplace(p);
  sg_click_model_free(&m);
}

Test(click_score, rejects_unknown_ids_naming_index_and_value) {
  sg_click_model m;
  ct_random_model(&m, 10, 20, 4, 1, 0.5, 0, 3);
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  uint32_t users[6] = {0, 1, 2, 3, 4, 5}, items[6] = {0, 1, 2, 3, 4, 20};
  float out[6];
  cr_assert_eq(sg_click_score(cpu.x, p, users, items, 6, out, &e), SG_INVALID_ARGUMENT);
  cr_assert_str_eq(e.msg, "items[5]: id 20 >= n_items 20");
  sg_err_clear(&e);
  cr_assert_eq(sg_click_score_resident(cpu.x, p, users, items, 6, out, &e), SG_INVALID_ARGUMENT);
  cr_assert_str_eq(e.msg, "items[5]: id 20 >= n_items 20");
  users[2] = 900;
  sg_err_clear(&e);
  cr_assert_eq(sg_click_score(cpu.x, p, users, items, 6, out, &e), SG_INVALID_ARGUMENT);
  cr_assert_str_eq(e.msg, "users[2]: id 900 >= n_users 10");
  sg_click_unplace(p);
  sg_click_model_free(&m);
}

Test(click_score, rejects_empty_lists_and_null_arrays) {
  sg_click_model m;
  ct_random_model(&m, 2, 2, 2, 1, 0.5, 0, 5);
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(sg_click_score(cpu.x, p, NULL, NULL, 0, NULL, &e), SG_INVALID_ARGUMENT);
  cr_assert_str_eq(e.msg, "click_score: users is empty (n = 0)");
  sg_err_clear(&e);
  uint32_t id = 0;
  cr_assert_eq(sg_click_score(cpu.x, p, &id, NULL, 1, (float[1]){0}, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "items is NULL"), "%s", e.msg);
  sg_err_clear(&e);
  cr_assert_eq(sg_click_score(cpu.x, NULL, &id, &id, 1, (float[1]){0}, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "placed model is NULL"), "%s", e.msg);
  sg_click_unplace(p);
  sg_click_model_free(&m);
}
