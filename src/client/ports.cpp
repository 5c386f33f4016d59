// MIDI 1.0 ports in the SDK: the protocol's port and endpoint_info objects read into
// the SDK's types (validated: they come from another process), the lookup index and
// the cache that the client keeps of it.
#include <algorithm>
#include <tuple>

#include "session.hpp"
#include "umpd/client/port_cache.hpp"
#include "umpd/client/ports.hpp"

namespace umpd::client {

using detail::json;

std::string_view to_string(port_direction d) noexcept { return d == port_direction::in ? "in" : "out"; }

std::optional<port_direction> parse_port_direction(std::string_view text) noexcept {
    if (text == "in") return port_direction::in;
    if (text == "out") return port_direction::out;
    return std::nullopt;
}

std::string_view to_string(endpoint_naming n) noexcept {
    switch (n) {
    case endpoint_naming::use_default: return "default";
    case endpoint_naming::classic: return "classic";
    case endpoint_naming::new_style: return "new-style";
    }
    return "default";
}

std::string_view to_string(global_naming n) noexcept {
    switch (n) {
    case global_naming::automatic: return "automatic";
    case global_naming::classic: return "classic";
    case global_naming::new_style: return "new-style";
    }
    return "automatic";
}

std::optional<endpoint_naming> parse_endpoint_naming(std::string_view text) noexcept {
    if (text == "default") return endpoint_naming::use_default;
    if (text == "classic") return endpoint_naming::classic;
    if (text == "new-style") return endpoint_naming::new_style;
    return std::nullopt;
}

std::optional<global_naming> parse_global_naming(std::string_view text) noexcept {
    if (text == "automatic") return global_naming::automatic;
    if (text == "classic") return global_naming::classic;
    if (text == "new-style") return global_naming::new_style;
    return std::nullopt;
}

// ---- parsing ---------------------------------------------------------------------------

namespace {

struct bad_field {
    std::string what;
};

std::string text_of(const json& j, const char* key, const std::string& where, bool required) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) throw bad_field{where + key + " is missing"};
        return {};
    }
    if (!it->is_string()) throw bad_field{where + key + " must be a string"};
    return it->get<std::string>();
}

std::optional<std::string> optional_text(const json& j, const char* key, const std::string& where) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) throw bad_field{where + key + " must be a string or null"};
    return it->get<std::string>();
}

std::uint64_t number_of(const json& j, const char* key, const std::string& where, std::uint64_t min,
                        std::uint64_t max, std::optional<std::uint64_t> fallback = std::nullopt) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (fallback) return *fallback;
        throw bad_field{where + key + " is missing"};
    }
    if (!it->is_number_integer()) throw bad_field{where + key + " must be an integer"};
    if (it->is_number_unsigned()) {
        const auto v = it->get<std::uint64_t>();
        if (v >= min && v <= max) return v;
    } else {
        const auto v = it->get<std::int64_t>();
        if (v >= 0 && static_cast<std::uint64_t>(v) >= min && static_cast<std::uint64_t>(v) <= max)
            return static_cast<std::uint64_t>(v);
    }
    throw bad_field{where + key + " is out of range " + std::to_string(min) + ".." + std::to_string(max)};
}

bool flag_of(const json& j, const char* key, const std::string& where, bool fallback) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw bad_field{where + key + " must be true or false"};
    return it->get<bool>();
}

