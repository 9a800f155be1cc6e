/* External uint64 ids (users, items) to dense row numbers: an open-addressing hash table built
 * once and then read by any number of threads. */
#ifndef SG_SERVER_IDMAP_H
#define SG_SERVER_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

typedef struct sg_idmap sg_idmap;

#define SG_IDMAP_NONE UINT32_MAX

/* Maps ids[r] → r for r < n. Duplicate ids are an error naming the first repeat
 * ("<what>[12]: id 7 repeats <what>[3]"). NULL + err on failure. */
sg_idmap *sg_idmap_build(const uint64_t *ids, uint32_t n, const char *what, sg_err *err);
void sg_idmap_free(sg_idmap *m);
/* The row of id, or SG_IDMAP_NONE. */
uint32_t sg_idmap_find(const sg_idmap *m, uint64_t id);
/* Rows of ids[0..n) into rows[]; an unknown id is SG_INVALID_ARGUMENT naming the field, index
 * and id ("user_ids[17]: unknown id 900"). */
sg_status sg_idmap_rows(const sg_idmap *m, const uint64_t *ids, size_t n, uint32_t *rows,
                        const char *field, sg_err *err);

#endif
