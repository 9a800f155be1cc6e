/* An independent reference for the aco tests: TSPLIB distances written out from Reinelt's
 * definitions (TSPLIB95 documentation), not from the library's code, and validity checkers for
 * tours and route plans that recompute every cost with them. */
#ifndef SG_TEST_ACO_CHECK_H
#define SG_TEST_ACO_CHECK_H

#include <stddef.h>

#include "aco/aco.h"

#ifndef SG_ACO_TEST_DATA
#define SG_ACO_TEST_DATA "tests/data/aco"
#endif

/* Distance of nodes i, j (0-based) in the problem's own convention. */
double ref_dist(const sg_aco_problem *p, int i, int j);

/* 1 when tour[0..n) visits every node once; *cost gets its closed length. why: the reason. */
int ref_check_tour(const sg_aco_problem *p, const int *tour, int n, double *cost, char *why,
                   size_t cap);

/* 1 when the solution serves every customer once within capacity, route length and fleet;
 * *cost gets the recomputed travel distance (service time excluded). */
int ref_check_solution(const sg_aco_problem *p, const sg_aco_solution *s, double *cost, char *why,
                       size_t cap);

/* Cost of a CVRPLIB .sol file (customer c = the instance's node c+1 by file numbering), or -1. */
double ref_sol_cost(const char *path, const sg_aco_instance *in);

/* An instance from tests/data/aco (asserts on failure). */
sg_aco_instance *ref_load(const char *file, int flags);

/* path of a file in tests/data/aco (static buffer) */
const char *ref_path(const char *file);

#endif
