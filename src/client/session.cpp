// The control side of a client: the socket, requests and responses, events, the
// control thread and reconnection, and the receive thread.
#include "session.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "umpd/ipc/control.hpp"

namespace umpd::client::detail {

namespace {

constexpr std::size_t max_queued_events = 4096;

bool is_power_of_two(std::uint64_t v) noexcept { return v != 0 && (v & (v - 1)) == 0; }

// The eventfds come from another process; make sure drain() cannot block.
void make_nonblocking(int fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) == 0) (void)::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

error_info disconnected_error(const std::string& dir, const std::string& why) {
    return make_error(errc::disconnected, "not connected to umpd on " + dir + (why.empty() ? "" : " (" + why + ")") +
                                              "; the client keeps reconnecting");
}

}  // namespace

session::session(options o)
    : opts(std::move(o)), runtime_dir(opts.runtime_dir.empty() ? ipc::default_runtime_dir() : opts.runtime_dir) {}

session::~session() { shutdown(); }

server_info session::server() const {
    std::lock_guard l(mu_);
    return server_;
}

result<ipc::unique_fd> session::connect_socket() {
    ipc::unique_fd fd;
    const std::error_code ec = ipc::connect_control(runtime_dir, fd);
    if (!ec) return fd;
    const std::string path = ipc::control_socket_path(runtime_dir);
    if (ec == ipc::make_error_code(ipc::ipc_errc::not_running))
        return make_error(errc::not_running, "umpd is not running on " + runtime_dir + " (nothing listens on " + path +
                                                 "): start it with `umpd` or `systemctl --user start umpd`, or "
                                                 "give the runtime directory it uses");
    if (ec == std::errc::permission_denied)
        return make_error(errc::permission_denied, "cannot connect to " + path + ": permission denied (umpd of another user?)");
    return make_error(errc::not_running, "cannot connect to " + path + ": " + ec.message());
}

result<reply> session::handle_response(const json& j, std::vector<ipc::unique_fd> fds, const std::string& op) {
    const auto ok = j.find("ok");
    if (ok == j.end() || !ok->is_boolean())
        return make_error(errc::protocol_error, "umpd's answer to '" + op + "' has no \"ok\" field");
    if (ok->get<bool>()) {
        reply r;
        if (const auto res = j.find("result"); res != j.end() && res->is_object()) r.result = *res;
        else r.result = json::object();
        r.fds = std::move(fds);
        return r;
    }
    const auto err = j.find("error");
    std::string code = "internal";
    std::string message;
    if (err != j.end() && err->is_object()) {
        code = get_string(*err, "code");
        message = get_string(*err, "message");
    }
    if (message.empty()) message = "umpd refused '" + op + "' (" + code + ")";
    return make_error(errc_from_protocol(code), std::move(message));
}

result<reply> session::inline_request(int fd, const std::string& op, json fields) {
    json msg = fields.is_object() ? std::move(fields) : json::object();
    const std::int64_t id = next_id_++;
    msg["v"] = ipc::protocol_version;
    msg["id"] = id;
    msg["op"] = op;
    if (const auto ec = ipc::send_message(fd, msg.dump()); ec)
        return disconnected_error(runtime_dir, "sending '" + op + "': " + ec.message());
    const auto deadline = std::chrono::steady_clock::now() + opts.request_timeout;
    std::string text;
    std::vector<ipc::unique_fd> fds;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return make_error(errc::timeout, "umpd did not answer '" + op + "' within " +
                                                 std::to_string(opts.request_timeout.count()) + " ms");
        pollfd p{fd, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        if (const auto ec = ipc::receive_message(fd, text, fds); ec) {
            if (ec == ipc::make_error_code(ipc::ipc_errc::message_too_large) ||
                ec == ipc::make_error_code(ipc::ipc_errc::too_many_fds))
                continue;  // skipped; the socket stays usable
            return disconnected_error(runtime_dir, "waiting for the answer to '" + op + "': " + ec.message());
        }
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_object()) continue;
        if (j.contains("event")) {
            event e = parse_event(j, std::move(text));
            cache_.on_event(e);  // at once: delivery waits for the control thread
            std::lock_guard l(mu_);
            local_events_.push_back(std::move(e));
            continue;
        }
        const auto rid = j.find("id");
        if (rid == j.end() || !rid->is_number_integer() || rid->get<std::int64_t>() != id) continue;
        return handle_response(j, std::move(fds), op);
    }
}

