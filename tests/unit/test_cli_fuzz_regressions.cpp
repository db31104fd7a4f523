// SPDX-License-Identifier: MIT
// Every input a fuzzer found (tests/fuzz/regressions/<target>/<name>) through the same code as its
// fuzz target: it must end in a result or a util::Error. A crash or undefined behaviour fails
// here in every build, and loudly in the sanitizer build CI runs.
#include "targets.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

TEST_SUITE("cli") {
    TEST_CASE("fuzz regressions: every input found by a fuzzer ends in a result or an error") {
        const fs::path root = rollback::test::source_dir() / "tests/fuzz/regressions";
        size_t inputs = 0;
        for (const auto& target : rollback::fuzz::targets()) {
            const fs::path dir = root / target.name;
            if (!fs::is_directory(dir)) {
                continue;
            }
            for (const auto& entry : fs::directory_iterator(dir)) {
                CAPTURE(entry.path());
                std::ifstream in(entry.path(), std::ios::binary);
                const std::string bytes{std::istreambuf_iterator<char>(in), {}};
                CHECK_NOTHROW(
                    target.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
                ++inputs;
            }
        }
        // The folder is in the tree: an empty walk means a wrong path, not a clean bill.
        CHECK(inputs >= 8);
    }
}
