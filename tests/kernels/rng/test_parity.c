/* The rng op on CUDA equals the CPU backend bit for bit (label gpu). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/backend.h"
#include "rng/rng.h"

Test(rng_parity, cuda_matches_cpu_bit_for_bit) {
  sg_err e = {0};
  sg_backend_config ccfg = {.kind = SG_BACKEND_CPU}, gcfg = {.kind = SG_BACKEND_CUDA};
  sg_backend *cpu = sg_backend_open(&ccfg, &e), *gpu = sg_backend_open(&gcfg, &e);
  cr_assert_not_null(gpu, "%s", e.msg);
  sg_exec *xc = sg_exec_create(cpu, &e), *xg = sg_exec_create(gpu, &e);
  cr_assert_not_null(xg, "%s", e.msg);
  uint64_t seed = (uint64_t)time(NULL);
  printf("seed %llu\n", (unsigned long long)seed);
  size_t sizes[] = {1, 3, 1000, 1000003};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t n = sizes[s];
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    cr_assert_eq(sg_rng_uniform(xc, seed, s, 11 * s, n, a, &e), SG_OK, "%s", e.msg);
    cr_assert_eq(sg_rng_uniform(xg, seed, s, 11 * s, n, b, &e), SG_OK, "%s", e.msg);
    for (size_t i = 0; i < n; i++)
      cr_assert_eq(a[i], b[i], "n %zu draw %zu", n, i);
    free(a);
    free(b);
  }
  sg_exec_destroy(xc);
  sg_exec_destroy(xg);
  sg_backend_close(cpu);
  sg_backend_close(gpu);
}
