// SPDX-License-Identifier: MIT
// Case-insensitive protocol tokens (RFC 9110 §5.1, §8.3.1, §11.1; RFC 3986 §3.1).
#include "util/media_type.hpp"

#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("util") {
    TEST_CASE("media_type: lower case — without parameters and whitespace") {
        CHECK(util::media_type("application/json") == "application/json");
        CHECK(util::media_type("Application/JSON") == "application/json");
        CHECK(util::media_type("  application/X-WWW-Form-Urlencoded ; charset=UTF-8") ==
              "application/x-www-form-urlencoded");
        CHECK(util::media_type("text/plain;charset=utf-8") == "text/plain");
        CHECK(util::media_type("application/problem+json\t") == "application/problem+json");
        for (const std::string bad : {"", "json", "/json", "application/", "application json",
                                      "application/json x", "applica tion/json"}) {
            INFO(bad);
            CHECK(util::media_type(bad).empty());
        }
    }

    TEST_CASE("media_type: JSON types") {
        CHECK(util::is_json_media_type("application/json"));
        CHECK(util::is_json_media_type("text/json"));
        CHECK(util::is_json_media_type("application/vnd.api+json"));
        CHECK_FALSE(util::is_json_media_type("application/jsonx"));
        CHECK_FALSE(util::is_json_media_type("text/plain"));
        CHECK_FALSE(util::is_json_media_type("+json"));
        // JSON text sequences (break-it 23/17): one JSON text per line or per RS.
        for (const char* seq :
             {"application/x-ndjson", "application/ndjson", "application/jsonl",
              "application/x-jsonl", "application/jsonlines", "application/x-jsonlines",
              "application/json-seq", "application/geo+json-seq"}) {
            CAPTURE(seq);
            CHECK(util::is_json_media_type(seq));
        }
        CHECK_FALSE(util::is_json_media_type("application/xml"));
        CHECK_FALSE(util::is_json_media_type("multipart/form-data"));
        CHECK_FALSE(util::is_json_media_type("+json-seq"));
    }

    TEST_CASE("ascii_iequals: ASCII letters only") {
        CHECK(util::ascii_iequals("Content-Type", "content-TYPE"));
        CHECK_FALSE(util::ascii_iequals("Content-Type", "Content-Typ"));
        CHECK_FALSE(util::ascii_iequals("\xC3\x89", "\xC3\xA9")); // É/é: not ASCII, not folded
        CHECK(util::ascii_istarts_with("HTTPS://h/", "https://"));
        CHECK(util::ascii_istarts_with("Https://h/", "https://"));
        CHECK_FALSE(util::ascii_istarts_with("http", "https://"));
    }
}