result<void> session::hello(int fd) {
    auto r = inline_request(fd, "hello", json{{"client", opts.client_name}});
    if (!r) {
        if (r.code() == errc::disconnected)
            return make_error(errc::permission_denied,
                              "umpd on " + runtime_dir + " closed the connection during hello (is it running as another user?)");
        return r.error();
    }
    server_info s;
    s.server = get_string(r->result, "server");
    s.protocol = static_cast<int>(get_u64(r->result, "protocol"));
    s.pid = static_cast<std::int64_t>(get_u64(r->result, "pid"));
    if (s.protocol != ipc::protocol_version)
        return make_error(errc::unsupported_version, "umpd speaks protocol " + std::to_string(s.protocol) +
                                                         ", this SDK speaks " + std::to_string(ipc::protocol_version));
    std::lock_guard l(mu_);
    server_ = std::move(s);
    return {};
}

result<void> session::start() {
    if (const auto ec = ipc::wake::create(kick_); ec)
        return make_error(errc::internal, "cannot create an eventfd: " + ec.message());
    auto s = connect_socket();
    if (!s) return s.error();
    if (auto h = hello(s->get()); !h) return h;
    {
        std::lock_guard l(mu_);
        socket_ = std::move(*s);
        connected = true;
    }
    control_ = std::thread([self = shared_from_this()] { self->control_loop(); });
    return {};
}

void session::kick() noexcept {
    if (kick_.fd() >= 0) kick_.signal();
}

void session::shutdown() noexcept {
    std::vector<std::weak_ptr<connection_state>> conns;
    {
        std::lock_guard l(mu_);
        if (stopping_) return;
        stopping_ = true;
        conns = connections_;
        cv_.notify_all();
        events_cv_.notify_all();
    }
    kick();
    if (control_.joinable()) {
        if (std::this_thread::get_id() == control_.get_id()) control_.detach();
        else control_.join();
    }
    receiver_stopping_ = true;
    if (receiver_stop_.fd() >= 0) receiver_stop_.signal();
    if (receiver_.joinable()) {
        if (std::this_thread::get_id() == receiver_.get_id()) receiver_.detach();
        else receiver_.join();
    }
    for (auto& w : conns) {
        if (auto st = w.lock()) {
            st->open = false;
            st->live = false;
        }
    }
    {
        std::lock_guard l(receivers_mu_);
        receivers_.clear();
    }
    std::lock_guard l(mu_);
    socket_.reset();
    connected = false;
}

result<reply> session::request(const std::string& op, json fields) {
    if (std::this_thread::get_id() == control_id_.load()) {
        // A callback on the control thread: nobody else reads the socket now.
        int fd = -1;
        {
            std::lock_guard l(mu_);
            if (stopping_) return make_error(errc::closed, "the client is closed");
            if (!connected) return disconnected_error(runtime_dir, last_disconnect_);
            fd = socket_.get();
        }
        return inline_request(fd, op, std::move(fields));
    }
    std::unique_lock rl(request_mu_);
    std::unique_lock l(mu_);
    if (stopping_) return make_error(errc::closed, "the client is closed");
    if (!connected) return disconnected_error(runtime_dir, last_disconnect_);
    json msg = fields.is_object() ? std::move(fields) : json::object();
    const std::int64_t id = next_id_++;
    msg["v"] = ipc::protocol_version;
    msg["id"] = id;
    msg["op"] = op;
    waiting_id_ = id;
    reply_text_.reset();
    reply_fds_.clear();
    const std::uint64_t generation = generation_;
    // Sent under mu_ so the control thread cannot close the socket meanwhile.
    if (const auto ec = ipc::send_message(socket_.get(), msg.dump()); ec) {
        waiting_id_ = -1;
        return disconnected_error(runtime_dir, "sending '" + op + "': " + ec.message());
    }
    const bool answered = cv_.wait_for(l, opts.request_timeout,
                                       [&] { return reply_text_.has_value() || generation_ != generation || stopping_; });
    waiting_id_ = -1;
    if (!reply_text_) {
        if (stopping_) return make_error(errc::closed, "the client is closed");
        if (generation_ != generation) return disconnected_error(runtime_dir, last_disconnect_);
        (void)answered;
        return make_error(errc::timeout, "umpd did not answer '" + op + "' within " +
                                             std::to_string(opts.request_timeout.count()) + " ms");
    }
    std::string text = std::move(*reply_text_);
    std::vector<ipc::unique_fd> fds = std::move(reply_fds_);
    reply_text_.reset();
    reply_fds_.clear();
    l.unlock();
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error(errc::protocol_error, "umpd's answer to '" + op + "' is not a JSON object");
    return handle_response(j, std::move(fds), op);
}

