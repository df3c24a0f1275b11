# Every project target builds clean under these; third-party headers are SYSTEM.
add_compile_options(-Wall -Wextra -Wpedantic)
