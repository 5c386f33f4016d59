// The name table of one endpoint: for every MIDI 1.0 port (group and direction) its
// custom, legacy-compatible and new-style names and the one shown, built exactly as
// docs/naming.md describes (the reference behaviour of Windows MIDI Services, with
// UTF-8-safe cutting). Pure computation; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "umpd/naming/port.hpp"

namespace umpd::naming {

// Per endpoint; `default_approach` defers to the global setting.
enum class naming_approach : std::uint8_t { default_approach, classic, new_style };
// The global setting; `automatic` picks per endpoint (see build_name_table).
enum class global_naming : std::uint8_t { automatic, classic, new_style };

[[nodiscard]] std::string_view to_string(naming_approach a) noexcept;   // "default", "classic", "new-style"
[[nodiscard]] std::string_view to_string(global_naming g) noexcept;     // "automatic", "classic", "new-style"
[[nodiscard]] std::optional<naming_approach> parse_naming_approach(std::string_view s) noexcept;
[[nodiscard]] std::optional<global_naming> parse_global_naming(std::string_view s) noexcept;

// One MIDI 1.0 port as the device describes it.
struct port_naming_input {
    std::uint8_t group_index = 0;  // 0..15
    port_direction direction = port_direction::source;
    std::optional<std::string> device_name;  // USB jack / group terminal block / function block name; absent if none
    std::string custom;                      // the user's name; empty for none
};

struct endpoint_naming_input {
    std::string device;        // the device's name (registered driver name, else its friendly name)
    unsigned duplicate = 1;    // 1 for the first unit of a model, 2 for a second identical one, ...
    bool legacy_equivalent = true;  // false for virtual, network and plugin endpoints
    naming_approach approach = naming_approach::default_approach;
    // Ports of each direction in the device's port order (directions may interleave).
    std::vector<port_naming_input> ports;
};

enum class shown_name : std::uint8_t { custom, legacy, new_style };

struct name_entry {
    std::uint8_t group_index = 0;
    port_direction direction = port_direction::source;
    std::string custom;      // trimmed, cut to the budget; empty for none
    std::string legacy;      // legacy-compatible (WinMM) name
    std::string new_style;   // new-style name
    shown_name shown = shown_name::legacy;
    [[nodiscard]] const std::string& name() const noexcept {  // the name people and apps see
        return shown == shown_name::custom ? custom : shown == shown_name::legacy ? legacy : new_style;
    }
    friend bool operator==(const name_entry&, const name_entry&) = default;
};

struct name_table {
    std::vector<name_entry> entries;  // one per input port, in input order
    // The style the endpoint uses where no custom name is set.
    shown_name style = shown_name::legacy;
};

struct [[nodiscard]] name_table_result {
    std::error_code error;       // errc::group_out_of_range, duplicate_port, bad_duplicate_ordinal
    std::size_t port_index = 0;  // with an error about a port: which one (input order)
    name_table table;
    explicit operator bool() const noexcept { return !error; }
};

// Builds the table. Text inputs may be anything: they are sanitised (text.hpp).
[[nodiscard]] name_table_result build_name_table(const endpoint_naming_input& in,
                                                 global_naming global = global_naming::automatic);

// The two generated names on their own (build_name_table uses these).
// legacy_names / new_style_names: one name per port of `in.ports`, in input order.
[[nodiscard]] std::vector<std::string> legacy_names(const endpoint_naming_input& in);
[[nodiscard]] std::vector<std::string> new_style_names(const endpoint_naming_input& in);

// A port name reduced to what it says: stack suffixes (" [0]".." [32]", " [:]") gone,
// trimmed; nullopt when nothing usable remains (empty, or only placeholder words).
[[nodiscard]] std::optional<std::string> usable_port_name(std::string_view device_supplied);

// Custom names survive a rebuild keyed by group and direction: every port of `next`
// without a custom name takes the one `previous` held for its group and direction.
void carry_custom_names(const name_table& previous, endpoint_naming_input& next);

}  // namespace umpd::naming
