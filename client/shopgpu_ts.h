/* libshopgpu-client: time series in the ecosystem's long CSV (unique_id,ds,y[,exog...], as
 * Nixtla's tools write them) read into the arrays a ForecastRequest takes, with the frequency
 * inferred from the spacing of ds and continued for the forecast's dates. Errors come back as a
 * shopgpu_status (INVALID_ARGUMENT) naming the file, line and column, or the series. Functions
 * here keep no state between calls; a shopgpu_ts is read-only once returned. */
#ifndef SHOPGPU_TS_H
#define SHOPGPU_TS_H

#include <stddef.h>
#include <stdint.h>

#include "shopgpu_client.h"
#include "shopgpu_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ds: points in time ------------------------------------------------------------------- */

/* How ds is written; forecasts continue in the same format. */
typedef enum shopgpu_ds_format {
  SHOPGPU_DS_INTEGER = 0, /* 17, -3 */
  SHOPGPU_DS_DATE,        /* 2024-05-31 */
  SHOPGPU_DS_DATETIME_T,  /* 2024-05-31T13:00:00 */
  SHOPGPU_DS_DATETIME     /* 2024-05-31 13:00:00 */
} shopgpu_ds_format;

/* Parses ds: returns its format, with *value the integer, or for dates and times the seconds
 * since 1970-01-01 00:00:00 on the calendar (no time zone; years 1..9999). -1 when text is none
 * of these, or an impossible date or time (2023-02-29, 24:00:00). */
int shopgpu_ds_parse(const char *text, int64_t *value);

/* value in format into buf (32 bytes always suffice; cut to size). */
void shopgpu_ds_format_text(char *buf, size_t size, int format, int64_t value);

/* ---- frequencies -------------------------------------------------------------------------- */

typedef enum shopgpu_freq_unit {
  SHOPGPU_FREQ_STEPS = 0, /* integer ds, step apart */
  SHOPGPU_FREQ_SECONDS,   /* dates or times a fixed number of seconds apart (hourly: 3600,
                             daily: 86400, weekly: 604800) */
  SHOPGPU_FREQ_MONTHS     /* dates step months apart (monthly 1, quarterly 3, yearly 12), all on
                             the same day of the month and time of day, or all on month ends */
} shopgpu_freq_unit;

typedef struct shopgpu_freq {
  int format;    /* shopgpu_ds_format of the ds values */
  int unit;      /* shopgpu_freq_unit */
  int64_t step;  /* >= 1, in the unit */
  int month_end; /* SHOPGPU_FREQ_MONTHS: the dates are month ends (else the same day of month) */
} shopgpu_freq;

/* The frequency in words: "hourly", "daily", "weekly", "monthly", "monthly (month ends)",
 * "quarterly", "yearly", "every 2 days", "every 15 minutes", "every 6 months", "step 1". */
void shopgpu_freq_name(const shopgpu_freq *f, char *buf, size_t size);

/* The default season m for a frequency: hourly 24, daily 7, weekly 52, monthly 12, quarterly 4,
 * yearly 1, integers 1; other steps under a day that divide it: periods per day (per hour when a
 * day holds over 366); other month steps that divide 12: periods per year; anything else 1. */
int shopgpu_freq_season(const shopgpu_freq *f);

/* The ds n >= 0 periods after value. Month steps keep the day of month (cut to the month's
 * length) or the month end, and the time of day. */
int64_t shopgpu_freq_add(const shopgpu_freq *f, int64_t value, int64_t n);

/* The largest ds a format reads and writes: 999999999999999999 (18 digits) for integers,
 * 9999-12-31 23:59:59 for dates and times. */
#define SHOPGPU_DS_INTEGER_MAX INT64_C(999999999999999999)
int64_t shopgpu_ds_max(int format);

/* shopgpu_freq_add into *out: 0, or -1 when the ds would pass shopgpu_ds_max (nothing
 * overflows on the way). */
int shopgpu_freq_add_checked(const shopgpu_freq *f, int64_t value, int64_t n, int64_t *out);

/* The number of periods from a to b >= a into *n: 0, or -1 when b is not a whole number of
 * periods after a. */
int shopgpu_freq_periods(const shopgpu_freq *f, int64_t a, int64_t b, int64_t *n);

