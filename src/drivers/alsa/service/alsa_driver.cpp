// The ALSA sequencer driver in the service: export of umpd's MIDI 1.0 ports, import
// of the other sequencer clients, and the data between them and the router.
// docs/alsa.md has the design.
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "umpd/alsa/client.hpp"
#include "umpd/alsa/service_driver.hpp"
#include "umpd/ipc/fd.hpp"

namespace umpd::alsa {
namespace {

using service::endpoint_handle;
using service::local_connection;

constexpr std::string_view driver_name = "alsa";
constexpr std::uint32_t ring_words = 16384;
constexpr std::size_t groups_per_endpoint = 16;

// One exported MIDI 1.0 port.
struct exported_port {
    std::uint8_t group = 0;
    naming::port_direction direction{};
    port_key key = 0;
    std::string name;
};

// An endpoint whose MIDI 1.0 ports are exported: a client connection on it.
struct exported_endpoint {
    endpoint_handle handle = 0;
    local_connection conn;
    std::vector<exported_port> ports;
    [[nodiscard]] const exported_port* source_of(std::uint8_t group) const {
        for (const auto& p : ports)
            if (p.group == group && p.direction == naming::port_direction::source) return &p;
        return nullptr;
    }
};

// One remote port of an imported client.
struct imported_port {
    address addr;
    std::string name;
    bool readable = false;
    bool writable = false;
    friend bool operator==(const imported_port&, const imported_port&) = default;
};

// An endpoint of an imported device: up to 16 remote ports, one per group.
struct imported_endpoint {
    endpoint_handle handle = 0;
    local_connection conn;  // owner side
    std::vector<imported_port> ports;  // ports[g] is group g
};

struct imported_device {
    int client = -1;
    std::string name;
    service::device_handle handle = 0;
    std::vector<imported_port> ports;  // as listed, all of them
    std::vector<std::unique_ptr<imported_endpoint>> endpoints;
};

core::function_block_direction block_direction(const imported_port& p) {
    if (p.readable && p.writable) return core::function_block_direction::bidirectional;
    // A port that sends is, seen from the endpoint, a block that outputs.
    return p.readable ? core::function_block_direction::output : core::function_block_direction::input;
}

service::endpoint_declaration declaration_for(const std::string& name, const std::vector<imported_port>& ports) {
    auto d = service::default_declaration(name, false);
    d.info.static_function_blocks = true;
    for (std::size_t g = 0; g < ports.size(); ++g) {
        naming::group_terminal_block b;
        b.name = ports[g].name;
        b.first_group = static_cast<std::uint8_t>(g);
        b.group_count = 1;
        b.direction = block_direction(ports[g]);
        d.group_terminal_blocks.push_back(std::move(b));
    }
    return d;
}

class alsa_driver final : public service::driver {
public:
    explicit alsa_driver(service::driver_host& host) : host_(host) {}
    ~alsa_driver() override { stop(); }

    [[nodiscard]] std::string_view name() const noexcept override { return driver_name; }

    void start() override {
        cfg_ = host_.current_config().alsa;
        if (!cfg_.enabled) {
            host_.set_status(driver_name, "disabled", "[alsa] enabled = false");
            return;
        }
        client_config cc;
        cc.name = cfg_.client_name;
        client_ = std::make_unique<client>(cc);
        shared_wake_ = std::make_shared<ipc::wake>();
        if (auto ec = ipc::wake::create(*shared_wake_)) return fail("eventfd: " + ec.message());
        if (auto ec = ipc::wake::create(rescan_wake_)) return fail("eventfd: " + ec.message());
        handlers h;
        h.on_message = [this](const origin& o, std::uint64_t t, const core::packet& p) { incoming(o, t, p); };
        h.on_announcement = [this](const announcement&) { rescan_wake_.signal(); };
        h.wake_fd = shared_wake_->fd();
        h.on_wake = [this] { outgoing(); };
        if (auto ec = client_->open(std::move(h))) {
            client_.reset();
            if (ec == make_error_code(errc::no_sequencer)) {
                host_.set_status(driver_name, "absent", absent_detail);
                host_.log(std::string("alsa: ") + absent_detail);
            } else {
                fail(ec.message());
            }
            return;
        }
        if (auto ec = host_.watch(rescan_wake_.fd(), [this] {
                rescan_wake_.drain();
                sync();
            }))
            return fail("watch: " + ec.message());
        watching_ = true;
        // The kernel announces no renames of clients or ports: a re-listing every few
        // seconds catches those (sync() changes nothing when nothing changed).
        rescan_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
        if (rescan_timer_.get() >= 0) {
            itimerspec every{};
            every.it_interval.tv_sec = every.it_value.tv_sec = 3;
            (void)::timerfd_settime(rescan_timer_.get(), 0, &every, nullptr);
            (void)host_.watch(rescan_timer_.get(), [this] {
                std::uint64_t n = 0;
                (void)::read(rescan_timer_.get(), &n, sizeof n);
                sync();
            });
        }
        host_.log("alsa: sequencer client " + std::to_string(client_->id()) + " '" + cfg_.client_name + "'");
        sync();
    }

