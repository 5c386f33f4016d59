#include "umpd/service/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace umpd::service {

namespace {

// Thrown inside the parser only (config parsing may use exceptions, STYLE.md);
// parse_config turns it into a config_error.
struct bad_field {
    std::size_t line;
    std::string field;
    std::string message;
};

std::size_t line_of(const toml::node& n) { return n.source().begin.line; }

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        default: return "a date or time";
    }
}

// A double as TOML writes it: always with a decimal point or exponent, exact on read-back.
std::string format_number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    std::string s = buf;
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20 || u == 0x7F) {
            static const char hex[] = "0123456789ABCDEF";
            out += "\\u00";
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xF]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
    return out;
}

// Rejects keys that are not in `known`: a typo must not be silently ignored.
void check_keys(const toml::table& t, const std::string& prefix, std::initializer_list<std::string_view> known) {
    for (auto&& [key, value] : t) {
        bool ok = false;
        for (auto k : known) ok = ok || key.str() == k;
        if (!ok) {
            std::size_t line = key.source().begin.line;
            if (line == 0) line = line_of(value);
            throw bad_field{line, prefix + std::string(key.str()), "unknown field"};
        }
    }
}

std::string get_string(const toml::table& t, std::string_view key, const std::string& field, bool required,
                       std::size_t table_line, std::string fallback = {}) {
    const toml::node* n = t.get(key);
    if (!n) {
        if (required) throw bad_field{table_line, field, "missing (a string is required)"};
        return fallback;
    }
    const auto* s = n->as_string();
    if (!s) throw bad_field{line_of(*n), field, "expected a string, got " + type_name(*n)};
    if (s->get().empty()) throw bad_field{line_of(*n), field, "must not be empty"};
    return s->get();
}

bool get_bool(const toml::table& t, std::string_view key, const std::string& field, bool fallback) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    const auto* b = n->as_boolean();
    if (!b) throw bad_field{line_of(*n), field, "expected true or false, got " + type_name(*n)};
    return b->get();
}

std::int64_t get_int(const toml::table& t, std::string_view key, const std::string& field, std::int64_t lo,
                     std::int64_t hi, std::int64_t fallback, bool power_of_two = false) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    const auto* i = n->as_integer();
    if (!i) throw bad_field{line_of(*n), field, "expected an integer, got " + type_name(*n)};
    const std::int64_t v = i->get();
    if (v < lo || v > hi)
        throw bad_field{line_of(*n), field,
                        "expected " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(v)};
    if (power_of_two && (v & (v - 1)) != 0)
        throw bad_field{line_of(*n), field, "expected a power of two, got " + std::to_string(v)};
    return v;
}

const toml::array* get_table_array(const toml::table& t, std::string_view key, const std::string& field) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    const auto* a = n->as_array();
    if (!a) throw bad_field{line_of(*n), field, "expected an array of tables ([[" + field + "]]), got " + type_name(*n)};
    for (const auto& el : *a)
        if (!el.is_table())
            throw bad_field{line_of(el), field, "expected an array of tables ([[" + field + "]]), got " + type_name(el) +
                                                    " in it"};
    return a;
}

