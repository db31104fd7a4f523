// SPDX-License-Identifier: MIT
// A reader of PromQL that computes types only: a precedence-climbing parser after Prometheus' own
// (promql/parser: generated_parser.y, checkAST) over promql_syntax's tokens and signatures. What it
// is sure of is a problem; what it does not know (a function newer than its table, a duration
// expression) leaves the type open, never a refusal: validate must not reject a query Prometheus
// runs.
#include "config/promql_type.hpp"

#include "config/promql_syntax.hpp"

#include <algorithm>
#include <vector>

namespace rollback::config {

namespace {

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

struct BinaryOp {
    int precedence = 0;
    bool right = false; ///< right-associative (^)
    bool set = false;   ///< and, or, unless
    bool comparison = false;
};

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

    std::optional<BinaryOp> binary_op() const {
        const Token& t = peek();
        if (t.kind == Tok::ident) {
            const std::string w = lower(t.text);
            if (w == "or") {
                return BinaryOp{1, false, true, false};
            }
            if (w == "and" || w == "unless") {
                return BinaryOp{2, false, true, false};
            }
            if (w == "atan2") {
                return BinaryOp{5, false, false, false};
            }
            return std::nullopt;
        }
        if (t.kind != Tok::op) {
            return std::nullopt;
        }
        if (t.text == "==" || t.text == "!=" || t.text == "<=" || t.text == "<" || t.text == ">=" ||
            t.text == ">") {
            return BinaryOp{3, false, false, true};
        }
        if (t.text == "+" || t.text == "-") {
            return BinaryOp{4, false, false, false};
        }
        if (t.text == "*" || t.text == "/" || t.text == "%") {
            return BinaryOp{5, false, false, false};
        }
        if (t.text == "^") {
            return BinaryOp{6, true, false, false};
        }
        return std::nullopt; // =~ and friends belong in braces
    }

    Type expr(int min_precedence) {
        const Nested nested(m_depth);
        Type lhs = unary();
        while (auto op = binary_op()) {
            if (op->precedence < min_precedence) {
                break;
            }
            const Token op_tok = next();
            bool with_bool = false;
            if (keyword("bool")) {
                next();
                with_bool = true;
            }
            if (keyword("on") || keyword("ignoring")) {
                next();
                label_list();
                if (keyword("group_left") || keyword("group_right")) {
                    next();
                    if (peek().kind == Tok::lparen) {
                        label_list();
                    }
                }
            }
            Type rhs = expr(op->right ? op->precedence : op->precedence + 1);
            lhs = combine(lhs, rhs, *op, with_bool, op_tok);
        }
        return lhs;
    }

