// The JACK driver in the service (include/umpd/jack/service_driver.hpp): the
// control-thread half. What it exports is kept in `exported_`; the bridge thread
// (bridge.hpp) sees the same set through the tables this file builds.
#include <jack/jack.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "bridge.hpp"
#include "umpd/jack/client.hpp"
#include "umpd/jack/service_driver.hpp"

namespace umpd::jack {
namespace {

constexpr std::string_view driver_name = "jack";
// Words of each ring of an exported endpoint's connection (a 40 000-byte SysEx is
// about 6 700 packets of two words plus the timestamps; this holds several).
constexpr std::uint32_t ring_words = 65536;
constexpr std::chrono::milliseconds status_interval{500};

struct port_slot {
    naming::port_direction direction = naming::port_direction::source;
    std::uint8_t group_index = 0;
    friend auto operator<=>(const port_slot&, const port_slot&) = default;
};

struct exported_port {
    port_key key = 0;
    std::string name;
    std::string full_name;
};

struct exported_endpoint {
    service::endpoint_handle handle = 0;
    std::string id;
    service::local_connection connection;
    std::map<port_slot, exported_port> ports;
};

// Endpoints that came from JACK itself must not go back to it (a loop through umpd).
bool imported_from_jack(const service::device& d) { return d.driver == driver_name; }

class jack_driver final : public service::driver {
public:
    jack_driver(service::driver_host& host, service::cycle_clock* cycles) : host_(host), cycles_(cycles) {}
    ~jack_driver() override { stop(); }

    std::string_view name() const noexcept override { return driver_name; }

    void start() override { start_with(host_.current_config().jack); }

    void stop() override {
        if (timer_) {
            host_.unwatch(timer_.get());
            timer_.reset();
        }
        if (client_) client_->set_cycle_listener(nullptr, nullptr);
        bridge_.stop();
        for (auto& [h, e] : exported_) host_.close_local(e->connection);
        exported_.clear();
        (void)bridge_.publish(std::make_unique<bridge_table>());
        if (client_) client_->stop();
        client_.reset();
    }

    void endpoints_changed() override {
        if (!client_) return;
        sync_exports();
        update_status();
    }

    bool handle(std::string_view op, const nlohmann::json& request, service::driver_reply& reply) override {
        (void)request;
        if (op != "jack") return false;
        reply.result = describe();
        return true;
    }

    void snapshot(service::config& into) const override { into.jack = config_; }

    // A reload with a different [jack] restarts the driver; so does any reload while it
    // has no client (the server was absent, or starting failed): that is the retry.
    void apply(const service::config& next) override {
        if (next.jack == config_ && (client_ || !config_.enabled)) return;
        stop();
        start_with(next.jack);
        endpoints_changed();
    }

private:
    void start_with(const service::jack_config& cfg) {
        config_ = cfg;
        last_state_.clear();
        last_detail_.clear();
        if (!config_.enabled) {
            host_.set_status(driver_name, "disabled", "[jack] enabled = false");
            return;
        }
        // JACK would refuse it as if no server ran: say what is wrong instead.
        const auto name_limit = static_cast<std::size_t>(jack_client_name_size()) - 1;
        if (config_.client_name.size() > name_limit) {
            host_.set_status(driver_name, "failed",
                             "[jack] client_name is " + std::to_string(config_.client_name.size()) +
                                 " bytes; JACK allows at most " + std::to_string(name_limit));
            return;
        }
        client_config cc;
        cc.client_name = config_.client_name;
        cc.server_name = config_.server_name;
        cc.wait_for_server = config_.wait_for_server;
        // Room for a 40 000-byte SysEx (about 6 700 packets) queued for one port.
        cc.outgoing_capacity = 16384;
        auto c = std::make_unique<client>(cc);
        // Every cycle into the shared block clock, from the first one on.
        if (cycles_ != nullptr) c->set_cycle_listener(&publish_cycle, cycles_);
        if (auto ec = c->start()) {
            if (ec == errc::server_unavailable)
                host_.set_status(driver_name, "absent",
                                 "no JACK server" + server_text() +
                                     " is running (set [jack] wait_for_server = true to wait for one)");
            else
                host_.set_status(driver_name, "failed", "cannot open the JACK client: " + ec.message());
            return;
        }
        client_ = std::move(c);
        client_wake_ = std::make_shared<ipc::wake>();
        if (auto ec = ipc::wake::create(*client_wake_)) return fail("eventfd: " + ec.message());
        if (auto ec = bridge_.start(*client_, client_wake_, host_.current_config().limits.spin))
            return fail("cannot start the bridge thread: " + ec.message());
        if (!start_timer()) return;
        update_status();
    }

    void fail(const std::string& why) {
        stop();
        host_.set_status(driver_name, "failed", why);
    }

