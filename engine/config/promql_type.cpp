// SPDX-License-Identifier: MIT
// A reader of PromQL that computes types only: a precedence-climbing parser after Prometheus' own
// (promql/parser: generated_parser.y, checkAST) over promql_syntax's tokens and signatures. What it
// is sure of is a problem; what it does not know (a function newer than its table, a duration
// expression) leaves the type open, never a refusal: validate must not reject a query Prometheus
// runs.
#include "config/promql_type.hpp"

#include "config/promql_binary.hpp"
#include "config/promql_selector.hpp"
#include "config/promql_syntax.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>
#include <vector>

namespace rollback::config {

namespace {

using promql::binary_op;
using promql::BinaryModifiers;
using promql::functions;
using promql::lex;
using promql::lower;
using promql::Problem;
using promql::Signature;
using promql::Tok;
using promql::Token;
using T = PromqlType;
using Type = std::optional<PromqlType>;

/// Nested deeper than the reader goes (a recursive descent on the stack): the type is left open.
struct TooDeep {};
constexpr int k_max_depth = 200;

class Parser {
  public:
    explicit Parser(std::vector<Token> tokens) : m_t(std::move(tokens)) {}

    Type query() {
        Type t = expr(1);
        if (peek().kind != Tok::end) {
            fail("unexpected " + describe(peek()), peek());
        }
        return t;
    }

  private:
    std::vector<Token> m_t;
    std::size_t m_p = 0;
    int m_depth = 0;
    /// The next selector is info()'s second argument: label matchers only, which may all
    /// match "" (Prometheus 3).
    bool m_label_selectors_only = false;

    struct Nested {
        int& depth;
        explicit Nested(int& d) : depth(d) {
            if (++depth > k_max_depth) {
                throw TooDeep{};
            }
        }
        ~Nested() { --depth; }
        Nested(const Nested&) = delete;
        Nested& operator=(const Nested&) = delete;
    };

    const Token& peek(std::size_t k = 0) const { return m_t[std::min(m_p + k, m_t.size() - 1)]; }
    const Token& next() {
        const Token& t = peek();
        m_p = std::min(m_p + 1, m_t.size() - 1);
        return t;
    }
    bool keyword(std::string_view word, std::size_t k = 0) const {
        return peek(k).kind == Tok::ident && lower(peek(k).text) == word;
    }
    static std::string describe(const Token& t) {
        return t.kind == Tok::end ? std::string("end of input") : "\"" + t.text + "\"";
    }
    [[noreturn]] static void fail(std::string what, const Token& at) {
        throw Problem{std::move(what), at.offset};
    }
    static std::string name(Type t) { return t ? std::string(to_string(*t)) : "unknown"; }

    Type expr(int min_precedence) {
        const Nested nested(m_depth);
        Type lhs = unary();
        while (auto op = binary_op(peek())) {
            if (op->precedence < min_precedence) {
                break;
            }
            const Token op_tok = next();
            BinaryModifiers m;
            if (keyword("bool")) {
                next();
                m.with_bool = true;
            }
            if (keyword("on") || keyword("ignoring")) {
                m.on = keyword("on");
                next();
                m.labels = label_list();
                if (keyword("group_left") || keyword("group_right")) {
                    next();
                    m.group = true;
                    if (peek().kind == Tok::lparen) {
                        m.include = label_list();
                    }
                }
            }
            Type rhs = expr(op->right ? op->precedence : op->precedence + 1);
            lhs = combine(lhs, rhs, *op, m, op_tok);
        }
        return lhs;
    }

    Type unary() {
        const Nested nested(m_depth);
        if (peek().kind == Tok::op && (peek().text == "-" || peek().text == "+")) {
            const Token op = next();
            Type t = unary();
            if (t && *t != T::scalar && *t != T::instant_vector) {
                fail("unary expression only allowed on expressions of type scalar or instant "
                     "vector, got " +
                         name(t),
                     op);
            }
            return t;
        }
        return postfix();
    }

    /// What offset and @ have set on the selector, range or subquery being read.
    struct Modifiers {
        bool offset = false; ///< a non-zero offset (Prometheus 3 lets `offset 0s` be set again)
        bool at = false;
        bool at_time = false; ///< @ with a number, not start() or end()
    };

