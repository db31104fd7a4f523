// SPDX-License-Identifier: MIT
#include "report/console.hpp"

#include "report/progress_bar.hpp"

#include "report/run_report.hpp"
#include "util/duration.hpp"
#include "util/encode.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

namespace rollback::report {
namespace {

std::string str(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return {};
    }
    if (v->is_string()) {
        return std::string(v->as_string());
    }
    if (v->is_int64()) {
        return std::to_string(v->as_int64());
    }
    if (v->is_uint64()) {
        return std::to_string(v->as_uint64());
    }
    return {};
}

long long num(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    if (v != nullptr && v->is_int64()) {
        return v->as_int64();
    }
    if (v != nullptr && v->is_uint64()) {
        return static_cast<long long>(v->as_uint64());
    }
    return -1;
}

/// "pid 4242 (python3 -m http.server)" for each process a step_finished record left running.
std::vector<std::string> left_running(const boost::json::object& r) {
    std::vector<std::string> out;
    const auto* v = r.if_contains("left_running");
    if (v != nullptr && v->is_array()) {
        for (const auto& e : v->as_array()) {
            if (e.is_object()) {
                const auto* gone = e.as_object().if_contains("left_group");
                out.push_back("pid " + str(e.as_object(), "pid") + " (" +
                              str(e.as_object(), "command") + ")" +
                              (gone != nullptr && gone->is_bool() && gone->as_bool()
                                   ? " [left the group]"
                                   : ""));
            }
        }
    }
    return out;
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

void ConsoleObserver::on_record(const boost::json::object& record) {
    std::lock_guard lock(m_mutex);
    switch (m_mode) {
    case ConsoleMode::json: {
        std::string line = util::mask_secrets(boost::json::serialize(record)) + "\n";
        std::fputs(line.c_str(), m_out);
        std::fflush(m_out);
        break;
    }
    case ConsoleMode::plain:
        plain_line(record);
        break;
    case ConsoleMode::live:
        update_rows(record);
        redraw_locked();
        break;
    }
}

void ConsoleObserver::on_progress(std::string_view step, std::string_view line) {
    std::lock_guard lock(m_mutex);
    std::string text = util::mask_secrets(line);
    switch (m_mode) {
    case ConsoleMode::json: {
        boost::json::object o{{"type", "progress"}, {"step", step}, {"line", text}};
        std::fputs((boost::json::serialize(o) + "\n").c_str(), m_out);
        break;
    }
    case ConsoleMode::plain:
        std::fprintf(m_out, "%s [%.*s] %s\n", clock_now().c_str(), static_cast<int>(step.size()),
                     step.data(), util::visible_controls(text).c_str());
        break;
    case ConsoleMode::live:
        if (Row* r = row(step)) {
            r->detail = text;
        }
        redraw_locked();
        break;
    }
    std::fflush(m_out);
}

void ConsoleObserver::plain_line(const boost::json::object& r) {
    const std::string type = str(r, "type");
    const std::string step = str(r, "step");
    std::string text;
    if (type == "step_process") {
        return; // one per child: in the journal and the report, too fine for the live view
    }
    if (type == "run_started") {
        text = "run " + str(r, "run_id") + " started: " + str(r, "playbook_name") +
               (str(r, "reason").empty() ? "" : ", reason: " + str(r, "reason"));
    } else if (type == "run_resumed") {
        text = "run " + str(r, "run_id") + " resumed by " + str(r, "by");
    } else if (type == "step_started") {
        text = "[" + step + "] started (attempt " + str(r, "attempt") + ")";
    } else if (type == "step_finished") {
        text = "[" + step + "] " + str(r, "status") + " in " + ms_text(num(r, "duration_ms")) +
               ": " + str(r, "summary");
        for (const auto& p : left_running(r)) {
            text += "\n    left running: " + p;
        }
        std::string tail = str(r, "output_tail");
        if (str(r, "status") != "succeeded" && !tail.empty()) {
            for (const auto& l : util::split(util::trim(util::tail(tail, 800)), '\n')) {
                text += "\n    | " + l;
            }
        }
    } else if (type == "step_skipped") {
        text = "[" + step + "] skipped: " + str(r, "why");
    } else if (type == "step_probe") {
        text = "[" + step + "] probe: " + str(r, "verdict") +
               (str(r, "by") == "action" ? ": " + str(r, "state")
                                         : " (exit " + str(r, "exit_code") + ")");
    } else if (type == "step_progress") {
        text = "[" + step + "] stage " + str(r, "stage");
    } else if (type == "step_marked_done") {
        text = "[" + step + "] marked done by " + str(r, "by") +
               (str(r, "why").empty() ? "" : ": " + str(r, "why"));
    } else if (type == "step_retry_requested") {
        text = "[" + step + "] retry requested by " + str(r, "by");
    } else if (type == "step_survivors") {
        text = "[" + step + "] " + describe_record(r);
    } else if (type == "hook") {
        text = "hook " + str(r, "hook") + " (" + str(r, "event") +
               (step.empty() ? "" : " " + step) + "): " + str(r, "status") +
               (str(r, "status") == "succeeded"
                    ? ""
                    : ": " + (str(r, "reason").empty() ? str(r, "summary") : str(r, "reason")));
    } else if (type == "needs_attention") {
        text = "NEEDS ATTENTION: " + str(r, "message");
    } else if (type == "run_interrupted") {
        text = "interrupted by " + str(r, "signal") + "; running finally steps";
    } else if (type == "run_stopped") {
        text = "STOPPED: " + str(r, "why") + "; running finally steps";
    } else if (type == "run_finished") {
        text = "run " + str(r, "run_id") + " " + str(r, "state") + " in " +
               ms_text(num(r, "duration_ms")) + " (exit " + str(r, "exit_code") + ")";
    } else {
        text = type;
    }
    std::string line = util::terminal_text(clock_now() + " " + text) + "\n";
    std::fputs(line.c_str(), m_out);
    std::fflush(m_out);
}

void ConsoleObserver::update_rows(const boost::json::object& r) {
    const std::string type = str(r, "type");
    const std::string step = str(r, "step");
    if (type == "run_started") {
        m_header = "run " + str(r, "run_id") + ": " + str(r, "playbook_name") +
                   (str(r, "reason").empty() ? "" : " — " + str(r, "reason"));
        if (const auto* steps = r.if_contains("steps"); steps && steps->is_array()) {
            for (const auto& s : steps->as_array()) {
                if (s.is_object()) {
                    Row row;
                    row.id = str(s.as_object(), "id");
                    const auto* f = s.as_object().if_contains("finally");
                    row.is_finally = f && f->is_bool() && f->as_bool();
                    m_rows.push_back(row);
                }
            }
        }
    } else if (type == "run_resumed") {
        m_header = "run " + str(r, "run_id") + " (resumed by " + str(r, "by") + ")";
    } else if (Row* row = step.empty() ? nullptr : this->row(step)) {
        if (type == "step_started") {
            row->state = "running";
            row->started = std::chrono::steady_clock::now();
            row->duration_ms = -1;
            row->detail = str(r, "attempt") == "1" ? "" : "attempt " + str(r, "attempt");
        } else if (type == "step_finished") {
            row->state = str(r, "status");
            row->duration_ms = num(r, "duration_ms");
            row->detail = str(r, "summary");
            if (auto left = left_running(r); !left.empty()) {
                row->detail += "; left running: " + util::join(left, ", ");
            }
        } else if (type == "step_survivors") {
            row->detail = describe_record(r);
        } else if (type == "step_skipped") {
            row->state = "skipped";
            row->detail = str(r, "why");
        } else if (type == "step_progress") {
            row->detail = "stage " + str(r, "stage");
        } else if (type == "step_marked_done") {
            row->state = "marked_done";
            row->detail = "by " + str(r, "by");
        } else if (type == "needs_attention") {
            row->state = "needs_attention";
        }
    }
    if (type == "needs_attention") {
        m_footer = "NEEDS ATTENTION: " + str(r, "message");
    } else if (type == "run_interrupted") {
        m_footer = "interrupted by " + str(r, "signal") + "; running finally steps";
    } else if (type == "run_stopped") {
        m_footer = "STOPPED: " + str(r, "why") + "; running finally steps";
    } else if (type == "run_finished") {
        m_footer = "run " + str(r, "state") + " in " + ms_text(num(r, "duration_ms"));
    }
}

namespace {

// The terminal's width in columns (TIOCGWINSZ, else $COLUMNS, else 80).
size_t terminal_columns(std::FILE* out) {
    winsize ws{};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) {
        return ws.ws_col;
    }
    if (const char* c = std::getenv("COLUMNS")) {
        const long n = std::strtol(c, nullptr, 10);
        if (n >= 20 && n <= 10000) {
            return static_cast<size_t>(n);
        }
    }
    return 80;
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
    // redraw land short, repeating the header (seen on 80 columns).
    const size_t cols = terminal_columns(m_out) - 1;
    std::string out;
    if (m_drawn > 0) {
        out += "\033[" + std::to_string(m_drawn) + "F"; // to the start of the first drawn line
    }
    size_t lines = 0;
    auto add = [&](const std::string& l) {
        out += "\033[2K" + l + "\n";
        ++lines;
    };
    add(fit(util::terminal_text(m_header), cols));
    size_t w = 4;
    for (const auto& r : m_rows) {
        w = std::max(w, r.id.size());
    }
    bool finally_title = false;
    for (const auto& r : m_rows) {
        if (r.is_finally && !finally_title) {
            add("  finally:");
            finally_title = true;
        }
        long long ms = r.duration_ms;
        if (r.state == "running") {
            ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - r.started)
                     .count();
        }
        std::string state = r.state;
        state.resize(std::max<size_t>(state.size(), 19), ' ');
        std::string id = r.id;
        id.resize(w, ' ');
        std::string time = ms_text(ms);
        time.resize(std::max<size_t>(time.size(), 8), ' ');
        // Masked before it is cut: a cut must never leave part of a secret.
        const std::string shown = util::terminal_text(r.detail);
        std::string head = fit("  " + id, cols);
        const size_t fixed = columns_of(head) + 2 + state.size() + 1 + time.size() + 1;
        std::string line;
        if (fixed >= cols) { // a very narrow terminal: the id and the state, cut
            line = fit("  " + id + "  " + r.state, cols);
        } else {
            std::string colored =
                m_color ? std::string("\033[") + state_color(r.state) + "m" + state + "\033[0m"
                        : state;
            // A running step's "what: DONE/TOTAL ..." progress is drawn as a bar.
            const auto bar =
                r.state == "running" ? progress_bar(shown, cols - fixed) : std::nullopt;
            const std::string detail = bar ? *bar : fit(shown, cols - fixed);
            line = head + "  " + colored + " " + time + " " + detail;
            if (!bar && detail != shown && m_stop) {
                m_cut.push_back({r.id, shown});
            }
        }
        add(line);
    }
    if (!m_footer.empty()) {
        add(fit(util::terminal_text(m_footer), cols));
    }
    if (m_stop) {
        // The last drawing: what the table cut is printed whole below it, once (a kept
        // database's name, a reconciliation path), where wrapping does no harm.
        for (const auto& [id, text] : m_cut) {
            out += "  " + id + ": " + text + "\n";
        }
        m_cut.clear();
    }
    m_drawn = lines;
    std::string masked = util::mask_secrets(out);
    std::fputs(masked.c_str(), m_out);
    std::fflush(m_out);
}

} // namespace rollback::report
