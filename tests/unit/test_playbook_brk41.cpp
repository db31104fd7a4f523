// SPDX-License-Identifier: MIT
// Break-it 41/01: a value handed to a shell through `env` ("$N") or an argument ("$1") still
// ran as code in bash constructs the analysis did not see. Each kind is closed as a whole and
// pinned here against a model (a construct marked `true` is one where bash evaluates the value
// as arithmetic, a name or a command; tests/integration/values_brk41.sh runs the reported ones
// with a value `x[$(cmd)]` for real): a builtin however it is reached,
// every array-literal subscript and slice, a bare name in `let`, what bash fills by itself, and
// command substitutions whose output carries the value although their text does not expand it.
// Break-it 41/02: a value chose the script an interpreter runs (`["bash", "{{v}}"]`,
// `["python3", "{{v}}"]`): the script operand of every shell and interpreter is a program file.
#include "playbook/loader.hpp"
#include "playbook/variables.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

using namespace rollback;
using playbook::fed_value_use;

namespace {

struct Context {
    std::string text; ///< X: where the value is expanded
    bool evaluates;
};

std::string with(std::string text, const std::string& x) {
    for (size_t at = text.find('X'); at != std::string::npos; at = text.find('X', at)) {
        text.replace(at, 1, x);
        at += x.size();
    }
    return text;
}

/// Every context in every spelling of both routes: refused exactly where it evaluates, and
/// never without a value handed over. Returns the number of scripts checked.
size_t check_contexts(const std::vector<Context>& contexts) {
    const std::vector<std::pair<std::string, std::string>> spellings{
        {"N", "$N"}, {"N", "\"$N\""}, {"N", "${N}"}, {"1", "$1"}, {"1", "\"$1\""}};
    size_t cases = 0;
    for (const auto& c : contexts) {
        for (const auto& [fed, x] : spellings) {
            const std::string script = with(c.text, x);
            CAPTURE(script);
            if (fed == "N") {
                CHECK(fed_value_use(script, {"N"}, false).empty() == !c.evaluates);
                CHECK(fed_value_use(script, {}, false).empty());
            } else {
                CHECK(fed_value_use(script, {}, true).empty() == !c.evaluates);
            }
            ++cases;
        }
    }
    return cases;
}

/// The diagnostics of a playbook with one exec step whose argv is `argv` (TOML literal strings).
std::vector<util::Diagnostic> argv_errors(const std::vector<std::string>& argv) {
    test::TempDir dir;
    std::map<std::string, std::string> env{{"VV", "/tmp/evil.sh"}};
    playbook::LoadOptions options;
    options.environment = &env;
    std::string list;
    for (const auto& a : argv) {
        list += (list.empty() ? "'" : ", '") + a + "'";
    }
    const auto p = dir.write("pb.toml", "[vars]\nv = { env = \"VV\" }\n[[step]]\nid = \"s\"\n"
                                        "action = \"exec\"\nargv = [" +
                                            list + "]\n");
    try {
        playbook::load(p, options);
    } catch (const util::InvalidInput& e) {
        return e.diagnostics();
    }
    return {};
}

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// Scripts read with `N` handed over through env: refused or not.
void check_env(const std::vector<Context>& scripts) {
    for (const auto& s : scripts) {
        CAPTURE(s.text);
        CHECK(fed_value_use(s.text, {"N"}, false).empty() == !s.evaluates);
        CHECK(fed_value_use(s.text, {}, false).empty());
    }
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("brk41/01: a builtin is that builtin however it is reached") {
        // Every prefix that runs the next word as a builtin, nested, with its options: the
        // builtins that take names, arithmetic or code evaluate the value as they do alone.
        const std::vector<std::string> prefixes{"command ",         "builtin ",
                                                "command -p ",      "command -- ",
                                                "builtin -- ",      "command builtin ",
                                                "builtin command ", "command command ",
                                                "IFS= builtin ",    "\\",
                                                "time -p command ", "! builtin ",
                                                "noglob builtin ",  "'",
                                                "if command ",      "{ builtin "};
        const std::vector<Context> builtins{{"read x <<< X; echo $(( x ))", true},
                                            {"read <<< X; echo $(( REPLY ))", true},
                                            {"read -r -a a <<< X; (( a[0] ))", true},
                                            {"mapfile -t a <<< X; echo $(( a ))", true},
                                            {"readarray a <<< X; (( a[0] ))", true},
                                            {"mapfile <<< X; (( MAPFILE ))", true},
                                            {"printf -v x %s X; echo $(( x ))", true},
                                            {"printf -vx %s X; echo \"${arr[x]}\"", true},
                                            {"printf -v X %s 1", true},
                                            {"declare -i x; x=X", true},
                                            {"typeset -i x; x=X", true},
                                            {"declare -i x=X", true},
                                            {"test -v X && echo set", true},
                                            {"[ -v X ] && echo set", true},
                                            {"let y=X", true},
                                            {"unset X", true},
                                            {"eval X", true},
                                            {"read x <<< X; [[ x -eq 1 ]]", true},
                                            {"read x <<< X; echo \"${x:x}\"", true},
                                            // The same builtins where the value stays a word.
                                            {"printf '%s\\n' X", false},
                                            {"read -r x <<< X; echo \"$x\"", false},
                                            {"test -n X && echo set", false},
                                            {"declare x=X; echo \"$x\"", false}};
        std::vector<Context> contexts;
        for (const auto& p : prefixes) {
            for (const auto& b : builtins) {
                // `'read' x`: a quoted name; `\read`: an escaped one; `if`/`{` need their end.
                std::string text = p == "'" ? "'" + b.text.substr(0, b.text.find(' ')) + "'" +
                                                  b.text.substr(b.text.find(' '))
                                            : p + b.text;
                text += p == "if command " ? "; then :; fi" : p == "{ builtin " ? "; }" : "";
                contexts.push_back({text, b.evaluates});
            }
        }
        CHECK(check_contexts(contexts) == prefixes.size() * builtins.size() * 5);
        // `command -v`/`-V` look a name up: their arguments are words.
        check_env({{"command -v \"$N\" >/dev/null && echo found", false},
                   {"command -V \"$N\"", false},
                   {"command -v read; read x <<< \"$N\"; (( x ))", true}});
        // An integer attribute given through a prefix makes later assignments arithmetic.
        check_env({{"command declare -i x; x=$N", true},
                   {"f() { command local -i x; x=$N; }; f", true},
                   {"builtin typeset -i x; x+=$N", true},
                   {"command declare x; x=$N; echo \"$x\"", false}});
    }

    TEST_CASE("brk41/01: every array-literal subscript and every slice is arithmetic") {
        const std::vector<Context> contexts{
            {"arr=([X]=1)", true},
            {"arr=( [X]=1 )", true},
            {"arr=(a [X]=1)", true},
            {"arr=([0]=a [X]=b)", true},
            {"arr=(x); arr+=([X]=1)", true},
            {"arr=([X]+=1)", true},
            {"declare -a arr=([X]=1)", true},
            {"declare -ga arr=([X]=1)", true},
            {"typeset -a arr=([X]=1)", true},
            {"readonly -a arr=([X]=1)", true},
            {"export arr=([X]=1)", true},
            {"declare arr=([X]=1)", true},
            {"f() { local -a arr=([X]=1); }; f", true},
            {"f() { local -ai arr=([X]=1); }; f", true},
            {"declare -a arr; arr=([X]=1)", true},
            {"declare -A m=([X]=1)", true}, // a key, refused as m[X]=1 is
            {"hosts=(a b c); echo \"${hosts[@]:X}\"", true},
            {"hosts=(a b c); echo \"${hosts[*]:X}\"", true},
            {"hosts=(a b c); echo \"${hosts[@]:0:X}\"", true},
            {"hosts=(a b c); echo \"${hosts[@]:1: X}\"", true},
            {"hosts=(a b c); echo \"${hosts[0]:X}\"", true},
            {"hosts=(a b c); echo ${hosts[@]:X}", true},
            {"echo \"${BASH_VERSINFO[@]:X}\"", true},
            {"set -- a b; echo \"${*:X}\"", true},
            {"echo \"${-:X}\"", true},
            // Data: elements without a subscript, a subscript that is a number.
            {"arr=(X); printf '%s\\n' \"${arr[@]}\"", false},
            {"arr=([0]=X [1]=b); echo \"${arr[0]}\"", false},
            {"hosts=(a b c); echo \"${hosts[@]:1}\" X", false},
            {"declare -a arr=(\"X\" b); echo \"${arr[@]:1:1}\"", false},
            {"[ X = x ] && echo same", false}};
        CHECK(check_contexts(contexts) == contexts.size() * 5);
        // A bare name in the subscript or the offset is evaluated too.
        check_env({{"arr=([N]=1)", true},
                   {"arr=([N+1]=x)", true},
                   {"x=$N; arr=([x]=1)", true},
                   {"a=(1 2); echo \"${a[@]: N}\"", true},
                   {"a=(1 2); echo \"${a[@]:0:N}\"", true},
                   {"arr=([0]=M); echo \"$N\"", false}});
    }

    TEST_CASE("brk41/01: let evaluates a bare name - [[ ]] operators between any blanks") {
        check_env({{"let y=N", true},
                   {"let \"y = N + 1\"", true},
                   {"let 'y=N'", true},
                   {"let y++ N", true},
                   {"let y=2+M z=N", true},
                   {"x=$N; let y=x+1", true},
                   {"command let y=N", true},
                   {"let y=M+1; echo \"$N\"", false},
                   {"[[ $N -eq\t1 ]]", true},
                   {"[[\t$N\t-lt\t1\t]]", true},
                   {"[[ $N\n-gt 1 ]]", true},
                   {"[[ $N == x-eq ]]", false}});
    }

    TEST_CASE("brk41/01: what bash fills by itself from a value is a copy") {
        check_env({
            // $_: the last argument of the command before.
            {"test -n \"$N\"; echo $(( _ ))", true},
            {": \"$N\"; (( _ ))", true},
            {"echo \"$N\" >/dev/null; let \"y=_\"", true},
            {"true \"$N\"; x=$_; (( x ))", true},
            // BASH_REMATCH after =~.
            {"[[ $N =~ (.*) ]] && echo $(( BASH_REMATCH[1] ))", true},
            {"[[ $N =~ (.*) ]]; m=${BASH_REMATCH[1]}; (( m ))", true},
            // REPLY of select, which reads a line.
            {"select x in a; do break; done <<< \"$N\"; (( REPLY ))", true},
            // The directory a value names.
            {"mkdir -p \"$N\"; cd \"$N\"; x=${PWD##*/}; (( x ))", true},
            {"cd \"$N\"; cd ..; x=${OLDPWD##*/}; (( x ))", true},
            {"pushd \"$N\"; x=${DIRSTACK[0]##*/}; (( x ))", true},
            // bash's own integer variables.
            {"OPTIND=$N; getopts a o", true},
            {"RANDOM=$N", true},
            {"SRANDOM=$N", true},
            // Namerefs and indirection (held before, pinned with the kind).
            {"declare -n r=N; (( r ))", true},
            {"f() { local -n r=N; (( r )); }; f", true},
            {"x=N; echo $(( ${!x} ))", true},
            // Harmless: the same variables used as words, or not from the value.
            {"test -n \"$N\"; echo \"$_\"", false},
            {"[[ $N =~ ^[0-9]+$ ]] && echo \"${BASH_REMATCH[0]}\"", false},
            {"cd /srv; x=${PWD##*/}; echo \"$N\"", false},
            {"RANDOM=42; echo \"$N\"", false},
        });
        const std::vector<Context> positional{
            {"set -- -a \"$1\"; getopts a: o; (( OPTARG ))", true},
            {"while getopts a: o; do (( OPTARG )); done", true},
            {"x=${BASH_ARGV[0]}; (( x ))", true},
            {"shopt -s extdebug; f() { (( BASH_ARGV[0] )); }; f \"$1\"", true},
            {"while getopts a: o; do echo \"$OPTARG\"; done", false}};
        for (const auto& s : positional) {
            CAPTURE(s.text);
            CHECK(fed_value_use(s.text, {}, true).empty() == !s.evaluates);
        }
    }

    TEST_CASE("brk41/01: a builtin that fills a variable named by an expansion") {
        // Which variable holds the value is not in the text: every variable counts.
        check_env({{"r() { read \"$@\"; }; r x <<< \"$N\"; (( x ))", true},
                   {"n=x; printf -v \"$n\" %s \"$N\"; (( x ))", true},
                   {"n=x; declare \"$n=$N\"; (( x ))", true},
                   {"r() { read \"$@\"; }; r x <<< \"$N\"; echo \"$x\"", false}});
        const std::string m =
            fed_value_use("r() { read \"$@\"; }; r x <<< \"$N\"; (( x ))", {"N"}, false);
        CHECK(m.find("every variable counts as holding the value, since read $@ fills a variable "
                     "the script does not name") != std::string::npos);
    }

    TEST_CASE("brk41/01: a command substitution whose output carries the value is a copy") {
        check_env({
            // Programs that print or read the environment.
            {"x=$(printenv N); (( x ))", true},
            {"x=\"$(printenv N)\"; (( x ))", true},
            {"x=`printenv N`; (( x ))", true},
            {"x+=$(printenv N); (( x ))", true},
            {"declare x=$(printenv N); (( x ))", true},
            {"f() { local x; x=$(printenv N); (( x )); }; f", true},
            {"x=$(env | sed -n 's/^N=//p'); (( x ))", true},
            {"x=$(printenv | sed -n 's/^N=//p'); (( x ))", true},
            {"x=$(export -p | grep N); (( x ))", true},
            {"x=$(set | grep ^N=); (( x ))", true},
            {"x=$(tr '\\0' '\\n' < /proc/self/environ); (( x ))", true},
            {"x=$(awk 'BEGIN{print ENVIRON[\"N\"]}'); (( x ))", true},
            {"x=$(python3 -c 'import os;print(os.environ[\"N\"])'); (( x ))", true},
            {"x=$(perl -e 'print $ENV{N}'); (( x ))", true},
            {"x=$(jq -rn env.N); (( x ))", true},
            {"x=$(site-tool --get N); (( x ))", true},
            {"export C=$N; x=$(site-tool --get C); (( x ))", true},
            {"x=$(printenv N); a=(1); echo ${a[x]}", true},
            {"for x in $(printenv N); do (( x )); done", true},
            // Its output in the command position runs as a command.
            {"$(printenv N) --version", true},
            {"$(echo \"$N\") --version", true},
            {"`echo \"$N\"` arg", true},
            {"x=1; $(printf %s \"$N\")", true},
            {"if $(printf %s \"$N\"); then :; fi", true},
            {"exec $(printf %s \"$N\")", true},
            {"echo $(printf %s \"$N\")", false},
            {"echo \"a $(echo \"$N\")\"", false},
            // Functions of the script that print it.
            {"f() { echo \"$N\"; }; x=$(f); (( x ))", true},
            {"f() { echo \"$N\"; }; (( $(f) ))", true},
            {"g() { printf %s \"$N\"; }; f() { g; }; x=$(f); (( x ))", true},
            // The value written to a pipe, a file, a here-string or here-document.
            {"printf %s \"$N\" | { x=$(cat); (( x )); }", true},
            {"printf %s \"$N\" | { (( $(cat) )); }", true},
            {"printf %s \"$N\" | { let \"x=$(cat)\"; }", true},
            {"printf %s \"$N\" > f; x=$(cat f); (( x ))", true},
            {"printf %s \"$N\" >> f; x=$(< f); (( x ))", true},
            {"printf %s \"$N\" > f; a=(1); echo ${a[$(cat f)]}", true},
            {"echo \"$N\" | tee f >/dev/null; x=$(cat f); (( x ))", true},
            {"exec 3<<< \"$N\"; x=$(cat <&3); (( x ))", true},
            {"{ x=$(cat); (( x )); } <<< \"$N\"", true},
            {"{ x=$(cat); (( x )); } <<EOF\n$N\nEOF", true},
            {"echo \"$N\" > >(x=$(cat); (( x )))", true},
            {"x=$(printenv N); echo \"$x\" > f; y=$(cat f); (( y ))", true},
            // Harmless: outputs that cannot carry it, or used as words.
            {"x=$(date +%s); (( x > 0 )); echo \"$N\"", false},
            {"n=$(wc -l < /etc/hosts); (( n > 0 )); echo \"$N\" >&2", false},
            {"n=$(nproc); (( n > 1 )); echo \"$N\" 2>&1 >/dev/null", false},
            {"(( $(date +%s) > 0 )); [[ $N == x ]] && echo x", false},
            {"x=$(printenv N); echo \"$x\"", false},
            {"f() { echo \"$N\"; }; x=$(f); echo \"$x\"", false},
            {"printf %s \"$N\" | { x=$(cat); echo \"$x\"; }", false},
            {"(( 2 > 1 )); [[ a > b ]]; n=$(date +%s); (( n > 0 )); echo \"$N\"", false},
        });
        // What counts as a write is read with quotes, case patterns and here-document bodies
        // followed: the hint's own check stays allowed beside a number in arithmetic.
        check_env({
            {"case $N in ''|*[!0-9]*) exit 2;; esac; now=$(date +%s); (( now > 0 ))", false},
            {"case $N in a | b) echo \"$N\";; *) exit 2;; esac; n=$(date +%s); (( n ))", false},
            {"echo \"a | b > c, it's\" \"$N\"; n=$(date +%s); (( n ))", false},
            {"cat <<EOF\na | b > c, it's\nEOF\nn=$(date +%s); (( n )); echo \"$N\"", false},
            {"case $N in a) echo \"$N\" | cat;; esac; x=$(date +%s); (( x ))", true},
            {"echo case in a; echo \"$N\" | cat; x=$(date +%s); (( x ))", true},
            {"echo \"it's $N\" | cat; x=$(date +%s); (( x ))", true},
            {"x=\"$(echo \"$N\" | cat)\"; y=$(date +%s); (( y ))", true},
            {"f() { echo \"$N\"; }; cat <<EOF\nit's\nEOF\nf | cat; x=$(date +%s); (( x ))", true},
            {"cat <<'EOF' > f\n$N\nEOF\nx=$(cat f); (( x ))", true},
        });
        // The message says how the value gets there.
        const std::string m = fed_value_use("x=$(printenv N); (( x ))", {"N"}, false);
        CHECK(m.find("a command substitution prints it: printenv (it prints the environment)") !=
              std::string::npos);
        const std::string w = fed_value_use("echo \"$N\" > f; x=$(cat f); (( x ))", {"N"}, false);
        CHECK(w.find("the script writes it to a file (a redirection) and a command substitution "
                     "may read it back") != std::string::npos);
        // The positional route: a function's output, a pipe.
        CHECK(!fed_value_use("f() { echo \"$1\"; }; x=$(f); (( x ))", {}, true).empty());
        CHECK(!fed_value_use("echo \"$1\" | { x=$(cat); (( x )); }", {}, true).empty());
        CHECK(fed_value_use("x=$(date +%s); (( x )); echo \"$1\"", {}, true).empty());
    }

    TEST_CASE("brk41/01: a quote in a comment or a here-document hides no command after it") {
        // The word splitter took the `'` of `# don't` for an opening quote: every command after
        // it became one quoted word, and nothing there was analysed.
        check_env({{": # don't\nread x <<< \"$N\"; (( x ))", true},
                   {"echo hi # it's\n\"$N\"", true},
                   {"echo hi # say \"hi\nprintf -v x %s \"$N\"; (( x ))", true},
                   {"cat <<EOF\nit's\nEOF\nread x <<< \"$N\"; (( x ))", true},
                   {"cat <<'EOF'\n\"quoted\nEOF\nprintf -v x %s \"$N\"; (( x ))", true},
                   {"cat <<-EOF\n\tit's\n\tEOF\n\"$N\"", true},
                   {"cat <<A <<B\nit's\nA\n\"\nB\nread x <<< \"$N\"; (( x ))", true},
                   {"cat <<EOF\n$(printf -v x %s \"$N\"; echo $(( x )))\nEOF", true},
                   {"echo $(( 1 << 2 ))\n\"$N\"", true},
                   // A body is text: the value in it is data, and so is a `#` inside a word.
                   {"cat <<EOF\nthe value: $N, it's fine\nEOF", false},
                   {"cat <<'EOF'\nrun $N; it's\nEOF\necho done", false},
                   {"echo \"a#b\" $# ${#N} \"$N\" # it's", false}});
    }

    TEST_CASE("brk41/01: the reproduction's eleven steps are each a located error") {
        test::TempDir dir;
        const std::vector<std::string> scripts{"builtin read x <<< \"$N\"; echo $(( x ))",
                                               "command read x <<< \"$N\"; echo $(( x ))",
                                               "builtin mapfile -t a <<< \"$N\"; echo $(( a ))",
                                               "command printf -v x %s \"$N\"; echo $(( x ))",
                                               "command declare -i x; x=$N; echo $x",
                                               "command test -v \"$N\" && echo set",
                                               "declare -a arr=([$N]=on); echo \"${arr[*]}\"",
                                               "hosts=(a b c); echo \"${hosts[@]:$N}\"",
                                               "let \"y = N + 1\"; echo $y",
                                               "[[ $N =~ (.*) ]] && echo $(( BASH_REMATCH[1] ))",
                                               "test -n \"$N\"; echo $(( _ ))"};
        std::string body = "[vars]\nv = \"1\"\n";
        for (size_t i = 0; i < scripts.size(); ++i) {
            body += "[[step]]\nid = \"s" + std::to_string(i) +
                    "\"\naction = \"exec\"\nargv = [\"bash\", \"-c\", '" + scripts[i] +
                    "']\nenv = { N = \"{{v}}\" }\n";
        }
        std::vector<util::Diagnostic> d;
        try {
            playbook::load(dir.write("pb.toml", body), playbook::LoadOptions{});
        } catch (const util::InvalidInput& e) {
            d = e.diagnostics();
        }
        REQUIRE(d.size() == scripts.size());
        for (size_t i = 0; i < d.size(); ++i) {
            CAPTURE(scripts[i]);
            CHECK(d[i].where.line == static_cast<int>(6 + 5 * i)); // the argv line
            CHECK(d[i].problem.find("a value handed to the shell (env.N ({{v}}))") !=
                  std::string::npos);
        }
        CHECK(d[6].problem.find("an array subscript in a compound assignment") !=
              std::string::npos);
        CHECK(d[7].problem.find("a substring offset or length") != std::string::npos);
        CHECK(d[8].problem.find("let (its arguments are arithmetic") != std::string::npos);
    }

    TEST_CASE("brk41/02: generated — a value is never the script an interpreter runs") {
        // The first operand after the options of every shell and interpreter the analysis
        // knows, given no -c/-e/-m: the program file, like awk -f's. Behind every wrapper.
        const std::vector<std::vector<std::string>> programs{{"bash"},
                                                             {"sh"},
                                                             {"dash"},
                                                             {"zsh"},
                                                             {"ksh93"},
                                                             {"busybox", "sh"},
                                                             {"fish"},
                                                             {"bash", "-x"},
                                                             {"bash", "-e", "-o", "pipefail"},
                                                             {"bash", "--norc", "--"},
                                                             {"sh", "-"},
                                                             {"bash", "-O", "extglob"},
                                                             {"python3"},
                                                             {"python3", "-u"},
                                                             {"python3", "-W", "ignore"},
                                                             {"python3", "-B", "-E"},
                                                             {"pypy3"},
                                                             {"python3", "--"},
                                                             {"perl"},
                                                             {"perl", "-n"},
                                                             {"perl", "-x"},
                                                             {"perl", "-w", "-T"},
                                                             {"ruby"},
                                                             {"ruby", "-w"},
                                                             {"ruby3.1"},
                                                             {"node"},
                                                             {"node", "--"},
                                                             {"node", "--trace-warnings"},
                                                             {"nodejs"},
                                                             {"php"},
                                                             {"php8.2"},
                                                             {"lua"},
                                                             {"lua5.4"},
                                                             {"tclsh"},
                                                             {"tclsh8.6"},
                                                             {"wish"},
                                                             {"pwsh"},
                                                             {"pwsh", "-NoProfile"},
                                                             {"Rscript"},
                                                             {"Rscript", "--vanilla"},
                                                             {"expect"},
                                                             {"expect", "-d"}};
        const std::vector<std::vector<std::string>> fronts{{},
                                                           {"env"},
                                                           {"sudo", "-u", "x"},
                                                           {"timeout", "5"},
                                                           {"nice", "-n", "5"},
                                                           {"xargs", "-a", "list"},
                                                           {"find", ".", "-exec"},
                                                           {"/usr/bin/env", "-i", "A=1"}};
        size_t cases = 0;
        for (const auto& front : fronts) {
            for (const auto& prog : programs) {
                for (const std::string file : {"{{v}}", "/srv/scripts/{{v}}", "{{v}}.sh"}) {
                    const auto argv = joined(joined(front, prog), {file, "arg"});
                    const auto d = argv_errors(argv);
                    CAPTURE(front.empty() ? "" : front[0]);
                    CAPTURE(prog[0]);
                    CAPTURE(file);
                    REQUIRE(d.size() == 1);
                    CHECK(d[0].problem.find("{{v}} is the script ") != std::string::npos);
                    CHECK(d[0].problem.find("the value would choose what code runs") !=
                          std::string::npos);
                    CHECK(d[0].hint.find("name a fixed script") != std::string::npos);
                    ++cases;
                }
                // A fixed script (in a directory a value names, as for argv[0]), the value
                // as its argument: data.
                CAPTURE(prog[0]);
                CHECK(argv_errors(joined(joined(front, prog), {"{{playbook_dir}}/x", "{{v}}"}))
                          .empty());
                CHECK(
                    argv_errors(joined(joined(front, prog), {"/srv/deploy.sh", "{{v}}"})).empty());
            }
        }
        CHECK(cases == fronts.size() * programs.size() * 3);
        // The message names the interpreter.
        const auto d = argv_errors({"sudo", "-u", "app", "python3", "-u", "{{v}}"});
        REQUIRE(d.size() == 1);
        CHECK(d[0].problem.find("{{v}} is the script python3 runs (its program file)") !=
              std::string::npos);
        // No script operand: code from -c/-e, a module, standard input; its arguments are data.
        for (const auto& argv : std::vector<std::vector<std::string>>{
                 {"bash", "-s", "{{v}}"},
                 {"bash", "-c", "echo \"$1\"", "sh", "{{v}}"},
                 {"python3", "-", "{{v}}"},
                 {"python3", "-c", "import sys; print(sys.argv[1])", "{{v}}"},
                 {"python3", "-m", "json.tool", "{{v}}"},
                 {"perl", "-e", "print @ARGV", "{{v}}"},
                 {"node", "-e", "console.log(process.argv[1])", "{{v}}"},
                 {"awk", "-f", "/srv/prog.awk", "{{v}}"},
                 {"grep", "-r", "bash", "{{v}}"},
                 {"echo", "bash", "{{v}}"}}) {
            CAPTURE(argv[0]);
            CAPTURE(argv[1]);
            CHECK(argv_errors(argv).empty());
        }
    }

    TEST_CASE("brk41/02: the program file of make - gdb - vim - and the applet of busybox") {
        for (const auto& argv :
             std::vector<std::vector<std::string>>{{"make", "-f", "{{v}}"},
                                                   {"make", "-f{{v}}", "all"},
                                                   {"make", "--file={{v}}"},
                                                   {"make", "--makefile", "{{v}}"},
                                                   {"make", "-sf", "{{v}}"},
                                                   {"gdb", "-batch", "-x", "{{v}}"},
                                                   {"gdb", "-batch", "--command={{v}}"},
                                                   {"vim", "-u", "{{v}}", "file"},
                                                   {"vim", "-es", "-U", "{{v}}"},
                                                   {"busybox", "{{v}}", "arg"}}) {
            CAPTURE(argv[1]);
            CHECK(argv_errors(argv).size() == 1);
        }
        CHECK(argv_errors({"make", "-C", "/srv/app", "deploy", "RELEASE={{v}}"}).size() == 1);
        CHECK(argv_errors({"make", "-f", "/srv/Makefile", "-C", "/srv"}).empty());
        CHECK(argv_errors({"busybox", "sh", "-c", "echo \"$1\"", "sh", "{{v}}"}).empty());
    }

    TEST_CASE("brk41/02: shell text — a value is never the script a shell or interpreter runs") {
        check_env({{"bash \"$N\"", true},
                   {"sh -x \"$N\" arg", true},
                   {"python3 -u \"$N\"", true},
                   {"perl -n $N", true},
                   {"node -- \"${N}\"", true},
                   {"sudo -u app bash \"$N\"", true},
                   {"env bash \"$N\"", true},
                   {"timeout 5 python3 \"/srv/$N\"", true},
                   {"exec ruby \"$N.rb\"", true},
                   {"bash \"$D\"/deploy.sh \"$N\"", false},
                   {"python3 /srv/tool.py \"$N\"", false},
                   {"bash /srv/x.sh \"$N\"", false},
                   {"echo bash \"$N\"", false}});
        CHECK(fed_value_use("python3 -u \"$1\"", {}, true) ==
              "the script python3 runs (its program file: the value would choose what runs)");
    }
}