    Type postfix() {
        bool selector = false; // a plain vector selector: the one thing a range [5m] applies to
        Type t = primary(selector);
        bool modifiable = selector; // offset and @ follow a selector, a range or a subquery
        Modifiers set;
        for (;;) {
            if (peek().kind == Tok::lbracket) {
                const bool subquery = range(t, selector, set);
                t = T::range_vector;
                selector = false;
                modifiable = true;
                if (subquery) {
                    set = Modifiers{}; // a range keeps its selector's modifiers
                }
                continue;
            }
            const bool offset = keyword("offset");
            if (!offset && peek().kind != Tok::at) {
                return t;
            }
            const Token& word = peek();
            if (!modifiable) {
                fail(std::string(offset ? "offset" : "@") +
                         " modifier must be preceded by an instant vector selector or range "
                         "vector selector or a subquery",
                     word);
            }
            if (offset && set.offset) {
                fail("offset may not be set multiple times", word);
            }
            if (!offset && set.at) {
                fail("@ <timestamp> may not be set multiple times", word);
            }
            next();
            if (offset) {
                set.offset = modifier_value("offset") != 0;
            } else if (keyword("start") || keyword("end")) {
                next();
                expect(Tok::lparen, "(");
                expect(Tok::rparen, ")");
                set.at = true;
            } else {
                const Token& at = peek();
                const double ts = modifier_value("@");
                if (!std::isnan(ts) && !(std::abs(ts) < 9.223372036854775807e18)) {
                    fail("timestamp out of bounds for @ modifier: " + fixed(ts), at);
                }
                set.at = set.at_time = true;
            }
        }
    }

    /// Reads [range] or [range:step] after an expression of type `t`; returns whether it was a
    /// subquery.
    bool range(Type t, bool selector, const Modifiers& set) {
        const Token open = next();
        std::vector<Token> inside;
        while (peek().kind != Tok::rbracket) {
            if (peek().kind == Tok::end) {
                fail("unclosed left bracket", open);
            }
            inside.push_back(next());
        }
        const Token close = next();
        const auto colon = std::find_if(inside.begin(), inside.end(),
                                        [](const Token& k) { return k.kind == Tok::colon; });
        if (colon != inside.end()) {
            if (t && *t != T::instant_vector) {
                fail("subquery is only allowed on instant vector, got " + name(t), open);
            }
        } else if (!selector) {
            fail("ranges only allowed for vector selectors", open);
        } else if (set.offset) {
            fail("no offset modifiers allowed before range", open);
        } else if (set.at_time) {
            fail("no @ modifiers allowed before range", open);
        }
        durations(inside, close);
        return colon != inside.end();
    }

    /// [5m], [5m:], [5m:1m] (numbers of seconds in Prometheus 3): each above 0. Anything else
    /// inside (Prometheus 3's duration expressions: an operator, a function) is read over.
    static void durations(const std::vector<Token>& inside, const Token& close) {
        const auto value = [](const Token& k) {
            return k.kind == Tok::duration || k.kind == Tok::number;
        };
        if (!std::all_of(inside.begin(), inside.end(),
                         [&](const Token& k) { return value(k) || k.kind == Tok::colon; })) {
            return;
        }
        std::size_t i = 0;
        const auto at = [&]() -> const Token& { return i < inside.size() ? inside[i] : close; };
        const auto take_value = [&] {
            if (!value(at())) {
                return false;
            }
            if (!(literal_value(at()) > 0)) {
                fail("duration must be greater than 0", at());
            }
            ++i;
            return true;
        };
        bool ok = take_value();
        if (ok && at().kind == Tok::colon) {
            ++i;
            take_value();
        }
        ok = ok && i == inside.size();
        if (!ok) {
            fail("unexpected " + describe(at()) + " in subquery or range", at());
        }
    }

    /// The seconds of a number or duration token (durations are checked by the lexer).
    static double literal_value(const Token& k) {
        if (k.kind == Tok::duration) {
            return static_cast<double>(promql::duration_ms(k.text).value_or(0)) / 1000.0;
        }
        return promql::number_value(k.text).value_or(0);
    }

    static std::string fixed(double v) {
        char text[400];
        std::snprintf(text, sizeof text, "%f", v);
        return text;
    }

    /// The duration or time after offset or @: signed, or in parentheses (Prometheus 3's
    /// duration expressions), read over. Returns its value in seconds (NaN in parentheses).
    double modifier_value(const char* what) {
        double sign = 1;
        if (peek().kind == Tok::op && (peek().text == "-" || peek().text == "+")) {
            sign = next().text == "-" ? -1 : 1;
        }
        if (peek().kind == Tok::number || peek().kind == Tok::duration) {
            return sign * literal_value(next());
        }
        if (peek().kind == Tok::lparen) {
            skip_parenthesized();
            return std::numeric_limits<double>::quiet_NaN();
        }
        fail(std::string("unexpected ") + describe(peek()) + " after " + what, peek());
    }

    void skip_parenthesized() {
        const Token open = next();
        int depth = 1;
        while (depth > 0) {
            if (peek().kind == Tok::end) {
                fail("unclosed left parenthesis", open);
            }
            depth += peek().kind == Tok::lparen ? 1 : peek().kind == Tok::rparen ? -1 : 0;
            next();
        }
    }

