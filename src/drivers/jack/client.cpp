// The JACK client: the control side (ports, names, reconnection) and the process
// callback that drives the real-time half in port_io.cpp. docs/jack.md has the design.
#include "umpd/jack/client.hpp"

#include <jack/jack.h>
#include <jack/metadata.h>
#include <jack/uuid.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "port_io.hpp"
#include "umpd/core/reassembly.hpp"
#include "umpd/naming/text.hpp"

namespace umpd::jack {
namespace {

using detail::port_state;

std::int64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// libjack reports through process-wide functions. The keeper's retries while the
// server is away would print the same complaint every retry_interval: messages from
// a thread that set `quiet_jack` are dropped, everything else goes to stderr.
thread_local bool quiet_jack = false;
void jack_error_sink(const char* msg) {
    if (!quiet_jack) std::fprintf(stderr, "jack: %s\n", msg);
}
void jack_info_sink(const char*) {}
std::once_flag jack_sinks_installed;

// An immutable list of the ports the process callback and send() work on, sorted by
// key. Replaced as a whole (an atomic pointer swap) on every port added or removed.
struct port_table {
    std::vector<port_state*> ports;

    [[nodiscard]] port_state* find(port_key key) const noexcept {
        const auto it = std::lower_bound(ports.begin(), ports.end(), key,
                                         [](const port_state* p, port_key k) { return p->key < k; });
        return it != ports.end() && (*it)->key == key ? *it : nullptr;
    }
};

// Tells the control thread when a reader (the process callback, or send()) can no
// longer hold a table that was just replaced: the reader marks itself busy before it
// loads the table pointer and counts a pass when it is done. All seq_cst, so a reader
// seen idle after the swap will load the new table.
struct reader_guard {
    std::atomic<bool> busy{false};
    std::atomic<std::uint64_t> passes{0};

    void enter() noexcept { busy.store(true, std::memory_order_seq_cst); }
    void leave() noexcept {
        passes.fetch_add(1, std::memory_order_seq_cst);
        busy.store(false, std::memory_order_seq_cst);
    }
    // Control thread, after the swap. False if the reader stayed inside one pass for
    // longer than `limit` (a stuck JACK thread): then the caller must not free.
    [[nodiscard]] bool wait_past(std::chrono::milliseconds limit) const {
        if (!busy.load(std::memory_order_seq_cst)) return true;
        const std::uint64_t seen = passes.load(std::memory_order_seq_cst);
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (busy.load(std::memory_order_seq_cst) && passes.load(std::memory_order_seq_cst) == seen) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        return true;
    }
};

void signal_fd(int fd) noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);  // EAGAIN: already signalled
}

// libjack's threads run with asynchronous cancellation, and when the server dies
// jack_client_close stops them with pthread_cancel. A cancel acted on while one of our
// noexcept functions is on the thread's stack ends the process in std::terminate
// (seen under load, in on_shutdown: "terminate called without an active exception").
// So every callback runs its body with cancellation disabled and restores the state
// as its very last step, in a frame of its own that is not noexcept: a pending cancel
// then unwinds from there straight into libjack. pthread_setcancelstate makes no
// system call and allocates nothing.
class cancellation_hold {
public:
    cancellation_hold() noexcept { (void)::pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old_); }
    [[nodiscard]] int previous() const noexcept { return old_; }

private:
    int old_ = PTHREAD_CANCEL_ENABLE;
};
inline void release_cancellation(const cancellation_hold& h) {  // not noexcept: see above
    (void)::pthread_setcancelstate(h.previous(), nullptr);
}

void drain_fd(int fd) noexcept {
    std::uint64_t v = 0;
    [[maybe_unused]] const ssize_t n = ::read(fd, &v, sizeof v);
}

}  // namespace

struct client::impl {
    explicit impl(client_config c) : cfg(std::move(c)), incoming(std::max<std::size_t>(cfg.incoming_capacity, 2)) {}
    ~impl() {
        if (notify_fd >= 0) ::close(notify_fd);
        if (keeper_fd >= 0) ::close(keeper_fd);
    }

    client_config cfg;

