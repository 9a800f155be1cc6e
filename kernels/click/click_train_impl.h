/* The click trainer's state, shared by click_train.c (begin / step / end) and click_train_data.c
 * (checks, split, negatives, initial vectors). Host-side only; the backend holds the parameters. */
#ifndef SG_CLICK_TRAIN_IMPL_H
#define SG_CLICK_TRAIN_IMPL_H

#include "click_backends.h"

SG_BEGIN_DECLS

struct sg_click_trainer {
  sg_exec *x;
  void *state; /* the backend's parameters and optimizer moments */
  sg_click_data data;
  sg_click_train_config cfg;
  uint32_t slots; /* examples per training row and epoch: 1 + negatives, or 1 */
  size_t *tr;     /* training rows (indices into data) */
  size_t n_tr;
  uint64_t *pos_off; /* implicit data: each user's positives, CSR, ascending */
  uint32_t *pos_items;
  uint32_t *vu, *vi; /* validation examples */
  uint8_t *vy;
  float *vz; /* their logits after an epoch */
  size_t n_val;
  uint32_t *perm; /* this epoch's order of the n_ex example ids */
  uint32_t n_ex;
  uint32_t batches_per_epoch, batch; /* batch = next batch within the current epoch */
  uint64_t step;                     /* optimizer steps taken */
  sg__click_plan plan;
  sg_click_train_progress prog;
  sg_click_model best; /* host copy of the best epoch's parameters (with validation and
                          uniform negatives) */
  uint32_t bad_epochs;
  double peak_auc;     /* scored negatives: the highest validation AUC so far */
  sg_click_model snap; /* scored negatives: the parameters at the epoch's start */
};

sg_status sg__click_check_data(const sg_click_data *d, sg_err *err);
sg_status sg__click_check_config(const sg_click_train_config *c, const sg_click_data *d,
                                 sg_err *err);
/* Split, positives, validation examples, training rows and the permutation buffer. */
sg_status sg__click_prepare(sg_click_trainer *t, sg_err *err);
/* A negative item for user: draw `index` of Philox stream `stream`, redrawn (up to
 * SG_CLICK_NEG_TRIES times) while it hits one of the user's positives. */
uint32_t sg__click_negative(const sg_click_trainer *t, uint32_t user, uint64_t stream,
                            uint64_t index);
/* A scored negative: of cfg.negative_candidates draws of sg__click_negative (indices
 * index * candidates + c), the one with the highest logit under snap, the first on ties. The user
 * terms of the logit are the same for every candidate, so the score is (U_user + w) · V_item (or
 * w · V_item without the interaction term), accumulated in double. */
uint32_t sg__click_scored_negative(const sg_click_trainer *t, const sg_click_model *snap,
                                   uint32_t user, uint64_t stream, uint64_t index);
/* The starting model (allocated into m): cfg's matrices or Philox normal draws, w = 0, b at the
 * logit of the base rate. */
sg_status sg__click_initial_model(const sg_click_trainer *t, sg_click_model *m, sg_err *err);

SG_END_DECLS

#endif
