// SPDX-License-Identifier: MIT
#include "report/console.hpp"

#include "report/progress_bar.hpp"
#include "report/record_text.hpp"

#include "report/run_report.hpp"
#include "util/duration.hpp"
#include "util/encode.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <map>
#include <sys/ioctl.h>
#include <unistd.h>

namespace rollback::report {
namespace {

/// "pid 4242 (python3 -m http.server)" for each process a step_finished record left running.
std::vector<std::string> left_running(const journal::StepFinished& r) {
    std::vector<std::string> out;
    for (const auto& p : r.left_running) {
        out.push_back("pid " + std::to_string(p.pid) + " (" + p.command + ")" +
                      (p.left_group ? " [left the group]" : ""));
    }
    return out;
}

std::string number_text(std::optional<int> n) {
    return n ? std::to_string(*n) : std::string();
}

// "13:43:10Z": the console's times are UTC, like every time the engine records, and say so.
std::string clock_now() {
    std::string t = util::format_time(std::chrono::system_clock::now());
    return t.substr(11, 8) + "Z";
}

std::string ms_text(long long ms) {
    return ms < 0 ? "" : util::format_duration(util::Millis(ms));
}

const char* state_color(const std::string& s) {
    if (s == "succeeded" || s == "marked_done") {
        return "32";
    }
    if (s == "running") {
        return "36";
    }
    if (s == "skipped" || s == "pending") {
        return "2";
    }
    return "31";
}

} // namespace

ConsoleMode choose_mode(std::FILE* out, bool json) {
    if (json) {
        return ConsoleMode::json;
    }
    const char* term = std::getenv("TERM");
    if (::isatty(::fileno(out)) != 0 && (term == nullptr || std::string_view(term) != "dumb")) {
        return ConsoleMode::live;
    }
    return ConsoleMode::plain;
}

ConsoleObserver::ConsoleObserver(std::FILE* out, ConsoleMode mode, bool verbose)
    : m_out(out), m_mode(mode), m_verbose(verbose),
      m_color(mode == ConsoleMode::live && std::getenv("NO_COLOR") == nullptr) {
    if (m_mode == ConsoleMode::live) {
        m_ticker = std::thread([this] {
            std::unique_lock lock(m_mutex);
            while (!m_stop) {
                lock.unlock();
                std::this_thread::sleep_for(std::chrono::milliseconds(250));
                lock.lock();
                if (!m_rows.empty() && !m_stop) {
                    redraw_locked();
                }
            }
        });
    }
}

ConsoleObserver::~ConsoleObserver() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        if (m_mode == ConsoleMode::live && !m_rows.empty()) {
            redraw_locked();
        }
    }
    if (m_ticker.joinable()) {
        m_ticker.join();
    }
    std::fflush(m_out);
}

ConsoleObserver::Row* ConsoleObserver::row(std::string_view id) {
    for (auto& r : m_rows) {
        if (r.id == id) {
            return &r;
        }
    }
    return nullptr;
}

void ConsoleObserver::on_record(const journal::Entry& record, std::string_view run_id) {
    std::lock_guard lock(m_mutex);
    switch (m_mode) {
    case ConsoleMode::json: {
        // The record as journaled, with its seq and run id.
        boost::json::object o = journal::to_json(record.record);
        o["seq"] = record.seq;
        o["run_id"] = run_id;
        std::string line = util::mask_secrets(util::json_text(o)) + "\n";
        std::fputs(line.c_str(), m_out);
        std::fflush(m_out);
        break;
    }
    case ConsoleMode::plain:
        plain_line(record, run_id);
        break;
    case ConsoleMode::live:
        update_rows(record, run_id);
        redraw_locked();
        break;
    }
}

void ConsoleObserver::on_progress(std::string_view step, std::string_view line) {
    on_host_progress(step, {}, line);
}

