/* TSP ant (host and device): focused construction over a colony's source tour, then 2-opt and
 * Or-opt with candidate lists and a queue of active nodes (don't-look bits), on an array tour.
 * Invariant of the local search: pos[t[i]] == i for every i, the tour is one cycle of all nodes.
 * The construction is also used for the CVRP giant tour (over customers only). */
#ifndef SG_ACO_TSP_H
#define SG_ACO_TSP_H

#include "aco_core.h"

SG_BEGIN_DECLS

#define SG__ACO_VISITED 1
#define SG__ACO_INQ 2

/* ---- focused construction ---- */

/* Roulette over node u's unvisited candidates; -1 when none has weight. */
static SG_INLINE SG_HD int sg__aco_roulette(const sg__aco_model *m, const double *choice, int u,
                                            const unsigned char *flag, sg__aco_rng *rng) {
  const int *cu = m->cand + (size_t)u * m->k;
  const double *wu = choice + (size_t)u * m->k;
  double total = 0.0;
  for (int k = 0; k < m->k; k++)
    if (!(flag[cu[k]] & SG__ACO_VISITED)) total += wu[k];
  if (!(total > 0.0)) return -1;
  double r = sg__aco_rng_unit(rng) * total, acc = 0.0;
  int last = -1;
  for (int k = 0; k < m->k; k++) {
    if (flag[cu[k]] & SG__ACO_VISITED) continue;
    acc += wu[k];
    last = cu[k];
    if (acc > r) return last;
  }
  return last;
}

/* Queue of active nodes for the local search (ring of capacity cap, each node at most once). */
typedef struct sg__aco_queue {
  int *q;
  int head, count, cap;
} sg__aco_queue;

static SG_INLINE SG_HD void sg__aco_push(sg__aco_queue *qu, unsigned char *flag, int v) {
  if (flag[v] & SG__ACO_INQ) return;
  flag[v] |= SG__ACO_INQ;
  qu->q[(qu->head + qu->count) % qu->cap] = v;
  qu->count++;
}

static SG_INLINE SG_HD int sg__aco_pop(sg__aco_queue *qu, unsigned char *flag) {
  int v = qu->q[qu->head];
  qu->head = (qu->head + 1) % qu->cap;
  qu->count--;
  flag[v] &= (unsigned char)~SG__ACO_INQ;
  return v;
}

/* Builds out[0..mlen) over the nodes of src (a cycle of mlen nodes; src_pos maps node -> index).
 * While its budget of new edges lasts (drawn in 1..2 x new_edges; new_edges < 0: unlimited) the
 * ant chooses by roulette among unvisited candidates;
 * then it follows the source. Every edge not in the source costs one unit of budget and puts
 * both ends in the queue. flag (n bytes) must be zero for the nodes of src on entry; nodes
 * outside src must be marked VISITED by the caller. */
static SG__ACO_BIG SG_HD void sg__aco_construct(const sg__aco_model *m, const double *choice,
                                                const int *src, const int *src_pos, int mlen,
                                                int new_edges, sg__aco_rng *rng, int *out,
                                                unsigned char *flag, sg__aco_queue *qu) {
  /* the budget varies per ant (1 .. 2 x new_edges): now and then a bigger step */
  int budget = new_edges < 0 ? mlen : 1 + sg__aco_rng_below(rng, 2 * new_edges);
  int scan = 0;
  int start = src[sg__aco_rng_below(rng, mlen)];
  out[0] = start;
  flag[start] |= SG__ACO_VISITED;
  for (int i = 1; i < mlen; i++) {
    int u = out[i - 1];
    int pu = src_pos[u];
    int s = src[pu + 1 < mlen ? pu + 1 : 0], p = src[pu > 0 ? pu - 1 : mlen - 1];
    int v = -1;
    if (budget > 0)
      v = sg__aco_roulette(m, choice, u, flag, rng);
    else if (!(flag[s] & SG__ACO_VISITED))
      v = s;
    if (v < 0) {
      if (!(flag[s] & SG__ACO_VISITED))
        v = s;
      else if (!(flag[p] & SG__ACO_VISITED))
        v = p;
      else {
        while (flag[src[scan]] & SG__ACO_VISITED)
          scan++;
        v = src[scan];
      }
    }
    if (v != s && v != p) {
      budget--;
      sg__aco_push(qu, flag, u);
      sg__aco_push(qu, flag, v);
    }
    out[i] = v;
    flag[v] |= SG__ACO_VISITED;
  }
  int last = out[mlen - 1], pl = src_pos[last];
  if (src[pl + 1 < mlen ? pl + 1 : 0] != start && src[pl > 0 ? pl - 1 : mlen - 1] != start) {
    sg__aco_push(qu, flag, last);
    sg__aco_push(qu, flag, start);
  }
}

/* ---- array tour moves ---- */

static SG_INLINE SG_HD int sg__aco_succ(const int *t, const int *pos, int n, int v) {
  int i = pos[v] + 1;
  return t[i < n ? i : 0];
}
static SG_INLINE SG_HD int sg__aco_pred(const int *t, const int *pos, int n, int v) {
  int i = pos[v];
  return t[i > 0 ? i - 1 : n - 1];
}