    void expect(Tok kind, const char* text) {
        if (peek().kind != kind) {
            fail("unexpected " + describe(peek()) + ", expected \"" + text + "\"", peek());
        }
        next();
    }

    Type primary(bool& selector) {
        const Token& t = peek();
        switch (t.kind) {
        case Tok::number:
            next();
            return T::scalar;
        case Tok::duration:
            next();
            return std::nullopt; // a number of seconds in Prometheus 3 (an error in 2)
        case Tok::string:
            next();
            return T::string;
        case Tok::lparen: {
            const Token open = next();
            Type inner = expr(1);
            if (peek().kind != Tok::rparen) {
                fail(peek().kind == Tok::end
                         ? std::string("unclosed left parenthesis")
                         : "unexpected " + describe(peek()) + ", expected \")\"",
                     peek().kind == Tok::end ? open : peek());
            }
            next();
            return inner;
        }
        case Tok::lbrace:
            matchers("", t.offset);
            selector = true;
            return T::instant_vector;
        case Tok::ident:
            break;
        default:
            fail("unexpected " + describe(t), t);
        }
        const std::string w = lower(t.text);
        if (w == "inf" || w == "nan") {
            next();
            return T::scalar;
        }
        // Keywords that are no metric name either (lex.go's keywords less those the grammar's
        // metric_identifier takes back: sum, by, offset, and, ...).
        static constexpr std::string_view k_reserved[] = {"on",          "ignoring", "group_left",
                                                          "group_right", "bool",     "atan2"};
        if (std::find(std::begin(k_reserved), std::end(k_reserved), w) != std::end(k_reserved)) {
            fail("unexpected " + describe(t), t);
        }
        static constexpr std::string_view k_aggregations[] = {
            "sum",    "avg",  "count",   "min",      "max",          "group",  "stddev",
            "stdvar", "topk", "bottomk", "quantile", "count_values", "limitk", "limit_ratio"};
        const bool aggregation = std::find(std::begin(k_aggregations), std::end(k_aggregations),
                                           w) != std::end(k_aggregations);
        if (aggregation &&
            (peek(1).kind == Tok::lparen || keyword("by", 1) || keyword("without", 1))) {
            return aggregate();
        }
        if (peek(1).kind == Tok::lparen) {
            return call();
        }
        const Token& metric = next();
        if (peek().kind == Tok::lbrace) {
            matchers(metric.text, metric.offset);
        }
        selector = true;
        return T::instant_vector;
    }

    /// Reads {...} of the selector named `name` (empty: none) that starts at `start`.
    void matchers(std::string_view name, std::size_t start) {
        const Token open = next();
        const bool bypass = std::exchange(m_label_selectors_only, false);
        std::vector<promql::Matcher> read;
        for (;;) {
            if (peek().kind == Tok::rbrace) {
                next();
                break;
            }
            if (peek().kind == Tok::end) {
                fail("unclosed left brace", open);
            }
            if (peek().kind != Tok::ident && peek().kind != Tok::string) {
                fail("unexpected " + describe(peek()) + " in label matching, expected label",
                     peek());
            }
            const Token label = next();
            const bool quoted = label.kind == Tok::string; // Prometheus 3: {"metric.name"}
            const Token& op = peek();
            if (op.kind == Tok::op &&
                (op.text == "=" || op.text == "!=" || op.text == "=~" || op.text == "!~")) {
                next();
                if (peek().kind != Tok::string) {
                    fail("unexpected " + describe(peek()) + " in label matching, expected string",
                         peek());
                }
                const Token& value = next();
                read.push_back(
                    {quoted ? label.value : label.text, op.text, value.value, value.offset});
                promql::check_matcher(read.back());
            } else if (!quoted) {
                fail("unexpected " + describe(op) +
                         " in label matching, expected label matching operator",
                     op);
            } else {
                read.push_back({"__name__", "=", label.value, label.offset});
            }
            if (peek().kind == Tok::comma) {
                next();
            } else if (peek().kind != Tok::rbrace && peek().kind != Tok::end) {
                fail("unexpected " + describe(peek()) +
                         " in label matching, expected \",\" or \"}\"",
                     peek());
            }
        }
        if (!bypass || !name.empty()) {
            promql::check_selector(name, read, start);
        }
    }

    std::vector<std::string> label_list() {
        const Token open = peek();
        expect(Tok::lparen, "(");
        std::vector<std::string> labels;
        for (;;) {
            if (peek().kind == Tok::rparen) {
                next();
                return labels;
            }
            if (peek().kind == Tok::end) {
                fail("unclosed left parenthesis", open);
            }
            if (peek().kind != Tok::ident && peek().kind != Tok::string) {
                fail("unexpected " + describe(peek()) + " in grouping opts, expected label",
                     peek());
            }
            const Token& label = next();
            labels.push_back(label.kind == Tok::string ? label.value : label.text);
            if (peek().kind == Tok::comma) {
                next();
            }
        }
    }

