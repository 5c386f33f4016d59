// The SDK's MIDI 1.0 port lookups against the real umpd: by name, number and endpoint;
// the cache never stale after this client's own changes or another client's; the
// application's event flow unchanged by the cache's own subscription; the C API.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "client_session.hpp"
#include "daemon_process.hpp"
#include "umpd/client/umpd.h"

namespace {

namespace uc = umpd::client;
using uc::port_direction;
using umpd_test::connect_client;

constexpr const char* endpoint1 = "virtual/umpd-virtual-device/1";
constexpr const char* device1 = "virtual/umpd-virtual-device";

template <class T>
T must(uc::result<T> r) {
    if (!r) throw std::runtime_error(r.message());
    return std::move(*r);
}

// Polls until pred(client) holds: another client's change reaches this one as an event.
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

TEST(naming_client, looks_up_by_name_number_and_endpoint) {
    umpd_test::daemon_process d;
    auto c = connect_client(d, "naming lookups");
    const auto all = must(c.ports());
    ASSERT_EQ(all.size(), 2u);  // the virtual device's port: group 1, in and out
    for (const auto& p : all) {
        EXPECT_EQ(p.endpoint, endpoint1);
        EXPECT_EQ(p.group, 0);
        EXPECT_FALSE(p.name.empty());
    }
    const std::string shown = all.front().name;
    EXPECT_EQ(must(c.find_ports(shown)).size(), 2u);
    const auto in = must(c.find_ports(shown, false, port_direction::in));
    ASSERT_EQ(in.size(), 1u);
    EXPECT_EQ(in.front().direction, port_direction::in);
    EXPECT_TRUE(must(c.find_ports("no such port")).empty());

    const auto by_number = must(c.port_by_number(in.front().number, port_direction::in));
    EXPECT_EQ(by_number, in.front());
    auto missing = c.port_by_number(9999, port_direction::out);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.code(), uc::errc::not_found);

    EXPECT_EQ(must(c.ports_of(endpoint1)).size(), 2u);
    const auto out = must(c.ports_of(endpoint1, std::uint8_t{0}, port_direction::out));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out.front().direction, port_direction::out);
    EXPECT_TRUE(must(c.ports_of(endpoint1, std::uint8_t{5})).empty());
    auto nope = c.ports_of("virtual/nothing/9");
    ASSERT_FALSE(nope);
    EXPECT_EQ(nope.code(), uc::errc::not_found);
    auto bad_group = c.ports_of(endpoint1, std::uint8_t{16});
    ASSERT_FALSE(bad_group);
    EXPECT_EQ(bad_group.code(), uc::errc::invalid_argument);

    uc::port_filter f;
    f.direction = port_direction::in;
    EXPECT_EQ(must(c.ports(f)).size(), 1u);
}

TEST(naming_client, rename_port_is_seen_by_the_next_lookup) {
    umpd_test::daemon_process d;
    auto c = connect_client(d, "naming rename");
    const auto before = must(c.port_by_number(0, port_direction::in));  // fills the cache
    EXPECT_TRUE(before.custom.empty());
    const auto renamed = must(c.rename_port(endpoint1, 0, port_direction::in, "My Keys"));
    EXPECT_EQ(renamed.name, "My Keys");
    EXPECT_EQ(renamed.custom, "My Keys");
    EXPECT_EQ(must(c.port_by_number(0, port_direction::in)).name, "My Keys");
    ASSERT_EQ(must(c.find_ports("My Keys")).size(), 1u);
    // The out port keeps its name.
    EXPECT_EQ(must(c.port_by_number(0, port_direction::out)).name, before.name);
    // An empty name clears the custom name.
    const auto cleared = must(c.rename_port(endpoint1, 0, port_direction::in, ""));
    EXPECT_TRUE(cleared.custom.empty());
    EXPECT_EQ(must(c.port_by_number(0, port_direction::in)).name, before.name);
    EXPECT_TRUE(must(c.find_ports("My Keys")).empty());
    auto bad = c.rename_port(endpoint1, 16, port_direction::in, "x");
    EXPECT_EQ(bad.code(), uc::errc::invalid_argument);
}

TEST(naming_client, add_and_remove_port_are_seen_by_the_next_lookup) {
    umpd_test::daemon_process d;
    auto c = connect_client(d, "naming add");
    ASSERT_EQ(must(c.ports()).size(), 2u);
    const auto e = must(c.add_port(device1, "Second Port"));
    const auto added = must(c.ports_of(e.id));
    ASSERT_EQ(added.size(), 2u);
    EXPECT_EQ(must(c.ports()).size(), 4u);
    EXPECT_FALSE(must(c.find_ports(added.front().name)).empty());
    // New ports take the lowest free numbers: 1 in each direction.
    for (const auto& p : added) EXPECT_EQ(p.number, 1u) << p.name;
    ASSERT_TRUE(c.remove_port(e.id));
    EXPECT_EQ(must(c.ports()).size(), 2u);
    EXPECT_EQ(c.ports_of(e.id).code(), uc::errc::not_found);
    auto gone = c.port_by_number(1, port_direction::in);
    EXPECT_EQ(gone.code(), uc::errc::not_found);
}

