// The real umpd binary on a temporary runtime directory, driven over its control
// socket with raw protocol messages (docs/protocol.md): the default device, socket
// permissions, garbage, a second instance, a SIGKILLed client, config errors, reload
// and persistence, clean shutdown.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "daemon_process.hpp"
#include "umpd/ipc/control.hpp"
#include "umpd/ipc/fd.hpp"

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A raw protocol client: requests out, the reply with the same id back (events
// that arrive meanwhile are kept aside).
struct raw_client {
    umpd::ipc::unique_fd fd;
    std::vector<json> events;
    std::vector<umpd::ipc::unique_fd> last_fds;
    int next_id = 1;

    explicit raw_client(const std::string& dir) {
        if (auto ec = umpd::ipc::connect_control(dir, fd)) throw std::runtime_error("connect: " + ec.message());
        timeval tv{20, 0};  // against hangs only
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    bool send_raw(std::string_view text) { return !umpd::ipc::send_message(fd.get(), text); }
    // The next message that is not an event; null json when the socket closed.
    json receive_reply() {
        for (;;) {
            std::string text;
            if (umpd::ipc::receive_message(fd.get(), text, last_fds)) return json();
            json m = json::parse(text);
            if (m.contains("event")) {
                events.push_back(std::move(m));
                continue;
            }
            return m;
        }
    }
    json request(json req) {
        req["v"] = 1;
        req["id"] = next_id++;
        if (!send_raw(req.dump())) return json();
        json r = receive_reply();
        EXPECT_EQ(r.value("id", -1), req["id"].get<int>()) << r.dump();
        return r;
    }
    json ok(json req) {
        json r = request(req);
        EXPECT_TRUE(r.value("ok", false)) << req.dump() << " -> " << r.dump();
        return r.value("result", json());
    }
};

std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string make_temp_dir() {
    char tmpl[] = "/tmp/umpd-dt-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    return tmpl;
}

// umpd with a config file, on its own runtime dir.
struct configured_daemon {
    std::string dir = make_temp_dir();
    std::string config = dir + "-umpd.toml";
    pid_t pid = -1;

    explicit configured_daemon(const std::string& text) {
        std::ofstream(config) << text;
    }
    ~configured_daemon() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            (void)umpd_test::wait_exit(pid, std::chrono::seconds(10));
        }
        std::error_code ec;
        fs::remove_all(dir, ec);
        fs::remove(config, ec);
    }
    void start() {
        pid = umpd_test::spawn({UMPD_DAEMON_BINARY, "--runtime-dir", dir, "--config", config});
        const auto end = std::chrono::steady_clock::now() + 20s;
        while (!umpd_test::socket_answers(dir + "/control")) {
            ASSERT_LT(std::chrono::steady_clock::now(), end) << "umpd did not start";
            std::this_thread::sleep_for(10ms);
        }
    }
};

std::vector<std::string> endpoint_ids(raw_client& c) {
    std::vector<std::string> ids;
    const json list = c.ok({{"op", "list"}});  // kept: a loop over a temporary's member would dangle
    for (const auto& e : list["endpoints"]) ids.push_back(e["id"]);
    return ids;
}

