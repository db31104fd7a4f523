// SPDX-License-Identifier: MIT
// The reconciliation exports' file names: any table name PostgreSQL allows is one file in the
// export directory (finding 05 of break-it round 31: "orders/2026" made a subdirectory).
#include "db/reconcile.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <set>
#include <string>

using rollback::db::reconcile_file_stem;

TEST_CASE("reconcile file stem: ordinary names are kept as written") {
    CHECK(reconcile_file_stem("orders") == "orders");
    CHECK(reconcile_file_stem("public.orders") == "public.orders");
    CHECK(reconcile_file_stem("shop_order-2") == "shop_order-2");
}

TEST_CASE("reconcile file stem: a separator or dot name stays one file in the directory") {
    for (const std::string table : {"orders/2026", "../x", "..", ".", "/", "a/../../b", "t<b>x</b>",
                                    "x\\y", "", "%2F", "é\n\t\x01", ".hidden"}) {
        const std::string stem = reconcile_file_stem(table);
        CAPTURE(table);
        CAPTURE(stem);
        CHECK_FALSE(stem.empty());
        CHECK(stem.find('/') == std::string::npos);
        CHECK(stem.front() != '.');
        const std::filesystem::path file = std::filesystem::path("out") / (stem + ".missing.csv");
        CHECK(file.parent_path() == "out");
        CHECK(file.lexically_normal().parent_path() == "out");
    }
    CHECK(reconcile_file_stem("orders/2026") == "orders%2F2026");
    CHECK(reconcile_file_stem("..") == "%2E.");
}

TEST_CASE("reconcile file stem: two tables never share a file") {
    const std::set<std::string> stems{reconcile_file_stem("a/b"), reconcile_file_stem("a%2Fb"),
                                      reconcile_file_stem("a_b"), reconcile_file_stem("a.b")};
    CHECK(stems.size() == 4);
}

TEST_CASE("reconcile file stem: the longest quoted name fits in a file name") {
    const std::string schema(63, '/');
    const std::string table = schema + "." + std::string(63, '<');
    const std::string stem = reconcile_file_stem(table);
    CHECK(stem.size() + std::string(".missing.csv").size() <= 255);
    CHECK(stem.size() == 200);
    CHECK(stem != reconcile_file_stem(schema + "." + std::string(62, '<') + ">"));
}
