// SPDX-License-Identifier: MIT
#include "playbook/hosts.hpp"

#include "util/encode.hpp"

#include <doctest/doctest.h>

using namespace rollback;

namespace {

std::string ph(const std::string& name) {
    return std::string(1, playbook::k_host_open) + name + playbook::k_host_close;
}

remote::Host web2() {
    remote::Host h;
    h.name = "web2";
    h.address = "10.0.0.2";
    h.vars = {{"deploy_root", "/srv/shop two"}, {"port", "8002"}};
    return h;
}

} // namespace

TEST_SUITE("playbook") {
    TEST_CASE("bind_host binds the action keys of a step and drops the parsed struct") {
        playbook::Step s;
        s.action = "release_switch";
        s.hosts = "web";
        s.params["deploy_root"] = ph("host.deploy_root");
        s.params["config_files"] = boost::json::array{"a/" + ph("host") + ".env"};
        s.params["wait_healthy"] = boost::json::object{
            {"url", "http://127.0.0.1:" + util::percent_encode(ph("host.port")) + "/h/" +
                        util::percent_encode(ph("host.deploy_root"))}};
        s.parsed = std::make_shared<playbook::ActionParams>();
        playbook::Step b = playbook::bind_host(s, web2());
        CHECK(b.params["deploy_root"].as_string() == "/srv/shop two");
        CHECK(b.params["config_files"].as_array()[0].as_string() == "a/web2.env");
        // in a URL the value is percent-encoded, like any value there
        CHECK(b.params["wait_healthy"].as_object()["url"].as_string() ==
              "http://127.0.0.1:8002/h/%2Fsrv%2Fshop%20two");
        CHECK(b.parsed == nullptr);
        CHECK(b.cwd == ".");
    }

    TEST_CASE("show_host_references shows placeholders as written") {
        CHECK(playbook::show_host_references(ph("host.deploy_root") + "/current") ==
              "{{host.deploy_root}}/current");
        CHECK(playbook::show_host_references("http://x:" + util::percent_encode(ph("host.port")) +
                                             "/") == "http://x:{{host.port}}/");
        CHECK(playbook::show_host_references("plain") == "plain");
    }
}
