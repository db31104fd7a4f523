// SPDX-License-Identifier: MIT
#include "exec/launch.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace rollback::exec {
namespace {

using Clock = std::chrono::steady_clock;

} // namespace

std::vector<ProcessInfo> settled(const std::function<std::vector<ProcessInfo>()>& list) {
    const auto start = Clock::now();
    auto same = [](const std::vector<ProcessInfo>& a, const std::vector<ProcessInfo>& b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                          [](const ProcessInfo& x, const ProcessInfo& y) {
                              return x.pid == y.pid && x.command == y.command;
                          });
    };
    std::vector<ProcessInfo> seen = list();
    while (Clock::now() - start < std::chrono::milliseconds(200)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::vector<ProcessInfo> now = list();
        const bool stable = same(seen, now);
        seen = std::move(now);
        if (stable && Clock::now() - start >= std::chrono::milliseconds(30)) {
            break;
        }
    }
    return seen;
}

} // namespace rollback::exec
