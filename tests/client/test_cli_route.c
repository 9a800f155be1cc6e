/* The routing client against a real server: the library's SolveRoutes and StartSolveRoutes
 * calls; `shopgpu route` on burma14 (reaches its optimum 3323; the --json shape checked by
 * Python), on the CVRP P-n16-k8 (every customer once, loads within capacity, the cost recomputed
 * here from the file's coordinates with TSPLIB rounding or, with --exact, none; not below the
 * proven optimum 450), seeded runs that repeat, --detach and long limits as jobs, an infeasible
 * CVRP (no cost: null in JSON), bad files. */
#include "cli_run.h"
#include "click_test.h"

TestSuite(cli_route, .fini = cleanup_cli, .timeout = 120);

#define CPU ((const char *const[]){"--backend", "cpu", NULL})
#define BURMA SG_TEST_SOURCE_DIR "/data/routing/burma14.tsp"
#define PN16 SG_TEST_SOURCE_DIR "/data/routing/P-n16-k8.vrp"
#define MAX_NODES 64

static void expect_has(const char *text, const char *want) {
  cr_expect_neq(strstr(text, want), NULL, "\"%s\" lacks \"%s\"", text, want);
}

/* The whole file (the caller frees). */
static char *slurp_all(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "no %s", path);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strdup(buf);
}

/* ---- a CVRPLIB reader of our own (EUC_2D coordinates, demands, capacity, depot) ---- */

typedef struct vrp {
  int n, capacity, depot; /* nodes numbered 1..n as in the file */
  double x[MAX_NODES + 1], y[MAX_NODES + 1];
  int demand[MAX_NODES + 1];
} vrp;

static void read_vrp(const char *path, vrp *v) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no %s", path);
  memset(v, 0, sizeof *v);
  char line[256];
  int section = 0; /* 1 coordinates, 2 demands, 3 depot */
  while (fgets(line, sizeof line, f)) {
    int id, a;
    double x, y;
    if (strncmp(line, "DIMENSION", 9) == 0) v->n = atoi(strchr(line, ':') + 1);
    if (strncmp(line, "CAPACITY", 8) == 0) v->capacity = atoi(strchr(line, ':') + 1);
    if (strncmp(line, "NODE_COORD_SECTION", 18) == 0) section = 1;
    if (strncmp(line, "DEMAND_SECTION", 14) == 0) section = 2;
    if (strncmp(line, "DEPOT_SECTION", 13) == 0) section = 3;
    if (section == 1 && sscanf(line, "%d %lf %lf", &id, &x, &y) == 3 && id >= 1 && id <= MAX_NODES)
      v->x[id] = x, v->y[id] = y;
    if (section == 2 && sscanf(line, "%d %d", &id, &a) == 2 && id >= 1 && id <= MAX_NODES)
      v->demand[id] = a;
    if (section == 3 && sscanf(line, "%d", &id) == 1 && id > 0 && !v->depot) v->depot = id;
  }
  fclose(f);
  cr_assert(v->n > 2 && v->n <= MAX_NODES && v->capacity > 0 && v->depot > 0, "read %s", path);
}

/* TSPLIB EUC_2D: the Euclidean distance rounded to the nearest integer, nint(d) = (int)(d + 0.5);
 * unrounded with exact (--exact, the CMT convention). */
static double euc_2d(const vrp *v, int a, int b, int exact) {
  double dx = v->x[a] - v->x[b], dy = v->y[a] - v->y[b], d = sqrt(dx * dx + dy * dy);
  return exact ? d : (double)(int)(d + 0.5);
}

/* ---- the human output ---- */

typedef struct answer {
  double cost;
  int n_routes, listed; /* the "routes" count, and the route lines seen */
  int len[MAX_NODES];
  long nodes[MAX_NODES][MAX_NODES];
} answer;

