// The umpd SDK: connect to umpd, enumerate and configure its devices and endpoints,
// open connections to endpoints and send and receive timestamped UMP.
//
// Threads. A client runs two threads of its own:
//   - the control thread reads umpd's control socket, hands responses to the thread
//     that asked, runs event callbacks, and reconnects when umpd goes away (every
//     reconnect_interval) — re-subscribing and re-opening every open connection by
//     endpoint id, then delivering a `reconnected` event;
//   - the receive thread (started by the first open() with a receive callback) runs
//     every connection's receive callback.
// Every client member function may be called from any thread, including from inside
// callbacks. A connection's send side is for one thread at a time, and so is its
// receive side (receive(), wait()) when it has no callback.
//
// Errors are values (result.hpp). Requests wait at most options::request_timeout.
// The protocol is docs/protocol.md.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "umpd/client/ports.hpp"
#include "umpd/client/result.hpp"
#include "umpd/core/packet.hpp"
#include "umpd/ipc/ring.hpp"

namespace umpd::client {

using ipc::timed_packet;

// CLOCK_MONOTONIC in nanoseconds, the clock of every timestamp. Any thread; real-time safe.
[[nodiscard]] std::uint64_t now_ns() noexcept;

// ---- what umpd reports ------------------------------------------------------------

struct endpoint_counters {
    std::uint64_t routed = 0;
    std::uint64_t dropped_full = 0;
    std::uint64_t rejected_malformed = 0;
    std::uint64_t rejected_schedule = 0;
};

struct endpoint_info {
    std::string id;         // "virtual/umpd-virtual-device/1"
    std::string name;
    std::string device;     // the device's name
    std::string device_id;
    std::string driver;
    std::string protocol;   // "midi1" or "midi2"
    std::string kind;       // "port", "loopback-a", ...
    bool offline = false;
    std::uint64_t connections = 0;
    endpoint_counters counters;
};

struct device_info {
    std::string id;  // "virtual/umpd-virtual-device"
    std::string name;
    std::string manufacturer;
    std::string model;
    std::string driver;
    bool offline = false;
    std::vector<std::string> endpoints;  // endpoint ids
};

struct listing {
    std::vector<device_info> devices;
    std::vector<endpoint_info> endpoints;
    // The endpoint whose id or name is `id_or_name`, or nullptr.
    [[nodiscard]] const endpoint_info* find_endpoint(std::string_view id_or_name) const noexcept;
    [[nodiscard]] const device_info* find_device(std::string_view id_or_name) const noexcept;
};

struct driver_state {
    std::string name;
    std::string state;
    std::string detail;
};

struct service_status {
    std::string version;
    std::int64_t pid = 0;
    double uptime_s = 0;
    std::string runtime_dir;
    std::string config_file;
    std::vector<driver_state> drivers;
    std::uint64_t connections = 0;
    std::uint64_t messages_routed = 0;
    std::uint64_t dropped_full = 0;
    std::uint64_t rejected_malformed = 0;
    std::uint64_t rejected_schedule = 0;
};

struct server_info {
    std::string server;  // "umpd x.y.z"
    int protocol = 0;
    std::int64_t pid = 0;
};

// A device or endpoint after rename().
struct renamed_object {
    bool is_device = false;
    std::string id;
    std::string name;
};

enum class loopback_kind { pair, midi1, diagnostics };

// umpd's transport and musical context (the lv2 driver's `transport` op, see
// docs/protocol.md): what a client needs to follow umpd's timeline. `time_ns` is the
// CLOCK_MONOTONIC time at which the position holds; while playing, the beat at a later
// time t is beat_at(t) (the tempo is constant until the next transport_changed event).
// bar is 0-based, bar_beat counts from 0 within the bar.
struct transport_info {
    double sample_rate = 48000.0;
    double bpm = 120.0;
    double beats_per_bar = 4.0;
    int beat_unit = 4;
    std::int64_t frame = 0;  // the position in samples
    double beat = 0.0;       // beats since the origin
    std::int64_t bar = 0;
    double bar_beat = 0.0;
    bool playing = false;
    bool recording = false;
    bool cycling = false;
    double cycle_start = 0.0;  // beats
    double cycle_end = 0.0;
    std::uint64_t time_ns = 0;
    // The beat at CLOCK_MONOTONIC time t: beat while stopped, else extrapolated at bpm
    // (double precision; cycles are not folded in).
    [[nodiscard]] double beat_at(std::uint64_t t) const noexcept;
};

// Something that happened in umpd (after subscribe()) or to the client itself.
struct event {
    enum class kind {
        endpoint_added, endpoint_removed, endpoint_changed,
        device_added, device_changed, device_removed,
        configuration_change,
        data_error,
        disconnected,     // the client lost umpd; it keeps trying to reconnect
        reconnected,      // connected again; connections re-opened (see failed_reopen)
        connection_lost,  // a connection could not be re-opened after a reconnect (id: its endpoint)
        endpoint_opened,  // app-owned devices, to their application only: a client opened one of
        endpoint_closed,  //   its endpoints (id), or closed it; connection: that client's; count: clients now
        ports_changed,    // an endpoint's MIDI 1.0 ports, names or numbers changed (id; ports: all of them now)
        transport_changed,// umpd's transport was changed (transport: as it is now; phase: the change)
        unknown,          // an event this SDK does not know (see json)
    };
    kind what = kind::unknown;
    std::optional<endpoint_info> endpoint;  // endpoint_added / endpoint_changed
    std::optional<device_info> device;      // device_added / device_changed
    std::string id;       // endpoint_removed, device_removed, configuration_change (device), connection_lost
    std::string phase;    // configuration_change: "requested", "performed", "aborted"
    std::uint64_t connection = 0;  // data_error, endpoint_opened, endpoint_closed
    std::string error_kind;        // data_error: "malformed", "schedule_too_far", "schedule_full", "ring_full"
    std::uint64_t count = 0;       // data_error; endpoint_opened/closed: clients using the endpoint now
    std::string message;  // disconnected / connection_lost: why
    std::vector<midi1_port> ports;  // ports_changed: the endpoint's ports now
    std::optional<transport_info> transport;  // transport_changed
    std::string json;     // the event as umpd sent it (empty for the client's own events)
};
[[nodiscard]] std::string_view to_string(event::kind k) noexcept;

using event_callback = std::function<void(const event&)>;
// Called on the client's receive thread, once per message, in order.
using receive_callback = std::function<void(const timed_packet&)>;

// ---- connections ---------------------------------------------------------------------

// Counters of one connection, read from its ring headers (summed over reconnects).
struct connection_counters {
    std::uint64_t sent = 0;                // messages this connection published to umpd
    std::uint64_t send_dropped_full = 0;   // sends refused because the ring to umpd was full
    std::uint64_t receive_dropped_full = 0;// messages umpd could not deliver: our ring was full
    std::uint64_t rejected_malformed = 0;  // records umpd refused as invalid UMP
    std::uint64_t rejected_schedule = 0;   // refused by umpd's scheduler (too far ahead, queue full)
};

struct open_options {
    // Ring sizes in 32-bit words (powers of two); 0: umpd's default.
    std::uint32_t to_service_words = 0;
    std::uint32_t to_client_words = 0;
    // With a callback, messages are delivered on the client's receive thread and
    // receive()/wait()/fd() are not for use. Without, the application reads with
    // receive(), waiting on fd() (poll/epoll) or with wait().
    receive_callback on_receive;
};

namespace detail {
struct connection_state;
class session;
}  // namespace detail

class connection {
public:
    connection() = default;  // not open
    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    ~connection();  // closes

