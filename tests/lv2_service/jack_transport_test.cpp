// umpd's transport follows JACK's while JACK has a timebase master: a real jackd (dummy
// backend, private server name), a JACK client of the test's own as timebase master
// (140 BPM in 3/4), and umpd's `transport` verb.
#include <gtest/gtest.h>
#include <jack/jack.h>
#include <jack/transport.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "../jack/jack_server.hpp"
#include "lv2_daemon.hpp"

namespace {

using json = nlohmann::json;
using umpd::jack::test::jack_server;
using umpd::jack::test::wait_until;

constexpr double master_bpm = 140.0;
constexpr double master_beats_per_bar = 3.0;

// The timebase master: bar/beat/tick from the frame at a constant tempo.
void timebase(jack_transport_state_t, jack_nframes_t, jack_position_t* pos, int, void*) {
    const double beats = static_cast<double>(pos->frame) * master_bpm / (60.0 * pos->frame_rate);
    const auto whole = static_cast<std::int64_t>(std::floor(beats));
    pos->valid = JackPositionBBT;
    pos->beats_per_minute = master_bpm;
    pos->beats_per_bar = static_cast<float>(master_beats_per_bar);
    pos->beat_type = 4;
    pos->ticks_per_beat = 1920;
    pos->bar = static_cast<std::int32_t>(whole / 3 + 1);
    pos->beat = static_cast<std::int32_t>(whole % 3 + 1);
    pos->tick = static_cast<std::int32_t>((beats - static_cast<double>(whole)) * 1920);
    pos->bar_start_tick = static_cast<double>(pos->bar - 1) * master_beats_per_bar * 1920;
}

struct master_client {
    jack_client_t* client = nullptr;
    explicit master_client(const std::string& server) {
        jack_status_t status{};
        client = jack_client_open("umpd-test-master", static_cast<jack_options_t>(JackNoStartServer | JackServerName),
                                  &status, server.c_str());
        if (client == nullptr) return;
        if (jack_set_timebase_callback(client, 0, timebase, nullptr) != 0 || jack_activate(client) != 0) {
            jack_client_close(client);
            client = nullptr;
        }
    }
    ~master_client() {
        if (client) {
            jack_deactivate(client);
            jack_client_close(client);
        }
    }
};

json transport_of(const umpd_test::lv2_daemon& d) {
    const auto r = d.umpctl({"transport", "--json"});
    json j = json::parse(r.out, nullptr, false);
    return j.is_object() ? j : json::object();
}

TEST(jack_transport, umpd_follows_a_jack_timebase_master_and_sends_its_commands_to_jack) {
    jack_server jack;
    ASSERT_TRUE(jack.start()) << jack.log();
    umpd_test::lv2_daemon d("[jack]\nserver_name = \"" + jack.name() + "\"\n");
    ASSERT_TRUE(wait_until([&] { return d.log_text().find("following JACK transport") != std::string::npos; }))
        << d.log_text();

    // No master yet: umpd's own transport answers.
    EXPECT_EQ(d.umpctl({"transport", "tempo", "100"}).code, 0);
    EXPECT_EQ(transport_of(d).value("bpm", 0.0), 100.0);

    master_client master(jack.name());
    ASSERT_NE(master.client, nullptr);
    ASSERT_TRUE(wait_until([&] {
        const json t = transport_of(d);
        return t.value("bpm", 0.0) == master_bpm && t.value("beats_per_bar", 0.0) == master_beats_per_bar;
    })) << transport_of(d).dump();

    // JACK's transport starts: umpd plays, at JACK's position.
    jack_transport_start(master.client);
    ASSERT_TRUE(wait_until([&] { return transport_of(d).value("playing", false); }));
    // umpctl's stop and locate go to JACK and come back.
    const auto stopped = d.umpctl({"transport", "stop", "--json"});
    ASSERT_EQ(stopped.code, 0) << stopped.err;
    EXPECT_EQ(json::parse(stopped.out).value("playing", true), false);
    EXPECT_TRUE(wait_until([&] {
        jack_position_t pos{};
        return jack_transport_query(master.client, &pos) == JackTransportStopped;
    }));
    const auto located = d.umpctl({"transport", "locate", "6", "--json"});
    ASSERT_EQ(located.code, 0) << located.err;
    EXPECT_NEAR(json::parse(located.out).value("beat", 0.0), 6.0, 1e-3);
    EXPECT_EQ(json::parse(located.out).value("bar", -1), 2);  // beat 6 in 3/4: bar 3 (0-based 2)

    // Tempo and meter are the master's.
    const auto refused = d.umpctl({"transport", "tempo", "90"});
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("timebase master"), std::string::npos) << refused.err;

    // The master leaves: umpd's own transport again.
    ASSERT_EQ(jack_release_timebase(master.client), 0);
    ASSERT_TRUE(wait_until([&] { return d.umpctl({"transport", "tempo", "90"}).code == 0; }));
    EXPECT_EQ(transport_of(d).value("bpm", 0.0), 90.0);
}

}  // namespace
