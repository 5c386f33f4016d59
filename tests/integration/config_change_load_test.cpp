// The configuration-change protocol under load, end to end through a real umpd:
// while a client streams numbered messages through port 1, another client adds and
// removes ports 2..N many times on the same device. Port 1 must lose, reorder and
// duplicate nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "client_session.hpp"
#include "umpd/client/client.hpp"
#include "umpd/core/messages.hpp"

namespace {

namespace uc = umpd::client;
using namespace std::chrono_literals;

constexpr const char* device = "virtual/umpd-virtual-device";
constexpr const char* port1 = "virtual/umpd-virtual-device/1";

// The sequence number rides in the 32-bit value of a MIDI 2.0 control change.
umpd::core::packet numbered(std::uint32_t n) {
    return umpd::core::make_midi2_control_change(umpd::core::group{0}, umpd::core::channel{0}, 1, n);
}

TEST(ConfigurationChangeUnderLoad, PortOneLosesReordersAndDuplicatesNothing) {
    umpd_test::daemon_process umpd;
    auto streamer = umpd_test::connect_client(umpd, "streamer");
    auto changer = umpd_test::connect_client(umpd, "changer");

    // A callback-free receiver on its own connection, drained by its own thread. Its
    // ring holds the whole stream: a slow reader must not be what loses messages here
    // (a full ring is counted and reported, and tested elsewhere).
    uc::open_options big;
    big.to_client_words = 1u << 20;
    auto rx = streamer.open(port1, big);
    ASSERT_TRUE(rx) << rx.message();
    auto tx = streamer.open(port1);
    ASSERT_TRUE(tx) << tx.message();

    constexpr std::uint32_t total = 100000;
    std::atomic<bool> stop_receiving{false};
    std::vector<std::uint32_t> received;  // the receiver thread's until it is joined
    received.reserve(total);
    std::atomic<std::size_t> received_count{0};
    std::thread receiver([&] {
        uc::timed_packet m;
        while (received.size() < total && !stop_receiving) {
            if (rx->receive(m)) {
                const auto v = umpd::core::as_midi2_channel_voice(m.packet);
                if (v) {
                    received.push_back(v->data());
                    received_count = received.size();
                }
            } else {
                (void)rx->wait(100ms);
            }
        }
    });

    // The changes run for as long as the stream flows, and at least 100 cycles.
    std::atomic<bool> streaming{true};
    std::atomic<int> cycles{0};
    std::string change_error;             // written once, before change_failed is set
    std::atomic<bool> change_failed{false};
    std::thread changes([&] {
        while (streaming || cycles < 100) {
            std::vector<std::string> added;
            for (int i = 0; i < 3; ++i) {
                auto e = changer.add_port(device, "extra " + std::to_string(i));
                if (!e) {
                    change_error = "add_port: " + e.message();
                    change_failed = true;
                    return;
                }
                added.push_back(e->id);
            }
            for (const auto& id : added) {
                if (auto r = changer.remove_port(id); !r) {
                    change_error = "remove_port " + id + ": " + r.message();
                    change_failed = true;
                    return;
                }
            }
            ++cycles;
        }
    });

    // The stream waits for the changes at every 1000th message, so however fast or slow
    // the machine, at least 100 add/remove cycles happen while it flows. A full ring is
    // retried, never skipped.
    constexpr std::uint32_t per_cycle = 1000;
    std::string stream_error;  // failures end the loop; the threads are joined before asserting
    for (std::uint32_t n = 0; n < total && stream_error.empty(); ++n) {
        if (n % per_cycle == 0) {
            const int want = static_cast<int>(n / per_cycle);
            const auto limit = std::chrono::steady_clock::now() + 60s;
            while (cycles.load() < want && !change_failed && std::chrono::steady_clock::now() < limit)
                std::this_thread::sleep_for(100us);
            if (change_failed) break;
            if (cycles.load() < want) stream_error = "the changes stalled";
        }
        while (stream_error.empty()) {
            const auto r = tx->send(numbered(n));
            if (r) break;
            if (r.error().code != uc::make_error_code(uc::errc::ring_full)) stream_error = "send: " + r.message();
            std::this_thread::sleep_for(50us);
        }
    }
    const int cycles_while_streaming = cycles.load();
    streaming = false;
    changes.join();
    if (!stream_error.empty() || change_failed) {
        stop_receiving = true;
        receiver.join();
        FAIL() << stream_error << change_error;
    }
    // The point of the test: the changes really happened while the stream flowed.
    EXPECT_GE(cycles_while_streaming, static_cast<int>(total / per_cycle) - 1);
    EXPECT_GE(cycles.load(), 100);

    const auto end = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < end) {
        if (received_count >= total) break;
        std::this_thread::sleep_for(10ms);
    }
    stop_receiving = true;
    receiver.join();

    ASSERT_EQ(received.size(), total) << "messages lost; the receiver's ring dropped "
                                      << rx->counters().receive_dropped_full << ", the sender's "
                                      << tx->counters().send_dropped_full;
    for (std::uint32_t n = 0; n < total; ++n) ASSERT_EQ(received[n], n) << "out of order or duplicated at " << n;
    EXPECT_EQ(rx->counters().receive_dropped_full, 0u);

    // The device ends with exactly its one port.
    auto list = changer.list();
    ASSERT_TRUE(list) << list.message();
    int ports = 0;
    for (const auto& e : list->endpoints) ports += e.device_id == device;
    EXPECT_EQ(ports, 1);
}

}  // namespace
