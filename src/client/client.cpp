// The client's operations: each is one request of docs/protocol.md.
#include "session.hpp"

namespace umpd::client {

using detail::get_string;
using detail::get_u64;
using detail::json;
using detail::parse_device;
using detail::parse_endpoint;

namespace {

result<std::string> require_text(std::string_view value, const char* what) {
    if (value.empty()) return make_error(errc::invalid_argument, std::string(what) + " must not be empty");
    return std::string(value);
}

}  // namespace

client::client(std::shared_ptr<detail::session> s) noexcept : s_(std::move(s)) {}
client::client(client&&) noexcept = default;
client& client::operator=(client&& o) noexcept {
    if (this != &o) {
        if (s_) s_->shutdown();
        s_ = std::move(o.s_);
    }
    return *this;
}
client::~client() {
    if (s_) s_->shutdown();
}

result<client> client::connect(options o) {
    if (o.request_timeout.count() <= 0) return make_error(errc::invalid_argument, "request_timeout must be positive");
    if (o.reconnect_interval.count() <= 0) return make_error(errc::invalid_argument, "reconnect_interval must be positive");
    auto s = std::make_shared<detail::session>(std::move(o));
    if (auto r = s->start(); !r) return r.error();
    return client(std::move(s));
}

server_info client::server() const { return s_ ? s_->server() : server_info{}; }

const std::string& client::runtime_dir() const noexcept {
    static const std::string none;
    return s_ ? s_->runtime_dir : none;
}

bool client::is_connected() const noexcept { return s_ && s_->connected; }

#define UMPD_CLIENT_REQUIRE_SESSION() \
    if (!s_) return make_error(errc::closed, "the client is not connected (moved from)")

result<service_status> client::status() {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto r = s_->request("status", json::object());
    if (!r) return r.error();
    const json& j = r->result;
    service_status s;
    s.version = get_string(j, "version");
    s.pid = static_cast<std::int64_t>(get_u64(j, "pid"));
    if (const auto u = j.find("uptime_s"); u != j.end() && u->is_number()) s.uptime_s = u->get<double>();
    s.runtime_dir = get_string(j, "runtime_dir");
    s.config_file = get_string(j, "config_file");
    if (const auto d = j.find("drivers"); d != j.end() && d->is_array())
        for (const auto& x : *d) s.drivers.push_back({get_string(x, "name"), get_string(x, "state"), get_string(x, "detail")});
    // The counters may sit at the top level or in a "counters" object; accept both.
    const auto c = j.find("counters");
    const json& counters = (c != j.end() && c->is_object()) ? *c : j;
    const auto count = [&](const char* key) {
        const std::uint64_t v = get_u64(counters, key);
        return v != 0 ? v : get_u64(j, key);
    };
    s.connections = count("connections");
    s.messages_routed = count("messages_routed");
    s.dropped_full = count("dropped_full");
    s.rejected_malformed = count("rejected_malformed");
    s.rejected_schedule = count("rejected_schedule");
    return s;
}

result<listing> client::list() {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto r = s_->request("list", json::object());
    if (!r) return r.error();
    listing l;
    if (const auto d = r->result.find("devices"); d != r->result.end() && d->is_array())
        for (const auto& x : *d) l.devices.push_back(parse_device(x));
    if (const auto e = r->result.find("endpoints"); e != r->result.end() && e->is_array())
        for (const auto& x : *e) l.endpoints.push_back(parse_endpoint(x));
    return l;
}

result<void> client::subscribe(event_callback on_event) {
    UMPD_CLIENT_REQUIRE_SESSION();
    return s_->subscribe(std::move(on_event));
}

bool client::next_event(event& out, std::chrono::milliseconds timeout) {
    return s_ && s_->next_event(out, timeout);
}

result<endpoint_info> client::add_port(std::string_view device, std::string_view name, std::string_view protocol) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto d = require_text(device, "the device");
    if (!d) return d.error();
    if (!protocol.empty() && protocol != "midi1" && protocol != "midi2")
        return make_error(errc::invalid_argument, "the protocol must be midi1 or midi2, not '" + std::string(protocol) + "'");
    json f{{"device", *d}};
    if (!name.empty()) f["name"] = std::string(name);
    if (!protocol.empty()) f["protocol"] = std::string(protocol);
    auto r = s_->request("add_port", std::move(f));
    if (!r) return r.error();
    ports_may_have_changed();
    // The result is the endpoint object (or an object holding it).
    if (const auto e = r->result.find("endpoint"); e != r->result.end() && e->is_object()) return parse_endpoint(*e);
    return parse_endpoint(r->result);
}

