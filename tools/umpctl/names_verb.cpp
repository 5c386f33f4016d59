// umpctl names preview: the name table umpd would build for a described device,
// computed here with umpd::naming (no service needed).
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "umpd/naming/name_table.hpp"
#include "umpd/naming/text.hpp"
#include "verbs.hpp"

namespace umpctl {

const char* const names_help =
    "usage: umpctl names preview FILE [--json]\n"
    "\n"
    "Prints the MIDI 1.0 name table umpd would build for the device FILE describes\n"
    "(\"-\" reads stdin), without a running service:\n"
    "\n"
    "  {\"device\": \"SoftStep\", \"duplicate\": 1, \"legacy_equivalent\": true,\n"
    "   \"approach\": \"automatic\",\n"
    "   \"ports\": [{\"group_index\": 0, \"direction\": \"destination\",\n"
    "              \"name\": \"Control Surface\", \"custom\": \"\"}, ...]}\n"
    "\n"
    "device and ports are required. duplicate: 1 for the first unit of a model, 2 for a\n"
    "second identical one (default 1). legacy_equivalent: false for virtual, network and\n"
    "plugin endpoints (default true). approach: automatic (default), classic or new-style.\n"
    "A port's group_index is 0-15, direction source or destination; name is the name the\n"
    "device supplied (absent or null: none); custom the user's name (default empty). The\n"
    "order of ports within a direction is the device's port order.\n"
    "\n"
    "Prints a table (group 1-16, direction, the name shown, custom, legacy-compatible and\n"
    "new-style names); --json prints an array, one object per input port in input order:\n"
    "group_index, direction, custom, legacy, new_style, name (the name shown).\n"
    "Bad input: a one-line error naming the field, exit code 1. The rules: docs/naming.md.\n";

namespace {

using json = nlohmann::json;
namespace naming = umpd::naming;

[[noreturn]] void bad(const std::string& field, const std::string& what) { throw input_error(field + ": " + what); }

void only_fields(const json& obj, const std::string& where, std::initializer_list<const char*> known) {
    for (const auto& [key, v] : obj.items()) {
        bool ok = false;
        for (const char* k : known) ok = ok || key == k;
        if (!ok) bad(where + key, "unknown field");
    }
}

std::string text_field(const json& obj, const char* key, const std::string& where, bool required) {
    const auto it = obj.find(key);
    if (it == obj.end()) {
        if (required) bad(where + key, "missing");
        return {};
    }
    if (!it->is_string()) bad(where + key, "must be a string");
    return it->get<std::string>();
}

struct preview_input {
    naming::endpoint_naming_input endpoint;
    naming::global_naming global = naming::global_naming::automatic;
};

preview_input parse_input(const json& doc) {
    if (!doc.is_object()) bad("input", "must be a JSON object");
    only_fields(doc, "", {"device", "duplicate", "legacy_equivalent", "approach", "ports"});
    preview_input in;
    in.endpoint.device = text_field(doc, "device", "", true);
    if (const auto it = doc.find("duplicate"); it != doc.end()) {
        if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 9999)
            bad("duplicate", "must be an integer 1-9999");
        in.endpoint.duplicate = it->get<unsigned>();
    }
    if (const auto it = doc.find("legacy_equivalent"); it != doc.end()) {
        if (!it->is_boolean()) bad("legacy_equivalent", "must be true or false");
        in.endpoint.legacy_equivalent = it->get<bool>();
    }
    if (doc.contains("approach")) {
        const std::string a = text_field(doc, "approach", "", false);
        if (a == "automatic" || a == "default") {
            in.endpoint.approach = naming::naming_approach::default_approach;
        } else if (a == "classic") {
            in.endpoint.approach = naming::naming_approach::classic;
        } else if (a == "new-style") {
            in.endpoint.approach = naming::naming_approach::new_style;
        } else {
            bad("approach", "must be automatic, classic or new-style");
        }
    }
    const auto ports = doc.find("ports");
    if (ports == doc.end()) bad("ports", "missing");
    if (!ports->is_array()) bad("ports", "must be an array");
    for (std::size_t i = 0; i < ports->size(); ++i) {
        const json& p = (*ports)[i];
        const std::string where = "ports[" + std::to_string(i) + "]";
        if (!p.is_object()) bad(where, "must be an object");
        only_fields(p, where + ".", {"group_index", "direction", "name", "custom"});
        naming::port_naming_input port;
        const auto g = p.find("group_index");
        if (g == p.end()) bad(where + ".group_index", "missing");
        if (!g->is_number_integer() || g->get<long long>() < 0 || g->get<long long>() > 15)
            bad(where + ".group_index", "must be an integer 0-15");
        port.group_index = g->get<std::uint8_t>();
        const std::string d = text_field(p, "direction", where + ".", true);
        if (d == "source") {
            port.direction = naming::port_direction::source;
        } else if (d == "destination") {
            port.direction = naming::port_direction::destination;
        } else {
            bad(where + ".direction", "must be source or destination");
        }
        if (const auto n = p.find("name"); n != p.end() && !n->is_null()) {
            if (!n->is_string()) bad(where + ".name", "must be a string or absent");
            port.device_name = n->get<std::string>();
        }
        port.custom = text_field(p, "custom", where + ".", false);
        in.endpoint.ports.push_back(std::move(port));
    }
    return in;
}

// A plain read loop: istreambuf_iterator and rdbuf() trip g++ 12's -Wnull-dereference.
std::string read_all(std::istream& in) {
    std::string text;
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) text.append(buf, static_cast<std::size_t>(in.gcount()));
    return text;
}

