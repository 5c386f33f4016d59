// MIDI 1.0 ports as the SDK sees them (docs/protocol.md, "Endpoints, function blocks and
// MIDI 1.0 ports"; the naming rules: docs/naming.md), the endpoint's declared data, and
// port_catalog: a read-only index over one port list, the SDK's lookup cache.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "umpd/client/result.hpp"

namespace umpd::client {

// "in": a MIDI 1.0 input port (the endpoint's source: messages come from it);
// "out": an output port (its destination).
enum class port_direction : std::uint8_t { in, out };
[[nodiscard]] std::string_view to_string(port_direction d) noexcept;
[[nodiscard]] std::optional<port_direction> parse_port_direction(std::string_view text) noexcept;

struct midi1_port {
    std::uint32_t number = 0;  // per direction; stable across restarts and replugs
    port_direction direction = port_direction::in;
    std::uint8_t group = 0;    // 0..15 (the protocol and people say 1..16)
    std::string name;          // the name shown
    std::string custom;        // the user's name; empty: none
    std::string legacy;        // legacy-compatible (WinMM) name
    std::string new_style;
    std::string endpoint;      // endpoint id
    std::string endpoint_name;

    [[nodiscard]] bool has_custom_name() const noexcept { return !custom.empty(); }
    friend bool operator==(const midi1_port&, const midi1_port&) = default;
};

// A selection of ports: every field that is set must match.
struct port_filter {
    std::string endpoint;                    // id or name; empty: any
    std::optional<std::uint8_t> group;       // 0..15
    std::optional<port_direction> direction;
};

// The naming approach of one endpoint, and the global default.
enum class endpoint_naming : std::uint8_t { use_default, classic, new_style };
enum class global_naming : std::uint8_t { automatic, classic, new_style };
[[nodiscard]] std::string_view to_string(endpoint_naming n) noexcept;  // "default", "classic", "new-style"
[[nodiscard]] std::string_view to_string(global_naming n) noexcept;    // "automatic", "classic", "new-style"
[[nodiscard]] std::optional<endpoint_naming> parse_endpoint_naming(std::string_view text) noexcept;
[[nodiscard]] std::optional<global_naming> parse_global_naming(std::string_view text) noexcept;

// A function block (or group terminal block) as umpd reports it. Numbers are 0-based
// here, as everywhere in code: block 0..31, first_group 0..15.
struct function_block_info {
    std::uint8_t block = 0;
    std::string name;
    bool active = true;
    std::uint8_t first_group = 0;
    std::uint8_t groups = 1;
    std::string direction;  // "input", "output", "bidirectional" (or "reserved")
    std::string ui_hint;    // "unknown", "receiver", "sender", "sender_receiver"
    std::string midi1;      // "no", "unrestricted", "restricted"
    std::uint8_t midi_ci_version = 0;
    std::uint8_t sysex8_streams = 0;
};

struct device_identity_info {
    std::array<std::uint8_t, 3> manufacturer{};
    std::uint16_t family = 0;
    std::uint16_t model = 0;
    std::array<std::uint8_t, 4> software_revision{};
};

// What an endpoint declared in the UMP protocol, its blocks and its naming approach:
// the result of the `endpoint_info` op.
struct endpoint_declaration {
    std::string endpoint;       // id
    std::string endpoint_name;  // the display name
    std::uint8_t ump_version_major = 1;
    std::uint8_t ump_version_minor = 1;
    bool midi1 = false;
    bool midi2 = false;
    bool rx_jr = false;
    bool tx_jr = false;
    bool static_function_blocks = false;
    std::optional<std::string> name;                 // the UMP Endpoint Name
    std::optional<std::string> product_instance_id;
    std::optional<device_identity_info> device_identity;
    std::string protocol;   // "midi1" or "midi2"
    std::string discovery;  // "complete", "pending", "timed_out", "none"
    std::vector<function_block_info> function_blocks;
    std::vector<function_block_info> group_terminal_blocks;
    bool ump_only = false;
    endpoint_naming naming = endpoint_naming::use_default;
    std::string json;  // the result object as umpd sent it
};

// Parses a `ports` result ({"ports": [...]}, or the bare array) or a ports_changed
// event's "ports". Untrusted input: a malformed port fails the whole list
// (errc::protocol_error naming the port and field). Thread: any.
[[nodiscard]] result<std::vector<midi1_port>> parse_ports_json(std::string_view text);
// The same for an `endpoint_info` result object.
[[nodiscard]] result<endpoint_declaration> parse_endpoint_declaration_json(std::string_view text);

// An immutable index over one port list: by name (any style, or legacy only), by
// number and direction, by endpoint. Results are ordered by endpoint id, then group,
// then direction (in before out). Names match exactly, byte for byte, as applications
// stored them. Immutable after construction, so any number of threads may read it.
class port_catalog {
public:
    port_catalog() = default;
    explicit port_catalog(std::vector<midi1_port> ports);

    [[nodiscard]] const std::vector<midi1_port>& all() const noexcept { return ports_; }
    [[nodiscard]] std::vector<midi1_port> select(const port_filter& f) const;
    // Any name: custom, legacy-compatible, new-style or shown; legacy_only: the
    // legacy-compatible name only. No direction: both.
    [[nodiscard]] std::vector<midi1_port> find(std::string_view name, bool legacy_only,
                                               std::optional<port_direction> direction = std::nullopt) const;
    [[nodiscard]] const midi1_port* by_number(std::uint32_t number, port_direction direction) const noexcept;
    // The endpoint by id, else by name when exactly one endpoint has it.
    [[nodiscard]] std::vector<midi1_port> of_endpoint(std::string_view endpoint,
                                                      std::optional<std::uint8_t> group = std::nullopt,
                                                      std::optional<port_direction> direction = std::nullopt) const;

private:
    using positions = std::vector<std::size_t>;  // indexes into ports_, in catalog order
    [[nodiscard]] std::vector<midi1_port> gather(const positions* p, std::optional<port_direction> direction) const;
    std::vector<midi1_port> ports_;  // sorted: endpoint, group, direction
    std::unordered_map<std::string, positions> by_any_name_;
    std::unordered_map<std::string, positions> by_legacy_name_;
    std::map<std::pair<std::uint8_t, std::uint32_t>, std::size_t> by_number_;  // (direction, number)
    std::unordered_map<std::string, positions> by_endpoint_;
    std::unordered_map<std::string, std::vector<std::string>> endpoints_by_name_;
};

}  // namespace umpd::client
