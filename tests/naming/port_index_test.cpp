// The lookup index against the linear scan on seeded random endpoints, and the
// behaviours a service relies on: several matches, incremental updates, refusals.
#include <gtest/gtest.h>

#include <random>

#include "umpd/naming/name_table.hpp"
#include "umpd/naming/port_index.hpp"
#include "umpd/naming/port_numbers.hpp"
#include "umpd/naming/projection.hpp"

namespace {

using namespace umpd::naming;
constexpr auto src = port_direction::source;
constexpr auto dst = port_direction::destination;

std::vector<indexed_port> values(const port_list& l) {
    std::vector<indexed_port> out;
    for (const auto* p : l) out.push_back(*p);
    return out;
}

std::optional<indexed_port> value(const indexed_port* p) {
    return p ? std::optional<indexed_port>(*p) : std::nullopt;
}

// Builds an endpoint's ports the way the service does: blocks → projection → table → numbers.
std::vector<indexed_port> random_endpoint(std::mt19937& rng, const std::string& id, port_numbers& numbers) {
    static const std::vector<std::string> devices{"UM-ONE", "SoftStep", "TEST DEVICE", "Keystation", "MIDIMATE II"};
    static const std::vector<std::string> blocks{"Synth", "MIDI", "Control Surface", "Drums", "Seq", "", "Ext In [0]"};
    endpoint_blocks b;
    const auto count = rng() % 4;
    for (unsigned i = 0; i < count; ++i)
        b.function_blocks.push_back({blocks[rng() % blocks.size()], static_cast<std::uint8_t>(rng() % 16),
                                     static_cast<std::uint8_t>(1 + rng() % 3),
                                     static_cast<block_direction>(1 + rng() % 3), rng() % 5 != 0});
    endpoint_naming_input in;
    in.device = devices[rng() % devices.size()];
    in.duplicate = 1 + rng() % 2;
    in.ports = project_ports(b);
    for (auto& p : in.ports)
        if (rng() % 8 == 0) p.custom = "Custom " + std::to_string(rng() % 3);
    const auto t = build_name_table(in);
    EXPECT_FALSE(t.error);
    std::vector<std::uint32_t> nums;
    for (const auto& e : t.table.entries) nums.push_back(numbers.assign(id, e.group_index, e.direction));
    return make_indexed_ports(id, t.table, nums);
}

TEST(port_index, agrees_with_the_linear_scan_on_random_data) {
    std::mt19937 rng(4242);
    port_numbers numbers;
    port_index index;
    port_scan scan;
    std::set<std::string> names{"", "nothing", "Custom 1"};
    std::size_t matches_seen = 0, several_seen = 0;
    for (int round = 0; round < 400; ++round) {
        const std::string id = "ep" + std::to_string(rng() % 30);
        if (rng() % 6 == 0) {
            index.remove(id);
            scan.remove(id);
        } else {
            auto ports = random_endpoint(rng, id, numbers);
            for (const auto& p : ports)
                for (const auto* n : {&p.custom, &p.legacy, &p.new_style}) names.insert(*n);
            ASSERT_FALSE(scan.update(id, ports));
            ASSERT_FALSE(index.update(id, std::move(ports)));
        }
        ASSERT_EQ(index.size(), scan.size());
        if (round % 20 != 19) continue;
        for (const auto& n : names)
            for (auto d : {src, dst})
                for (auto m : {name_match::any, name_match::legacy_only}) {
                    const auto got = values(index.find_by_name(n, d, m));
                    ASSERT_EQ(got, values(scan.find_by_name(n, d, m))) << n;
                    matches_seen += got.size();
                    several_seen += got.size() > 1;
                }
        for (std::uint32_t num = 0; num < 40; ++num)
            for (auto d : {src, dst}) ASSERT_EQ(value(index.find_by_number(num, d)), value(scan.find_by_number(num, d)));
        for (int e = 0; e < 30; ++e) {
            const std::string ep = "ep" + std::to_string(e);
            ASSERT_EQ(values(index.ports_of(ep)), values(scan.ports_of(ep)));
            for (auto d : {src, dst}) {
                ASSERT_EQ(values(index.ports_of(ep, d)), values(scan.ports_of(ep, d)));
                for (std::uint8_t g = 0; g < 16; ++g)
                    ASSERT_EQ(value(index.port_of(ep, g, d)), value(scan.port_of(ep, g, d)));
            }
        }
    }
    // The data exercised what it should: matches, and names shared by several ports.
    EXPECT_GT(matches_seen, 100u);
    EXPECT_GT(several_seen, 10u);
}

indexed_port port(std::uint8_t g, port_direction d, std::uint32_t n, std::string legacy, std::string fresh = "") {
    indexed_port p;
    p.group_index = g;
    p.direction = d;
    p.number = n;
    p.legacy = legacy;
    p.new_style = fresh.empty() ? legacy : fresh;
    p.shown = p.new_style;
    return p;
}

TEST(port_index, two_identical_devices_and_incremental_updates) {
    port_index index;
    ASSERT_FALSE(index.update("usb:2", {port(0, src, 1, "UM-ONE", "UM-ONE Port"), port(0, dst, 1, "UM-ONE")}));
    ASSERT_FALSE(index.update("usb:1", {port(0, src, 0, "UM-ONE"), port(0, dst, 0, "UM-ONE")}));
    // A stored WinMM name matches both units: both are answers, ordered by endpoint.
    auto hits = index.find_by_name("UM-ONE", src, name_match::legacy_only);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0]->endpoint, "usb:1");
    EXPECT_EQ(hits[1]->endpoint, "usb:2");
    EXPECT_TRUE(index.find_by_name("UM-ONE Port", src, name_match::legacy_only).empty());
    EXPECT_EQ(index.find_by_name("UM-ONE Port", src).size(), 1u);
    EXPECT_TRUE(index.find_by_name("UM-ONE Port", dst).empty());
    EXPECT_TRUE(index.find_by_name("um-one", src).empty());  // exact, as applications stored it

    // usb:2 changes its blocks: its old names go, the other endpoint's pointers stay valid.
    const indexed_port* kept = index.find_by_number(0, src);
    ASSERT_FALSE(index.update("usb:2", {port(3, src, 1, "2- UM-ONE")}));
    EXPECT_EQ(index.find_by_name("UM-ONE", src).size(), 1u);
    EXPECT_EQ(index.find_by_name("UM-ONE", dst).size(), 1u);
    EXPECT_EQ(index.find_by_number(0, src), kept);
    EXPECT_EQ(index.find_by_number(1, src)->group_index, 3);
    EXPECT_EQ(index.find_by_number(1, dst), nullptr);
    EXPECT_EQ(index.port_of("usb:2", 3, src)->legacy, "2- UM-ONE");
    EXPECT_EQ(index.ports_of("usb:1").size(), 2u);
    EXPECT_EQ(index.size(), 3u);

    index.remove("usb:1");
    EXPECT_TRUE(index.find_by_name("UM-ONE", src).empty());
    EXPECT_TRUE(index.ports_of("usb:1").empty());
    ASSERT_FALSE(index.update("usb:2", {}));  // an empty list removes
    EXPECT_EQ(index.size(), 0u);
}

TEST(port_index, refuses_inconsistent_updates_and_changes_nothing) {
    for (int impl = 0; impl < 2; ++impl) {
        port_index index;
        port_scan scan;
        auto update = [&](std::string_view ep, std::vector<indexed_port> p) {
            return impl == 0 ? index.update(ep, std::move(p)) : scan.update(ep, std::move(p));
        };
        ASSERT_FALSE(update("a", {port(0, src, 0, "A")}));
        EXPECT_EQ(update("b", {port(0, src, 0, "B")}), errc::duplicate_number);
        EXPECT_EQ(update("b", {port(0, src, 1, "B"), port(1, src, 1, "B2")}), errc::duplicate_number);
        EXPECT_EQ(update("b", {port(0, src, 1, "B"), port(0, src, 2, "B2")}), errc::duplicate_port);
        EXPECT_EQ(update("b", {port(16, src, 1, "B")}), errc::group_out_of_range);
        // The endpoint itself may reuse its own numbers.
        EXPECT_FALSE(update("a", {port(1, src, 0, "A2")}));
        const auto size = impl == 0 ? index.size() : scan.size();
        EXPECT_EQ(size, 1u);
    }
}

}  // namespace
