// validate() eight words at a time with AVX2, chosen at run time (the distribution's
// baseline is plain x86-64). The portable path in reader.cpp is the reference: this
// kernel only finds how far the buffer is certainly good, and hands the rest (the
// last words, and naming the first error) to detail::validate_from().
#include "umpd/core/reader.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define UMPD_READER_AVX2 1
#include <immintrin.h>
#endif

#include <array>
#include <cstdint>

namespace umpd::core::detail {

#if UMPD_READER_AVX2

namespace {

// Every word is checked as if it started a packet; a table then keeps the verdicts
// of the words that really do. A word's check is one 32-bit rule, fetched by a
// gather with the index (status byte << 4) | message type:
//   bits 31, 23, 15, 7   must be zero in the next word (as packet_rule_masks' high half);
//   bits 14, 6           bits 15 and 7 of the word itself, shifted right by one;
//   bits 30..27          refused outright: the word shifted right by one has its type
//                        there, and every refusable type (0x1..0x5) is non-zero.
// So a word w with next word n is bad when
//   (((n & 0x80808080) | ((w >> 1) & 0x78004040)) & rule) != 0.
constexpr std::uint32_t next_word_bits = 0x80808080u;
constexpr std::uint32_t own_word_bits = 0x78004040u;

constexpr std::uint32_t packed_rule(std::uint64_t mask) {
    const auto own = static_cast<std::uint32_t>(mask);
    const auto next = static_cast<std::uint32_t>(mask >> 32);
    if (own == 0xFFFFFFFFu) return 0x78000000u;
    return next | (own >> 1);
}

// Word 0 masks are "everything" or a subset of bits 15 and 7; word 1 masks only hold
// byte high bits. Anything else would not survive the packing above.
constexpr bool rules_pack() {
    for (const std::uint64_t m : packet_rule_masks) {
        const auto own = static_cast<std::uint32_t>(m);
        const auto next = static_cast<std::uint32_t>(m >> 32);
        if (own != 0xFFFFFFFFu && (own & ~0x8080u) != 0) return false;
        if ((next & ~next_word_bits) != 0) return false;
        if (own == 0xFFFFFFFFu && next != 0) return false;
    }
    return true;
}
static_assert(rules_pack());

alignas(64) constexpr std::array<std::uint32_t, 4096> packed_rules = [] {
    std::array<std::uint32_t, 4096> t{};
    for (unsigned status = 0; status < 256; ++status)
        for (unsigned type = 0; type < 16; ++type)
            t[(status << 4) | type] = packed_rule(packet_rule_masks[rule_for(type, status)]);
    return t;
}();

// Word counts without a table: shifting this constant left by the type puts bit
// (31 - type) in the sign bit, which a pack and movemask collect. One constant for
// each bit of the size code (word count - 1).
constexpr std::uint32_t size_code_bit(unsigned bit) {
    std::uint32_t c = 0;
    for (unsigned t = 0; t < 16; ++t)
        if ((((packed_word_counts >> (2 * t)) >> bit) & 1u) != 0) c |= 1u << (31 - t);
    return c;
}

// For four consecutive words, with key bits 0..3 holding bit 0 of each word's size
// code and bits 4..7 bit 1, and for each offset e (0..3) at which the first packet of
// the four starts, a 16-bit field at bit 16 * e:
//   bits 0..3  which of the four words start packets;
//   bits 4..5  at which offset the first packet of the next four words starts.
// The loop-carried work per four words is then a shift and a mask: (e * 16) selects
// the field, and the field's bits 4..5, masked in place, are the next (e * 16).
constexpr std::array<std::uint64_t, 256> block_fields = [] {
    std::array<std::uint64_t, 256> t{};
    for (unsigned key = 0; key < 256; ++key) {
        for (unsigned e = 0; e < 4; ++e) {
            unsigned pos = e;
            unsigned starts = 0;
            while (pos < 4) {
                starts |= 1u << pos;
                const unsigned code = ((key >> pos) & 1u) | (((key >> (4 + pos)) & 1u) << 1);
                pos += code + 1;
            }
            t[key] |= std::uint64_t{starts | ((pos - 4) << 4)} << (16 * e);
        }
    }
    return t;
}();

[[gnu::target("avx2,bmi,bmi2")]] validation_result validate_avx2_kernel(std::span<const std::uint32_t> words) noexcept {
    const std::uint32_t* const data = words.data();
    const std::size_t size = words.size();
    const __m256i next_mask = _mm256_set1_epi32(static_cast<int>(next_word_bits));
    const __m256i own_mask = _mm256_set1_epi32(static_cast<int>(own_word_bits));
    const __m256i status_mask = _mm256_set1_epi32(0xFF0);
    const __m256i code_bit0 = _mm256_set1_epi32(static_cast<int>(size_code_bit(0)));
    const __m256i code_bit1 = _mm256_set1_epi32(static_cast<int>(size_code_bit(1)));
    const __m256i zero = _mm256_setzero_si256();
    const int* const rules = reinterpret_cast<const int*>(packed_rules.data());

    std::size_t pos = 0;   // a multiple of 8
    unsigned entry = 0;    // 16 * (offset of the first packet start at or after pos)
    // Words pos..pos+7 may start packets, which end by pos+10: with 11 words left every
    // read (the next-word load reaches pos+8) stays in the buffer and no packet
    // started here can be truncated.
    while (size - pos >= 11) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + pos));
        const __m256i n = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + pos + 1));
        const __m256i type = _mm256_srli_epi32(w, 28);
        const __m256i index = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(w, 12), status_mask), type);
        const __m256i rule = _mm256_i32gather_epi32(rules, index, 4);
        const __m256i hits = _mm256_or_si256(_mm256_and_si256(n, next_mask),
                                             _mm256_and_si256(_mm256_srli_epi32(w, 1), own_mask));
        const __m256i good = _mm256_cmpeq_epi32(_mm256_and_si256(hits, rule), zero);
        // Signed packs keep each lane's sign. Per 128-bit half they give bytes
        // [code bit 0 x4, code bit 1 x4, good x4, good x4], so the movemask holds words
        // 0..3 in bits 0..15 and words 4..7 in bits 16..31.
        const __m256i codes = _mm256_packs_epi32(_mm256_sllv_epi32(code_bit0, type), _mm256_sllv_epi32(code_bit1, type));
        const auto m = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_packs_epi16(codes, _mm256_packs_epi32(good, good))));

        const std::uint64_t low = block_fields[m & 0xFFu] >> entry;
        if ((low & ~(m >> 8) & 0xFu) != 0) return validate_from(words, pos + entry / 16);
        entry = static_cast<unsigned>(low) & 0x30u;
        const std::uint64_t high = block_fields[(m >> 16) & 0xFFu] >> entry;
        if ((high & ~(m >> 24) & 0xFu) != 0) return validate_from(words, pos + 4 + entry / 16);
        entry = static_cast<unsigned>(high) & 0x30u;
        pos += 8;
    }
    return validate_from(words, pos + entry / 16);
}

}  // namespace

bool avx2_kernel_usable() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
}

validation_result validate_avx2(std::span<const std::uint32_t> words) noexcept {
    static const bool usable = avx2_kernel_usable();
    return usable ? validate_avx2_kernel(words) : validate_from(words, 0);
}

#else

bool avx2_kernel_usable() noexcept { return false; }

validation_result validate_avx2(std::span<const std::uint32_t> words) noexcept { return validate_from(words, 0); }

#endif

}  // namespace umpd::core::detail
