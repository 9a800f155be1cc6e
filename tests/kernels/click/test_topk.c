/* Top-K and RecommendAll ranges on the CPU backend against a full sort in double precision:
 * random cases (exact on quantised models, where ties are real), ties, k > n_items, exclusions,
 * ranges vs lists, and bad input. */
#include "click_test.h"

static ct_cpu cpu;
static void setup(void) { cpu = ct_open_cpu(2); }
static void teardown(void) { ct_close(&cpu); }
TestSuite(click_topk, .init = setup, .fini = teardown);

static void run_case(uint64_t seed, int exact, int inter) {
  ct_rng g = {seed};
  uint32_t nu = 1 + ct_below(&g, 40), ni = 1 + ct_below(&g, 2600), dim = 1 + ct_below(&g, 24);
  uint32_t k = ct_below(&g, 4) == 0 ? ni + 1 + ct_below(&g, 5) : 1 + ct_below(&g, 60);
  if (k > SG_CLICK_MAX_K) k = SG_CLICK_MAX_K;
  sg_click_model m;
  ct_random_model(&m, nu, ni, dim, inter, 1.0 / sqrt(dim), exact, seed);
  size_t n = 1 + ct_below(&g, 30);
  uint32_t *users = malloc(n * sizeof *users);
  for (size_t j = 0; j < n; j++)
    users[j] = ct_below(&g, nu);
  uint64_t *off;
  uint32_t *exi;
  random_exclusions(&g, n, ni, &off, &exi);
  sg_click_exclude ex = {off, exi};
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  result r = result_new(n, k);
  cr_assert_eq(sg_click_topk(cpu.x, p, users, n, k, &ex, &r.out, &e), SG_OK, "%s", e.msg);
  char what[160];
  snprintf(what, sizeof what, "case seed %llu (users %u items %u dim %u k %u inter %d)",
           (unsigned long long)seed, nu, ni, dim, k, inter);
  for (size_t j = 0; j < n; j++) {
    check_row(&m, users[j], k, exi + off[j], off[j + 1] - off[j], r.items + j * k, r.scores + j * k,
              r.counts[j], exact, what);
  }
  result_free(&r);
  sg_click_unplace(p);
  free(users);
  free(off);
  free(exi);
  sg_click_model_free(&m);
}

Test(click_topk, equals_full_sort_on_quantised_models_with_ties) {
  uint64_t seed = ct_seed("equals_full_sort_on_quantised_models_with_ties");
  for (int c = 0; c < 12; c++)
    run_case(seed + (uint64_t)c, 1, c % 3 != 0);
}

Test(click_topk, equals_full_sort_on_random_models) {
  uint64_t seed = ct_seed("equals_full_sort_on_random_models");
  for (int c = 0; c < 12; c++)
    run_case(seed * 31 + (uint64_t)c, 0, c % 3 != 0);
}

Test(click_topk, ties_go_to_the_lower_item_id) {
  sg_click_model m;
  ct_random_model(&m, 3, 2000, 4, 1, 0.5, 0, 1);
  for (uint32_t i = 1; i < 2000; i++)
    memcpy(m.V + i * 4, m.V, 4 * sizeof(float));
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  uint64_t off[2] = {0, 3};
  uint32_t exi[3] = {0, 2, 1500}, user = 1;
  sg_click_exclude ex = {off, exi};
  result r = result_new(1, 5);
  cr_assert_eq(sg_click_topk(cpu.x, p, &user, 1, 5, &ex, &r.out, &e), SG_OK, "%s", e.msg);
  const uint32_t want[5] = {1, 3, 4, 5, 6};
  cr_assert_arr_eq(r.items, want, sizeof want);
  cr_assert_eq(r.counts[0], 5);
  result_free(&r);
  sg_click_unplace(p);
  sg_click_model_free(&m);
}

