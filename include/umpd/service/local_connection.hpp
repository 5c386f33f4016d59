// An in-process connection on an endpoint: what a driver inside umpd (JACK, ALSA,
// LV2) uses where an application uses the SDK. It is the same thing a client gets
// over the control socket — a region with the two rings and two eventfd wake-ups —
// added to the router like any client's connection, so the data path treats a
// driver exactly like an application: validation, scheduling, fan-out, counters.
//
//   client connection (owner = false): write() sends to the endpoint's destination;
//     read() yields what comes out of the endpoint's source.
//   owner connection (owner = true, only on an app_owned endpoint the driver
//     published): read() yields what clients send to the endpoint; write() is what
//     the endpoint's source emits to every client.
//
// Threads: the side that writes is one thread at a time (single producer of
// to_service); the side that reads is one thread at a time (single consumer of
// to_client). Both may be real-time threads: write/flush/read/release allocate
// nothing and take no lock; flush's one possible system call is the eventfd write
// that wakes a sleeping router. The object is created and opened/closed on the
// control thread (driver_host::open_local / close_local).
#pragma once

#include <cstdint>
#include <memory>
#include <system_error>

#include "umpd/core/packet.hpp"
#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/ring.hpp"
#include "umpd/ipc/shm.hpp"
#include "umpd/service/router.hpp"

namespace umpd::service {

class local_connection {
public:
    local_connection() = default;
    local_connection(const local_connection&) = delete;
    local_connection& operator=(const local_connection&) = delete;

    // Lays out the region (ring sizes: powers of two, at least 64 words). Wake-ups
    // may be shared between a driver's connections (null: a new eventfd each):
    // `client_wake` is what the router signals when it published to this
    // connection's to_client ring while the reader slept — one fd for a driver's
    // whole poll loop; `service_wake` is what flush() signals.
    [[nodiscard]] std::error_code create(std::uint32_t to_service_words, std::uint32_t to_client_words,
                                         std::shared_ptr<ipc::wake> client_wake = nullptr,
                                         std::shared_ptr<ipc::wake> service_wake = nullptr);

    // For the host: the router's view of it.
    [[nodiscard]] router::connection_setup setup(connection_handle h, endpoint_handle e, bool owner) const;
    void opened(connection_handle h, endpoint_handle e, bool owner) noexcept;
    void closed() noexcept { handle_ = 0; }

    [[nodiscard]] bool is_open() const noexcept { return handle_ != 0; }
    [[nodiscard]] connection_handle handle() const noexcept { return handle_; }
    [[nodiscard]] endpoint_handle endpoint() const noexcept { return endpoint_; }
    [[nodiscard]] bool owner() const noexcept { return owner_; }

    // Producer side. write() stages one message (timestamp 0 = now, else CLOCK_MONOTONIC
    // ns); false when the ring is full (counted in the ring header, nothing waits).
    // flush() publishes what was staged and wakes the router if it sleeps.
    [[nodiscard]] bool write(std::uint64_t timestamp_ns, const core::packet& p) noexcept;
    void flush() noexcept;

    // Consumer side. read(): the next message, false when there is none. release()
    // gives the space back to the router (after a batch of reads).
    [[nodiscard]] bool read(std::uint64_t& timestamp_ns, core::packet& p) noexcept;
    void release() noexcept;
    // Sleep protocol on the to_client ring: announce, then block on client_wake_fd();
    // false means a message arrived meanwhile (do not sleep). woke_up() after waking.
    [[nodiscard]] bool prepare_to_sleep() noexcept;
    void woke_up() noexcept;
    [[nodiscard]] int client_wake_fd() const noexcept;

    // Messages the router could not write to this connection (its ring was full).
    [[nodiscard]] std::uint64_t dropped_by_router() const noexcept;
    // Messages write() could not stage (the to_service ring was full).
    [[nodiscard]] std::uint64_t dropped_on_write() const noexcept;

private:
    std::shared_ptr<ipc::shm_region> region_;
    std::shared_ptr<ipc::wake> service_wake_;
    std::shared_ptr<ipc::wake> client_wake_;
    ipc::ring_writer out_;  // to_service
    ipc::ring_reader in_;   // to_client
    connection_handle handle_ = 0;
    endpoint_handle endpoint_ = 0;
    bool owner_ = false;
};

}  // namespace umpd::service
