// The real umpctl binary (UMPCTL_BINARY) against a real umpd: output shapes scripts
// depend on, the verbs' effects, errors and exit codes.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon_process.hpp"

namespace {

using json = nlohmann::json;
using umpd_test::run;
using umpd_test::run_result;

constexpr const char* endpoint1 = "virtual/umpd-virtual-device/1";

run_result umpctl(const umpd_test::daemon_process& d, std::vector<std::string> args) {
    return umpd_test::run_umpctl(d, std::move(args));
}

json list_json(const umpd_test::daemon_process& d) {
    const auto r = umpctl(d, {"list", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out);
}

std::size_t count_lines(const std::string& s) {
    std::size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

// A monitor running in the background: started, then waited for until it listens.
struct background_monitor {
    pid_t pid = -1;
    int out = -1;
    int err = -1;
    background_monitor(const umpd_test::daemon_process& d, const std::string& count) {
        int o[2], e[2];
        if (::pipe2(o, O_CLOEXEC) != 0 || ::pipe2(e, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        pid = umpd_test::spawn({UMPCTL_BINARY, "monitor", endpoint1, "--json", "--count", count, "--timeout", "30",
                                "--runtime-dir", d.dir()},
                               o[1], e[1]);
        ::close(o[1]);
        ::close(e[1]);
        out = o[0];
        err = e[0];
        // The monitor says on stderr when it listens.
        std::string said;
        char ch;
        while (said.find('\n') == std::string::npos && ::read(err, &ch, 1) == 1) said += ch;
        if (said.find("monitoring") == std::string::npos) throw std::runtime_error("monitor did not start: " + said);
    }
    // Everything it printed, one JSON object per line, and its exit code.
    std::vector<json> finish(int& code) {
        std::string text;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(out, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
        ::close(out);
        ::close(err);
        code = umpd_test::wait_exit(pid);
        std::istringstream lines(text);
        std::string line;
        std::vector<json> got;
        while (std::getline(lines, line)) got.push_back(json::parse(line));
        return got;
    }
};

TEST(umpctl, list_json_shape) {
    umpd_test::daemon_process d;
    const json j = list_json(d);
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 1u);
    const auto& e = j[0];
    EXPECT_EQ(e.at("id"), endpoint1);
    EXPECT_TRUE(e.at("name").is_string());
    EXPECT_TRUE(e.at("device").is_string());
    EXPECT_EQ(e.at("driver"), "virtual");
    EXPECT_TRUE(e.at("protocol") == "midi1" || e.at("protocol") == "midi2");
    EXPECT_EQ(e.at("offline"), false);

    const auto table = umpctl(d, {"list"});
    EXPECT_EQ(table.code, 0);
    EXPECT_NE(table.out.find(endpoint1), std::string::npos);
    const auto status = umpctl(d, {"status"});
    EXPECT_EQ(status.code, 0) << status.err;
    EXPECT_NE(status.out.find("connections"), std::string::npos);
    const auto status_json = umpctl(d, {"status", "--json"});
    EXPECT_EQ(status_json.code, 0);
    EXPECT_TRUE(json::parse(status_json.out).contains("pid"));
}

TEST(umpctl, send_and_monitor_json) {
    umpd_test::daemon_process d;
    background_monitor monitor(d, "3");

    EXPECT_EQ(umpctl(d, {"send", endpoint1, "40903c00", "c8000000"}).code, 0);
    const auto readable = umpctl(d, {"send", endpoint1, "note-on", "--note", "60", "--velocity", "100", "--protocol", "midi1"});
    EXPECT_EQ(readable.code, 0) << readable.err;
    EXPECT_EQ(umpctl(d, {"send", endpoint1, "20803c00", "--at", "+20"}).code, 0);

    int code = -1;
    const auto got = monitor.finish(code);
    EXPECT_EQ(code, 0);
    ASSERT_EQ(got.size(), 3u);
    const std::regex hex("^[0-9a-f]{8}$");
    for (const auto& m : got) {
        ASSERT_TRUE(m.at("timestamp_ns").is_number_unsigned());
        EXPECT_GT(m.at("timestamp_ns").get<std::uint64_t>(), 0u);
        for (const auto& w : m.at("words")) EXPECT_TRUE(std::regex_match(w.get<std::string>(), hex)) << w;
    }
    EXPECT_EQ(got[0]["words"], json({"40903c00", "c8000000"}));
    EXPECT_EQ(got[1]["words"], json({"20903c64"}));
    EXPECT_EQ(got[2]["words"], json({"20803c00"}));
    EXPECT_GE(got[2]["timestamp_ns"].get<std::uint64_t>(), got[1]["timestamp_ns"].get<std::uint64_t>());
}

TEST(umpctl, monitor_text_times_out_with_statistics) {
    umpd_test::daemon_process d;
    const auto r = umpctl(d, {"monitor", endpoint1, "--timeout", "0.2"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("0 messages"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("jitter"), std::string::npos) << r.out;
}

TEST(umpctl, device_verbs) {
    umpd_test::daemon_process d;
    const auto add = umpctl(d, {"device", "add-port", "virtual/umpd-virtual-device", "--name", "Extra", "--protocol", "midi1"});
    ASSERT_EQ(add.code, 0) << add.err;
    EXPECT_EQ(add.out, "virtual/umpd-virtual-device/2\n");
    json j = list_json(d);
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[1]["name"], "Extra");
    EXPECT_EQ(j[1]["protocol"], "midi1");

    EXPECT_EQ(umpctl(d, {"device", "rename", "Extra", "Renamed"}).code, 0);
    EXPECT_EQ(umpctl(d, {"device", "offline", "virtual/umpd-virtual-device", "on"}).code, 0);
    j = list_json(d);
    EXPECT_EQ(j[1]["name"], "Renamed");
    EXPECT_EQ(j[0]["offline"], true);
    EXPECT_EQ(umpctl(d, {"device", "offline", "virtual/umpd-virtual-device", "off"}).code, 0);
    EXPECT_EQ(list_json(d)[0]["offline"], false);

    EXPECT_EQ(umpctl(d, {"device", "remove-port", "virtual/umpd-virtual-device/2"}).code, 0);
    EXPECT_EQ(list_json(d).size(), 1u);
    const auto again = umpctl(d, {"device", "remove-port", "virtual/umpd-virtual-device/2"});
    EXPECT_EQ(again.code, 1);
    EXPECT_EQ(count_lines(again.err), 1u) << again.err;
    EXPECT_EQ(again.err.rfind("umpctl device: ", 0), 0u) << again.err;
}

TEST(umpctl, loopback_verbs) {
    umpd_test::daemon_process d;
    const auto pair = umpctl(d, {"loopback", "create", "pair", "Alpha", "Beta"});
    ASSERT_EQ(pair.code, 0) << pair.err;
    const std::string device = pair.out.substr(0, pair.out.find('\n'));
    EXPECT_EQ(list_json(d).size(), 3u);
    const auto diag = umpctl(d, {"loopback", "create", "diagnostics", "Diag"});
    ASSERT_EQ(diag.code, 0) << diag.err;
    const auto listed = umpctl(d, {"loopback", "list", "--json"});
    ASSERT_EQ(listed.code, 0);
    EXPECT_EQ(json::parse(listed.out).size(), 2u);
    EXPECT_EQ(umpctl(d, {"loopback", "remove", device}).code, 0);
    EXPECT_EQ(json::parse(umpctl(d, {"loopback", "list", "--json"}).out).size(), 1u);
    EXPECT_EQ(umpctl(d, {"loopback", "create", "bogus", "X"}).code, 2);
    EXPECT_EQ(umpctl(d, {"loopback", "remove", "virtual/nothing"}).code, 1);
}

TEST(umpctl, errors_are_one_line_and_non_zero) {
    umpd_test::daemon_process d;
    const auto unknown = umpctl(d, {"send", "virtual/nope/1", "20903c64"});
    EXPECT_EQ(unknown.code, 1);
    EXPECT_EQ(count_lines(unknown.err), 1u) << unknown.err;

    const auto malformed = umpctl(d, {"send", endpoint1, "20f03c64"});
    EXPECT_EQ(malformed.code, 1);
    EXPECT_NE(malformed.err.find("not valid UMP"), std::string::npos) << malformed.err;

    const auto truncated = umpctl(d, {"send", endpoint1, "40903c00"});
    EXPECT_EQ(truncated.code, 1);
    EXPECT_EQ(count_lines(truncated.err), 1u) << truncated.err;

    EXPECT_EQ(umpctl(d, {"send", endpoint1}).code, 2);
    EXPECT_EQ(umpctl(d, {"device", "offline", "virtual/umpd-virtual-device", "maybe"}).code, 2);
    EXPECT_EQ(umpctl(d, {"list", "--bogus", "1"}).code, 2);

    const auto absent = run({UMPCTL_BINARY, "list", "--runtime-dir", d.dir() + "/nowhere"});
    EXPECT_EQ(absent.code, 1);
    EXPECT_NE(absent.err.find("not running"), std::string::npos) << absent.err;
    EXPECT_EQ(count_lines(absent.err), 1u) << absent.err;

    for (const char* verb : {"status", "list", "device", "loopback", "send", "monitor", "play-notes", "service", "bench"}) {
        const auto help = run({UMPCTL_BINARY, verb, "--help"});
        EXPECT_EQ(help.code, 0) << verb;
        EXPECT_EQ(help.out.rfind("usage: umpctl ", 0), 0u) << verb;
    }
}

TEST(umpctl, play_notes_reach_a_monitor) {
    umpd_test::daemon_process d;
    background_monitor monitor(d, "4");
    const auto play = umpctl(d, {"play-notes", endpoint1, "--notes", "60,62", "--bpm", "600"});
    EXPECT_EQ(play.code, 0) << play.err;
    int code = -1;
    std::vector<std::string> messages;
    for (const auto& m : monitor.finish(code)) messages.push_back(m.at("message"));
    EXPECT_EQ(code, 0);
    EXPECT_EQ(messages, (std::vector<std::string>{"Note On", "Note Off", "Note On", "Note Off"}));
}

TEST(umpctl, bench_json_shapes) {
    umpd_test::daemon_process d;
    const auto lat = umpctl(d, {"bench", "latency", "--json", "--messages", "2000"});
    ASSERT_EQ(lat.code, 0) << lat.err;
    const json l = json::parse(lat.out);
    for (const char* key : {"messages", "p50_ns", "p99_ns", "max_ns", "floor_p50_ns", "floor_p99_ns"})
        EXPECT_TRUE(l.contains(key) && l[key].is_number()) << key;
    EXPECT_EQ(l["messages"], 2000);
    EXPECT_LE(l["p50_ns"].get<double>(), l["p99_ns"].get<double>());
    EXPECT_LE(l["p99_ns"].get<double>(), l["max_ns"].get<double>());

    const auto tp = umpctl(d, {"bench", "throughput", "--json", "--messages", "100000"});
    ASSERT_EQ(tp.code, 0) << tp.err;
    const json t = json::parse(tp.out);
    EXPECT_EQ(t["received"], 100000);
    EXPECT_GT(t["messages_per_s"].get<double>(), 0.0);
    // The scratch loopbacks are gone afterwards.
    EXPECT_EQ(json::parse(umpctl(d, {"loopback", "list", "--json"}).out).size(), 0u);
}

TEST(umpctl, bench_latency_many_clients_json) {
    umpd_test::daemon_process d;
    const auto r = umpctl(d, {"bench", "latency", "--clients", "4", "--ports", "8", "--messages", "2000", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const json j = json::parse(r.out);
    for (const char* key : {"messages", "received", "lost", "clients", "ports", "p50_ns", "p99_ns", "max_ns",
                            "worst_client_p50_ns", "floor_p50_ns", "floor_p99_ns", "concurrent_floor_p50_ns",
                            "concurrent_floor_p99_ns", "ratio_p50", "ratio_p99", "concurrent_ratio_p50",
                            "concurrent_ratio_p99"})
        EXPECT_TRUE(j.contains(key) && j[key].is_number()) << key;
    EXPECT_EQ(j["messages"], 2000);
    EXPECT_EQ(j["received"], 2000);  // every round trip came back
    EXPECT_EQ(j["lost"], 0);
    EXPECT_EQ(j["clients"], 4);
    EXPECT_EQ(j["ports"], 8);
    EXPECT_EQ(j["verdict_reference"], "single_pair_floor");
    EXPECT_TRUE(j["targets_met"].is_boolean());
    EXPECT_LE(j["p50_ns"].get<double>(), j["p99_ns"].get<double>());
    EXPECT_LE(j["p99_ns"].get<double>(), j["max_ns"].get<double>());
    EXPECT_GE(j["worst_client_p50_ns"].get<double>(), j["p50_ns"].get<double>());
    // Its 8 scratch loopbacks are gone; the default device is untouched.
    EXPECT_EQ(json::parse(umpctl(d, {"loopback", "list", "--json"}).out).size(), 0u);
    EXPECT_EQ(list_json(d).size(), 1u);

    // Ports must divide among the clients; a usage error, nothing created.
    EXPECT_EQ(umpctl(d, {"bench", "latency", "--clients", "3", "--ports", "8"}).code, 2);
    EXPECT_EQ(json::parse(umpctl(d, {"loopback", "list", "--json"}).out).size(), 0u);
}

TEST(umpctl, service_install_writes_the_unit) {
    char tmpl[] = "/tmp/umpctl-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const auto r = run({UMPCTL_BINARY, "service", "install", "--no-start", "--unit-dir", dir, "--umpd", "/usr/bin/umpd"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::ifstream in(dir + "/umpd.service");
    std::stringstream unit;
    unit << in.rdbuf();
    EXPECT_NE(unit.str().find("ExecStart=/usr/bin/umpd"), std::string::npos) << unit.str();
    EXPECT_NE(unit.str().find("[Install]"), std::string::npos);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

}  // namespace
