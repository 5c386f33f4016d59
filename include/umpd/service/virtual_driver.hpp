// The built-in `virtual` driver: the seed's device (ports whose destination is
// looped to their source) and the loopbacks users ask for (a MIDI 1.0-style named
// loopback, A ⇄ B pairs, a timestamp-preserving diagnostics loopback).
//
// Everything it publishes is described by the config file, so its state can be
// written back (snapshot) and a new file applied as a difference (apply), each step
// going through the registry's configuration-change protocol.
//
// Threads: the control thread only.
#pragma once

#include <string_view>
#include <system_error>

#include "umpd/service/config.hpp"
#include "umpd/service/registry.hpp"

namespace umpd::service {

class virtual_driver {
public:
    static constexpr std::string_view driver_name = "virtual";

    explicit virtual_driver(registry& r);

    // Publishes the devices and loopbacks of `c` (start-up).
    [[nodiscard]] std::error_code publish(const config& c);
    // Brings what is published to `next` by differences: devices matched by name,
    // ports by number, loopbacks by kind and names. Devices and ports that survive keep
    // their ids and connections.
    [[nodiscard]] std::error_code apply(const config& next);
    // What is published now, as config (with `limits`), for writing back.
    [[nodiscard]] config snapshot(const limits_config& limits) const;

    // Run-time loopbacks. A name already used by a device or endpoint is refused
    // (already_exists): names must stay usable as identifiers.
    [[nodiscard]] std::error_code create_loopback(const loopback_config& lb, device_handle* out = nullptr);
    [[nodiscard]] std::error_code remove_loopback(device_handle d);

    // True when the device belongs to this driver.
    [[nodiscard]] bool owns(const device& d) const noexcept { return d.driver == driver_name; }

private:
    [[nodiscard]] std::error_code add_configured_device(const device_config& d);
    [[nodiscard]] std::error_code reconcile_device(const device& existing, const device_config& want);
    void update_status();

    registry& registry_;
};

}  // namespace umpd::service