midi1_port port_from(const json& j, const std::string& where) {
    if (!j.is_object()) throw bad_field{where + "is not an object"};
    midi1_port p;
    p.number = static_cast<std::uint32_t>(number_of(j, "number", where, 0, 0xFFFF'FFFFu));
    const std::string dir = text_of(j, "direction", where, true);
    const auto d = parse_port_direction(dir);
    if (!d) throw bad_field{where + "direction must be \"in\" or \"out\", not \"" + dir + "\""};
    p.direction = *d;
    p.group = static_cast<std::uint8_t>(number_of(j, "group", where, 1, 16) - 1);
    p.name = text_of(j, "name", where, true);
    p.custom = text_of(j, "custom", where, false);
    p.legacy = text_of(j, "legacy", where, false);
    p.new_style = text_of(j, "new_style", where, false);
    p.endpoint = text_of(j, "endpoint", where, true);
    p.endpoint_name = text_of(j, "endpoint_name", where, false);
    return p;
}

std::vector<midi1_port> ports_from(const json& list) {
    if (!list.is_array()) throw bad_field{"\"ports\" must be an array"};
    std::vector<midi1_port> out;
    out.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) out.push_back(port_from(list[i], "port " + std::to_string(i + 1) + ": "));
    return out;
}

function_block_info block_from(const json& j, const std::string& where, std::size_t index) {
    if (!j.is_object()) throw bad_field{where + "is not an object"};
    function_block_info b;
    b.block = static_cast<std::uint8_t>(number_of(j, "block", where, 1, 32, index + 1) - 1);
    b.name = text_of(j, "name", where, false);
    b.active = flag_of(j, "active", where, true);
    b.first_group = static_cast<std::uint8_t>(number_of(j, "first_group", where, 1, 16, 1) - 1);
    b.groups = static_cast<std::uint8_t>(number_of(j, "groups", where, 0, 16, 1));
    b.direction = text_of(j, "direction", where, false);
    b.ui_hint = text_of(j, "ui_hint", where, false);
    const auto m = j.find("midi1");
    if (m != j.end() && m->is_boolean()) b.midi1 = m->get<bool>() ? "unrestricted" : "no";
    else b.midi1 = text_of(j, "midi1", where, false);
    b.midi_ci_version = static_cast<std::uint8_t>(number_of(j, "midi_ci_version", where, 0, 255, 0));
    b.sysex8_streams = static_cast<std::uint8_t>(number_of(j, "sysex8_streams", where, 0, 255, 0));
    return b;
}

std::vector<function_block_info> blocks_from(const json& j, const char* key) {
    std::vector<function_block_info> out;
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) throw bad_field{std::string(key) + " must be an array"};
    for (std::size_t i = 0; i < it->size(); ++i)
        out.push_back(block_from((*it)[i], std::string(key) + " " + std::to_string(i + 1) + ": ", i));
    return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> bytes_from(const json& j, const char* key, const std::string& where) {
    std::array<std::uint8_t, N> out{};
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array() || it->size() != N) throw bad_field{where + key + " must be an array of " + std::to_string(N) + " bytes"};
    for (std::size_t i = 0; i < N; ++i) {
        const json& b = (*it)[i];
        if (!b.is_number_integer() || b.get<std::int64_t>() < 0 || b.get<std::int64_t>() > 127)
            throw bad_field{where + key + " must hold bytes 0..127"};
        out[i] = static_cast<std::uint8_t>(b.get<std::int64_t>());
    }
    return out;
}

}  // namespace

result<std::vector<midi1_port>> parse_ports_json(std::string_view text) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return make_error(errc::protocol_error, "the port list is not JSON");
    try {
        if (j.is_array()) return ports_from(j);
        if (!j.is_object() || !j.contains("ports")) return make_error(errc::protocol_error, "umpd's answer has no \"ports\"");
        return ports_from(j["ports"]);
    } catch (const bad_field& e) {
        return make_error(errc::protocol_error, "umpd sent a malformed port list: " + e.what);
    }
}

