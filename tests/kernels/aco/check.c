/* Independent distance functions and validity checkers for the aco tests (see check.h). */
#include "check.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nint(double x) { return (int)(x + 0.5); }

static void geo(double x, double *rad) {
  const double pi = 3.141592;
  int deg = (int)x;
  double min = x - deg;
  *rad = pi * (deg + 5.0 * min / 3.0) / 180.0;
}

double ref_dist(const sg_aco_problem *p, int i, int j) {
  if (p->metric == SG_ACO_EXPLICIT) return p->matrix[(size_t)i * p->n + j];
  double xd = p->x[i] - p->x[j], yd = p->y[i] - p->y[j];
  switch (p->metric) {
  case SG_ACO_EUC_2D: return nint(sqrt(xd * xd + yd * yd));
  case SG_ACO_CEIL_2D: return (int)ceil(sqrt(xd * xd + yd * yd));
  case SG_ACO_EXACT_2D: return sqrt(xd * xd + yd * yd);
  case SG_ACO_ATT: {
    double rij = sqrt((xd * xd + yd * yd) / 10.0);
    int tij = nint(rij);
    return tij < rij ? tij + 1 : tij;
  }
  case SG_ACO_GEO: {
    if (i == j) return 0;
    double lat_i, lon_i, lat_j, lon_j;
    geo(p->x[i], &lat_i);
    geo(p->y[i], &lon_i);
    geo(p->x[j], &lat_j);
    geo(p->y[j], &lon_j);
    const double rrr = 6378.388;
    double q1 = cos(lon_i - lon_j), q2 = cos(lat_i - lat_j), q3 = cos(lat_i + lat_j);
    return (int)(rrr * acos(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)) + 1.0);
  }
  default: cr_assert_fail("unknown metric %d", (int)p->metric);
  }
  return NAN;
}

int ref_check_tour(const sg_aco_problem *p, const int *tour, int n, double *cost, char *why,
                   size_t cap) {
  if (n != p->n) return snprintf(why, cap, "tour has %d of %d nodes", n, p->n), 0;
  char *seen = calloc((size_t)n, 1);
  double c = 0;
  for (int i = 0; i < n; i++) {
    int v = tour[i];
    if (v < 0 || v >= n || seen[v]) {
      snprintf(why, cap, "tour[%d] = %d is out of range or repeated", i, v);
      free(seen);
      return 0;
    }
    seen[v] = 1;
    c += ref_dist(p, v, tour[(i + 1) % n]);
  }
  free(seen);
  *cost = c;
  return 1;
}

int ref_check_solution(const sg_aco_problem *p, const sg_aco_solution *s, double *cost, char *why,
                       size_t cap) {
  int placed = s->route_start[s->n_routes];
  for (int i = 0; i < placed; i++) {
    if (s->nodes[i] < 0 || s->nodes[i] >= p->n)
      return snprintf(why, cap, "nodes[%d] = %d is out of range", i, s->nodes[i]), 0;
    int64_t want = p->ids ? p->ids[s->nodes[i]] : (int64_t)s->nodes[i] + 1;
    if (!s->ids || s->ids[i] != want)
      return snprintf(why, cap, "ids[%d] is not the external id of node %d", i, s->nodes[i]), 0;
  }
  if (!p->demand) {
    if (s->n_routes != 1 || s->route_start[0] != 0 || s->route_start[1] != p->n)
      return snprintf(why, cap, "a tsp solution is one route of n nodes"), 0;
    return ref_check_tour(p, s->nodes, p->n, cost, why, cap);
  }
  if (p->max_vehicles > 0 && s->n_routes > p->max_vehicles)
    return snprintf(why, cap, "%d routes > max_vehicles %d", s->n_routes, p->max_vehicles), 0;
  char *seen = calloc((size_t)p->n, 1);
  int served = 0, ok = 1;
  double total = 0;
  for (int r = 0; r < s->n_routes && ok; r++) {
    long long load = 0;
    double travel = 0, service = 0;
    int prev = 0, lo = s->route_start[r], hi = s->route_start[r + 1];
    if (hi <= lo) ok = 0, snprintf(why, cap, "route %d is empty", r);
    for (int i = lo; i < hi && ok; i++) {
      int v = s->nodes[i];
      if (v <= 0 || v >= p->n || seen[v]) {
        ok = 0;
        snprintf(why, cap, "route %d: node %d is the depot, out of range or repeated", r, v);
        break;
      }
      seen[v] = 1;
      served++;
      load += p->demand[v];
      service += p->service_time ? p->service_time[v] : 0;
      travel += ref_dist(p, prev, v);
      prev = v;
    }
    travel += ref_dist(p, prev, 0);
    if (ok && load > p->capacity)
      ok = 0, snprintf(why, cap, "route %d: load %lld > capacity %d", r, load, p->capacity);
    if (ok && p->max_route_length > 0 && travel + service > p->max_route_length + 1e-9)
      ok = 0, snprintf(why, cap, "route %d: length %g + service %g > %g", r, travel, service,
                       p->max_route_length);
    total += travel;
  }
  free(seen);
  if (ok && served != p->n - 1)
    ok = 0, snprintf(why, cap, "%d of %d customers served", served, p->n - 1);
  *cost = total;
  return ok;
}

double ref_sol_cost(const char *path, const sg_aco_instance *in) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  const sg_aco_problem *p = &in->problem;
  char line[8192];
  double total = 0;
  while (total >= 0 && fgets(line, sizeof line, f)) {
    if (strncmp(line, "Route", 5) != 0) continue;
    int prev = 0;
    for (char *tok = strtok(strchr(line, ':') + 1, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
      long c = strtol(tok, NULL, 10);
      int v = -1; /* customer c is the node with file id c + 1 */
      for (int i = 0; i < p->n; i++)
        if (p->ids[i] == c + 1) v = i;
      if (v < 0) {
        total = -1;
        break;
      }
      total += ref_dist(p, prev, v);
      prev = v;
    }
    if (total >= 0) total += ref_dist(p, prev, 0);
  }
  fclose(f);
  return total;
}

const char *ref_path(const char *file) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s/%s", SG_ACO_TEST_DATA, file);
  return buf;
}

sg_aco_instance *ref_load(const char *file, int flags) {
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_read(ref_path(file), flags, &e);
  cr_assert_not_null(in, "%s: %s", file, e.msg);
  return in;
}
