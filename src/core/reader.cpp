#include "umpd/core/reader.hpp"

#include <array>

namespace umpd::core {

const char* to_string(read_error e) noexcept {
    switch (e) {
    case read_error::none: return "none";
    case read_error::truncated: return "truncated";
    case read_error::malformed_status: return "malformed_status";
    case read_error::malformed_byte_count: return "malformed_byte_count";
    case read_error::malformed_data_byte: return "malformed_data_byte";
    }
    return "unknown";
}

namespace {

// validate() walks four words at a time. Given the sizes of the packets that would
// start at each of four consecutive words (two bits each, the key), this table says
// which of the four really start a packet (bits 4..7) and how far the last of them
// reaches (bits 0..3: 4 to 7 words; a step always covers at least the four words).
// One dependent chain step per four words instead of one per packet.
constexpr std::array<std::uint8_t, 256> block_steps = [] {
    std::array<std::uint8_t, 256> t{};
    for (unsigned key = 0; key < 256; ++key) {
        unsigned pos = 0;
        unsigned starts = 0;
        while (pos < 4) {
            starts |= 1u << pos;
            pos += ((key >> (2 * pos)) & 3u) + 1u;
        }
        t[key] = static_cast<std::uint8_t>(pos | (starts << 4));
    }
    return t;
}();

// The check of detail::check_words for a word that may or may not start a packet;
// next is the word after it (always readable inside a block).
inline std::uint64_t bad_bits(std::uint32_t w, std::uint32_t next) noexcept {
    return (w | (std::uint64_t{next} << 32)) & detail::packet_rule_masks[detail::packet_rule_index[detail::rule_index_of(w)]];
}

inline unsigned size_code(std::uint32_t w) noexcept { return (detail::packed_word_counts >> ((w >> 28) * 2)) & 3u; }

}  // namespace

namespace detail {

validation_result validate_from(std::span<const std::uint32_t> words, std::size_t pos) noexcept {
    const std::uint32_t* const data = words.data();
    const std::size_t size = words.size();
    if (pos > size) pos = size;  // not a packet start; keeps the arithmetic below in range

    // Blocks: words pos..pos+3 are inspected, the packets starting there end by pos+7,
    // so pos + 8 <= size keeps every read (the word after pos+3 included) in bounds.
    while (size - pos >= 8) {
        const std::uint32_t* p = data + pos;
        const std::uint32_t w0 = p[0], w1 = p[1], w2 = p[2], w3 = p[3], w4 = p[4];
        const unsigned key = size_code(w0) | (size_code(w1) << 2) | (size_code(w2) << 4) | (size_code(w3) << 6);
        const unsigned step = block_steps[key];
        // Check all four words and keep the verdicts of those that start packets:
        // no branch per packet, one rarely taken branch per block.
        const std::uint64_t bad = (bad_bits(w0, w1) & (0u - std::uint64_t{(step >> 4) & 1u})) |
                                  (bad_bits(w1, w2) & (0u - std::uint64_t{(step >> 5) & 1u})) |
                                  (bad_bits(w2, w3) & (0u - std::uint64_t{(step >> 6) & 1u})) |
                                  (bad_bits(w3, w4) & (0u - std::uint64_t{(step >> 7) & 1u}));
        if (bad != 0) break;  // the packet-by-packet loop below names the error
        pos += step & 0xFu;
    }

    while (pos < size) {
        const unsigned n = detail::packet_words(data[pos]);
        if (n > size - pos) return {read_error::truncated, pos};
        const read_error e = detail::check_words(data + pos, n);
        if (e != read_error::none) return {e, pos};
        pos += n;
    }
    return {read_error::none, size};
}

}  // namespace detail

validation_result validate(std::span<const std::uint32_t> words) noexcept {
    // Asked once: a function-local static costs one well-predicted load per call.
    static const bool use_avx2 = detail::avx2_kernel_usable();
    return use_avx2 ? detail::validate_avx2(words) : detail::validate_from(words, 0);
}

}  // namespace umpd::core
