// SPDX-License-Identifier: MIT
#include "util/sha256.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("util") {
    TEST_CASE("SHA-256: FIPS 180-4 test vectors — incremental and from a file") {
        CHECK(util::sha256_hex("") ==
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        CHECK(util::sha256_hex("abc") ==
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        CHECK(util::sha256_hex(two_blocks) ==
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        util::Sha256 h;
        for (char c : two_blocks) {
            h.update(std::string_view(&c, 1));
        }
        CHECK(h.hex() == util::sha256_hex(two_blocks));

        rollback::test::TempDir dir;
        const std::string million(1'000'000, 'a');
        auto file = dir.write("a.bin", million);
        CHECK(util::sha256_file(file) ==
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }

    TEST_CASE("HMAC-SHA-256: RFC 4231 test vectors") {
        // case 1: 20-byte key of 0x0b, "Hi There"
        CHECK(util::hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        // case 2: key "Jefe"
        CHECK(util::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // case 6: a key longer than the block (131 bytes of 0xaa) is hashed first
        CHECK(util::hmac_sha256_hex(std::string(131, '\xaa'),
                                    "Test Using Larger Than Block-Size Key - Hash Key First") ==
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }
}
