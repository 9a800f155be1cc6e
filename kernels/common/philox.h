/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
 * counter-based generator shared by the CPU and CUDA backends: a seed and a counter give the same
 * four words on both, so a seeded run (negative sampling, initial vectors, ant choices) is the
 * same stream wherever it runs. Checked against Random123's published known-answer vectors.
 *
 * Convention for streams: key = seed (low, high words); counter = {index low, index high,
 * stream low, stream high}. Draw i of stream s is word (i % 4) of block i / 4. */
#ifndef SG_COMMON_PHILOX_H
#define SG_COMMON_PHILOX_H

#include <stdint.h>

#include "hd.h"

SG_BEGIN_DECLS

typedef struct sg_philox4 {
  uint32_t v[4];
} sg_philox4;

#define SG_PHILOX_M0 0xD2511F53u
#define SG_PHILOX_M1 0xCD9E8D57u
#define SG_PHILOX_W0 0x9E3779B9u
#define SG_PHILOX_W1 0xBB67AE85u

static SG_INLINE SG_HD uint32_t sg__mulhilo32(uint32_t a, uint32_t b, uint32_t *hi) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  return (uint32_t)p;
}

static SG_INLINE SG_HD sg_philox4 sg__philox_round(sg_philox4 c, uint32_t k0, uint32_t k1) {
  uint32_t hi0, hi1;
  uint32_t lo0 = sg__mulhilo32(SG_PHILOX_M0, c.v[0], &hi0);
  uint32_t lo1 = sg__mulhilo32(SG_PHILOX_M1, c.v[2], &hi1);
  sg_philox4 r;
  r.v[0] = hi1 ^ c.v[1] ^ k0;
  r.v[1] = lo1;
  r.v[2] = hi0 ^ c.v[3] ^ k1;
  r.v[3] = lo0;
  return r;
}

/* The raw bijection: 10 rounds of counter ctr under key (k0, k1). */
static SG_INLINE SG_HD sg_philox4 sg_philox4x32_10(sg_philox4 ctr, uint32_t k0, uint32_t k1) {
  for (int i = 0; i < 10; i++) {
    if (i > 0) {
      k0 += SG_PHILOX_W0;
      k1 += SG_PHILOX_W1;
    }
    ctr = sg__philox_round(ctr, k0, k1);
  }
  return ctr;
}

/* Block `block` of stream `stream` under `seed`: four independent 32-bit words. */
static SG_INLINE SG_HD sg_philox4 sg_philox_block(uint64_t seed, uint64_t stream, uint64_t block) {
  sg_philox4 c;
  c.v[0] = (uint32_t)block;
  c.v[1] = (uint32_t)(block >> 32);
  c.v[2] = (uint32_t)stream;
  c.v[3] = (uint32_t)(stream >> 32);
  return sg_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* Draw `index` (0, 1, 2, ...) of stream `stream`: one 32-bit word. */
static SG_INLINE SG_HD uint32_t sg_philox_u32(uint64_t seed, uint64_t stream, uint64_t index) {
  sg_philox4 b = sg_philox_block(seed, stream, index >> 2);
  return b.v[index & 3u];
}

/* A word to a float uniform in [0, 1): the top 24 bits times 2^-24, exact in float32. */
static SG_INLINE SG_HD float sg_philox_to_unit(uint32_t x) {
  return (float)(x >> 8) * (1.0f / 16777216.0f);
}

/* A word to a float uniform in (0, 1]: never 0, safe for logf. */
static SG_INLINE SG_HD float sg_philox_to_unit_open0(uint32_t x) {
  return ((float)(x >> 8) + 1.0f) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n) for n > 0, by multiply-shift (bias below 2^-32 × n). */
static SG_INLINE SG_HD uint32_t sg_philox_to_below(uint32_t x, uint32_t n) {
  return (uint32_t)(((uint64_t)x * (uint64_t)n) >> 32);
}

SG_END_DECLS

#endif
