// The SDK's MIDI 1.0 port lookups without a umpd: the protocol's port objects read
// (and refused when malformed), the index built from a port list, and the cache's
// invalidation rules, including a fetch that races with a change.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "umpd/client/port_cache.hpp"
#include "umpd/client/ports.hpp"

namespace {

namespace uc = umpd::client;
using uc::port_direction;

// Two endpoints; "b/1" comes first in the list but sorts after "a/1".
constexpr const char* list_json = R"js({"ports": [
  {"number": 3, "direction": "out", "group": 2, "name": "Synth B", "custom": "", "legacy": "MIDIOUT2 (Dev B)",
   "new_style": "Synth B", "endpoint": "b/1", "endpoint_name": "Dev B"},
  {"number": 0, "direction": "in", "group": 1, "name": "My Keys", "custom": "My Keys", "legacy": "Dev A",
   "new_style": "Dev A Keys", "endpoint": "a/1", "endpoint_name": "Dev A"},
  {"number": 0, "direction": "out", "group": 1, "name": "Dev A Keys", "custom": "", "legacy": "Dev A",
   "new_style": "Dev A Keys", "endpoint": "a/1", "endpoint_name": "Dev A"},
  {"number": 1, "direction": "out", "group": 16, "name": "Dev A", "custom": "", "legacy": "Dev A",
   "new_style": "Dev A", "endpoint": "a/1", "endpoint_name": "Dev A"},
  {"number": 2, "direction": "in", "group": 1, "name": "Synth B", "custom": "", "legacy": "Dev B",
   "new_style": "Synth B", "endpoint": "b/1", "endpoint_name": "Dev B"}
]})js";

uc::port_catalog catalog() {
    auto ports = uc::parse_ports_json(list_json);
    EXPECT_TRUE(ports) << ports.message();
    return uc::port_catalog(ports ? *ports : std::vector<uc::midi1_port>{});
}

std::vector<std::string> keys(const std::vector<uc::midi1_port>& ports) {
    std::vector<std::string> out;
    for (const auto& p : ports)
        out.push_back(p.endpoint + ":" + std::to_string(p.group) + ":" + std::string(uc::to_string(p.direction)) + "#" +
                      std::to_string(p.number));
    return out;
}

TEST(naming_cache, parses_port_objects_with_groups_0_based) {
    auto ports = uc::parse_ports_json(list_json);
    ASSERT_TRUE(ports) << ports.message();
    ASSERT_EQ(ports->size(), 5u);
    const uc::midi1_port& p = (*ports)[1];
    EXPECT_EQ(p.number, 0u);
    EXPECT_EQ(p.direction, port_direction::in);
    EXPECT_EQ(p.group, 0);  // the protocol's group 1
    EXPECT_EQ(p.name, "My Keys");
    EXPECT_TRUE(p.has_custom_name());
    EXPECT_EQ(p.legacy, "Dev A");
    EXPECT_EQ(p.new_style, "Dev A Keys");
    EXPECT_EQ(p.endpoint, "a/1");
    EXPECT_EQ(p.endpoint_name, "Dev A");
    EXPECT_EQ((*ports)[3].group, 15);  // group 16
    EXPECT_FALSE((*ports)[0].has_custom_name());
    // The bare array (a ports_changed event's "ports") reads the same.
    auto bare = uc::parse_ports_json(R"([{"number": 7, "direction": "in", "group": 3, "name": "x", "endpoint": "e"}])");
    ASSERT_TRUE(bare) << bare.message();
    ASSERT_EQ(bare->size(), 1u);
    EXPECT_EQ(bare->front().group, 2);
    EXPECT_EQ(bare->front().number, 7u);
}

