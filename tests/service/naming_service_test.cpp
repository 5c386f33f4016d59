// The service side of issue #4 with the real registry, router and virtual driver:
// endpoint declarations, the MIDI 1.0 projection and names of every endpoint, stable
// port numbers through the state file, naming settings through the config file, and
// the lookups (tests/integration/discovery_test.cpp drives the same through umpd).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "umpd/naming/port_index.hpp"
#include "umpd/service/config.hpp"
#include "umpd/service/endpoint_model.hpp"
#include "umpd/service/midi1_ports.hpp"
#include "umpd/service/registry.hpp"
#include "umpd/service/router.hpp"
#include "umpd/service/virtual_driver.hpp"

namespace {

using namespace umpd::service;
namespace naming = umpd::naming;
using naming::port_direction;
using dir = umpd::core::function_block_direction;

constexpr auto in = port_direction::source;
constexpr auto out = port_direction::destination;

function_block_declaration block(std::string name, std::uint8_t first, std::uint8_t count, dir d = dir::bidirectional) {
    function_block_declaration b;
    b.name = std::move(name);
    b.first_group = first;
    b.group_count = count;
    b.direction = d;
    return b;
}

// A running service model: router, registry, virtual driver and the ports, fed from a config.
struct service_model {
    router data{router_limits{}};
    registry reg{&data, registry_limits{}};
    virtual_driver virt{reg};
    midi1_ports ports;
    std::vector<std::string> changed;

