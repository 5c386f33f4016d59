// The endpoint registry: drivers → devices → ports (UMP endpoints), and the
// configuration-change protocol that alters a device while clients use it.
//
// A change to a running device is *requested* (announced), the router stops I/O on
// the device and delivers what it has already read (router::stop_io), the change is
// *performed* (ports added, removed, renamed; the router's endpoints follow), then
// I/O restarts and the result is announced. When the perform step fails (a limit,
// the router refusing) the device's state is rolled back, I/O restarts and the change
// is announced as *aborted*. On a stopped (offline) device the change is performed at
// once, without touching I/O.
//
// Threads: the control thread only (the registry is not synchronised). Events are
// delivered synchronously to the sink, after the registry's state is consistent.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "umpd/service/endpoint_model.hpp"
#include "umpd/service/router.hpp"

namespace umpd::service {

// Errors of the service subsystem; each maps to one error code of docs/protocol.md.
enum class service_errc {
    not_found = 1,
    already_exists,
    invalid_argument,
    busy,
    limit,
    internal,
};
[[nodiscard]] const std::error_category& service_category() noexcept;
[[nodiscard]] std::error_code make_error_code(service_errc e) noexcept;
// The protocol's name for an error ("not_found", ...); "internal" for foreign codes.
[[nodiscard]] std::string_view protocol_error_code(std::error_code ec) noexcept;

enum class ump_protocol : std::uint8_t { midi1, midi2 };
[[nodiscard]] std::string_view to_string(ump_protocol p) noexcept;
[[nodiscard]] std::optional<ump_protocol> parse_protocol(std::string_view s) noexcept;

// What a device is, which decides what may be done to it.
enum class device_kind : std::uint8_t {
    ports,                 // the seed's device: N ports, each destination looped to its source
    loopback_midi1,        // one MIDI 1.0 endpoint whose name serves both directions
    loopback_pair,         // two endpoints A ⇄ B
    loopback_diagnostics,  // one endpoint looped back with the sender's timestamps
};
[[nodiscard]] bool is_loopback(device_kind k) noexcept;
[[nodiscard]] std::string_view to_string(device_kind k) noexcept;  // "ports", "midi1", "pair", "diagnostics"

struct endpoint {
    endpoint_handle handle = 0;
    std::string id;             // <device id>/<port number>
    std::string name;
    std::uint32_t port_number = 0;  // 1-based, never reused while the device lives
    ump_protocol protocol = ump_protocol::midi2;
    endpoint_behaviour behaviour = endpoint_behaviour::loopback;
    std::string kind;           // "port", "loopback", "loopback-a", "loopback-b", "diagnostics"
    endpoint_handle peer = 0;   // pairs: the other endpoint
    // What it declares in UMP (issue #4). Virtual endpoints: their name and protocol
    // follow renames and protocol changes; app-owned: what the application declared.
    endpoint_declaration declared{};
};

struct device {
    device_handle handle = 0;
    std::string id;             // <driver>/<slug>
    std::string driver;
    std::string name;
    std::string manufacturer;
    std::string model;
    device_kind kind = device_kind::ports;
    bool offline = false;
    bool app_owned = false;     // published by an application: its ports are app_owned, fixed
    std::vector<endpoint> endpoints;
    std::uint32_t next_port = 1;
};

// What a new port should look like. number 0 = the next free number.
struct port_spec {
    std::string name;
    ump_protocol protocol = ump_protocol::midi2;
    std::uint32_t number = 0;
    std::optional<endpoint_declaration> declared{};  // absent: default_declaration(name, protocol)
};

struct device_spec {
    std::string driver = "virtual";
    std::string name;
    std::string manufacturer = "umpd";
    std::string model = "Virtual Device";
    device_kind kind = device_kind::ports;
    bool offline = false;
    bool app_owned = false;        // ports: endpoint_behaviour::app_owned, kind "app"; no add/remove port
    std::vector<port_spec> ports;  // for loopbacks: their endpoints (pair: A then B)
};

struct registry_event {
    enum class kind : std::uint8_t {
        device_added,
        device_changed,
        device_removed,
        endpoint_added,
        endpoint_changed,
        endpoint_removed,
        change_requested,
        change_performed,
        change_aborted,
    } what{};
    std::string device_id;
    std::string endpoint_id;  // endpoint events only
};

struct registry_limits {
    std::uint32_t max_ports_per_device = 256;
    std::uint32_t max_endpoints = 4096;
    std::uint32_t max_devices = 1024;
};

class registry {
public:
    using event_sink = std::function<void(const registry_event&)>;

