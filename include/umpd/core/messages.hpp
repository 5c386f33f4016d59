// Builders (make_*) and typed views (as_* returning std::optional) for UMP messages.
// Views hold a copy of the packet, never a reference, so they cannot dangle.
// Builders mask every argument to its field's width; callers validate user input
// before building (the CLI and the service do).
// All functions are real-time safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "umpd/core/packet.hpp"

namespace umpd::core {

// ---------------------------------------------------------------------------
// MIDI 1.0 channel voice (message type 0x2)
// ---------------------------------------------------------------------------

// Status nibbles shared by MIDI 1.0 bytes, MIDI 1.0 in UMP and (for the common ones)
// MIDI 2.0 opcodes.
enum class midi1_status : std::uint8_t {
    note_off = 0x8,
    note_on = 0x9,
    poly_pressure = 0xA,
    control_change = 0xB,
    program_change = 0xC,
    channel_pressure = 0xD,
    pitch_bend = 0xE,
};

[[nodiscard]] constexpr packet make_midi1_channel_voice(group g, midi1_status s, channel c,
                                                       std::uint8_t data1, std::uint8_t data2) noexcept {
    std::uint32_t w = 0x20000000u;
    w = with_field<27, 24>(w, g.index);
    w = with_field<23, 20>(w, static_cast<std::uint8_t>(s));
    w = with_field<19, 16>(w, c.index);
    w = with_field<14, 8>(w, data1);
    w = with_field<6, 0>(w, data2);
    return packet{w};
}
[[nodiscard]] constexpr packet make_midi1_note_off(group g, channel c, std::uint8_t note, std::uint8_t velocity) noexcept {
    return make_midi1_channel_voice(g, midi1_status::note_off, c, note, velocity);
}
[[nodiscard]] constexpr packet make_midi1_note_on(group g, channel c, std::uint8_t note, std::uint8_t velocity) noexcept {
    return make_midi1_channel_voice(g, midi1_status::note_on, c, note, velocity);
}
[[nodiscard]] constexpr packet make_midi1_poly_pressure(group g, channel c, std::uint8_t note, std::uint8_t pressure) noexcept {
    return make_midi1_channel_voice(g, midi1_status::poly_pressure, c, note, pressure);
}
[[nodiscard]] constexpr packet make_midi1_control_change(group g, channel c, std::uint8_t controller, std::uint8_t value) noexcept {
    return make_midi1_channel_voice(g, midi1_status::control_change, c, controller, value);
}
[[nodiscard]] constexpr packet make_midi1_program_change(group g, channel c, std::uint8_t program) noexcept {
    return make_midi1_channel_voice(g, midi1_status::program_change, c, program, 0);
}
[[nodiscard]] constexpr packet make_midi1_channel_pressure(group g, channel c, std::uint8_t pressure) noexcept {
    return make_midi1_channel_voice(g, midi1_status::channel_pressure, c, pressure, 0);
}
// value: 14 bits, 0x2000 is centre.
[[nodiscard]] constexpr packet make_midi1_pitch_bend(group g, channel c, std::uint16_t value) noexcept {
    return make_midi1_channel_voice(g, midi1_status::pitch_bend, c, static_cast<std::uint8_t>(value & 0x7F),
                                    static_cast<std::uint8_t>((value >> 7) & 0x7F));
}

struct midi1_channel_voice_view {
    packet p;
    [[nodiscard]] constexpr group group_field() const noexcept { return p.group_field(); }
    [[nodiscard]] constexpr midi1_status status() const noexcept {
        return static_cast<midi1_status>(field<23, 20>(p[0]));
    }
    [[nodiscard]] constexpr channel channel_field() const noexcept {
        return channel{static_cast<std::uint8_t>(field<19, 16>(p[0]))};
    }
    [[nodiscard]] constexpr std::uint8_t data1() const noexcept { return static_cast<std::uint8_t>(field<14, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t data2() const noexcept { return static_cast<std::uint8_t>(field<6, 0>(p[0])); }
    // The 14-bit pitch bend value (data1 is the LSB).
    [[nodiscard]] constexpr std::uint16_t pitch_bend() const noexcept {
        return static_cast<std::uint16_t>(data1() | (data2() << 7));
    }
};

// Accepts only status nibbles 0x8..0xE; MIDI 1.0 in UMP has no other.
[[nodiscard]] constexpr std::optional<midi1_channel_voice_view> as_midi1_channel_voice(const packet& p) noexcept {
    if (p.type() != message_type::midi1_channel_voice) return std::nullopt;
    const auto s = field<23, 20>(p[0]);
    if (s < 0x8 || s == 0xF) return std::nullopt;
    return midi1_channel_voice_view{p};
}

// ---------------------------------------------------------------------------
// System common and system real time (message type 0x1)
// ---------------------------------------------------------------------------

enum class system_status : std::uint8_t {
    mtc_quarter_frame = 0xF1,
    song_position = 0xF2,
    song_select = 0xF3,
    tune_request = 0xF6,
    timing_clock = 0xF8,
    start = 0xFA,
    continue_ = 0xFB,
    stop = 0xFC,
    active_sensing = 0xFE,
    reset = 0xFF,
};

// Number of MIDI 1.0 data bytes that follow a system status byte, or -1 for a
// status that has no UMP system message (F0, F7, F4, F5, F9, FD and non-system bytes).
[[nodiscard]] constexpr int system_data_bytes(std::uint8_t status) noexcept {
    switch (status) {
    case 0xF1: case 0xF3: return 1;
    case 0xF2: return 2;
    case 0xF6: case 0xF8: case 0xFA: case 0xFB: case 0xFC: case 0xFE: case 0xFF: return 0;
    default: return -1;
    }
}

[[nodiscard]] constexpr packet make_system(group g, system_status s, std::uint8_t data1 = 0,
                                           std::uint8_t data2 = 0) noexcept {
    std::uint32_t w = 0x10000000u;
    w = with_field<27, 24>(w, g.index);
    w = with_field<23, 16>(w, static_cast<std::uint8_t>(s));
    w = with_field<14, 8>(w, data1);
    w = with_field<6, 0>(w, data2);
    return packet{w};
}
[[nodiscard]] constexpr packet make_mtc_quarter_frame(group g, std::uint8_t data) noexcept {
    return make_system(g, system_status::mtc_quarter_frame, data);
}
// position: 14 bits, in MIDI beats (sixteenth notes).
[[nodiscard]] constexpr packet make_song_position(group g, std::uint16_t position) noexcept {
    return make_system(g, system_status::song_position, static_cast<std::uint8_t>(position & 0x7F),
                       static_cast<std::uint8_t>((position >> 7) & 0x7F));
}
[[nodiscard]] constexpr packet make_song_select(group g, std::uint8_t song) noexcept {
    return make_system(g, system_status::song_select, song);
}

struct system_view {
    packet p;
    [[nodiscard]] constexpr group group_field() const noexcept { return p.group_field(); }
    [[nodiscard]] constexpr system_status status() const noexcept {
        return static_cast<system_status>(field<23, 16>(p[0]));
    }
    [[nodiscard]] constexpr std::uint8_t data1() const noexcept { return static_cast<std::uint8_t>(field<14, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t data2() const noexcept { return static_cast<std::uint8_t>(field<6, 0>(p[0])); }
    [[nodiscard]] constexpr std::uint16_t song_position() const noexcept {
        return static_cast<std::uint16_t>(data1() | (data2() << 7));
    }
};

// Accepts only the statuses listed in system_status.
[[nodiscard]] constexpr std::optional<system_view> as_system(const packet& p) noexcept {
    if (p.type() != message_type::system) return std::nullopt;
    if (system_data_bytes(static_cast<std::uint8_t>(field<23, 16>(p[0]))) < 0) return std::nullopt;
    return system_view{p};
}

// ---------------------------------------------------------------------------
// 7-bit SysEx (message type 0x3)
// ---------------------------------------------------------------------------

// The status nibble of SysEx packets (7-bit and 8-bit) and of the multi-packet
// formats of flex data and UMP stream messages share these four meanings.
enum class packet_format : std::uint8_t { complete = 0, start = 1, continue_ = 2, end = 3 };

inline constexpr unsigned sysex7_bytes_per_packet = 6;

// bytes: up to 6 data bytes (each masked to 7 bits), count taken from size.
[[nodiscard]] constexpr packet make_sysex7(group g, packet_format f, std::span<const std::uint8_t> bytes) noexcept {
    const unsigned n = bytes.size() > sysex7_bytes_per_packet ? sysex7_bytes_per_packet
                                                              : static_cast<unsigned>(bytes.size());
    std::uint32_t w0 = 0x30000000u;
    w0 = with_field<27, 24>(w0, g.index);
    w0 = with_field<23, 20>(w0, static_cast<std::uint8_t>(f));
    w0 = with_field<19, 16>(w0, n);
    std::uint32_t w1 = 0;
    for (unsigned i = 0; i < n; ++i) {
        const std::uint32_t b = bytes[i] & 0x7Fu;
        if (i < 2) w0 |= b << (8 * (1 - i));
        else w1 |= b << (8 * (5 - i));
    }
    return packet{w0, w1};
}

struct sysex7_view {
    packet p;
    [[nodiscard]] constexpr group group_field() const noexcept { return p.group_field(); }
    [[nodiscard]] constexpr packet_format format() const noexcept {
        return static_cast<packet_format>(field<23, 20>(p[0]));
    }
    [[nodiscard]] constexpr unsigned size() const noexcept { return field<19, 16>(p[0]); }
    // i in 0..5
    [[nodiscard]] constexpr std::uint8_t byte(unsigned i) const noexcept {
        return static_cast<std::uint8_t>(i < 2 ? (p[0] >> (8 * (1 - i))) & 0xFFu
                                               : (p[1] >> (8 * (5 - i))) & 0xFFu);
    }
};

// Accepts formats 0..3 with a byte count of at most 6.
[[nodiscard]] constexpr std::optional<sysex7_view> as_sysex7(const packet& p) noexcept {
    if (p.type() != message_type::data64) return std::nullopt;
    if (field<23, 20>(p[0]) > 3 || field<19, 16>(p[0]) > sysex7_bytes_per_packet) return std::nullopt;
    return sysex7_view{p};
}

// ---------------------------------------------------------------------------
// MIDI 2.0 channel voice (message type 0x4)
// ---------------------------------------------------------------------------

enum class midi2_opcode : std::uint8_t {
    registered_per_note_controller = 0x0,
    assignable_per_note_controller = 0x1,
    registered_controller = 0x2,
    assignable_controller = 0x3,
    relative_registered_controller = 0x4,
    relative_assignable_controller = 0x5,
    per_note_pitch_bend = 0x6,
    note_off = 0x8,
    note_on = 0x9,
    poly_pressure = 0xA,
    control_change = 0xB,
    program_change = 0xC,
    channel_pressure = 0xD,
    pitch_bend = 0xE,
    per_note_management = 0xF,
};

// The generic form: opcode, channel, the two index bytes of word 0 and the 32-bit data word.
[[nodiscard]] constexpr packet make_midi2_channel_voice(group g, midi2_opcode op, channel c, std::uint8_t index1,
                                                       std::uint8_t index2, std::uint32_t data) noexcept {
    std::uint32_t w = 0x40000000u;
    w = with_field<27, 24>(w, g.index);
    w = with_field<23, 20>(w, static_cast<std::uint8_t>(op));
    w = with_field<19, 16>(w, c.index);
    w = with_field<15, 8>(w, index1);
    w = with_field<7, 0>(w, index2);
    return packet{w, data};
}

[[nodiscard]] constexpr packet make_midi2_note_off(group g, channel c, std::uint8_t note, std::uint16_t velocity,
                                                   std::uint8_t attribute_type = 0,
                                                   std::uint16_t attribute = 0) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::note_off, c, note & 0x7F, attribute_type,
                                    (std::uint32_t{velocity} << 16) | attribute);
}
[[nodiscard]] constexpr packet make_midi2_note_on(group g, channel c, std::uint8_t note, std::uint16_t velocity,
                                                  std::uint8_t attribute_type = 0,
                                                  std::uint16_t attribute = 0) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::note_on, c, note & 0x7F, attribute_type,
                                    (std::uint32_t{velocity} << 16) | attribute);
}
[[nodiscard]] constexpr packet make_midi2_poly_pressure(group g, channel c, std::uint8_t note, std::uint32_t pressure) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::poly_pressure, c, note & 0x7F, 0, pressure);
}
[[nodiscard]] constexpr packet make_midi2_control_change(group g, channel c, std::uint8_t controller, std::uint32_t value) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::control_change, c, controller & 0x7F, 0, value);
}
// bank: present when the program change selects a bank (the B flag); 14 bits, MSB in bits 13..7.
[[nodiscard]] constexpr packet make_midi2_program_change(group g, channel c, std::uint8_t program,
                                                         std::optional<std::uint16_t> bank = std::nullopt) noexcept {
    const std::uint32_t data = (std::uint32_t{program & 0x7Fu} << 24) |
                               (bank ? ((std::uint32_t{(*bank >> 7) & 0x7Fu} << 8) | (*bank & 0x7Fu)) : 0u);
    return make_midi2_channel_voice(g, midi2_opcode::program_change, c, 0, bank ? 0x01 : 0x00, data);
}
[[nodiscard]] constexpr packet make_midi2_channel_pressure(group g, channel c, std::uint32_t pressure) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::channel_pressure, c, 0, 0, pressure);
}
// value: 32 bits, 0x80000000 is centre.
[[nodiscard]] constexpr packet make_midi2_pitch_bend(group g, channel c, std::uint32_t value) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::pitch_bend, c, 0, 0, value);
}
[[nodiscard]] constexpr packet make_midi2_per_note_pitch_bend(group g, channel c, std::uint8_t note, std::uint32_t value) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::per_note_pitch_bend, c, note & 0x7F, 0, value);
}
// Registered (RPN) and assignable (NRPN) controllers: bank and index are 7 bits each.
[[nodiscard]] constexpr packet make_midi2_registered_controller(group g, channel c, std::uint8_t bank, std::uint8_t index,
                                                               std::uint32_t value) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::registered_controller, c, bank & 0x7F, index & 0x7F, value);
}
[[nodiscard]] constexpr packet make_midi2_assignable_controller(group g, channel c, std::uint8_t bank, std::uint8_t index,
                                                               std::uint32_t value) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::assignable_controller, c, bank & 0x7F, index & 0x7F, value);
}
// Relative controllers carry a signed 32-bit change.
[[nodiscard]] constexpr packet make_midi2_relative_registered_controller(group g, channel c, std::uint8_t bank,
                                                                        std::uint8_t index, std::int32_t delta) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::relative_registered_controller, c, bank & 0x7F, index & 0x7F,
                                    static_cast<std::uint32_t>(delta));
}
[[nodiscard]] constexpr packet make_midi2_relative_assignable_controller(group g, channel c, std::uint8_t bank,
                                                                        std::uint8_t index, std::int32_t delta) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::relative_assignable_controller, c, bank & 0x7F, index & 0x7F,
                                    static_cast<std::uint32_t>(delta));
}
[[nodiscard]] constexpr packet make_midi2_registered_per_note_controller(group g, channel c, std::uint8_t note,
                                                                       std::uint8_t index, std::uint32_t value) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::registered_per_note_controller, c, note & 0x7F, index, value);
}
[[nodiscard]] constexpr packet make_midi2_assignable_per_note_controller(group g, channel c, std::uint8_t note,
                                                                       std::uint8_t index, std::uint32_t value) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::assignable_per_note_controller, c, note & 0x7F, index, value);
}
// detach: D flag (detach per-note controllers from previously received notes);
// reset: S flag (reset per-note controllers to their defaults).
[[nodiscard]] constexpr packet make_midi2_per_note_management(group g, channel c, std::uint8_t note, bool detach,
                                                             bool reset) noexcept {
    return make_midi2_channel_voice(g, midi2_opcode::per_note_management, c, note & 0x7F,
                                    static_cast<std::uint8_t>((detach ? 0x02 : 0) | (reset ? 0x01 : 0)), 0);
}

