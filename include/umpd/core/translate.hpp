// Translation between MIDI 1.0 channel voice messages in UMP (message type 0x2) and
// MIDI 2.0 channel voice messages (message type 0x4), following the default
// translation of the UMP 1.1 specification's appendix "Translation: MIDI 1.0 and
// MIDI 2.0 Messages". Packets of every other message type pass through unchanged.
//
// Real-time rules: every function here allocates nothing, locks nothing, throws
// nothing and runs in bounded time. A translator's state is a plain struct the
// caller owns (value-initialise it, or call reset()); it is not shared between
// threads: only the thread that owns a state calls the functions on it, typically
// the real-time thread of one connection. State carries over between calls, so a
// stream may be fed in buffers of any size.
//
// ---------------------------------------------------------------------------
// MIDI 1.0 -> MIDI 2.0 (struct midi1_to_midi2)
// ---------------------------------------------------------------------------
// - Note On/Off, Poly Pressure, Control Change, Channel Pressure: values widened
//   with min-center-max scaling (scale.hpp), 7->16 bits for velocity, 7->32 for the rest.
//   Pitch Bend 14->32 bits.
// - Note On with velocity 0 becomes a MIDI 2.0 Note Off with velocity 0x8000: MIDI 1.0
//   defines it as a Note Off of velocity 64, and 64 widens to 0x8000 (the appendix
//   prescribes exactly 0x8000).
// - Bank Select MSB/LSB (CC 0/32) are consumed and remembered per group and channel;
//   the next Program Change carries them with the Bank Valid flag set, after which
//   the bank is no longer "pending" (later Program Changes go out without a bank,
//   which a receiver reads as "current bank", exactly as in MIDI 1.0).
//   Choice: if only one of the two was sent, the other half is the last value seen
//   on that channel (0 before any), as a MIDI 1.0 receiver would combine them.
// - RPN (CC 101/100) and NRPN (CC 99/98) selection and Data Entry (CC 6/38) are
//   consumed and become Registered / Assignable Controller messages. The appendix
//   lists when the translator sends one: when a CC 38 arrives, when a subsequent
//   CC 6 arrives (the earlier CC 6 value goes out), and when a CC 98-101 arrives
//   (the value entered for the previous parameter goes out). The 14-bit value is
//   (CC 6 << 7) | CC 38 and is widened 14->32 with min-center-max, as for every
//   other value (M2-115-U's zero-extension for unit-valued RPNs is not applied: the
//   appendix does not ask for it, and min-center-max keeps 14-bit round trips exact);
//   a value sent without its CC 38 has LSB 0 (in MIDI 1.0 a new MSB resets the LSB).
//   Choices where the appendix is silent:
//   * A parameter is selected only when both its MSB and LSB numbers were received
//     since the selection last switched between RPN and NRPN; data entry without a
//     complete selection is dropped and counted as untranslatable.
//   * The selection and the last Data Entry MSB persist after a message is sent, so
//     a later lone CC 38 sends (last MSB, new LSB). A CC 38 with no CC 6 since the
//     selection was made is dropped and counted (the parameter's MSB is unknown).
//   * Null RPN (CC 101/100 = 127/127) deselects: following data entry is dropped and
//     counted until a new parameter is selected. Reset All Controllers (CC 121) also
//     deselects (RP-015); it still passes through as a Control Change.
//   * Data Increment/Decrement (CC 96/97) and Reset All Controllers also send a
//     pending value first: they act on (or reset) the value entered so far, and
//     sending it after them would reorder the two.
//   * A CC 6 whose CC 38 never comes stays pending. The appendix suggests a timeout
//     for senders that never send CC 38; time is the caller's business, so
//     has_pending() tells whether anything waits and flush() sends it. Other
//     messages (notes, other controllers) do not send it.
// - Data Increment/Decrement and all other controllers pass through as Control
//   Change with the value widened: the appendix does not map CC 96/97 to the
//   relative controllers, whose signed 32-bit steps mean something else. 14-bit
//   controller pairs (CC 1-31 / 33-63) are not merged.
//
// ---------------------------------------------------------------------------
// MIDI 2.0 -> MIDI 1.0 (struct midi2_to_midi1)
// ---------------------------------------------------------------------------
// - Values narrowed by shifting (scale_down). A Note On whose velocity narrows to 0
//   is sent with velocity 1, since velocity 0 would mean Note Off in MIDI 1.0.
// - Program Change with Bank Valid -> CC 0 (MSB), CC 32 (LSB), Program Change.
// - Registered / Assignable Controller -> CC 101/100 (or 99/98) with bank and index,
//   then CC 6 and CC 38 with the value narrowed 32->14 bits. Choice: the selection is
//   sent every time, even when it equals the previous one. The appendix gives the
//   four-message sequence; the kernel (sound/core/ump_convert.c) does the same; and a
//   MIDI 1.0 port may merge other sources that change the receiver's selection in
//   between, so eliding it would risk writing into the wrong parameter.
// - Relative Registered/Assignable Controllers, Registered/Assignable Per-Note
//   Controllers, Per-Note Pitch Bend and Per-Note Management have no MIDI 1.0
//   equivalent: dropped and counted as untranslatable. A note attribute (type other
//   than 0) is dropped from the note, which is still sent, and counted.
//
// Malformed channel voice packets (type 0x2 with a status nibble outside 0x8-0xE,
// type 0x4 with the reserved opcode 0x7) are dropped and counted by the translator
// that owns their type; reserved bits inside otherwise valid packets are ignored.
// Every packet a translator emits for a channel voice message is canonical:
// reserved bits and unused fields are zero.
//
// Cost: the common stateless MIDI 1.0 messages take a branch-free path; both
// directions run well above 100 million input words per second on one core.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "umpd/core/packet.hpp"

