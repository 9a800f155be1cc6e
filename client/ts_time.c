/* Points in time and frequencies of time series: ds parsing and formatting on the proleptic
 * Gregorian calendar (seconds since 1970-01-01, no time zone), period arithmetic (fixed seconds,
 * or months anchored on a day of the month or the month end) and the inference of one frequency
 * from the spacing of many series (see shopgpu_ts.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "shopgpu_ts.h"

#define DAY 86400
#define WEEK (7 * DAY)

/* ---- the calendar (years 1..9999) ---- */

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return days[m - 1] + (m == 2 && is_leap(y));
}

/* Days from 0001-01-01 to January 1st of year y. */
static int64_t days_before_year(int64_t y) {
  int64_t p = y - 1;
  return p * 365 + p / 4 - p / 100 + p / 400;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t days = days_before_year(y) - days_before_year(1970) + d - 1;
  for (int k = 1; k < m; k++)
    days += month_days(y, k);
  return days;
}

static void civil_from_days(int64_t days, int64_t *y, int *m, int *d) {
  int64_t year = 1970 + (days >= 0 ? days / 366 : days / 365 - 1); /* at or before the year */
  while (days_from_civil(year + 1, 1, 1) <= days)
    year++;
  int64_t left = days - days_from_civil(year, 1, 1);
  int month = 1;
  while (left >= month_days(year, month))
    left -= month_days(year, month++);
  *y = year, *m = month, *d = (int)left + 1;
}

static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- ds ---- */

/* n digits at s into *v: 1, else 0. */
static int digits(const char *s, int n, int *v) {
  int x = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    x = x * 10 + (s[i] - '0');
  }
  *v = x;
  return 1;
}

static int parse_integer(const char *text, int64_t *value) {
  const char *p = text + (*text == '-');
  if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18) return -1;
  *value = strtoll(text, NULL, 10);
  return SHOPGPU_DS_INTEGER;
}

/* "HH:MM:SS" at s (exactly) into seconds of the day: 1, else 0. */
static int parse_clock(const char *s, int64_t *secs) {
  int h, mi, se;
  if (strlen(s) != 8 || s[2] != ':' || s[5] != ':' || !digits(s, 2, &h) || !digits(s + 3, 2, &mi) ||
      !digits(s + 6, 2, &se) || h > 23 || mi > 59 || se > 59)
    return 0;
  *secs = h * 3600 + mi * 60 + se;
  return 1;
}

int shopgpu_ds_parse(const char *text, int64_t *value) {
  int y, m, d;
  if (!text) return -1;
  if (strlen(text) < 10 || text[4] != '-' || text[7] != '-') return parse_integer(text, value);
  if (!digits(text, 4, &y) || !digits(text + 5, 2, &m) || !digits(text + 8, 2, &d) || y < 1 ||
      m < 1 || m > 12 || d < 1 || d > month_days(y, m))
    return -1;
  int64_t secs = 0;
  int format = SHOPGPU_DS_DATE;
  if (text[10] == 'T' || text[10] == ' ') {
    format = text[10] == 'T' ? SHOPGPU_DS_DATETIME_T : SHOPGPU_DS_DATETIME;
    if (!parse_clock(text + 11, &secs)) return -1;
  } else if (text[10]) {
    return -1;
  }
  *value = days_from_civil(y, m, d) * DAY + secs;
  return format;
}

void shopgpu_ds_format_text(char *buf, size_t size, int format, int64_t value) {
  if (format == SHOPGPU_DS_INTEGER) {
    snprintf(buf, size, "%" PRId64, value);
    return;
  }
  int64_t days = floor_div(value, DAY), secs = value - days * DAY, y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  if (format == SHOPGPU_DS_DATE)
    snprintf(buf, size, "%04" PRId64 "-%02d-%02d", y, m, d);
  else
    snprintf(buf, size, "%04" PRId64 "-%02d-%02d%c%02d:%02d:%02d", y, m, d,
             format == SHOPGPU_DS_DATETIME_T ? 'T' : ' ', (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60));
}

/* ---- frequencies ---- */

/* "every 3 days" / "daily" for a spacing of secs seconds. */
static void seconds_name(char *buf, size_t size, int64_t secs) {
  static const struct {
    int64_t unit;
    const char *one, *many;
  } units[] = {{WEEK, "weekly", "weeks"},
               {DAY, "daily", "days"},
               {3600, "hourly", "hours"},
               {60, "minutely", "minutes"},
               {1, "every second", "seconds"}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (secs % units[i].unit) continue;
    int64_t k = secs / units[i].unit;
    if (k == 1)
      snprintf(buf, size, "%s", units[i].one);
    else
      snprintf(buf, size, "every %" PRId64 " %s", k, units[i].many);
    return;
  }
}

