// SPDX-License-Identifier: MIT
#include "util/media_type.hpp"

#include <algorithm>

namespace rollback::util {

namespace {

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 tchar: what a type or subtype is made of.
bool is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

} // namespace

bool ascii_iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

bool ascii_istarts_with(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && ascii_iequals(text.substr(0, prefix.size()), prefix);
}

std::string media_type(std::string_view v) {
    size_t i = 0;
    auto ows = [&] {
        while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) {
            ++i;
        }
    };
    auto token = [&] {
        std::string t;
        while (i < v.size() && is_tchar(v[i])) {
            t += ascii_lower(v[i++]);
        }
        return t;
    };
    ows();
    std::string type = token();
    if (type.empty() || i >= v.size() || v[i] != '/') {
        return {};
    }
    ++i;
    std::string subtype = token();
    ows();
    if (subtype.empty() || (i < v.size() && v[i] != ';')) {
        return {};
    }
    return type + "/" + subtype;
}

bool is_json_media_type(std::string_view type) {
    auto ends_with = [&](std::string_view suffix) {
        return type.size() > suffix.size() && type.substr(type.size() - suffix.size()) == suffix;
    };
    // JSON text sequences: one JSON text per line (NDJSON, JSON Lines) or per RS (RFC 7464).
    for (std::string_view seq :
         {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonl",
          "application/jsonlines", "application/x-jsonlines", "application/json-seq"}) {
        if (type == seq) {
            return true;
        }
    }
    return type == "application/json" || type == "text/json" || ends_with("+json") ||
           ends_with("+json-seq");
}

} // namespace rollback::util
