// The scheduler's heap: (timestamp, arrival) order, capacity, removal.
#include "../../src/service/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using umpd::service::detail::scheduled_message;
using umpd::service::detail::scheduler;

scheduled_message message(std::uint64_t ts, std::uint32_t tag) {
    scheduled_message m;
    m.timestamp_ns = ts;
    m.words[0] = tag;
    m.word_count = 1;
    return m;
}

TEST(scheduler, pops_in_timestamp_order) {
    std::mt19937_64 rng(1234);
    scheduler s(1000);
    std::vector<std::uint64_t> stamps;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        const std::uint64_t ts = 1 + rng() % 100000;
        stamps.push_back(ts);
        ASSERT_TRUE(s.push(message(ts, i)));
    }
    std::sort(stamps.begin(), stamps.end());
    for (std::uint64_t expected : stamps) {
        ASSERT_FALSE(s.empty());
        EXPECT_EQ(s.top().timestamp_ns, expected);
        s.pop();
    }
    EXPECT_TRUE(s.empty());
}

TEST(scheduler, equal_timestamps_leave_in_push_order) {
    scheduler s(64);
    // Interleave two timestamps so the heap has to reorder around them.
    for (std::uint32_t i = 0; i < 40; ++i) ASSERT_TRUE(s.push(message(i % 2 == 0 ? 500 : 100, i)));
    std::vector<std::uint32_t> order;
    while (!s.empty()) {
        order.push_back(s.top().words[0]);
        s.pop();
    }
    std::vector<std::uint32_t> expected;
    for (std::uint32_t i = 1; i < 40; i += 2) expected.push_back(i);  // timestamp 100, in push order
    for (std::uint32_t i = 0; i < 40; i += 2) expected.push_back(i);  // timestamp 500, in push order
    EXPECT_EQ(order, expected);
}

TEST(scheduler, refuses_beyond_capacity_and_accepts_after_pop) {
    scheduler s(4);
    EXPECT_EQ(s.capacity(), 4u);
    for (std::uint32_t i = 0; i < 4; ++i) EXPECT_TRUE(s.push(message(10 + i, i)));
    EXPECT_FALSE(s.push(message(1, 99)));
    EXPECT_EQ(s.size(), 4u);
    EXPECT_EQ(s.top().words[0], 0u);  // the refused one did not get in
    s.pop();
    EXPECT_TRUE(s.push(message(1, 99)));
    EXPECT_EQ(s.top().words[0], 99u);
}

TEST(scheduler, remove_if_keeps_order_of_the_rest) {
    scheduler s(100);
    for (std::uint32_t i = 0; i < 100; ++i) ASSERT_TRUE(s.push(message(1000 - (i % 10) * 7, i)));
    const std::size_t dropped = s.remove_if([](const scheduled_message& m) { return m.words[0] % 3 == 0; });
    EXPECT_EQ(dropped, 34u);
    EXPECT_EQ(s.size(), 66u);
    std::uint64_t last_ts = 0;
    std::uint64_t last_seq = 0;
    bool first = true;
    while (!s.empty()) {
        const scheduled_message m = s.top();
        s.pop();
        EXPECT_NE(m.words[0] % 3, 0u);
        if (!first) {
            EXPECT_TRUE(m.timestamp_ns > last_ts || (m.timestamp_ns == last_ts && m.sequence > last_seq));
        }
        first = false;
        last_ts = m.timestamp_ns;
        last_seq = m.sequence;
    }
}

}  // namespace
