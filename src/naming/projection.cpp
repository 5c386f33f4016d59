// The MIDI 1.0 projection (projection.hpp).
#include "umpd/naming/projection.hpp"

#include <array>

namespace umpd::naming {

namespace {

struct slot {
    bool present = false;
    std::optional<std::string> name;
};
using slots = std::array<std::array<slot, group_count>, 2>;  // [direction][group]

// Marks the groups a block covers in the directions it has. Groups past 15 (a
// malformed declaration) are ignored rather than wrapped.
void cover(slots& s, std::uint8_t first, std::uint8_t count, block_direction d, const std::string& name) {
    const bool sends = d == block_direction::output || d == block_direction::bidirectional;
    const bool receives = d == block_direction::input || d == block_direction::bidirectional;
    for (unsigned g = first; g < static_cast<unsigned>(first) + count && g < group_count; ++g) {
        for (auto [on, dir] : {std::pair{sends, port_direction::source}, std::pair{receives, port_direction::destination}}) {
            if (!on) continue;
            slot& x = s[index_of(dir)][g];
            x.present = true;
            if (!x.name && !name.empty()) x.name = name;
        }
    }
}

}  // namespace

std::vector<port_naming_input> project_ports(const endpoint_blocks& blocks) {
    std::vector<port_naming_input> ports;
    if (blocks.ump_only) return ports;
    slots s{};
    if (!blocks.function_blocks.empty()) {
        // Declared function blocks decide alone, even when none is active right now.
        for (const auto& b : blocks.function_blocks)
            if (b.active) cover(s, b.first_group, b.group_count, b.direction, b.name);
    } else if (!blocks.group_terminal_blocks.empty()) {
        for (const auto& b : blocks.group_terminal_blocks) cover(s, b.first_group, b.group_count, b.direction, b.name);
    } else {
        cover(s, 0, 1, block_direction::bidirectional, {});
    }
    for (auto d : {port_direction::source, port_direction::destination})
        for (std::uint8_t g = 0; g < group_count; ++g) {
            const slot& x = s[index_of(d)][g];
            if (x.present) ports.push_back({g, d, x.name, {}});
        }
    return ports;
}

}  // namespace umpd::naming