void shopgpu_freq_name(const shopgpu_freq *f, char *buf, size_t size) {
  if (f->unit == SHOPGPU_FREQ_SECONDS) {
    seconds_name(buf, size, f->step);
  } else if (f->unit == SHOPGPU_FREQ_MONTHS) {
    const char *end = f->month_end ? " (month ends)" : "";
    if (f->step == 1 || f->step == 3 || f->step == 12)
      snprintf(buf, size, "%s%s",
               f->step == 1   ? "monthly"
               : f->step == 3 ? "quarterly"
                              : "yearly",
               end);
    else
      snprintf(buf, size, "every %" PRId64 " months%s", f->step, end);
  } else {
    snprintf(buf, size, "step %" PRId64, f->step);
  }
}

int shopgpu_freq_season(const shopgpu_freq *f) {
  int64_t s = f->step;
  if (f->unit == SHOPGPU_FREQ_MONTHS) return 12 % s == 0 ? (int)(12 / s) : 1;
  if (f->unit != SHOPGPU_FREQ_SECONDS) return 1;
  if (s == DAY) return 7;
  if (s == WEEK) return 52;
  /* the longest of a day's, an hour's or a minute's cycle that fits the server's 366 */
  const int64_t cycles[] = {DAY, 3600, 60};
  for (int i = 0; i < 3; i++)
    if (s < cycles[i] && cycles[i] % s == 0 && cycles[i] / s <= 366) return (int)(cycles[i] / s);
  return 1;
}

/* A date-time split into its month index (year * 12 + month - 1), day and seconds of the day. */
typedef struct month_pos {
  int64_t month, secs, year;
  int day, last_day; /* last_day: the month's length */
} month_pos;

static month_pos month_pos_of(int64_t value) {
  month_pos p;
  int64_t days = floor_div(value, DAY);
  int m;
  p.secs = value - days * DAY;
  civil_from_days(days, &p.year, &m, &p.day);
  p.month = p.year * 12 + m - 1;
  p.last_day = month_days(p.year, m);
  return p;
}

int64_t shopgpu_freq_add(const shopgpu_freq *f, int64_t value, int64_t n) {
  if (f->unit != SHOPGPU_FREQ_MONTHS) return value + n * f->step;
  month_pos p = month_pos_of(value);
  int64_t month = p.month + n * f->step, y = floor_div(month, 12);
  int m = (int)(month - y * 12) + 1, last = month_days(y, m);
  int d = f->month_end ? last : p.day < last ? p.day : last;
  return days_from_civil(y, m, d) * DAY + p.secs;
}

int64_t shopgpu_ds_max(int format) {
  return format == SHOPGPU_DS_INTEGER ? SHOPGPU_DS_INTEGER_MAX
                                      : days_from_civil(9999, 12, 31) * DAY + (DAY - 1);
}

int shopgpu_freq_add_checked(const shopgpu_freq *f, int64_t value, int64_t n, int64_t *out) {
  int64_t max = shopgpu_ds_max(f->format);
  if (n < 0 || value > max) return -1;
  if (f->unit != SHOPGPU_FREQ_MONTHS) {
    if (n > 0 && f->step > (max - value) / n) return -1; /* value + n * step > max */
  } else if (n > 0 && f->step > 12 * 10000 / n) {        /* past 10,000 years */
    return -1;
  }
  int64_t end = shopgpu_freq_add(f, value, n);
  if (end > max) return -1;
  *out = end;
  return 0;
}

int shopgpu_freq_periods(const shopgpu_freq *f, int64_t a, int64_t b, int64_t *n) {
  if (b < a) return -1;
  if (f->unit != SHOPGPU_FREQ_MONTHS) {
    if ((b - a) % f->step) return -1;
    *n = (b - a) / f->step;
    return 0;
  }
  int64_t months = month_pos_of(b).month - month_pos_of(a).month;
  if (months % f->step || shopgpu_freq_add(f, a, months / f->step) != b) return -1;
  *n = months / f->step;
  return 0;
}

/* ---- inference ---- */

/* One series' own spacing: none (fewer than two values), a fixed step in ds units (seconds for
 * dates), months, or irregular (at values[bad]). */
enum { SP_NONE, SP_FIXED, SP_MONTHS, SP_IRREGULAR };

typedef struct spacing {
  int kind;
  int64_t step;            /* SP_FIXED: ds units; SP_MONTHS: months */
  int same_day, month_end; /* SP_MONTHS: the anchors its dates fit */
  size_t bad;              /* SP_IRREGULAR: the value that breaks the smallest step */
  int64_t min_step;        /* SP_IRREGULAR: that step */
} spacing;

/* The smallest step between consecutive values, and the first value not a multiple of it after
 * its predecessor (0 when all are). */
static int64_t smallest_step(const int64_t *ds, size_t n, size_t *bad) {
  int64_t min = ds[1] - ds[0];
  for (size_t i = 2; i < n; i++)
    if (ds[i] - ds[i - 1] < min) min = ds[i] - ds[i - 1];
  *bad = 0;
  for (size_t i = 1; i < n && !*bad; i++)
    if ((ds[i] - ds[i - 1]) % min) *bad = i;
  return min;
}