result<endpoint_declaration> parse_endpoint_declaration_json(std::string_view text) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error(errc::protocol_error, "umpd's endpoint_info is not a JSON object");
    try {
        endpoint_declaration d;
        d.json = j.dump();
        if (const auto e = j.find("endpoint"); e != j.end() && e->is_object()) {
            d.endpoint = detail::get_string(*e, "id");
            d.endpoint_name = detail::get_string(*e, "name");
        } else if (e != j.end() && e->is_string()) {
            d.endpoint = e->get<std::string>();
        }
        const auto dec = j.find("declared");
        if (dec != j.end() && dec->is_object()) {
            const json& x = *dec;
            const std::string w = "declared.";
            if (const auto v = x.find("ump_version"); v != x.end() && !v->is_null()) {
                if (!v->is_array() || v->size() != 2 || !(*v)[0].is_number_integer() || !(*v)[1].is_number_integer())
                    throw bad_field{w + "ump_version must be [major, minor]"};
                d.ump_version_major = static_cast<std::uint8_t>((*v)[0].get<std::int64_t>() & 0xFF);
                d.ump_version_minor = static_cast<std::uint8_t>((*v)[1].get<std::int64_t>() & 0xFF);
            }
            d.midi1 = flag_of(x, "midi1", w, false);
            d.midi2 = flag_of(x, "midi2", w, false);
            d.rx_jr = flag_of(x, "rx_jr", w, false);
            d.tx_jr = flag_of(x, "tx_jr", w, false);
            d.static_function_blocks = flag_of(x, "static_function_blocks", w, false);
            d.name = optional_text(x, "name", w);
            d.product_instance_id = optional_text(x, "product_instance_id", w);
            if (const auto id = x.find("device_identity"); id != x.end() && !id->is_null()) {
                if (!id->is_object()) throw bad_field{w + "device_identity must be an object"};
                const std::string wi = w + "device_identity.";
                device_identity_info di;
                di.manufacturer = bytes_from<3>(*id, "manufacturer", wi);
                di.family = static_cast<std::uint16_t>(number_of(*id, "family", wi, 0, 16383, 0));
                di.model = static_cast<std::uint16_t>(number_of(*id, "model", wi, 0, 16383, 0));
                di.software_revision = bytes_from<4>(*id, "software_revision", wi);
                d.device_identity = di;
            }
            d.protocol = text_of(x, "protocol", w, false);
            d.discovery = text_of(x, "discovery", w, false);
        }
        d.function_blocks = blocks_from(j, "function_blocks");
        d.group_terminal_blocks = blocks_from(j, "group_terminal_blocks");
        d.ump_only = flag_of(j, "ump_only", "", false);
        const std::string naming = text_of(j, "naming", "", false);
        if (!naming.empty()) {
            const auto n = parse_endpoint_naming(naming);
            if (!n) throw bad_field{"naming \"" + naming + "\" is none of default, classic, new-style"};
            d.naming = *n;
        }
        return d;
    } catch (const bad_field& e) {
        return make_error(errc::protocol_error, "umpd sent a malformed endpoint_info: " + e.what);
    }
}

// ---- the index ---------------------------------------------------------------------------

port_catalog::port_catalog(std::vector<midi1_port> ports) : ports_(std::move(ports)) {
    std::stable_sort(ports_.begin(), ports_.end(), [](const midi1_port& a, const midi1_port& b) {
        return std::tie(a.endpoint, a.group, a.direction) < std::tie(b.endpoint, b.group, b.direction);
    });
    for (std::size_t i = 0; i < ports_.size(); ++i) {
        const midi1_port& p = ports_[i];
        // One entry per distinct name: a port whose names coincide is found once.
        std::string names[] = {p.name, p.custom, p.legacy, p.new_style};
        std::sort(std::begin(names), std::end(names));
        for (std::size_t k = 0; k < 4; ++k)
            if (!names[k].empty() && (k == 0 || names[k] != names[k - 1])) by_any_name_[names[k]].push_back(i);
        if (!p.legacy.empty()) by_legacy_name_[p.legacy].push_back(i);
        by_number_.emplace(std::pair{static_cast<std::uint8_t>(p.direction), p.number}, i);
        auto& of = by_endpoint_[p.endpoint];
        if (of.empty() && !p.endpoint_name.empty()) endpoints_by_name_[p.endpoint_name].push_back(p.endpoint);
        of.push_back(i);
    }
}