/* Reverses positions i..j (forward, circular), or the complement when that is shorter: the same
 * cycle either way. */
static SG__ACO_BIG SG_HD void sg__aco_reverse(int *t, int *pos, int n, int i, int j) {
  int len = (j - i + n) % n + 1;
  if (2 * len > n) {
    int ni = j + 1 < n ? j + 1 : 0;
    j = i > 0 ? i - 1 : n - 1;
    i = ni;
    len = n - len;
  }
  for (int s = 0; s < len / 2; s++) {
    int p = i + s < n ? i + s : i + s - n;
    int q = j - s >= 0 ? j - s : j - s + n;
    int a = t[p], b = t[q];
    t[p] = b;
    pos[b] = p;
    t[q] = a;
    pos[a] = q;
  }
}

/* Moves the segment at positions i..i+len-1 (len <= 3) between positions j and j+1 (an edge
 * outside the segment), shifting the shorter side; rev = 1 puts the segment reversed. */
static SG__ACO_BIG SG_HD void sg__aco_move_segment(int *t, int *pos, int n, int i, int len, int j,
                                                   int rev) {
  int seg[3];
  for (int s = 0; s < len; s++)
    seg[s] = t[(i + s) % n];
  int d1 = (j - (i + len) + 2 * n) % n + 1; /* elements i+len .. j */
  int d2 = n - len - d1;                    /* elements j+1 .. i-1 */
  int base;
  if (d1 <= d2) {
    for (int q = 0; q < d1; q++) {
      int from = (i + len + q) % n, to = (i + q) % n;
      t[to] = t[from];
      pos[t[to]] = to;
    }
    base = i + d1;
  } else {
    for (int q = d2 - 1; q >= 0; q--) {
      int from = (j + 1 + q) % n, to = (j + 1 + q + len) % n;
      t[to] = t[from];
      pos[t[to]] = to;
    }
    base = j + 1;
  }
  for (int s = 0; s < len; s++) {
    int at = (base + s) % n;
    t[at] = seg[rev ? len - 1 - s : s];
    pos[t[at]] = at;
  }
}

/* Best 2-opt move adding edge (a, c) for a candidate c; applies it. Returns 1 when applied. */
static SG__ACO_BIG SG_HD int sg__aco_try_2opt(const sg__aco_model *m, int *t, int *pos, int n,
                                              int a, sg__aco_queue *qu, unsigned char *flag) {
  double best = -SG__ACO_EPS;
  int bdir = -1, bc = -1;
  const int *ca = m->cand + (size_t)a * m->k;
  for (int dir = 0; dir < 2; dir++) {
    int b = dir == 0 ? sg__aco_succ(t, pos, n, a) : sg__aco_pred(t, pos, n, a);
    double dab = sg__aco_dist(m, a, b);
    for (int k = 0; k < m->k; k++) {
      int c = ca[k];
      double dac = sg__aco_dist(m, a, c);
      if (dac >= dab) break;
      int d = dir == 0 ? sg__aco_succ(t, pos, n, c) : sg__aco_pred(t, pos, n, c);
      if (c == b || d == a) continue;
      double delta = dac + sg__aco_dist(m, b, d) - dab - sg__aco_dist(m, c, d);
      if (delta < best) {
        best = delta;
        bdir = dir;
        bc = c;
      }
    }
  }
  if (bdir < 0) return 0;
  int b, d;
  if (bdir == 0) {
    b = sg__aco_succ(t, pos, n, a);
    d = sg__aco_succ(t, pos, n, bc);
    sg__aco_reverse(t, pos, n, pos[b], pos[bc]);
  } else {
    b = sg__aco_pred(t, pos, n, a);
    d = sg__aco_pred(t, pos, n, bc);
    sg__aco_reverse(t, pos, n, pos[a], pos[d]);
  }
  sg__aco_push(qu, flag, a);
  sg__aco_push(qu, flag, b);
  sg__aco_push(qu, flag, bc);
  sg__aco_push(qu, flag, d);
  return 1;
}

/* offset of v from s1 walking in direction dir (0 = succ), in 0..n-1 */
static SG_INLINE SG_HD int sg__aco_offset(const int *pos, int n, int s1, int v, int dir) {
  int d = dir == 0 ? pos[v] - pos[s1] : pos[s1] - pos[v];
  return d < 0 ? d + n : d;
}

/* Best Or-opt move of a segment of 1..3 nodes that starts at a, reinserted with a next to one of
 * its candidates (either orientation); applies it. Returns 1 when applied. */
