// The MIDI 1.0 projection against tests/vectors/naming_projection.txt.
#include <gtest/gtest.h>

#include <sstream>

#include "umpd/naming/projection.hpp"
#include "vector_file.hpp"
#include "vectors.hpp"

namespace {

using namespace umpd::naming;
using umpd::naming::test::split;

block_direction parse_direction(const std::string& s) {
    if (s == "in") return block_direction::input;
    if (s == "out") return block_direction::output;
    if (s == "bidi") return block_direction::bidirectional;
    if (s == "reserved") return block_direction::reserved;
    throw std::runtime_error("bad direction " + s);
}

endpoint_blocks parse_blocks(const std::string& field) {
    endpoint_blocks b;
    if (field == "none") return b;
    for (const auto& item : split(field, ';')) {
        std::string head = item, name;
        const auto eq = item.find('=');
        if (eq != std::string::npos) {
            head = item.substr(0, eq);
            name = item.substr(eq + 1);
        }
        std::istringstream in(head);
        std::string kind, range, dir, flag;
        in >> kind;
        if (kind == "ump-only") {
            b.ump_only = true;
            continue;
        }
        in >> range >> dir >> flag;
        const auto plus = range.find('+');
        const auto first = static_cast<std::uint8_t>(std::stoi(range.substr(0, plus)));
        const auto count = static_cast<std::uint8_t>(std::stoi(range.substr(plus + 1)));
        if (kind == "fb") {
            b.function_blocks.push_back({name, first, count, parse_direction(dir), flag != "inactive"});
        } else if (kind == "gtb") {
            b.group_terminal_blocks.push_back({name, first, count, parse_direction(dir)});
        } else {
            throw std::runtime_error("bad block " + item);
        }
    }
    return b;
}

std::string describe(const std::vector<port_naming_input>& ports) {
    if (ports.empty()) return "none";
    std::string out;
    for (const auto& p : ports) {
        if (!out.empty()) out += ";";
        out += (p.direction == port_direction::source ? "s" : "d") + std::to_string(p.group_index);
        if (p.device_name) out += "=" + *p.device_name;
        EXPECT_TRUE(p.custom.empty());
    }
    return out;
}

TEST(projection, vectors) {
    for (const auto& c : umpd::test::load_vectors("naming_projection.txt")) {
        ASSERT_EQ(c.fields.size(), 2u) << c.where();
        EXPECT_EQ(describe(project_ports(parse_blocks(c.fields[0]))), c.fields[1]) << c.where();
    }
}

TEST(projection, bidirectional_block_over_all_groups_gives_32_ports) {
    endpoint_blocks b;
    b.function_blocks.push_back({"All", 0, 16, block_direction::bidirectional, true});
    const auto ports = project_ports(b);
    ASSERT_EQ(ports.size(), 32u);
    for (std::size_t i = 0; i < 16; ++i) {
        EXPECT_EQ(ports[i].direction, port_direction::source);
        EXPECT_EQ(ports[i].group_index, i);
        EXPECT_EQ(ports[16 + i].direction, port_direction::destination);
        EXPECT_EQ(ports[16 + i].group_index, i);
    }
}

}  // namespace
