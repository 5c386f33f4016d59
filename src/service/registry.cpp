#include "umpd/service/registry.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace umpd::service {

namespace {

class service_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "umpd.service"; }
    std::string message(int ev) const override {
        switch (static_cast<service_errc>(ev)) {
            case service_errc::not_found: return "not found";
            case service_errc::already_exists: return "already exists";
            case service_errc::invalid_argument: return "invalid argument";
            case service_errc::busy: return "a configuration change is in progress";
            case service_errc::limit: return "a configured limit was hit";
            case service_errc::internal: return "internal error";
        }
        return "unknown service error";
    }
};

using event_kind = registry_event::kind;

}  // namespace

const std::error_category& service_category() noexcept {
    static const service_category_impl category;
    return category;
}

std::error_code make_error_code(service_errc e) noexcept { return {static_cast<int>(e), service_category()}; }

std::string_view protocol_error_code(std::error_code ec) noexcept {
    if (ec.category() != service_category()) return "internal";
    switch (static_cast<service_errc>(ec.value())) {
        case service_errc::not_found: return "not_found";
        case service_errc::already_exists: return "already_exists";
        case service_errc::invalid_argument: return "invalid_argument";
        case service_errc::busy: return "busy";
        case service_errc::limit: return "limit";
        case service_errc::internal: return "internal";
    }
    return "internal";
}

std::string_view to_string(ump_protocol p) noexcept { return p == ump_protocol::midi1 ? "midi1" : "midi2"; }

std::optional<ump_protocol> parse_protocol(std::string_view s) noexcept {
    if (s == "midi1") return ump_protocol::midi1;
    if (s == "midi2") return ump_protocol::midi2;
    return std::nullopt;
}

bool is_loopback(device_kind k) noexcept { return k != device_kind::ports; }

std::string_view to_string(device_kind k) noexcept {
    switch (k) {
        case device_kind::ports: return "ports";
        case device_kind::loopback_midi1: return "midi1";
        case device_kind::loopback_pair: return "pair";
        case device_kind::loopback_diagnostics: return "diagnostics";
    }
    return "ports";
}

registry::registry(router* r, registry_limits limits) : router_(r), limits_(limits) {}

void registry::add_driver(driver_info d) {
    for (auto& existing : drivers_) {
        if (existing.name == d.name) {
            existing = std::move(d);
            return;
        }
    }
    drivers_.push_back(std::move(d));
}

std::vector<registry::driver_info> registry::drivers() const { return drivers_; }

std::string registry::slug(std::string_view name) {
    std::string out;
    bool dash = false;
    for (char c : name) {
        char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) {
            if (dash && !out.empty()) out.push_back('-');
            dash = false;
            out.push_back(l);
        } else {
            dash = true;
        }
    }
    return out.empty() ? std::string("device") : out;
}

std::string registry::unique_device_id(std::string_view driver, std::string_view name) const {
    const std::string base = std::string(driver) + "/" + slug(name);
    auto taken = [&](const std::string& id) {
        return std::any_of(devices_.begin(), devices_.end(), [&](const device& d) { return d.id == id; });
    };
    if (!taken(base)) return base;
    for (unsigned n = 2;; ++n) {
        std::string candidate = base + "-" + std::to_string(n);
        if (!taken(candidate)) return candidate;
    }
}

device* registry::mutable_device(device_handle d) {
    for (auto& dev : devices_)
        if (dev.handle == d) return &dev;
    return nullptr;
}

const device* registry::device_by_handle(device_handle d) const {
    for (const auto& dev : devices_)
        if (dev.handle == d) return &dev;
    return nullptr;
}

const endpoint* registry::endpoint_by_handle(endpoint_handle e) const {
    for (const auto& dev : devices_)
        for (const auto& ep : dev.endpoints)
            if (ep.handle == e) return &ep;
    return nullptr;
}

const device* registry::device_of(endpoint_handle e) const {
    for (const auto& dev : devices_)
        for (const auto& ep : dev.endpoints)
            if (ep.handle == e) return &dev;
    return nullptr;
}

