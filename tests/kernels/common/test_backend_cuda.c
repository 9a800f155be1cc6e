/* The CUDA backend on a real device (label gpu: skipped without one). */
#include <criterion/criterion.h>
#include <string.h>

#include "common/backend_impl.h"

Test(backend_cuda, opens_on_the_device_with_its_name_and_capability) {
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CUDA};
  sg_backend *be = sg_backend_open(&cfg, &e);
  cr_assert_not_null(be, "%s", e.msg);
  const sg_device_info *d = sg_backend_device(be);
  cr_assert_not_null(d);
  cr_assert(d->name[0]);
  cr_assert_geq(d->cc_major, SG_MIN_CC_MAJOR);
  cr_assert_gt(d->mem_total, 0);
  cr_assert(strstr(sg_backend_reason(be), d->name));
  for (int i = 0; i < 3; i++) { /* several workers, each with its own stream and handle */
    sg_exec *x = sg_exec_create(be, &e);
    cr_assert_not_null(x, "%s", e.msg);
    sg_exec_destroy(x);
  }
  sg_backend_close(be);
}

Test(backend_cuda, auto_picks_cuda_when_a_device_is_usable) {
  sg_err e = {0};
  sg_backend *be = sg_backend_open(NULL, &e);
  cr_assert_not_null(be);
  cr_assert_eq(sg_backend_kind_of(be), SG_BACKEND_CUDA, "%s", sg_backend_reason(be));
  sg_backend_close(be);
}
