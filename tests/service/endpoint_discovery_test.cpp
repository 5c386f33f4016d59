// The discovery state machine alone (endpoint_discovery.hpp): what umpd asks, when
// discovery completes or times out, the one negotiation, and which updates it applies
// or ignores (with the log line saying why). Time is passed in, so no test waits.
#include "umpd/service/endpoint_discovery.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/core/reassembly.hpp"

namespace {

namespace core = umpd::core;
using umpd::service::discovery_state;
using umpd::service::discovery_step;
using umpd::service::endpoint_declaration;
using umpd::service::endpoint_discovery;
using clock_type = endpoint_discovery::clock;
using namespace std::chrono_literals;

endpoint_declaration published() {
    endpoint_declaration d;
    d.name = "Port A";
    d.midi2 = false;
    return d;
}

std::vector<core::packet> text(bool block_name, std::uint8_t block, std::string_view s) {
    std::vector<core::packet> out(core::packet_count(s.size(), 13));
    out.resize(block_name ? core::split_function_block_name(block, s, out) : core::split_endpoint_name(s, out));
    return out;
}

core::packet info(std::uint8_t blocks, bool is_static) {
    core::endpoint_info_fields f;
    f.function_block_count = blocks;
    f.static_function_blocks = is_static;
    f.midi1_protocol = f.midi2_protocol = true;
    return core::make_endpoint_info(f);
}

core::packet block(std::uint8_t n, std::uint8_t first_group, bool active = true) {
    core::function_block_info_fields f;
    f.active = active;
    f.block = n;
    f.direction = core::function_block_direction::bidirectional;
    f.first_group = core::group{first_group};
    f.group_count = 1;
    return core::make_function_block_info(f);
}

core::stream_status status_of(const core::packet& p) { return core::stream_view{p}.status(); }

// Feeds every packet; the union of the steps.
discovery_step feed(endpoint_discovery& d, const std::vector<core::packet>& packets, clock_type::time_point t) {
    discovery_step all;
    for (const auto& p : packets) {
        discovery_step s = d.feed(p, t);
        all.send.insert(all.send.end(), s.send.begin(), s.send.end());
        all.log.insert(all.log.end(), s.log.begin(), s.log.end());
        all.changed = all.changed || s.changed;
    }
    return all;
}

// Discovery of two blocks through to completion; returns the negotiation request step.
discovery_step complete_two_blocks(endpoint_discovery& d, clock_type::time_point t, bool is_static) {
    const discovery_step s0 = d.start(t);
    EXPECT_EQ(s0.send.size(), 1u);
    EXPECT_EQ(status_of(s0.send[0]), core::stream_status::endpoint_discovery);
    EXPECT_EQ(core::endpoint_discovery_view{s0.send[0]}.filter(), 0x1F);
    EXPECT_EQ(d.declaration().discovery, discovery_state::pending);
    const discovery_step s1 = feed(d, {info(2, is_static)}, t);
    EXPECT_EQ(s1.send.size(), 1u);
    if (!s1.send.empty()) {
        EXPECT_EQ(status_of(s1.send[0]), core::stream_status::function_block_discovery);
    }
    std::vector<core::packet> rest = text(false, 0, "Synth Endpoint");
    rest.push_back(block(0, 0));
    for (const auto& p : text(true, 0, "Keys")) rest.push_back(p);
    rest.push_back(block(1, 1));
    EXPECT_FALSE(feed(d, rest, t).changed);  // block 2 has no name yet
    EXPECT_EQ(d.declaration().discovery, discovery_state::pending);
    return feed(d, text(true, 1, "Pads"), t);
}

TEST(endpoint_discovery, completes_then_negotiates_once) {
    endpoint_discovery d(published(), 2s);
    const auto t = clock_type::now();
    const discovery_step done = complete_two_blocks(d, t, false);
    EXPECT_TRUE(done.changed);
    EXPECT_EQ(d.declaration().discovery, discovery_state::complete);
    EXPECT_TRUE(d.declaration().answered_by_umpd);
    EXPECT_EQ(d.declaration().name, "Synth Endpoint");
    ASSERT_EQ(d.declaration().function_blocks.size(), 2u);
    EXPECT_EQ(d.declaration().function_blocks[1].name, "Pads");
    EXPECT_EQ(d.declaration().function_blocks[1].first_group, 1);
    ASSERT_EQ(done.send.size(), 1u);
    EXPECT_EQ(status_of(done.send[0]), core::stream_status::stream_configuration_request);
    EXPECT_EQ(core::stream_configuration_view{done.send[0]}.protocol(), core::stream_protocol_midi2);
    EXPECT_FALSE(d.declaration().midi2);
    const auto s = feed(d, {core::make_stream_configuration_notification(core::stream_protocol_midi2, false, false)}, t);
    EXPECT_TRUE(s.changed);
    EXPECT_TRUE(d.declaration().midi2);
    EXPECT_TRUE(d.negotiated());
    EXPECT_FALSE(d.deadline());
    EXPECT_TRUE(d.tick(t + 10s).send.empty());  // never asked again
}

TEST(endpoint_discovery, applies_legal_updates_and_logs_illegal_ones) {
    endpoint_discovery d(published(), 2s);
    const auto t = clock_type::now();
    (void)complete_two_blocks(d, t, false);
    auto s = feed(d, {block(1, 1, false)}, t);
    EXPECT_TRUE(s.changed);
    EXPECT_FALSE(d.declaration().function_blocks[1].active);
    EXPECT_EQ(d.declaration().function_blocks[1].name, "Pads");  // kept
    s = feed(d, text(true, 0, "Lead"), t);
    EXPECT_TRUE(s.changed);
    EXPECT_EQ(d.declaration().function_blocks[0].name, "Lead");
    s = feed(d, {block(1, 1, false)}, t);  // a repeat: nothing
    EXPECT_FALSE(s.changed);
    EXPECT_TRUE(s.log.empty());

    s = feed(d, {block(4, 3)}, t);
    EXPECT_FALSE(s.changed);
    ASSERT_EQ(s.log.size(), 1u);
    EXPECT_EQ(s.log[0], "ignored function block 5 update: the endpoint announced 2 function blocks");
    s = feed(d, {info(3, false)}, t);
    EXPECT_FALSE(s.changed);
    ASSERT_EQ(s.log.size(), 1u);
    EXPECT_EQ(s.log[0], "ignored an endpoint info update: the function block count changed from 2 to 3");
    EXPECT_EQ(d.declaration().function_blocks.size(), 2u);
}

TEST(endpoint_discovery, static_blocks_do_not_change) {
    endpoint_discovery d(published(), 2s);
    const auto t = clock_type::now();
    (void)complete_two_blocks(d, t, true);
    auto s = feed(d, {block(2 - 1, 5)}, t);
    EXPECT_FALSE(s.changed);
    ASSERT_EQ(s.log.size(), 1u);
    EXPECT_EQ(s.log[0], "ignored function block 2 update: the endpoint declared static function blocks");
    s = feed(d, text(true, 0, "Other"), t);
    EXPECT_FALSE(s.changed);
    EXPECT_EQ(s.log.size(), 1u);
    EXPECT_EQ(d.declaration().function_blocks[0].name, "Keys");
    s = feed(d, text(false, 0, "New Name"), t);  // the endpoint name may change
    EXPECT_TRUE(s.changed);
    EXPECT_EQ(d.declaration().name, "New Name");
}

TEST(endpoint_discovery, silence_times_out_and_late_answers_still_complete) {
    endpoint_discovery d(published(), 2s);
    const auto t = clock_type::now();
    (void)d.start(t);
    ASSERT_TRUE(d.deadline());
    EXPECT_FALSE(d.tick(t + 1s).changed);  // not yet
    const auto s = d.tick(t + 2s);
    EXPECT_TRUE(s.changed);
    EXPECT_TRUE(s.send.empty());  // no endpoint info: no negotiation
    EXPECT_EQ(d.declaration().discovery, discovery_state::timed_out);
    EXPECT_EQ(d.declaration().name, "Port A");
    EXPECT_TRUE(d.declaration().answered_by_umpd);
    EXPECT_FALSE(d.deadline());
    // Late: an endpoint with no blocks and no name completes at once now.
    const auto late = feed(d, {info(0, true)}, t + 3s);
    EXPECT_TRUE(late.changed);
    EXPECT_EQ(d.declaration().discovery, discovery_state::complete);
    ASSERT_EQ(late.send.size(), 1u);
    EXPECT_EQ(status_of(late.send[0]), core::stream_status::stream_configuration_request);
    // No notification: the protocol stays, once the negotiation deadline passes.
    const auto quiet = d.tick(t + 6s);
    ASSERT_EQ(quiet.log.size(), 1u);
    EXPECT_EQ(quiet.log[0], "no stream configuration notification in time: keeping MIDI 1.0");
    EXPECT_FALSE(d.declaration().midi2);
}

}  // namespace
