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

# OpenCV's DNN module (libopencv-dnn-dev ships no CMake or pkg-config files): an interface
# target nascent_opencv_dnn for the programs that run exported ONNX models (tests, benchmarks).
function(nascent_find_opencv_dnn)
  if(TARGET nascent_opencv_dnn)
    return()
  endif()
  find_path(OPENCV_INCLUDE_DIR opencv2/dnn.hpp PATH_SUFFIXES opencv4 REQUIRED)
  find_path(OPENCV_CONFIG_INCLUDE_DIR opencv2/cvconfig.h PATH_SUFFIXES ${CMAKE_LIBRARY_ARCHITECTURE}/opencv4 REQUIRED)
  find_library(OPENCV_DNN_LIBRARY opencv_dnn REQUIRED)
  find_library(OPENCV_CORE_LIBRARY opencv_core REQUIRED)
  add_library(nascent_opencv_dnn INTERFACE IMPORTED GLOBAL)
  target_include_directories(nascent_opencv_dnn SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR} ${OPENCV_CONFIG_INCLUDE_DIR})
  target_link_libraries(nascent_opencv_dnn INTERFACE ${OPENCV_DNN_LIBRARY} ${OPENCV_CORE_LIBRARY})
endfunction()

# OpenCV's image codecs and resizing (libopencv-imgcodecs-dev, libopencv-imgproc-dev; no CMake or
# pkg-config files either): the image-folder reader decodes PNG, JPEG, BMP and TIFF with them.
function(nascent_find_opencv_image)
  if(TARGET nascent_opencv_image)
    return()
  endif()
  find_path(OPENCV_INCLUDE_DIR opencv2/imgcodecs.hpp PATH_SUFFIXES opencv4 REQUIRED)
  find_path(OPENCV_CONFIG_INCLUDE_DIR opencv2/cvconfig.h PATH_SUFFIXES ${CMAKE_LIBRARY_ARCHITECTURE}/opencv4 REQUIRED)
  find_library(OPENCV_IMGCODECS_LIBRARY opencv_imgcodecs REQUIRED)
  find_library(OPENCV_IMGPROC_LIBRARY opencv_imgproc REQUIRED)
  find_library(OPENCV_CORE_LIBRARY opencv_core REQUIRED)
  add_library(nascent_opencv_image INTERFACE IMPORTED GLOBAL)
  target_include_directories(nascent_opencv_image SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR} ${OPENCV_CONFIG_INCLUDE_DIR})
  target_link_libraries(nascent_opencv_image INTERFACE ${OPENCV_IMGCODECS_LIBRARY} ${OPENCV_IMGPROC_LIBRARY}
                        ${OPENCV_CORE_LIBRARY})
endfunction()
