// SPDX-License-Identifier: MIT
// libFuzzer entry point: see targets.cpp and scripts/fuzz.sh.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return rollback::fuzz::run_toml_tree(data, size);
}
