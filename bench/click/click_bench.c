/* shopgpu-click-bench: speed of the click ops in-process, on a random model.
 *   shopgpu-click-bench [--machine] [--backend cpu|cuda] [--users N] [--items N] [--dim D]
 *       [--pairs N] [--reps R] [--k K] [--block B] [--what score|resident|topk|gemm|all] [--csv]
 *   score:    sg_click_score on N random (user, item) pairs from host memory: pairs/s
 *   resident: sg_click_score_resident, the pairs already in the backend's memory: pairs/s
 *   topk:     RecommendAll (sg_click_topk_range over every user, B users per step): seconds
 *   gemm:     the bare GEMM of the same shapes (OpenBLAS in the same tiles on the CPU; one cuBLAS
 *             SGEMM of users × items on CUDA): the floor RecommendAll is measured against
 * Prints the machine, then a markdown table (or RESULT,what,backend,... lines with --csv). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "click/click.h"
#include "machine.h"

#ifdef SG_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#endif

typedef struct opts {
  sg_backend_kind backend;
  uint32_t users, items, dim, k, block, reps;
  size_t pairs;
  const char *what;
  int csv, machine_only;
} opts;

static int usage(void) {
  fprintf(stderr, "usage: shopgpu-click-bench [--machine] [--backend cpu|cuda] [--users N] "
                  "[--items N] [--dim D] [--pairs N] [--reps R] [--k K] [--block B] "
                  "[--what score|resident|topk|gemm|all] [--csv]\n");
  return 2;
}

static int parse(int argc, char **argv, opts *o) {
  *o = (opts){SG_BACKEND_CPU, 100000, 20000, 64, 50, 8192, 5, 10000000, "all", 0, 0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    sg_err e = {0};
    if (!strcmp(a, "--machine")) {
      o->machine_only = 1;
    } else if (!strcmp(a, "--csv")) {
      o->csv = 1;
    } else if (!v) {
      return usage();
    } else if (!strcmp(a, "--backend")) {
      if (sg_backend_kind_parse(v, &o->backend, &e) != SG_OK) return usage();
      i++;
    } else if (!strcmp(a, "--what")) {
      o->what = argv[++i];
    } else {
      unsigned long long n = strtoull(v, NULL, 10);
      i++;
      if (!strcmp(a, "--users"))
        o->users = (uint32_t)n;
      else if (!strcmp(a, "--items"))
        o->items = (uint32_t)n;
      else if (!strcmp(a, "--dim"))
        o->dim = (uint32_t)n;
      else if (!strcmp(a, "--pairs"))
        o->pairs = (size_t)n;
      else if (!strcmp(a, "--reps"))
        o->reps = (uint32_t)n;
      else if (!strcmp(a, "--k"))
        o->k = (uint32_t)n;
      else if (!strcmp(a, "--block"))
        o->block = (uint32_t)n;
      else
        return usage();
    }
  }
  return 0;
}

static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* N(0, 0.1²)-ish values (sum of uniforms), fast for big models */
static void fill(float *a, size_t n, uint64_t seed) {
  uint64_t s = seed;
  for (size_t i = 0; i < n; i++) {
    uint64_t r = mix(&s);
    float u = (float)((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff)) / 65536.0f;
    a[i] = 0.2f * (u - 1.5f);
  }
}

/* CPU seconds of the whole process (all threads): less sensitive than wall time to other
 * processes on a shared machine */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void row(const opts *o, const char *what, const char *backend, double seconds, double cpu,
                double rate, const char *unit, const char *note) {
  if (o->csv) {
    printf("RESULT,%s,%s,%u,%u,%u,%zu,%u,%.6f,%.6g,%.6f\n", what, backend, o->users, o->items,
           o->dim, o->pairs, o->k, seconds, rate, cpu);
  } else {
    printf("| %s | %s | %u × %u, d %u | %s | %.4f | %.4f | %.4g %s |\n", what, backend, o->users,
           o->items, o->dim, note, seconds, cpu, rate, unit);
  }
}

