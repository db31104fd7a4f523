// SPDX-License-Identifier: MIT
#include "state/local_store.hpp"

#include "journal/paths.hpp"
#include "state/local_lock.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/file.h>
#include <unistd.h>

namespace rollback::state {

namespace fs = std::filesystem;

namespace {

/// Runs `write` (a write of a file in the state directory `dir`); a failure (disk full,
/// read-only, no permission) becomes util::Error exit 7 (state unwritable) with the hint every
/// command gives for it, never a raw temp-file error or an internal error (README, exit codes).
template <typename F>
auto writing(const fs::path& dir, const fs::path& file, F write) -> decltype(write()) {
    auto unwritable = [&](const std::string& error) {
        // The cause (the last part of the error: "No space left on device"), on the file meant,
        // not on the temporary file it was written to first.
        const auto colon = error.rfind(": ");
        const std::string why = colon == std::string::npos ? error : error.substr(colon + 2);
        return util::Error("the state directory cannot be written: cannot write " + file.string() +
                               ": " + why,
                           util::ExitCode::state_unwritable,
                           "nothing was done; make " + dir.string() +
                               " writable (free space, permissions, a read-write mount) or "
                               "choose another with --state-dir");
    };
    try {
        return write();
    } catch (const util::Error& e) {
        if (e.code() == util::ExitCode::state_unwritable) {
            throw;
        }
        throw unwritable(e.what());
    } catch (const fs::filesystem_error& e) {
        throw unwritable(e.code().message());
    }
}

} // namespace

std::string LocalStore::put_record(const decision::DecisionRecord& r) {
    return writing(dir_, dir_ / "decisions", [&] {
        const fs::path dir = dir_ / "decisions";
        fs::create_directories(dir);
        const fs::path p = dir / (decision::record_id(r) + ".json");
        util::write_file_atomic(p, decision::to_json(r) + "\n");
        return p.string();
    });
}

decision::DecisionRecord LocalStore::record(const std::string& id) const {
    const fs::path dir = dir_ / "decisions";
    const fs::path file = dir / (id + ".json");
    if (id.empty() || id.find('/') != std::string::npos || !fs::exists(file)) {
        throw util::Error("no decision record " + util::quoted(id) + " in " + dir.string(),
                          util::ExitCode::invalid);
    }
    return decision::from_json(util::read_file(file));
}

std::optional<std::string> LocalStore::newest_record_id() const {
    const fs::path dir = dir_ / "decisions";
    fs::path file;
    // Record ids start with the UTC time, so the greatest name is the newest record; an entry
    // that is no regular file (a dangling link, a FIFO) is no record, and a listing error ends
    // the look without failing it.
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        std::error_code fec;
        if (it->path().extension() == ".json" && it->path().filename() > file.filename() &&
            it->is_regular_file(fec)) {
            file = it->path();
        }
    }
    if (file.empty()) {
        return std::nullopt;
    }
    return file.stem().string();
}

std::vector<std::string> LocalStore::ticks_of_day(const std::string& day) const {
    std::vector<std::string> out;
    std::ifstream in(dir_ / "decisions" / ("ticks-" + day + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(std::move(line));
    }
    return out;
}

void LocalStore::append_tick(const decision::DecisionRecord& r, const std::string& written_id,
                             int keep_days) {
    const std::string day = util::format_time(r.time).substr(0, 10);
    const fs::path dir = dir_ / "decisions";
    const fs::path file = dir / ("ticks-" + day + ".jsonl");
    std::error_code ec;
    const bool new_day = !fs::exists(file, ec);
    fs::create_directories(dir, ec);
    if (!util::append_line(file, tick_line(r, written_id))) {
        log::warn("cannot append to {}", file.string());
        return;
    }
    if (!new_day) {
        return;
    }
    // A new day: drop tick files past their keep (names sort by day).
    const std::string oldest =
        "ticks-" + util::format_time(r.time - std::chrono::hours(24) * keep_days).substr(0, 10) +
        ".jsonl";
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("ticks-", 0) == 0 && name < oldest) {
            fs::remove(e.path(), ec);
        }
    }
}

fs::path LocalStore::approval_path(const std::string& decision_id) const {
    check_decision_id(decision_id);
    return dir_ / "approvals" / (decision_id + ".json");
}