std::size_t registry::endpoint_count() const noexcept {
    std::size_t n = 0;
    for (const auto& dev : devices_) n += dev.endpoints.size();
    return n;
}

std::error_code registry::find_device(std::string_view id_or_name, const device*& out) const {
    out = nullptr;
    for (const auto& dev : devices_) {
        if (dev.id == id_or_name) {
            out = &dev;
            return {};
        }
    }
    for (const auto& dev : devices_) {
        if (dev.name == id_or_name) {
            if (out) return make_error_code(service_errc::invalid_argument);  // ambiguous
            out = &dev;
        }
    }
    return out ? std::error_code{} : make_error_code(service_errc::not_found);
}

std::error_code registry::find_endpoint(std::string_view id_or_name, const endpoint*& out) const {
    out = nullptr;
    for (const auto& dev : devices_) {
        for (const auto& ep : dev.endpoints) {
            if (ep.id == id_or_name) {
                out = &ep;
                return {};
            }
        }
    }
    for (const auto& dev : devices_) {
        for (const auto& ep : dev.endpoints) {
            if (ep.name == id_or_name) {
                if (out) return make_error_code(service_errc::invalid_argument);  // ambiguous
                out = &ep;
            }
        }
    }
    return out ? std::error_code{} : make_error_code(service_errc::not_found);
}

void registry::emit(event_kind k, std::string device_id, std::string endpoint_id) {
    registry_event ev{k, std::move(device_id), std::move(endpoint_id)};
    if (in_change_) {
        pending_.push_back(std::move(ev));  // announced once the change is performed
        return;
    }
    if (sink_) sink_(ev);
}

std::error_code registry::add_router_endpoints(const device& dev, const std::vector<endpoint_handle>& which) {
    if (!router_) return {};
    std::vector<endpoint_handle> added;
    for (endpoint_handle h : which) {
        auto it = std::find_if(dev.endpoints.begin(), dev.endpoints.end(),
                               [&](const endpoint& ep) { return ep.handle == h; });
        if (it == dev.endpoints.end()) continue;
        if (auto ec = router_->add_endpoint(it->handle, dev.handle, it->behaviour, it->peer)) {
            for (endpoint_handle undo : added) (void)router_->remove_endpoint(undo);
            return ec;
        }
        added.push_back(h);
    }
    // A stopped device stays stopped for the endpoints it gains.
    if (dev.offline && !added.empty()) return router_->stop_io(dev.handle);
    return {};
}

