// Validating reader over an untrusted buffer of UMP words.
//
// The reader steps packet by packet through a span of words it does not own. It
// never reads past the end of the span: a packet whose size (taken from its message
// type) runs past the end is reported as truncated and reading stops there. Every
// complete packet is checked and yielded with the word offset where it starts and
// an error kind; a malformed packet is yielded too (with its error) and reading
// goes on after it, stepping over it by its size.
//
// What "malformed" means here (UMP 1.1; every other packet is accepted):
//
//   malformed_status     a status that no message of its type has:
//                        - MIDI 1.0 channel voice (type 0x2) with a status nibble outside
//                          0x8..0xE (0xF would make a system status byte);
//                        - system (type 0x1) with a status byte that has no UMP system
//                          message: anything but F1 F2 F3 F6 F8 FA FB FC FE FF (so F0,
//                          F7, F4, F5, F9, FD and bytes < F0 are refused);
//                        - 7-bit SysEx (type 0x3) with a status > 0x3;
//                        - type 0x5 with a status that is neither 8-bit SysEx (0x0..0x3)
//                          nor a mixed data set (0x8, 0x9);
//                        - MIDI 2.0 channel voice (type 0x4) with the reserved opcode 0x7.
//   malformed_byte_count a SysEx byte count out of range: 7-bit SysEx with more than 6
//                        bytes; 8-bit SysEx with 0 or more than 14 (the count includes
//                        the stream id, so 0 cannot happen in a well-formed packet).
//   malformed_data_byte  bit 7 set in a byte the specification makes 7-bit:
//                        - the data bytes a MIDI 1.0 channel voice or system message uses
//                          (both for most; only the first for program change, channel
//                          pressure, MTC quarter frame and song select; none for the
//                          one-byte system messages, whose unused bytes are reserved and
//                          not checked);
//                        - the first `count` data bytes of a 7-bit SysEx packet;
//                        - MIDI 2.0 channel voice: the note number (opcodes 0x0, 0x1,
//                          0x6, 0x8, 0x9, 0xA, 0xF), the controller index (0xB), the bank
//                          and index of (relative) registered/assignable controllers
//                          (0x2..0x5) and the program number (0xC). Bank bytes of program
//                          change are only meaningful with the B flag and are not checked.
//
// Message types 0x0 (utility), 0xD (flex data), 0xF (UMP stream) and the reserved
// types 0x6..0xC, 0xE are only sized, never refused: a parser steps over what it does
// not understand, and the caller decides what to do with it.
//
// Precedence when a packet breaks several rules: status, then byte count, then data.
//
// Everything here is real-time safe (no allocation, no locks, no exceptions) and may
// be called from any thread; a reader object belongs to one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "umpd/core/messages.hpp"
#include "umpd/core/packet.hpp"

