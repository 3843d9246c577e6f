# Warnings are errors for our own code (not for third-party headers, included as SYSTEM).
set(L3AFD_WARNINGS -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wformat=2
    -Wimplicit-fallthrough -Wno-missing-field-initializers)