    // Control side. `mu` serialises the control thread and the keeper; the process
    // callback and send()/take() never take it.
    mutable std::mutex mu;
    jack_client_t* jc = nullptr;
    std::string actual_name;
    // A copy of the name for jack_client_name(), which must not wait for `mu` while the
    // keeper is inside a slow jack_client_close/open (a service's control loop asks).
    mutable std::mutex name_mu;
    std::string shown_name;  // guarded by name_mu; "" while not connected
    std::map<port_key, std::unique_ptr<port_state>> ports;
    std::unique_ptr<port_table> table_owner;
    std::thread keeper;
    bool running = false;

    // Shared with the process callback and the sender/receiver threads.
    std::atomic<jack_client_t*> jc_rt{nullptr};
    std::atomic<const port_table*> table{nullptr};
    reader_guard process_guard;
    reader_guard send_guard;
    detail::spsc_ring<incoming_message> incoming;
    int notify_fd = -1;
    int keeper_fd = -1;
    std::atomic<bool> stopping{false};
    std::atomic<bool> lost{false};
    std::atomic<bool> is_connected{false};
    std::atomic<std::int64_t> offset_ns{0};
    std::atomic<std::uint64_t> cycles{0};
    std::atomic<std::uint64_t> connects{0};
    std::atomic<std::uint64_t> losses{0};
    std::atomic<std::uint64_t> incoming_dropped{0};
    std::atomic<std::uint64_t> xruns{0};
    // The cycle listener: set with the process callback kept out (see set_cycle_listener).
    std::atomic<cycle_listener> listener{nullptr};
    std::atomic<void*> listener_user{nullptr};

    // --- the process thread -------------------------------------------------------

    // Not noexcept: see cancellation_hold.
    static int process(jack_nframes_t nframes, void* arg) {
        const cancellation_hold hold;
        static_cast<impl*>(arg)->process_cycle(nframes);
        release_cancellation(hold);
        return 0;
    }

