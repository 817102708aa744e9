# The synchronous HTTP client (src/http/client.h). Included by src/http/CMakeLists.txt; paths are relative to
# this file so it can be included from anywhere.
add_library(ignite_http_client STATIC ${CMAKE_CURRENT_LIST_DIR}/client.cc)
target_link_libraries(ignite_http_client PUBLIC ignite_common Boost::headers Boost::url Threads::Threads)

ignite_test(http_client_test ${CMAKE_CURRENT_LIST_DIR}/client_test.cc)
target_link_libraries(http_client_test PRIVATE ignite_http_client)
