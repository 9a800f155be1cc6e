/* Replenishment arithmetic against hand-computed cases (numbers worked out from the formulas in
 * kernels/arima/replenish.h with z(0.95) = 1.6448536269514715), validation, and the bridge from
 * ARIMA forecast intervals to standard errors. */
#include <criterion/criterion.h>

#include "arima/replenish.h"
#include "common/backend.h"
#include "fixtures.h"

static const double flat_mean[4] = {10, 10, 10, 10}, flat_se[4] = {2, 2, 2, 2};

static sg_replenish_plan plan(const sg_replenish_item *it, double rho) {
  sg_replenish_plan p;
  sg_err e = {0};
  cr_assert_eq(sg_replenish_plan_batch(1, flat_mean, flat_se, 4, rho, it, &p, &e), SG_OK, "%s",
               e.msg);
  return p;
}

Test(replenish, periodic_review_with_independent_errors) {
  sg_replenish_item it = {.on_hand = 12,
                          .on_order = 5,
                          .lead_time = 2,
                          .review_period = 1,
                          .service_level = 0.95,
                          .moq = 0,
                          .pack_size = 6};
  sg_replenish_plan p = plan(&it, 0.0);
  cr_expect_float_eq(p.demand_lt, 20.0, 1e-12);
  cr_expect_float_eq(p.sd_lt, sqrt(8.0), 1e-12);
  cr_expect_float_eq(p.demand_pi, 30.0, 1e-12);
  cr_expect_float_eq(p.sd_pi, sqrt(12.0), 1e-12);
  cr_expect_float_eq(p.safety_stock, 5.697940105787786, 1e-9);
  cr_expect_float_eq(p.reorder_point, 24.652348614706693, 1e-9);
  cr_expect_float_eq(p.order_up_to, 35.69794010578779, 1e-9);
  cr_expect_float_eq(p.position, 17.0, 1e-12);
  cr_expect_float_eq(p.order_qty, 24.0, 1e-12, "18.70 rounded up to packs of 6: %g", p.order_qty);
}

Test(replenish, perfectly_correlated_errors_add_standard_deviations) {
  sg_replenish_item it = {.on_hand = 12,
                          .on_order = 5,
                          .lead_time = 2,
                          .review_period = 1,
                          .service_level = 0.95,
                          .pack_size = 1};
  sg_replenish_plan p = plan(&it, 1.0);
  cr_expect_float_eq(p.sd_pi, 6.0, 1e-12);
  cr_expect_float_eq(p.order_up_to, 39.869121761708826, 1e-9);
  cr_expect_float_eq(p.order_qty, 23.0, 1e-12, "22.87 in single units: %g", p.order_qty);
}

Test(replenish, continuous_review_orders_only_at_the_reorder_point) {
  sg_replenish_item it = {.on_hand = 35,
                          .lead_time = 3,
                          .review_period = 0,
                          .service_level = 0.95,
                          .moq = 10,
                          .pack_size = 4};
  sg_replenish_plan p = plan(&it, 0.0);
  cr_expect_float_eq(p.reorder_point, 35.69794010578779, 1e-9);
  cr_expect_float_eq(p.order_qty, 12.0, 1e-12, "0.70 short: MOQ 10, packs of 4 -> 12 (%g)",
                     p.order_qty);
  it.on_hand = 36; /* above the reorder point: no order */
  cr_expect_eq(plan(&it, 0.0).order_qty, 0.0);
  it.on_hand = 30, it.backorders = 5, it.on_order = 4; /* position 29 */
  cr_expect_float_eq(plan(&it, 0.0).position, 29.0, 1e-12);
  cr_expect_float_eq(plan(&it, 0.0).order_qty, 12.0, 1e-12, "6.70 short -> MOQ 10 -> 12");
}

Test(replenish, covered_position_orders_nothing_and_negative_means_count_as_zero) {
  sg_replenish_item it = {
      .on_hand = 50, .lead_time = 2, .review_period = 1, .service_level = 0.95, .pack_size = 1};
  cr_expect_eq(plan(&it, 0.0).order_qty, 0.0);
  double mu[2] = {-5, 10}, se[2] = {1, 1};
  sg_replenish_item it2 = {
      .lead_time = 1, .review_period = 1, .service_level = 0.9, .pack_size = 1};
  sg_replenish_plan p;
  sg_err e = {0};
  cr_assert_eq(sg_replenish_plan_batch(1, mu, se, 2, 0.0, &it2, &p, &e), SG_OK);
  cr_expect_eq(p.demand_lt, 0.0);
  cr_expect_float_eq(p.order_up_to, 11.812387604873647, 1e-9);
  cr_expect_float_eq(p.order_qty, 12.0, 1e-12);
}

