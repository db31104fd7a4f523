// SPDX-License-Identifier: MIT
#pragma once

// Internal to exec/: the drainer of programs' output pipes (break-it 37/08, issue 11). What a
// step leaves running after its program exited (a daemon, `cmd &`) may still hold the step's
// stdout/stderr. Once nobody reads a pipe its next write raises SIGPIPE and kills it (and with a
// reader that does not read, it blocks once the pipe is full): the engine's plumbing must never
// be what ends or stalls a process the step deliberately left running (docs/actions.md, "Step
// processes").
//
// The drainer is one small process per engine, started at the engine's first step program: the
// binary that runs the engine (/proc/self/exe) executed again in a hidden mode (argv
// "rollback-drain --step-output", recognised by an ELF constructor before the program's own
// start-up, drainer_process.cpp), in a session of its own, adopted by init at once (the engine
// never waits for it; it outlives the engine), with an empty environment and three descriptors:
// 0 a socket to the engine, 1 and 2 /dev/null. Nothing else of the engine's: not the run lock,
// not the journal, not rollback.log, not another socket, not the attempt mark. Over the socket it
// gets a copy of each step program's output read ends before the program runs, and reads nothing
// of them while the engine reads. Once the engine lets go of them (after the drain window, a
// timeout, an interrupt) — or dies without letting go (kill -9, a crash: the kernel closes its
// end of the socket) — the drainer reads and drops what is still written until every writer
// closed them. It exits once the engine is gone and every pipe it holds is at end of file.

#include <cstdint>

namespace rollback::exec {

class Drainer {
  public:
    Drainer() = default;
    ~Drainer() { release(-1, -1); }
    Drainer(const Drainer&) = delete;
    Drainer& operator=(const Drainer&) = delete;

    /// Gives the engine's drainer copies of the read ends `out_fd` and `err_fd` before the
    /// program runs: from then on the pipes never lack a reader. False (logged) when the drainer
    /// cannot be reached: release() then hands the pipes still open to it once more.
    bool start(int out_fd, int err_fd);

    /// The engine stops reading: the drainer reads from now on. When start() was not called or
    /// failed (or the drainer that held them died since), the pipes given here that are still
    /// open (-1: closed) go to the drainer now (hand_off_output). The caller still closes its own
    /// copies. Idempotent.
    void release(int out_fd, int err_fd);

  private:
    std::uint64_t m_id = 0;         ///< the pipes' entry in the drainer; 0: none
    std::uint64_t m_generation = 0; ///< which drainer holds them
    bool m_released = false;
};

/// Hands the read ends of output pipes (either may be -1) to the engine's drainer (started now if
/// there is none), which reads them at once until every writer closed them. False when it could
/// not be reached.
bool hand_off_output(int out_fd, int err_fd);

// The engine's messages to its drainer (a SOCK_SEQPACKET socket, the drainer's descriptor 0).
namespace drain {
enum class Kind : std::uint32_t {
    hold = 1,    ///< with two descriptors: hold them, read nothing yet
    release = 2, ///< read what `id` holds from now on
    read = 3,    ///< with two descriptors: hold them and read them at once
    // The drainer's answers to hold and read, in the order it got them (break-it 45 F5):
    held = 4,    ///< it holds the descriptors of `id`
    refused = 5, ///< it could not take them (MSG_CTRUNC: its open-file limit): it holds nothing
};
struct Message {
    Kind kind;
    std::uint64_t id;
};

/// The drainer's command line: what `ps` shows, and what makes a process run as the drainer.
/// Defined beside the drainer's loop (drainer_process.cpp): whatever starts one links the mode.
const char* const* command_line();
} // namespace drain

} // namespace rollback::exec