    std::string server_text() const {
        return config_.server_name.empty() ? std::string() : " '" + config_.server_name + "'";
    }

    // A periodic timerfd in the control loop keeps the status line current while the
    // server goes away and comes back (the client reconnects on its own).
    bool start_timer() {
        timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
        if (!timer_) {
            fail("timerfd_create failed");
            return false;
        }
        itimerspec spec{};
        spec.it_interval.tv_nsec = std::chrono::nanoseconds(status_interval).count();
        spec.it_value = spec.it_interval;
        (void)::timerfd_settime(timer_.get(), 0, &spec, nullptr);
        if (auto ec = host_.watch(timer_.get(), [this] { on_timer(); })) {
            timer_.reset();
            fail("cannot watch the status timer: " + ec.message());
            return false;
        }
        return true;
    }

    void on_timer() {
        std::uint64_t expirations = 0;
        [[maybe_unused]] const auto n = ::read(timer_.get(), &expirations, sizeof expirations);
        update_status();
    }

    void update_status() {
        if (!client_) return;
        std::string state;
        std::string detail;
        const client_counters cc = client_->counters();
        if (client_->connected()) {
            state = "running";
            detail = "client '" + client_->jack_client_name() + "'" +
                     (config_.server_name.empty() ? std::string() : " on server '" + config_.server_name + "'") +
                     ", " + ports_text();
        } else if (cc.connects == 0) {
            state = "waiting";
            detail = "waiting for a JACK server" + server_text() + " (" + ports_text() + " ready)";
        } else {
            state = "waiting";
            detail = "the JACK server" + server_text() + " went away; reconnecting (" + ports_text() + " kept)";
        }
        const std::uint64_t lost = undeliverable();
        if (lost != 0) detail += ", " + std::to_string(lost) + " undeliverable";
        if (state == last_state_ && detail == last_detail_) return;
        last_state_ = state;
        last_detail_ = detail;
        host_.set_status(driver_name, state, detail);
    }

    std::string ports_text() const {
        std::size_t n = 0;
        for (const auto& [h, e] : exported_) n += e->ports.size();
        return std::to_string(n) + (n == 1 ? " port" : " ports");
    }

    // Messages that could not reach JACK or umpd: full rings either way, a port that
    // had just gone. Lock-free counters only: the status timer must never wait for the
    // client's control mutex, which its keeper holds through a slow reconnection.
    // (Per-port counters, untranslatable messages included: the `jack` op.)
    std::uint64_t undeliverable() const {
        return client_->counters().incoming_dropped + bridge_.unrouted() + bridge_.refused() + bridge_.send_full();
    }

    // ---- the exported set ------------------------------------------------------------

    void sync_exports() {
        const service::registry& reg = host_.devices();
        std::set<service::endpoint_handle> wanted;
        for (const service::device& d : reg.devices()) {
            if (d.offline || imported_from_jack(d)) continue;
            for (const service::endpoint& ep : d.endpoints) {
                wanted.insert(ep.handle);
                exported_endpoint* e = find_or_open(ep);
                if (e != nullptr) sync_ports(*e, d);
            }
        }
        std::vector<std::unique_ptr<exported_endpoint>> gone;
        for (auto it = exported_.begin(); it != exported_.end();) {
            if (wanted.count(it->first) == 0) {
                gone.push_back(std::move(it->second));
                it = exported_.erase(it);
            } else {
                ++it;
            }
        }
        if (!bridge_.publish(make_table())) {
            host_.log("jack: the bridge thread did not answer; leaking what it may still read");
            for (auto& e : gone) (void)e.release();
            return;
        }
        for (auto& e : gone) {
            host_.close_local(e->connection);
            for (const auto& [slot, p] : e->ports) (void)client_->remove_port(p.key);
        }
    }

    exported_endpoint* find_or_open(const service::endpoint& ep) {
        if (auto it = exported_.find(ep.handle); it != exported_.end()) return it->second.get();
        auto e = std::make_unique<exported_endpoint>();
        e->handle = ep.handle;
        e->id = ep.id;
        if (auto ec = e->connection.create(ring_words, ring_words, client_wake_)) {
            host_.log("jack: cannot create a connection for " + ep.id + ": " + ec.message());
            return nullptr;
        }
        if (auto ec = host_.open_local(ep.handle, false, e->connection)) {
            host_.log("jack: cannot open " + ep.id + ": " + ec.message());
            return nullptr;
        }
        return exported_.emplace(ep.handle, std::move(e)).first->second.get();
    }