void LocalStore::put_approval(const ApprovalRequest& a) {
    const fs::path p = approval_path(a.decision_id);
    writing(dir_, p, [&] {
        fs::create_directories(dir_ / "approvals");
        util::write_file_atomic(p, approval_json(a) + "\n");
    });
}

bool LocalStore::answer_pending_approval(const ApprovalRequest& next) {
    const fs::path p = approval_path(next.decision_id);
    fs::create_directories(dir_ / "approvals");
    // Read, compare and replace under an exclusive flock of approvals/.answer.lock, which every
    // answer takes: two answers cannot both see "pending".
    const fs::path lock_path = dir_ / "approvals" / ".answer.lock";
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw util::Error("cannot open " + lock_path.string() + ": " + std::strerror(errno),
                          util::ExitCode::state_unwritable);
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); } // also releases the flock
    } closer{fd};
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            throw util::Error("cannot lock " + lock_path.string() + ": " + std::strerror(errno),
                              util::ExitCode::state_unwritable);
        }
    }
    if (!fs::exists(p)) {
        return false;
    }
    const auto now = parse_approval(util::read_file(p), p.string());
    if (now.state != "pending" || !now.run_id.empty()) {
        return false;
    }
    util::write_file_atomic(p, approval_json(next) + "\n");
    return true;
}

std::optional<ApprovalRequest> LocalStore::approval(const std::string& decision_id) const {
    const fs::path p = approval_path(decision_id);
    if (!fs::exists(p)) {
        return std::nullopt;
    }
    return parse_approval(util::read_file(p), p.string());
}

std::vector<ApprovalRequest> LocalStore::approvals(std::vector<std::string>* skipped) const {
    std::vector<std::string> unreadable;
    std::vector<ApprovalRequest> out;
    // In name order: ids start with the time.
    for (const auto& f : util::read_directory_files(dir_ / "approvals", ".json", unreadable)) {
        try {
            out.push_back(parse_approval(f.text, f.path.string()));
        } catch (const util::Error& e) {
            unreadable.push_back(e.what());
        }
    }
    passed_over(unreadable, skipped);
    return out;
}

std::optional<decision::BaselineBook> LocalStore::baselines() const {
    const fs::path p = dir_ / "baselines.json";
    if (!fs::exists(p)) {
        return std::nullopt;
    }
    return decision::BaselineBook::from_json(util::read_file(p));
}

void LocalStore::put_baselines(const decision::BaselineBook& book) {
    writing(dir_, dir_ / "baselines.json",
            [&] { util::write_file_atomic(dir_ / "baselines.json", book.to_json() + "\n"); });
}

std::vector<ActiveAlert> LocalStore::active_alerts() const {
    const fs::path p = dir_ / "alerts.json";
    if (!fs::exists(p)) {
        return {};
    }
    return parse_active_alerts(util::read_file(p), p.string());
}

void LocalStore::put_active_alerts(const std::vector<ActiveAlert>& alerts) {
    writing(dir_, dir_ / "alerts.json", [&] {
        util::write_file_atomic(dir_ / "alerts.json", active_alerts_json(alerts) + "\n");
    });
}

std::string LocalStore::put_deploy_marker(const DeployMarker& m) {
    return writing(dir_, dir_ / "deploy.json", [&] {
        fs::create_directories(dir_);
        const std::string line = deploy_marker_json(m);
        const fs::path latest = dir_ / "deploy.json";
        util::write_file_atomic(latest, line + "\n");
        // The history of markers: "once per release" decisions and baselines look back at it.
        const fs::path history = dir_ / "deploys.jsonl";
        if (!util::append_line(history, line)) {
            throw util::Error("cannot append to " + history.string(), util::ExitCode::run_failed);
        }
        return latest.string();
    });
}

std::optional<DeployMarker> LocalStore::deploy_marker() const {
    const fs::path p = dir_ / "deploy.json";
    if (!fs::exists(p)) {
        return std::nullopt;
    }
    return parse_deploy_marker(util::read_file(p), p.string());
}