    /// A call's or an aggregation's arguments; `info`: Prometheus 3's info(), whose second one
    /// may be a selector of labels that all match "".
    std::vector<std::pair<Type, Token>> arguments(bool info = false) {
        const Token open = next();
        std::vector<std::pair<Type, Token>> args;
        if (peek().kind == Tok::rparen) {
            next();
            return args;
        }
        for (;;) {
            const Token first = peek();
            m_label_selectors_only = info && args.size() == 1 && first.kind == Tok::lbrace;
            args.emplace_back(expr(1), first);
            m_label_selectors_only = false;
            if (peek().kind == Tok::comma) {
                next();
                continue;
            }
            if (peek().kind == Tok::rparen) {
                next();
                return args;
            }
            fail(peek().kind == Tok::end ? std::string("unclosed left parenthesis")
                                         : "unexpected " + describe(peek()) +
                                               " in argument list, expected \",\" or \")\"",
                 peek().kind == Tok::end ? open : peek());
        }
    }

    static void expect_type(Type got, T want, const Token& at, const std::string& where) {
        if (got && *got != want) {
            fail("expected type " + std::string(to_string(want)) + " in " + where + ", got " +
                     name(got),
                 at);
        }
    }

    Type aggregate() {
        const Token op = next();
        const std::string w = lower(op.text);
        if (keyword("by") || keyword("without")) {
            next();
            label_list();
        }
        if (peek().kind != Tok::lparen) {
            fail("unexpected " + describe(peek()) + ", expected \"(\"", peek());
        }
        auto args = arguments();
        if (keyword("by") || keyword("without")) {
            next();
            label_list();
        }
        const bool param = w == "topk" || w == "bottomk" || w == "quantile" ||
                           w == "count_values" || w == "limitk" || w == "limit_ratio";
        const std::size_t want = param ? 2 : 1;
        if (args.size() != want) {
            fail("wrong number of arguments for aggregate expression provided, expected " +
                     std::to_string(want) + ", got " + std::to_string(args.size()),
                 op);
        }
        if (param) {
            expect_type(args[0].first, w == "count_values" ? T::string : T::scalar, args[0].second,
                        "aggregation parameter");
        }
        expect_type(args.back().first, T::instant_vector, args.back().second,
                    "aggregation expression");
        return T::instant_vector;
    }

    Type call() {
        const Token fn = next();
        auto args = arguments(fn.text == "info");
        const auto& table = functions();
        auto sig = std::find_if(table.begin(), table.end(),
                                [&](const Signature& s) { return s.name == fn.text; });
        if (sig == table.end()) {
            return std::nullopt; // newer than this table (or a typo Prometheus names)
        }
        const std::size_t n = sig->args.size();
        if (sig->variadic == 0 && args.size() != n) {
            fail("expected " + std::to_string(n) + " argument(s) in call to \"" + fn.text +
                     "\", got " + std::to_string(args.size()),
                 fn);
        }
        if (sig->variadic != 0 && args.size() + 1 < n) {
            fail("expected at least " + std::to_string(n - 1) + " argument(s) in call to \"" +
                     fn.text + "\", got " + std::to_string(args.size()),
                 fn);
        }
        if (sig->variadic > 0 && args.size() > n - 1 + static_cast<std::size_t>(sig->variadic)) {
            fail("expected at most " + std::to_string(n - 1 + sig->variadic) +
                     " argument(s) in call to \"" + fn.text + "\", got " +
                     std::to_string(args.size()),
                 fn);
        }
        for (std::size_t i = 0; i < args.size(); ++i) {
            expect_type(args[i].first, sig->args[std::min(i, n - 1)], args[i].second,
                        "call to function \"" + fn.text + "\"");
        }
        return sig->result;
    }
};

} // namespace

std::string_view to_string(PromqlType t) {
    switch (t) {
    case T::scalar:
        return "scalar";
    case T::instant_vector:
        return "instant vector";
    case T::range_vector:
        return "range vector";
    case T::string:
        return "string";
    }
    return "unknown";
}

PromqlReading read_promql(std::string_view query) {
    PromqlReading r;
    try {
        Parser p(lex(query));
        r.type = p.query();
    } catch (const Problem& e) {
        r.type.reset();
        r.problem = e.what;
        r.offset = e.offset;
        r.hint = e.hint;
    } catch (const TooDeep&) {
        r.type.reset();
    }
    return r;
}

} // namespace rollback::config