    [[nodiscard]] bool is_open() const noexcept;
    // False while the client is reconnecting (sends fail with errc::disconnected).
    [[nodiscard]] bool is_live() const noexcept;
    [[nodiscard]] const endpoint_info& endpoint() const noexcept;
    [[nodiscard]] std::uint64_t id() const noexcept;  // umpd's connection id (changes on reconnect)
    // How far ahead umpd schedules (open's max_schedule_ahead_ns).
    [[nodiscard]] std::uint64_t max_schedule_ahead_ns() const noexcept;

    // Sends one message; timestamp 0 means now, a future CLOCK_MONOTONIC time has umpd
    // deliver it then. Validates the packet (core::check_packet) first: a malformed
    // one is refused with errc::malformed_packet and nothing is sent. Full ring:
    // errc::ring_full. No allocation on success. Thread: the connection's sending thread.
    [[nodiscard]] result<void> send(const core::packet& p, std::uint64_t timestamp_ns = 0) noexcept;
    // Sends as many of `messages` as fit, in order, with one publish and at most one
    // wake-up; returns how many were sent (fewer than given when the ring filled: send
    // the rest later). Every packet is validated first; if one is malformed nothing is
    // sent and the error names its index.
    [[nodiscard]] result<std::size_t> send_batch(std::span<const timed_packet> messages) noexcept;
    // Waits (sleeping in short steps) until umpd has read everything sent so far; false
    // on timeout or when the connection is not live. Use before closing a connection
    // that just sent: closing discards what umpd has not read yet.
    // Thread: the connection's sending thread.
    bool flush(std::chrono::nanoseconds timeout) noexcept;