TEST(naming_cache, refuses_malformed_port_lists) {
    const char* bad[] = {
        "not json",
        R"({"endpoints": []})",
        R"({"ports": {}})",
        R"({"ports": [1]})",
        R"({"ports": [{"number": 0, "direction": "sideways", "group": 1, "name": "x", "endpoint": "e"}]})",
        R"({"ports": [{"number": 0, "direction": "in", "group": 0, "name": "x", "endpoint": "e"}]})",
        R"({"ports": [{"number": 0, "direction": "in", "group": 17, "name": "x", "endpoint": "e"}]})",
        R"({"ports": [{"number": -1, "direction": "in", "group": 1, "name": "x", "endpoint": "e"}]})",
        R"({"ports": [{"number": 0, "direction": "in", "group": 1, "endpoint": "e"}]})",
        R"({"ports": [{"number": 0, "direction": "in", "group": 1, "name": 5, "endpoint": "e"}]})",
        R"({"ports": [{"number": 0, "direction": "in", "group": 1, "name": "x"}]})",
        R"({"ports": [{"number": "0", "direction": "in", "group": 1, "name": "x", "endpoint": "e"}]})",
    };
    for (const char* text : bad) {
        auto r = uc::parse_ports_json(text);
        ASSERT_FALSE(r) << text;
        EXPECT_EQ(r.code(), uc::errc::protocol_error) << text;
        EXPECT_FALSE(r.message().empty());
    }
    // The message names the port and the field.
    auto r = uc::parse_ports_json(
        R"({"ports": [{"number": 0, "direction": "in", "group": 1, "name": "x", "endpoint": "e"},
                      {"number": 1, "direction": "in", "group": 99, "name": "y", "endpoint": "e"}]})");
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("port 2"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("group"), std::string::npos) << r.message();
}

TEST(naming_cache, finds_by_any_name_or_legacy_only) {
    const auto c = catalog();
    // Custom name.
    EXPECT_EQ(keys(c.find("My Keys", false)), std::vector<std::string>{"a/1:0:in#0"});
    // New-style name shared by both directions of a/1 group 0: in before out.
    EXPECT_EQ(keys(c.find("Dev A Keys", false)), (std::vector<std::string>{"a/1:0:in#0", "a/1:0:out#0"}));
    // Legacy "Dev A": three ports of a/1; the port whose shown, legacy and new-style
    // names are all "Dev A" is found once.
    EXPECT_EQ(keys(c.find("Dev A", false)), (std::vector<std::string>{"a/1:0:in#0", "a/1:0:out#0", "a/1:15:out#1"}));
    EXPECT_EQ(keys(c.find("Dev A", true)), (std::vector<std::string>{"a/1:0:in#0", "a/1:0:out#0", "a/1:15:out#1"}));
    // A new-style name is not a legacy one.
    EXPECT_TRUE(c.find("Dev A Keys", true).empty());
    EXPECT_EQ(keys(c.find("MIDIOUT2 (Dev B)", true)), std::vector<std::string>{"b/1:1:out#3"});
    // Direction narrows; several endpoints: ordered by endpoint.
    EXPECT_EQ(keys(c.find("Dev A", false, port_direction::out)), (std::vector<std::string>{"a/1:0:out#0", "a/1:15:out#1"}));
    EXPECT_EQ(keys(c.find("Synth B", false, port_direction::in)), std::vector<std::string>{"b/1:0:in#2"});
    // Exact bytes: no case folding, no trimming.
    EXPECT_TRUE(c.find("dev a", false).empty());
    EXPECT_TRUE(c.find("Dev A ", false).empty());
    EXPECT_TRUE(c.find("nothing", false).empty());
}

TEST(naming_cache, finds_by_number_per_direction) {
    const auto c = catalog();
    const auto* in0 = c.by_number(0, port_direction::in);
    ASSERT_NE(in0, nullptr);
    EXPECT_EQ(in0->name, "My Keys");
    const auto* out0 = c.by_number(0, port_direction::out);
    ASSERT_NE(out0, nullptr);
    EXPECT_EQ(out0->name, "Dev A Keys");
    const auto* out3 = c.by_number(3, port_direction::out);
    ASSERT_NE(out3, nullptr);
    EXPECT_EQ(out3->endpoint, "b/1");
    EXPECT_EQ(c.by_number(3, port_direction::in), nullptr);
    EXPECT_EQ(c.by_number(99, port_direction::out), nullptr);
}

