/* The status table (names, gRPC codes against the gRPC spec's numbers) and sg_err semantics. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/status.h"

Test(status, every_status_has_a_unique_name_and_a_grpc_code_in_range) {
  for (int i = 0; i < SG_STATUS_COUNT; i++) {
    const char *name = sg_status_name((sg_status)i);
    cr_assert(name && name[0], "status %d has no name", i);
    cr_assert(sg_status_message((sg_status)i)[0], "status %s has no message", name);
    int code = sg_status_grpc_code((sg_status)i);
    cr_assert(code >= 0 && code <= 16, "status %s maps to gRPC code %d", name, code);
    cr_assert_eq(code == 0, i == SG_OK, "only OK maps to gRPC OK (%s -> %d)", name, code);
    for (int j = 0; j < i; j++)
      cr_assert_str_neq(name, sg_status_name((sg_status)j));
  }
}

Test(status, maps_to_the_grpc_spec_codes) {
  /* numbers from grpc/doc/statuscodes.md */
  struct {
    sg_status s;
    const char *name;
    int code;
  } want[] = {
      {SG_OK, "OK", 0},
      {SG_CANCELLED, "CANCELLED", 1},
      {SG_INVALID_ARGUMENT, "INVALID_ARGUMENT", 3},
      {SG_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", 4},
      {SG_NOT_FOUND, "NOT_FOUND", 5},
      {SG_ALREADY_EXISTS, "ALREADY_EXISTS", 6},
      {SG_RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED", 8},
      {SG_DEVICE_OOM, "DEVICE_OOM", 8},
      {SG_OUT_OF_MEMORY, "OUT_OF_MEMORY", 8},
      {SG_FAILED_PRECONDITION, "FAILED_PRECONDITION", 9},
      {SG_UNSUPPORTED, "UNSUPPORTED", 12},
      {SG_INTERNAL, "INTERNAL", 13},
      {SG_UNAVAILABLE, "UNAVAILABLE", 14},
      {SG_DEVICE_LOST, "DEVICE_LOST", 14},
      {SG_DATA_LOSS, "DATA_LOSS", 15},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    cr_expect_str_eq(sg_status_name(want[i].s), want[i].name);
    cr_expect_eq(sg_status_grpc_code(want[i].s), want[i].code, "%s", want[i].name);
  }
}

Test(status, out_of_table_values_are_unknown) {
  cr_assert_str_eq(sg_status_name(SG_STATUS_COUNT), "UNKNOWN_STATUS");
  cr_assert_eq(sg_status_grpc_code((sg_status)-1), 2);
}

Test(err, first_error_wins) {
  sg_err e = {0};
  cr_assert_eq(sg_err_set(&e, SG_INVALID_ARGUMENT, "series %d: length %d < %d", 17, 3, 5),
               SG_INVALID_ARGUMENT);
  cr_assert_eq(sg_err_set(&e, SG_INTERNAL, "cleanup failed"), SG_INTERNAL);
  cr_assert_eq(e.code, SG_INVALID_ARGUMENT);
  cr_assert_str_eq(sg_err_message(&e), "series 17: length 3 < 5");
  sg_err_clear(&e);
  cr_assert_eq(e.code, SG_OK);
  sg_err_set(&e, SG_INTERNAL, "second");
  cr_assert_str_eq(e.msg, "second");
}

Test(err, null_err_and_ok_are_ignored) {
  cr_assert_eq(sg_err_set(NULL, SG_NOT_FOUND, "x"), SG_NOT_FOUND);
  sg_err e = {0};
  cr_assert_eq(sg_err_set(&e, SG_OK, "not an error"), SG_OK);
  cr_assert_eq(e.code, SG_OK);
  cr_assert_str_eq(e.msg, "");
  sg_err_prefix(NULL, "x");
  sg_err_prefix(&e, "series 3");
  cr_assert_str_eq(e.msg, "");
}

Test(err, long_messages_are_truncated_not_overflowed) {
  char big[1000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  sg_err e = {0};
  sg_err_set(&e, SG_INVALID_ARGUMENT, "%s", big);
  cr_assert_eq(strlen(e.msg), SG_ERR_MSG_MAX - 1);
  sg_err_prefix(&e, "model %s", "m");
  cr_assert_eq(strlen(e.msg), SG_ERR_MSG_MAX - 1);
  cr_assert(strncmp(e.msg, "model m: aaa", 12) == 0);
}

Test(err, prefix_adds_context_and_default_message_fills_blank) {
  sg_err e = {0};
  sg_err_set(&e, SG_NOT_FOUND, NULL);
  cr_assert_str_eq(sg_err_message(&e), "not found");
  sg_err_prefix(&e, "model \"%s\"", "demo");
  cr_assert_str_eq(sg_err_message(&e), "model \"demo\": not found");
}
