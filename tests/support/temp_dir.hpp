// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <string>

namespace rollback::test {

/// A fresh directory under $TMPDIR for one test case, removed at the end of the case unless
/// ROLLBACK_KEEP_TEMP is set (then kept and its path printed).
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& name) const { return m_path / name; }
    /// Writes `content` to `name` (creating parent directories) and returns its path.
    std::filesystem::path write(const std::string& name, const std::string& content) const;

  private:
    std::filesystem::path m_path;
};

/// True when process `pid` exists and is not a zombie (an orphan the engine killed is
/// re-parented to PID 1, which may reap it late: kill(pid, 0) still succeeds on a zombie).
bool running(int pid);

/// The source tree and the built `rollback` binary.
std::filesystem::path source_dir();
std::filesystem::path rollback_binary();

} // namespace rollback::test
