// SPDX-License-Identifier: MIT
#include "db/reconcile_merge.hpp"

#include <charconv>
#include <cstring>

namespace rollback::db {

namespace {

constexpr char k_sep = '\x1f';

bool parse_int(const char* text, std::int64_t& out) {
    const char* end = text + std::strlen(text);
    auto [ptr, ec] = std::from_chars(text, end, out);
    return ec == std::errc() && ptr == end;
}

int sign(int v) {
    return v < 0 ? -1 : (v > 0 ? 1 : 0);
}

int compare_column(KeyOrder order, const char* a, const char* b) {
    if (a == nullptr || b == nullptr) {
        return (a == nullptr ? 1 : 0) - (b == nullptr ? 1 : 0);
    }
    if (order == KeyOrder::integer) {
        std::int64_t x = 0;
        std::int64_t y = 0;
        if (parse_int(a, x) && parse_int(b, y)) {
            return x < y ? -1 : (x > y ? 1 : 0);
        }
    }
    // strcmp compares as unsigned char: the byte order of COLLATE "C".
    return sign(std::strcmp(a, b));
}

} // namespace

KeyOrder key_order_for(std::string_view type) {
    return type == "smallint" || type == "integer" || type == "bigint" ? KeyOrder::integer
                                                                       : KeyOrder::text;
}

int compare_keys(const std::vector<KeyOrder>& order, const SortedRows& a, const SortedRows& b) {
    for (std::size_t c = 0; c < order.size(); ++c) {
        if (int r = compare_column(order[c], a.key(c), b.key(c)); r != 0) {
            return r;
        }
    }
    return 0;
}

std::string joined_key(const SortedRows& rows, std::size_t key_columns) {
    std::string out;
    for (std::size_t c = 0; c < key_columns; ++c) {
        if (c > 0) {
            out += k_sep;
        }
        const char* v = rows.key(c);
        out += v == nullptr ? "\x01NULL" : v;
    }
    return out;
}

MergeCounts merge_sorted(const std::vector<KeyOrder>& order, SortedRows& left, SortedRows& right,
                         const std::function<void(std::string)>& on_left_only,
                         const std::function<void(std::string)>& on_changed) {
    MergeCounts counts;
    bool has_left = left.next();
    bool has_right = right.next();
    while (has_left || has_right) {
        int cmp = !has_left ? 1 : (!has_right ? -1 : compare_keys(order, left, right));
        if (cmp < 0) {
            ++counts.left_only;
            on_left_only(joined_key(left, order.size()));
            has_left = left.next();
        } else if (cmp > 0) {
            ++counts.right_only;
            has_right = right.next();
        } else {
            if (left.hash() != right.hash()) {
                ++counts.changed;
                on_changed(joined_key(left, order.size()));
            }
            has_left = left.next();
            has_right = right.next();
        }
    }
    return counts;
}

} // namespace rollback::db