// ---- the control thread --------------------------------------------------------------

void session::control_loop() {
    control_id_ = std::this_thread::get_id();
    std::string text;
    std::vector<ipc::unique_fd> fds;
    for (;;) {
        {
            std::lock_guard l(mu_);
            if (stopping_) break;
        }
        dispatch_local_events();
        if (!connected) {
            if (!opts.reconnect || !try_reconnect()) (void)kick_.wait(opts.reconnect_interval);
            continue;
        }
        pollfd p[2] = {{socket_.get(), POLLIN, 0}, {kick_.fd(), POLLIN, 0}};
        const int n = ::poll(p, 2, -1);
        if (n < 0) continue;
        if ((p[1].revents & POLLIN) != 0) kick_.drain();
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        if (const auto ec = ipc::receive_message(socket_.get(), text, fds); ec) {
            if (ec == ipc::make_error_code(ipc::ipc_errc::message_too_large) ||
                ec == ipc::make_error_code(ipc::ipc_errc::too_many_fds))
                continue;
            on_disconnect(ec == ipc::make_error_code(ipc::ipc_errc::peer_closed) ? "umpd closed the connection"
                                                                                  : ec.message());
            continue;
        }
        on_socket_message(text, fds);
    }
    control_id_ = std::thread::id{};
}

void session::on_socket_message(std::string& text, std::vector<ipc::unique_fd>& fds) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    if (j.contains("event")) {
        deliver_event(parse_event(j, std::move(text)));
        return;
    }
    const auto rid = j.find("id");
    if (rid == j.end() || !rid->is_number_integer()) return;
    std::lock_guard l(mu_);
    if (rid->get<std::int64_t>() != waiting_id_) return;  // a request that timed out
    reply_text_ = std::move(text);
    reply_fds_ = std::move(fds);
    waiting_id_ = -1;
    cv_.notify_all();
}

void session::on_disconnect(const std::string& why) {
    std::vector<std::weak_ptr<connection_state>> conns;
    {
        std::lock_guard l(mu_);
        socket_.reset();
        connected = false;
        ++generation_;
        last_disconnect_ = why;
        conns = connections_;
        cv_.notify_all();
    }
    for (auto& w : conns)
        if (auto st = w.lock()) st->live = false;
    event e;
    e.what = event::kind::disconnected;
    e.message = why;
    deliver_event(std::move(e));
}

bool session::try_reconnect() {
    auto s = connect_socket();
    if (!s) return false;
    const int fd = s->get();
    if (!hello(fd)) return false;
    bool resubscribe = false;
    std::vector<std::shared_ptr<connection_state>> conns;
    {
        std::lock_guard l(mu_);
        resubscribe = subscribed_;
        for (auto& w : connections_)
            if (auto st = w.lock(); st && st->open) conns.push_back(std::move(st));
    }
    if (resubscribe && !inline_request(fd, "subscribe", json::object())) return false;
    if (!republish(fd)) return false;
    // Re-open every connection. An open() racing with this may add one after the list
    // above was taken: keep going until a pass finds none left, and install the socket
    // under the same lock as that last look, so a later open() sees `connected` and
    // re-opens its own connection (see open()).
    std::vector<const connection_state*> done;
    for (;;) {
        for (auto& st : conns) {
            done.push_back(st.get());
            if (auto r = reopen(*st, fd); !r && (r.code() == errc::disconnected || r.code() == errc::timeout))
                return false;
        }
        std::lock_guard l(mu_);
        conns.clear();
        for (auto& w : connections_)
            if (auto st = w.lock(); st && st->open && std::find(done.begin(), done.end(), st.get()) == done.end())
                conns.push_back(std::move(st));
        if (conns.empty()) {
            socket_ = std::move(*s);
            connected = true;
            last_disconnect_.clear();
            break;
        }
    }
    event e;
    e.what = event::kind::reconnected;
    deliver_event(std::move(e));
    return true;
}

