/* Math shared by the aco backends (host and device): the prepared model, TSPLIB distance
 * functions, the per-ant random stream, solution costs and the per-ant scratch layout.
 * Everything here is deterministic IEEE arithmetic (+ - * / sqrt and, for GEO only, cos/acos),
 * compiled without contraction on both sides (CUDA files use -fmad=false), so the CPU and the GPU
 * take the same decisions. */
#ifndef SG_ACO_CORE_H
#define SG_ACO_CORE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/hd.h"
#include "../common/philox.h"

SG_BEGIN_DECLS

/* metric codes, equal to sg_aco_metric (aco.h) */
#define SG__ACO_EUC_2D 0
#define SG__ACO_CEIL_2D 1
#define SG__ACO_ATT 2
#define SG__ACO_GEO 3
#define SG__ACO_EXACT_2D 4
#define SG__ACO_EXPLICIT 5

#define SG__ACO_EPS 1e-9 /* a move must gain more than this */

/* always inlined on the hot paths (gcc leaves the distance switch out of line otherwise) */
#if defined(__CUDACC__)
#define SG__ACO_HOT __forceinline__
#elif defined(__GNUC__)
#define SG__ACO_HOT inline __attribute__((always_inline))
#else
#define SG__ACO_HOT inline
#endif
/* the big routines stay out of line on the device (code size, compile time, registers) */
#if defined(__CUDACC__)
#define SG__ACO_BIG __noinline__
#else
#define SG__ACO_BIG inline
#endif

/* The prepared problem the ants see. Pointers are valid where the ants run (host memory on the
 * CPU backend, device memory on CUDA). */
typedef struct sg__aco_model {
  int n;                 /* nodes; CVRP: 0 = depot */
  int metric;            /* SG__ACO_* */
  int k;                 /* candidates per node */
  int vrp;               /* 1 = CVRP */
  const double *x, *y;   /* (n) coordinates; GEO: latitude / longitude in radians */
  const double *matrix;  /* (n x n) EXPLICIT, or a distance cache for n <= SG_ACO_CACHE_MAX_N */
  const int *cand;       /* (n x k) nearest first; CVRP: customers only */
  const int *demand;     /* (n) CVRP */
  const double *service; /* (n) CVRP, zeros when none */
  double capacity;       /* CVRP */
  double max_len;        /* CVRP: 0 = none */
  int max_routes;        /* CVRP: route slots in the local search (>= 1) */
} sg__aco_model;

/* One iteration's inputs for all ants (pointers valid where the ants run). */
typedef struct sg__aco_iter {
  int colonies, ants; /* ants per colony */
  int64_t iteration;
  uint64_t seed;
  int new_edges; /* < 0 = unlimited */
  int local_search;
  int m;                /* nodes in a source sequence: n (TSP), n-1 (CVRP) */
  int sol_cap;          /* ints per ant solution */
  const double *choice; /* (colonies x n x k) tau^alpha * eta^beta per candidate edge */
  const int *src;       /* (colonies x m) each colony's source sequence */
  const int *src_pos;   /* (colonies x n) position of a node in its colony's source */
  const double *lambda; /* (colonies x 2) CVRP load and duration penalty weights */
} sg__aco_iter;

/* Per-ant result flags */
#define SG__ACO_FEASIBLE 1 /* the final solution meets every limit */
#define SG__ACO_LOAD_OK 2  /* capacity held before repair */
#define SG__ACO_DUR_OK 4   /* route length held before repair */

/* ---- distances ---- */

/* TSPLIB GEO: DDD.MM (degrees.minutes) to radians with TSPLIB's truncated PI */
static SG_INLINE SG_HD double sg__aco_geo_rad(double v) {
  double deg = trunc(v);
  return 3.141592 * (deg + 5.0 * (v - deg) / 3.0) / 180.0;
}

/* Distance between points in a coordinate metric (GEO: radians from sg__aco_geo_rad). */
static SG__ACO_HOT SG_HD double sg__aco_coord_dist(int metric, double xi, double yi, double xj,
                                                   double yj) {
  double dx = xi - xj, dy = yi - yj;
  switch (metric) {
  case SG__ACO_EUC_2D: return floor(sqrt(dx * dx + dy * dy) + 0.5);
  case SG__ACO_CEIL_2D: return ceil(sqrt(dx * dx + dy * dy));
  case SG__ACO_ATT: {
    double r = sqrt((dx * dx + dy * dy) / 10.0);
    double t = floor(r + 0.5);
    return t < r ? t + 1.0 : t;
  }
  case SG__ACO_GEO: {
    if (dx == 0.0 && dy == 0.0) return 0.0;
    double q1 = cos(yi - yj), q2 = cos(xi - xj), q3 = cos(xi + xj);
    double a = 0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3);
    a = a > 1.0 ? 1.0 : (a < -1.0 ? -1.0 : a);
    return floor(6378.388 * acos(a) + 1.0);
  }
  default: return sqrt(dx * dx + dy * dy); /* EXACT_2D */
  }
}

