/* CPU backend of the arima op family (the reference the CUDA backend must agree with): each
 * OpenMP thread takes whole series (dynamic schedule: lengths and search times vary) and runs
 * the shared per-series pipeline of arima_forecast.h with its own scratch. */
#include <stdlib.h>

#include "arima_backends.h"
#include "arima_forecast.h"

static sg_status run_cpu(sg_exec *x, const sg_arima_input *in, const sg_arima_spec *spec,
                         size_t first, size_t count, sg_arima_fit *fits, double *mean,
                         double *lower, double *upper, sg_err *err) {
  size_t need = 0;
  for (size_t i = first; i < first + count; i++) {
    size_t sz =
        sg__arima_series_scratch(spec, (int)(in->offsets[i + 1] - in->offsets[i]), in->n_xreg);
    if (sz > need) need = sz;
  }
  int failed = 0;
  long long cnt = (long long)count;
  size_t h = (size_t)spec->h, hl = (size_t)spec->h * (size_t)spec->n_levels;
#pragma omp parallel num_threads(x->threads) if (count > 1)
  {
    double *scratch = malloc(need * sizeof(double));
    sg__arima_search_state *st = malloc(sizeof *st);
    if (!scratch || !st) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (long long k = 0; k < cnt; k++) {
      if (!scratch || !st) continue;
      size_t i = first + (size_t)k;
      size_t off = in->offsets[i], n = in->offsets[i + 1] - off;
      const double *xr = in->n_xreg ? in->xreg + off * (size_t)in->n_xreg : NULL;
      const double *xf = in->n_xreg ? in->xreg_future + i * h * (size_t)in->n_xreg : NULL;
      sg__arima_series(in->values + off, (int)n, xr, xf, in->n_xreg, spec, scratch, st, &fits[k],
                       mean + (size_t)k * h, lower + (size_t)k * hl, upper + (size_t)k * hl);
    }
    free(scratch);
    free(st);
  }
  if (failed)
    return sg_err_set(err, SG_OUT_OF_MEMORY, "arima: %zu doubles of scratch per thread", need);
  return SG_OK;
}

const sg_arima_ops sg__arima_cpu_ops = {.run = run_cpu};
