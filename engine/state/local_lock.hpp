// SPDX-License-Identifier: MIT
#pragma once

// LocalStore's run lock (state::RunLocks), one run at a time per state directory.
// `<state_dir>/lock` is flock()ed (LOCK_EX|LOCK_NB) on an fd kept open for the whole run: the
// kernel releases it when the holder dies, so a dead holder never blocks anyone.
// `<state_dir>/lock.json` (written atomically by the holder) says who holds it; when the flock is
// free but lock.json is still there, its run died without finishing.

#include "state/store.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace rollback::state::local {

namespace fs = std::filesystem;

struct LockAttempt;

/// A held lock (RAII). Releasing removes lock.json, then unlocks. Movable.
class RunLock {
  public:
    RunLock(RunLock&& other) noexcept;
    RunLock& operator=(RunLock&& other) noexcept;
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;
    ~RunLock();

    const Holder& holder() const { return m_holder; }
    /// This acquisition's number, counted in the `lock` file (1, 2, ...; see RunLease).
    std::uint64_t generation() const { return m_generation; }
    /// Rewrites lock.json with another run id (e.g. once the run id is known, or on resume).
    void set_run_id(const std::string& run_id);
    /// Rewrites lock.json with another reason.
    void set_reason(const std::string& reason);
    /// Releases now (idempotent). Never throws.
    void release() noexcept;
    /// Releases, leaving `dead`'s lock.json in place (rewritten while the flock is still held, so
    /// no other starter sees the lock free without the evidence): for a starter that refuses to
    /// start over a run that died unfinished. Throws util::Error (exit 7) when it cannot write.
    void release_leaving(const Holder& dead);

  private:
    friend LockAttempt acquire(const fs::path& state_dir, const Holder& owner);
    RunLock(fs::path state_dir, int fd, Holder holder, std::uint64_t generation);
    fs::path m_state_dir;
    int m_fd = -1;
    Holder m_holder;
    std::uint64_t m_generation = 0;
};

/// The result of acquire(): either `lock` is set (we hold it), or `holder` names who does.
struct LockAttempt {
    std::optional<RunLock> lock;
    /// When not acquired: the live holder. Its fields may be empty when it did not publish
    /// lock.json within ~2 s (then `holder->pid == 0`).
    std::optional<Holder> holder;
    /// When acquired: the previous holder whose lock.json was left behind, i.e. a run that died
    /// without finishing (offer `rollback resume <run_id>`). Never discarded silently.
    std::optional<Holder> stale;
};

/// Tries to take the lock of `state_dir` (created if missing) for `owner` without blocking on
/// the holder. Throws util::Error (exit 7, state_unwritable) when the lock file cannot be created
/// or written.
LockAttempt acquire(const fs::path& state_dir, const Holder& owner);

/// The current holder when a live process holds the lock of `state_dir`; nullopt when free.
/// (Probes with a shared non-blocking flock for a few microseconds.)
std::optional<Holder> live_holder(const fs::path& state_dir);

/// True when `run_id` is being executed right now: the lock is held and lock.json names it.
bool is_run_live(const fs::path& state_dir, const std::string& run_id);

/// lock.json left by a holder that is gone (flock free); nullopt when none. Read-only.
std::optional<Holder> stale_holder(const fs::path& state_dir);

} // namespace rollback::state::local
