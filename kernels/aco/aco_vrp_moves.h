/* CVRP local-search moves (host and device) on doubly linked routes with penalised limits.
 * Route r runs from its start depot copy n+2r to its end depot copy n+2r+1; every node carries
 * the cumulative travel, load and service time from its route's start (inclusive), so each move
 * is priced in O(1): relocate (1-3), swap (4-6), 2-opt inside a route (7), 2-opt* (8, 9).
 * A route's cost is travel + lc·(load excess) + ld·(duration excess). Moves need symmetric
 * distances (the problem check enforces it). Invariant: after every applied move the touched
 * routes' cumulative data are recomputed and stamped with a new modification number. */
#ifndef SG_ACO_VRP_MOVES_H
#define SG_ACO_VRP_MOVES_H

#include "aco_core.h"

SG_BEGIN_DECLS

typedef struct sg__aco_vrp_ws {
  const sg__aco_model *m;
  int n, R; /* nodes, route slots in use */
  int *nxt, *prv, *rte, *idx;
  double *fd, *fl, *fs;  /* cumulative travel, load, service */
  double *T, *L, *S, *C; /* per route: travel, load, service, penalised cost */
  int *cnt, *mod;        /* per route: customers, modification stamp */
  int *tested;           /* per customer: stamp when last tested */
  int *order, *tmp, *giant, *q, *pred;
  double *pv;
  unsigned char *flag;
  double lc, ld; /* penalty weights */
  int stamp;
} sg__aco_vrp_ws;

static SG_INLINE SG_HD sg__aco_vrp_ws sg__aco_vrp_carve(const sg__aco_model *m, void *scratch) {
  sg__aco_vrp_ws w;
  size_t n = (size_t)m->n, big = n + 2 * (size_t)m->max_routes, r = (size_t)m->max_routes;
  unsigned char *a = (unsigned char *)scratch;
  w.m = m;
  w.n = m->n;
  w.R = 0;
  w.nxt = (int *)sg__aco_take(&a, big * sizeof(int));
  w.prv = (int *)sg__aco_take(&a, big * sizeof(int));
  w.rte = (int *)sg__aco_take(&a, big * sizeof(int));
  w.idx = (int *)sg__aco_take(&a, big * sizeof(int));
  w.fd = (double *)sg__aco_take(&a, big * sizeof(double));
  w.fl = (double *)sg__aco_take(&a, big * sizeof(double));
  w.fs = (double *)sg__aco_take(&a, big * sizeof(double));
  w.T = (double *)sg__aco_take(&a, r * sizeof(double));
  w.L = (double *)sg__aco_take(&a, r * sizeof(double));
  w.S = (double *)sg__aco_take(&a, r * sizeof(double));
  w.C = (double *)sg__aco_take(&a, r * sizeof(double));
  w.cnt = (int *)sg__aco_take(&a, r * sizeof(int));
  w.mod = (int *)sg__aco_take(&a, r * sizeof(int));
  (void)sg__aco_take(&a, r * sizeof(int));
  w.tested = (int *)sg__aco_take(&a, (n + 1) * sizeof(int));
  w.order = (int *)sg__aco_take(&a, (n + 1) * sizeof(int));
  w.tmp = (int *)sg__aco_take(&a, (n + 1) * sizeof(int));
  w.giant = (int *)sg__aco_take(&a, (n + 1) * sizeof(int));
  w.q = (int *)sg__aco_take(&a, (n + 1) * sizeof(int));
  w.pred = (int *)sg__aco_take(&a, (n + 1) * sizeof(int));
  w.pv = (double *)sg__aco_take(&a, (n + 1) * sizeof(double));
  w.flag = (unsigned char *)sg__aco_take(&a, n);
  w.lc = w.ld = 1.0;
  w.stamp = 0;
  return w;
}

