// The `lv2` driver of the service: LV2 MIDI plugins running inside umpd as devices
// (docs/plugin-host.md, "In the service").
//
// Each plugin instance is an app_owned device of driver "lv2" named after the instance;
// endpoint k joins the plugin's MIDI input k (its destination) and MIDI output k (its
// source), so a plugin with one input and one output is one endpoint. The driver owns
// the owner side of those endpoints (local_connection), one render thread that runs
// every instance in fixed blocks on umpd's clock, umpd's one transport, and the
// connections (router routes) between any endpoints, all persisted in the config
// ([lv2], [[plugins]], [[connections]]).
//
// Control ops it answers (docs/protocol.md, "Plugins, connections and transport"):
// plugins, plugin_add, plugin_remove, plugin_set, plugin_info, connect, disconnect,
// connections, transport. Event: transport_changed.
//
// Threads: the factory and every driver call run on umpd's control thread; the render
// thread touches only the instances' render state, their local_connections and the
// transport (see renderer.hpp in src/drivers/lv2/service).
#pragma once

#include <memory>

#include "umpd/service/cycle_clock.hpp"
#include "umpd/service/driver.hpp"

namespace umpd::lv2 {

[[nodiscard]] std::unique_ptr<service::driver> make_lv2_driver(service::driver_host& host);
// The same, rendering on the JACK cycle whenever `cycles` has one at [lv2] sample_rate
// (the JACK driver publishes there); `cycles` must outlive the driver.
[[nodiscard]] std::unique_ptr<service::driver> make_lv2_driver(service::driver_host& host,
                                                               service::cycle_clock* cycles);

}  // namespace umpd::lv2
