/* Candidate lists: the k nearest nodes of every node in O(n·k) memory.
 * Coordinates go into a k-d tree (median splits on the wider dimension, leaves of <= 8 points);
 * GEO points become 3-d unit vectors, whose chord length orders pairs as the great-circle
 * distance does. Explicit matrices are scanned row by row. Each list is finally ordered by the
 * model's own metric (ties: Euclidean, then index), which is what the local search relies on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "aco_internal.h"

#define LEAF 8
#define STACK 256 /* > 2 x depth of a median-split tree over SG_ACO_MAX_N points */

typedef struct kd_node {
  int lo, hi;   /* range of idx */
  int dim;      /* split dimension, -1 for a leaf */
  double split; /* coordinate of the median point */
  int left, right;
} kd_node;

typedef struct kd_tree {
  int dims;
  const double *p; /* (n x 3) points, only `dims` used */
  int *idx;
  kd_node *nodes;
  int count;
} kd_tree;

static double coord(const kd_tree *t, int i, int d) { return t->p[(size_t)i * 3 + (size_t)d]; }

/* quickselect: idx[lo..hi) partitioned so idx[mid] holds the median along d */
static void select_median(kd_tree *t, int lo, int hi, int mid, int d) {
  int *a = t->idx;
  while (hi - lo > 1) {
    double pivot = coord(t, a[lo + (hi - lo) / 2], d);
    int i = lo, j = hi - 1;
    while (i <= j) {
      while (coord(t, a[i], d) < pivot)
        i++;
      while (coord(t, a[j], d) > pivot)
        j--;
      if (i <= j) {
        int s = a[i];
        a[i] = a[j];
        a[j] = s;
        i++;
        j--;
      }
    }
    if (mid <= j)
      hi = j + 1;
    else if (mid >= i)
      lo = i;
    else
      return;
  }
}

