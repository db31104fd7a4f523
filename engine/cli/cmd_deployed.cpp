// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "util/error.hpp"
#include "util/exit_code.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <cstdio>

namespace rollback::cli {

int cmd_deployed(const Args& args) {
    CommonOptions common;
    std::string release, when;
    po::options_description desc("rollback deployed --release V [--time T]");
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    desc.add_options()                                                               //
        ("release", po::value(&release)->value_name("V"), "the release now running") //
        ("time", po::value(&when)->value_name("TIME"), "when it went live (default now, UTC)");
    po::variables_map vm;
    if (!parse_options("deployed", args, desc, {}, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (release.empty()) {
        throw util::Error("deployed: --release is required", util::ExitCode::invalid);
    }
    // Rounded up: a monitor tick at or after the recorded time certainly could read the marker.
    const util::SystemTime recorded =
        std::chrono::ceil<util::Millis>(std::chrono::system_clock::now());
    util::SystemTime t = recorded;
    if (!when.empty()) {
        std::string why;
        auto parsed = util::parse_time(when, &why);
        if (!parsed) {
            throw util::Error("--time: cannot read " + util::quoted(when) + ": " + why,
                              util::ExitCode::invalid);
        }
        t = *parsed;
    }
    config::Config cfg = load_rollback_config(common);
    const StateDir sd = resolve_state_dir(common, cfg);
    prepare_state_dir(sd, "deployed", "deploy markers");
    // The store the monitor reads the marker from: the shared state when the configuration
    // names one (a marker left in the local directory would never reach the leader).
    auto store = open_store(sd, state::SchemaAccess::write);
    const state::DeployMarker marker{release, t, cfg.target, recorded};
    const std::string where = store->put_deploy_marker(marker);
    if (common.json) {
        std::printf("%s\n", state::deploy_marker_json(marker).c_str());
    } else {
        std::printf("deploy marker: release %s at %s (%s)\n", release.c_str(),
                    util::format_time(t).c_str(), where.c_str());
    }
    return util::to_int(util::ExitCode::ok);
}

} // namespace rollback::cli
