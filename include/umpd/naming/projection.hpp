// The MIDI 1.0 projection: which ports (group, direction) an endpoint has, and the
// device-supplied name each carries. Pure computation; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/naming/name_table.hpp"
#include "umpd/naming/port.hpp"

namespace umpd::naming {

// Directions as the UMP specification states them, from the block's side: `input`
// receives (a destination port to apps), `output` sends (a source), `reserved` neither.
using block_direction = core::function_block_direction;

// As the endpoint declared it (the service fills these from discovery). Values are
// untrusted: groups past 15 are ignored.
struct function_block {
    std::string name;
    std::uint8_t first_group = 0;
    std::uint8_t group_count = 1;
    block_direction direction = block_direction::bidirectional;
    bool active = true;
};

// USB group terminal blocks (static, from the driver).
struct group_terminal_block {
    std::string name;
    std::uint8_t first_group = 0;
    std::uint8_t group_count = 1;
    block_direction direction = block_direction::bidirectional;
};

struct endpoint_blocks {
    bool ump_only = false;  // the user or driver says: no MIDI 1.0 ports
    // Only once discovery has completed; empty when the endpoint declares none.
    std::vector<function_block> function_blocks;
    std::vector<group_terminal_block> group_terminal_blocks;
};

// The ports, sources first then destinations, each by ascending group (the device
// order the legacy numbering follows). A port's device_name is the name of the first
// block, in declaration order, that gives it and has a non-empty name.
[[nodiscard]] std::vector<port_naming_input> project_ports(const endpoint_blocks& blocks);

}  // namespace umpd::naming