    void process_cycle(jack_nframes_t nframes) noexcept {
        impl& s = *this;
        s.process_guard.enter();
        const port_table* t = s.table.load(std::memory_order_seq_cst);
        const detail::cycle_clock clock = s.clock_of(nframes);
        if (const cycle_listener fn = s.listener.load(std::memory_order_seq_cst)) {
            cycle_event e;
            e.start_ns = clock.start_ns;
            e.span_ns = clock.span_ns;
            e.frames = nframes;
            e.sample_rate = jack_get_sample_rate(s.jc_rt.load(std::memory_order_relaxed));
            fn(s.listener_user.load(std::memory_order_relaxed), e);
        }
        std::size_t pushed = 0;
        if (t != nullptr) {
            for (port_state* p : t->ports) {
                if (p->port == nullptr) continue;  // JACK refused it at the last (re)open
                if (p->is_source) {
                    p->write_cycle(clock, nframes);
                } else {
                    pushed += p->read_cycle(clock, nframes, s.incoming, s.incoming_dropped);
                }
            }
        }
        if (pushed > 0) signal_fd(s.notify_fd);  // the one system call: the wake-up
        s.cycles.store(s.cycles.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        s.process_guard.leave();
    }

    // JACK's time of this cycle, mapped to CLOCK_MONOTONIC nanoseconds.
    detail::cycle_clock clock_of(jack_nframes_t nframes) const noexcept {
        jack_client_t* c = jc_rt.load(std::memory_order_relaxed);
        jack_nframes_t current_frames = 0;
        jack_time_t current_us = 0;
        jack_time_t next_us = 0;
        float period_us = 0;
        if (jack_get_cycle_times(c, &current_frames, &current_us, &next_us, &period_us) != 0 ||
            next_us <= current_us) {
            current_us = jack_frames_to_time(c, jack_last_frame_time(c));
            const jack_nframes_t rate = jack_get_sample_rate(c);
            next_us = current_us + (rate ? jack_time_t{nframes} * 1'000'000 / rate : 1);
        }
        const std::int64_t off = offset_ns.load(std::memory_order_relaxed);
        detail::cycle_clock k;
        k.start_ns = static_cast<std::uint64_t>(static_cast<std::int64_t>(current_us * 1000) + off);
        k.span_ns = (next_us - current_us) * 1000;
        k.frames = nframes;
        return k;
    }

    // JACK's notification thread.
    static int on_xrun(void* arg) {  // not noexcept: see cancellation_hold
        const cancellation_hold hold;
        static_cast<impl*>(arg)->xruns.fetch_add(1, std::memory_order_relaxed);
        release_cancellation(hold);
        return 0;
    }

    // A JACK thread (notification or process): the server went away. Only flags and a
    // wake-up here; the keeper closes and reopens.
    static void on_shutdown(jack_status_t, const char*, void* arg) {  // not noexcept: see cancellation_hold
        const cancellation_hold hold;
        impl& s = *static_cast<impl*>(arg);
        s.is_connected.store(false);
        s.lost.store(true);
        signal_fd(s.keeper_fd);
        release_cancellation(hold);
    }

    // --- the control side (mu held) ----------------------------------------------

    // Publishes a new table of every known port and waits until no reader can hold the
    // old one. False when a reader seemed stuck: the old table is then leaked, never freed
    // under a reader (and the caller must not free a removed port either).
    bool publish_table_locked() {
        auto t = std::make_unique<port_table>();
        t->ports.reserve(ports.size());
        for (auto& [key, st] : ports) t->ports.push_back(st.get());
        table.store(t.get(), std::memory_order_seq_cst);
        std::unique_ptr<port_table> old = std::move(table_owner);
        table_owner = std::move(t);
        constexpr std::chrono::milliseconds limit{5000};
        const bool past = process_guard.wait_past(limit) && send_guard.wait_past(limit);
        if (!past) (void)old.release();
        return past;
    }

    // JACK's limit on "client:port" (with its terminating zero) leaves this for the port.
    // jackd2 1.9.21 reports jack_port_name_size() = 321 but stores only 256 bytes of a
    // full name, cutting blindly (inside a character too): never count on more than 256.
    [[nodiscard]] std::size_t short_name_budget() const {
        const auto full = std::min<std::size_t>(static_cast<std::size_t>(jack_port_name_size()), 256);
        const std::size_t used = actual_name.size() + 2;  // ':' and the zero
        return full > used ? full - used : 1;
    }

    [[nodiscard]] bool name_taken(const std::string& name, const port_state* except) const {
        for (const auto& [key, st] : ports) {
            if (st.get() != except && st->port != nullptr && st->registered_name == name) return true;
        }
        return false;
    }

    // The short name: the wanted name cut to JACK's limit on a character boundary; if
    // another port of the client has it (a source and a destination often share a
    // name), " (out)" or " (in)" from JACK's point of view, then a number.
    [[nodiscard]] std::string short_name_for(const port_state& st, std::string_view wanted) const {
        const std::size_t budget = short_name_budget();
        const auto cut = [&](std::string_view s, std::size_t suffix) {
            const std::size_t room = budget > suffix ? budget - suffix : 0;
            return std::string(naming::trim_text(core::utf8_truncate(s, room)));
        };
        std::string name = cut(wanted, 0);
        if (!name_taken(name, &st)) return name;
        const std::string dir = st.is_source ? " (out)" : " (in)";
        name = cut(wanted, dir.size()) + dir;
        for (unsigned n = 2; name_taken(name, &st) && n < 10000; ++n) {
            const std::string suffix = dir + " " + std::to_string(n);
            name = cut(wanted, suffix.size()) + suffix;
        }
        return name;
    }

    void set_alias_locked(port_state& st) {
        if (!st.alias.empty()) (void)jack_port_unset_alias(st.port, st.alias.c_str());
        st.alias.clear();
        const std::string& full = st.spec.full_name.empty() ? st.spec.name : st.spec.full_name;
        const std::string alias(core::utf8_truncate(full, static_cast<std::size_t>(jack_port_name_size()) - 1));
        if (jack_port_set_alias(st.port, alias.c_str()) == 0) st.alias = alias;
        // The metadata pretty-name: what newer JACK front ends show. Optional (a server
        // without a metadata store refuses it); the alias is the portable route.
        const jack_uuid_t uuid = jack_port_uuid(st.port);
        if (!jack_uuid_empty(uuid)) {
            (void)jack_set_property(jc, uuid, JACK_METADATA_PRETTY_NAME, full.c_str(), "text/plain");
        }
    }

    [[nodiscard]] std::error_code register_locked(port_state& st) {
        const std::string name = short_name_for(st, st.spec.name);
        const unsigned long flags = st.is_source ? JackPortIsOutput : JackPortIsInput;
        st.port = jack_port_register(jc, name.c_str(), JACK_DEFAULT_MIDI_TYPE, flags, 0);
        if (st.port == nullptr) return errc::register_failed;
        st.registered_name = name;
        st.alias.clear();
        set_alias_locked(st);
        return {};
    }

    void unregister_locked(port_state& st) {
        if (jc == nullptr || st.port == nullptr) return;
        const jack_uuid_t uuid = jack_port_uuid(st.port);
        if (!jack_uuid_empty(uuid)) (void)jack_remove_properties(jc, uuid);
        (void)jack_port_unregister(jc, st.port);
        st.port = nullptr;
    }

    // CLOCK_MONOTONIC − JACK time, from the closest of a few paired readings. jackd2
    // (1.9.21) reads CLOCK_MONOTONIC_RAW, which NTP does not slew: the two clocks start
    // apart and drift by up to some tens of microseconds a second, so the keeper
    // measures again every second (offset_refresh) while connected.
    void measure_offset() {
        std::int64_t best_gap = INT64_MAX;
        std::int64_t off = 0;
        for (int i = 0; i < 8; ++i) {
            const std::int64_t a = monotonic_ns();
            const auto j = static_cast<std::int64_t>(jack_get_time());
            const std::int64_t b = monotonic_ns();
            if (b - a < best_gap) {
                best_gap = b - a;
                off = (a + b) / 2 - j * 1000;
            }
        }
        offset_ns.store(off, std::memory_order_relaxed);
    }

    // jack_client_open only: reads nothing but cfg, so the keeper calls it without mu
    // (it can take a while when a server is half up).
    [[nodiscard]] jack_client_t* open_client() const {
        jack_status_t status{};
        const int options = JackNoStartServer | (cfg.server_name.empty() ? 0 : JackServerName);
        return cfg.server_name.empty()
                   ? jack_client_open(cfg.client_name.c_str(), static_cast<jack_options_t>(options), &status)
                   : jack_client_open(cfg.client_name.c_str(), static_cast<jack_options_t>(options), &status,
                                      cfg.server_name.c_str());
    }

    [[nodiscard]] std::error_code open_locked() { return adopt_locked(open_client()); }

    // Takes an opened client (null: none) into use: callbacks, every port, activation.
    [[nodiscard]] std::error_code adopt_locked(jack_client_t* c) {
        if (c == nullptr) return errc::server_unavailable;
        jc = c;
        actual_name = jack_get_client_name(c);
        {
            std::lock_guard name_lock(name_mu);
            shown_name = actual_name;
        }
        jack_set_process_callback(c, &impl::process, this);
        jack_on_info_shutdown(c, &impl::on_shutdown, this);
        jack_set_xrun_callback(c, &impl::on_xrun, this);
        measure_offset();
        // Every known port again, in key order; one JACK refuses stays unregistered
        // (the process callback skips it) rather than failing the whole reconnection.
        for (auto& [key, st] : ports) {
            st->port = nullptr;
            st->registered_name.clear();
        }
        for (auto& [key, st] : ports) (void)register_locked(*st);
        jc_rt.store(c, std::memory_order_seq_cst);
        if (jack_activate(c) != 0) {
            close_locked();
            return errc::server_unavailable;
        }
        is_connected.store(true);
        connects.fetch_add(1);
        return {};
    }

    void close_locked() {
        jack_client_t* c = detach_locked();
        if (c == nullptr) return;
        close_client(c);
        closed_locked();
    }

    // Closing in three steps so that the keeper can run the middle one (libjack's calls,
    // slow when the server died) without mu. While jc is null the control side treats
    // the client as absent: nothing is registered, renamed or unregistered in JACK.
    [[nodiscard]] jack_client_t* detach_locked() {
        jack_client_t* c = jc;
        if (c == nullptr) return nullptr;
        jc = nullptr;
        is_connected.store(false);
        {
            std::lock_guard name_lock(name_mu);
            shown_name.clear();
        }
        return c;
    }
    static void close_client(jack_client_t* c) {
        (void)jack_deactivate(c);
        (void)jack_client_close(c);  // joins JACK's threads: no callback runs after this
    }
    void closed_locked() {
        jc_rt.store(nullptr, std::memory_order_seq_cst);
        process_guard.busy.store(false, std::memory_order_seq_cst);
        for (auto& [key, st] : ports) {
            st->port = nullptr;
            st->registered_name.clear();
            st->alias.clear();
        }
    }

    // --- the keeper thread ---------------------------------------------------------

    static constexpr std::chrono::milliseconds offset_refresh{1000};

    void keeper_loop() {
        quiet_jack = true;  // retries while the server is away are not news
        while (!stopping.load()) {
            bool open = false;
            // libjack's open and close run without mu: the control side (a service's
            // control loop) must not wait for them.
            jack_client_t* dead = nullptr;
            if (lost.exchange(false)) {
                std::lock_guard lock(mu);
                dead = detach_locked();
            }
            if (dead != nullptr) {
                close_client(dead);
                std::lock_guard lock(mu);
                closed_locked();
                losses.fetch_add(1);
            }
            bool absent = false;
            {
                std::lock_guard lock(mu);
                absent = jc == nullptr && !stopping.load();
                open = jc != nullptr;
            }
            if (absent) {
                jack_client_t* c = open_client();
                std::lock_guard lock(mu);
                if (c != nullptr && (jc != nullptr || stopping.load())) {
                    close_client(c);  // stop() came first (or a client exists): not needed
                } else {
                    (void)adopt_locked(c);
                }
                open = jc != nullptr;
            }
            pollfd p{keeper_fd, POLLIN, 0};
            const int timeout = static_cast<int>(
                open ? offset_refresh.count() : std::max<std::int64_t>(cfg.retry_interval.count(), 1));
            if (::poll(&p, 1, timeout) > 0) drain_fd(keeper_fd);
            if (open && !lost.load()) measure_offset();
        }
    }
};

client::client(client_config config) : impl_(std::make_unique<impl>(std::move(config))) {}

client::~client() {
    stop();
    // No callback, no keeper: the table and the ports can go.
    impl_->table.store(nullptr);
}

std::error_code client::start() {
    impl& s = *impl_;
    if (s.cfg.outgoing_capacity == 0 || s.cfg.incoming_capacity == 0 || s.cfg.event_capacity < 16 ||
        s.cfg.client_name.empty()) {
        return errc::invalid_argument;
    }
    std::call_once(jack_sinks_installed, [] {
        jack_set_error_function(&jack_error_sink);
        jack_set_info_function(&jack_info_sink);
    });
    std::lock_guard lock(s.mu);
    if (s.running) return {};
    if (s.notify_fd < 0) s.notify_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s.keeper_fd < 0) s.keeper_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s.notify_fd < 0 || s.keeper_fd < 0) return errc::thread_failed;
    if (s.table_owner == nullptr) (void)s.publish_table_locked();
    const std::error_code ec = s.open_locked();
    if (ec && !s.cfg.wait_for_server) return ec;
    s.stopping.store(false);
    try {
        s.keeper = std::thread([&s] { s.keeper_loop(); });
    } catch (const std::system_error&) {
        s.close_locked();
        return errc::thread_failed;
    }
    s.running = true;
    return {};
}