    explicit service_model(const config& c) {
        EXPECT_FALSE(data.start());
        ports.set_settings(c.naming);
        EXPECT_FALSE(virt.publish(c));
        rebuild();
        reg.set_event_sink([this](const registry_event&) { rebuild(); });
    }
    void rebuild() {
        auto c = ports.rebuild(naming_sources(reg));
        changed.insert(changed.end(), c.begin(), c.end());
    }
    const naming::indexed_port& port(const std::string& ep, std::uint8_t group, port_direction d) {
        const naming::indexed_port* p = ports.index().port_of(ep, group, d);
        EXPECT_NE(p, nullptr) << ep << " group " << int(group) << " " << naming::to_string(d);
        static const naming::indexed_port none;
        return p ? *p : none;
    }
    const endpoint* ep(const std::string& id) {
        const endpoint* e = nullptr;
        EXPECT_FALSE(reg.find_endpoint(id, e));
        return e;
    }
};

config one_device(std::string device, std::string port, std::vector<function_block_declaration> blocks = {}) {
    config c;
    device_config d;
    d.name = std::move(device);
    port_config p;
    p.name = std::move(port);
    p.number = 1;
    p.function_blocks = std::move(blocks);
    d.ports.push_back(std::move(p));
    c.devices.push_back(std::move(d));
    return c;
}

TEST(endpoint_model, display_name_prefers_the_user_then_the_declaration_then_the_driver) {
    EXPECT_EQ(display_name("Mine", "Declared", "Driver"), "Mine");
    EXPECT_EQ(display_name("", "Declared", "Driver"), "Declared");
    EXPECT_EQ(display_name("", "", "Driver"), "Driver");
}

TEST(endpoint_model, function_blocks_count_only_when_declared_or_discovered) {
    endpoint_declaration d = default_declaration("X", true);
    d.function_blocks = {block("A", 0, 2)};
    EXPECT_EQ(blocks_of(d).function_blocks.size(), 1u);
    d.discovery = discovery_state::pending;
    EXPECT_TRUE(blocks_of(d).function_blocks.empty());
    d.discovery = discovery_state::timed_out;
    EXPECT_TRUE(blocks_of(d).function_blocks.empty());
    d.discovery = discovery_state::complete;
    EXPECT_EQ(blocks_of(d).function_blocks.size(), 1u);
    d.function_blocks.push_back(block("bad", 15, 2));
    EXPECT_NE(validate(d).find("function block 2"), std::string::npos);
}

TEST(naming_service, the_default_device_has_one_port_each_way_on_group_1_named_new_style) {
    service_model m(default_config());
    const std::string id = "virtual/umpd-virtual-device/1";
    ASSERT_EQ(m.ports.index().ports_of(id).size(), 2u);
    const auto& i = m.port(id, 0, in);
    const auto& o = m.port(id, 0, out);
    // A virtual endpoint has no legacy form: automatic picks new-style; unnamed group 0
    // ports carry the endpoint's name.
    EXPECT_EQ(i.shown, "Port 1");
    EXPECT_EQ(i.shown, i.new_style);
    EXPECT_EQ(o.shown, "Port 1");
    EXPECT_EQ(i.number, 0u);
    EXPECT_EQ(o.number, 0u);
    EXPECT_EQ(m.ports.endpoint_name(id), "Port 1");
    // The declaration follows the port: name, protocol, answered by umpd.
    const endpoint* e = m.ep(id);
    EXPECT_EQ(e->declared.name, "Port 1");
    EXPECT_TRUE(e->declared.midi2);
    EXPECT_TRUE(e->declared.answered_by_umpd);
}

TEST(naming_service, function_blocks_over_groups_1_2_and_3_give_three_ports_each_way) {
    service_model m(one_device("Dev", "MySynth", {block("Synth", 0, 2), block("Drums", 2, 1)}));
    const std::string id = "virtual/dev/1";
    EXPECT_EQ(m.ports.index().ports_of(id, in).size(), 3u);
    EXPECT_EQ(m.ports.index().ports_of(id, out).size(), 3u);
    // "Synth" twice collides: every port of the direction gets its group.
    EXPECT_EQ(m.port(id, 0, in).shown, "MySynth Synth group 1");
    EXPECT_EQ(m.port(id, 1, in).shown, "MySynth Synth group 2");
    EXPECT_EQ(m.port(id, 2, out).shown, "MySynth Drums group 3");
    EXPECT_EQ(m.port(id, 1, in).legacy, "MIDIIN2 (MySynth)");
    EXPECT_EQ(m.port(id, 2, out).number, 2u);
}

TEST(naming_service, set_function_blocks_at_run_time_changes_the_ports) {
    service_model m(default_config());
    const std::string id = "virtual/umpd-virtual-device/1";
    m.changed.clear();
    ASSERT_FALSE(m.reg.set_function_blocks(m.ep(id)->handle, {block("Lead", 0, 1, dir::output), block("Bass", 4, 1)}));
    ASSERT_EQ(m.changed, std::vector<std::string>{id});
    EXPECT_EQ(m.ports.index().ports_of(id, in).size(), 2u);   // Lead sends, Bass both
    EXPECT_EQ(m.ports.index().ports_of(id, out).size(), 1u);  // only Bass receives
    EXPECT_EQ(m.port(id, 4, out).shown, "Port 1 Bass");
    // The group-0 input keeps its number; the new ones take the lowest free.
    EXPECT_EQ(m.port(id, 0, in).number, 0u);
    EXPECT_EQ(m.port(id, 4, in).number, 1u);
    EXPECT_EQ(m.port(id, 4, out).number, 1u);  // destination group 0 keeps 0 reserved
    // Invalid blocks are refused, nothing changes.
    m.changed.clear();
    EXPECT_TRUE(m.reg.set_function_blocks(m.ep(id)->handle, {block("x", 14, 3)}));
    EXPECT_TRUE(m.changed.empty());
    // The snapshot carries them into the config, and the config back.
    const config snap = m.virt.snapshot(limits_config{});
    ASSERT_EQ(snap.devices[0].ports[0].function_blocks.size(), 2u);
    const auto parsed = parse_config(format_config(snap), "snap.toml");
    ASSERT_TRUE(parsed.value) << parsed.error.to_string();
    EXPECT_EQ(parsed.value->devices[0].ports[0].function_blocks, snap.devices[0].ports[0].function_blocks);
}

TEST(naming_service, a_custom_name_survives_a_rebuild_and_a_restart_through_the_config) {
    std::string saved;
    const std::string id = "virtual/dev/1";
    {
        service_model m(one_device("Dev", "MySynth", {block("Synth", 0, 1)}));
        ASSERT_TRUE(m.ports.set_custom_name(id, 0, out, "  My Lead  "));
        m.rebuild();
        EXPECT_EQ(m.port(id, 0, out).shown, "My Lead");
        EXPECT_EQ(m.port(id, 0, in).shown, "MySynth Synth");
        // A rebuild from new blocks keeps it (keyed by group and direction).
        ASSERT_FALSE(m.reg.set_function_blocks(m.ep(id)->handle, {block("Other", 0, 2)}));
        EXPECT_EQ(m.port(id, 0, out).shown, "My Lead");
        ASSERT_TRUE(m.ports.set_approach(id, naming::naming_approach::classic));
        m.ports.set_global(naming::global_naming::new_style);
        config c = m.virt.snapshot(limits_config{});
        c.naming = m.ports.settings();
        saved = format_config(c);
    }
    const auto parsed = parse_config(saved, "umpd.toml");
    ASSERT_TRUE(parsed.value) << parsed.error.to_string() << "\n" << saved;
    ASSERT_EQ(parsed.value->naming.endpoints.size(), 1u);
    EXPECT_EQ(parsed.value->naming.endpoints[0].device, "Dev");
    EXPECT_EQ(parsed.value->naming.endpoints[0].port, 1u);
    service_model again(*parsed.value);
    EXPECT_EQ(again.port(id, 0, out).shown, "My Lead");
    EXPECT_EQ(again.port(id, 0, out).custom, "My Lead");
    EXPECT_EQ(again.ports.approach_of(id), naming::naming_approach::classic);
    EXPECT_EQ(again.port(id, 1, in).shown, "MIDIIN2 (MySynth)");  // classic for this endpoint
    EXPECT_EQ(again.ports.settings().global, naming::global_naming::new_style);
    // Clearing it drops the entry's name; the generated name shows again.
    ASSERT_TRUE(again.ports.set_custom_name(id, 0, out, ""));
    ASSERT_TRUE(again.ports.set_approach(id, naming::naming_approach::default_approach));
    again.rebuild();
    EXPECT_EQ(again.port(id, 0, out).custom, "");
    EXPECT_TRUE(again.ports.settings().endpoints.empty());
}

TEST(naming_service, numbers_survive_a_restart_through_the_state_file_and_new_ports_take_the_lowest_free) {
    config c = one_device("A", "Alpha");
    c.devices.push_back(one_device("B", "Beta").devices[0]);
    std::string state;
    {
        service_model m(c);
        EXPECT_EQ(m.port("virtual/a/1", 0, in).number, 0u);
        EXPECT_EQ(m.port("virtual/b/1", 0, in).number, 1u);
        state = format_port_numbers(m.ports.numbers().save());
    }
    std::vector<naming::port_number_record> records;
    ASSERT_EQ(parse_port_numbers(state, records), "");
    // Restart with B first in the config and a new device C: B keeps 1, A keeps 0.
    config next;
    next.devices = {c.devices[1], c.devices[0], one_device("C", "Gamma").devices[0]};
    router data{router_limits{}};
    registry reg{&data, registry_limits{}};
    virtual_driver virt{reg};
    midi1_ports ports;
    ASSERT_FALSE(ports.numbers().restore(records));
    ASSERT_FALSE(virt.publish(next));
    (void)ports.rebuild(naming_sources(reg));
    EXPECT_EQ(ports.index().port_of("virtual/b/1", 0, in)->number, 1u);
    EXPECT_EQ(ports.index().port_of("virtual/a/1", 0, in)->number, 0u);
    EXPECT_EQ(ports.index().port_of("virtual/c/1", 0, in)->number, 2u);

    // A gap in the saved state is a free number again: the new port takes it.
    std::vector<naming::port_number_record> gap = {{"ep:virtual/a/1", 0, in, 0}, {"ep:virtual/b/1", 0, in, 2}};
    midi1_ports fresh;
    ASSERT_FALSE(fresh.numbers().restore(gap));
    (void)fresh.rebuild(naming_sources(reg));
    EXPECT_EQ(fresh.index().port_of("virtual/c/1", 0, in)->number, 1u);
    const naming::indexed_port* by_number = fresh.index().find_by_number(1, in);
    ASSERT_NE(by_number, nullptr);
    EXPECT_EQ(by_number->endpoint, "virtual/c/1");
}

TEST(naming_service, identical_devices_get_duplicate_markers_and_lookups_find_every_match) {
    // Two app devices with the same name and port name (as two units of one model).
    router data{router_limits{}};
    registry reg{&data, registry_limits{}};
    for (int i = 0; i < 2; ++i) {
        device_spec spec;
        spec.driver = "app";
        spec.app_owned = true;
        spec.name = "Twin";
        port_spec p;
        p.name = "Twin";
        p.number = 1;
        endpoint_declaration d;  // declared nothing: the driver's name only
        d.name = "Twin";
        p.declared = d;
        spec.ports.push_back(p);
        ASSERT_FALSE(reg.add_device(spec));
    }
    midi1_ports ports;
    (void)ports.rebuild(naming_sources(reg));
    const auto* first = ports.index().port_of("app/twin/1", 0, in);
    const auto* second = ports.index().port_of("app/twin-2/1", 0, in);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->legacy, "Twin");
    EXPECT_EQ(second->legacy, "2- Twin");
    EXPECT_EQ(second->new_style, "Twin (2)");
    EXPECT_EQ(ports.index().find_by_name("2- Twin", in, naming::name_match::legacy_only).size(), 1u);
    // The same stored name on both (here a custom one): both are answers.
    ASSERT_TRUE(ports.set_custom_name("app/twin/1", 0, in, "Stage"));
    ASSERT_TRUE(ports.set_custom_name("app/twin-2/1", 0, in, "Stage"));
    const auto changed = ports.rebuild(naming_sources(reg));
    EXPECT_EQ(changed.size(), 2u);
    EXPECT_EQ(ports.index().find_by_name("Stage", in).size(), 2u);
    EXPECT_TRUE(ports.index().find_by_name("Stage", in, naming::name_match::legacy_only).empty());
    // Removing one: its ports leave the index, the event names it.
    ASSERT_FALSE(reg.remove_device(reg.devices()[1].handle));
    EXPECT_EQ(ports.rebuild(naming_sources(reg)), std::vector<std::string>{"app/twin-2/1"});
    EXPECT_EQ(ports.index().find_by_name("Stage", in).size(), 1u);
}

