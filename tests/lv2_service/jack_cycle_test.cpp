// The plugin host renders on the JACK cycle while the JACK driver is connected to a
// server at [lv2] sample_rate: a real jackd (dummy backend, 48 kHz, 256-frame periods,
// private server name), miditranspose between two SDK connections. On the cycle a
// message comes out two JACK periods after its time; with the server gone umpd's own
// clock takes over (block + safety margin) and plugins keep working; the server back,
// the JACK cycle again. A JACK rate other than sample_rate keeps umpd's clock and says why.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "../jack/jack_server.hpp"
#include "lv2_daemon.hpp"
#include "umpd/core/messages.hpp"

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using umpd::jack::test::jack_server;
using umpd::jack::test::wait_until;
using umpd_test::lv2_daemon;

constexpr double frame_ns = 1e9 / 48000.0;
constexpr std::uint64_t jack_latency_ns = 10'666'667;  // two 256-frame periods at 48 kHz
constexpr std::uint64_t own_latency_ns = 1'333'333 + 2'000'000;  // a 64-frame block and the safety margin

std::uint64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint8_t note_of(const umpd::core::packet& p) { return static_cast<std::uint8_t>((p.words[0] >> 8) & 0x7F); }
bool is_note_on(const umpd::core::packet& p) {
    return (p.words[0] >> 28) == 0x2 && ((p.words[0] >> 16) & 0xF0) == 0x90 && (p.words[0] & 0x7F) != 0;
}

json info_of(const lv2_daemon& d) {
    const auto r = d.umpctl({"plugin", "info", "t", "--json"});
    json j = json::parse(r.out, nullptr, false);
    return j.is_object() ? j : json::object();
}

std::string lv2_status(const lv2_daemon& d) {
    const auto r = d.umpctl({"status"});
    const auto at = r.out.find("driver        lv2");
    return at == std::string::npos ? std::string() : r.out.substr(at, r.out.find('\n', at) - at);
}

// miditranspose as "t", +12; a connection on its endpoint.
std::optional<umpd::client::connection> transposer(const lv2_daemon& d, umpd::client::client& c) {
    const auto add = d.umpctl({"plugin", "add", umpd_test::transpose_uri, "--name", "t", "--json"});
    EXPECT_EQ(add.code, 0) << add.err;
    if (add.code != 0) return std::nullopt;
    EXPECT_EQ(d.umpctl({"plugin", "set", "t", "transpose", "12"}).code, 0);
    const std::string id = json::parse(add.out).at("endpoints").at(0).at("id").get<std::string>();
    auto conn = c.open(id);
    EXPECT_TRUE(conn) << conn.message();
    if (!conn) return std::nullopt;
    return std::move(*conn);
}

// Note 60 stamped 20 ms ahead; the transposed note must come back `latency` later
// (within a frame: the input time is rounded to its frame).
void expect_delay(umpd::client::connection& conn, std::uint64_t latency) {
    const std::uint64_t at = now_ns() + 20'000'000;
    ASSERT_TRUE(conn.send(umpd::core::make_midi1_note_on(umpd::core::group{0}, umpd::core::channel{0}, 60, 100), at));
    const auto end = std::chrono::steady_clock::now() + 10s;
    umpd::client::timed_packet m;
    while (std::chrono::steady_clock::now() < end) {
        if (!conn.receive(m)) {
            (void)conn.wait(50ms);
            continue;
        }
        if (!is_note_on(m.packet) || note_of(m.packet) != 72) continue;
        const double off = static_cast<double>(m.timestamp_ns) - static_cast<double>(at + latency);
        EXPECT_LE(std::abs(off), frame_ns) << "stamped " << off << " ns off";
        return;
    }
    ADD_FAILURE() << "no transposed note";
}

TEST(jack_cycle, plugins_render_on_the_jack_cycle_fall_back_to_umpds_clock_and_come_back) {
    jack_server jack;
    ASSERT_TRUE(jack.start()) << jack.log();
    lv2_daemon d("[jack]\nserver_name = \"" + jack.name() + "\"\n");
    auto c = d.client("cycle-test");
    auto conn = transposer(d, c);
    ASSERT_TRUE(conn);

    ASSERT_TRUE(wait_until([&] { return info_of(d).value("clock", "") == "jack"; })) << info_of(d).dump();
    EXPECT_EQ(info_of(d).value("latency_ns", std::uint64_t{0}), jack_latency_ns);
    EXPECT_NE(lv2_status(d).find("on the JACK cycle (256-frame periods)"), std::string::npos) << lv2_status(d);
    expect_delay(*conn, jack_latency_ns);

    // The server dies: umpd's own clock, and the plugin keeps working.
    jack.kill_hard();
    ASSERT_TRUE(wait_until([&] { return info_of(d).value("clock", "") == "umpd"; })) << info_of(d).dump();
    EXPECT_EQ(info_of(d).value("latency_ns", std::uint64_t{0}), own_latency_ns);
    EXPECT_NE(lv2_status(d).find("JACK's cycles stopped"), std::string::npos) << lv2_status(d);
    expect_delay(*conn, own_latency_ns);

    // It comes back: the JACK driver reconnects and the JACK cycle drives again.
    ASSERT_TRUE(jack.start()) << jack.log();
    ASSERT_TRUE(wait_until([&] { return info_of(d).value("clock", "") == "jack"; }, 30s)) << info_of(d).dump();
    expect_delay(*conn, jack_latency_ns);
    EXPECT_NE(d.log_text().find("lv2: rendering on the JACK cycle"), std::string::npos) << d.log_text();
    EXPECT_TRUE(d.alive());
    d.stop();
    EXPECT_EQ(d.log_text().find("Sanitizer"), std::string::npos) << d.log_text();
    EXPECT_EQ(d.log_text().find("runtime error"), std::string::npos) << d.log_text();
}

TEST(jack_cycle, a_jack_rate_other_than_the_sample_rate_keeps_umpds_clock_and_says_why) {
    jack_server jack;
    ASSERT_TRUE(jack.start()) << jack.log();
    lv2_daemon d("[jack]\nserver_name = \"" + jack.name() + "\"\n\n[lv2]\nsample_rate = 44100\n");
    auto c = d.client("cycle-test");
    auto conn = transposer(d, c);
    ASSERT_TRUE(conn);
    ASSERT_TRUE(wait_until([&] { return lv2_status(d).find("JACK runs at 48000 Hz") != std::string::npos; }))
        << lv2_status(d);
    EXPECT_EQ(info_of(d).value("clock", ""), "umpd");
    // A 64-frame block at 44.1 kHz and the margin.
    expect_delay(*conn, 1'451'247 + 2'000'000);
}

}  // namespace
