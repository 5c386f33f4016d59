// umpd::alsa::client against the real kernel sequencer: two clients in one process,
// one sending from an exported source port, the other importing that port. Needs
// /dev/snd/seq: run inside the ALSA test VM by tests/alsa/sequencer.sh; on a machine
// without the sequencer every test is skipped (host_test.cpp covers that case).
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "umpd/alsa/client.hpp"
#include "umpd/core/bytestream.hpp"

namespace {

using namespace umpd;
using namespace std::chrono_literals;

std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

struct received {
    alsa::origin from;
    std::uint64_t stamp = 0;    // the client's timestamp
    std::uint64_t arrived = 0;  // CLOCK_MONOTONIC when the handler ran
    core::packet packet;
};

// What a client's handlers saw, for the test thread to wait on.
struct inbox {
    std::mutex m;
    std::condition_variable cv;
    std::vector<received> messages;
    std::vector<alsa::announcement> announcements;

    alsa::handlers handlers() {
        alsa::handlers h;
        h.on_message = [this](const alsa::origin& o, std::uint64_t t, const core::packet& p) {
            std::lock_guard l(m);
            messages.push_back({o, t, now_ns(), p});
            cv.notify_all();
        };
        h.on_announcement = [this](const alsa::announcement& a) {
            std::lock_guard l(m);
            announcements.push_back(a);
            cv.notify_all();
        };
        return h;
    }
    std::vector<received> snapshot() {
        std::lock_guard l(m);
        return messages;
    }
    // Generous: the VM is emulated and slow.
    bool wait_messages(std::size_t n, std::chrono::seconds limit = 30s) {
        std::unique_lock l(m);
        return cv.wait_for(l, limit, [&] { return messages.size() >= n; });
    }
    template <class Pred>
    bool wait_announcement(Pred pred, std::chrono::seconds limit = 30s) {
        std::unique_lock l(m);
        return cv.wait_for(l, limit, [&] {
            for (const auto& a : announcements)
                if (pred(a)) return true;
            return false;
        });
    }
};

class Sequencer : public ::testing::Test {
protected:
    void SetUp() override {
        if (::access(alsa::sequencer_device, F_OK) != 0) GTEST_SKIP() << "no /dev/snd/seq (runs in the ALSA VM)";
        alsa::client_config ca;
        ca.name = "seqtest-a";
        a = std::make_unique<alsa::client>(ca);
        alsa::client_config cb;
        cb.name = "seqtest-b";
        b = std::make_unique<alsa::client>(cb);
        ASSERT_FALSE(a->open(a_in.handlers()));
        ASSERT_FALSE(b->open(b_in.handlers()));
        ASSERT_FALSE(a->add_port({1, naming::port_direction::source, 0, "Out"}));
        const auto port = a->alsa_port(1);
        ASSERT_TRUE(port.has_value());
        a_out = {static_cast<std::uint8_t>(a->id()), static_cast<std::uint8_t>(*port)};
        // b imports a's source port, as group 4.
        ASSERT_FALSE(b->connect_from(a_out, 4));
    }
    void TearDown() override {
        if (b) b->close();
        if (a) a->close();
    }

