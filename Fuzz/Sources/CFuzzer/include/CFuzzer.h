// libFuzzer's driver entry point (compiler-rt's FuzzerInterface.h), so each fuzz target has an
// ordinary Swift `main` that hands control to libFuzzer (SwiftPM renames executables' `main`).
#include <stddef.h>
#include <stdint.h>

typedef int (*omni_fuzz_callback)(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, omni_fuzz_callback callback);