/* The ids after "route K" on one line, into a->nodes[a->listed]. */
static void parse_route_line(char *line, answer *a) {
  char *end;
  long k = strtol(line + 5, &end, 10);
  cr_assert(k == a->listed + 1 && k <= MAX_NODES, "route lines in order: %s", line);
  for (char *q = end; a->len[a->listed] < MAX_NODES; q = end) {
    long id = strtol(q, &end, 10);
    if (end == q) break;
    a->nodes[a->listed][a->len[a->listed]++] = id;
  }
  a->listed++;
}

/* Reads the "cost", "routes" and "route K  ids..." lines. */
static void parse_routes(const char *out, answer *a) {
  memset(a, 0, sizeof *a);
  a->cost = -1;
  char *copy = strdup(out), *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "cost ", 5) == 0) a->cost = strtod(line + 5, NULL);
    if (strncmp(line, "routes ", 7) == 0) a->n_routes = atoi(line + 7);
    if (strncmp(line, "route ", 6) == 0) parse_route_line(line, a);
  }
  free(copy);
}

/* Every customer exactly once, the depot never, each load within capacity; returns the cost of
 * the routes recomputed from the coordinates. */
static double check_routes(const vrp *v, const answer *a, int exact) {
  int seen[MAX_NODES + 1] = {0};
  double cost = 0;
  for (int r = 0; r < a->listed; r++) {
    int load = 0, prev = v->depot;
    cr_expect_gt(a->len[r], 0, "route %d is empty", r + 1);
    for (int i = 0; i < a->len[r]; i++) {
      long id = a->nodes[r][i];
      cr_assert(id >= 1 && id <= v->n && id != v->depot, "route %d: node %ld", r + 1, id);
      seen[id]++;
      load += v->demand[id];
      cost += euc_2d(v, prev, (int)id, exact);
      prev = (int)id;
    }
    cost += euc_2d(v, prev, v->depot, exact);
    cr_expect_leq(load, v->capacity, "route %d: load %d > capacity %d", r + 1, load, v->capacity);
  }
  for (int id = 1; id <= v->n; id++)
    cr_expect_eq(seen[id], id == v->depot ? 0 : 1, "node %d served %d times", id, seen[id]);
  return cost;
}

/* ---- the library ---- */

static Shopgpu__V1__SolveRoutesRequest request_of(Shopgpu__V1__RoutingProblem *problem,
                                                  Shopgpu__V1__SolverParams *params) {
  Shopgpu__V1__SolveRoutesRequest req = SHOPGPU__V1__SOLVE_ROUTES_REQUEST__INIT;
  req.problem = problem, req.params = params;
  return req;
}

Test(cli_route, library_solve_and_start) {
  start_server(CPU);
  shopgpu_client *c = open_client();
  char *text = slurp_all(BURMA);
  Shopgpu__V1__RoutingProblem problem = SHOPGPU__V1__ROUTING_PROBLEM__INIT;
  problem.tsplib = text;
  Shopgpu__V1__SolverParams params = SHOPGPU__V1__SOLVER_PARAMS__INIT;
  params.time_limit_s = 1, params.seed = 3;
  Shopgpu__V1__SolveRoutesRequest req = request_of(&problem, &params);
  Shopgpu__V1__SolveRoutesResponse *resp = NULL;
  shopgpu_status st;
  cr_assert_eq(shopgpu_route_solve(c, &req, &resp, 10000, &st), 0, "%s", st.message);
  cr_expect_str_eq(resp->name, "burma14");
  cr_expect(resp->n_routes == 1 && resp->routes[0]->n_nodes == 14 && resp->feasible);
  cr_expect_eq(resp->cost, 3323, "burma14's optimum (got %g)", resp->cost);
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  params.time_limit_s = 0, params.max_iterations = 20;
  char id[SHOPGPU_JOB_ID_SIZE];
  cr_assert_eq(shopgpu_route_start(c, &req, id, 5000, &st), 0, "%s", st.message);
  Shopgpu__V1__Job *job = wait_job(c, id);
  cr_assert_eq(job->result_case, SHOPGPU__V1__JOB__RESULT_SOLVE_ROUTES, "%s", job->error_message);
  cr_expect(job->solve_routes->feasible && job->solve_routes->iterations == 20);
  cr_expect_geq(job->solve_routes->cost, 3323);
  protobuf_c_message_free_unpacked(&job->base, NULL);
  static char no_nodes[] = "NAME: x\nTYPE: TSP\nEDGE_WEIGHT_TYPE: EUC_2D\n";
  problem.tsplib = no_nodes;
  cr_expect_eq(shopgpu_route_solve(c, &req, &resp, 5000, &st), GRPC_STATUS_INVALID_ARGUMENT);
  expect_has(st.message, "problem.tsplib");
  cr_expect_eq(shopgpu_route_start(c, &req, id, 5000, &st), GRPC_STATUS_INVALID_ARGUMENT);
  cr_expect_eq(shopgpu_route_solve(c, NULL, &resp, 5000, &st), GRPC_STATUS_INVALID_ARGUMENT);
  req.problem = NULL;
  cr_expect_eq(shopgpu_route_start(c, &req, id, 5000, &st), GRPC_STATUS_INVALID_ARGUMENT);
  expect_has(st.message, "problem");
  free(text);
  shopgpu_client_close(c);
  stop_server_checked();
}

