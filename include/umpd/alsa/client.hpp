// The ALSA sequencer driver's client (umpd::alsa): one sequencer client that
//   - exports ports: one sequencer port per MIDI 1.0 port it is given, a `source`
//     (umpd → ALSA applications) readable and subscribable for reading, a
//     `destination` (ALSA applications → umpd) writable and subscribable for writing;
//   - imports: lists the other clients' ports, follows System:Announce (client and
//     port start / exit / change; the kernel announces no port renames) and subscribes to the remote ports it is told to,
//     reading them through one private port of its own ("import") and writing to them
//     from it;
//   - converts both ways between sequencer events and timestamped UMP (codec.hpp).
//
// Time: UMP timestamps are CLOCK_MONOTONIC nanoseconds. Incoming events are stamped
// when the I/O thread reads them (microseconds after the kernel delivered them when it
// is idle; the kernel's own stamps would come from a queue timer ticking every 4 ms
// without snd-hrtimer). Outgoing messages due in the future are held by the client and
// sent when due (a timerfd on CLOCK_MONOTONIC: never early, late by a wake-up), and
// nothing for a target overtakes an event held for it: order per target is never
// changed. Long SysEx leaves paced (client_config::sysex_interval per event), through
// the same hold.
//
// Threads (docs/alsa.md):
//   control  open/close, ports, subscriptions, the queries. Any thread; a mutex inside
//            serialises every call that touches the sequencer handle.
//   I/O      one thread of the client's own, started by open(): polls the sequencer's
//            fd (and an optional fd of the caller's), converts what arrives and calls
//            the handlers — on_message, on_announcement, on_wake — holding that mutex
//            (recursive: send() may be called from inside a handler). It is not a
//            real-time thread: the sequencer is reached through system calls anyway.
//   senders  send()/send_to(): any thread (the mutex), typically the I/O thread from
//            on_wake.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "umpd/core/packet.hpp"
#include "umpd/naming/port.hpp"

namespace umpd::alsa {

enum class errc {
    no_sequencer = 1,  // /dev/snd/seq does not exist (the snd-seq module is not loaded)
    open_failed,       // snd_seq_open or the client's set-up (name, ports, announcements) failed
    not_open,          // the call needs open() first
    duplicate_key,     // add_port with a key already in use
    unknown_port,      // no port with that key, or no such remote port
    port_failed,       // the sequencer refused to create or change a port
    subscribe_failed,  // the sequencer refused a subscription
    invalid_argument,  // an empty or too long name, a group above 15
    thread_failed,     // the I/O thread could not be started
};
[[nodiscard]] const std::error_category& alsa_category() noexcept;
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

// Where the kernel sequencer is; its absence means the snd-seq module is not loaded.
inline constexpr const char* sequencer_device = "/dev/snd/seq";

// A sequencer address: client 0..255 (0 = System), port 0..255.
struct address {
    std::uint8_t client = 0;
    std::uint8_t port = 0;
    friend auto operator<=>(const address&, const address&) = default;
};

// Whether "CLIENT:PORT" matches one of the glob patterns (fnmatch: * ? [...]).
[[nodiscard]] bool excluded(std::span<const std::string> patterns, std::string_view client_name,
                            std::string_view port_name);

struct client_config {
    std::string name = "umpd";  // the client's name as aconnect shows it
    std::size_t sysex_chunk = 256;  // bytes of SysEx per outgoing event
    // The least time between two outgoing SysEx events of one port: the sequencer
    // drops what a receiver's input pool has no room for (aseqdump's holds about 18
    // events of 256 bytes), so a long SysEx is paced, in order.
    std::chrono::microseconds sysex_interval{1000};
    // After the I/O thread passed messages in, how long it keeps calling on_wake for an
    // answer before it sleeps again. Saves a wake-up on a round trip where a core is
    // free for the router; where none is (one CPU, a loaded machine) it only delays the
    // answer, so it is off (0) by default.
    std::chrono::microseconds answer_spin{0};
};

using port_key = std::uint32_t;  // the caller's name for an exported port, unique in the client

struct port_spec {
    port_key key = 0;
    naming::port_direction direction = naming::port_direction::source;
    std::uint8_t group_index = 0;  // destination: the group its UMP carries
    std::string name;              // 1..63 bytes
};

// A port of another client, as the sequencer lists it.
struct remote_port {
    address addr;
    std::string client_name;
    std::string port_name;
    bool readable = false;  // it sends: it may be subscribed to for reading (CAP_READ + SUBS_READ)
    bool writable = false;  // it receives: it may be written to (CAP_WRITE + SUBS_WRITE)
    bool kernel = false;    // the client is a kernel client (hardware, virmidi, Midi Through)
};

// What System:Announce said.
struct announcement {
    enum class kind : std::uint8_t { client_start, client_exit, client_change, port_start, port_exit, port_change };
    kind what{};
    address addr;  // client events: port 0
};

// Where an incoming message came from.
struct origin {
    bool remote = false;  // true: an imported port (`from`); false: an exported destination (`key`)
    port_key key = 0;
    address from;
};

struct handlers {
    // I/O thread. One UMP message, stamped with the CLOCK_MONOTONIC time of its arrival.
    std::function<void(const origin&, std::uint64_t timestamp_ns, const core::packet&)> on_message;
    // I/O thread. After the sequencer announced a change (our own included).
    std::function<void(const announcement&)> on_announcement;
    // I/O thread, whenever wake_fd is readable (it is the caller's to reset).
    int wake_fd = -1;
    std::function<void()> on_wake;
};

enum class send_status : std::uint8_t { ok, unknown_port, wrong_direction, failed };

struct client_counters {
    std::uint64_t events_in = 0;      // events read (MIDI ones)
    std::uint64_t messages_in = 0;    // UMP messages produced from them
    std::uint64_t events_out = 0;     // events written
    std::uint64_t scheduled = 0;      // events held until due (future timestamps, SysEx pacing, behind such)
    std::uint64_t send_failures = 0;  // the sequencer refused an event
    std::uint64_t ignored_in = 0;     // events that are not MIDI
    std::uint64_t untranslatable_out = 0;  // UMP with no MIDI 1.0 form
    std::uint64_t input_overruns = 0;      // the kernel dropped events for us (ENOSPC)
};

class client {
public:
    explicit client(client_config config);
    ~client();  // close()
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Control thread. Opens the sequencer, names the client, creates
    // the import port, subscribes to System:Announce and starts the I/O thread.
    // Errors: no_sequencer (with no /dev/snd/seq), open_failed, thread_failed.
    [[nodiscard]] std::error_code open(handlers h);
    // Stops the I/O thread and closes the client (every port and subscription goes).
    void close();
    [[nodiscard]] bool is_open() const noexcept;
    // The client's number (-1 when closed) and the import port's.
    [[nodiscard]] int id() const noexcept;
    [[nodiscard]] int import_port() const noexcept;

