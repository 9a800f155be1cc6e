/* The forecast command's long-CSV reader (shopgpu_ts_read) and the date helpers it uses. Byte
 * 0: bits 0-1 the exogenous columns (0..3 of "x", "promo", "z"), bits 2-4 the horizon (0..7),
 * bit 5 a 256-byte input limit; the rest is the CSV. The result is walked whole. */
#include "fuzz.h"
#include "shopgpu_ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned mode = data[0];
  static const char *const exog[] = {"x", "promo", "z"};
  shopgpu_ts_options o = {exog, (int)(mode & 3), (int)((mode >> 2) & 7), (mode & 32) ? 256 : 0};
  if (o.n_exog && o.horizon < 1) o.horizon = 1;
  shopgpu_status st = {0};
  shopgpu_ts *ts = shopgpu_ts_read(sg_fuzz_file(0, data + 1, size - 1), &o, &st);
  if (!ts) return 0;
  char buf[64];
  shopgpu_freq_name(&ts->freq, buf, sizeof buf);
  (void)shopgpu_freq_season(&ts->freq);
  volatile double s = 0;
  for (size_t i = 0; i < ts->n_series; i++) {
    const shopgpu_ts_series *x = &ts->series[i];
    if (shopgpu_ts_find(ts, x->id) != (long)i) abort(); /* ids are unique and found */
    for (size_t k = 0; k < x->len; k++)
      s += ts->values[x->offset + k];
    for (size_t k = 0; ts->xreg && k < x->len * (size_t)ts->n_exog; k++)
      s += ts->xreg[x->offset * ts->n_exog + k];
    for (int h = 1; h <= ts->horizon; h++) {
      int64_t out;
      if (shopgpu_freq_add_checked(&ts->freq, x->last, h, &out) == 0)
        shopgpu_ds_format_text(buf, sizeof buf, ts->freq.format, out);
    }
    for (size_t k = 0; ts->xreg_future && k < (size_t)ts->horizon * ts->n_exog; k++)
      s += ts->xreg_future[i * ts->horizon * ts->n_exog + k];
  }
  shopgpu_ts_free(ts);
  return 0;
}
