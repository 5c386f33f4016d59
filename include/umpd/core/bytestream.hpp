// MIDI 1.0 byte stream ⇄ UMP (MIDI 1.0 channel voice, system, 7-bit SysEx).
//
// Both converters are resumable: all they remember lives in a small state struct the
// caller owns, so input may be cut anywhere (inside a message, a SysEx or, for UMP,
// inside a packet) and output buffers may be of any size. They allocate nothing, lock
// nothing, throw nothing. Any thread may call them; one state serves one stream and
// must not be used by two threads at once.
//
// Calling convention (the same both ways):
//   r = convert(state, input, output);
//   r.consumed  input units (bytes or words) the converter has taken; they are never
//               presented again.
//   r.written   output units written to output[0 .. written).
//   r.status    ok: all input is consumed and nothing is waiting.
//               output_full: the next output does not fit and converted data is waiting in the
//               state; drain the output and call again with input.subspan(consumed)
//               (which may be empty).
// UMP output only ever holds whole packets, so midi1_to_ump needs room for two words
// (a SysEx packet) to be sure of progress; ump_to_midi1 progresses with one byte.
// ump_to_midi1 may also store into output[written .. size) (scratch, never past the
// end of the span): it writes a packet's bytes straight into the output when there
// is room, some unconditionally, and counts only those that belong.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "umpd/core/packet.hpp"

namespace umpd::core {

enum class conversion_status : std::uint8_t { ok, output_full };

struct conversion_result {
    std::size_t consumed = 0;
    std::size_t written = 0;
    conversion_status status = conversion_status::ok;
};

// ---------------------------------------------------------------------------
// MIDI 1.0 bytes → UMP
// ---------------------------------------------------------------------------

// Problems found in the byte stream. Counters wrap at 2^32.
struct midi1_to_ump_counters {
    std::uint32_t stray_data_bytes = 0;        // data byte with no status in effect: dropped
    std::uint32_t stray_end_of_exclusive = 0;  // F7 with no SysEx open: dropped
    std::uint32_t undefined_status_bytes = 0;  // F4 F5 F9 FD: dropped
    std::uint32_t unterminated_sysex = 0;      // SysEx ended by a status byte other than F7
    std::uint32_t truncated_messages = 0;      // channel or system common message cut short by a status byte
    friend constexpr bool operator==(const midi1_to_ump_counters&, const midi1_to_ump_counters&) = default;
};

// Behaviour, following MIDI 1.0:
// - Channel messages (80..EF) become MIDI 1.0 channel voice packets (type 0x2); running
//   status is honoured, also across calls.
// - System common F1 F2 F3 F6 become system packets (type 0x1) and cancel running
//   status, as does every other non-real-time status byte (F0, F7, F4, F5).
// - System real time F8..FF becomes a system packet at once, wherever it appears
//   (inside a SysEx or a channel message), and disturbs nothing in progress. F9 and FD
//   (undefined real time) are dropped and counted without disturbing anything either.
// - F4 and F5 (undefined system common) are dropped and counted; the data bytes that
//   follow them are stray.
// - A status byte (other than real time) that arrives before the message in progress
//   is complete drops that message (truncated_messages).
// - SysEx F0 … F7 becomes 7-bit SysEx packets of 6 bytes: complete, or start,
//   continue…, end. A status byte other than F7 and real time ends an open SysEx: its
//   end (or complete) packet is emitted with the bytes held so far, the SysEx is
//   counted as unterminated, and the status byte is then handled as usual.
//
// Latency: a SysEx packet leaves only when the next data byte or the end of the SysEx
// arrives, because until then it is not known whether 6 held bytes form a "complete"
// or a "start", or whether the last continue is really an "end". Up to 6 bytes wait in
// the state; real-time bytes are not held back. This never emits an empty end packet
// (a SysEx of 12 bytes is start(6) end(6)); the price is one byte time of latency per
// packet, which SysEx tolerates. Channel and system messages leave with their last byte.
struct midi1_to_ump_state {
    group target_group{};  // the group written into every packet; the caller sets it
    midi1_to_ump_counters counters{};

