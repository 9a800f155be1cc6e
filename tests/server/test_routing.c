/* The Routing service through the independent Python client: a TSPLIB text problem to its
 * optimum, a structured CVRP checked independently, determinism for a seed, the job form, bad
 * problems naming the field, and a call's cancel and deadline reaching its job. */
#include <criterion/criterion.h>

#include "pyclient.h"

TestSuite(routing, .timeout = 180);

Test(routing, solve_tsp_and_cvrp_jobs_and_bad_problems) {
  const char *args[] = {SG_TEST_SOURCE_DIR "/data/routing", NULL};
  sg_test_scenario("routing", NULL, args);
}

/* The job behind a compute call follows the RPC: a client cancel stops it at its next step, and
 * a deadline shortens the solve so the answer arrives in time. */
Test(routing, a_cancelled_call_stops_its_job_and_a_deadline_cuts_the_solve) {
  const char *flags[] = {"--backend", "cpu", "--cpu-workers", "1", NULL};
  sg_test_scenario("compute_cancel_deadline", flags, NULL);
}
