// SPDX-License-Identifier: MIT
#include "orchestrator/run_vars.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace rollback::orchestrator {
namespace {

constexpr size_t k_key_bytes = 32;

std::optional<std::string> read_key(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        return std::nullopt;
    }
    return key.size() == k_key_bytes ? std::optional<std::string>(key) : std::nullopt;
}

} // namespace

std::optional<std::string> run_vars_key(const std::filesystem::path& artifacts, bool create) {
    const auto file = artifacts / "vars.key";
    if (auto key = read_key(file)) {
        return key;
    }
    if (!create) {
        return std::nullopt;
    }
    std::string key(k_key_bytes, '\0');
    std::ifstream random("/dev/urandom", std::ios::binary);
    if (!random.read(key.data(), static_cast<std::streamsize>(key.size()))) {
        throw util::Error("cannot read /dev/urandom for the run's variable key",
                          util::ExitCode::run_failed);
    }
    std::error_code ec;
    std::filesystem::create_directories(artifacts, ec);
    util::write_file_atomic(file, key, {0600, true});
    return key;
}

std::string secret_fingerprint(const std::string& key, const std::string& name,
                               const std::string& value) {
    return "hmac-sha256:" + util::hmac_sha256_hex(key, name + std::string(1, '\0') + value);
}

std::vector<journal::RunVar> recorded_vars(const playbook::Playbook& pb, const std::string& key) {
    std::vector<journal::RunVar> out;
    out.reserve(pb.variables.size());
    for (const auto& v : pb.variables) {
        journal::RunVar r{v.name, v.origin, v.secret, {}, {}};
        if (v.secret) {
            r.fingerprint = secret_fingerprint(key, v.name, v.value);
        } else {
            r.value = v.value;
        }
        out.push_back(std::move(r));
    }
    return out;
}

VarsAtResume vars_at_resume(const journal::RunStarted& started, const playbook::Playbook& now,
                            const std::optional<std::string>& key) {
    VarsAtResume out;
    if (!started.has_vars) {
        return out;
    }
    for (const auto& ran : started.vars) {
        const playbook::Variable* cur = nullptr;
        for (const auto& v : now.variables) {
            if (v.name == ran.name) {
                cur = &v;
            }
        }
        if (cur == nullptr) {
            continue; // the playbook no longer has it (a changed playbook is checked apart)
        }
        const bool implicit = cur->unset || cur->origin == "default";
        const std::string name = util::quoted(ran.name);
        if (ran.secret || cur->secret) {
            if (ran.secret && !key) {
                // Another host's resume (a monitor taking over on a shared state) has no key:
                // its secret cannot be compared, and refusing would leave the run unfinished.
                out.notes.push_back(ran.name + ": secret taken from " + cur->origin +
                                    " without comparing it with the run's (from " + ran.origin +
                                    "): the run's key, vars.key beside its journal, is not here");
                continue;
            }
            if (!ran.secret) {
                out.differences.push_back(
                    name + ": secret (from " + ran.origin + " at the run, " + cur->origin +
                    " now) cannot be compared: " + std::string("the run had it as a plain value"));
                out.changed.push_back(ran.name);
                continue;
            }
            if (cur->unset || secret_fingerprint(*key, ran.name, cur->value) != ran.fingerprint) {
                out.differences.push_back(name + ": secret differs (from " + ran.origin +
                                          " at the run, " + cur->origin + " now)");
                out.changed.push_back(ran.name);
            }
            continue;
        }
        if (cur->value == ran.value && !cur->unset) {
            continue;
        }
        if (implicit) {
            out.run_values[ran.name] = ran.value;
            out.notes.push_back(ran.name + " = " + util::quoted(ran.value) + " (the run's, from " +
                                ran.origin + "; this resume would have taken " +
                                (cur->unset ? "nothing: " + cur->origin
                                            : util::quoted(cur->value) + " from its default") +
                                ")");
            continue;
        }
        out.differences.push_back(name + ": " + util::quoted(ran.value) + " at the run (" +
                                  ran.origin + "), " + util::quoted(cur->value) + " now (" +
                                  cur->origin + ")");
        out.changed.push_back(ran.name);
    }
    return out;
}

} // namespace rollback::orchestrator
