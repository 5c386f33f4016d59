// umpd's transport follows JACK's while JACK has a timebase master: a real jackd (dummy
// backend, private server name), jackd2's own jack_transport tool as timebase master
// (driven through its stdin: master, tempo, play, release), and umpd's `transport` verb.
// The test process itself never loads libjack.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "../jack/jack_server.hpp"
#include "lv2_daemon.hpp"

namespace {

using json = nlohmann::json;
using umpd::jack::test::jack_server;
using umpd::jack::test::wait_until;

// jack_transport, reading commands from a pipe.
class transport_tool {
public:
    transport_tool() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) return;
        pid_ = umpd_test::spawn({"/usr/bin/jack_transport"}, -1, -1, fds[0]);
        ::close(fds[0]);
        in_ = fds[1];
    }
    ~transport_tool() {
        say("quit");
        if (in_ >= 0) ::close(in_);
        if (pid_ > 0) (void)umpd_test::wait_exit(pid_, std::chrono::seconds(10));
    }
    transport_tool(const transport_tool&) = delete;
    transport_tool& operator=(const transport_tool&) = delete;
    bool say(const std::string& command) {
        const std::string line = command + "\n";
        return in_ >= 0 && ::write(in_, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    }

private:
    pid_t pid_ = -1;
    int in_ = -1;
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

    transport_tool master;
    ASSERT_TRUE(master.say("master"));  // jack_transport's master starts at 120 BPM
    ASSERT_TRUE(wait_until([&] { return transport_of(d).value("bpm", 0.0) == 120.0; })) << transport_of(d).dump();
    ASSERT_TRUE(master.say("tempo 140"));
    ASSERT_TRUE(master.say("locate 0"));  // a stopped JACK asks its master for a position only on a locate
    ASSERT_TRUE(wait_until([&] { return transport_of(d).value("bpm", 0.0) == 140.0; })) << transport_of(d).dump();
    EXPECT_EQ(transport_of(d).value("beats_per_bar", 0.0), 4.0);

    // JACK's transport starts: umpd plays.
    ASSERT_TRUE(master.say("play"));
    ASSERT_TRUE(wait_until([&] { return transport_of(d).value("playing", false); }));
    // umpctl's stop and locate go to JACK and come back.
    const auto stopped = d.umpctl({"transport", "stop", "--json"});
    ASSERT_EQ(stopped.code, 0) << stopped.err;
    EXPECT_EQ(json::parse(stopped.out).value("playing", true), false);
    EXPECT_EQ(json::parse(stopped.out).value("jack", false), true);
    const auto located = d.umpctl({"transport", "locate", "6", "--json"});
    ASSERT_EQ(located.code, 0) << located.err;
    EXPECT_NEAR(json::parse(located.out).value("beat", 0.0), 6.0, 1e-3);
    EXPECT_EQ(json::parse(located.out).value("bar", -1), 1);  // beat 6 in 4/4: the second bar
    EXPECT_FALSE(transport_of(d).value("playing", true));       // JACK stayed stopped

    // Tempo and meter are the master's.
    const auto refused = d.umpctl({"transport", "tempo", "90"});
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("timebase master"), std::string::npos) << refused.err;

    // The master leaves: umpd's own transport again.
    ASSERT_TRUE(master.say("release"));
    ASSERT_TRUE(wait_until([&] { return d.umpctl({"transport", "tempo", "90"}).code == 0; }));
    EXPECT_EQ(transport_of(d).value("bpm", 0.0), 90.0);
}

}  // namespace
