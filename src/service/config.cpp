#include "umpd/service/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
                "spin_us", "max_ports_per_device", "max_endpoints", "max_connections"});
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
    return l;
}

port_config parse_port(const toml::table& t, const std::string& prefix) {
    port_config p;
    check_keys(t, prefix + ".", {"name", "protocol", "number"});
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

config parse_table(const toml::table& root) {
    config c;
    check_keys(root, "", {"limits", "devices", "loopbacks"});
    c.limits = parse_limits(root);
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
        }
    }
    for (const auto& lb : c.loopbacks) {
        o << "\n[[loopbacks]]\n";
        o << "kind = " << quoted(to_string(lb.kind)) << "\n";
        o << "name = " << quoted(lb.name) << "\n";
        if (lb.kind == device_kind::loopback_pair) o << "name_b = " << quoted(lb.name_b) << "\n";
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