std::vector<midi1_port> port_catalog::gather(const positions* p, std::optional<port_direction> direction) const {
    std::vector<midi1_port> out;
    if (p == nullptr) return out;
    for (const std::size_t i : *p)
        if (!direction || ports_[i].direction == *direction) out.push_back(ports_[i]);
    return out;
}

std::vector<midi1_port> port_catalog::find(std::string_view name, bool legacy_only,
                                           std::optional<port_direction> direction) const {
    const auto& map = legacy_only ? by_legacy_name_ : by_any_name_;
    const auto it = map.find(std::string(name));
    return gather(it == map.end() ? nullptr : &it->second, direction);
}

const midi1_port* port_catalog::by_number(std::uint32_t number, port_direction direction) const noexcept {
    const auto it = by_number_.find({static_cast<std::uint8_t>(direction), number});
    return it == by_number_.end() ? nullptr : &ports_[it->second];
}

std::vector<midi1_port> port_catalog::of_endpoint(std::string_view endpoint, std::optional<std::uint8_t> group,
                                                  std::optional<port_direction> direction) const {
    const std::string key(endpoint);
    auto it = by_endpoint_.find(key);
    if (it == by_endpoint_.end()) {
        const auto named = endpoints_by_name_.find(key);
        if (named == endpoints_by_name_.end() || named->second.size() != 1) return {};
        it = by_endpoint_.find(named->second.front());
        if (it == by_endpoint_.end()) return {};
    }
    auto out = gather(&it->second, direction);
    if (group) std::erase_if(out, [&](const midi1_port& p) { return p.group != *group; });
    return out;
}

std::vector<midi1_port> port_catalog::select(const port_filter& f) const {
    if (!f.endpoint.empty()) return of_endpoint(f.endpoint, f.group, f.direction);
    std::vector<midi1_port> out;
    for (const auto& p : ports_)
        if ((!f.group || p.group == *f.group) && (!f.direction || p.direction == *f.direction)) out.push_back(p);
    return out;
}

// ---- the cache -----------------------------------------------------------------------------

bool port_cache::invalidated_by(event::kind k) noexcept {
    switch (k) {
    case event::kind::ports_changed:
    case event::kind::endpoint_added:
    case event::kind::endpoint_removed:
    case event::kind::endpoint_changed:
    case event::kind::reconnected:
    case event::kind::disconnected:
        return true;
    default:
        return false;
    }
}

result<std::shared_ptr<const port_catalog>> port_cache::get(const fetch_fn& fetch, bool keep) {
    std::uint64_t seen = 0;
    {
        std::lock_guard l(mu_);
        if (catalog_) return catalog_;
        seen = generation_;
        ++fetches_;
    }
    auto ports = fetch();
    if (!ports) return ports.error();
    auto built = std::make_shared<const port_catalog>(std::move(*ports));
    std::lock_guard l(mu_);
    if (keep && generation_ == seen) catalog_ = built;
    return std::shared_ptr<const port_catalog>(std::move(built));
}

void port_cache::invalidate() noexcept {
    std::shared_ptr<const port_catalog> old;  // freed outside the lock
    std::lock_guard l(mu_);
    ++generation_;
    old = std::move(catalog_);
}

void port_cache::on_event(const event& e) noexcept {
    if (invalidated_by(e.what)) invalidate();
}

bool port_cache::cached() const noexcept {
    std::lock_guard l(mu_);
    return catalog_ != nullptr;
}

std::uint64_t port_cache::fetches() const noexcept {
    std::lock_guard l(mu_);
    return fetches_;
}

std::uint64_t port_cache::generation() const noexcept {
    std::lock_guard l(mu_);
    return generation_;
}

}  // namespace umpd::client