namespace umpd::core {

enum class read_error : std::uint8_t {
    none,
    truncated,             // the packet's size runs past the end of the buffer
    malformed_status,      // see the header comment for the exact rules
    malformed_byte_count,
    malformed_data_byte,
};

// A short, stable English name ("truncated", "malformed_status", ...): the enumerator's
// own spelling, so logs and test vectors use the same words.
[[nodiscard]] const char* to_string(read_error e) noexcept;

namespace detail {

// One rule per (message type, status byte) pair: which bits of words 0 and 1 must be
// zero (word 0 in the low half of the mask, word 1 in the high half), and the error
// to report if one is not. A status that must be refused outright gets an all-ones
// mask on word 0, which always hits because the type nibble of every type that can be
// refused (0x1..0x5) is non-zero.
enum rule_id : std::uint8_t {
    rule_ok,
    rule_bad_status,
    rule_bad_count,
    rule_byte1,          // bit 15 of word 0 (the first data byte / a 7-bit index)
    rule_bytes12,        // bits 15 and 7 of word 0
    rule_sysex7_3,       // 7-bit SysEx with 3..6 bytes: two in word 0, the rest in word 1
    rule_sysex7_4,
    rule_sysex7_5,
    rule_sysex7_6,
    rule_program,        // MIDI 2.0 program change: bit 31 of word 1
    rule_count_,
};

inline constexpr std::array<std::uint64_t, rule_count_> packet_rule_masks{
    0u,
    0xFFFFFFFFu,
    0xFFFFFFFFu,
    0x00008000u,
    0x00008080u,
    0x80000000'00008080u,
    0x80800000'00008080u,
    0x80808000'00008080u,
    0x80808080'00008080u,
    0x80000000'00000000u,
};

inline constexpr std::array<read_error, rule_count_> packet_rule_errors{
    read_error::none,
    read_error::malformed_status,
    read_error::malformed_byte_count,
    read_error::malformed_data_byte,
    read_error::malformed_data_byte,
    read_error::malformed_data_byte,
    read_error::malformed_data_byte,
    read_error::malformed_data_byte,
    read_error::malformed_data_byte,
    read_error::malformed_data_byte,
};

[[nodiscard]] constexpr rule_id rule_for(unsigned type, unsigned status) noexcept {
    const unsigned hi = status >> 4;
    const unsigned lo = status & 0xFu;
    switch (type) {
    case 0x1:
        switch (system_data_bytes(static_cast<std::uint8_t>(status))) {
        case 0: return rule_ok;
        case 1: return rule_byte1;
        case 2: return rule_bytes12;
        default: return rule_bad_status;
        }
    case 0x2:
        if (hi < 0x8 || hi == 0xF) return rule_bad_status;
        return (hi == 0xC || hi == 0xD) ? rule_byte1 : rule_bytes12;
    case 0x3:
        if (hi > 0x3) return rule_bad_status;
        switch (lo) {
        case 0: return rule_ok;
        case 1: return rule_byte1;
        case 2: return rule_bytes12;
        case 3: return rule_sysex7_3;
        case 4: return rule_sysex7_4;
        case 5: return rule_sysex7_5;
        case 6: return rule_sysex7_6;
        default: return rule_bad_count;
        }
    case 0x4:
        switch (hi) {
        case 0x7: return rule_bad_status;
        case 0x2: case 0x3: case 0x4: case 0x5: return rule_bytes12;
        case 0xC: return rule_program;
        case 0xD: case 0xE: return rule_ok;
        default: return rule_byte1;  // 0x0 0x1 0x6 0x8 0x9 0xA 0xB 0xF: note number or CC index
        }
    case 0x5:
        if (hi <= 0x3) return (lo == 0 || lo > 14) ? rule_bad_count : rule_ok;
        return (hi == 0x8 || hi == 0x9) ? rule_ok : rule_bad_status;
    default:
        return rule_ok;
    }
}

// Indexed by the message type and the status byte (bits 23..16), the group left out.
// 4 KiB, of which a stream touches a few lines.
[[nodiscard]] constexpr unsigned rule_index_of(std::uint32_t w0) noexcept {
    return ((w0 >> 20) & 0xF00u) | ((w0 >> 16) & 0xFFu);
}
inline constexpr std::array<std::uint8_t, 4096> packet_rule_index = [] {
    std::array<std::uint8_t, 4096> t{};
    for (unsigned i = 0; i < t.size(); ++i) t[i] = rule_for(i >> 8, i & 0xFFu);
    return t;
}();

// word_count_of() without a memory access: the sixteen sizes minus one, two bits
// each, held in one constant. Stepping from packet to packet is a chain of dependent
// operations (load a word, find its size, add) that bounds the reader's speed; a
// table load in that chain would lengthen it.
inline constexpr std::uint32_t packed_word_counts = [] {
    std::uint32_t bits = 0;
    for (unsigned t = 0; t < 16; ++t) bits |= (word_count_table[t] - 1u) << (2 * t);
    return bits;
}();

[[nodiscard]] constexpr unsigned packet_words(std::uint32_t w0) noexcept {
    return ((packed_word_counts >> ((w0 >> 28) * 2)) & 3u) + 1u;
}

// keep_words[n - 1][i]: all ones for the words of an n-word packet, zero past it.
// A mask from a table (rather than n > i) stays a plain AND: compilers turn a
// comparison into a branch per word.
inline constexpr std::array<std::array<std::uint32_t, max_packet_words>, max_packet_words> keep_words{{
    {0xFFFFFFFFu, 0u, 0u, 0u},
    {0xFFFFFFFFu, 0xFFFFFFFFu, 0u, 0u},
    {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0u},
    {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu},
}};

// p points at n >= 1 readable words, n being the packet's size.
[[nodiscard]] constexpr read_error check_words(const std::uint32_t* p, unsigned n) noexcept {
    const std::uint32_t w0 = p[0];
    const unsigned rule = packet_rule_index[rule_index_of(w0)];
    // Word 1 is only read when the packet has one; single-word packets re-read word 0,
    // and their rules have no word-1 mask. Keeps the check free of branches.
    const std::uint64_t w1 = p[static_cast<std::size_t>(n > 1)];
    return ((w0 | (w1 << 32)) & packet_rule_masks[rule]) != 0 ? packet_rule_errors[rule] : read_error::none;
}

}  // namespace detail

// Checks one complete packet by the rules above (never truncated).
[[nodiscard]] constexpr read_error check_packet(const packet& p) noexcept {
    return detail::check_words(p.words.data(), p.size());
}

struct read_result {
    // The packet's words; for a truncated packet, the words that were there (the rest zero).
    umpd::core::packet packet;
    std::size_t offset = 0;  // in words, from the start of the buffer
    read_error error = read_error::none;
};

// Iterates over a buffer the caller keeps alive for the reader's lifetime.
class reader {
public:
    constexpr reader() noexcept = default;
    constexpr explicit reader(std::span<const std::uint32_t> words) noexcept : words_{words} {}