TEST(umpd_daemon, publishes_the_default_device_on_a_private_socket) {
    umpd_test::daemon_process d;
    raw_client c(d.dir());
    const json hello = c.ok({{"op", "hello"}, {"client", "daemon_test"}});
    EXPECT_EQ(hello["protocol"], 1);
    EXPECT_EQ(hello["pid"], d.pid());
    const json list = c.ok({{"op", "list"}});
    ASSERT_EQ(list["endpoints"].size(), 1u);
    const json& ep = list["endpoints"][0];
    EXPECT_EQ(ep["id"], "virtual/umpd-virtual-device/1");
    EXPECT_EQ(ep["name"], "Port 1");
    EXPECT_EQ(ep["device"], "umpd Virtual Device");
    EXPECT_EQ(ep["driver"], "virtual");
    EXPECT_EQ(ep["protocol"], "midi2");
    EXPECT_EQ(ep["offline"], false);
    EXPECT_EQ(list["devices"][0]["manufacturer"], "umpd");
    EXPECT_EQ(list["devices"][0]["model"], "Virtual Device");

    struct stat st{};
    ASSERT_EQ(::stat((d.dir() + "/control").c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(d.dir().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(umpd_daemon, garbage_gets_bad_request_and_the_connection_stays) {
    umpd_test::daemon_process d;
    raw_client c(d.dir());
    const std::pair<std::string, std::string> cases[] = {
        {"not json at all", "not valid JSON"},
        {"[1,2,3]", "must be a JSON object"},
        {R"({"v":1,"id":1})", "missing field 'op'"},
        {R"({"v":1,"id":2,"op":7})", "field 'op' must be a string"},
        {R"({"v":1,"id":"x","op":"list"})", "field 'id' must be an integer"},
        {R"({"id":3,"op":"list"})", "missing field 'v'"},
        {R"({"v":1,"id":4,"op":"open"})", "missing field 'endpoint'"},
        {R"({"v":1,"id":5,"op":"open","endpoint":3})", "field 'endpoint' must be a string"},
        {R"({"v":1,"id":6,"op":"set_offline","device":"umpd Virtual Device","offline":"yes"})",
         "field 'offline' must be a boolean"},
        {std::string("{\"v\":1,\"id\":7,\"op\":\"list\"\xff}"), "not valid JSON"},
    };
    for (const auto& [text, message] : cases) {
        ASSERT_TRUE(c.send_raw(text));
        const json r = c.receive_reply();
        ASSERT_FALSE(r.is_null()) << "closed after " << text;
        EXPECT_EQ(r["ok"], false);
        EXPECT_EQ(r["error"]["code"], "bad_request") << text;
        EXPECT_NE(r["error"]["message"].get<std::string>().find(message), std::string::npos)
            << text << " -> " << r.dump();
    }
    EXPECT_EQ(c.request({{"op", "frobnicate"}})["error"]["code"], "unknown_op");
    json wrong_version = {{"v", 2}, {"id", 99}, {"op", "list"}};
    ASSERT_TRUE(c.send_raw(wrong_version.dump()));
    EXPECT_EQ(c.receive_reply()["error"]["code"], "unsupported_version");
    EXPECT_EQ(c.request({{"op", "open"}, {"endpoint", "virtual/nope/1"}})["error"]["code"], "not_found");
    // Still usable: a good request works and resets the count of bad ones.
    EXPECT_EQ(c.ok({{"op", "list"}})["endpoints"].size(), 1u);

    for (int i = 0; i < 15; ++i) {
        ASSERT_TRUE(c.send_raw("garbage"));
        ASSERT_FALSE(c.receive_reply().is_null()) << i;
    }
    ASSERT_TRUE(c.send_raw("garbage"));  // the 16th in a row
    EXPECT_FALSE(c.receive_reply().is_null());
    EXPECT_TRUE(c.receive_reply().is_null()) << "the connection should be closed after 16 bad requests";

    raw_client other(d.dir());  // umpd itself is fine
    EXPECT_EQ(other.ok({{"op", "status"}})["connections"], 0);
}

TEST(umpd_daemon, a_second_instance_on_the_same_runtime_dir_is_refused) {
    umpd_test::daemon_process d;
    const auto r = umpd_test::run({UMPD_DAEMON_BINARY, "--runtime-dir", d.dir(), "--no-config"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("umpd: another umpd (pid " + std::to_string(d.pid()) + ") is already running on " + d.dir()),
              std::string::npos)
        << r.err;
    raw_client c(d.dir());  // the first one is untouched, socket and all
    EXPECT_EQ(c.ok({{"op", "status"}})["pid"], d.pid());
}

TEST(umpd_daemon, a_sigkilled_client_is_reclaimed) {
    umpd_test::daemon_process d;
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        raw_client c(d.dir());
        for (int i = 0; i < 3; ++i) {
            json r = c.request({{"op", "open"}, {"endpoint", "virtual/umpd-virtual-device/1"}});
            if (!r.value("ok", false) || c.last_fds.size() != 3) ::_exit(3);
        }
        (void)::write(ready[1], "r", 1);
        for (;;) ::pause();
    }
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    raw_client watcher(d.dir());
    EXPECT_EQ(watcher.ok({{"op", "status"}})["connections"], 3);
    EXPECT_EQ(watcher.ok({{"op", "list"}})["endpoints"][0]["connections"], 3);
    ::kill(child, SIGKILL);
    EXPECT_EQ(umpd_test::wait_exit(child), 128 + SIGKILL);
    const auto end = std::chrono::steady_clock::now() + 20s;
    int connections = -1;
    while (std::chrono::steady_clock::now() < end) {
        connections = watcher.ok({{"op", "status"}})["connections"];
        if (connections == 0) break;
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(connections, 0);
    EXPECT_EQ(watcher.ok({{"op", "list"}})["endpoints"][0]["connections"], 0);
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST(umpd_daemon, runtime_changes_are_announced_and_sigterm_cleans_up) {
    umpd_test::daemon_process d;
    raw_client watcher(d.dir());
    watcher.ok({{"op", "subscribe"}});
    raw_client c(d.dir());
    const json added = c.ok({{"op", "add_port"}, {"device", "umpd Virtual Device"}, {"protocol", "midi1"}});
    EXPECT_EQ(added["id"], "virtual/umpd-virtual-device/2");
    EXPECT_EQ(added["protocol"], "midi1");
    EXPECT_EQ(c.ok({{"op", "set_offline"}, {"device", "virtual/umpd-virtual-device"}, {"offline", true}})["offline"],
              true);
    c.ok({{"op", "remove_port"}, {"endpoint", "virtual/umpd-virtual-device/2"}});
    const json lb = c.ok({{"op", "create_loopback"}, {"kind", "midi1"}, {"name", "loopMIDI Port"}});
    EXPECT_EQ(lb["id"], "virtual/loopmidi-port");
    EXPECT_EQ(c.request({{"op", "create_loopback"}, {"kind", "midi1"}, {"name", "loopMIDI Port"}})["error"]["code"],
              "already_exists");
    EXPECT_EQ(c.request({{"op", "add_port"}, {"device", "virtual/loopmidi-port"}})["error"]["code"],
              "invalid_argument");

    (void)watcher.ok({{"op", "status"}});  // events before this reply have arrived
    std::vector<std::string> seen;
    for (const auto& e : watcher.events) {
        if (e["event"] == "ports_changed") continue;  // MIDI 1.0 ports: tests/integration/discovery_test.cpp
        std::string s = e["event"];
        if (e.contains("phase")) s += ":" + e["phase"].get<std::string>();
        seen.push_back(s);
    }
    const std::vector<std::string> expected = {
        "configuration_change:requested", "configuration_change:performed", "endpoint_added", "device_changed",
        "device_changed", "endpoint_changed", "endpoint_changed",                 // offline
        "configuration_change:performed", "endpoint_removed", "device_changed",  // on a stopped device: at once
        "device_added", "endpoint_added"};
    EXPECT_EQ(seen, expected);

    ::kill(d.pid(), SIGTERM);
    EXPECT_EQ(umpd_test::wait_exit(d.pid()), 0);
    EXPECT_FALSE(fs::exists(d.dir() + "/control"));
    EXPECT_FALSE(fs::exists(d.dir() + "/umpd.lock"));
}

TEST(umpd_daemon, a_broken_config_stops_startup_with_file_line_and_field) {
    configured_daemon d("[[devices]]\nname = \"D\"\n[[devices.ports]]\nprotocol = \"midi3\"\n");
    const auto r = umpd_test::run({UMPD_DAEMON_BINARY, "--runtime-dir", d.dir, "--config", d.config});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("umpd: " + d.config + ":4: devices[0].ports[0].protocol: expected \"midi1\" or \"midi2\", got \"midi3\""),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(d.dir + "/control"));
}

TEST(umpd_daemon, reload_keeps_the_last_good_config_and_applies_differences) {
    configured_daemon d("[[devices]]\nname = \"Dev\"\nports = [ { name = \"One\" } ]\n");
    d.start();
    raw_client c(d.dir);
    EXPECT_EQ(endpoint_ids(c), std::vector<std::string>{"virtual/dev/1"});

    std::ofstream(d.config) << "[[devices]]\nname = \"Dev\"\nports = [ { name = \"One\" } ]\nbogus = 1\n";
    const json bad = c.request({{"op", "reload_config"}});
    EXPECT_EQ(bad["error"]["code"], "invalid_argument");
    EXPECT_EQ(bad["error"]["message"], d.config + ":4: devices[0].bogus: unknown field");
    EXPECT_EQ(endpoint_ids(c), std::vector<std::string>{"virtual/dev/1"});  // unchanged

    std::ofstream(d.config) << "[[devices]]\nname = \"Dev\"\nports = [ { name = \"One\" }, { name = \"Two\" } ]\n"
                               "[[loopbacks]]\nkind = \"diagnostics\"\nname = \"Diag\"\n";
    ::kill(d.pid, SIGHUP);
    const auto end = std::chrono::steady_clock::now() + 20s;
    std::vector<std::string> ids;
    const std::vector<std::string> want = {"virtual/dev/1", "virtual/dev/2", "virtual/diag/1"};
    while (std::chrono::steady_clock::now() < end && (ids = endpoint_ids(c)) != want) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(ids, want);

    // A run-time change is written back to the file, which stays valid.
    c.ok({{"op", "rename"}, {"endpoint", "virtual/dev/2"}, {"name", "Renamed"}});
    const std::string saved = read_all(d.config);
    EXPECT_NE(saved.find("name = \"Renamed\""), std::string::npos) << saved;
    EXPECT_NE(saved.find("kind = \"diagnostics\""), std::string::npos) << saved;
    EXPECT_TRUE(c.ok({{"op", "reload_config"}}).is_object());
    EXPECT_EQ(endpoint_ids(c), want);
}

}  // namespace