TEST(naming_client, set_function_blocks_is_seen_by_the_next_lookup) {
    umpd_test::daemon_process d;
    auto c = connect_client(d, "naming blocks");
    ASSERT_EQ(must(c.ports_of(endpoint1)).size(), 2u);
    uc::function_block_spec synth;
    synth.name = "Synth";
    synth.first_group = 1;
    synth.groups = 2;
    uc::function_block_spec drums;
    drums.name = "Drums";
    drums.first_group = 10;
    drums.direction = "input";  // the block receives: an out port only
    const auto decl = must(c.set_function_blocks(endpoint1, {synth, drums}));
    ASSERT_EQ(decl.function_blocks.size(), 2u);
    EXPECT_EQ(decl.function_blocks[0].name, "Synth");
    EXPECT_EQ(decl.function_blocks[0].first_group, 0);
    EXPECT_EQ(decl.function_blocks[0].groups, 2);
    EXPECT_EQ(decl.function_blocks[1].first_group, 9);

    const auto ports = must(c.ports_of(endpoint1));
    EXPECT_EQ(ports.size(), 5u);  // groups 1-2 both ways, group 10 out
    const auto g10 = must(c.ports_of(endpoint1, std::uint8_t{9}));
    ASSERT_EQ(g10.size(), 1u);
    EXPECT_EQ(g10.front().direction, port_direction::out);
    EXPECT_NE(g10.front().new_style.find("Drums"), std::string::npos) << g10.front().new_style;

    const auto info = must(c.endpoint_details(endpoint1));
    EXPECT_EQ(info.endpoint, endpoint1);
    ASSERT_EQ(info.function_blocks.size(), 2u);
    EXPECT_EQ(info.function_blocks[1].name, "Drums");

    // Back to none: group 1 both ways again.
    (void)must(c.set_function_blocks(endpoint1, {}));
    EXPECT_EQ(must(c.ports_of(endpoint1)).size(), 2u);
}

TEST(naming_client, naming_approaches_change_the_names_looked_up) {
    umpd_test::daemon_process d;
    auto c = connect_client(d, "naming approaches");
    EXPECT_EQ(must(c.get_global_naming()), uc::global_naming::automatic);
    uc::function_block_spec synth;
    synth.name = "Synth";
    synth.groups = 2;
    (void)must(c.set_function_blocks(endpoint1, {synth}));
    const auto classic = must(c.set_naming(endpoint1, uc::endpoint_naming::classic));
    ASSERT_FALSE(classic.empty());
    for (const auto& p : classic) EXPECT_EQ(p.name, p.legacy);
    for (const auto& p : must(c.ports_of(endpoint1))) EXPECT_EQ(p.name, p.legacy);
    EXPECT_EQ(must(c.endpoint_details(endpoint1)).naming, uc::endpoint_naming::classic);
    (void)must(c.set_naming(endpoint1, uc::endpoint_naming::use_default));
    ASSERT_TRUE(c.set_global_naming(uc::global_naming::new_style));
    EXPECT_EQ(must(c.get_global_naming()), uc::global_naming::new_style);
    for (const auto& p : must(c.ports_of(endpoint1))) EXPECT_EQ(p.name, p.new_style);
    ASSERT_TRUE(c.set_global_naming(uc::global_naming::classic));
    for (const auto& p : must(c.ports_of(endpoint1))) EXPECT_EQ(p.name, p.legacy);
}

TEST(naming_client, another_clients_change_reaches_this_clients_cache) {
    umpd_test::daemon_process d;
    auto a = connect_client(d, "naming A");
    auto b = connect_client(d, "naming B");
    const auto before = must(a.port_by_number(0, port_direction::out));  // A caches
    ASSERT_NE(before.name, "Renamed by B");
    (void)must(b.rename_port(endpoint1, 0, port_direction::out, "Renamed by B"));
    EXPECT_TRUE(eventually([&] {
        auto p = a.port_by_number(0, port_direction::out);
        return p && p->name == "Renamed by B";
    }));
    EXPECT_EQ(must(a.find_ports("Renamed by B")).size(), 1u);

    const auto e = must(b.add_port(device1, "From B"));
    EXPECT_TRUE(eventually([&] {
        auto p = a.ports_of(e.id);
        return p && p->size() == 2;
    }));
    ASSERT_TRUE(b.remove_port(e.id));
    EXPECT_TRUE(eventually([&] { return a.ports_of(e.id).code() == uc::errc::not_found; }));
}

