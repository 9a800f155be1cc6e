/* CVRP ant (host and device): focused construction of a giant tour over the customers, Split
 * into routes (Bellman on the giant tour, penalised limits), then the granular local search of
 * aco_vrp_moves.h until no move improves; an infeasible result is repaired by rerunning the
 * search with penalties ×10 and ×100, and failing that by a split that holds the limits. The
 * solution is written as customers with a 0 after each route. */
#ifndef SG_ACO_VRP_H
#define SG_ACO_VRP_H

#include "aco_tsp.h"
#include "aco_vrp_moves.h"

SG_BEGIN_DECLS

#define SG__ACO_VRP_MAX_LOOPS 1000

/* Splits giant[0..m) (m = n-1 customers) into routes; writes route bounds b[0..nr] into pred
 * (reused) and returns nr. Routes may exceed the limits (penalised). */
static SG__ACO_BIG SG_HD int sg__aco_split(sg__aco_vrp_ws *w) {
  const sg__aco_model *mo = w->m;
  int m = w->n - 1;
  const int *g = w->giant;
  double *pv = w->pv;
  int *pred = w->pred;
  pv[0] = 0.0;
  for (int j = 1; j <= m; j++)
    pv[j] = 1e300;
  for (int i = 0; i < m; i++) {
    if (!(pv[i] < 1e300)) continue;
    double load = 0.0, serv = 0.0, dist = 0.0;
    for (int j = i; j < m; j++) {
      int c = g[j];
      load += (double)mo->demand[c];
      serv += mo->service[c];
      dist += sg__aco_dist(mo, j == i ? 0 : g[j - 1], c);
      double cost = pv[i] + sg__aco_rc(w, dist + sg__aco_dist(mo, c, 0), load, serv);
      if (cost < pv[j + 1]) {
        pv[j + 1] = cost;
        pred[j + 1] = i;
      }
      if (load > 1.5 * mo->capacity) break;
      if (mo->max_len > 0.0 && dist + serv > 1.5 * mo->max_len) break;
    }
  }
  /* bounds, back to front into tmp, then forward into pred[0..nr] */
  int nr = 0;
  for (int j = m; j > 0; j = pred[j])
    w->tmp[nr++] = j;
  pred[0] = 0;
  for (int r = 0; r < nr; r++)
    pred[r + 1] = w->tmp[nr - 1 - r];
  return nr;
}

/* Merges adjacent routes with the smallest joint load until at most maxr remain. */
static SG__ACO_BIG SG_HD int sg__aco_merge_routes(sg__aco_vrp_ws *w, int *b, int nr, int maxr) {
  while (nr > maxr) {
    int best = 0;
    double bl = 1e300;
    for (int r = 0; r + 1 < nr; r++) {
      double l = 0.0;
      for (int j = b[r]; j < b[r + 2]; j++)
        l += (double)w->m->demand[w->giant[j]];
      if (l < bl) {
        bl = l;
        best = r;
      }
    }
    for (int r = best + 1; r < nr; r++)
      b[r] = b[r + 1];
    nr--;
  }
  return nr;
}

/* Route slots from the split of w->giant (w->R set here). */
static SG__ACO_BIG SG_HD void sg__aco_routes_from_giant(sg__aco_vrp_ws *w) {
  int nr = sg__aco_split(w);
  int *b = w->pred;
  int slots = w->m->max_routes;
  if (nr > slots) nr = sg__aco_merge_routes(w, b, nr, slots);
  /* spare empty routes: at least one, and enough for the capacity lower bound */
  double total = 0.0;
  for (int i = 0; i < w->n - 1; i++)
    total += (double)w->m->demand[w->giant[i]];
  int need = (int)ceil(total / w->m->capacity) + 1;
  int want = nr + 1 > need ? nr + 1 : need;
  w->R = want <= slots ? want : slots;
  w->stamp = 0;
  for (int r = 0; r < w->R; r++) {
    int lo = r < nr ? b[r] : 0, hi = r < nr ? b[r + 1] : 0;
    sg__aco_route_set(w, r, w->giant + lo, hi - lo);
  }
}

static SG_INLINE SG_HD int sg__aco_first_empty(const sg__aco_vrp_ws *w) {
  for (int r = 0; r < w->R; r++)
    if (w->cnt[r] == 0) return r;
  return -1;
}