    void stop() override {
        if (watching_) host_.unwatch(rescan_wake_.fd());
        watching_ = false;
        if (rescan_timer_.get() >= 0) host_.unwatch(rescan_timer_.get());
        rescan_timer_.reset();
        if (!client_) return;
        client_->close();  // the I/O thread is gone: the tables are the control thread's
        for (auto& [id, e] : exported_) host_.close_local(e->conn);
        exported_.clear();
        by_key_.clear();
        syncing_ = true;
        for (auto& [c, d] : imported_) {
            for (auto& e : d->endpoints) host_.close_local(e->conn);
            (void)host_.devices().remove_device(d->handle);
        }
        syncing_ = false;
        imported_.clear();
        by_remote_.clear();
        client_.reset();
    }

    void endpoints_changed() override {
        if (!client_) return;
        if (syncing_) {
            dirty_ = true;
            return;
        }
        sync();
    }

    void snapshot(service::config& into) const override { into.alsa = cfg_; }

    void apply(const service::config& next) override {
        if (next.alsa == cfg_) return;
        stop();
        start();  // reads the new [alsa] from current_config()
    }

private:
    void fail(const std::string& why) {
        client_.reset();
        host_.set_status(driver_name, "failed", why);
        host_.log("alsa: " + why);
    }

    // ---- I/O thread (client lock held) -------------------------------------------

    void incoming(const origin& o, std::uint64_t t, const core::packet& p) {
        local_connection* conn = nullptr;
        if (o.remote) {
            auto it = by_remote_.find(o.from);
            if (it != by_remote_.end()) conn = it->second;
        } else {
            auto it = by_key_.find(o.key);
            if (it != by_key_.end()) conn = it->second;
        }
        if (conn == nullptr || !conn->is_open()) return;
        if (conn->write(t, p)) conn->flush();
    }

    void outgoing() {
        shared_wake_->drain();
        bool again = true;
        while (again) {
            again = false;
            for (auto& [id, e] : exported_) drain_exported(*e);
            for (auto& [c, d] : imported_)
                for (auto& e : d->endpoints) drain_imported(*e);
            client_->flush();
            for (auto& [id, e] : exported_)
                if (e->conn.is_open() && !e->conn.prepare_to_sleep()) again = true;
            for (auto& [c, d] : imported_)
                for (auto& e : d->endpoints)
                    if (e->conn.is_open() && !e->conn.prepare_to_sleep()) again = true;
        }
    }

    void drain_exported(exported_endpoint& e) {
        if (!e.conn.is_open()) return;
        e.conn.woke_up();
        std::uint64_t t = 0;
        core::packet p;
        while (e.conn.read(t, p)) {
            if (!core::has_group(p.type())) continue;
            if (const auto* port = e.source_of(p.group_field().index)) (void)client_->send(port->key, t, p);
        }
        e.conn.release();
    }

    void drain_imported(imported_endpoint& e) {
        if (!e.conn.is_open()) return;
        e.conn.woke_up();
        std::uint64_t t = 0;
        core::packet p;
        while (e.conn.read(t, p)) {
            if (!core::has_group(p.type())) continue;
            const std::size_t g = p.group_field().index;
            if (g < e.ports.size() && e.ports[g].writable) (void)client_->send_to(e.ports[g].addr, t, p);
        }
        e.conn.release();
    }

    // ---- control thread ----------------------------------------------------------

    // Brings imports and exports in line with the sequencer and the registry. Changes
    // to the registry call endpoints_changed() back: those only mark the state dirty.
    void sync() {
        if (!client_) return;
        // The I/O thread reads the tables: they change under its lock.
        auto lock = client_->lock();
        syncing_ = true;
        do {
            dirty_ = false;
            if (cfg_.import_ports) sync_imports();
            sync_exports();
        } while (dirty_);
        syncing_ = false;
        update_status();
    }

    void update_status() {
        std::size_t ports = 0;
        for (const auto& [id, e] : exported_) ports += e->ports.size();
        host_.set_status(driver_name, "running",
                         "client " + std::to_string(client_->id()) + " '" + cfg_.client_name + "', " +
                             std::to_string(ports) + " ports exported, " + std::to_string(imported_.size()) +
                             " clients imported" + (cfg_.import_ports ? "" : " (import = false)"));
    }