TEST(naming_cache, finds_by_endpoint_group_and_direction) {
    const auto c = catalog();
    EXPECT_EQ(keys(c.of_endpoint("a/1")), (std::vector<std::string>{"a/1:0:in#0", "a/1:0:out#0", "a/1:15:out#1"}));
    EXPECT_EQ(keys(c.of_endpoint("a/1", std::uint8_t{15})), std::vector<std::string>{"a/1:15:out#1"});
    EXPECT_EQ(keys(c.of_endpoint("a/1", std::nullopt, port_direction::in)), std::vector<std::string>{"a/1:0:in#0"});
    EXPECT_TRUE(c.of_endpoint("a/1", std::uint8_t{3}).empty());
    // By the endpoint's name when only one endpoint has it.
    EXPECT_EQ(keys(c.of_endpoint("Dev B")), (std::vector<std::string>{"b/1:0:in#2", "b/1:1:out#3"}));
    EXPECT_TRUE(c.of_endpoint("nope").empty());
    // The whole list, in catalog order (endpoint, group, direction).
    EXPECT_EQ(keys(c.all()), (std::vector<std::string>{"a/1:0:in#0", "a/1:0:out#0", "a/1:15:out#1", "b/1:0:in#2",
                                                       "b/1:1:out#3"}));
    uc::port_filter f;
    f.direction = port_direction::out;
    EXPECT_EQ(keys(c.select(f)), (std::vector<std::string>{"a/1:0:out#0", "a/1:15:out#1", "b/1:1:out#3"}));
    f.group = 0;
    EXPECT_EQ(keys(c.select(f)), std::vector<std::string>{"a/1:0:out#0"});
    f = {};
    f.endpoint = "b/1";
    f.group = 1;
    EXPECT_EQ(keys(c.select(f)), std::vector<std::string>{"b/1:1:out#3"});
}

TEST(naming_cache, an_endpoint_name_two_endpoints_share_finds_nothing) {
    auto ports = uc::parse_ports_json(
        R"([{"number": 0, "direction": "in", "group": 1, "name": "x", "endpoint": "a/1", "endpoint_name": "Same"},
            {"number": 1, "direction": "in", "group": 1, "name": "y", "endpoint": "b/1", "endpoint_name": "Same"}])");
    ASSERT_TRUE(ports) << ports.message();
    const uc::port_catalog c(*ports);
    EXPECT_TRUE(c.of_endpoint("Same").empty());
    EXPECT_EQ(c.of_endpoint("b/1").size(), 1u);
}

TEST(naming_cache, which_events_invalidate) {
    using k = uc::event::kind;
    for (k e : {k::ports_changed, k::endpoint_added, k::endpoint_removed, k::endpoint_changed, k::reconnected,
                k::disconnected})
        EXPECT_TRUE(uc::port_cache::invalidated_by(e)) << uc::to_string(e);
    for (k e : {k::device_added, k::device_changed, k::device_removed, k::configuration_change, k::data_error,
                k::connection_lost, k::endpoint_opened, k::endpoint_closed, k::unknown})
        EXPECT_FALSE(uc::port_cache::invalidated_by(e)) << uc::to_string(e);
}

// A fetch that serves a list the test swaps, and counts how often it ran.
struct fake_umpd {
    std::vector<uc::midi1_port> ports;
    int calls = 0;
    uc::port_cache::fetch_fn fetch() {
        return [this]() -> uc::result<std::vector<uc::midi1_port>> {
            ++calls;
            return ports;
        };
    }
};

uc::midi1_port port(std::string name, std::uint32_t number = 0) {
    uc::midi1_port p;
    p.name = std::move(name);
    p.number = number;
    p.endpoint = "virtual/x/1";
    return p;
}

