// SPDX-License-Identifier: MIT
#include "journal/step_line.hpp"

#include "journal/flat_line.hpp"
#include "journal/line.hpp"

#include <algorithm>
#include <cstring>

namespace rollback::journal {
namespace {

/// Walks a line of the writer's layout; every step consumes what it expects or fails.
class Cursor {
  public:
    explicit Cursor(std::string_view s) : m_s(s) {}

    bool literal(std::string_view l) {
        if (m_s.substr(m_at, l.size()) != l) {
            return false;
        }
        m_at += l.size();
        return true;
    }

    /// A string's characters up to its closing quote, past it (the line has no backslash).
    bool text(std::string_view& out) {
        const void* q = std::memchr(m_s.data() + m_at, '"', m_s.size() - m_at);
        if (q == nullptr) {
            return false;
        }
        const auto end = static_cast<std::size_t>(static_cast<const char*>(q) - m_s.data());
        out = m_s.substr(m_at, end - m_at);
        m_at = end + 1;
        return true;
    }

    /// An integer as FlatLine reads one: at most 18 digits, no leading zero, no "-0".
    bool integer(std::int64_t& out) {
        const bool negative = m_at < m_s.size() && m_s[m_at] == '-';
        const std::size_t begin = m_at + (negative ? 1 : 0);
        std::size_t end = begin;
        while (end < m_s.size() && m_s[end] >= '0' && m_s[end] <= '9' && end - begin <= 18) {
            ++end;
        }
        const std::size_t digits = end - begin;
        if (digits == 0 || digits > 18 || (m_s[begin] == '0' && (digits > 1 || negative))) {
            return false;
        }
        // Summed only once known to be at most 18 digits: more could overflow.
        std::int64_t n = 0;
        for (std::size_t i = begin; i < end; ++i) {
            n = n * 10 + (m_s[i] - '0');
        }
        out = negative ? -n : n;
        m_at = end;
        return true;
    }

    void skip(std::size_t n) { m_at += n; }
    std::size_t at() const { return m_at; }

  private:
    std::string_view m_s;
    std::size_t m_at = 0;
};

/// `,"prev":"<prev>","hash":"<64 characters without a quote>"}` and the end of the line.
bool tail(Cursor& c, std::string_view line, std::string_view& prev) {
    if (!c.literal(",\"prev\":\"") || !c.text(prev) ||
        line.size() - c.at() != line::k_hash_suffix_size || !c.literal(line::k_hash_key)) {
        return false;
    }
    if (std::memchr(line.data() + c.at(), '"', 64) != nullptr) {
        return false; // the value would end early: not this layout
    }
    c.skip(64);
    return c.literal("\"}");
}

bool step_started(Cursor& c, std::string_view line, StepLine& out) {
    std::string_view step;
    std::int64_t attempt = 0;
    if (!c.text(step) || !c.literal(",\"attempt\":") || !c.integer(attempt) ||
        !tail(c, line, out.prev)) {
        return false;
    }
    out.entry.record = StepStarted{std::string(step), static_cast<int>(attempt)};
    return true;
}

bool step_finished(Cursor& c, std::string_view line, StepLine& out) {
    std::string_view step, status, summary, output_tail;
    std::int64_t attempt = 0, exit_code = 0, duration_ms = 0;
    if (!c.text(step) || !c.literal(",\"attempt\":") || !c.integer(attempt) ||
        !c.literal(",\"status\":\"") || !c.text(status)) {
        return false;
    }
    const bool has_exit_code = c.literal(",\"exit_code\":");
    if (has_exit_code && !c.integer(exit_code)) {
        return false;
    }
    const bool has_duration = c.literal(",\"duration_ms\":");
    if (has_duration && !c.integer(duration_ms)) {
        return false;
    }
    if (!c.literal(",\"summary\":\"") || !c.text(summary) || !c.literal(",\"output_tail\":\"") ||
        !c.text(output_tail) || !c.literal(",\"details\":{}") || !tail(c, line, out.prev)) {
        return false;
    }
    StepFinished r;
    r.step = step;
    r.attempt = static_cast<int>(attempt);
    r.status = status;
    if (has_exit_code) {
        r.exit_code = static_cast<int>(exit_code);
    }
    if (has_duration) {
        r.duration_ms = duration_ms;
    }
    r.summary = summary;
    r.output_tail = output_tail;
    out.entry.record = std::move(r);
    return true;
}

bool boolean(Cursor& c, bool& out) {
    out = c.literal("true");
    return out || c.literal("false");
}

} // namespace

bool read_planned_steps(std::string_view array, std::vector<PlannedStep>& out) {
    if (has_special_bytes(array)) {
        return false;
    }
    Cursor c(array);
    if (!c.literal("[")) {
        return false;
    }
    if (c.literal("]")) {
        return c.at() == array.size();
    }
    out.reserve(out.size() + static_cast<std::size_t>(std::count(array.begin(), array.end(), '{')));
    do {
        std::string_view id, phase, action;
        PlannedStep p;
        if (!c.literal("{\"id\":\"") || !c.text(id) || !c.literal(",\"phase\":\"") ||
            !c.text(phase) || !c.literal(",\"action\":\"") || !c.text(action) ||
            !c.literal(",\"idempotent\":") || !boolean(c, p.idempotent) ||
            !c.literal(",\"has_probe\":") || !boolean(c, p.has_probe) ||
            !c.literal(",\"finally\":") || !boolean(c, p.is_finally) || !c.literal("}")) {
            return false;
        }
        p.id = id;
        p.phase = phase;
        p.action = action;
        out.push_back(std::move(p));
    } while (c.literal(","));
    return c.literal("]") && c.at() == array.size();
}

bool read_step_line(std::string_view line, StepLine& out) {
    if (has_special_bytes(line)) {
        return false; // an escape, a control or a byte above 0x7F: FlatLine's
    }
    Cursor c(line);
    std::int64_t seq = 0;
    std::string_view time;
    if (!c.literal("{\"seq\":") || !c.integer(seq) || !c.literal(",\"time\":\"") || !c.text(time) ||
        !c.literal(",\"type\":\"step_")) {
        return false;
    }
    out.entry.seq = seq;
    out.entry.time = time;
    if (c.literal("started\",\"step\":\"")) {
        return step_started(c, line, out);
    }
    if (c.literal("finished\",\"step\":\"")) {
        return step_finished(c, line, out);
    }
    return false;
}

} // namespace rollback::journal
