// SPDX-License-Identifier: MIT
#include "journal/paths.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>

namespace rollback::journal {
namespace {

constexpr std::string_view k_journal_ext = ".jsonl";

void require_valid(std::string_view run_id) {
    if (!is_valid_run_id(run_id)) {
        throw util::Error("invalid run id " + util::quoted(run_id) +
                              " (expected YYYYMMDDTHHMMSSZ-xxxxxx, e.g. 20261126T143500Z-3fa9c1)",
                          util::ExitCode::invalid, "run 'rollback history' to list the runs");
    }
}

} // namespace

std::string new_run_id(util::SystemTime now) {
    std::time_t secs = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    // random_device reads the kernel's entropy: two runs started in the same second (or two
    // processes racing for the lock) still get different ids.
    std::random_device rd;
    unsigned suffix = rd() & 0xffffffu;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-%06x", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, suffix);
    return buf;
}

bool is_valid_run_id(std::string_view id) {
    // YYYYMMDDTHHMMSSZ-xxxxxx: 8 digits, T, 6 digits, Z, '-', 6 hex.
    if (id.size() != 23) {
        return false;
    }
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    auto hex = [&](char c) { return digit(c) || (c >= 'a' && c <= 'f'); };
    for (size_t i = 0; i < 23; ++i) {
        char c = id[i];
        bool good = i < 8     ? digit(c)
                    : i == 8  ? c == 'T'
                    : i < 15  ? digit(c)
                    : i == 15 ? c == 'Z'
                    : i == 16 ? c == '-'
                              : hex(c);
        if (!good) {
            return false;
        }
    }
    return true;
}

fs::path runs_dir(const fs::path& state_dir) {
    return state_dir / "runs";
}

fs::path journal_path(const fs::path& state_dir, std::string_view run_id) {
    require_valid(run_id);
    return runs_dir(state_dir) / (std::string(run_id) + std::string(k_journal_ext));
}

fs::path run_dir(const fs::path& state_dir, std::string_view run_id) {
    require_valid(run_id);
    return runs_dir(state_dir) / std::string(run_id);
}

std::vector<std::string> list_runs(const fs::path& state_dir) {
    struct Found {
        std::string id;
        fs::file_time_type modified;
    };
    std::vector<Found> found;
    std::error_code ec;
    fs::directory_iterator it(runs_dir(state_dir), ec);
    if (ec) {
        return {};
    }
    for (const auto& entry : it) {
        const fs::path& p = entry.path();
        if (p.extension() == k_journal_ext && is_valid_run_id(p.stem().string()) &&
            entry.is_regular_file(ec)) {
            found.push_back({p.stem().string(), entry.last_write_time(ec)});
        }
    }
    // Ids start with the UTC start second, so string order is time order; runs started in the
    // same second are ordered by their journal's last write (the random suffix says nothing).
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
        int by_second = a.id.compare(0, 16, b.id, 0, 16);
        return by_second != 0 ? by_second > 0 : a.modified > b.modified;
    });
    std::vector<std::string> ids;
    for (auto& f : found) {
        ids.push_back(std::move(f.id));
    }
    return ids;
}

std::optional<std::string> latest_run(const fs::path& state_dir) {
    // One pass over the names, without a stat for each (the monitor asks this of a directory
    // that may hold years of runs): only runs started in the newest second are told apart by
    // their journal's last write, as list_runs orders them.
    std::error_code ec;
    fs::directory_iterator it(runs_dir(state_dir), ec);
    if (ec) {
        return std::nullopt;
    }
    std::vector<std::string> newest; // ids of the newest start second
    for (const auto& entry : it) {
        const fs::path& p = entry.path();
        if (p.extension() != k_journal_ext) {
            continue;
        }
        std::string id = p.stem().string();
        if (!is_valid_run_id(id)) {
            continue;
        }
        const int by_second = newest.empty() ? 1 : id.compare(0, 16, newest.front(), 0, 16);
        if (by_second < 0 || !entry.is_regular_file(ec)) {
            continue;
        }
        if (by_second > 0) {
            newest.clear();
        }
        newest.push_back(std::move(id));
    }
    if (newest.empty()) {
        return std::nullopt;
    }
    std::string best;
    fs::file_time_type best_time;
    for (auto& id : newest) {
        const auto t = fs::last_write_time(journal_path(state_dir, id), ec);
        if (best.empty() || (!ec && t > best_time)) {
            best = std::move(id);
            best_time = ec ? fs::file_time_type() : t;
        }
    }
    return best;
}

} // namespace rollback::journal