struct midi2_channel_voice_view {
    packet p;
    [[nodiscard]] constexpr group group_field() const noexcept { return p.group_field(); }
    [[nodiscard]] constexpr midi2_opcode opcode() const noexcept {
        return static_cast<midi2_opcode>(field<23, 20>(p[0]));
    }
    [[nodiscard]] constexpr channel channel_field() const noexcept {
        return channel{static_cast<std::uint8_t>(field<19, 16>(p[0]))};
    }
    [[nodiscard]] constexpr std::uint8_t index1() const noexcept { return static_cast<std::uint8_t>(field<15, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t index2() const noexcept { return static_cast<std::uint8_t>(field<7, 0>(p[0])); }
    [[nodiscard]] constexpr std::uint32_t data() const noexcept { return p[1]; }

    // Note on/off and per-note messages.
    [[nodiscard]] constexpr std::uint8_t note() const noexcept { return static_cast<std::uint8_t>(field<14, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint16_t velocity() const noexcept { return static_cast<std::uint16_t>(p[1] >> 16); }
    [[nodiscard]] constexpr std::uint8_t attribute_type() const noexcept { return index2(); }
    [[nodiscard]] constexpr std::uint16_t attribute() const noexcept { return static_cast<std::uint16_t>(p[1] & 0xFFFF); }
    // Controllers: control change index, or the bank/index pair of (relative) registered/assignable ones.
    [[nodiscard]] constexpr std::uint8_t controller() const noexcept { return static_cast<std::uint8_t>(field<14, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t bank() const noexcept { return static_cast<std::uint8_t>(field<14, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t index() const noexcept { return static_cast<std::uint8_t>(field<6, 0>(p[0])); }
    // Per-note controllers use the full index byte.
    [[nodiscard]] constexpr std::uint8_t per_note_index() const noexcept { return index2(); }
    // Program change.
    [[nodiscard]] constexpr bool bank_valid() const noexcept { return (p[0] & 0x01u) != 0; }
    [[nodiscard]] constexpr std::uint8_t program() const noexcept { return static_cast<std::uint8_t>(field<30, 24>(p[1])); }
    [[nodiscard]] constexpr std::uint8_t bank_msb() const noexcept { return static_cast<std::uint8_t>(field<14, 8>(p[1])); }
    [[nodiscard]] constexpr std::uint8_t bank_lsb() const noexcept { return static_cast<std::uint8_t>(field<6, 0>(p[1])); }
    // Per-note management.
    [[nodiscard]] constexpr bool detach() const noexcept { return (p[0] & 0x02u) != 0; }
    [[nodiscard]] constexpr bool reset() const noexcept { return (p[0] & 0x01u) != 0; }
};

// Accepts every defined opcode (0x7 is reserved and refused).
[[nodiscard]] constexpr std::optional<midi2_channel_voice_view> as_midi2_channel_voice(const packet& p) noexcept {
    if (p.type() != message_type::midi2_channel_voice) return std::nullopt;
    if (field<23, 20>(p[0]) == 0x7) return std::nullopt;
    return midi2_channel_voice_view{p};
}

// ---------------------------------------------------------------------------
// Byte positions inside a packet
// ---------------------------------------------------------------------------

// Several message families carry a run of bytes that starts inside word 0 and runs
// on through the following words, most significant byte first. Position 0 is bits
// 31..24 of word 0, position 4 is bits 31..24 of word 1, and so on up to 15.
[[nodiscard]] constexpr std::uint8_t packet_byte(const packet& p, unsigned pos) noexcept {
    return static_cast<std::uint8_t>((p.words[(pos / 4) & 3u] >> (8 * (3 - pos % 4))) & 0xFFu);
}
constexpr void set_packet_byte(packet& p, unsigned pos, std::uint8_t value) noexcept {
    const unsigned shift = 8 * (3 - pos % 4);
    std::uint32_t& w = p.words[(pos / 4) & 3u];
    w = (w & ~(std::uint32_t{0xFF} << shift)) | (std::uint32_t{value} << shift);
}

// Copies up to max bytes of src into positions first.. and returns how many it copied.
constexpr unsigned put_packet_bytes(packet& p, unsigned first, unsigned max,
                                    std::span<const std::uint8_t> src) noexcept {
    const unsigned n = src.size() > max ? max : static_cast<unsigned>(src.size());
    for (unsigned i = 0; i < n; ++i) set_packet_byte(p, first + i, src[i]);
    return n;
}

// Text payloads are zero-padded: their length is the count of bytes before the first zero.
[[nodiscard]] constexpr unsigned packet_text_size(const packet& p, unsigned first, unsigned max) noexcept {
    unsigned n = 0;
    while (n < max && packet_byte(p, first + n) != 0) ++n;
    return n;
}

// ---------------------------------------------------------------------------
// Utility (message type 0x0, groupless)
// ---------------------------------------------------------------------------

enum class utility_status : std::uint8_t {
    noop = 0x0,
    jr_clock = 0x1,
    jr_timestamp = 0x2,
    delta_clockstamp_tpqn = 0x3,  // Delta Clockstamp Ticks Per Quarter Note
    delta_clockstamp = 0x4,
};

// The generic form: status and the 20 bits below it (bits 27..24 are reserved).
[[nodiscard]] constexpr packet make_utility(utility_status s, std::uint32_t value = 0) noexcept {
    std::uint32_t w = 0x00000000u;
    w = with_field<23, 20>(w, static_cast<std::uint8_t>(s));
    w = with_field<19, 0>(w, value);
    return packet{w};
}
[[nodiscard]] constexpr packet make_noop() noexcept { return make_utility(utility_status::noop); }
// sender_clock_time: 16 bits, in units of 1/31250 s.
[[nodiscard]] constexpr packet make_jr_clock(std::uint16_t sender_clock_time) noexcept {
    return make_utility(utility_status::jr_clock, sender_clock_time);
}
// timestamp: 16 bits, in units of 1/31250 s.
[[nodiscard]] constexpr packet make_jr_timestamp(std::uint16_t timestamp) noexcept {
    return make_utility(utility_status::jr_timestamp, timestamp);
}
[[nodiscard]] constexpr packet make_delta_clockstamp_tpqn(std::uint16_t ticks_per_quarter_note) noexcept {
    return make_utility(utility_status::delta_clockstamp_tpqn, ticks_per_quarter_note);
}
// ticks: 20 bits, ticks since the last event.
[[nodiscard]] constexpr packet make_delta_clockstamp(std::uint32_t ticks) noexcept {
    return make_utility(utility_status::delta_clockstamp, ticks & 0xFFFFFu);
}

struct utility_view {
    packet p;
    [[nodiscard]] constexpr utility_status status() const noexcept {
        return static_cast<utility_status>(field<23, 20>(p[0]));
    }
    // JR Clock: sender clock time; JR Timestamp: the timestamp.
    [[nodiscard]] constexpr std::uint16_t time() const noexcept { return static_cast<std::uint16_t>(field<15, 0>(p[0])); }
    [[nodiscard]] constexpr std::uint16_t ticks_per_quarter_note() const noexcept {
        return static_cast<std::uint16_t>(field<15, 0>(p[0]));
    }
    // Delta Clockstamp: 20 bits.
    [[nodiscard]] constexpr std::uint32_t ticks() const noexcept { return field<19, 0>(p[0]); }
};

// Accepts statuses 0x0..0x4.
[[nodiscard]] constexpr std::optional<utility_view> as_utility(const packet& p) noexcept {
    if (p.type() != message_type::utility) return std::nullopt;
    if (field<23, 20>(p[0]) > 0x4) return std::nullopt;
    return utility_view{p};
}

// ---------------------------------------------------------------------------
// 8-bit SysEx (message type 0x5, status 0x0..0x3)
// ---------------------------------------------------------------------------

// Data bytes per packet; the packet's byte-count field also counts the stream id.
inline constexpr unsigned sysex8_bytes_per_packet = 13;

// bytes: up to 13 data bytes (the rest are ignored), all 8 bits significant.
[[nodiscard]] constexpr packet make_sysex8(group g, packet_format f, std::uint8_t stream_id,
                                           std::span<const std::uint8_t> bytes) noexcept {
    packet p{0x50000000u};
    p.words[0] = with_field<27, 24>(p.words[0], g.index);
    p.words[0] = with_field<23, 20>(p.words[0], static_cast<std::uint8_t>(f));
    p.words[0] = with_field<15, 8>(p.words[0], stream_id);
    const unsigned n = put_packet_bytes(p, 3, sysex8_bytes_per_packet, bytes);
    p.words[0] = with_field<19, 16>(p.words[0], n + 1);
    return p;
}

struct sysex8_view {
    packet p;
    [[nodiscard]] constexpr group group_field() const noexcept { return p.group_field(); }
    [[nodiscard]] constexpr packet_format format() const noexcept {
        return static_cast<packet_format>(field<23, 20>(p[0]));
    }
    [[nodiscard]] constexpr std::uint8_t stream_id() const noexcept { return static_cast<std::uint8_t>(field<15, 8>(p[0])); }
    // Data bytes, not counting the stream id (0 for a malformed count of 0).
    [[nodiscard]] constexpr unsigned size() const noexcept {
        const auto n = field<19, 16>(p[0]);
        return n == 0 ? 0u : n - 1u;
    }
    // i in 0..12
    [[nodiscard]] constexpr std::uint8_t byte(unsigned i) const noexcept { return packet_byte(p, 3 + i); }
};

// Accepts statuses 0..3 whose byte count (stream id included) is 1..14.
[[nodiscard]] constexpr std::optional<sysex8_view> as_sysex8(const packet& p) noexcept {
    if (p.type() != message_type::data128) return std::nullopt;
    const auto n = field<19, 16>(p[0]);
    if (field<23, 20>(p[0]) > 3 || n < 1 || n > sysex8_bytes_per_packet + 1) return std::nullopt;
    return sysex8_view{p};
}

// ---------------------------------------------------------------------------
// Mixed data set (message type 0x5, status 0x8 header and 0x9 payload)
// ---------------------------------------------------------------------------

inline constexpr std::uint8_t mixed_data_set_header_status = 0x8;
inline constexpr std::uint8_t mixed_data_set_payload_status = 0x9;
inline constexpr unsigned mixed_data_set_payload_bytes_per_packet = 14;

struct mixed_data_set_header_fields {
    std::uint8_t mds_id = 0;                 // 4 bits
    std::uint16_t valid_bytes_in_chunk = 0;  // header included
    std::uint16_t number_of_chunks = 0;
    std::uint16_t chunk_number = 0;          // 1-based
    std::uint16_t manufacturer_id = 0;
    std::uint16_t device_id = 0;
    std::uint16_t sub_id_1 = 0;
    std::uint16_t sub_id_2 = 0;
    friend constexpr bool operator==(const mixed_data_set_header_fields&,
                                     const mixed_data_set_header_fields&) = default;
};

[[nodiscard]] constexpr packet make_mixed_data_set_header(group g, const mixed_data_set_header_fields& h) noexcept {
    std::uint32_t w0 = 0x50000000u;
    w0 = with_field<27, 24>(w0, g.index);
    w0 = with_field<23, 20>(w0, mixed_data_set_header_status);
    w0 = with_field<19, 16>(w0, h.mds_id);
    w0 = with_field<15, 0>(w0, h.valid_bytes_in_chunk);
    return packet{w0, (std::uint32_t{h.number_of_chunks} << 16) | h.chunk_number,
                  (std::uint32_t{h.manufacturer_id} << 16) | h.device_id,
                  (std::uint32_t{h.sub_id_1} << 16) | h.sub_id_2};
}

// bytes: up to 14 (the rest are ignored); unused bytes are zero.
[[nodiscard]] constexpr packet make_mixed_data_set_payload(group g, std::uint8_t mds_id,
                                                           std::span<const std::uint8_t> bytes) noexcept {
    std::uint32_t w0 = 0x50000000u;
    w0 = with_field<27, 24>(w0, g.index);
    w0 = with_field<23, 20>(w0, mixed_data_set_payload_status);
    w0 = with_field<19, 16>(w0, mds_id);
    packet p{w0};
    put_packet_bytes(p, 2, mixed_data_set_payload_bytes_per_packet, bytes);
    return p;
}

struct mixed_data_set_header_view {
    packet p;
    [[nodiscard]] constexpr group group_field() const noexcept { return p.group_field(); }
    [[nodiscard]] constexpr std::uint8_t mds_id() const noexcept { return static_cast<std::uint8_t>(field<19, 16>(p[0])); }
    [[nodiscard]] constexpr std::uint16_t valid_bytes_in_chunk() const noexcept {
        return static_cast<std::uint16_t>(field<15, 0>(p[0]));
    }
    [[nodiscard]] constexpr std::uint16_t number_of_chunks() const noexcept { return static_cast<std::uint16_t>(p[1] >> 16); }
    [[nodiscard]] constexpr std::uint16_t chunk_number() const noexcept { return static_cast<std::uint16_t>(p[1] & 0xFFFFu); }
    [[nodiscard]] constexpr std::uint16_t manufacturer_id() const noexcept { return static_cast<std::uint16_t>(p[2] >> 16); }
    [[nodiscard]] constexpr std::uint16_t device_id() const noexcept { return static_cast<std::uint16_t>(p[2] & 0xFFFFu); }
    [[nodiscard]] constexpr std::uint16_t sub_id_1() const noexcept { return static_cast<std::uint16_t>(p[3] >> 16); }
    [[nodiscard]] constexpr std::uint16_t sub_id_2() const noexcept { return static_cast<std::uint16_t>(p[3] & 0xFFFFu); }
    [[nodiscard]] constexpr mixed_data_set_header_fields fields() const noexcept {
        return {mds_id(), valid_bytes_in_chunk(), number_of_chunks(), chunk_number(),
                manufacturer_id(), device_id(), sub_id_1(), sub_id_2()};
    }
};

struct mixed_data_set_payload_view {
    packet p;
    [[nodiscard]] constexpr group group_field() const noexcept { return p.group_field(); }
    [[nodiscard]] constexpr std::uint8_t mds_id() const noexcept { return static_cast<std::uint8_t>(field<19, 16>(p[0])); }
    // i in 0..13; how many are valid is told by the header, not the payload packet.
    [[nodiscard]] constexpr std::uint8_t byte(unsigned i) const noexcept { return packet_byte(p, 2 + i); }
};

[[nodiscard]] constexpr std::optional<mixed_data_set_header_view> as_mixed_data_set_header(const packet& p) noexcept {
    if (p.type() != message_type::data128 || field<23, 20>(p[0]) != mixed_data_set_header_status) return std::nullopt;
    return mixed_data_set_header_view{p};
}
[[nodiscard]] constexpr std::optional<mixed_data_set_payload_view> as_mixed_data_set_payload(const packet& p) noexcept {
    if (p.type() != message_type::data128 || field<23, 20>(p[0]) != mixed_data_set_payload_status) return std::nullopt;
    return mixed_data_set_payload_view{p};
}

// ---------------------------------------------------------------------------
// Flex data (message type 0xD)
// ---------------------------------------------------------------------------

// Whether a flex data message is meant for one channel or for a whole group
// (values 2 and 3 are reserved).
enum class flex_address : std::uint8_t { channel = 0, group = 1 };

// Status banks: 0x00 setup and performance, 0x01 metadata text, 0x02 performance text.
inline constexpr std::uint8_t flex_bank_setup = 0x00;
inline constexpr std::uint8_t flex_bank_metadata_text = 0x01;
inline constexpr std::uint8_t flex_bank_performance_text = 0x02;

// Statuses in bank 0x00.
enum class flex_setup_status : std::uint8_t {
    set_tempo = 0x00,
    set_time_signature = 0x01,
    set_metronome = 0x02,
    set_key_signature = 0x05,
    set_chord_name = 0x06,
};

// Statuses in bank 0x01 (metadata text).
enum class flex_metadata_status : std::uint8_t {
    unknown = 0x00,
    project_name = 0x01,
    composition_name = 0x02,
    midi_clip_name = 0x03,
    copyright_notice = 0x04,
    composer_name = 0x05,
    lyricist_name = 0x06,
    arranger_name = 0x07,
    publisher_name = 0x08,
    primary_performer_name = 0x09,
    accompanying_performer_name = 0x0A,
    recording_date = 0x0B,
    recording_location = 0x0C,
};

// Statuses in bank 0x02 (performance text).
enum class flex_performance_status : std::uint8_t {
    unknown = 0x00,
    lyrics = 0x01,
    lyrics_language = 0x02,
    ruby = 0x03,
    ruby_language = 0x04,
};

inline constexpr unsigned flex_text_bytes_per_packet = 12;

// The generic form: the header word and three payload words.
[[nodiscard]] constexpr packet make_flex_data(group g, packet_format f, flex_address a, channel c,
                                              std::uint8_t status_bank, std::uint8_t status, std::uint32_t w1 = 0,
                                              std::uint32_t w2 = 0, std::uint32_t w3 = 0) noexcept {
    std::uint32_t w = 0xD0000000u;
    w = with_field<27, 24>(w, g.index);
    w = with_field<23, 22>(w, static_cast<std::uint8_t>(f));
    w = with_field<21, 20>(w, static_cast<std::uint8_t>(a));
    w = with_field<19, 16>(w, c.index);
    w = with_field<15, 8>(w, status_bank);
    w = with_field<7, 0>(w, status);
    return packet{w, w1, w2, w3};
}

// text: up to 12 bytes (the rest are ignored); unused bytes are zero.
[[nodiscard]] constexpr packet make_flex_text(group g, packet_format f, flex_address a, channel c,
                                              std::uint8_t status_bank, std::uint8_t status,
                                              std::span<const std::uint8_t> text) noexcept {
    packet p = make_flex_data(g, f, a, c, status_bank, status);
    put_packet_bytes(p, 4, flex_text_bytes_per_packet, text);
    return p;
}

// Tempo, time signature and metronome apply to a whole group: complete format,
// group address, channel field zero.
// ten_ns_per_quarter_note: 32 bits, e.g. 50,000,000 for 120 beats per minute.
[[nodiscard]] constexpr packet make_set_tempo(group g, std::uint32_t ten_ns_per_quarter_note) noexcept {
    return make_flex_data(g, packet_format::complete, flex_address::group, channel{0}, flex_bank_setup,
                          static_cast<std::uint8_t>(flex_setup_status::set_tempo), ten_ns_per_quarter_note);
}
// denominator_exponent: the denominator as a power of two (2 is a quarter note, 3 an eighth);
// thirty_second_notes: number of 1/32 notes per MIDI quarter note (usually 8).
[[nodiscard]] constexpr packet make_set_time_signature(group g, std::uint8_t numerator, std::uint8_t denominator_exponent,
                                                       std::uint8_t thirty_second_notes) noexcept {
    return make_flex_data(g, packet_format::complete, flex_address::group, channel{0}, flex_bank_setup,
                          static_cast<std::uint8_t>(flex_setup_status::set_time_signature),
                          (std::uint32_t{numerator} << 24) | (std::uint32_t{denominator_exponent} << 16) |
                              (std::uint32_t{thirty_second_notes} << 8));
}

struct metronome_fields {
    std::uint8_t clocks_per_primary_click = 0;
    std::uint8_t bar_accent_1 = 0;
    std::uint8_t bar_accent_2 = 0;
    std::uint8_t bar_accent_3 = 0;
    std::uint8_t subdivision_clicks_1 = 0;
    std::uint8_t subdivision_clicks_2 = 0;
    friend constexpr bool operator==(const metronome_fields&, const metronome_fields&) = default;
};

[[nodiscard]] constexpr packet make_set_metronome(group g, const metronome_fields& m) noexcept {
    return make_flex_data(g, packet_format::complete, flex_address::group, channel{0}, flex_bank_setup,
                          static_cast<std::uint8_t>(flex_setup_status::set_metronome),
                          (std::uint32_t{m.clocks_per_primary_click} << 24) | (std::uint32_t{m.bar_accent_1} << 16) |
                              (std::uint32_t{m.bar_accent_2} << 8) | m.bar_accent_3,
                          (std::uint32_t{m.subdivision_clicks_1} << 24) | (std::uint32_t{m.subdivision_clicks_2} << 16));
}

// Notes in key and chord messages: 0 unknown/non-standard, 1..7 = A..G.
inline constexpr std::uint8_t flex_note_unknown = 0;
// Sharps/flats are signed 4-bit: positive sharps, negative flats; in a key signature -8
// means non-standard, in a chord name +2/-2 are double sharp/flat.
inline constexpr std::int8_t key_signature_non_standard = -8;

namespace detail {
[[nodiscard]] constexpr std::uint32_t signed_nibble(std::int8_t v) noexcept {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(v)) & 0xFu;
}
[[nodiscard]] constexpr std::int8_t from_signed_nibble(std::uint32_t n) noexcept {
    return static_cast<std::int8_t>(n >= 8 ? static_cast<int>(n) - 16 : static_cast<int>(n));
}
}  // namespace detail

// Key signature may address a channel or the whole group.
[[nodiscard]] constexpr packet make_set_key_signature(group g, flex_address a, channel c, std::int8_t sharps_flats,
                                                      std::uint8_t tonic) noexcept {
    return make_flex_data(g, packet_format::complete, a, c, flex_bank_setup,
                          static_cast<std::uint8_t>(flex_setup_status::set_key_signature),
                          (detail::signed_nibble(sharps_flats) << 28) | (std::uint32_t{tonic & 0xFu} << 24));
}

// An alteration: type 0 none, 1 add, 2 subtract, 3 raise, 4 lower; degree 4 bits.
struct chord_alteration {
    std::uint8_t type = 0;
    std::uint8_t degree = 0;
    friend constexpr bool operator==(chord_alteration, chord_alteration) = default;
};

struct chord_name_fields {
    std::int8_t tonic_sharps_flats = 0;
    std::uint8_t tonic = 0;       // 0 unknown, 1..7 = A..G
    std::uint8_t chord_type = 0;  // 0 clear chord, 1 major, ... 0x1A suspended 4th
    std::array<chord_alteration, 4> alterations{};
    std::int8_t bass_sharps_flats = 0;
    std::uint8_t bass_note = 0;
    std::uint8_t bass_chord_type = 0;
    std::array<chord_alteration, 2> bass_alterations{};
    friend constexpr bool operator==(const chord_name_fields&, const chord_name_fields&) = default;
};

namespace detail {
[[nodiscard]] constexpr std::uint32_t alteration_byte(chord_alteration a) noexcept {
    return (std::uint32_t{a.type & 0xFu} << 4) | (a.degree & 0xFu);
}
[[nodiscard]] constexpr chord_alteration alteration_of(std::uint32_t byte) noexcept {
    return {static_cast<std::uint8_t>((byte >> 4) & 0xFu), static_cast<std::uint8_t>(byte & 0xFu)};
}
}  // namespace detail

[[nodiscard]] constexpr packet make_set_chord_name(group g, flex_address a, channel c,
                                                   const chord_name_fields& n) noexcept {
    const std::uint32_t w1 = (detail::signed_nibble(n.tonic_sharps_flats) << 28) |
                             (std::uint32_t{n.tonic & 0xFu} << 24) | (std::uint32_t{n.chord_type} << 16) |
                             (detail::alteration_byte(n.alterations[0]) << 8) | detail::alteration_byte(n.alterations[1]);
    const std::uint32_t w2 = (detail::alteration_byte(n.alterations[2]) << 24) |
                             (detail::alteration_byte(n.alterations[3]) << 16);
    const std::uint32_t w3 = (detail::signed_nibble(n.bass_sharps_flats) << 28) |
                             (std::uint32_t{n.bass_note & 0xFu} << 24) | (std::uint32_t{n.bass_chord_type} << 16) |
                             (detail::alteration_byte(n.bass_alterations[0]) << 8) |
                             detail::alteration_byte(n.bass_alterations[1]);
    return make_flex_data(g, packet_format::complete, a, c, flex_bank_setup,
                          static_cast<std::uint8_t>(flex_setup_status::set_chord_name), w1, w2, w3);
}

// Header fields shared by every flex data message; the typed views below add theirs.
struct flex_data_view {
    packet p;
    [[nodiscard]] constexpr group group_field() const noexcept { return p.group_field(); }
    [[nodiscard]] constexpr packet_format format() const noexcept {
        return static_cast<packet_format>(field<23, 22>(p[0]));
    }
    // Raw 2-bit address; 2 and 3 are reserved, so this is not cast to flex_address.
    [[nodiscard]] constexpr std::uint8_t address_bits() const noexcept { return static_cast<std::uint8_t>(field<21, 20>(p[0])); }
    [[nodiscard]] constexpr flex_address address() const noexcept { return static_cast<flex_address>(address_bits()); }
    [[nodiscard]] constexpr channel channel_field() const noexcept {
        return channel{static_cast<std::uint8_t>(field<19, 16>(p[0]))};
    }
    [[nodiscard]] constexpr std::uint8_t status_bank() const noexcept { return static_cast<std::uint8_t>(field<15, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t status() const noexcept { return static_cast<std::uint8_t>(field<7, 0>(p[0])); }
};

struct set_tempo_view : flex_data_view {
    [[nodiscard]] constexpr std::uint32_t ten_ns_per_quarter_note() const noexcept { return p[1]; }
};
struct set_time_signature_view : flex_data_view {
    [[nodiscard]] constexpr std::uint8_t numerator() const noexcept { return static_cast<std::uint8_t>(field<31, 24>(p[1])); }
    [[nodiscard]] constexpr std::uint8_t denominator_exponent() const noexcept {
        return static_cast<std::uint8_t>(field<23, 16>(p[1]));
    }
    [[nodiscard]] constexpr std::uint8_t thirty_second_notes() const noexcept {
        return static_cast<std::uint8_t>(field<15, 8>(p[1]));
    }
};
struct set_metronome_view : flex_data_view {
    [[nodiscard]] constexpr metronome_fields fields() const noexcept {
        return {static_cast<std::uint8_t>(field<31, 24>(p[1])), static_cast<std::uint8_t>(field<23, 16>(p[1])),
                static_cast<std::uint8_t>(field<15, 8>(p[1])),  static_cast<std::uint8_t>(field<7, 0>(p[1])),
                static_cast<std::uint8_t>(field<31, 24>(p[2])), static_cast<std::uint8_t>(field<23, 16>(p[2]))};
    }
};
struct set_key_signature_view : flex_data_view {
    [[nodiscard]] constexpr std::int8_t sharps_flats() const noexcept { return detail::from_signed_nibble(field<31, 28>(p[1])); }
    [[nodiscard]] constexpr std::uint8_t tonic() const noexcept { return static_cast<std::uint8_t>(field<27, 24>(p[1])); }
};
struct set_chord_name_view : flex_data_view {
    [[nodiscard]] constexpr chord_name_fields fields() const noexcept {
        chord_name_fields n;
        n.tonic_sharps_flats = detail::from_signed_nibble(field<31, 28>(p[1]));
        n.tonic = static_cast<std::uint8_t>(field<27, 24>(p[1]));
        n.chord_type = static_cast<std::uint8_t>(field<23, 16>(p[1]));
        n.alterations = {detail::alteration_of(field<15, 8>(p[1])), detail::alteration_of(field<7, 0>(p[1])),
                         detail::alteration_of(field<31, 24>(p[2])), detail::alteration_of(field<23, 16>(p[2]))};
        n.bass_sharps_flats = detail::from_signed_nibble(field<31, 28>(p[3]));
        n.bass_note = static_cast<std::uint8_t>(field<27, 24>(p[3]));
        n.bass_chord_type = static_cast<std::uint8_t>(field<23, 16>(p[3]));
        n.bass_alterations = {detail::alteration_of(field<15, 8>(p[3])), detail::alteration_of(field<7, 0>(p[3]))};
        return n;
    }
};
struct flex_text_view : flex_data_view {
    // i in 0..11
    [[nodiscard]] constexpr std::uint8_t text_byte(unsigned i) const noexcept { return packet_byte(p, 4 + i); }
    // Bytes before the first zero.
    [[nodiscard]] constexpr unsigned text_size() const noexcept { return packet_text_size(p, 4, flex_text_bytes_per_packet); }
};

[[nodiscard]] constexpr std::optional<flex_data_view> as_flex_data(const packet& p) noexcept {
    if (p.type() != message_type::flex_data) return std::nullopt;
    return flex_data_view{p};
}

namespace detail {
[[nodiscard]] constexpr bool is_flex_setup(const packet& p, flex_setup_status s) noexcept {
    return p.type() == message_type::flex_data && field<15, 8>(p[0]) == flex_bank_setup &&
           field<7, 0>(p[0]) == static_cast<std::uint8_t>(s);
}
}  // namespace detail

[[nodiscard]] constexpr std::optional<set_tempo_view> as_set_tempo(const packet& p) noexcept {
    if (!detail::is_flex_setup(p, flex_setup_status::set_tempo)) return std::nullopt;
    return set_tempo_view{{p}};
}
[[nodiscard]] constexpr std::optional<set_time_signature_view> as_set_time_signature(const packet& p) noexcept {
    if (!detail::is_flex_setup(p, flex_setup_status::set_time_signature)) return std::nullopt;
    return set_time_signature_view{{p}};
}
[[nodiscard]] constexpr std::optional<set_metronome_view> as_set_metronome(const packet& p) noexcept {
    if (!detail::is_flex_setup(p, flex_setup_status::set_metronome)) return std::nullopt;
    return set_metronome_view{{p}};
}
[[nodiscard]] constexpr std::optional<set_key_signature_view> as_set_key_signature(const packet& p) noexcept {
    if (!detail::is_flex_setup(p, flex_setup_status::set_key_signature)) return std::nullopt;
    return set_key_signature_view{{p}};
}
[[nodiscard]] constexpr std::optional<set_chord_name_view> as_set_chord_name(const packet& p) noexcept {
    if (!detail::is_flex_setup(p, flex_setup_status::set_chord_name)) return std::nullopt;
    return set_chord_name_view{{p}};
}
// Accepts status banks 0x01 and 0x02 with any status.
[[nodiscard]] constexpr std::optional<flex_text_view> as_flex_text(const packet& p) noexcept {
    if (p.type() != message_type::flex_data) return std::nullopt;
    const auto bank = field<15, 8>(p[0]);
    if (bank != flex_bank_metadata_text && bank != flex_bank_performance_text) return std::nullopt;
    return flex_text_view{{p}};
}

// ---------------------------------------------------------------------------
// UMP stream (message type 0xF)
// ---------------------------------------------------------------------------

// Groupless: bits 27..26 are the packet format, bits 25..16 a 10-bit status.
enum class stream_status : std::uint16_t {
    endpoint_discovery = 0x000,
    endpoint_info = 0x001,
    device_identity = 0x002,
    endpoint_name = 0x003,
    product_instance_id = 0x004,
    stream_configuration_request = 0x005,
    stream_configuration_notification = 0x006,
    function_block_discovery = 0x010,
    function_block_info = 0x011,
    function_block_name = 0x012,
    start_of_clip = 0x020,
    end_of_clip = 0x021,
};

inline constexpr unsigned endpoint_name_bytes_per_packet = 14;
inline constexpr unsigned product_instance_id_bytes_per_packet = 14;
inline constexpr unsigned function_block_name_bytes_per_packet = 13;

// Endpoint Discovery filter bits.
inline constexpr std::uint8_t discover_endpoint_info = 0x01;
inline constexpr std::uint8_t discover_device_identity = 0x02;
inline constexpr std::uint8_t discover_endpoint_name = 0x04;
inline constexpr std::uint8_t discover_product_instance_id = 0x08;
inline constexpr std::uint8_t discover_stream_configuration = 0x10;
// Function Block Discovery filter bits and the "every block" number.
inline constexpr std::uint8_t discover_function_block_info = 0x01;
inline constexpr std::uint8_t discover_function_block_name = 0x02;
inline constexpr std::uint8_t all_function_blocks = 0xFF;
// Protocol numbers of Stream Configuration messages.
inline constexpr std::uint8_t stream_protocol_midi1 = 0x01;
inline constexpr std::uint8_t stream_protocol_midi2 = 0x02;

// The generic form: format, status, the low 16 bits of word 0 and three payload words.
[[nodiscard]] constexpr packet make_stream(packet_format f, stream_status s, std::uint16_t low16 = 0,
                                           std::uint32_t w1 = 0, std::uint32_t w2 = 0,
                                           std::uint32_t w3 = 0) noexcept {
    std::uint32_t w = 0xF0000000u;
    w = with_field<27, 26>(w, static_cast<std::uint8_t>(f));
    w = with_field<25, 16>(w, static_cast<std::uint16_t>(s));
    w = with_field<15, 0>(w, low16);
    return packet{w, w1, w2, w3};
}

// text: up to 14 bytes of UTF-8 (the rest are ignored); unused bytes are zero.
[[nodiscard]] constexpr packet make_endpoint_name(packet_format f, std::span<const std::uint8_t> text) noexcept {
    packet p = make_stream(f, stream_status::endpoint_name);
    put_packet_bytes(p, 2, endpoint_name_bytes_per_packet, text);
    return p;
}

// text: up to 14 bytes (the rest are ignored); unused bytes are zero.
[[nodiscard]] constexpr packet make_product_instance_id(packet_format f, std::span<const std::uint8_t> text) noexcept {
    packet p = make_stream(f, stream_status::product_instance_id);
    put_packet_bytes(p, 2, product_instance_id_bytes_per_packet, text);
    return p;
}

// block: function block number 0..31 (field is 8 bits); text: up to 13 bytes.
[[nodiscard]] constexpr packet make_function_block_name(std::uint8_t block, packet_format f,
                                                        std::span<const std::uint8_t> text) noexcept {
    packet p = make_stream(f, stream_status::function_block_name, static_cast<std::uint16_t>(block << 8));
    put_packet_bytes(p, 3, function_block_name_bytes_per_packet, text);
    return p;
}

// filter: discover_* bits.
[[nodiscard]] constexpr packet make_endpoint_discovery(std::uint8_t ump_version_major, std::uint8_t ump_version_minor,
                                                       std::uint8_t filter) noexcept {
    return make_stream(packet_format::complete, stream_status::endpoint_discovery,
                       static_cast<std::uint16_t>((ump_version_major << 8) | ump_version_minor), filter);
}

struct endpoint_info_fields {
    std::uint8_t ump_version_major = 1;
    std::uint8_t ump_version_minor = 1;
    bool static_function_blocks = false;
    std::uint8_t function_block_count = 0;  // 7 bits
    bool midi2_protocol = false;
    bool midi1_protocol = false;
    bool rx_jr_timestamps = false;
    bool tx_jr_timestamps = false;
    friend constexpr bool operator==(const endpoint_info_fields&, const endpoint_info_fields&) = default;
};

[[nodiscard]] constexpr packet make_endpoint_info(const endpoint_info_fields& e) noexcept {
    std::uint32_t w1 = 0;
    w1 = with_field<31, 31>(w1, e.static_function_blocks ? 1u : 0u);
    w1 = with_field<30, 24>(w1, e.function_block_count);
    w1 = with_field<9, 9>(w1, e.midi2_protocol ? 1u : 0u);
    w1 = with_field<8, 8>(w1, e.midi1_protocol ? 1u : 0u);
    w1 = with_field<1, 1>(w1, e.rx_jr_timestamps ? 1u : 0u);
    w1 = with_field<0, 0>(w1, e.tx_jr_timestamps ? 1u : 0u);
    return make_stream(packet_format::complete, stream_status::endpoint_info,
                       static_cast<std::uint16_t>((e.ump_version_major << 8) | e.ump_version_minor), w1);
}

struct device_identity_fields {
    std::array<std::uint8_t, 3> manufacturer{};       // SysEx ID bytes, 7 bits each
    std::uint16_t family = 0;                          // 14 bits
    std::uint16_t model = 0;                           // 14 bits
    std::array<std::uint8_t, 4> software_revision{};  // 7 bits each
    friend constexpr bool operator==(const device_identity_fields&, const device_identity_fields&) = default;
};

[[nodiscard]] constexpr packet make_device_identity(const device_identity_fields& d) noexcept {
    const std::uint32_t w1 = (std::uint32_t{d.manufacturer[0] & 0x7Fu} << 16) |
                             (std::uint32_t{d.manufacturer[1] & 0x7Fu} << 8) | (d.manufacturer[2] & 0x7Fu);
    // Family and model go LSB first, 7 bits a byte.
    const std::uint32_t w2 = (std::uint32_t{d.family & 0x7Fu} << 24) | (std::uint32_t{(d.family >> 7) & 0x7Fu} << 16) |
                             (std::uint32_t{d.model & 0x7Fu} << 8) | ((d.model >> 7) & 0x7Fu);
    const std::uint32_t w3 = (std::uint32_t{d.software_revision[0] & 0x7Fu} << 24) |
                             (std::uint32_t{d.software_revision[1] & 0x7Fu} << 16) |
                             (std::uint32_t{d.software_revision[2] & 0x7Fu} << 8) | (d.software_revision[3] & 0x7Fu);
    return make_stream(packet_format::complete, stream_status::device_identity, 0, w1, w2, w3);
}

// protocol: stream_protocol_midi1 or stream_protocol_midi2.
[[nodiscard]] constexpr packet make_stream_configuration_request(std::uint8_t protocol, bool rx_jr_timestamps,
                                                                 bool tx_jr_timestamps) noexcept {
    return make_stream(packet_format::complete, stream_status::stream_configuration_request,
                       static_cast<std::uint16_t>((protocol << 8) | (rx_jr_timestamps ? 0x2 : 0) |
                                                  (tx_jr_timestamps ? 0x1 : 0)));
}
[[nodiscard]] constexpr packet make_stream_configuration_notification(std::uint8_t protocol, bool rx_jr_timestamps,
                                                                      bool tx_jr_timestamps) noexcept {
    return make_stream(packet_format::complete, stream_status::stream_configuration_notification,
                       static_cast<std::uint16_t>((protocol << 8) | (rx_jr_timestamps ? 0x2 : 0) |
                                                  (tx_jr_timestamps ? 0x1 : 0)));
}

// block: 0..31, or all_function_blocks; filter: discover_function_block_* bits.
[[nodiscard]] constexpr packet make_function_block_discovery(std::uint8_t block, std::uint8_t filter) noexcept {
    return make_stream(packet_format::complete, stream_status::function_block_discovery,
                       static_cast<std::uint16_t>((block << 8) | filter));
}

// Direction as seen from the function block.
enum class function_block_direction : std::uint8_t { reserved = 0, input = 1, output = 2, bidirectional = 3 };
// What the block is mainly for, as a hint to user interfaces.
enum class function_block_ui_hint : std::uint8_t { unknown = 0, receiver = 1, sender = 2, sender_receiver = 3 };
// Whether the block stands for a MIDI 1.0 port, and if so whether it is limited to 31.25 kb/s.
enum class function_block_midi1 : std::uint8_t { no = 0, unrestricted = 1, restricted = 2, reserved = 3 };

struct function_block_info_fields {
    bool active = false;
    std::uint8_t block = 0;  // 7 bits
    function_block_ui_hint ui_hint = function_block_ui_hint::unknown;
    function_block_midi1 midi1 = function_block_midi1::no;
    function_block_direction direction = function_block_direction::reserved;
    group first_group{};
    std::uint8_t group_count = 0;
    std::uint8_t midi_ci_version = 0;
    std::uint8_t max_sysex8_streams = 0;
    friend constexpr bool operator==(const function_block_info_fields&, const function_block_info_fields&) = default;
};

[[nodiscard]] constexpr packet make_function_block_info(const function_block_info_fields& b) noexcept {
    std::uint32_t low = 0;
    low = with_field<15, 15>(low, b.active ? 1u : 0u);
    low = with_field<14, 8>(low, b.block);
    low = with_field<5, 4>(low, static_cast<std::uint8_t>(b.ui_hint));
    low = with_field<3, 2>(low, static_cast<std::uint8_t>(b.midi1));
    low = with_field<1, 0>(low, static_cast<std::uint8_t>(b.direction));
    const std::uint32_t w1 = (std::uint32_t{b.first_group.index & 0xFu} << 24) | (std::uint32_t{b.group_count} << 16) |
                             (std::uint32_t{b.midi_ci_version} << 8) | b.max_sysex8_streams;
    return make_stream(packet_format::complete, stream_status::function_block_info, static_cast<std::uint16_t>(low), w1);
}

[[nodiscard]] constexpr packet make_start_of_clip() noexcept {
    return make_stream(packet_format::complete, stream_status::start_of_clip);
}
[[nodiscard]] constexpr packet make_end_of_clip() noexcept {
    return make_stream(packet_format::complete, stream_status::end_of_clip);
}

// Fields shared by every UMP stream message; the typed views below add theirs.
struct stream_view {
    packet p;
    [[nodiscard]] constexpr packet_format format() const noexcept {
        return static_cast<packet_format>(field<27, 26>(p[0]));
    }
    [[nodiscard]] constexpr stream_status status() const noexcept {
        return static_cast<stream_status>(field<25, 16>(p[0]));
    }
};

struct endpoint_discovery_view : stream_view {
    [[nodiscard]] constexpr std::uint8_t ump_version_major() const noexcept { return static_cast<std::uint8_t>(field<15, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t ump_version_minor() const noexcept { return static_cast<std::uint8_t>(field<7, 0>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t filter() const noexcept { return static_cast<std::uint8_t>(field<7, 0>(p[1])); }
};
struct endpoint_info_view : stream_view {
    [[nodiscard]] constexpr endpoint_info_fields fields() const noexcept {
        return {static_cast<std::uint8_t>(field<15, 8>(p[0])), static_cast<std::uint8_t>(field<7, 0>(p[0])),
                field<31, 31>(p[1]) != 0, static_cast<std::uint8_t>(field<30, 24>(p[1])),
                field<9, 9>(p[1]) != 0, field<8, 8>(p[1]) != 0, field<1, 1>(p[1]) != 0, field<0, 0>(p[1]) != 0};
    }
};
struct device_identity_view : stream_view {
    [[nodiscard]] constexpr device_identity_fields fields() const noexcept {
        device_identity_fields d;
        d.manufacturer = {static_cast<std::uint8_t>(field<22, 16>(p[1])), static_cast<std::uint8_t>(field<14, 8>(p[1])),
                          static_cast<std::uint8_t>(field<6, 0>(p[1]))};
        d.family = static_cast<std::uint16_t>(field<30, 24>(p[2]) | (field<22, 16>(p[2]) << 7));
        d.model = static_cast<std::uint16_t>(field<14, 8>(p[2]) | (field<6, 0>(p[2]) << 7));
        d.software_revision = {static_cast<std::uint8_t>(field<30, 24>(p[3])), static_cast<std::uint8_t>(field<22, 16>(p[3])),
                               static_cast<std::uint8_t>(field<14, 8>(p[3])), static_cast<std::uint8_t>(field<6, 0>(p[3]))};
        return d;
    }
};
// Endpoint Name and Product Instance Id: 14 text bytes from bits 15..0 of word 0 on.
struct stream_text_view : stream_view {
    // i in 0..13
    [[nodiscard]] constexpr std::uint8_t text_byte(unsigned i) const noexcept { return packet_byte(p, 2 + i); }
    [[nodiscard]] constexpr unsigned text_size() const noexcept { return packet_text_size(p, 2, endpoint_name_bytes_per_packet); }
};
struct stream_configuration_view : stream_view {
    [[nodiscard]] constexpr std::uint8_t protocol() const noexcept { return static_cast<std::uint8_t>(field<15, 8>(p[0])); }
    [[nodiscard]] constexpr bool rx_jr_timestamps() const noexcept { return field<1, 1>(p[0]) != 0; }
    [[nodiscard]] constexpr bool tx_jr_timestamps() const noexcept { return field<0, 0>(p[0]) != 0; }
};
struct function_block_discovery_view : stream_view {
    [[nodiscard]] constexpr std::uint8_t block() const noexcept { return static_cast<std::uint8_t>(field<15, 8>(p[0])); }
    [[nodiscard]] constexpr std::uint8_t filter() const noexcept { return static_cast<std::uint8_t>(field<7, 0>(p[0])); }
};
struct function_block_info_view : stream_view {
    [[nodiscard]] constexpr function_block_info_fields fields() const noexcept {
        return {field<15, 15>(p[0]) != 0,
                static_cast<std::uint8_t>(field<14, 8>(p[0])),
                static_cast<function_block_ui_hint>(field<5, 4>(p[0])),
                static_cast<function_block_midi1>(field<3, 2>(p[0])),
                static_cast<function_block_direction>(field<1, 0>(p[0])),
                group{static_cast<std::uint8_t>(field<27, 24>(p[1]))},
                static_cast<std::uint8_t>(field<23, 16>(p[1])),
                static_cast<std::uint8_t>(field<15, 8>(p[1])),
                static_cast<std::uint8_t>(field<7, 0>(p[1]))};
    }
    // The raw first-group byte: values above 15 are invalid and fields() keeps only 4 bits.
    [[nodiscard]] constexpr std::uint8_t first_group_byte() const noexcept { return static_cast<std::uint8_t>(field<31, 24>(p[1])); }
};
struct function_block_name_view : stream_view {
    [[nodiscard]] constexpr std::uint8_t block() const noexcept { return static_cast<std::uint8_t>(field<15, 8>(p[0])); }
    // i in 0..12
    [[nodiscard]] constexpr std::uint8_t text_byte(unsigned i) const noexcept { return packet_byte(p, 3 + i); }
    [[nodiscard]] constexpr unsigned text_size() const noexcept {
        return packet_text_size(p, 3, function_block_name_bytes_per_packet);
    }
};

[[nodiscard]] constexpr std::optional<stream_view> as_stream(const packet& p) noexcept {
    if (p.type() != message_type::ump_stream) return std::nullopt;
    return stream_view{p};
}

namespace detail {
[[nodiscard]] constexpr bool is_stream(const packet& p, stream_status s) noexcept {
    return p.type() == message_type::ump_stream && field<25, 16>(p[0]) == static_cast<std::uint16_t>(s);
}
}  // namespace detail

[[nodiscard]] constexpr std::optional<endpoint_discovery_view> as_endpoint_discovery(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::endpoint_discovery)) return std::nullopt;
    return endpoint_discovery_view{{p}};
}
[[nodiscard]] constexpr std::optional<endpoint_info_view> as_endpoint_info(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::endpoint_info)) return std::nullopt;
    return endpoint_info_view{{p}};
}
[[nodiscard]] constexpr std::optional<device_identity_view> as_device_identity(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::device_identity)) return std::nullopt;
    return device_identity_view{{p}};
}
[[nodiscard]] constexpr std::optional<stream_text_view> as_endpoint_name(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::endpoint_name)) return std::nullopt;
    return stream_text_view{{p}};
}
[[nodiscard]] constexpr std::optional<stream_text_view> as_product_instance_id(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::product_instance_id)) return std::nullopt;
    return stream_text_view{{p}};
}
// Accepts both the request and the notification; status() tells them apart.
[[nodiscard]] constexpr std::optional<stream_configuration_view> as_stream_configuration(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::stream_configuration_request) &&
        !detail::is_stream(p, stream_status::stream_configuration_notification))
        return std::nullopt;
    return stream_configuration_view{{p}};
}
[[nodiscard]] constexpr std::optional<function_block_discovery_view> as_function_block_discovery(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::function_block_discovery)) return std::nullopt;
    return function_block_discovery_view{{p}};
}
[[nodiscard]] constexpr std::optional<function_block_info_view> as_function_block_info(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::function_block_info)) return std::nullopt;
    return function_block_info_view{{p}};
}
[[nodiscard]] constexpr std::optional<function_block_name_view> as_function_block_name(const packet& p) noexcept {
    if (!detail::is_stream(p, stream_status::function_block_name)) return std::nullopt;
    return function_block_name_view{{p}};
}

}  // namespace umpd::core
