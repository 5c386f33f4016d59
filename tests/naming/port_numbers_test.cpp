// Stable port numbers: kept per key across rebuilds and restores, lowest free first,
// sources and destinations numbered apart, persisted state validated.
#include <gtest/gtest.h>

#include <random>

#include "umpd/naming/port_numbers.hpp"

namespace {

using namespace umpd::naming;
constexpr auto src = port_direction::source;
constexpr auto dst = port_direction::destination;

TEST(port_numbers, lowest_free_per_direction) {
    port_numbers n;
    EXPECT_EQ(n.assign("usb:A", 0, src), 0u);
    EXPECT_EQ(n.assign("usb:A", 0, dst), 0u);  // destinations counted apart
    EXPECT_EQ(n.assign("usb:A", 1, src), 1u);
    EXPECT_EQ(n.assign("usb:B", 0, src), 2u);
    EXPECT_EQ(n.assign("usb:B", 0, dst), 1u);
    // The same key again: its number, not a new one.
    EXPECT_EQ(n.assign("usb:A", 1, src), 1u);
    EXPECT_EQ(n.find("usb:B", 0, src), 2u);
    EXPECT_FALSE(n.find("usb:B", 1, src).has_value());
    EXPECT_EQ(n.size(), 5u);
}

TEST(port_numbers, replug_keeps_numbers_and_forget_frees_the_lowest) {
    port_numbers n;
    for (std::uint8_t g = 0; g < 3; ++g) (void)n.assign("A", g, src);  // 0 1 2
    for (std::uint8_t g = 0; g < 2; ++g) (void)n.assign("B", g, src);  // 3 4
    (void)n.assign("C", 0, src);                                      // 5
    // A unplugged and B's blocks changed: nothing is released, a new port of B gets 6.
    EXPECT_EQ(n.assign("B", 7, src), 6u);
    EXPECT_EQ(n.assign("A", 2, src), 2u);  // A back: same numbers
    // The user removes A for good: 0 1 2 are free again, lowest first.
    EXPECT_EQ(n.forget("A"), 3u);
    EXPECT_EQ(n.forget("A"), 0u);
    EXPECT_EQ(n.assign("D", 0, src), 0u);
    EXPECT_EQ(n.assign("D", 1, src), 1u);
    EXPECT_EQ(n.assign("D", 2, src), 2u);
    EXPECT_EQ(n.assign("D", 3, src), 7u);
    // Freeing the top numbers lowers the high-water mark.
    EXPECT_EQ(n.forget("D"), 4u);
    EXPECT_EQ(n.forget("C"), 1u);
    EXPECT_EQ(n.assign("E", 0, src), 0u);
    EXPECT_EQ(n.assign("E", 1, src), 1u);
    EXPECT_EQ(n.assign("E", 2, src), 2u);
    EXPECT_EQ(n.assign("E", 3, src), 5u);
    EXPECT_EQ(n.assign("E", 4, src), 7u);
    EXPECT_EQ(n.assign("E", 5, src), 8u);
}

TEST(port_numbers, forget_touches_only_that_endpoint) {
    port_numbers n;
    (void)n.assign("A", 0, src);
    (void)n.assign("AB", 0, src);
    (void)n.assign("A", 1, dst);
    EXPECT_EQ(n.forget("A"), 2u);
    EXPECT_EQ(n.find("AB", 0, src), 1u);
}

TEST(port_numbers, save_and_restore_keep_every_number_and_gap) {
    port_numbers n;
    for (std::uint8_t g = 0; g < 4; ++g) (void)n.assign("A", g, src);
    (void)n.assign("B", 0, dst);
    (void)n.forget("A");
    (void)n.assign("C", 5, src);  // 0
    (void)n.assign("C", 6, src);  // 1
    (void)n.assign("D", 0, src);  // 2
    const auto saved = n.save();
    ASSERT_EQ(saved.size(), 4u);
    EXPECT_EQ(saved[0], (port_number_record{"C", 5, src, 0}));
    EXPECT_EQ(saved[3], (port_number_record{"B", 0, dst, 0}));

    port_numbers restarted;  // a new umpd process
    ASSERT_FALSE(restarted.restore(saved));
    EXPECT_EQ(restarted.save(), saved);
    EXPECT_EQ(restarted.assign("C", 6, src), 1u);
    EXPECT_EQ(restarted.assign("E", 0, src), 3u);
    EXPECT_EQ(restarted.assign("E", 0, dst), 1u);

    // Gaps in a saved state are free numbers after a restore.
    port_numbers gaps;
    ASSERT_FALSE(gaps.restore({{"X", 0, src, 2}, {"Y", 0, src, 5}}));
    EXPECT_EQ(gaps.assign("Z", 0, src), 0u);
    EXPECT_EQ(gaps.assign("Z", 1, src), 1u);
    EXPECT_EQ(gaps.assign("Z", 2, src), 3u);
    EXPECT_EQ(gaps.assign("Z", 3, src), 4u);
    EXPECT_EQ(gaps.assign("Z", 4, src), 6u);
}

TEST(port_numbers, restore_refuses_corrupt_state_and_changes_nothing) {
    port_numbers n;
    (void)n.assign("keep", 0, src);
    const auto before = n.save();
    EXPECT_EQ(n.restore({{"A", 0, src, 1}, {"B", 0, src, 1}}), errc::duplicate_number);
    EXPECT_EQ(n.restore({{"A", 0, src, 1}, {"A", 0, src, 2}}), errc::duplicate_key);
    EXPECT_EQ(n.restore({{"A", 16, src, 1}}), errc::group_out_of_range);
    EXPECT_EQ(n.restore({{"A", 0, src, max_port_number}}), errc::number_out_of_range);
    EXPECT_EQ(n.save(), before);
    // Same number in the two directions is fine.
    EXPECT_FALSE(n.restore({{"A", 0, src, 1}, {"A", 0, dst, 1}}));
}

TEST(port_numbers, random_rebuilds_never_move_a_live_number) {
    std::mt19937 rng(20260401);
    port_numbers n;
    std::map<std::tuple<int, int, int>, std::uint32_t> seen;
    for (int round = 0; round < 2000; ++round) {
        const int ep = static_cast<int>(rng() % 40);
        const auto g = static_cast<std::uint8_t>(rng() % 16);
        const auto d = rng() % 2 ? src : dst;
        const std::string id = "ep" + std::to_string(ep);
        if (rng() % 50 == 0) {
            (void)n.forget(id);
            std::erase_if(seen, [ep](const auto& kv) { return std::get<0>(kv.first) == ep; });
            continue;
        }
        const auto num = n.assign(id, g, d);
        const auto key = std::tuple{ep, int{g}, static_cast<int>(d)};
        const auto it = seen.find(key);
        if (it != seen.end()) {
            ASSERT_EQ(it->second, num);
        } else {
            // New numbers are the lowest not held by a live key of that direction.
            std::set<std::uint32_t> held;
            for (const auto& [k, v] : seen)
                if (std::get<2>(k) == static_cast<int>(d)) held.insert(v);
            std::uint32_t lowest = 0;
            while (held.count(lowest)) ++lowest;
            ASSERT_EQ(num, lowest);
            seen[key] = num;
        }
    }
}

}  // namespace
