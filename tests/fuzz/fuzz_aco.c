/* TSPLIB / CVRPLIB instances (sg_aco_instance_parse) and tour files (sg_aco_tour_read). Input:
 * the instance text; with "@@TOUR@@\n" in it, the instance before it (or, when that part is
 * empty, a fixed 5-node instance with ids 10..50) and a tour file after it. An odd length reads
 * EUC_2D as exact distances. */
#include "aco/aco.h"
#include "fuzz.h"

static const char fixed[] = "NAME: f\nTYPE: TSP\nDIMENSION: 5\nEDGE_WEIGHT_TYPE: EUC_2D\n"
                            "NODE_COORD_SECTION\n10 0 0\n20 1 0\n30 2 0\n40 3 3\n50 0 4\nEOF\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *tour;
  size_t tour_size, n = sg_fuzz_split(data, size, "@@TOUR@@\n", &tour, &tour_size);
  sg_err err = {0};
  sg_aco_instance *in = tour && !n ? sg_aco_instance_parse(fixed, strlen(fixed), "fixed", 0, &err)
                                   : sg_aco_instance_parse((const char *)data, n, "fuzz",
                                                           size & 1 ? SG_ACO_READ_EXACT : 0, &err);
  if (!in) {
    if (!err.code || !err.msg[0]) abort(); /* a refusal always says why */
    return 0;
  }
  /* every distance of the first row is defined */
  volatile double sum = 0;
  for (int i = 0; i < in->problem.n; i++)
    sum += sg_aco_distance(&in->problem, 0, i);
  if (tour) {
    int *t = malloc((size_t)in->problem.n * sizeof *t);
    if (!t) abort();
    sg_err e2 = {0};
    sg_aco_tour_read(sg_fuzz_file(0, tour, tour_size), in, t, &e2);
    free(t);
  }
  sg_aco_instance_free(in);
  return 0;
}
