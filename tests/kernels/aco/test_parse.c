/* TSPLIB / CVRPLIB readers and the distance functions, against independent references: the
 * published optimal tours recomputed to their known lengths, CVRPLIB .sol files to their costs,
 * hand-computed pairs, and the reference distances of check.c on every pair. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

typedef struct known {
  const char *tsp, *tour;
  double optimum;
} known;

static const known tours[] = {
    {"gr24.tsp", "gr24.opt.tour", 1272},        {"fri26.tsp", "fri26.opt.tour", 937},
    {"bays29.tsp", "bays29.opt.tour", 2020},    {"att48.tsp", "att48.opt.tour", 10628},
    {"eil51.tsp", "eil51.opt.tour", 426},       {"berlin52.tsp", "berlin52.opt.tour", 7542},
    {"st70.tsp", "st70.opt.tour", 675},         {"gr96.tsp", "gr96.opt.tour", 55209},
    {"kroA100.tsp", "kroA100.opt.tour", 21282}, {"brg180.tsp", "brg180.opt.tour", 1950},
};

Test(aco_parse, optimal_tours_have_their_published_lengths) {
  for (size_t t = 0; t < SG_ARRAY_LEN(tours); t++) {
    sg_aco_instance *in = ref_load(tours[t].tsp, 0);
    int n = in->problem.n, *tour = malloc((size_t)n * sizeof *tour);
    sg_err e = {0};
    cr_assert_eq(sg_aco_tour_read(ref_path(tours[t].tour), in, tour, &e), SG_OK, "%s", e.msg);
    double ref = 0, lib = 0;
    char why[256];
    cr_assert(ref_check_tour(&in->problem, tour, n, &ref, why, sizeof why), "%s", why);
    for (int i = 0; i < n; i++)
      lib += sg_aco_distance(&in->problem, tour[i], tour[(i + 1) % n]);
    cr_assert_eq(ref, tours[t].optimum, "%s: reference length %g", tours[t].tsp, ref);
    cr_assert_eq(lib, tours[t].optimum, "%s: library length %g", tours[t].tsp, lib);
    free(tour);
    sg_aco_instance_free(in);
  }
}

Test(aco_parse, library_distances_equal_the_reference_on_every_pair) {
  const char *files[] = {"burma14.tsp",  "gr96.tsp", "att48.tsp",
                         "berlin52.tsp", "gr17.tsp", "bays29.tsp"};
  for (size_t f = 0; f < SG_ARRAY_LEN(files); f++) {
    sg_aco_instance *in = ref_load(files[f], 0);
    const sg_aco_problem *p = &in->problem;
    for (int i = 0; i < p->n; i++)
      for (int j = 0; j < p->n; j++)
        cr_assert_eq(sg_aco_distance(p, i, j), ref_dist(p, i, j), "%s: d(%d, %d)", files[f], i, j);
    sg_aco_instance_free(in);
  }
}

Test(aco_parse, distances_match_hand_computed_pairs) {
  double x[] = {0, 3, 1, 10, 30, 0}, y[] = {0, 4, 1, 0, 40, 2};
  sg_aco_problem p = {.n = 6, .x = x, .y = y};
  p.metric = SG_ACO_EUC_2D;
  cr_assert_eq(sg_aco_distance(&p, 0, 1), 5);
  cr_assert_eq(sg_aco_distance(&p, 0, 2), 1); /* 1.414 rounds down */
  cr_assert_eq(sg_aco_distance(&p, 1, 5), 4); /* sqrt(13) = 3.606 rounds up */
  p.metric = SG_ACO_CEIL_2D;
  cr_assert_eq(sg_aco_distance(&p, 0, 2), 2);
  cr_assert_eq(sg_aco_distance(&p, 0, 1), 5);
  p.metric = SG_ACO_ATT;
  cr_assert_eq(sg_aco_distance(&p, 0, 3), 4);  /* r = 3.162, nint 3 < r: 4 */
  cr_assert_eq(sg_aco_distance(&p, 0, 4), 16); /* r = 15.81, nint 16 */
  p.metric = SG_ACO_EXACT_2D;
  cr_assert_float_eq(sg_aco_distance(&p, 0, 2), sqrt(2.0), 1e-15);
  /* burma14 nodes 1 and 2 (16.47 96.10, 16.47 94.44): 1.4333 degrees of longitude at 16.78
   * degrees of latitude on TSPLIB's sphere: 152.8 km, + 1 truncated: 153 */
  double lat[] = {16.47, 16.47, 20.09}, lon[] = {96.10, 94.44, 92.54};
  sg_aco_problem g = {.n = 3, .metric = SG_ACO_GEO, .x = lat, .y = lon};
  cr_assert_eq(sg_aco_distance(&g, 0, 1), 153);
  cr_assert_eq(sg_aco_distance(&g, 0, 0), 0);
  cr_assert_eq(sg_aco_distance(&g, 1, 0), 153);
}

