// umpd: the daemon. Runs in the foreground (also as a systemd user service, see
// packaging/umpd.service), logs one line per event to stderr.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "umpd/alsa/service_driver.hpp"
#include "umpd/ipc/control.hpp"
#include "umpd/jack/service_driver.hpp"
#include "umpd/service/config.hpp"
#include "umpd/service/midi1_ports.hpp"
#include "umpd/service/server.hpp"
#ifdef UMPD_WITH_LV2
#include "umpd/lv2/service_driver.hpp"
#endif

#ifndef UMPD_VERSION
#define UMPD_VERSION "0.0.0"
#endif

namespace {

constexpr const char* usage_text =
    "usage: umpd [--runtime-dir DIR] [--config FILE] [--no-config] [--help] [--version]\n"
    "\n"
    "The umpd MIDI 2.0 service, in the foreground.\n"
    "\n"
    "  --runtime-dir DIR  control socket and lock here (default $XDG_RUNTIME_DIR/umpd,\n"
    "                     or /tmp/umpd-UID when XDG_RUNTIME_DIR is unset)\n"
    "  --config FILE      the config file (default $XDG_CONFIG_HOME/umpd/umpd.toml,\n"
    "                     or ~/.config/umpd/umpd.toml); see docs/config.md\n"
    "  --no-config        publish the embedded default device and save nothing\n"
    "  --help             this text\n"
    "  --version          the version\n"
    "\n"
    "Signals: SIGTERM/SIGINT shut down cleanly, SIGHUP reloads the config file.\n";

int usage_error(const std::string& what) {
    std::fprintf(stderr, "umpd: %s\n(see umpd --help)\n", what.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) try {
    umpd::service::server_options options;
    options.version = UMPD_VERSION;
    options.drivers.push_back(umpd::alsa::make_alsa_driver);
    bool no_config = false;
    bool config_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage_text, stdout);
            return 0;
        }
        if (arg == "--version") {
            std::printf("umpd %s\n", UMPD_VERSION);
            return 0;
        }
        if (arg == "--runtime-dir") {
            if (!value(options.runtime_dir) || options.runtime_dir.empty())
                return usage_error("--runtime-dir needs a directory");
        } else if (arg.rfind("--runtime-dir=", 0) == 0) {
            options.runtime_dir = std::string(arg.substr(14));
        } else if (arg == "--config") {
            if (!value(options.config_path) || options.config_path.empty())
                return usage_error("--config needs a file");
            config_given = true;
        } else if (arg.rfind("--config=", 0) == 0) {
            options.config_path = std::string(arg.substr(9));
            config_given = true;
        } else if (arg == "--no-config") {
            no_config = true;
        } else {
            return usage_error("unknown argument '" + std::string(arg) + "'");
        }
    }
    if (no_config && config_given) return usage_error("--config and --no-config exclude each other");
    if (options.runtime_dir.empty()) options.runtime_dir = umpd::ipc::default_runtime_dir();
    if (!no_config && !config_given) options.config_path = umpd::service::default_config_path();
    // Port numbers persist with the settings; --no-config keeps them in memory only.
    if (!no_config) options.state_path = umpd::service::default_state_path();

    // Before any thread exists, so that every thread inherits the mask and these
    // signals reach the control loop through its signalfd.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    // JACK's cycles, for the plugin host to render on (outlives the server and its drivers).
    static umpd::service::cycle_clock jack_cycles;
    options.drivers.push_back([](umpd::service::driver_host& h) { return umpd::jack::make_jack_driver(h, &jack_cycles); });
#ifdef UMPD_WITH_LV2
    options.drivers.push_back([](umpd::service::driver_host& h) { return umpd::lv2::make_lv2_driver(h, &jack_cycles); });
#endif
    umpd::service::server server(options);
    std::string message;
    if (!server.start(message)) {
        std::fprintf(stderr, "umpd: %s\n", message.c_str());
        return 1;
    }
    const int status = server.run();
    std::fprintf(stderr, "umpd: stopped\n");
    return status;
} catch (const std::exception& e) {
    std::fprintf(stderr, "umpd: %s\n", e.what());
    return 1;
}
