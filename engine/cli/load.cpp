// SPDX-License-Identifier: MIT
#include "cli/load.hpp"

#include "util/error.hpp"

namespace rollback::cli {

std::map<std::string, std::string> parse_var_overrides(const std::vector<std::string>& vars) {
    std::map<std::string, std::string> out;
    for (const auto& v : vars) {
        auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw util::Error("--var " + v + ": expected NAME=VALUE", util::ExitCode::invalid);
        }
        out[v.substr(0, eq)] = v.substr(eq + 1);
    }
    return out;
}

} // namespace rollback::cli
