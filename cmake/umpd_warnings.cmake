# Warnings are set per target, never globally, so third-party code is not affected.
function(umpd_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
  if(UMPD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