Test(click_topk, k_above_the_available_items_fills_what_there_is) {
  sg_click_model m;
  ct_random_model(&m, 2, 5, 3, 1, 0.5, 0, 2);
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  uint32_t users[2] = {0, 1};
  uint64_t off[3] = {0, 0, 3};
  uint32_t exi[3] = {0, 3, 4};
  sg_click_exclude ex = {off, exi};
  result r = result_new(2, 8);
  cr_assert_eq(sg_click_topk(cpu.x, p, users, 2, 8, &ex, &r.out, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(r.counts[0], 5);
  cr_assert_eq(r.counts[1], 2);
  check_row(&m, 0, 8, NULL, 0, r.items, r.scores, r.counts[0], 0, "user 0");
  check_row(&m, 1, 8, exi, 3, r.items + 8, r.scores + 8, r.counts[1], 0, "user 1");
  result_free(&r);
  sg_click_unplace(p);
  sg_click_model_free(&m);
}

Test(click_topk, ranges_in_blocks_equal_one_list_call) {
  uint64_t seed = ct_seed("ranges_in_blocks_equal_one_list_call");
  for (int inter = 0; inter <= 1; inter++) {
    sg_click_model m;
    ct_random_model(&m, 700, 1300, 8, inter, 0.4, 0, seed + inter);
    ct_rng g = {seed};
    uint64_t *off;
    uint32_t *exi;
    random_exclusions(&g, 700, 1300, &off, &exi);
    sg_click_exclude ex = {off, exi};
    sg_click_placed *p = NULL;
    sg_err e = {0};
    cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
    uint32_t *users = malloc(700 * sizeof *users);
    for (uint32_t u = 0; u < 700; u++)
      users[u] = u;
    const uint32_t k = 7;
    result all = result_new(700, k), part = result_new(700, k);
    cr_assert_eq(sg_click_topk(cpu.x, p, users, 700, k, &ex, &all.out, &e), SG_OK, "%s", e.msg);
    for (uint32_t b = 0; b < 700; b += 97) {
      uint32_t end = b + 97 < 700 ? b + 97 : 700;
      sg_click_topk_out o = {part.items + b * k, part.scores + b * k, part.counts + b};
      cr_assert_eq(sg_click_topk_range(cpu.x, p, b, end, k, &ex, &o, &e), SG_OK, "%s", e.msg);
    }
    /* blocks of another size may sum the GEMM in another order: the same up to rounding */
    cr_assert_arr_eq(all.counts, part.counts, 700 * sizeof(uint32_t));
    for (uint32_t u = 0; u < 700; u++) {
      check_row(&m, u, k, exi + off[u], off[u + 1] - off[u], part.items + u * k,
                part.scores + u * k, part.counts[u], 0, "range");
      for (uint32_t r = 0; r < k; r++) {
        cr_assert_float_eq(all.scores[u * k + r], part.scores[u * k + r], 1e-6);
      }
    }
    result_free(&all);
    result_free(&part);
    free(users);
    free(off);
    free(exi);
    sg_click_unplace(p);
    sg_click_model_free(&m);
  }
}

Test(click_topk, scores_equal_pair_scoring) {
  sg_click_model m;
  ct_random_model(&m, 20, 300, 16, 1, 0.3, 0, 9);
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  result r = result_new(20, 10);
  cr_assert_eq(sg_click_topk_range(cpu.x, p, 0, 20, 10, NULL, &r.out, &e), SG_OK, "%s", e.msg);
  uint32_t users[200];
  float pair[200];
  for (int j = 0; j < 200; j++)
    users[j] = (uint32_t)j / 10;
  cr_assert_eq(sg_click_score(cpu.x, p, users, r.items, 200, pair, &e), SG_OK, "%s", e.msg);
  for (int j = 0; j < 200; j++)
    cr_assert_float_eq(r.scores[j], pair[j], 1e-6, "slot %d", j);
  result_free(&r);
  sg_click_unplace(p);
  sg_click_model_free(&m);
}

Test(click_topk, rejects_bad_input_naming_the_field) {
  sg_click_model m;
  ct_random_model(&m, 5, 6, 2, 1, 0.5, 0, 4);
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, &m, &p, &e), SG_OK, "%s", e.msg);
  result r = result_new(2, 3);
  uint32_t users[2] = {1, 7};
  struct {
    sg_status st;
    const char *msg;
  } want[] = {
      {SG_INVALID_ARGUMENT, "click_topk: k is 0"},
      {SG_INVALID_ARGUMENT, "click_topk: k 1025 > 1024"},
      {SG_INVALID_ARGUMENT, "click_topk: users is empty (n = 0)"},
      {SG_INVALID_ARGUMENT, "users[1]: id 7 >= n_users 5"},
      {SG_INVALID_ARGUMENT, "exclude row 0: items[1] = 2 after 4 (not ascending)"},
      {SG_INVALID_ARGUMENT, "exclude row 1: items[2] = 6 >= n_items 6"},
      {SG_INVALID_ARGUMENT, "exclude: offsets[1] = 0 < offsets[0] = 2"},
      {SG_INVALID_ARGUMENT, "click_topk_range: user range [3, 3) is empty"},
      {SG_INVALID_ARGUMENT, "click_topk_range: user_end 6 > n_users 5"},
      {SG_INVALID_ARGUMENT, "click_topk: out.scores is NULL"},
  };
  sg_status got[10];
  char msgs[10][SG_ERR_MSG_MAX];
  uint64_t off_bad_order[3] = {0, 2, 2}, off_bad_range[3] = {0, 0, 3}, off_dec[3] = {2, 0, 0};
  uint32_t exi_order[2] = {4, 2}, exi_range[3] = {1, 2, 6};
  uint32_t ok_users[2] = {1, 2};
  sg_click_exclude e1 = {off_bad_order, exi_order}, e2 = {off_bad_range, exi_range},
                   e3 = {off_dec, exi_range};
  sg_click_topk_out no_scores = {r.items, NULL, r.counts};
  for (int t = 0; t < 10; t++) {
    sg_err_clear(&e);
    switch (t) {
    case 0: got[t] = sg_click_topk(cpu.x, p, ok_users, 2, 0, NULL, &r.out, &e); break;
    case 1: got[t] = sg_click_topk(cpu.x, p, ok_users, 2, 1025, NULL, &r.out, &e); break;
    case 2: got[t] = sg_click_topk(cpu.x, p, ok_users, 0, 3, NULL, &r.out, &e); break;
    case 3: got[t] = sg_click_topk(cpu.x, p, users, 2, 3, NULL, &r.out, &e); break;
    case 4: got[t] = sg_click_topk(cpu.x, p, ok_users, 2, 3, &e1, &r.out, &e); break;
    case 5: got[t] = sg_click_topk(cpu.x, p, ok_users, 2, 3, &e2, &r.out, &e); break;
    case 6: got[t] = sg_click_topk(cpu.x, p, ok_users, 2, 3, &e3, &r.out, &e); break;
    case 7: got[t] = sg_click_topk_range(cpu.x, p, 3, 3, 3, NULL, &r.out, &e); break;
    case 8: got[t] = sg_click_topk_range(cpu.x, p, 4, 6, 3, NULL, &r.out, &e); break;
    case 9: got[t] = sg_click_topk(cpu.x, p, ok_users, 2, 3, NULL, &no_scores, &e); break;
    }
    snprintf(msgs[t], sizeof msgs[t], "%s", e.msg);
  }
  for (int t = 0; t < 10; t++) {
    cr_expect_eq(got[t], want[t].st, "case %d: status %d", t, got[t]);
    cr_expect_str_eq(msgs[t], want[t].msg, "case %d", t);
  }
  result_free(&r);
  sg_click_unplace(p);
  sg_click_model_free(&m);
}