    // The router must outlive the registry; a null router is allowed only in tests
    // that exercise the model alone (no I/O switching then).
    registry(router* r, registry_limits limits);

    void set_event_sink(event_sink sink) { sink_ = std::move(sink); }
    [[nodiscard]] const registry_limits& limits() const noexcept { return limits_; }

    // Drivers, for status: name, state, detail.
    struct driver_info {
        std::string name;
        std::string state;
        std::string detail;
    };
    void add_driver(driver_info d);
    [[nodiscard]] std::vector<driver_info> drivers() const;

    // Publishes a device and its endpoints (device_added, endpoint_added).
    [[nodiscard]] std::error_code add_device(const device_spec& spec, device_handle* out = nullptr);
    // Withdraws a device: its endpoints leave the router (endpoint_removed, device_removed).
    [[nodiscard]] std::error_code remove_device(device_handle d);

    // The user-client operations, each through the configuration-change protocol.
    [[nodiscard]] std::error_code add_port(device_handle d, port_spec spec, endpoint_handle* out = nullptr);
    [[nodiscard]] std::error_code remove_port(endpoint_handle e);
    [[nodiscard]] std::error_code rename_port(endpoint_handle e, std::string name);
    [[nodiscard]] std::error_code set_port_protocol(endpoint_handle e, ump_protocol p);
    [[nodiscard]] std::error_code rename_device(device_handle d, std::string name);
    [[nodiscard]] std::error_code set_device_info(device_handle d, std::string manufacturer, std::string model);
    // What an endpoint declares. Not a configuration change (I/O is untouched):
    // endpoint_changed is announced. set_function_blocks: only for endpoints that are
    // not app-owned (their application declares them); invalid_argument when the
    // blocks are invalid (validate()).
    [[nodiscard]] std::error_code set_function_blocks(endpoint_handle e, std::vector<function_block_declaration> blocks);
    [[nodiscard]] std::error_code set_declaration(endpoint_handle e, endpoint_declaration d);
    // Offline stops I/O on the device; online restarts it.
    [[nodiscard]] std::error_code set_offline(device_handle d, bool offline);

    // A general change: `perform` edits the device (and calls the router); when it
    // returns an error the device is restored and the change aborted. Exposed so that
    // drivers can batch several edits (a reload) into one change.
    [[nodiscard]] std::error_code change_device(device_handle d,
                                                const std::function<std::error_code(device&)>& perform);

    // Lookups. `find_*` accept an id or a unique name; an ambiguous name is an error.
    [[nodiscard]] const device* device_by_handle(device_handle d) const;
    [[nodiscard]] const endpoint* endpoint_by_handle(endpoint_handle e) const;
    [[nodiscard]] const device* device_of(endpoint_handle e) const;
    [[nodiscard]] std::error_code find_device(std::string_view id_or_name, const device*& out) const;
    [[nodiscard]] std::error_code find_endpoint(std::string_view id_or_name, const endpoint*& out) const;
    [[nodiscard]] const std::vector<device>& devices() const noexcept { return devices_; }
    [[nodiscard]] std::size_t endpoint_count() const noexcept;

    // Rules of identifiers (docs/protocol.md), public for tests.
    [[nodiscard]] static std::string slug(std::string_view name);

private:
    device* mutable_device(device_handle d);
    endpoint* mutable_endpoint(endpoint_handle e, device** dev);
    std::error_code add_port_locked(device& dev, const port_spec& spec, endpoint_handle* out);
    std::error_code add_router_endpoints(const device& dev, const std::vector<endpoint_handle>& which);
    void emit(registry_event::kind k, std::string device_id, std::string endpoint_id = {});
    std::string unique_device_id(std::string_view driver, std::string_view name) const;

    router* router_;
    registry_limits limits_;
    event_sink sink_;
    std::vector<driver_info> drivers_;
    std::vector<device> devices_;
    device_handle next_device_ = 1;
    endpoint_handle next_endpoint_ = 1;
    std::vector<registry_event> pending_;  // events of the change in progress
    bool in_change_ = false;
};

}  // namespace umpd::service
