// The client's side of one router connection, for tests that drive the router
// directly (no daemon): a connection region, its two wake-ups and both ring ends.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/ring.hpp"
#include "umpd/ipc/shm.hpp"
#include "umpd/service/router.hpp"

namespace umpd_test {

struct router_client {
    std::shared_ptr<umpd::ipc::shm_region> region;
    std::shared_ptr<umpd::ipc::wake> service_wake;
    std::shared_ptr<umpd::ipc::wake> client_wake;
    umpd::ipc::connection_rings rings;
    umpd::ipc::ring_writer out;  // to_service
    umpd::ipc::ring_reader in;   // to_client

    [[nodiscard]] umpd::service::router::connection_setup setup(std::uint32_t handle, std::uint32_t endpoint,
                                                               bool owner = false) const {
        umpd::service::router::connection_setup s;
        s.handle = handle;
        s.endpoint = endpoint;
        s.region = region;
        s.service_wake = service_wake;
        s.client_wake = client_wake;
        s.owner = owner;
        return s;
    }

    void send_raw(std::uint64_t ts, std::span<const std::uint32_t> words) {
        ASSERT_EQ(out.write(ts, words), umpd::ipc::write_status::ok);
        if (out.publish()) service_wake->signal();
    }
    void send(std::uint64_t ts, const umpd::core::packet& p) { send_raw(ts, p.span()); }

    // The next message, or nothing after `timeout` (a generous bound against hangs).
    std::optional<umpd::ipc::timed_packet> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            umpd::ipc::timed_packet m;
            const auto s = in.read(m);
            if (s == umpd::ipc::read_status::ok) {
                in.release();
                return m;
            }
            if (s == umpd::ipc::read_status::corrupt) {
                ADD_FAILURE() << "to_client ring corrupt";
                return std::nullopt;
            }
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left <= std::chrono::nanoseconds(0)) return std::nullopt;
            if (in.prepare_to_sleep()) {
                client_wake->wait(std::chrono::duration_cast<std::chrono::nanoseconds>(left));
                in.woke_up();
            }
        }
    }

    // Receives up to n messages (fewer when one does not come in time).
    std::vector<umpd::core::packet> receive_n(std::size_t n) {
        std::vector<umpd::core::packet> got;
        for (std::size_t i = 0; i < n; ++i) {
            auto m = receive();
            if (!m) break;
            got.push_back(m->packet);
        }
        return got;
    }
};

inline router_client make_router_client(const char* name, std::uint32_t to_service_words = 4096,
                                        std::uint32_t to_client_words = 4096) {
    router_client c;
    umpd::ipc::shm_region region;
    EXPECT_FALSE(umpd::ipc::shm_region::create(name, umpd::ipc::connection_bytes(to_service_words, to_client_words), region));
    umpd::ipc::init_connection(region, to_service_words, to_client_words);
    c.region = std::make_shared<umpd::ipc::shm_region>(std::move(region));
    umpd::ipc::wake w1;
    umpd::ipc::wake w2;
    EXPECT_FALSE(umpd::ipc::wake::create(w1));
    EXPECT_FALSE(umpd::ipc::wake::create(w2));
    c.service_wake = std::make_shared<umpd::ipc::wake>(std::move(w1));
    c.client_wake = std::make_shared<umpd::ipc::wake>(std::move(w2));
    EXPECT_FALSE(umpd::ipc::attach_connection(*c.region, c.rings));
    c.out = umpd::ipc::ring_writer(c.rings.to_service, c.rings.to_service_data, c.rings.to_service_words);
    c.in = umpd::ipc::ring_reader(c.rings.to_client, c.rings.to_client_data, c.rings.to_client_words);
    return c;
}

}  // namespace umpd_test
