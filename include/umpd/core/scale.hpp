// Value scaling between MIDI 1.0 and MIDI 2.0 resolutions: the "min-center-max"
// method of the UMP 1.1 specification (translation appendix) and of "MIDI 2.0 Bit
// Scaling and Resolution" (M2-115-U).
//
// Why min-center-max and not a plain shift: a shift maps the 7-bit maximum 127 to
// 0xFE00, so a fader at full travel would never reach full scale in MIDI 2.0. Values
// up to the centre are shifted (so 64 stays exactly at centre 0x8000); values above
// the centre get their low bits filled by repeating the source's lower bits, which
// ramps them to all ones at the maximum. Downscaling is a plain shift, and the pair
// round-trips: scale_down(scale_up(v, s, d), d, s) == v for every v.
//
// Everything here is constexpr, allocation-free and real-time safe.
#pragma once

#include <cstdint>

namespace umpd::core {

// value: the low src_bits bits are used (higher bits are ignored).
// Requires 1 <= src_bits <= dst_bits <= 32.
[[nodiscard]] constexpr std::uint32_t scale_up(std::uint32_t value, unsigned src_bits, unsigned dst_bits) noexcept {
    if (src_bits == 0 || src_bits > dst_bits || dst_bits > 32) return 0;  // outside the contract
    const std::uint32_t src_max = src_bits == 32 ? 0xFFFFFFFFu : (std::uint32_t{1} << src_bits) - 1u;
    value &= src_max;
    if (src_bits == dst_bits) return value;
    const std::uint32_t dst_max = dst_bits == 32 ? 0xFFFFFFFFu : (std::uint32_t{1} << dst_bits) - 1u;
    // A 1-bit value is a switch: off or fully on.
    if (src_bits == 1) return value != 0 ? dst_max : 0;

    const unsigned shift = dst_bits - src_bits;
    const std::uint32_t shifted = value << shift;
    const std::uint32_t centre = std::uint32_t{1} << (src_bits - 1);
    if (value <= centre) return shifted;

    // Above the centre: repeat the bits below the source's top bit, aligned just
    // under the shifted value, until they run out.
    const unsigned repeat_bits = src_bits - 1;
    std::uint32_t repeat = value & (centre - 1u);
    repeat = shift > repeat_bits ? repeat << (shift - repeat_bits) : repeat >> (repeat_bits - shift);
    std::uint32_t result = shifted;
    while (repeat != 0) {
        result |= repeat;
        repeat >>= repeat_bits;
    }
    return result;
}

// Requires 1 <= dst_bits <= src_bits <= 32; value's bits above src_bits are ignored.
[[nodiscard]] constexpr std::uint32_t scale_down(std::uint32_t value, unsigned src_bits, unsigned dst_bits) noexcept {
    if (dst_bits == 0 || dst_bits > src_bits || src_bits > 32) return 0;  // outside the contract
    if (src_bits < 32) value &= (std::uint32_t{1} << src_bits) - 1u;
    return value >> (src_bits - dst_bits);
}

// Closed forms of scale_up for the three widenings the translators use on every
// message: the loop above unrolled by hand, and the "above centre?" test turned into
// a mask, so the hot path has neither loop nor branch. They equal scale_up for every
// input (checked exhaustively in tests/core/scale_test.cpp).
[[nodiscard]] constexpr std::uint16_t scale_up_7_to_16(std::uint32_t v) noexcept {
    v &= 0x7Fu;
    const std::uint32_t r = (v & 0x3Fu) & (0u - static_cast<std::uint32_t>(v > 0x40u));
    return static_cast<std::uint16_t>((v << 9) | (r << 3) | (r >> 3));
}
[[nodiscard]] constexpr std::uint32_t scale_up_7_to_32(std::uint32_t v) noexcept {
    v &= 0x7Fu;
    const std::uint32_t r = (v & 0x3Fu) & (0u - static_cast<std::uint32_t>(v > 0x40u));
    return (v << 25) | (r << 19) | (r << 13) | (r << 7) | (r << 1) | (r >> 5);
}
[[nodiscard]] constexpr std::uint32_t scale_up_14_to_32(std::uint32_t v) noexcept {
    v &= 0x3FFFu;
    const std::uint32_t r = (v & 0x1FFFu) & (0u - static_cast<std::uint32_t>(v > 0x2000u));
    return (v << 18) | (r << 5) | (r >> 8);
}

// Key points of the method: minimum, centre and maximum map onto themselves.
static_assert(scale_up(0, 7, 16) == 0 && scale_up(0x40, 7, 16) == 0x8000 && scale_up(0x7F, 7, 16) == 0xFFFF);
static_assert(scale_up(0, 7, 32) == 0 && scale_up(0x40, 7, 32) == 0x80000000u && scale_up(0x7F, 7, 32) == 0xFFFFFFFFu);
static_assert(scale_up(0, 14, 32) == 0 && scale_up(0x2000, 14, 32) == 0x80000000u &&
              scale_up(0x3FFF, 14, 32) == 0xFFFFFFFFu);
static_assert(scale_up(1, 1, 32) == 0xFFFFFFFFu && scale_up(0, 1, 32) == 0);
static_assert(scale_up_7_to_16(0x7F) == 0xFFFF && scale_up_7_to_32(0x7F) == 0xFFFFFFFFu &&
              scale_up_14_to_32(0x3FFF) == 0xFFFFFFFFu);
static_assert(scale_up_7_to_16(0x40) == 0x8000 && scale_up_7_to_32(0x40) == 0x80000000u &&
              scale_up_14_to_32(0x2000) == 0x80000000u);
static_assert(scale_down(0xFFFF, 16, 7) == 0x7F && scale_down(0x80000000u, 32, 7) == 0x40 &&
              scale_down(0xFFFFFFFFu, 32, 14) == 0x3FFF);
namespace detail {
// Every 7-bit value round-trips through both widenings.
consteval bool seven_bit_round_trips() {
    for (std::uint32_t v = 0; v < 128; ++v) {
        if (scale_down(scale_up(v, 7, 16), 16, 7) != v || scale_down(scale_up(v, 7, 32), 32, 7) != v) return false;
        if (scale_up_7_to_16(v) != scale_up(v, 7, 16) || scale_up_7_to_32(v) != scale_up(v, 7, 32)) return false;
    }
    return true;
}
}  // namespace detail
static_assert(detail::seven_bit_round_trips());

}  // namespace umpd::core
