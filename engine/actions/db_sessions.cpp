// SPDX-License-Identifier: MIT
#include "actions/db_sessions.hpp"

#include "db/restore.hpp"
#include "util/secrets.hpp"

namespace rollback::actions {

db::StepSession step_session(const Context& ctx, const std::string& effect) {
    db::StepSession s{ctx.session_name};
    if (ctx.fence) {
        s.before_effect = [fence = ctx.fence, effect] { fence(effect); };
    }
    return s;
}

SessionSweep end_db_sessions(const std::string& dsn_text, bool maintenance,
                             const std::vector<std::string>& names, util::Millis wait) {
    SessionSweep out;
    try {
        db::Dsn dsn = db::Dsn::parse(dsn_text);
        if (maintenance) {
            dsn = db::maintenance_dsn(dsn);
        }
        out.server = dsn.masked();
        const db::SessionSweep s = db::end_named_sessions(dsn, names, wait);
        auto copy = [](const std::vector<db::Backend>& from) {
            std::vector<Session> to;
            for (const auto& b : from) {
                to.push_back({b.pid, b.name, b.database, b.user, b.state});
            }
            return to;
        };
        out.found = copy(s.found);
        out.remaining = copy(s.remaining);
        out.refused = s.refused;
        out.error = s.error;
        out.waited_ms = s.waited.count();
    } catch (const std::exception& e) {
        out.error = util::mask_secrets(e.what());
    }
    return out;
}

} // namespace rollback::actions
