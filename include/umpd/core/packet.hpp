// UMP packet value type, message types and field access.
// Per "Universal MIDI Packet (UMP) Format and MIDI 2.0 Protocol", version 1.1.
// Every function here is real-time safe: no allocation, no locks, no syscalls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace umpd::core {

// The message type lives in the top nibble of a packet's first word; it alone
// decides the packet's size, so a parser can step over types it does not know.
enum class message_type : std::uint8_t {
    utility = 0x0,
    system = 0x1,               // system common and system real time
    midi1_channel_voice = 0x2,
    data64 = 0x3,               // 7-bit SysEx
    midi2_channel_voice = 0x4,
    data128 = 0x5,              // 8-bit SysEx and mixed data sets
    reserved_6 = 0x6,
    reserved_7 = 0x7,
    reserved_8 = 0x8,
    reserved_9 = 0x9,
    reserved_a = 0xA,
    reserved_b = 0xB,
    reserved_c = 0xC,
    flex_data = 0xD,
    reserved_e = 0xE,
    ump_stream = 0xF,
};

// Words per packet, indexed by message type (UMP 1.1, table 2).
inline constexpr std::array<std::uint8_t, 16> word_count_table{
    1, 1, 1, 2, 2, 4, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4};
static_assert(word_count_table[0x0] == 1 && word_count_table[0x1] == 1 && word_count_table[0x2] == 1);
static_assert(word_count_table[0x3] == 2 && word_count_table[0x4] == 2 && word_count_table[0x5] == 4);
static_assert(word_count_table[0x6] == 1 && word_count_table[0x7] == 1);
static_assert(word_count_table[0x8] == 2 && word_count_table[0x9] == 2 && word_count_table[0xA] == 2);
static_assert(word_count_table[0xB] == 3 && word_count_table[0xC] == 3);
static_assert(word_count_table[0xD] == 4 && word_count_table[0xE] == 4 && word_count_table[0xF] == 4);

inline constexpr std::size_t max_packet_words = 4;

[[nodiscard]] constexpr unsigned word_count(message_type t) noexcept {
    return word_count_table[static_cast<std::uint8_t>(t) & 0xFu];
}

[[nodiscard]] constexpr message_type type_of(std::uint32_t first_word) noexcept {
    return static_cast<message_type>(first_word >> 28);
}

[[nodiscard]] constexpr unsigned word_count_of(std::uint32_t first_word) noexcept {
    return word_count_table[first_word >> 28];
}

[[nodiscard]] constexpr bool is_reserved(message_type t) noexcept {
    switch (t) {
    case message_type::reserved_6: case message_type::reserved_7: case message_type::reserved_8:
    case message_type::reserved_9: case message_type::reserved_a: case message_type::reserved_b:
    case message_type::reserved_c: case message_type::reserved_e:
        return true;
    default:
        return false;
    }
}

// Compile-time bit-field access: field<Hi, Lo>(word) reads bits Hi..Lo inclusive,
// numbered as the specification draws them (bit 31 is the most significant).
template <unsigned Hi, unsigned Lo>
[[nodiscard]] constexpr std::uint32_t field(std::uint32_t word) noexcept {
    static_assert(Hi < 32 && Lo <= Hi);
    constexpr unsigned width = Hi - Lo + 1;
    if constexpr (width == 32) {
        return word;
    } else {
        return (word >> Lo) & ((std::uint32_t{1} << width) - 1u);
    }
}

// Returns word with bits Hi..Lo replaced by value (masked to the field's width).
template <unsigned Hi, unsigned Lo>
[[nodiscard]] constexpr std::uint32_t with_field(std::uint32_t word, std::uint32_t value) noexcept {
    static_assert(Hi < 32 && Lo <= Hi);
    constexpr unsigned width = Hi - Lo + 1;
    if constexpr (width == 32) {
        return value;
    } else {
        constexpr std::uint32_t mask = ((std::uint32_t{1} << width) - 1u) << Lo;
        return (word & ~mask) | ((value << Lo) & mask);
    }
}

// Strong types for the two fields whose 0-based/1-based confusion costs users the
// most. Code holds 0..15; only text meant for people adds one.
struct group {
    std::uint8_t index = 0;  // 0..15
    friend constexpr bool operator==(group, group) = default;
};
struct channel {
    std::uint8_t index = 0;  // 0..15
    friend constexpr bool operator==(channel, channel) = default;
};

// One UMP packet, held by value. Words past size() are zero in every packet this
// library builds; comparisons look only at the words that belong to the packet.
struct packet {
    std::array<std::uint32_t, max_packet_words> words{};

    constexpr packet() = default;
    constexpr explicit packet(std::uint32_t w0, std::uint32_t w1 = 0, std::uint32_t w2 = 0,
                              std::uint32_t w3 = 0) noexcept
        : words{w0, w1, w2, w3} {}

    // Builds a packet from the first word_count_of(words[0]) words of a span that
    // the caller has checked is long enough.
    [[nodiscard]] static constexpr packet from_words(std::span<const std::uint32_t> w) noexcept {
        packet p;
        const unsigned n = w.empty() ? 0u : word_count_of(w[0]);
        for (unsigned i = 0; i < n && i < w.size(); ++i) p.words[i] = w[i];
        return p;
    }

    [[nodiscard]] constexpr message_type type() const noexcept { return type_of(words[0]); }
    [[nodiscard]] constexpr unsigned size() const noexcept { return word_count_of(words[0]); }
    [[nodiscard]] constexpr std::uint32_t operator[](std::size_t i) const noexcept { return words[i]; }
    [[nodiscard]] constexpr std::span<const std::uint32_t> span() const noexcept {
        return {words.data(), size()};
    }
    // The group field of message types that carry one (bits 27..24). Utility and
    // UMP stream messages are groupless; see has_group().
    [[nodiscard]] constexpr group group_field() const noexcept {
        return group{static_cast<std::uint8_t>(field<27, 24>(words[0]))};
    }

    friend constexpr bool operator==(const packet& a, const packet& b) noexcept {
        if (a.words[0] != b.words[0]) return false;
        for (unsigned i = 1; i < a.size(); ++i)
            if (a.words[i] != b.words[i]) return false;
        return true;
    }
};

// Message types whose bits 27..24 are a group.
[[nodiscard]] constexpr bool has_group(message_type t) noexcept {
    return t != message_type::utility && t != message_type::ump_stream;
}

}  // namespace umpd::core
