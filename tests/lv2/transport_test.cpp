// The transport and the positions plugins receive, block by block.
#include <gtest/gtest.h>

#include <cmath>

#include "umpd/lv2/transport.hpp"

namespace umpd::lv2 {
namespace {

using k = transport_command::kind;

TEST(transport, positions_are_sent_at_the_start_only_when_something_changed) {
    transport t(48000.0);
    block_timeline tl;
    t.plan_block(64, {}, tl);
    EXPECT_TRUE(tl.changed_at_start);  // the first block always tells
    EXPECT_EQ(tl.count, 1u);
    t.plan_block(64, {}, tl);
    EXPECT_FALSE(tl.changed_at_start);
    EXPECT_EQ(t.state().frame, 0);  // stopped: the position does not move

    t.apply({k::play});
    t.plan_block(64, {}, tl);
    EXPECT_TRUE(tl.changed_at_start);
    EXPECT_EQ(tl.points[0].pos.speed, 1.0f);
    EXPECT_EQ(t.state().frame, 64);
    t.plan_block(64, {}, tl);
    EXPECT_FALSE(tl.changed_at_start);
    EXPECT_EQ(tl.points[0].pos.frame, 64);
}

TEST(transport, a_change_inside_a_block_is_a_position_at_its_frame) {
    transport t(48000.0);
    t.apply({k::play});
    block_timeline tl;
    t.plan_block(64, {}, tl);
    const transport_command cmds[] = {{k::tempo, 10, 90.0}, {k::meter, 40, 7.0, 8.0}};
    t.plan_block(64, cmds, tl);
    EXPECT_FALSE(tl.changed_at_start);
    ASSERT_EQ(tl.count, 3u);
    EXPECT_EQ(tl.points[1].offset, 10u);
    EXPECT_EQ(tl.points[1].pos.beats_per_minute, 90.0f);
    EXPECT_EQ(tl.points[1].pos.frame, 64 + 10);
    EXPECT_EQ(tl.points[2].offset, 40u);
    EXPECT_EQ(tl.points[2].pos.beats_per_bar, 7.0f);
    EXPECT_EQ(tl.points[2].pos.beat_unit, 8);
    EXPECT_EQ(tl.bpm, 120.0);  // the block started at 120
    // Beats: 74 frames at 120 BPM, then 54 at 90 BPM.
    EXPECT_DOUBLE_EQ(t.state().beat, 74.0 * 2.0 / 48000.0 + 54.0 * 1.5 / 48000.0);
}

TEST(transport, beats_bars_and_no_drift_over_a_long_run) {
    transport t(48000.0);
    t.apply({k::play});
    block_timeline tl;
    for (int i = 0; i < 1'000'000; ++i) t.plan_block(64, {}, tl);  // 64 M frames, ~22 minutes
    const double expected = 64'000'000.0 * 120.0 / (60.0 * 48000.0);
    EXPECT_EQ(t.state().frame, 64'000'000);
    EXPECT_NEAR(t.state().beat, expected, 1e-9);
    // 2666.666... beats in 4/4: bar 666, beat 2.666...
    const position p = position_of(t.state());
    EXPECT_EQ(p.bar, 666);
    EXPECT_NEAR(p.bar_beat, 2.6666667f, 1e-4f);
}

TEST(transport, locate_and_cycle) {
    transport t(48000.0);
    t.apply({k::locate_beat, 0, 6.0});
    EXPECT_EQ(t.state().frame, 6 * 24000);
    t.apply({k::locate_frame, 0, 12000.0});
    EXPECT_DOUBLE_EQ(t.state().beat, 0.5);
    // Cycle beats 1..2 (24000 frames per beat); start just before the end.
    t.apply({k::cycle, 0, 1.0, 2.0});
    t.apply({k::locate_frame, 0, 48000.0 - 10.0});
    t.apply({k::play});
    block_timeline tl;
    t.plan_block(64, {}, tl);
    ASSERT_EQ(tl.count, 2u);
    EXPECT_EQ(tl.points[1].offset, 10u);
    EXPECT_DOUBLE_EQ(tl.points[1].pos.beat, 1.0);
    EXPECT_NEAR(t.state().beat, 1.0 + 54.0 / 24000.0, 1e-12);
    t.apply({k::cycle, 0, 0.0, 0.0});
    EXPECT_FALSE(t.state().cycling);
    t.apply({k::record, 0, 1.0});
    EXPECT_TRUE(t.state().recording);
}

}  // namespace
}  // namespace umpd::lv2
