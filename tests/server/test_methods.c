/* The method table against protoc-c's service descriptors, one to one, and its flags. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

Test(methods, every_descriptor_method_has_exactly_one_row_with_matching_types) {
  int covered = 0;
  for (int s = 0; s < sg_service_count; s++) {
    const ProtobufCServiceDescriptor *svc = sg_services[s];
    for (unsigned m = 0; m < svc->n_methods; m++) {
      char path[256];
      snprintf(path, sizeof path, "/%s/%s", svc->name, svc->methods[m].name);
      int rows = 0;
      for (int i = 0; i < sg_method_count; i++) {
        if (strcmp(sg_methods[i].path, path) != 0) continue;
        rows++;
        cr_expect_eq(sg_methods[i].request, svc->methods[m].input, "%s request type", path);
        cr_expect_eq(sg_methods[i].response, svc->methods[m].output, "%s response type", path);
        cr_expect_not_null(sg_methods[i].handler, "%s handler", path);
      }
      cr_expect_eq(rows, 1, "%s has %d rows in the method table", path, rows);
      covered++;
    }
  }
  cr_assert_eq(covered, sg_method_count, "the table has rows for methods no service declares");
}

Test(methods, only_health_is_exempt_from_auth_and_only_monitoring_runs_inline) {
  for (int i = 0; i < sg_method_count; i++) {
    const char *p = sg_methods[i].path;
    int health = strncmp(p, "/grpc.health.v1.Health/", 23) == 0;
    cr_expect_eq(!!(sg_methods[i].flags & SG_METHOD_NO_AUTH), health, "%s", p);
    /* inline = answered on the poller even when every worker is busy: monitoring only */
    int monitoring = health || strcmp(p, "/shopgpu.v1.Admin/GetServerInfo") == 0;
    cr_expect_eq(!!(sg_methods[i].flags & SG_METHOD_INLINE), monitoring, "%s", p);
    if (sg_methods[i].flags & SG_METHOD_INLINE)
      cr_expect(sg_methods[i].kind == SG_RPC_UNARY || sg_methods[i].kind == SG_RPC_SERVER_STREAM,
                "%s would block a poller", p);
  }
}

Test(methods, streaming_kinds_match_the_proto_files) {
  /* protoc-c drops `stream`: these are read from proto/shopgpu/v1/admin.proto and health.proto */
  struct {
    const char *path;
    sg_rpc_kind kind;
  } want[] = {
      {"/grpc.health.v1.Health/Watch", SG_RPC_SERVER_STREAM},
      {"/shopgpu.v1.Admin/EchoStream", SG_RPC_SERVER_STREAM},
      {"/shopgpu.v1.Admin/EchoUpload", SG_RPC_CLIENT_STREAM},
      {"/shopgpu.v1.Admin/EchoBidi", SG_RPC_BIDI_STREAM},
      {"/shopgpu.v1.Jobs/Watch", SG_RPC_SERVER_STREAM},
      {"/shopgpu.v1.Admin/Echo", SG_RPC_UNARY},
  };
  for (size_t w = 0; w < sizeof want / sizeof want[0]; w++)
    for (int i = 0; i < sg_method_count; i++)
      if (strcmp(sg_methods[i].path, want[w].path) == 0)
        cr_expect_eq(sg_methods[i].kind, want[w].kind, "%s", want[w].path);
}