/* model node of a route node (depot copies map to 0), demand, service */
static SG__ACO_HOT SG_HD int sg__aco_nd(const sg__aco_vrp_ws *w, int v) { return v < w->n ? v : 0; }
static SG__ACO_HOT SG_HD double sg__aco_vd(const sg__aco_vrp_ws *w, int a, int b) {
  return sg__aco_dist(w->m, sg__aco_nd(w, a), sg__aco_nd(w, b));
}
static SG__ACO_HOT SG_HD double sg__aco_dem(const sg__aco_vrp_ws *w, int v) {
  return v < w->n ? (double)w->m->demand[v] : 0.0;
}
static SG__ACO_HOT SG_HD double sg__aco_svc(const sg__aco_vrp_ws *w, int v) {
  return v < w->n ? w->m->service[v] : 0.0;
}
static SG__ACO_HOT SG_HD int sg__aco_is_depot(const sg__aco_vrp_ws *w, int v) { return v >= w->n; }

/* penalised cost of a route with travel t, load l, service s */
static SG__ACO_HOT SG_HD double sg__aco_rc(const sg__aco_vrp_ws *w, double t, double l, double s) {
  double c = t;
  if (l > w->m->capacity) c += w->lc * (l - w->m->capacity);
  if (w->m->max_len > 0.0 && t + s > w->m->max_len) c += w->ld * (t + s - w->m->max_len);
  return c;
}

static SG_INLINE SG_HD void sg__aco_link(sg__aco_vrp_ws *w, int a, int b) {
  w->nxt[a] = b;
  w->prv[b] = a;
}

/* Recomputes route r's cumulative data from its links and stamps it. */
static SG__ACO_BIG SG_HD void sg__aco_route_update(sg__aco_vrp_ws *w, int r) {
  int v = w->n + 2 * r, end = v + 1, i = 0;
  w->fd[v] = w->fl[v] = w->fs[v] = 0.0;
  w->idx[v] = 0;
  w->rte[v] = r;
  while (v != end) {
    int u = w->nxt[v];
    w->fd[u] = w->fd[v] + sg__aco_vd(w, v, u);
    w->fl[u] = w->fl[v] + sg__aco_dem(w, u);
    w->fs[u] = w->fs[v] + sg__aco_svc(w, u);
    w->idx[u] = ++i;
    w->rte[u] = r;
    v = u;
  }
  w->cnt[r] = i - 1;
  w->T[r] = w->fd[end];
  w->L[r] = w->fl[end];
  w->S[r] = w->fs[end];
  w->C[r] = sg__aco_rc(w, w->T[r], w->L[r], w->S[r]);
  w->mod[r] = ++w->stamp;
}

/* Route r becomes start, list[0..len), end. */
static SG_INLINE SG_HD void sg__aco_route_set(sg__aco_vrp_ws *w, int r, const int *list, int len) {
  int prev = w->n + 2 * r;
  for (int i = 0; i < len; i++) {
    sg__aco_link(w, prev, list[i]);
    prev = list[i];
  }
  sg__aco_link(w, prev, w->n + 2 * r + 1);
  sg__aco_route_update(w, r);
}

/* delta of replacing routes ru, rv (ru != rv) by routes with the given totals */
static SG_INLINE SG_HD double sg__aco_delta2(const sg__aco_vrp_ws *w, int ru, double tu, double lu,
                                             double su, int rv, double tv, double lv, double sv) {
  return sg__aco_rc(w, tu, lu, su) + sg__aco_rc(w, tv, lv, sv) - w->C[ru] - w->C[rv];
}

static SG_INLINE SG_HD double sg__aco_delta1(const sg__aco_vrp_ws *w, int r, double dt) {
  return sg__aco_rc(w, w->T[r] + dt, w->L[r], w->S[r]) - w->C[r];
}

static SG_INLINE SG_HD void sg__aco_touch(sg__aco_vrp_ws *w, int ru, int rv) {
  sg__aco_route_update(w, ru);
  if (rv != ru) sg__aco_route_update(w, rv);
}