TEST(naming_cache, fetches_once_until_an_event_drops_it) {
    uc::port_cache cache;
    fake_umpd umpd{{port("Old")}};
    EXPECT_FALSE(cache.cached());
    auto a = cache.get(umpd.fetch(), true);
    ASSERT_TRUE(a);
    EXPECT_EQ((*a)->find("Old", false).size(), 1u);
    EXPECT_TRUE(cache.cached());
    umpd.ports = {port("New")};
    auto b = cache.get(umpd.fetch(), true);  // from the cache: still the old list
    ASSERT_TRUE(b);
    EXPECT_EQ(umpd.calls, 1);
    EXPECT_EQ(b->get(), a->get());
    // An event that does not concern ports keeps it.
    uc::event e;
    e.what = uc::event::kind::device_added;
    cache.on_event(e);
    EXPECT_TRUE(cache.cached());
    // ports_changed drops it: the next lookup fetches and sees the new name.
    e.what = uc::event::kind::ports_changed;
    cache.on_event(e);
    EXPECT_FALSE(cache.cached());
    auto c = cache.get(umpd.fetch(), true);
    ASSERT_TRUE(c);
    EXPECT_EQ(umpd.calls, 2);
    EXPECT_TRUE((*c)->find("Old", false).empty());
    EXPECT_EQ((*c)->find("New", false).size(), 1u);
    EXPECT_EQ(cache.fetches(), 2u);
    // The catalog handed out earlier stays valid and unchanged.
    EXPECT_EQ((*a)->find("Old", false).size(), 1u);
}

TEST(naming_cache, without_a_subscription_nothing_is_kept) {
    uc::port_cache cache;
    fake_umpd umpd{{port("A")}};
    ASSERT_TRUE(cache.get(umpd.fetch(), false));
    ASSERT_TRUE(cache.get(umpd.fetch(), false));
    EXPECT_EQ(umpd.calls, 2);
    EXPECT_FALSE(cache.cached());
}

TEST(naming_cache, a_fetch_that_raced_with_a_change_is_answered_but_not_kept) {
    uc::port_cache cache;
    int calls = 0;
    // The change's event arrives while the list is on its way.
    auto racing = [&]() -> uc::result<std::vector<uc::midi1_port>> {
        ++calls;
        cache.invalidate();
        return std::vector<uc::midi1_port>{port("Before")};
    };
    auto r = cache.get(racing, true);
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)->all().size(), 1u);
    EXPECT_FALSE(cache.cached());
    fake_umpd umpd{{port("After")}};
    auto again = cache.get(umpd.fetch(), true);
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)->find("After", false).size(), 1u);
    EXPECT_TRUE(cache.cached());
}

TEST(naming_cache, a_failed_fetch_is_reported_and_not_kept) {
    uc::port_cache cache;
    auto failing = []() -> uc::result<std::vector<uc::midi1_port>> {
        return uc::make_error(uc::errc::disconnected, "gone");
    };
    auto r = cache.get(failing, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), uc::errc::disconnected);
    EXPECT_FALSE(cache.cached());
}

TEST(naming_cache, lookups_and_invalidations_on_several_threads) {
    uc::port_cache cache;
    std::atomic<int> version{0};
    std::atomic<int> invalidated{0};
    // Each fetch returns a list naming the version it read; a lookup must never see a
    // version older than the last invalidation that finished before it started.
    auto fetch = [&]() -> uc::result<std::vector<uc::midi1_port>> {
        return std::vector<uc::midi1_port>{port("v" + std::to_string(version.load()))};
    };
    std::atomic<bool> stop{false};
    std::atomic<int> stale{0};
    std::atomic<int> lookups{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t)
        readers.emplace_back([&] {
            while (!stop) {
                const int floor = invalidated.load();
                auto r = cache.get(fetch, true);
                if (!r) continue;
                const std::string& name = (*r)->all().front().name;
                if (std::stoi(name.substr(1)) < floor) ++stale;
                ++lookups;
            }
        });
    // Until the readers have done plenty of lookups, interleaved with the changes.
    int i = 0;
    while (++i <= 2000 || lookups.load() < 5000) {
        version = i;         // the change happens in umpd ...
        cache.invalidate();  // ... and its event reaches the control thread
        invalidated = i;
        if (i % 16 == 0) std::this_thread::yield();
    }
    stop = true;
    for (auto& t : readers) t.join();
    EXPECT_EQ(stale.load(), 0);
    auto last = cache.get(fetch, true);
    ASSERT_TRUE(last);
    EXPECT_EQ((*last)->all().front().name, "v" + std::to_string(i - 1));
}