TEST(naming_service, a_product_instance_id_keys_numbers_and_settings) {
    router data{router_limits{}};
    registry reg{&data, registry_limits{}};
    device_spec spec;
    spec.driver = "app";
    spec.app_owned = true;
    spec.name = "Keys";
    port_spec p;
    p.name = "Keys";
    endpoint_declaration d;
    d.name = "Keys";
    d.product_instance_id = "SN-42";
    p.declared = d;
    spec.ports.push_back(p);
    ASSERT_FALSE(reg.add_device(spec));
    const auto sources = naming_sources(reg);
    ASSERT_EQ(sources.size(), 1u);
    EXPECT_EQ(sources[0].number_key, "piid:SN-42");
    EXPECT_EQ(naming_key(sources[0].identity), "piid:SN-42");
    EXPECT_FALSE(sources[0].legacy_equivalent);
}

TEST(naming_service, the_config_refuses_bad_function_blocks_and_naming_entries) {
    auto error_of = [](const std::string& text) {
        const auto r = parse_config(text, "c.toml");
        return r.value ? std::string() : r.error.field + ": " + r.error.message;
    };
    const std::string dev = "[[devices]]\nname = \"D\"\n[[devices.ports]]\nname = \"P\"\n";
    EXPECT_EQ(error_of(dev + "[[devices.ports.function_blocks]]\nfirst_group = 16\ngroups = 2\n"),
              "devices[0].ports[0].function_blocks[0].groups: groups 16..17 are not within 1..16");
    EXPECT_EQ(error_of(dev + "[[devices.ports.function_blocks]]\ndirection = \"sideways\"\n"),
              "devices[0].ports[0].function_blocks[0].direction: expected \"input\", \"output\" or "
              "\"bidirectional\", got \"sideways\"");
    EXPECT_EQ(error_of("[naming]\ndefault = \"fancy\"\n"),
              "naming.default: expected \"automatic\", \"classic\" or \"new-style\", got \"fancy\"");
    EXPECT_EQ(error_of("[[naming.endpoints]]\ndevice = \"D\"\n"),
              "naming.endpoints[0]: needs product_instance_id, or device and port");
    EXPECT_EQ(error_of("[[naming.endpoints]]\ndevice = \"D\"\nport = 1\n[[naming.endpoints.custom_names]]\n"
                       "group = 17\ndirection = \"in\"\nname = \"x\"\n"),
              "naming.endpoints[0].custom_names[0].group: expected 1..16, got 17");
    const auto ok = parse_config(dev + "[[devices.ports.function_blocks]]\nname = \"Lead\"\nfirst_group = 2\n"
                                       "groups = 3\ndirection = \"output\"\n",
                                 "c.toml");
    ASSERT_TRUE(ok.value) << ok.error.to_string();
    const auto& b = ok.value->devices[0].ports[0].function_blocks.at(0);
    EXPECT_EQ(b.first_group, 1);
    EXPECT_EQ(b.group_count, 3);
    EXPECT_EQ(b.ui_hint, umpd::core::function_block_ui_hint::sender);  // from the direction
}

}  // namespace
