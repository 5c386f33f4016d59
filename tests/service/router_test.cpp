// The router, driven from the client side of real shared-memory connections: each
// test plays the clients with ring_writer/ring_reader on regions laid out exactly as
// umpd hands them out, and the control thread with the router's API.
#include "umpd/service/router.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "router_client.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/ring.hpp"
#include "umpd/ipc/shm.hpp"
#include "umpd/service/registry.hpp"  // service_errc

namespace {

using namespace std::chrono_literals;
using umpd::core::channel;
using umpd::core::group;
using umpd::core::packet;
using umpd::ipc::timed_packet;
using umpd::service::data_error;
using umpd::service::endpoint_behaviour;
using umpd::service::router;
using umpd::service::router_limits;

std::uint64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// A message that carries a 32-bit tag, so tests can tell messages apart.
packet tagged(std::uint32_t tag) { return umpd::core::make_midi2_control_change(group{0}, channel{0}, 7, tag); }
std::uint32_t tag_of(const timed_packet& m) { return m.packet.words[1]; }

using client = umpd_test::router_client;

client make_client(std::uint32_t to_service_words = 4096, std::uint32_t to_client_words = 4096) {
    return umpd_test::make_router_client("router-test", to_service_words, to_client_words);
}

// The next message on c carries `tag`.
::testing::AssertionResult next_is(client& c, std::uint32_t tag) {
    const auto m = c.receive();
    if (!m) return ::testing::AssertionFailure() << "nothing received, expected " << tag;
    if (tag_of(*m) != tag) return ::testing::AssertionFailure() << "received " << tag_of(*m) << ", expected " << tag;
    return ::testing::AssertionSuccess();
}

router_limits test_limits() {
    router_limits l;
    l.max_schedule_ahead = 10s;
    l.schedule_capacity = 1024;
    return l;
}

std::vector<data_error> errors_of(router& r) {
    std::vector<data_error> out;
    r.take_data_errors([&](const data_error& e) { out.push_back(e); });
    return out;
}

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// Waits (generously) until the router has reported data errors, then takes them.
std::vector<data_error> wait_errors(router& r) {
    EXPECT_TRUE(readable(r.notify_fd(), 10000));
    return errors_of(r);
}

// Waits for the router's report and checks it is exactly one error of that kind.
::testing::AssertionResult reported(router& r, std::uint32_t connection, data_error::kind what, std::uint64_t count) {
    const auto errors = wait_errors(r);
    if (errors.size() != 1) return ::testing::AssertionFailure() << errors.size() << " errors reported, expected 1";
    const data_error& e = errors[0];
    if (e.connection != connection || e.what != what || e.count != count)
        return ::testing::AssertionFailure() << "reported connection " << e.connection << " kind "
                                             << static_cast<int>(e.what) << " count " << e.count;
    return ::testing::AssertionSuccess();
}

// A started router with endpoint 1 (device 1) and one connection (10) on it.
struct single_endpoint {
    router r;
    client c;
    explicit single_endpoint(endpoint_behaviour b, router_limits l = test_limits()) : r(l), c(make_client()) {
        EXPECT_FALSE(r.start());
        EXPECT_FALSE(r.add_endpoint(1, 1, b));
        EXPECT_FALSE(r.add_connection(c.setup(10, 1)));
    }
};

TEST(router, loopback_round_trip) {
    single_endpoint s(endpoint_behaviour::loopback);
    auto& [r, c] = s;

    const packet p = umpd::core::make_midi1_note_on(group{2}, channel{3}, 60, 100);
    const std::uint64_t before = now_ns();
    c.send(0, p);
    const auto m = c.receive();
    const std::uint64_t after = now_ns();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet, p);
    EXPECT_GE(m->timestamp_ns, before);  // stamped on the way through, with CLOCK_MONOTONIC
    EXPECT_LE(m->timestamp_ns, after);
    EXPECT_EQ(r.counters(1).routed, 1u);
    EXPECT_EQ(r.counters().messages_routed, 1u);

    // The loopback re-stamps a past timestamp with the delivery time.
    const std::uint64_t past = now_ns() - 1'000'000;
    c.send(past, p);
    const auto m2 = c.receive();
    ASSERT_TRUE(m2);
    EXPECT_GT(m2->timestamp_ns, past);
}

TEST(router, works_before_start_and_after_stop_restart) {
    router r(test_limits());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));  // applied inline
    client c = make_client();
    ASSERT_FALSE(r.add_connection(c.setup(10, 1)));
    c.send(0, tagged(1));  // waits in the ring until the thread runs
    ASSERT_FALSE(r.start());
    EXPECT_TRUE(next_is(c, 1u));
    r.stop();
    c.send(0, tagged(2));
    ASSERT_FALSE(r.start());
    EXPECT_TRUE(next_is(c, 2u));
}

