# Fails when any C++ file of the project differs from clang-format's output.
file(GLOB_RECURSE files RELATIVE ${ROOT}
     ${ROOT}/app/*.cpp ${ROOT}/app/*.h ${ROOT}/net/*.cpp ${ROOT}/net/*.h ${ROOT}/model/*.cpp ${ROOT}/model/*.h
     ${ROOT}/ui/*.cpp ${ROOT}/ui/*.h ${ROOT}/tests/*.cpp ${ROOT}/tests/*.h ${ROOT}/tests/bench/*.cpp)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${files} WORKING_DIRECTORY ${ROOT}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "clang-format differences (run: clang-format -i <files>):\n${err}")
endif()
