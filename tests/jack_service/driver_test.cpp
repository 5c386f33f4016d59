// The JACK driver in the service, end to end: a real umpd (tools/umpd) with [jack]
// pointing at a private `jackd -d dummy`, and independent JACK clients — jack_lsp,
// jack_connect, jack_midi_dump, python3-rtmidi, and umpd::jack::client as a peer that
// sends and receives at known frames — plus umpctl and the SDK on umpd's side.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "umpd/client/client.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/core/reassembly.hpp"
#include "umpd/jack/client.hpp"
#include "../jack/sysex_messages.hpp"
#include "umpd_with_jack.hpp"

namespace umpd::jack {
namespace {

using test::child_process;
using test::connect_ports;
using test::has_port;
using test::jack_server;
using test::list_ports;
using test::now_ns;
using test::run;
using test::sysex_bytes;
using test::sysex_packets;
using test::umpd_with_jack;
using test::wait_until;

constexpr std::uint64_t frame_ns = 1'000'000'000ull / 48000;  // the test servers run at 48 kHz

std::string test_dir() {
    const std::string f = __FILE__;
    return f.substr(0, f.rfind('/'));
}
std::string rtmidi_send_script() { return test_dir() + "/../jack/rtmidi_send.py"; }

bool lacks_port(const std::string& name) { return list_ports().count(name) == 0; }

// The names umpctl shows for the MIDI 1.0 ports (the name table): "in"/"out" → names.
std::multiset<std::string> table_names(const umpd_with_jack& u) {
    std::multiset<std::string> names;
    static const std::regex re(R"(^\s*\d+\s+(in|out)\s+\d+\s+\"(.*)\"\s*$)");
    std::istringstream in(u.umpctl({"ports"}).out);
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, re)) names.insert(m[1].str() + " " + m[2].str());
    }
    return names;
}

// jack_midi_dump -a output: the byte strings of its events, in order.
std::vector<std::string> dumped(const child_process& dump) {
    std::vector<std::string> events;
    std::istringstream in(dump.output());
    std::string line;
    static const std::regex re(R"(^\s*\d+:\s*((?:[0-9a-fA-F]{2}\s*)+))");
    while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_search(line, m, re)) continue;
        std::string hex;
        for (char c : m[1].str())
            if (c != ' ' && c != '\t') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        events.push_back(hex);
    }
    return events;
}
bool dump_has(const child_process& dump, const std::string& hex) {
    const auto e = dumped(dump);
    return std::find(e.begin(), e.end(), hex) != e.end();
}

umpd::client::connection open_endpoint(umpd::client::client& c, const std::string& endpoint) {
    auto k = c.open(endpoint);
    if (!k) throw std::runtime_error("open " + endpoint + ": " + k.message());
    return std::move(*k);
}

umpd::client::client connect_sdk(const umpd_with_jack& u) {
    umpd::client::options o;
    o.runtime_dir = u.runtime_dir();
    o.client_name = "jack-service-test";
    auto c = umpd::client::client::connect(o);
    if (!c) throw std::runtime_error(c.message());
    return std::move(*c);
}

// Collects what an SDK connection receives until `done` holds (or the guard expires).
std::vector<ipc::timed_packet> receive_until(umpd::client::connection& k,
                                             const std::function<bool(const std::vector<ipc::timed_packet>&)>& done) {
    std::vector<ipc::timed_packet> got;
    wait_until([&] {
        ipc::timed_packet m;
        while (k.receive(m)) got.push_back(m);
        return done(got);
    });
    return got;
}

// A JACK peer in the test: umpd::jack::client with an output "out" and an input "in".
struct jack_peer {
    explicit jack_peer(const jack_server& server, const std::string& name) : c(config(server, name)) {
        EXPECT_FALSE(c.add_port(port_spec{1, naming::port_direction::source, 0, "out", {}}));
        EXPECT_FALSE(c.add_port(port_spec{2, naming::port_direction::destination, 0, "in", {}}));
        EXPECT_FALSE(c.start());
    }
    static client_config config(const jack_server& server, const std::string& name) {
        client_config cc;
        cc.client_name = name;
        cc.server_name = server.name();
        cc.outgoing_capacity = 16384;
        return cc;
    }
    std::vector<incoming_message> take_until(const std::function<bool(const std::vector<incoming_message>&)>& done) {
        return test::receive_until(c, done);
    }
    client c;
};

