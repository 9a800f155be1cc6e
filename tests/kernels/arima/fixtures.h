/* Test helpers for the arima suites: the R fixtures in tests/data/arima (made by
 * make_fixtures.R), a CPU exec, and simulation of seasonal ARIMA processes from Philox draws. */
#ifndef SG_TEST_ARIMA_FIXTURES_H
#define SG_TEST_ARIMA_FIXTURES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arima/arima.h"
#include "common/philox.h"

#ifndef SG_ARIMA_DATA_DIR
#error "SG_ARIMA_DATA_DIR must name tests/data/arima"
#endif

typedef struct fx_series {
  char name[32];
  int m, n;
  double v[512];
} fx_series;

/* Reads series `name` from series.csv; returns 0 when absent. */
static inline int fx_load_series(const char *name, fx_series *s) {
  FILE *f = fopen(SG_ARIMA_DATA_DIR "/series.csv", "r");
  if (!f) return 0;
  static char line[65536];
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    char *tok = strtok(line, ",");
    if (!tok || strcmp(tok, name) != 0) continue;
    snprintf(s->name, sizeof s->name, "%s", tok);
    s->m = atoi(strtok(NULL, ","));
    s->n = atoi(strtok(NULL, ","));
    for (int i = 0; i < s->n && i < 512; i++)
      s->v[i] = strtod(strtok(NULL, ",\n"), NULL);
    found = 1;
  }
  fclose(f);
  return found;
}

/* Splits a CSV line in place into at most cap fields; returns the count. */
static inline int fx_split(char *line, char **fields, int cap) {
  int n = 0;
  line[strcspn(line, "\n")] = '\0';
  for (char *p = strtok(line, ","); p && n < cap; p = strtok(NULL, ","))
    fields[n++] = p;
  return n;
}

/* The next data row of a fixture file (lines starting with '#' skipped), split into at most
 * cap fields in line; returns the field count, or -1 at the end of the file. */
static inline int fx_next_row(FILE *f, char *line, int size, char **fields, int cap) {
  while (fgets(line, size, f)) {
    if (line[0] != '#') return fx_split(line, fields, cap);
  }
  return -1;
}

/* A fixture row's series: fields[at] is its length n, the n values follow. Returns n, or -1
 * when the row does not hold exactly that many values or n is over cap. */
static inline int fx_row_series(char **fields, int nf, int at, double *v, int cap) {
  int n = atoi(fields[at]);
  if (n < 0 || n > cap || nf != at + 1 + n) return -1;
  for (int t = 0; t < n; t++)
    v[t] = strtod(fields[at + 1 + t], NULL);
  return n;
}

/* Philox standard normal (Box-Muller on two open-interval uniforms). */
static inline double fx_normal(uint64_t seed, uint64_t stream, uint64_t i) {
  double u1 = ((double)(sg_philox_u32(seed, stream, 2 * i) >> 8) + 1.0) / 16777217.0;
  double u2 = ((double)(sg_philox_u32(seed, stream, 2 * i + 1) >> 8) + 0.5) / 16777216.0;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Simulates n values of (p,d,q)(P,D,Q)m with the given expanded ARMA polynomials (phi: pf,
 * theta: qf), after a burn-in of 200 values, integrates d and D times and adds mean. */
static inline void fx_simulate(uint64_t seed, uint64_t stream, const double *phi, int pf,
                               const double *theta, int qf, int d, int D, int m, double mean, int n,
                               double *out) {
  int burn = 200, total = n + burn + d + D * m;
  double *x = calloc((size_t)total, sizeof *x), *e = calloc((size_t)total, sizeof *e);
  for (int t = 0; t < total; t++) {
    e[t] = fx_normal(seed, stream, (uint64_t)t);
    double v = e[t];
    for (int i = 0; i < pf && i < t; i++)
      v += phi[i] * x[t - 1 - i];
    for (int j = 0; j < qf && j < t; j++)
      v += theta[j] * e[t - 1 - j];
    x[t] = v;
  }
  double *y = x + burn;
  int len = n + d + D * m;
  for (int k = 0; k < D; k++)
    for (int t = m; t < len; t++)
      y[t] += y[t - m];
  for (int k = 0; k < d; k++)
    for (int t = 1; t < len; t++)
      y[t] += y[t - 1];
  for (int t = 0; t < n; t++)
    out[t] = y[d + D * m + t] + mean;
  free(x);
  free(e);
}

#endif