/* Moves of customer u against neighbour v (a customer): 1 when one was applied. */
static SG__ACO_BIG SG_HD int sg__aco_vrp_pair(sg__aco_vrp_ws *w, int u, int v) {
  if (sg__aco_relocate(w, u, v, 1) || sg__aco_relocate(w, u, v, 2) ||
      sg__aco_relocate(w, u, v, 3) || sg__aco_swap(w, u, v, 4) || sg__aco_swap(w, u, v, 5) ||
      sg__aco_swap(w, u, v, 6))
    return 1;
  if (w->rte[u] == w->rte[v]) return sg__aco_two_opt_intra(w, u, v);
  if (sg__aco_two_opt_star(w, u, v, 8) || sg__aco_two_opt_star(w, u, v, 9)) return 1;
  int pv = w->prv[v]; /* v first in its route: also try inserting at the route's start */
  if (sg__aco_is_depot(w, pv)) {
    if (sg__aco_relocate(w, u, pv, 1) || sg__aco_relocate(w, u, pv, 2) ||
        sg__aco_relocate(w, u, pv, 3) || sg__aco_two_opt_star(w, u, pv, 8) ||
        sg__aco_two_opt_star(w, u, pv, 9))
      return 1;
  }
  return 0;
}

/* Granular local search: every customer against its candidates until a full pass improves
 * nothing; pairs of routes unchanged since u was last tested are skipped. */
static SG__ACO_BIG SG_HD void sg__aco_vrp_ls(sg__aco_vrp_ws *w) {
  const sg__aco_model *mo = w->m;
  int m = w->n - 1;
  for (int i = 0; i < m; i++)
    w->tested[w->order[i]] = -1;
  int improved = 1;
  for (int loop = 0; improved && loop < SG__ACO_VRP_MAX_LOOPS; loop++) {
    improved = 0;
    for (int oi = 0; oi < m; oi++) {
      int u = w->order[oi];
      int last = w->tested[u];
      w->tested[u] = w->stamp;
      const int *cu = mo->cand + (size_t)u * mo->k;
      for (int k = 0; k < mo->k; k++) {
        int v = cu[k];
        int mu = w->mod[w->rte[u]], mv = w->mod[w->rte[v]];
        if (loop > 0 && (mu > mv ? mu : mv) <= last) continue;
        if (sg__aco_vrp_pair(w, u, v)) improved = 1;
      }
      if (loop > 0) {
        int e = sg__aco_first_empty(w);
        if (e >= 0) {
          int d = w->n + 2 * e;
          if (sg__aco_relocate(w, u, d, 1) || sg__aco_relocate(w, u, d, 2) ||
              sg__aco_relocate(w, u, d, 3) || sg__aco_two_opt_star(w, u, d, 9))
            improved = 1;
        }
      }
    }
  }
}

/* flags of the current routes: SG__ACO_LOAD_OK | SG__ACO_DUR_OK */
static SG_INLINE SG_HD int sg__aco_vrp_limits(const sg__aco_vrp_ws *w) {
  int f = SG__ACO_LOAD_OK | SG__ACO_DUR_OK;
  for (int r = 0; r < w->R; r++) {
    if (w->L[r] > w->m->capacity) f &= ~SG__ACO_LOAD_OK;
    if (w->m->max_len > 0.0 && w->T[r] + w->S[r] > w->m->max_len) f &= ~SG__ACO_DUR_OK;
  }
  return f;
}

static SG_INLINE SG_HD void sg__aco_vrp_set_penalty(sg__aco_vrp_ws *w, double lc, double ld) {
  w->lc = lc;
  w->ld = ld;
  for (int r = 0; r < w->R; r++)
    w->C[r] = sg__aco_rc(w, w->T[r], w->L[r], w->S[r]);
}

/* Writes the routes as customers with a 0 after each non-empty route; returns the length. */
static SG__ACO_BIG SG_HD int sg__aco_vrp_write(const sg__aco_vrp_ws *w, int *out) {
  int len = 0;
  for (int r = 0; r < w->R; r++) {
    if (w->cnt[r] == 0) continue;
    for (int z = w->nxt[w->n + 2 * r]; z < w->n; z = w->nxt[z])
      out[len++] = z;
    out[len++] = 0;
  }
  return len;
}

