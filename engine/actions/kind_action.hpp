// SPDX-License-Identifier: MIT
#pragma once

// One action kind behind the Action interface. A kind is a plain struct, not a class of the
// hierarchy:
//
//   struct ReleaseSwitch {
//       static constexpr std::string_view name = "release_switch";
//       struct Params : playbook::ActionParams { ... };        // the step's keys, typed
//       static std::vector<std::string> keys();                  // accepted own keys
//       static std::vector<std::string> required_keys();         // optional
//       static std::map<std::string, playbook::Encoding> encodings();   // optional
//       static Params parse(StepParams&, const playbook::Playbook&, const playbook::Step&);
//       static std::string describe(const playbook::Step&, const Params&);
//       static std::vector<Check> preflight(const Context&, const Params&);
//       static Result run(const Context&, const Params&);
//       static ProbeAnswer probe(const Context&, const Params&);  // optional
//       static Result result_of_exit(const exec::Outcome&);       // optional (Action's)
//       static SessionSweep end_sessions(const Params&, const std::vector<std::string>& names,
//                                        util::Millis wait);        // optional: holds sessions
//   };
//
// parse is the only reader of the raw keys (Step::params); the loader keeps its struct in
// Step::parsed, and every other phase receives that struct.

#include "actions/action.hpp"
#include "actions/step_params.hpp"

#include <memory>
#include <string>

namespace rollback::actions {

template <class Kind>
class KindAction final : public Action {
  public:
    using Params = typename Kind::Params;

    std::vector<std::string> keys() const override { return Kind::keys(); }
    std::vector<std::string> required_keys() const override {
        if constexpr (requires { Kind::required_keys(); }) {
            return Kind::required_keys();
        } else {
            return {};
        }
    }
    std::map<std::string, playbook::Encoding> encodings() const override {
        if constexpr (requires { Kind::encodings(); }) {
            return Kind::encodings();
        } else {
            return {};
        }
    }

    Parsed parse(const playbook::Playbook& pb, const playbook::Step& step) const override {
        StepParams reader(step);
        auto params = std::make_shared<const Params>(Kind::parse(reader, pb, step));
        return {std::move(params), reader.diagnostics()};
    }

    std::string describe(const playbook::Step& step) const override {
        const playbook::Playbook none; // what describe shows is never resolved against a directory
        return Kind::describe(step, *typed(none, step).params);
    }

    std::vector<Check> preflight(const Context& ctx) const override {
        Typed t = typed(ctx.playbook, ctx.step);
        if (!t.problem.empty()) {
            return {{false, std::string(Kind::name) + " keys", t.problem, {}}};
        }
        return Kind::preflight(ctx, *t.params);
    }

    Result run(const Context& ctx) const override {
        Typed t = typed(ctx.playbook, ctx.step);
        if (!t.problem.empty()) {
            Result r;
            r.summary = t.problem;
            return r;
        }
        return Kind::run(ctx, *t.params);
    }

    std::optional<Result> result_of_exit(const exec::Outcome& exited) const override {
        if constexpr (requires { Kind::result_of_exit(exited); }) {
            return Kind::result_of_exit(exited);
        } else {
            return std::nullopt;
        }
    }

    bool has_probe() const override {
        return requires {
            &Kind::probe;
        };
    }

    ProbeAnswer probe(const Context& ctx) const override {
        if constexpr (requires { &Kind::probe; }) {
            Typed t = typed(ctx.playbook, ctx.step);
            if (!t.problem.empty()) {
                return {ProbeAnswer::Verdict::unknown, "cannot probe: " + t.problem};
            }
            return Kind::probe(ctx, *t.params);
        } else {
            return {};
        }
    }

    bool holds_sessions() const override {
        return requires {
            &Kind::end_sessions;
        };
    }

    SessionSweep end_sessions(const playbook::Playbook& pb, const playbook::Step& step,
                              const std::vector<std::string>& names,
                              util::Millis wait) const override {
        if constexpr (requires { &Kind::end_sessions; }) {
            Typed t = typed(pb, step);
            if (!t.problem.empty()) {
                SessionSweep s;
                s.error = "cannot read the step's keys: " + t.problem;
                return s;
            }
            return Kind::end_sessions(*t.params, names, wait);
        } else {
            (void)pb, (void)step, (void)names, (void)wait;
            return {};
        }
    }

  private:
    struct Typed {
        std::shared_ptr<const Params> params;
        std::string problem; ///< the first problem when the keys did not parse
    };

    // The struct kept with the step at load. A step made without the loader (a test, a caller
    // that builds steps itself) is parsed here, with the same messages.
    Typed typed(const playbook::Playbook& pb, const playbook::Step& step) const {
        if (auto kept = std::dynamic_pointer_cast<const Params>(step.parsed)) {
            return {std::move(kept), {}};
        }
        Parsed parsed = parse(pb, step);
        return {std::static_pointer_cast<const Params>(parsed.params),
                parsed.diagnostics.empty() ? std::string() : parsed.diagnostics.front().problem};
    }
};

} // namespace rollback::actions
