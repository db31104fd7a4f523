// SPDX-License-Identifier: MIT
#include "exec/runner.hpp"

#include "exec/child_io.hpp"
#include "exec/drainer.hpp"
#include "exec/job_control.hpp"
#include "exec/launch.hpp"
#include "exec/running_timer.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace rollback::exec {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto k_interrupt_poll = std::chrono::milliseconds(20);
constexpr auto k_group_poll_min = std::chrono::milliseconds(5);
constexpr auto k_group_poll_max = std::chrono::milliseconds(80);
// How long output may still arrive once nothing of the group is left (or it was KILLed): a
// descendant that escaped the group (setsid) may hold the pipes open forever.
constexpr auto k_drain = std::chrono::milliseconds(200);
constexpr size_t k_read_chunk = 32 * 1024;

/// One child from launch to reap: an io_context run on the calling thread that reads both pipes,
/// writes stdin, and drives the timeout / interrupt / cleanup timers.
class Session {
  public:
    Session(const Command& cmd, Outcome& outcome)
        : m_cmd(cmd), m_outcome(outcome), m_stdin(m_ctx), m_deadline(m_ctx), m_grace(m_ctx),
          m_poll(m_ctx), m_drain(m_ctx) {
        m_out.tail = &outcome.stdout_tail;
        m_out.bytes = &outcome.stdout_bytes;
        m_err.tail = &outcome.stderr_tail;
        m_err.bytes = &outcome.stderr_bytes;
        m_err.is_stderr = true;
    }