/* The month spacing of dates: 1 with *sp filled when they fit one, else 0. */
static int month_spacing(const int64_t *ds, size_t n, spacing *sp) {
  month_pos p0 = month_pos_of(ds[0]), prev = p0;
  int same_day = 1, month_end = 1;
  int64_t min = INT64_MAX;
  for (size_t i = 0; i < n; i++) {
    month_pos p = month_pos_of(ds[i]);
    same_day &= p.day == p0.day && p.secs == p0.secs;
    month_end &= p.day == p.last_day && p.secs == p0.secs;
    if (i && p.month - prev.month < min) min = p.month - prev.month;
    prev = p;
  }
  if ((!same_day && !month_end) || min < 1) return 0;
  prev = p0;
  for (size_t i = 1; i < n; i++) {
    month_pos p = month_pos_of(ds[i]);
    if ((p.month - prev.month) % min) return 0;
    prev = p;
  }
  *sp = (spacing){SP_MONTHS, min, same_day, month_end, 0, 0};
  return 1;
}

static spacing spacing_of(int format, const int64_t *ds, size_t n) {
  spacing sp = {SP_NONE, 0, 0, 0, 0, 0}, months;
  if (n < 2) return sp;
  size_t bad;
  int64_t min = smallest_step(ds, n, &bad);
  int dates = format != SHOPGPU_DS_INTEGER;
  if (dates && month_spacing(ds, n, &months) && (bad || min >= 28 * DAY)) return months;
  if (bad) return (spacing){SP_IRREGULAR, 0, 0, 0, bad, min};
  return (spacing){SP_FIXED, min, 0, 0, 0, 0};
}

static shopgpu_freq freq_of(int format, const spacing *sp) {
  shopgpu_freq f = {format, SHOPGPU_FREQ_STEPS, sp->step, 0};
  if (sp->kind == SP_MONTHS)
    f.unit = SHOPGPU_FREQ_MONTHS, f.month_end = !sp->same_day;
  else if (format != SHOPGPU_DS_INTEGER)
    f.unit = SHOPGPU_FREQ_SECONDS;
  return f;
}

/* "series \"A\"" (or "series 3" without ids) into buf. */
static void series_name(char *buf, size_t size, const char *const *ids, size_t i) {
  if (ids)
    snprintf(buf, size, "series \"%.64s\"", ids[i]);
  else
    snprintf(buf, size, "series %zu", i);
}

static int irregular(int format, const int64_t *ds, const spacing *sp, const char *who,
                     shopgpu_status *st) {
  char a[32], b[32], step[48];
  shopgpu_ds_format_text(a, sizeof a, format, ds[sp->bad - 1]);
  shopgpu_ds_format_text(b, sizeof b, format, ds[sp->bad]);
  shopgpu_freq f = {format,
                    format == SHOPGPU_DS_INTEGER ? SHOPGPU_FREQ_STEPS : SHOPGPU_FREQ_SECONDS,
                    sp->min_step, 0};
  shopgpu_freq_name(&f, step, sizeof step);
  return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                             "%s: irregular ds: %s to %s is not a whole number of periods of its "
                             "smallest spacing (%s)",
                             who, a, b, step),
         -1;
}

static int mixed(int format, const spacing *a, const char *who_a, const spacing *b,
                 const char *who_b, shopgpu_status *st) {
  char fa[48], fb[48];
  shopgpu_freq qa = freq_of(format, a), qb = freq_of(format, b);
  shopgpu_freq_name(&qa, fa, sizeof fa);
  shopgpu_freq_name(&qb, fb, sizeof fb);
  if (strcmp(fa, fb) == 0) /* same step, other anchors */
    snprintf(fb, sizeof fb, "%s", b->same_day ? "on one day of the month" : "on month ends");
  return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                             "mixed frequencies: %s is %s, %s is %s", who_a, fa, who_b, fb),
         -1;
}

int shopgpu_freq_infer(int format, const int64_t *ds, const size_t *offsets, size_t n_series,
                       const char *const *ids, shopgpu_freq *freq, shopgpu_status *st) {
  spacing ref = {SP_NONE, 0, 0, 0, 0, 0};
  size_t ref_i = 0;
  char who[96], who_ref[96];
  for (size_t i = 0; i < n_series; i++) {
    const int64_t *x = ds + offsets[i];
    spacing sp = spacing_of(format, x, offsets[i + 1] - offsets[i]);
    series_name(who, sizeof who, ids, i);
    if (sp.kind == SP_IRREGULAR) return irregular(format, x, &sp, who, st);
    if (sp.kind == SP_NONE) continue;
    if (ref.kind == SP_NONE) {
      ref = sp, ref_i = i;
      continue;
    }
    series_name(who_ref, sizeof who_ref, ids, ref_i);
    int anchors =
        sp.kind != SP_MONTHS || ((ref.same_day && sp.same_day) || (ref.month_end && sp.month_end));
    if (sp.kind != ref.kind || sp.step != ref.step || !anchors)
      return mixed(format, &ref, who_ref, &sp, who, st);
    ref.same_day &= sp.same_day, ref.month_end &= sp.month_end;
  }
  if (ref.kind == SP_NONE)
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                               "cannot infer the frequency: no series has two distinct ds"),
           -1;
  *freq = freq_of(format, &ref);
  return 0;
}
