// Issue #4 through the real umpd: discovery of an app-owned port that declared nothing
// at publish. The application (this process, through the SDK) receives umpd's Endpoint
// Discovery on its owner connection and answers with UMP stream messages; umpd fills the
// endpoint model from them, negotiates the protocol once, projects the ports from the
// function blocks, applies legal block updates (ports_changed) and ignores illegal ones.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "client_session.hpp"
#include "daemon_process.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/core/reassembly.hpp"

namespace {

using json = nlohmann::json;
namespace client = umpd::client;
namespace core = umpd::core;
using namespace std::chrono_literals;
using umpd_test::receive_one;

const std::string endpoint_id = "app/disc-device/1";

json call(client::client& c, const std::string& op, const json& fields = json::object()) {
    auto r = c.call(op, fields.dump());
    EXPECT_TRUE(r) << op << ": " << (r ? "" : r.message());
    return r ? json::parse(*r) : json();
}

// Publishes "Disc Device" with one port that declares nothing.
client::published_device publish(client::client& app) {
    client::app_device_spec spec;
    spec.name = "Disc Device";
    spec.ports.resize(1);
    spec.ports[0].name = "Disc Port";
    auto dev = app.publish_device(std::move(spec));
    if (!dev) throw std::runtime_error(dev.message());
    return std::move(*dev);
}

// The next message umpd sent the application is the stream message `s`.
std::optional<core::packet> expect_request(client::connection& k, core::stream_status s) {
    auto m = receive_one(k, 10s);
    EXPECT_TRUE(m) << "no request from umpd";
    if (!m) return std::nullopt;
    const auto stream = core::as_stream(m->packet);
    EXPECT_TRUE(stream && stream->status() == s) << "got words[0] " << std::hex << m->packet.words[0];
    return m->packet;
}

void send_all(client::connection& k, std::span<const core::packet> packets) {
    for (const core::packet& p : packets) ASSERT_TRUE(k.send(p)) << "send";
}

std::vector<core::packet> block_name(std::uint8_t block, std::string_view name) {
    std::vector<core::packet> out(core::packet_count(name.size(), core::function_block_name_bytes_per_packet));
    out.resize(core::split_function_block_name(block, name, out));
    return out;
}

core::packet block_info(std::uint8_t block, std::uint8_t first_group, bool active = true) {
    core::function_block_info_fields f;
    f.active = active;
    f.block = block;
    f.direction = core::function_block_direction::bidirectional;
    f.ui_hint = core::function_block_ui_hint::sender_receiver;
    f.first_group = core::group{first_group};
    f.group_count = 1;
    return core::make_function_block_info(f);
}

// The application's side of discovery: two blocks "Keys" (group 1) and "Pads" (group 2).
void answer_discovery(client::connection& k, bool static_blocks) {
    const auto ask = expect_request(k, core::stream_status::endpoint_discovery);
    ASSERT_TRUE(ask);
    EXPECT_EQ(core::endpoint_discovery_view{*ask}.filter(), 0x1F);
    core::endpoint_info_fields info;
    info.static_function_blocks = static_blocks;
    info.function_block_count = 2;
    info.midi1_protocol = true;
    info.midi2_protocol = true;
    std::vector<core::packet> reply = {core::make_endpoint_info(info),
                                       core::make_device_identity({{0x00, 0x21, 0x09}, 3, 0x0123, {1, 2, 3, 4}})};
    const std::string name = "Disc Synth Endpoint";  // two packets
    std::vector<core::packet> text(core::packet_count(name.size(), core::endpoint_name_bytes_per_packet));
    text.resize(core::split_endpoint_name(name, text));
    reply.insert(reply.end(), text.begin(), text.end());
    text.assign(1, core::packet{});
    text.resize(core::split_product_instance_id("DS-7", text));
    reply.insert(reply.end(), text.begin(), text.end());
    reply.push_back(core::make_stream_configuration_notification(core::stream_protocol_midi1, false, false));
    send_all(k, reply);

    const auto blocks = expect_request(k, core::stream_status::function_block_discovery);
    ASSERT_TRUE(blocks);
    EXPECT_EQ(core::function_block_discovery_view{*blocks}.block(), core::all_function_blocks);
    EXPECT_EQ(core::function_block_discovery_view{*blocks}.filter(), 0x03);
    reply = {block_info(0, 0)};
    for (const auto& p : block_name(0, "Keys")) reply.push_back(p);
    reply.push_back(block_info(1, 1));
    for (const auto& p : block_name(1, "Pads")) reply.push_back(p);
    send_all(k, reply);

    // Negotiation: umpd wants MIDI 2.0, which the endpoint supports; it switches.
    const auto config = expect_request(k, core::stream_status::stream_configuration_request);
    ASSERT_TRUE(config);
    EXPECT_EQ(core::stream_configuration_view{*config}.protocol(), core::stream_protocol_midi2);
    const core::packet done = core::make_stream_configuration_notification(core::stream_protocol_midi2, false, false);
    send_all(k, std::span<const core::packet>(&done, 1));
}

// Polls endpoint_info until pred holds (generous limit against hangs).
template <class Pred>
json wait_info(client::client& c, Pred pred) {
    json info;
    const auto end = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < end) {
        info = call(c, "endpoint_info", {{"endpoint", endpoint_id}});
        if (pred(info)) return info;
        std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "endpoint_info never matched: " << info.dump();
    return info;
}

json port_in(const json& ports, int group, const std::string& direction) {
    for (const auto& p : ports)
        if (p["group"] == group && p["direction"] == direction) return p;
    return json();
}

bool name_has(const json& port, const std::string& part) {
    return port.is_object() && port["name"].get<std::string>().find(part) != std::string::npos;
}

// Waits for a ports_changed of the endpoint whose group 1 output port is named with
// `part` (earlier ones, from publish and discovery, are skipped); its ports.
std::optional<json> ports_changed_naming(client::client& c, const std::string& part) {
    auto e = umpd_test::wait_event(c, [&](const client::event& ev) {
        if (ev.json.empty()) return false;
        const json j = json::parse(ev.json, nullptr, false);
        return j.is_object() && j.value("event", "") == "ports_changed" && j.value("endpoint", "") == endpoint_id &&
               name_has(port_in(j["ports"], 1, "out"), part);
    });
    if (!e) return std::nullopt;
    return json::parse(e->json)["ports"];
}

TEST(app_discovery, discovered_blocks_become_ports_and_legal_updates_follow) {
    umpd_test::daemon_process d;
    auto app = umpd_test::connect_client(d, "disc app", false);
    auto obs = umpd_test::connect_client(d, "observer", false);
    ASSERT_TRUE(obs.subscribe());
    auto dev = publish(app);
    auto watcher = obs.open(endpoint_id);  // opened before the answers: must not see them
    ASSERT_TRUE(watcher) << watcher.message();
    answer_discovery(dev.port(0), /*static_blocks=*/false);

    const json info = wait_info(obs, [](const json& i) {
        return i["declared"]["discovery"] == "complete" && i["declared"]["protocol"] == "midi2";
    });
    EXPECT_EQ(info["declared"]["name"], "Disc Synth Endpoint");
    EXPECT_EQ(info["declared"]["product_instance_id"], "DS-7");
    EXPECT_EQ(info["declared"]["device_identity"]["model"], 0x0123);
    EXPECT_EQ(info["declared"]["static_function_blocks"], false);
    ASSERT_EQ(info["function_blocks"].size(), 2u);
    EXPECT_EQ(info["function_blocks"][0]["name"], "Keys");
    EXPECT_EQ(info["function_blocks"][1]["name"], "Pads");
    EXPECT_EQ(info["function_blocks"][1]["first_group"], 2);

    // Ports per block and direction, named from the blocks and the endpoint's name.
    json ports = call(obs, "ports", {{"endpoint", endpoint_id}})["ports"];
    ASSERT_EQ(ports.size(), 4u) << ports.dump();
    EXPECT_TRUE(name_has(port_in(ports, 1, "out"), "Keys")) << ports.dump();
    EXPECT_TRUE(name_has(port_in(ports, 2, "in"), "Pads")) << ports.dump();
    EXPECT_EQ(port_in(ports, 1, "in")["endpoint_name"], "Disc Synth Endpoint");
    const json keys_in = port_in(ports, 1, "in"), keys_out = port_in(ports, 1, "out");

    // The application's answers went to umpd, not to the client; umpd answers it now.
    EXPECT_FALSE(receive_one(*watcher, 300ms));
    ASSERT_TRUE(watcher->send(core::make_endpoint_discovery(1, 1, core::discover_endpoint_info)));
    auto m = receive_one(*watcher);
    ASSERT_TRUE(m);
    ASSERT_TRUE(core::as_endpoint_info(m->packet));
    EXPECT_EQ(core::as_endpoint_info(m->packet)->fields().function_block_count, 2);

    // Block 2 is deactivated: its ports go, block 1's keep their numbers.
    const core::packet off = block_info(1, 1, false);
    send_all(dev.port(0), std::span<const core::packet>(&off, 1));
    auto changed = ports_changed_naming(obs, "Keys");
    ASSERT_TRUE(changed);
    // The first with "Keys" came with discovery (4 ports); the deactivation's follows.
    if (changed->size() == 4u) changed = ports_changed_naming(obs, "Keys");
    ASSERT_TRUE(changed);
    ASSERT_EQ(changed->size(), 2u) << changed->dump();
    EXPECT_EQ(port_in(*changed, 1, "in")["number"], keys_in["number"]);
    EXPECT_EQ(port_in(*changed, 1, "out")["number"], keys_out["number"]);
    EXPECT_TRUE(port_in(*changed, 2, "in").is_null());

    // Illegal: a block beyond the two announced, and a new block count. Both ignored; the
    // rename of block 1 after them is applied (and shows they were processed before it).
    std::vector<core::packet> illegal = {block_info(5, 8)};
    core::endpoint_info_fields three;
    three.function_block_count = 3;
    three.midi1_protocol = three.midi2_protocol = true;
    illegal.push_back(core::make_endpoint_info(three));
    for (const auto& p : block_name(0, "Lead")) illegal.push_back(p);
    send_all(dev.port(0), illegal);
    changed = ports_changed_naming(obs, "Lead");
    ASSERT_TRUE(changed);
    ASSERT_EQ(changed->size(), 2u) << changed->dump();  // no port on group 9
    EXPECT_TRUE(name_has(port_in(*changed, 1, "out"), "Lead")) << changed->dump();
    EXPECT_EQ(port_in(*changed, 1, "out")["number"], keys_out["number"]);
    const json after = call(obs, "endpoint_info", {{"endpoint", endpoint_id}});
    EXPECT_EQ(after["function_blocks"].size(), 2u);
    EXPECT_EQ(after["function_blocks"][0]["name"], "Lead");
    EXPECT_EQ(after["function_blocks"][1]["active"], false);
}

TEST(app_discovery, updates_to_static_blocks_are_ignored) {
    umpd_test::daemon_process d;
    auto app = umpd_test::connect_client(d, "disc app", false);
    auto obs = umpd_test::connect_client(d, "observer", false);
    auto dev = publish(app);
    answer_discovery(dev.port(0), /*static_blocks=*/true);
    (void)wait_info(obs, [](const json& i) { return i["declared"]["discovery"] == "complete"; });
    const json before = call(obs, "ports", {{"endpoint", endpoint_id}})["ports"];
    ASSERT_EQ(before.size(), 4u);

    // A rename and a deactivation of a static block, then an Endpoint Name update (legal).
    std::vector<core::packet> updates = block_name(1, "Drums");
    updates.push_back(block_info(1, 1, false));
    std::vector<core::packet> text(core::packet_count(7, core::endpoint_name_bytes_per_packet));
    text.resize(core::split_endpoint_name("Renamed", text));
    updates.insert(updates.end(), text.begin(), text.end());
    send_all(dev.port(0), updates);
    const json info = wait_info(obs, [](const json& i) { return i["declared"]["name"] == "Renamed"; });
    EXPECT_EQ(info["function_blocks"][1]["name"], "Pads");
    EXPECT_EQ(info["function_blocks"][1]["active"], true);
    const json ports = call(obs, "ports", {{"endpoint", endpoint_id}})["ports"];
    ASSERT_EQ(ports.size(), 4u);
    EXPECT_TRUE(name_has(port_in(ports, 2, "out"), "Pads")) << ports.dump();
    EXPECT_EQ(port_in(ports, 2, "out")["number"], port_in(before, 2, "out")["number"]);
}

TEST(app_discovery, an_application_that_never_answers_times_out_on_group_1) {
    umpd_test::daemon_process d;
    auto app = umpd_test::connect_client(d, "silent app", false);
    auto obs = umpd_test::connect_client(d, "observer", false);
    auto dev = publish(app);
    ASSERT_TRUE(expect_request(dev.port(0), core::stream_status::endpoint_discovery));
    const std::string first = call(obs, "endpoint_info", {{"endpoint", endpoint_id}})["declared"]["discovery"];
    EXPECT_TRUE(first == "pending" || first == "timed_out") << first;
    const json info = wait_info(obs, [](const json& i) { return i["declared"]["discovery"] == "timed_out"; });
    EXPECT_EQ(info["declared"]["name"], "Disc Port");
    EXPECT_EQ(info["function_blocks"].size(), 0u);
    const json ports = call(obs, "ports", {{"endpoint", endpoint_id}})["ports"];
    ASSERT_EQ(ports.size(), 2u);
    EXPECT_FALSE(port_in(ports, 1, "in").is_null());
    EXPECT_FALSE(port_in(ports, 1, "out").is_null());
    // No protocol negotiation without an Endpoint Info: nothing more was asked.
    EXPECT_FALSE(receive_one(dev.port(0), 300ms));
    // After the timeout umpd answers clients' discovery itself, from what it holds.
    auto k = obs.open(endpoint_id);
    ASSERT_TRUE(k) << k.message();
    ASSERT_TRUE(k->send(core::make_endpoint_discovery(1, 1, core::discover_endpoint_info)));
    auto m = receive_one(*k);
    ASSERT_TRUE(m);
    EXPECT_TRUE(core::as_endpoint_info(m->packet));
}

}  // namespace
