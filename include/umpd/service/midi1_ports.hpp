// The MIDI 1.0 ports of every endpoint (issue #4): the service's state around the
// naming module — the projection and name table of each endpoint, stable port
// numbers, the user's naming settings and the lookup index — recomputed from the
// registry whenever one of its inputs changes.
//
// Identities (docs/config.md, docs/protocol.md):
//   numbers  are keyed by the endpoint's most specific stable identity: "piid:<product
//            instance id>" when it declares one, else "ep:<endpoint id>" (device id and
//            port number), plus group and direction;
//   settings (custom names, approach) are matched by "piid:<id>", else "port:<device
//            name>/<port number>" (naming_key in config.hpp).
//
// Threads: the control thread only (not synchronised, like the registry).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "umpd/naming/name_table.hpp"
#include "umpd/naming/port_index.hpp"
#include "umpd/naming/port_numbers.hpp"
#include "umpd/naming/projection.hpp"
#include "umpd/service/config.hpp"
#include "umpd/service/registry.hpp"

namespace umpd::service {

// One endpoint as the naming sees it.
struct naming_source {
    std::string endpoint;        // the endpoint id
    std::string display_name;    // display_name(user, declared, driver): the name table's device name
    std::string number_key;      // "piid:..." or "ep:<endpoint id>"
    endpoint_naming_config identity;  // product_instance_id, or device + port: what settings match
    bool legacy_equivalent = false;   // false for virtual, loopback, app (and network, plugin) endpoints
    naming::endpoint_blocks blocks;
};

// Every endpoint of the registry, in the registry's order.
[[nodiscard]] std::vector<naming_source> naming_sources(const registry& r);

class midi1_ports {
public:
    // Recomputes every endpoint from `sources` (the complete list). Returns the ids of
    // endpoints whose ports changed: appeared, vanished, renamed or renumbered.
    std::vector<std::string> rebuild(const std::vector<naming_source>& sources);

    [[nodiscard]] const naming::port_index& index() const noexcept { return index_; }
    // The display name of an endpoint known at the last rebuild ("" if unknown).
    [[nodiscard]] std::string endpoint_name(std::string_view endpoint) const;
    // The naming approach the user set for it (default_approach when none).
    [[nodiscard]] naming::naming_approach approach_of(std::string_view endpoint) const;

    // The user's settings; changes take effect at the next rebuild.
    [[nodiscard]] const naming_config& settings() const noexcept { return settings_; }
    void set_settings(naming_config c);
    // False when the endpoint is unknown. An empty name clears the custom name.
    bool set_custom_name(std::string_view endpoint, std::uint8_t group_index, naming::port_direction d,
                         std::string name);
    bool set_approach(std::string_view endpoint, naming::naming_approach a);
    void set_global(naming::global_naming g) { settings_.global = g; }

    [[nodiscard]] naming::port_numbers& numbers() noexcept { return numbers_; }
    [[nodiscard]] const naming::port_numbers& numbers() const noexcept { return numbers_; }

private:
    endpoint_naming_config* settings_for(std::string_view endpoint, bool create);

    naming_config settings_;
    naming::port_numbers numbers_;
    naming::port_index index_;
    std::map<std::string, naming_source, std::less<>> sources_;               // by endpoint id
    std::map<std::string, std::vector<naming::indexed_port>, std::less<>> ports_;  // by endpoint id
};

// The state file of port numbers (TOML, `[[ports]]` with endpoint, group 1..16,
// direction "in"|"out", number). parse: "" on success, else "LINE: what is wrong".
[[nodiscard]] std::string format_port_numbers(const std::vector<naming::port_number_record>& records);
[[nodiscard]] std::string parse_port_numbers(std::string_view text, std::vector<naming::port_number_record>& out);
// $XDG_STATE_HOME/umpd/ports.toml, else ~/.local/state/umpd/ports.toml.
[[nodiscard]] std::string default_state_path();

}  // namespace umpd::service
