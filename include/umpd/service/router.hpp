// The router: umpd's real-time data thread.
//
// It owns every piece of routing state. The control thread never touches that state;
// it sends commands through a single-producer queue and waits for their completion
// (commands are applied between batches, so a change is atomic for the data path and
// nothing in flight on an unaffected endpoint is lost, reordered or duplicated).
//
// Data flow: a client connection writes to its to_service ring → the router reads,
// validates (core::check_packet), stamps (timestamp 0 = now), holds future messages in
// the scheduler, and delivers to the endpoint's destination. What a destination does
// depends on the endpoint's behaviour:
//   loopback     the message comes out of the same endpoint's source, re-stamped with
//                the time it is delivered;
//   diagnostics  the same, but the sender's timestamp is preserved (benchmarks);
//   pair         the message comes out of the *peer* endpoint's source (A ⇄ B);
//   app_owned    the message goes to the owning application's connection (its
//                to_client ring); what the application writes comes out of the source.
//                Both ways the sender's timestamp is kept (the receive time for 0): an
//                application or a driver stamps what it emits with when it happened.
// What a source emits is fanned out to every connection open on that endpoint.
//
// Threads: every public function is for the control thread, except where marked.
// Real-time: the router thread allocates nothing, takes no lock another thread can
// hold, and makes no system call but epoll_wait, timerfd and the eventfd wake-ups
// (plus one futex wake per applied command, to release the waiting caller).
//
// Hand-over between the threads: add_endpoint/add_connection allocate the router's
// per-endpoint and per-connection state on the calling thread, register the wake
// eventfd with the router's epoll, and pass a pointer through a preallocated
// single-producer command queue; the caller blocks (futex) until the router has
// applied the command between two batches. remove_* send the pointer back the same
// way and free the state on the calling thread only after the router has
// acknowledged, so the router never touches freed memory and never frees. Several
// control threads may call: a mutex on the control side serialises them (the
// router thread never takes it). Before start() and after stop() commands are
// applied directly by the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "umpd/core/packet.hpp"
#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/ring.hpp"
#include "umpd/ipc/shm.hpp"

namespace umpd::service {

using endpoint_handle = std::uint32_t;    // assigned by the caller, unique while it exists
using connection_handle = std::uint32_t;  // assigned by the caller
using device_handle = std::uint32_t;

enum class endpoint_behaviour : std::uint8_t { loopback, diagnostics, pair, app_owned };

struct router_limits {
    std::chrono::nanoseconds max_schedule_ahead{std::chrono::seconds(60)};
    std::uint32_t schedule_capacity = 65536;   // messages held for the future, all endpoints
    std::uint32_t max_endpoints = 4096;
    std::uint32_t max_connections = 4096;
    std::chrono::nanoseconds spin{std::chrono::microseconds(50)};  // adaptive spin before sleeping
};

// Counters, readable at any time from any thread (relaxed atomics inside).
struct endpoint_counters {
    std::uint64_t routed = 0;              // messages delivered (out of the source, or to an app_owned owner)
    std::uint64_t dropped_full = 0;        // fan-out copies lost to full client rings
    std::uint64_t rejected_malformed = 0;
    std::uint64_t rejected_schedule = 0;
};
struct router_counters {
    std::uint64_t messages_routed = 0;
    std::uint64_t dropped_full = 0;
    std::uint64_t rejected_malformed = 0;
    std::uint64_t rejected_schedule = 0;
    std::uint64_t scheduled_now = 0;       // messages waiting in the scheduler
    std::uint64_t scheduled_discarded = 0; // scheduled messages dropped by remove_endpoint
    std::uint64_t captured_dropped = 0;    // captured stream messages lost to a full capture queue
    std::uint64_t route_loops = 0;         // messages a route chain did not pass on (max_route_depth reached)
    std::uint64_t route_dropped = 0;       // routed messages lost: the target was stopped and the scheduler full
};

// A UMP stream message an app_owned endpoint's owner wrote while capture_stream was on,
// for the control thread (take_captured).
struct captured_packet {
    endpoint_handle endpoint = 0;
    core::packet packet{};
};

// What umpd answers, on an endpoint's behalf, to a client's UMP Endpoint Discovery
// (stream status 0x000) and Function Block Discovery (0x010): the packet sequences the
// endpoint declares (umpd's virtual and loopback endpoints; app-owned ones that declared
// at publish), prebuilt on the control thread (service/app_device.hpp builds them) so
// the router only copies.
// An empty sequence means "not declared": that filter bit gets no reply.
struct discovery_replies {
    std::vector<core::packet> endpoint_info;         // filter bit discover_endpoint_info
    std::vector<core::packet> device_identity;       // discover_device_identity
    std::vector<core::packet> endpoint_name;         // discover_endpoint_name (multi-packet)
    std::vector<core::packet> product_instance_id;   // discover_product_instance_id
    std::vector<core::packet> stream_configuration;  // discover_stream_configuration
    struct function_block {
        std::uint8_t number = 0;         // 0..31
        std::vector<core::packet> info;  // discover_function_block_info
        std::vector<core::packet> name;  // discover_function_block_name (multi-packet)
    };
    std::vector<function_block> function_blocks;
};

// A data-path problem the control thread reports to the client (data_error event).
struct data_error {
    connection_handle connection = 0;
    enum class kind : std::uint8_t { malformed, schedule_too_far, schedule_full, ring_full, corrupt_ring } what{};
    std::uint64_t count = 0;  // how many since the last report
};

class router {
public:
    explicit router(router_limits limits);
    ~router();  // stops the thread
    router(const router&) = delete;
    router& operator=(const router&) = delete;

