// App-owned devices at the service level: the discovery replies built from a port's
// declaration (app_device.hpp), and the router answering discovery with them on the
// application's behalf (router::set_discovery_replies), driven through real
// shared-memory connections as in router_test.cpp.
#include "umpd/service/app_device.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "router_client.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/core/reassembly.hpp"
#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/ring.hpp"
#include "umpd/ipc/shm.hpp"
#include "umpd/service/registry.hpp"
#include "umpd/service/router.hpp"

namespace {

using namespace std::chrono_literals;
namespace core = umpd::core;
using core::packet;
using core::stream_status;
using umpd::ipc::timed_packet;
using umpd::service::app_endpoint_description;
using umpd::service::app_function_block;
using umpd::service::discovery_replies;
using umpd::service::endpoint_behaviour;
using umpd::service::make_discovery_replies;
using umpd::service::router;
using umpd::service::router_limits;

packet tagged(std::uint32_t tag) { return core::make_midi2_control_change(core::group{0}, core::channel{0}, 7, tag); }

using client = umpd_test::router_client;

client make_client() { return umpd_test::make_router_client("app-device-test"); }

stream_status status_of(const packet& p) { return core::stream_view{p}.status(); }

// A name reassembled from a run of Endpoint Name or Function Block Name packets.
std::string text_of(const std::vector<packet>& packets, core::text_kind kind) {
    std::vector<std::uint8_t> storage(256);
    core::text_reassembler r(kind, std::span<std::uint8_t>(storage));
    for (const packet& p : packets) {
        const auto res = r.feed(p);
        if (res.has_message()) return std::string(reinterpret_cast<const char*>(res.bytes.data()), res.bytes.size());
    }
    return "<incomplete>";
}

app_endpoint_description two_block_synth() {
    app_endpoint_description d;
    d.name = "A Synth With A Long Endpoint Name";  // 33 bytes: three packets
    d.midi2 = true;
    d.info.midi2_protocol = true;
    d.info.midi1_protocol = true;
    d.info.static_function_blocks = true;
    d.identity = core::device_identity_fields{{0x00, 0x21, 0x09}, 0x0102, 0x0304, {1, 2, 3, 4}};
    d.product_instance_id = "SN-0001";
    app_function_block keys;
    keys.name = "Keys";
    keys.first_group = 0;
    keys.group_count = 2;
    keys.direction = core::function_block_direction::output;
    keys.ui_hint = core::function_block_ui_hint::sender;
    app_function_block synth;
    synth.name = "Synth Engine Block Name";  // 23 bytes: two packets
    synth.first_group = 2;
    synth.group_count = 1;
    synth.direction = core::function_block_direction::input;
    synth.ui_hint = core::function_block_ui_hint::receiver;
    synth.active = false;
    synth.midi1 = core::function_block_midi1::restricted;
    d.function_blocks = {keys, synth};
    return d;
}

TEST(app_device, replies_are_built_from_the_declaration) {
    std::string error;
    const auto r = make_discovery_replies(two_block_synth(), error);
    ASSERT_TRUE(r) << error;
    ASSERT_EQ(r->endpoint_info.size(), 1u);
    const auto info = core::endpoint_info_view{r->endpoint_info[0]}.fields();
    EXPECT_EQ(info.function_block_count, 2);
    EXPECT_TRUE(info.static_function_blocks);
    EXPECT_TRUE(info.midi1_protocol);
    EXPECT_TRUE(info.midi2_protocol);
    ASSERT_EQ(r->device_identity.size(), 1u);
    EXPECT_EQ(core::device_identity_view{r->device_identity[0]}.fields().model, 0x0304);
    EXPECT_EQ(r->endpoint_name.size(), 3u);
    EXPECT_EQ(text_of(r->endpoint_name, core::text_kind::endpoint_name), "A Synth With A Long Endpoint Name");
    EXPECT_EQ(text_of(r->product_instance_id, core::text_kind::product_instance_id), "SN-0001");
    ASSERT_EQ(r->stream_configuration.size(), 1u);
    EXPECT_EQ(core::stream_configuration_view{r->stream_configuration[0]}.protocol(), core::stream_protocol_midi2);
    ASSERT_EQ(r->function_blocks.size(), 2u);
    const auto b1 = core::function_block_info_view{r->function_blocks[1].info.at(0)}.fields();
    EXPECT_EQ(b1.block, 1);
    EXPECT_FALSE(b1.active);
    EXPECT_EQ(b1.first_group.index, 2);
    EXPECT_EQ(b1.group_count, 1);
    EXPECT_EQ(b1.direction, core::function_block_direction::input);
    EXPECT_EQ(b1.midi1, core::function_block_midi1::restricted);
    EXPECT_EQ(text_of(r->function_blocks[1].name, core::text_kind::function_block_name), "Synth Engine Block Name");
}

TEST(app_device, invalid_declarations_are_refused_with_a_reason) {
    std::string error;
    auto d = two_block_synth();
    d.function_blocks[0].first_group = 15;
    d.function_blocks[0].group_count = 2;  // groups 16..17
    EXPECT_FALSE(make_discovery_replies(d, error));
    EXPECT_NE(error.find("function block 1"), std::string::npos) << error;

    d = two_block_synth();
    d.function_blocks.resize(33);
    EXPECT_FALSE(make_discovery_replies(d, error));

    d = two_block_synth();
    d.name = std::string("a\0b", 3);
    EXPECT_FALSE(make_discovery_replies(d, error));
}

struct app_endpoint {
    router r{router_limits{}};
    client owner = make_client();
    client c1 = make_client();
    client c2 = make_client();
    app_endpoint() {
        EXPECT_FALSE(r.start());
        EXPECT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::app_owned));
        EXPECT_FALSE(r.add_connection(owner.setup(10, 1, true)));
        EXPECT_FALSE(r.add_connection(c1.setup(11, 1)));
        EXPECT_FALSE(r.add_connection(c2.setup(12, 1)));
        std::string error;
        EXPECT_FALSE(r.set_discovery_replies(1, make_discovery_replies(two_block_synth(), error)));
    }
};