    std::unique_ptr<alsa::client> a, b;
    inbox a_in, b_in;
    alsa::address a_out;
};

TEST_F(Sequencer, RemotePortsListOthersWithTheirCapabilities) {
    const auto ports = b->remote_ports();
    bool found = false;
    for (const auto& p : ports) {
        EXPECT_NE(p.addr.client, b->id());  // never its own
        EXPECT_NE(p.addr.client, 0);        // never System
        if (p.addr == a_out) {
            found = true;
            EXPECT_EQ(p.client_name, "seqtest-a");
            EXPECT_EQ(p.port_name, "Out");
            EXPECT_TRUE(p.readable);
            EXPECT_FALSE(p.writable);
            EXPECT_FALSE(p.kernel);
        }
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(b->client_name(a->id()), "seqtest-a");
}

TEST_F(Sequencer, AnnouncementsFollowPortsOfOtherClients) {
    ASSERT_FALSE(a->add_port({2, naming::port_direction::destination, 0, "In"}));
    const int p = *a->alsa_port(2);
    const auto is = [&](alsa::announcement::kind k) {
        return [&, k](const alsa::announcement& x) {
            return x.what == k && x.addr.client == a->id() && x.addr.port == p;
        };
    };
    EXPECT_TRUE(b_in.wait_announcement(is(alsa::announcement::kind::port_start)));
    // The kernel announces no renames (the driver re-lists periodically): the listing shows it.
    ASSERT_FALSE(a->rename_port(2, "Renamed"));
    bool renamed = false;
    for (const auto& r : b->remote_ports()) renamed = renamed || (r.addr.port == p && r.port_name == "Renamed");
    EXPECT_TRUE(renamed);
    ASSERT_FALSE(a->remove_port(2));
    EXPECT_TRUE(b_in.wait_announcement(is(alsa::announcement::kind::port_exit)));
    EXPECT_EQ(a->remove_port(2), alsa::errc::unknown_port);
}

TEST_F(Sequencer, ANoteArrivesStampedWithItsArrivalInItsGroup) {
    const std::uint64_t before = now_ns();
    ASSERT_EQ(a->send(1, 0, core::packet(0x20923C64)), alsa::send_status::ok);  // group 0 → b's group 4
    ASSERT_TRUE(b_in.wait_messages(1));
    const auto r = b_in.snapshot().front();
    EXPECT_TRUE(r.from.remote);
    EXPECT_EQ(r.from.from, a_out);
    EXPECT_EQ(r.packet, core::packet(0x24923C64));
    // Stamped when read: after the send started, before the handler ran.
    EXPECT_GE(r.stamp, before);
    EXPECT_LE(r.stamp, r.arrived);
}

TEST_F(Sequencer, AFutureMessageIsScheduledAndArrivesNoEarlierThanDue) {
    const std::uint64_t due = now_ns() + 300'000'000;
    ASSERT_EQ(a->send(1, due, core::packet(0x20903C64)), alsa::send_status::ok);
    EXPECT_EQ(a->counters().scheduled, 1u);
    ASSERT_TRUE(b_in.wait_messages(1));
    const auto r = b_in.snapshot().front();
    EXPECT_GE(r.arrived, due);
    EXPECT_GE(r.stamp, due);
}

TEST_F(Sequencer, NothingOvertakesAQueuedMessage) {
    // The first is held for 200 ms; the others are due now but must not overtake it.
    ASSERT_EQ(a->send(1, now_ns() + 200'000'000, core::packet(0x20900000)), alsa::send_status::ok);
    for (std::uint32_t i = 1; i < 50; ++i)
        ASSERT_EQ(a->send(1, 0, core::packet(0x20900000 | i << 8 | 1)), alsa::send_status::ok);
    ASSERT_TRUE(b_in.wait_messages(50));
    const auto got = b_in.snapshot();
    for (std::uint32_t i = 0; i < 50; ++i) EXPECT_EQ(got[i].packet[0] >> 8 & 0x7F, i) << i;
}

TEST_F(Sequencer, LongSysExArrivesWholeAndInOrder) {
    // 10000 bytes of SysEx as UMP → paced SYSEX events → reassembled into UMP again.
    std::mt19937 rng(5);
    std::vector<std::uint8_t> bytes{0xF0};
    for (int i = 0; i < 10000; ++i) bytes.push_back(static_cast<std::uint8_t>(rng() & 0x7F));
    bytes.push_back(0xF7);
    core::midi1_to_ump_state s{};
    std::vector<std::uint32_t> words(bytes.size() * 2);
    const auto r = core::midi1_to_ump(s, bytes, words);
    std::vector<core::packet> sent;
    for (std::size_t i = 0; i < r.written; i += 2) sent.push_back(core::packet(words[i], words[i + 1]));
    for (const auto& p : sent) ASSERT_EQ(a->send(1, 0, p), alsa::send_status::ok);
    a->flush();
    const bool all = b_in.wait_messages(sent.size(), 60s);
    const auto got = b_in.snapshot();
    ASSERT_TRUE(all) << got.size() << " of " << sent.size();
    ASSERT_EQ(got.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const auto want = core::packet(sent[i][0] | 0x04000000, sent[i][1]);  // in group 4
        ASSERT_EQ(got[i].packet, want) << "packet " << i;
    }
    EXPECT_GE(a->counters().events_out, 10002u / 256);
    EXPECT_EQ(a->counters().send_failures, 0u);
}

TEST_F(Sequencer, WritingToAnImportedPortReachesIt) {
    // b exports a destination; a imports it for writing and sends to it.
    ASSERT_FALSE(b->add_port({7, naming::port_direction::destination, 2, "In"}));
    const alsa::address b_in_port{static_cast<std::uint8_t>(b->id()), static_cast<std::uint8_t>(*b->alsa_port(7))};
    ASSERT_FALSE(a->connect_to(b_in_port));
    ASSERT_EQ(a->send_to(b_in_port, 0, core::packet(0x20B00740)), alsa::send_status::ok);
    ASSERT_TRUE(b_in.wait_messages(1));
    const auto r = b_in.snapshot().front();
    EXPECT_FALSE(r.from.remote);
    EXPECT_EQ(r.from.key, 7u);
    EXPECT_EQ(r.packet, core::packet(0x22B00740));  // b's port is group 2
    EXPECT_EQ(a->send_to({b_in_port.client, 200}, 0, core::packet(0x20B00740)), alsa::send_status::unknown_port);
    EXPECT_EQ(b->send(7, 0, core::packet(0x20B00740)), alsa::send_status::wrong_direction);
}

TEST_F(Sequencer, BadArgumentsAreRefusedAndChangeNothing) {
    EXPECT_EQ(a->add_port({1, naming::port_direction::source, 0, "Again"}), alsa::errc::duplicate_key);
    EXPECT_EQ(a->add_port({3, naming::port_direction::source, 16, "Group 17"}), alsa::errc::invalid_argument);
    EXPECT_EQ(a->add_port({3, naming::port_direction::source, 0, ""}), alsa::errc::invalid_argument);
    EXPECT_EQ(a->add_port({3, naming::port_direction::source, 0, std::string(64, 'x')}), alsa::errc::invalid_argument);
    EXPECT_EQ(a->rename_port(99, "x"), alsa::errc::unknown_port);
    EXPECT_EQ(a->rename_port(1, ""), alsa::errc::invalid_argument);
    EXPECT_EQ(b->connect_from({static_cast<std::uint8_t>(a->id()), 250}, 0), alsa::errc::subscribe_failed);
    EXPECT_EQ(a->alsa_port(3), std::nullopt);
    // The port that was there still works.
    ASSERT_EQ(a->send(1, 0, core::packet(0x20903C64)), alsa::send_status::ok);
    EXPECT_TRUE(b_in.wait_messages(1));
}

// Not a test of its own: a peer application for tests/alsa/driver.sh, which runs it
// with UMPD_ALSA_PEER=DIR (skipped otherwise). A client "peer-before" with a port
// "p" that renames the client to "peer-after" once DIR/rename-client exists, its
// port to "q" once DIR/rename-port exists, and quits once DIR/quit exists.
TEST(Peer, RenamesItselfWhenAsked) {
    const char* dir = std::getenv("UMPD_ALSA_PEER");
    if (dir == nullptr) GTEST_SKIP() << "a helper for tests/alsa/driver.sh";
    const std::string d = dir;
    snd_seq_t* seq = nullptr;
    ASSERT_GE(snd_seq_open(&seq, "default", SND_SEQ_OPEN_DUPLEX, 0), 0);
    snd_seq_set_client_name(seq, "peer-before");
    const int port = snd_seq_create_simple_port(seq, "p",
                                                SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ |
                                                    SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE,
                                                SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION);
    ASSERT_GE(port, 0);
    auto wait_file = [&](const std::string& name) {
        for (int i = 0; i < 1200; ++i) {
            if (::access((d + "/" + name).c_str(), F_OK) == 0) return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    };
    ASSERT_TRUE(wait_file("rename-client"));
    ASSERT_GE(snd_seq_set_client_name(seq, "peer-after"), 0);
    ASSERT_TRUE(wait_file("rename-port"));
    snd_seq_port_info_t* info = nullptr;
    snd_seq_port_info_alloca(&info);
    ASSERT_GE(snd_seq_get_port_info(seq, port, info), 0);
    snd_seq_port_info_set_name(info, "q");
    ASSERT_GE(snd_seq_set_port_info(seq, port, info), 0);
    ASSERT_TRUE(wait_file("quit"));
    snd_seq_close(seq);
}

}  // namespace