    // The next packet, or nullopt at the end. After a truncated packet the reader is
    // at the end. After a malformed one it continues with the packet that follows.
    // Forced inline: clang otherwise calls it, and the call and the result going
    // through memory double the time per packet.
    [[nodiscard]] [[gnu::always_inline]] constexpr std::optional<read_result> next() noexcept {
        const std::size_t pos = pos_;
        if (words_.size() - pos < max_packet_words) return next_near_end();
        // Four words are readable: copy them all and zero those past the packet with
        // masks, so the hot path has no loop and no branch that depends on the data.
        const std::uint32_t* p = words_.data() + pos;
        const unsigned n = detail::packet_words(p[0]);
        read_result r;
        r.offset = pos;
        const auto& keep = detail::keep_words[n - 1];
        for (unsigned i = 0; i < max_packet_words; ++i) r.packet.words[i] = p[i] & keep[i];
        r.error = detail::check_words(p, n);
        pos_ = pos + n;
        return r;
    }

    // Word offset of the next packet.
    [[nodiscard]] constexpr std::size_t offset() const noexcept { return pos_; }
    [[nodiscard]] constexpr std::size_t remaining() const noexcept { return words_.size() - pos_; }
    [[nodiscard]] constexpr bool done() const noexcept { return pos_ >= words_.size(); }

private:
    // The last few words, where a packet may run past the end. Kept out of line so
    // that the inlined next() stays small.
    [[nodiscard]] [[gnu::noinline]] constexpr std::optional<read_result> next_near_end() noexcept {
        const std::size_t size = words_.size();
        const std::size_t pos = pos_;
        if (pos >= size) return std::nullopt;
        const std::uint32_t* p = words_.data() + pos;
        const unsigned n = detail::packet_words(p[0]);
        read_result r;
        r.offset = pos;
        const std::size_t available = n > size - pos ? size - pos : n;
        for (std::size_t i = 0; i < available; ++i) r.packet.words[i] = p[i];
        if (n > size - pos) {
            r.error = read_error::truncated;
            pos_ = size;
            return r;
        }
        r.error = detail::check_words(p, n);
        pos_ = pos + n;
        return r;
    }

    std::span<const std::uint32_t> words_{};
    std::size_t pos_ = 0;
};

struct validation_result {
    read_error error = read_error::none;
    std::size_t offset = 0;  // where the first bad packet starts; the buffer's size if none
    [[nodiscard]] constexpr bool ok() const noexcept { return error == read_error::none; }
};

// The first truncated or malformed packet of a buffer, if any. Picks the fastest
// kernel the CPU has (see below) once; every kernel gives the same result.
[[nodiscard]] validation_result validate(std::span<const std::uint32_t> words) noexcept;

namespace detail {

// validate()'s kernels, public so that tests and the fuzzer can hold them against
// each other on the same input.

// The portable path, from pos on; pos must be where a packet starts (0 for a whole
// buffer; a pos past the end is taken as the end). It also finishes the SIMD
// kernel's work: the last few words, and naming the first error.
[[nodiscard]] validation_result validate_from(std::span<const std::uint32_t> words, std::size_t pos) noexcept;

// True on x86-64 processors with AVX2, BMI1 and BMI2, where validate() uses validate_avx2().
[[nodiscard]] bool avx2_kernel_usable() noexcept;

// Eight words a step with AVX2. Falls back to the portable path where
// avx2_kernel_usable() is false, so it is safe to call anywhere.
[[nodiscard]] validation_result validate_avx2(std::span<const std::uint32_t> words) noexcept;

}  // namespace detail

}  // namespace umpd::core