TEST(router, fans_out_to_every_connection_including_the_sender) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    std::vector<client> clients;
    for (std::uint32_t i = 0; i < 3; ++i) {
        clients.push_back(make_client());
        ASSERT_FALSE(r.add_connection(clients.back().setup(10 + i, 1)));
    }
    for (std::uint32_t t = 0; t < 5; ++t) clients[t % 3].send(0, tagged(t));  // merge of three senders
    for (client& c : clients) {
        std::vector<std::uint32_t> seen;
        for (int i = 0; i < 5; ++i) {
            auto m = c.receive();
            ASSERT_TRUE(m);
            seen.push_back(tag_of(*m));
        }
        // Each sender's messages keep their order; all five arrive.
        std::vector<std::uint32_t> from0;
        for (auto t : seen)
            if (t % 3 == 0) from0.push_back(t);
        EXPECT_EQ(from0, (std::vector<std::uint32_t>{0, 3}));
        std::sort(seen.begin(), seen.end());
        EXPECT_EQ(seen, (std::vector<std::uint32_t>{0, 1, 2, 3, 4}));
    }
    EXPECT_EQ(r.counters(1).routed, 5u);
}

TEST(router, pair_crosses_over) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::pair, 2));
    ASSERT_FALSE(r.add_endpoint(2, 1, endpoint_behaviour::pair, 1));
    client a = make_client();
    client b = make_client();
    ASSERT_FALSE(r.add_connection(a.setup(10, 1)));
    ASSERT_FALSE(r.add_connection(b.setup(11, 2)));

    a.send(0, tagged(100));
    EXPECT_TRUE(next_is(b, 100u));
    b.send(0, tagged(200));
    EXPECT_TRUE(next_is(a, 200u));  // A's first message: its own did not come back to it
    a.send(0, tagged(101));
    EXPECT_TRUE(next_is(b, 101u));  // nor did B's come back to B
    EXPECT_EQ(r.counters(2).routed, 2u);  // out of B's source
    EXPECT_EQ(r.counters(1).routed, 1u);

    // Removing B unlinks A: A's messages go nowhere, and re-adding B relinks.
    ASSERT_FALSE(r.remove_endpoint(2));
    a.send(0, tagged(102));
    ASSERT_FALSE(r.add_endpoint(2, 1, endpoint_behaviour::pair, 1));
    client b2 = make_client();
    ASSERT_FALSE(r.add_connection(b2.setup(12, 2)));
    a.send(0, tagged(103));
    EXPECT_TRUE(next_is(b2, 103u));
    EXPECT_FALSE(r.remove_connection(11));  // detached by remove_endpoint, still forgettable
    EXPECT_TRUE(r.remove_connection(11));   // and then gone
}

TEST(router, diagnostics_keeps_the_senders_timestamp) {
    single_endpoint s(endpoint_behaviour::diagnostics);
    auto& [r, c] = s;
    const std::uint64_t sent = now_ns() - 5'000'000;  // a moment ago: delivered at once
    c.send(sent, tagged(1));
    auto m = c.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->timestamp_ns, sent);
    // Timestamp 0: the receive stamp.
    const std::uint64_t before = now_ns();
    c.send(0, tagged(2));
    m = c.receive();
    const std::uint64_t after = now_ns();
    ASSERT_TRUE(m);
    EXPECT_GE(m->timestamp_ns, before);
    EXPECT_LE(m->timestamp_ns, after);
    // A future timestamp: held, then delivered with that same timestamp.
    const std::uint64_t at = now_ns() + 20'000'000;
    c.send(at, tagged(3));
    m = c.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->timestamp_ns, at);
    EXPECT_GE(now_ns(), at);
}

TEST(router, app_owned_both_directions) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 5, endpoint_behaviour::app_owned));
    client owner = make_client();
    client c1 = make_client();
    client c2 = make_client();
    ASSERT_FALSE(r.add_connection(owner.setup(10, 1, true)));
    ASSERT_FALSE(r.add_connection(c1.setup(11, 1)));
    ASSERT_FALSE(r.add_connection(c2.setup(12, 1)));
    client second_owner = make_client();
    EXPECT_TRUE(r.add_connection(second_owner.setup(13, 1, true)));  // one owner per endpoint

    // Clients → the application.
    c1.send(0, tagged(1));
    c2.send(0, tagged(2));
    EXPECT_TRUE(next_is(owner, 1u));
    EXPECT_TRUE(next_is(owner, 2u));

    // The application → its source → every client, not back to itself.
    owner.send(0, tagged(50));
    for (client* c : {&c1, &c2})
        EXPECT_TRUE(next_is(*c, 50u));  // first message: clients did not see each other's
    c1.send(0, tagged(3));
    EXPECT_TRUE(next_is(owner, 3u));  // first after 1, 2: its own 50 did not come back
}

TEST(router, app_owned_keeps_the_senders_timestamps_both_ways) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 5, endpoint_behaviour::app_owned));
    client owner = make_client();
    client c = make_client();
    ASSERT_FALSE(r.add_connection(owner.setup(10, 1, true)));
    ASSERT_FALSE(r.add_connection(c.setup(11, 1)));
    // A plugin host stamps its output with when it plays: a past stamp stays as it is,
    // a future one is delivered on time with that same stamp.
    const std::uint64_t past = now_ns() - 3'000'000;
    owner.send(past, tagged(1));
    auto m = c.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->timestamp_ns, past);
    const std::uint64_t future = now_ns() + 20'000'000;
    owner.send(future, tagged(2));
    m = c.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->timestamp_ns, future);
    EXPECT_GE(now_ns(), future);
    // A client's message reaches the owner with the client's stamp.
    c.send(past, tagged(3));
    m = owner.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->timestamp_ns, past);
}