/* a 4-node matrix written in every EDGE_WEIGHT_FORMAT */
static const double full4[16] = {0, 1, 2, 3, 1, 0, 4, 5, 2, 4, 0, 6, 3, 5, 6, 0};

static void check_format(const char *format, const char *numbers) {
  char text[1024];
  snprintf(text, sizeof text,
           "NAME: m4\nTYPE: TSP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
           "EDGE_WEIGHT_FORMAT: %s\nEDGE_WEIGHT_SECTION\n%s\nEOF\n",
           format, numbers);
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_parse(text, strlen(text), "m4.tsp", 0, &e);
  cr_assert_not_null(in, "%s: %s", format, e.msg);
  cr_assert_eq(in->problem.metric, SG_ACO_EXPLICIT);
  for (int i = 0; i < 16; i++)
    cr_assert_eq(in->problem.matrix[i], full4[i], "%s: entry %d", format, i);
  sg_aco_instance_free(in);
}

Test(aco_parse, reads_every_matrix_format) {
  check_format("FULL_MATRIX", "0 1 2 3\n1 0 4 5\n2 4 0 6\n3 5 6 0");
  check_format("UPPER_ROW", "1 2 3\n4 5\n6");
  check_format("LOWER_ROW", "1\n2 4\n3 5 6");
  check_format("UPPER_DIAG_ROW", "0 1 2 3 0 4 5 0 6 0");
  check_format("LOWER_DIAG_ROW", "0\n1 0\n2 4 0\n3 5 6 0");
  check_format("UPPER_COL", "1 2 4 3 5 6");
  check_format("LOWER_COL", "1 2 3 4 5 6");
  check_format("UPPER_DIAG_COL", "0 1 0 2 4 0 3 5 6 0");
  check_format("LOWER_DIAG_COL", "0 1 2 3 0 4 5 0 6 0");
}

Test(aco_parse, a_byte_order_mark_is_skipped) {
  const char *text = "\xEF\xBB\xBFNAME: b\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n"
                     "NODE_COORD_SECTION\n1 0 0\n2 1 0\n3 0 1\nEOF\n";
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_parse(text, strlen(text), "bom.tsp", 0, &e);
  cr_assert_not_null(in, "%s", e.msg);
  cr_expect_str_eq(in->name, "b");
  sg_aco_instance_free(in);
}

Test(aco_parse, tolerates_header_spellings_crlf_and_tabs) {
  const char *text = "NAME:t3\r\nTYPE :\tTSP\t\r\nCOMMENT : a : b\r\nDIMENSION:  3 \r\n"
                     "EDGE_WEIGHT_TYPE\t:\tEUC_2D\t\r\nNODE_COORD_SECTION\r\n1\t0\t0\r\n"
                     "2 3.0 4e0\r\n  3 6 8  \r\nEOF\r\n";
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_parse(text, strlen(text), "t3.tsp", 0, &e);
  cr_assert_not_null(in, "%s", e.msg);
  cr_assert_str_eq(in->name, "t3");
  cr_assert_str_eq(in->type, "TSP");
  cr_assert_eq(in->problem.n, 3);
  cr_assert_eq(in->problem.metric, SG_ACO_EUC_2D);
  cr_assert_eq(in->problem.y[1], 4.0);
  cr_assert_eq(sg_aco_distance(&in->problem, 0, 2), 10);
  cr_assert_null(in->problem.demand);
  sg_aco_instance_free(in);
}

