#include "umpd/core/scale.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "vector_file.hpp"

namespace {

using namespace umpd::core;

std::uint32_t hex(const std::string& s) { return static_cast<std::uint32_t>(std::stoul(s, nullptr, 16)); }
unsigned dec(const std::string& s) { return static_cast<unsigned>(std::stoul(s, nullptr, 10)); }

TEST(scale, vectors) {
    const auto cases = umpd::test::load_vectors("scale.txt");
    for (const auto& c : cases) {
        SCOPED_TRACE(c.where());
        ASSERT_EQ(c.fields.size(), 5u);
        const unsigned src = dec(c.fields[1]);
        const unsigned dst = dec(c.fields[2]);
        const std::uint32_t value = hex(c.fields[3]);
        const std::uint32_t expected = hex(c.fields[4]);
        if (c.fields[0] == "up") {
            EXPECT_EQ(scale_up(value, src, dst), expected);
        } else {
            ASSERT_EQ(c.fields[0], "down");
            EXPECT_EQ(scale_down(value, src, dst), expected);
        }
    }
}

// The closed forms used on the hot path equal the general method for every input,
// and each widening is monotonic, hits min/centre/max, and round-trips.
template <unsigned Src, unsigned Dst, class Closed>
void check_widening(Closed closed) {
    const std::uint32_t max = (std::uint32_t{1} << Src) - 1u;
    std::uint32_t previous = 0;
    for (std::uint32_t v = 0; v <= max; ++v) {
        const std::uint32_t up = scale_up(v, Src, Dst);
        ASSERT_EQ(static_cast<std::uint32_t>(closed(v)), up) << "value " << v;
        ASSERT_EQ(scale_down(up, Dst, Src), v) << "value " << v;
        if (v > 0) {
            ASSERT_GT(up, previous) << "value " << v;
        }
        previous = up;
    }
    const std::uint32_t dst_max = Dst == 32 ? 0xFFFFFFFFu : (std::uint32_t{1} << Dst) - 1u;
    EXPECT_EQ(scale_up(0, Src, Dst), 0u);
    EXPECT_EQ(scale_up(std::uint32_t{1} << (Src - 1), Src, Dst), std::uint32_t{1} << (Dst - 1));
    EXPECT_EQ(scale_up(max, Src, Dst), dst_max);
}

TEST(scale, seven_to_sixteen_exhaustive) { check_widening<7, 16>(scale_up_7_to_16); }
TEST(scale, seven_to_thirty_two_exhaustive) { check_widening<7, 32>(scale_up_7_to_32); }
TEST(scale, fourteen_to_thirty_two_exhaustive) { check_widening<14, 32>(scale_up_14_to_32); }

TEST(scale, below_centre_is_a_plain_shift) {
    for (std::uint32_t v = 0; v <= 0x2000; ++v) ASSERT_EQ(scale_up(v, 14, 32), v << 18);
    for (std::uint32_t v = 0; v <= 0x40; ++v) ASSERT_EQ(scale_up(v, 7, 16), v << 9);
}

TEST(scale, round_trip_for_every_width_pair) {
    for (unsigned src = 2; src <= 12; ++src) {
        for (unsigned dst = src; dst <= 32; ++dst) {
            for (std::uint32_t v = 0; v < (std::uint32_t{1} << src); ++v) {
                ASSERT_EQ(scale_down(scale_up(v, src, dst), dst, src), v) << src << "->" << dst << " value " << v;
            }
        }
    }
}

TEST(scale, ignores_bits_above_the_source_width) {
    EXPECT_EQ(scale_up(0x80 | 0x40, 7, 16), 0x8000u);
    EXPECT_EQ(scale_up_7_to_32(0xFF), 0xFFFFFFFFu);
    EXPECT_EQ(scale_up_14_to_32(0xC000), 0u);
    EXPECT_EQ(scale_down(0x1FFFF, 16, 7), 0x7Fu);
}

TEST(scale, one_bit_is_a_switch) {
    EXPECT_EQ(scale_up(0, 1, 7), 0u);
    EXPECT_EQ(scale_up(1, 1, 7), 0x7Fu);
    EXPECT_EQ(scale_up(1, 1, 32), 0xFFFFFFFFu);
    EXPECT_EQ(scale_down(0x7F, 7, 1), 1u);
    EXPECT_EQ(scale_down(0x3F, 7, 1), 0u);
}

TEST(scale, out_of_contract_widths_give_zero) {
    EXPECT_EQ(scale_up(5, 0, 7), 0u);
    EXPECT_EQ(scale_up(5, 8, 7), 0u);
    EXPECT_EQ(scale_up(5, 7, 33), 0u);
    EXPECT_EQ(scale_down(5, 7, 8), 0u);
    EXPECT_EQ(scale_down(5, 7, 0), 0u);
}

TEST(scale, same_width_is_identity) {
    EXPECT_EQ(scale_up(0xDEADBEEF, 32, 32), 0xDEADBEEFu);
    EXPECT_EQ(scale_down(0xDEADBEEF, 32, 32), 0xDEADBEEFu);
    EXPECT_EQ(scale_up(0x55, 7, 7), 0x55u);
}

}  // namespace
