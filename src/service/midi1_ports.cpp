#include "umpd/service/midi1_ports.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace umpd::service {

std::vector<naming_source> naming_sources(const registry& r) {
    std::vector<naming_source> out;
    for (const device& d : r.devices()) {
        for (const endpoint& ep : d.endpoints) {
            naming_source s;
            s.endpoint = ep.id;
            // A virtual endpoint's name is the user's (config, rename); an app's is its driver's.
            const bool user_named = !d.app_owned;
            s.display_name = display_name(user_named ? ep.name : std::string_view{}, ep.declared.name, ep.name);
            if (!ep.declared.product_instance_id.empty()) {
                s.number_key = "piid:" + ep.declared.product_instance_id;
                s.identity.product_instance_id = ep.declared.product_instance_id;
            } else {
                s.number_key = "ep:" + ep.id;
                s.identity.device = d.name;
                s.identity.port = ep.port_number;
            }
            // Virtual, loopback and app endpoints never had a MIDI 1.0 driver name of their own;
            // what the ALSA driver imports (hardware, virmidi cards) had one.
            s.legacy_equivalent = d.driver == "alsa";
            s.blocks = blocks_of(ep.declared);
            out.push_back(std::move(s));
        }
    }
    return out;
}

std::string midi1_ports::endpoint_name(std::string_view endpoint) const {
    auto it = sources_.find(endpoint);
    return it == sources_.end() ? std::string() : it->second.display_name;
}

endpoint_naming_config* midi1_ports::settings_for(std::string_view endpoint, bool create) {
    auto src = sources_.find(endpoint);
    if (src == sources_.end()) return nullptr;
    const std::string key = naming_key(src->second.identity);
    auto& list = settings_.endpoints;
    auto it = std::lower_bound(list.begin(), list.end(), key,
                               [](const endpoint_naming_config& e, const std::string& k) { return naming_key(e) < k; });
    if (it != list.end() && naming_key(*it) == key) return &*it;
    if (!create) return nullptr;
    endpoint_naming_config fresh = src->second.identity;
    fresh.approach = naming::naming_approach::default_approach;
    fresh.custom_names.clear();
    return &*list.insert(it, std::move(fresh));
}

naming::naming_approach midi1_ports::approach_of(std::string_view endpoint) const {
    auto* self = const_cast<midi1_ports*>(this);  // settings_for(create = false) changes nothing
    const endpoint_naming_config* s = self->settings_for(endpoint, false);
    return s ? s->approach : naming::naming_approach::default_approach;
}

void midi1_ports::set_settings(naming_config c) {
    std::sort(c.endpoints.begin(), c.endpoints.end(),
              [](const auto& a, const auto& b) { return naming_key(a) < naming_key(b); });
    settings_ = std::move(c);
}

namespace {

// An entry with no approach and no custom name is dropped: the file stays small.
void prune(naming_config& c) {
    std::erase_if(c.endpoints, [](const endpoint_naming_config& e) {
        return e.approach == naming::naming_approach::default_approach && e.custom_names.empty();
    });
}

}  // namespace

bool midi1_ports::set_custom_name(std::string_view endpoint, std::uint8_t group_index, naming::port_direction d,
                                  std::string name) {
    endpoint_naming_config* s = settings_for(endpoint, true);
    if (!s) return false;
    std::erase_if(s->custom_names, [&](const auto& cn) { return cn.group_index == group_index && cn.direction == d; });
    if (!name.empty()) {
        s->custom_names.push_back({group_index, d, std::move(name)});
        std::sort(s->custom_names.begin(), s->custom_names.end(), [](const auto& a, const auto& b) {
            return std::tie(a.direction, a.group_index) < std::tie(b.direction, b.group_index);
        });
    }
    prune(settings_);
    return true;
}

bool midi1_ports::set_approach(std::string_view endpoint, naming::naming_approach a) {
    endpoint_naming_config* s = settings_for(endpoint, true);
    if (!s) return false;
    s->approach = a;
    prune(settings_);
    return true;
}

