// An SDK client connected to a test daemon (daemon_process.hpp).
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>

#include "daemon_process.hpp"
#include "umpd/client/client.hpp"

namespace umpd_test {

inline umpd::client::client connect_client(const daemon_process& d, const char* name, bool reconnect = true) {
    umpd::client::options o;
    o.runtime_dir = d.dir();
    o.client_name = name;
    o.reconnect = reconnect;
    auto c = umpd::client::client::connect(o);
    if (!c) throw std::runtime_error(c.message());
    return std::move(*c);
}

// Receives one message (polling form), waiting generously so a slow machine does not fail.
inline std::optional<umpd::client::timed_packet> receive_one(
    umpd::client::connection& c, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    umpd::client::timed_packet m;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (c.receive(m)) return m;
        (void)c.wait(std::chrono::milliseconds(50));
    }
    return std::nullopt;
}

// Waits for an event matching pred from the client's queue.
template <class Pred>
std::optional<umpd::client::event> wait_event(umpd::client::client& c, Pred pred,
                                              std::chrono::seconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    umpd::client::event e;
    while (std::chrono::steady_clock::now() < end)
        if (c.next_event(e, std::chrono::milliseconds(100)) && pred(e)) return e;
    return std::nullopt;
}

}  // namespace umpd_test
