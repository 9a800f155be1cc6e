/* The Routing service through the independent Python client: a TSPLIB text problem to its
 * optimum, a structured CVRP checked independently, determinism for a seed, the job form, and
 * bad problems naming the field. */
#include <criterion/criterion.h>

#include "pyclient.h"

TestSuite(routing, .timeout = 180);

Test(routing, solve_tsp_and_cvrp_jobs_and_bad_problems) {
  const char *args[] = {SG_TEST_SOURCE_DIR "/data/routing", NULL};
  sg_test_scenario("routing", NULL, args);
}
