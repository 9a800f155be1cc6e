/* What every benchmark prints first: the machine (CPU model, cores, GPU and driver), the build
 * (version, commit) and the time, so a table in RESULTS.md says where it came from. */
#ifndef SG_BENCH_MACHINE_H
#define SG_BENCH_MACHINE_H

#include <stdio.h>

/* CPU model name and online core count, e.g. "AMD EPYC 7B13, 2 cores". */
void sg_bench_cpu(char *buf, size_t cap);
/* Prints "machine: ...", "gpu: ...", "build: ..." lines to out. */
void sg_bench_print_machine(FILE *out);
/* Monotonic seconds. */
double sg_bench_now(void);

#endif