    // Non-blocking: takes the next received message. False when none is waiting (or the
    // connection is not live); a false return arms fd() so it becomes readable when the
    // next message arrives. Thread: one reader thread (connections without a callback).
    [[nodiscard]] bool receive(timed_packet& out) noexcept;
    // Waits until a message is waiting or timeout passes (negative: forever): spins for
    // `spin` first (cheap low latency when traffic is dense), then sleeps on the wake-up.
    // True when a message is waiting.
    bool wait(std::chrono::nanoseconds timeout, std::chrono::nanoseconds spin = std::chrono::microseconds(50)) noexcept;
    // The client wake-up eventfd, for poll/epoll: readable when receive() has something.
    // Changes after a reconnect (watch for the `reconnected` event). -1 when not open.
    [[nodiscard]] int fd() const noexcept;

    [[nodiscard]] connection_counters counters() const noexcept;

    // Closes the connection (tells umpd; never fails from the caller's point of view).
    void close() noexcept;

private:
    friend class detail::session;
    explicit connection(std::shared_ptr<detail::connection_state> s) noexcept;
    std::shared_ptr<detail::connection_state> s_;
};

// ---- app-owned devices -----------------------------------------------------------------
//
// An application publishes its own device: umpd lists it (driver "app") and routes
// clients' messages to the application, which sends what the device's ports emit.
// umpd answers clients' UMP discovery from what is declared here; the device goes away
// with unpublish(), the published_device's destruction, or the application's exit.

struct function_block_spec {
    std::string name;
    std::uint8_t first_group = 1;  // 1..16, as a person reads groups
    std::uint8_t groups = 1;       // how many, first_group + groups - 1 <= 16
    std::string direction = "bidirectional";  // "input", "output", "bidirectional"
    bool active = true;
    std::string ui_hint;           // "unknown", "receiver", "sender", "sender_receiver"; empty: from direction
    std::string midi1 = "no";      // "no", "unrestricted", "restricted"
};

// UMP Endpoint Info Notification fields (the function block count comes from the list).
struct endpoint_info_spec {
    std::uint8_t ump_version_major = 1;
    std::uint8_t ump_version_minor = 1;
    bool midi1 = false;
    bool midi2 = true;
    bool rx_jr = false;
    bool tx_jr = false;
    bool static_function_blocks = true;
};

struct device_identity_spec {
    std::array<std::uint8_t, 3> manufacturer{};  // SysEx id bytes, 0..127
    std::uint16_t family = 0;                    // 0..16383
    std::uint16_t model = 0;
    std::array<std::uint8_t, 4> software_revision{};
};

struct app_port_spec {
    std::string name;               // also the UMP Endpoint Name
    std::string protocol = "midi2"; // "midi1" or "midi2"
    // With either of these umpd answers discovery for the port; with neither, clients'
    // discovery messages reach the application like any other message.
    std::optional<endpoint_info_spec> endpoint_info;
    std::vector<function_block_spec> function_blocks;
    std::string product_instance_id;  // empty: none
    std::optional<device_identity_spec> device_identity;
    // The application's I/O connection on the port: ring sizes and an optional receive
    // callback (what clients send to the port; without a callback, use receive()).
    open_options io;
};

struct app_device_spec {
    std::string name;
    std::string manufacturer;  // empty: the client's name
    std::string model;         // empty: "App Device"
    std::vector<app_port_spec> ports;
    // endpoint_opened / endpoint_closed for this device's ports, on the client's control
    // thread. Without one they go to the client's general event flow.
    event_callback on_event;
};

class published_device {
public:
    published_device() = default;
    published_device(published_device&&) noexcept;
    published_device& operator=(published_device&&) noexcept;
    ~published_device();  // unpublishes

