// The C API (umpd.h) over the C++ one. Nothing may escape as an exception: every
// entry point catches everything (std::bad_alloc included) and reports it.
#include "umpd/client/umpd.h"

#include <cstdlib>
#include <cstring>
#include <vector>
#include <exception>
#include <new>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "umpd/client/client.hpp"

struct umpd_client {
    umpd::client::client c;
};

struct umpd_connection {
    umpd::client::connection c;
};

struct umpd_published_device {
    umpd::client::published_device d;
    std::vector<umpd_connection> ports;  // moved out of d so that C can use them as connections
};

namespace {

using namespace umpd::client;

thread_local std::string last_error_text;

int fail(errc e, std::string message) {
    last_error_text = std::move(message);
    return -static_cast<int>(e);
}

int fail(const error_info& e) {
    last_error_text = e.message;
    if (e.code.category() == client_category()) return -e.code.value();
    return -static_cast<int>(errc::internal);
}

int ok() {
    last_error_text.clear();
    return UMPD_OK;
}

int null_argument(const char* what) { return fail(errc::invalid_argument, std::string(what) + " is NULL"); }

// Runs f, turning exceptions into error codes.
template <class F>
int guarded(F&& f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return fail(errc::internal, "out of memory");
    } catch (const std::exception& e) {
        return fail(errc::internal, e.what());
    } catch (...) {
        return fail(errc::internal, "unknown error");
    }
}

void copy_text(char* out, std::size_t capacity, const std::string& s) {
    if (out == nullptr || capacity == 0) return;
    const std::size_t n = s.size() < capacity - 1 ? s.size() : capacity - 1;
    std::memcpy(out, s.data(), n);
    out[n] = '\0';
}

char* duplicate(const std::string& s) {
    auto* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (p == nullptr) throw std::bad_alloc();
    std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

std::string event_json(const event& e) {
    if (!e.json.empty()) return e.json;
    nlohmann::json j{{"v", 1}, {"event", std::string(to_string(e.what))}};
    if (!e.id.empty()) j["endpoint"] = e.id;
    if (!e.message.empty()) j["message"] = e.message;
    return j.dump();
}

}  // namespace

namespace {

int adopt(result<published_device> r, umpd_published_device** out) {
    if (!r) return fail(r.error());
    auto* p = new umpd_published_device{std::move(*r), {}};
    for (auto& c : p->d.ports()) p->ports.push_back(umpd_connection{std::move(c)});
    *out = p;
    return ok();
}

event_callback c_event_callback(umpd_event_fn fn, void* user) {
    if (fn == nullptr) return {};
    return [fn, user](const event& e) { fn(event_json(e).c_str(), user); };
}

}  // namespace

extern "C" {

const char* umpd_last_error(void) { return last_error_text.c_str(); }

uint64_t umpd_now_ns(void) { return now_ns(); }

int umpd_connect(const char* runtime_dir, const char* client_name, umpd_client** out) {
    return guarded([&] {
        if (out == nullptr) return null_argument("out");
        *out = nullptr;
        options o;
        if (runtime_dir != nullptr) o.runtime_dir = runtime_dir;
        o.client_name = client_name != nullptr ? client_name : "umpd-sdk-c";
        auto r = client::connect(std::move(o));
        if (!r) return fail(r.error());
        *out = new umpd_client{std::move(*r)};
        return ok();
    });
}

void umpd_disconnect(umpd_client* c) { delete c; }

void umpd_free_string(char* s) { std::free(s); }

int umpd_status_json(umpd_client* c, char** out) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (out == nullptr) return null_argument("out_json");
        *out = nullptr;
        auto r = c->c.call("status");
        if (!r) return fail(r.error());
        *out = duplicate(*r);
        return ok();
    });
}

int umpd_get_transport(umpd_client* c, umpd_transport_info* out) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (out == nullptr) return null_argument("out");
        auto r = c->c.transport();
        if (!r) return fail(r.error());
        const transport_info& t = *r;
        *out = umpd_transport_info{t.sample_rate, t.bpm, t.beats_per_bar, t.beat_unit, t.playing ? 1 : 0,
                                   t.recording ? 1 : 0, t.cycling ? 1 : 0, t.frame, t.beat, t.bar,
                                   t.bar_beat, t.cycle_start, t.cycle_end, t.time_ns};
        return ok();
    });
}

int umpd_list_json(umpd_client* c, char** out) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (out == nullptr) return null_argument("out_json");
        *out = nullptr;
        auto r = c->c.call("list");
        if (!r) return fail(r.error());
        *out = duplicate(*r);
        return ok();
    });
}

