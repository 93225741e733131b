# Small helpers shared by every CMakeLists.txt in the tree.

# Adds a layer's folder when it exists, so layers can land one at a time. `dir` is relative to
# the top of the source tree, whichever CMakeLists.txt calls this.
function(saeg_add_optional_subdirectory dir)
    if(EXISTS ${CMAKE_SOURCE_DIR}/${dir}/CMakeLists.txt)
        add_subdirectory(${CMAKE_SOURCE_DIR}/${dir} ${CMAKE_BINARY_DIR}/${dir})
    endif()
endfunction()

# saeg_add_test(NAME name SOURCES a.c b.c LIBS lib... [ARGS arg...] [LABELS label...] [TIMEOUT s])
# Builds one test program in bin/ and registers it with ctest (run from the source tree so
# fixtures under tests/ are found by relative path).
function(saeg_add_test)
    cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;ARGS;LABELS" ${ARGN})
    add_executable(${T_NAME} ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE ${T_LIBS})
    target_include_directories(${T_NAME} PRIVATE ${CMAKE_SOURCE_DIR})
    add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 600)
    endif()
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT})
    if(T_LABELS)
        set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
    endif()
endfunction()

# saeg_backend_option(VAR FOUND "what is missing" ["what it builds"]) resolves AUTO/ON/OFF into
# VAR_BUILD.
function(saeg_backend_option var found missing)
    set(what backend)
    if(ARGC GREATER 3)
        set(what "${ARGV3}")
    endif()
    set(mode ${${var}})
    string(TOUPPER "${mode}" mode)
    if(mode STREQUAL "OFF")
        set(build OFF)
        message(STATUS "${var}=OFF: ${what} not built")
    elseif(found)
        set(build ON)
    elseif(mode STREQUAL "ON")
        message(FATAL_ERROR "${var}=ON but ${missing}")
    else()
        set(build OFF)
        message(STATUS "${var}=AUTO: skipped, ${missing}")
    endif()
    set(${var}_BUILD ${build} PARENT_SCOPE)
endfunction()
