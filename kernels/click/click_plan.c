/* Minibatch plans: a batch's examples grouped by user and by item on the host, so that every
 * backend sums each row's gradient over the same examples in the same order (deterministic, no
 * atomics). Invariant: groups are in ascending id order, and within a group example indices
 * ascend. */
#include <stdlib.h>
#include <string.h>

#include "click_backends.h"

sg_status sg__click_plan_init(sg__click_plan *pl, uint32_t cap, sg_err *err) {
  memset(pl, 0, sizeof *pl);
  size_t n = cap;
  pl->users = malloc(n * sizeof(uint32_t));
  pl->items = malloc(n * sizeof(uint32_t));
  pl->labels = malloc(n * sizeof(float));
  pl->uu = malloc(n * sizeof(uint32_t));
  pl->u_off = malloc((n + 1) * sizeof(uint32_t));
  pl->u_ex = malloc(n * sizeof(uint32_t));
  pl->ui = malloc(n * sizeof(uint32_t));
  pl->i_off = malloc((n + 1) * sizeof(uint32_t));
  pl->i_ex = malloc(n * sizeof(uint32_t));
  pl->keys = malloc(n * sizeof(uint64_t));
  pl->cap = cap;
  if (!pl->users || !pl->items || !pl->labels || !pl->uu || !pl->u_off || !pl->u_ex || !pl->ui ||
      !pl->i_off || !pl->i_ex || !pl->keys) {
    sg__click_plan_free(pl);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory (batch of %u)", cap);
  }
  return SG_OK;
}

void sg__click_plan_free(sg__click_plan *pl) {
  free(pl->users);
  free(pl->items);
  free(pl->labels);
  free(pl->uu);
  free(pl->u_off);
  free(pl->u_ex);
  free(pl->ui);
  free(pl->i_off);
  free(pl->i_ex);
  free(pl->keys);
  memset(pl, 0, sizeof *pl);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Groups ids[0..n) into ascending unique ids uniq[0..*n_uniq), offsets off[] and example indices
 * ex[] (keys: sort scratch of n). */
static void group(const uint32_t *ids, uint32_t n, uint64_t *keys, uint32_t *uniq, uint32_t *off,
                  uint32_t *ex, uint32_t *n_uniq) {
  for (uint32_t e = 0; e < n; e++)
    keys[e] = ((uint64_t)ids[e] << 32) | e;
  qsort(keys, n, sizeof *keys, cmp_u64);
  uint32_t g = 0;
  for (uint32_t e = 0; e < n; e++) {
    uint32_t id = (uint32_t)(keys[e] >> 32);
    if (e == 0 || id != uniq[g - 1]) {
      uniq[g] = id;
      off[g++] = e;
    }
    ex[e] = (uint32_t)keys[e];
  }
  off[g] = n;
  *n_uniq = g;
}

void sg__click_plan_group(sg__click_plan *pl, uint32_t n, uint64_t step) {
  sg__click_batch *b = &pl->batch;
  group(pl->users, n, pl->keys, pl->uu, pl->u_off, pl->u_ex, &b->n_uu);
  group(pl->items, n, pl->keys, pl->ui, pl->i_off, pl->i_ex, &b->n_ui);
  b->n = n;
  b->users = pl->users;
  b->items = pl->items;
  b->labels = pl->labels;
  b->uu = pl->uu;
  b->u_off = pl->u_off;
  b->u_ex = pl->u_ex;
  b->ui = pl->ui;
  b->i_off = pl->i_off;
  b->i_ex = pl->i_ex;
  b->step = step;
  b->lr_scale = 1.0f;
}
