// SPDX-License-Identifier: MIT
#include "playbook/sql_transaction_control.hpp"

#include "playbook/substitute_sql.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace rollback::playbook {
namespace {

struct Word {
    std::string text; ///< upper case
    size_t offset = 0;
};

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

// The words of one statement that decide whether it controls the transaction.
std::optional<std::string> control_words(const std::vector<Word>& w) {
    auto at = [&](size_t i) { return i < w.size() ? w[i].text : std::string(); };
    const std::string first = at(0);
    if (first == "COMMIT" || first == "END" || first == "ABORT" || first == "BEGIN") {
        return at(1) == "PREPARED" ? first + " PREPARED" : first;
    }
    if (first == "START") {
        return at(1) == "TRANSACTION" ? std::string("START TRANSACTION") : first;
    }
    if (first == "ROLLBACK") {
        // ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name stays inside the transaction.
        size_t next = (at(1) == "WORK" || at(1) == "TRANSACTION") ? 2 : 1;
        if (at(next) == "TO") {
            return std::nullopt;
        }
        return at(1) == "PREPARED" ? std::string("ROLLBACK PREPARED") : first;
    }
    if (first == "PREPARE" && at(1) == "TRANSACTION") {
        return std::string("PREPARE TRANSACTION");
    }
    return std::nullopt;
}

} // namespace

std::optional<TransactionControl> find_transaction_control(std::string_view sql) {
    std::vector<Word> words; // of the current statement (the first few are enough, but CREATE
                             // needs them all for BEGIN ... END)
    size_t statement = 1;
    int begin_depth = 0;
    size_t word_start = std::string_view::npos;
    std::optional<TransactionControl> found;

    auto end_word = [&](size_t end) {
        if (word_start == std::string_view::npos) {
            return;
        }
        Word w{upper(sql.substr(word_start, end - word_start)), word_start};
        word_start = std::string_view::npos;
        if (!words.empty() && words[0].text == "CREATE") {
            // psql's rule: in CREATE ..., BEGIN and CASE open a block that END closes, and a
            // `;` inside it does not end the statement (BEGIN ATOMIC ... END bodies).
            if (w.text == "BEGIN" || w.text == "CASE") {
                ++begin_depth;
            } else if (w.text == "END" && begin_depth > 0) {
                --begin_depth;
            }
        }
        if (words.size() < 4 || (!words.empty() && words[0].text == "CREATE")) {
            words.push_back(std::move(w));
        }
    };
    auto end_statement = [&] {
        if (!found) {
            if (auto control = control_words(words)) {
                found = TransactionControl{*control, statement, words[0].offset};
            }
        }
        words.clear();
        begin_depth = 0;
        ++statement;
    };

    detail::SqlState state;
    size_t last_code = std::string_view::npos;
    state.advance(sql, std::string(), [&](size_t i) {
        // A character that is not code between two code characters (a comment, a string)
        // separates words: COM/**/MIT is two words.
        if (last_code != std::string_view::npos && last_code + 1 != i) {
            end_word(last_code + 1);
        }
        last_code = i;
        const char c = sql[i];
        if (detail::is_ident_char(c) || (c == '$' && word_start != std::string_view::npos)) {
            if (word_start == std::string_view::npos) {
                word_start = i;
            }
            return;
        }
        end_word(i);
        if (c == ';' && begin_depth == 0) {
            end_statement();
        }
    });
    end_word(last_code == std::string_view::npos ? sql.size() : last_code + 1);
    if (!words.empty()) {
        end_statement();
    }
    return found;
}

} // namespace rollback::playbook
