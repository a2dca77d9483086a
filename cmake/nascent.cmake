# Build helpers shared by src/, tests/ and bench/.

# Sources that never include torch skip the precompiled header: loading the 500 MB PCH costs
# more than such a file takes to compile. A source opts in simply by including a torch header.
function(nascent_skip_pch_without_torch)
  foreach(src ${ARGN})
    file(READ ${src} text)
    if(NOT text MATCHES "#include <(torch|ATen|c10)/" AND NOT text MATCHES "#include \"nascent/[a-z_]+/[a-z_]+_torch\\.h\"")
      set_source_files_properties(${src} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()

# nascent_add_test(NAME name SOURCES a.cpp b.cpp LABELS unit|slow [TIMEOUT s] [SERIAL])
# One GoogleTest executable; every test in it is registered with ctest under the given label.
# SERIAL tests run alone (they start nascent processes that use every core).
function(nascent_add_test)
  cmake_parse_arguments(T "SERIAL" "NAME;TIMEOUT" "SOURCES;LABELS" ${ARGN})
  set(serial OFF)
  if(T_SERIAL)
    set(serial ON)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  # Under AddressSanitizer the tests that train run several times slower (scripts/sanitize.sh).
  if(NASCENT_SANITIZE)
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 5")
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE nascent GTest::gtest GTest::gtest_main)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${T_NAME} PRIVATE NASCENT_BINARY="$<TARGET_FILE:nascent_cli>")
  add_dependencies(${T_NAME} nascent_cli)
  target_precompile_headers(${T_NAME} REUSE_FROM nascent)
  nascent_skip_pch_without_torch(${T_SOURCES})
  gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} RUN_SERIAL ${serial}
                       WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()

# OpenCV's modules (Debian's libopencv-*-dev ship no CMake or pkg-config files): an interface
# target NAME with OpenCV's include directories and the given libraries (opencv_core included).
function(nascent_opencv_target name header)
  if(TARGET ${name})
    return()
  endif()
  find_path(OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
  find_path(OPENCV_CONFIG_INCLUDE_DIR opencv2/cvconfig.h PATH_SUFFIXES ${CMAKE_LIBRARY_ARCHITECTURE}/opencv4 REQUIRED)
  find_path(OPENCV_${name}_HEADER_DIR ${header} PATH_SUFFIXES opencv4 REQUIRED)
  set(libs)
  foreach(lib ${ARGN} opencv_core)
    find_library(OPENCV_${lib}_LIBRARY ${lib} REQUIRED)
    list(APPEND libs ${OPENCV_${lib}_LIBRARY})
  endforeach()
  add_library(${name} INTERFACE IMPORTED GLOBAL)
  target_include_directories(${name} SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR} ${OPENCV_CONFIG_INCLUDE_DIR})
  target_link_libraries(${name} INTERFACE ${libs})
endfunction()

# The DNN module, for the programs that run exported ONNX models (tests, benchmarks).
function(nascent_find_opencv_dnn)
  nascent_opencv_target(nascent_opencv_dnn opencv2/dnn.hpp opencv_dnn)
endfunction()

# Image codecs and resizing: the image-folder reader decodes PNG, JPEG, BMP and TIFF with them.
function(nascent_find_opencv_image)
  nascent_opencv_target(nascent_opencv_image opencv2/imgcodecs.hpp opencv_imgcodecs opencv_imgproc)
endfunction()

# cpp-httplib (Debian's libcpp-httplib-dev: a header and a compiled library) for the dashboard's
# server and the tests' client. Its definitions (TLS, zlib, brotli support) change the classes'
# layout, so every file that includes httplib.h needs them; they go on those files alone, which
# include no torch header: on the whole target they would change its precompiled header.
function(nascent_use_httplib target)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(HTTPLIB REQUIRED cpp-httplib)
  set_source_files_properties(${ARGN} TARGET_DIRECTORY ${target} PROPERTIES COMPILE_OPTIONS "${HTTPLIB_CFLAGS_OTHER}")
  target_link_libraries(${target} PRIVATE ${HTTPLIB_LINK_LIBRARIES})
endfunction()