result<void> client::remove_port(std::string_view endpoint) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto e = require_text(endpoint, "the endpoint");
    if (!e) return e.error();
    auto r = s_->request("remove_port", json{{"endpoint", *e}});
    if (!r) return r.error();
    ports_may_have_changed();
    return {};
}

result<device_info> client::set_offline(std::string_view device, bool offline) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto d = require_text(device, "the device");
    if (!d) return d.error();
    auto r = s_->request("set_offline", json{{"device", *d}, {"offline", offline}});
    if (!r) return r.error();
    ports_may_have_changed();
    if (const auto x = r->result.find("device"); x != r->result.end() && x->is_object()) return parse_device(*x);
    return parse_device(r->result);
}

result<renamed_object> client::rename(std::string_view device_or_endpoint, std::string_view name) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto target = require_text(device_or_endpoint, "the device or endpoint");
    if (!target) return target.error();
    if (name.empty()) return make_error(errc::invalid_argument, "the new name must not be empty");
    // The protocol names the kind of object; find out which one the caller means.
    auto l = list();
    if (!l) return l.error();
    renamed_object out;
    json f{{"name", std::string(name)}};
    if (const auto* e = l->find_endpoint(*target)) {
        f["endpoint"] = e->id;
    } else if (const auto* d = l->find_device(*target)) {
        f["device"] = d->id;
        out.is_device = true;
    } else {
        return make_error(errc::not_found, "no device or endpoint '" + *target + "' (see `umpctl list`)");
    }
    auto r = s_->request("rename", std::move(f));
    if (!r) return r.error();
    ports_may_have_changed();
    const json* obj = &r->result;
    for (const char* key : {"endpoint", "device"})
        if (const auto x = r->result.find(key); x != r->result.end() && x->is_object()) obj = &*x;
    out.id = get_string(*obj, "id");
    out.name = get_string(*obj, "name");
    return out;
}

result<device_info> client::create_loopback(loopback_kind kind, std::string_view name, std::string_view name_b) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto n = require_text(name, "the loopback's name");
    if (!n) return n.error();
    json f{{"kind", std::string(to_string(kind))}, {"name", *n}};
    if (kind == loopback_kind::pair) f["name_b"] = name_b.empty() ? *n + " B" : std::string(name_b);
    else if (!name_b.empty()) return make_error(errc::invalid_argument, "only a loopback pair takes a second name");
    auto r = s_->request("create_loopback", std::move(f));
    if (!r) return r.error();
    ports_may_have_changed();
    if (const auto x = r->result.find("device"); x != r->result.end() && x->is_object()) return parse_device(*x);
    return parse_device(r->result);
}

result<void> client::remove_loopback(std::string_view device) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto d = require_text(device, "the loopback device");
    if (!d) return d.error();
    auto r = s_->request("remove_loopback", json{{"device", *d}});
    if (!r) return r.error();
    ports_may_have_changed();
    return {};
}

result<std::vector<device_info>> client::list_loopbacks() {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto r = s_->request("list_loopbacks", json::object());
    if (!r) return r.error();
    std::vector<device_info> out;
    if (const auto d = r->result.find("devices"); d != r->result.end() && d->is_array())
        for (const auto& x : *d) out.push_back(parse_device(x));
    return out;
}

result<void> client::reload_config() {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto r = s_->request("reload_config", json::object());
    if (!r) return r.error();
    ports_may_have_changed();
    return {};
}

// ---- app-owned devices ------------------------------------------------------------------

namespace {

json port_json(const app_port_spec& p) {
    json j{{"name", p.name}, {"protocol", p.protocol}};
    if (p.endpoint_info) {
        const endpoint_info_spec& e = *p.endpoint_info;
        j["endpoint_info"] = {{"ump_version", {e.ump_version_major, e.ump_version_minor}},
                              {"midi1", e.midi1},
                              {"midi2", e.midi2},
                              {"rx_jr", e.rx_jr},
                              {"tx_jr", e.tx_jr},
                              {"static_function_blocks", e.static_function_blocks}};
    }
    if (!p.function_blocks.empty()) {
        json blocks = json::array();
        for (const auto& b : p.function_blocks) {
            json jb{{"name", b.name}, {"first_group", b.first_group}, {"groups", b.groups},
                    {"direction", b.direction}, {"active", b.active}, {"midi1", b.midi1}};
            if (!b.ui_hint.empty()) jb["ui_hint"] = b.ui_hint;
            blocks.push_back(std::move(jb));
        }
        j["function_blocks"] = std::move(blocks);
    }
    if (!p.product_instance_id.empty()) j["product_instance_id"] = p.product_instance_id;
    if (p.device_identity) {
        const device_identity_spec& d = *p.device_identity;
        j["device_identity"] = {{"manufacturer", d.manufacturer}, {"family", d.family}, {"model", d.model},
                                {"software_revision", d.software_revision}};
    }
    return j;
}

}  // namespace