    [[nodiscard]] bool is_published() const noexcept { return published_; }
    [[nodiscard]] const device_info& info() const noexcept { return info_; }
    // The application's I/O connections, one per port in the order declared: send()
    // is what the port's source emits to every client, receive()/the callback gives
    // what clients sent to the port's destination.
    [[nodiscard]] std::vector<connection>& ports() noexcept { return ports_; }
    [[nodiscard]] connection& port(std::size_t index) { return ports_.at(index); }

    // Removes the device from umpd (clients see endpoint_removed / device_removed)
    // and closes the ports' connections. Thread: any.
    [[nodiscard]] result<void> unpublish();

private:
    friend class client;
    std::weak_ptr<detail::session> s_;
    device_info info_;
    std::vector<connection> ports_;
    bool published_ = false;
    std::uint64_t token_ = 0;  // the session's record of it (re-published on reconnect)
};

// ---- the client ----------------------------------------------------------------------

struct options {
    std::string runtime_dir;                 // empty: ipc::default_runtime_dir()
    std::string client_name = "umpd-sdk";    // shows in umpd's logs
    bool reconnect = true;                   // reconnect by itself when umpd restarts
    std::chrono::milliseconds reconnect_interval{100};
    std::chrono::milliseconds request_timeout{10000};
};

class client {
public:
    // Connects and says hello. Thread: any.
    [[nodiscard]] static result<client> connect(options o = {});

    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client();  // closes every connection and stops the client's threads

    [[nodiscard]] server_info server() const;  // from the latest hello
    [[nodiscard]] const std::string& runtime_dir() const noexcept;
    [[nodiscard]] bool is_connected() const noexcept;

    [[nodiscard]] result<service_status> status();
    [[nodiscard]] result<listing> list();

    // Starts event delivery. With a callback, events are delivered on the control
    // thread; without, they queue (up to 4096, older ones dropped) for next_event().
    // The client's own events (disconnected, reconnected, connection_lost) arrive the
    // same way, also before subscribe() when a callback is set.
    [[nodiscard]] result<void> subscribe(event_callback on_event = {});
    // Polling form: waits up to timeout for a queued event.
    [[nodiscard]] bool next_event(event& out, std::chrono::milliseconds timeout);

    [[nodiscard]] result<endpoint_info> add_port(std::string_view device, std::string_view name = {},
                                                 std::string_view protocol = {});
    [[nodiscard]] result<void> remove_port(std::string_view endpoint);
    [[nodiscard]] result<device_info> set_offline(std::string_view device, bool offline);
    // Renames a device or an endpoint, given its id or name (endpoints win when both match).
    [[nodiscard]] result<renamed_object> rename(std::string_view device_or_endpoint, std::string_view name);
    [[nodiscard]] result<device_info> create_loopback(loopback_kind kind, std::string_view name,
                                                      std::string_view name_b = {});
    [[nodiscard]] result<void> remove_loopback(std::string_view device);
    [[nodiscard]] result<std::vector<device_info>> list_loopbacks();
    [[nodiscard]] result<void> reload_config();

    // Publishes an app-owned device and opens the application's I/O connection on each
    // of its ports (docs/protocol.md: publish_device, open with owner).
    [[nodiscard]] result<published_device> publish_device(app_device_spec spec);
    // The same from publish_device's request fields as JSON text (for the C API and
    // tools); the ports' connections have no receive callback.
    [[nodiscard]] result<published_device> publish_device_json(std::string_view request_json,
                                                               event_callback on_event = {});

