// umpctl ports | endpoint | naming: MIDI 1.0 ports, their names and lookups, what an
// endpoint declared, and the naming approaches (docs/protocol.md, docs/naming.md).
#include <algorithm>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "service.hpp"
#include "verbs.hpp"

namespace umpctl {

namespace uc = umpd::client;
using json = nlohmann::json;

namespace {

// Code points, not bytes, so that non-ASCII names line up.
std::size_t width_of(const std::string& s) {
    std::size_t n = 0;
    for (const char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string pad(std::string s, std::size_t width) {
    const std::size_t w = width_of(s);
    if (w < width) s.append(width - w, ' ');
    return s;
}

std::string quoted(const std::string& s) { return s.empty() ? "-" : "\"" + s + "\""; }

uc::port_direction direction_option(const arguments& a, bool required) {
    const auto d = a.option("direction");
    if (!d) {
        if (required) throw usage_error("--direction in|out is required");
        return uc::port_direction::in;
    }
    const auto p = uc::parse_port_direction(*d);
    if (!p) throw usage_error("--direction must be in or out, not '" + *d + "'");
    return *p;
}

json port_json(const uc::midi1_port& p) {
    return {{"number", p.number},       {"direction", std::string(uc::to_string(p.direction))},
            {"group", p.group + 1},     {"name", p.name},
            {"custom", p.custom},       {"legacy", p.legacy},
            {"new_style", p.new_style}, {"endpoint", p.endpoint},
            {"endpoint_name", p.endpoint_name}};
}

// In ports first, then out ports, each by number: how a person looks a number up.
void sort_for_people(std::vector<uc::midi1_port>& ports) {
    std::stable_sort(ports.begin(), ports.end(), [](const uc::midi1_port& a, const uc::midi1_port& b) {
        return std::pair{a.direction, a.number} < std::pair{b.direction, b.number};
    });
}

void print_ports(std::vector<uc::midi1_port> ports, bool all_names, bool as_json) {
    sort_for_people(ports);
    if (as_json) {
        json out = json::array();
        for (const auto& p : ports) out.push_back(port_json(p));
        std::cout << out.dump(2) << "\n";
        return;
    }
    std::size_t name_w = 4, custom_w = 6, legacy_w = 6, new_w = 9;
    for (const auto& p : ports) {
        name_w = std::max(name_w, width_of(p.name) + 2);
        custom_w = std::max(custom_w, width_of(quoted(p.custom)));
        legacy_w = std::max(legacy_w, width_of(p.legacy) + 2);
        new_w = std::max(new_w, width_of(p.new_style) + 2);
    }
    std::cout << pad("NUMBER", 7) << pad("DIR", 4) << pad("GROUP", 6) << (all_names ? pad("NAME", name_w + 2) : "NAME");
    if (all_names)
        std::cout << pad("CUSTOM", custom_w + 2) << pad("LEGACY", legacy_w + 2) << pad("NEW-STYLE", new_w + 2)
                  << "ENDPOINT";
    std::cout << "\n";
    for (const auto& p : ports) {
        std::cout << pad(std::to_string(p.number), 7) << pad(std::string(uc::to_string(p.direction)), 4)
                  << pad(std::to_string(p.group + 1), 6);
        if (!all_names) {
            std::cout << quoted(p.name) << "\n";
            continue;
        }
        std::cout << pad(quoted(p.name), name_w + 2) << pad(quoted(p.custom), custom_w + 2)
                  << pad(quoted(p.legacy), legacy_w + 2) << pad(quoted(p.new_style), new_w + 2) << p.endpoint << "\n";
    }
}

int ports_verb_impl(const verb_args& args) {
    const arguments a(args, {"all-names", "json", "legacy"});
    const auto& pos = a.positional();
    if (pos.empty()) {
        a.reject_unknown({"runtime-dir", "endpoint"});
        if (a.flag("legacy")) throw usage_error("--legacy is for `ports find`");
        auto c = connect_service(a, "umpctl ports");
        uc::port_filter f;
        f.endpoint = a.option_or("endpoint", "");
        print_ports(value_or_throw(c.ports(f)), a.flag("all-names"), a.flag("json"));
        return 0;
    }
    const std::string& sub = pos[0];
    if (sub == "find") {
        a.reject_unknown({"runtime-dir", "direction"});
        if (pos.size() != 2) throw usage_error("usage: ports find NAME [--legacy] [--direction in|out] [--json]");
        std::optional<uc::port_direction> d;
        if (a.option("direction")) d = direction_option(a, true);
        auto c = connect_service(a, "umpctl ports");
        auto found = value_or_throw(c.find_ports(pos[1], a.flag("legacy"), d));
        if (found.empty())
            throw input_error("no MIDI 1.0 " + std::string(d ? (*d == uc::port_direction::in ? "input " : "output ") : "") +
                              "port has the " + (a.flag("legacy") ? "legacy-compatible " : "") + "name \"" + pos[1] +
                              "\" (see `umpctl ports --all-names`)");
        print_ports(std::move(found), true, a.flag("json"));
        return 0;
    }
    if (sub == "rename") {
        a.reject_unknown({"runtime-dir", "group", "direction"});
        if (pos.size() != 3)
            throw usage_error("usage: ports rename ENDPOINT --group G --direction in|out NAME (\"\" clears)");
        const auto g = a.integer("group", 1, 16);
        if (!g) throw usage_error("--group G (1-16) is required");
        const auto d = direction_option(a, true);
        auto c = connect_service(a, "umpctl ports");
        const auto p = value_or_throw(c.rename_port(pos[1], static_cast<std::uint8_t>(*g - 1), d, pos[2]));
        print_ports({p}, true, a.flag("json"));
        return 0;
    }
    throw usage_error("unknown sub-command '" + sub + "' (find, rename; or none to list)");
}

// ---- endpoint ------------------------------------------------------------------------------

std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::string groups_text(const uc::function_block_info& b) {
    const int first = b.first_group + 1;
    const int last = b.first_group + b.groups;
    if (b.groups == 0) return "no groups";
    return b.groups == 1 ? "group " + std::to_string(first) : "groups " + std::to_string(first) + "-" + std::to_string(last);
}

void print_blocks(const char* title, const std::vector<uc::function_block_info>& blocks) {
    std::cout << title << blocks.size() << "\n";
    for (const auto& b : blocks) {
        std::cout << "  " << pad(std::to_string(b.block + 1), 3) << pad(quoted(b.name), 20) << " " << pad(groups_text(b), 12)
                  << " " << pad(b.direction.empty() ? "-" : b.direction, 14) << (b.active ? "active  " : "inactive")
                  << "  ui " << (b.ui_hint.empty() ? "-" : b.ui_hint) << "  midi1 " << (b.midi1.empty() ? "-" : b.midi1)
                  << "  midi-ci " << static_cast<int>(b.midi_ci_version) << "  sysex8 streams "
                  << static_cast<int>(b.sysex8_streams) << "\n";
    }
}

std::string hex_bytes(const std::uint8_t* p, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += (i ? " " : "") + hex_byte(p[i]);
    return s;
}

void print_declaration(const uc::endpoint_declaration& d) {
    std::cout << "endpoint             " << d.endpoint << (d.endpoint_name.empty() ? "" : "  \"" + d.endpoint_name + "\"")
              << "\n"
              << "protocol             " << (d.protocol.empty() ? "-" : d.protocol) << "\n"
              << "discovery            " << (d.discovery.empty() ? "-" : d.discovery) << "\n"
              << "UMP version          " << static_cast<int>(d.ump_version_major) << "."
              << static_cast<int>(d.ump_version_minor) << "\n"
              << "MIDI 1.0 / 2.0       " << yes_no(d.midi1) << " / " << yes_no(d.midi2) << "\n"
              << "JR timestamps rx/tx  " << yes_no(d.rx_jr) << " / " << yes_no(d.tx_jr) << "\n"
              << "endpoint name        " << (d.name ? quoted(*d.name) : "(none declared)") << "\n"
              << "product instance id  " << (d.product_instance_id ? quoted(*d.product_instance_id) : "(none declared)")
              << "\n";
    if (d.device_identity) {
        const auto& i = *d.device_identity;
        std::cout << "device identity      manufacturer " << hex_bytes(i.manufacturer.data(), 3) << "  family " << i.family
                  << "  model " << i.model << "  revision " << hex_bytes(i.software_revision.data(), 4) << "\n";
    } else {
        std::cout << "device identity      (none declared)\n";
    }
    std::cout << "static blocks        " << yes_no(d.static_function_blocks) << "\n"
              << "UMP only             " << yes_no(d.ump_only) << "\n"
              << "naming               " << uc::to_string(d.naming) << "\n";
    print_blocks("function blocks      ", d.function_blocks);
    if (!d.group_terminal_blocks.empty()) print_blocks("group terminal blocks ", d.group_terminal_blocks);
}

// "name=Synth,first=1,groups=2,direction=bidirectional[,active=yes][,ui=...][,midi1=...]"
uc::function_block_spec parse_block(const std::string& text, std::size_t index) {
    const std::string where = "--block " + std::to_string(index + 1) + ": ";
    uc::function_block_spec b;
    std::istringstream in(text);
    std::string item;
    bool named = false;
    while (std::getline(in, item, ',')) {
        const auto eq = item.find('=');
        if (eq == std::string::npos) throw usage_error(where + "'" + item + "' is not KEY=VALUE");
        const std::string key = item.substr(0, eq);
        const std::string value = item.substr(eq + 1);
        if (key == "name") {
            b.name = value;
            named = true;
        } else if (key == "first") {
            b.first_group = static_cast<std::uint8_t>(parse_integer(value, 1, 16, where + "first"));
        } else if (key == "groups") {
            b.groups = static_cast<std::uint8_t>(parse_integer(value, 1, 16, where + "groups"));
        } else if (key == "direction") {
            if (value != "input" && value != "output" && value != "bidirectional")
                throw usage_error(where + "direction must be input, output or bidirectional, not '" + value + "'");
            b.direction = value;
        } else if (key == "active") {
            if (value != "yes" && value != "no" && value != "true" && value != "false")
                throw usage_error(where + "active must be yes or no, not '" + value + "'");
            b.active = value == "yes" || value == "true";
        } else if (key == "ui") {
            b.ui_hint = value;
        } else if (key == "midi1") {
            b.midi1 = value;
        } else {
            throw usage_error(where + "unknown key '" + key + "' (name, first, groups, direction, active, ui, midi1)");
        }
    }
    if (!named) throw usage_error(where + "name=... is required");
    if (b.first_group + b.groups - 1 > 16)
        throw usage_error(where + "groups " + std::to_string(b.first_group) + ".." +
                          std::to_string(b.first_group + b.groups - 1) + " go past 16");
    return b;
}

int endpoint_verb_impl(const verb_args& all) {
    // --block may repeat: take those out before the common parser (which refuses repeats).
    verb_args args;
    std::vector<std::string> blocks;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i] == "--") {
            args.insert(args.end(), all.begin() + static_cast<std::ptrdiff_t>(i), all.end());
            break;
        }
        if (all[i] == "--block") {
            if (i + 1 >= all.size()) throw usage_error("--block needs a value");
            blocks.push_back(all[++i]);
        } else if (all[i].rfind("--block=", 0) == 0) {
            blocks.push_back(all[i].substr(8));
        } else {
            args.push_back(all[i]);
        }
    }
    const arguments a(args, {"json", "clear"});
    a.reject_unknown({"runtime-dir"});
    const auto& pos = a.positional();
    if (pos.empty()) throw usage_error("name a sub-command: info, naming or function-blocks");
    const std::string& sub = pos[0];
    if (sub != "function-blocks" && (!blocks.empty() || a.flag("clear")))
        throw usage_error("--block and --clear are for `endpoint function-blocks`");
    if (sub == "info") {
        if (pos.size() != 2) throw usage_error("usage: endpoint info ENDPOINT [--json]");
        auto c = connect_service(a, "umpctl endpoint");
        const auto d = value_or_throw(c.endpoint_details(pos[1]));
        if (a.flag("json")) {
            std::cout << json::parse(d.json).dump(2) << "\n";
            return 0;
        }
        print_declaration(d);
        auto ports = value_or_throw(c.ports_of(d.endpoint.empty() ? pos[1] : d.endpoint));
        std::cout << "MIDI 1.0 ports       " << ports.size() << "\n";
        if (!ports.empty()) print_ports(std::move(ports), false, false);
        return 0;
    }
    if (sub == "naming") {
        if (pos.size() != 3) throw usage_error("usage: endpoint naming ENDPOINT default|classic|new-style");
        const auto n = uc::parse_endpoint_naming(pos[2]);
        if (!n) throw usage_error("the approach must be default, classic or new-style, not '" + pos[2] + "'");
        auto c = connect_service(a, "umpctl endpoint");
        print_ports(value_or_throw(c.set_naming(pos[1], *n)), true, a.flag("json"));
        return 0;
    }
    if (sub == "function-blocks") {
        if (pos.size() != 2)
            throw usage_error("usage: endpoint function-blocks ENDPOINT --block \"name=N,first=1,groups=1,"
                              "direction=bidirectional\"... | --clear");
        if (blocks.empty() && !a.flag("clear")) throw usage_error("give at least one --block, or --clear");
        if (!blocks.empty() && a.flag("clear")) throw usage_error("give --block or --clear, not both");
        if (blocks.size() > 32) throw usage_error("an endpoint has at most 32 function blocks");
        std::vector<uc::function_block_spec> specs;
        for (std::size_t i = 0; i < blocks.size(); ++i) specs.push_back(parse_block(blocks[i], i));
        auto c = connect_service(a, "umpctl endpoint");
        const auto d = value_or_throw(c.set_function_blocks(pos[1], specs));
        if (a.flag("json")) {
            std::cout << json::parse(d.json).dump(2) << "\n";
            return 0;
        }
        print_blocks("function blocks      ", d.function_blocks);
        return 0;
    }
    throw usage_error("unknown sub-command '" + sub + "' (info, naming, function-blocks)");
}

// ---- naming ------------------------------------------------------------------------------------

int naming_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir"});
    const auto& pos = a.positional();
    if (pos.empty() || pos[0] != "default" || pos.size() > 2)
        throw usage_error("usage: naming default [automatic|classic|new-style]");
    std::optional<uc::global_naming> set;
    if (pos.size() == 2) {
        set = uc::parse_global_naming(pos[1]);
        if (!set) throw usage_error("the global naming must be automatic, classic or new-style, not '" + pos[1] + "'");
    }
    auto c = connect_service(a, "umpctl naming");
    if (set) check(c.set_global_naming(*set));
    const auto now = value_or_throw(c.get_global_naming());
    if (a.flag("json")) std::cout << json{{"naming", std::string(uc::to_string(now))}}.dump() << "\n";
    else std::cout << uc::to_string(now) << "\n";
    return 0;
}

}  // namespace

