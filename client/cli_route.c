/* shopgpu CLI `route`: reads a TSPLIB (.tsp) or CVRPLIB (.vrp) file and sends it whole as
 * problem.tsplib, with SolveRoutes (deadline: the time limit plus a margin) or, with --detach or a
 * time limit over 60 s, with StartSolveRoutes as a job followed with the progress bar (best cost
 * so far). Prints the routes as the file's node ids; `--job ID` prints those of a job started
 * before (with --detach). The server parses the file: its messages name
 * "problem.tsplib:LINE", shown here as "FILE:LINE". */
#include <errno.h>
#include <grpc/status.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

#define DEFAULT_TIME_LIMIT_S 10.0
#define DIRECT_MAX_S 60.0         /* longer solves run as jobs */
#define MAX_FILE_BYTES (1L << 30) /* beyond any instance the solver takes */
#define SOURCE "problem.tsplib"   /* how the server names the text in its messages */

typedef struct route_args {
  const char *file, *job;
  double time_limit_s;
  int64_t iterations, priority;
  uint64_t seed;
  int exact;
} route_args;

/* ---- input ---- */

/* With --job the solver options belong to the job already. */
static int check_job_mode(const sg_cli *cli, int argc) {
  static const char *const solver_opts[] = {"time-limit", "seed", "iterations", "exact",
                                            "priority"};
  if (argc != 0) return sg_cli_usage("route --job: takes no FILE (the job has its problem)");
  for (size_t i = 0; i < sizeof solver_opts / sizeof solver_opts[0]; i++)
    if (sg_cli_opt_flag(cli, solver_opts[i]))
      return sg_cli_usage("route --job: takes no --%s (the job's own is used)", solver_opts[i]);
  if (cli->detach) return sg_cli_usage("route --job: takes no --detach");
  return SG_CLI_OK;
}

static int read_args(sg_cli *cli, int argc, char **argv, route_args *a) {
  a->job = sg_cli_opt_str(cli, "job");
  if (a->job) return check_job_mode(cli, argc);
  if (argc != 1) return sg_cli_usage("route: expects FILE.tsp or FILE.vrp (or --job ID)");
  a->file = argv[0];
  a->time_limit_s = DEFAULT_TIME_LIMIT_S;
  if (sg_cli_opt_double(cli, "time-limit", 0.001, 1e6, &a->time_limit_s) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "iterations", 1, INT64_MAX, &a->iterations) != SG_CLI_OK ||
      sg_cli_opt_u64(cli, "seed", &a->seed) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "priority", -100, 100, &a->priority) != SG_CLI_OK)
    return SG_CLI_USAGE;
  a->exact = sg_cli_opt_flag(cli, "exact");
  return SG_CLI_OK;
}

/* Reads all of f into *buf (grown as needed; *len bytes and a NUL after them). Returns 0,
 * or -1 when the file is over MAX_FILE_BYTES or memory runs out. */
static int read_all(FILE *f, char **buf, size_t *len) {
  size_t cap = 0;
  for (;;) {
    if (cap - *len < 65536) {
      char *p = cap < (size_t)MAX_FILE_BYTES ? realloc(*buf, cap = 2 * cap + 65536) : NULL;
      if (!p) return -1;
      *buf = p;
    }
    size_t got = fread(*buf + *len, 1, cap - *len - 1, f);
    *len += got;
    (*buf)[*len] = '\0';
    if (got == 0) return 0;
  }
}

/* The whole file, NUL-terminated, into *text (the caller frees). An unreadable file is a usage
 * error; one that is empty, not text (a NUL byte) or too big an input error. */
static int read_file(const sg_cli *cli, const char *path, char **text) {
  *text = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return sg_cli_usage("route: cannot read \"%.200s\": %s", path, strerror(errno));
  char *buf = NULL;
  size_t len = 0;
  int rc = SG_CLI_OK;
  if (read_all(f, &buf, &len) != 0)
    rc = sg_cli_input_error(cli, "%.200s: over %ld bytes, or out of memory", path, MAX_FILE_BYTES);
  else if (ferror(f))
    rc = sg_cli_usage("route: cannot read \"%.200s\": %s", path, strerror(errno));
  else if (strlen(buf) != len)
    rc = sg_cli_input_error(cli, "%.200s: a NUL byte at offset %zu: not a TSPLIB text file", path,
                            strlen(buf));
  else if (buf[strspn(buf, " \t\r\n")] == '\0') /* the server would take it for no problem */
    rc = sg_cli_input_error(cli, "%.200s: empty: not a TSPLIB text file", path);
  fclose(f);
  if (rc == SG_CLI_OK)
    *text = buf;
  else
    free(buf);
  return rc;
}