published_device::published_device(published_device&& o) noexcept
    : s_(std::move(o.s_)), info_(std::move(o.info_)), ports_(std::move(o.ports_)), published_(o.published_),
      token_(o.token_) {
    o.published_ = false;
}

published_device& published_device::operator=(published_device&& o) noexcept {
    if (this != &o) {
        (void)unpublish();
        s_ = std::move(o.s_);
        info_ = std::move(o.info_);
        ports_ = std::move(o.ports_);
        published_ = o.published_;
        token_ = o.token_;
        o.published_ = false;
    }
    return *this;
}

published_device::~published_device() { (void)unpublish(); }

result<void> published_device::unpublish() {
    if (!published_) return {};
    published_ = false;
    // The device first: clients see it go before the application stops serving it.
    result<void> r;
    if (auto s = s_.lock()) r = s->unpublish(token_);
    for (auto& p : ports_) p.close();
    return r;
}

result<published_device> client::publish_device(app_device_spec spec) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (spec.name.empty()) return make_error(errc::invalid_argument, "the device name must not be empty");
    if (spec.ports.empty()) return make_error(errc::invalid_argument, "a published device needs at least one port");
    json fields{{"name", spec.name}};
    if (!spec.manufacturer.empty()) fields["manufacturer"] = spec.manufacturer;
    if (!spec.model.empty()) fields["model"] = spec.model;
    json ports = json::array();
    for (const auto& p : spec.ports) ports.push_back(port_json(p));
    fields["ports"] = std::move(ports);
    std::vector<open_options> io;
    for (auto& p : spec.ports) io.push_back(std::move(p.io));
    return publish(fields.dump(), std::move(io), std::move(spec.on_event));
}

result<published_device> client::publish_device_json(std::string_view request_json, event_callback on_event) {
    UMPD_CLIENT_REQUIRE_SESSION();
    json fields = json::parse(request_json, nullptr, false);
    if (fields.is_discarded() || !fields.is_object())
        return make_error(errc::invalid_argument, "the publish_device request must be a JSON object");
    const auto ports = fields.find("ports");
    const std::size_t n = ports != fields.end() && ports->is_array() ? ports->size() : 0;
    return publish(fields.dump(), std::vector<open_options>(n), std::move(on_event));
}

result<published_device> client::publish(const std::string& request_json, std::vector<open_options> io,
                                          event_callback on_event) {
    json fields = json::parse(request_json);  // our own dump: valid
    auto r = s_->request("publish_device", fields);
    if (!r) return r.error();
    ports_may_have_changed();
    published_device d;
    d.s_ = s_;
    d.info_ = parse_device(r->result);
    d.token_ = s_->add_publication(std::move(fields), d.info_.id, std::move(on_event));
    d.published_ = true;
    if (d.info_.endpoints.size() != io.size())
        return make_error(errc::protocol_error, "umpd published " + d.info_.id + " with " +
                                                    std::to_string(d.info_.endpoints.size()) + " ports instead of " +
                                                    std::to_string(io.size()));
    for (std::size_t i = 0; i < io.size(); ++i) {
        auto c = s_->open(d.info_.endpoints[i], std::move(io[i]), true);
        if (!c) return c.error();  // d unpublishes on the way out
        d.ports_.push_back(std::move(*c));
    }
    return d;
}

result<connection> client::open(std::string_view endpoint, open_options o) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto e = require_text(endpoint, "the endpoint");
    if (!e) return e.error();
    for (const std::uint32_t words : {o.to_service_words, o.to_client_words})
        if (words != 0 && (words < 64 || (words & (words - 1)) != 0))
            return make_error(errc::invalid_argument, "ring sizes must be powers of two of at least 64 words, not " +
                                                          std::to_string(words));
    return s_->open(*e, std::move(o));
}

result<std::string> client::call(std::string_view op, std::string_view fields_json) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (op.empty()) return make_error(errc::invalid_argument, "the operation must not be empty");
    json fields = json::object();
    if (!fields_json.empty()) {
        fields = json::parse(fields_json, nullptr, false);
        if (fields.is_discarded() || !fields.is_object())
            return make_error(errc::invalid_argument, "the request fields must be a JSON object");
    }
    auto r = s_->request(std::string(op), std::move(fields));
    if (!r) return r.error();
    return r->result.dump();
}

#undef UMPD_CLIENT_REQUIRE_SESSION

}  // namespace umpd::client
