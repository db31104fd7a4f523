# Runs a program and writes its standard output to a file (the build's generated man page and
# completion scripts): cmake -DPROGRAM=EXE -DARGS="arg|arg" -DOUTPUT=FILE -P run_to_file.cmake
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "${PROGRAM} ${args}: exit ${rc}")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
