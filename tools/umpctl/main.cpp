// umpctl: the command line of umpd.
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "verbs.hpp"

namespace {

struct verb {
    const char* name;
    const char* summary;
    int (*run)(const umpctl::verb_args&);
    const char* const* help;
};

const verb verbs[] = {
    {"decode", "UMP words (hex) to one readable line or JSON object per message", umpctl::decode_verb,
     &umpctl::decode_help},
    {"encode", "a readable message to UMP words (hex)", umpctl::encode_verb, &umpctl::encode_help},
    {"convert", "between MIDI 1.0 byte streams and UMP, and between protocols", umpctl::convert_verb,
     &umpctl::convert_help},
    {"status", "umpd's version, drivers and counters", umpctl::status_verb, &umpctl::status_help},
    {"list", "devices, endpoints and ports (a table, or --json)", umpctl::list_verb, &umpctl::list_help},
    {"device", "add-port | remove-port | offline on|off | rename", umpctl::device_verb, &umpctl::device_help},
    {"loopback", "create | remove | list loopback devices", umpctl::loopback_verb, &umpctl::loopback_help},
    {"send", "send UMP (hex words or a readable message) to an endpoint", umpctl::send_verb, &umpctl::send_help},
    {"monitor", "print what an endpoint emits, decoded, with timestamps", umpctl::monitor_verb,
     &umpctl::monitor_help},
    {"play-notes", "play a few notes on an endpoint", umpctl::play_notes_verb, &umpctl::play_notes_help},
    {"service", "install: write and enable the systemd user unit", umpctl::service_verb, &umpctl::service_help},
    {"bench", "latency | throughput of umpd, next to the bare floor", umpctl::bench_verb, &umpctl::bench_help},
    {"names", "preview: the MIDI 1.0 name table umpd would build for a device", umpctl::names_verb, &umpctl::names_help},
    {"ports", "MIDI 1.0 ports: list | find NAME | rename", umpctl::ports_verb, &umpctl::ports_help},
    {"endpoint", "info | naming | function-blocks of an endpoint", umpctl::endpoint_verb, &umpctl::endpoint_help},
    {"naming", "default [automatic|classic|new-style]: the global naming", umpctl::naming_verb,
     &umpctl::naming_help},
    {"plugins", "the installed LV2 MIDI plugins and their kinds", umpctl::plugins_verb, &umpctl::plugins_help},
    {"plugin", "add | remove | set | info | list plugin instances", umpctl::plugin_verb, &umpctl::plugin_help},
    {"connect", "route an endpoint's source to an endpoint's destination", umpctl::connect_verb,
     &umpctl::connect_help},
    {"disconnect", "remove a connection", umpctl::disconnect_verb, &umpctl::disconnect_help},
    {"connections", "the connections umpd keeps", umpctl::connections_verb, &umpctl::connections_help},
    {"transport", "show or set the transport: play, stop, locate, tempo, meter ...", umpctl::transport_verb,
     &umpctl::transport_help},
};

void print_usage(std::ostream& out) {
    out << "usage: umpctl VERB [ARGS...]\n       umpctl VERB --help\n\nverbs:\n";
    for (const auto& v : verbs) out << "  " << v.name << std::string(12 - std::strlen(v.name), ' ') << v.summary << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        print_usage(std::cerr);
        return 2;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_usage(std::cout);
        return 0;
    }
    if (name == "--version") {
        std::cout << "umpctl " << UMPD_VERSION << "\n";
        return 0;
    }
    for (const auto& v : verbs) {
        if (name != v.name) continue;
        std::vector<std::string> args(argv + 2, argv + argc);
        for (const auto& a : args) {
            if (a == "--") break;
            if (a == "--help" || a == "-h") {
                std::cout << *v.help;
                return 0;
            }
        }
        try {
            return v.run(args);
        } catch (const umpctl::usage_error& e) {
            std::cerr << "umpctl " << name << ": " << e.what() << " (see umpctl " << name << " --help)\n";
            return 2;
        } catch (const umpctl::input_error& e) {
            std::cerr << "umpctl " << name << ": " << e.what() << "\n";
            return 1;
        } catch (const std::exception& e) {
            std::cerr << "umpctl " << name << ": " << e.what() << "\n";
            return 1;
        }
    }
    std::cerr << "umpctl: unknown verb '" << name << "'\n";
    print_usage(std::cerr);
    return 2;
}