/* Cost of a written solution (route by route, depot first): the same sum wherever computed. */
static SG__ACO_BIG SG_HD double sg__aco_vrp_cost(const sg__aco_model *m, const int *sol, int len) {
  double c = 0.0;
  int prev = 0;
  for (int i = 0; i < len; i++) {
    c += sg__aco_dist(m, prev, sol[i]);
    prev = sol[i];
  }
  return c;
}

/* Split + local search + repair on w->giant with penalties (lc, ld). Writes the solution to out
 * (2n ints), its travel cost, its penalised cost and flags. order is shuffled with rng. */
static SG__ACO_BIG SG_HD void sg__aco_vrp_improve(sg__aco_vrp_ws *w, int local_search, double lc,
                                                  double ld, sg__aco_rng *rng, int *out, int *len,
                                                  double *cost, double *pcost, int *flags) {
  /* without a search to repair it, the split itself must hold the limits when it can */
  w->lc = local_search ? lc : 1e9;
  w->ld = local_search ? ld : 1e9;
  sg__aco_routes_from_giant(w);
  const int ok = SG__ACO_LOAD_OK | SG__ACO_DUR_OK;
  int m = w->n - 1;
  int pre = sg__aco_vrp_limits(w), now = pre;
  if (local_search) {
    for (int i = 0; i < m; i++)
      w->order[i] = i + 1;
    for (int i = m - 1; i > 0; i--) {
      int j = sg__aco_rng_below(rng, i + 1);
      int t = w->order[i];
      w->order[i] = w->order[j];
      w->order[j] = t;
    }
    sg__aco_vrp_ls(w);
    pre = now = sg__aco_vrp_limits(w);
    for (int rep = 1; rep <= 2 && now != ok; rep++) {
      double mult = rep == 1 ? 10.0 : 100.0;
      sg__aco_vrp_set_penalty(w, lc * mult, ld * mult);
      sg__aco_vrp_ls(w);
      now = sg__aco_vrp_limits(w);
    }
    if (now != ok) {
      /* the search could not repair it (a large instance, few iterations): split the giant
       * tour again holding the limits, which gives feasible routes whenever each customer
       * fits a route alone, and search from there with the limits as good as hard */
      w->lc = w->ld = 1e9;
      sg__aco_routes_from_giant(w);
      if (sg__aco_vrp_limits(w) == ok) {
        sg__aco_vrp_ls(w);
        if (sg__aco_vrp_limits(w) != ok) {
          sg__aco_routes_from_giant(w);
        }
      }
      now = sg__aco_vrp_limits(w);
    }
  }
  sg__aco_vrp_set_penalty(w, lc, ld);
  int f = pre | (now == ok ? SG__ACO_FEASIBLE : 0);
  double pc = 0.0;
  for (int r = 0; r < w->R; r++)
    pc += w->C[r] - w->T[r];
  *len = sg__aco_vrp_write(w, out);
  *cost = sg__aco_vrp_cost(w->m, out, *len);
  *pcost = *cost + pc;
  *flags = f;
}

/* One CVRP ant of iteration it. scratch: sg__aco_scratch_bytes(m); out: it->sol_cap ints. */
static SG__ACO_BIG SG_HD void sg__aco_vrp_ant(const sg__aco_model *m, const sg__aco_iter *it,
                                              int ant, void *scratch, int *out, int *len,
                                              double *cost, double *pcost, int *flags) {
  int n = m->n, colony = ant / it->ants;
  sg__aco_vrp_ws w = sg__aco_vrp_carve(m, scratch);
  for (int i = 0; i < n; i++)
    w.flag[i] = 0;
  w.flag[0] = SG__ACO_VISITED;
  sg__aco_rng rng;
  sg__aco_rng_init(&rng, it->seed, sg__aco_ant_stream(ant), sg__aco_iter_index(it->iteration));
  sg__aco_queue qu = {w.q, 0, 0, n};
  const double *choice = it->choice + (size_t)colony * (size_t)n * (size_t)m->k;
  sg__aco_construct(m, choice, it->src + (size_t)colony * (n - 1), it->src_pos + (size_t)colony * n,
                    n - 1, it->new_edges, &rng, w.giant, w.flag, &qu);
  const double *lam = it->lambda + 2 * colony;
  sg__aco_vrp_improve(&w, it->local_search, lam[0], lam[1], &rng, out, len, cost, pcost, flags);
}

SG_END_DECLS

#endif