/* Infers the frequency of n_series series of ds values, each sorted and without repeats: series i
 * is ds[offsets[i] .. offsets[i+1]) (ids[i] names it in messages; ids may be NULL). Each series
 * with two values or more has a spacing: its smallest step, every step a whole multiple of it
 * (a larger multiple is a gap); a month step when its dates fit one (see SHOPGPU_FREQ_MONTHS) and
 * their day spacing does not, or is 28 days or more. All series must share one spacing. Returns 0,
 * or -1 with st set (INVALID_ARGUMENT): "series \"B\": irregular ds: ...", "mixed frequencies:
 * series \"A\" is daily, series \"B\" is weekly", or no series with two values. */
int shopgpu_freq_infer(int format, const int64_t *ds, const size_t *offsets, size_t n_series,
                       const char *const *ids, shopgpu_freq *freq, shopgpu_status *st);

/* ---- reading a long CSV ------------------------------------------------------------------- */

#define SHOPGPU_TS_MAX_EXOG 8         /* regressor columns (the server's limit) */
#define SHOPGPU_TS_MAX_LENGTH 100000  /* periods in one series, first to last (the server's) */
#define SHOPGPU_TS_MAX_TOTAL 20000000 /* values (y and regressors) of all periods, gaps included   \
                                       */

typedef struct shopgpu_ts_options {
  const char *const *exog; /* n_exog regressor column names (NULL when n_exog is 0) */
  int n_exog;              /* 0..SHOPGPU_TS_MAX_EXOG */
  int horizon;        /* periods ahead (0: none): each series's ds that far ahead must be writable;
                        with exog, the future rows every series needs (>= 1) */
  uint64_t max_bytes; /* the file's size limit; 0 = SHOPGPU_CSV_MAX_BYTES_DEFAULT */
} shopgpu_ts_options;

typedef struct shopgpu_ts_series {
  const char *id;
  size_t offset, len;  /* its values are values[offset .. offset + len) */
  int64_t first, last; /* ds of its first and last value: the forecast continues after last */
  size_t missing;      /* periods without a value (NaN): gaps in ds, empty or NA y */
  size_t na;           /* of those, the periods with a row whose y is empty, NA or NaN (the
                          rest, missing - na, are gaps: no row) */
  uint64_t line;       /* the line of its first row in the file */
} shopgpu_ts_series;

typedef struct shopgpu_ts {
  size_t n_series;
  shopgpu_ts_series *series; /* in the order of their first row in the file */
  double *values;            /* every series back to back, in time order, NaN where missing */
  int n_exog, horizon;       /* as in the options */
  double *xreg;        /* n_exog values per value, row-major along values (NULL without exog) */
  double *xreg_future; /* horizon rows of n_exog per series: [(i * horizon + k) * n_exog + j] */
  shopgpu_freq freq;
  uint64_t rows;         /* data rows read */
  size_t gap_series;     /* series with a missing period */
  size_t missing;        /* missing periods, all series */
  uint64_t ignored_rows; /* rows with y empty after a series' last y, without exog: not used */
  shopgpu_ids *ids;      /* the series' ids, numbered as series (shopgpu_io.h) */
} shopgpu_ts;

/* Reads path: a header naming at least unique_id, ds and y (found by name, in any order; other
 * columns are ignored unless named in opts->exog), then one row per series and period, the rows
 * of a series in any order. ds: all integers, or all dates in one of the formats above; y: a
 * number, or empty / NA / NaN for a missing value. The rows of a series after its last y (with y
 * empty) are its future: with exog they must be exactly the horizon periods after that y, and
 * give the regressors' future values; without, they are counted in ignored_rows. Periods missing
 * between two rows become NaN (the server then reports that series as "missing").
 * Errors (NULL returned, st set): unreadable or too large file, a missing column, a bad ds or
 * number ("sales.csv:17: column 3 (y): \"x\" is not a finite number"), a ds of another format, a
 * repeated ds in a series, a series without any y, irregular or mixed frequencies, wrong future
 * rows, a series over SHOPGPU_TS_MAX_LENGTH periods. opts may be NULL (no exog). */
shopgpu_ts *shopgpu_ts_read(const char *path, const shopgpu_ts_options *opts, shopgpu_status *st);

/* The index of the series named id, or -1. */
long shopgpu_ts_find(const shopgpu_ts *ts, const char *id);

/* Frees everything. NULL is a no-op. */
void shopgpu_ts_free(shopgpu_ts *ts);

#ifdef __cplusplus
}
#endif

#endif