static double bench_score(const opts *o, sg_exec *x, sg_click_placed *p, int resident) {
  uint32_t *users = malloc(o->pairs * 4), *items = malloc(o->pairs * 4);
  float *out = malloc(o->pairs * 4);
  uint64_t s = 7;
  for (size_t j = 0; j < o->pairs; j++) {
    users[j] = (uint32_t)(mix(&s) % o->users);
    items[j] = (uint32_t)(mix(&s) % o->items);
  }
  const uint32_t *u = users, *it = items;
  float *dst = out;
#ifdef SG_HAVE_CUDA
  void *dev[3] = {NULL, NULL, NULL};
  if (resident && sg_backend_kind_of(sg_exec_backend(x)) == SG_BACKEND_CUDA) {
    for (int i = 0; i < 3; i++)
      cudaMalloc(&dev[i], o->pairs * 4);
    cudaMemcpy(dev[0], users, o->pairs * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(dev[1], items, o->pairs * 4, cudaMemcpyHostToDevice);
    u = dev[0];
    it = dev[1];
    dst = dev[2];
  }
#endif
  sg_err e = {0};
  double best = 1e30;
  for (uint32_t r = 0; r <= o->reps; r++) { /* rep 0 warms up */
    double t0 = sg_bench_now();
    sg_status st = resident ? sg_click_score_resident(x, p, u, it, o->pairs, dst, &e)
                            : sg_click_score(x, p, u, it, o->pairs, dst, &e);
    double t = sg_bench_now() - t0;
    if (st != SG_OK) {
      fprintf(stderr, "score: %s\n", e.msg);
      exit(1);
    }
    if (r > 0 && t < best) best = t;
  }
#ifdef SG_HAVE_CUDA
  for (int i = 0; i < 3; i++)
    cudaFree(dev[i]);
#endif
  free(users);
  free(items);
  free(out);
  return best;
}

static double bench_topk(const opts *o, sg_exec *x, sg_click_placed *p) {
  size_t b = o->block;
  uint32_t *items = malloc(b * o->k * 4), *counts = malloc(b * 4);
  float *scores = malloc(b * o->k * 4);
  sg_click_topk_out out = {items, scores, counts};
  sg_err e = {0};
  double t0 = sg_bench_now();
  for (uint32_t u0 = 0; u0 < o->users; u0 += o->block) { /* one scheduler step per block */
    uint32_t u1 = o->users - u0 < o->block ? o->users : u0 + o->block;
    if (sg_click_topk_range(x, p, u0, u1, o->k, NULL, &out, &e) != SG_OK) {
      fprintf(stderr, "topk: %s\n", e.msg);
      exit(1);
    }
  }
  double t = sg_bench_now() - t0;
  free(items);
  free(counts);
  free(scores);
  return t;
}

/* The CPU floor: the same sgemm tiles (256 users × 1024 items) on every core, no selection. */
static double gemm_cpu(const opts *o, const sg_click_model *m, int threads) {
  const uint32_t bu = 256, ti = 1024;
  long long blocks = (o->users + bu - 1) / bu;
#if defined(OPENBLAS_THREAD)
  openblas_set_num_threads(1); /* as the CPU backend runs it inside its OpenMP region */
#endif
  double t0 = sg_bench_now();
#pragma omp parallel num_threads(threads)
  {
    float *S = malloc((size_t)bu * ti * 4);
#pragma omp for schedule(dynamic, 1)
    for (long long b = 0; b < blocks; b++) {
      uint32_t u0 = (uint32_t)b * bu, rows = o->users - u0 < bu ? o->users - u0 : bu;
      for (uint32_t t = 0; t < o->items; t += ti) {
        uint32_t tn = o->items - t < ti ? o->items - t : ti;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)tn, (int)o->dim, 1.0f,
                    m->U + (size_t)u0 * o->dim, (int)o->dim, m->V + (size_t)t * o->dim, (int)o->dim,
                    0.0f, S, (int)tn);
      }
    }
    free(S);
  }
  return sg_bench_now() - t0;
}

#ifdef SG_HAVE_CUDA
/* The CUDA floor: one SGEMM of the whole users × items matrix (in user chunks if it does not fit),
 * timed with events; returns -1 when it cannot run. */