// A step on hosts runs them in parallel: its lines are tagged `[step@host]` like its
// started/finished lines, or they could not be told apart.
void ConsoleObserver::on_host_progress(std::string_view step, std::string_view host,
                                       std::string_view line) {
    std::lock_guard lock(m_mutex);
    std::string text = util::mask_secrets(line);
    switch (m_mode) {
    case ConsoleMode::json: {
        boost::json::object o{{"type", "progress"}, {"step", step}, {"line", text}};
        if (!host.empty()) {
            o["host"] = host;
        }
        std::fputs((util::json_text(o) + "\n").c_str(), m_out);
        break;
    }
    case ConsoleMode::plain: {
        const std::string tag = std::string(step) + (host.empty() ? "" : "@" + std::string(host));
        std::fprintf(m_out, "%s [%s] %s\n", clock_now().c_str(), tag.c_str(),
                     util::visible_controls(text).c_str());
        break;
    }
    case ConsoleMode::live:
        if (Row* r = row(step)) {
            r->detail = host.empty() ? text : std::string(host) + ": " + text;
        }
        redraw_locked();
        break;
    }
    std::fflush(m_out);
}

void ConsoleObserver::plain_line(const journal::Entry& e, std::string_view run_id) {
    using journal::RecordType;
    const std::string step(e.step());
    const std::string id(run_id);
    std::string text;
    switch (e.type()) {
    case RecordType::step_process:
    case RecordType::step_process_exited:
        return; // one per child: in the journal and the report, too fine for the live view
    case RecordType::run_started: {
        const auto& r = std::get<journal::RunStarted>(e.record);
        text = "run " + r.run_id + " started: " + r.playbook_name +
               (r.trigger.reason.empty() ? "" : ", reason: " + r.trigger.reason);
        break;
    }
    case RecordType::run_resumed:
        text = "run " + id + " resumed by " + std::get<journal::RunResumed>(e.record).by;
        break;
    case RecordType::step_started:
        text = "[" + step + "] started (attempt " +
               number_text(std::get<journal::StepStarted>(e.record).attempt) + ")";
        break;
    case RecordType::step_finished: {
        const auto& r = std::get<journal::StepFinished>(e.record);
        text = "[" + step + "] " + r.status + " in " + ms_text(r.duration_ms.value_or(-1)) + ": " +
               r.summary;
        if (r.recovered) {
            text += " (its program ended before the engine stopped: recorded by this resume, "
                    "not run again)";
        }
        for (const auto& p : left_running(r)) {
            text += "\n    left running: " + p;
        }
        if (r.status != "succeeded" && !r.output_tail.empty()) {
            for (const auto& l : util::split(util::trim(util::tail(r.output_tail, 800)), '\n')) {
                text += "\n    | " + l;
            }
        }
        break;
    }
    case RecordType::step_skipped:
        text = "[" + step + "] skipped: " + std::get<journal::StepSkipped>(e.record).why;
        break;
    case RecordType::step_probe: {
        const auto& r = std::get<journal::StepProbe>(e.record);
        text = "[" + step + (r.host.empty() ? "" : "@" + r.host) + "] probe: " + r.verdict +
               (r.by == "action" ? ": " + r.state : " (exit " + number_text(r.exit_code) + ")");
        break;
    }
    case RecordType::step_progress:
        text = "[" + step + "] stage " + std::get<journal::StepProgress>(e.record).stage;
        break;
    case RecordType::step_marked_done: {
        const auto& r = std::get<journal::StepMarkedDone>(e.record);
        text = "[" + step + "] marked done by " + r.by + (r.why.empty() ? "" : ": " + r.why) +
               (r.unverified ? " (--force: the check never passed, NOT verified)" : "");
        break;
    }
    case RecordType::step_retry_requested:
        text = "[" + step + "] retry requested by " +
               std::get<journal::StepRetryRequested>(e.record).by;
        break;
    case RecordType::step_survivors:
    case RecordType::step_sessions:
        text = "[" + step + "] " + describe_record(e);
        break;
    case RecordType::hook: {
        const auto& r = std::get<journal::Hook>(e.record);
        text = "hook " + r.hook + " (" + r.event + (step.empty() ? "" : " " + step) +
               "): " + r.status +
               (r.status == "succeeded" ? "" : ": " + (r.reason.empty() ? r.summary : r.reason));
        break;
    }
    case RecordType::needs_attention:
        text = "NEEDS ATTENTION: " + std::get<journal::NeedsAttention>(e.record).message;
        break;
    case RecordType::run_interrupted:
        text = interrupted_text(std::get<journal::RunInterrupted>(e.record));
        break;
    case RecordType::run_stopped:
        text =
            "STOPPED: " + std::get<journal::RunStopped>(e.record).why + "; running finally steps";
        break;
    case RecordType::run_finished: {
        const auto& r = std::get<journal::RunFinished>(e.record);
        text = "run " + id + " " + r.state + (r.not_verified.empty() ? "" : ", NOT verified") +
               " in " + ms_text(r.duration_ms.value_or(-1)) + " (exit " + number_text(r.exit_code) +
               ")";
        break;
    }
    case RecordType::step_host_started: {
        const auto& r = std::get<journal::StepHostStarted>(e.record);
        text = "[" + step + "@" + r.host + "] started (batch " + std::to_string(r.batch) + ")";
        break;
    }
    case RecordType::step_host_finished: {
        const auto& r = std::get<journal::StepHostFinished>(e.record);
        text = "[" + step + "@" + r.host + "] " + r.status + " in " + ms_text(r.duration_ms) +
               ": " + r.summary;
        if (r.status != "succeeded" && !r.output_tail.empty()) {
            for (const auto& l : util::split(util::trim(util::tail(r.output_tail, 400)), '\n')) {
                text += "\n    | " + l;
            }
        }
        break;
    }
    case RecordType::run_handed_over:
        text = "handed over " + hand_over_text(std::get<journal::RunHandedOver>(e.record));
        break;
    case RecordType::run_abandoned:
        text =
            "run " + id + " abandoned " + abandoned_text(std::get<journal::RunAbandoned>(e.record));
        break;
    case RecordType::note:
    case RecordType::header:
        text = std::string(journal::to_string(e.type()));
        break;
    case RecordType::unknown:
        text = std::get<journal::Unknown>(e.record).type;
        break;
    }
    std::string line = util::terminal_text(clock_now() + " " + text) + "\n";
    std::fputs(line.c_str(), m_out);
    std::fflush(m_out);
}