Test(aco_parse, cvrplib_solutions_recompute_to_their_costs) {
  struct {
    const char *vrp, *sol;
    double cost;
  } cases[] = {{"E-n13-k4.vrp", "E-n13-k4.sol", 247},
               {"P-n16-k8.vrp", "P-n16-k8.sol", 450},
               {"A-n32-k5.vrp", "A-n32-k5.sol", 784},
               {"X-n101-k25.vrp", "X-n101-k25.sol", 27591}};
  for (size_t c = 0; c < SG_ARRAY_LEN(cases); c++) {
    sg_aco_instance *in = ref_load(cases[c].vrp, 0);
    cr_assert_str_eq(in->type, "CVRP");
    cr_assert_not_null(in->problem.demand);
    cr_assert_eq(in->problem.demand[0], 0);
    cr_assert_eq(in->problem.ids[0], 1, "the depot (node 1 in the file) is node 0");
    char path[1024];
    snprintf(path, sizeof path, "%s", ref_path(cases[c].sol));
    cr_assert_eq(ref_sol_cost(path, in), cases[c].cost, "%s", cases[c].vrp);
    sg_aco_instance_free(in);
  }
  sg_aco_instance *x = ref_load("X-n101-k25.vrp", 0);
  cr_assert_eq(x->problem.n, 101);
  cr_assert_eq(x->problem.capacity, 206);
  sg_aco_instance_free(x);
  sg_aco_instance *e = ref_load("E-n13-k4.vrp", 0);
  cr_assert_eq(e->problem.metric, SG_ACO_EXPLICIT);
  cr_assert_eq(e->problem.capacity, 6000);
  cr_assert_eq(e->problem.demand[12], 1100);
  sg_aco_instance_free(e);
}

Test(aco_parse, cmt_service_times_and_route_limit_with_exact_distances) {
  sg_aco_instance *in = ref_load("CMT6.vrp", SG_ACO_READ_EXACT);
  const sg_aco_problem *p = &in->problem;
  cr_assert_eq(p->metric, SG_ACO_EXACT_2D);
  cr_assert_eq(p->max_route_length, 200.0);
  cr_assert_not_null(p->service_time);
  cr_assert_eq(p->service_time[0], 0.0);
  cr_assert_eq(p->service_time[7], 10.0);
  char path[1024];
  snprintf(path, sizeof path, "%s", ref_path("CMT6.sol"));
  cr_assert_float_eq(ref_sol_cost(path, in), 555.43, 0.005);
  sg_aco_instance_free(in);
  sg_aco_instance *rounded = ref_load("CMT6.vrp", 0);
  cr_assert_eq(rounded->problem.metric, SG_ACO_EUC_2D);
  sg_aco_instance_free(rounded);
}

Test(aco_parse, moves_the_depot_to_node_zero) {
  const char *text = "NAME: d\nTYPE: CVRP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EUC_2D\nCAPACITY: 10\n"
                     "NODE_COORD_SECTION\n1 0 0\n2 5 0\n3 9 9\n4 0 5\nDEMAND_SECTION\n1 3\n"
                     "2 4\n3 0\n4 5\nDEPOT_SECTION\n3\n-1\nEOF\n";
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_parse(text, strlen(text), "d.vrp", 0, &e);
  cr_assert_not_null(in, "%s", e.msg);
  const sg_aco_problem *p = &in->problem;
  cr_assert_eq(p->ids[0], 3);
  cr_assert_eq(p->demand[0], 0);
  cr_assert_eq(p->x[0], 9.0);
  cr_assert_eq(p->ids[2], 1);
  cr_assert_eq(p->demand[2], 3);
  sg_aco_instance_free(in);
}