    // Errors of the control-side calls are service_errc (registry.hpp): not_found,
    // already_exists, invalid_argument, limit; or a system error from epoll_ctl.

    [[nodiscard]] std::error_code start();  // starts the router thread
    void stop();                            // drains nothing: stops at once (shutdown)
    [[nodiscard]] const router_limits& limits() const noexcept;

    // Endpoints. `device` groups endpoints for stop_io/start_io. For a pair, `peer`
    // names the other endpoint (add both, then they are linked; removing one unlinks).
    [[nodiscard]] std::error_code add_endpoint(endpoint_handle e, device_handle device, endpoint_behaviour b,
                                               endpoint_handle peer = 0);
    // Removes the endpoint; messages scheduled for it are discarded (counted), its
    // connections are detached (their rings see nothing more).
    [[nodiscard]] std::error_code remove_endpoint(endpoint_handle e);

    // A client connection on an endpoint. The router keeps the region mapped (shared
    // ownership) for as long as the connection exists. `owner` marks the connection
    // through which an app_owned endpoint's application does its I/O (one per endpoint;
    // without an owner, clients' messages to an app_owned endpoint go nowhere).
    // Several connections may share one service_wake.
    struct connection_setup {
        connection_handle handle = 0;
        endpoint_handle endpoint = 0;
        std::shared_ptr<ipc::shm_region> region;  // already laid out with init_connection
        std::shared_ptr<ipc::wake> service_wake;   // the client signals this
        std::shared_ptr<ipc::wake> client_wake;    // the router signals this
        bool owner = false;
    };
    [[nodiscard]] std::error_code add_connection(connection_setup setup);
    // After it returns the router no longer reads or writes the connection's rings.
    // Also valid (and needed, to forget the handle) for a connection whose endpoint
    // was removed.
    [[nodiscard]] std::error_code remove_connection(connection_handle c);

    // Makes the router answer discovery on endpoint `e` itself (any behaviour): a client's
    // Endpoint Discovery or Function Block Discovery (complete packets of message type
    // 0xF) gets the matching packets of `replies`, honouring the request's filter and
    // block number, written to that client's connection only (stamped with the time
    // read, ahead of any of its scheduled messages), and is neither delivered (looped
    // back, passed to a peer) nor passed to an app_owned endpoint's owner.
    // Null: no more answering (discovery goes to the owner like any message). The
    // previous replies are freed on the calling thread after the router let go.
    [[nodiscard]] std::error_code set_discovery_replies(endpoint_handle e,
                                                        std::shared_ptr<const discovery_replies> replies);

