#include "umpd/service/virtual_driver.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace umpd::service {

namespace {

// The port numbers a config's ports get: explicit ones, else the next after the
// highest so far (the same rule as the registry's).
std::vector<std::uint32_t> effective_numbers(const std::vector<port_config>& ports) {
    std::vector<std::uint32_t> out;
    std::uint32_t next = 1;
    for (const auto& p : ports) {
        const std::uint32_t n = p.number != 0 ? p.number : next;
        next = std::max(next, n + 1);
        out.push_back(n);
    }
    return out;
}

// A configured port: its declaration carries the configured function blocks.
port_spec spec_of(const port_config& p, std::uint32_t number) {
    port_spec spec{p.name, p.protocol, number, std::nullopt};
    endpoint_declaration d =
        default_declaration(p.name.empty() ? "Port " + std::to_string(number) : p.name, p.protocol == ump_protocol::midi2);
    d.function_blocks = p.function_blocks;
    spec.declared = std::move(d);
    return spec;
}

device_spec loopback_spec(const loopback_config& lb) {
    device_spec spec;
    spec.driver = std::string(virtual_driver::driver_name);
    spec.name = lb.name;
    spec.kind = lb.kind;
    switch (lb.kind) {
        case device_kind::loopback_midi1:
            spec.model = "MIDI 1.0 Loopback";
            spec.ports.push_back({lb.name, ump_protocol::midi1, 1, std::nullopt});
            break;
        case device_kind::loopback_pair:
            spec.model = "Loopback Pair";
            spec.ports.push_back({lb.name, ump_protocol::midi2, 1, std::nullopt});
            spec.ports.push_back({lb.name_b.empty() ? lb.name + " B" : lb.name_b, ump_protocol::midi2, 2, std::nullopt});
            break;
        case device_kind::loopback_diagnostics:
            spec.model = "Diagnostics Loopback";
            spec.ports.push_back({lb.name, ump_protocol::midi2, 1, std::nullopt});
            break;
        case device_kind::ports: break;
    }
    return spec;
}

loopback_config loopback_of(const device& d) {
    loopback_config lb;
    lb.kind = d.kind;
    lb.name = d.name;
    if (d.kind == device_kind::loopback_pair) {
        if (!d.endpoints.empty()) lb.name = d.endpoints[0].name;
        if (d.endpoints.size() > 1) lb.name_b = d.endpoints[1].name;
    }
    return lb;
}

}  // namespace

virtual_driver::virtual_driver(registry& r) : registry_(r) { update_status(); }

void virtual_driver::update_status() {
    std::size_t devices = 0, loopbacks = 0;
    for (const auto& d : registry_.devices()) {
        if (!owns(d)) continue;
        if (is_loopback(d.kind)) ++loopbacks;
        else ++devices;
    }
    registry_.add_driver({std::string(driver_name), "running",
                          std::to_string(devices) + " devices, " + std::to_string(loopbacks) + " loopbacks"});
}

std::error_code virtual_driver::add_configured_device(const device_config& d) {
    device_spec spec;
    spec.driver = std::string(driver_name);
    spec.name = d.name;
    spec.manufacturer = d.manufacturer;
    spec.model = d.model;
    spec.offline = d.offline;
    const auto numbers = effective_numbers(d.ports);
    for (std::size_t i = 0; i < d.ports.size(); ++i)
        spec.ports.push_back(spec_of(d.ports[i], numbers[i]));
    return registry_.add_device(spec);
}

std::error_code virtual_driver::publish(const config& c) {
    std::error_code first;
    for (const auto& d : c.devices)
        if (auto ec = add_configured_device(d); ec && !first) first = ec;
    for (const auto& lb : c.loopbacks)
        if (auto ec = registry_.add_device(loopback_spec(lb)); ec && !first) first = ec;
    update_status();
    return first;
}