/* node ids not 1..n in order: demands and the depot are found by id (a sorted lookup) */
Test(aco_parse, demands_and_depot_find_nodes_by_id_in_any_order) {
  const char *text = "NAME: d\nTYPE: CVRP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EUC_2D\nCAPACITY: 10\n"
                     "NODE_COORD_SECTION\n40 0 0\n7 5 0\n12 9 9\n3 0 5\nDEMAND_SECTION\n3 2\n"
                     "40 0\n12 6\n7 4\nDEPOT_SECTION\n40\n-1\nEOF\n";
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_parse(text, strlen(text), "d.vrp", 0, &e);
  cr_assert_not_null(in, "%s", e.msg);
  const sg_aco_problem *p = &in->problem;
  int64_t want_id[] = {40, 7, 12, 3};
  int want_demand[] = {0, 4, 6, 2};
  for (int i = 0; i < 4; i++) {
    cr_expect_eq(p->ids[i], want_id[i], "node %d", i);
    cr_expect_eq(p->demand[i], want_demand[i], "demand of id %lld", (long long)want_id[i]);
  }
  sg_aco_instance_free(in);
}

/* parses text that must fail; the message must contain each of the given fragments */
static void expect_error(const char *text, const char *frag1, const char *frag2) {
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_parse(text, strlen(text), "bad.vrp", 0, &e);
  cr_assert_null(in, "accepted: %s", text);
  cr_assert_eq(e.code, SG_INVALID_ARGUMENT, "%s", e.msg);
  cr_assert(strstr(e.msg, frag1), "message \"%s\" lacks \"%s\"", e.msg, frag1);
  if (frag2) cr_assert(strstr(e.msg, frag2), "message \"%s\" lacks \"%s\"", e.msg, frag2);
}

#define HEAD "NAME: b\nTYPE: CVRP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nCAPACITY: 10\n"
#define COORDS "NODE_COORD_SECTION\n1 0 0\n2 1 0\n3 0 1\n"