static SG__ACO_BIG SG_HD int sg__aco_try_oropt(const sg__aco_model *m, int *t, int *pos, int n,
                                               int a, sg__aco_queue *qu, unsigned char *flag) {
  double best = -SG__ACO_EPS;
  int bl = 0, bdir = 0, bc = -1, be = -1;
  const int *ca = m->cand + (size_t)a * m->k;
  for (int len = 1; len <= 3 && len + 3 <= n; len++) {
    for (int dir = 0; dir < (len == 1 ? 1 : 2); dir++) {
      int s2 = a;
      for (int s = 1; s < len; s++)
        s2 = dir == 0 ? sg__aco_succ(t, pos, n, s2) : sg__aco_pred(t, pos, n, s2);
      int p = dir == 0 ? sg__aco_pred(t, pos, n, a) : sg__aco_succ(t, pos, n, a);
      int nx = dir == 0 ? sg__aco_succ(t, pos, n, s2) : sg__aco_pred(t, pos, n, s2);
      double g = sg__aco_dist(m, p, a) + sg__aco_dist(m, s2, nx) - sg__aco_dist(m, p, nx);
      if (g <= SG__ACO_EPS) continue;
      for (int k = 0; k < m->k; k++) {
        int c = ca[k];
        double dca = sg__aco_dist(m, c, a);
        if (dca >= g) break;
        if (sg__aco_offset(pos, n, a, c, dir) < len) continue;
        for (int side = 0; side < 2; side++) {
          int e = side == 0 ? sg__aco_succ(t, pos, n, c) : sg__aco_pred(t, pos, n, c);
          if (sg__aco_offset(pos, n, a, e, dir) < len) continue;
          double delta = dca + sg__aco_dist(m, s2, e) - sg__aco_dist(m, c, e) - g;
          if (delta < best) {
            best = delta;
            bl = len;
            bdir = dir;
            bc = c;
            be = e;
          }
        }
      }
    }
  }
  if (bc < 0) return 0;
  int s2 = a;
  for (int s = 1; s < bl; s++)
    s2 = bdir == 0 ? sg__aco_succ(t, pos, n, s2) : sg__aco_pred(t, pos, n, s2);
  int p = bdir == 0 ? sg__aco_pred(t, pos, n, a) : sg__aco_succ(t, pos, n, a);
  int nx = bdir == 0 ? sg__aco_succ(t, pos, n, s2) : sg__aco_pred(t, pos, n, s2);
  int i = bdir == 0 ? pos[a] : pos[s2];
  int first = t[i];
  int j = sg__aco_succ(t, pos, n, bc) == be ? pos[bc] : pos[be];
  int want = t[j] == bc ? a : s2; /* the segment end next to position j */
  sg__aco_move_segment(t, pos, n, i, bl, j, want != first);
  sg__aco_push(qu, flag, a);
  sg__aco_push(qu, flag, s2);
  sg__aco_push(qu, flag, p);
  sg__aco_push(qu, flag, nx);
  sg__aco_push(qu, flag, bc);
  sg__aco_push(qu, flag, be);
  return 1;
}

/* 2-opt + Or-opt until no active node improves. t is a tour of all n nodes of the model. */
static SG__ACO_BIG SG_HD void sg__aco_tsp_ls(const sg__aco_model *m, int *t, int *pos, int n,
                                             sg__aco_queue *qu, unsigned char *flag) {
  for (int i = 0; i < n; i++)
    pos[t[i]] = i;
  while (qu->count > 0) {
    int a = sg__aco_pop(qu, flag);
    if (sg__aco_try_2opt(m, t, pos, n, a, qu, flag)) continue;
    sg__aco_try_oropt(m, t, pos, n, a, qu, flag);
  }
}

/* One TSP ant of iteration it: focused construction, local search, cost.
 * scratch: sg__aco_scratch_bytes(m) bytes; tour: n ints (the result). */
static SG__ACO_BIG SG_HD double sg__aco_tsp_ant(const sg__aco_model *m, const sg__aco_iter *it,
                                                int ant, void *scratch, int *tour) {
  int n = m->n, colony = ant / it->ants;
  unsigned char *arena = (unsigned char *)scratch;
  int *pos = (int *)sg__aco_take(&arena, (size_t)n * sizeof(int));
  int *q = (int *)sg__aco_take(&arena, (size_t)n * sizeof(int));
  unsigned char *flag = (unsigned char *)sg__aco_take(&arena, (size_t)n);
  for (int i = 0; i < n; i++)
    flag[i] = 0;
  sg__aco_rng rng;
  sg__aco_rng_init(&rng, it->seed, sg__aco_ant_stream(ant), sg__aco_iter_index(it->iteration));
  sg__aco_queue qu = {q, 0, 0, n};
  const double *choice = it->choice + (size_t)colony * (size_t)n * (size_t)m->k;
  sg__aco_construct(m, choice, it->src + (size_t)colony * n, it->src_pos + (size_t)colony * n, n,
                    it->new_edges, &rng, tour, flag, &qu);
  for (int i = 0; i < n; i++)
    flag[i] &= (unsigned char)~SG__ACO_VISITED;
  if (it->local_search) sg__aco_tsp_ls(m, tour, pos, n, &qu, flag);
  return sg__aco_tour_cost(m, tour, n);
}

SG_END_DECLS

#endif