/* ---- route ---- */

Test(cli_route, burma14_reaches_its_optimum_with_the_json_shape) {
  start_server(CPU);
  cli_run r;
  run_cli(
      &r,
      ARGS("--server", srv.addr, "--json", "route", BURMA, "--time-limit", "1.5", "--seed", "1"),
      NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  const char *script =
      "import json,sys\n"
      "d=json.load(open(sys.argv[1]))\n"
      "assert list(d)==['problem','n','cost','routes','feasible','time_s','trace','name',"
      "'iterations'], list(d)\n"
      "assert d['problem']=='tsp' and d['n']==14 and d['name']=='burma14', d\n"
      "assert d['cost']==3323 and d['feasible'] is True, d\n"
      "rs=d['routes']\n"
      "assert isinstance(rs,list) and len(rs)==1 and sorted(rs[0])==list(range(1,15)), rs\n"
      "assert all(type(i) is int for i in rs[0]), rs\n"
      "assert 0<d['time_s']<=3 and d['iterations']>0, d\n"
      "tr=d['trace']\n"
      "assert tr and all(isinstance(p,list) and len(p)==2 for p in tr), tr\n"
      "assert all(a[0]<=b[0] and a[1]>=b[1] for a,b in zip(tr,tr[1:])), tr\n"
      "assert tr[-1][1]==d['cost'], tr\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path)), 0, "json check: %s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "route", BURMA, "--time-limit", "1", "--seed", "1"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "name        burma14\nproblem     tsp\nn           14\ncost        3323\n"
                    "feasible    yes\ntime        ");
  expect_has(r.out, "routes      1\ntour        ");
  stop_server_checked();
}

