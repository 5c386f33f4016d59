#include "umpd/core/packet.hpp"

#include <gtest/gtest.h>

#include "vector_file.hpp"

// Explicit instantiations: a template that no test names could hide a compile error.
template std::uint32_t umpd::core::field<31, 0>(std::uint32_t) noexcept;
template std::uint32_t umpd::core::field<31, 28>(std::uint32_t) noexcept;
template std::uint32_t umpd::core::field<0, 0>(std::uint32_t) noexcept;
template std::uint32_t umpd::core::with_field<31, 0>(std::uint32_t, std::uint32_t) noexcept;
template std::uint32_t umpd::core::with_field<7, 0>(std::uint32_t, std::uint32_t) noexcept;

namespace umpd::core {
namespace {

TEST(Packet, SizeOfEveryMessageTypeFollowsTheSpecificationTable) {
    // tests/vectors/packet_sizes.txt: message type nibble | words
    for (const auto& c : test::load_vectors("packet_sizes.txt")) {
        const auto mt = std::stoul(c.fields.at(0), nullptr, 16);
        const auto words = std::stoul(c.fields.at(1));
        EXPECT_EQ(word_count(static_cast<message_type>(mt)), words) << c.where();
        EXPECT_EQ(word_count_of(static_cast<std::uint32_t>(mt << 28) | 0x0ABCDEFu), words) << c.where();
        EXPECT_EQ(packet(static_cast<std::uint32_t>(mt << 28)).size(), words) << c.where();
    }
}

TEST(Packet, ReservedTypesAreKnownAsReserved) {
    for (unsigned mt = 0; mt < 16; ++mt) {
        const bool reserved = (mt >= 0x6 && mt <= 0xC) || mt == 0xE;
        EXPECT_EQ(is_reserved(static_cast<message_type>(mt)), reserved) << mt;
    }
}

TEST(Packet, FieldReadsBitsAsTheSpecificationNumbersThem) {
    constexpr std::uint32_t w = 0x4A93'3C7Fu;
    static_assert(field<31, 28>(w) == 0x4);
    static_assert(field<27, 24>(w) == 0xA);
    static_assert(field<23, 20>(w) == 0x9);
    static_assert(field<19, 16>(w) == 0x3);
    static_assert(field<15, 8>(w) == 0x3C);
    static_assert(field<6, 0>(w) == 0x7F);
    static_assert(field<31, 0>(w) == w);
    EXPECT_EQ((field<0, 0>(w)), 1u);
    EXPECT_EQ((field<7, 7>(w)), 0u);
}

TEST(Packet, WithFieldReplacesOnlyItsBitsAndMasksTheValue) {
    EXPECT_EQ((with_field<27, 24>(0x20903C64u, 0x5)), 0x25903C64u);
    EXPECT_EQ((with_field<6, 0>(0xFFFFFFFFu, 0x00)), 0xFFFFFF80u);
    EXPECT_EQ((with_field<6, 0>(0u, 0xFF)), 0x7Fu);  // masked to 7 bits
    EXPECT_EQ((with_field<31, 0>(0x12345678u, 0xCAFEBABEu)), 0xCAFEBABEu);
}

TEST(Packet, EqualityLooksOnlyAtTheWordsThatBelongToThePacket) {
    // A one-word packet with garbage beyond its size equals the clean one.
    EXPECT_EQ(packet(0x20903C64u, 0xDEADBEEFu), packet(0x20903C64u));
    EXPECT_NE(packet(0x40903C00u, 0xC8000000u), packet(0x40903C00u, 0xC8000001u));
    EXPECT_NE(packet(0x20903C64u), packet(0x20903C65u));
}

TEST(Packet, FromWordsTakesExactlyThePacketsWords) {
    const std::uint32_t buf[] = {0xF0030000u, 0x756D7064u, 0x20566972u, 0x7475616Cu, 0x11111111u};
    const auto p = packet::from_words(buf);
    EXPECT_EQ(p.size(), 4u);
    EXPECT_EQ(p.words[3], 0x7475616Cu);
    const std::uint32_t one[] = {0x20903C64u, 0x99999999u};
    EXPECT_EQ(packet::from_words(one).words[1], 0u);
    EXPECT_EQ(packet::from_words({}).size(), 1u);  // the empty packet is a NOOP
}

TEST(Packet, GroupFieldAndGrouplessTypes) {
    EXPECT_EQ(packet(0x2B903C64u).group_field(), group{0xB});
    EXPECT_FALSE(has_group(message_type::utility));
    EXPECT_FALSE(has_group(message_type::ump_stream));
    EXPECT_TRUE(has_group(message_type::flex_data));
    EXPECT_TRUE(has_group(message_type::data128));
}

}  // namespace
}  // namespace umpd::core