// umpd shuts down cleanly (under ASan: without findings).
void expect_clean_exit(umpd_with_jack& u) {
    EXPECT_EQ(u.stop(), 0) << u.log_text();
    const std::string log = u.log_text();
    EXPECT_EQ(log.find("Sanitizer"), std::string::npos) << log;
    EXPECT_EQ(log.find("runtime error"), std::string::npos) << log;
}

class jack_service_test : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(server.start()) << server.log();
        umpd = std::make_unique<umpd_with_jack>(test::config_text(server.name()));
        ASSERT_TRUE(wait_until([&] { return has_port("umpd:Port 1") && has_port("umpd:Port 1 (in)"); }))
            << run("jack_lsp -A") << umpd->log_text();
    }
    // umpd shuts down cleanly after every test (under ASan: without findings).
    void TearDown() override {
        if (umpd) expect_clean_exit(*umpd);
        umpd.reset();
    }

    jack_server server;
    std::unique_ptr<umpd_with_jack> umpd;
};

// ---- ports and names -----------------------------------------------------------------

TEST_F(jack_service_test, EveryMidi1PortIsAJackPortNamedByTheTable) {
    // umpctl's name table: "Port 1" in and out, "Diag" in and out.
    const std::multiset<std::string> table = table_names(*umpd);
    ASSERT_EQ(table, (std::multiset<std::string>{"in Diag", "in Port 1", "out Diag", "out Port 1"}))
        << umpd->umpctl({"ports"}).out;
    std::map<std::string, std::vector<std::string>> ports;
    ASSERT_TRUE(wait_until([&] {
        ports = list_ports();
        return ports.count("umpd:Diag") && ports.count("umpd:Diag (in)");
    })) << run("jack_lsp -A");
    // A source (umpctl "in": messages come from the endpoint) is a JACK output; the
    // destination of the same name gets JACK's unique-name suffix.
    EXPECT_EQ(test::ports_of_client("umpd"),
              (std::vector<std::string>{"umpd:Diag", "umpd:Diag (in)", "umpd:Port 1", "umpd:Port 1 (in)"}));
    EXPECT_EQ(ports.at("umpd:Port 1"), std::vector<std::string>{"umpd Virtual Device: Port 1"});
    EXPECT_EQ(ports.at("umpd:Diag"), std::vector<std::string>{"Diag: Diag"});
    const std::string props = run("jack_lsp -p 'umpd:Port 1'") + run("jack_lsp -p 'umpd:Port 1 (in)'");
    EXPECT_NE(props.find("output"), std::string::npos) << props;
    EXPECT_NE(props.find("input"), std::string::npos) << props;
    const std::string line = umpd->jack_status_line();
    EXPECT_NE(line.find("running"), std::string::npos) << line;
    EXPECT_NE(line.find("client 'umpd' on server '" + server.name() + "', 4 ports"), std::string::npos) << line;
}

