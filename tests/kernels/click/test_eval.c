/* Evaluation helpers against brute force (AUC by counting pairs) and hand-computed values. */
#include "click_test.h"

Test(click_eval, auc_equals_pair_counting_with_ties) {
  uint64_t seed = ct_seed("auc_equals_pair_counting_with_ties");
  ct_rng g = {seed};
  enum { N = 700 };
  float s[N];
  uint8_t y[N];
  for (int j = 0; j < N; j++) {
    s[j] = (float)ct_below(&g, 25) / 4.0f; /* many ties */
    y[j] = ct_unit(&g) < 0.2 + 0.03 * s[j];
  }
  double pairs = 0.0, wins = 0.0;
  for (int a = 0; a < N; a++) {
    for (int b = 0; b < N; b++) {
      if (!y[a] || y[b]) continue;
      pairs += 1.0;
      wins += s[a] > s[b] ? 1.0 : s[a] == s[b] ? 0.5 : 0.0;
    }
  }
  double auc;
  sg_err e = {0};
  cr_assert_eq(sg_click_auc(s, y, N, &auc, &e), SG_OK, "%s", e.msg);
  cr_assert_float_eq(auc, wins / pairs, 1e-12, "%.12f vs %.12f", auc, wins / pairs);
}

Test(click_eval, auc_needs_both_classes) {
  float s[3] = {0.1f, 0.2f, 0.3f};
  uint8_t y[3] = {1, 1, 1};
  double auc;
  sg_err e = {0};
  cr_assert_eq(sg_click_auc(s, y, 3, &auc, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "all 1"), "%s", e.msg);
  sg_err_clear(&e);
  cr_assert_eq(sg_click_auc(s, y, 0, &auc, &e), SG_INVALID_ARGUMENT);
}

Test(click_eval, logloss_of_known_values) {
  float p[3] = {0.5f, 0.9f, 0.0f};
  uint8_t y[3] = {1, 0, 0};
  double loss;
  sg_err e = {0};
  cr_assert_eq(sg_click_logloss(p, y, 3, &loss, &e), SG_OK, "%s", e.msg);
  double want = (-log(0.5) - log(0.1) - log(1.0 - 1e-7)) / 3.0;
  cr_assert_float_eq(loss, want, 1e-6);
}

Test(click_eval, ranking_metrics_by_hand) {
  /* user 0: recommended 5 1 7, relevant {1, 2}: one hit at rank 2
   * user 1: recommended 3 (count 1), relevant {3}: hit at rank 1
   * user 2: no relevant items: skipped */
  uint32_t rec[9] = {5, 1, 7, 3, SG_CLICK_NO_ITEM, SG_CLICK_NO_ITEM, 0, 1, 2};
  uint32_t counts[3] = {3, 1, 3};
  uint64_t off[4] = {0, 2, 3, 3};
  uint32_t rel[3] = {1, 2, 3};
  sg_click_rank_metrics m;
  sg_err e = {0};
  cr_assert_eq(sg_click_rank_eval(rec, counts, 3, 3, off, rel, &m, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(m.users, 2);
  cr_assert_float_eq(m.precision, (1.0 / 3 + 1.0 / 3) / 2, 1e-12);
  cr_assert_float_eq(m.recall, (0.5 + 1.0) / 2, 1e-12);
  double ndcg0 = (1.0 / log2(3.0)) / (1.0 + 1.0 / log2(3.0));
  cr_assert_float_eq(m.ndcg, (ndcg0 + 1.0) / 2, 1e-12);
  cr_assert_eq(sg_click_rank_eval(rec, counts, 3, 0, off, rel, &m, &e), SG_INVALID_ARGUMENT);
}