std::vector<DeployMarker> LocalStore::deploy_history(const std::string& target) const {
    const fs::path p = dir_ / "deploys.jsonl";
    if (!fs::exists(p)) {
        std::vector<DeployMarker> out;
        if (auto m = deploy_marker()) {
            out.push_back(std::move(*m));
        }
        return out;
    }
    return parse_deploy_history(util::read_file(p), p.string(), target);
}

std::string LocalStore::deploy_history_location() const {
    return (dir_ / "deploys.jsonl").string();
}

std::vector<BadRelease> LocalStore::bad_releases() const {
    const fs::path file = dir_ / "releases.json";
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        return {};
    }
    return parse_bad_releases(util::read_file(file), file.string());
}

void LocalStore::record_bad_release(const BadRelease& bad) {
    auto all = with_bad_release(bad_releases(), bad);
    writing(dir_, dir_ / "releases.json", [&] {
        fs::create_directories(dir_);
        util::write_file_atomic(dir_ / "releases.json", bad_releases_json(all) + "\n");
    });
}

namespace {

// The kernel ends the flock with its holder's process, so the lease has no expiry to renew.
class LocalLease final : public RunLease {
  public:
    explicit LocalLease(local::RunLock lock)
        : RunLease(lock.holder(), lock.generation()), m_lock(std::move(lock)) {}
    std::optional<util::SystemTime> expires_at() const override { return std::nullopt; }
    bool renew() override { return true; }
    void set_run_id(const std::string& run_id) override {
        m_lock.set_run_id(run_id);
        m_holder.run_id = run_id;
    }
    void set_reason(const std::string& reason) override {
        m_lock.set_reason(reason);
        m_holder.reason = reason;
    }
    void release() noexcept override { m_lock.release(); }
    void release_leaving(const Holder& dead) override { m_lock.release_leaving(dead); }

  private:
    local::RunLock m_lock;
};

} // namespace

std::vector<std::string> LocalStore::list_runs() const {
    return journal::list_runs(dir_);
}

std::optional<std::string> LocalStore::latest_run() const {
    return journal::latest_run(dir_);
}

std::optional<std::int64_t> LocalStore::runs_version() const {
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(journal::runs_dir(dir_), ec);
    if (ec) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(mtime.time_since_epoch().count());
}

std::optional<std::uint64_t> LocalStore::journal_version(const std::string& run_id) const {
    std::error_code ec;
    const auto size = std::filesystem::file_size(journal::journal_path(dir_, run_id), ec);
    if (ec) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(size);
}

std::optional<journal::Entry> LocalStore::last_record(const std::string& run_id) const {
    return journal::last_entry(journal::journal_path(dir_, run_id));
}

journal::Journal LocalStore::read_journal(const std::string& run_id,
                                          const journal::RecordSink* each) const {
    return journal::read(journal::journal_path(dir_, run_id), each);
}

// The lease is not checked per append here: the flock ends only with its holder's process, so
// a holder that lost the lock cannot append any more.
std::unique_ptr<journal::Appender>
LocalStore::create_journal(const std::string& run_id, const boost::json::object& header_fields,
                           const RunLease&) {
    return std::make_unique<journal::Writer>(
        journal::Writer::create(journal::journal_path(dir_, run_id), header_fields));
}

std::unique_ptr<journal::Appender> LocalStore::open_journal(const std::string& run_id,
                                                            const RunLease&,
                                                            std::vector<std::string>* warnings) {
    return std::make_unique<journal::Writer>(
        journal::Writer::open_existing(journal::journal_path(dir_, run_id), warnings));
}

std::unique_ptr<journal::Appender>
LocalStore::continue_journal(const std::string& run_id, const journal::Journal& as_read,
                             const RunLease& lease, std::vector<std::string>* warnings) {
    const fs::path file = journal::journal_path(dir_, run_id);
    if (as_read.file != file) {
        return open_journal(run_id, lease, warnings); // read elsewhere: nothing to go on
    }
    // The flock excludes every other writer, so the file is as it was read under it.
    return std::make_unique<journal::Writer>(
        journal::Writer::continue_from(file, as_read, warnings));
}

std::string LocalStore::journal_text(const std::string& run_id) const {
    const fs::path file = journal::journal_path(dir_, run_id);
    if (!fs::exists(file)) {
        throw util::Error("journal " + file.string() + " does not exist", util::ExitCode::invalid,
                          "run 'rollback history' to list the runs");
    }
    return util::read_file(file);
}