int umpd_list_endpoints(umpd_client* c, umpd_endpoint_info* out, size_t capacity, size_t* count) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (out == nullptr && capacity > 0) return null_argument("out");
        auto r = c->c.list();
        if (!r) return fail(r.error());
        if (count != nullptr) *count = r->endpoints.size();
        for (std::size_t i = 0; i < r->endpoints.size() && i < capacity; ++i) {
            const auto& e = r->endpoints[i];
            umpd_endpoint_info& o = out[i];
            copy_text(o.id, sizeof o.id, e.id);
            copy_text(o.name, sizeof o.name, e.name);
            copy_text(o.device, sizeof o.device, e.device);
            copy_text(o.device_id, sizeof o.device_id, e.device_id);
            copy_text(o.driver, sizeof o.driver, e.driver);
            copy_text(o.protocol, sizeof o.protocol, e.protocol);
            o.offline = e.offline ? 1 : 0;
            o.connections = e.connections;
        }
        return ok();
    });
}

int umpd_subscribe(umpd_client* c, umpd_event_fn fn, void* user) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        event_callback cb;
        if (fn != nullptr) cb = [fn, user](const event& e) { fn(event_json(e).c_str(), user); };
        auto r = c->c.subscribe(std::move(cb));
        if (!r) return fail(r.error());
        return ok();
    });
}

int umpd_add_port(umpd_client* c, const char* device, const char* name, const char* protocol, char* id_out,
                  size_t capacity) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (device == nullptr) return null_argument("device");
        auto r = c->c.add_port(device, name != nullptr ? name : "", protocol != nullptr ? protocol : "");
        if (!r) return fail(r.error());
        copy_text(id_out, capacity, r->id);
        return ok();
    });
}

int umpd_remove_port(umpd_client* c, const char* endpoint) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (endpoint == nullptr) return null_argument("endpoint");
        auto r = c->c.remove_port(endpoint);
        return r ? ok() : fail(r.error());
    });
}

int umpd_set_offline(umpd_client* c, const char* device, int offline) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (device == nullptr) return null_argument("device");
        auto r = c->c.set_offline(device, offline != 0);
        return r ? ok() : fail(r.error());
    });
}

int umpd_rename(umpd_client* c, const char* target, const char* name) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (target == nullptr) return null_argument("device_or_endpoint");
        if (name == nullptr) return null_argument("name");
        auto r = c->c.rename(target, name);
        return r ? ok() : fail(r.error());
    });
}

int umpd_create_loopback(umpd_client* c, const char* kind, const char* name, const char* name_b, char* id_out,
                         size_t capacity) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (kind == nullptr) return null_argument("kind");
        if (name == nullptr) return null_argument("name");
        loopback_kind k{};
        const std::string ks = kind;
        if (ks == "pair") k = loopback_kind::pair;
        else if (ks == "midi1") k = loopback_kind::midi1;
        else if (ks == "diagnostics") k = loopback_kind::diagnostics;
        else return fail(errc::invalid_argument, "loopback kind must be pair, midi1 or diagnostics, not '" + ks + "'");
        auto r = c->c.create_loopback(k, name, name_b != nullptr ? name_b : "");
        if (!r) return fail(r.error());
        copy_text(id_out, capacity, r->id);
        return ok();
    });
}

int umpd_remove_loopback(umpd_client* c, const char* device) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (device == nullptr) return null_argument("device");
        auto r = c->c.remove_loopback(device);
        return r ? ok() : fail(r.error());
    });
}

int umpd_reload_config(umpd_client* c) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        auto r = c->c.reload_config();
        return r ? ok() : fail(r.error());
    });
}

int umpd_open(umpd_client* c, const char* endpoint, umpd_receive_fn fn, void* user, umpd_connection** out) {
    return guarded([&] {
        if (out == nullptr) return null_argument("out");
        *out = nullptr;
        if (c == nullptr) return null_argument("client");
        if (endpoint == nullptr) return null_argument("endpoint");
        open_options o;
        if (fn != nullptr) {
            o.on_receive = [fn, user](const timed_packet& m) {
                umpd_timed_packet p{m.timestamp_ns, {m.packet.words[0], m.packet.words[1], m.packet.words[2], m.packet.words[3]}};
                fn(&p, user);
            };
        }
        auto r = c->c.open(endpoint, std::move(o));
        if (!r) return fail(r.error());
        *out = new umpd_connection{std::move(*r)};
        return ok();
    });
}

void umpd_close(umpd_connection* conn) { delete conn; }

