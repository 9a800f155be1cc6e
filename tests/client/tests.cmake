# tests/client: libshopgpu-client and the shopgpu CLI against real shopgpu-server processes
# (client.rec also against a real redis-server), and the CLI's JSON writer, job views and the
# library's file readers on their own.
set(SG_TC ${CMAKE_CURRENT_SOURCE_DIR}/client)
set(SG_CLIENT_SRC ${CMAKE_SOURCE_DIR}/client)
sg_server_test(client.lib SOURCES ${SG_TC}/test_client.c LIBS shopgpu_client)
sg_server_test(client.stream SOURCES ${SG_TC}/test_client_stream.c LIBS shopgpu_client)
sg_server_test(client.jobs SOURCES ${SG_TC}/test_client_jobs.c LIBS shopgpu_client)
sg_server_test(client.click SOURCES ${SG_TC}/test_client_click.c LIBS shopgpu_client m)
foreach(t cli cli_jobs cli_click cli_forecast cli_route rec)
  sg_server_test(client.${t} SOURCES ${SG_TC}/test_${t}.c LIBS shopgpu_client m)
  target_compile_definitions(client.${t} PRIVATE SG_CLI_BIN="$<TARGET_FILE:shopgpu>")
  add_dependencies(client.${t} shopgpu)
endforeach()
sg_test(client.json SOURCES ${SG_TC}/test_json.c ${SG_CLIENT_SRC}/json.c
        ${SG_CLIENT_SRC}/json_pb.c LIBS shopgpu_proto m)
target_include_directories(client.json PRIVATE ${SG_CLIENT_SRC})
sg_test(client.cli_view SOURCES ${SG_TC}/test_cli_view.c ${SG_CLIENT_SRC}/cli_progress.c
        ${SG_CLIENT_SRC}/cli_job_view.c ${SG_CLIENT_SRC}/json.c ${SG_CLIENT_SRC}/json_pb.c
        LIBS shopgpu_client m)
target_include_directories(client.cli_view PRIVATE ${SG_CLIENT_SRC})
set_property(TEST client.rec APPEND PROPERTY LABELS redis)
sg_test(client.io SOURCES ${SG_TC}/test_io.c LIBS shopgpu_client m)
sg_test(client.ts SOURCES ${SG_TC}/test_ts.c LIBS shopgpu_client m)
