// Drivers inside the service: how the JACK, ALSA sequencer and LV2 drivers plug
// into umpd without the server knowing them (docs/service.md, "Drivers").
//
// The server is the `driver_host`: it gives a driver the registry (to publish its own
// devices), the MIDI 1.0 ports (to name what it exports), in-process connections on
// endpoints (local_connection: the data path, exactly as a client's), watches on file
// descriptors in its control loop, a status line, config write-back and events.
// A driver is made by a factory the daemon passes in server_options, so the service
// module depends on no driver library.
//
// Threads: every call in both directions is on the control thread, the driver's own
// threads (JACK's process callback, an ALSA reader, an LV2 render thread) touch only
// their local_connections and their own state.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>

#include "umpd/service/config.hpp"
#include "umpd/service/local_connection.hpp"
#include "umpd/service/midi1_ports.hpp"
#include "umpd/service/registry.hpp"
#include "umpd/service/router.hpp"

namespace umpd::service {

// The answer to a control request a driver handles (docs/protocol.md).
struct driver_reply {
    bool ok = true;
    nlohmann::json result = nlohmann::json::object();
    std::string code;     // the protocol's error code when !ok: "not_found", "invalid_argument", ...
    std::string message;  // one line for the user
    void fail(std::string c, std::string m) {
        ok = false;
        code = std::move(c);
        message = std::move(m);
    }
};

class driver_host {
public:
    virtual ~driver_host() = default;

    [[nodiscard]] virtual registry& devices() = 0;
    [[nodiscard]] virtual const midi1_ports& ports() const = 0;
    [[nodiscard]] virtual router& data_path() = 0;
    // The config as last loaded or saved.
    [[nodiscard]] virtual const config& current_config() const = 0;

    // Adds `conn` (already create()d) to the router on endpoint e. owner: the I/O
    // connection of an app_owned endpoint of a device this driver published (one per
    // endpoint). Errors: service_errc (not_found, limit, already_exists) or a system error.
    [[nodiscard]] virtual std::error_code open_local(endpoint_handle e, bool owner, local_connection& conn) = 0;
    // After it returns the router no longer touches conn's rings. Safe on a closed one.
    virtual void close_local(local_connection& conn) = 0;

    // on_readable runs on the control thread whenever fd is readable (level-triggered)
    // until unwatch(fd).
    [[nodiscard]] virtual std::error_code watch(int fd, std::function<void()> on_readable) = 0;
    virtual void unwatch(int fd) = 0;

    // The driver's line in `umpctl status`: state ("running", "absent", "waiting",
    // "disabled", "failed") and one line of detail.
    virtual void set_status(std::string_view driver, std::string state, std::string detail) = 0;
    // Run-time state changed what the config file should say: the host collects every
    // driver's snapshot() and writes the file (when umpd has one).
    virtual void save_config() = 0;
    // An event to every subscribed client; {"v": 1} is added.
    virtual void broadcast(const nlohmann::json& event) = 0;
    // One line on umpd's log (stderr / the journal), "umpd: " is added.
    virtual void log(std::string_view line) = 0;
};

class driver {
public:
    virtual ~driver() = default;
    [[nodiscard]] virtual std::string_view name() const noexcept = 0;

    // Once, after the virtual devices are published and before clients are served.
    // A driver whose system is absent says so with set_status and returns; umpd runs on.
    virtual void start() = 0;
    // Shutdown, before the router stops: close local connections, stop threads.
    virtual void stop() = 0;

    // After any endpoint or its MIDI 1.0 ports changed: added, removed, renamed,
    // renumbered, taken offline or back online (the registry and ports() are current).
    virtual void endpoints_changed() {}

    // A control request the server does not know. Returns false when the op is not
    // this driver's (the next driver is asked; none: unknown_op).
    virtual bool handle(std::string_view op, const nlohmann::json& request, driver_reply& reply) {
        (void)op;
        (void)request;
        (void)reply;
        return false;
    }

    // Writes the parts of the config this driver owns (save_config, shutdown).
    virtual void snapshot(config& into) const { (void)into; }
    // A reloaded config (SIGHUP, reload_config): brings the driver to it.
    virtual void apply(const config& next) { (void)next; }
};

using driver_factory = std::function<std::unique_ptr<driver>(driver_host&)>;

}  // namespace umpd::service