// Opens st's endpoint again (after umpd came back) and swaps in the new data path.
// fd >= 0: on that socket, inline (the reconnecting control thread); fd < 0: through
// the normal request path. On a refusal the connection is closed and the application
// told (connection_lost); disconnected/timeout are returned for the caller to retry.
result<void> session::reopen(connection_state& st, int fd) {
    json fields{{"endpoint", st.endpoint_key}};
    if (st.app_owner) fields["owner"] = true;
    if (st.requested_to_service_words != 0) fields["to_service_words"] = st.requested_to_service_words;
    if (st.requested_to_client_words != 0) fields["to_client_words"] = st.requested_to_client_words;
    auto r = fd >= 0 ? inline_request(fd, "open", std::move(fields)) : request("open", std::move(fields));
    if (!r && (r.code() == errc::disconnected || r.code() == errc::timeout)) return r.error();
    data_path p;
    result<void> attached = r ? attach(st, *r, p) : result<void>(r.error());
    if (!attached) {
        st.open = false;
        st.live = false;
        unregister_receiver(st);
        event e;
        e.what = event::kind::connection_lost;
        e.id = st.endpoint_key;
        e.message = "could not re-open " + st.endpoint_key + " after reconnecting: " + attached.message();
        deliver_event(std::move(e));
        return attached;
    }
    swap_path(st, std::move(p));
    return {};
}

bool session::republish(int fd) {
    std::vector<publication> pubs;
    {
        std::lock_guard l(mu_);
        pubs = publications_;
    }
    for (auto& p : pubs) {
        auto r = inline_request(fd, "publish_device", p.fields);
        if (!r) {
            if (r.code() == errc::disconnected || r.code() == errc::timeout) return false;
            continue;  // its owner connections fail to re-open: connection_lost tells the application
        }
        const std::string id = get_string(r->result, "id");
        if (id == p.device_id) continue;
        // Another device took the old id meanwhile: follow the new one.
        std::lock_guard l(mu_);
        for (auto& q : publications_)
            if (q.token == p.token) q.device_id = id;
        const std::string old_prefix = p.device_id + "/";
        for (auto& w : connections_) {
            auto st = w.lock();
            if (st && st->app_owner && st->endpoint_key.rfind(old_prefix, 0) == 0) {
                std::lock_guard k(st->swap_mu);  // senders and readers read it through key()
                st->endpoint_key = id + "/" + st->endpoint_key.substr(old_prefix.size());
            }
        }
    }
    return true;
}

std::uint64_t session::add_publication(json fields, std::string device_id, event_callback on_event) {
    std::lock_guard l(mu_);
    const std::uint64_t token = next_publication_++;
    publications_.push_back({token, std::move(fields), std::move(device_id), std::move(on_event)});
    return token;
}

result<void> session::unpublish(std::uint64_t token) {
    std::string id;
    {
        std::lock_guard l(mu_);
        auto it = std::find_if(publications_.begin(), publications_.end(),
                               [&](const publication& p) { return p.token == token; });
        if (it == publications_.end()) return make_error(errc::not_found, "the device is not published");
        id = it->device_id;
        publications_.erase(it);
        if (stopping_ || !connected) return {};  // umpd removed it with our socket
    }
    auto r = request("unpublish_device", json{{"device", id}});
    if (!r) return r.error();
    cache_.invalidate();
    return {};
}

