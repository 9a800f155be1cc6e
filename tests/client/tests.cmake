# tests/client: libshopgpu-client and the shopgpu CLI against real shopgpu-server processes,
# and the CLI's JSON writer on its own.
set(SG_TC ${CMAKE_CURRENT_SOURCE_DIR}/client)
sg_server_test(client.lib SOURCES ${SG_TC}/test_client.c LIBS shopgpu_client)
sg_server_test(client.stream SOURCES ${SG_TC}/test_client_stream.c LIBS shopgpu_client)
sg_server_test(client.cli SOURCES ${SG_TC}/test_cli.c LIBS shopgpu_client)
target_compile_definitions(client.cli PRIVATE SG_CLI_BIN="$<TARGET_FILE:shopgpu>")
add_dependencies(client.cli shopgpu)
sg_test(client.json SOURCES ${SG_TC}/test_json.c ${CMAKE_SOURCE_DIR}/client/json.c
        ${CMAKE_SOURCE_DIR}/client/json_pb.c LIBS shopgpu_proto m)
target_include_directories(client.json PRIVATE ${CMAKE_SOURCE_DIR}/client)
