// SPDX-License-Identifier: MIT
// The body of every libFuzzer target (tests/fuzz/fuzz_<name>.cpp calls one) and of the unit test
// that replays tests/fuzz/regressions/<name>/ in every build.
#include "targets.hpp"

#include "fuzz_support.hpp"
#include "toml_tree_compare.hpp"

#include "config/config.hpp"
#include "config/promql_type.hpp"
#include "journal/flat_line.hpp"
#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "monitor/alert_book.hpp"
#include "monitor/monitor.hpp"
#include "playbook/loader.hpp"
#include "playbook/variables.hpp"
#include "remote/inventory.hpp"
#include "server/alertmanager.hpp"
#include "server/generic_webhook.hpp"
#include "sources/access_log.hpp"
#include "sources/csv.hpp"
#include "sources/prometheus.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <map>
#include <stdexcept>

namespace rollback::fuzz {

namespace {

using sources::LogFormat;

struct Enough : std::exception {};

LogFormat builtin(uint8_t which) {
    switch (which % 4) {
    case 0:
        return LogFormat::compile("combined");
    case 1:
        return LogFormat::compile("combined_request_time");
    case 2:
        return LogFormat::compile("$remote_addr [$time_iso8601] \"$request\" $status "
                                  "$request_time $upstream_response_time");
    default:
        return LogFormat::compile("$msec $status $request_time");
    }
}

class CannedClient final : public util::HttpClient {
  public:
    util::HttpResponse response;
    util::HttpResponse send(const util::HttpRequest&) override { return response; }
};

} // namespace

int run_playbook(const uint8_t* data, size_t size) {
    static const ScratchFile file("playbook.toml");
    static const std::map<std::string, std::string> env{{"SET", "value"}};
    const auto& path = file.write(as_text(data, size));
    playbook::LoadOptions options;
    options.environment = &env;
    options.actions = {{"exec", {}, {}}, {"http", {"url", "method", "expect_status"}, {"url"}}};
    options.unset_env_is_warning = size % 2 == 0;
    expect_clean([&] { playbook::load(path, options); });
    return 0;
}

/// The analysis of a shell string a value is handed to (playbook/shell_values.cpp: where the
/// shell would evaluate `$V` or `$1` as code): the first byte says whether the arguments after the
/// command string are fed too, the rest is the script. A hang is a finding too: the analysis is
/// linear in the script (break-it 30/09).
int run_shell_text(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    static const std::vector<std::string> names{"V", "N"};
    expect_clean([&] {
        (void)playbook::fed_value_use(as_text(data + 1, size - 1), names, data[0] % 2 == 1);
    });
    return 0;
}

/// The first byte picks the reader: even YAML, odd INI. The inventory read is then used as the
/// loader and the runner use it (select, to_ini).
int run_inventory(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const bool yaml = data[0] % 2 == 0;
    expect_clean([&] {
        std::vector<util::Diagnostic> errors;
        const remote::Inventory inv = remote::parse_inventory(
            as_text(data + 1, size - 1), yaml ? "fuzz.yml" : "fuzz.ini", errors);
        size_t selected = inv.select("all").size();
        for (const auto& [g, _] : inv.groups) {
            selected += inv.select(g).size();
        }
        (void)remote::to_ini(inv);
        (void)selected;
    });
    return 0;
}

/// The TOML reader's own parse against toml++'s (playbook/toml_tree.hpp): a document it reads
/// must give toml++'s tree, and one toml++ refuses it must leave to toml++.
int run_toml_tree(const uint8_t* data, size_t size) {
    const TomlTreeComparison c = compare_toml_tree(as_text(data, size));
    if (!c.difference.empty()) {
        throw std::logic_error("parse_plain and toml++ differ: " + c.difference);
    }
    return 0;
}

int run_config(const uint8_t* data, size_t size) {
    expect_clean([&] { config::parse(as_text(data, size), "rollback.toml", "/nonexistent"); });
    return 0;
}

int run_access_log(const uint8_t* data, size_t size) {
    if (size < 2) {
        return 0;
    }
    std::string_view text = as_text(data + 2, size - 2);
    expect_clean([&] {
        LogFormat format = builtin(data[0]);
        if (data[0] >= 0x80) {
            const size_t nl = text.find('\n');
            format = LogFormat::compile(text.substr(0, nl));
            text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        }
        // The aggregator fills the intervals between lines; the sink stops where a caller's bound
        // would (sources::read_samples).
        size_t samples = 0;
        sources::RequestAggregator agg(1 + data[1] % 64, [&](decision::Sample) {
            if (++samples > 100000) {
                throw Enough();
            }
        });
        try {
            sources::parse_lines(text, format, [&](const sources::LogEntry& e) { agg.add(e); });
            agg.flush_all();
        } catch (const Enough&) {
        }
    });
    return 0;
}

int run_csv(const uint8_t* data, size_t size) {
    expect_clean([&] { sources::parse_value_csv(as_text(data, size), "fuzz.csv"); });
    return 0;
}

/// The plain-line reader against Boost.JSON: every line journal::FlatLine takes must be a JSON
/// object that reads as the same entry (else the reader would see what audit does not).
void check_flat_lines(std::string_view text) {
    for (std::size_t pos = 0; pos <= text.size();) {
        const std::size_t nl = std::min(text.find('\n', pos), text.size());
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        journal::FlatLine flat;
        if (!flat.scan(line)) {
            continue;
        }
        boost::system::error_code ec;
        const boost::json::value v = boost::json::parse(line, ec);
        if (ec || !v.is_object()) {
            throw std::logic_error("FlatLine took a line that is not a JSON object");
        }
        const journal::Entry a = journal::read_entry(flat);
        const journal::Entry b = journal::read_entry(v.as_object());
        if (a.seq != b.seq || a.time != b.time ||
            boost::json::serialize(journal::to_json(a.record)) !=
                boost::json::serialize(journal::to_json(b.record))) {
            throw std::logic_error("FlatLine read a line unlike Boost.JSON");
        }
    }
}

int run_journal(const uint8_t* data, size_t size) {
    static const ScratchFile file("journal.jsonl");
    const auto& path = file.write(as_text(data, size));
    check_flat_lines(as_text(data, size));
    expect_clean([&] {
        journal::verify(path);
        auto j = journal::read(path);
        journal::fold(j, size % 2 == 0);
    });
    return 0;
}

int run_prometheus(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    static const int k_statuses[] = {200, 200, 200, 200, 400, 422, 500, 503};
    CannedClient client;
    client.response.status = k_statuses[data[0] % 8];
    client.response.stage = util::HttpStage::done;
    client.response.body = std::string(as_text(data + 1, size - 1));
    expect_clean([&] {
        sources::query_prometheus(client, "http://127.0.0.1:9090", "up", std::chrono::seconds(1),
                                  std::chrono::system_clock::now());
        std::string problem;
        sources::parse_prometheus_value(client.response.body, problem);
    });
    return 0;
}

int run_alertmanager(const uint8_t* data, size_t size) {
    // A webhook body as the monitor takes it: parsed, applied to the alert book, judged.
    static const config::Config cfg = config::parse(R"(
[[condition]]
name = "a"
kind = "alert"
match = { alertname = "HighErrorRate" }
[[condition]]
name = "b"
kind = "alert"
match = { alertname = "ServiceDown", service = "" }
[server]
)",
                                                    "rollback.toml", "/nonexistent");
    static const server::WebhookSpec generic = [] {
        server::WebhookSpec w;
        w.name = "g";
        w.alerts = "alerts";
        w.status = "status";
        w.fingerprint = "fingerprint";
        w.labels = {{"alertname", "labels.alertname"}, {"service", "labels.0"}};
        return w;
    }();
    expect_clean([&] {
        std::string why;
        server::parse_webhook(as_text(data, size), generic, why); // a generic JSON webhook
        auto n = server::parse_alertmanager(as_text(data, size), why);
        if (!n) {
            return;
        }
        monitor::Monitor mon(cfg);
        monitor::AlertBook book;
        const auto now = std::chrono::system_clock::now();
        book.apply(*n, cfg.alert_conditions, now);
        mon.evaluate_alerts(now, book);
        book.apply(*n, cfg.alert_conditions, now); // the same notification re-sent
        mon.evaluate_alerts(now + std::chrono::seconds(1), book);
    });
    return 0;
}

int run_promql(const uint8_t* data, size_t size) {
    // An alert's confirming query as validate reads it (config/promql_type.hpp: strings with
    // their escapes, regexes through RE2, selectors, modifiers): never throws.
    const auto r = config::read_promql(as_text(data, size));
    if (!r.problem.empty() && r.offset > size) {
        std::abort(); // a problem located outside the query
    }
    if (!r.hint.empty() && r.problem.empty()) {
        std::abort(); // a hint for no problem
    }
    return 0;
}

const std::vector<Target>& targets() {
    static const std::vector<Target> all{
        {"playbook", &run_playbook},         {"config", &run_config},
        {"access_log", &run_access_log},     {"csv", &run_csv},
        {"journal", &run_journal},           {"prometheus", &run_prometheus},
        {"alertmanager", &run_alertmanager}, {"inventory", &run_inventory},
        {"shell_text", &run_shell_text},     {"promql", &run_promql},
        {"toml_tree", &run_toml_tree},
    };
    return all;
}

} // namespace rollback::fuzz