void client::stop() {
    impl& s = *impl_;
    {
        std::lock_guard lock(s.mu);
        if (!s.running) return;
        s.running = false;
    }
    s.stopping.store(true);
    signal_fd(s.keeper_fd);
    if (s.keeper.joinable()) s.keeper.join();
    std::lock_guard lock(s.mu);
    s.close_locked();
}

std::error_code client::add_port(port_spec spec) {
    impl& s = *impl_;
    if (spec.name.empty() || spec.group_index > 15) return errc::invalid_argument;
    std::lock_guard lock(s.mu);
    if (s.ports.count(spec.key) != 0) return errc::duplicate_key;
    auto st = std::make_unique<port_state>(spec, s.cfg);
    if (s.jc != nullptr) {
        if (const std::error_code ec = s.register_locked(*st)) return ec;
    }
    s.ports.emplace(spec.key, std::move(st));
    (void)s.publish_table_locked();
    return {};
}

std::error_code client::remove_port(port_key key) {
    impl& s = *impl_;
    std::lock_guard lock(s.mu);
    const auto it = s.ports.find(key);
    if (it == s.ports.end()) return errc::unknown_port;
    std::unique_ptr<port_state> st = std::move(it->second);
    s.ports.erase(it);
    const bool past = s.publish_table_locked();
    s.unregister_locked(*st);
    if (!past) (void)st.release();  // a stuck reader may still hold it: leak, never free under it
    return {};
}

