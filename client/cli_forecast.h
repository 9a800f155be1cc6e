/* The shopgpu CLI's forecast command in two files: cli_forecast.c (options, reading the series,
 * Forecast or StartForecast, --job) and cli_forecast_out.c (FORECAST.csv, MODELS.csv and the
 * summary), which share what is below. Internal to the CLI. */
#ifndef SG_CLI_FORECAST_H
#define SG_CLI_FORECAST_H

#include "cli.h"
#include "shopgpu_ts.h"

#define SG_FC_MAX_LEVELS 4

/* Everything the outputs are written from. */
typedef struct sg_fc_output {
  const shopgpu_ts *ts; /* the input: dates continue each series' last ds; NULL: ds is the
                           number of periods ahead (1..H) */
  const Shopgpu__V1__ForecastResponse *resp;
  int horizon;
  int n_levels;
  double levels[SG_FC_MAX_LEVELS]; /* the interval columns, in this order */
  const char *const *exog;         /* regressor names for MODELS.csv's coef (NULL: xreg1..) */
  int n_exog;
  int season;               /* for the summary: 0 = unknown */
  const char *job_id;       /* the job that computed it, or NULL */
  const char *out, *models; /* the paths (models may be NULL) */
} sg_fc_output;

/* What the outputs hold, for the summary. */
typedef struct sg_fc_counts {
  size_t series, forecast; /* all series; those with a forecast (status ok or constant) */
  size_t ok, constant, too_short, missing, not_converged, other;
} sg_fc_counts;

/* 1 when the series has a forecast to write (status ok or constant, horizon means). */
int sg_fc_has_forecast(const Shopgpu__V1__SeriesForecast *s, int horizon);

/* Writes FORECAST.csv (o->out) and, when o->models, MODELS.csv, counting the series into
 * *counts. SG_CLI_OK or the error printed (no half file left). */
int sg_fc_write(sg_cli *cli, const sg_fc_output *o, sg_fc_counts *counts);

/* The summary on stdout (a line, or an object with --json) and the count of series without a
 * forecast on stderr. */
void sg_fc_summary(sg_cli *cli, const sg_fc_output *o, const sg_fc_counts *counts);

/* "ARIMA(1,1,1)(0,1,1)[12] with drift" for the series' model. */
void sg_fc_order_text(char *buf, size_t size, const Shopgpu__V1__SeriesForecast *s);

#endif
