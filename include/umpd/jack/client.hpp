// The JACK driver's client (umpd::jack): one JACK client publishing one JACK MIDI
// port per MIDI 1.0 port umpd gives it, converting both ways between JACK's MIDI 1.0
// byte events and timestamped UMP.
//
// Directions follow the naming module (what applications see): a `source` port is a
// JACK *output* port (umpd → JACK applications: send()), a `destination` port is a
// JACK *input* port (JACK applications → umpd: take()).
//
// Threads (docs/jack.md):
//   control   start/stop, add_port/remove_port/rename_port, the queries. One thread at a
//             time (a mutex inside serialises callers; the process callback never takes it).
//   sender    send(): one thread at a time (the single producer of every port's ring).
//             Allocates nothing and locks nothing: the service's router may call it.
//   receiver  take(): one thread at a time (the single consumer of the incoming ring).
//             notify_fd() becomes readable when JACK delivered something.
//   process   JACK's real-time thread: converts and copies only. No allocation, no lock
//             another thread holds, no wait; its one system call is the eventfd write.
//   keeper    a thread of the client's own: notices a lost server (jack_on_info_shutdown)
//             and reopens the client every retry_interval, re-registering every port.
//
// Time: UMP timestamps are CLOCK_MONOTONIC nanoseconds. JACK's clock (jack_get_time)
// is CLOCK_MONOTONIC_RAW microseconds in jackd2 1.9.21 on Linux (the tests check it):
// the client measures CLOCK_MONOTONIC − JACK time at each open and then every second,
// and applies it both ways.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "umpd/core/packet.hpp"
#include "umpd/naming/port.hpp"

