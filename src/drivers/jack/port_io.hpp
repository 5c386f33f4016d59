// The real-time half of a JACK port: its rings, its converters and the per-cycle
// conversion between JACK MIDI events and timestamped UMP. Everything here except
// construction runs on JACK's process thread and allocates nothing, locks nothing,
// waits on nothing.
#pragma once

#include <jack/jack.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "spsc.hpp"
#include "umpd/core/bytestream.hpp"
#include "umpd/core/translate.hpp"
#include "umpd/jack/client.hpp"

namespace umpd::jack::detail {

// The time of one process cycle: frame f of the cycle is at start_ns + f × span_ns / frames.
struct cycle_clock {
    std::uint64_t start_ns = 0;  // CLOCK_MONOTONIC time of the cycle's first frame
    std::uint64_t span_ns = 0;   // the cycle's length (JACK's estimate of one period)
    std::uint32_t frames = 0;    // nframes

    [[nodiscard]] std::uint64_t time_of(std::uint32_t frame) const noexcept {
        return frames == 0 ? start_ns : start_ns + span_ns * frame / frames;
    }
};

struct outgoing_message {
    std::uint64_t timestamp_ns = 0;
    core::packet packet{};
};

// Relaxed atomics: the process thread writes, any thread reads.
struct atomic_port_counters {
    std::atomic<std::uint64_t> events{0};
    std::atomic<std::uint64_t> messages{0};
    std::atomic<std::uint64_t> dropped_full{0};
    std::atomic<std::uint64_t> deferred{0};
    std::atomic<std::uint64_t> late{0};
    std::atomic<std::uint64_t> untranslatable{0};

    static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    [[nodiscard]] port_counters snapshot() const noexcept;
};

// Bytes waiting to become JACK events on a source port, in order: a FIFO of bytes
// and the segments (future events) they form. A SysEx segment may be written in
// several pieces; any other segment is one complete message written whole.
class event_stage {
public:
    explicit event_stage(std::size_t event_capacity);

    struct segment {
        std::uint32_t begin = 0;
        std::uint32_t length = 0;
        std::uint32_t frame = 0;
        bool sysex = false;
        bool open = false;  // may still grow (the SysEx continues in the next packet)
    };

    // Whether one more packet's bytes (at most max_packet_bytes, in at most
    // max_packet_segments segments) fit.
    [[nodiscard]] bool has_room() noexcept;
    // Appends the MIDI 1.0 bytes of one UMP packet, split into segments at `frame`.
    void append(const std::uint8_t* bytes, std::size_t n, std::uint32_t frame) noexcept;
    // Writes segments to the JACK buffer, oldest first, at no frame earlier than the
    // last one written. An open SysEx segment shorter than the event capacity is held
    // back unless `final`. False when the buffer ran out of room (the rest waits).
    bool drain(void* buffer, std::uint32_t& last_frame, bool final, std::uint64_t& events) noexcept;
    // Every waiting segment goes out at frame 0 of the next cycle.
    void restamp_to_start() noexcept;
    [[nodiscard]] bool empty() const noexcept { return seg_count_ == 0; }

    static constexpr std::size_t max_packet_bytes = 16;
    static constexpr std::size_t max_packet_segments = 8;
    static constexpr std::size_t segment_capacity = 64;

private:
    segment* last_open() noexcept;
    void push_segment(std::uint32_t frame, bool sysex, std::uint8_t first) noexcept;
    void add_byte(std::uint8_t b) noexcept;

    std::size_t event_capacity_;
    std::unique_ptr<std::uint8_t[]> bytes_;
    std::size_t capacity_;
    std::size_t read_ = 0;   // first byte not yet written
    std::size_t write_ = 0;  // end of the bytes
    std::array<segment, segment_capacity> segs_{};
    std::size_t seg_head_ = 0;
    std::size_t seg_count_ = 0;
    bool in_sysex_ = false;  // between F0 and F7 in the byte stream
    std::uint32_t frame_ = 0;  // the frame of the packet being appended
};

struct port_state {
    port_state(const port_spec& s, const client_config& cfg);

    // What the process thread reads: fixed for the port's life.
    const port_key key;
    const bool is_source;
    // Control thread only (rename changes the names).
    port_spec spec;
    std::string registered_name;  // the short name JACK has (control thread)
    std::string alias;            // the alias set (control thread)

    // Written only while no process callback can run (client closed or not yet
    // activated) or before the port is published in a table.
    jack_port_t* port = nullptr;

    atomic_port_counters counters;

    // Source ports (umpd → JACK).
    std::unique_ptr<spsc_ring<outgoing_message>> outgoing;
    core::midi2_to_midi1 to_midi1{};
    core::ump_to_midi1_state to_bytes{};
    std::unique_ptr<event_stage> stage;

    // Destination ports (JACK → umpd).
    core::midi1_to_ump_state to_ump{};

    // Process thread.
    void write_cycle(const cycle_clock& clock, jack_nframes_t nframes) noexcept;
    // Process thread. Returns how many messages went to `incoming`.
    std::size_t read_cycle(const cycle_clock& clock, jack_nframes_t nframes, spsc_ring<incoming_message>& incoming,
                           std::atomic<std::uint64_t>& incoming_dropped) noexcept;

private:
    void convert_packet(const core::packet& p, std::uint32_t frame) noexcept;
};

}  // namespace umpd::jack::detail
