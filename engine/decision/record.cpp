// SPDX-License-Identifier: MIT
#include "decision/record.hpp"

#include "util/duration.hpp"
#include "util/encode.hpp"
#include "util/error.hpp"
#include "util/secrets.hpp"
#include "util/sha256.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <ctime>

namespace rollback::decision {

namespace json = boost::json;

std::string format_number(double v) {
    if (!std::isfinite(v)) {
        return std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
    }
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, end);
}

namespace {

// A tiny ordered writer: Boost.JSON would print 0.05 as 5E-2, and the key order must be fixed.
class Writer {
  public:
    void open() {
        m_out += '{';
        m_first = true;
    }
    void close() {
        m_out += '}';
        m_first = false;
    }
    void key(std::string_view k) {
        if (!m_first) {
            m_out += ',';
        }
        m_first = false;
        str(k);
        m_out += ':';
    }
    void str(std::string_view s) {
        if (util::is_valid_utf8(s)) {
            m_out += json::serialize(json::string_view(s.data(), s.size()));
        } else {
            const std::string valid = util::valid_utf8(util::mask_secrets(s));
            m_out += json::serialize(json::string_view(valid.data(), valid.size()));
        }
    }
    void field(std::string_view k, std::string_view v) {
        key(k);
        str(v);
    }
    void field(std::string_view k, const char* v) { field(k, std::string_view(v)); }
    void field(std::string_view k, bool v) {
        key(k);
        m_out += v ? "true" : "false";
    }
    void field(std::string_view k, int64_t v) {
        key(k);
        m_out += std::to_string(v);
    }
    void field(std::string_view k, uint64_t v) {
        key(k);
        m_out += std::to_string(v);
    }
    void field(std::string_view k, int v) { field(k, static_cast<int64_t>(v)); }
    void number(std::string_view k, std::optional<double> v) {
        key(k);
        // JSON has no NaN/Infinity: those become null with the text kept in `detail` by callers.
        m_out += v && std::isfinite(*v) ? format_number(*v) : "null";
    }
    void time(std::string_view k, std::optional<SystemTime> t) {
        key(k);
        if (t) {
            str(util::format_time(*t));
        } else {
            m_out += "null";
        }
    }
    void raw(std::string_view k, std::string_view v) {
        key(k);
        m_out += v;
    }
    void begin_array(std::string_view k) {
        key(k);
        m_out += '[';
        m_first = true;
    }
    void end_array() {
        m_out += ']';
        m_first = false;
    }
    void element() {
        if (!m_first) {
            m_out += ',';
        }
        m_first = true;
    }
    std::string take() { return std::move(m_out); }

  private:
    std::string m_out;
    bool m_first = true;
};

void write_condition(Writer& w, const ConditionRecord& c) {
    w.open();
    w.field("name", c.name);
    w.field("signal", c.signal);
    w.field("unit", c.unit);
    w.field("window", util::format_duration(c.window));
    w.time("window_start", c.window_start);
    w.time("window_end", c.window_end);
    w.field("samples", c.samples);
    if (c.requests) {
        w.field("requests", *c.requests);
    } else {
        w.raw("requests", "null");
    }
    if (c.late) {
        w.field("late", *c.late);
    } else {
        w.raw("late", "null");
    }
    w.number("observed", c.observed);
    w.field("comparator", c.comparator);
    w.number("threshold", c.threshold);
    if (c.baseline) {
        w.key("baseline");
        w.open();
        w.field("kind", to_string(c.baseline->kind));
        w.number("value", c.baseline->value);
        w.field("origin", c.baseline->origin);
        w.close();
    } else {
        w.raw("baseline", "null");
    }
    w.key("counting");
    w.open();
    w.field("mode", to_string(c.counting));
    w.field("breached", c.breached);
    w.field("of", c.of);
    w.field("state", c.counting_state);
    w.close();
    w.field("missing", to_string(c.missing));
    if (c.policy) {
        w.field("policy", to_string(*c.policy));
    } else {
        w.raw("policy", "null");
    }
    w.field("policy_origin", c.policy_origin);
    w.field("detail", c.detail);
    w.field("verdict", to_string(c.verdict));
    w.field("severity", to_string(c.severity));
    w.field("action", to_string(c.action));
    w.field("mode", to_string(c.mode));
    w.time("incident_since", c.incident_since);
    w.close();
}

template <typename E>
E enum_field(const json::object& o, std::string_view key, std::string_view (*name)(E), int count) {
    auto s = o.at(key).as_string();
    for (int i = 0; i < count; ++i) {
        if (name(static_cast<E>(i)) == std::string_view(s.data(), s.size())) {
            return static_cast<E>(i);
        }
    }
    throw util::Error("decision record: unknown " + std::string(key) + " \"" + std::string(s) +
                      "\"");
}

std::string str_field(const json::object& o, std::string_view key) {
    auto& s = o.at(key).as_string();
    return std::string(s.data(), s.size());
}

std::optional<double> num_field(const json::object& o, std::string_view key) {
    const auto& v = o.at(key);
    if (v.is_null()) {
        return std::nullopt;
    }
    return v.to_number<double>();
}

std::optional<SystemTime> time_field(const json::object& o, std::string_view key) {
    const auto& v = o.at(key);
    if (v.is_null()) {
        return std::nullopt;
    }
    auto t = util::parse_time(std::string_view(v.as_string().data(), v.as_string().size()));
    if (!t) {
        throw util::Error("decision record: bad time in \"" + std::string(key) + "\"");
    }
    return t;
}

std::string_view policy_name(Policy p) {
    return to_string(p);
}
std::string_view verdict_name(Verdict v) {
    return to_string(v);
}
std::string_view missing_name(Missing m) {
    return to_string(m);
}
std::string_view action_name(Action a) {
    return to_string(a);
}
std::string_view mode_name(Mode m) {
    return to_string(m);
}
std::string_view severity_name(Severity s) {
    return to_string(s);
}
std::string_view counting_name(Counting c) {
    return to_string(c);
}
std::string_view baseline_name(BaselineKind b) {
    return to_string(b);
}

} // namespace