Test(aco_parse, errors_name_the_source_and_line) {
  expect_error(HEAD "BOGUS: 1\n" COORDS, "bad.vrp:6", "BOGUS");
  expect_error(HEAD "NODE_COORD_SECTION\n1 0 0\n2 1\n", "end of file", NULL);
  expect_error(HEAD "NODE_COORD_SECTION\n1 0 0\n2 1 x\n3 0 1\n", "bad.vrp:8", "a number");
  expect_error(HEAD "NODE_COORD_SECTION\n1 0 0\n2 1 nan\n3 0 1\n", "bad.vrp:8", "not finite");
  expect_error(HEAD "NODE_COORD_SECTION\n1 0 0\n1 1 0\n3 0 1\n", "bad.vrp:8", "duplicate node id");
  expect_error(HEAD COORDS "DEMAND_SECTION\n1 0\n2 4\n7 1\n", "bad.vrp:13", "unknown node id");
  expect_error(HEAD COORDS "DEMAND_SECTION\n1 0\n2 -4\n3 1\n", "bad.vrp:12", "negative demand");
  expect_error(HEAD COORDS "DEMAND_SECTION\n1 0\n2 4\n3 11\nEOF\n", "bad.vrp:13",
               "exceeds CAPACITY");
  expect_error(HEAD COORDS "DEMAND_SECTION\n1 2\n2 4\n3 1\nEOF\n", "bad.vrp:11", "depot");
  expect_error(HEAD COORDS "EOF\n", "without DEMAND_SECTION", NULL);
  /* VEHICLES 2^31 wrapped to -2147483648 (an int cast out of range); CAPACITY over 2e9 was
   * reported at the EOF line as missing; fractions were cut without a word */
  expect_error(HEAD "NODE_COORD_SECTION\n1 0 0\n2 1e10 0\n3 0 1\n", "bad.vrp:8",
               "coordinate exceeds 1e9");
  /* two ids repeated: the first repeat in the file is named (line 8), not the smaller id 3's (9) */
  expect_error("NAME: b\nTYPE: TSP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
               "7 0 0\n3 1 0\n7 0 1\n3 1 1\n",
               "bad.vrp:8", "duplicate node id");
  expect_error(HEAD "VEHICLES: 2147483648\n" COORDS, "bad.vrp:6",
               "VEHICLES must be a whole number in 0..1000000, not 2147483648");
  expect_error(HEAD "VEHICLES: 2.7\n" COORDS, "bad.vrp:6", "VEHICLES must be a whole number");
  expect_error("NAME: b\nTYPE: CVRP\nDIMENSION: 3\nCAPACITY: 2147483648\n", "bad.vrp:4",
               "CAPACITY must be a whole number in 1..2000000000");
  expect_error("NAME: b\nTYPE: CVRP\nDIMENSION: 3\nCAPACITY: 10.5\n", "bad.vrp:4", "CAPACITY");
  expect_error("NAME: b\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_3D\n", "bad.vrp:4",
               "EUC_3D");
  expect_error("NAME: b\nTYPE: ATSP\n", "bad.vrp:2", "ATSP");
  expect_error("NAME: b\nTYPE: TSP\nNODE_COORD_SECTION\n1 0 0\n", "bad.vrp:3", "DIMENSION");
  expect_error("TYPE: TSP\nDIMENSION: 2\n", "bad.vrp:2", "DIMENSION");
  /* the matrix's own errors at the weight's line (the solver's check named indices only) */
  expect_error("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: "
               "FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2\n1 0 3\n2 4 0\n",
               "bad.vrp:8: weight 4 (row 3, column 2) differs from 3 (row 2, column 3)",
               "symmetric");
  expect_error("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: "
               "LOWER_DIAG_ROW\nEDGE_WEIGHT_SECTION\n0\n1 0\n2 4\n7\n",
               "bad.vrp:9: weight 7 on the diagonal (row 3) is not 0", NULL);
  expect_error("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: "
               "UPPER_ROW\nEDGE_WEIGHT_SECTION\n1 2\n-3\n",
               "bad.vrp:7: weight -3 (row 2, column 3) is not a finite number >= 0", NULL);
  /* the fleet and route-length limits at their header lines, with the file's node ids: the
   * depot, node 3, trades places with node 1, so the first customer checked is node 2 (index 1),
   * whose round trip (1.41 rounds to 1, each way) is 2 */
  expect_error(HEAD "VEHICLES: 1\n" COORDS "DEMAND_SECTION\n1 4\n2 7\n3 0\nDEPOT_SECTION\n3\n-1\n",
               "bad.vrp:6: VEHICLES 1 x CAPACITY 10 = 10 is less than the total demand 11", NULL);
  expect_error(
      HEAD "DISTANCE: 1.5\n" COORDS "DEMAND_SECTION\n1 4\n2 6\n3 0\nDEPOT_SECTION\n3\n-1\n",
      "bad.vrp:6: DISTANCE 1.5 is less than 2, the round trip from the depot to node 2", NULL);
  expect_error(HEAD "DISTANCE: 3\nSERVICE_TIME: 1.5\n" COORDS
                    "DEMAND_SECTION\n1 4\n2 6\n3 0\nDEPOT_SECTION\n3\n-1\n",
               "bad.vrp:6: DISTANCE 3 is less than 3.5", "node 2 with its SERVICE_TIME");
  expect_error("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_SECTION\n0 1\n",
               "bad.vrp:4", "EDGE_WEIGHT_FORMAT");
  /* found by fuzzing: a second matrix leaked the first (a server request could leak 128 MiB a
   * call); demands and the depot read before the coordinates went to other nodes, silently */
  expect_error("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: "
               "UPPER_ROW\nEDGE_WEIGHT_SECTION\n1 2 3\nEDGE_WEIGHT_SECTION\n1 2 3\nEOF\n",
               "bad.vrp:7: EDGE_WEIGHT_SECTION given twice", NULL);
  expect_error("TYPE: CVRP\nDIMENSION: 3\nCAPACITY: 100\nEDGE_WEIGHT_TYPE: EUC_2D\n"
               "DEMAND_SECTION\n1 0\n2 5\n3 7\nDEPOT_SECTION\n1\n-1\n"
               "NODE_COORD_SECTION\n3 0 0\n1 10 0\n2 0 10\nEOF\n",
               "bad.vrp:12: NODE_COORD_SECTION after DEMAND_SECTION or DEPOT_SECTION", NULL);
  expect_error(HEAD COORDS COORDS, "bad.vrp:10: NODE_COORD_SECTION given twice", NULL);
  /* a 100-byte header asking for a 4,000-node matrix is refused before 128 MB are allocated */
  expect_error("TYPE: TSP\nDIMENSION: 4000\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: "
               "FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1\n",
               "bad.vrp:5: EDGE_WEIGHT_SECTION: 16000000 weights for 4000 nodes cannot fit in the",
               "bytes left");
}