std::error_code virtual_driver::reconcile_device(const device& existing, const device_config& want) {
    const device_handle h = existing.handle;
    std::error_code first;
    auto note = [&](std::error_code ec) {
        if (ec && !first) first = ec;
    };
    const auto numbers = effective_numbers(want.ports);

    // Ports that are no longer wanted go first, so a limit is not hit needlessly.
    std::vector<endpoint_handle> gone;
    for (const auto& ep : existing.endpoints)
        if (std::find(numbers.begin(), numbers.end(), ep.port_number) == numbers.end()) gone.push_back(ep.handle);
    for (endpoint_handle e : gone) note(registry_.remove_port(e));

    for (std::size_t i = 0; i < want.ports.size(); ++i) {
        const device* now = registry_.device_by_handle(h);
        if (!now) return first;
        const port_config& p = want.ports[i];
        auto it = std::find_if(now->endpoints.begin(), now->endpoints.end(),
                               [&](const endpoint& ep) { return ep.port_number == numbers[i]; });
        if (it == now->endpoints.end()) {
            note(registry_.add_port(h, spec_of(p, numbers[i])));
            continue;
        }
        const endpoint_handle e = it->handle;
        const std::string wanted_name = p.name.empty() ? "Port " + std::to_string(numbers[i]) : p.name;
        if (it->name != wanted_name) note(registry_.rename_port(e, wanted_name));
        if (const endpoint* ep = registry_.endpoint_by_handle(e); ep && ep->protocol != p.protocol)
            note(registry_.set_port_protocol(e, p.protocol));
        if (const endpoint* ep = registry_.endpoint_by_handle(e); ep && ep->declared.function_blocks != p.function_blocks)
            note(registry_.set_function_blocks(e, p.function_blocks));
    }
    note(registry_.set_device_info(h, want.manufacturer, want.model));
    note(registry_.set_offline(h, want.offline));
    return first;
}

std::error_code virtual_driver::apply(const config& next) {
    std::error_code first;
    auto note = [&](std::error_code ec) {
        if (ec && !first) first = ec;
    };

    // Handles first: the registry's device list changes under the loop.
    std::vector<device_handle> mine;
    for (const auto& d : registry_.devices())
        if (owns(d)) mine.push_back(d.handle);

    std::vector<bool> device_kept(next.devices.size(), false);
    std::vector<bool> loopback_kept(next.loopbacks.size(), false);
    for (device_handle h : mine) {
        const device* d = registry_.device_by_handle(h);
        if (!d) continue;
        if (!is_loopback(d->kind)) {
            auto it = std::find_if(next.devices.begin(), next.devices.end(),
                                   [&](const device_config& c) { return c.name == d->name; });
            const auto index = static_cast<std::size_t>(it - next.devices.begin());
            if (it == next.devices.end() || device_kept[index]) {
                note(registry_.remove_device(h));
                continue;
            }
            device_kept[index] = true;
            note(reconcile_device(*d, *it));
        } else {
            const loopback_config have = loopback_of(*d);
            bool kept = false;
            for (std::size_t i = 0; i < next.loopbacks.size() && !kept; ++i) {
                loopback_config want = next.loopbacks[i];
                if (want.kind == device_kind::loopback_pair && want.name_b.empty()) want.name_b = want.name + " B";
                if (!loopback_kept[i] && want == have) loopback_kept[i] = kept = true;
            }
            if (!kept) note(registry_.remove_device(h));
        }
    }
    for (std::size_t i = 0; i < next.devices.size(); ++i)
        if (!device_kept[i]) note(add_configured_device(next.devices[i]));
    for (std::size_t i = 0; i < next.loopbacks.size(); ++i)
        if (!loopback_kept[i]) note(registry_.add_device(loopback_spec(next.loopbacks[i])));
    update_status();
    return first;
}

config virtual_driver::snapshot(const limits_config& limits) const {
    config c;
    c.limits = limits;
    for (const auto& d : registry_.devices()) {
        if (!owns(d)) continue;
        if (is_loopback(d.kind)) {
            c.loopbacks.push_back(loopback_of(d));
            continue;
        }
        device_config dc;
        dc.name = d.name;
        dc.manufacturer = d.manufacturer;
        dc.model = d.model;
        dc.offline = d.offline;
        for (const auto& ep : d.endpoints)
            dc.ports.push_back({ep.name, ep.protocol, ep.port_number, ep.declared.function_blocks});
        c.devices.push_back(std::move(dc));
    }
    return c;
}

std::error_code virtual_driver::create_loopback(const loopback_config& lb, device_handle* out) {
    if (lb.kind == device_kind::ports || lb.name.empty()) return make_error_code(service_errc::invalid_argument);
    const device_spec spec = loopback_spec(lb);
    for (const auto& d : registry_.devices()) {
        bool clash = d.name == spec.name;
        for (const auto& ep : d.endpoints)
            for (const auto& p : spec.ports) clash = clash || ep.name == p.name;
        if (clash) return make_error_code(service_errc::already_exists);
    }
    if (spec.ports.size() == 2 && spec.ports[0].name == spec.ports[1].name)
        return make_error_code(service_errc::invalid_argument);
    auto ec = registry_.add_device(spec, out);
    update_status();
    return ec;
}

std::error_code virtual_driver::remove_loopback(device_handle h) {
    const device* d = registry_.device_by_handle(h);
    if (!d) return make_error_code(service_errc::not_found);
    if (!owns(*d) || !is_loopback(d->kind)) return make_error_code(service_errc::invalid_argument);
    auto ec = registry_.remove_device(h);
    update_status();
    return ec;
}

}  // namespace umpd::service
