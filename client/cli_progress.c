/* The progress line drawn while a command waits for a job, and the small time formats the job
 * views share. Pure functions of their inputs (no clock, no terminal), so the exact text is
 * unit-tested; cli_wait.c measures time and the terminal and draws. */
#include <inttypes.h>
#include <stdarg.h>

#include "cli.h"

void sg_cli_format_clock(char *buf, size_t size, double s) {
  if (!(s >= 0)) {
    snprintf(buf, size, "--:--");
    return;
  }
  uint64_t t = s > 1e12 ? (uint64_t)1e12 : (uint64_t)s;
  if (t < 3600)
    snprintf(buf, size, "%" PRIu64 ":%02" PRIu64, t / 60, t % 60);
  else
    snprintf(buf, size, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, t / 3600, t / 60 % 60, t % 60);
}

void sg_cli_format_age(char *buf, size_t size, int64_t ms) {
  int64_t s = ms > 0 ? ms / 1000 : 0;
  if (s < 60)
    snprintf(buf, size, "%" PRId64 "s", s);
  else if (s < 3600)
    snprintf(buf, size, "%" PRId64 "m", s / 60);
  else if (s < 86400)
    snprintf(buf, size, "%" PRId64 "h", s / 3600);
  else
    snprintf(buf, size, "%" PRId64 "d", s / 86400);
}

double sg_cli_eta(uint64_t done0, double t0, uint64_t done, double t, uint64_t total) {
  if (total == 0) return -1;
  if (done >= total) return 0;
  if (done <= done0 || !(t > t0)) return -1;
  return (double)(total - done) * (t - t0) / (double)(done - done0);
}

/* Percent done, rounded down, at most 100. */
static unsigned percent(uint64_t done, uint64_t total) {
  if (done >= total) return 100;
  return (unsigned)((long double)done * 100 / (long double)total);
}

/* Appends printf output at *len, never past size - 1. */
static void add(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t size, size_t *len, const char *fmt, ...) {
  if (*len + 1 >= size) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *len, size - *len, fmt, ap);
  va_end(ap);
  if (n > 0) *len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

/* Everything right of the bar: "  50%  150/300 ms  0:01 elapsed  eta 0:01  best 12.5". */
static size_t tail_text(char *buf, size_t size, const sg_cli_progress *p) {
  const char *unit = p->unit && p->unit[0] ? p->unit : NULL;
  char clock[32];
  size_t len = 0;
  buf[0] = '\0';
  if (p->total) {
    add(buf, size, &len, " %3u%%  %" PRIu64 "/%" PRIu64, percent(p->done, p->total), p->done,
        p->total);
  } else if (p->done) {
    add(buf, size, &len, "  %" PRIu64, p->done);
  }
  if (unit && (p->total || p->done)) add(buf, size, &len, " %s", unit);
  sg_cli_format_clock(clock, sizeof clock, p->elapsed_s);
  add(buf, size, &len, "  %s elapsed", clock);
  if (p->total && p->eta_s >= 0) {
    sg_cli_format_clock(clock, sizeof clock, p->eta_s);
    add(buf, size, &len, "  eta %s", clock);
  } else if (p->estimate_left_s > 0) { /* the server's estimate: rough */
    sg_cli_format_clock(clock, sizeof clock, p->estimate_left_s);
    add(buf, size, &len, "  eta ~%s", clock);
  }
  if (p->has_best) add(buf, size, &len, "  best %.6g", p->best);
  return len;
}

/* "[####------]" with width cells. */
static void bar_text(char *buf, size_t size, size_t *len, uint64_t done, uint64_t total,
                     int width) {
  int full = done >= total ? width : (int)((long double)done * width / (long double)total);
  add(buf, size, len, "[");
  for (int i = 0; i < width; i++)
    add(buf, size, len, "%c", i < full ? '#' : '-');
  add(buf, size, len, "]");
}

/* The room the text right of the bar may need while the job runs: as at done == total, with an
 * ETA as long as the elapsed time, and a best of up to 12 characters. Sizing the bar by this
 * rather than by the text now keeps it from changing width as the numbers change. */
static size_t tail_reserve(const sg_cli_progress *p) {
  sg_cli_progress widest = *p;
  widest.done = p->total;
  widest.eta_s = p->elapsed_s > p->eta_s ? p->elapsed_s : p->eta_s;
  if (p->eta_s < 0 && p->estimate_left_s > 0) { /* "eta ~M:SS" instead */
    widest.eta_s = -1;
    widest.estimate_left_s = p->elapsed_s > p->estimate_left_s ? p->elapsed_s : p->estimate_left_s;
  }
  widest.has_best = 0;
  char tail[256];
  return tail_text(tail, sizeof tail, &widest) + (p->has_best ? 7 + 12 : 0);
}

size_t sg_cli_progress_line(char *buf, size_t size, const sg_cli_progress *p, int columns) {
  if (size == 0) return 0;
  char tail[256];
  tail_text(tail, sizeof tail, p);
  size_t len = 0;
  buf[0] = '\0';
  add(buf, size, &len, "%-9s ", p->state ? p->state : "");
  if (p->total) {
    int width = columns - 1 - (int)len - 2 - (int)tail_reserve(p);
    if (width < SG_CLI_BAR_MIN) width = SG_CLI_BAR_MIN;
    if (width > SG_CLI_BAR_MAX) width = SG_CLI_BAR_MAX;
    bar_text(buf, size, &len, p->done, p->total, width);
  }
  add(buf, size, &len, "%s", tail);
  if (columns > 0 && len > (size_t)columns - 1) {
    len = (size_t)columns - 1;
    buf[len] = '\0';
  }
  return len;
}