int umpd_send(umpd_connection* conn, const uint32_t* words, size_t count, uint64_t timestamp_ns) {
    return guarded([&] {
        if (conn == nullptr) return null_argument("connection");
        if (words == nullptr) return null_argument("words");
        if (count < 1 || count > 4 || umpd::core::word_count_of(words[0]) != count)
            return fail(errc::malformed_packet, "a packet of message type " + std::to_string(words[0] >> 28) + " has " +
                                                    std::to_string(umpd::core::word_count_of(words[0])) +
                                                    " words, not " + std::to_string(count));
        umpd::core::packet p;
        for (std::size_t i = 0; i < count; ++i) p.words[i] = words[i];
        auto r = conn->c.send(p, timestamp_ns);
        return r ? ok() : fail(r.error());
    });
}

int umpd_send_batch(umpd_connection* conn, const umpd_timed_packet* messages, size_t count, size_t* sent) {
    return guarded([&] {
        if (sent != nullptr) *sent = 0;
        if (conn == nullptr) return null_argument("connection");
        if (messages == nullptr && count > 0) return null_argument("messages");
        std::vector<timed_packet> batch(count);
        for (std::size_t i = 0; i < count; ++i) {
            batch[i].timestamp_ns = messages[i].timestamp_ns;
            const unsigned n = umpd::core::word_count_of(messages[i].words[0]);
            for (unsigned k = 0; k < n; ++k) batch[i].packet.words[k] = messages[i].words[k];
        }
        auto r = conn->c.send_batch(batch);
        if (!r) return fail(r.error());
        if (sent != nullptr) *sent = *r;
        return ok();
    });
}

int umpd_receive(umpd_connection* conn, umpd_timed_packet* out) {
    return guarded([&] {
        if (conn == nullptr) return null_argument("connection");
        if (out == nullptr) return null_argument("out");
        timed_packet m;
        if (!conn->c.receive(m)) {
            if (!conn->c.is_open()) return fail(errc::closed, "the connection is closed");
            return 0;
        }
        out->timestamp_ns = m.timestamp_ns;
        for (std::size_t i = 0; i < 4; ++i) out->words[i] = m.packet.words[i];
        return 1;
    });
}

int umpd_wait(umpd_connection* conn, int64_t timeout_ns) {
    return guarded([&] {
        if (conn == nullptr) return null_argument("connection");
        return conn->c.wait(std::chrono::nanoseconds(timeout_ns)) ? 1 : 0;
    });
}

int umpd_connection_fd(const umpd_connection* conn) { return conn != nullptr ? conn->c.fd() : -1; }

int umpd_get_counters(const umpd_connection* conn, umpd_connection_counters* out) {
    return guarded([&] {
        if (conn == nullptr) return null_argument("connection");
        if (out == nullptr) return null_argument("out");
        const auto c = conn->c.counters();
        *out = umpd_connection_counters{c.sent, c.send_dropped_full, c.receive_dropped_full, c.rejected_malformed,
                                        c.rejected_schedule};
        return ok();
    });
}


int umpd_publish_device(umpd_client* c, const char* name, const char* const* port_names, size_t port_count,
                        umpd_event_fn fn, void* user, umpd_published_device** out) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (name == nullptr) return null_argument("name");
        if (port_names == nullptr && port_count > 0) return null_argument("port_names");
        if (out == nullptr) return null_argument("out");
        *out = nullptr;
        app_device_spec spec;
        spec.name = name;
        for (size_t i = 0; i < port_count; ++i) {
            app_port_spec p;
            if (port_names[i] != nullptr) p.name = port_names[i];
            spec.ports.push_back(std::move(p));
        }
        spec.on_event = c_event_callback(fn, user);
        return adopt(c->c.publish_device(std::move(spec)), out);
    });
}

int umpd_publish_device_json(umpd_client* c, const char* request_json, umpd_event_fn fn, void* user,
                             umpd_published_device** out) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (request_json == nullptr) return null_argument("request_json");
        if (out == nullptr) return null_argument("out");
        *out = nullptr;
        return adopt(c->c.publish_device_json(request_json, c_event_callback(fn, user)), out);
    });
}

const char* umpd_published_device_id(const umpd_published_device* d) {
    return d == nullptr ? nullptr : d->d.info().id.c_str();
}

size_t umpd_published_device_port_count(const umpd_published_device* d) { return d == nullptr ? 0 : d->ports.size(); }

umpd_connection* umpd_published_device_port(umpd_published_device* d, size_t index) {
    if (d == nullptr || index >= d->ports.size()) return nullptr;
    return &d->ports[index];
}

void umpd_unpublish_device(umpd_published_device* d) {
    if (d == nullptr) return;
    try {
        (void)d->d.unpublish();
    } catch (...) {
        // Nothing to report to: the device goes away with the client at the latest.
    }
    delete d;
}

}  // extern "C"