void ConsoleObserver::update_rows(const journal::Entry& e, std::string_view run_id) {
    using journal::RecordType;
    const std::string step(e.step());
    const std::string id(run_id);
    if (e.type() == RecordType::run_started) {
        const auto& r = std::get<journal::RunStarted>(e.record);
        m_header = "run " + r.run_id + ": " + r.playbook_name +
                   (r.trigger.reason.empty() ? "" : " — " + r.trigger.reason);
        for (const auto& s : r.steps) {
            Row row;
            row.id = s.id;
            row.is_finally = s.is_finally;
            m_rows.push_back(row);
        }
    } else if (e.type() == RecordType::run_resumed) {
        m_header = "run " + id + " (resumed by " + std::get<journal::RunResumed>(e.record).by + ")";
    } else if (Row* row = step.empty() ? nullptr : this->row(step)) {
        switch (e.type()) {
        case RecordType::step_started: {
            const auto attempt = std::get<journal::StepStarted>(e.record).attempt;
            row->state = "running";
            row->started = std::chrono::steady_clock::now();
            row->duration_ms = -1;
            row->detail = attempt == 1 ? "" : "attempt " + number_text(attempt);
            break;
        }
        case RecordType::step_finished: {
            const auto& r = std::get<journal::StepFinished>(e.record);
            row->state = r.status;
            row->duration_ms = r.duration_ms.value_or(-1);
            row->detail = r.summary;
            if (auto left = left_running(r); !left.empty()) {
                row->detail += "; left running: " + util::join(left, ", ");
            }
            break;
        }
        case RecordType::step_survivors:
            row->detail = describe_record(e);
            break;
        case RecordType::step_skipped:
            row->state = "skipped";
            row->detail = std::get<journal::StepSkipped>(e.record).why;
            break;
        case RecordType::step_progress:
            row->detail = "stage " + std::get<journal::StepProgress>(e.record).stage;
            break;
        case RecordType::step_marked_done:
            row->state = "marked_done";
            row->detail = "by " + std::get<journal::StepMarkedDone>(e.record).by;
            break;
        case RecordType::needs_attention:
            row->state = "needs_attention";
            break;
        default:
            break;
        }
    }
    switch (e.type()) {
    case RecordType::needs_attention:
        m_footer = "NEEDS ATTENTION: " + std::get<journal::NeedsAttention>(e.record).message;
        break;
    case RecordType::run_interrupted:
        m_footer = interrupted_text(std::get<journal::RunInterrupted>(e.record));
        break;
    case RecordType::run_stopped:
        m_footer =
            "STOPPED: " + std::get<journal::RunStopped>(e.record).why + "; running finally steps";
        break;
    case RecordType::run_handed_over:
        m_footer = "handed over " + hand_over_text(std::get<journal::RunHandedOver>(e.record));
        break;
    case RecordType::run_finished: {
        const auto& r = std::get<journal::RunFinished>(e.record);
        m_footer = "run " + r.state + (r.not_verified.empty() ? "" : ", NOT verified") + " in " +
                   ms_text(r.duration_ms.value_or(-1));
        break;
    }
    default:
        break;
    }
}

