// local_connection: a driver's in-process connection behaves on the router exactly as
// a client's — client side on a loopback, owner side on an app_owned endpoint, and a
// wake-up shared between several connections.
#include "umpd/service/local_connection.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>
#include <time.h>

#include <chrono>
#include <optional>

#include "router_client.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/service/registry.hpp"
#include "umpd/service/router.hpp"

namespace {

using umpd::core::channel;
using umpd::core::group;
using umpd::core::packet;
using umpd::service::endpoint_behaviour;
using umpd::service::local_connection;
using umpd::service::router;
using umpd::service::router_limits;

std::uint64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Waits (generously) for the next message on a local connection using its sleep protocol.
std::optional<std::pair<std::uint64_t, packet>> receive(local_connection& c) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        std::uint64_t ts = 0;
        packet p{};
        if (c.read(ts, p)) {
            c.release();
            return std::pair{ts, p};
        }
        if (c.prepare_to_sleep()) {
            pollfd fd{c.client_wake_fd(), POLLIN, 0};
            (void)::poll(&fd, 1, 100);
            std::uint64_t count = 0;
            (void)!::read(c.client_wake_fd(), &count, sizeof count);
            c.woke_up();
        }
    }
    return std::nullopt;
}

TEST(local_connection, client_side_round_trip_through_a_loopback) {
    router r(router_limits{});
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    local_connection c;
    ASSERT_FALSE(c.create(1024, 1024));
    ASSERT_FALSE(r.add_connection(c.setup(7, 1, false)));
    c.opened(7, 1, false);
    EXPECT_TRUE(c.is_open());
    EXPECT_EQ(c.handle(), 7u);

    const packet p = umpd::core::make_midi1_note_on(group{4}, channel{1}, 64, 90);
    const std::uint64_t before = now_ns();
    ASSERT_TRUE(c.write(0, p));
    c.flush();
    const auto m = receive(c);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->second, p);
    EXPECT_GE(m->first, before);
    EXPECT_EQ(r.counters(1).routed, 1u);
    ASSERT_FALSE(r.remove_connection(7));
    r.stop();
}

TEST(local_connection, owner_side_of_an_app_owned_endpoint) {
    router r(router_limits{});
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::app_owned));
    local_connection owner;
    ASSERT_FALSE(owner.create(1024, 1024));
    ASSERT_FALSE(r.add_connection(owner.setup(1, 1, true)));
    auto client = umpd_test::make_router_client("local-owner-test");
    ASSERT_FALSE(r.add_connection(client.setup(2, 1)));

    // What a client sends reaches the owner (the driver) and not the client.
    const packet to_driver = umpd::core::make_midi1_note_on(group{0}, channel{0}, 60, 1);
    client.send(0, to_driver);
    const auto got = receive(owner);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->second, to_driver);

    // What the driver writes comes out of the source, with its timestamp kept when due.
    const packet from_driver = umpd::core::make_midi1_note_off(group{0}, channel{0}, 60, 0);
    ASSERT_TRUE(owner.write(0, from_driver));
    owner.flush();
    const auto out = client.receive();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->packet, from_driver);
    ASSERT_FALSE(r.remove_connection(1));
    ASSERT_FALSE(r.remove_connection(2));
    r.stop();
}

TEST(local_connection, one_shared_wake_serves_several_connections) {
    router r(router_limits{});
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    ASSERT_FALSE(r.add_endpoint(2, 1, endpoint_behaviour::loopback));
    auto shared = std::make_shared<umpd::ipc::wake>();
    ASSERT_FALSE(umpd::ipc::wake::create(*shared));
    local_connection a, b;
    ASSERT_FALSE(a.create(256, 256, shared));
    ASSERT_FALSE(b.create(256, 256, shared));
    EXPECT_EQ(a.client_wake_fd(), b.client_wake_fd());
    ASSERT_FALSE(r.add_connection(a.setup(1, 1, false)));
    ASSERT_FALSE(r.add_connection(b.setup(2, 2, false)));

    // b sleeps; a message looped back on endpoint 2 makes the shared fd readable.
    ASSERT_TRUE(a.prepare_to_sleep());
    ASSERT_TRUE(b.prepare_to_sleep());
    ASSERT_TRUE(b.write(0, umpd::core::make_midi1_note_on(group{0}, channel{2}, 1, 1)));
    b.flush();
    pollfd fd{shared->fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&fd, 1, 10'000), 1);
    a.woke_up();
    b.woke_up();
    std::uint64_t ts = 0;
    packet p{};
    EXPECT_FALSE(a.read(ts, p));
    EXPECT_TRUE(b.read(ts, p));
    ASSERT_FALSE(r.remove_connection(1));
    ASSERT_FALSE(r.remove_connection(2));
    r.stop();
}

TEST(local_connection, a_full_ring_refuses_and_counts) {
    local_connection c;
    ASSERT_FALSE(c.create(64, 64));
    const packet p = umpd::core::make_midi1_note_on(group{0}, channel{0}, 1, 1);
    int written = 0;
    while (c.write(0, p)) ++written;
    EXPECT_GT(written, 0);
    EXPECT_EQ(c.dropped_on_write(), 1u);
}

TEST(local_connection, ring_sizes_must_be_powers_of_two_of_at_least_64_words) {
    local_connection c;
    EXPECT_EQ(c.create(100, 1024), umpd::service::make_error_code(umpd::service::service_errc::invalid_argument));
    EXPECT_EQ(c.create(1024, 32), umpd::service::make_error_code(umpd::service::service_errc::invalid_argument));
    EXPECT_FALSE(c.is_open());
}

}  // namespace
