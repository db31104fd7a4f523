// SPDX-License-Identifier: MIT
// The shell analysis of a value handed to a script (fed_value_use) is linear in the script,
// however deep its brackets nest (break-it 30/09: `$((((...1...))))` with 80,000 parentheses took
// 37 s to validate, 400 KB more than 120 s). Each shape below is 30,000 levels deep: linear, the
// whole case takes some 0.1 s; the quadratic scan (every opener rescanning to its closer) took
// 40 s of CPU (and fails here). Bounded by the timeout, not timed otherwise: what is checked is the
// result, at a size only a linear analysis finishes.
#include "playbook/variables.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace rollback;

namespace {

std::string times(std::string_view s, int n) {
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        out += s;
    }
    return out;
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("shell analysis: 30000 nested brackets of every kind in linear time" *
              doctest::timeout(5)) {
        constexpr int n = 30000;
        const std::vector<std::string> fed{"V"};
        struct Shape {
            std::string name, open, close;
        };
        // Arithmetic, $[ ], subscripts, ${v:offset}, [[ ]] tests, ${!name}, unclosed openers.
        const std::vector<Shape> shapes{
            {"$((", "(", ")"},        {"$[", "$[", "]"},         {"a[", "a[", "]"},
            {"${x:", "${x:", "}"},    {"[[", "[[", " ]]"},       {"${!", "${!", "}"},
            {"unclosed ((", "(", ""}, {"unclosed a[", "a[", ""}, {"unclosed [[", "[[", ""}};
        for (const auto& s : shapes) {
            CAPTURE(s.name);
            const std::string prefix = s.name.starts_with("$((") ? "echo $((" : "echo ";
            const std::string suffix = s.name.starts_with("$((") ? "))" : "";
            // No fed name inside: nothing to report, found without rescanning.
            const std::string clear = prefix + times(s.open, n) + "1" + times(s.close, n) + suffix;
            CHECK(playbook::fed_value_use(clear, fed, false) == "");
        }
        // A fed name at the bottom is still found through every level.
        CHECK(playbook::fed_value_use("echo $((" + times("(", n) + "V" + times(")", n) + "))", fed,
                                      false) == "an arithmetic expression (( )) / $(( ))");
        CHECK(playbook::fed_value_use("echo " + times("$[", n) + "$V" + times("]", n), fed,
                                      false) == "an arithmetic expression $[ ]");
        CHECK(playbook::fed_value_use("echo " + times("a[", n) + "V" + times("]", n), fed, false) ==
              "an array subscript");
        CHECK(playbook::fed_value_use("echo " + times("${x:", n) + "V" + times("}", n), fed,
                                      false) == "a substring offset or length ${v:offset:length}");
        CHECK(playbook::fed_value_use("echo " + times("${!", n) + "V" + times("}", n), fed,
                                      false) == "an indirect expansion ${!name}");
        // A fed name after many clear regions, and in the last of many sibling regions.
        CHECK(playbook::fed_value_use(times("echo $((1)); ", n / 10) + "echo $((V))", fed, false) ==
              "an arithmetic expression (( )) / $(( ))");
        CHECK(playbook::fed_value_use(times("[[ 1 -eq 1 ]]; ", n / 10) + "[[ $V -eq 1 ]]", fed,
                                      false) ==
              "[[ ]] with -eq/-ne/-lt/-le/-gt/-ge or -v (its operands are evaluated)");
    }
}