namespace {

void copy_port(const midi1_port& p, umpd_midi1_port& o) {
    o.number = p.number;
    o.direction = p.direction == port_direction::in ? UMPD_PORT_IN : UMPD_PORT_OUT;
    o.group = p.group;
    copy_text(o.name, sizeof o.name, p.name);
    copy_text(o.custom, sizeof o.custom, p.custom);
    copy_text(o.legacy, sizeof o.legacy, p.legacy);
    copy_text(o.new_style, sizeof o.new_style, p.new_style);
    copy_text(o.endpoint, sizeof o.endpoint, p.endpoint);
    copy_text(o.endpoint_name, sizeof o.endpoint_name, p.endpoint_name);
}

// UMPD_PORT_ANY, IN or OUT; false for anything else.
bool c_direction(int d, std::optional<port_direction>& out) {
    if (d == UMPD_PORT_ANY) out.reset();
    else if (d == UMPD_PORT_IN) out = port_direction::in;
    else if (d == UMPD_PORT_OUT) out = port_direction::out;
    else return false;
    return true;
}

int copy_ports(const std::vector<midi1_port>& ports, umpd_midi1_port* out, std::size_t capacity, std::size_t* count) {
    if (count != nullptr) *count = ports.size();
    for (std::size_t i = 0; i < ports.size() && i < capacity; ++i) copy_port(ports[i], out[i]);
    return ok();
}

}  // namespace

extern "C" {

int umpd_find_ports(umpd_client* c, const char* name, int legacy_only, int direction, umpd_midi1_port* out,
                    size_t capacity, size_t* count) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (name == nullptr) return null_argument("name");
        if (out == nullptr && capacity > 0) return null_argument("out");
        std::optional<port_direction> d;
        if (!c_direction(direction, d)) return fail(errc::invalid_argument, "direction must be UMPD_PORT_ANY, _IN or _OUT");
        auto r = c->c.find_ports(name, legacy_only != 0, d);
        if (!r) return fail(r.error());
        return copy_ports(*r, out, capacity, count);
    });
}

int umpd_port_by_number(umpd_client* c, uint32_t number, int direction, umpd_midi1_port* out) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (out == nullptr) return null_argument("out");
        if (direction != UMPD_PORT_IN && direction != UMPD_PORT_OUT)
            return fail(errc::invalid_argument, "direction must be UMPD_PORT_IN or UMPD_PORT_OUT");
        auto r = c->c.port_by_number(number, direction == UMPD_PORT_IN ? port_direction::in : port_direction::out);
        if (!r) return fail(r.error());
        copy_port(*r, *out);
        return ok();
    });
}

int umpd_ports_of(umpd_client* c, const char* endpoint, int group, int direction, umpd_midi1_port* out,
                  size_t capacity, size_t* count) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (endpoint == nullptr) return null_argument("endpoint");
        if (out == nullptr && capacity > 0) return null_argument("out");
        if (group < -1 || group > 15) return fail(errc::invalid_argument, "group must be -1 (any) or 0..15");
        std::optional<port_direction> d;
        if (!c_direction(direction, d)) return fail(errc::invalid_argument, "direction must be UMPD_PORT_ANY, _IN or _OUT");
        std::optional<std::uint8_t> g;
        if (group >= 0) g = static_cast<std::uint8_t>(group);
        auto r = c->c.ports_of(endpoint, g, d);
        if (!r) return fail(r.error());
        return copy_ports(*r, out, capacity, count);
    });
}

int umpd_rename_port(umpd_client* c, const char* endpoint, int group, int direction, const char* name) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (endpoint == nullptr) return null_argument("endpoint");
        if (group < 0 || group > 15) return fail(errc::invalid_argument, "group must be 0..15");
        if (direction != UMPD_PORT_IN && direction != UMPD_PORT_OUT)
            return fail(errc::invalid_argument, "direction must be UMPD_PORT_IN or UMPD_PORT_OUT");
        auto r = c->c.rename_port(endpoint, static_cast<std::uint8_t>(group),
                                  direction == UMPD_PORT_IN ? port_direction::in : port_direction::out,
                                  name != nullptr ? name : "");
        if (!r) return fail(r.error());
        return ok();
    });
}

int umpd_endpoint_info_json(umpd_client* c, const char* endpoint, char** out) {
    return guarded([&] {
        if (c == nullptr) return null_argument("client");
        if (endpoint == nullptr) return null_argument("endpoint");
        if (out == nullptr) return null_argument("out_json");
        *out = nullptr;
        auto r = c->c.endpoint_details(endpoint);
        if (!r) return fail(r.error());
        *out = duplicate(r->json);
        return ok();
    });
}

}  // extern "C"
