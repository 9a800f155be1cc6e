# tests/server: unit tests of the server's parts, and whole-server tests through real processes.
set(SG_TS ${CMAKE_CURRENT_SOURCE_DIR}/server)
sg_server_test(server.methods SOURCES ${SG_TS}/test_methods.c)
sg_server_test(server.config SOURCES ${SG_TS}/test_config.c)
sg_server_test(server.pool SOURCES ${SG_TS}/test_pool.c)
sg_server_test(server.stats SOURCES ${SG_TS}/test_stats.c)
sg_server_test(server.util SOURCES ${SG_TS}/test_util.c)
sg_server_test(server.scheduler SOURCES ${SG_TS}/test_scheduler.c)
include(${SG_TS}/python.cmake OPTIONAL)