/* The server's "problem.tsplib:LINE: ..." as "FILE:LINE: ...". */
static void name_file(shopgpu_status *st, const char *path) {
  size_t n = strlen(SOURCE);
  if (strncmp(st->message, SOURCE, n) != 0 || (st->message[n] != ':' && st->message[n] != '\0'))
    return;
  char rest[SHOPGPU_STATUS_MESSAGE_MAX];
  snprintf(rest, sizeof rest, "%s", st->message + n);
  snprintf(st->message, sizeof st->message, "%.200s%s", path, rest);
}

/* The call's deadline: the time limit, plus the tenth the server keeps for itself and time to
 * queue; --timeout instead when it was given. */
static int64_t solve_timeout(const sg_cli *cli, double time_limit_s) {
  if (cli->timeout_given) return cli->timeout_ms;
  return (int64_t)((time_limit_s * 1.15 + 2.0) * 1000);
}

/* ---- output ---- */

static void json_routes(sg__json *j, const Shopgpu__V1__SolveRoutesResponse *r) {
  sg__json_begin_array(j);
  for (size_t i = 0; i < r->n_routes; i++) {
    sg__json_begin_array(j);
    for (size_t k = 0; k < r->routes[i]->n_nodes; k++)
      sg__json_int(j, r->routes[i]->nodes[k]);
    sg__json_end_array(j);
  }
  sg__json_end_array(j);
}

static void json_trace(sg__json *j, const Shopgpu__V1__SolveRoutesResponse *r) {
  sg__json_begin_array(j);
  for (size_t i = 0; i < r->n_trace; i++) {
    sg__json_begin_array(j);
    sg__json_double(j, r->trace[i]->t);
    sg__json_double(j, r->trace[i]->cost);
    sg__json_end_array(j);
  }
  sg__json_end_array(j);
}

/* {"problem","n","cost","routes","feasible","time_s","trace","name","iterations"}; cost is null
 * when not feasible: the server then sends 0, which a reader would take for a real cost. */
static void print_json(sg_cli *cli, const Shopgpu__V1__SolveRoutesResponse *r) {
  sg__json j;
  sg__json_init(&j, cli->out);
  sg__json_begin_object(&j);
  sg__json_key(&j, "problem");
  sg__json_string(&j, r->problem);
  sg__json_key(&j, "n");
  sg__json_uint(&j, r->n);
  sg__json_key(&j, "cost");
  if (r->feasible)
    sg__json_double(&j, r->cost);
  else
    sg__json_null(&j);
  sg__json_key(&j, "routes");
  json_routes(&j, r);
  sg__json_key(&j, "feasible");
  sg__json_bool(&j, r->feasible);
  sg__json_key(&j, "time_s");
  sg__json_double(&j, r->time_s);
  sg__json_key(&j, "trace");
  json_trace(&j, r);
  sg__json_key(&j, "name");
  sg__json_string(&j, r->name);
  sg__json_key(&j, "iterations");
  sg__json_int(&j, r->iterations);
  sg__json_end_object(&j);
  sg__json_finish(&j);
}

static void print_nodes(FILE *out, const Shopgpu__V1__Route *route) {
  for (size_t k = 0; k < route->n_nodes; k++)
    fprintf(out, "%s%" PRId64, k ? " " : "", route->nodes[k]);
  fputc('\n', out);
}

/* Without a feasible solution the cost line says so (the server's cost is then 0) and the routes
 * listed are the best plan found, which breaks a limit. */
static void print_human(FILE *out, const Shopgpu__V1__SolveRoutesResponse *r) {
  char cost[32];
  sg__double_text(cost, sizeof cost, r->cost);
  fprintf(out,
          "name        %s\nproblem     %s\nn           %u\ncost        %s\nfeasible    %s\n"
          "time        %.3f s\niterations  %" PRId64 "\nroutes      %zu\n",
          r->name[0] ? r->name : "-", r->problem, r->n,
          r->feasible ? cost : "none (no feasible solution found)", r->feasible ? "yes" : "no",
          r->time_s, r->iterations, r->n_routes);
  int tsp = strcmp(r->problem, "tsp") == 0;
  for (size_t i = 0; i < r->n_routes; i++) {
    if (tsp)
      fputs("tour        ", out);
    else
      fprintf(out, "route %-5zu ", i + 1);
    print_nodes(out, r->routes[i]);
  }
}

