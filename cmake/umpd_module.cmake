# umpd_module(NAME name DIRS dir... DEPS target...): a static library from every
# *.cpp in the given source folders, aliased umpd::<name>, headers in include/.
function(umpd_module)
  cmake_parse_arguments(M "" "NAME" "DIRS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(sources)
  foreach(dir IN LISTS M_DIRS)
    file(GLOB found CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cpp)
    list(APPEND sources ${found})
  endforeach()
  if(NOT sources)
    # A module still being written: skip it rather than break the build.
    message(STATUS "umpd: module ${M_NAME} has no sources yet; skipped")
    return()
  endif()
  add_library(umpd_${M_NAME} STATIC ${sources})
  add_library(umpd::${M_NAME} ALIAS umpd_${M_NAME})
  set_target_properties(umpd_${M_NAME} PROPERTIES OUTPUT_NAME umpd_${M_NAME} EXPORT_NAME ${M_NAME}
                        POSITION_INDEPENDENT_CODE ON)
  target_include_directories(umpd_${M_NAME} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(umpd_${M_NAME} PUBLIC cxx_std_20)
  target_link_libraries(umpd_${M_NAME} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  umpd_set_warnings(umpd_${M_NAME})
endfunction()
