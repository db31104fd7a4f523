// SPDX-License-Identifier: MIT
// /metrics' timestamps of the last good backup (per catalog and database, read from the decision
// playbook's restore steps) and of the last successful rehearsal (docs/metrics.md).
#include "monitor/endpoint.hpp"

#include "actions/load.hpp"
#include "db/backup_catalog.hpp"
#include "db/connection.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

namespace rollback::monitor {

namespace fs = std::filesystem;

namespace {

double epoch_seconds(util::SystemTime t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

} // namespace

bool Endpoint::usable(const Archive& a) {
    std::error_code ec;
    const auto size = fs::file_size(a.file, ec);
    return !ec && size == a.size;
}

void Endpoint::refresh_backup_targets() {
    fs::path playbook;
    {
        std::lock_guard lock(m_mutex);
        playbook = m_playbook;
    }
    std::error_code ec;
    std::optional<fs::file_time_type> mtime;
    if (!playbook.empty()) {
        if (auto t = fs::last_write_time(playbook, ec); !ec) {
            mtime = t;
        }
    }
    if (playbook == m_targets_of && mtime == m_playbook_mtime) {
        return;
    }
    m_targets_of = playbook;
    m_playbook_mtime = mtime;
    {
        std::lock_guard lock(m_mutex);
        m_rehearsals_mtime.reset(); // which rehearsals count depends on the playbook
    }
    std::vector<Catalog> targets;
    if (!playbook.empty()) {
        try {
            auto pb = actions::load_playbook(playbook);
            for (const auto* steps : {&pb.steps, &pb.finally}) {
                for (const auto& st : *steps) {
                    const auto* c = st.params.if_contains("catalog");
                    const auto* d = st.params.if_contains("dsn");
                    if (st.action != "pg_restore" || !c || !c->is_string() || !d ||
                        !d->is_string()) {
                        continue;
                    }
                    fs::path dir(std::string(c->as_string()));
                    dir = (dir.is_relative() ? pb.directory / dir : dir).lexically_normal();
                    const std::string database = db::Dsn::parse(d->as_string()).dbname();
                    if (std::none_of(targets.begin(), targets.end(), [&](const Catalog& t) {
                            return t.dir == dir && t.database == database;
                        })) {
                        targets.push_back(
                            Catalog{dir, database, std::nullopt, std::nullopt, std::nullopt});
                    }
                }
            }
        } catch (const std::exception& e) {
            log::warn("metrics: no last good backup for {}: {}", playbook.string(), e.what());
        }
    }
    for (const auto& c : m_catalogs) { // the series of targets the playbook no longer has go
        m_metrics.erase("rollback_last_good_backup_timestamp_seconds",
                        {{"catalog", c.dir.string()}, {"database", c.database}});
    }
    m_catalogs = std::move(targets);
}

void Endpoint::refresh_backup_times() {
    // A manifest is written (and re-written by `backup verify`) by rename: the directory's
    // mtime says when to read the catalog again.
    for (auto& c : m_catalogs) {
        std::error_code ec;
        // The archives the choice depends on, looked at at every scrape (break-it 42/04): one
        // cut short or put back in place changes no directory's mtime.
        if (std::any_of(c.archives.begin(), c.archives.end(),
                        [](const Archive& a) { return usable(a) != a.usable; })) {
            c.mtime.reset();
        }
        const auto mtime = fs::last_write_time(c.dir, ec);
        if (ec) {
            c.mtime.reset();
            c.newest_good.reset();
            c.unreadable.reset();
        } else if (c.mtime != mtime) {
            c.mtime = mtime;
            c.newest_good.reset();
            c.unreadable.reset();
            c.archives.clear();
            // The backup a restore's "last_good" picks, chosen by the restore's own code: the
            // series never says "fresh" while a restore would take another backup or none. An
            // entry that is no readable manifest is passed over by both, and counted.
            try {
                const db::BackupCatalog catalog(c.dir);
                std::vector<std::string> unreadable;
                const auto all = catalog.list(unreadable); // throws when it cannot be read
                c.unreadable = unreadable.size();
                // The good backups "last_good" looks at, newest first, down to the first whose
                // archive is usable: the chosen one, and those passed over for their archive.
                for (auto it = all.rbegin(); it != all.rend(); ++it) {
                    if (it->database == c.database && it->verified && it->good) {
                        Archive a{db::dump_path(*it), it->size, false};
                        a.usable = usable(a);
                        c.archives.push_back(a);
                        if (a.usable) {
                            break;
                        }
                    }
                }
                for (const auto& why : unreadable) {
                    log::warn("metrics: backup catalog entry passed over: {}", why);
                }
                try {
                    // select() passes over a backup whose archive is missing or not of its
                    // recorded size: the series is never "fresh" for a backup no restore can
                    // use. Logged, as the unreadable manifests are (those are counted above).
                    unreadable.clear();
                    c.newest_good = catalog.select("last_good", c.database, unreadable).time;
                    for (const auto& why : unreadable) {
                        if (why.rfind("backup manifest ", 0) != 0) {
                            log::warn("metrics: last good backup: passed over: {}", why);
                        }
                    }
                } catch (const util::Error& e) {
                    log::warn("metrics: {}", e.what()); // "no good backup of database ..."
                }
            } catch (const std::exception& e) {
                log::warn("metrics: cannot read the backup catalog {}: {}", c.dir.string(),
                          e.what());
            }
        }
        const server::Labels labels{{"catalog", c.dir.string()}, {"database", c.database}};
        if (c.newest_good) {
            m_metrics.set("rollback_last_good_backup_timestamp_seconds", labels,
                          epoch_seconds(*c.newest_good));
        } else {
            m_metrics.erase("rollback_last_good_backup_timestamp_seconds", labels);
        }
    }
    // Per catalog: two databases restored from one catalog share its entries.
    std::map<fs::path, std::size_t> unreadable;
    for (const auto& c : m_catalogs) {
        if (c.unreadable) {
            unreadable[c.dir] = std::max(unreadable[c.dir], *c.unreadable);
        }
    }
    m_metrics.clear("rollback_backup_catalog_unreadable_manifests");
    for (const auto& [dir, n] : unreadable) {
        m_metrics.set("rollback_backup_catalog_unreadable_manifests", {{"catalog", dir.string()}},
                      static_cast<double>(n));
    }
}

std::optional<util::SystemTime> Endpoint::last_rehearsal() {
    // `rollback rehearse` writes <state_dir>/rehearsals/<time>-<step>.json (db/rehearsal.hpp),
    // one per step, each naming its invocation (`rehearse_id`), how many steps it rehearses
    // (`of`) and the playbook: an invocation counts only when every one of its steps is recorded
    // and ok, when it was no `--only` selection (`only`), and only one of the [decision]
    // playbook. Read again only when the directory (or the
    // playbook) changed.
    const fs::path dir = m_state_dir / "rehearsals";
    std::error_code ec;
    const auto mtime = fs::last_write_time(dir, ec);
    fs::path playbook;
    {
        std::lock_guard lock(m_mutex);
        if (ec) {
            m_rehearsals_mtime.reset();
            m_rehearsal_cache.reset();
            return std::nullopt;
        }
        if (m_rehearsals_mtime == mtime) {
            return m_rehearsal_cache;
        }
        playbook = m_playbook;
    }
    // Compared by canonical path: a drill spelled through a symbolic link (a Capistrano-style
    // current/, /etc/rollback/playbook.toml linked into a checkout) is of the same playbook.
    auto canonical = [](const fs::path& p) {
        std::error_code cec;
        auto c = fs::weakly_canonical(p, cec);
        return cec ? p.lexically_normal() : c;
    };
    if (!playbook.empty()) {
        playbook = canonical(playbook);
    }
    struct Group {
        std::optional<util::SystemTime> started;
        bool ok = true;
        std::int64_t records = 0;
        std::int64_t of = 1; // a record of an older version: its own invocation
    };
    std::map<std::string, Group> groups;
    // The restore's own reading (util::read_directory_files): a record that cannot be read is
    // logged with its reason ("Permission denied", not a parser's "incomplete JSON") and passed
    // over, as the restore's ETA passes over it.
    std::vector<std::string> skipped;
    for (const auto& f : util::read_directory_files(dir, ".json", skipped)) {
        try {
            auto doc = boost::json::parse(f.text);
            const auto& o = doc.as_object();
            const auto* pb = o.if_contains("playbook");
            if (pb != nullptr && pb->is_string() && !playbook.empty() &&
                canonical(fs::path(std::string(pb->as_string()))) != playbook) {
                continue; // a drill of another playbook (a test, staging)
            }
            const auto* id = o.if_contains("rehearse_id");
            const std::string key = id != nullptr && id->is_string()
                                        ? "id:" + std::string(id->as_string())
                                        : "file:" + f.path.filename().string();
            Group& g = groups[key];
            if (const auto* of = o.if_contains("of"); of != nullptr && of->is_int64()) {
                g.of = of->as_int64();
            }
            ++g.records;
            const auto* ok = o.if_contains("ok");
            g.ok = g.ok && ok != nullptr && ok->is_bool() && ok->as_bool();
            // `rehearse --only`: a drill of some steps, never the playbook's (whatever `of`).
            if (const auto* sel = o.if_contains("only");
                sel != nullptr && !(sel->is_array() && sel->as_array().empty())) {
                g.ok = false;
            }
            auto t = util::parse_time(std::string(o.at("time").as_string()));
            if (!t) {
                g.ok = false;
            } else if (!g.started || *t < *g.started) {
                g.started = *t;
            }
        } catch (const std::exception& e) {
            log::warn("metrics: skipping {}: {}", f.path.string(), e.what());
        }
    }
    for (const auto& why : skipped) {
        log::warn("metrics: skipping a rehearsal record: {}", why);
    }
    std::optional<util::SystemTime> newest;
    for (const auto& [key, g] : groups) {
        if (g.ok && g.records >= g.of && g.started && (!newest || *g.started > *newest)) {
            newest = g.started;
        }
    }
    std::lock_guard lock(m_mutex);
    m_rehearsals_mtime = mtime;
    m_rehearsal_cache = newest;
    return newest;
}

} // namespace rollback::monitor
