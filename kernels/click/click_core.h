/* Click-model math shared by the CPU and CUDA backends (C11 and CUDA C++): the sigmoid and log
 * loss of a logit, the top-K order, the optimizer updates of one coordinate, and the Philox
 * streams every random draw of training comes from, so both backends see the same draws. */
#ifndef SG_CLICK_CORE_H
#define SG_CLICK_CORE_H

#include <math.h>
#include <stdint.h>

#include "../common/hd.h"
#include "../common/philox.h"

SG_BEGIN_DECLS

/* Philox streams (stream word of the counter) for each kind of draw of a seeded run. */
#define SG_CLICK_STREAM_SPLIT 0x100u   /* draw r: row r goes to validation */
#define SG_CLICK_STREAM_INIT_U 0x200u  /* initial U, two draws per value (Box-Muller) */
#define SG_CLICK_STREAM_INIT_V 0x300u  /* initial V */
#define SG_CLICK_STREAM_VNEG 0x400u    /* validation negatives */
#define SG_CLICK_STREAM_NEG 0x500u     /* training negatives: stream + (epoch << 16) */
#define SG_CLICK_STREAM_SHUFFLE 0x600u /* per-epoch shuffle: stream + (epoch << 16) */
#define SG_CLICK_NEG_TRIES 8u          /* redraws of a negative that hit a known positive */

/* Numerically stable logistic function. */
static SG_INLINE SG_HD float sg__click_sigmoid(float z) {
  if (z >= 0.0f) return 1.0f / (1.0f + expf(-z));
  float e = expf(z);
  return e / (1.0f + e);
}

static SG_INLINE SG_HD double sg__click_sigmoid_d(double z) {
  if (z >= 0.0) return 1.0 / (1.0 + exp(-z));
  double e = exp(z);
  return e / (1.0 + e);
}

/* Log loss of label y in [0, 1] at logit z: softplus(z) - y z, stable for any z. */
static SG_INLINE SG_HD double sg__click_logloss_logit(double z, double y) {
  double sp = (z > 0.0 ? z : 0.0) + log1p(exp(-fabs(z)));
  return sp - y * z;
}

/* Top-K order: 1 when (sa, ia) ranks before (sb, ib): higher logit, then lower item id. */
static SG_INLINE SG_HD int sg__click_before(float sa, uint32_t ia, float sb, uint32_t ib) {
  return sa > sb || (sa == sb && ia < ib);
}

/* Lazy Adam on one coordinate: theta, m, v updated in place; bc1 = 1 - beta1^t, bc2 = 1 -
 * beta2^t for the step t. */
static SG_INLINE SG_HD void sg__click_adam(float *theta, float *m, float *v, float g, float lr,
                                           float beta1, float beta2, float eps, float bc1,
                                           float bc2) {
  float mm = beta1 * *m + (1.0f - beta1) * g;
  float vv = beta2 * *v + (1.0f - beta2) * g * g;
  *m = mm;
  *v = vv;
  *theta -= lr * (mm / bc1) / (sqrtf(vv / bc2) + eps);
}

/* SGD with (heavy-ball) momentum on one coordinate: vel = mu vel + g; theta -= lr vel. */
static SG_INLINE SG_HD void sg__click_sgdm(float *theta, float *vel, float g, float lr, float mu) {
  float v = mu * *vel + g;
  *vel = v;
  *theta -= lr * v;
}

/* Standard normal draw `index` of a stream, from words 2 index and 2 index + 1 (Box-Muller). */
static SG_INLINE SG_HD float sg__click_normal(uint64_t seed, uint64_t stream, uint64_t index) {
  sg_philox4 blk = sg_philox_block(seed, stream, index >> 1);
  uint32_t w = (uint32_t)(index & 1u) * 2u;
  float u1 = sg_philox_to_unit_open0(blk.v[w]);
  float u2 = sg_philox_to_unit(blk.v[w + 1]);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.283185307179586f * u2);
}

SG_END_DECLS

#endif