TEST(router, refuses_malformed_records_and_passes_the_next) {
    single_endpoint s(endpoint_behaviour::loopback);
    auto& [r, c] = s;

    const std::uint32_t bad_status[1] = {0x20F0'0000};           // MIDI 1.0 channel voice with status 0xF
    const std::uint32_t wrong_size[2] = {0x2090'3C64, 0};        // a 1-word type sent as 2 words
    const std::uint32_t bad_data[1] = {0x2090'BC64};             // note number with bit 7 set
    const std::uint32_t truncated[1] = {0x4090'3C00};            // a 2-word type sent as 1 word
    c.send_raw(0, bad_status);
    c.send_raw(0, wrong_size);
    c.send_raw(0, bad_data);
    c.send_raw(0, truncated);
    c.send(0, tagged(7));
    EXPECT_TRUE(next_is(c, 7u));
    EXPECT_EQ(r.counters(1).rejected_malformed, 4u);
    EXPECT_EQ(r.counters(1).routed, 1u);
    EXPECT_EQ(r.counters().rejected_malformed, 4u);
    EXPECT_EQ(c.rings.to_service->rejected_malformed.load(), 4u);
    EXPECT_TRUE(reported(r, 10u, data_error::kind::malformed, 4u));
    EXPECT_FALSE(readable(r.notify_fd(), 0));  // taken: nothing pending
    EXPECT_TRUE(errors_of(r).empty());
    // The connection stays usable.
    c.send(0, tagged(8));
    EXPECT_TRUE(next_is(c, 8u));
}

TEST(router, scheduler_delivers_in_timestamp_order_not_before_time) {
    single_endpoint s(endpoint_behaviour::loopback);
    auto& [r, c] = s;
    const std::uint64_t base = now_ns();
    const std::uint64_t t_b = base + 150'000'000;
    const std::uint64_t t_a = base + 60'000'000;
    const std::uint64_t t_c = base + 100'000'000;
    c.send(t_b, tagged(4));
    c.send(t_a, tagged(1));
    c.send(t_c, tagged(2));  // equal timestamps: in send order
    c.send(t_c, tagged(3));
    c.send(0, tagged(0));    // now: overtakes the held ones
    const std::uint64_t expected_at[5] = {0, t_a, t_c, t_c, t_b};
    for (std::uint32_t i = 0; i < 5; ++i) {
        const auto m = c.receive();
        ASSERT_TRUE(m);
        EXPECT_EQ(tag_of(*m), i);
        EXPECT_GE(m->timestamp_ns, expected_at[i]);  // the loopback stamps the delivery time
        EXPECT_GE(now_ns(), expected_at[i]);
    }
    EXPECT_EQ(r.counters().scheduled_now, 0u);
}

TEST(router, refuses_too_far_ahead_and_when_full) {
    router_limits l = test_limits();
    l.max_schedule_ahead = 1s;
    l.schedule_capacity = 4;
    single_endpoint s(endpoint_behaviour::loopback, l);
    auto& [r, c] = s;

    c.send(now_ns() + 5'000'000'000, tagged(99));  // 5 s > 1 s
    EXPECT_TRUE(reported(r, 10u, data_error::kind::schedule_too_far, 1u));

    const std::uint64_t at = now_ns() + 300'000'000;
    for (std::uint32_t i = 0; i < 5; ++i) c.send(at + i, tagged(i));  // the fifth does not fit
    EXPECT_TRUE(reported(r, 10u, data_error::kind::schedule_full, 1u));
    EXPECT_EQ(r.counters().scheduled_now, 4u);
    for (std::uint32_t i = 0; i < 4; ++i) {
        EXPECT_TRUE(next_is(c, i));
    }
    EXPECT_EQ(r.counters(1).rejected_schedule, 2u);
    EXPECT_EQ(r.counters().rejected_schedule, 2u);
    EXPECT_EQ(c.rings.to_service->rejected_schedule.load(), 2u);
    // Room again after delivery.
    c.send(now_ns() + 1'000'000, tagged(42));
    EXPECT_TRUE(next_is(c, 42u));
}

TEST(router, full_client_ring_is_counted_and_blocks_nobody) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    client sleepy = make_client(4096, 64);  // never reads; 64 words = 16 four-word records
    client busy = make_client();
    ASSERT_FALSE(r.add_connection(sleepy.setup(10, 1)));
    ASSERT_FALSE(r.add_connection(busy.setup(11, 1)));
    const packet one_word = umpd::core::make_midi1_control_change(group{0}, channel{0}, 1, 0);
    for (std::uint32_t i = 0; i < 100; ++i) {
        busy.send(0, one_word);
        auto m = busy.receive();
        ASSERT_TRUE(m) << i;
    }
    EXPECT_EQ(r.counters(1).routed, 100u);
    EXPECT_EQ(r.counters(1).dropped_full, 84u);
    EXPECT_EQ(r.counters().dropped_full, 84u);
    EXPECT_EQ(sleepy.rings.to_client->dropped_full.load(), 84u);
    EXPECT_TRUE(reported(r, 10u, data_error::kind::ring_full, 84u));
    // The sleepy client still has the first 16, intact.
    for (int i = 0; i < 16; ++i) ASSERT_TRUE(sleepy.receive(1s));
}

TEST(router, stop_io_keeps_data_in_the_ring_and_start_io_delivers_it_in_order) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 7, endpoint_behaviour::loopback));
    ASSERT_FALSE(r.add_endpoint(2, 8, endpoint_behaviour::loopback));  // another device keeps running
    client c = make_client();
    client other = make_client();
    ASSERT_FALSE(r.add_connection(c.setup(10, 1)));
    ASSERT_FALSE(r.add_connection(other.setup(11, 2)));

    c.send(now_ns() + 30'000'000, tagged(0));  // scheduled before the stop: stays scheduled
    for (int i = 0; i < 10000 && r.counters().scheduled_now == 0; ++i) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(r.counters().scheduled_now, 1u);
    ASSERT_FALSE(r.stop_io(7));
    const std::uint64_t tail_at_stop = c.rings.to_service->tail.load();
    EXPECT_EQ(tail_at_stop, 5u);  // the scheduled record: 3 header words + 2
    for (std::uint32_t i = 1; i <= 10; ++i) c.send(0, tagged(i));
    // The other device is served meanwhile; once it has been, and the scheduled time
    // has passed, the stopped device's ring must still hold everything.
    std::this_thread::sleep_for(60ms);
    other.send(0, tagged(500));
    EXPECT_TRUE(next_is(other, 500u));
    EXPECT_EQ(c.rings.to_service->tail.load(), tail_at_stop);  // not read
    EXPECT_TRUE(c.in.empty());  // nothing delivered, not even the due one
    EXPECT_EQ(r.counters().scheduled_now, 1u);

    ASSERT_FALSE(r.start_io(7));
    for (std::uint32_t i = 0; i <= 10; ++i) EXPECT_TRUE(next_is(c, i));
    EXPECT_EQ(r.counters(1).routed, 11u);
}

TEST(router, remove_endpoint_discards_its_scheduled_messages) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    ASSERT_FALSE(r.add_endpoint(2, 1, endpoint_behaviour::loopback));
    client c = make_client();
    client keep = make_client();
    ASSERT_FALSE(r.add_connection(c.setup(10, 1)));
    ASSERT_FALSE(r.add_connection(keep.setup(11, 2)));
    const std::uint64_t at = now_ns() + 2'000'000'000;
    for (std::uint32_t i = 0; i < 3; ++i) c.send(at, tagged(i));
    keep.send(at, tagged(9));
    keep.send(0, tagged(8));
    EXPECT_TRUE(next_is(keep, 8u));
    // A pass may have read c's ring just before c's messages landed: wait for the next.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (r.counters().scheduled_now < 4 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(r.counters().scheduled_now, 4u);
    ASSERT_FALSE(r.remove_endpoint(1));
    EXPECT_EQ(r.counters().scheduled_now, 1u);
    EXPECT_EQ(r.counters().scheduled_discarded, 3u);
    EXPECT_TRUE(next_is(keep, 9u));
    EXPECT_EQ(r.counters(1).routed, 0u);  // gone
    EXPECT_FALSE(r.remove_connection(10));
}

