// What the ALSA driver does on a machine without the sequencer (this build host has no
// sound modules), and the exclusion patterns. The sequencer itself is tested in the
// ALSA VM (tests/alsa/*.sh, scripts/alsa-vm/test).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../integration/daemon_process.hpp"
#include "umpd/alsa/client.hpp"
#include "umpd/alsa/service_driver.hpp"

namespace {

using namespace umpd;

bool sequencer_here() { return ::access(alsa::sequencer_device, F_OK) == 0; }

TEST(AlsaExclude, PatternsMatchClientColonPort) {
    const std::vector<std::string> p{"umpd*:*", "Midi Through:*", "*:VirMIDI 1-?", "Exact:Port [AB]"};
    EXPECT_TRUE(alsa::excluded(p, "umpd", "Port 1"));
    EXPECT_TRUE(alsa::excluded(p, "umpd-2", "x"));
    EXPECT_TRUE(alsa::excluded(p, "Midi Through", "Midi Through Port-0"));
    EXPECT_TRUE(alsa::excluded(p, "Virtual Raw MIDI 1-3", "VirMIDI 1-3"));
    EXPECT_FALSE(alsa::excluded(p, "Virtual Raw MIDI 1-3", "VirMIDI 1-10"));
    EXPECT_FALSE(alsa::excluded(p, "Virtual Raw MIDI 0-0", "VirMIDI 0-0"));
    EXPECT_TRUE(alsa::excluded(p, "Exact", "Port B"));
    EXPECT_FALSE(alsa::excluded(p, "Exact", "Port C"));
    EXPECT_FALSE(alsa::excluded(p, "Midi", "Through:x"));  // the colon is not a wildcard
    EXPECT_FALSE(alsa::excluded({}, "anything", "at all"));
}

TEST(AlsaClient, OpenWithoutSequencerSaysSo) {
    if (sequencer_here()) GTEST_SKIP() << "this machine has /dev/snd/seq; the VM tests cover it";
    alsa::client c({});
    const auto ec = c.open({});
    EXPECT_EQ(ec, alsa::errc::no_sequencer);
    EXPECT_EQ(ec.message(), "no ALSA sequencer (/dev/snd/seq not found; load snd-seq)");
    EXPECT_FALSE(c.is_open());
    EXPECT_EQ(c.id(), -1);
    EXPECT_EQ(c.add_port({1, naming::port_direction::source, 0, "x"}), alsa::errc::not_open);
    EXPECT_EQ(c.send(1, 0, core::packet(0x20903C40)), alsa::send_status::unknown_port);
    EXPECT_TRUE(c.remote_ports().empty());
}

TEST(AlsaClient, RefusesAnEmptyClientName) {
    alsa::client_config cc;
    cc.name = "";
    alsa::client c(cc);
    EXPECT_EQ(c.open({}), alsa::errc::invalid_argument);
}

#if defined(UMPD_DAEMON_BINARY) && defined(UMPCTL_BINARY)
// umpd starts without a sequencer, says why on its status line, and serves on.
TEST(AlsaDriver, AbsentSequencerIsAStatusLineAndUmpdRunsOn) {
    if (sequencer_here()) GTEST_SKIP() << "this machine has /dev/snd/seq; the VM tests cover it";
    umpd_test::daemon_process d;
    const auto status = umpd_test::run_umpctl(d, {"status"});
    ASSERT_EQ(status.code, 0) << status.err;
    std::string line;
    for (std::size_t at = 0; at < status.out.size();) {
        const auto end = status.out.find('\n', at);
        const std::string l = status.out.substr(at, end - at);
        if (l.rfind("driver", 0) == 0 && l.find(" alsa ") != std::string::npos) line = l;
        at = end == std::string::npos ? status.out.size() : end + 1;
    }
    EXPECT_NE(line.find("absent"), std::string::npos) << status.out;
    EXPECT_NE(line.find(alsa::absent_detail), std::string::npos) << status.out;
    // And the service works: the default device is there.
    const auto list = umpd_test::run_umpctl(d, {"list"});
    EXPECT_EQ(list.code, 0) << list.err;
    EXPECT_EQ(::kill(d.pid(), 0), 0);
}

// [alsa] enabled = false: no client at all, whatever the machine has, and a status
// line that says so.
TEST(AlsaDriver, DisabledInTheConfigIsAStatusLine) {
    char tmpl[] = "/tmp/umpd-alsa-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const std::string config = dir + "/umpd.toml";
    {
        std::FILE* f = std::fopen(config.c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fputs("[alsa]\nenabled = false\n", f);
        std::fclose(f);
    }
    const pid_t pid = umpd_test::spawn({UMPD_DAEMON_BINARY, "--runtime-dir", dir + "/run", "--config", config});
    bool up = false;
    for (int i = 0; i < 2000 && !up; ++i) {
        up = umpd_test::socket_answers(dir + "/run/control");
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(up);
    const auto status = umpd_test::run({UMPCTL_BINARY, "status", "--runtime-dir", dir + "/run"});
    ::kill(pid, SIGTERM);
    (void)umpd_test::wait_exit(pid);
    std::filesystem::remove_all(dir);
    ASSERT_EQ(status.code, 0) << status.err;
    EXPECT_NE(status.out.find("alsa      disabled  [alsa] enabled = false"), std::string::npos) << status.out;
}
#endif

}  // namespace