std::string to_json(const DecisionRecord& r) {
    Writer w;
    w.open();
    w.field("version", r.version);
    w.field("kind", "decision");
    w.time("time", r.time);
    w.field("target", r.target);
    w.field("release", r.release);
    w.time("deployed_at", r.deployed_at);
    w.field("action", to_string(r.action));
    w.field("mode", to_string(r.mode));
    w.field("executed", r.executed);
    w.field("cause", r.cause);
    w.field("reason", r.reason);
    w.time("cooldown_until", r.cooldown_until);
    if (r.leadership) {
        w.key("leadership");
        w.open();
        w.field("role", r.leadership->role);
        w.field("host", r.leadership->host);
        w.field("pid", r.leadership->pid);
        w.field("generation", r.leadership->generation);
        w.close();
    }
    w.begin_array("conditions");
    for (const auto& c : r.conditions) {
        w.element();
        write_condition(w, c);
    }
    w.end_array();
    w.close();
    return w.take();
}

DecisionRecord from_json(std::string_view text) {
    json::value v;
    try {
        v = json::parse(json::string_view(text.data(), text.size()));
    } catch (const std::exception& e) {
        throw util::Error(std::string("decision record: not JSON: ") + e.what());
    }
    try {
        const auto& o = v.as_object();
        DecisionRecord r;
        r.version = static_cast<int>(o.at("version").to_number<int64_t>());
        if (r.version != k_record_version) {
            throw util::Error("decision record: version " + std::to_string(r.version) +
                              " is not supported (this rollback reads version " +
                              std::to_string(k_record_version) + ")");
        }
        r.time = *time_field(o, "time");
        r.target = str_field(o, "target");
        r.release = str_field(o, "release");
        r.deployed_at = time_field(o, "deployed_at");
        r.action = enum_field<Action>(o, "action", action_name, 5);
        r.mode = enum_field<Mode>(o, "mode", mode_name, 3);
        r.executed = o.at("executed").as_bool();
        r.cause = str_field(o, "cause");
        r.reason = str_field(o, "reason");
        r.cooldown_until = time_field(o, "cooldown_until");
        if (const auto* l = o.if_contains("leadership"); l && !l->is_null()) {
            const auto& lo = l->as_object();
            r.leadership = LeadershipInfo{
                str_field(lo, "role"), str_field(lo, "host"),
                static_cast<int>(lo.at("pid").to_number<int64_t>()),
                static_cast<std::uint64_t>(lo.at("generation").to_number<int64_t>())};
        }
        for (const auto& cv : o.at("conditions").as_array()) {
            const auto& c = cv.as_object();
            ConditionRecord cr;
            cr.name = str_field(c, "name");
            cr.signal = str_field(c, "signal");
            cr.unit = str_field(c, "unit");
            cr.window = util::parse_duration(str_field(c, "window")).value_or(Millis(0));
            cr.window_start = *time_field(c, "window_start");
            cr.window_end = *time_field(c, "window_end");
            cr.samples = static_cast<uint64_t>(c.at("samples").to_number<int64_t>());
            if (!c.at("requests").is_null()) {
                cr.requests = static_cast<uint64_t>(c.at("requests").to_number<int64_t>());
            }
            if (const auto* late = c.if_contains("late"); late && !late->is_null()) {
                cr.late = static_cast<uint64_t>(late->to_number<int64_t>());
            }
            cr.observed = num_field(c, "observed");
            cr.comparator = str_field(c, "comparator");
            cr.threshold = num_field(c, "threshold");
            if (!c.at("baseline").is_null()) {
                const auto& b = c.at("baseline").as_object();
                cr.baseline = BaselineInfo{enum_field<BaselineKind>(b, "kind", baseline_name, 4),
                                           num_field(b, "value"), str_field(b, "origin")};
            }
            const auto& k = c.at("counting").as_object();
            cr.counting = enum_field<Counting>(k, "mode", counting_name, 4);
            cr.breached = static_cast<int>(k.at("breached").to_number<int64_t>());
            cr.of = static_cast<int>(k.at("of").to_number<int64_t>());
            cr.counting_state = str_field(k, "state");
            cr.missing = enum_field<Missing>(c, "missing", missing_name, 5);
            if (!c.at("policy").is_null()) {
                cr.policy = enum_field<Policy>(c, "policy", policy_name, 3);
            }
            cr.policy_origin = str_field(c, "policy_origin");
            cr.detail = str_field(c, "detail");
            cr.verdict = enum_field<Verdict>(c, "verdict", verdict_name, 7);
            cr.severity = enum_field<Severity>(c, "severity", severity_name, 3);
            cr.action = enum_field<Action>(c, "action", action_name, 5);
            cr.mode = enum_field<Mode>(c, "mode", mode_name, 3);
            cr.incident_since = time_field(c, "incident_since");
            r.conditions.push_back(std::move(cr));
        }
        return r;
    } catch (const util::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw util::Error(std::string("decision record: missing or mistyped field: ") + e.what());
    }
}