/* Move 1-3: relocate u (kind 1), (u,x) (kind 2) or (x,u) (kind 3) after v. */
static SG__ACO_BIG SG_HD int sg__aco_relocate(sg__aco_vrp_ws *w, int u, int v, int kind) {
  int x = w->nxt[u], pu = w->prv[u], y = w->nxt[v];
  if (v == u || v == pu) return 0;
  if (kind > 1 && (sg__aco_is_depot(w, x) || v == x)) return 0;
  int last = kind == 1 ? u : x, after = w->nxt[last];
  int head = kind == 3 ? x : u, tail = kind == 3 ? u : x;
  if (kind == 1) head = tail = u;
  int ru = w->rte[u], rv = w->rte[v];
  double dout = -sg__aco_vd(w, pu, u) - sg__aco_vd(w, last, after) + sg__aco_vd(w, pu, after);
  double din = -sg__aco_vd(w, v, y) + sg__aco_vd(w, v, head) + sg__aco_vd(w, tail, y);
  double delta;
  if (ru != rv) {
    double q = sg__aco_dem(w, u) + (kind > 1 ? sg__aco_dem(w, x) : 0.0);
    double s = sg__aco_svc(w, u) + (kind > 1 ? sg__aco_svc(w, x) : 0.0);
    delta = sg__aco_delta2(w, ru, w->T[ru] + dout, w->L[ru] - q, w->S[ru] - s, rv, w->T[rv] + din,
                           w->L[rv] + q, w->S[rv] + s);
  } else {
    delta = sg__aco_delta1(w, ru, dout + din);
  }
  if (delta > -SG__ACO_EPS) return 0;
  sg__aco_link(w, pu, after);
  sg__aco_link(w, v, head);
  if (kind > 1) sg__aco_link(w, head, tail);
  sg__aco_link(w, tail, y);
  sg__aco_touch(w, ru, rv);
  return 1;
}

/* Move 4-6: swap u with v (kind 4), (u,x) with v (kind 5), (u,x) with (v,y) (kind 6). */
static SG__ACO_BIG SG_HD int sg__aco_swap(sg__aco_vrp_ws *w, int u, int v, int kind) {
  if (sg__aco_is_depot(w, v) || v == u) return 0;
  int x = w->nxt[u], pu = w->prv[u], y = w->nxt[v], pv = w->prv[v];
  if (kind >= 5 && sg__aco_is_depot(w, x)) return 0;
  if (kind == 6 && sg__aco_is_depot(w, y)) return 0;
  int ue = kind >= 5 ? x : u, ve = kind == 6 ? y : v; /* last node of each block */
  int au = w->nxt[ue], av = w->nxt[ve];               /* nodes after the blocks */
  int ru = w->rte[u], rv = w->rte[v];
  if (ru == rv) { /* blocks must be disjoint and not adjacent */
    if (v == x || v == pu || v == au || pv == ue || ve == pu || av == u) return 0;
  }
  double du =
      -sg__aco_vd(w, pu, u) - sg__aco_vd(w, ue, au) + sg__aco_vd(w, pu, v) + sg__aco_vd(w, ve, au);
  double dv =
      -sg__aco_vd(w, pv, v) - sg__aco_vd(w, ve, av) + sg__aco_vd(w, pv, u) + sg__aco_vd(w, ue, av);
  double delta;
  if (ru != rv) {
    double qu = sg__aco_dem(w, u) + (kind >= 5 ? sg__aco_dem(w, x) : 0.0);
    double su = sg__aco_svc(w, u) + (kind >= 5 ? sg__aco_svc(w, x) : 0.0);
    double qv = sg__aco_dem(w, v) + (kind == 6 ? sg__aco_dem(w, y) : 0.0);
    double sv = sg__aco_svc(w, v) + (kind == 6 ? sg__aco_svc(w, y) : 0.0);
    delta = sg__aco_delta2(w, ru, w->T[ru] + du, w->L[ru] - qu + qv, w->S[ru] - su + sv, rv,
                           w->T[rv] + dv, w->L[rv] + qu - qv, w->S[rv] + su - sv);
  } else {
    delta = sg__aco_delta1(w, ru, du + dv);
  }
  if (delta > -SG__ACO_EPS) return 0;
  sg__aco_link(w, pu, v);
  sg__aco_link(w, ve, au);
  sg__aco_link(w, pv, u);
  sg__aco_link(w, ue, av);
  sg__aco_touch(w, ru, rv);
  return 1;
}

