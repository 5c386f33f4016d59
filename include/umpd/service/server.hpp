// The control server: umpd's control thread. It owns the runtime directory (a
// single-instance lock, the control socket), the configuration, the registry and the
// virtual driver, and starts the router. One epoll loop serves every client
// (docs/protocol.md), the router's data-error notifications and the signals
// (SIGTERM/SIGINT: shut down; SIGHUP: reload the config).
//
// Threads: construct, start and run on one thread (the control thread). The caller
// blocks SIGTERM, SIGINT and SIGHUP in every thread before start() (the router
// thread inherits the mask), so that they arrive through the loop's signalfd.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "umpd/service/driver.hpp"

namespace umpd::service {

struct server_options {
    std::string runtime_dir;   // created 0700 if missing
    std::string config_path;   // empty: no config file (embedded default, nothing saved)
    std::string version;       // "0.1.0", reported by hello and status
    std::string state_path;    // port numbers (ports.toml); empty: kept in memory only
    // The drivers beyond the built-in virtual one (jack, alsa, lv2), made and started
    // in this order once the virtual devices are published (driver.hpp).
    std::vector<driver_factory> drivers;
};

class server {
public:
    explicit server(server_options options);
    ~server();  // stops the router, removes the socket and the lock file
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Takes the lock, loads the config, publishes devices and listens. On failure
    // returns false and sets `message` to one line for the user ("another umpd (pid N)
    // is already running on DIR", "PATH:LINE: FIELD: what is wrong", ...).
    [[nodiscard]] bool start(std::string& message);

    // Serves until SIGTERM or SIGINT. Returns the process exit status.
    int run();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace umpd::service
