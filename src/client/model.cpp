// Error category, clock, and the JSON of docs/protocol.md read into the SDK's types.
#include <ctime>

#include "session.hpp"

namespace umpd::client {

namespace {

class client_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "umpd.client"; }
    std::string message(int e) const override {
        switch (static_cast<errc>(e)) {
        case errc::not_running: return "umpd is not running";
        case errc::permission_denied: return "umpd refused the connection";
        case errc::disconnected: return "lost the connection to umpd";
        case errc::protocol_error: return "umpd's answer broke the protocol";
        case errc::timeout: return "umpd did not answer in time";
        case errc::closed: return "closed";
        case errc::bad_request: return "bad request";
        case errc::unsupported_version: return "unsupported protocol version";
        case errc::unknown_op: return "unknown operation";
        case errc::not_found: return "not found";
        case errc::already_exists: return "already exists";
        case errc::invalid_argument: return "invalid argument";
        case errc::busy: return "a configuration change is in progress";
        case errc::limit: return "a configured limit was hit";
        case errc::internal: return "internal error in umpd";
        case errc::malformed_packet: return "not a valid UMP packet";
        case errc::ring_full: return "the ring to umpd is full";
        case errc::corrupt_ring: return "the shared-memory ring is corrupt";
        case errc::in_use: return "another thread is using this connection";
        }
        return "unknown umpd client error";
    }
};

}  // namespace

const std::error_category& client_category() noexcept {
    static const client_category_impl category;
    return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), client_category()}; }

std::uint64_t now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string_view to_string(loopback_kind k) noexcept {
    switch (k) {
    case loopback_kind::pair: return "pair";
    case loopback_kind::midi1: return "midi1";
    case loopback_kind::diagnostics: return "diagnostics";
    }
    return "pair";
}

std::string_view to_string(event::kind k) noexcept {
    switch (k) {
    case event::kind::endpoint_added: return "endpoint_added";
    case event::kind::endpoint_removed: return "endpoint_removed";
    case event::kind::endpoint_changed: return "endpoint_changed";
    case event::kind::device_added: return "device_added";
    case event::kind::device_changed: return "device_changed";
    case event::kind::device_removed: return "device_removed";
    case event::kind::configuration_change: return "configuration_change";
    case event::kind::data_error: return "data_error";
    case event::kind::disconnected: return "disconnected";
    case event::kind::reconnected: return "reconnected";
    case event::kind::connection_lost: return "connection_lost";
    case event::kind::endpoint_opened: return "endpoint_opened";
    case event::kind::endpoint_closed: return "endpoint_closed";
    case event::kind::ports_changed: return "ports_changed";
    case event::kind::transport_changed: return "transport_changed";
    case event::kind::unknown: return "unknown";
    }
    return "unknown";
}

const endpoint_info* listing::find_endpoint(std::string_view id_or_name) const noexcept {
    for (const auto& e : endpoints)
        if (e.id == id_or_name) return &e;
    for (const auto& e : endpoints)
        if (e.name == id_or_name) return &e;
    return nullptr;
}

const device_info* listing::find_device(std::string_view id_or_name) const noexcept {
    for (const auto& d : devices)
        if (d.id == id_or_name) return &d;
    for (const auto& d : devices)
        if (d.name == id_or_name) return &d;
    return nullptr;
}