limits_config parse_limits(const toml::table& root) {
    limits_config l;
    const toml::node* n = root.get("limits");
    if (!n) return l;
    const auto* t = n->as_table();
    if (!t) throw bad_field{line_of(*n), "limits", "expected a table ([limits]), got " + type_name(*n)};
    check_keys(*t, "limits.",
               {"to_service_words", "to_client_words", "max_ring_words", "max_schedule_ahead_ms", "schedule_capacity",
                "spin_us", "max_ports_per_device", "max_endpoints", "max_connections", "discovery_timeout_ms"});
    constexpr std::int64_t ceiling = ring_words_ceiling;
    l.max_ring_words = static_cast<std::uint32_t>(
        get_int(*t, "max_ring_words", "limits.max_ring_words", min_ring_words, ceiling, l.max_ring_words, true));
    const std::int64_t max_ring = l.max_ring_words;
    l.to_service_words = static_cast<std::uint32_t>(
        get_int(*t, "to_service_words", "limits.to_service_words", min_ring_words, max_ring,
                std::min<std::int64_t>(l.to_service_words, max_ring), true));
    l.to_client_words = static_cast<std::uint32_t>(get_int(*t, "to_client_words", "limits.to_client_words",
                                                           min_ring_words, max_ring,
                                                           std::min<std::int64_t>(l.to_client_words, max_ring), true));
    l.max_schedule_ahead = std::chrono::milliseconds(
        get_int(*t, "max_schedule_ahead_ms", "limits.max_schedule_ahead_ms", 1, 3'600'000, 60'000));
    l.schedule_capacity = static_cast<std::uint32_t>(
        get_int(*t, "schedule_capacity", "limits.schedule_capacity", 1, 1 << 24, l.schedule_capacity));
    l.spin = std::chrono::microseconds(get_int(*t, "spin_us", "limits.spin_us", 0, 100'000, 50));
    l.max_ports_per_device = static_cast<std::uint32_t>(
        get_int(*t, "max_ports_per_device", "limits.max_ports_per_device", 1, 65535, l.max_ports_per_device));
    l.max_endpoints =
        static_cast<std::uint32_t>(get_int(*t, "max_endpoints", "limits.max_endpoints", 1, 1 << 20, l.max_endpoints));
    l.max_connections = static_cast<std::uint32_t>(
        get_int(*t, "max_connections", "limits.max_connections", 1, 1 << 20, l.max_connections));
    l.discovery_timeout = std::chrono::milliseconds(
        get_int(*t, "discovery_timeout_ms", "limits.discovery_timeout_ms", 10, 60'000, l.discovery_timeout.count()));
    return l;
}

// A string field that must be one of a few words; nullopt when absent.
template <class Parse>
auto get_word(const toml::table& t, std::string_view key, const std::string& field, std::string_view expected,
              Parse parse) -> decltype(parse(std::string_view{})) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    const auto* s = n->as_string();
    if (!s) throw bad_field{line_of(*n), field, "expected " + std::string(expected) + ", got " + type_name(*n)};
    auto v = parse(std::string_view(s->get()));
    if (!v) throw bad_field{line_of(*n), field, "expected " + std::string(expected) + ", got " + quoted(s->get())};
    return v;
}

function_block_declaration parse_function_block(const toml::table& t, const std::string& prefix) {
    function_block_declaration b;
    check_keys(t, prefix + ".", {"name", "first_group", "groups", "direction", "active", "ui_hint", "midi1"});
    b.name = get_string(t, "name", prefix + ".name", false, line_of(t));
    const auto first = get_int(t, "first_group", prefix + ".first_group", 1, 16, 1);
    const auto count = get_int(t, "groups", prefix + ".groups", 1, 16, 1);
    if (first + count - 1 > 16) {
        const toml::node* n = t.get("groups");
        throw bad_field{n ? line_of(*n) : line_of(t), prefix + ".groups",
                        "groups " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                            " are not within 1..16"};
    }
    b.first_group = static_cast<std::uint8_t>(first - 1);
    b.group_count = static_cast<std::uint8_t>(count);
    if (auto d = get_word(t, "direction", prefix + ".direction", "\"input\", \"output\" or \"bidirectional\"",
                          [](std::string_view w) { return parse_block_direction(w); }))
        b.direction = *d;
    b.ui_hint = default_ui_hint(b.direction);
    if (auto h = get_word(t, "ui_hint", prefix + ".ui_hint",
                          "\"unknown\", \"receiver\", \"sender\" or \"sender_receiver\"",
                          [](std::string_view w) { return parse_ui_hint(w); }))
        b.ui_hint = *h;
    if (auto m = get_word(t, "midi1", prefix + ".midi1", "\"no\", \"unrestricted\" or \"restricted\"",
                          [](std::string_view w) { return parse_block_midi1(w); }))
        b.midi1 = *m;
    b.active = get_bool(t, "active", prefix + ".active", true);
    return b;
}

std::optional<naming::port_direction> parse_port_direction(std::string_view s) {
    if (s == "in") return naming::port_direction::source;
    if (s == "out") return naming::port_direction::destination;
    return std::nullopt;
}

naming_config parse_naming(const toml::table& root) {
    naming_config c;
    const toml::node* n = root.get("naming");
    if (!n) return c;
    const auto* t = n->as_table();
    if (!t) throw bad_field{line_of(*n), "naming", "expected a table ([naming]), got " + type_name(*n)};
    check_keys(*t, "naming.", {"default", "endpoints"});
    if (auto g = get_word(*t, "default", "naming.default", "\"automatic\", \"classic\" or \"new-style\"",
                          [](std::string_view w) { return naming::parse_global_naming(w); }))
        c.global = *g;
    std::set<std::string> keys;
    if (const auto* eps = get_table_array(*t, "endpoints", "naming.endpoints")) {
        for (std::size_t i = 0; i < eps->size(); ++i) {
            const auto& et = *(*eps)[i].as_table();
            const std::string field = "naming.endpoints[" + std::to_string(i) + "]";
            check_keys(et, field + ".", {"product_instance_id", "device", "port", "approach", "custom_names"});
            endpoint_naming_config e;
            e.product_instance_id = get_string(et, "product_instance_id", field + ".product_instance_id", false, line_of(et));
            e.device = get_string(et, "device", field + ".device", false, line_of(et));
            e.port = static_cast<std::uint32_t>(get_int(et, "port", field + ".port", 1, 65535, 0));
            if (e.product_instance_id.empty() && (e.device.empty() || e.port == 0))
                throw bad_field{line_of(et), field, "needs product_instance_id, or device and port"};
            if (!e.product_instance_id.empty() && (!e.device.empty() || e.port != 0))
                throw bad_field{line_of(et), field, "give product_instance_id or device and port, not both"};
            if (auto a = get_word(et, "approach", field + ".approach", "\"default\", \"classic\" or \"new-style\"",
                                  [](std::string_view w) { return naming::parse_naming_approach(w); }))
                e.approach = *a;
            if (const auto* names = get_table_array(et, "custom_names", field + ".custom_names")) {
                for (std::size_t j = 0; j < names->size(); ++j) {
                    const auto& nt = *(*names)[j].as_table();
                    const std::string nf = field + ".custom_names[" + std::to_string(j) + "]";
                    check_keys(nt, nf + ".", {"group", "direction", "name"});
                    endpoint_naming_config::custom_name cn;
                    if (!nt.get("group")) throw bad_field{line_of(nt), nf + ".group", "missing (1..16)"};
                    cn.group_index = static_cast<std::uint8_t>(get_int(nt, "group", nf + ".group", 1, 16, 1) - 1);
                    auto d = get_word(nt, "direction", nf + ".direction", "\"in\" or \"out\"",
                                      [](std::string_view w) { return parse_port_direction(w); });
                    if (!d) throw bad_field{line_of(nt), nf + ".direction", "missing (\"in\" or \"out\")"};
                    cn.direction = *d;
                    cn.name = get_string(nt, "name", nf + ".name", true, line_of(nt));
                    for (const auto& other : e.custom_names)
                        if (other.group_index == cn.group_index && other.direction == cn.direction)
                            throw bad_field{line_of(nt), nf, "a second custom name for the same group and direction"};
                    e.custom_names.push_back(std::move(cn));
                }
            }
            if (!keys.insert(naming_key(e)).second)
                throw bad_field{line_of(et), field, "the same endpoint is named twice"};
            c.endpoints.push_back(std::move(e));
        }
    }
    std::sort(c.endpoints.begin(), c.endpoints.end(),
              [](const auto& a, const auto& b) { return naming_key(a) < naming_key(b); });
    return c;
}

port_config parse_port(const toml::table& t, const std::string& prefix) {
    port_config p;
    check_keys(t, prefix + ".", {"name", "protocol", "number", "function_blocks"});
    if (const auto* blocks = get_table_array(t, "function_blocks", prefix + ".function_blocks")) {
        if (blocks->size() > max_function_blocks)
            throw bad_field{line_of(t), prefix + ".function_blocks",
                            "at most " + std::to_string(max_function_blocks) + " function blocks per port"};
        for (std::size_t i = 0; i < blocks->size(); ++i)
            p.function_blocks.push_back(parse_function_block(*(*blocks)[i].as_table(),
                                                             prefix + ".function_blocks[" + std::to_string(i) + "]"));
    }
    p.name = get_string(t, "name", prefix + ".name", false, line_of(t));
    if (const toml::node* n = t.get("protocol")) {
        const auto* s = n->as_string();
        if (!s) throw bad_field{line_of(*n), prefix + ".protocol", "expected \"midi1\" or \"midi2\", got " + type_name(*n)};
        auto proto = parse_protocol(s->get());
        if (!proto)
            throw bad_field{line_of(*n), prefix + ".protocol", "expected \"midi1\" or \"midi2\", got " + quoted(s->get())};
        p.protocol = *proto;
    }
    p.number = static_cast<std::uint32_t>(get_int(t, "number", prefix + ".number", 1, 65535, 0));
    return p;
}

device_config parse_device(const toml::table& t, const std::string& prefix) {
    device_config d;
    check_keys(t, prefix + ".", {"name", "manufacturer", "model", "offline", "ports"});
    d.name = get_string(t, "name", prefix + ".name", true, line_of(t));
    d.manufacturer = get_string(t, "manufacturer", prefix + ".manufacturer", false, line_of(t), d.manufacturer);
    d.model = get_string(t, "model", prefix + ".model", false, line_of(t), d.model);
    d.offline = get_bool(t, "offline", prefix + ".offline", false);
    if (const auto* ports = get_table_array(t, "ports", prefix + ".ports")) {
        std::set<std::uint32_t> numbers;
        std::uint32_t next = 1;
        for (std::size_t i = 0; i < ports->size(); ++i) {
            const auto& pt = *(*ports)[i].as_table();
            const std::string field = prefix + ".ports[" + std::to_string(i) + "]";
            port_config p = parse_port(pt, field);
            const std::uint32_t number = p.number != 0 ? p.number : next;
            if (!numbers.insert(number).second) {
                const toml::node* n = pt.get("number");
                throw bad_field{n ? line_of(*n) : line_of(pt), field + ".number",
                                "port number " + std::to_string(number) + " is used twice"};
            }
            next = std::max(next, number + 1);
            d.ports.push_back(std::move(p));
        }
    }
    return d;
}

loopback_config parse_loopback(const toml::table& t, const std::string& prefix) {
    loopback_config l;
    check_keys(t, prefix + ".", {"kind", "name", "name_b"});
    const toml::node* k = t.get("kind");
    if (!k) throw bad_field{line_of(t), prefix + ".kind", "missing (\"midi1\", \"pair\" or \"diagnostics\")"};
    const auto* ks = k->as_string();
    const std::string got = ks ? quoted(ks->get()) : type_name(*k);
    if (ks && ks->get() == "midi1") l.kind = device_kind::loopback_midi1;
    else if (ks && ks->get() == "pair") l.kind = device_kind::loopback_pair;
    else if (ks && ks->get() == "diagnostics") l.kind = device_kind::loopback_diagnostics;
    else throw bad_field{line_of(*k), prefix + ".kind", "expected \"midi1\", \"pair\" or \"diagnostics\", got " + got};
    l.name = get_string(t, "name", prefix + ".name", true, line_of(t));
    if (l.kind == device_kind::loopback_pair) {
        l.name_b = get_string(t, "name_b", prefix + ".name_b", false, line_of(t), l.name + " B");
    } else if (const toml::node* nb = t.get("name_b")) {
        throw bad_field{line_of(*nb), prefix + ".name_b", "only a \"pair\" loopback has a second name"};
    }
    return l;
}

// A table that may be absent; a value that is not a table is an error.
const toml::table* get_table(const toml::table& root, std::string_view key) {
    const toml::node* n = root.get(key);
    if (!n) return nullptr;
    const auto* t = n->as_table();
    if (!t) throw bad_field{line_of(*n), std::string(key), "expected a table ([" + std::string(key) + "]), got " + type_name(*n)};
    return t;
}

jack_config parse_jack(const toml::table& root) {
    jack_config j;
    const toml::table* t = get_table(root, "jack");
    if (!t) return j;
    check_keys(*t, "jack.", {"enabled", "client_name", "server_name", "wait_for_server"});
    j.enabled = get_bool(*t, "enabled", "jack.enabled", j.enabled);
    j.client_name = get_string(*t, "client_name", "jack.client_name", false, line_of(*t), j.client_name);
    j.server_name = get_string(*t, "server_name", "jack.server_name", false, line_of(*t), j.server_name);
    j.wait_for_server = get_bool(*t, "wait_for_server", "jack.wait_for_server", j.wait_for_server);
    return j;
}

alsa_config parse_alsa(const toml::table& root) {
    alsa_config a;
    const toml::table* t = get_table(root, "alsa");
    if (!t) return a;
    check_keys(*t, "alsa.", {"enabled", "client_name", "import", "exclude"});
    a.enabled = get_bool(*t, "enabled", "alsa.enabled", a.enabled);
    a.client_name = get_string(*t, "client_name", "alsa.client_name", false, line_of(*t), a.client_name);
    a.import_ports = get_bool(*t, "import", "alsa.import", a.import_ports);
    if (const toml::node* n = t->get("exclude")) {
        const auto* arr = n->as_array();
        if (!arr) throw bad_field{line_of(*n), "alsa.exclude", "expected an array of strings, got " + type_name(*n)};
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const auto* s = (*arr)[i].as_string();
            const std::string field = "alsa.exclude[" + std::to_string(i) + "]";
            if (!s) throw bad_field{line_of((*arr)[i]), field, "expected a string, got " + type_name((*arr)[i])};
            if (s->get().empty()) throw bad_field{line_of((*arr)[i]), field, "must not be empty"};
            a.exclude.push_back(s->get());
        }
    }
    return a;
}

lv2_config parse_lv2(const toml::table& root) {
    lv2_config l;
    const toml::table* t = get_table(root, "lv2");
    if (!t) return l;
    check_keys(*t, "lv2.", {"enabled", "sample_rate", "block_size"});
    l.enabled = get_bool(*t, "enabled", "lv2.enabled", l.enabled);
    l.sample_rate = static_cast<std::uint32_t>(get_int(*t, "sample_rate", "lv2.sample_rate", 8000, 384000, l.sample_rate));
    l.block_size = static_cast<std::uint32_t>(get_int(*t, "block_size", "lv2.block_size", 16, 8192, l.block_size, true));
    return l;
}

plugin_config parse_plugin(const toml::table& t, const std::string& prefix) {
    check_keys(t, prefix + ".", {"name", "uri", "controls", "state"});
    plugin_config p;
    p.name = get_string(t, "name", prefix + ".name", true, line_of(t));
    p.uri = get_string(t, "uri", prefix + ".uri", true, line_of(t));
    if (const toml::node* n = t.get("controls")) {
        const auto* ct = n->as_table();
        if (!ct) throw bad_field{line_of(*n), prefix + ".controls", "expected a table (symbol = number), got " + type_name(*n)};
        for (auto&& [key, value] : *ct) {
            const std::string field = prefix + ".controls." + std::string(key.str());
            double v = 0;
            if (const auto* f = value.as_floating_point()) v = f->get();
            else if (const auto* i = value.as_integer()) v = static_cast<double>(i->get());
            else if (const auto* b = value.as_boolean()) v = b->get() ? 1.0 : 0.0;
            else throw bad_field{line_of(value), field, "expected a number, got " + type_name(value)};
            p.controls.push_back({std::string(key.str()), v});
        }
        std::sort(p.controls.begin(), p.controls.end(),
                  [](const auto& a, const auto& b) { return a.symbol < b.symbol; });
    }
    if (const toml::node* n = t.get("state")) {
        const auto* s = n->as_string();
        if (!s) throw bad_field{line_of(*n), prefix + ".state", "expected a string (the plugin's state), got " + type_name(*n)};
        p.state = s->get();
    }
    return p;
}

connection_config parse_connection(const toml::table& t, const std::string& prefix) {
    check_keys(t, prefix + ".", {"from", "to"});
    connection_config c;
    c.from = get_string(t, "from", prefix + ".from", true, line_of(t));
    c.to = get_string(t, "to", prefix + ".to", true, line_of(t));
    return c;
}

config parse_table(const toml::table& root) {
    config c;
    check_keys(root, "", {"limits", "devices", "loopbacks", "naming", "jack", "alsa", "lv2", "plugins", "connections"});
    c.limits = parse_limits(root);
    c.naming = parse_naming(root);
    c.jack = parse_jack(root);
    c.alsa = parse_alsa(root);
    c.lv2 = parse_lv2(root);
    if (const auto* plugins = get_table_array(root, "plugins", "plugins")) {
        std::set<std::string> names;
        for (std::size_t i = 0; i < plugins->size(); ++i) {
            const auto& pt = *(*plugins)[i].as_table();
            const std::string field = "plugins[" + std::to_string(i) + "]";
            plugin_config p = parse_plugin(pt, field);
            if (!names.insert(p.name).second)
                throw bad_field{line_of(*pt.get("name")), field + ".name", "plugin name " + quoted(p.name) + " is used twice"};
            c.plugins.push_back(std::move(p));
        }
    }
    if (const auto* conns = get_table_array(root, "connections", "connections")) {
        for (std::size_t i = 0; i < conns->size(); ++i)
            c.connections.push_back(parse_connection(*(*conns)[i].as_table(), "connections[" + std::to_string(i) + "]"));
    }
    if (const auto* devices = get_table_array(root, "devices", "devices")) {
        std::set<std::string> names;
        for (std::size_t i = 0; i < devices->size(); ++i) {
            const auto& dt = *(*devices)[i].as_table();
            const std::string field = "devices[" + std::to_string(i) + "]";
            device_config d = parse_device(dt, field);
            if (d.ports.size() > c.limits.max_ports_per_device)
                throw bad_field{line_of(dt), field + ".ports",
                                std::to_string(d.ports.size()) + " ports, more than limits.max_ports_per_device (" +
                                    std::to_string(c.limits.max_ports_per_device) + ")"};
            if (!names.insert(d.name).second)
                throw bad_field{line_of(*dt.get("name")), field + ".name", "device name " + quoted(d.name) + " is used twice"};
            c.devices.push_back(std::move(d));
        }
    }
    if (const auto* loopbacks = get_table_array(root, "loopbacks", "loopbacks")) {
        for (std::size_t i = 0; i < loopbacks->size(); ++i)
            c.loopbacks.push_back(
                parse_loopback(*(*loopbacks)[i].as_table(), "loopbacks[" + std::to_string(i) + "]"));
    }
    return c;
}

}  // namespace

std::string naming_key(const endpoint_naming_config& e) {
    if (!e.product_instance_id.empty()) return "piid:" + e.product_instance_id;
    return "port:" + e.device + "/" + std::to_string(e.port);
}

config default_config() {
    config c;
    device_config d;
    d.name = "umpd Virtual Device";
    d.ports.push_back({"Port 1", ump_protocol::midi2, 1});
    c.devices.push_back(std::move(d));
    return c;
}

std::string config_error::to_string() const {
    std::string s = path;
    if (line != 0) s += ":" + std::to_string(line);
    s += ": " + field + ": " + message;
    return s;
}

config_result parse_config(std::string_view text, const std::string& path) {
    config_result r;
    r.error.path = path;
    try {
        toml::table root = toml::parse(text, path);
        r.value = parse_table(root);
    } catch (const toml::parse_error& e) {
        r.error.line = e.source().begin.line;
        r.error.field = "syntax";
        r.error.message = std::string(e.description());
    } catch (const bad_field& e) {
        r.error.line = e.line;
        r.error.field = e.field;
        r.error.message = e.message;
    }
    return r;
}

config_result load_config(const std::string& path, bool& found) {
    found = false;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        config_result r;
        if (errno == ENOENT) {
            r.value = default_config();
            return r;
        }
        r.error = {path, 0, "file", std::string("cannot be read: ") + std::strerror(errno)};
        return r;
    }
    found = true;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return {std::nullopt, {path, 0, "file", "cannot be read"}};
    return parse_config(text.str(), path);
}

std::string format_config(const config& c) {
    std::ostringstream o;
    o << "# umpd configuration (docs/config.md). umpd rewrites this file when devices\n"
         "# or loopbacks change at run time; comments are not kept.\n\n";
    const auto& l = c.limits;
    o << "[limits]\n";
    o << "to_service_words = " << l.to_service_words << "\n";
    o << "to_client_words = " << l.to_client_words << "\n";
    o << "max_ring_words = " << l.max_ring_words << "\n";
    o << "max_schedule_ahead_ms = "
      << std::chrono::duration_cast<std::chrono::milliseconds>(l.max_schedule_ahead).count() << "\n";
    o << "schedule_capacity = " << l.schedule_capacity << "\n";
    o << "spin_us = " << std::chrono::duration_cast<std::chrono::microseconds>(l.spin).count() << "\n";
    o << "max_ports_per_device = " << l.max_ports_per_device << "\n";
    o << "max_endpoints = " << l.max_endpoints << "\n";
    o << "max_connections = " << l.max_connections << "\n";
    o << "discovery_timeout_ms = " << l.discovery_timeout.count() << "\n";
    for (const auto& d : c.devices) {
        o << "\n[[devices]]\n";
        o << "name = " << quoted(d.name) << "\n";
        o << "manufacturer = " << quoted(d.manufacturer) << "\n";
        o << "model = " << quoted(d.model) << "\n";
        o << "offline = " << (d.offline ? "true" : "false") << "\n";
        for (const auto& p : d.ports) {
            o << "\n  [[devices.ports]]\n";
            if (p.number != 0) o << "  number = " << p.number << "\n";
            o << "  name = " << quoted(p.name) << "\n";
            o << "  protocol = " << quoted(to_string(p.protocol)) << "\n";
            for (const auto& b : p.function_blocks) {
                o << "\n    [[devices.ports.function_blocks]]\n";
                if (!b.name.empty()) o << "    name = " << quoted(b.name) << "\n";
                o << "    first_group = " << (b.first_group + 1) << "\n";
                o << "    groups = " << unsigned{b.group_count} << "\n";
                o << "    direction = " << quoted(to_string(b.direction)) << "\n";
                o << "    active = " << (b.active ? "true" : "false") << "\n";
                o << "    ui_hint = " << quoted(to_string(b.ui_hint)) << "\n";
                o << "    midi1 = " << quoted(to_string(b.midi1)) << "\n";
            }
        }
    }
    for (const auto& lb : c.loopbacks) {
        o << "\n[[loopbacks]]\n";
        o << "kind = " << quoted(to_string(lb.kind)) << "\n";
        o << "name = " << quoted(lb.name) << "\n";
        if (lb.kind == device_kind::loopback_pair) o << "name_b = " << quoted(lb.name_b) << "\n";
    }
    if (!(c.naming == naming_config{})) {
        o << "\n[naming]\n";
        o << "default = " << quoted(naming::to_string(c.naming.global)) << "\n";
        for (const auto& e : c.naming.endpoints) {
            o << "\n[[naming.endpoints]]\n";
            if (!e.product_instance_id.empty()) {
                o << "product_instance_id = " << quoted(e.product_instance_id) << "\n";
            } else {
                o << "device = " << quoted(e.device) << "\n";
                o << "port = " << e.port << "\n";
            }
            o << "approach = " << quoted(naming::to_string(e.approach)) << "\n";
            for (const auto& cn : e.custom_names) {
                o << "\n  [[naming.endpoints.custom_names]]\n";
                o << "  group = " << (cn.group_index + 1) << "\n";
                o << "  direction = " << (cn.direction == naming::port_direction::source ? "\"in\"" : "\"out\"") << "\n";
                o << "  name = " << quoted(cn.name) << "\n";
            }
        }
    }
    if (!(c.jack == jack_config{})) {
        o << "\n[jack]\n";
        o << "enabled = " << (c.jack.enabled ? "true" : "false") << "\n";
        o << "client_name = " << quoted(c.jack.client_name) << "\n";
        if (!c.jack.server_name.empty()) o << "server_name = " << quoted(c.jack.server_name) << "\n";
        o << "wait_for_server = " << (c.jack.wait_for_server ? "true" : "false") << "\n";
    }
    if (!(c.alsa == alsa_config{})) {
        o << "\n[alsa]\n";
        o << "enabled = " << (c.alsa.enabled ? "true" : "false") << "\n";
        o << "client_name = " << quoted(c.alsa.client_name) << "\n";
        o << "import = " << (c.alsa.import_ports ? "true" : "false") << "\n";
        o << "exclude = [";
        for (std::size_t i = 0; i < c.alsa.exclude.size(); ++i) o << (i ? ", " : "") << quoted(c.alsa.exclude[i]);
        o << "]\n";
    }
    if (!(c.lv2 == lv2_config{})) {
        o << "\n[lv2]\n";
        o << "enabled = " << (c.lv2.enabled ? "true" : "false") << "\n";
        o << "sample_rate = " << c.lv2.sample_rate << "\n";
        o << "block_size = " << c.lv2.block_size << "\n";
    }
    for (const auto& p : c.plugins) {
        o << "\n[[plugins]]\n";
        o << "name = " << quoted(p.name) << "\n";
        o << "uri = " << quoted(p.uri) << "\n";
        if (!p.state.empty()) o << "state = " << quoted(p.state) << "\n";
        if (!p.controls.empty()) {
            o << "\n  [plugins.controls]\n";
            for (const auto& k : p.controls) o << "  " << quoted(k.symbol) << " = " << format_number(k.value) << "\n";
        }
    }
    for (const auto& k : c.connections) {
        o << "\n[[connections]]\n";
        o << "from = " << quoted(k.from) << "\n";
        o << "to = " << quoted(k.to) << "\n";
    }
    return o.str();
}

std::string default_config_path() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/umpd/umpd.toml";
    const char* home = std::getenv("HOME");
    return std::string(home && home[0] ? home : "") + "/.config/umpd/umpd.toml";
}

namespace {

std::error_code make_dirs(const std::string& dir) {
    if (dir.empty()) return {};
    struct stat st{};
    if (::stat(dir.c_str(), &st) == 0) return {};
    const auto slash = dir.find_last_of('/');
    if (slash != std::string::npos && slash > 0)
        if (auto ec = make_dirs(dir.substr(0, slash))) return ec;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return {errno, std::generic_category()};
    return {};
}

}  // namespace

std::error_code write_file_atomically(const std::string& path, std::string_view text) {
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? std::string(".") : (slash == 0 ? "/" : path.substr(0, slash));
    if (auto ec = make_dirs(dir)) return ec;

    std::string tmp = path + ".tmp.XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) return {errno, std::generic_category()};
    auto fail = [&](int err) {
        ::close(fd);
        ::unlink(tmp.c_str());
        return std::error_code(err, std::generic_category());
    };
    (void)::fchmod(fd, 0600);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(errno);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail(errno);
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return {err, std::generic_category()};
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return {err, std::generic_category()};
    }
    // The rename itself must reach the disk too.
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

}  // namespace umpd::service
