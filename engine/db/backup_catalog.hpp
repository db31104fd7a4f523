// SPDX-License-Identifier: MIT
#pragma once

// The backup catalog: a directory of `pg_dump -Fc` archives, each with a JSON manifest beside it
// (<id>.dump + <id>.json). See docs/database.md for the manifest format and selection rules.

#include "db/names.hpp"
#include "db/restore.hpp"
#include "db/tables.hpp"
#include "exec/runner.hpp"
#include "util/time.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rollback::db {

struct BackupManifest {
    int format = 1;
    std::string id;        ///< "<database>-<yyyymmddThhmmssZ>"
    std::string file;      ///< archive file name, relative to the manifest's directory
    util::SystemTime time; ///< the dump's snapshot time (loss window = now − time)
    std::string database;
    std::string server_version; ///< server_version of the dumped server
    std::string pg_dump_version;
    std::uint64_t size = 0; ///< bytes of the archive
    std::string sha256;     ///< of the archive
    std::string release;    ///< the release whose deploy this backup precedes ("" = none)
    int toc_entries = 0;
    std::vector<std::string> key_tables; ///< tables with checksums ("schema.name")
    std::vector<TableStat> tables;       ///< every user table's row count (+ checksum if key)
    bool verified = false; ///< archive readable (TOC) and checksum matched at verified_at
    std::string verified_at;
    std::string restore_tested_at;   ///< last successful `verify --restore-test`
    bool good = false;               ///< marked known good (--mark-good)
    std::filesystem::path directory; ///< where the manifest was read from (not serialized)
};

boost::json::object to_json(const BackupManifest& m);
/// Throws util::Error (exit 2) naming `source` when a field is missing or has the wrong type.
BackupManifest manifest_from_json(const boost::json::value& v, const std::string& source);

class BackupCatalog {
  public:
    explicit BackupCatalog(std::filesystem::path dir);
    const std::filesystem::path& dir() const { return m_dir; }
    /// Throws util::Error (exit 2) "backup catalog DIR does not exist" when it is not a directory.
    void require_exists() const;
    /// Every readable manifest, oldest first: the one reading of the catalog that choosing a
    /// backup (select), `backup list`/`verify` and /metrics share. An entry that is no readable
    /// manifest (a foreign or half-written `.json`, a damaged one, a file this user may not read)
    /// is nobody's backup: it is left out and its located reason ("backup manifest FILE: ...")
    /// appended to `unreadable`. Throws util::Error only when the catalog itself cannot be read.
    std::vector<BackupManifest> list(std::vector<std::string>& unreadable) const;
    /// The readable manifest with `id`; throws util::Error (exit 2) when there is none.
    BackupManifest get(const std::string& id) const;
    /// Writes `m` atomically as <dir>/<id>.json.
    void save(const BackupManifest& m) const;
    /// Resolves a backup reference for `database`:
    ///   "last_good"          the newest verified backup marked good;
    ///   "before_release:V"   the newest verified backup taken before deploying release V;
    ///   a path               an archive (with <stem>.json beside it) or a manifest, relative to
    ///   `base`.
    /// The catalog's entries that are no readable manifest are passed over (list()), and so are
    /// the backups "last_good" or "before_release:V" would pick whose archive is missing or not
    /// of the recorded size (archive_problem): each named in `unreadable`, so a restore, its
    /// preflight, a rehearsal and /metrics pick the same restorable backup. Throws util::Error
    /// (exit 2) with a hint when nothing matches ("no good backup ...", with the entries passed
    /// over counted and the first named).
    BackupManifest select(const std::string& spec, const std::string& database,
                          std::vector<std::string>& unreadable,
                          const std::filesystem::path& base = {}) const;

  private:
    std::filesystem::path m_dir;
};

/// What to do about a catalog entry that is no readable manifest (BackupCatalog::list).
std::string unreadable_hint(const std::filesystem::path& catalog);

/// The archive of a manifest.
std::filesystem::path dump_path(const BackupManifest& m);

/// "" when `m`'s archive is a regular file of the size its manifest records (one stat); else
/// why it cannot be restored: "backup ID: archive FILE is missing", "... has N bytes, its
/// manifest records M (cut short or replaced)". Such a backup is never chosen (select).
std::string archive_problem(const BackupManifest& m);

/// Loss window text for `m` at `now`: "2h13m (backup taken 2026-11-26T12:22Z)".
std::string loss_window(const BackupManifest& m, util::SystemTime now);

struct BackupRequest {
    Dsn dsn;
    std::string release;
    bool mark_good = false;
    std::vector<std::string> key_tables;
};

/// Takes a backup: pg_dump -Fc of an exported REPEATABLE READ snapshot, whose row counts and key
/// table checksums are computed in that same snapshot; then sha256 and `pg_restore --list`; then
/// the manifest, written last and atomically (a crash leaves at most an orphan .partial file).
/// Throws ConnectError / util::Error when the backup cannot be taken.
BackupManifest take_backup(exec::ProcessRunner& runner, const BackupCatalog& catalog,
                           const BackupRequest& req, const ProgressFn& progress);

struct VerifyReport {
    bool ok = true;
    std::vector<std::string> passed;   ///< "sha256 matches", "TOC readable (52 items)", ...
    std::vector<std::string> problems; ///< empty when ok
    /// "interrupted by SIGTERM" when an interrupt (SIGINT, SIGTERM) ended the restore test: its
    /// scratch database was dropped, the manifest left as it was.
    std::string interrupted;
};

/// Checks a backup: sha256, TOC, and with `restore_server` a real restore into a scratch database
/// (dropped afterwards) compared with the manifest's row counts and checksums. Updates and saves
/// the manifest's `verified`, `verified_at`, `restore_tested_at` — but not when interrupted (the
/// report's `interrupted`). The scratch database is recorded in `<catalog>/scratch/` before it
/// exists (db/scratch_record.hpp): what a verification killed with -9 left, the next one of the
/// same server and database drops.
VerifyReport verify_backup(exec::ProcessRunner& runner, const BackupCatalog& catalog,
                           BackupManifest& m, const std::optional<Dsn>& restore_server,
                           const ProgressFn& progress);

/// The archive is intact: its sha256 is the manifest's and pg_restore can read its TOC.
/// Returns problems (empty = ok) and fills `toc` when readable.
std::vector<std::string> check_archive(exec::ProcessRunner& runner, const BackupManifest& m,
                                       TocInfo& toc);

} // namespace rollback::db
