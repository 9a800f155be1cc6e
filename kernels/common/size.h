/* Overflow-checked size arithmetic. Every size computed from request fields (rows × dim × 4)
 * goes through these, so a hostile or mistaken request becomes SG_OVERFLOW, never a short
 * allocation. Each returns 1 and writes *out on success, 0 on overflow (leaving *out alone). */
#ifndef SG_COMMON_SIZE_H
#define SG_COMMON_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include "hd.h"

SG_BEGIN_DECLS

static SG_INLINE SG_HD int sg_size_add(size_t a, size_t b, size_t *out) {
  if (a > SIZE_MAX - b) return 0;
  *out = a + b;
  return 1;
}

static SG_INLINE SG_HD int sg_size_mul(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return 0;
  *out = a * b;
  return 1;
}

/* a × b × c, the usual rows × cols × element size */
static SG_INLINE SG_HD int sg_size_mul3(size_t a, size_t b, size_t c, size_t *out) {
  size_t ab;
  return sg_size_mul(a, b, &ab) && sg_size_mul(ab, c, out);
}

/* a × b + c */
static SG_INLINE SG_HD int sg_size_muladd(size_t a, size_t b, size_t c, size_t *out) {
  size_t ab;
  return sg_size_mul(a, b, &ab) && sg_size_add(ab, c, out);
}

SG_END_DECLS

#endif