    // Internal; value-initialise the struct and leave these alone.
    std::uint8_t status = 0;        // status of the message in progress; between channel
                                    // messages, the running status; 0 when none
    std::uint8_t expected = 0;      // data bytes that status takes
    std::uint8_t data_count = 0;
    bool message_open = false;      // a status or data byte of an incomplete message was seen
    std::array<std::uint8_t, 2> data{};
    bool in_sysex = false;
    bool sysex_started = false;     // the start packet of the open SysEx has left
    std::uint8_t sysex_count = 0;
    std::array<std::uint8_t, 6> sysex{};
    std::uint8_t pending_pos = 0;   // packets converted but not yet written (output was full)
    std::uint8_t pending_count = 0;
    std::array<std::uint32_t, 3> pending{};
};

// Real-time safe. Output: whole packets, as words.
[[nodiscard]] conversion_result midi1_to_ump(midi1_to_ump_state& state, std::span<const std::uint8_t> in,
                                             std::span<std::uint32_t> out) noexcept;

// ---------------------------------------------------------------------------
// UMP → MIDI 1.0 bytes
// ---------------------------------------------------------------------------

struct ump_to_midi1_counters {
    std::uint32_t skipped_packets = 0;      // types with no MIDI 1.0 byte form (0x0, 0x4, 0x5, 0xD, 0xF, reserved)
    std::uint32_t other_group_packets = 0;  // left out by only_group
    std::uint32_t malformed_packets = 0;    // refused by check_packet (reader.hpp): dropped
    std::uint32_t orphaned_sysex = 0;       // SysEx continue/end with no SysEx open on its group: dropped
    std::uint32_t unterminated_sysex = 0;   // open SysEx closed with F7 by a start/complete or a non-real-time message
    friend constexpr bool operator==(const ump_to_midi1_counters&, const ump_to_midi1_counters&) = default;
};

// Behaviour:
// - Types 0x1, 0x2 and 0x3 are converted; every other type is skipped and counted.
//   MIDI 2.0 channel voice must be translated to MIDI 1.0 channel voice first.
// - Packets are checked first (check_packet); malformed ones are dropped and counted.
// - only_group selects one group; nullopt merges all groups into the one byte stream.
// - 7-bit SysEx: start/continue…/end and complete become F0 … F7. A continue or end
//   with no SysEx open (on its group) is dropped. A start or complete while one is
//   open, or any non-real-time message, first closes the open one with F7 — a MIDI 1.0
//   stream cannot carry anything but real time inside a SysEx. When groups are merged,
//   a message on any group interrupts an open SysEx; convert per group to keep
//   interleaved SysEx intact.
// - System real time is written where it arrives, inside a SysEx too.
// - running_status (off by default) omits a channel status byte equal to the previous
//   one; system common and SysEx cancel it, real time does not.
struct ump_to_midi1_state {
    std::optional<group> only_group{};  // nullopt: every group
    bool running_status = false;
    ump_to_midi1_counters counters{};

    // Internal; value-initialise the struct and leave these alone.
    std::uint8_t last_status = 0;    // for running status on output
    bool sysex_open = false;
    group sysex_group{};
    std::uint8_t partial_count = 0;  // words of a packet cut by the end of the input
    std::array<std::uint32_t, max_packet_words> partial{};
    std::uint8_t pending_pos = 0;    // bytes converted but not yet written (output was full)
    std::uint8_t pending_count = 0;
    std::array<std::uint8_t, 10> pending{};
};

// Real-time safe. Input: words; a packet may be cut by the end of the input, the rest
// follows in the next call.
[[nodiscard]] conversion_result ump_to_midi1(ump_to_midi1_state& state, std::span<const std::uint32_t> in,
                                             std::span<std::uint8_t> out) noexcept;

}  // namespace umpd::core