    ~Session() {
        // Only reached with a live child when something threw (e.g. an on_output callback):
        // still leave nothing behind.
        if (m_proc && !m_leader_done) {
            ::kill(-m_pgid, SIGKILL);
        }
        release_group(m_hold_slot);
        if (m_report_fd >= 0) {
            ::close(m_report_fd);
        }
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    /// Starts the child; false (with outcome.error set) when it could not be started.
    /// vfork + execve, like posix_spawn: Boost.Process's default launcher fork()s the whole
    /// engine and rebuilds the Asio reactor in the child, which doubled the cost of a step. The
    /// child only makes system calls (ChildSetup::prepare) before execve or _exit. With
    /// on_started, fork instead (start_gated).
    bool start(const fs::path& program, const char* const* envp) {
        std::vector<const char*> argv;
        argv.reserve(m_cmd.argv.size() + 1);
        for (const auto& arg : m_cmd.argv) {
            argv.push_back(arg.c_str());
        }
        argv.push_back(nullptr);
        Fds fds;
        if (!fds.open(!m_cmd.stdin_data.empty())) {
            m_outcome.error = "cannot execute '" + m_cmd.argv[0] + "': " + std::strerror(errno);
            return false;
        }
        AttemptMark mark(m_cmd.attempt_token); // closed here once the child holds it
        ChildSetup setup{envp, m_cmd.cwd.empty() ? nullptr : m_cmd.cwd.c_str(), ::getpid(),
                         mark.fd};
        const std::string exe = program.string();
        // No handler of ours may run in the child (with vfork it shares our memory): block every
        // signal across the fork; the child resets dispositions, then unblocks.
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pid_t pid = -1;
        int start_errno = 0;
        if (m_cmd.on_started) {
            pid = start_gated(setup, exe, argv, fds, start_errno);
        } else {
            volatile int child_errno = 0; // written by the vfork child, which shares our memory
            pid = ::vfork();
            if (pid == 0) {
                int e = setup.prepare(fds.child_in, fds.out[1], fds.err[1]);
                if (e == 0) {
                    ::execve(exe.c_str(), const_cast<char* const*>(argv.data()),
                             const_cast<char* const*>(envp != nullptr ? envp : environ));
                    e = errno;
                }
                child_errno = e;
                ::_exit(127);
            }
            start_errno = pid < 0 ? errno : child_errno;
        }
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        fds.close_child_ends();
        if (pid < 0 || start_errno != 0) {
            if (pid > 0) {
                reap_failed_child(pid);
            }
            if (m_started_error) {
                std::rethrow_exception(m_started_error);
            }
            m_outcome.error =
                "cannot execute '" + m_cmd.argv[0] + "': " + std::strerror(start_errno);
            return false;
        }
        m_out.pipe.assign(fds.release(fds.out[0]));
        m_err.pipe.assign(fds.release(fds.err[0]));
        if (!m_cmd.stdin_data.empty()) {
            m_stdin.assign(fds.release(fds.in[1]));
        }
        m_proc.emplace(m_ctx.get_executor(), pid);
        m_pgid = pid;
        m_hold_slot = hold_group(pid); // stopped and continued with the engine (Ctrl-Z)
        if (m_token.pgid == 0 && !m_cmd.attempt_token.empty()) {
            m_token = token_of(pid);
            m_token.attempt_token = m_cmd.attempt_token;
        }
        return true;
    }

    void run() {
        read_more(m_out);
        read_more(m_err);
        if (!m_cmd.stdin_data.empty()) {
            asio::async_write(m_stdin, asio::buffer(m_cmd.stdin_data),
                              [this](error_code ec, size_t) {
                                  if (ec || !m_cmd.keep_stdin_open) {
                                      error_code ignored; // EPIPE: the child did not read it all
                                      m_stdin.close(ignored);
                                  }
                              });
        }
        m_proc->async_wait([this](error_code ec, int) { on_leader_exit(ec); });
        m_watch.start();
        if (m_cmd.timeout > util::Millis(0)) {
            // The time the engine did not watch does not count (running_timer.hpp); and a
            // program that already exited by itself is not timed out: its wait handler records
            // the exit status, which wins over a deadline noticed late.
            wait_running(m_deadline, Clock::now() + m_cmd.timeout, m_watch, [this] {
                if (!m_leader_done && !exited_unreaped(m_pgid)) {
                    escalate(Ending::timed_out, SIGTERM);
                }
            });
        }
        poll_interrupt();
        m_ctx.run();
        fill_outcome();
    }

  private:
    struct Stream {
        explicit Stream(asio::io_context& ctx) : pipe(ctx) {}
        asio::readable_pipe pipe;
        // On the heap: run() may be called on a thread with a small stack.
        std::unique_ptr<char[]> buffer = std::make_unique_for_overwrite<char[]>(k_read_chunk);
        std::string* tail = nullptr;
        size_t* bytes = nullptr;
        bool is_stderr = false;
        bool open = true;
        // Secrets are masked on the whole stream, before the tail is cut or a chunk is shown:
        // a cut can then never start inside a secret.
        util::SecretMasker masker;
    };

    /// fork, not vfork: the child must wait (on a pipe) until on_started has recorded its group,
    /// and a vfork child cannot wait without stalling us. The child makes only system calls.
    /// Returns the pid (or -1); `err` is the errno of a failed fork. The errno of the child's
    /// setup or execve arrives later on m_report_fd (close-on-exec: end of file = the program
    /// started), read once the child has exited: waiting for it here would cost a round trip
    /// through the scheduler on every step.
    pid_t start_gated(const ChildSetup& setup, const std::string& exe,
                      const std::vector<const char*>& argv, Fds& fds, int& err) {
        int gate[2] = {-1, -1};
        int report[2] = {-1, -1};
        if (::pipe2(gate, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) {
            err = errno;
            for (int fd : {gate[0], gate[1]}) {
                if (fd >= 0) {
                    ::close(fd);
                }
            }
            return -1;
        }
        pid_t pid = ::fork();
        if (pid == 0) {
            exec_when_released(setup, exe, argv.data(), fds, gate[0], report[1]);
        }
        err = pid < 0 ? errno : 0;
        ::close(gate[0]);
        ::close(report[1]);
        if (pid > 0) {
            // Also here, not only in the child: the group must exist before it is published.
            ::setpgid(pid, pid);
            m_token = token_of(pid);
            m_token.attempt_token = m_cmd.attempt_token;
            try {
                m_cmd.on_started(m_token);
                // From here on the pipes never lack a reader, even when the engine dies: what
                // the program leaves running is never killed by their closing (drainer.hpp).
                m_drainer.start(fds.out[0], fds.err[0]);
                char go = 1;
                [[maybe_unused]] auto w = ::write(gate[1], &go, 1);
            } catch (...) {
                m_started_error = std::current_exception();
                ::kill(pid, SIGKILL);
                err = ECANCELED;
            }
            ::close(gate[1]);
            if (err == 0) {
                m_report_fd = report[0];
                return pid;
            }
        } else {
            ::close(gate[1]);
        }
        ::close(report[0]);
        return pid;
    }

    void read_more(Stream& s) {
        s.pipe.async_read_some(asio::buffer(s.buffer.get(), k_read_chunk),
                               [this, &s](error_code ec, size_t n) {
                                   if (n > 0) {
                                       std::string_view chunk(s.buffer.get(), n);
                                       *s.bytes += n;
                                       deliver(s, s.masker.feed(chunk));
                                   }
                                   if (ec) {
                                       close_stream(s);
                                       maybe_finish();
                                       return;
                                   }
                                   read_more(s);
                               });
    }

    void deliver(Stream& s, const std::string& masked) {
        if (masked.empty()) {
            return;
        }
        keep_tail(*s.tail, masked, m_cmd.capture_limit);
        if (m_cmd.on_output) {
            m_cmd.on_output(masked, s.is_stderr);
        }
    }

    void close_stream(Stream& s) {
        if (s.open) {
            s.open = false;
            deliver(s, s.masker.finish());
        }
        error_code ignored;
        s.pipe.close(ignored);
    }

    /// Every 20 ms while the leader runs: an interrupt to forward, and a look of the watch (it
    /// keeps ticking after an escalation: the grace timer counts only watched time too).
    void poll_interrupt() {
        m_poll.expires_after(k_interrupt_poll);
        m_poll.async_wait([this](error_code ec) {
            if (ec || m_leader_done) {
                return;
            }
            m_watch.note();
            if (int sig = interrupt_requested(); sig != 0) {
                escalate(Ending::interrupted, sig); // once: a timeout or an interrupt
            }
            poll_interrupt();
        });
    }

    /// Timeout or interrupt: `sig` to the group now, KILL after the grace period.
    void escalate(Ending why, int sig) {
        if (m_forced) {
            return;
        }
        m_forced = why;
        log::warn("exec: {} '{}' (pid {}): sending SIG{} to its process group",
                  why == Ending::timed_out ? "timeout of" : "interrupt of", m_cmd.argv[0], m_pgid,
                  sigabbrev_np(sig));
        ::kill(-m_pgid, sig);
        signal_escaped(sig);
        wait_running(m_grace, Clock::now() + m_cmd.grace, m_watch, [this] { kill_group(); });
    }

    /// Processes outside the group that carry the attempt token or mark; none without a token.
    std::vector<ProcessInfo> escaped() const { return left_the_group(m_token); }

    void signal_escaped(int sig) {
        if (auto out = escaped(); !out.empty()) {
            log::warn("exec: '{}' (pid {}): SIG{} to {} process(es) that left its group",
                      m_cmd.argv[0], m_pgid, sigabbrev_np(sig), out.size());
            signal_survivors(m_token, out, sig);
        }
    }

    void kill_group() {
        if (m_killed) {
            return;
        }
        m_killed = true;
        ::kill(-m_pgid, SIGKILL);
        signal_escaped(SIGKILL);
        start_drain();
    }

    void on_leader_exit(error_code ec) {
        m_leader_done = true;
        m_deadline.cancel();
        m_poll.cancel();
        if (m_stdin.is_open()) { // keep_stdin_open: held until the leader exited
            error_code ignored;
            m_stdin.close(ignored);
        }
        if (ec) {
            m_wait_error = "cannot wait for '" + m_cmd.argv[0] + "': " + ec.message();
        } else {
            m_status = m_proc->native_exit_code();
        }
        m_proc->detach(); // reaped: the destructor must not signal a pid that may be reused
        if (m_report_fd >= 0) {
            // The child is gone, so the pipe holds its errno or is at end of file: no wait.
            int child_err = 0;
            ssize_t n = 0;
            while ((n = ::read(m_report_fd, &child_err, sizeof child_err)) == -1 &&
                   errno == EINTR) {
            }
            if (n == static_cast<ssize_t>(sizeof child_err)) {
                m_exec_errno = child_err;
            }
            ::close(m_report_fd);
            m_report_fd = -1;
        }
        if (!m_forced && m_cmd.on_exited) {
            // Before anything below waits (settled, the drain): the journal must learn that the
            // program finished even if the engine dies during that wait.
            Outcome exited;
            decode_ending(exited, m_status, m_wait_error, m_exec_errno, m_cmd.argv[0]);
            try {
                m_cmd.on_exited(exited);
            } catch (...) {
                m_exited_error = std::current_exception();
            }
        }
        // The group id stays reserved while any member lives, so signalling it is safe here.
        const bool members = group_has_live_member(m_pgid);
        if (!m_forced && m_cmd.on_started && (members || !escaped().empty())) {
            // Policy: what a step deliberately leaves running (a daemon that kept the group,
            // `cmd &` without wait, one that carries the attempt token into a session of its
            // own) survives a normal exit, as it would in a shell; the Outcome lists it, and the
            // journal already names its group and token. Output it writes after the drain
            // window is not captured.
            m_outcome.left_running = settled([this] {
                return m_cmd.attempt_token.empty() ? live_members(m_pgid)
                                                   : group_survivors(m_token);
            });
            log::info("exec: '{}' (pid {}) exited and left {} process(es) running", m_cmd.argv[0],
                      m_pgid, m_outcome.left_running.size());
            m_group_gone = true;
            release_hold();
            start_drain();
        } else if (members || (m_forced && !escaped().empty())) {
            if (!m_forced) {
                // Nobody recorded this group (a probe, a source, a lifecycle hook): what it left
                // behind would be nobody's. TERM now, KILL after grace if still there.
                log::info("exec: '{}' (pid {}) left processes in its group: terminating them",
                          m_cmd.argv[0], m_pgid);
                ::kill(-m_pgid, SIGTERM);
                m_grace.expires_after(m_cmd.grace);
                m_grace.async_wait([this](error_code e) {
                    if (!e) {
                        kill_group();
                    }
                });
            }
            poll_group(); // timed out or interrupted: the escalation ends the rest (escapees too)
        } else {
            m_group_gone = true;
            release_hold();
            start_drain();
        }
        maybe_finish();
    }

    /// The group is gone, or what is left of it was left running on purpose: no longer the
    /// engine's to stop with itself.
    void release_hold() {
        release_group(m_hold_slot);
        m_hold_slot = -1;
    }

    void poll_group() {
        // Back off: the check may scan /proc.
        m_group_poll_interval = std::min(m_group_poll_interval * 2, k_group_poll_max);
        m_poll.expires_after(m_group_poll_interval);
        m_poll.async_wait([this](error_code ec) {
            if (ec) {
                return;
            }
            m_watch.note();
            if (!group_has_live_member(m_pgid) && (!m_forced || escaped().empty())) {
                m_group_gone = true;
                release_hold();
                m_grace.cancel();
                start_drain();
                maybe_finish();
                return;
            }
            m_watch.note(); // the scan of /proc was the engine at work, not away
            poll_group();
        });
    }

    void start_drain() {
        if (m_draining) {
            return;
        }
        m_draining = true;
        m_drain.expires_after(k_drain);
        m_drain.async_wait([this](error_code ec) {
            if (ec) {
                return;
            }
            m_drain_over = true;
            if (!m_forced && !m_outcome.left_running.empty()) {
                relist_left_running();
            }
            // Whatever still holds the pipes (left running, or out of sight) keeps a reader, so
            // its next write neither kills it (SIGPIPE) nor blocks — after a timeout too.
            m_drainer.release(m_out.open ? m_out.pipe.native_handle() : -1,
                              m_err.open ? m_err.pipe.native_handle() : -1);
            close_stream(m_out);
            close_stream(m_err);
            maybe_finish();
        });
    }

    /// The drain window is over and the step left processes running: list what is alive now
    /// (not the short-lived helpers of the exit, a shim's `pyenv-which`).
    void relist_left_running() {
        auto now = m_cmd.attempt_token.empty() ? live_members(m_pgid) : group_survivors(m_token);
        if (!now.empty()) {
            m_outcome.left_running = std::move(now);
        }
    }

    void fill_outcome() {
        deliver(m_out, m_out.masker.finish()); // normally already flushed when the pipe closed
        deliver(m_err, m_err.masker.finish());
        decode_ending(m_outcome, m_status, m_wait_error, 0, m_cmd.argv[0]);
        if (m_forced) {
            m_outcome.ending = *m_forced; // exit_code / signal still say how the leader ended
        }
        if (m_exec_errno != 0) {
            decode_ending(m_outcome, m_status, m_wait_error, m_exec_errno, m_cmd.argv[0]);
            log::warn("exec: {}", m_outcome.error);
        }
    }

  public:
    /// What Command::on_exited threw (null when nothing): run() rethrows it.
    std::exception_ptr exited_error() const { return m_exited_error; }

  private:
    void maybe_finish() {
        bool pipes_done = !m_out.open && !m_err.open;
        // After KILL the drain window bounds the wait even if a zombie keeps the group id alive.
        bool group_done = m_group_gone || (m_killed && m_drain_over);
        if (m_leader_done && pipes_done && group_done) {
            m_ctx.stop();
        }
    }

    const Command& m_cmd;
    Outcome& m_outcome;
    asio::io_context m_ctx{1};
    Stream m_out{m_ctx};
    Stream m_err{m_ctx};
    asio::writable_pipe m_stdin;
    asio::steady_timer m_deadline;
    asio::steady_timer m_grace;
    asio::steady_timer m_poll;
    asio::steady_timer m_drain;
    std::optional<bp::process> m_proc;
    std::exception_ptr m_started_error; ///< thrown by on_started: rethrown by start()
    std::exception_ptr m_exited_error;  ///< thrown by on_exited: rethrown by run()
    int m_report_fd = -1;               ///< a gated child's errno pipe (start_gated)
    int m_exec_errno = 0;               ///< a gated child could not execute the program
    int m_pgid = 0;
    int m_hold_slot = -1; ///< job_control's slot of the group (-1: none)
    Unwatched m_watch;    ///< the time that does not count against timeout and grace
    Drainer m_drainer;    ///< a step's: reads the pipes once the engine no longer does
    GroupToken m_token;   ///< with attempt_token: names the group and what left it
    std::chrono::milliseconds m_group_poll_interval = k_group_poll_min / 2;
    int m_status = 0;               ///< waitpid status of the leader
    std::string m_wait_error;       ///< waitpid failed (SIGCHLD ignored by someone)
    std::optional<Ending> m_forced; ///< we ended it: timed_out or interrupted
    bool m_leader_done = false;
    bool m_group_gone = false;
    bool m_killed = false;
    bool m_draining = false;
    bool m_drain_over = false;
};

} // namespace

Outcome RealProcessRunner::run(const Command& cmd) {
    const auto start = Clock::now();
    Outcome outcome;
    auto stamp = [&] {
        outcome.duration = std::chrono::duration_cast<util::Millis>(Clock::now() - start);
    };
    if (int sig = interrupt_requested(); sig != 0) {
        outcome.ending = Ending::interrupted;
        outcome.error = std::string("not started: interrupted by SIG") + sigabbrev_np(sig);
        stamp();
        return outcome;
    }
    fs::path program = resolve_program(cmd, outcome.error);
    if (outcome.error.empty()) {
        outcome.error = check_cwd(cmd.cwd);
    }
    if (!outcome.error.empty()) {
        log::warn("exec: {}", outcome.error);
        stamp();
        return outcome;
    }
    std::optional<std::map<std::string, std::string>> with_token;
    if (!cmd.attempt_token.empty()) {
        with_token.emplace(cmd.env);
        (*with_token)[std::string(k_attempt_env)] = cmd.attempt_token;
    }
    Environment env(with_token ? *with_token : cmd.env);
    std::optional<SigpipeGuard> sigpipe_guard;
    if (!cmd.stdin_data.empty()) {
        sigpipe_guard.emplace();
    }

    Session session(cmd, outcome);
    if (!session.start(program, env.envp())) {
        log::warn("exec: {}", outcome.error);
        stamp();
        return outcome;
    }
    session.run();
    stamp();
    if (session.exited_error()) {
        std::rethrow_exception(session.exited_error());
    }
    return outcome;
}

} // namespace rollback::exec