Test(cli_route, cvrp_serves_every_customer_once_within_capacity_at_its_cost) {
  start_server(CPU);
  vrp v;
  read_vrp(PN16, &v);
  cr_assert(v.n == 16 && v.capacity == 35 && v.depot == 1);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "route", PN16, "--time-limit", "1"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "name        P-n16-k8\nproblem     cvrp\nn           16\n");
  expect_has(r.out, "feasible    yes\n");
  static answer a;
  parse_routes(r.out, &a);
  cr_assert_gt(a.listed, 0, "%s", r.out);
  cr_expect_eq(a.listed, a.n_routes, "%d route lines, \"routes %d\"", a.listed, a.n_routes);
  double cost = check_routes(&v, &a, 0);
  cr_expect_eq(cost, a.cost, "recomputed %g, reported %g", cost, a.cost);
  cr_expect_geq(a.cost, 450, "below the proven optimum 450: %g", a.cost);
  cr_expect_leq(a.cost, 450 * 1.05, "1 s on 15 customers: within 5%% of 450, got %g", a.cost);
  /* --exact: the same file with unrounded distances */
  run_cli(&r, ARGS("--server", srv.addr, "route", PN16, "--time-limit", "0.3", "--exact"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  parse_routes(r.out, &a);
  cost = check_routes(&v, &a, 1);
  cr_expect(fabs(cost - a.cost) < 1e-9 * cost && cost != floor(cost), "recomputed %.17g, got %.17g",
            cost, a.cost);
  /* on a GEO file it would change nothing: refused, not silently ignored */
  run_cli(&r, ARGS("--server", srv.addr, "route", BURMA, "--time-limit", "0.3", "--exact"), NULL);
  cr_expect_eq(r.status, 1, "stderr: %s", r.err);
  expect_has(r.err, "INVALID_ARGUMENT: problem.exact_distances: applies to EDGE_WEIGHT_TYPE EUC_2D; "
                    "this file is GEO");
  stop_server_checked();
}

/* out without its "time" line (the one thing that differs between identical runs). */
static void drop_time_line(char *out) {
  char *t = strstr(out, "\ntime ");
  cr_assert_not_null(t, "%s", out);
  char *end = strchr(t + 1, '\n');
  memmove(t, end, strlen(end) + 1);
}

Test(cli_route, seed_with_iterations_gives_the_same_output_twice) {
  start_server(CPU);
  static cli_run r1, r2;
  const char *const *args =
      ARGS("--server", srv.addr, "route", PN16, "--seed", "42", "--iterations", "40");
  run_cli(&r1, args, NULL);
  run_cli(&r2, args, NULL);
  cr_assert(r1.status == 0 && r2.status == 0, "stderr: %s %s", r1.err, r2.err);
  expect_has(r1.out, "iterations  40\n");
  drop_time_line(r1.out);
  drop_time_line(r2.out);
  cr_expect_str_eq(r1.out, r2.out);
  const char *const *json =
      ARGS("--server", srv.addr, "route", PN16, "--seed", "42", "--iterations", "40", "--json");
  start_cli(&r1, "a", json, NULL);
  finish_cli(&r1);
  start_cli(&r2, "b", json, NULL);
  finish_cli(&r2);
  const char *script = "import json,sys\n"
                       "a,b=(json.load(open(p)) for p in sys.argv[1:3])\n"
                       "for d in (a,b):\n"
                       "  d.pop('time_s'); d['trace']=[c for t,c in d['trace']]\n"
                       "assert a==b, (a,b)\n"
                       "assert a['iterations']==40 and a['problem']=='cvrp', a\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r1.out_path, r2.out_path)), 0, "%s\n%s",
               r1.out, r2.out);
  stop_server_checked();
}

/* A 32-hex-digit id and a newline: the whole of out. */
static void expect_job_id(const char *out) {
  cr_expect_eq(strlen(out), 33, "%s", out);
  cr_expect_eq(strspn(out, "0123456789abcdef"), 32, "%s", out);
}