static int build(kd_tree *t, int lo, int hi) {
  int id = t->count++;
  kd_node *nd = &t->nodes[id];
  nd->lo = lo;
  nd->hi = hi;
  nd->dim = -1;
  if (hi - lo <= LEAF) return id;
  int best = 0;
  double widest = -1.0;
  for (int d = 0; d < t->dims; d++) {
    double mn = INFINITY, mx = -INFINITY;
    for (int i = lo; i < hi; i++) {
      double v = coord(t, t->idx[i], d);
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    if (mx - mn > widest) {
      widest = mx - mn;
      best = d;
    }
  }
  if (widest <= 0.0) return id; /* all points equal: a (large) leaf */
  int mid = lo + (hi - lo) / 2;
  select_median(t, lo, hi, mid, best);
  double split = coord(t, t->idx[mid], best);
  int l = build(t, lo, mid), r = build(t, mid, hi);
  nd = &t->nodes[id];
  nd->dim = best;
  nd->split = split;
  nd->left = l;
  nd->right = r;
  return id;
}

typedef struct heap {
  double *d;
  int *i;
  int len, cap;
} heap;

/* max-heap on (d, i): the worst kept neighbour on top */
static int worse(const heap *h, int a, int b) {
  return h->d[a] > h->d[b] || (h->d[a] == h->d[b] && h->i[a] > h->i[b]);
}

static void heap_swap(heap *h, int a, int b) {
  double d = h->d[a];
  int i = h->i[a];
  h->d[a] = h->d[b];
  h->i[a] = h->i[b];
  h->d[b] = d;
  h->i[b] = i;
}

static void heap_offer(heap *h, double d, int i) {
  if (h->len == h->cap) {
    if (d > h->d[0] || (d == h->d[0] && i > h->i[0])) return;
    h->d[0] = d;
    h->i[0] = i;
    for (int a = 0;;) {
      int l = 2 * a + 1, r = l + 1, m = a;
      if (l < h->len && worse(h, l, m)) m = l;
      if (r < h->len && worse(h, r, m)) m = r;
      if (m == a) break;
      heap_swap(h, a, m);
      a = m;
    }
    return;
  }
  int a = h->len++;
  h->d[a] = d;
  h->i[a] = i;
  while (a > 0 && worse(h, a, (a - 1) / 2)) {
    heap_swap(h, a, (a - 1) / 2);
    a = (a - 1) / 2;
  }
}

static double dist2(const kd_tree *t, int a, int b) {
  double s = 0.0;
  for (int d = 0; d < t->dims; d++) {
    double e = coord(t, a, d) - coord(t, b, d);
    s += e * e;
  }
  return s;
}

/* k nearest of point q into h; stack, bound: STACK entries */
static void query(const kd_tree *t, int q, heap *h, int *stack, double *bound) {
  int top = 0;
  stack[top] = 0;
  bound[top++] = 0.0;
  while (top > 0) {
    top--;
    const kd_node *nd = &t->nodes[stack[top]];
    if (h->len == h->cap && bound[top] > h->d[0]) continue;
    if (nd->dim < 0) {
      for (int j = nd->lo; j < nd->hi; j++)
        if (t->idx[j] != q) heap_offer(h, dist2(t, q, t->idx[j]), t->idx[j]);
      continue;
    }
    double diff = coord(t, q, nd->dim) - nd->split;
    int near = diff < 0.0 ? nd->left : nd->right, far = diff < 0.0 ? nd->right : nd->left;
    double b = bound[top];
    stack[top] = far;
    bound[top++] = diff * diff > b ? diff * diff : b;
    stack[top] = near;
    bound[top++] = b;
  }
}

/* orders cand[0..k) of node i by (metric distance, key, index) */
static void order_list(const sg__aco_model *m, int i, int *c, double *key, int k) {
  double dm[SG_ACO_MAX_CANDIDATES];
  for (int a = 0; a < k; a++)
    dm[a] = sg__aco_dist(m, i, c[a]);
  for (int a = 1; a < k; a++) {
    double d = dm[a], e = key[a];
    int v = c[a], b = a - 1;
    while (b >= 0 && (dm[b] > d || (dm[b] == d && (key[b] > e || (key[b] == e && c[b] > v))))) {
      dm[b + 1] = dm[b];
      key[b + 1] = key[b];
      c[b + 1] = c[b];
      b--;
    }
    dm[b + 1] = d;
    key[b + 1] = e;
    c[b + 1] = v;
  }
}

static sg_status kd_candidates(const sg__aco_model *m, int first, int k, int threads, int *cand,
                               sg_err *err) {
  int n = m->n, geo = m->metric == SG__ACO_GEO;
  kd_tree t = {geo ? 3 : 2, NULL, NULL, NULL, 0};
  double *p = malloc((size_t)n * 3 * sizeof *p);
  t.idx = malloc((size_t)n * sizeof *t.idx);
  t.nodes = malloc((size_t)(2 * n + 1) * sizeof *t.nodes);
  if (!p || !t.idx || !t.nodes) {
    free(p);
    free(t.idx);
    free(t.nodes);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "aco: out of memory for the k-d tree (n = %d)", n);
  }
  for (int i = 0; i < n; i++) {
    if (geo) {
      p[3 * i] = cos(m->x[i]) * cos(m->y[i]);
      p[3 * i + 1] = cos(m->x[i]) * sin(m->y[i]);
      p[3 * i + 2] = sin(m->x[i]);
    } else {
      p[3 * i] = m->x[i];
      p[3 * i + 1] = m->y[i];
      p[3 * i + 2] = 0.0;
    }
  }
  t.p = p;
  for (int i = first; i < n; i++)
    t.idx[i - first] = i;
  build(&t, 0, n - first);
#pragma omp parallel for num_threads(threads > 0 ? threads : 1) schedule(static)
  for (int i = 0; i < n; i++) {
    double hd[SG_ACO_MAX_CANDIDATES], bound[STACK];
    int hi[SG_ACO_MAX_CANDIDATES], stack[STACK];
    heap h = {hd, hi, 0, k};
    query(&t, i, &h, stack, bound);
    int *c = cand + (size_t)i * k;
    for (int a = 0; a < k; a++) {
      c[a] = hi[a];
      hd[a] = dist2(&t, i, hi[a]);
    }
    order_list(m, i, c, hd, k);
  }
  free(p);
  free(t.idx);
  free(t.nodes);
  return SG_OK;
}

static void matrix_candidates(const sg__aco_model *m, int first, int k, int threads, int *cand) {
  int n = m->n;
#pragma omp parallel for num_threads(threads > 0 ? threads : 1) schedule(static)
  for (int i = 0; i < n; i++) {
    double hd[SG_ACO_MAX_CANDIDATES];
    int hi[SG_ACO_MAX_CANDIDATES];
    heap h = {hd, hi, 0, k};
    for (int j = first; j < n; j++)
      if (j != i) heap_offer(&h, sg__aco_dist(m, i, j), j);
    int *c = cand + (size_t)i * k;
    for (int a = 0; a < k; a++) {
      c[a] = hi[a];
      hd[a] = 0.0;
    }
    order_list(m, i, c, hd, k);
  }
}

sg_status sg__aco_candidates(const sg__aco_model *m, int first, int k, int threads, int *cand,
                             sg_err *err) {
  if (k <= 0 || k > SG_ACO_MAX_CANDIDATES || k >= m->n - first) {
    return sg_err_set(err, SG_INTERNAL, "aco: candidate list size %d for %d nodes", k,
                      m->n - first);
  }
  if (m->metric == SG__ACO_EXPLICIT) {
    matrix_candidates(m, first, k, threads, cand);
    return SG_OK;
  }
  return kd_candidates(m, first, k, threads, cand, err);
}