TEST(router, control_errors) {
    router_limits l = test_limits();
    l.max_endpoints = 2;
    l.max_connections = 1;
    router r(l);
    ASSERT_FALSE(r.start());
    EXPECT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    EXPECT_TRUE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));  // already exists
    EXPECT_TRUE(r.add_endpoint(3, 1, endpoint_behaviour::pair));      // a pair needs a peer
    EXPECT_FALSE(r.add_endpoint(2, 1, endpoint_behaviour::diagnostics));
    EXPECT_TRUE(r.add_endpoint(4, 1, endpoint_behaviour::loopback));  // limit
    EXPECT_TRUE(r.remove_endpoint(9));
    client a = make_client();
    client b = make_client();
    EXPECT_TRUE(r.add_connection(a.setup(10, 9)));         // no such endpoint
    EXPECT_TRUE(r.add_connection(a.setup(10, 1, true)));   // owner on a loopback
    EXPECT_FALSE(r.add_connection(a.setup(10, 1)));
    EXPECT_TRUE(r.add_connection(b.setup(10, 2)));         // handle in use
    EXPECT_TRUE(r.add_connection(b.setup(11, 2)));         // limit
    router::connection_setup broken = b.setup(12, 2);
    broken.region.reset();
    EXPECT_TRUE(r.add_connection(broken));
    EXPECT_TRUE(r.remove_connection(99));
    EXPECT_FALSE(r.remove_connection(10));
    EXPECT_FALSE(r.add_connection(b.setup(11, 2)));  // room again
}

TEST(router, connections_sharing_one_service_wake) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    client a = make_client();
    client b = make_client();
    b.service_wake = a.service_wake;  // one wake for both, as one client process may do
    ASSERT_FALSE(r.add_connection(a.setup(10, 1)));
    ASSERT_FALSE(r.add_connection(b.setup(11, 1)));
    ASSERT_FALSE(r.remove_connection(10));  // b's wake must stay registered
    for (std::uint32_t i = 0; i < 20; ++i) {
        std::this_thread::sleep_for(1ms);  // let the router fall asleep between sends
        b.send(0, tagged(i));
        EXPECT_TRUE(next_is(b, i));
    }
}

