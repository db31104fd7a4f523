// SPDX-License-Identifier: MIT
// A database's or table's name as one file name component (break-it round 31, findings 05 and
// 13: "../sales" wrote a backup outside its catalog, "orders/2026" an export into no directory).
#include "util/file_name.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

using rollback::util::file_name_part;

TEST_CASE("file name part: ordinary names are kept as written") {
    CHECK(file_name_part("shop") == "shop");
    CHECK(file_name_part("public.orders") == "public.orders");
    CHECK(file_name_part("shop_order-2") == "shop_order-2");
}

TEST_CASE("file name part: every hostile name stays one component of its directory") {
    for (const std::string& name : std::vector<std::string>{
             "../sales", "sales/eu", "..", ".", "/", "a/../../b", "h<svg onload=alert(1)>", "x\\y",
             "", "%2F", ".hidden", std::string("nul\0byte", 8), "é\n\t\x01"}) {
        const std::string part = file_name_part(name);
        CAPTURE(name);
        CAPTURE(part);
        CHECK_FALSE(part.empty());
        CHECK(part.find('/') == std::string::npos);
        CHECK(part.find('\0') == std::string::npos);
        CHECK(part.front() != '.');
        const std::filesystem::path file = std::filesystem::path("cat") / (part + "-x.dump");
        CHECK(file.lexically_normal().parent_path() == "cat");
    }
    CHECK(file_name_part("../sales") == "%2E.%2Fsales");
    CHECK(file_name_part("sales/eu") == "sales%2Feu");
}

TEST_CASE("file name part: two names never give the same part") {
    const std::set<std::string> parts{file_name_part("a/b"), file_name_part("a%2Fb"),
                                      file_name_part("a_b"), file_name_part("a.b"),
                                      file_name_part(""),    file_name_part("%")};
    CHECK(parts.size() == 6);
}