std::error_code registry::add_device(const device_spec& spec, device_handle* out) {
    if (spec.name.empty()) return make_error_code(service_errc::invalid_argument);
    if (devices_.size() >= limits_.max_devices) return make_error_code(service_errc::limit);
    if (spec.ports.size() > limits_.max_ports_per_device ||
        endpoint_count() + spec.ports.size() > limits_.max_endpoints)
        return make_error_code(service_errc::limit);

    device dev;
    dev.handle = next_device_++;
    dev.id = unique_device_id(spec.driver, spec.name);
    dev.driver = spec.driver;
    dev.name = spec.name;
    dev.manufacturer = spec.manufacturer;
    dev.model = spec.model;
    dev.kind = spec.kind;
    dev.offline = spec.offline;
    dev.app_owned = spec.app_owned;
    if (spec.app_owned && spec.kind != device_kind::ports) return make_error_code(service_errc::invalid_argument);

    std::set<std::uint32_t> numbers;
    for (const auto& p : spec.ports) {
        endpoint ep;
        ep.handle = next_endpoint_++;
        ep.port_number = p.number != 0 ? p.number : dev.next_port;
        if (!numbers.insert(ep.port_number).second) return make_error_code(service_errc::already_exists);
        dev.next_port = std::max(dev.next_port, ep.port_number + 1);
        ep.id = dev.id + "/" + std::to_string(ep.port_number);
        ep.name = p.name.empty() ? "Port " + std::to_string(ep.port_number) : p.name;
        ep.protocol = p.protocol;
        ep.declared = p.declared ? *p.declared : default_declaration(ep.name, p.protocol == ump_protocol::midi2);
        switch (spec.kind) {
            case device_kind::ports: ep.behaviour = endpoint_behaviour::loopback; ep.kind = "port"; break;
            case device_kind::loopback_midi1:
                ep.behaviour = endpoint_behaviour::loopback;
                ep.kind = "loopback";
                ep.protocol = ump_protocol::midi1;
                ep.declared.midi2 = false;
                ep.declared.info.midi2_protocol = false;
                ep.declared.info.midi1_protocol = true;
                break;
            case device_kind::loopback_pair:
                ep.behaviour = endpoint_behaviour::pair;
                ep.kind = dev.endpoints.empty() ? "loopback-a" : "loopback-b";
                break;
            case device_kind::loopback_diagnostics:
                ep.behaviour = endpoint_behaviour::diagnostics;
                ep.kind = "diagnostics";
                break;
        }
        if (spec.app_owned) {
            ep.behaviour = endpoint_behaviour::app_owned;
            ep.kind = "app";
        }
        dev.endpoints.push_back(std::move(ep));
    }
    if (spec.kind == device_kind::loopback_pair) {
        if (dev.endpoints.size() != 2) return make_error_code(service_errc::invalid_argument);
        dev.endpoints[0].peer = dev.endpoints[1].handle;
        dev.endpoints[1].peer = dev.endpoints[0].handle;
    }

    std::vector<endpoint_handle> all;
    for (const auto& ep : dev.endpoints) all.push_back(ep.handle);
    if (auto ec = add_router_endpoints(dev, all)) return ec;

    if (out) *out = dev.handle;
    devices_.push_back(std::move(dev));
    const device& added = devices_.back();
    emit(event_kind::device_added, added.id);
    for (const auto& ep : added.endpoints) emit(event_kind::endpoint_added, added.id, ep.id);
    return {};
}

std::error_code registry::remove_device(device_handle d) {
    auto it = std::find_if(devices_.begin(), devices_.end(), [&](const device& dev) { return dev.handle == d; });
    if (it == devices_.end()) return make_error_code(service_errc::not_found);
    if (in_change_) return make_error_code(service_errc::busy);
    device dev = std::move(*it);
    devices_.erase(it);
    if (router_)
        for (const auto& ep : dev.endpoints) (void)router_->remove_endpoint(ep.handle);
    for (const auto& ep : dev.endpoints) emit(event_kind::endpoint_removed, dev.id, ep.id);
    emit(event_kind::device_removed, dev.id);
    return {};
}

std::error_code registry::change_device(device_handle h, const std::function<std::error_code(device&)>& perform) {
    device* dev = mutable_device(h);
    if (!dev) return make_error_code(service_errc::not_found);
    if (in_change_) return make_error_code(service_errc::busy);

    const std::string id = dev->id;
    // A stopped device (offline, or with no endpoint the router knows) is changed at once.
    const bool running = router_ != nullptr && !dev->offline && !dev->endpoints.empty();
    if (running) {
        if (sink_) sink_({event_kind::change_requested, id, {}});
        if (auto ec = router_->stop_io(h)) {
            if (sink_) sink_({event_kind::change_aborted, id, {}});
            return ec;
        }
    }

    const device snapshot = *dev;
    in_change_ = true;
    pending_.clear();
    std::error_code ec = perform(*dev);
    if (ec) {
        // Roll back: the router gets back what it had, the model its snapshot.
        if (router_) {
            auto has = [](const device& d, endpoint_handle e) {
                return std::any_of(d.endpoints.begin(), d.endpoints.end(),
                                   [&](const endpoint& ep) { return ep.handle == e; });
            };
            for (const auto& ep : dev->endpoints)
                if (!has(snapshot, ep.handle)) (void)router_->remove_endpoint(ep.handle);
            std::vector<endpoint_handle> lost;
            for (const auto& ep : snapshot.endpoints)
                if (!has(*dev, ep.handle)) lost.push_back(ep.handle);
            (void)add_router_endpoints(snapshot, lost);
        }
        *dev = snapshot;
        pending_.clear();
    }
    in_change_ = false;

    if (running) (void)router_->start_io(h);  // even when no endpoint is left: no stale stop
    if (sink_) sink_({ec ? event_kind::change_aborted : event_kind::change_performed, id, {}});
    auto events = std::move(pending_);
    pending_.clear();
    if (sink_)
        for (const auto& ev : events) sink_(ev);
    return ec;
}

