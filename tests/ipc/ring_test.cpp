#include "umpd/ipc/ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/ipc/fd.hpp"

namespace umpd::ipc {
namespace {

using core::channel;
using core::group;

// A ring in ordinary memory: the layout is the same as in a shared region.
struct test_ring {
    explicit test_ring(std::uint32_t words)
        : storage(static_cast<unsigned char*>(std::aligned_alloc(64, ring_bytes(words))), &std::free) {
        header = init_ring(storage.get(), words);
        data = reinterpret_cast<std::uint32_t*>(storage.get() + (ring_bytes(words) - std::size_t{words} * 4));
    }
    std::unique_ptr<unsigned char, void (*)(void*)> storage;  // ring_header wants 64-byte alignment
    ring_header* header;
    std::uint32_t* data;
};

TEST(Ring, MessagesComeOutAsTheyWentInWithTheirTimestamps) {
    test_ring r(64);
    ring_writer w(r.header, r.data);
    ring_reader rd(r.header, r.data);
    const timed_packet a{123, core::make_midi1_note_on(group{0}, channel{0}, 60, 100)};
    const timed_packet b{0xFFFF'FFFF'0000'0001ull, core::make_midi2_note_on(group{3}, channel{9}, 61, 0xC000)};
    const timed_packet c{7, core::make_endpoint_discovery(1, 1, 0x1F)};
    ASSERT_EQ(w.write(a), write_status::ok);
    ASSERT_EQ(w.write(b), write_status::ok);
    ASSERT_EQ(w.write(c), write_status::ok);
    timed_packet out;
    EXPECT_EQ(rd.read(out), read_status::empty) << "nothing is visible before publish()";
    EXPECT_FALSE(w.publish()) << "nobody sleeps, so nobody needs waking";
    ASSERT_EQ(rd.read(out), read_status::ok);
    EXPECT_EQ(out, a);
    ASSERT_EQ(rd.read(out), read_status::ok);
    EXPECT_EQ(out, b);
    ASSERT_EQ(rd.read(out), read_status::ok);
    EXPECT_EQ(out, c);
    EXPECT_EQ(rd.read(out), read_status::empty);
    EXPECT_EQ(r.header->messages_written.load(), 3u);
}

TEST(Ring, AFullRingRefusesAndCountsWithoutWaiting) {
    test_ring r(64);
    ring_writer w(r.header, r.data);
    const timed_packet m{1, core::make_midi2_pitch_bend(group{0}, channel{0}, 5)};  // 5 words a record
    int written = 0;
    while (w.write(m) == write_status::ok) ++written;
    EXPECT_EQ(written, 64 / 5);
    EXPECT_EQ(r.header->dropped_full.load(), 1u);
    EXPECT_EQ(w.write(m), write_status::full);
    EXPECT_EQ(r.header->dropped_full.load(), 2u);
    // Space comes back once the reader releases it.
    ASSERT_FALSE(w.publish());
    ring_reader rd(r.header, r.data);
    timed_packet out;
    ASSERT_EQ(rd.read(out), read_status::ok);
    EXPECT_EQ(w.write(m), write_status::full) << "read but not released";
    rd.release();
    EXPECT_EQ(w.write(m), write_status::ok);
}

TEST(Ring, RecordsWrapAroundTheEndInOrder) {
    test_ring r(64);
    ring_writer w(r.header, r.data);
    ring_reader rd(r.header, r.data);
    std::mt19937 rng(1);
    std::uint32_t sent = 0, received = 0;
    for (int round = 0; round < 2000; ++round) {
        const int n = static_cast<int>(rng() % 6) + 1;
        for (int i = 0; i < n; ++i) {
            // Alternate 1- and 4-word packets so records straddle the wrap point.
            const core::packet p = (sent % 2) ? core::packet(0x20903C00u | (sent & 0x7F))
                                              : core::make_endpoint_name(core::packet_format::complete, {});
            if (w.write({sent, p}) != write_status::ok) break;
            ++sent;
        }
        (void)w.publish();
        timed_packet out;
        while (rd.read(out) == read_status::ok) {
            ASSERT_EQ(out.timestamp_ns, received);
            ++received;
        }
        rd.release();
    }
    EXPECT_EQ(sent, received);
    EXPECT_GT(sent, 5000u);
}

TEST(Ring, ACorruptProducerIsDetectedNotFollowed) {
    {
        test_ring r(64);
        r.data[0] = 0x25;  // reserved bits set in the record header
        r.header->head.store(8);
        ring_reader rd(r.header, r.data);
        timed_packet out;
        EXPECT_EQ(rd.read(out), read_status::corrupt);
    }
    {
        test_ring r(64);
        r.header->head.store(1000);  // further ahead than the capacity
        ring_reader rd(r.header, r.data);
        timed_packet out;
        EXPECT_EQ(rd.read(out), read_status::corrupt);
    }
    {
        test_ring r(64);
        r.data[0] = 4;  // claims 4 words but only 2 are published
        r.header->head.store(5);
        ring_reader rd(r.header, r.data);
        std::uint64_t ts;
        std::uint32_t words[4];
        unsigned n;
        EXPECT_EQ(rd.read_raw(ts, words, n), read_status::corrupt);
    }
    {
        test_ring r(64);
        r.data[0] = 1;  // one word, but the packet is a 2-word MIDI 2.0 message
        r.data[3] = 0x40903C00u;
        r.header->head.store(4);
        ring_reader rd(r.header, r.data);
        timed_packet out;
        EXPECT_EQ(rd.read(out), read_status::corrupt);
    }
}

TEST(Ring, AConsumerThatMovesItsTailPastTheHeadCannotMakeTheWriterOverrun) {
    test_ring r(64);
    ring_writer w(r.header, r.data);
    while (w.write({0, core::packet(0x20903C64u)}) == write_status::ok) {
    }
    // The writer must now consult the tail; a bogus one reads as "full", never as room.
    r.header->tail.store(1'000'000);
    EXPECT_EQ(w.write({0, core::packet(0x20903C64u)}), write_status::full);
    r.header->tail.store(3);  // a tail inside a record: still no room for 4 words
    EXPECT_EQ(w.write({0, core::packet(0x20903C64u)}), write_status::full);
}

TEST(Ring, WriteRefusesARecordOfTheWrongSize) {
    test_ring r(64);
    ring_writer w(r.header, r.data);
    const std::uint32_t five[5] = {1, 2, 3, 4, 5};
    EXPECT_EQ(w.write(0, std::span<const std::uint32_t>(five, 5)), write_status::invalid_packet);
    EXPECT_EQ(w.write(0, std::span<const std::uint32_t>()), write_status::invalid_packet);
}

// The sleep protocol across two threads: every message is seen, and the consumer is
// woken exactly when it sleeps (no lost wake-up in 20 000 hand-overs).
TEST(Ring, SleepingConsumerIsWokenAndNoWakeUpIsLost) {
    test_ring r(1024);
    wake wk;
    ASSERT_FALSE(wake::create(wk));
    constexpr std::uint32_t count = 20000;
    std::atomic<std::uint32_t> received{0};
    std::thread consumer([&] {
        ring_reader rd(r.header, r.data);
        std::uint32_t expected = 0;
        while (expected < count) {
            timed_packet out;
            while (rd.read(out) == read_status::ok) {
                if (out.timestamp_ns != expected) std::abort();
                ++expected;
            }
            rd.release();
            if (expected == count) break;
            if (rd.prepare_to_sleep()) {
                // A lost wake-up would hang here; the timeout turns it into a failure.
                if (!wk.wait(std::chrono::seconds(10))) break;
                rd.woke_up();
            }
        }
        received = expected;
    });
    ring_writer w(r.header, r.data);
    for (std::uint32_t i = 0; i < count; ++i) {
        while (w.write({i, core::packet(0x10F80000u)}) != write_status::ok) {
            if (w.publish()) wk.signal();
            std::this_thread::yield();
        }
        if (i % 7 == 0 && w.publish()) wk.signal();
    }
    if (w.publish()) wk.signal();
    consumer.join();
    EXPECT_EQ(received.load(), count);
}

}  // namespace
}  // namespace umpd::ipc