namespace {

// The terminal's size: columns (TIOCGWINSZ, else $COLUMNS, else 80) and rows (else $LINES,
// else 24).
std::pair<size_t, size_t> terminal_size(std::FILE* out) {
    winsize ws{};
    const bool known = ::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0;
    auto from_env = [](const char* name, size_t low, size_t fallback) {
        if (const char* c = std::getenv(name)) {
            const long n = std::strtol(c, nullptr, 10);
            if (n >= static_cast<long>(low) && n <= 10000) {
                return static_cast<size_t>(n);
            }
        }
        return fallback;
    };
    const size_t cols = known && ws.ws_col >= 20 ? ws.ws_col : from_env("COLUMNS", 20, 80);
    const size_t rows = known && ws.ws_row >= 5 ? ws.ws_row : from_env("LINES", 5, 24);
    return {cols, rows};
}

// The columns `text` takes: UTF-8 code points (controls were made visible text already).
size_t columns_of(std::string_view text) {
    size_t n = 0;
    for (unsigned char c : text) {
        n += (c & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

// `text` cut to `cols` columns at a code point boundary, "..." marking the cut.
std::string fit(const std::string& text, size_t cols) {
    if (columns_of(text) <= cols) {
        return text;
    }
    if (cols <= 3) {
        return std::string(cols, '.');
    }
    size_t keep = 0, used = 0;
    while (keep < text.size()) {
        size_t next = keep + 1;
        while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) {
            ++next;
        }
        if (used + 1 > cols - 3) {
            break;
        }
        ++used;
        keep = next;
    }
    return text.substr(0, keep) + "...";
}

} // namespace

void ConsoleObserver::redraw_locked() {
    // Every drawn line fits the terminal: a wrapped line would make the cursor-up of the next
    // redraw land short, repeating the header (seen on 80 columns). So does the drawing's
    // height: a cursor cannot go above the screen, so a list taller than it is drawn as a window
    // around the running step, with a line summing up the rest.
    const auto size = terminal_size(m_out);
    const size_t cols = size.first - 1;
    std::vector<std::string> lines;
    size_t rows = 0; // the terminal rows the lines take
    auto add = [&](const std::string& l) {
        lines.push_back("\033[2K" + l);
        ++rows;
    };
    // A text that must never be cut (an approval gate's deadline and answer command): one line
    // the terminal wraps (copied whole, joined by `tmux capture-pane -J`), its rows counted so
    // the next redraw's cursor-up still lands on the header; cleared below first.
    auto rows_of = [&](const std::string& text) {
        return std::max<size_t>(1, (columns_of(text) + cols) / (cols + 1));
    };
    auto add_whole = [&](const std::string& text) {
        lines.push_back("\033[J  " + text);
        rows += rows_of("  " + text);
    };
    // The id column gives way first: the state, time and some detail always show.
    constexpr size_t k_state = 19, k_time = 8, k_detail_min = 12;
    const size_t id_max = cols > 2 + 2 + k_state + 1 + k_time + 1 + k_detail_min + 4
                              ? cols - (2 + 2 + k_state + 1 + k_time + 1 + k_detail_min)
                              : 4;
    size_t w = 4;
    for (const auto& r : m_rows) {
        w = std::max(w, std::min(columns_of(r.id), id_max));
    }
    std::vector<std::string> table; // the step rows and the finally title, in order
    std::vector<const Row*> of_line;
    std::vector<std::string> whole; // what the rows cut and a person needs now
    bool finally_title = false;
    for (const auto& r : m_rows) {
        if (r.is_finally && !finally_title) {
            table.push_back("  finally:");
            of_line.push_back(nullptr);
            finally_title = true;
        }
        long long ms = r.duration_ms;
        if (r.state == "running") {
            ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - r.started)
                     .count();
        }
        std::string state = r.state;
        state.resize(std::max<size_t>(state.size(), k_state), ' ');
        std::string id = fit(r.id, w);
        id.resize(id.size() + (w - std::min(w, columns_of(id))), ' ');
        std::string time = ms_text(ms);
        time.resize(std::max<size_t>(time.size(), k_time), ' ');
        // Masked before it is cut: a cut must never leave part of a secret.
        const std::string shown = util::terminal_text(r.detail);
        std::string head = "  " + id;
        const size_t fixed = columns_of(head) + 2 + state.size() + 1 + time.size() + 1;
        std::string line;
        bool detail_cut = false;
        if (fixed >= cols) { // a very narrow terminal: the state first, then the id
            line = fit("  " + r.state + "  " + r.id, cols);
            detail_cut = !shown.empty();
        } else {
            std::string colored =
                m_color ? std::string("\033[") + state_color(r.state) + "m" + state + "\033[0m"
                        : state;
            // A running step's "what: DONE/TOTAL ..." progress is drawn as a bar.
            const auto bar =
                r.state == "running" ? progress_bar(shown, cols - fixed) : std::nullopt;
            const std::string detail = bar ? *bar : fit(shown, cols - fixed);
            line = head + "  " + colored + " " + time + " " + detail;
            detail_cut = !bar && detail != shown;
        }
        if (r.state == "running" && detail_cut &&
            shown.find("rollback approve ") != std::string::npos) {
            whole.push_back(r.id + ": " + shown); // the gate's deadline and its command
        }
        if (m_stop && (detail_cut || columns_of(r.id) > w)) {
            m_cut.push_back({r.id, columns_of(r.id) > w && !detail_cut
                                       ? r.state + (shown.empty() ? "" : ": " + shown)
                                       : shown});
        }
        table.push_back(line);
        of_line.push_back(&r);
    }
    add(fit(util::terminal_text(m_header), cols));
    size_t below = m_footer.empty() ? 0 : 1;
    for (const auto& text : whole) {
        below += rows_of("  " + text);
    }
    const size_t room = size.second > 1 + 1 + below ? size.second - 1 - 1 - below : 0;
    if (m_stop || table.size() <= room || room < 3) {
        for (const auto& l : table) {
            add(l);
        }
    } else {
        // The window: the running step (else the last one that moved) and its neighbours.
        size_t focus = 0;
        for (size_t i = 0; i < of_line.size(); ++i) {
            if (of_line[i] && of_line[i]->state != "pending") {
                focus = i;
                if (of_line[i]->state == "running") {
                    break;
                }
            }
        }
        const size_t shown_rows = room - 2; // a summary line above and below, when needed
        size_t first = focus > shown_rows / 2 ? focus - shown_rows / 2 : 0;
        first = std::min(first, table.size() - shown_rows);
        auto summary = [&](size_t from, size_t to, const char* where) {
            std::map<std::string, size_t> by_state;
            for (size_t i = from; i < to; ++i) {
                if (of_line[i]) {
                    ++by_state[of_line[i]->state];
                }
            }
            std::string text;
            size_t n = 0;
            for (const auto& [st, k] : by_state) {
                text += (text.empty() ? "" : ", ") + std::to_string(k) + " " + st;
                n += k;
            }
            add(fit("  ... " + std::to_string(n) + " step" + (n == 1 ? "" : "s") + " " + where +
                        (text.empty() ? "" : " (" + text + ")"),
                    cols));
        };
        summary(0, first, "above");
        for (size_t i = first; i < first + shown_rows; ++i) {
            add(table[i]);
        }
        summary(first + shown_rows, table.size(), "below");
    }
    for (const auto& text : whole) {
        add_whole(text);
    }
    if (!m_footer.empty()) {
        add(fit(util::terminal_text(m_footer), cols));
    }
    std::string out;
    if (m_drawn > 0) {
        out += "\033[" + std::to_string(m_drawn) + "F"; // to the start of the first drawn line
    }
    for (const auto& l : lines) {
        out += l + "\n";
    }
    if (m_drawn > rows) {
        out += "\033[J"; // a shorter drawing: what the last one left below goes
    }
    if (m_stop) {
        // The last drawing: what the table cut is printed whole below it, once (a kept
        // database's name, a reconciliation path), where wrapping does no harm.
        for (const auto& [id, text] : m_cut) {
            out += "  " + id + ": " + text + "\n";
        }
        m_cut.clear();
    }
    m_drawn = rows;
    std::string masked = util::mask_secrets(out);
    std::fputs(masked.c_str(), m_out);
    std::fflush(m_out);
}

} // namespace rollback::report