std::error_code registry::add_port_locked(device& dev, const port_spec& spec, endpoint_handle* out) {
    if (is_loopback(dev.kind) || dev.app_owned) return make_error_code(service_errc::invalid_argument);
    if (dev.endpoints.size() >= limits_.max_ports_per_device || endpoint_count() >= limits_.max_endpoints)
        return make_error_code(service_errc::limit);
    endpoint ep;
    ep.handle = next_endpoint_++;
    ep.port_number = spec.number != 0 ? spec.number : dev.next_port;
    for (const auto& existing : dev.endpoints)
        if (existing.port_number == ep.port_number) return make_error_code(service_errc::already_exists);
    ep.id = dev.id + "/" + std::to_string(ep.port_number);
    ep.name = spec.name.empty() ? "Port " + std::to_string(ep.port_number) : spec.name;
    ep.protocol = spec.protocol;
    ep.declared = spec.declared ? *spec.declared : default_declaration(ep.name, spec.protocol == ump_protocol::midi2);
    ep.behaviour = endpoint_behaviour::loopback;
    ep.kind = "port";
    dev.endpoints.push_back(ep);
    dev.next_port = std::max(dev.next_port, ep.port_number + 1);
    if (auto ec = add_router_endpoints(dev, {ep.handle})) {
        dev.endpoints.pop_back();
        return ec;
    }
    if (out) *out = ep.handle;
    emit(event_kind::endpoint_added, dev.id, ep.id);
    emit(event_kind::device_changed, dev.id);
    return {};
}

std::error_code registry::add_port(device_handle d, port_spec spec, endpoint_handle* out) {
    return change_device(d, [&](device& dev) { return add_port_locked(dev, spec, out); });
}

std::error_code registry::remove_port(endpoint_handle e) {
    const device* owner = device_of(e);
    if (!owner) return make_error_code(service_errc::not_found);
    if (is_loopback(owner->kind) || owner->app_owned) return make_error_code(service_errc::invalid_argument);
    return change_device(owner->handle, [&](device& dev) -> std::error_code {
        auto it = std::find_if(dev.endpoints.begin(), dev.endpoints.end(),
                               [&](const endpoint& ep) { return ep.handle == e; });
        if (router_)
            if (auto ec = router_->remove_endpoint(e)) return ec;
        std::string ep_id = it->id;
        dev.endpoints.erase(it);  // next_port is kept: the number is not reused
        emit(event_kind::endpoint_removed, dev.id, ep_id);
        emit(event_kind::device_changed, dev.id);
        return {};
    });
}

std::error_code registry::rename_port(endpoint_handle e, std::string name) {
    if (name.empty()) return make_error_code(service_errc::invalid_argument);
    const device* owner = device_of(e);
    if (!owner) return make_error_code(service_errc::not_found);
    return change_device(owner->handle, [&](device& dev) -> std::error_code {
        for (auto& ep : dev.endpoints) {
            if (ep.handle != e) continue;
            if (ep.name == name) return {};
            ep.name = name;
            if (!dev.app_owned) ep.declared.name = name;
            // A MIDI 1.0 loopback's device carries the same name as its one endpoint.
            if (dev.kind == device_kind::loopback_midi1 || dev.kind == device_kind::loopback_diagnostics) {
                dev.name = name;
                emit(event_kind::device_changed, dev.id);
            }
            emit(event_kind::endpoint_changed, dev.id, ep.id);
        }
        return {};
    });
}