    // Exported ports. Errors: not_open, duplicate_key, invalid_argument, port_failed,
    // unknown_port.
    [[nodiscard]] std::error_code add_port(const port_spec& spec);
    [[nodiscard]] std::error_code remove_port(port_key key);
    [[nodiscard]] std::error_code rename_port(port_key key, std::string_view name);
    // The sequencer port number of an exported port.
    [[nodiscard]] std::optional<int> alsa_port(port_key key) const;

    // Every port of every other client (not ours, not System's), in client then port order.
    [[nodiscard]] std::vector<remote_port> remote_ports() const;
    [[nodiscard]] std::optional<std::string> client_name(int client) const;

    // Imports. connect_from: subscribes the remote port to the import port, so what it
    // sends arrives as on_message with origin.remote, in group group_index of a stream
    // of its own. connect_to: subscribes the import port to it, so send_to() may write
    // to it. Errors: not_open, subscribe_failed. disconnect: both, if made.
    [[nodiscard]] std::error_code connect_from(address remote, std::uint8_t group_index);
    [[nodiscard]] std::error_code connect_to(address remote);
    void disconnect(address remote);

    // Any thread (see the header comment). A message out of an exported source port to
    // its subscribers, or to an imported remote port. timestamp_ns 0 or past: now.
    [[nodiscard]] send_status send(port_key source, std::uint64_t timestamp_ns, const core::packet& p);
    [[nodiscard]] send_status send_to(address remote, std::uint64_t timestamp_ns, const core::packet& p);
    // Sends what SysEx bytes wait in the encoders (call after a batch of sends).
    void flush();

    [[nodiscard]] client_counters counters() const;

    // The lock the I/O thread holds while it calls the handlers: a caller whose
    // handlers read tables of its own changes them under it (recursive; never held
    // while waiting for the I/O thread).
    [[nodiscard]] std::unique_lock<std::recursive_mutex> lock() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace umpd::alsa

template <>
struct std::is_error_code_enum<umpd::alsa::errc> : std::true_type {};