    // Opens a connection to an endpoint (id or unique name).
    [[nodiscard]] result<connection> open(std::string_view endpoint, open_options o = {});

    // ---- MIDI 1.0 ports and their names (docs/protocol.md, docs/naming.md) ----
    //
    // The lookups (ports, find_ports, port_by_number, ports_of) are answered from a
    // cache: the first one fetches umpd's full port list once and indexes it here. To
    // hear about changes the client subscribes to umpd's events by itself on first use
    // (the application's own subscribe() and its events are unaffected: without it, the
    // application still gets none of umpd's broadcast events). The cache is dropped on
    // ports_changed, endpoint_added / removed / changed, disconnected and reconnected,
    // so it is never stale: umpd sends the events of a change before its reply to the
    // request that made it, and the client reads its socket in order, so a lookup made
    // after any change call returns (from this client or, once its event has arrived,
    // from another) sees the new state. This client's own change calls also drop it.
    // A lookup fetches and is not cached when the subscription failed.

    // Every port, or those matching the filter (group 0-15).
    [[nodiscard]] result<std::vector<midi1_port>> ports(const port_filter& filter = {});
    // Ports with this name (any style; legacy_only: the legacy-compatible name only),
    // in either direction or the one given: zero, one or several.
    [[nodiscard]] result<std::vector<midi1_port>> find_ports(std::string_view name, bool legacy_only = false,
                                                             std::optional<port_direction> direction = std::nullopt);
    // errc::not_found when no port has that number in that direction.
    [[nodiscard]] result<midi1_port> port_by_number(std::uint32_t number, port_direction direction);
    // An endpoint's ports (id or unique name), optionally one group (0-15) / direction.
    // errc::not_found when umpd has no such endpoint; an endpoint without MIDI 1.0 ports
    // ("UMP only") gives an empty list.
    [[nodiscard]] result<std::vector<midi1_port>> ports_of(std::string_view endpoint,
                                                           std::optional<std::uint8_t> group = std::nullopt,
                                                           std::optional<port_direction> direction = std::nullopt);
    // Sets (or with an empty name clears) the custom name of one port (group 0-15).
    [[nodiscard]] result<midi1_port> rename_port(std::string_view endpoint, std::uint8_t group,
                                                 port_direction direction, std::string_view name);
    // The endpoint's naming approach; returns its ports as renamed.
    [[nodiscard]] result<std::vector<midi1_port>> set_naming(std::string_view endpoint, endpoint_naming approach);
    [[nodiscard]] result<void> set_global_naming(global_naming naming);
    [[nodiscard]] result<global_naming> get_global_naming();
    // umpd's transport and musical context now (op transport; not_found... errors as
    // umpd gives them, e.g. when its plugin host is disabled).
    [[nodiscard]] result<transport_info> transport();
    // Everything the endpoint declared (op endpoint_info; named so because endpoint_info
    // is the SDK's type for the endpoint object).
    [[nodiscard]] result<endpoint_declaration> endpoint_details(std::string_view endpoint);
    // Replaces a virtual endpoint's declared function blocks (first_group 1-16 as in
    // publish_device); returns the endpoint's declaration after the change.
    [[nodiscard]] result<endpoint_declaration> set_function_blocks(std::string_view endpoint,
                                                                   const std::vector<function_block_spec>& blocks);

    // Any operation: `fields_json` is a JSON object of request fields ("{}" or empty for
    // none); returns umpd's `result` object as JSON text. For tools and new operations.
    [[nodiscard]] result<std::string> call(std::string_view op, std::string_view fields_json = {});

private:
    explicit client(std::shared_ptr<detail::session> s) noexcept;
    [[nodiscard]] result<published_device> publish(const std::string& request_json, std::vector<open_options> io,
                                                   event_callback on_event);
    void ports_may_have_changed() noexcept;  // drops the lookup cache after our own change calls
    std::shared_ptr<detail::session> s_;
};

[[nodiscard]] std::string_view to_string(loopback_kind k) noexcept;

}  // namespace umpd::client
