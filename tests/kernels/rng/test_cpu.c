/* The rng op on the CPU backend against a serial evaluation of the Philox stream. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/backend_impl.h"
#include "common/philox.h"
#include "rng/rng.h"

static sg_backend *be;
static sg_exec *x;
static void setup(void) {
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CPU};
  be = sg_backend_open(&cfg, &e);
  x = sg_exec_create(be, &e);
}
static void teardown(void) {
  sg_exec_destroy(x);
  sg_backend_close(be);
}

TestSuite(rng_cpu, .init = setup, .fini = teardown);

Test(rng_cpu, equals_the_serial_stream_across_threads) {
  uint64_t seed = (uint64_t)time(NULL);
  printf("seed %llu\n", (unsigned long long)seed);
  size_t n = 300007; /* above the parallel threshold, not a multiple of 4 */
  float *out = malloc(n * sizeof *out);
  sg_err e = {0};
  cr_assert_eq(sg_rng_uniform(x, seed, 5, 3, n, out, &e), SG_OK, "%s", e.msg);
  for (size_t i = 0; i < n; i++) {
    float want = (float)(sg_philox_u32(seed, 5, 3 + i) >> 8) / 16777216.0f;
    cr_assert_eq(out[i], want, "draw %zu", i);
  }
  free(out);
}

Test(rng_cpu, offsets_continue_the_same_stream) {
  float all[100], tail[63];
  sg_err e = {0};
  cr_assert_eq(sg_rng_uniform(x, 42, 0, 0, 100, all, &e), SG_OK);
  cr_assert_eq(sg_rng_uniform(x, 42, 0, 37, 63, tail, &e), SG_OK);
  cr_assert_arr_eq(all + 37, tail, sizeof tail);
}

Test(rng_cpu, rejects_null_output_and_overflowing_ranges) {
  sg_err e = {0};
  float out[4];
  cr_assert_eq(sg_rng_uniform(x, 1, 0, 0, 0, NULL, &e), SG_OK, "n = 0 is a no-op");
  cr_assert_eq(sg_rng_uniform(x, 1, 0, 0, 4, NULL, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "out"), "%s", e.msg);
  sg_err_clear(&e);
  cr_assert_eq(sg_rng_uniform(x, 1, 0, UINT64_MAX - 2, 4, out, &e), SG_OVERFLOW);
  cr_assert(strstr(e.msg, "offset"), "%s", e.msg);
}
