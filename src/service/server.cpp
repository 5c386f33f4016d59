#include "umpd/service/server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

#include "umpd/ipc/control.hpp"
#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/shm.hpp"
#include "umpd/service/app_device.hpp"
#include "umpd/service/config.hpp"
#include "umpd/service/driver.hpp"
#include "umpd/service/local_connection.hpp"
#include "umpd/service/endpoint_discovery.hpp"
#include "umpd/service/endpoint_model.hpp"
#include "umpd/service/midi1_ports.hpp"
#include "umpd/service/registry.hpp"
#include "umpd/service/router.hpp"
#include "umpd/service/virtual_driver.hpp"

namespace umpd::service {

namespace {

using json = nlohmann::json;

constexpr unsigned max_bad_in_row = 16;
constexpr int listen_backlog = 64;

// One line per event on stderr (the journal when run as a systemd unit).
[[gnu::format(printf, 1, 2)]] void log_line(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "umpd: %s\n", buf);
}

std::string errno_text(int err) { return std::strerror(err); }

std::error_code make_dir_0700(const std::string& dir) {
    if (dir.empty()) return std::make_error_code(std::errc::invalid_argument);
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0) {
        const auto slash = dir.find_last_of('/');
        if (slash != std::string::npos && slash > 0) {
            // Parents as an ordinary mkdir -p would; only the last one is ours.
            const std::string parent = dir.substr(0, slash);
            struct stat pst{};
            if (::stat(parent.c_str(), &pst) != 0)
                if (auto ec = make_dir_0700(parent)) return ec;
        }
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return {errno, std::generic_category()};
        if (::stat(dir.c_str(), &st) != 0) return {errno, std::generic_category()};
    }
    if (!S_ISDIR(st.st_mode)) return std::make_error_code(std::errc::not_a_directory);
    // Someone else's directory would let them replace our socket.
    if (st.st_uid != ::getuid()) return std::make_error_code(std::errc::permission_denied);
    if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) return {errno, std::generic_category()};
    return {};
}

bool power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// A reply being built for one request.
struct reply {
    bool ok = true;
    json result = json::object();
    std::string code;
    std::string message;
    std::vector<int> fds;  // borrowed: sent with the reply

    void fail(std::string_view c, std::string m) {
        ok = false;
        code = c;
        message = std::move(m);
    }
};

// Field readers: false (and a bad_request naming the field) when the field is
// missing while required, or present with the wrong type.
bool read_string(const json& req, const char* key, bool required, std::string& out, reply& r) {
    auto it = req.find(key);
    if (it == req.end()) {
        if (required) r.fail("bad_request", std::string("missing field '") + key + "' (a string)");
        return !required;
    }
    if (!it->is_string()) {
        r.fail("bad_request", std::string("field '") + key + "' must be a string, got " + it->type_name());
        return false;
    }
    out = it->get<std::string>();
    return true;
}

bool read_bool(const json& req, const char* key, bool& out, reply& r) {
    auto it = req.find(key);
    if (it == req.end()) {
        r.fail("bad_request", std::string("missing field '") + key + "' (a boolean)");
        return false;
    }
    if (!it->is_boolean()) {
        r.fail("bad_request", std::string("field '") + key + "' must be a boolean, got " + it->type_name());
        return false;
    }
    out = it->get<bool>();
    return true;
}

// An unsigned integer field; `present` tells whether it was there.
bool read_uint(const json& req, const char* key, bool required, std::uint64_t& out, bool& present, reply& r) {
    present = false;
    auto it = req.find(key);
    if (it == req.end()) {
        if (required) r.fail("bad_request", std::string("missing field '") + key + "' (an integer)");
        return !required;
    }
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0)) {
        r.fail("bad_request", std::string("field '") + key + "' must be a non-negative integer, got " +
                                  (it->is_number() ? std::string("a negative or fractional number") : it->type_name()));
        return false;
    }
    out = it->get<std::uint64_t>();
    present = true;
    return true;
}

std::string describe_error(std::error_code ec, std::string_view what, std::string_view ref) {
    std::string quoted = "'" + std::string(ref) + "'";
    if (ec == make_error_code(service_errc::not_found)) return "no " + std::string(what) + " " + quoted;
    if (ec == make_error_code(service_errc::invalid_argument) && !ref.empty())
        return "the name " + quoted + " is ambiguous: use an id";
    return ec.message();
}

std::string_view data_error_kind(data_error::kind k) {
    switch (k) {
        case data_error::kind::malformed: return "malformed";
        case data_error::kind::schedule_too_far: return "schedule_too_far";
        case data_error::kind::schedule_full: return "schedule_full";
        case data_error::kind::ring_full: return "ring_full";
        case data_error::kind::corrupt_ring: return "corrupt_ring";
    }
    return "malformed";
}

}  // namespace

struct server::impl final : driver_host {
    struct client {
        ipc::unique_fd fd;
        pid_t pid = 0;
        uid_t uid = 0;
        std::string name = "?";
        bool subscribed = false;
        unsigned bad_in_row = 0;
        bool doomed = false;  // a send failed: dropped after the current dispatch
    };
    struct connection {
        connection_handle handle = 0;
        int client_fd = -1;
        endpoint_handle endpoint = 0;
        bool owner = false;  // an app-owned endpoint's application's own I/O connection
    };

    server_options options;
    config current;
    bool config_found = false;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    ipc::unique_fd lock_fd;
    std::string lock_path;
    std::string socket_path;
    bool own_socket = false;
    ipc::unique_fd listen_fd;
    ipc::unique_fd epoll_fd;
    ipc::unique_fd signal_fd;

    std::unique_ptr<router> data;
    std::unique_ptr<registry> reg;
    std::unique_ptr<virtual_driver> virt;

    std::map<int, std::unique_ptr<client>> clients;
    std::map<connection_handle, connection> connections;
    connection_handle next_connection = 1;
    std::map<device_handle, int> app_owners;  // app-owned devices → the publishing client's fd
    bool stopping = false;

    midi1_ports names;           // MIDI 1.0 ports, names, numbers, lookups (issue #4)
    // App-owned endpoints that declared nothing at publish: umpd discovers them over
    // their owner connection (endpoint_discovery.hpp); deadlines on a timerfd.
    std::map<endpoint_handle, std::unique_ptr<endpoint_discovery>> discoveries;
    ipc::unique_fd discovery_timer;
    std::size_t numbers_saved = 0;  // port-number records in the state file

    // Drivers beyond the virtual one (driver.hpp); those below drivers_started have
    // run start() and hear about endpoint changes.
    std::vector<std::unique_ptr<driver>> drivers;
    std::size_t drivers_started = 0;
    std::map<int, std::function<void()>> watched;  // fds drivers watch in the control loop

    explicit impl(server_options o) : options(std::move(o)) {}

    ~impl() {
        stop_drivers();
        if (data) {
            for (auto& [h, c] : connections) (void)data->remove_connection(h);
            data->stop();
        }
        connections.clear();
        if (own_socket) ::unlink(socket_path.c_str());
        // Unlinked while still locked, so that no second umpd can take a lock on a
        // file that is about to vanish.
        if (lock_fd) ::unlink(lock_path.c_str());
    }

    // ---- start-up -------------------------------------------------------------

    bool take_lock(std::string& message) {
        lock_path = options.runtime_dir + "/umpd.lock";
        lock_fd.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!lock_fd) {
            message = "cannot open " + lock_path + ": " + errno_text(errno);
            return false;
        }
        if (::flock(lock_fd.get(), LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            if (err == EWOULDBLOCK) {
                char buf[32] = {};
                const ssize_t n = ::pread(lock_fd.get(), buf, sizeof buf - 1, 0);
                long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
                lock_fd.reset();  // not ours: never unlink it
                message = "another umpd (pid " + std::to_string(pid) + ") is already running on " + options.runtime_dir;
            } else {
                lock_fd.reset();
                message = "cannot lock " + lock_path + ": " + errno_text(err);
            }
            return false;
        }
        const std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(lock_fd.get(), 0) != 0 ||
            ::pwrite(lock_fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
            message = "cannot write " + lock_path + ": " + errno_text(errno);
            return false;
        }
        return true;
    }

    bool listen_socket(std::string& message) {
        socket_path = ipc::control_socket_path(options.runtime_dir);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (socket_path.size() >= sizeof addr.sun_path) {
            message = "socket path too long: " + socket_path;
            return false;
        }
        std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
        listen_fd.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!listen_fd) {
            message = "socket: " + errno_text(errno);
            return false;
        }
        // We hold the lock: a socket file left here belongs to a umpd that died.
        ::unlink(socket_path.c_str());
        // Created without group or other permissions from the start; chmod makes it exact.
        const mode_t old_mask = ::umask(0177);
        const int rc = ::bind(listen_fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        const int bind_err = errno;
        ::umask(old_mask);
        if (rc != 0) {
            message = "cannot bind " + socket_path + ": " + errno_text(bind_err);
            return false;
        }
        own_socket = true;
        if (::chmod(socket_path.c_str(), 0600) != 0 || ::listen(listen_fd.get(), listen_backlog) != 0) {
            message = "cannot listen on " + socket_path + ": " + errno_text(errno);
            return false;
        }
        return true;
    }

