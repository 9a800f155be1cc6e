/* Replenishment arithmetic from a demand forecast (pure CPU, no backend): safety stock, reorder
 * point, order-up-to level and a suggested order quantity per SKU.
 *
 * For SKU i with forecast means mu_k and forecast standard errors s_k (k = 1..h, demand per
 * period; e.g. an ARIMA forecast's mean and (upper - mean) / z), lead time L and review period R
 * (periods; protection interval T = L + R, requires h >= T):
 *   mu_L = sum_{k<=L} max(mu_k, 0),            mu_T = sum_{k<=T} max(mu_k, 0)
 *   var_X = sum_{k<=X} s_k^2 + 2 rho sum_{j<k<=X} s_j s_k     (X = L or T)
 * rho is the assumed correlation between forecast errors of different periods, the same for
 * every pair: 0 = independent errors (the usual textbook assumption; understates the spread of
 * integrated models, whose errors are positively correlated), 1 = perfectly correlated
 * (sigma_X = sum s_k, conservative).
 *   z              = Phi^{-1}(service_level)        (cycle service level, 0 < level < 1)
 *   safety_stock   = max(0, z sigma_T)
 *   reorder_point  = mu_L + max(0, z sigma_L)        (the trigger under continuous review)
 *   order_up_to    = mu_T + safety_stock             (the target level S)
 *   position       = on_hand + on_order - backorders (inventory position)
 * An order is due when position < order_up_to and (R > 0, a review, or position <= reorder_point);
 * then quantity = order_up_to - position, raised to at least moq, rounded up to a whole number
 * of packs (pack_size > 0; 1 = single units). Otherwise quantity = 0. */
#ifndef SG_ARIMA_REPLENISH_H
#define SG_ARIMA_REPLENISH_H

#include <stddef.h>

#include "../common/status.h"
#include "arima.h"

SG_BEGIN_DECLS

typedef struct sg_replenish_item {
  double on_hand, on_order, backorders; /* units */
  int lead_time;                        /* periods >= 0 */
  int review_period;                    /* periods >= 0 (0 = continuous review) */
  double service_level;                 /* in (0, 1), e.g. 0.95 */
  double moq;                           /* minimum order quantity, >= 0 */
  double pack_size;                     /* > 0 */
} sg_replenish_item;

typedef struct sg_replenish_plan {
  double demand_lt, sd_lt; /* mu_L, sigma_L */
  double demand_pi, sd_pi; /* mu_T, sigma_T (protection interval) */
  double safety_stock, reorder_point, order_up_to, position;
  double order_qty; /* 0 when no order is due */
} sg_replenish_plan;

/* Plans n items. mean and se are row-major n x h (ld = h); items[n]; plans[n] (caller-owned).
 * Errors (SG_INVALID_ARGUMENT naming the field): NULL arrays with n > 0, h < 1, rho outside
 * [0, 1], items[i].lead_time or review_period < 0, h < lead_time + review_period,
 * service_level outside (0, 1), moq < 0, pack_size <= 0, a non-finite mean, se < 0 or NaN.
 * Thread-safe (no shared state). */
sg_status sg_replenish_plan_batch(size_t n, const double *mean, const double *se, int h, double rho,
                                  const sg_replenish_item *items, sg_replenish_plan *plans,
                                  sg_err *err);

/* Forecast standard errors of series `series` of ARIMA results, from interval `level_index`:
 * se[k] = (upper - mean) / z_level, k < r->h. SG_INVALID_ARGUMENT when the index is out of range
 * or the results have no levels; SG_FAILED_PRECONDITION when the series has no forecast. */
sg_status sg_arima_forecast_se(const sg_arima_results *r, size_t series, int level_index,
                               double *se, sg_err *err);

SG_END_DECLS

#endif