std::error_code registry::set_port_protocol(endpoint_handle e, ump_protocol p) {
    const device* owner = device_of(e);
    if (!owner) return make_error_code(service_errc::not_found);
    if (owner->kind == device_kind::loopback_midi1 && p != ump_protocol::midi1)
        return make_error_code(service_errc::invalid_argument);
    return change_device(owner->handle, [&](device& dev) -> std::error_code {
        for (auto& ep : dev.endpoints) {
            if (ep.handle != e || ep.protocol == p) continue;
            ep.protocol = p;
            if (!dev.app_owned) {
                ep.declared.midi2 = p == ump_protocol::midi2;
                ep.declared.info.midi2_protocol = ep.declared.midi2;
                ep.declared.info.midi1_protocol = !ep.declared.midi2;
            }
            emit(event_kind::endpoint_changed, dev.id, ep.id);
        }
        return {};
    });
}

std::error_code registry::rename_device(device_handle d, std::string name) {
    if (name.empty()) return make_error_code(service_errc::invalid_argument);
    return change_device(d, [&](device& dev) -> std::error_code {
        if (dev.name == name) return {};
        dev.name = name;  // the id stays: ids are stable for the device's life
        if (dev.kind == device_kind::loopback_midi1 || dev.kind == device_kind::loopback_diagnostics) {
            for (auto& ep : dev.endpoints) {
                ep.name = name;
                ep.declared.name = name;
                emit(event_kind::endpoint_changed, dev.id, ep.id);
            }
        }
        emit(event_kind::device_changed, dev.id);
        return {};
    });
}

std::error_code registry::set_device_info(device_handle d, std::string manufacturer, std::string model) {
    return change_device(d, [&](device& dev) -> std::error_code {
        if (dev.manufacturer == manufacturer && dev.model == model) return {};
        dev.manufacturer = std::move(manufacturer);
        dev.model = std::move(model);
        emit(event_kind::device_changed, dev.id);
        return {};
    });
}

endpoint* registry::mutable_endpoint(endpoint_handle e, device** dev) {
    for (auto& d : devices_) {
        for (auto& ep : d.endpoints) {
            if (ep.handle != e) continue;
            if (dev) *dev = &d;
            return &ep;
        }
    }
    return nullptr;
}

std::error_code registry::set_function_blocks(endpoint_handle e, std::vector<function_block_declaration> blocks) {
    device* dev = nullptr;
    endpoint* ep = mutable_endpoint(e, &dev);
    if (!ep) return make_error_code(service_errc::not_found);
    if (in_change_) return make_error_code(service_errc::busy);
    if (dev->app_owned) return make_error_code(service_errc::invalid_argument);
    endpoint_declaration next = ep->declared;
    next.function_blocks = std::move(blocks);
    if (!validate(next).empty()) return make_error_code(service_errc::invalid_argument);
    if (next.function_blocks == ep->declared.function_blocks) return {};
    ep->declared = std::move(next);
    emit(event_kind::endpoint_changed, dev->id, ep->id);
    return {};
}

std::error_code registry::set_declaration(endpoint_handle e, endpoint_declaration d) {
    device* dev = nullptr;
    endpoint* ep = mutable_endpoint(e, &dev);
    if (!ep) return make_error_code(service_errc::not_found);
    if (in_change_) return make_error_code(service_errc::busy);
    ep->declared = std::move(d);
    emit(event_kind::endpoint_changed, dev->id, ep->id);
    return {};
}

std::error_code registry::set_offline(device_handle d, bool offline) {
    device* dev = mutable_device(d);
    if (!dev) return make_error_code(service_errc::not_found);
    if (in_change_) return make_error_code(service_errc::busy);
    if (dev->offline == offline) return {};
    if (router_) {
        // A device without endpoints may be unknown to the router; that is no failure.
        auto ec = offline ? router_->stop_io(d) : router_->start_io(d);
        if (ec && !dev->endpoints.empty()) return ec;
    }
    dev->offline = offline;
    emit(event_kind::device_changed, dev->id);
    for (const auto& ep : dev->endpoints) emit(event_kind::endpoint_changed, dev->id, ep.id);
    return {};
}

}  // namespace umpd::service