void session::swap_path(connection_state& st, data_path p) {
    const int new_fd = p.client_wake.fd();
    const int old_fd = st.client_fd.load();
    {
        std::scoped_lock locks(st.send_mu, st.recv_mu, st.swap_mu);
        if (st.path.rings.to_service != nullptr) {
            const auto* ts = st.path.rings.to_service;
            const auto* tc = st.path.rings.to_client;
            st.base.sent += ts->messages_written.load(std::memory_order_relaxed);
            st.base.send_dropped_full += ts->dropped_full.load(std::memory_order_relaxed);
            st.base.rejected_malformed += ts->rejected_malformed.load(std::memory_order_relaxed);
            st.base.rejected_schedule += ts->rejected_schedule.load(std::memory_order_relaxed);
            st.base.receive_dropped_full += tc->dropped_full.load(std::memory_order_relaxed);
        }
        epoll_update(st, old_fd, -1);
        st.path = std::move(p);
        st.armed = false;
        st.client_fd = new_fd;
        st.connection_id = st.path.connection_id;
    }
    epoll_update(st, -1, new_fd);
    st.live = true;
    arm_or_signal(st);
}

namespace {

// Events umpd sends only to subscribed sockets (data_error and endpoint_opened/closed
// come unasked).
bool is_broadcast(const event& e) noexcept {
    if (e.json.empty()) return false;  // the client's own
    switch (e.what) {
    case event::kind::endpoint_added:
    case event::kind::endpoint_removed:
    case event::kind::endpoint_changed:
    case event::kind::device_added:
    case event::kind::device_changed:
    case event::kind::device_removed:
    case event::kind::configuration_change:
    case event::kind::ports_changed:
    case event::kind::transport_changed:
    case event::kind::unknown:
        return true;
    default:
        return false;
    }
}

}  // namespace

void session::deliver_event(event e) {
    // First the cache, so that the application's callback (and any reply read after
    // this event) finds it dropped.
    cache_.on_event(e);
    event_callback cb;
    {
        std::lock_guard l(mu_);
        // Only the cache asked for these: the application sees what it saw before.
        if (!app_subscribed_ && cache_subscribed_ && is_broadcast(e)) return;
        cb = on_event_;
        if (e.what == event::kind::endpoint_opened || e.what == event::kind::endpoint_closed) {
            for (const auto& p : publications_)
                if (p.on_event && e.id.rfind(p.device_id + "/", 0) == 0) cb = p.on_event;
        }
        if (!cb) {
            if (events_.size() >= max_queued_events) events_.pop_front();
            events_.push_back(std::move(e));
            events_cv_.notify_all();
            return;
        }
    }
    cb(e);
}

void session::post_event(event e) {
    if (std::this_thread::get_id() == control_id_.load()) {
        deliver_event(std::move(e));
        return;
    }
    {
        std::lock_guard l(mu_);
        local_events_.push_back(std::move(e));
    }
    kick();
}

void session::dispatch_local_events() {
    std::deque<event> pending;
    {
        std::lock_guard l(mu_);
        pending.swap(local_events_);
    }
    for (auto& e : pending) deliver_event(std::move(e));
}

result<void> session::subscribe(event_callback cb) {
    {
        std::lock_guard l(mu_);
        on_event_ = std::move(cb);
    }
    auto r = request("subscribe", json::object());
    if (!r) return r.error();
    std::lock_guard l(mu_);
    subscribed_ = true;
    app_subscribed_ = true;
    return {};
}

bool session::ensure_cache_subscription() {
    {
        std::lock_guard l(mu_);
        if (subscribed_) return true;
        // Set before the request: events that follow its reply must already be filtered.
        cache_subscribed_ = true;
    }
    if (!request("subscribe", json::object())) return false;
    std::lock_guard l(mu_);
    subscribed_ = true;
    return true;
}

result<std::shared_ptr<const port_catalog>> session::catalog() {
    const bool keep = ensure_cache_subscription();
    return cache_.get(
        [this]() -> result<std::vector<midi1_port>> {
            auto r = request("ports", json::object());
            if (!r) return r.error();
            return parse_ports_json(r->result.dump());
        },
        keep);
}

