// The JACK driver's bridge thread: moves messages between the service's in-process
// connections and the JACK client (docs/jack.md, "The driver in the service").
//
//   endpoint source → local_connection::read() → client::send() on the JACK output
//                     port of the message's group (groupless UMP is skipped);
//   JACK input      → client::take() → local_connection::write() to the endpoint's
//                     destination, stamped with the time of the event's frame.
//
// The bridge thread is the single consumer and single producer of every connection
// it reads and writes, the sender of client::send() and the receiver of take(). It
// allocates nothing and takes no lock. It sleeps in epoll on three fds: the shared
// client wake of all its connections, the JACK client's notify_fd and its own control
// wake; after activity it spins for `spin` first, as the router does.
//
// Hand-over: the control thread describes the exported set in an immutable
// bridge_table and publish()es it: the pointer is swapped, the bridge woken, and
// publish() returns once the bridge has started a pass with the new table (or the
// thread is not running). Only then may the control thread free the old table and
// close connections that are no longer in it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "umpd/ipc/fd.hpp"
#include "umpd/jack/client.hpp"
#include "umpd/service/local_connection.hpp"

namespace umpd::jack {

struct bridge_endpoint {
    service::local_connection* connection = nullptr;
    std::array<port_key, 16> source_keys{};  // per group: the JACK output port, 0 for none
};

struct bridge_input {
    port_key key = 0;
    std::uint32_t endpoint = 0;  // index into bridge_table::endpoints
};

struct bridge_table {
    std::uint64_t version = 0;
    std::vector<bridge_endpoint> endpoints;
    std::vector<bridge_input> inputs;  // sorted by key
    // Bridge thread only: which connections got writes in this pass (sized with endpoints).
    mutable std::vector<std::uint8_t> written;
};

class bridge {
public:
    bridge() = default;
    ~bridge() { stop(); }
    bridge(const bridge&) = delete;
    bridge& operator=(const bridge&) = delete;

    // Control thread. Starts the thread; `client_wake` is the wake all connections share.
    [[nodiscard]] std::error_code start(client& c, std::shared_ptr<ipc::wake> client_wake,
                                        std::chrono::nanoseconds spin);
    // Control thread. Joins the thread; the connections are untouched afterwards.
    void stop();

    // Control thread. Makes `next` the bridge's table. Returns false when the thread
    // did not acknowledge within a few seconds (it should never happen): the old table
    // and everything it points to must then be leaked rather than freed.
    [[nodiscard]] bool publish(std::unique_ptr<bridge_table> next);

    // Any thread, lock-free: messages from JACK that matched no exported input and
    // messages for a JACK port that had just gone (a port removed while they were
    // queued); messages a connection's ring refused (to umpd); messages send() refused
    // because the port's ring was full (to JACK).
    [[nodiscard]] std::uint64_t unrouted() const noexcept { return unrouted_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t send_full() const noexcept { return send_full_.load(std::memory_order_relaxed); }

private:
    void run() noexcept;
    bool pass(const bridge_table& t) noexcept;
    bool pass_sources(const bridge_table& t) noexcept;
    bool pass_inputs(const bridge_table& t) noexcept;
    static bool prepare_to_sleep(const bridge_table& t) noexcept;
    static void woke_up(const bridge_table& t) noexcept;

    client* client_ = nullptr;
    std::shared_ptr<ipc::wake> client_wake_;
    ipc::wake control_wake_;
    ipc::unique_fd epoll_;
    std::chrono::nanoseconds spin_{};
    std::thread thread_;
    bool running_ = false;
    std::atomic<bool> stop_requested_{false};

    std::unique_ptr<bridge_table> current_;           // owned by the control thread
    std::atomic<const bridge_table*> table_{nullptr};  // what the bridge reads
    std::atomic<std::uint64_t> acknowledged_{0};      // the version of the table of the bridge's pass
    std::uint64_t next_version_ = 1;

    std::atomic<std::uint64_t> unrouted_{0};
    std::atomic<std::uint64_t> refused_{0};
    std::atomic<std::uint64_t> send_full_{0};
    std::array<incoming_message, 64> incoming_{};  // bridge thread only
};

}  // namespace umpd::jack
