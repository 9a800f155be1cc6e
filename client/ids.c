/* A set of string ids numbered in insertion order: open addressing over a power-of-two slot
 * table kept under half full; a slot holds the id's number + 1 (0 = empty). The readers of long
 * CSVs group their rows with it. */
#include <stdlib.h>
#include <string.h>

#include "shopgpu_io.h"

struct shopgpu_ids {
  char **ids;
  size_t n, cap;
  uint32_t *slots;
  size_t n_slots;
};

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t slot_of(const shopgpu_ids *x, const char *id) {
  size_t i = hash(id) & (x->n_slots - 1);
  while (x->slots[i] && strcmp(x->ids[x->slots[i] - 1], id) != 0)
    i = (i + 1) & (x->n_slots - 1);
  return i;
}

static int rehash(shopgpu_ids *x) {
  size_t n_slots = x->n_slots ? 2 * x->n_slots : 1024;
  uint32_t *slots = calloc(n_slots, sizeof *slots), *old = x->slots;
  if (!slots) return -1;
  x->slots = slots, x->n_slots = n_slots;
  for (size_t i = 0; i < x->n; i++)
    x->slots[slot_of(x, x->ids[i])] = (uint32_t)i + 1;
  free(old);
  return 0;
}

shopgpu_ids *shopgpu_ids_new(void) {
  shopgpu_ids *x = calloc(1, sizeof *x);
  if (x && rehash(x) != 0) {
    free(x);
    return NULL;
  }
  return x;
}

long shopgpu_ids_add(shopgpu_ids *x, const char *id) {
  if (x->n >= UINT32_MAX - 1 || (2 * (x->n + 1) > x->n_slots && rehash(x) != 0)) return -1;
  size_t s = slot_of(x, id);
  if (x->slots[s]) return (long)x->slots[s] - 1;
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 256;
    char **ids = realloc(x->ids, cap * sizeof *ids);
    if (!ids) return -1;
    x->ids = ids, x->cap = cap;
  }
  if (!(x->ids[x->n] = strdup(id))) return -1;
  x->slots[s] = (uint32_t)++x->n;
  return (long)x->n - 1;
}

long shopgpu_ids_find(const shopgpu_ids *x, const char *id) {
  size_t s = slot_of(x, id);
  return x->slots[s] ? (long)x->slots[s] - 1 : -1;
}

size_t shopgpu_ids_count(const shopgpu_ids *x) { return x->n; }

const char *shopgpu_ids_get(const shopgpu_ids *x, size_t i) { return x->ids[i]; }

void shopgpu_ids_free(shopgpu_ids *x) {
  if (!x) return;
  for (size_t i = 0; i < x->n; i++)
    free(x->ids[i]);
  free(x->ids), free(x->slots), free(x);
}
