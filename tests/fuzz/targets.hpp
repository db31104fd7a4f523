// SPDX-License-Identifier: MIT
#pragma once

// One function per parser under fuzzing: bad input must end in a result or a util::Error (any
// other exception escapes; a crash, a hang or undefined behaviour is found by the sanitizers).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rollback::fuzz {

int run_playbook(const uint8_t* data, size_t size);
int run_config(const uint8_t* data, size_t size);
int run_access_log(const uint8_t* data, size_t size);
int run_csv(const uint8_t* data, size_t size);
int run_journal(const uint8_t* data, size_t size);
int run_prometheus(const uint8_t* data, size_t size);
int run_alertmanager(const uint8_t* data, size_t size);
int run_inventory(const uint8_t* data, size_t size);
int run_shell_text(const uint8_t* data, size_t size);
int run_promql(const uint8_t* data, size_t size);
int run_toml_tree(const uint8_t* data, size_t size);

struct Target {
    std::string name; ///< also the folder of its seeds and regressions
    int (*run)(const uint8_t* data, size_t size);
};
const std::vector<Target>& targets();

} // namespace rollback::fuzz