// An idle router sleeps in epoll_wait: no CPU while nothing moves, even with a
// message scheduled far ahead (the timerfd waits for it, not a polling loop).
TEST(router, idle_router_uses_no_cpu) {
    router_limits l = test_limits();
    l.spin = std::chrono::microseconds(50);
    single_endpoint s(endpoint_behaviour::loopback, l);
    auto& [r, c] = s;
    c.send(0, tagged(1));
    ASSERT_TRUE(c.receive());
    c.send(now_ns() + 9'000'000'000, tagged(2));
    for (int i = 0; i < 10000 && r.counters().scheduled_now == 0; ++i) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(r.counters().scheduled_now, 1u);
    auto cpu_ns = [] {
        timespec ts{};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
    };
    std::this_thread::sleep_for(20ms);  // past the adaptive spin
    const std::uint64_t before = cpu_ns();
    std::this_thread::sleep_for(500ms);
    const std::uint64_t used = cpu_ns() - before;
    // A spinning or polling router would burn most of the 500 ms; a sleeping one, ~nothing.
    EXPECT_LT(used, 50'000'000u) << "the router used " << used << " ns of CPU while idle";
}

// The load test at router level: while one client streams sequence-numbered
// messages through endpoint 1, the control thread changes the device 500 times —
// stop I/O, add or remove an endpoint (with connections), start I/O — and endpoint
// 1's receiver must see every message exactly once, in order.
TEST(router, load_stream_survives_500_configuration_changes) {
    constexpr std::uint32_t total = 200'000;
    constexpr std::uint32_t window = 2048;  // in flight at most: the receiver's ring never overflows
    router r(test_limits());
    ASSERT_FALSE(r.start());
    constexpr std::uint32_t device = 1;
    ASSERT_FALSE(r.add_endpoint(1, device, endpoint_behaviour::loopback));
    client sender = make_client(1u << 14, 1u << 16);
    client receiver = make_client(1u << 12, 1u << 16);
    ASSERT_FALSE(r.add_connection(sender.setup(1, 1)));
    ASSERT_FALSE(r.add_connection(receiver.setup(2, 1)));

    std::atomic<std::uint32_t> received{0};
    std::atomic<bool> failed{false};
    // The stream is paced by the changes so that it spans all of them.
    constexpr std::uint32_t per_change = total / 500;
    std::atomic<std::uint32_t> changes_done{0};
    std::thread receive_thread([&] {
        for (std::uint32_t expected = 0; expected < total; ++expected) {
            std::optional<timed_packet> m;
            for (int waited = 0; !m && !failed && waited < 600; ++waited) m = receiver.receive(100ms);
            if (!m || tag_of(*m) != expected) {
                failed = true;
                ADD_FAILURE() << "expected " << expected << ", got " << (m ? std::to_string(tag_of(*m)) : "nothing");
                return;
            }
            received.store(expected + 1, std::memory_order_release);
        }
    });
    std::thread send_thread([&] {
        for (std::uint32_t i = 0; i < total && !failed; ++i) {
            while (i - received.load(std::memory_order_acquire) >= window && !failed) std::this_thread::yield();
            while (i >= (changes_done.load(std::memory_order_acquire) + 1) * per_change && !failed) {
                if (sender.out.publish()) sender.service_wake->signal();
                std::this_thread::yield();
            }
            const packet p = tagged(i);
            while (sender.out.free_words() < umpd::ipc::record_header_words + 2) std::this_thread::yield();
            if (sender.out.write(0, p.span()) != umpd::ipc::write_status::ok) {
                failed = true;
                ADD_FAILURE() << "sender ring refused " << i;
                return;
            }
            if (i % 16 == 15)
                if (sender.out.publish()) sender.service_wake->signal();
        }
        if (sender.out.publish()) sender.service_wake->signal();
    });

    // The control thread: 500 configuration changes on endpoint 1's device.
    struct added_port {
        std::uint32_t endpoint = 0;
        std::vector<client> clients;
        std::vector<std::uint32_t> connections;
    };
    std::vector<added_port> added;
    std::uint32_t next_connection = 100;
    int changes = 0;
    [&] {
        for (; changes < 500 && !failed; ++changes) {
            ASSERT_FALSE(r.stop_io(device));
            const bool add = added.empty() || (added.size() < 6 && changes % 3 != 2);
            if (add) {
                added_port a;
                a.endpoint = 2 + static_cast<std::uint32_t>(changes);  // ports 2..501, each added once
                ASSERT_FALSE(r.add_endpoint(a.endpoint, device, endpoint_behaviour::loopback));
                for (int k = 0; k < 2; ++k) {
                    a.clients.push_back(make_client(256, 256));
                    a.connections.push_back(next_connection);
                    ASSERT_FALSE(r.add_connection(a.clients.back().setup(next_connection++, a.endpoint)));
                    a.clients.back().send(0, tagged(7));  // traffic on the new port too (read after start_io)
                }
                added.push_back(std::move(a));
            } else {
                added_port& victim = added.front();
                // The port worked while it lived: each client got both clients' messages.
                for (client& c : victim.clients)
                    for (int k = 0; k < 2; ++k) {
                        auto m = c.receive();
                        ASSERT_TRUE(m) << "port " << victim.endpoint;
                        EXPECT_EQ(tag_of(*m), 7u);
                    }
                if (changes % 2 == 0) {
                    // Connections first, as clients closing would do.
                    for (std::uint32_t c : victim.connections) ASSERT_FALSE(r.remove_connection(c));
                    ASSERT_FALSE(r.remove_endpoint(victim.endpoint));
                } else {
                    // The port goes while clients are on it; the handles are forgotten after.
                    ASSERT_FALSE(r.remove_endpoint(victim.endpoint));
                    for (std::uint32_t c : victim.connections) ASSERT_FALSE(r.remove_connection(c));
                }
                added.erase(added.begin());
            }
            ASSERT_FALSE(r.start_io(device));
            changes_done.store(static_cast<std::uint32_t>(changes + 1), std::memory_order_release);
        }
    }();
    if (changes != 500) failed = true;
    send_thread.join();
    receive_thread.join();
    EXPECT_FALSE(failed);
    EXPECT_EQ(received.load(), total);
    EXPECT_EQ(r.counters(1).routed, total);
    EXPECT_EQ(receiver.rings.to_client->dropped_full.load(), 0u);
    // The sender never reads its own copies: those are the only drops.
    EXPECT_EQ(r.counters(1).dropped_full, sender.rings.to_client->dropped_full.load());
    EXPECT_EQ(r.counters(1).rejected_malformed, 0u);
}

// ---- capturing an owner's stream notifications for discovery (issue #4) ---------------

// Waits (generously) until the router queued captured messages, then takes them.
std::vector<umpd::service::captured_packet> wait_captured(router& r, std::size_t want) {
    std::vector<umpd::service::captured_packet> out;
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (out.size() < want && std::chrono::steady_clock::now() < end) {
        if (!readable(r.notify_fd(), 100)) continue;
        (void)errors_of(r);  // resets notify_fd, as the control thread does
        r.take_captured([&](const umpd::service::captured_packet& p) { out.push_back(p); });
    }
    return out;
}

TEST(router_capture, owner_notifications_go_to_the_control_thread_the_rest_is_fanned_out) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 5, endpoint_behaviour::app_owned));
    client owner = make_client();
    client c1 = make_client();
    ASSERT_FALSE(r.capture_stream(1, true));
    ASSERT_FALSE(r.add_connection(owner.setup(10, 1, true)));
    ASSERT_FALSE(r.add_connection(c1.setup(11, 1)));

    umpd::core::endpoint_info_fields info;
    info.function_block_count = 2;
    const packet notification = umpd::core::make_endpoint_info(info);
    umpd::core::function_block_info_fields block;
    block.block = 1;
    block.direction = umpd::core::function_block_direction::input;
    block.group_count = 1;
    const packet block_info = umpd::core::make_function_block_info(block);
    owner.send(0, notification);
    owner.send(now_ns() + 5'000'000'000ull, block_info);  // captured at once, not scheduled
    owner.send(0, umpd::core::make_start_of_clip());      // a stream message, but no discovery answer
    owner.send(0, tagged(7));
    const auto got = wait_captured(r, 2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].endpoint, 1u);
    EXPECT_EQ(got[0].packet, notification);
    EXPECT_EQ(got[1].packet, block_info);
    // The client sees only what is not a discovery answer, in order.
    auto m = c1.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet, umpd::core::make_start_of_clip());
    EXPECT_TRUE(next_is(c1, 7u));
    EXPECT_EQ(r.counters().captured_dropped, 0u);

    // A client's own stream messages are never captured; turned off, the owner's go out again.
    c1.send(0, notification);
    m = owner.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet, notification);
    ASSERT_FALSE(r.capture_stream(1, false));
    owner.send(0, notification);
    m = c1.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet, notification);
    std::size_t more = 0;
    r.take_captured([&](const umpd::service::captured_packet&) { ++more; });
    EXPECT_EQ(more, 0u);
    EXPECT_EQ(r.capture_stream(2, true), umpd::service::make_error_code(umpd::service::service_errc::not_found));
}

