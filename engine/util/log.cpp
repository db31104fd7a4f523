// SPDX-License-Identifier: MIT
#include "util/log.hpp"

#include <cstdio>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace rollback::log {
namespace {

std::shared_ptr<spdlog::logger> g_logger;

} // namespace

void init(const std::filesystem::path& file, bool verbose) {
    try {
        std::vector<spdlog::sink_ptr> sinks;
        std::filesystem::create_directories(file.parent_path());
        sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), false));
        if (verbose) {
            auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
            err->set_level(spdlog::level::debug);
            sinks.push_back(err);
        }
        g_logger = std::make_shared<spdlog::logger>("rollback", sinks.begin(), sinks.end());
        g_logger->set_level(spdlog::level::debug);
        g_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%P] %l: %v");
        g_logger->flush_on(spdlog::level::info);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rollback: warning: cannot open log %s: %s\n", file.c_str(), e.what());
        g_logger.reset();
    }
}

void shutdown() {
    if (g_logger) {
        g_logger->flush();
    }
    g_logger.reset();
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
