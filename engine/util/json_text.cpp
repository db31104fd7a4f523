// SPDX-License-Identifier: MIT
#include "util/json_text.hpp"

#include "util/encode.hpp"
#include "util/secrets.hpp"

#include <boost/json/serialize.hpp>

namespace rollback::util {
namespace {

bool all_valid(const boost::json::value& v) {
    if (const auto* s = v.if_string()) {
        return is_valid_utf8(*s);
    }
    if (const auto* o = v.if_object()) {
        for (const auto& kv : *o) {
            if (!is_valid_utf8(kv.key()) || !all_valid(kv.value())) {
                return false;
            }
        }
    } else if (const auto* a = v.if_array()) {
        for (const auto& e : *a) {
            if (!all_valid(e)) {
                return false;
            }
        }
    }
    return true;
}

} // namespace

bool make_valid_utf8(boost::json::value& v) {
    if (all_valid(v)) {
        return false;
    }
    if (auto* s = v.if_string()) {
        // Masked first: the masker reads a secret's bytes, not the `\xHH` text they become.
        *s = valid_utf8(mask_secrets(*s));
    } else if (auto* o = v.if_object()) {
        // A key that changes is a new key: the object is rebuilt in its order.
        boost::json::object fixed(o->storage());
        fixed.reserve(o->size());
        for (auto& kv : *o) {
            make_valid_utf8(kv.value());
            fixed[valid_utf8(kv.key())] = std::move(kv.value());
        }
        *o = std::move(fixed);
    } else if (auto* a = v.if_array()) {
        for (auto& e : *a) {
            make_valid_utf8(e);
        }
    }
    return true;
}

std::string json_text(const boost::json::value& v) {
    if (all_valid(v)) {
        return boost::json::serialize(v);
    }
    boost::json::value copy = v;
    make_valid_utf8(copy);
    return boost::json::serialize(copy);
}

} // namespace rollback::util
