// What a UMP endpoint declares about itself (issue #4): endpoint info, device
// identity, endpoint name, product instance id, stream configuration, function
// blocks (or group terminal blocks when it has none), and whether it is "UMP only".
// Virtual endpoints take it from the config (and set_function_blocks), app-owned
// ones from publish_device or, when they declared nothing, from UMP discovery.
//
// Plain values; any thread (the registry keeps them on the control thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/naming/projection.hpp"

namespace umpd::service {

inline constexpr std::size_t max_function_blocks = 32;  // block numbers are 0..31

struct function_block_declaration {
    std::string name;
    std::uint8_t first_group = 0;  // 0..15 (1..16 in the protocol)
    std::uint8_t group_count = 1;  // 1..16, first_group + group_count <= 16
    core::function_block_direction direction = core::function_block_direction::bidirectional;
    bool active = true;
    core::function_block_ui_hint ui_hint = core::function_block_ui_hint::sender_receiver;
    core::function_block_midi1 midi1 = core::function_block_midi1::no;
    std::uint8_t midi_ci_version = 0;
    std::uint8_t sysex8_streams = 0;
    friend bool operator==(const function_block_declaration&, const function_block_declaration&) = default;
};

// Where the endpoint's declaration stands.
enum class discovery_state : std::uint8_t {
    none,       // nothing to discover: declared by config or at publish (or not a UMP peer)
    pending,    // umpd asked the endpoint and waits for its answers
    complete,   // the endpoint answered
    timed_out,  // it did not answer in time: group terminal blocks / defaults apply
};
[[nodiscard]] std::string_view to_string(discovery_state s) noexcept;

struct endpoint_declaration {
    std::string name;  // the Endpoint Name; empty: none declared
    bool midi2 = true;  // the protocol of the Stream Configuration
    core::endpoint_info_fields info;  // function_block_count follows function_blocks
    std::optional<core::device_identity_fields> identity;
    std::string product_instance_id;  // empty: not declared
    std::vector<function_block_declaration> function_blocks;
    std::vector<naming::group_terminal_block> group_terminal_blocks;  // for endpoints without function blocks
    bool ump_only = false;   // no MIDI 1.0 ports
    discovery_state discovery = discovery_state::none;
    bool answered_by_umpd = false;  // umpd answers UMP discovery for it from this declaration
};

// The protocol's and the config's words for block fields: "input" | "output" |
// "bidirectional"; "unknown" | "receiver" | "sender" | "sender_receiver"; "no" |
// "unrestricted" | "restricted". Reserved values have no word (parse: nullopt).
[[nodiscard]] std::string_view to_string(core::function_block_direction d) noexcept;
[[nodiscard]] std::string_view to_string(core::function_block_ui_hint h) noexcept;
[[nodiscard]] std::string_view to_string(core::function_block_midi1 m) noexcept;
[[nodiscard]] std::optional<core::function_block_direction> parse_block_direction(std::string_view s) noexcept;
[[nodiscard]] std::optional<core::function_block_ui_hint> parse_ui_hint(std::string_view s) noexcept;
[[nodiscard]] std::optional<core::function_block_midi1> parse_block_midi1(std::string_view s) noexcept;
// The UI hint a block gets when none is given: what its direction says.
[[nodiscard]] core::function_block_ui_hint default_ui_hint(core::function_block_direction d) noexcept;

// What a virtual (or loopback) endpoint declares by default: its name and protocol,
// UMP 1.1, no function blocks (they may change at run time: not static).
[[nodiscard]] endpoint_declaration default_declaration(std::string_view name, bool midi2);

// Checks a declaration (group ranges, block count, names valid UTF-8 without zero
// bytes, product instance id length). Empty when valid, else why not.
[[nodiscard]] std::string validate(const endpoint_declaration& d);

// The name people see for an endpoint: the user's name, else the one it declares in
// the protocol, else the one its driver supplies.
[[nodiscard]] std::string display_name(std::string_view user, std::string_view declared, std::string_view driver);

// The naming module's view: function blocks count only when discovery is not
// pending or timed out (a declaration or completed discovery).
[[nodiscard]] naming::endpoint_blocks blocks_of(const endpoint_declaration& d);

}  // namespace umpd::service