TEST(router_discovery, endpoint_discovery_is_answered_to_the_asker_only) {
    app_endpoint a;
    a.c1.send(0, core::make_endpoint_discovery(1, 1, 0x1F));
    // Info, identity, 3 name packets, 1 product instance id packet, stream configuration.
    const auto got = a.c1.receive_n(7);
    ASSERT_EQ(got.size(), 7u);
    EXPECT_EQ(status_of(got[0]), stream_status::endpoint_info);
    EXPECT_EQ(status_of(got[1]), stream_status::device_identity);
    EXPECT_EQ(text_of({got[2], got[3], got[4]}, core::text_kind::endpoint_name), "A Synth With A Long Endpoint Name");
    EXPECT_EQ(status_of(got[5]), stream_status::product_instance_id);
    EXPECT_EQ(status_of(got[6]), stream_status::stream_configuration_notification);

    // Neither the application nor the other client saw any of it: their next
    // messages are the ones sent after.
    a.c2.send(0, tagged(7));
    auto m = a.owner.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 7u);
    a.owner.send(0, tagged(8));
    for (client* c : {&a.c1, &a.c2}) {
        m = c->receive();
        ASSERT_TRUE(m);
        EXPECT_EQ(m->packet.words[1], 8u);
    }
}

TEST(router_discovery, filters_and_block_numbers_are_honoured) {
    app_endpoint a;
    a.c1.send(0, core::make_endpoint_discovery(1, 1, core::discover_endpoint_name));
    a.c1.send(0, core::make_function_block_discovery(1, core::discover_function_block_info));
    a.c1.send(0, core::make_function_block_discovery(core::all_function_blocks,
                                                     core::discover_function_block_info | core::discover_function_block_name));
    a.c1.send(0, tagged(99));  // a marker for the application, sent after the requests
    // name (3) + block 1 info (1) + block 0 info, name (1) + block 1 info, name (2) = 8
    const auto got = a.c1.receive_n(8);
    ASSERT_EQ(got.size(), 8u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(status_of(got[static_cast<std::size_t>(i)]), stream_status::endpoint_name);
    EXPECT_EQ(core::function_block_info_view{got[3]}.fields().block, 1);
    EXPECT_EQ(core::function_block_info_view{got[4]}.fields().block, 0);
    EXPECT_EQ(core::function_block_info_view{got[4]}.fields().group_count, 2);
    EXPECT_EQ(text_of({got[5]}, core::text_kind::function_block_name), "Keys");
    EXPECT_EQ(core::function_block_info_view{got[6]}.fields().block, 1);
    EXPECT_EQ(status_of(got[7]), stream_status::function_block_name);
    auto m = a.owner.receive();  // only the marker reached the application
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 99u);
}

TEST(router_discovery, without_replies_discovery_goes_to_the_application) {
    app_endpoint a;
    ASSERT_FALSE(a.r.set_discovery_replies(1, nullptr));
    const packet q = core::make_endpoint_discovery(1, 1, 0x1F);
    a.c1.send(0, q);
    auto m = a.owner.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words, q.words);
}

TEST(router_discovery, a_loopback_endpoint_answers_from_its_declaration_and_loops_the_rest) {
    // umpd's own endpoints answer discovery too (issue #4): the request is not looped back.
    router r{router_limits{}};
    client c1 = make_client();
    client c2 = make_client();
    ASSERT_FALSE(r.start());
    ASSERT_FALSE(r.add_endpoint(1, 1, endpoint_behaviour::loopback));
    ASSERT_FALSE(r.add_connection(c1.setup(11, 1)));
    ASSERT_FALSE(r.add_connection(c2.setup(12, 1)));
    std::string error;
    ASSERT_FALSE(r.set_discovery_replies(1, make_discovery_replies(two_block_synth(), error)));
    c1.send(0, core::make_endpoint_discovery(1, 1, core::discover_endpoint_info));
    c1.send(0, tagged(9));
    auto m = c1.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(status_of(m->packet), stream_status::endpoint_info);
    m = c1.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 9u);
    m = c2.receive();  // the other connection sees the looped message only
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 9u);
    EXPECT_EQ(r.set_discovery_replies(2, nullptr), umpd::service::make_error_code(umpd::service::service_errc::not_found));
}

}  // namespace
