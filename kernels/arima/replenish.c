/* Replenishment arithmetic (formulas in replenish.h): validation, then one pass per item. */
#include "replenish.h"

#include <math.h>

#include "arima_core.h"

static sg_status check_item(const sg_replenish_item *it, size_t i, int h, sg_err *err) {
  if (it->lead_time < 0 || it->review_period < 0) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "items[%zu].%s: %d < 0", i,
                      it->lead_time < 0 ? "lead_time" : "review_period",
                      it->lead_time < 0 ? it->lead_time : it->review_period);
  }
  if ((long)it->lead_time + it->review_period > h) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "items[%zu]: lead_time %d + review_period %d > forecast horizon h %d", i,
                      it->lead_time, it->review_period, h);
  }
  if (!(it->service_level > 0.0 && it->service_level < 1.0)) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "items[%zu].service_level: %g outside (0, 1)", i,
                      it->service_level);
  }
  if (!(it->moq >= 0.0) || !isfinite(it->moq))
    return sg_err_set(err, SG_INVALID_ARGUMENT, "items[%zu].moq: %g is not a finite number >= 0", i,
                      it->moq);
  if (!(it->pack_size > 0.0) || !isfinite(it->pack_size))
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "items[%zu].pack_size: %g is not a finite number > 0", i, it->pack_size);
  const char *bad = !isfinite(it->on_hand)      ? "on_hand"
                    : !isfinite(it->on_order)   ? "on_order"
                    : !isfinite(it->backorders) ? "backorders"
                                                : NULL;
  if (bad) {
    double v = !isfinite(it->on_hand)    ? it->on_hand
               : !isfinite(it->on_order) ? it->on_order
                                         : it->backorders;
    return sg_err_set(err, SG_INVALID_ARGUMENT, "items[%zu].%s: %g is not finite", i, bad, v);
  }
  return SG_OK;
}

/* sum of max(mu,0) and the standard deviation over the first k periods */
static void horizon(const double *mu, const double *se, int k, double rho, double *sum,
                    double *sd) {
  double s = 0.0, v = 0.0, acc = 0.0;
  for (int j = 0; j < k; j++) {
    s += mu[j] > 0.0 ? mu[j] : 0.0;
    v += se[j] * se[j] + 2.0 * rho * se[j] * acc;
    acc += se[j];
  }
  *sum = s;
  *sd = sqrt(v > 0.0 ? v : 0.0);
}

static double round_up(double q, double pack) {
  double packs = ceil(q / pack - 1e-9);
  return packs * pack;
}

static void plan_one(const double *mu, const double *se, double rho, const sg_replenish_item *it,
                     sg_replenish_plan *p) {
  int L = it->lead_time, T = it->lead_time + it->review_period;
  double z = sg__arima_qnorm(it->service_level);
  horizon(mu, se, L, rho, &p->demand_lt, &p->sd_lt);
  horizon(mu, se, T, rho, &p->demand_pi, &p->sd_pi);
  p->safety_stock = fmax(0.0, z * p->sd_pi);
  p->reorder_point = p->demand_lt + fmax(0.0, z * p->sd_lt);
  p->order_up_to = p->demand_pi + p->safety_stock;
  p->position = it->on_hand + it->on_order - it->backorders;
  p->order_qty = 0.0;
  int due =
      p->position < p->order_up_to && (it->review_period > 0 || p->position <= p->reorder_point);
  if (due) {
    double q = fmax(p->order_up_to - p->position, it->moq);
    p->order_qty = round_up(q, it->pack_size);
  }
}

sg_status sg_replenish_plan_batch(size_t n, const double *mean, const double *se, int h, double rho,
                                  const sg_replenish_item *items, sg_replenish_plan *plans,
                                  sg_err *err) {
  if (n == 0) return SG_OK;
  if (!mean || !se || !items || !plans) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "replenish: %s is NULL",
                      !mean    ? "mean"
                      : !se    ? "se"
                      : !items ? "items"
                               : "plans");
  }
  if (h < 1) return sg_err_set(err, SG_INVALID_ARGUMENT, "replenish: h %d < 1", h);
  if (!(rho >= 0.0 && rho <= 1.0))
    return sg_err_set(err, SG_INVALID_ARGUMENT, "replenish: rho %g outside [0, 1]", rho);
  for (size_t i = 0; i < n; i++) {
    SG_TRY(check_item(&items[i], i, h, err));
    for (int k = 0; k < h; k++) {
      double m = mean[i * (size_t)h + k], s = se[i * (size_t)h + k];
      if (!isfinite(m))
        return sg_err_set(err, SG_INVALID_ARGUMENT, "items[%zu].mean[%d]: %g is not finite", i, k,
                          m);
      if (!(s >= 0.0) || !isfinite(s))
        return sg_err_set(err, SG_INVALID_ARGUMENT,
                          "items[%zu].se[%d]: %g is not a finite number >= 0", i, k, s);
    }
  }
  for (size_t i = 0; i < n; i++) {
    sg_replenish_plan *p = &plans[i];
    plan_one(mean + i * (size_t)h, se + i * (size_t)h, rho, &items[i], p);
    /* finite inputs can still overflow (means near DBL_MAX, a pack size of 1e-300) */
    if (!isfinite(p->demand_pi) || !isfinite(p->sd_pi) || !isfinite(p->safety_stock) ||
        !isfinite(p->reorder_point) || !isfinite(p->order_up_to) || !isfinite(p->position) ||
        !isfinite(p->order_qty))
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "items[%zu]: the plan overflows (mean, se, inventory or pack_size out of "
                        "range)",
                        i);
  }
  return SG_OK;
}

sg_status sg_arima_forecast_se(const sg_arima_results *r, size_t series, int level_index,
                               double *se, sg_err *err) {
  if (!r || !se) return sg_err_set(err, SG_INVALID_ARGUMENT, "arima_forecast_se: NULL argument");
  if (series >= r->n_series)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "series: %zu >= n_series %zu", series, r->n_series);
  if (level_index < 0 || level_index >= r->n_levels) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "level_index: %d outside [0, %d)", level_index,
                      r->n_levels);
  }
  double z = sg__arima_qnorm(0.5 + r->levels[level_index] / 200.0);
  size_t h = (size_t)r->h;
  const double *mu = r->mean + series * h;
  const double *up = r->upper + (series * (size_t)r->n_levels + (size_t)level_index) * h;
  for (size_t k = 0; k < h; k++) {
    if (!isfinite(mu[k]) || !isfinite(up[k])) {
      return sg_err_set(err, SG_FAILED_PRECONDITION, "series %zu: no forecast (status %s)", series,
                        sg_arima_status_name(r->fits[series].status));
    }
    se[k] = (up[k] - mu[k]) / z;
  }
  return SG_OK;
}
