/* Open addressing with linear probing, capacity a power of two at least twice n: every lookup
 * ends at the id or at an empty slot within a few probes. Empty slots hold row SG_IDMAP_NONE. */
#include "idmap.h"

#include <stdlib.h>

typedef struct slot {
  uint64_t id;
  uint32_t row;
} slot;

struct sg_idmap {
  slot *slots;
  size_t mask;
};

static size_t hash(uint64_t id) { /* splitmix64 finaliser */
  id ^= id >> 30;
  id *= 0xbf58476d1ce4e5b9ull;
  id ^= id >> 27;
  id *= 0x94d049bb133111ebull;
  return (size_t)(id ^ (id >> 31));
}

sg_idmap *sg_idmap_build(const uint64_t *ids, uint32_t n, const char *what, sg_err *err) {
  sg_idmap *m = calloc(1, sizeof *m);
  size_t cap = 16;
  while (cap < 2 * (size_t)n)
    cap <<= 1;
  if (m) m->slots = malloc(cap * sizeof *m->slots);
  if (!m || !m->slots) {
    sg_idmap_free(m);
    sg_err_set(err, SG_OUT_OF_MEMORY, "%s: out of memory for %u ids", what, n);
    return NULL;
  }
  m->mask = cap - 1;
  for (size_t i = 0; i < cap; i++)
    m->slots[i].row = SG_IDMAP_NONE;
  for (uint32_t r = 0; r < n; r++) {
    size_t i = hash(ids[r]) & m->mask;
    while (m->slots[i].row != SG_IDMAP_NONE && m->slots[i].id != ids[r])
      i = (i + 1) & m->mask;
    if (m->slots[i].row != SG_IDMAP_NONE) {
      sg_err_set(err, SG_INVALID_ARGUMENT, "%s[%u]: id %llu repeats %s[%u]", what, r,
                 (unsigned long long)ids[r], what, m->slots[i].row);
      sg_idmap_free(m);
      return NULL;
    }
    m->slots[i] = (slot){ids[r], r};
  }
  return m;
}

void sg_idmap_free(sg_idmap *m) {
  if (!m) return;
  free(m->slots);
  free(m);
}

uint32_t sg_idmap_find(const sg_idmap *m, uint64_t id) {
  size_t i = hash(id) & m->mask;
  while (m->slots[i].row != SG_IDMAP_NONE) {
    if (m->slots[i].id == id) return m->slots[i].row;
    i = (i + 1) & m->mask;
  }
  return SG_IDMAP_NONE;
}

sg_status sg_idmap_rows(const sg_idmap *m, const uint64_t *ids, size_t n, uint32_t *rows,
                        const char *field, sg_err *err) {
  for (size_t j = 0; j < n; j++) {
    rows[j] = sg_idmap_find(m, ids[j]);
    if (rows[j] == SG_IDMAP_NONE)
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s[%zu]: unknown id %llu", field, j,
                        (unsigned long long)ids[j]);
  }
  return SG_OK;
}