std::string read_input(const std::string& file) {
    if (file == "-") return read_all(std::cin);
    std::ifstream f(file, std::ios::binary);
    if (!f) throw input_error(file + ": cannot open");
    return read_all(f);
}

std::string_view shown_label(naming::shown_name s) {
    switch (s) {
    case naming::shown_name::custom: return "custom";
    case naming::shown_name::legacy: return "legacy-compatible";
    case naming::shown_name::new_style: return "new-style";
    }
    return "";
}

void print_table(const preview_input& in, const naming::name_table& t) {
    std::cout << "device: " << naming::sanitize_text(in.endpoint.device) << " (unit " << in.endpoint.duplicate << ", "
              << (in.endpoint.legacy_equivalent ? "legacy equivalent" : "no legacy form") << ", approach "
              << (in.endpoint.approach == naming::naming_approach::default_approach
                      ? std::string("automatic")
                      : std::string(naming::to_string(in.endpoint.approach)))
              << "): shows " << shown_label(t.style) << " names\n";
    std::vector<std::array<std::string, 6>> rows{{"GROUP", "DIRECTION", "NAME", "CUSTOM", "LEGACY", "NEW-STYLE"}};
    for (const auto& e : t.entries)
        rows.push_back({std::to_string(e.group_index + 1), std::string(naming::to_string(e.direction)), e.name(),
                        e.custom.empty() ? "-" : e.custom, e.legacy, e.new_style});
    std::array<std::size_t, 6> width{};
    for (const auto& r : rows)
        for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], naming::code_points(r[c]));
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t c = 0; c < r.size(); ++c) {
            line += r[c];
            if (c + 1 < r.size()) line += std::string(width[c] - naming::code_points(r[c]) + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

int preview(const verb_args& rest) {
    const arguments args(rest, {"json"});
    args.reject_unknown({"json"});
    if (args.positional().size() != 1) throw usage_error("names preview takes one FILE");
    const std::string& file = args.positional()[0];
    json doc;
    try {
        doc = json::parse(read_input(file));
    } catch (const json::parse_error& e) {
        throw input_error(file + ": not valid JSON: " + e.what());
    }
    const auto in = parse_input(doc);
    const auto r = naming::build_name_table(in.endpoint, in.global);
    if (r.error == naming::errc::duplicate_port)
        bad("ports[" + std::to_string(r.port_index) + "]", "a second port with the same group_index and direction");
    if (r.error) bad("input", r.error.message());
    if (args.flag("json")) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& e : r.table.entries)
            out.push_back({{"group_index", e.group_index},
                           {"direction", naming::to_string(e.direction)},
                           {"custom", e.custom},
                           {"legacy", e.legacy},
                           {"new_style", e.new_style},
                           {"name", e.name()}});
        std::cout << out.dump(2) << "\n";
    } else {
        print_table(in, r.table);
    }
    return 0;
}

}  // namespace

int names_verb(const verb_args& args) {
    if (args.empty()) throw usage_error("names needs a subcommand: preview");
    if (args[0] != "preview") throw usage_error("unknown subcommand '" + args[0] + "'");
    return preview(verb_args(args.begin() + 1, args.end()));
}

}  // namespace umpctl