    bool add_to_epoll(int fd, std::string& message) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
            message = "epoll_ctl: " + errno_text(errno);
            return false;
        }
        return true;
    }

    bool start(std::string& message) {
        if (auto ec = make_dir_0700(options.runtime_dir)) {
            message = "cannot use runtime directory " + options.runtime_dir + ": " + ec.message();
            return false;
        }
        if (!take_lock(message)) return false;

        if (options.config_path.empty()) {
            current = default_config();
        } else {
            config_result r = load_config(options.config_path, config_found);
            if (!r.value) {
                message = r.error.to_string();
                return false;
            }
            current = std::move(*r.value);
        }
        names.set_settings(current.naming);
        load_state();
        log_line("starting (pid %d, config %s)", static_cast<int>(::getpid()),
                 options.config_path.empty()   ? "none: --no-config"
                 : config_found                ? options.config_path.c_str()
                                               : (options.config_path + " (absent: embedded default)").c_str());

        router_limits rl;
        rl.max_schedule_ahead = current.limits.max_schedule_ahead;
        rl.schedule_capacity = current.limits.schedule_capacity;
        rl.max_endpoints = current.limits.max_endpoints;
        rl.max_connections = current.limits.max_connections;
        rl.spin = current.limits.spin;
        data = std::make_unique<router>(rl);
        if (auto ec = data->start()) {
            message = "cannot start the router: " + ec.message();
            return false;
        }
        reg = std::make_unique<registry>(data.get(), registry_limits{current.limits.max_ports_per_device,
                                                                     current.limits.max_endpoints, 1024});
        virt = std::make_unique<virtual_driver>(*reg);
        if (auto ec = virt->publish(current)) log_line("some configured devices were not published: %s", ec.message().c_str());
        for (const auto& d : reg->devices())
            log_line("published device %s \"%s\" (%zu %s)", d.id.c_str(), d.name.c_str(), d.endpoints.size(),
                     d.endpoints.size() == 1 ? "endpoint" : "endpoints");
        reg->set_event_sink([this](const registry_event& ev) { on_registry_event(ev); });
        update_app_driver_status();
        for (const auto& d : reg->devices())
            for (const auto& ep : d.endpoints) sync_discovery(ep.id);
        refresh_ports();

        epoll_fd.reset(::epoll_create1(EPOLL_CLOEXEC));
        if (!epoll_fd) {
            message = "epoll_create1: " + errno_text(errno);
            return false;
        }
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        signal_fd.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
        if (!signal_fd) {
            message = "signalfd: " + errno_text(errno);
            return false;
        }
        discovery_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
        if (!discovery_timer) {
            message = "timerfd_create: " + errno_text(errno);
            return false;
        }
        if (!listen_socket(message)) return false;
        if (!add_to_epoll(listen_fd.get(), message) || !add_to_epoll(signal_fd.get(), message) ||
            !add_to_epoll(data->notify_fd(), message) || !add_to_epoll(discovery_timer.get(), message))
            return false;
        log_line("listening on %s", socket_path.c_str());
        start_drivers();
        return true;
    }

    // ---- drivers (driver.hpp) -------------------------------------------------------

    void start_drivers() {
        for (const auto& make : options.drivers) {
            std::unique_ptr<driver> d;
            try {
                d = make(*this);
            } catch (const std::exception& e) {
                log_line("a driver could not be created: %s", e.what());
                continue;
            }
            if (!d) continue;
            drivers.push_back(std::move(d));
            drivers.back()->start();
            drivers_started = drivers.size();
            drivers.back()->endpoints_changed();
        }
    }

    void stop_drivers() {
        // In reverse: a later driver may use what an earlier one published.
        for (auto it = drivers.rbegin(); it != drivers.rend(); ++it) (*it)->stop();
        drivers_started = 0;
        drivers.clear();
    }

    void drivers_endpoints_changed() {
        for (std::size_t i = 0; i < drivers_started && i < drivers.size(); ++i) drivers[i]->endpoints_changed();
    }

    registry& devices() override { return *reg; }
    const midi1_ports& ports() const override { return names; }
    router& data_path() override { return *data; }
    const config& current_config() const override { return current; }

    std::error_code open_local(endpoint_handle e, bool owner, local_connection& conn) override {
        if (reg->endpoint_by_handle(e) == nullptr) return make_error_code(service_errc::not_found);
        if (connections.size() >= current.limits.max_connections) return make_error_code(service_errc::limit);
        const connection_handle h = next_connection++;
        if (auto ec = data->add_connection(conn.setup(h, e, owner))) return ec;
        connections.emplace(h, connection{h, -1, e, owner});
        conn.opened(h, e, owner);
        tell_owner(connections.at(h), "endpoint_opened");
        return {};
    }

    void close_local(local_connection& conn) override {
        if (!conn.is_open()) return;
        auto it = connections.find(conn.handle());
        conn.closed();
        if (it == connections.end()) return;
        const connection gone = it->second;
        (void)data->remove_connection(it->first);
        connections.erase(it);
        tell_owner(gone, "endpoint_closed");
    }

    std::error_code watch(int fd, std::function<void()> on_readable) override {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return {errno, std::system_category()};
        watched[fd] = std::move(on_readable);
        return {};
    }

    void unwatch(int fd) override {
        if (watched.erase(fd) != 0) (void)::epoll_ctl(epoll_fd.get(), EPOLL_CTL_DEL, fd, nullptr);
    }

    void set_status(std::string_view driver_name, std::string state, std::string detail) override {
        reg->add_driver({std::string(driver_name), std::move(state), std::move(detail)});
    }

    void save_config() override { save(); }

    void broadcast(const json& ev) override {
        json out = ev;
        out["v"] = ipc::protocol_version;
        for (auto& [fd, c] : clients)
            if (c->subscribed) send_to(*c, out);
    }

    void log(std::string_view line) override { log_line("%.*s", static_cast<int>(line.size()), line.data()); }

    // ---- the loop ------------------------------------------------------------------

    int run() {
        std::array<epoll_event, 32> events{};
        while (!stopping) {
            const int n = ::epoll_wait(epoll_fd.get(), events.data(), static_cast<int>(events.size()), -1);
            if (n < 0) {
                if (errno == EINTR) continue;
                log_line("epoll_wait: %s", errno_text(errno).c_str());
                return 1;
            }
            for (int i = 0; i < n && !stopping; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                if (fd == listen_fd.get()) accept_clients();
                else if (fd == signal_fd.get()) handle_signals();
                else if (fd == data->notify_fd()) {
                    report_data_errors();  // resets notify_fd: captured messages are taken after
                    take_captured();
                } else if (fd == discovery_timer.get()) discovery_deadlines();
                else if (clients.count(fd) != 0) serve_client(fd);
                else if (auto w = watched.find(fd); w != watched.end()) {
                    const auto on_readable = w->second;  // it may unwatch itself
                    on_readable();
                }
            }
            drop_doomed();
        }
        log_line("shutting down (%zu clients, %zu connections)", clients.size(), connections.size());
        return 0;
    }

    void handle_signals() {
        signalfd_siginfo si{};
        while (::read(signal_fd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
            if (si.ssi_signo == SIGHUP) {
                log_line("SIGHUP: reloading the configuration");
                std::string error;
                if (!reload(error)) log_line("reload failed, keeping the last good configuration: %s", error.c_str());
            } else {
                log_line("%s received", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                stopping = true;
            }
        }
    }

    void accept_clients() {
        for (;;) {
            ipc::unique_fd fd(::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!fd) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                    log_line("accept: %s", errno_text(errno).c_str());
                return;
            }
            ucred cred{};
            socklen_t len = sizeof cred;
            if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
                log_line("refused a client: SO_PEERCRED failed: %s", errno_text(errno).c_str());
                continue;
            }
            if (cred.uid != ::getuid() && cred.uid != 0) {
                log_line("refused a client (pid %d, uid %u): only uid %u and root may connect",
                         static_cast<int>(cred.pid), static_cast<unsigned>(cred.uid),
                         static_cast<unsigned>(::getuid()));
                continue;
            }
            // Replies are sent blocking, but a client that never reads must not stall
            // the control thread: after this long a send fails and the client is dropped.
            timeval tv{2, 0};
            (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            auto c = std::make_unique<client>();
            c->pid = cred.pid;
            c->uid = cred.uid;
            const int raw = fd.get();
            c->fd = std::move(fd);
            std::string message;
            if (!add_to_epoll(raw, message)) {
                log_line("refused a client: %s", message.c_str());
                continue;
            }
            log_line("client connected (pid %d)", static_cast<int>(c->pid));
            clients.emplace(raw, std::move(c));
        }
    }

    void drop_client(int fd, const char* why) {
        auto it = clients.find(fd);
        if (it == clients.end()) return;
        std::size_t reclaimed = 0;
        for (auto k = connections.begin(); k != connections.end();) {
            if (k->second.client_fd == fd) {
                const connection gone = k->second;
                (void)data->remove_connection(k->first);
                k = connections.erase(k);
                ++reclaimed;
                tell_owner(gone, "endpoint_closed");
            } else {
                ++k;
            }
        }
        // Its app-owned devices go with it: clients' connections on them are detached.
        std::vector<device_handle> owned;
        for (const auto& [d, owner_fd] : app_owners)
            if (owner_fd == fd) owned.push_back(d);
        for (device_handle d : owned) remove_app_device(d);
        (void)::epoll_ctl(epoll_fd.get(), EPOLL_CTL_DEL, fd, nullptr);
        log_line("client %s (pid %d) left (%s); %zu connections reclaimed", it->second->name.c_str(),
                 static_cast<int>(it->second->pid), why, reclaimed);
        clients.erase(it);
    }

    void drop_doomed() {
        std::vector<int> doomed;
        for (auto& [fd, c] : clients)
            if (c->doomed) doomed.push_back(fd);
        for (int fd : doomed) drop_client(fd, "not reading its socket");
    }

    void send_to(client& c, const json& message, const int* fds = nullptr, std::size_t fd_count = 0) {
        if (c.doomed) return;
        const std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
        if (auto ec = ipc::send_message(c.fd.get(), text, fds, fd_count)) {
            c.doomed = true;  // dropped after this dispatch (the map must not change under us)
        }
    }

    void serve_client(int fd) {
        client& c = *clients.at(fd);
        std::string text;
        std::vector<ipc::unique_fd> fds;
        const auto ec = ipc::receive_message(fd, text, fds);
        if (ec == ipc::make_error_code(ipc::ipc_errc::peer_closed)) {
            drop_client(fd, "closed");
            return;
        }
        if (ec == ipc::make_error_code(ipc::ipc_errc::message_too_large) ||
            ec == ipc::make_error_code(ipc::ipc_errc::too_many_fds)) {
            reply r;
            r.fail("bad_request", ec.message());
            respond(c, json(), r, true);
            return;
        }
        if (ec) {
            drop_client(fd, ec.message().c_str());
            return;
        }
        dispatch(c, text);
        if (c.bad_in_row >= max_bad_in_row) drop_client(fd, "16 bad requests in a row");
    }

    void respond(client& c, const json& id, const reply& r, bool bad) {
        json out = {{"v", ipc::protocol_version}, {"id", id}, {"ok", r.ok}};
        if (r.ok) out["result"] = r.result;
        else out["error"] = {{"code", r.code}, {"message", r.message}};
        c.bad_in_row = bad ? c.bad_in_row + 1 : 0;
        send_to(c, out, r.fds.empty() ? nullptr : r.fds.data(), r.fds.size());
    }

    void dispatch(client& c, const std::string& text) {
        reply r;
        json req = json::parse(text, nullptr, false);
        if (req.is_discarded()) {
            r.fail("bad_request", "the message is not valid JSON");
            return respond(c, json(), r, true);
        }
        if (!req.is_object()) {
            r.fail("bad_request", std::string("the message must be a JSON object, got ") + req.type_name());
            return respond(c, json(), r, true);
        }
        json id;
        if (auto it = req.find("id"); it != req.end()) {
            if (!it->is_number_integer()) {
                r.fail("bad_request", std::string("field 'id' must be an integer, got ") + it->type_name());
                return respond(c, json(), r, true);
            }
            id = *it;
        } else {
            r.fail("bad_request", "missing field 'id' (an integer)");
            return respond(c, json(), r, true);
        }
        auto v = req.find("v");
        if (v == req.end()) {
            r.fail("bad_request", "missing field 'v' (the protocol version, 1)");
            return respond(c, id, r, true);
        }
        if (!v->is_number_integer()) {
            r.fail("bad_request", std::string("field 'v' must be an integer, got ") + v->type_name());
            return respond(c, id, r, true);
        }
        if (v->get<std::int64_t>() != ipc::protocol_version) {
            r.fail("unsupported_version",
                   "protocol version " + v->dump() + " is not supported; this umpd speaks version 1");
            return respond(c, id, r, true);
        }
        auto op_it = req.find("op");
        if (op_it == req.end()) {
            r.fail("bad_request", "missing field 'op' (a string)");
            return respond(c, id, r, true);
        }
        if (!op_it->is_string()) {
            r.fail("bad_request", std::string("field 'op' must be a string, got ") + op_it->type_name());
            return respond(c, id, r, true);
        }
        const std::string op = op_it->get<std::string>();
        bool known = true;
        if (op == "hello") op_hello(c, req, r);
        else if (op == "status") op_status(r);
        else if (op == "list") op_list(r);
        else if (op == "subscribe") c.subscribed = true;
        else if (op == "open") op_open(c, req, r);
        else if (op == "close") op_close(c, req, r);
        else if (op == "publish_device") op_publish_device(c, req, r);
        else if (op == "unpublish_device") op_unpublish_device(c, req, r);
        else if (op == "add_port") op_add_port(req, r);
        else if (op == "remove_port") op_remove_port(req, r);
        else if (op == "set_offline") op_set_offline(req, r);
        else if (op == "rename") op_rename(req, r);
        else if (op == "create_loopback") op_create_loopback(req, r);
        else if (op == "remove_loopback") op_remove_loopback(req, r);
        else if (op == "list_loopbacks") op_list_loopbacks(r);
        else if (op == "reload_config") op_reload(r);
        else if (op == "endpoint_info") op_endpoint_info(req, r);
        else if (op == "set_function_blocks") op_set_function_blocks(req, r);
        else if (op == "ports") op_ports(req, r);
        else if (op == "find_ports") op_find_ports(req, r);
        else if (op == "port_by_number") op_port_by_number(req, r);
        else if (op == "rename_port") op_rename_port(req, r);
        else if (op == "set_naming") op_set_naming(req, r);
        else if (op == "set_global_naming") op_set_global_naming(req, r);
        else if (op == "get_global_naming") r.result = {{"naming", std::string(naming::to_string(names.settings().global))}};
        else known = ask_drivers(op, req, r);
        if (!known) {
            r.fail("unknown_op", "unknown op '" + op + "'");
            return respond(c, id, r, true);
        }
        respond(c, id, r, !r.ok && r.code == "bad_request");
        // An open's fds were sent with the reply; umpd keeps its own references.
    }

    // A request for a driver (plugins, transport, ...): the first driver that knows the op answers.
    bool ask_drivers(const std::string& op, const json& req, reply& r) {
        for (std::size_t i = 0; i < drivers_started && i < drivers.size(); ++i) {
            driver_reply dr;
            if (!drivers[i]->handle(op, req, dr)) continue;
            if (dr.ok) r.result = std::move(dr.result);
            else r.fail(dr.code, dr.message);
            return true;
        }
        return false;
    }

    // ---- objects ------------------------------------------------------------------

    std::size_t connections_on(endpoint_handle e) const {
        std::size_t n = 0;
        for (const auto& [h, k] : connections) n += k.endpoint == e ? 1 : 0;
        return n;
    }

    json endpoint_json(const device& d, const endpoint& ep) const {
        const endpoint_counters k = data->counters(ep.handle);
        return {{"id", ep.id},
                {"name", ep.name},
                {"device", d.name},
                {"device_id", d.id},
                {"driver", d.driver},
                {"port", ep.port_number},
                {"protocol", std::string(to_string(ep.protocol))},
                {"offline", d.offline},
                {"kind", ep.kind},
                {"connections", connections_on(ep.handle)},
                {"counters",
                 {{"routed", k.routed},
                  {"dropped_full", k.dropped_full},
                  {"rejected_malformed", k.rejected_malformed},
                  {"rejected_schedule", k.rejected_schedule}}}};
    }

    static json device_json(const device& d) {
        json ids = json::array();
        for (const auto& ep : d.endpoints) ids.push_back(ep.id);
        return {{"id", d.id},
                {"name", d.name},
                {"manufacturer", d.manufacturer},
                {"model", d.model},
                {"driver", d.driver},
                {"kind", d.app_owned ? std::string("app") : std::string(to_string(d.kind))},
                {"offline", d.offline},
                {"endpoints", ids}};
    }

    // ---- events -------------------------------------------------------------------

    void on_registry_event(const registry_event& ev) {
        using k = registry_event::kind;
        announce(ev);
        if (ev.what == k::endpoint_added || ev.what == k::endpoint_changed) sync_discovery(ev.endpoint_id);
        // A device's name is part of its endpoints' settings key; endpoints are the rest.
        if (ev.what == k::endpoint_added || ev.what == k::endpoint_changed || ev.what == k::endpoint_removed ||
            ev.what == k::device_changed)
            refresh_ports();
    }

    void announce(const registry_event& ev) {
        using k = registry_event::kind;
        json out = {{"v", ipc::protocol_version}};
        const device* d = nullptr;
        const endpoint* ep = nullptr;
        if (ev.what != k::device_removed && ev.what != k::endpoint_removed) {
            (void)reg->find_device(ev.device_id, d);
            if (!ev.endpoint_id.empty()) (void)reg->find_endpoint(ev.endpoint_id, ep);
        }
        switch (ev.what) {
            case k::device_added:
            case k::device_changed:
                if (!d) return;
                out["event"] = ev.what == k::device_added ? "device_added" : "device_changed";
                out["device"] = device_json(*d);
                break;
            case k::device_removed:
                out["event"] = "device_removed";
                out["device"] = ev.device_id;
                log_line("device %s removed", ev.device_id.c_str());
                break;
            case k::endpoint_added:
            case k::endpoint_changed:
                if (!d || !ep) return;
                out["event"] = ev.what == k::endpoint_added ? "endpoint_added" : "endpoint_changed";
                out["endpoint"] = endpoint_json(*d, *ep);
                if (ev.what == k::endpoint_added) log_line("endpoint %s \"%s\" added", ep->id.c_str(), ep->name.c_str());
                break;
            case k::endpoint_removed:
                out["event"] = "endpoint_removed";
                out["endpoint"] = ev.endpoint_id;
                log_line("endpoint %s removed", ev.endpoint_id.c_str());
                forget_endpoint_connections();
                std::erase_if(discoveries, [this](const auto& entry) { return reg->endpoint_by_handle(entry.first) == nullptr; });
                break;
            case k::change_requested:
            case k::change_performed:
            case k::change_aborted:
                out["event"] = "configuration_change";
                out["device"] = ev.device_id;
                out["phase"] = ev.what == k::change_requested   ? "requested"
                               : ev.what == k::change_performed ? "performed"
                                                                : "aborted";
                if (ev.what == k::change_aborted) log_line("configuration change on %s aborted", ev.device_id.c_str());
                break;
        }
        broadcast(out);
    }

    // Connections whose endpoint is gone stay until their client closes them (the
    // router has detached them), but they no longer count on any endpoint.
    void forget_endpoint_connections() {
        for (auto& [h, k] : connections)
            if (k.endpoint != 0 && reg->endpoint_by_handle(k.endpoint) == nullptr) k.endpoint = 0;
    }

    void report_data_errors() {
        data->take_data_errors([this](const data_error& e) {
            auto k = connections.find(e.connection);
            if (k == connections.end()) return;
            auto c = clients.find(k->second.client_fd);
            if (c == clients.end()) return;
            send_to(*c->second, json{{"v", ipc::protocol_version},
                                     {"event", "data_error"},
                                     {"connection", e.connection},
                                     {"kind", std::string(data_error_kind(e.what))},
                                     {"count", e.count}});
        });
    }

    // ---- persistence --------------------------------------------------------------

    void save() {
        if (options.config_path.empty()) return;
        config next = virt->snapshot(current.limits);
        next.naming = names.settings();
        // What the drivers own comes from them; what no running driver owns is kept.
        next.jack = current.jack;
        next.alsa = current.alsa;
        next.lv2 = current.lv2;
        next.plugins = current.plugins;
        next.connections = current.connections;
        for (const auto& d : drivers) d->snapshot(next);
        if (next == current && config_found) return;
        if (auto ec = write_file_atomically(options.config_path, format_config(next))) {
            log_line("cannot save %s: %s", options.config_path.c_str(), ec.message().c_str());
            return;
        }
        current = std::move(next);
        config_found = true;
    }

    bool reload(std::string& error) {
        if (options.config_path.empty()) {
            error = "umpd runs without a config file (--no-config)";
            return false;
        }
        bool found = false;
        config_result r = load_config(options.config_path, found);
        if (!r.value) {
            error = r.error.to_string();
            return false;
        }
        if (!(r.value->limits == current.limits))
            log_line("limits changed: ring sizes apply to new connections, router limits after a restart");
        if (auto ec = virt->apply(*r.value)) log_line("reload: some changes failed: %s", ec.message().c_str());
        names.set_settings(r.value->naming);
        refresh_ports();
        current = std::move(*r.value);
        config_found = found;
        for (std::size_t i = 0; i < drivers_started && i < drivers.size(); ++i) drivers[i]->apply(current);
        log_line("configuration reloaded from %s", options.config_path.c_str());
        return true;
    }

    // ---- operations ---------------------------------------------------------------

    void op_hello(client& c, const json& req, reply& r) {
        std::string name;
        if (!read_string(req, "client", false, name, r)) return;
        if (!name.empty()) {
            c.name = name.substr(0, 64);
            log_line("client %s (pid %d) says hello", c.name.c_str(), static_cast<int>(c.pid));
        }
        r.result = {{"server", "umpd " + options.version}, {"protocol", ipc::protocol_version}, {"pid", ::getpid()}};
    }

    void op_status(reply& r) {
        const router_counters k = data->counters();
        json driver_lines = json::array();
        for (const auto& d : reg->drivers())
            driver_lines.push_back({{"name", d.name}, {"state", d.state}, {"detail", d.detail}});
        const auto uptime =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
        std::size_t attached = 0;
        for (const auto& [h, c] : connections) attached += c.endpoint != 0 ? 1 : 0;
        r.result = {{"version", options.version},
                    {"pid", ::getpid()},
                    {"uptime_s", uptime},
                    {"runtime_dir", options.runtime_dir},
                    {"config_file", options.config_path.empty() ? json() : json(options.config_path)},
                    {"drivers", driver_lines},
                    {"clients", clients.size()},
                    {"devices", reg->devices().size()},
                    {"endpoints", reg->endpoint_count()},
                    {"connections", connections.size()},
                    {"connections_attached", attached},
                    {"messages_routed", k.messages_routed},
                    {"dropped_full", k.dropped_full},
                    {"rejected_malformed", k.rejected_malformed},
                    {"rejected_schedule", k.rejected_schedule},
                    {"scheduled_now", k.scheduled_now}};
    }

    void op_list(reply& r) {
        json devices = json::array(), endpoints = json::array();
        for (const auto& d : reg->devices()) {
            devices.push_back(device_json(d));
            for (const auto& ep : d.endpoints) endpoints.push_back(endpoint_json(d, ep));
        }
        r.result = {{"devices", devices}, {"endpoints", endpoints}};
    }

    void op_list_loopbacks(reply& r) {
        json devices = json::array();
        for (const auto& d : reg->devices())
            if (is_loopback(d.kind)) devices.push_back(device_json(d));
        r.result = {{"devices", devices}};
    }

    // Resolves an endpoint reference; fails the reply when it does not resolve.
    const endpoint* resolve_endpoint(const std::string& ref, reply& r) {
        const endpoint* ep = nullptr;
        if (auto ec = reg->find_endpoint(ref, ep)) {
            r.fail(protocol_error_code(ec), describe_error(ec, "endpoint", ref));
            return nullptr;
        }
        return ep;
    }

    // A device reference: a device id or name, or an endpoint's (meaning its device).
    const device* resolve_device(const std::string& ref, reply& r) {
        const device* d = nullptr;
        auto ec = reg->find_device(ref, d);
        if (ec == make_error_code(service_errc::not_found)) {
            const endpoint* ep = nullptr;
            if (!reg->find_endpoint(ref, ep)) return reg->device_of(ep->handle);
        }
        if (ec) {
            r.fail(protocol_error_code(ec), describe_error(ec, "device", ref));
            return nullptr;
        }
        return d;
    }

    void op_open(client& c, const json& req, reply& r) {
        std::string ref;
        if (!read_string(req, "endpoint", true, ref, r)) return;
        std::uint64_t ts = current.limits.to_service_words, tc = current.limits.to_client_words;
        bool present = false;
        if (!read_uint(req, "to_service_words", false, ts, present, r)) return;
        if (!present) ts = current.limits.to_service_words;
        if (!read_uint(req, "to_client_words", false, tc, present, r)) return;
        if (!present) tc = current.limits.to_client_words;
        bool owner = false;
        if (req.contains("owner") && !read_bool(req, "owner", owner, r)) return;
        for (auto [name, v] : {std::pair{"to_service_words", ts}, std::pair{"to_client_words", tc}}) {
            if (!power_of_two(v) || v < min_ring_words) {
                r.fail("invalid_argument", std::string(name) + " must be a power of two >= " +
                                               std::to_string(min_ring_words) + ", got " + std::to_string(v));
                return;
            }
            if (v > current.limits.max_ring_words) {
                r.fail("limit", std::string(name) + " " + std::to_string(v) + " is above limits.max_ring_words (" +
                                    std::to_string(current.limits.max_ring_words) + ")");
                return;
            }
        }
        const endpoint* ep = resolve_endpoint(ref, r);
        if (!ep) return;
        if (owner) {
            const device* owned = reg->device_of(ep->handle);
            auto it = app_owners.find(owned->handle);
            if (it == app_owners.end() || it->second != c.fd.get()) {
                r.fail("invalid_argument", ep->id + " is not an endpoint of a device this client published");
                return;
            }
        }
        if (connections.size() >= current.limits.max_connections) {
            r.fail("limit", "limits.max_connections (" + std::to_string(current.limits.max_connections) + ") reached");
            return;
        }
        const auto to_service = static_cast<std::uint32_t>(ts), to_client = static_cast<std::uint32_t>(tc);
        auto region = std::make_shared<ipc::shm_region>();
        if (auto ec = ipc::shm_region::create("umpd-connection", ipc::connection_bytes(to_service, to_client), *region)) {
            r.fail("internal", "cannot create the shared-memory region: " + ec.message());
            return;
        }
        ipc::init_connection(*region, to_service, to_client);
        auto service_wake = std::make_shared<ipc::wake>();
        auto client_wake = std::make_shared<ipc::wake>();
        if (auto ec = ipc::wake::create(*service_wake); ec) {
            r.fail("internal", "eventfd: " + ec.message());
            return;
        }
        if (auto ec = ipc::wake::create(*client_wake); ec) {
            r.fail("internal", "eventfd: " + ec.message());
            return;
        }
        const connection_handle h = next_connection++;
        router::connection_setup setup;
        setup.handle = h;
        setup.endpoint = ep->handle;
        setup.region = region;
        setup.service_wake = service_wake;
        setup.client_wake = client_wake;
        setup.owner = owner;
        // umpd discovers an endpoint that declared nothing: the owner's answers must not
        // reach clients from its first message on.
        const bool discover = owner && discoveries.contains(ep->handle);
        if (discover) {
            if (auto ec = data->capture_stream(ep->handle, true))
                log_line("endpoint %s: cannot capture its stream messages: %s", ep->id.c_str(), ec.message().c_str());
        }
        if (auto ec = data->add_connection(setup)) {
            r.fail(protocol_error_code(ec), owner && ec == make_error_code(service_errc::already_exists)
                                                ? ep->id + " already has its owner's connection"
                                                : "cannot open " + ep->id + ": " + ec.message());
            return;
        }
        connections.emplace(h, connection{h, c.fd.get(), ep->handle, owner});
        tell_owner(connections.at(h), "endpoint_opened");
        const endpoint_handle opened = ep->handle;
        if (discover) {
            // The first messages on the owner's to_client ring: umpd's Endpoint Discovery.
            auto& disc = *discoveries.at(opened);
            apply_discovery(opened, disc.start(std::chrono::steady_clock::now()));
            ep = reg->endpoint_by_handle(opened);  // the declaration changed (pending)
        }
        const device* d = reg->device_of(ep->handle);
        r.result = {{"connection", h},
                    {"endpoint", endpoint_json(*d, *ep)},
                    {"to_service_words", to_service},
                    {"to_client_words", to_client},
                    {"max_schedule_ahead_ns",
                     std::chrono::duration_cast<std::chrono::nanoseconds>(current.limits.max_schedule_ahead).count()}};
        // The fds stay valid: the router holds the region and the wakes.
        r.fds = {region->fd(), service_wake->fd(), client_wake->fd()};
    }

    void op_close(client& c, const json& req, reply& r) {
        std::uint64_t h = 0;
        bool present = false;
        if (!read_uint(req, "connection", true, h, present, r)) return;
        auto it = connections.find(static_cast<connection_handle>(h));
        if (h > UINT32_MAX || it == connections.end() || it->second.client_fd != c.fd.get()) {
            r.fail("not_found", "no connection " + std::to_string(h) + " on this client");
            return;
        }
        const connection gone = it->second;
        (void)data->remove_connection(it->first);
        connections.erase(it);
        tell_owner(gone, "endpoint_closed");
    }

    // ---- app-owned devices ---------------------------------------------------------

    // Tells the application owning k's endpoint that a client opened or closed k.
    void tell_owner(const connection& k, const char* what) {
        if (k.owner || k.endpoint == 0) return;
        const device* d = reg->device_of(k.endpoint);
        if (!d || !d->app_owned) return;
        auto o = app_owners.find(d->handle);
        if (o == app_owners.end() || o->second == k.client_fd) return;
        auto c = clients.find(o->second);
        if (c == clients.end()) return;
        std::size_t users = 0;
        for (const auto& [h, other] : connections) users += other.endpoint == k.endpoint && !other.owner ? 1 : 0;
        send_to(*c->second, json{{"v", ipc::protocol_version},
                                 {"event", what},
                                 {"endpoint", reg->endpoint_by_handle(k.endpoint)->id},
                                 {"connection", k.handle},
                                 {"clients", users}});
    }

    void update_app_driver_status() {
        reg->add_driver({std::string(app_driver_name), "running", std::to_string(app_owners.size()) + " devices"});
    }

    void remove_app_device(device_handle d) {
        const device* dev = reg->device_by_handle(d);
        const std::string id = dev ? dev->id : "?";
        app_owners.erase(d);
        if (auto ec = reg->remove_device(d)) log_line("cannot remove app device %s: %s", id.c_str(), ec.message().c_str());
        else log_line("app device %s removed", id.c_str());
        update_app_driver_status();
    }

    // A field of an object that must be a string/bool/integer/array/object when present.
    static bool optional_field(const json& o, const char* key, json::value_t type, const std::string& where,
                               reply& r) {
        auto it = o.find(key);
        if (it == o.end()) return true;
        const bool ok = type == json::value_t::number_unsigned
                            ? (it->is_number_unsigned() || (it->is_number_integer() && it->get<std::int64_t>() >= 0))
                            : it->type() == type;
        if (!ok) {
            const char* want = type == json::value_t::string          ? "a string"
                               : type == json::value_t::boolean       ? "a boolean"
                               : type == json::value_t::array         ? "an array"
                               : type == json::value_t::object        ? "an object"
                                                                      : "a non-negative integer";
            r.fail("bad_request", where + "field '" + key + "' must be " + want + ", got " + it->type_name());
        }
        return ok;
    }

    // An integer field within [lo, hi] (or absent: `fallback`).
    static bool bounded(const json& o, const char* key, std::uint64_t lo, std::uint64_t hi, std::uint64_t fallback,
                        std::uint64_t& out, const std::string& where, reply& r) {
        if (!optional_field(o, key, json::value_t::number_unsigned, where, r)) return false;
        out = o.contains(key) ? o.at(key).get<std::uint64_t>() : fallback;
        if (out < lo || out > hi) {
            r.fail("invalid_argument", where + "field '" + key + "' must be within " + std::to_string(lo) + ".." +
                                           std::to_string(hi) + ", got " + std::to_string(out));
            return false;
        }
        return true;
    }

    // Function blocks as the protocol writes them (publish_device, set_function_blocks).
    static bool parse_function_blocks(const json& arr, const std::string& where,
                                      std::vector<function_block_declaration>& out, reply& r) {
        if (!arr.is_array()) {
            r.fail("bad_request", where + "field 'function_blocks' must be an array");
            return false;
        }
        if (arr.size() > max_function_blocks) {
            r.fail("invalid_argument", where + "at most " + std::to_string(max_function_blocks) + " function blocks");
            return false;
        }
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const json& b = arr[i];
            const std::string w = where + "function_blocks[" + std::to_string(i) + "]: ";
            if (!b.is_object()) {
                r.fail("bad_request", w + "must be an object");
                return false;
            }
            for (auto [key, type] : {std::pair{"name", json::value_t::string}, std::pair{"direction", json::value_t::string},
                                     std::pair{"ui_hint", json::value_t::string}, std::pair{"midi1", json::value_t::string},
                                     std::pair{"active", json::value_t::boolean}})
                if (!optional_field(b, key, type, w, r)) return false;
            function_block_declaration fb;
            fb.name = b.value("name", std::string());
            std::uint64_t first = 0, count = 0, ci = 0, sysex8 = 0;
            if (!bounded(b, "first_group", 1, 16, 1, first, w, r) || !bounded(b, "groups", 1, 16, 1, count, w, r) ||
                !bounded(b, "midi_ci_version", 0, 255, 0, ci, w, r) || !bounded(b, "sysex8_streams", 0, 255, 0, sysex8, w, r))
                return false;
            if (first + count - 1 > 16) {
                r.fail("invalid_argument", w + "groups " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                                               " are not within 1..16");
                return false;
            }
            fb.first_group = static_cast<std::uint8_t>(first - 1);
            fb.group_count = static_cast<std::uint8_t>(count);
            fb.midi_ci_version = static_cast<std::uint8_t>(ci);
            fb.sysex8_streams = static_cast<std::uint8_t>(sysex8);
            const auto dir = parse_block_direction(b.value("direction", std::string("bidirectional")));
            if (!dir) {
                r.fail("invalid_argument", w + "direction must be \"input\", \"output\" or \"bidirectional\"");
                return false;
            }
            fb.direction = *dir;
            // The hint defaults to what the direction says.
            const auto hint = b.contains("ui_hint") ? parse_ui_hint(b.at("ui_hint").get<std::string>())
                                                    : std::optional{default_ui_hint(*dir)};
            if (!hint) {
                r.fail("invalid_argument", w + "ui_hint must be \"unknown\", \"receiver\", \"sender\" or \"sender_receiver\"");
                return false;
            }
            fb.ui_hint = *hint;
            const auto m1 = parse_block_midi1(b.value("midi1", std::string("no")));
            if (!m1) {
                r.fail("invalid_argument", w + "midi1 must be \"no\", \"unrestricted\" or \"restricted\"");
                return false;
            }
            fb.midi1 = *m1;
            fb.active = b.value("active", true);
            out.push_back(std::move(fb));
        }
        return true;
    }

    // Parses one entry of publish_device's `ports`. False (and the reply failed) when it is wrong.
    static bool parse_app_port(const json& p, std::size_t index, port_spec& spec, endpoint_declaration& desc,
                               bool& declared, reply& r) {
        const std::string where = "ports[" + std::to_string(index) + "]: ";
        if (!p.is_object()) {
            r.fail("bad_request", where + "must be an object");
            return false;
        }
        for (auto [key, type] : {std::pair{"name", json::value_t::string}, std::pair{"protocol", json::value_t::string},
                                 std::pair{"endpoint_info", json::value_t::object},
                                 std::pair{"function_blocks", json::value_t::array},
                                 std::pair{"product_instance_id", json::value_t::string},
                                 std::pair{"device_identity", json::value_t::object}})
            if (!optional_field(p, key, type, where, r)) return false;
        spec.name = p.value("name", std::string());
        if (spec.name.empty()) spec.name = "Port " + std::to_string(index + 1);
        const std::string proto = p.value("protocol", std::string("midi2"));
        auto parsed = parse_protocol(proto);
        if (!parsed) {
            r.fail("invalid_argument", where + "protocol must be \"midi1\" or \"midi2\", got \"" + proto + "\"");
            return false;
        }
        spec.protocol = *parsed;
        desc.name = spec.name;
        desc.midi2 = *parsed == ump_protocol::midi2;
        desc.info.midi2_protocol = desc.midi2;
        desc.info.midi1_protocol = !desc.midi2;
        desc.info.static_function_blocks = true;
        declared = p.contains("endpoint_info") || p.contains("function_blocks");
        if (auto it = p.find("endpoint_info"); it != p.end()) {
            const std::string w = where + "endpoint_info: ";
            for (const char* key : {"midi1", "midi2", "rx_jr", "tx_jr", "static_function_blocks"})
                if (!optional_field(*it, key, json::value_t::boolean, w, r)) return false;
            if (!optional_field(*it, "ump_version", json::value_t::array, w, r)) return false;
            desc.info.midi1_protocol = it->value("midi1", desc.info.midi1_protocol);
            desc.info.midi2_protocol = it->value("midi2", desc.info.midi2_protocol);
            desc.info.rx_jr_timestamps = it->value("rx_jr", false);
            desc.info.tx_jr_timestamps = it->value("tx_jr", false);
            desc.info.static_function_blocks = it->value("static_function_blocks", true);
            if (auto v = it->find("ump_version"); v != it->end()) {
                if (v->size() != 2 || !(*v)[0].is_number_unsigned() || !(*v)[1].is_number_unsigned() ||
                    (*v)[0].get<std::uint64_t>() > 255 || (*v)[1].get<std::uint64_t>() > 255) {
                    r.fail("invalid_argument", w + "ump_version must be [major, minor], e.g. [1, 1]");
                    return false;
                }
                desc.info.ump_version_major = (*v)[0].get<std::uint8_t>();
                desc.info.ump_version_minor = (*v)[1].get<std::uint8_t>();
            }
        }
        desc.product_instance_id = p.value("product_instance_id", std::string());
        if (auto it = p.find("device_identity"); it != p.end()) {
            const std::string w = where + "device_identity: ";
            core::device_identity_fields id;
            auto bytes = [&](const char* key, std::uint8_t* out, std::size_t n) {
                auto a = it->find(key);
                if (a == it->end()) return true;
                bool ok = a->is_array() && a->size() == n;
                for (std::size_t i = 0; ok && i < n; ++i) {
                    ok = (*a)[i].is_number_unsigned() && (*a)[i].get<std::uint64_t>() <= 0x7F;
                    if (ok) out[i] = (*a)[i].get<std::uint8_t>();
                }
                if (!ok) r.fail("invalid_argument", w + key + " must be an array of " + std::to_string(n) + " bytes 0..127");
                return ok;
            };
            std::uint64_t family = 0, model = 0;
            if (!bytes("manufacturer", id.manufacturer.data(), 3) || !bytes("software_revision", id.software_revision.data(), 4) ||
                !bounded(*it, "family", 0, 0x3FFF, 0, family, w, r) || !bounded(*it, "model", 0, 0x3FFF, 0, model, w, r))
                return false;
            id.family = static_cast<std::uint16_t>(family);
            id.model = static_cast<std::uint16_t>(model);
            desc.identity = id;
        }
        if (auto it = p.find("function_blocks"); it != p.end())
            if (!parse_function_blocks(*it, where, desc.function_blocks, r)) return false;
        return true;
    }

    void op_publish_device(client& c, const json& req, reply& r) {
        device_spec spec;
        spec.driver = std::string(app_driver_name);
        spec.app_owned = true;
        spec.model = "App Device";
        spec.manufacturer = c.name;
        if (!read_string(req, "name", true, spec.name, r) ||
            !read_string(req, "manufacturer", false, spec.manufacturer, r) ||
            !read_string(req, "model", false, spec.model, r))
            return;
        if (spec.name.empty()) {
            r.fail("invalid_argument", "the device name must not be empty");
            return;
        }
        auto ports = req.find("ports");
        if (ports == req.end() || !ports->is_array()) {
            r.fail("bad_request", "missing field 'ports' (an array of port objects)");
            return;
        }
        if (ports->empty()) {
            r.fail("invalid_argument", "a published device needs at least one port");
            return;
        }
        for (std::size_t i = 0; i < ports->size(); ++i) {
            port_spec ps;
            app_endpoint_description desc;
            bool declared = false;
            if (!parse_app_port((*ports)[i], i, ps, desc, declared, r)) return;
            ps.number = static_cast<std::uint32_t>(i + 1);
            if (std::string error = validate(desc); !error.empty()) {
                r.fail("invalid_argument", "ports[" + std::to_string(i) + "]: " + error);
                return;
            }
            // Declared: umpd answers discovery for it (on endpoint_added, sync_discovery).
            desc.answered_by_umpd = declared;
            ps.declared = std::move(desc);
            spec.ports.push_back(std::move(ps));
        }
        device_handle h = 0;
        if (auto ec = reg->add_device(spec, &h)) {
            r.fail(protocol_error_code(ec), ec == make_error_code(service_errc::limit)
                                                ? "limits.max_ports_per_device or limits.max_endpoints reached"
                                                : ec.message());
            return;
        }
        app_owners[h] = c.fd.get();
        const device* d = reg->device_by_handle(h);
        for (std::size_t i = 0; i < d->endpoints.size() && i < spec.ports.size(); ++i) {
            const endpoint& ep = d->endpoints[i];
            if (!ep.declared.answered_by_umpd)
                discoveries.emplace(ep.handle, std::make_unique<endpoint_discovery>(
                                                   ep.declared, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                    current.limits.discovery_timeout)));
        }
        update_app_driver_status();
        log_line("client %s (pid %d) published device %s (%zu ports)", c.name.c_str(), static_cast<int>(c.pid),
                 d->id.c_str(), d->endpoints.size());
        r.result = device_json(*d);
    }

    void op_unpublish_device(client& c, const json& req, reply& r) {
        std::string ref;
        if (!read_string(req, "device", true, ref, r)) return;
        const device* d = resolve_device(ref, r);
        if (!d) return;
        auto it = app_owners.find(d->handle);
        if (it == app_owners.end() || it->second != c.fd.get()) {
            r.fail("invalid_argument", d->id + " is not a device this client published");
            return;
        }
        remove_app_device(d->handle);
    }

    // Refuses user-client changes to app-owned devices: their application declared them.
    bool refuse_app_device(const device* d, reply& r) {
        if (!d || !d->app_owned) return false;
        r.fail("invalid_argument", d->id + " is published by an application: only it may change it (unpublish and publish again)");
        return true;
    }

    void op_add_port(const json& req, reply& r) {
        std::string ref, name, proto_text = "midi2";
        if (!read_string(req, "device", true, ref, r) || !read_string(req, "name", false, name, r) ||
            !read_string(req, "protocol", false, proto_text, r))
            return;
        auto proto = parse_protocol(proto_text);
        if (!proto) {
            r.fail("invalid_argument", "protocol must be \"midi1\" or \"midi2\", got \"" + proto_text + "\"");
            return;
        }
        const device* d = resolve_device(ref, r);
        if (!d || refuse_app_device(d, r)) return;
        if (is_loopback(d->kind)) {
            r.fail("invalid_argument", d->id + " is a loopback: its endpoints are fixed");
            return;
        }
        endpoint_handle e = 0;
        if (auto ec = reg->add_port(d->handle, {name, *proto, 0}, &e)) {
            r.fail(protocol_error_code(ec), ec == make_error_code(service_errc::limit)
                                                ? "limits.max_ports_per_device or limits.max_endpoints reached"
                                                : ec.message());
            return;
        }
        save();
        r.result = endpoint_json(*reg->device_of(e), *reg->endpoint_by_handle(e));
    }

    void op_remove_port(const json& req, reply& r) {
        std::string ref;
        if (!read_string(req, "endpoint", true, ref, r)) return;
        const endpoint* ep = resolve_endpoint(ref, r);
        if (!ep) return;
        const device* d = reg->device_of(ep->handle);
        if (refuse_app_device(d, r)) return;
        if (is_loopback(d->kind)) {
            r.fail("invalid_argument", ep->id + " belongs to a loopback: use remove_loopback");
            return;
        }
        if (auto ec = reg->remove_port(ep->handle)) {
            r.fail(protocol_error_code(ec), ec.message());
            return;
        }
        save();
    }

    void op_set_offline(const json& req, reply& r) {
        std::string ref;
        bool offline = false;
        if (!read_string(req, "device", true, ref, r) || !read_bool(req, "offline", offline, r)) return;
        const device* d = resolve_device(ref, r);
        if (!d) return;
        const device_handle h = d->handle;
        if (auto ec = reg->set_offline(h, offline)) {
            r.fail(protocol_error_code(ec), ec.message());
            return;
        }
        log_line("device %s is %s", reg->device_by_handle(h)->id.c_str(), offline ? "offline" : "online");
        save();
        r.result = device_json(*reg->device_by_handle(h));
    }

    void op_rename(const json& req, reply& r) {
        std::string dev_ref, ep_ref, name;
        if (!read_string(req, "device", false, dev_ref, r) || !read_string(req, "endpoint", false, ep_ref, r) ||
            !read_string(req, "name", true, name, r))
            return;
        if (dev_ref.empty() == ep_ref.empty()) {
            r.fail("bad_request", "give exactly one of 'device' and 'endpoint'");
            return;
        }
        if (name.empty()) {
            r.fail("invalid_argument", "the new name must not be empty");
            return;
        }
        if (!ep_ref.empty()) {
            const endpoint* ep = resolve_endpoint(ep_ref, r);
            if (!ep || refuse_app_device(reg->device_of(ep->handle), r)) return;
            const endpoint_handle e = ep->handle;
            if (auto ec = reg->rename_port(e, name)) {
                r.fail(protocol_error_code(ec), ec.message());
                return;
            }
            save();
            r.result = endpoint_json(*reg->device_of(e), *reg->endpoint_by_handle(e));
            return;
        }
        const device* d = nullptr;
        if (auto ec = reg->find_device(dev_ref, d)) {
            r.fail(protocol_error_code(ec), describe_error(ec, "device", dev_ref));
            return;
        }
        if (refuse_app_device(d, r)) return;
        const device_handle h = d->handle;
        if (auto ec = reg->rename_device(h, name)) {
            r.fail(protocol_error_code(ec), ec.message());
            return;
        }
        save();
        r.result = device_json(*reg->device_by_handle(h));
    }

    void op_create_loopback(const json& req, reply& r) {
        std::string kind, name, name_b;
        if (!read_string(req, "kind", true, kind, r) || !read_string(req, "name", true, name, r) ||
            !read_string(req, "name_b", false, name_b, r))
            return;
        loopback_config lb;
        if (kind == "midi1") lb.kind = device_kind::loopback_midi1;
        else if (kind == "pair") lb.kind = device_kind::loopback_pair;
        else if (kind == "diagnostics") lb.kind = device_kind::loopback_diagnostics;
        else {
            r.fail("invalid_argument", "kind must be \"pair\", \"midi1\" or \"diagnostics\", got \"" + kind + "\"");
            return;
        }
        if (name.empty()) {
            r.fail("invalid_argument", "the name must not be empty");
            return;
        }
        if (lb.kind != device_kind::loopback_pair && !name_b.empty()) {
            r.fail("invalid_argument", "name_b is only for \"pair\" loopbacks");
            return;
        }
        lb.name = name;
        lb.name_b = lb.kind == device_kind::loopback_pair ? (name_b.empty() ? name + " B" : name_b) : "";
        device_handle h = 0;
        if (auto ec = virt->create_loopback(lb, &h)) {
            if (ec == make_error_code(service_errc::already_exists))
                r.fail("already_exists", "a device or endpoint named \"" + name + "\"" +
                                             (lb.name_b.empty() ? "" : " or \"" + lb.name_b + "\"") + " already exists");
            else r.fail(protocol_error_code(ec), ec.message());
            return;
        }
        save();
        r.result = device_json(*reg->device_by_handle(h));
    }

    void op_remove_loopback(const json& req, reply& r) {
        std::string ref;
        if (!read_string(req, "device", true, ref, r)) return;
        const device* d = resolve_device(ref, r);
        if (!d) return;
        if (!is_loopback(d->kind)) {
            r.fail("invalid_argument", d->id + " is not a loopback");
            return;
        }
        if (auto ec = virt->remove_loopback(d->handle)) {
            r.fail(protocol_error_code(ec), ec.message());
            return;
        }
        save();
    }

    // ---- endpoints, function blocks and MIDI 1.0 ports (issue #4) ------------------

    // Keeps umpd's answers to UMP discovery on an endpoint in line with its declaration.
    void sync_discovery(const std::string& endpoint_id) {
        const endpoint* ep = nullptr;
        if (reg->find_endpoint(endpoint_id, ep)) return;
        std::shared_ptr<const discovery_replies> replies;
        if (ep->declared.answered_by_umpd) {
            std::string error;
            replies = make_discovery_replies(ep->declared, error);
            if (!replies) log_line("endpoint %s: cannot answer discovery: %s", ep->id.c_str(), error.c_str());
        }
        if (auto ec = data->set_discovery_replies(ep->handle, std::move(replies)))
            log_line("endpoint %s: cannot install the discovery replies: %s", ep->id.c_str(), ec.message().c_str());
    }

    // ---- discovery of app-owned endpoints that declared nothing ----------------------

    // Sends what a discovery step asks to the endpoint's owner, logs why anything was
    // ignored, stores a changed declaration (endpoint_changed, discovery replies, ports).
    void apply_discovery(endpoint_handle e, const discovery_step& step) {
        const endpoint* ep = reg->endpoint_by_handle(e);
        auto d = discoveries.find(e);
        if (!ep || d == discoveries.end()) return;
        for (const std::string& line : step.log) log_line("%s: %s", ep->id.c_str(), line.c_str());
        if (!step.send.empty()) {
            for (const auto& [h, k] : connections) {
                if (!k.owner || k.endpoint != e) continue;
                if (auto ec = data->inject(h, step.send))
                    log_line("%s: cannot send discovery to the application: %s", ep->id.c_str(), ec.message().c_str());
                break;
            }
        }
        if (step.changed) {
            const discovery_state was = ep->declared.discovery;
            const discovery_state now = d->second->declaration().discovery;
            if (was != now && now != discovery_state::pending)
                log_line("%s: discovery %s", ep->id.c_str(), std::string(to_string(now)).c_str());
            if (auto ec = reg->set_declaration(e, d->second->declaration()))
                log_line("%s: cannot store the discovered declaration: %s", ep->id.c_str(), ec.message().c_str());
        }
        arm_discovery_timer();
    }

    // The owners' stream notifications the router captured for discovery.
    void take_captured() {
        std::vector<captured_packet> got;
        data->take_captured([&](const captured_packet& p) { got.push_back(p); });
        const auto now = std::chrono::steady_clock::now();
        for (const captured_packet& p : got) {
            auto d = discoveries.find(p.endpoint);
            if (d == discoveries.end()) continue;  // the endpoint is gone
            apply_discovery(p.endpoint, d->second->feed(p.packet, now));
        }
    }

    void discovery_deadlines() {
        std::uint64_t expirations = 0;
        [[maybe_unused]] const auto n = ::read(discovery_timer.get(), &expirations, sizeof expirations);
        const auto now = std::chrono::steady_clock::now();
        std::vector<endpoint_handle> due;
        for (const auto& [e, d] : discoveries)
            if (auto at = d->deadline(); at && *at <= now) due.push_back(e);
        for (endpoint_handle e : due)
            if (auto d = discoveries.find(e); d != discoveries.end()) apply_discovery(e, d->second->tick(now));
        arm_discovery_timer();
    }

    // Points the timerfd at the earliest deadline (steady_clock is CLOCK_MONOTONIC here).
    void arm_discovery_timer() {
        std::optional<std::chrono::steady_clock::time_point> next;
        for (const auto& [e, d] : discoveries)
            if (auto at = d->deadline(); at && (!next || *at < *next)) next = at;
        itimerspec spec{};
        if (next) {
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(next->time_since_epoch()).count();
            spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
            spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
            if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;  // 0 would disarm
        }
        (void)::timerfd_settime(discovery_timer.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
    }

    // Recomputes every endpoint's ports; subscribers hear of those that changed.
    void refresh_ports() {
        const auto changed = names.rebuild(naming_sources(*reg));
        for (const auto& id : changed)
            broadcast(json{{"v", ipc::protocol_version},
                           {"event", "ports_changed"},
                           {"endpoint", id},
                           {"ports", ports_json(names.index().ports_of(id))}});
        save_state();
        drivers_endpoints_changed();
    }

    void load_state() {
        if (options.state_path.empty()) return;
        std::ifstream in(options.state_path, std::ios::binary);
        if (!in) return;  // first start: no numbers yet
        std::ostringstream text;
        text << in.rdbuf();
        std::vector<naming::port_number_record> records;
        std::string error = parse_port_numbers(text.str(), records);
        if (error.empty())
            if (auto ec = names.numbers().restore(records)) error = ec.message();
        if (!error.empty()) {
            log_line("ignoring %s: %s (ports are numbered afresh)", options.state_path.c_str(), error.c_str());
            return;
        }
        numbers_saved = names.numbers().size();
    }

    void save_state() {
        if (options.state_path.empty() || names.numbers().size() == numbers_saved) return;
        if (auto ec = write_file_atomically(options.state_path, format_port_numbers(names.numbers().save()))) {
            log_line("cannot save %s: %s", options.state_path.c_str(), ec.message().c_str());
            return;
        }
        numbers_saved = names.numbers().size();
    }

    json port_json(const naming::indexed_port& p) const {
        return {{"number", p.number},
                {"direction", p.direction == naming::port_direction::source ? "in" : "out"},
                {"group", p.group_index + 1},
                {"name", p.shown},
                {"custom", p.custom},
                {"legacy", p.legacy},
                {"new_style", p.new_style},
                {"endpoint", p.endpoint},
                {"endpoint_name", names.endpoint_name(p.endpoint)}};
    }

    json ports_json(const naming::port_list& list) const {
        json out = json::array();
        for (const naming::indexed_port* p : list) out.push_back(port_json(*p));
        return out;
    }

    // "in" | "out" (required or optional); false and the reply failed when wrong.
    static bool read_direction(const json& req, bool required, std::optional<naming::port_direction>& out, reply& r) {
        std::string text;
        if (!read_string(req, "direction", required, text, r)) return false;
        if (text.empty() && !required) return true;
        if (text == "in") out = naming::port_direction::source;
        else if (text == "out") out = naming::port_direction::destination;
        else {
            r.fail("invalid_argument", "direction must be \"in\" or \"out\", got \"" + text + "\"");
            return false;
        }
        return true;
    }

    static json function_block_json(std::size_t i, const function_block_declaration& b) {
        return {{"block", i + 1},
                {"name", b.name},
                {"active", b.active},
                {"first_group", b.first_group + 1},
                {"groups", b.group_count},
                {"direction", std::string(to_string(b.direction))},
                {"ui_hint", std::string(to_string(b.ui_hint))},
                {"midi1", std::string(to_string(b.midi1))},
                {"midi_ci_version", b.midi_ci_version},
                {"sysex8_streams", b.sysex8_streams}};
    }

    json endpoint_info_json(const endpoint& ep) const {
        const endpoint_declaration& d = ep.declared;
        json identity;
        if (d.identity)
            identity = {{"manufacturer", d.identity->manufacturer},
                        {"family", d.identity->family},
                        {"model", d.identity->model},
                        {"software_revision", d.identity->software_revision}};
        json blocks = json::array();
        for (std::size_t i = 0; i < d.function_blocks.size(); ++i) blocks.push_back(function_block_json(i, d.function_blocks[i]));
        json gtbs = json::array();
        for (const auto& g : d.group_terminal_blocks)
            gtbs.push_back({{"name", g.name},
                            {"first_group", g.first_group + 1},
                            {"groups", g.group_count},
                            {"direction", std::string(to_string(g.direction))}});
        return {{"endpoint", endpoint_json(*reg->device_of(ep.handle), ep)},
                {"declared",
                 {{"ump_version", {d.info.ump_version_major, d.info.ump_version_minor}},
                  {"midi1", d.info.midi1_protocol},
                  {"midi2", d.info.midi2_protocol},
                  {"rx_jr", d.info.rx_jr_timestamps},
                  {"tx_jr", d.info.tx_jr_timestamps},
                  {"static_function_blocks", d.info.static_function_blocks},
                  {"name", d.name.empty() ? json() : json(d.name)},
                  {"product_instance_id", d.product_instance_id.empty() ? json() : json(d.product_instance_id)},
                  {"device_identity", identity},
                  {"protocol", d.midi2 ? "midi2" : "midi1"},
                  {"discovery", std::string(to_string(d.discovery))}}},
                {"function_blocks", blocks},
                {"group_terminal_blocks", gtbs},
                {"ump_only", d.ump_only},
                {"naming", std::string(naming::to_string(names.approach_of(ep.id)))}};
    }

    void op_endpoint_info(const json& req, reply& r) {
        std::string ref;
        if (!read_string(req, "endpoint", true, ref, r)) return;
        if (const endpoint* ep = resolve_endpoint(ref, r)) r.result = endpoint_info_json(*ep);
    }

    void op_set_function_blocks(const json& req, reply& r) {
        std::string ref;
        if (!read_string(req, "endpoint", true, ref, r)) return;
        auto it = req.find("function_blocks");
        if (it == req.end()) {
            r.fail("bad_request", "missing field 'function_blocks' (an array)");
            return;
        }
        std::vector<function_block_declaration> blocks;
        if (!parse_function_blocks(*it, "", blocks, r)) return;
        const endpoint* ep = resolve_endpoint(ref, r);
        if (!ep) return;
        const device* d = reg->device_of(ep->handle);
        if (d->driver != virtual_driver::driver_name || is_loopback(d->kind)) {
            r.fail("invalid_argument", ep->id + " is not a virtual device's port: its function blocks are its own");
            return;
        }
        endpoint_declaration next = ep->declared;
        next.function_blocks = blocks;
        if (std::string error = validate(next); !error.empty()) {
            r.fail("invalid_argument", error);
            return;
        }
        const endpoint_handle e = ep->handle;
        if (auto ec = reg->set_function_blocks(e, std::move(blocks))) {
            r.fail(protocol_error_code(ec), ec.message());
            return;
        }
        save();
        r.result = endpoint_info_json(*reg->endpoint_by_handle(e));
    }

    // An optional endpoint filter; "" when absent. False when given and unknown.
    bool read_endpoint_filter(const json& req, std::string& id, reply& r) {
        std::string ref;
        if (!read_string(req, "endpoint", false, ref, r)) return false;
        if (ref.empty()) return true;
        const endpoint* ep = resolve_endpoint(ref, r);
        if (!ep) return false;
        id = ep->id;
        return true;
    }

    // The group field, 1..16, as an index; false (and the reply failed) when wrong.
    static bool read_group(const json& req, bool required, std::optional<std::uint8_t>& out, reply& r) {
        std::uint64_t g = 0;
        bool present = false;
        if (!read_uint(req, "group", required, g, present, r)) return false;
        if (!present) return true;
        if (g < 1 || g > 16) {
            r.fail("invalid_argument", "group must be 1..16, got " + std::to_string(g));
            return false;
        }
        out = static_cast<std::uint8_t>(g - 1);
        return true;
    }

    void op_ports(const json& req, reply& r) {
        std::string id;
        std::optional<std::uint8_t> group;
        std::optional<naming::port_direction> dir;
        if (!read_endpoint_filter(req, id, r) || !read_group(req, false, group, r) || !read_direction(req, false, dir, r))
            return;
        json out = json::array();
        auto take = [&](const naming::indexed_port& p) {
            if ((!group || p.group_index == *group) && (!dir || p.direction == *dir)) out.push_back(port_json(p));
        };
        if (!id.empty()) {
            for (const naming::indexed_port* p : names.index().ports_of(id)) take(*p);
        } else {
            for (const auto& d : reg->devices())
                for (const auto& ep : d.endpoints)
                    for (const naming::indexed_port* p : names.index().ports_of(ep.id)) take(*p);
        }
        r.result = {{"ports", out}};
    }

    void op_find_ports(const json& req, reply& r) {
        std::string name;
        bool legacy_only = false;
        std::optional<naming::port_direction> dir;
        if (!read_string(req, "name", true, name, r) || !read_direction(req, false, dir, r)) return;
        if (req.contains("legacy_only") && !read_bool(req, "legacy_only", legacy_only, r)) return;
        const auto match = legacy_only ? naming::name_match::legacy_only : naming::name_match::any;
        json out = json::array();
        for (auto d : {naming::port_direction::source, naming::port_direction::destination}) {
            if (dir && *dir != d) continue;
            for (const naming::indexed_port* p : names.index().find_by_name(name, d, match)) out.push_back(port_json(*p));
        }
        r.result = {{"ports", out}};
    }

    void op_port_by_number(const json& req, reply& r) {
        std::uint64_t number = 0;
        bool present = false;
        std::optional<naming::port_direction> dir;
        if (!read_uint(req, "number", true, number, present, r) || !read_direction(req, true, dir, r)) return;
        const naming::indexed_port* p =
            number < naming::max_port_number ? names.index().find_by_number(static_cast<std::uint32_t>(number), *dir) : nullptr;
        if (!p) {
            r.fail("not_found", "no " + std::string(*dir == naming::port_direction::source ? "input" : "output") +
                                    " port number " + std::to_string(number));
            return;
        }
        r.result = {{"port", port_json(*p)}};
    }

    void op_rename_port(const json& req, reply& r) {
        std::string ref, name;
        std::optional<std::uint8_t> group;
        std::optional<naming::port_direction> dir;
        if (!read_string(req, "endpoint", true, ref, r) || !read_group(req, true, group, r) ||
            !read_direction(req, true, dir, r) || !read_string(req, "name", true, name, r))
            return;
        const endpoint* ep = resolve_endpoint(ref, r);
        if (!ep) return;
        const std::string id = ep->id;
        if (!names.index().port_of(id, *group, *dir)) {
            r.fail("not_found", id + " has no " + (*dir == naming::port_direction::source ? "input" : "output") +
                                    " port on group " + std::to_string(*group + 1));
            return;
        }
        (void)names.set_custom_name(id, *group, *dir, name);
        refresh_ports();
        save();
        r.result = port_json(*names.index().port_of(id, *group, *dir));
    }

    void op_set_naming(const json& req, reply& r) {
        std::string ref, text;
        if (!read_string(req, "endpoint", true, ref, r) || !read_string(req, "approach", true, text, r)) return;
        const auto approach = naming::parse_naming_approach(text);
        if (!approach) {
            r.fail("invalid_argument", "approach must be \"default\", \"classic\" or \"new-style\", got \"" + text + "\"");
            return;
        }
        const endpoint* ep = resolve_endpoint(ref, r);
        if (!ep) return;
        const std::string id = ep->id;
        (void)names.set_approach(id, *approach);
        refresh_ports();
        save();
        r.result = {{"ports", ports_json(names.index().ports_of(id))}};
    }

    void op_set_global_naming(const json& req, reply& r) {
        std::string text;
        if (!read_string(req, "naming", true, text, r)) return;
        const auto g = naming::parse_global_naming(text);
        if (!g) {
            r.fail("invalid_argument", "naming must be \"automatic\", \"classic\" or \"new-style\", got \"" + text + "\"");
            return;
        }
        names.set_global(*g);
        refresh_ports();
        save();
    }

    void op_reload(reply& r) {
        std::string error;
        if (!reload(error)) {
            log_line("reload failed, keeping the last good configuration: %s", error.c_str());
            r.fail("invalid_argument", error);
        }
    }
};

server::server(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
server::~server() = default;
bool server::start(std::string& message) { return impl_->start(message); }
int server::run() { return impl_->run(); }

}  // namespace umpd::service