namespace umpd::core {

// No input packet ever produces more than this many output packets (MIDI 2.0 ->
// MIDI 1.0 Registered Controller: CC 101, CC 100, CC 6, CC 38) ...
inline constexpr std::size_t max_translated_packets = 4;
// ... nor more than this many output words (four one-word packets, or one
// four-word packet passed through).
inline constexpr std::size_t max_translated_words = 4;

enum class translate_status : std::uint8_t {
    ok = 0,
    output_full,        // not enough output room: nothing more was consumed; drain and call again
    incomplete_packet,  // (words only) the input ends inside a packet: resubmit the tail with more words
};

struct translate_result {
    std::size_t written = 0;  // packets written to the output
    translate_status status = translate_status::ok;
};

struct translate_words_result {
    std::size_t consumed = 0;  // input words translated; the caller keeps the rest
    std::size_t written = 0;   // output words written
    translate_status status = translate_status::ok;
};

// What a translator dropped; counters only grow (until reset()).
struct translate_counters {
    std::uint64_t malformed = 0;        // channel voice packets with a reserved status or opcode
    std::uint64_t untranslatable = 0;   // valid messages with no equivalent in the target protocol
    std::uint64_t attributes_lost = 0;  // note attributes MIDI 1.0 cannot carry (MIDI 2.0 -> 1.0)
};

// MIDI 1.0 -> MIDI 2.0 translator state. The per-channel fields are internal; read
// the translator through the functions below.
struct midi1_to_midi2 {
    struct channel_state {
        std::uint8_t bank_msb = 0;
        std::uint8_t bank_lsb = 0;
        std::uint8_t param_msb = 0;  // bank of the Registered/Assignable Controller
        std::uint8_t param_lsb = 0;  // index
        std::uint8_t data_msb = 0;
        std::uint8_t flags = 0;      // see translate.cpp
    };
    std::array<channel_state, 256> channels{};  // index: group * 16 + channel
    std::uint16_t pending = 0;                  // channels holding an unsent CC 6 value
    translate_counters counters{};
};

// MIDI 2.0 -> MIDI 1.0 translator state (stateless translation; counters only).
struct midi2_to_midi1 {
    translate_counters counters{};
};

// Translates one packet. out must hold at least max_translated_packets packets;
// with fewer, nothing is consumed and the status is output_full. Zero packets are
// written when the input is consumed without output (bank select, RPN selection ...)
// or dropped.
[[nodiscard]] translate_result translate(midi1_to_midi2& state, const packet& in, std::span<packet> out) noexcept;
[[nodiscard]] translate_result translate(midi2_to_midi1& state, const packet& in, std::span<packet> out) noexcept;

// Translates a run of UMP words, packet by packet, for as long as a whole packet is
// available and max_translated_words of output room remain.
[[nodiscard]] translate_words_result translate_words(midi1_to_midi2& state, std::span<const std::uint32_t> in,
                                                     std::span<std::uint32_t> out) noexcept;
[[nodiscard]] translate_words_result translate_words(midi2_to_midi1& state, std::span<const std::uint32_t> in,
                                                     std::span<std::uint32_t> out) noexcept;

// Whether any channel holds a CC 6 value that no CC 38 has completed yet.
[[nodiscard]] constexpr bool has_pending(const midi1_to_midi2& state) noexcept { return state.pending != 0; }

// Sends every pending CC 6 value (with LSB 0) as a Registered/Assignable Controller
// message, group by group and channel by channel, as many as fit in out (one packet
// each). output_full means some are still pending; call again.
[[nodiscard]] translate_result flush(midi1_to_midi2& state, std::span<packet> out) noexcept;

// Forgets all per-channel state and zeroes the counters.
constexpr void reset(midi1_to_midi2& state) noexcept { state = midi1_to_midi2{}; }
constexpr void reset(midi2_to_midi1& state) noexcept { state = midi2_to_midi1{}; }

}  // namespace umpd::core