/* Prints the answer; an infeasible one (no solution within the limits) is a negative answer. */
static int print_answer(sg_cli *cli, const Shopgpu__V1__SolveRoutesResponse *r) {
  if (cli->json)
    print_json(cli, r);
  else
    print_human(cli->out, r);
  if (r->feasible) return SG_CLI_OK;
  fprintf(cli->err, "shopgpu: no feasible solution found within the limits\n");
  return SG_CLI_FAIL;
}

/* The routes a succeeded job holds; any other kind of job is an error that says what it is. */
static int print_job_answer(sg_cli *cli, const Shopgpu__V1__Job *job) {
  if (job->result_case == SHOPGPU__V1__JOB__RESULT_SOLVE_ROUTES && job->solve_routes)
    return print_answer(cli, job->solve_routes);
  shopgpu_status st = {.code = GRPC_STATUS_FAILED_PRECONDITION};
  snprintf(st.message, sizeof st.message, "job %s is a %s job without a routing result", job->id,
           job->kind);
  return sg_cli_rpc_error(cli, &st);
}

/* ---- solving ---- */

static int solve_direct(sg_cli *cli, const route_args *a,
                        const Shopgpu__V1__SolveRoutesRequest *req) {
  Shopgpu__V1__SolveRoutesResponse *resp = NULL;
  shopgpu_status st;
  if (shopgpu_route_solve(cli->client, req, &resp, solve_timeout(cli, a->time_limit_s), &st) !=
      GRPC_STATUS_OK) {
    name_file(&st, a->file);
    return sg_cli_rpc_error(cli, &st);
  }
  int rc = print_answer(cli, resp);
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  return rc;
}

static int solve_job(sg_cli *cli, const route_args *a, const Shopgpu__V1__SolveRoutesRequest *req) {
  char id[SHOPGPU_JOB_ID_SIZE];
  shopgpu_status st;
  if (shopgpu_route_start(cli->client, req, id, cli->timeout_ms, &st) != GRPC_STATUS_OK) {
    name_file(&st, a->file);
    return sg_cli_rpc_error(cli, &st);
  }
  Shopgpu__V1__Job *final = NULL;
  int rc = sg_cli_job_started(cli, id, &final);
  if (rc == SG_CLI_OK && final) rc = print_job_answer(cli, final);
  if (final) protobuf_c_message_free_unpacked(&final->base, NULL);
  return rc;
}

/* --job: follows a job started before (with --detach) to its end and prints its routes as a
 * solve would. */
static int solve_attach(sg_cli *cli, const char *job_id) {
  Shopgpu__V1__Job *final = NULL;
  int rc = sg_cli_wait_job(cli, job_id, &final);
  if (rc == SG_CLI_OK && final) rc = print_job_answer(cli, final);
  if (final) protobuf_c_message_free_unpacked(&final->base, NULL);
  return rc;
}

int sg_cli_cmd_route(sg_cli *cli, int argc, char **argv) {
  route_args a = {0};
  if (read_args(cli, argc, argv, &a) != SG_CLI_OK) return SG_CLI_USAGE;
  if (a.job) return solve_attach(cli, a.job);
  char *text;
  int rc = read_file(cli, a.file, &text);
  if (rc != SG_CLI_OK) return rc;
  Shopgpu__V1__RoutingProblem problem = SHOPGPU__V1__ROUTING_PROBLEM__INIT;
  problem.tsplib = text;
  problem.exact_distances = a.exact;
  Shopgpu__V1__SolverParams params = SHOPGPU__V1__SOLVER_PARAMS__INIT;
  params.time_limit_s = a.time_limit_s;
  params.max_iterations = a.iterations;
  params.seed = a.seed;
  Shopgpu__V1__SolveRoutesRequest req = SHOPGPU__V1__SOLVE_ROUTES_REQUEST__INIT;
  req.problem = &problem;
  req.params = &params;
  req.priority = (int32_t)a.priority;
  /* a job when it is long, detached, or someone watches the progress bar (a terminal) */
  if (cli->detach || a.time_limit_s > DIRECT_MAX_S || cli->progress)
    rc = solve_job(cli, &a, &req);
  else
    rc = solve_direct(cli, &a, &req);
  free(text);
  return rc;
}
