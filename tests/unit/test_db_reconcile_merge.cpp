// SPDX-License-Identifier: MIT
// The reconciliation merge without a database: two key-ordered scans walked once.
#include "db/reconcile_merge.hpp"

#include <doctest/doctest.h>
#include <optional>

using namespace rollback::db;

namespace {

struct Row {
    std::vector<std::optional<std::string>> key;
    std::string hash;
};

class VectorRows : public SortedRows {
  public:
    explicit VectorRows(std::vector<Row> rows) : m_rows(std::move(rows)) {}
    bool next() override { return ++m_pos < static_cast<long>(m_rows.size()); }
    const char* key(std::size_t c) const override {
        const auto& k = m_rows.at(static_cast<std::size_t>(m_pos)).key.at(c);
        return k ? k->c_str() : nullptr;
    }
    std::string_view hash() const override {
        return m_rows.at(static_cast<std::size_t>(m_pos)).hash;
    }

  private:
    std::vector<Row> m_rows;
    long m_pos = -1;
};

struct Result {
    MergeCounts counts;
    std::vector<std::string> left_only;
    std::vector<std::string> changed;
};

Result merge(const std::vector<KeyOrder>& order, std::vector<Row> left, std::vector<Row> right) {
    VectorRows l(std::move(left));
    VectorRows r(std::move(right));
    Result out;
    out.counts = merge_sorted(
        order, l, r, [&](std::string k) { out.left_only.push_back(std::move(k)); },
        [&](std::string k) { out.changed.push_back(std::move(k)); });
    return out;
}

std::vector<Row> ints(std::initializer_list<int> keys, const std::string& hash = "h") {
    std::vector<Row> rows;
    for (int k : keys) {
        rows.push_back({{std::to_string(k)}, hash + std::to_string(k)});
    }
    return rows;
}

} // namespace

TEST_SUITE("db") {
    TEST_CASE("reconcile merge: identical sides have no difference") {
        Result r = merge({KeyOrder::integer}, ints({1, 2, 3}), ints({1, 2, 3}));
        CHECK(r.counts.left_only == 0);
        CHECK(r.counts.changed == 0);
        CHECK(r.counts.right_only == 0);
        Result empty = merge({KeyOrder::integer}, {}, {});
        CHECK(empty.left_only.empty());
    }

    TEST_CASE("reconcile merge: a change at the first and the middle and the last key") {
        auto left = ints({1, 2, 3, 4, 5});
        left[0].hash = "x";
        left[2].hash = "x";
        left[4].hash = "x";
        Result r = merge({KeyOrder::integer}, left, ints({1, 2, 3, 4, 5}));
        CHECK(r.changed == std::vector<std::string>{"1", "3", "5"});
        CHECK(r.counts.changed == 3);
        CHECK(r.counts.left_only == 0);
        CHECK(r.counts.right_only == 0);
    }

    TEST_CASE("reconcile merge: keys only on one side at either end and between") {
        Result r = merge({KeyOrder::integer}, ints({1, 3, 5, 7, 9}), ints({2, 3, 5, 6, 7}));
        CHECK(r.left_only == std::vector<std::string>{"1", "9"});
        CHECK(r.counts.left_only == 2);
        CHECK(r.counts.right_only == 2); // 2 and 6
        CHECK(r.changed.empty());
        Result only_left = merge({KeyOrder::integer}, ints({4, 8}), {});
        CHECK(only_left.left_only == std::vector<std::string>{"4", "8"});
        Result only_right = merge({KeyOrder::integer}, {}, ints({4, 8}));
        CHECK(only_right.counts.right_only == 2);
    }

    TEST_CASE("reconcile merge: integer keys compare by value and text keys by bytes") {
        // 9 < 10 as numbers; "10" < "9" as text: each side sorted as its scan's ORDER BY does.
        Result numbers = merge({KeyOrder::integer}, ints({9, 10, 100}), ints({9, 100}));
        CHECK(numbers.left_only == std::vector<std::string>{"10"});
        CHECK(numbers.counts.right_only == 0);
        std::vector<Row> left{{{"10"}, "a"}, {{"100"}, "b"}, {{"9"}, "c"}};
        std::vector<Row> right{{{"100"}, "b"}, {{"9"}, "x"}};
        Result texts = merge({KeyOrder::text}, left, right);
        CHECK(texts.left_only == std::vector<std::string>{"10"});
        CHECK(texts.changed == std::vector<std::string>{"9"});
        VectorRows ten(ints({10}));
        VectorRows nine(ints({9}));
        REQUIRE(ten.next());
        REQUIRE(nine.next());
        CHECK(compare_keys({KeyOrder::integer}, ten, nine) > 0);
        CHECK(compare_keys({KeyOrder::text}, ten, nine) < 0);
        VectorRows minus(ints({-5}));
        REQUIRE(minus.next());
        CHECK(compare_keys({KeyOrder::integer}, minus, nine) < 0);
    }

    TEST_CASE("reconcile merge: NULL keys sort last and pair with each other") {
        std::vector<Row> left{{{"1"}, "a"}, {{std::nullopt}, "n1"}};
        std::vector<Row> right{{{"1"}, "a"}, {{"2"}, "b"}, {{std::nullopt}, "n2"}};
        Result r = merge({KeyOrder::integer}, left, right);
        CHECK(r.changed == std::vector<std::string>{"\x01NULL"});
        CHECK(r.counts.right_only == 1);
        CHECK(r.left_only.empty());
    }

    TEST_CASE("reconcile merge: composite keys compare column by column") {
        std::vector<Row> left{{{"1", "b"}, "a"}, {{"2", "a"}, "b"}, {{"2", "c"}, "c"}};
        std::vector<Row> right{{{"1", "b"}, "a"}, {{"2", "b"}, "x"}, {{"2", "c"}, "z"}};
        Result r = merge({KeyOrder::integer, KeyOrder::text}, left, right);
        CHECK(r.left_only == std::vector<std::string>{"2\x1f"
                                                      "a"});
        CHECK(r.changed == std::vector<std::string>{"2\x1f"
                                                    "c"});
        CHECK(r.counts.right_only == 1);
    }

    TEST_CASE("reconcile merge: a key twice on a side pairs with the other side one by one") {
        std::vector<Row> left{{{"1"}, "a"}, {{"1"}, "a"}, {{"2"}, "b"}};
        std::vector<Row> right{{{"1"}, "a"}, {{"2"}, "b"}};
        Result r = merge({KeyOrder::integer}, left, right);
        CHECK(r.left_only == std::vector<std::string>{"1"});
        CHECK(r.counts.right_only == 0);
    }

    TEST_CASE("reconcile merge: the key order of a column type") {
        CHECK(key_order_for("bigint") == KeyOrder::integer);
        CHECK(key_order_for("integer") == KeyOrder::integer);
        CHECK(key_order_for("smallint") == KeyOrder::integer);
        CHECK(key_order_for("numeric(10,2)") == KeyOrder::text);
        CHECK(key_order_for("text") == KeyOrder::text);
        CHECK(key_order_for("uuid") == KeyOrder::text);
    }
}