TEST(router_capture, a_full_capture_queue_drops_and_counts) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 5, endpoint_behaviour::app_owned));
    client owner = make_client(1u << 14);
    ASSERT_FALSE(r.capture_stream(1, true));
    ASSERT_FALSE(r.add_connection(owner.setup(10, 1, true)));
    const std::size_t sent = router::capture_capacity + 10;
    for (std::size_t i = 0; i < sent; ++i) owner.send(0, umpd::core::make_endpoint_info({}));
    // Nobody takes them until the router has read everything.
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (r.counters().captured_dropped < 10 && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(r.counters().captured_dropped, 10u);
    std::size_t taken = 0;
    r.take_captured([&](const umpd::service::captured_packet&) { ++taken; });
    EXPECT_EQ(taken, router::capture_capacity);
}

TEST(router_capture, inject_writes_to_one_connection_and_wakes_it) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 5, endpoint_behaviour::app_owned));
    client owner = make_client();
    client c1 = make_client();
    ASSERT_FALSE(r.add_connection(owner.setup(10, 1, true)));
    ASSERT_FALSE(r.add_connection(c1.setup(11, 1)));
    const std::vector<packet> ask = {umpd::core::make_endpoint_discovery(1, 1, 0x1F),
                                     umpd::core::make_function_block_discovery(0xFF, 3)};
    ASSERT_FALSE(r.inject(10, ask));
    for (const packet& p : ask) {
        auto m = owner.receive();
        ASSERT_TRUE(m);
        EXPECT_EQ(m->packet, p);
        EXPECT_NE(m->timestamp_ns, 0u);
    }
    c1.send(0, tagged(3));
    EXPECT_TRUE(next_is(owner, 3u));  // c1 saw nothing injected, the owner nothing else
    c1.send(0, tagged(4));
    EXPECT_TRUE(next_is(owner, 4u));
    EXPECT_EQ(r.inject(99, ask), umpd::service::make_error_code(umpd::service::service_errc::not_found));
    // A ring without room for all: what fits is written, the rest is refused.
    client small = make_client(4096, 64);
    ASSERT_FALSE(r.add_connection(small.setup(12, 1)));
    const std::vector<packet> many(20, umpd::core::make_endpoint_discovery(1, 1, 0x1F));
    EXPECT_EQ(r.inject(12, many), umpd::service::make_error_code(umpd::service::service_errc::limit));
    std::size_t got = 0;
    while (small.receive(100ms)) ++got;
    EXPECT_GT(got, 0u);
    EXPECT_LT(got, many.size());
}

}  // namespace