std::string record_id(const DecisionRecord& r) {
    std::string t = util::format_time(r.time); // 2026-11-26T14:35:00.000Z
    std::string compact;
    for (char ch : t) {
        if (ch != '-' && ch != ':') {
            compact += ch;
        }
    }
    return compact + "-" + util::sha256_hex(to_json(r)).substr(0, 8);
}

namespace {

std::string with_unit(std::optional<double> v, const std::string& unit) {
    if (!v) {
        return "none";
    }
    if (unit == "ratio") {
        return format_number(std::round(*v * 1e6) / 1e4) + "%";
    }
    std::string s = format_number(std::round(*v * 1000) / 1000);
    return unit.empty() || unit == "requests" ? s : s + " " + unit;
}

} // namespace

std::string explain(const DecisionRecord& r) {
    std::string out;
    out += "Decision at " + util::format_time(r.time) + " for target " +
           (r.target.empty() ? "(unnamed)" : r.target) + ": " + std::string(to_string(r.action));
    if (r.action != Action::none) {
        out += r.executed ? " (executed" : " (not executed";
        out += ", mode " + std::string(to_string(r.mode)) + ")";
    }
    out += "\n";
    if (r.leadership) {
        out += r.leadership->role == "leader"
                   ? "  Leadership: this monitor led (generation " +
                         std::to_string(r.leadership->generation) + ") on " + r.leadership->host +
                         " pid " + std::to_string(r.leadership->pid) + "\n"
                   : "  Leadership: this monitor followed (" + r.leadership->host + " pid " +
                         std::to_string(r.leadership->pid) + "; the leader's generation " +
                         std::to_string(r.leadership->generation) + "): recorded, did not act\n";
    }
    out += "  Why: " + r.reason + "\n";
    out +=
        "  Release: " + (r.release.empty() ? std::string("unknown (no deploy marker)") : r.release);
    if (r.deployed_at) {
        out += ", deployed " + util::format_time(*r.deployed_at);
    }
    out += "\n";
    if (r.cooldown_until) {
        out += "  Cooldown: no automatic trigger before " + util::format_time(*r.cooldown_until) +
               "\n";
    }
    for (const auto& c : r.conditions) {
        out += "\nCondition \"" + c.name + "\" (" + c.signal + ", severity " +
               std::string(to_string(c.severity)) + "): " + std::string(to_string(c.verdict)) +
               "\n";
        out += "  Window: " + util::format_duration(c.window) + " (" +
               util::format_time(c.window_start) + " .. " + util::format_time(c.window_end) +
               "), " + std::to_string(c.samples) + " samples";
        if (c.requests) {
            out += ", " + std::to_string(*c.requests) + " requests";
        }
        if (c.late && *c.late > 0) {
            out += ", " + std::to_string(*c.late) +
                   " lines too late to count (later than the source's max_lateness)";
        }
        out += "\n";
        out += "  Observed: " + with_unit(c.observed, c.unit);
        if (c.threshold) {
            out += "; breaches when " + c.comparator + " " + with_unit(c.threshold, c.unit);
        }
        out += "\n";
        if (c.baseline) {
            out += "  Baseline (" + std::string(to_string(c.baseline->kind)) +
                   "): " + with_unit(c.baseline->value, c.unit) + ", from " + c.baseline->origin +
                   "\n";
        }
        out +=
            "  Counting (" + std::string(to_string(c.counting)) + "): " + c.counting_state + "\n";
        if (c.missing != Missing::none) {
            out += "  Missing data: " + std::string(to_string(c.missing)) + " — policy " +
                   std::string(c.policy ? to_string(*c.policy) : "none") + " (" + c.policy_origin +
                   ")\n";
        }
        if (!c.detail.empty()) {
            out += "  Detail: " + c.detail + "\n";
        }
        if (c.incident_since) {
            out += "  Incident open since " + util::format_time(*c.incident_since) + "\n";
        }
        out += "  Action: " + std::string(to_string(c.action)) +
               (c.mode == Mode::observe ? " (observe: recorded only)" : "") + "\n";
    }
    return out;
}

} // namespace rollback::decision