/* ids in any order, a repeat named at its second line (found by sorting: comparing every pair
 * took minutes for a million nodes) */
Test(aco_parse, a_repeated_node_id_anywhere_is_named_at_its_line) {
  enum { N = 5000 };
  size_t cap = 64 + (size_t)N * 32, at = 0;
  char *text = malloc(cap);
  cr_assert_not_null(text);
  at += (size_t)snprintf(text, cap,
                         "NAME: r\nTYPE: TSP\nDIMENSION: %d\nEDGE_WEIGHT_TYPE: EUC_2D\n"
                         "NODE_COORD_SECTION\n",
                         N);
  for (int i = 0; i < N; i++) /* ids N..1, but the last line repeats the first id */
    at += (size_t)snprintf(text + at, cap - at, "%d %d %d\n", i == N - 1 ? N : N - i, i, i);
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_parse(text, at, "r.tsp", 0, &e);
  cr_expect_null(in);
  char want[64];
  snprintf(want, sizeof want, "r.tsp:%d: duplicate node id", 5 + N);
  cr_expect_neq(strstr(e.msg, want), NULL, "%s", e.msg);
  sg_aco_instance_free(in);
  free(text);
}

Test(aco_parse, missing_files_and_bad_tours_are_reported) {
  sg_err e = {0};
  cr_assert_null(sg_aco_instance_read(ref_path("no-such-file.tsp"), 0, &e));
  cr_assert_eq(e.code, SG_NOT_FOUND);
  cr_assert(strstr(e.msg, "no-such-file.tsp"), "%s", e.msg);
  sg_aco_instance *in = ref_load("eil51.tsp", 0);
  int tour[51];
  sg_err_clear(&e);
  cr_assert_eq(sg_aco_tour_read(ref_path("berlin52.opt.tour"), in, tour, &e), SG_INVALID_ARGUMENT);
  cr_assert(strstr(e.msg, "berlin52.opt.tour"), "%s", e.msg);
  sg_aco_instance_free(in);
}

/* A tour of an instance whose ids are not 1..n is read by looking each id up (a scan per node
 * made it quadratic); unknown and repeated ids are named at their line. */
Test(aco_parse, tours_of_instances_with_other_ids) {
  static const char inst_text[] = "NAME: t\nTYPE: TSP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EUC_2D\n"
                                  "NODE_COORD_SECTION\n40 0 0\n10 3 0\n30 3 4\n20 0 4\nEOF\n";
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_parse(inst_text, strlen(inst_text), "t.tsp", 0, &e);
  cr_assert_not_null(in, "%s", e.msg);
  char path[] = "/tmp/shopgpu-tour-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  fputs("NAME: t.tour\nTYPE: TOUR\nDIMENSION: 4\nTOUR_SECTION\n30\n10\n40\n20\n-1\nEOF\n", f);
  fclose(f);
  int tour[4];
  cr_assert_eq(sg_aco_tour_read(path, in, tour, &e), SG_OK, "%s", e.msg);
  int want[4] = {2, 1, 0, 3}; /* 30, 10, 40, 20 by their places in the file */
  for (int i = 0; i < 4; i++)
    cr_expect_eq(tour[i], want[i], "tour[%d]", i);
  f = fopen(path, "w");
  fputs("TYPE: TOUR\nTOUR_SECTION\n30 10\n25 20\n-1\n", f);
  fclose(f);
  sg_err_clear(&e);
  cr_expect_eq(sg_aco_tour_read(path, in, tour, &e), SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, ":4: unknown node id in TOUR_SECTION"), "%s", e.msg);
  f = fopen(path, "w");
  fputs("TYPE: TOUR\nTOUR_SECTION\n30 10 40\n10 -1\n", f);
  fclose(f);
  sg_err_clear(&e);
  cr_expect_eq(sg_aco_tour_read(path, in, tour, &e), SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, ":4: node visited twice"), "%s", e.msg);
  unlink(path);
  sg_aco_instance_free(in);
}