Test(replenish, rejects_bad_items_naming_the_field) {
  sg_replenish_item ok = {.lead_time = 1, .review_period = 1, .service_level = 0.9, .pack_size = 1};
  struct {
    sg_replenish_item it;
    const char *needle;
  } bad[] = {
      {{.lead_time = -1, .service_level = 0.9, .pack_size = 1}, "items[0].lead_time"},
      {{.review_period = -2, .service_level = 0.9, .pack_size = 1}, "items[0].review_period"},
      {{.lead_time = 3, .review_period = 2, .service_level = 0.9, .pack_size = 1}, "horizon"},
      {{.lead_time = 1, .service_level = 1.0, .pack_size = 1}, "items[0].service_level"},
      {{.lead_time = 1, .service_level = 0.9, .pack_size = 0}, "items[0].pack_size"},
      {{.lead_time = 1, .service_level = 0.9, .pack_size = 1, .moq = -1}, "items[0].moq"},
      {{.lead_time = 1, .service_level = 0.9, .pack_size = 1, .on_hand = NAN}, "items[0].on_hand"},
      {{.lead_time = 1, .service_level = 0.9, .pack_size = 1, .backorders = INFINITY},
       "items[0].backorders"},
      {{.lead_time = 1, .service_level = 0.9, .pack_size = NAN}, "items[0].pack_size"},
      {{.lead_time = 1, .service_level = NAN, .pack_size = 1}, "items[0].service_level"},
      {{.lead_time = 1, .service_level = 0.9, .pack_size = 1e-308}, "items[0]: the plan overflows"},
  };
  sg_replenish_plan p;
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    sg_err e = {0};
    cr_expect_eq(sg_replenish_plan_batch(1, flat_mean, flat_se, 4, 0.0, &bad[i].it, &p, &e),
                 SG_INVALID_ARGUMENT, "%s", bad[i].needle);
    cr_expect(strstr(e.msg, bad[i].needle), "'%s' should name %s", e.msg, bad[i].needle);
  }
  sg_err e = {0};
  cr_expect_eq(sg_replenish_plan_batch(1, flat_mean, flat_se, 4, 1.5, &ok, &p, &e),
               SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, "rho"), "%s", e.msg);
  double se_bad[4] = {2, -1, 2, 2};
  sg_err_clear(&e);
  cr_expect_eq(sg_replenish_plan_batch(1, flat_mean, se_bad, 4, 0.0, &ok, &p, &e),
               SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, "items[0].se[1]"), "%s", e.msg);
  double huge[4] = {1e308, 1e308, 1e308, 1e308};
  sg_err_clear(&e);
  cr_expect_eq(sg_replenish_plan_batch(1, huge, huge, 4, 0.0, &ok, &p, &e), SG_INVALID_ARGUMENT,
               "sums of means near DBL_MAX overflow");
  cr_expect(strstr(e.msg, "overflows"), "%s", e.msg);
  sg_err_clear(&e);
  cr_expect_eq(sg_replenish_plan_batch(1, NULL, flat_se, 4, 0.0, &ok, &p, &e), SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, "mean"), "%s", e.msg);
}

Test(replenish, standard_errors_come_back_from_arima_intervals) {
  fx_series s;
  cr_assert(fx_load_series("lh", &s));
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CPU};
  sg_backend *be = sg_backend_open(&cfg, &e);
  sg_exec *x = sg_exec_create(be, &e);
  size_t off[2] = {0, (size_t)s.n};
  sg_arima_input in = {.n_series = 1, .values = s.v, .offsets = off};
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.search = SG_ARIMA_FIXED;
  spec.p = 1;
  spec.method = SG_ARIMA_METHOD_ML;
  spec.h = 4;
  sg_arima_results *r;
  cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &r, &e), SG_OK, "%s", e.msg);
  double se80[4], se95[4];
  cr_assert_eq(sg_arima_forecast_se(r, 0, 0, se80, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(sg_arima_forecast_se(r, 0, 1, se95, &e), SG_OK, "%s", e.msg);
  /* R: predict(arima(lh, c(1,0,0)), 4)$se */
  const double want[4] = {0.444397865762, 0.512389709567};
  for (int k = 0; k < 2; k++)
    cr_expect_float_eq(se95[k], want[k], 2e-3 * want[k], "h %d", k + 1);
  for (int k = 0; k < 4; k++)
    cr_expect_float_eq(se80[k], se95[k], 1e-9, "both levels, one se");
  cr_expect_eq(sg_arima_forecast_se(r, 1, 0, se80, &e), SG_INVALID_ARGUMENT);
  cr_expect_eq(sg_arima_forecast_se(r, 0, 2, se80, &e), SG_INVALID_ARGUMENT);
  sg_arima_results_free(r);
  sg_exec_destroy(x);
  sg_backend_close(be);
}
