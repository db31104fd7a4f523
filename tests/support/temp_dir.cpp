// SPDX-License-Identifier: MIT
#include "support/temp_dir.hpp"

#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>

namespace rollback::test {

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/rollback-test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    m_path = pattern;
}

TempDir::~TempDir() {
    // ROLLBACK_KEEP_TEMP=1 keeps every test's directory for inspection; tests INFO() the path so a
    // failing assertion prints it.
    if (std::getenv("ROLLBACK_KEEP_TEMP") != nullptr) {
        std::fprintf(stderr, "kept %s\n", m_path.c_str());
        return;
    }
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const {
    auto p = m_path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
}

std::filesystem::path source_dir() {
    return ROLLBACK_SOURCE_DIR;
}
std::filesystem::path rollback_binary() {
    return ROLLBACK_BINARY;
}

} // namespace rollback::test

namespace rollback::test {

bool running(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return false;
    }
    // pid (comm) state ...: comm may hold spaces and parentheses, so read after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) {
        return false;
    }
    const char state = line[close + 2];
    return state != 'Z' && state != 'X';
}

} // namespace rollback::test