namespace {

// Routes: what comes out of one endpoint's source also goes to another's destination.
struct routed_pair {
    router r{test_limits()};
    client a = make_client();
    client b = make_client();
    explicit routed_pair(endpoint_behaviour to_behaviour) {
        EXPECT_FALSE(r.start());
        EXPECT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
        EXPECT_FALSE(r.add_endpoint(2, 2, to_behaviour));
        EXPECT_FALSE(r.add_connection(a.setup(10, 1)));
        EXPECT_FALSE(r.add_connection(b.setup(11, 2, to_behaviour == endpoint_behaviour::app_owned)));
    }
};

}  // namespace

TEST(router_routes, a_route_delivers_a_source_to_another_destination_with_its_timestamp) {
    routed_pair s(endpoint_behaviour::app_owned);
    ASSERT_FALSE(s.r.add_route(1, 2));
    s.a.send(0, tagged(1));
    const auto at_a = s.a.receive();
    ASSERT_TRUE(at_a);
    EXPECT_EQ(tag_of(*at_a), 1u);
    const auto at_owner = s.b.receive();  // B's owner gets it, as if a client had sent it
    ASSERT_TRUE(at_owner);
    EXPECT_EQ(tag_of(*at_owner), 1u);
    EXPECT_EQ(at_owner->timestamp_ns, at_a->timestamp_ns);
    EXPECT_EQ(s.r.counters(2).routed, 1u);

    // Removed: A's messages stay on A.
    ASSERT_FALSE(s.r.remove_route(1, 2));
    s.a.send(0, tagged(2));
    EXPECT_TRUE(next_is(s.a, 2u));
    EXPECT_FALSE(s.b.receive(50ms));
    EXPECT_EQ(s.r.counters(2).routed, 1u);
}

TEST(router_routes, chains_and_stream_messages_are_not_routed) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    std::vector<client> clients;
    for (std::uint32_t e = 1; e <= 3; ++e) {
        ASSERT_FALSE(r.add_endpoint(e, e, endpoint_behaviour::loopback));
        clients.push_back(make_client());
        ASSERT_FALSE(r.add_connection(clients.back().setup(10 + e, e)));
    }
    ASSERT_FALSE(r.add_route(1, 2));
    ASSERT_FALSE(r.add_route(2, 3));
    clients[0].send(0, tagged(7));
    for (client& c : clients) EXPECT_TRUE(next_is(c, 7u));
    // An endpoint name notification is about endpoint 1: it stays there.
    const std::uint8_t text[] = {'x'};
    clients[0].send(0, umpd::core::make_endpoint_name(umpd::core::packet_format::complete, text));
    ASSERT_TRUE(clients[0].receive());
    clients[0].send(0, tagged(8));
    for (client& c : clients) EXPECT_TRUE(next_is(c, 8u));  // 8 next, no name before it
}

TEST(router_routes, a_loop_is_cut_after_max_route_depth_and_counted) {
    routed_pair s(endpoint_behaviour::loopback);
    auto& [r, a, b] = s;
    ASSERT_FALSE(r.add_route(1, 2));
    ASSERT_FALSE(r.add_route(2, 1));
    a.send(0, tagged(1));
    // Out of A at hops 0, 2, 4, 6, 8; out of B at 1, 3, 5, 7; then the chain is cut.
    EXPECT_EQ(a.receive_n(5).size(), 5u);
    EXPECT_EQ(b.receive_n(4).size(), 4u);
    EXPECT_FALSE(a.receive(50ms));
    EXPECT_FALSE(b.receive(50ms));
    EXPECT_EQ(r.counters().route_loops, 1u);
    static_assert(router::max_route_depth == 8);
}