static double gemm_cuda(const opts *o, const sg_click_model *m) {
  size_t chunk = o->users;
  float *dU = NULL, *dV = NULL, *dS = NULL;
  if (cudaMalloc((void **)&dU, (size_t)o->users * o->dim * 4) != cudaSuccess ||
      cudaMalloc((void **)&dV, (size_t)o->items * o->dim * 4) != cudaSuccess)
    return -1;
  while (chunk > 0 && cudaMalloc((void **)&dS, chunk * o->items * 4) != cudaSuccess)
    chunk /= 2;
  cudaGetLastError();
  if (!chunk) return -1;
  cudaMemcpy(dU, m->U, (size_t)o->users * o->dim * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(dV, m->V, (size_t)o->items * o->dim * 4, cudaMemcpyHostToDevice);
  cublasHandle_t h;
  cublasCreate(&h);
  cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
  const float one = 1.0f, zero = 0.0f;
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  float best = 1e30f;
  for (int rep = 0; rep < 4; rep++) {
    cudaEventRecord(a, 0);
    for (size_t u0 = 0; u0 < o->users; u0 += chunk) {
      size_t rows = o->users - u0 < chunk ? o->users - u0 : chunk;
      cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)o->items, (int)rows, (int)o->dim, &one, dV,
                  (int)o->dim, dU + u0 * o->dim, (int)o->dim, &zero, dS, (int)o->items);
    }
    cudaEventRecord(b, 0);
    cudaEventSynchronize(b);
    float ms;
    cudaEventElapsedTime(&ms, a, b);
    if (rep > 0 && ms < best) best = ms;
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cublasDestroy(h);
  cudaFree(dU);
  cudaFree(dV);
  cudaFree(dS);
  return best / 1000.0;
}
#endif

int main(int argc, char **argv) {
  opts o;
  if (parse(argc, argv, &o)) return 2;
  if (!o.csv || o.machine_only) sg_bench_print_machine(stdout);
  if (o.machine_only) return 0;
  sg_err e = {0};
  sg_backend_config cfg = {.kind = o.backend};
  sg_backend *be = sg_backend_open(&cfg, &e);
  sg_exec *x = be ? sg_exec_create(be, &e) : NULL;
  sg_click_model m;
  if (!x || sg_click_model_alloc(o.users, o.items, o.dim, 1, &m, &e) != SG_OK) {
    fprintf(stderr, "shopgpu-click-bench: %s\n", e.msg);
    return 1;
  }
  fill(m.U, (size_t)o.users * o.dim, 1);
  fill(m.V, (size_t)o.items * o.dim, 2);
  fill(m.w, o.dim, 3);
  sg_click_placed *p;
  if (sg_click_place(x, &m, &p, &e) != SG_OK) {
    fprintf(stderr, "shopgpu-click-bench: %s\n", e.msg);
    return 1;
  }
  const char *bn = sg_backend_name(be);
  int all = !strcmp(o.what, "all");
  if (!o.csv) {
    printf("\n| op | backend | users × items | shape | seconds | cpu seconds | rate "
           "|\n|---|---|---|---|---|---|---|\n");
  }
  char note[64];
  double c0;
  if (all || !strcmp(o.what, "score")) {
    c0 = cpu_now();
    double t = bench_score(&o, x, p, 0);
    snprintf(note, sizeof note, "%zu pairs, host memory, best of %u", o.pairs, o.reps);
    row(&o, "score", bn, t, (cpu_now() - c0) / (o.reps + 1), (double)o.pairs / t, "pairs/s", note);
  }
  if (all || !strcmp(o.what, "resident")) {
    c0 = cpu_now();
    double t = bench_score(&o, x, p, 1);
    snprintf(note, sizeof note, "%zu pairs, resident, best of %u", o.pairs, o.reps);
    row(&o, "resident", bn, t, (cpu_now() - c0) / (o.reps + 1), (double)o.pairs / t, "pairs/s",
        note);
  }
  if (all || !strcmp(o.what, "topk")) {
    c0 = cpu_now();
    double t = bench_topk(&o, x, p);
    snprintf(note, sizeof note, "top-%u, %u users per step", o.k, o.block);
    row(&o, "topk", bn, t, cpu_now() - c0, o.users / t, "users/s", note);
  }
  if (all || !strcmp(o.what, "gemm")) {
    double t = -1;
    c0 = cpu_now();
#ifdef SG_HAVE_CUDA
    if (sg_backend_kind_of(be) == SG_BACKEND_CUDA) t = gemm_cuda(&o, &m);
#endif
    if (sg_backend_kind_of(be) == SG_BACKEND_CPU) t = gemm_cpu(&o, &m, omp_get_max_threads());
    row(&o, "gemm", bn, t, cpu_now() - c0, 2.0 * o.users * o.items * o.dim / t / 1e9, "GFLOP/s",
        "bare GEMM");
  }
  sg_click_unplace(p);
  sg_click_model_free(&m);
  sg_exec_destroy(x);
  sg_backend_close(be);
  return 0;
}