static SG__ACO_HOT SG_HD double sg__aco_dist(const sg__aco_model *m, int i, int j) {
  if (m->matrix) return m->matrix[(size_t)i * (size_t)m->n + (size_t)j];
  return sg__aco_coord_dist(m->metric, m->x[i], m->y[i], m->x[j], m->y[j]);
}

/* ---- random stream: draw `index` of Philox stream `stream` under `seed` ---- */

typedef struct sg__aco_rng {
  uint64_t seed, stream, index;
  uint64_t cached; /* block number in blk + 1; 0 = none */
  sg_philox4 blk;
} sg__aco_rng;

static SG_INLINE SG_HD void sg__aco_rng_init(sg__aco_rng *r, uint64_t seed, uint64_t stream,
                                             uint64_t index) {
  r->seed = seed;
  r->stream = stream;
  r->index = index;
  r->cached = 0;
}

static SG_INLINE SG_HD uint32_t sg__aco_rng_u32(sg__aco_rng *r) {
  uint64_t block = r->index >> 2;
  if (r->cached != block + 1) {
    r->blk = sg_philox_block(r->seed, r->stream, block);
    r->cached = block + 1;
  }
  return r->blk.v[r->index++ & 3u];
}

/* uniform in [0, n) */
static SG_INLINE SG_HD int sg__aco_rng_below(sg__aco_rng *r, int n) {
  return (int)sg_philox_to_below(sg__aco_rng_u32(r), (uint32_t)n);
}

/* uniform in [0, 1) as a double with 24 random bits (exact on both sides) */
static SG_INLINE SG_HD double sg__aco_rng_unit(sg__aco_rng *r) {
  return (double)sg_philox_to_unit(sg__aco_rng_u32(r));
}

/* The stream of ant `a` (global index) and the first draw of iteration `it`. */
static SG_INLINE SG_HD uint64_t sg__aco_ant_stream(int a) { return (uint64_t)a + 1u; }
static SG_INLINE SG_HD uint64_t sg__aco_iter_index(int64_t it) { return (uint64_t)it << 32; }

/* ---- costs ---- */

/* Length of the closed tour t[0..m) */
static SG_INLINE SG_HD double sg__aco_tour_cost(const sg__aco_model *m, const int *t, int len) {
  double c = 0.0;
  for (int i = 0; i + 1 < len; i++)
    c += sg__aco_dist(m, t[i], t[i + 1]);
  return len > 1 ? c + sg__aco_dist(m, t[len - 1], t[0]) : 0.0;
}

/* ---- per-ant scratch: one byte arena carved into aligned arrays ---- */

static SG_INLINE SG_HD size_t sg__aco_align(size_t b) { return (b + 15u) & ~(size_t)15u; }

/* Bytes of scratch one ant needs (see sg__aco_tsp_carve / sg__aco_vrp_carve). */
static SG_INLINE SG_HD size_t sg__aco_scratch_bytes(const sg__aco_model *m) {
  size_t n = (size_t)m->n;
  if (!m->vrp) return 3 * sg__aco_align(n * sizeof(int)) + sg__aco_align(n);
  size_t big = n + 2 * (size_t)m->max_routes; /* customers, depot, two depot copies per route */
  size_t r = (size_t)m->max_routes;
  return 4 * sg__aco_align(big * sizeof(int)) + 3 * sg__aco_align(big * sizeof(double)) +
         4 * sg__aco_align(r * sizeof(double)) + 3 * sg__aco_align(r * sizeof(int)) +
         6 * sg__aco_align((n + 1) * sizeof(int)) + sg__aco_align((n + 1) * sizeof(double)) +
         sg__aco_align(n);
}

static SG_INLINE SG_HD void *sg__aco_take(unsigned char **arena, size_t bytes) {
  void *p = *arena;
  *arena += sg__aco_align(bytes);
  return p;
}

SG_END_DECLS

#endif
