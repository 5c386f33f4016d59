// umpd's configuration file (TOML, docs/config.md): limits, virtual devices and
// loopbacks, naming, the drivers (jack, alsa, lv2), plugin instances and connections. Parsed strictly: an unknown key, a wrong type or a value out of range is
// an error naming the file, the line and the field, so a typo is never silently
// ignored. Written atomically (temporary file in the same folder, fsync, rename).
//
// Threads: any; nothing here holds state between calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "umpd/naming/name_table.hpp"
#include "umpd/naming/port.hpp"
#include "umpd/service/registry.hpp"

namespace umpd::service {

struct limits_config {
    std::uint32_t to_service_words = 4096;     // ring sizes a connection gets unless it asks
    std::uint32_t to_client_words = 4096;
    std::uint32_t max_ring_words = 1u << 20;   // the largest ring a client may ask for
    std::chrono::nanoseconds max_schedule_ahead{std::chrono::seconds(60)};
    std::uint32_t schedule_capacity = 65536;
    std::chrono::nanoseconds spin{std::chrono::microseconds(50)};
    std::uint32_t max_ports_per_device = 256;
    std::uint32_t max_endpoints = 4096;
    std::uint32_t max_connections = 4096;
    // How long umpd waits for an app-owned endpoint's discovery answers (and, after,
    // for its Stream Configuration Notification).
    std::chrono::milliseconds discovery_timeout{2000};
    friend bool operator==(const limits_config&, const limits_config&) = default;
};

inline constexpr std::uint32_t min_ring_words = 64;
inline constexpr std::uint32_t ring_words_ceiling = 1u << 24;  // no config may allow more

struct port_config {
    std::string name;
    ump_protocol protocol = ump_protocol::midi2;
    std::uint32_t number = 0;  // 0: the next free number
    std::vector<function_block_declaration> function_blocks{};  // [[devices.ports.function_blocks]]
    friend bool operator==(const port_config&, const port_config&) = default;
};

struct device_config {
    std::string name;
    std::string manufacturer = "umpd";
    std::string model = "Virtual Device";
    bool offline = false;
    std::vector<port_config> ports;
    friend bool operator==(const device_config&, const device_config&) = default;
};

struct loopback_config {
    device_kind kind = device_kind::loopback_midi1;  // never device_kind::ports
    std::string name;
    std::string name_b;  // pairs: the B endpoint's name
    friend bool operator==(const loopback_config&, const loopback_config&) = default;
};

// The user's naming settings for one endpoint ([[naming.endpoints]]), matched by the
// most specific stable identity available: the product instance id when the endpoint
// declares one, else the device name and port number.
struct endpoint_naming_config {
    std::string product_instance_id;
    std::string device;
    std::uint32_t port = 0;
    naming::naming_approach approach = naming::naming_approach::default_approach;
    struct custom_name {
        std::uint8_t group_index = 0;  // 0..15
        naming::port_direction direction = naming::port_direction::source;
        std::string name;
        friend bool operator==(const custom_name&, const custom_name&) = default;
    };
    std::vector<custom_name> custom_names;  // no two with the same group and direction
    friend bool operator==(const endpoint_naming_config&, const endpoint_naming_config&) = default;
};

// The key endpoint_naming_config entries are matched by: "piid:<id>" or "port:<device>/<n>".
[[nodiscard]] std::string naming_key(const endpoint_naming_config& e);

struct naming_config {
    naming::global_naming global = naming::global_naming::automatic;  // [naming] default
    std::vector<endpoint_naming_config> endpoints;                    // sorted by naming_key
    friend bool operator==(const naming_config&, const naming_config&) = default;
};

// [jack]: the JACK driver (docs/jack.md).
struct jack_config {
    bool enabled = true;
    std::string client_name = "umpd";
    std::string server_name;       // empty: JACK's default ($JACK_DEFAULT_SERVER, else "default")
    bool wait_for_server = false;  // no server at start: keep trying (else: status says absent)
    friend bool operator==(const jack_config&, const jack_config&) = default;
};

// [alsa]: the ALSA sequencer driver (docs/alsa.md).
struct alsa_config {
    bool enabled = true;
    std::string client_name = "umpd";
    bool import_ports = true;          // key `import`: other clients' ports become endpoints
    std::vector<std::string> exclude;  // glob patterns on "CLIENT NAME:PORT NAME"; never imported
    friend bool operator==(const alsa_config&, const alsa_config&) = default;
};

// [[plugins]]: one LV2 plugin instance of the lv2 driver (docs/plugin-host.md).
struct plugin_control_config {
    std::string symbol;
    double value = 0;
    friend bool operator==(const plugin_control_config&, const plugin_control_config&) = default;
};
struct plugin_config {
    std::string name;  // the instance's device name, unique among plugins
    std::string uri;
    std::vector<plugin_control_config> controls;  // [plugins.controls] symbol = value, sorted by symbol
    std::string state;                            // LV2 state (Turtle) where the plugin has the extension
    friend bool operator==(const plugin_config&, const plugin_config&) = default;
};

// [lv2]: the plugin host's rendering.
struct lv2_config {
    bool enabled = true;
    std::uint32_t sample_rate = 48000;
    std::uint32_t block_size = 64;
    friend bool operator==(const lv2_config&, const lv2_config&) = default;
};

// [[connections]]: a route from an endpoint's source to an endpoint's destination
// (endpoint ids or unique names), kept by the service's router.
struct connection_config {
    std::string from;
    std::string to;
    friend bool operator==(const connection_config&, const connection_config&) = default;
};

struct config {
    limits_config limits;
    std::vector<device_config> devices;
    std::vector<loopback_config> loopbacks;
    naming_config naming{};
    jack_config jack{};
    alsa_config alsa{};
    lv2_config lv2{};
    std::vector<plugin_config> plugins;
    std::vector<connection_config> connections;
    friend bool operator==(const config&, const config&) = default;
};

// What umpd publishes with no config file: the seed's device, one port looped back.
[[nodiscard]] config default_config();

struct config_error {
    std::string path;
    std::size_t line = 0;  // 1-based; 0 when there is none (the file cannot be read)
    std::string field;     // "devices[0].ports[1].protocol", "syntax", "file"
    std::string message;
    // "PATH:LINE: FIELD: message"
    [[nodiscard]] std::string to_string() const;
};

struct config_result {
    std::optional<config> value;
    config_error error;  // meaningful when value is empty
};

// Parses a config file's text; `path` is used in error messages only.
[[nodiscard]] config_result parse_config(std::string_view text, const std::string& path);
// Reads and parses a file. `found` is false (and the result the default config) when
// the file does not exist.
[[nodiscard]] config_result load_config(const std::string& path, bool& found);

// The TOML text of a config, with a short header comment.
[[nodiscard]] std::string format_config(const config& c);

// $XDG_CONFIG_HOME/umpd/umpd.toml, else ~/.config/umpd/umpd.toml.
[[nodiscard]] std::string default_config_path();

// Writes `text` to `path` atomically: a temporary file in the same folder, fsync,
// rename over the old file, fsync of the folder. Creates the folder (0700) if needed.
[[nodiscard]] std::error_code write_file_atomically(const std::string& path, std::string_view text);

}  // namespace umpd::service