    static Type combine(Type a, Type b, const BinaryOp& op, bool with_bool, const Token& at) {
        for (Type t : {a, b}) {
            if (t && *t != T::scalar && *t != T::instant_vector) {
                fail("binary expression \"" + at.text +
                         "\" must contain only scalar and instant vector types, got " + name(t),
                     at);
            }
        }
        if (op.set) {
            if ((a && *a != T::instant_vector) || (b && *b != T::instant_vector)) {
                fail("set operator \"" + at.text + "\" not allowed in binary scalar expression",
                     at);
            }
            return T::instant_vector;
        }
        if (with_bool && !op.comparison) {
            fail("bool modifier can only be used on comparison operators", at);
        }
        if (a == T::scalar && b == T::scalar) {
            if (op.comparison && !with_bool) {
                fail("comparisons between scalars must use BOOL modifier", at);
            }
            return T::scalar;
        }
        if (a == T::instant_vector || b == T::instant_vector) {
            return T::instant_vector;
        }
        return std::nullopt;
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

    Type postfix() {
        bool selector = false; // a plain vector selector: the one thing a range [5m] applies to
        Type t = primary(selector);
        bool modifiable = selector; // offset and @ follow a selector, a range or a subquery
        for (;;) {
            if (peek().kind == Tok::lbracket) {
                const Token open = next();
                bool colon = false;
                while (peek().kind != Tok::rbracket) {
                    if (peek().kind == Tok::end) {
                        fail("unclosed left bracket", open);
                    }
                    colon = colon || peek().kind == Tok::colon;
                    next();
                }
                next();
                if (colon) {
                    if (t && *t != T::instant_vector) {
                        fail("subquery is only allowed on instant vector, got " + name(t), open);
                    }
                } else if (!selector) {
                    fail("ranges only allowed for vector selectors", open);
                }
                t = T::range_vector;
                selector = false;
                modifiable = true;
                continue;
            }
            const bool offset = keyword("offset");
            if (!offset && peek().kind != Tok::at) {
                return t;
            }
            if (!modifiable) {
                fail(std::string(offset ? "offset" : "@") +
                         " modifier must be preceded by an instant vector selector or range "
                         "vector selector or a subquery",
                     peek());
            }
            next();
            if (offset) {
                modifier_value("offset");
            } else if (keyword("start") || keyword("end")) {
                next();
                expect(Tok::lparen, "(");
                expect(Tok::rparen, ")");
            } else {
                modifier_value("@");
            }
        }
    }

    /// The duration or time after offset or @: signed, or in parentheses (Prometheus 3's
    /// duration expressions), read over.
    void modifier_value(const char* what) {
        if (peek().kind == Tok::op && (peek().text == "-" || peek().text == "+")) {
            next();
        }
        if (peek().kind == Tok::number || peek().kind == Tok::duration) {
            next();
            return;
        }
        if (peek().kind == Tok::lparen) {
            skip_parenthesized();
            return;
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
            matchers();
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
        next(); // a metric name
        if (peek().kind == Tok::lbrace) {
            matchers();
        }
        selector = true;
        return T::instant_vector;
    }

    void matchers() {
        const Token open = next();
        for (;;) {
            if (peek().kind == Tok::rbrace) {
                next();
                return;
            }
            if (peek().kind == Tok::end) {
                fail("unclosed left brace", open);
            }
            if (peek().kind != Tok::ident && peek().kind != Tok::string) {
                fail("unexpected " + describe(peek()) + " in label matching, expected label",
                     peek());
            }
            const bool quoted = next().kind == Tok::string; // Prometheus 3: {"metric.name"}
            const Token& op = peek();
            if (op.kind == Tok::op &&
                (op.text == "=" || op.text == "!=" || op.text == "=~" || op.text == "!~")) {
                next();
                if (peek().kind != Tok::string) {
                    fail("unexpected " + describe(peek()) + " in label matching, expected string",
                         peek());
                }
                next();
            } else if (!quoted) {
                fail("unexpected " + describe(op) +
                         " in label matching, expected label matching operator",
                     op);
            }
            if (peek().kind == Tok::comma) {
                next();
            } else if (peek().kind != Tok::rbrace && peek().kind != Tok::end) {
                fail("unexpected " + describe(peek()) +
                         " in label matching, expected \",\" or \"}\"",
                     peek());
            }
        }
    }

    void label_list() {
        const Token open = peek();
        expect(Tok::lparen, "(");
        for (;;) {
            if (peek().kind == Tok::rparen) {
                next();
                return;
            }
            if (peek().kind == Tok::end) {
                fail("unclosed left parenthesis", open);
            }
            if (peek().kind != Tok::ident && peek().kind != Tok::string) {
                fail("unexpected " + describe(peek()) + " in grouping opts, expected label",
                     peek());
            }
            next();
            if (peek().kind == Tok::comma) {
                next();
            }
        }
    }

    std::vector<std::pair<Type, Token>> arguments() {
        const Token open = next();
        std::vector<std::pair<Type, Token>> args;
        if (peek().kind == Tok::rparen) {
            next();
            return args;
        }
        for (;;) {
            const Token first = peek();
            args.emplace_back(expr(1), first);
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
        auto args = arguments();
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
    } catch (const TooDeep&) {
        r.type.reset();
    }
    return r;
}

} // namespace rollback::config