namespace detail {

std::string get_string(const json& j, const char* key) {
    if (!j.is_object()) return {};
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return {};
    return it->get<std::string>();
}

std::uint64_t get_u64(const json& j, const char* key) {
    if (!j.is_object()) return 0;
    const auto it = j.find(key);
    if (it == j.end()) return 0;
    if (it->is_number_unsigned()) return it->get<std::uint64_t>();
    if (it->is_number_integer()) {
        const auto v = it->get<std::int64_t>();
        return v < 0 ? 0 : static_cast<std::uint64_t>(v);
    }
    if (it->is_number_float()) {
        const double v = it->get<double>();
        return v < 0 ? 0 : static_cast<std::uint64_t>(v);
    }
    return 0;
}

bool get_bool(const json& j, const char* key) {
    if (!j.is_object()) return false;
    const auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

endpoint_info parse_endpoint(const json& j) {
    endpoint_info e;
    e.id = get_string(j, "id");
    e.name = get_string(j, "name");
    e.device = get_string(j, "device");
    e.device_id = get_string(j, "device_id");
    e.driver = get_string(j, "driver");
    e.protocol = get_string(j, "protocol");
    e.kind = get_string(j, "kind");
    e.offline = get_bool(j, "offline");
    e.connections = get_u64(j, "connections");
    if (j.is_object()) {
        if (const auto c = j.find("counters"); c != j.end()) {
            e.counters.routed = get_u64(*c, "routed");
            e.counters.dropped_full = get_u64(*c, "dropped_full");
            e.counters.rejected_malformed = get_u64(*c, "rejected_malformed");
            e.counters.rejected_schedule = get_u64(*c, "rejected_schedule");
        }
    }
    return e;
}

device_info parse_device(const json& j) {
    device_info d;
    d.id = get_string(j, "id");
    d.name = get_string(j, "name");
    d.manufacturer = get_string(j, "manufacturer");
    d.model = get_string(j, "model");
    d.driver = get_string(j, "driver");
    d.offline = get_bool(j, "offline");
    if (j.is_object()) {
        if (const auto it = j.find("endpoints"); it != j.end() && it->is_array())
            for (const auto& e : *it)
                if (e.is_string()) d.endpoints.push_back(e.get<std::string>());
    }
    return d;
}

event parse_event(const json& j, std::string text) {
    event e;
    e.json = std::move(text);
    const std::string name = get_string(j, "event");
    using k = event::kind;
    static constexpr std::pair<const char*, k> names[] = {
        {"endpoint_added", k::endpoint_added}, {"endpoint_removed", k::endpoint_removed},
        {"endpoint_changed", k::endpoint_changed}, {"device_added", k::device_added},
        {"device_changed", k::device_changed}, {"device_removed", k::device_removed},
        {"configuration_change", k::configuration_change}, {"data_error", k::data_error},
        {"endpoint_opened", k::endpoint_opened}, {"endpoint_closed", k::endpoint_closed},
        {"ports_changed", k::ports_changed}, {"transport_changed", k::transport_changed},
    };
    for (const auto& [n, kind] : names)
        if (name == n) e.what = kind;
    const auto field = j.find("endpoint");
    if (field != j.end()) {
        if (field->is_object()) e.endpoint = parse_endpoint(*field);
        else if (field->is_string()) e.id = field->get<std::string>();
    }
    const auto dev = j.find("device");
    if (dev != j.end()) {
        if (dev->is_object()) e.device = parse_device(*dev);
        else if (dev->is_string()) e.id = dev->get<std::string>();
    }
    e.phase = get_string(j, "phase");
    e.connection = get_u64(j, "connection");
    e.error_kind = get_string(j, "kind");
    e.count = get_u64(j, j.contains("clients") ? "clients" : "count");
    if (e.what == event::kind::transport_changed) {
        e.transport = parse_transport(j);
        e.phase = get_string(j, "change");
    }
    if (e.what == event::kind::ports_changed) {
        // A malformed list leaves ports empty; the event still drops the cache.
        if (const auto p = j.find("ports"); p != j.end())
            if (auto ports = parse_ports_json(p->dump())) e.ports = std::move(*ports);
    }
    return e;
}

errc errc_from_protocol(std::string_view code) noexcept {
    static constexpr std::pair<std::string_view, errc> codes[] = {
        {"bad_request", errc::bad_request}, {"unsupported_version", errc::unsupported_version},
        {"unknown_op", errc::unknown_op}, {"not_found", errc::not_found},
        {"already_exists", errc::already_exists}, {"invalid_argument", errc::invalid_argument},
        {"busy", errc::busy}, {"limit", errc::limit}, {"internal", errc::internal},
    };
    for (const auto& [n, e] : codes)
        if (code == n) return e;
    return errc::internal;
}

}  // namespace detail
}  // namespace umpd::client