    // Brings one endpoint's JACK ports to what its name table says.
    void sync_ports(exported_endpoint& e, const service::device& d) {
        std::map<port_slot, exported_port> want;
        for (const naming::indexed_port* p : host_.ports().index().ports_of(e.id)) {
            exported_port x;
            x.name = p->shown;
            x.full_name = d.name + ": " + p->shown;
            want.emplace(port_slot{p->direction, p->group_index}, std::move(x));
        }
        for (auto it = e.ports.begin(); it != e.ports.end();) {
            if (want.count(it->first) == 0) {
                (void)client_->remove_port(it->second.key);
                it = e.ports.erase(it);
            } else {
                ++it;
            }
        }
        for (auto& [slot, w] : want) {
            auto have = e.ports.find(slot);
            if (have == e.ports.end()) {
                w.key = next_key_++;
                port_spec spec{w.key, slot.direction, slot.group_index, w.name, w.full_name};
                if (auto ec = client_->add_port(std::move(spec))) {
                    host_.log("jack: cannot add the port '" + w.name + "' of " + e.id + ": " + ec.message());
                    continue;
                }
                e.ports.emplace(slot, std::move(w));
            } else if (have->second.name != w.name || have->second.full_name != w.full_name) {
                if (auto ec = client_->rename_port(have->second.key, w.name, w.full_name)) {
                    host_.log("jack: cannot rename the port '" + have->second.name + "' of " + e.id + ": " +
                              ec.message());
                    continue;
                }
                have->second.name = w.name;
                have->second.full_name = w.full_name;
            }
        }
    }

    std::unique_ptr<bridge_table> make_table() const {
        auto t = std::make_unique<bridge_table>();
        for (const auto& [h, e] : exported_) {
            bridge_endpoint be;
            be.connection = &e->connection;
            const auto index = static_cast<std::uint32_t>(t->endpoints.size());
            for (const auto& [slot, p] : e->ports) {
                if (slot.direction == naming::port_direction::source) be.source_keys[slot.group_index & 0x0Fu] = p.key;
                else t->inputs.push_back({p.key, index});
            }
            t->endpoints.push_back(be);
        }
        return t;
    }

    // The `jack` control op: the client, its counters and every exported port's.
    nlohmann::json describe() const {
        nlohmann::json out = {{"enabled", config_.enabled}, {"server_name", config_.server_name}};
        if (!client_) {
            out["connected"] = false;
            return out;
        }
        const client_counters cc = client_->counters();
        out["connected"] = client_->connected();
        out["client_name"] = client_->jack_client_name();
        out["counters"] = {{"cycles", cc.cycles},
                           {"connects", cc.connects},
                           {"server_losses", cc.server_losses},
                           {"incoming_dropped", cc.incoming_dropped},
                           {"xruns", cc.xruns},
                           {"unrouted", bridge_.unrouted()},
                           {"refused_by_umpd", bridge_.refused()},
                           {"refused_by_jack", bridge_.send_full()}};
        nlohmann::json ports = nlohmann::json::array();
        for (const auto& [h, e] : exported_)
            for (const auto& [slot, p] : e->ports) {
                nlohmann::json j = {{"endpoint", e->id},
                                    {"group", slot.group_index + 1},
                                    {"direction", std::string(naming::to_string(slot.direction))},
                                    {"name", p.name},
                                    {"alias", p.full_name},
                                    {"jack_name", client_->jack_port_name(p.key).value_or("")}};
                if (auto c = client_->counters(p.key))
                    j["counters"] = {{"events", c->events},       {"messages", c->messages},
                                     {"dropped_full", c->dropped_full}, {"deferred", c->deferred},
                                     {"late", c->late},           {"untranslatable", c->untranslatable}};
                ports.push_back(std::move(j));
            }
        out["ports"] = std::move(ports);
        return out;
    }

    // JACK's process thread: the cycle into the block clock (a few stores, a futex wake).
    static void publish_cycle(void* user, const umpd::jack::cycle_event& e) noexcept {
        static_cast<service::cycle_clock*>(user)->publish(e.start_ns, e.frames, e.sample_rate);
    }

    service::driver_host& host_;
    service::cycle_clock* cycles_ = nullptr;
    service::jack_config config_;
    std::unique_ptr<client> client_;
    std::shared_ptr<ipc::wake> client_wake_;
    bridge bridge_;
    ipc::unique_fd timer_;
    std::map<service::endpoint_handle, std::unique_ptr<exported_endpoint>> exported_;
    port_key next_key_ = 1;  // never reused: a stale key in a queue cannot reach another port
    std::string last_state_;
    std::string last_detail_;
};

}  // namespace

std::unique_ptr<service::driver> make_jack_driver(service::driver_host& host, service::cycle_clock* cycles) {
    return std::make_unique<jack_driver>(host, cycles);
}

std::unique_ptr<service::driver> make_jack_driver(service::driver_host& host) {
    return std::make_unique<jack_driver>(host, nullptr);
}

}  // namespace umpd::jack
