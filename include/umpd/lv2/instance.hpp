// One running LV2 plugin: instantiation, control ports, state, and the real-time
// render of one block.
//
// Threads:
// - control thread: create, destroy, set_control, control, save_state, restore_state,
//   take_log, counters. restore_state must not overlap render() of the same instance
//   (LV2's "instantiation" threading class): the caller stops rendering it first.
// - render thread: render and output (one thread at a time per instance). render()
//   allocates nothing, takes no lock another thread can hold and makes no system call
//   but a semaphore post when the plugin schedules work.
// - a worker thread per instance whose plugin has work:interface (LV2 worker).
//
// Timing (see docs/plugin-host.md):
// - an input message stamped t goes to frame offset round((t - block_start) * rate / 1e9),
//   clamped to [0, frames - 1] and never before the previous message of the same
//   input (the plugin sees them in the order given). Timestamp 0 means "now": offset 0.
// - an event the plugin writes at frame f is stamped block_start + round(f * 1e9 / rate)
//   nanoseconds (round half up, in integers). The two roundings invert each other, so
//   a chain of plugins keeps frame offsets exactly.
// - MIDI 2.0 channel voice input is translated to MIDI 1.0 (core::translate) and then
//   to bytes (core::ump_to_midi1); a SysEx reaches the plugin as one event, at the
//   frame of its last packet. Output bytes become UMP (core::midi1_to_ump) on
//   config.output_group, translated to MIDI 2.0 when config.output_midi2.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "umpd/core/packet.hpp"
#include "umpd/lv2/discovery.hpp"
#include "umpd/lv2/errors.hpp"
#include "umpd/lv2/transport.hpp"
#include "umpd/lv2/world.hpp"

namespace umpd::lv2 {

struct instance_config {
    std::uint32_t sample_rate = 48000;       // 1 .. 768000
    std::uint32_t block_size = 64;           // largest render(); 1 .. 8192
    std::uint32_t atom_buffer_bytes = 8192;  // each event port's buffer; 64 .. 1 MiB
    std::uint32_t max_output_events = 1024;  // UMP packets kept per MIDI output per block
    std::uint32_t max_sysex_bytes = 1024;    // longest SysEx handed to a plugin (F0 .. F7)
    std::uint32_t worker_ring_bytes = 16384; // each direction of the worker
    core::group output_group{0};
    bool output_midi2 = false;               // translate output to MIDI 2.0 channel voice
};

struct timed_packet {
    std::uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC; 0 = now
    core::packet packet;
};

// Counters, cumulative since creation. Readable from any thread (relaxed atomics).
struct instance_counters {
    std::uint64_t blocks = 0;
    std::uint64_t input_dropped = 0;          // events that did not fit an input buffer
    std::uint64_t sysex_dropped = 0;          // SysEx longer than max_sysex_bytes
    std::uint64_t untranslatable = 0;         // MIDI 2.0 input with no MIDI 1.0 form
    std::uint64_t output_buffer_full = 0;     // blocks in which the plugin filled an output buffer
    std::uint64_t output_dropped = 0;         // output packets beyond max_output_events
    std::uint64_t output_malformed = 0;       // blocks whose output sequence was invalid (ignored)
    std::uint64_t positions_sent = 0;         // time:Position objects delivered
    std::uint64_t worker_dropped = 0;         // work requests/responses that did not fit a ring
    std::uint64_t log_dropped = 0;            // log lines lost from the render thread
};

enum class render_status : std::uint8_t { ok, bad_frames };

class instance {
public:
    struct result;

    // Control thread. Refuses with a precise error (see errors.hpp) when the plugin is
    // unknown, its bundle does not verify, it requires a feature this host lacks, or
    // its instantiate() fails; nothing else is touched then.
    [[nodiscard]] static result create(world& w, std::string_view uri, const instance_config& config);

    ~instance();
    instance(const instance&) = delete;
    instance& operator=(const instance&) = delete;

    [[nodiscard]] const plugin_info& info() const noexcept;
    [[nodiscard]] const instance_config& config() const noexcept;
    [[nodiscard]] std::size_t midi_input_count() const noexcept;
    [[nodiscard]] std::size_t midi_output_count() const noexcept;

    // Control thread: a control input's value, taken by the next render(); clamped to
    // the port's range. Fails with errc::unknown_port for an unknown or output symbol.
    [[nodiscard]] std::error_code set_control(std::string_view symbol, float value) noexcept;
    // Control thread: the last value of a control port (input: as set; output: as the
    // plugin wrote it in the last block).
    [[nodiscard]] std::optional<float> control(std::string_view symbol) const noexcept;

    // Control thread: the plugin's state (state:interface where it has one, plus its
    // control input values) as a Turtle string the config can store.
    [[nodiscard]] std::string save_state(error* err = nullptr);
    // Control thread, not while render() runs: restores what save_state returned.
    [[nodiscard]] error restore_state(std::string_view state);

    // Control thread: log lines the plugin wrote (from any thread), oldest first.
    [[nodiscard]] std::vector<std::string> take_log();
    [[nodiscard]] instance_counters counters() const noexcept;

    // Render thread. inputs[i] feeds MIDI input i (missing spans: no input), each in
    // timestamp order. timeline: this block's transport positions (nullptr: no
    // transport; positions and BPM ports untouched). frames must be 1 .. block_size.
    [[nodiscard]] render_status render(std::uint64_t block_start_ns, std::uint32_t frames,
                                       std::span<const std::span<const timed_packet>> inputs,
                                       const block_timeline* timeline) noexcept;
    // Render thread: what MIDI output `port` produced in the last render(), in order;
    // valid until the next render().
    [[nodiscard]] std::span<const timed_packet> output(std::size_t port) const noexcept;

    struct impl;

private:
    explicit instance(std::unique_ptr<impl> p) noexcept;
    std::unique_ptr<impl> impl_;
};

struct instance::result {
    std::unique_ptr<instance> value;
    lv2::error error;
    [[nodiscard]] explicit operator bool() const noexcept { return value != nullptr; }
};

}  // namespace umpd::lv2