TEST(naming_client, the_caches_subscription_leaves_the_applications_events_alone) {
    umpd_test::daemon_process d;
    auto a = connect_client(d, "naming unsubscribed");
    auto watcher = connect_client(d, "naming watcher");
    ASSERT_TRUE(watcher.subscribe());
    auto b = connect_client(d, "naming changer");
    (void)must(a.ports());  // A's cache subscribes A's socket
    const auto e = must(b.add_port(device1, "Seen"));
    // Once A's lookup shows the port, A has read the events of the change ...
    ASSERT_TRUE(eventually([&] {
        auto p = a.ports_of(e.id);
        return p && !p->empty();
    }));
    // ... and, not subscribed itself, was given none of them.
    uc::event got;
    EXPECT_FALSE(a.next_event(got, std::chrono::milliseconds(0))) << got.json;
    // A subscribed client gets ports_changed with the endpoint's ports.
    const auto changed = umpd_test::wait_event(watcher, [&](const uc::event& ev) {
        return ev.what == uc::event::kind::ports_changed && ev.id == e.id;
    });
    ASSERT_TRUE(changed);
    EXPECT_EQ(changed->ports.size(), 2u);
    // A subscribing later gets events from then on, as before.
    ASSERT_TRUE(a.subscribe());
    ASSERT_TRUE(b.remove_port(e.id));
    EXPECT_TRUE(umpd_test::wait_event(a, [&](const uc::event& ev) {
        return ev.what == uc::event::kind::endpoint_removed && ev.id == e.id;
    }));
}

TEST(naming_client, the_cache_survives_a_restart_of_umpd) {
    umpd_test::daemon_process d;
    auto c = connect_client(d, "naming restart");
    (void)must(c.rename_port(endpoint1, 0, port_direction::in, "Before Restart"));
    ASSERT_EQ(must(c.port_by_number(0, port_direction::in)).name, "Before Restart");
    d.kill_hard();
    d.start();  // --no-config: the custom name is gone
    EXPECT_TRUE(eventually([&] {
        auto p = c.port_by_number(0, port_direction::in);
        return p && p->name != "Before Restart";
    }));
}

TEST(naming_client, c_api_lookups) {
    umpd_test::daemon_process d;
    umpd_client* c = nullptr;
    ASSERT_EQ(umpd_connect(d.dir().c_str(), "naming C", &c), UMPD_OK) << umpd_last_error();
    ASSERT_EQ(umpd_rename_port(c, endpoint1, 0, UMPD_PORT_IN, "C Name"), UMPD_OK) << umpd_last_error();
    umpd_midi1_port ports[4];
    size_t count = 0;
    ASSERT_EQ(umpd_find_ports(c, "C Name", 0, UMPD_PORT_ANY, ports, 4, &count), UMPD_OK) << umpd_last_error();
    ASSERT_EQ(count, 1u);
    EXPECT_STREQ(ports[0].name, "C Name");
    EXPECT_STREQ(ports[0].custom, "C Name");
    EXPECT_STREQ(ports[0].endpoint, endpoint1);
    EXPECT_EQ(ports[0].direction, UMPD_PORT_IN);
    EXPECT_EQ(ports[0].group, 0);
    umpd_midi1_port one;
    ASSERT_EQ(umpd_port_by_number(c, ports[0].number, UMPD_PORT_IN, &one), UMPD_OK) << umpd_last_error();
    EXPECT_STREQ(one.name, "C Name");
    EXPECT_EQ(umpd_port_by_number(c, 999, UMPD_PORT_OUT, &one), UMPD_ERR_NOT_FOUND);
    ASSERT_EQ(umpd_ports_of(c, endpoint1, -1, UMPD_PORT_ANY, ports, 4, &count), UMPD_OK) << umpd_last_error();
    EXPECT_EQ(count, 2u);
    ASSERT_EQ(umpd_ports_of(c, endpoint1, 0, UMPD_PORT_OUT, ports, 4, &count), UMPD_OK) << umpd_last_error();
    EXPECT_EQ(count, 1u);
    EXPECT_EQ(umpd_ports_of(c, endpoint1, 16, UMPD_PORT_ANY, ports, 4, &count), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_find_ports(c, "x", 0, 7, ports, 4, &count), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_find_ports(nullptr, "x", 0, UMPD_PORT_ANY, ports, 4, &count), UMPD_ERR_INVALID_ARGUMENT);
    char* info = nullptr;
    ASSERT_EQ(umpd_endpoint_info_json(c, endpoint1, &info), UMPD_OK) << umpd_last_error();
    ASSERT_NE(info, nullptr);
    EXPECT_NE(std::string(info).find("function_blocks"), std::string::npos);
    umpd_free_string(info);
    umpd_disconnect(c);
}

}  // namespace