/* Move 7: inside one route with u before v, replace (u,x), (v,y) by (u,v), (x,y). */
static SG__ACO_BIG SG_HD int sg__aco_two_opt_intra(sg__aco_vrp_ws *w, int u, int v) {
  int r = w->rte[u];
  if (w->rte[v] != r || w->idx[u] >= w->idx[v]) return 0;
  int x = w->nxt[u], y = w->nxt[v];
  if (x == v) return 0;
  double dt = sg__aco_vd(w, u, v) + sg__aco_vd(w, x, y) - sg__aco_vd(w, u, x) - sg__aco_vd(w, v, y);
  if (sg__aco_delta1(w, r, dt) > -SG__ACO_EPS) return 0;
  int len = 0;
  for (int z = v; z != u; z = w->prv[z])
    w->tmp[len++] = z; /* v .. x backwards */
  int prev = u;
  for (int i = 0; i < len; i++) {
    sg__aco_link(w, prev, w->tmp[i]);
    prev = w->tmp[i];
  }
  sg__aco_link(w, prev, y);
  sg__aco_route_update(w, r);
  return 1;
}

/* Moves 8, 9 (2-opt* between routes ru != rv; v may be a start depot):
 * 8: (u,x), (v,y) -> (u,v), (x,y): route ru = start..u + reversed(first(rv)..v),
 *    route rv = reversed(x..last(ru)) + y..last(rv).
 * 9: (u,x), (v,y) -> (u,y), (v,x): the tails are exchanged. */
static SG__ACO_BIG SG_HD int sg__aco_two_opt_star(sg__aco_vrp_ws *w, int u, int v, int kind) {
  int ru = w->rte[u], rv = w->rte[v];
  if (ru == rv) return 0;
  int x = w->nxt[u], y = w->nxt[v];
  int eu = w->n + 2 * ru + 1, ev = w->n + 2 * rv + 1;
  double tu_tail = w->T[ru] - w->fd[x], tv_tail = w->T[rv] - w->fd[y];
  double lu_tail = w->L[ru] - w->fl[u], lv_tail = w->L[rv] - w->fl[v];
  double su_tail = w->S[ru] - w->fs[u], sv_tail = w->S[rv] - w->fs[v];
  double delta;
  if (kind == 8) {
    delta = sg__aco_delta2(w, ru, w->fd[u] + sg__aco_vd(w, u, v) + w->fd[v], w->fl[u] + w->fl[v],
                           w->fs[u] + w->fs[v], rv, tu_tail + sg__aco_vd(w, x, y) + tv_tail,
                           lu_tail + lv_tail, su_tail + sv_tail);
  } else {
    if (sg__aco_is_depot(w, x) && sg__aco_is_depot(w, y)) return 0;
    delta = sg__aco_delta2(w, ru, w->fd[u] + sg__aco_vd(w, u, y) + tv_tail, w->fl[u] + lv_tail,
                           w->fs[u] + sv_tail, rv, w->fd[v] + sg__aco_vd(w, v, x) + tu_tail,
                           w->fl[v] + lu_tail, w->fs[v] + su_tail);
  }
  if (delta > -SG__ACO_EPS) return 0;
  int *a = w->tmp, na = 0;
  for (int z = w->nxt[w->n + 2 * ru]; z != x; z = w->nxt[z])
    a[na++] = z; /* start..u */
  int *b;
  int nb = 0;
  if (kind == 8) {
    for (int z = v; !sg__aco_is_depot(w, z); z = w->prv[z])
      a[na++] = z; /* v..first(rv) */
    b = a + na;
    for (int z = w->prv[eu]; z != u; z = w->prv[z])
      b[nb++] = z; /* last(ru)..x */
    for (int z = y; z != ev; z = w->nxt[z])
      b[nb++] = z; /* y..last(rv) */
  } else {
    for (int z = y; z != ev; z = w->nxt[z])
      a[na++] = z; /* y..last(rv) */
    b = a + na;
    for (int z = w->nxt[w->n + 2 * rv]; z != y; z = w->nxt[z])
      b[nb++] = z; /* start..v */
    for (int z = x; z != eu; z = w->nxt[z])
      b[nb++] = z; /* x..last(ru) */
  }
  sg__aco_route_set(w, ru, a, na);
  sg__aco_route_set(w, rv, b, nb);
  return 1;
}

SG_END_DECLS

#endif