bool session::next_event(event& out, std::chrono::milliseconds timeout) {
    std::unique_lock l(mu_);
    if (!events_cv_.wait_for(l, timeout, [&] { return !events_.empty() || stopping_; }) || events_.empty()) return false;
    out = std::move(events_.front());
    events_.pop_front();
    return true;
}

// ---- connections -----------------------------------------------------------------------

result<void> session::attach(connection_state& st, reply& r, data_path& out) {
    const std::string& what = st.endpoint_key;
    if (r.fds.size() != 3)
        return make_error(errc::protocol_error, "umpd opened " + what + " but passed " + std::to_string(r.fds.size()) +
                                                    " file descriptors instead of 3");
    const std::uint64_t tsw = get_u64(r.result, "to_service_words");
    const std::uint64_t tcw = get_u64(r.result, "to_client_words");
    if (!is_power_of_two(tsw) || !is_power_of_two(tcw) || tsw > (1u << 30) || tcw > (1u << 30))
        return make_error(errc::protocol_error, "umpd opened " + what + " with ring sizes that are not powers of two");
    const auto ts_words = static_cast<std::uint32_t>(tsw);
    const auto tc_words = static_cast<std::uint32_t>(tcw);
    if (const auto ec = ipc::shm_region::map(std::move(r.fds[0]), ipc::connection_bytes(ts_words, tc_words), out.region); ec)
        return make_error(errc::protocol_error, "cannot map the shared memory of " + what + ": " + ec.message());
    if (const auto ec = ipc::attach_connection(out.region, out.rings); ec)
        return make_error(errc::protocol_error, "the shared memory of " + what + " is not laid out as agreed: " + ec.message());
    if (out.rings.to_service_words != ts_words || out.rings.to_client_words != tc_words)
        return make_error(errc::protocol_error, "the rings of " + what + " do not have the sizes umpd announced");
    out.writer = ipc::ring_writer(out.rings.to_service, out.rings.to_service_data, out.rings.to_service_words);
    out.reader = ipc::ring_reader(out.rings.to_client, out.rings.to_client_data, out.rings.to_client_words);
    make_nonblocking(r.fds[1].get());
    make_nonblocking(r.fds[2].get());
    out.service_wake = ipc::wake(std::move(r.fds[1]));
    out.client_wake = ipc::wake(std::move(r.fds[2]));
    out.connection_id = get_u64(r.result, "connection");
    out.max_schedule_ahead_ns = get_u64(r.result, "max_schedule_ahead_ns");
    return {};
}

void session::arm_or_signal(connection_state& st) noexcept {
    std::lock_guard l(st.recv_mu);
    if (st.path.rings.to_client == nullptr) return;
    // umpd only signals a consumer that announced it sleeps; if something is already
    // waiting, signal ourselves so the fd reads as ready.
    if (st.path.reader.prepare_to_sleep()) st.armed = true;
    else st.path.client_wake.signal();
}

result<connection> session::open(std::string_view endpoint, open_options o, bool owner) {
    json fields{{"endpoint", std::string(endpoint)}};
    if (owner) fields["owner"] = true;
    if (o.to_service_words != 0) fields["to_service_words"] = o.to_service_words;
    if (o.to_client_words != 0) fields["to_client_words"] = o.to_client_words;
    std::uint64_t generation = 0;
    {
        std::lock_guard l(mu_);
        generation = generation_;
    }
    auto r = request("open", std::move(fields));
    if (!r) return r.error();
    auto st = std::make_shared<connection_state>();
    st->owner = weak_from_this();
    if (const auto e = r->result.find("endpoint"); e != r->result.end()) st->endpoint = parse_endpoint(*e);
    st->endpoint_key = st->endpoint.id.empty() ? std::string(endpoint) : st->endpoint.id;
    st->requested_to_service_words = o.to_service_words;
    st->requested_to_client_words = o.to_client_words;
    st->app_owner = owner;
    st->on_receive = std::move(o.on_receive);
    data_path p;
    if (auto a = attach(*st, *r, p); !a) {
        (void)request("close", json{{"connection", get_u64(r->result, "connection")}});
        return a.error();
    }
    st->path = std::move(p);
    st->connection_id = st->path.connection_id;
    st->client_fd = st->path.client_wake.fd();
    // umpd went away after it opened this connection: if the reconnect has already
    // finished without seeing it, re-open it here; if it is still running, it will.
    bool stale = false;
    {
        std::lock_guard l(mu_);
        std::erase_if(connections_, [](const std::weak_ptr<connection_state>& w) { return w.expired(); });
        connections_.push_back(st);
        if (generation_ != generation) {
            st->live = false;
            stale = connected;
        }
    }
    if (st->on_receive) {
        ensure_receive_thread();
        register_receiver(st);
    }
    if (stale) {
        if (auto re = reopen(*st, -1); !re && st->open) st->live = false;  // the next reconnect retries
    }
    arm_or_signal(*st);
    return connection(st);
}

