// SPDX-License-Identifier: MIT
#include "report/html.hpp"

#include "util/secrets.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

using namespace rollback;

TEST_SUITE("report") {
    TEST_CASE("html: every text is masked and escaped and free of control characters") {
        util::register_secret("HtmlSecretQ1w2e3");
        CHECK(report::html_text("<b a=\"1\">'x' & y</b>") ==
              "&lt;b a=&quot;1&quot;&gt;&#39;x&#39; &amp; y&lt;/b&gt;");
        CHECK(report::html_text("token HtmlSecretQ1w2e3 end").find("HtmlSecretQ1w2e3") ==
              std::string::npos);
        CHECK(report::html_text("a\x1b[31mb") == "a\xEF\xBF\xBD[31mb");
        util::clear_secrets();
    }

    TEST_CASE(
        "html: the evidence chart draws the signal and breaks it at gaps and survives odd values") {
        report::Evidence e;
        e.condition = "errors <x>";
        e.signal = "web.error_rate";
        e.comparator = "above";
        e.threshold = 0.05;
        e.observed = 0.2;
        const auto t0 = util::SystemTime(std::chrono::seconds(1'800'000'000));
        for (int i = 0; i < 6; ++i) {
            std::optional<double> v = i == 3 ? std::nullopt : std::optional<double>(0.01 * i);
            e.series.push_back({t0 + std::chrono::seconds(10 * i), v, i > 3 ? "firing" : "ok"});
        }
        const std::string svg = report::evidence_svg(e, t0 + std::chrono::seconds(50));
        CHECK(svg.find("<svg class=\"chart\"") == 0);
        CHECK(svg.find("errors &lt;x&gt;") != std::string::npos);
        // a gap splits the line in two; the threshold is drawn and labelled
        size_t lines = 0;
        for (size_t p = svg.find("class=\"signal\""); p != std::string::npos;
             p = svg.find("class=\"signal\"", p + 1)) {
            ++lines;
        }
        CHECK(lines == 2);
        CHECK(svg.find("above 0.05") != std::string::npos);
        CHECK(svg.find("nan") == std::string::npos);
        // no samples at all, infinite values: still a well-formed drawing
        report::Evidence empty;
        empty.observed = std::numeric_limits<double>::infinity();
        const std::string none = report::evidence_svg(empty, t0);
        CHECK(none.find("</svg>") != std::string::npos);
        CHECK(none.find("inf") == std::string::npos);
    }

    TEST_CASE("html: a restore's timings and reconciliation read as words and a table") {
        auto d = boost::json::parse(
                     R"({"loss_window":"3m","timings":{"check_archive_s":1.862303E-1,)"
                     R"("restore_s":8.9E0},"reconcile":[{"table":"t<b>","missing":2,"changed":1,)"
                     R"("restored_only":0,"missing_csv":"/r/t%3Cb%3E.missing.csv",)"
                     R"("changed_csv":"/r/t%3Cb%3E.changed.csv"}]})")
                     .as_object();
        const std::string html = report::restore_details_html(d);
        CHECK(html.find("E-1") == std::string::npos);
        CHECK(html.find("{") == std::string::npos);
        CHECK(html.find("<dt>time: check archive</dt><dd>0.19 s</dd>") != std::string::npos);
        CHECK(html.find("<dt>time: restore</dt><dd>8.90 s</dd>") != std::string::npos);
        CHECK(html.find("<dt>loss window</dt><dd>3m</dd>") != std::string::npos);
        CHECK(html.find("<td>t&lt;b&gt;</td><td>2</td><td>1</td><td>0</td>") != std::string::npos);
        CHECK(html.find("<code>/r/t%3Cb%3E.missing.csv</code>") != std::string::npos);
        d["reconcile"] = boost::json::array();
        CHECK(report::restore_details_html(d).find("No reconciliation.") != std::string::npos);
    }

    TEST_CASE("html: values near the limits of a double are drawn without nan or inf") {
        report::Evidence e;
        e.condition = "huge";
        e.signal = "c.value";
        e.comparator = "above";
        e.threshold = 5;
        const auto t0 = util::SystemTime(std::chrono::seconds(1'800'000'000));
        const double values[] = {1e308, -1e308, 5, 1e-300, 0, 1e308};
        for (int i = 0; i < 6; ++i) {
            e.series.push_back({t0 + std::chrono::seconds(10 * i), values[i], "firing"});
        }
        e.observed = 1e308;
        const std::string svg = report::evidence_svg(e, t0 + std::chrono::seconds(50));
        CHECK(svg.find("nan") == std::string::npos);
        CHECK(svg.find("inf") == std::string::npos);
        size_t breaches = 0;
        for (size_t p = svg.find("class=\"breach\""); p != std::string::npos;
             p = svg.find("class=\"breach\"", p + 1)) {
            ++breaches;
        }
        CHECK(breaches == 6);
        // 1e308 at the top of the plot (y 16 + a tenth of the range padded), -1e308 at its bottom
        CHECK(svg.find("points=\"64.0,33.1 ") != std::string::npos);
        CHECK(svg.find(" 200.0,204.0 ") != std::string::npos);
    }
}
