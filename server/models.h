/* The model store: named, versioned click models kept in DATA_DIR/models/<name>/v<N>.model,
 * loaded at start, placed on the backend (resident on the GPU) and served by reference.
 * The latest version of each name is served; putting a model makes version latest+1 and keeps the
 * two versions before it on disk (for rollback by deleting the newer one). Thread-safe. */
#ifndef SG_SERVER_MODELS_H
#define SG_SERVER_MODELS_H

#include <stdatomic.h>
#include <stdint.h>

#include "click/click.h"
#include "idmap.h"
#include "shopgpu/v1/click.pb-c.h"

#define SG_MODEL_NAME_MAX 64

typedef struct sg_model {
  atomic_int refs;
  char name[SG_MODEL_NAME_MAX + 1];
  uint32_t version;
  sg_click_model m;            /* host arrays, owned */
  uint64_t *user_ids;          /* row → external id (n_users) */
  uint64_t *item_ids;          /* row → external id (n_items) */
  sg_idmap *users, *items;     /* external id → row */
  uint64_t *seen_offsets;      /* n_users + 1: items each user interacted with in training (CSR), */
  uint32_t *seen_items;        /*   item rows ascending; NULL when none are known */
  sg_click_placed *placed;     /* on the primary backend */
  sg_click_placed *placed_cpu; /* on the cpu fallback backend, when there is one */
  sg_backend *backend;         /* where `placed` lives */
  int64_t created_ms;
  char source[16]; /* "trained" | "uploaded" */
  double valid_auc, valid_logloss;
  uint64_t bytes; /* file size */
} sg_model;

/* A model to store: fill m (arrays from malloc), ids (NULL = 0..n-1), seen (optional) and the
 * info fields; sg_models_put takes ownership of every array, also on failure. */
typedef struct sg_model_draft {
  char name[SG_MODEL_NAME_MAX + 1];
  sg_click_model m;
  uint64_t *user_ids, *item_ids;
  uint64_t *seen_offsets;
  uint32_t *seen_items;
  const char *source;
  double valid_auc, valid_logloss;
} sg_model_draft;

typedef struct sg_models sg_models;

/* Loads the latest version of every model under DATA_DIR/models and places it on backend (and on
 * fallback when not NULL). A file that cannot be read is logged and skipped. */
sg_models *sg_models_open(const char *data_dir, sg_backend *backend, sg_backend *fallback,
                          sg_err *err);
void sg_models_close(sg_models *s);

/* "[A-Za-z0-9_.-]{1,64}" or SG_INVALID_ARGUMENT naming the field. */
sg_status sg_model_name_check(const char *name, const char *field, sg_err *err);

/* The served model `name` (version 0 = the latest; another version must be the latest): a
 * reference to drop with sg_model_unref. NOT_FOUND naming the model otherwise. */
sg_status sg_models_get(sg_models *s, const char *name, uint32_t version, sg_model **out,
                        sg_err *err);
void sg_model_ref(sg_model *m);
void sg_model_unref(sg_model *m);

/* Checks, writes (atomically), places and serves the draft as the next version of its name.
 * *out (may be NULL) gets a reference. */
sg_status sg_models_put(sg_models *s, sg_model_draft *draft, sg_model **out, sg_err *err);

/* Deletes version (0 = every version) of name; when the served version goes, the newest one left
 * on disk is served instead. *deleted = versions removed. NOT_FOUND when there is nothing. */
sg_status sg_models_delete(sg_models *s, const char *name, uint32_t version, uint32_t *deleted,
                           sg_err *err);

/* References to the served models, sorted by name, in a malloc'd array (*n of them); the caller
 * unrefs each and frees the array. */
sg_status sg_models_list(sg_models *s, sg_model ***out, size_t *n, sg_err *err);

/* The placement to use on exec x (the fallback's when x runs on the cpu fallback). A model that
 * did not fit in device memory is placed only on the cpu fallback: on the device it is
 * SG_DEVICE_OOM, which the scheduler answers by running the call on the fallback. */
sg_status sg_model_placed_for(const sg_model *m, sg_exec *x, const sg_click_placed **out,
                              sg_err *err);

/* Fills info with pointers into m (valid while the reference is held). */
void sg_model_info(const sg_model *m, Shopgpu__V1__ModelInfo *info);

#endif