std::error_code client::rename_port(port_key key, std::string name, std::string full_name) {
    impl& s = *impl_;
    if (name.empty()) return errc::invalid_argument;
    std::lock_guard lock(s.mu);
    const auto it = s.ports.find(key);
    if (it == s.ports.end()) return errc::unknown_port;
    port_state& st = *it->second;
    st.spec.name = std::move(name);
    st.spec.full_name = std::move(full_name);
    if (s.jc == nullptr || st.port == nullptr) return {};  // applied at the next registration
    const std::string short_name = s.short_name_for(st, st.spec.name);
    if (short_name != st.registered_name) {
        if (jack_port_rename(s.jc, st.port, short_name.c_str()) != 0) return errc::rename_failed;
        st.registered_name = short_name;
    }
    s.set_alias_locked(st);
    return {};
}

bool client::connected() const noexcept { return impl_->is_connected.load(); }

std::string client::jack_client_name() const {
    std::lock_guard lock(impl_->name_mu);
    return impl_->shown_name;
}

std::optional<std::string> client::jack_port_name(port_key key) const {
    impl& s = *impl_;
    std::lock_guard lock(s.mu);
    const auto it = s.ports.find(key);
    if (it == s.ports.end() || s.jc == nullptr || it->second->port == nullptr) return std::nullopt;
    return std::string(::jack_port_name(it->second->port));
}