namespace umpd::jack {

enum class errc {
    server_unavailable = 1,  // no JACK server answered jack_client_open (and wait_for_server is off)
    not_started,             // the call needs start() first
    duplicate_key,           // add_port with a key already in use
    unknown_port,            // no port with that key
    register_failed,         // JACK refused jack_port_register
    rename_failed,           // JACK refused jack_port_rename
    invalid_argument,        // an empty name, a group index above 15, capacities of 0
    thread_failed,           // the keeper thread or eventfd could not be created
};
[[nodiscard]] const std::error_category& jack_category() noexcept;
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

struct client_config {
    std::string client_name = "umpd";
    std::string server_name;  // empty: JACK's default ($JACK_DEFAULT_SERVER, else "default")
    // Start (and keep running) without a server; the keeper retries every retry_interval.
    bool wait_for_server = true;
    std::chrono::milliseconds retry_interval{500};
    std::size_t incoming_capacity = 16384;  // UMP messages waiting for take(), all ports
    std::size_t outgoing_capacity = 4096;   // UMP messages waiting per source port
    // Bytes of one JACK event under construction per source port: a longer SysEx goes
    // out in chunks of at most this size (and of what the JACK buffer has room for).
    std::size_t event_capacity = 4096;
};

// One JACK cycle for a cycle listener (set_cycle_listener).
struct cycle_event {
    std::uint64_t start_ns = 0;  // CLOCK_MONOTONIC time of the cycle's first frame
    std::uint64_t span_ns = 0;   // the cycle's length (JACK's estimate of one period)
    std::uint32_t frames = 0;    // nframes
    std::uint32_t sample_rate = 0;
};
// Runs on JACK's process thread, so it has the process callback's rules: no
// allocation, no lock another thread holds, no wait.
using cycle_listener = void (*)(void* user, const cycle_event& cycle) noexcept;

using port_key = std::uint32_t;  // the caller's name for a port, unique in the client

struct port_spec {
    port_key key = 0;
    naming::port_direction direction = naming::port_direction::source;
    std::uint8_t group_index = 0;  // destination: the group its UMP carries; source: informational
    std::string name;       // the short JACK port name (cut to JACK's limit on a character boundary)
    std::string full_name;  // set as the port's alias and its JACK metadata pretty-name
};

// One UMP message from a JACK input (destination) port.
struct incoming_message {
    port_key port = 0;
    std::uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC time of the event's frame
    core::packet packet{};
};

enum class send_status : std::uint8_t { ok, unknown_port, wrong_direction, full };

// Counters of one port; relaxed reads, any thread.
struct port_counters {
    std::uint64_t events = 0;          // JACK events read (destination) or written (source)
    std::uint64_t messages = 0;        // UMP messages produced (destination) or consumed (source)
    std::uint64_t dropped_full = 0;    // source: send() found the ring full; destination: incoming ring full
    std::uint64_t deferred = 0;        // source: cycles whose buffer filled up; the rest waited for the next cycle
    std::uint64_t late = 0;            // source: messages whose time had passed, written at frame 0
    std::uint64_t untranslatable = 0;  // source: UMP with no MIDI 1.0 form; destination: malformed bytes
};
struct client_counters {
    std::uint64_t cycles = 0;         // process callbacks run
    std::uint64_t connects = 0;       // successful jack_client_open, the first included
    std::uint64_t server_losses = 0;  // jack_on_info_shutdown seen
    std::uint64_t incoming_dropped = 0;
    std::uint64_t xruns = 0;          // JACK reported an xrun (a cycle that did not complete in time)
};

class client {
public:
    explicit client(client_config config);
    ~client();  // stop()
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Control thread. Opens the client (and keeps retrying in the background when the
    // server is absent and wait_for_server is set). Errors: server_unavailable,
    // thread_failed, invalid_argument.
    [[nodiscard]] std::error_code start();
    // Control thread. Closes the client, stops the keeper; ports stay known, start()
    // publishes them again.
    void stop();

    // Control thread. The port set; valid before start() and while the server is away
    // (the port is registered when the client is (re)opened). Errors: duplicate_key,
    // invalid_argument, register_failed (nothing changes), unknown_port, rename_failed.
    [[nodiscard]] std::error_code add_port(port_spec spec);
    // After it returns the process callback no longer reads the port; what was queued
    // for it is discarded.
    [[nodiscard]] std::error_code remove_port(port_key key);
    [[nodiscard]] std::error_code rename_port(port_key key, std::string name, std::string full_name);

    // Control thread. Whether a server is connected; the client's name as JACK gave it
    // ("" while not connected; neither call waits for the keeper's reconnection work);
    // a port's full JACK name ("client:port", nullopt when unknown or not registered).
    [[nodiscard]] bool connected() const noexcept;
    [[nodiscard]] std::string jack_client_name() const;
    [[nodiscard]] std::optional<std::string> jack_port_name(port_key key) const;
    // The offset added to JACK microseconds × 1000 to get CLOCK_MONOTONIC nanoseconds.
    [[nodiscard]] std::int64_t clock_offset_ns() const noexcept;

    // Sender thread. Queues a message for a source port, to be written at the frame
    // `timestamp_ns` falls on (0 or a past time: as soon as possible, at frame 0 of the
    // next cycle). Real-time safe.
    [[nodiscard]] send_status send(port_key key, std::uint64_t timestamp_ns, const core::packet& p) noexcept;

    // Receiver thread. Moves up to out.size() incoming messages into `out`, oldest first.
    // Real-time safe.
    [[nodiscard]] std::size_t take(std::span<incoming_message> out) noexcept;
    // Readable when messages arrived; take() reads it empty. For epoll/poll.
    [[nodiscard]] int notify_fd() const noexcept;

    // Control thread. `fn(user, cycle)` is called at the start of every process cycle
    // (before the ports are served) from now on; null: no listener. When it returns the
    // previous listener is no longer running nor called.
    void set_cycle_listener(cycle_listener fn, void* user);

    [[nodiscard]] std::optional<port_counters> counters(port_key key) const;  // control thread
    [[nodiscard]] client_counters counters() const noexcept;                  // any thread

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace umpd::jack

template <>
struct std::is_error_code_enum<umpd::jack::errc> : std::true_type {};