    // ---- export ----

    [[nodiscard]] bool is_imported(service::device_handle d) const {
        for (const auto& [c, dev] : imported_)
            if (dev->handle == d) return true;
        return false;
    }

    void sync_exports() {
        const auto& reg = host_.devices();
        std::map<std::string, std::vector<exported_port>> wanted;  // endpoint id → ports
        std::map<std::string, endpoint_handle> handles;
        for (const auto& d : reg.devices()) {
            if (d.offline || is_imported(d.handle)) continue;
            for (const auto& ep : d.endpoints) {
                auto list = host_.ports().index().ports_of(ep.id);
                if (list.empty()) continue;
                auto& ports = wanted[ep.id];
                handles[ep.id] = ep.handle;
                for (const auto* p : list) ports.push_back({p->group_index, p->direction, 0, p->shown});
            }
        }
        auto lock = client_->lock();
        // Endpoints gone (or whose handle changed: a different endpoint under that id).
        for (auto it = exported_.begin(); it != exported_.end();) {
            auto w = handles.find(it->first);
            if (w == handles.end() || w->second != it->second->handle) {
                drop_exported(*it->second);
                it = exported_.erase(it);
            } else {
                ++it;
            }
        }
        for (auto& [id, ports] : wanted) {
            auto it = exported_.find(id);
            if (it == exported_.end()) {
                auto e = std::make_unique<exported_endpoint>();
                e->handle = handles[id];
                if (!open_connection(e->conn, e->handle, false, id)) continue;
                it = exported_.emplace(id, std::move(e)).first;
            }
            update_ports(*it->second, ports);
        }
    }

    [[nodiscard]] bool open_connection(local_connection& conn, endpoint_handle h, bool owner, const std::string& what) {
        if (auto ec = conn.create(ring_words, ring_words, shared_wake_)) {
            host_.log("alsa: " + what + ": connection: " + ec.message());
            return false;
        }
        if (auto ec = host_.open_local(h, owner, conn)) {
            host_.log("alsa: " + what + ": open: " + ec.message());
            return false;
        }
        shared_wake_->signal();  // the I/O thread reads it once, then sleeps on it
        return true;
    }

    void update_ports(exported_endpoint& e, std::vector<exported_port>& wanted) {
        // Removed ports (and ones whose group/direction changed) first.
        for (auto it = e.ports.begin(); it != e.ports.end();) {
            const bool kept = std::any_of(wanted.begin(), wanted.end(), [&](const exported_port& w) {
                return w.group == it->group && w.direction == it->direction;
            });
            if (!kept) {
                (void)client_->remove_port(it->key);
                by_key_.erase(it->key);
                it = e.ports.erase(it);
            } else {
                ++it;
            }
        }
        for (const auto& w : wanted) {
            auto it = std::find_if(e.ports.begin(), e.ports.end(), [&](const exported_port& p) {
                return p.group == w.group && p.direction == w.direction;
            });
            if (it != e.ports.end()) {
                if (it->name != w.name && !client_->rename_port(it->key, w.name)) it->name = w.name;
                continue;
            }
            exported_port p = w;
            p.key = next_key_++;
            if (auto ec = client_->add_port({p.key, p.direction, p.group, p.name})) {
                host_.log("alsa: cannot export '" + p.name + "': " + ec.message());
                continue;
            }
            if (p.direction == naming::port_direction::destination) by_key_[p.key] = &e.conn;
            e.ports.push_back(std::move(p));
        }
    }

    void drop_exported(exported_endpoint& e) {
        for (const auto& p : e.ports) {
            (void)client_->remove_port(p.key);
            by_key_.erase(p.key);
        }
        host_.close_local(e.conn);
    }

    // ---- import ----

    void sync_imports() {
        std::map<int, std::pair<std::string, std::vector<imported_port>>> wanted;
        for (const auto& r : client_->remote_ports()) {
            if (excluded(cfg_.exclude, r.client_name, r.port_name)) continue;
            auto& w = wanted[r.addr.client];
            w.first = r.client_name;
            w.second.push_back({r.addr, r.port_name, r.readable, r.writable});
        }
        for (auto it = imported_.begin(); it != imported_.end();) {
            auto w = wanted.find(it->first);
            if (w == wanted.end() || w->second.second != it->second->ports) {
                remove_import(*it->second);
                it = imported_.erase(it);
            } else {
                ++it;
            }
        }
        for (auto& [c, w] : wanted) {
            auto it = imported_.find(c);
            if (it == imported_.end()) {
                add_import(c, w.first, w.second);
            } else if (it->second->name != w.first) {
                rename_import(*it->second, w.first);
            }
        }
    }

