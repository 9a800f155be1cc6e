# Whole-server tests through an independent client: pyclient.py (Debian's /usr/bin/python3 with
# python3-grpcio and the modules protoc generates into <build>/python), one scenario per test.
if(NOT TARGET shopgpu_proto_python)
  message(WARNING "server.python_client not built: protoc (protobuf-compiler) is missing, "
                  "so there are no generated Python modules")
  return()
endif()
execute_process(COMMAND /usr/bin/python3 -c "import grpc, google.protobuf"
                RESULT_VARIABLE sg_py_grpc OUTPUT_QUIET ERROR_QUIET)
if(NOT sg_py_grpc EQUAL 0)
  # the test is still added, and fails saying why: it must not vanish silently in CI
  message(WARNING "/usr/bin/python3 cannot import grpc and google.protobuf: "
                  "install python3-grpcio python3-protobuf (server.python_client will fail)")
endif()
sg_server_test(server.python_client SOURCES ${SG_TS}/test_python_client.c)
target_compile_definitions(server.python_client PRIVATE
  SG_SERVER_BIN="$<TARGET_FILE:shopgpu-server>")