std::vector<std::string> midi1_ports::rebuild(const std::vector<naming_source>& sources) {
    std::vector<std::string> changed;
    std::map<std::string, naming_source, std::less<>> next_sources;
    for (const auto& s : sources) next_sources.emplace(s.endpoint, s);

    // Removals first: a replugged endpoint may take back the numbers of one that left.
    for (auto it = ports_.begin(); it != ports_.end();) {
        if (next_sources.count(it->first) == 0) {
            index_.remove(it->first);
            changed.push_back(it->first);
            it = ports_.erase(it);
        } else {
            ++it;
        }
    }
    const auto previous_sources = std::move(sources_);
    sources_ = std::move(next_sources);

    std::map<std::string, unsigned, std::less<>> ordinals;  // display name → units seen
    std::set<std::string, std::less<>> keys_used;
    for (const auto& src : sources) {
        const unsigned ordinal = ++ordinals[src.display_name];
        // Two endpoints claiming one product instance id must not share numbers.
        std::string number_key = src.number_key;
        if (!keys_used.insert(number_key).second) {
            number_key = "ep:" + src.endpoint;
            keys_used.insert(number_key);
        }

        naming::endpoint_naming_input in;
        in.device = src.display_name;
        in.duplicate = ordinal;
        in.legacy_equivalent = src.legacy_equivalent;
        in.ports = naming::project_ports(src.blocks);
        if (const endpoint_naming_config* s = settings_for(src.endpoint, false)) {
            in.approach = s->approach;
            for (auto& p : in.ports)
                for (const auto& cn : s->custom_names)
                    if (cn.group_index == p.group_index && cn.direction == p.direction) p.custom = cn.name;
        }
        std::vector<naming::indexed_port> ports;
        if (auto table = naming::build_name_table(in, settings_.global)) {
            std::vector<std::uint32_t> numbers;
            for (const auto& e : table.table.entries) numbers.push_back(numbers_.assign(number_key, e.group_index, e.direction));
            ports = naming::make_indexed_ports(src.endpoint, table.table, numbers);
        }
        auto old = ports_.find(src.endpoint);
        auto old_src = previous_sources.find(src.endpoint);
        const bool renamed = old_src == previous_sources.end() || old_src->second.display_name != src.display_name;
        if (old != ports_.end() && old->second == ports && !renamed) continue;
        if (index_.update(src.endpoint, ports)) {
            // Cannot happen with distinct number keys; keep the last good ports then.
            continue;
        }
        ports_[src.endpoint] = std::move(ports);
        changed.push_back(src.endpoint);
    }
    return changed;
}

std::string format_port_numbers(const std::vector<naming::port_number_record>& records) {
    std::ostringstream o;
    o << "# umpd MIDI 1.0 port numbers: the same endpoint, group and direction keep their\n"
         "# number across restarts. Written by umpd; delete it to renumber.\n";
    for (const auto& r : records) {
        toml::table t;
        t.insert("endpoint", r.endpoint);
        o << "\n[[ports]]\n"
          << t << "\n"
          << "group = " << (r.group_index + 1) << "\n"
          << "direction = \"" << (r.direction == naming::port_direction::source ? "in" : "out") << "\"\n"
          << "number = " << r.number << "\n";
    }
    return o.str();
}

std::string parse_port_numbers(std::string_view text, std::vector<naming::port_number_record>& out) {
    out.clear();
    toml::table root;
    try {
        root = toml::parse(text);
    } catch (const toml::parse_error& e) {
        return std::to_string(e.source().begin.line) + ": " + std::string(e.description());
    }
    const toml::node* n = root.get("ports");
    if (!n) return {};
    const toml::array* a = n->as_array();
    if (!a) return "ports: expected [[ports]]";
    for (const auto& el : *a) {
        const toml::table* t = el.as_table();
        const std::string line = std::to_string(el.source().begin.line) + ": ";
        if (!t) return line + "ports: expected tables";
        const auto endpoint = t->get_as<std::string>("endpoint");
        const auto group = t->get_as<std::int64_t>("group");
        const auto direction = t->get_as<std::string>("direction");
        const auto number = t->get_as<std::int64_t>("number");
        if (!endpoint || !group || !direction || !number) return line + "each port needs endpoint, group, direction and number";
        if (group->get() < 1 || group->get() > 16) return line + "group must be 1..16";
        if (direction->get() != "in" && direction->get() != "out") return line + "direction must be \"in\" or \"out\"";
        if (number->get() < 0 || number->get() >= naming::max_port_number) return line + "number out of range";
        out.push_back({endpoint->get(), static_cast<std::uint8_t>(group->get() - 1),
                       direction->get() == "in" ? naming::port_direction::source : naming::port_direction::destination,
                       static_cast<std::uint32_t>(number->get())});
    }
    return {};
}

std::string default_state_path() {
    const char* xdg = std::getenv("XDG_STATE_HOME");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/umpd/ports.toml";
    const char* home = std::getenv("HOME");
    return std::string(home && home[0] ? home : "") + "/.local/state/umpd/ports.toml";
}

}  // namespace umpd::service