TEST(router_routes, control_errors_and_endpoint_removal) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    ASSERT_FALSE(r.add_endpoint(2, 2, endpoint_behaviour::loopback));
    using umpd::service::service_errc;
    EXPECT_EQ(r.add_route(1, 9), make_error_code(service_errc::not_found));
    EXPECT_EQ(r.add_route(9, 1), make_error_code(service_errc::not_found));
    EXPECT_EQ(r.add_route(1, 1), make_error_code(service_errc::invalid_argument));
    EXPECT_EQ(r.remove_route(1, 2), make_error_code(service_errc::not_found));
    ASSERT_FALSE(r.add_route(1, 2));
    EXPECT_EQ(r.add_route(1, 2), make_error_code(service_errc::already_exists));
    ASSERT_FALSE(r.add_route(2, 1));
    // Removing endpoint 2 takes both routes with it; a new endpoint 2 has none.
    ASSERT_FALSE(r.remove_endpoint(2));
    ASSERT_FALSE(r.add_endpoint(2, 2, endpoint_behaviour::loopback));
    EXPECT_EQ(r.remove_route(1, 2), make_error_code(service_errc::not_found));
    EXPECT_EQ(r.remove_route(2, 1), make_error_code(service_errc::not_found));
    client a = make_client();
    client b = make_client();
    ASSERT_FALSE(r.add_connection(a.setup(10, 1)));
    ASSERT_FALSE(r.add_connection(b.setup(11, 2)));
    a.send(0, tagged(1));
    EXPECT_TRUE(next_is(a, 1u));
    EXPECT_FALSE(b.receive(50ms));
}

TEST(router_routes, a_message_routed_to_a_stopped_device_waits_for_start_io) {
    routed_pair s(endpoint_behaviour::app_owned);
    ASSERT_FALSE(s.r.add_route(1, 2));
    ASSERT_FALSE(s.r.stop_io(2));
    s.a.send(0, tagged(1));
    EXPECT_TRUE(next_is(s.a, 1u));
    EXPECT_FALSE(s.b.receive(50ms));
    ASSERT_FALSE(s.r.start_io(2));
    EXPECT_TRUE(next_is(s.b, 1u));
}

TEST(router_routes, early_delivery_passes_future_messages_to_the_owner_when_read) {
    routed_pair s(endpoint_behaviour::app_owned);  // 1: loopback, 2: app_owned with owner b
    auto& [r, a, b] = s;
    client c = make_client();
    ASSERT_FALSE(r.add_connection(c.setup(12, 2)));  // a client of endpoint 2
    EXPECT_EQ(r.set_early_delivery(1, true), make_error_code(umpd::service::service_errc::invalid_argument));
    EXPECT_EQ(r.set_early_delivery(9, true), make_error_code(umpd::service::service_errc::not_found));
    ASSERT_FALSE(r.set_early_delivery(2, true));

    // A client's message stamped 10 s ahead reaches the owner now, with its stamp.
    const std::uint64_t later = now_ns() + 10'000'000'000;
    c.send(later, tagged(1));
    auto m = b.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(tag_of(*m), 1u);
    EXPECT_EQ(m->timestamp_ns, later);
    EXPECT_LT(now_ns(), later);
}

TEST(router_routes, an_apps_future_output_reaches_early_endpoints_at_once_and_the_rest_on_time) {
    router r(test_limits());
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::app_owned));  // a plugin's output
    ASSERT_FALSE(r.add_endpoint(2, 2, endpoint_behaviour::app_owned));  // the next plugin: early
    ASSERT_FALSE(r.add_endpoint(3, 3, endpoint_behaviour::app_owned));  // an app: on time
    client owner1 = make_client();
    client owner2 = make_client();
    client owner3 = make_client();
    client listener = make_client();
    ASSERT_FALSE(r.add_connection(owner1.setup(10, 1, true)));
    ASSERT_FALSE(r.add_connection(owner2.setup(11, 2, true)));
    ASSERT_FALSE(r.add_connection(owner3.setup(12, 3, true)));
    ASSERT_FALSE(r.add_connection(listener.setup(13, 1)));
    ASSERT_FALSE(r.set_early_delivery(2, true));
    ASSERT_FALSE(r.add_route(1, 2));
    ASSERT_FALSE(r.add_route(1, 3));

    const std::uint64_t at = now_ns() + 1'000'000'000;  // a second: plenty for the early copy
    owner1.send(at, tagged(5));
    auto m = owner2.receive();  // early: before `at`
    ASSERT_TRUE(m);
    EXPECT_EQ(m->timestamp_ns, at);
    EXPECT_LT(now_ns(), at);
    EXPECT_FALSE(owner3.receive(0ms));  // held
    m = owner3.receive();  // on time
    ASSERT_TRUE(m);
    EXPECT_GE(now_ns(), at);
    EXPECT_EQ(m->timestamp_ns, at);
    m = listener.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(tag_of(*m), 5u);
    EXPECT_FALSE(owner2.receive(50ms));  // once only
}
