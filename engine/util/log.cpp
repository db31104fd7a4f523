// SPDX-License-Identifier: MIT
#include "util/log.hpp"

#include "util/files.hpp"

#include <cstdio>
#include <cstdlib>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::log {
namespace {

constexpr const char* k_journal_socket = "/run/systemd/journal/socket";
std::shared_ptr<spdlog::logger> g_logger;
std::string_view g_target = "none";

/// systemd.exec(5): $JOURNAL_STREAM is "DEVICE:INODE" of the stream connected to the journal;
/// it counts only when stderr is that stream (a child that redirected stderr is not logging there).
bool stderr_is_journal() {
    const char* js = std::getenv("JOURNAL_STREAM");
    if (js == nullptr) {
        return false;
    }
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) {
        return false;
    }
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

/// The journal's native socket (sd_journal_send's): when journald is not there, messages sent
/// to it would be lost without a word; the file keeps them.
bool journal_reachable() {
    std::error_code ec;
    return std::filesystem::exists(k_journal_socket, ec);
}

bool to_journal(const std::filesystem::path& file) {
    const char* forced = std::getenv("ROLLBACK_LOG");
    const std::string_view value = forced == nullptr ? std::string_view() : forced;
    if (value == "journal") {
        if (journal_reachable()) {
            return true;
        }
        std::fprintf(stderr,
                     "rollback: warning: ROLLBACK_LOG=journal but the journal is not reachable "
                     "(no %s): logging to %s\n",
                     k_journal_socket, file.c_str());
        return false;
    }
    if (value == "file") {
        return false;
    }
    if (forced != nullptr) {
        std::fprintf(stderr,
                     "rollback: warning: ROLLBACK_LOG=%s is neither \"journal\" nor \"file\": "
                     "ignored\n",
                     forced);
    }
    return stderr_is_journal() && journal_reachable();
}

} // namespace

void init(const std::filesystem::path& file, const LogOptions& options) {
    try {
        std::vector<spdlog::sink_ptr> sinks;
        if (to_journal(file)) {
            sinks.push_back(std::make_shared<spdlog::sinks::systemd_sink_mt>("rollback"));
            g_target = "journal";
        } else {
            std::filesystem::create_directories(file.parent_path());
            // spdlog opens the file with fopen(3) "ab" (no close-on-exec), at start and after
            // each rotation.
            spdlog::file_event_handlers events;
            events.after_open = [](const spdlog::filename_t&, std::FILE* f) {
                util::close_on_exec(::fileno(f));
            };
            sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                file.string(), options.max_bytes, options.max_files, false, events));
            if (options.verbose) {
                auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
                err->set_level(spdlog::level::debug);
                sinks.push_back(err);
            }
            g_target = "file";
        }
        g_logger = std::make_shared<spdlog::logger>("rollback", sinks.begin(), sinks.end());
        g_logger->set_level(spdlog::level::debug);
        g_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%P] %l: %v");
        g_logger->flush_on(spdlog::level::info);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rollback: warning: cannot open log %s: %s\n", file.c_str(), e.what());
        g_logger.reset();
        g_target = "none";
    }
}

std::string_view target() {
    return g_target;
}

void shutdown() {
    if (g_logger) {
        g_logger->flush();
    }
    g_logger.reset();
    g_target = "none";
}

void write(Level level, const std::string& message) {
    if (!g_logger) {
        return;
    }
    std::string masked = rollback::util::mask_secrets(message);
    switch (level) {
    case Level::debug:
        g_logger->debug("{}", masked);
        break;
    case Level::info:
        g_logger->info("{}", masked);
        break;
    case Level::warn:
        g_logger->warn("{}", masked);
        break;
    case Level::error:
        g_logger->error("{}", masked);
        break;
    }
}

} // namespace rollback::log