    void add_import(int c, const std::string& name, const std::vector<imported_port>& ports) {
        service::device_spec spec;
        spec.driver = std::string(driver_name);
        spec.name = name;
        spec.manufacturer = "ALSA";
        spec.model = "sequencer client " + std::to_string(c);
        spec.app_owned = true;
        for (std::size_t first = 0; first < ports.size(); first += groups_per_endpoint) {
            const std::vector<imported_port> chunk(ports.begin() + static_cast<std::ptrdiff_t>(first),
                                                   ports.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                                       ports.size(), first + groups_per_endpoint)));
            service::port_spec ps;
            ps.name = first == 0 ? name : name + " " + std::to_string(first / groups_per_endpoint + 1);
            ps.protocol = service::ump_protocol::midi1;
            ps.number = static_cast<std::uint32_t>(first / groups_per_endpoint + 1);
            ps.declared = declaration_for(ps.name, chunk);
            spec.ports.push_back(std::move(ps));
        }
        auto dev = std::make_unique<imported_device>();
        dev->client = c;
        dev->name = name;
        dev->ports = ports;
        // Known as imported before the registry announces it: endpoints_changed() must
        // not export it back.
        auto* d = dev.get();
        imported_[c] = std::move(dev);
        if (auto ec = host_.devices().add_device(spec, &d->handle)) {
            host_.log("alsa: cannot import '" + name + "': " + ec.message());
            imported_.erase(c);
            return;
        }
        const service::device* published = host_.devices().device_by_handle(d->handle);
        auto lock = client_->lock();
        for (std::size_t i = 0; published != nullptr && i < published->endpoints.size(); ++i) {
            auto e = std::make_unique<imported_endpoint>();
            e->handle = published->endpoints[i].handle;
            const std::size_t first = i * groups_per_endpoint;
            for (std::size_t k = first; k < ports.size() && k < first + groups_per_endpoint; ++k)
                e->ports.push_back(ports[k]);
            if (!open_connection(e->conn, e->handle, true, name)) continue;
            for (std::size_t g = 0; g < e->ports.size(); ++g) {
                const auto& p = e->ports[g];
                if (p.readable) {
                    if (auto ec = client_->connect_from(p.addr, static_cast<std::uint8_t>(g)))
                        host_.log("alsa: cannot read from " + name + ":" + p.name + ": " + ec.message());
                    else by_remote_[p.addr] = &e->conn;
                }
                if (p.writable)
                    if (auto ec = client_->connect_to(p.addr))
                        host_.log("alsa: cannot write to " + name + ":" + p.name + ": " + ec.message());
            }
            d->endpoints.push_back(std::move(e));
        }
        host_.log("alsa: imported client " + std::to_string(c) + " '" + name + "' (" + std::to_string(ports.size()) +
                  " ports)");
    }

    void remove_import(imported_device& d) {
        {
            auto lock = client_->lock();
            for (auto& e : d.endpoints) {
                for (const auto& p : e->ports) {
                    by_remote_.erase(p.addr);
                    client_->disconnect(p.addr);
                }
                host_.close_local(e->conn);
            }
        }
        (void)host_.devices().remove_device(d.handle);
        host_.log("alsa: client " + std::to_string(d.client) + " '" + d.name + "' gone");
    }

    void rename_import(imported_device& d, const std::string& name) {
        d.name = name;
        (void)host_.devices().rename_device(d.handle, name);
        const service::device* published = host_.devices().device_by_handle(d.handle);
        for (std::size_t i = 0; published != nullptr && i < d.endpoints.size(); ++i) {
            const std::string ep_name = i == 0 ? name : name + " " + std::to_string(i + 1);
            (void)host_.devices().set_declaration(d.endpoints[i]->handle, declaration_for(ep_name, d.endpoints[i]->ports));
        }
    }

    service::driver_host& host_;
    service::alsa_config cfg_{};
    std::unique_ptr<client> client_;
    std::shared_ptr<ipc::wake> shared_wake_;
    ipc::wake rescan_wake_;
    ipc::unique_fd rescan_timer_;
    bool watching_ = false;
    bool syncing_ = false;
    bool dirty_ = false;
    port_key next_key_ = 1;
    // Read by the I/O thread under the client's lock; changed by the control thread under it.
    std::map<std::string, std::unique_ptr<exported_endpoint>> exported_;   // by endpoint id
    std::map<port_key, local_connection*> by_key_;                         // exported destinations
    std::map<int, std::unique_ptr<imported_device>> imported_;             // by ALSA client
    std::map<address, local_connection*> by_remote_;                       // imported sources
};

}  // namespace

std::unique_ptr<service::driver> make_alsa_driver(service::driver_host& host) {
    return std::make_unique<alsa_driver>(host);
}

}  // namespace umpd::alsa
