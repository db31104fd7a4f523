// SPDX-License-Identifier: MIT
#include "util/error_json.hpp"

#include "util/secrets.hpp"

#include <boost/json/array.hpp>

namespace rollback::util {

boost::json::object diagnostic_json(const Diagnostic& d) {
    return {{"file", mask_secrets(d.where.file)}, {"line", d.where.line},
            {"column", d.where.column},           {"subject", mask_secrets(d.subject)},
            {"problem", mask_secrets(d.problem)}, {"hint", mask_secrets(d.hint)}};
}

boost::json::object error_json(const Error& e) {
    boost::json::object inner{{"code", to_int(e.code())},
                              {"message", mask_secrets(e.what())},
                              {"hint", mask_secrets(e.hint())}};
    boost::json::array ds;
    if (const auto* in = dynamic_cast<const InvalidInput*>(&e)) {
        for (const auto& d : in->diagnostics()) {
            ds.push_back(diagnostic_json(d));
        }
        inner["message"] = std::to_string(in->diagnostics().size()) + " error" +
                           (in->diagnostics().size() == 1 ? "" : "s");
    }
    inner["diagnostics"] = std::move(ds);
    return {{"error", std::move(inner)}};
}

boost::json::object internal_error_json(const std::exception& e) {
    return {{"error",
             {{"code", to_int(ExitCode::run_failed)},
              {"message", mask_secrets(std::string("internal error: ") + e.what())},
              {"hint", ""},
              {"diagnostics", boost::json::array()}}}};
}

} // namespace rollback::util