    // Endpoint discovery of app_owned endpoints that declared nothing (umpd asks them).
    //
    // capture_stream(e, true): from now on, the UMP stream notifications e's owner writes
    // — Endpoint Info, Device Identity, Endpoint Name, Product Instance Id, Stream
    // Configuration Notification, Function Block Info and Name (is_captured_stream) —
    // are not fanned out to clients but queued for the control thread, at once,
    // whatever their timestamp. Every other message of the owner (stream messages such
    // as Start/End of Clip included) goes out as before. The queue is preallocated
    // (capture_capacity); when full the message is dropped and counted
    // (router_counters::captured_dropped). Meaningful only for app_owned endpoints.
    [[nodiscard]] std::error_code capture_stream(endpoint_handle e, bool on);
    static constexpr std::size_t capture_capacity = 1024;
    [[nodiscard]] static bool is_captured_stream(const core::packet& p) noexcept;
    // The captured messages, oldest first. notify_fd() becomes readable when there are
    // some; it is shared with the data errors and reset by take_data_errors, so the
    // control thread calls take_data_errors and then take_captured each time it fires.
    // `each` runs without the router's control mutex held.
    void take_captured(const std::function<void(const captured_packet&)>& each);

    // Writes `packets` to connection c's to_client ring (stamped with the time they are
    // written) and wakes its client: how umpd talks to an application on its owner
    // connection. Returns once the router has written them; limit when the ring had no
    // room for all of them (the ones that fit are written), not_found for an unknown or
    // detached connection.
    [[nodiscard]] std::error_code inject(connection_handle c, std::span<const core::packet> packets);

    // Routes: everything that comes out of `from`'s source (after it went to the
    // connections on `from`) is also delivered to `to`'s destination, on the router
    // thread, with the timestamp it left `from` with — as if a client had sent it to
    // `to` at that moment: an app_owned `to` passes it to its owner, a loopback one
    // sends it out of its source, a pair one out of its peer's source, and so on, so
    // routes chain. UMP stream messages (message type 0xF) describe an endpoint and are
    // not routed. A chain that comes back to where it started is cut after
    // max_route_depth hops (router_counters::route_loops counts each cut). A message
    // routed to a stopped device is held like a scheduled one until start_io (dropped
    // and counted in route_dropped when the scheduler is full).
    // Errors: not_found (either endpoint; remove_route: no such route), invalid_argument
    // (from == to), already_exists. Removing an endpoint removes its routes both ways.
    [[nodiscard]] std::error_code add_route(endpoint_handle from, endpoint_handle to);
    [[nodiscard]] std::error_code remove_route(endpoint_handle from, endpoint_handle to);
    static constexpr unsigned max_route_depth = 8;

    // Early delivery (app_owned endpoints only, else invalid_argument): what clients
    // send to e — and what routes bring to it — reaches e's owner as soon as the router
    // reads it, with its timestamp, even when that is in the future; the owner places
    // messages by their timestamps itself (the LV2 plugin host renders ahead of time and
    // so never sees a message late, whatever the router's wake-up latency). Routed
    // messages from an app_owned source stamped in the future go to early endpoints when
    // read, to the others (and to the source's clients) at their time.
    [[nodiscard]] std::error_code set_early_delivery(endpoint_handle e, bool on);

    // Configuration-change support: stop_io(device) makes the router stop reading the
    // device's connections' to_service rings and first delivers everything already
    // read (scheduled messages for the device stay scheduled); start_io resumes. Both
    // return once the router has applied them. A device's offline state maps to the
    // same switch. Scheduled messages that fall due while the device is stopped are
    // delivered at start_io, in order, before anything read after it. Endpoints added
    // to a stopped device start stopped.
    [[nodiscard]] std::error_code stop_io(device_handle d);
    [[nodiscard]] std::error_code start_io(device_handle d);

    [[nodiscard]] endpoint_counters counters(endpoint_handle e) const;
    [[nodiscard]] router_counters counters() const;

    // Data errors since the last call (the control thread polls this on its event loop;
    // `notify_fd()` becomes readable when there are any; this call makes it unreadable
    // again). `each` is called without the router's control mutex held, so it may call
    // the router. A corrupt_ring error means the router stopped reading that connection:
    // close it.
    void take_data_errors(const std::function<void(const data_error&)>& each);
    [[nodiscard]] int notify_fd() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace umpd::service