TEST(naming_cache, parses_an_endpoint_declaration) {
    auto d = uc::parse_endpoint_declaration_json(R"({
      "endpoint": {"id": "app/synth/1", "name": "Synth"},
      "declared": {"ump_version": [1, 1], "midi1": false, "midi2": true, "rx_jr": true, "tx_jr": false,
                   "static_function_blocks": false, "name": "Synth EP", "product_instance_id": null,
                   "device_identity": {"manufacturer": [0, 33, 9], "family": 2, "model": 300,
                                       "software_revision": [1, 0, 0, 0]},
                   "protocol": "midi2", "discovery": "complete"},
      "function_blocks": [{"block": 1, "name": "Keys", "active": true, "first_group": 1, "groups": 2,
                           "direction": "bidirectional", "ui_hint": "sender_receiver", "midi1": "no",
                           "midi_ci_version": 2, "sysex8_streams": 0},
                          {"block": 2, "name": "Pads", "active": false, "first_group": 16, "groups": 1,
                           "direction": "output", "ui_hint": "sender", "midi1": "restricted",
                           "midi_ci_version": 0, "sysex8_streams": 1}],
      "group_terminal_blocks": [], "ump_only": false, "naming": "new-style"})");
    ASSERT_TRUE(d) << d.message();
    EXPECT_EQ(d->endpoint, "app/synth/1");
    EXPECT_EQ(d->endpoint_name, "Synth");
    EXPECT_TRUE(d->midi2);
    EXPECT_FALSE(d->midi1);
    EXPECT_TRUE(d->rx_jr);
    ASSERT_TRUE(d->name);
    EXPECT_EQ(*d->name, "Synth EP");
    EXPECT_FALSE(d->product_instance_id);
    ASSERT_TRUE(d->device_identity);
    EXPECT_EQ(d->device_identity->manufacturer[1], 33);
    EXPECT_EQ(d->device_identity->model, 300);
    EXPECT_EQ(d->discovery, "complete");
    ASSERT_EQ(d->function_blocks.size(), 2u);
    EXPECT_EQ(d->function_blocks[0].block, 0);
    EXPECT_EQ(d->function_blocks[0].first_group, 0);
    EXPECT_EQ(d->function_blocks[0].groups, 2);
    EXPECT_EQ(d->function_blocks[0].midi_ci_version, 2);
    EXPECT_EQ(d->function_blocks[1].block, 1);
    EXPECT_EQ(d->function_blocks[1].first_group, 15);
    EXPECT_FALSE(d->function_blocks[1].active);
    EXPECT_EQ(d->function_blocks[1].midi1, "restricted");
    EXPECT_EQ(d->naming, uc::endpoint_naming::new_style);
    EXPECT_FALSE(d->json.empty());

    for (const char* bad : {R"([])", R"({"naming": "sideways"})", R"({"function_blocks": [{"first_group": 0}]})",
                            R"({"declared": {"device_identity": {"manufacturer": [1, 2]}}})"}) {
        auto r = uc::parse_endpoint_declaration_json(bad);
        EXPECT_FALSE(r) << bad;
        EXPECT_EQ(r.code(), uc::errc::protocol_error) << bad;
    }
}

TEST(naming_cache, naming_words_round_trip) {
    for (auto n : {uc::endpoint_naming::use_default, uc::endpoint_naming::classic, uc::endpoint_naming::new_style})
        EXPECT_EQ(uc::parse_endpoint_naming(uc::to_string(n)), n);
    for (auto n : {uc::global_naming::automatic, uc::global_naming::classic, uc::global_naming::new_style})
        EXPECT_EQ(uc::parse_global_naming(uc::to_string(n)), n);
    EXPECT_EQ(uc::to_string(uc::endpoint_naming::use_default), "default");
    EXPECT_EQ(uc::to_string(uc::global_naming::new_style), "new-style");
    EXPECT_FALSE(uc::parse_endpoint_naming("automatic"));
    EXPECT_FALSE(uc::parse_global_naming("default"));
    EXPECT_EQ(uc::parse_port_direction("in"), port_direction::in);
    EXPECT_FALSE(uc::parse_port_direction("input"));
}

}  // namespace
