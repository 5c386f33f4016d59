// Issue #4 through the real umpd: MIDI 1.0 ports of virtual endpoints, function blocks
// set at run time with the ports_changed event, custom names and port numbers that
// survive a restart (config file and state file), lookups, and umpd answering UMP
// discovery for its own virtual endpoint. Requests go through the SDK's generic
// client::call (protocol.md's ops as they are on the wire).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>

#include "client_session.hpp"
#include "daemon_process.hpp"
#include "umpd/core/messages.hpp"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
namespace client = umpd::client;
namespace core = umpd::core;

const std::string port1 = "virtual/umpd-virtual-device/1";

json call(client::client& c, const std::string& op, const json& fields = json::object()) {
    auto r = c.call(op, fields.dump());
    EXPECT_TRUE(r) << op << ": " << (r ? "" : r.message());
    return r ? json::parse(*r) : json();
}

// umpd with a config file and its own state directory (XDG_STATE_HOME), restartable.
struct configured_umpd {
    std::string dir;
    std::string config;
    std::string state_home;
    pid_t pid = -1;

    configured_umpd() {
        char tmpl[] = "/tmp/umpd-disc-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        config = dir + "-umpd.toml";
        state_home = dir + "-state";
        ::setenv("XDG_STATE_HOME", state_home.c_str(), 1);  // inherited by the daemon
        start();
    }
    ~configured_umpd() {
        stop();
        std::error_code ec;
        fs::remove_all(dir, ec);
        fs::remove_all(state_home, ec);
        fs::remove(config, ec);
        fs::remove(dir + ".log", ec);
    }
    void start() {
        const int log = ::open((dir + ".log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        pid = umpd_test::spawn({UMPD_DAEMON_BINARY, "--runtime-dir", dir, "--config", config}, log, log);
        ::close(log);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!umpd_test::socket_answers(dir + "/control")) {
            if (std::chrono::steady_clock::now() > end) throw std::runtime_error("umpd did not start; see " + dir + ".log");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    void stop() {
        if (pid <= 0) return;
        ::kill(pid, SIGTERM);
        (void)umpd_test::wait_exit(pid, std::chrono::seconds(10));
        pid = -1;
    }
    client::client connect(const char* name) const {
        client::options o;
        o.runtime_dir = dir;
        o.client_name = name;
        o.reconnect = false;
        auto c = client::client::connect(o);
        if (!c) throw std::runtime_error(c.message());
        return std::move(*c);
    }
};

json port_in(const json& ports, int group, const std::string& direction) {
    for (const auto& p : ports)
        if (p["group"] == group && p["direction"] == direction) return p;
    return json();
}

bool is_ports_changed(const client::event& e, const std::string& endpoint) {
    if (e.json.empty()) return false;
    const json j = json::parse(e.json, nullptr, false);
    return j.is_object() && j.value("event", "") == "ports_changed" && j.value("endpoint", "") == endpoint;
}

TEST(discovery, the_default_device_has_one_port_each_way_on_group_1) {
    umpd_test::daemon_process d;
    auto c = umpd_test::connect_client(d, "t");
    const json ports = call(c, "ports")["ports"];
    ASSERT_EQ(ports.size(), 2u);
    const json in = port_in(ports, 1, "in");
    EXPECT_EQ(in["name"], "Port 1");
    EXPECT_EQ(in["new_style"], "Port 1");
    EXPECT_EQ(in["endpoint"], port1);
    EXPECT_EQ(in["endpoint_name"], "Port 1");
    EXPECT_EQ(in["number"], 0);
    const json info = call(c, "endpoint_info", {{"endpoint", port1}});
    EXPECT_EQ(info["declared"]["name"], "Port 1");
    EXPECT_EQ(info["declared"]["protocol"], "midi2");
    EXPECT_EQ(info["declared"]["discovery"], "none");
    EXPECT_EQ(info["function_blocks"].size(), 0u);
    EXPECT_EQ(info["naming"], "default");
    EXPECT_EQ(call(c, "get_global_naming")["naming"], "automatic");
    const json by_number = call(c, "port_by_number", {{"number", 0}, {"direction", "out"}});
    EXPECT_EQ(by_number["port"]["endpoint"], port1);
    auto missing = c.call("port_by_number", json{{"number", 9}, {"direction", "out"}}.dump());
    EXPECT_FALSE(missing);
}

TEST(discovery, umpd_answers_discovery_for_its_virtual_endpoint) {
    umpd_test::daemon_process d;
    auto c = umpd_test::connect_client(d, "t");
    (void)call(c, "set_function_blocks",
               {{"endpoint", port1}, {"function_blocks", json::array({{{"name", "Lead"}, {"first_group", 1}}})}});
    auto k = c.open(port1);
    ASSERT_TRUE(k) << k.message();
    ASSERT_TRUE(k->send(core::make_endpoint_discovery(1, 1, core::discover_endpoint_info)));
    ASSERT_TRUE(k->send(core::make_function_block_discovery(core::all_function_blocks, core::discover_function_block_info)));
    auto m = umpd_test::receive_one(*k);
    ASSERT_TRUE(m);
    ASSERT_TRUE(core::as_stream(m->packet));
    EXPECT_EQ(core::stream_view{m->packet}.status(), core::stream_status::endpoint_info);
    EXPECT_EQ(core::as_endpoint_info(m->packet)->fields().function_block_count, 1);
    m = umpd_test::receive_one(*k);
    ASSERT_TRUE(m);
    EXPECT_EQ(core::stream_view{m->packet}.status(), core::stream_status::function_block_info);
}

TEST(discovery, function_blocks_at_run_time_change_the_ports_and_clients_hear_of_it) {
    umpd_test::daemon_process d;
    auto c = umpd_test::connect_client(d, "t");
    ASSERT_TRUE(c.subscribe());
    const json blocks = json::array({{{"name", "Synth"}, {"first_group", 1}, {"groups", 2}},
                                     {{"name", "Drums"}, {"first_group", 3}, {"direction", "input"}}});
    const json info = call(c, "set_function_blocks", {{"endpoint", port1}, {"function_blocks", blocks}});
    ASSERT_EQ(info["function_blocks"].size(), 2u);
    EXPECT_EQ(info["function_blocks"][1]["ui_hint"], "receiver");
    const auto e = umpd_test::wait_event(c, [](const client::event& ev) { return is_ports_changed(ev, port1); });
    ASSERT_TRUE(e);
    const json ev = json::parse(e->json);
    EXPECT_EQ(ev["ports"].size(), 5u);  // groups 1-2 both ways, group 3 out only
    const json ports = call(c, "ports", {{"endpoint", port1}, {"direction", "out"}})["ports"];
    ASSERT_EQ(ports.size(), 3u);
    EXPECT_EQ(port_in(ports, 3, "out")["name"], "Port 1 Drums group 3");
    EXPECT_EQ(port_in(ports, 1, "out")["name"], "Port 1 Synth group 1");
    EXPECT_EQ(call(c, "ports", {{"group", 3}, {"direction", "in"}})["ports"].size(), 0u);
    // Lookups by name: any style, and only legacy-compatible.
    EXPECT_EQ(call(c, "find_ports", {{"name", "Port 1 Drums group 3"}})["ports"].size(), 1u);
    EXPECT_EQ(call(c, "find_ports", {{"name", "MIDIOUT3 (Port 1)"}, {"legacy_only", true}})["ports"].size(), 1u);
    EXPECT_EQ(call(c, "find_ports", {{"name", "Port 1 Drums group 3"}, {"legacy_only", true}})["ports"].size(), 0u);
    // Blocks outside 1..16 are refused.
    auto bad = c.call("set_function_blocks",
                      json{{"endpoint", port1}, {"function_blocks", json::array({{{"first_group", 16}, {"groups", 2}}})}}.dump());
    EXPECT_FALSE(bad);
}

TEST(discovery, custom_names_and_numbers_survive_a_restart) {
    configured_umpd u;
    {
        auto c = u.connect("t");
        // A second device: two endpoints with their numbers.
        (void)call(c, "create_loopback", {{"kind", "midi1"}, {"name", "Loop"}});
        EXPECT_EQ(port_in(call(c, "ports", {{"endpoint", "virtual/loop/1"}})["ports"], 1, "in")["number"], 1);
        const json renamed =
            call(c, "rename_port", {{"endpoint", port1}, {"group", 1}, {"direction", "out"}, {"name", "To Synth"}});
        EXPECT_EQ(renamed["name"], "To Synth");
        EXPECT_EQ(renamed["custom"], "To Synth");
        (void)call(c, "set_naming", {{"endpoint", "virtual/loop/1"}, {"approach", "classic"}});
        (void)call(c, "set_global_naming", {{"naming", "new-style"}});
        // A port that does not exist cannot be renamed.
        EXPECT_FALSE(c.call("rename_port", json{{"endpoint", port1}, {"group", 5}, {"direction", "out"}, {"name", "x"}}.dump()));
    }
    EXPECT_TRUE(fs::exists(u.state_home + "/umpd/ports.toml"));
    u.stop();
    // The loopback goes from the config: its numbers stay reserved; a new one takes the next.
    std::string text;
    {
        std::ifstream f(u.config);
        std::ostringstream all;
        all << f.rdbuf();
        text = all.str();
    }
    const auto at = text.find("[[loopbacks]]");
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, std::string("[[loopbacks]]").size(), "[[loopbacks]]\nkind = \"midi1\"\nname = \"Other\"\n\n[[loopbacks]]");
    std::ofstream(u.config) << text;
    u.start();
    auto c = u.connect("t");
    const json out = port_in(call(c, "ports", {{"endpoint", port1}})["ports"], 1, "out");
    EXPECT_EQ(out["name"], "To Synth");
    EXPECT_EQ(out["number"], 0);
    EXPECT_EQ(port_in(call(c, "ports", {{"endpoint", "virtual/loop/1"}})["ports"], 1, "in")["number"], 1);
    EXPECT_EQ(port_in(call(c, "ports", {{"endpoint", "virtual/other/1"}})["ports"], 1, "in")["number"], 2);
    EXPECT_EQ(call(c, "endpoint_info", {{"endpoint", "virtual/loop/1"}})["naming"], "classic");
    EXPECT_EQ(call(c, "get_global_naming")["naming"], "new-style");
    // Clearing the custom name shows the generated one again.
    EXPECT_EQ(call(c, "rename_port", {{"endpoint", port1}, {"group", 1}, {"direction", "out"}, {"name", ""}})["name"],
              "Port 1");
}

}  // namespace