Test(cli_route, detach_prints_a_job_that_jobs_get_finds) {
  start_server(CPU);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "route", BURMA, "--time-limit", "0.3", "--detach"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_job_id(r.out);
  char id[SHOPGPU_JOB_ID_SIZE];
  snprintf(id, sizeof id, "%.32s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "watch", id), NULL);
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  run_cli(&r, ARGS("--server", srv.addr, "--json", "jobs", "get", id, "--result"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, id);
  expect_has(r.out, "\"kind\":\"solve_routes\",\"state\":\"succeeded\"");
  expect_has(r.out, "\"result\":{\"problem\":\"tsp\",\"n\":14,");
  /* --job prints the finished job's routes as the solve itself does, text and JSON */
  run_cli(&r, ARGS("--server", srv.addr, "route", "--job", id), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "name        burma14\nproblem     tsp\nn           14\ncost        ");
  expect_has(r.out, "routes      1\ntour        ");
  run_cli(&r, ARGS("--server", srv.addr, "--json", "route", "--job", id), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  const char *script =
      "import json,sys\n"
      "d=json.load(open(sys.argv[1]))\n"
      "assert list(d)==['problem','n','cost','routes','feasible','time_s','trace','name',"
      "'iterations'], list(d)\n"
      "assert d['n']==14 and d['feasible'] is True and d['cost']>=3323, d\n"
      "assert sorted(d['routes'][0])==list(range(1,15)), d\n"
      "assert d['trace'][-1][1]==d['cost'], d\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path)), 0, "json check: %s", r.out);
  /* another kind of job has no routes */
  run_cli(&r, ARGS("--server", srv.addr, "--detach", "jobs", "sleep", "1"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  snprintf(id, sizeof id, "%.32s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "route", "--job", id), NULL);
  cr_expect_eq(r.status, 1);
  char want[160];
  snprintf(want, sizeof want, "job %s is a sleep job without a routing result", id);
  expect_has(r.err, want);
  run_cli(&r, ARGS("--server", srv.addr, "route", "--job", "0123456789abcdef0123456789abcdef"),
          NULL);
  cr_expect_eq(r.status, 1);
  expect_has(r.err, "NOT_FOUND");
  run_cli(&r, ARGS("--server", srv.addr, "route", BURMA, "--detach", "--json", "--iterations", "5"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect(strncmp(r.out, "{\"id\":\"", 7) == 0 && strlen(r.out) == 7 + 32 + 3, "%s", r.out);
  stop_server_checked();
}

Test(cli_route, a_limit_over_60_s_runs_as_a_job_with_the_best_cost_shown) {
  start_server(CPU);
  cli_run r;
  /* the iteration limit ends it long before the time limit */
  run_cli(&r,
          ARGS("--server", srv.addr, "route", PN16, "--time-limit", "61", "--iterations", "100",
               "--progress"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.err, "/61000 ms");
  expect_has(r.err, "succeeded");
  expect_has(r.err, "  best ");
  expect_has(r.out, "problem     cvrp\n");
  expect_has(r.out, "iterations  100\n");
  run_cli(&r, ARGS("--server", srv.addr, "jobs", "list", "--kind", "solve_routes"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "solve_routes");
  /* a short limit with a progress bar to draw (as on a terminal) runs as a job too */
  run_cli(&r,
          ARGS("--server", srv.addr, "route", PN16, "--time-limit", "5", "--iterations", "50",
               "--progress"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.err, "/5000 ms");
  expect_has(r.err, "succeeded");
  /* at the end, the time it took: the iteration limit came well before the time limit */
  cr_expect_null(strstr(r.err, "5000/5000 ms"), "%s", r.err);
  expect_has(r.out, "iterations  50\n");
  stop_server_checked();
}

/* Three customers of demand 6 and capacity 10: no two share a vehicle, so VEHICLES 2 passes the
 * up-front check (2 x 10 >= 18) yet no plan is feasible; VEHICLES 1 fails that check. */
#define SIXES(vehicles)                                                                            \
  "NAME : sixes\nTYPE : CVRP\nDIMENSION : 4\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\n"           \
  "VEHICLES : " vehicles "\nNODE_COORD_SECTION\n1 0 0\n2 0 5\n3 5 0\n4 5 5\n"                      \
  "DEMAND_SECTION\n1 0\n2 6\n3 6\n4 6\nDEPOT_SECTION\n1\n-1\nEOF\n"

Test(cli_route, an_infeasible_cvrp_has_no_cost) {
  make_aux_dir();
  start_server(CPU);
  char two[160], one[160];
  write_aux_file("two.vrp", SIXES("2"), two, sizeof two);
  write_aux_file("one.vrp", SIXES("1"), one, sizeof one);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "route", one, "--iterations", "5"), NULL);
  cr_expect_eq(r.status, 1);
  char want[256];
  snprintf(want, sizeof want,
           "INVALID_ARGUMENT: %s:6: VEHICLES 1 x CAPACITY 10 = 10 is less than the total demand 18",
           one);
  expect_has(r.err, want);
  run_cli(&r,
          ARGS("--server", srv.addr, "--json", "route", two, "--iterations", "20", "--seed", "1"),
          NULL);
  cr_expect_eq(r.status, 1, "no feasible solution is a negative answer");
  cr_expect_str_eq(r.err, "shopgpu: no feasible solution found within the limits\n");
  const char *script = "import json,sys\n"
                       "d=json.load(open(sys.argv[1]))\n"
                       "assert d['cost'] is None and d['feasible'] is False, d\n"
                       "assert d['problem']=='cvrp' and d['trace']==[], d\n"
                       "assert sorted(c for rt in d['routes'] for c in rt)==[2,3,4], d\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path)), 0, "json check: %s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "route", two, "--iterations", "20", "--seed", "1"), NULL);
  cr_expect_eq(r.status, 1);
  expect_has(r.out, "\ncost        none (no feasible solution found)\nfeasible    no\n");
  stop_server_checked();
}

static const char *no_dimension = "NAME : nodim\nTYPE : TSP\nEDGE_WEIGHT_TYPE : EUC_2D\n"
                                  "NODE_COORD_SECTION\n1 0 0\n2 3 4\n3 6 0\nEOF\n";
/* Node 3's demand (line 14) is over the capacity. */
static const char *over_capacity =
    "NAME : over\nTYPE : CVRP\nDIMENSION : 4\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\n"
    "NODE_COORD_SECTION\n1 0 0\n2 0 5\n3 5 0\n4 5 5\nDEMAND_SECTION\n1 0\n2 4\n3 12\n4 3\n"
    "DEPOT_SECTION\n1\n-1\nEOF\n";

Test(cli_route, bad_files_are_named_with_the_line_or_field) {
  make_aux_dir();
  start_server(CPU);
  char nodim[160], over[160], want[256];
  write_aux_file("nodim.tsp", no_dimension, nodim, sizeof nodim);
  write_aux_file("over.vrp", over_capacity, over, sizeof over);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "route", nodim), NULL);
  cr_expect_eq(r.status, 1);
  snprintf(want, sizeof want, "shopgpu: INVALID_ARGUMENT: %s:4: ", nodim);
  expect_has(r.err, want);
  expect_has(r.err, "DIMENSION");
  run_cli(&r, ARGS("--server", srv.addr, "route", over), NULL);
  cr_expect_eq(r.status, 1);
  snprintf(want, sizeof want, "shopgpu: INVALID_ARGUMENT: %s:14: demand exceeds CAPACITY\n", over);
  cr_expect_str_eq(r.err, want);
  run_cli(&r, ARGS("--server", srv.addr, "route", over, "--detach"), NULL);
  cr_expect_eq(r.status, 1, "rejected before a job starts");
  cr_expect_str_eq(r.err, want);
  cr_expect_str_eq(r.out, "");
  run_cli(&r, ARGS("--server", srv.addr, "route", "/nonexistent/x.vrp"), NULL);
  cr_expect_eq(r.status, 2);
  expect_has(r.err, "route: cannot read \"/nonexistent/x.vrp\": No such file or directory");
  run_cli(&r, ARGS("--server", srv.addr, "route"), NULL);
  cr_expect_eq(r.status, 2);
  expect_has(r.err, "route: expects FILE.tsp or FILE.vrp (or --job ID)");
  run_cli(&r, ARGS("--server", srv.addr, "route", "--job", "abc", BURMA), NULL);
  cr_expect_eq(r.status, 2);
  expect_has(r.err, "route --job: takes no FILE");
  run_cli(&r, ARGS("--server", srv.addr, "route", "--job", "abc", "--seed", "1"), NULL);
  cr_expect_eq(r.status, 2);
  expect_has(r.err, "route --job: takes no --seed");
  run_cli(&r, ARGS("--server", srv.addr, "--detach", "route", "--job", "abc"), NULL);
  cr_expect_eq(r.status, 2);
  expect_has(r.err, "route --job: takes no --detach");
  run_cli(&r, ARGS("--server", srv.addr, "route", BURMA, "--time-limit", "0"), NULL);
  cr_expect_eq(r.status, 2);
  expect_has(r.err, "--time-limit");
  run_cli(&r, ARGS("--server", srv.addr, "route", BURMA, "--iterations", "x"), NULL);
  cr_expect_eq(r.status, 2);
  stop_server_checked();
}