int ports_verb(const verb_args& args) { return ports_verb_impl(args); }
int endpoint_verb(const verb_args& args) { return endpoint_verb_impl(args); }
int naming_verb(const verb_args& args) { return naming_verb_impl(args); }

#define UMPCTL_RUNTIME_DIR_HELP "  --runtime-dir DIR   the umpd to talk to (default: $XDG_RUNTIME_DIR/umpd)\n"

const char* const ports_help =
    "usage: umpctl ports [--all-names] [--json] [--endpoint ENDPOINT]\n"
    "       umpctl ports find NAME [--legacy] [--direction in|out] [--json]\n"
    "       umpctl ports rename ENDPOINT --group G --direction in|out NAME\n"
    "\n"
    "The MIDI 1.0 ports umpd projects from its endpoints (one per active group and\n"
    "direction), as JACK and ALSA applications see them. The table: NUMBER (stable, per\n"
    "direction), DIR (in: messages come from the endpoint; out: they go to it), GROUP\n"
    "(1-16) and the NAME shown.\n"
    "  --all-names         also the custom, legacy-compatible and new-style names, and\n"
    "                      the endpoint id\n"
    "  --json              an array of port objects: number, direction, group (1-16),\n"
    "                      name, custom, legacy, new_style, endpoint, endpoint_name\n"
    "  --endpoint E        only the ports of endpoint E (id or name)\n"
    "find: every port with that exact name (any style; --legacy: the legacy-compatible\n"
    "name only), all of them when several match; none: a message and exit code 1.\n"
    "rename: sets the port's custom name; an empty NAME (\"\") clears it.\n"
    "The naming rules: docs/naming.md.\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const endpoint_help =
    "usage: umpctl endpoint info ENDPOINT [--json]\n"
    "       umpctl endpoint naming ENDPOINT default|classic|new-style\n"
    "       umpctl endpoint function-blocks ENDPOINT --block SPEC... | --clear [--json]\n"
    "\n"
    "info: everything the endpoint declared in the UMP protocol (UMP version, MIDI 1.0 /\n"
    "2.0 support, JR timestamps, endpoint name, product instance id, device identity),\n"
    "its function blocks or group terminal blocks, its naming approach and its MIDI 1.0\n"
    "ports. --json: umpd's endpoint_info result.\n"
    "naming: the endpoint's naming approach (default: the global one, see `umpctl\n"
    "naming`); prints its ports as renamed.\n"
    "function-blocks: replaces a virtual endpoint's declared function blocks, one\n"
    "--block per block, in order:\n"
    "  --block \"name=Synth,first=1,groups=2,direction=bidirectional\"\n"
    "  keys: name (required; no commas), first (first group, 1-16, default 1), groups\n"
    "  (count, default 1), direction (input|output|bidirectional, default bidirectional),\n"
    "  active (yes|no, default yes), ui (unknown|receiver|sender|sender_receiver),\n"
    "  midi1 (no|unrestricted|restricted, default no). --clear declares none.\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const naming_help =
    "usage: umpctl naming default [automatic|classic|new-style] [--json]\n"
    "\n"
    "Prints the global naming approach of MIDI 1.0 ports, or sets it and prints the new\n"
    "one. automatic: new-style names when the endpoint has a usable name of its own or\n"
    "no legacy form, legacy-compatible names otherwise; classic: legacy-compatible\n"
    "(WinMM) names; new-style: names built from the device and its blocks. An endpoint's\n"
    "own approach (`umpctl endpoint naming`) wins over it.\n" UMPCTL_RUNTIME_DIR_HELP;

#undef UMPCTL_RUNTIME_DIR_HELP

}  // namespace umpctl
