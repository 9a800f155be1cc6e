/* Machine and build description for benchmark headers. */
#include "machine.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/backend.h"
#include "sg_version.h"

void sg_bench_cpu(char *buf, size_t cap) {
  char model[256] = "unknown cpu";
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      char *colon = strchr(line, ':');
      if (strncmp(line, "model name", 10) == 0 && colon) {
        snprintf(model, sizeof model, "%s", colon + 2);
        model[strcspn(model, "\n")] = '\0';
        break;
      }
    }
    fclose(f);
  }
  snprintf(buf, cap, "%s, %ld cores", model, sysconf(_SC_NPROCESSORS_ONLN));
}

void sg_bench_print_machine(FILE *out) {
  char cpu[320];
  sg_bench_cpu(cpu, sizeof cpu);
  fprintf(out, "machine: %s\n", cpu);
  sg_device_info d;
  sg_err e = {0};
  if (sg_cuda_probe(0, 0, &d, &e) == SG_OK) {
    fprintf(out, "gpu: %s (cc %d.%d, %d SMs, %.1f GiB), driver %d, cuda runtime %d\n", d.name,
            d.cc_major, d.cc_minor, d.sm_count, (double)d.mem_total / (1 << 30), d.driver_version,
            d.runtime_version);
  } else {
    fprintf(out, "gpu: none (%s)\n", sg_err_message(&e));
  }
  fprintf(out, "build: shopgpu %s, commit %s, cuda backend %s\n", SG_VERSION, SG_COMMIT,
          sg_cuda_built() ? "built" : "not built");
}

double sg_bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