void session::close_connection(connection_state& st) noexcept {
    if (!st.open.exchange(false)) return;
    st.live = false;
    unregister_receiver(st);
    {
        std::lock_guard l(mu_);
        std::erase_if(connections_, [&](const std::weak_ptr<connection_state>& w) {
            const auto p = w.lock();
            return !p || p.get() == &st;
        });
        if (stopping_ || !connected) return;
    }
    (void)request("close", json{{"connection", st.connection_id.load()}});
}

// ---- the receive thread ----------------------------------------------------------------

void session::ensure_receive_thread() {
    std::lock_guard l(receivers_mu_);
    if (receiver_.joinable() || receiver_stopping_) return;
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_ || ipc::wake::create(receiver_stop_)) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, receiver_stop_.fd(), &ev);
    receiver_ = std::thread([self = shared_from_this()] { self->receive_loop(); });
}

void session::register_receiver(const std::shared_ptr<connection_state>& st) {
    std::lock_guard l(receivers_mu_);
    if (!epoll_) return;
    st->receive_token = next_token_++;
    receivers_[st->receive_token] = st;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = st->receive_token;
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, st->client_fd.load(), &ev);
}

void session::unregister_receiver(connection_state& st) noexcept {
    std::lock_guard l(receivers_mu_);
    if (st.receive_token == 0) return;
    receivers_.erase(st.receive_token);
    if (epoll_ && st.client_fd >= 0) (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, st.client_fd.load(), nullptr);
    st.receive_token = 0;
}

void session::epoll_update(connection_state& st, int old_fd, int new_fd) noexcept {
    std::lock_guard l(receivers_mu_);
    if (st.receive_token == 0 || !epoll_) return;
    if (old_fd >= 0) (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, old_fd, nullptr);
    if (new_fd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = st.receive_token;
        (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, new_fd, &ev);
    }
}

void session::receive_loop() {
    receiver_id_ = std::this_thread::get_id();
    epoll_event events[32];
    while (!receiver_stopping_) {
        const int n = ::epoll_wait(epoll_.get(), events, 32, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < n; ++i) {
            const std::uint64_t token = events[i].data.u64;
            if (token == 0) return;
            std::shared_ptr<connection_state> st;
            {
                std::lock_guard l(receivers_mu_);
                if (const auto it = receivers_.find(token); it != receivers_.end()) st = it->second;
            }
            if (st) deliver(*st);
        }
    }
}

void session::deliver(connection_state& st) {
    std::unique_lock l(st.recv_mu);
    if (st.path.rings.to_client == nullptr) return;
    st.path.client_wake.drain();  // level-triggered: never leave it readable
    if (!st.live || !st.open) return;
    auto& reader = st.path.reader;
    timed_packet m;
    for (;;) {
        unsigned n = 0;
        for (;;) {
            const auto s = reader.read(m);
            if (s == ipc::read_status::empty) break;
            if (s == ipc::read_status::corrupt) {
                st.live = false;
                st.open = false;
                l.unlock();
                event e;
                e.what = event::kind::connection_lost;
                e.id = st.key();
                e.message = "the ring from umpd for " + e.id + " is corrupt; the connection was closed";
                post_event(std::move(e));
                return;
            }
            st.on_receive(m);
            if (++n % 64 == 0) reader.release();
        }
        if (reader.prepare_to_sleep()) break;  // releases what was read
    }
    st.armed = true;
}

}  // namespace umpd::client::detail
