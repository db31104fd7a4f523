// SPDX-License-Identifier: MIT
#pragma once

// Internal to exec/: the drainer of programs' output pipes. What a step leaves running after its
// program exited (a daemon, `cmd &`) may still hold the step's stdout/stderr. Once nobody reads
// a pipe, its next write raises SIGPIPE and kills it: the engine's plumbing must never be what
// ends a process the step deliberately left running (docs/actions.md "left running", break-it
// 37/08). The drainer is one small process per engine — a fork of the engine made at its first
// step, in a session of its own, adopted by init, holding nothing of the engine's but a socket
// to it and the pipes it was given — that holds a copy of each step's read ends from before the
// program runs, reads nothing while the engine reads them, and reads and drops what is still
// written once the engine lets go of them (or dies: kill -9, a crash), until every writer
// closed them. It exits once the engine is gone and every pipe it holds is at end of file.

#include <cstdint>

namespace rollback::exec {

class Drainer {
  public:
    Drainer() = default;
    ~Drainer() { release(-1, -1); }
    Drainer(const Drainer&) = delete;
    Drainer& operator=(const Drainer&) = delete;

    /// Gives the drainer copies of the read ends `out_fd` and `err_fd` before the program runs:
    /// from then on the pipes never lack a reader. False (logged) when the drainer cannot be
    /// reached: release() then hands the pipes still open to a drainer started at that moment.
    bool start(int out_fd, int err_fd);

    /// The engine stops reading: the drainer reads the pipes from now on. When start() failed
    /// (or the drainer died since), the pipes given here that are still open (-1: closed) go to
    /// a drainer of their own started now. The caller still closes its own copies. Idempotent.
    void release(int out_fd, int err_fd);

  private:
    std::uint64_t m_id = 0;         ///< the pipes' entry in the drainer; 0: none
    std::uint64_t m_generation = 0; ///< which drainer holds them
    bool m_released = false;
};

/// Hands the read ends of output pipes (either may be -1) to a drainer of their own, started now,
/// that reads them until every writer closed them. False when it could not be started.
bool hand_off_output(int out_fd, int err_fd);

} // namespace rollback::exec