void LocalStore::import_journal(const std::string& run_id, const std::string& text,
                                const std::string& state_args) {
    const fs::path file = journal::journal_path(dir_, run_id);
    if (fs::exists(file)) {
        throw util::Error("journal " + file.string() + " exists already", util::ExitCode::invalid,
                          "a run is imported once; compare with: rollback state export " + run_id +
                              state_args);
    }
    try {
        fs::create_directories(file.parent_path());
        util::write_file_atomic(file, text);
    } catch (const util::Error& e) {
        throw util::Error(e.what(), util::ExitCode::state_unwritable);
    } catch (const std::exception& e) {
        throw util::Error("cannot write " + file.string() + ": " + e.what(),
                          util::ExitCode::state_unwritable);
    }
}

std::string LocalStore::journal_location(const std::string& run_id) const {
    return journal::journal_path(dir_, run_id).string();
}

fs::path LocalStore::artifacts_dir(const std::string& run_id) const {
    return journal::run_dir(dir_, run_id);
}

namespace {

fs::path gate_file(const fs::path& dir, const std::string& run_id, const std::string& name) {
    return journal::run_dir(dir, run_id) / "gates" / (name + ".json");
}

/// Creates `file` with `content` only if it does not exist: the content is written to a
/// temporary file, then hard-linked into place (link(2) fails with EEXIST when another writer
/// won), so a reader never sees a partial document.
bool create_once(const fs::path& file, const std::string& content) {
    fs::create_directories(file.parent_path());
    const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
    util::write_file_atomic(tmp, content);
    const int rc = ::link(tmp.c_str(), file.c_str());
    const int err = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    if (rc == 0) {
        return true;
    }
    if (err == EEXIST) {
        return false;
    }
    throw util::Error("cannot write " + file.string() + ": " + std::strerror(err),
                      util::ExitCode::state_unwritable);
}

} // namespace

std::optional<std::string> LocalStore::gate_document(const std::string& run_id,
                                                     const std::string& name) const {
    const fs::path f = gate_file(dir_, run_id, name);
    if (!fs::exists(f)) {
        return std::nullopt;
    }
    return util::read_file(f);
}

bool LocalStore::create_gate_document(const std::string& run_id, const std::string& name,
                                      const std::string& doc) {
    return create_once(gate_file(dir_, run_id, name), doc + "\n");
}

void LocalStore::rename_gate_document(const std::string& run_id, const std::string& from,
                                      const std::string& to) {
    const fs::path f = gate_file(dir_, run_id, from);
    if (fs::exists(f)) {
        fs::rename(f, gate_file(dir_, run_id, to));
    }
}

std::vector<std::string> LocalStore::gate_documents(const std::string& run_id) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(journal::run_dir(dir_, run_id) / "gates", ec)) {
        if (e.path().extension() == ".json") {
            out.push_back(e.path().stem().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string LocalStore::gate_location(const std::string& run_id, const std::string& name) const {
    return gate_file(dir_, run_id, name).string();
}

std::optional<std::string> LocalStore::policy_memory_document() const {
    const fs::path f = dir_ / "monitor-policy.json";
    std::error_code ec;
    if (!fs::exists(f, ec)) {
        return std::nullopt;
    }
    return util::read_file(f);
}

void LocalStore::put_policy_memory_document(const std::string& doc) {
    writing(dir_, dir_ / "monitor-policy.json",
            [&] { util::write_file_atomic(dir_ / "monitor-policy.json", doc + "\n"); });
}

std::string LocalStore::policy_memory_location() const {
    return (dir_ / "monitor-policy.json").string();
}

LeaseAttempt LocalStore::acquire_lease(const Holder& owner) {
    auto attempt = local::acquire(dir_, owner);
    LeaseAttempt out;
    if (attempt.lock) {
        out.lease = std::make_unique<LocalLease>(std::move(*attempt.lock));
    }
    out.holder = std::move(attempt.holder);
    out.stale = std::move(attempt.stale);
    return out;
}

std::optional<Holder> LocalStore::lease_holder() const {
    return local::live_holder(dir_);
}

std::optional<Holder> LocalStore::dead_holder() const {
    return local::stale_holder(dir_);
}

} // namespace rollback::state
