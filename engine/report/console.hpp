// SPDX-License-Identifier: MIT
#pragma once

#include "report/observer.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rollback::report {

enum class ConsoleMode {
    live,  ///< a terminal: a live step list with status and elapsed time
    plain, ///< piped: one plain line per event
    json,  ///< one JSON object per event (JSON Lines)
};

/// The mode for `out`: json when asked, live on a terminal (unless TERM=dumb), else plain.
ConsoleMode choose_mode(std::FILE* out, bool json);

/// Shows a run on the user's terminal (or pipe). All text passes through mask_secrets.
class ConsoleObserver final : public Observer {
  public:
    ConsoleObserver(std::FILE* out, ConsoleMode mode, bool verbose);
    ~ConsoleObserver() override;
    ConsoleObserver(const ConsoleObserver&) = delete;
    ConsoleObserver& operator=(const ConsoleObserver&) = delete;

    void on_record(const journal::Entry& record, std::string_view run_id) override;
    void on_progress(std::string_view step, std::string_view line) override;
    void on_host_progress(std::string_view step, std::string_view host,
                          std::string_view line) override;

  private:
    struct Row {
        std::string id;
        std::string state = "pending";
        std::string detail;
        bool is_finally = false;
        std::chrono::steady_clock::time_point started{};
        long long duration_ms = -1;
    };
    void plain_line(const journal::Entry& e, std::string_view run_id);
    void update_rows(const journal::Entry& e, std::string_view run_id);
    void redraw_locked();
    Row* row(std::string_view id);

    std::FILE* m_out;
    ConsoleMode m_mode;
    bool m_verbose;
    bool m_color;
    std::mutex m_mutex;
    std::vector<Row> m_rows;
    std::string m_header;
    std::string m_footer;
    size_t m_drawn = 0;
    std::vector<std::pair<std::string, std::string>> m_cut; ///< final drawing: details cut short
    bool m_stop = false;
    std::thread m_ticker;
};

} // namespace rollback::report
