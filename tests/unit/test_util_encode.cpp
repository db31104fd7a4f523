// SPDX-License-Identifier: MIT
// Text the engine writes as JSON or keeps as a tail is valid UTF-8: a byte that is not UTF-8 is
// the text \xHH (break-it 26/15), a tail never starts inside a character.
#include "util/encode.hpp"
#include "util/json_text.hpp"
#include "util/strings.hpp"

#include <boost/json/object.hpp>
#include <doctest/doctest.h>
#include <string>

using namespace rollback;
namespace json = boost::json;

TEST_SUITE("util") {
    TEST_CASE("valid_utf8 writes each byte that is not UTF-8 as xHH and keeps UTF-8") {
        CHECK(util::valid_utf8("caf\xe9") == "caf\\xe9");
        CHECK(util::valid_utf8("caf\xc3\xa9") == "caf\xc3\xa9");
        CHECK(util::valid_utf8("\x9b[31m") == "\\x9b[31m");
        CHECK(util::valid_utf8("\xc2\x9b") == "\xc2\x9b"); // U+009B is UTF-8 (shown visibly later)
        CHECK(util::valid_utf8("\xc0\xaf") == "\\xc0\\xaf");          // overlong '/'
        CHECK(util::valid_utf8("\xed\xa0\x80") == "\\xed\\xa0\\x80"); // a surrogate
        CHECK(util::valid_utf8("\xe2\x82") == "\\xe2\\x82");          // cut sequence
        CHECK(util::is_valid_utf8("plain \xe2\x82\xac"));
        CHECK_FALSE(util::is_valid_utf8("\xff"));
        CHECK(util::json_escape("a\"\xe9") == "a\\\"\\\\xe9");
        CHECK(util::json_text(json::object{{"k\xe9", "v\xe9"}}) == "{\"k\\\\xe9\":\"v\\\\xe9\"}");
    }

    TEST_CASE("a tail never starts inside a UTF-8 character") {
        const std::string e = "\xc3\xa9"; // é
        std::string text;
        for (int i = 0; i < 50; ++i) {
            text += e + "\xe2\x82\xac" + "\xf0\x9f\x98\x80"; // é € 😀
        }
        for (size_t max = 1; max < 40; ++max) {
            CAPTURE(max);
            const std::string t = util::tail(text, max);
            CHECK(util::is_valid_utf8(t));
            CHECK(t.size() <= max);
            CHECK(t.size() + 3 >= max);
        }
    }
}