void client::set_cycle_listener(cycle_listener fn, void* user) {
    impl& s = *impl_;
    std::lock_guard lock(s.mu);
    // Off first and past any cycle running it, so `user` never pairs with another fn.
    s.listener.store(nullptr, std::memory_order_seq_cst);
    (void)s.process_guard.wait_past(std::chrono::milliseconds(5000));
    if (fn == nullptr) return;
    s.listener_user.store(user, std::memory_order_seq_cst);
    s.listener.store(fn, std::memory_order_seq_cst);
}

std::int64_t client::clock_offset_ns() const noexcept { return impl_->offset_ns.load(std::memory_order_relaxed); }

send_status client::send(port_key key, std::uint64_t timestamp_ns, const core::packet& p) noexcept {
    impl& s = *impl_;
    s.send_guard.enter();
    send_status result = send_status::ok;
    const port_table* t = s.table.load(std::memory_order_seq_cst);
    port_state* st = t != nullptr ? t->find(key) : nullptr;
    if (st == nullptr) {
        result = send_status::unknown_port;
    } else if (!st->is_source) {
        result = send_status::wrong_direction;
    } else if (!st->outgoing->push(detail::outgoing_message{timestamp_ns, p})) {
        detail::atomic_port_counters::bump(st->counters.dropped_full);
        result = send_status::full;
    }
    s.send_guard.leave();
    return result;
}

std::size_t client::take(std::span<incoming_message> out) noexcept {
    impl& s = *impl_;
    if (s.notify_fd >= 0) drain_fd(s.notify_fd);  // first: a push after this signals again
    std::size_t n = 0;
    while (n < out.size()) {
        const incoming_message* m = s.incoming.peek();
        if (m == nullptr) break;
        out[n++] = *m;
        s.incoming.pop();
    }
    if (!s.incoming.empty() && s.notify_fd >= 0) signal_fd(s.notify_fd);  // more than fitted
    return n;
}

int client::notify_fd() const noexcept { return impl_->notify_fd; }

std::optional<port_counters> client::counters(port_key key) const {
    impl& s = *impl_;
    std::lock_guard lock(s.mu);
    const auto it = s.ports.find(key);
    if (it == s.ports.end()) return std::nullopt;
    return it->second->counters.snapshot();
}

client_counters client::counters() const noexcept {
    const impl& s = *impl_;
    client_counters c;
    c.cycles = s.cycles.load(std::memory_order_relaxed);
    c.connects = s.connects.load();
    c.server_losses = s.losses.load();
    c.incoming_dropped = s.incoming_dropped.load(std::memory_order_relaxed);
    c.xruns = s.xruns.load(std::memory_order_relaxed);
    return c;
}

}  // namespace umpd::jack
