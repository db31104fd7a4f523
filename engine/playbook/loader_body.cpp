// SPDX-License-Identifier: MIT
// An http step's request body: the encoding its values get (JSON, a form, text) from what the
// body is and its Content-Type, and what a raw body may hold.
#include "playbook/loader_impl.hpp"
#include "util/media_type.hpp"

namespace rollback::playbook::detail {

// A request body is JSON when it begins with { or [, whatever its Content-Type says (a JSON
// text sent as text/plain or NDJSON is still parsed as JSON at the other end); else JSON or a
// form by its Content-Type header (media types compare without regard to case, parameters and
// whitespace: RFC 9110 §8.3.1); otherwise `declared`. The header's value is read as it will be
// sent (substituted).
Encoding Loader::body_encoding(const tree::Table& t, Encoding declared,
                               std::string& media_type) const {
    if (const tree::Table* headers = t.get_table("headers")) {
        for (auto&& [k, v] : *headers) {
            if (util::ascii_iequals(k.str(), "content-type") && v.is_string()) {
                std::vector<std::string> ignored_uses, ignored_problems;
                media_type =
                    util::media_type(m_subst->apply(v.string(), ignored_uses, ignored_problems));
                break;
            }
        }
    }
    if (const tree::Node* body = t.get("body"); body != nullptr && body->is_string()) {
        std::string_view text = util::trim(body->string());
        if (!text.empty() && (text[0] == '{' || text[0] == '[')) {
            return Encoding::json;
        }
    }
    if (util::is_json_media_type(media_type)) {
        return Encoding::json;
    }
    if (media_type == "application/x-www-form-urlencoded") {
        return Encoding::form;
    }
    return declared;
}

void Loader::check_raw_body(const tree::Table& t, const std::string& media_type,
                            std::string_view subject) {
    const tree::Node* body = t.get("body");
    if (body == nullptr || !body->is_string() || body->string().find("{{") == std::string::npos) {
        return;
    }
    const util::Location at = m_r.where(*t.get("body"));
    const std::string kind =
        media_type.empty() ? "a body without a Content-Type" : "a " + media_type + " body";
    if (media_type.rfind("multipart/", 0) == 0) {
        m_r.error(at, subject,
                  "key \"body\": a reference in " + kind +
                      ": a value holding the boundary would add a part, and no encoding keeps "
                      "it in its own",
                  "send JSON (a body that begins with { or [) or a form "
                  "(Content-Type = \"application/x-www-form-urlencoded\")");
        return;
    }
    m_pb.step_warnings.push_back(
        {at, std::string(subject),
         "key \"body\": a reference in " + kind +
             " goes in raw: only a JSON body (one that begins with { or [, or a JSON "
             "Content-Type) escapes values and a form percent-encodes them",
         "make the body JSON or a form, or make sure no value can change its structure"});
}

} // namespace rollback::playbook::detail