TEST_F(jack_service_test, PortsFollowTheEndpointsAtRunTime) {
    const std::string dev = "virtual/umpd-virtual-device";
    auto r = umpd->umpctl({"device", "add-port", dev, "--name", "Extra Keys"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(wait_until([] { return has_port("umpd:Extra Keys") && has_port("umpd:Extra Keys (in)"); }))
        << run("jack_lsp");
    EXPECT_EQ(list_ports().at("umpd:Extra Keys"), std::vector<std::string>{"umpd Virtual Device: Extra Keys"});

    r = umpd->umpctl({"device", "rename", dev + "/2", "Lead Synth"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(wait_until([] { return has_port("umpd:Lead Synth") && lacks_port("umpd:Extra Keys"); }))
        << run("jack_lsp");
    EXPECT_TRUE(has_port("umpd:Lead Synth (in)"));

    // A custom name from the name table (umpctl ports rename) renames the JACK port too.
    r = umpd->umpctl({"ports", "rename", dev + "/2", "--group", "1", "--direction", "in", "Lead Out"});
    ASSERT_EQ(r.code, 0) << r.err << r.out;
    ASSERT_TRUE(wait_until([] { return has_port("umpd:Lead Out") && lacks_port("umpd:Lead Synth"); }))
        << run("jack_lsp");

    // Offline: every port of the device leaves JACK; the loopback stays. Online: back.
    r = umpd->umpctl({"device", "offline", dev, "on"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(wait_until([] {
        return lacks_port("umpd:Port 1") && lacks_port("umpd:Port 1 (in)") && lacks_port("umpd:Lead Out");
    })) << run("jack_lsp");
    EXPECT_TRUE(has_port("umpd:Diag"));
    r = umpd->umpctl({"device", "offline", dev, "off"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(wait_until([] { return has_port("umpd:Port 1") && has_port("umpd:Lead Out"); })) << run("jack_lsp");

    r = umpd->umpctl({"device", "remove-port", dev + "/2"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(wait_until([] { return lacks_port("umpd:Lead Out") && lacks_port("umpd:Lead Synth (in)"); }))
        << run("jack_lsp");
    EXPECT_TRUE(has_port("umpd:Port 1"));

    // Data still flows on the port that stayed through all of it.
    child_process dump({"stdbuf", "-oL", "jack_midi_dump", "-a", "dump-follow"}, server.dir() + "/dump-follow.txt");
    ASSERT_TRUE(wait_until([] { return has_port("dump-follow:input"); }));
    ASSERT_TRUE(connect_ports("umpd:Port 1", "dump-follow:input"));
    const auto out = run("/usr/bin/python3 " + rtmidi_send_script() + " rt-follow 'umpd:Port 1 (in)' 903c64 2>&1");
    EXPECT_TRUE(wait_until([&] { return dump_has(dump, "903c64"); })) << out << dump.output();
}

// ---- data ----------------------------------------------------------------------------

// python3-rtmidi → umpd's loopback port → jack_midi_dump, and an SDK client on the same
// endpoint sees the UMP in between; the SDK's MIDI 2.0 note goes out to JACK as MIDI 1.0.
TEST_F(jack_service_test, BothDirectionsThroughTheLoopbackPort) {
    child_process dump({"stdbuf", "-oL", "jack_midi_dump", "-a", "dump-both"}, server.dir() + "/dump-both.txt");
    ASSERT_TRUE(wait_until([] { return has_port("dump-both:input"); }));
    ASSERT_TRUE(connect_ports("umpd:Port 1", "dump-both:input"));
    auto sdk = connect_sdk(*umpd);
    auto k = open_endpoint(sdk, "virtual/umpd-virtual-device/1");

    const auto out =
        run("/usr/bin/python3 " + rtmidi_send_script() + " rt-both 'umpd:Port 1 (in)' 903c64 b00740 2>&1");
    ASSERT_NE(out.find("sent"), std::string::npos) << out;
    EXPECT_TRUE(wait_until([&] { return dump_has(dump, "903c64") && dump_has(dump, "b00740"); })) << dump.output();
    // JACK → umpd: MIDI 1.0 bytes became UMP on group 1 (the port's group).
    const auto got = receive_until(k, [](const auto& m) { return m.size() >= 2; });
    ASSERT_GE(got.size(), 2u);
    EXPECT_EQ(got[0].packet, core::make_midi1_note_on({}, {}, 0x3C, 0x64));
    EXPECT_EQ(core::type_of(got[1].packet.words[0]), core::message_type::midi1_channel_voice);

    // umpd → JACK: a MIDI 2.0 note from an application, translated for JACK.
    ASSERT_TRUE(k.send(core::make_midi2_note_on({}, core::channel{2}, 0x40, 0xFFFF, 0, 0)));
    EXPECT_TRUE(wait_until([&] { return dump_has(dump, "92407f"); })) << dump.output();
    // A utility message has no group, so no MIDI 1.0 port: nothing reaches JACK for it,
    // and what follows still does.
    ASSERT_TRUE(k.send(core::make_jr_clock(1234)));
    ASSERT_TRUE(k.send(core::make_midi1_note_on({}, core::channel{3}, 0x41, 0x22)));
    EXPECT_TRUE(wait_until([&] { return dump_has(dump, "934122"); })) << dump.output();
    EXPECT_EQ(dumped(dump), (std::vector<std::string>{"903c64", "b00740", "92407f", "934122"})) << dump.output();
}

// A SysEx bigger than JACK's MIDI buffer (32 KiB a cycle): into umpd over several
// cycles, through the loopback, out again over several cycles, whole and in order.
TEST_F(jack_service_test, SysexBiggerThanOneJackBufferBothWays) {
    jack_peer peer(server, "peer-sx");
    ASSERT_TRUE(connect_ports("peer-sx:out", "umpd:Port 1 (in)"));
    ASSERT_TRUE(connect_ports("umpd:Port 1", "peer-sx:in"));
    std::vector<std::uint8_t> sx(40000);
    for (std::size_t i = 0; i < sx.size(); ++i) sx[i] = static_cast<std::uint8_t>((i * 7 + 3) & 0x7F);

    ASSERT_EQ(peer.c.send(1, 0, core::make_midi1_note_on({}, {}, 1, 1)), send_status::ok);
    for (const auto& p : sysex_packets(sx)) ASSERT_EQ(peer.c.send(1, 0, p), send_status::ok);
    ASSERT_EQ(peer.c.send(1, 0, core::make_midi1_note_on({}, {}, 2, 2)), send_status::ok);

    const auto got = peer.take_until([](const auto& m) {
        return !m.empty() && m.back().packet == core::make_midi1_note_on({}, {}, 2, 2);
    });
    if (sysex_bytes(got) != sx && (peer.c.counters().xruns > 0))
        GTEST_SKIP() << "JACK reported an xrun (a cycle lost on this loaded machine)";
    ASSERT_GE(got.size(), 3u);
    EXPECT_EQ(got.front().packet, core::make_midi1_note_on({}, {}, 1, 1));
    EXPECT_EQ(got.back().packet, core::make_midi1_note_on({}, {}, 2, 2));
    EXPECT_EQ(sysex_bytes(got), sx);
    const auto mine = peer.c.counters(1);
    ASSERT_TRUE(mine);
    EXPECT_GT(mine->deferred, 0u) << "the SysEx should not have fitted one cycle going in";
    EXPECT_EQ(umpd->jack_status_line().find("undeliverable"), std::string::npos) << umpd->jack_status_line();
}

// JACK → umpd: each event carries the time of its frame. The peer writes notes 1 ms
// (48 frames) apart; the diagnostics loopback keeps the stamps umpd gave them, and an
// SDK client reads them: 1 ms apart, at the time the peer asked for. umpd → JACK:
// nothing is written before its time.
TEST_F(jack_service_test, TimestampsMapToTheFrames) {
    ASSERT_TRUE(wait_until([] { return has_port("umpd:Diag") && has_port("umpd:Diag (in)"); }));
    jack_peer peer(server, "peer-time");
    ASSERT_TRUE(connect_ports("peer-time:out", "umpd:Diag (in)"));
    ASSERT_TRUE(connect_ports("umpd:Diag", "peer-time:in"));
    auto sdk = connect_sdk(*umpd);
    auto k = open_endpoint(sdk, "Diag");

    constexpr int count = 8;
    std::vector<ipc::timed_packet> got;
    std::uint64_t t0 = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {  // a late dummy cycle can shift a burst
        t0 = now_ns() + 50'000'000;
        for (int i = 0; i < count; ++i)
            ASSERT_EQ(peer.c.send(1, t0 + static_cast<std::uint64_t>(i) * 1'000'000,
                                  core::make_midi1_note_on({}, {}, static_cast<std::uint8_t>(60 + i), 100)),
                      send_status::ok);
        got = receive_until(k, [](const auto& m) { return m.size() >= count; });
        ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
        bool exact = true;
        for (int i = 0; i < count; ++i) {
            const auto want = static_cast<std::int64_t>(t0 + static_cast<std::uint64_t>(i) * 1'000'000);
            if (std::llabs(static_cast<std::int64_t>(got[static_cast<std::size_t>(i)].timestamp_ns) - want) >
                static_cast<std::int64_t>(2 * frame_ns))
                exact = false;
        }
        if (exact || peer.c.counters().xruns == 0) break;
    }
    for (int i = 0; i < count; ++i) {
        const auto& m = got[static_cast<std::size_t>(i)];
        EXPECT_EQ(m.packet, core::make_midi1_note_on({}, {}, static_cast<std::uint8_t>(60 + i), 100));
        const auto want = static_cast<std::int64_t>(t0 + static_cast<std::uint64_t>(i) * 1'000'000);
        EXPECT_LE(std::llabs(static_cast<std::int64_t>(m.timestamp_ns) - want), static_cast<std::int64_t>(2 * frame_ns))
            << "note " << i << ": stamped " << m.timestamp_ns << ", sent for " << want;
    }

    // umpd → JACK: messages scheduled 1 ms apart leave umpd at their time and reach the
    // peer in order, never stamped before their time (the first frame of the next cycle).
    const std::uint64_t t1 = now_ns() + 50'000'000;
    for (int i = 0; i < count; ++i)
        ASSERT_TRUE(k.send(core::make_midi1_note_on({}, {}, static_cast<std::uint8_t>(70 + i), 90),
                           t1 + static_cast<std::uint64_t>(i) * 1'000'000));
    // The loopback also sent the first burst back to the peer: only notes 70.. count here.
    auto is_second = [](const incoming_message& m) { return ((m.packet.words[0] >> 8) & 0x7Fu) >= 70; };
    auto back = peer.take_until([&](const auto& m) { return std::count_if(m.begin(), m.end(), is_second) >= count; });
    std::erase_if(back, [&](const incoming_message& m) { return !is_second(m); });
    ASSERT_EQ(back.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        const auto& m = back[static_cast<std::size_t>(i)];
        EXPECT_EQ(m.packet, core::make_midi1_note_on({}, {}, static_cast<std::uint8_t>(70 + i), 90));
        EXPECT_GE(m.timestamp_ns + frame_ns, t1 + static_cast<std::uint64_t>(i) * 1'000'000) << "note " << i;
        if (i > 0) {
            EXPECT_GE(m.timestamp_ns, back[static_cast<std::size_t>(i - 1)].timestamp_ns);
        }
    }
}

// ---- the server going away ---------------------------------------------------------------

TEST_F(jack_service_test, ServerStopsAndStartsAgainWhileUmpdRuns) {
    server.kill_hard();
    ASSERT_TRUE(wait_until([&] { return umpd->jack_status_line().find("waiting") != std::string::npos; }))
        << umpd->jack_status_line();
    EXPECT_NE(umpd->jack_status_line().find("went away; reconnecting (4 ports kept)"), std::string::npos)
        << umpd->jack_status_line();
    EXPECT_TRUE(umpd->alive());
    EXPECT_EQ(umpd->umpctl({"list"}).code, 0);
    // A port added while the server is away is published when it is back.
    const auto added = umpd->umpctl({"device", "add-port", "virtual/umpd-virtual-device", "--name", "While Away"});
    ASSERT_EQ(added.code, 0) << added.err;

    ASSERT_TRUE(server.start()) << server.log();
    ASSERT_TRUE(wait_until([] { return has_port("umpd:Port 1") && has_port("umpd:Port 1 (in)") && has_port("umpd:Diag") &&
                                       has_port("umpd:While Away (in)"); },
                           std::chrono::seconds(30)))
        << run("jack_lsp") << umpd->log_text();
    EXPECT_EQ(list_ports().at("umpd:Port 1"), std::vector<std::string>{"umpd Virtual Device: Port 1"});
    ASSERT_TRUE(wait_until([&] { return umpd->jack_status_line().find("running") != std::string::npos; }))
        << umpd->jack_status_line();

    child_process dump({"stdbuf", "-oL", "jack_midi_dump", "-a", "dump-again"}, server.dir() + "/dump-again.txt");
    ASSERT_TRUE(wait_until([] { return has_port("dump-again:input"); }));
    ASSERT_TRUE(connect_ports("umpd:Port 1", "dump-again:input"));
    // rtmidi sends 0.3 s after asking JACK to connect; on a loaded machine the
    // connection can come later than that, so a lost first try is tried again.
    std::string out;
    bool arrived = false;
    for (int attempt = 0; attempt < 3 && !arrived; ++attempt) {
        out += run("/usr/bin/python3 " + rtmidi_send_script() + " rt-again 'umpd:Port 1 (in)' 903c64 2>&1");
        arrived = wait_until([&] { return dump_has(dump, "903c64"); }, std::chrono::seconds(5));
    }
    EXPECT_TRUE(arrived) << out << dump.output() << umpd->jack_status_line();
    EXPECT_TRUE(umpd->alive());
}

// ---- no server, waiting, disabled, bad settings -------------------------------------------

TEST(jack_service_without_server, StatusSaysAbsentAndUmpdRunsOn) {
    const std::string name = "umpd-absent-" + std::to_string(::getpid());
    umpd_with_jack u(test::config_text(name));
    const std::string line = u.jack_status_line();
    EXPECT_NE(line.find("absent"), std::string::npos) << line;
    EXPECT_NE(line.find("no JACK server '" + name +
                        "' is running (set [jack] wait_for_server = true to wait for one)"),
              std::string::npos)
        << line;
    const auto list = u.umpctl({"list"});
    EXPECT_EQ(list.code, 0);
    EXPECT_NE(list.out.find("Port 1"), std::string::npos);
    expect_clean_exit(u);
}

// Without wait_for_server an absent server is tried again at the next reload (SIGHUP).
TEST(jack_service_without_server, AReloadTriesAgain) {
    jack_server server;  // not started yet
    umpd_with_jack u(test::config_text(server.name()));
    ASSERT_NE(u.jack_status_line().find("absent"), std::string::npos) << u.jack_status_line();
    ASSERT_TRUE(server.start()) << server.log();
    u.signal(SIGHUP);
    ASSERT_TRUE(wait_until([] { return has_port("umpd:Port 1") && has_port("umpd:Diag (in)"); }))
        << run("jack_lsp") << u.log_text();
    EXPECT_TRUE(wait_until([&] { return u.jack_status_line().find("running") != std::string::npos; }))
        << u.jack_status_line();
    expect_clean_exit(u);
}

TEST(jack_service_without_server, WaitsForTheServerWhenConfigured) {
    jack_server server;  // not started yet
    umpd_with_jack u(test::config_text(server.name(), "wait_for_server = true\n"));
    ASSERT_TRUE(wait_until([&] { return u.jack_status_line().find("waiting") != std::string::npos; }))
        << u.jack_status_line();
    EXPECT_NE(u.jack_status_line().find("waiting for a JACK server '" + server.name() + "' (4 ports ready)"),
              std::string::npos)
        << u.jack_status_line();
    ASSERT_TRUE(server.start()) << server.log();
    ASSERT_TRUE(wait_until([] { return has_port("umpd:Port 1") && has_port("umpd:Diag (in)"); },
                           std::chrono::seconds(30)))
        << run("jack_lsp") << u.log_text();
    EXPECT_TRUE(wait_until([&] { return u.jack_status_line().find("running") != std::string::npos; }))
        << u.jack_status_line();
    expect_clean_exit(u);
}

TEST(jack_service_without_server, DisabledInTheConfig) {
    umpd_with_jack u(test::config_text("umpd-unused", "enabled = false\n"));
    const std::string line = u.jack_status_line();
    EXPECT_NE(line.find("disabled"), std::string::npos) << line;
    EXPECT_NE(line.find("[jack] enabled = false"), std::string::npos) << line;
    expect_clean_exit(u);
}

// A second umpd on the same server gets a client name of JACK's choosing; a client
// name JACK cannot take is one precise status line, and umpd runs on.
TEST_F(jack_service_test, ClientNamesJackRenamesOrRefuses) {
    umpd_with_jack other(test::config_text(server.name()));
    ASSERT_TRUE(wait_until([] { return has_port("umpd-01:Port 1"); })) << run("jack_lsp");
    EXPECT_NE(other.jack_status_line().find("client 'umpd-01'"), std::string::npos) << other.jack_status_line();

    std::string config = test::config_text(server.name());
    config.insert(std::string("[jack]\n").size(), "client_name = \"" + std::string(70, 'a') + "\"\n");
    umpd_with_jack too_long(config);
    const std::string line = too_long.jack_status_line();
    EXPECT_NE(line.find("failed    [jack] client_name is 70 bytes; JACK allows at most 64"), std::string::npos) << line;
    EXPECT_EQ(too_long.umpctl({"list"}).code, 0);
    expect_clean_exit(too_long);
    expect_clean_exit(other);
}

// The `jack` control op: the client, every exported port and its counters.
TEST_F(jack_service_test, TheJackOpDescribesPortsAndCounters) {
    auto sdk = connect_sdk(*umpd);
    auto r = sdk.call("jack");
    ASSERT_TRUE(r) << r.message();
    const auto j = nlohmann::json::parse(*r);
    EXPECT_EQ(j.at("connected"), true);
    EXPECT_EQ(j.at("client_name"), "umpd");
    ASSERT_EQ(j.at("ports").size(), 4u) << j.dump();
    std::set<std::string> names;
    for (const auto& p : j.at("ports")) names.insert(p.at("jack_name").template get<std::string>());
    EXPECT_EQ(names, (std::set<std::string>{"umpd:Diag", "umpd:Diag (in)", "umpd:Port 1", "umpd:Port 1 (in)"}));
    EXPECT_TRUE(j.at("counters").contains("xruns"));
}

}  // namespace
}  // namespace umpd::jack
