// The router thread and its hand-over with the control thread (see router.hpp).
//
// Layout of the state:
//   control side (control_mutex_):  maps from handles to the owned state objects, the
//       set of stopped devices, the epoll registrations of wake fds;
//   router side (router thread only, or the caller while the thread is not running):
//       the intrusive lists and arrays that link those objects, the scheduler, the
//       dirty list, the timer;
//   shared: the command queue (single producer: the control mutex holder; single
//       consumer: the router), the counters (relaxed atomics), the pending data
//       errors (atomics, see report()).
//
// Order: each pass samples the clock once, first delivers every scheduled message due
// at that time, then reads the connections; a message whose timestamp is not in the
// future goes out at once. So nothing read later overtakes a held message with an
// earlier or equal timestamp, and per connection equal or zero timestamps keep the
// order they were sent in (the scheduler breaks ties by arrival).
//
// Wake-ups: the service wake eventfds are registered with epoll by the control thread
// (before the add command; removed before the remove command). The router treats any
// wake as "look at every ring" and drains the fd; events are handled before the
// commands of the same round, so an fd is never read after its removal is acknowledged.
//
// Data errors of a connection that is removed before the control thread took them
// are dropped with it (nobody is left to tell).
#include "umpd/service/router.hpp"

#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "scheduler.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/core/packet.hpp"
#include "umpd/core/reader.hpp"
#include "umpd/service/registry.hpp"

namespace umpd::service {

namespace detail {

// How a message read from a connection is to be delivered (scheduled_message::route).
enum route : std::uint8_t {
    route_source = 0,    // per the endpoint's behaviour (loopback, diagnostics, pair; app_owned owner's writes)
    route_to_owner = 1,  // app_owned: a client's message to the owning application
    route_source_routed_early = 2,  // app_owned owner's write held for its time; its routes to
                                    // early-delivery endpoints were followed when it was read
};

// Which of an endpoint's routes follow_routes takes.
enum class route_pass : std::uint8_t { all, late_only, early_only };

inline constexpr std::size_t error_kinds = 5;  // data_error::kind enumerators

struct connection_state;
struct endpoint_state;

// One route (router::add_route): owned by the control side, linked into its `from`
// endpoint's list on the router side.
struct route_state {
    endpoint_state* from = nullptr;
    endpoint_state* to = nullptr;
    route_state* next = nullptr;  // router side: the next route out of `from`
    route_state* prev = nullptr;
};

struct endpoint_state {
    endpoint_handle handle = 0;
    device_handle device = 0;
    endpoint_behaviour behaviour = endpoint_behaviour::loopback;
    endpoint_handle peer_handle = 0;
    std::shared_ptr<const discovery_replies> discovery_owned;  // control side; read by the router through `discovery`

    // Router side.
    endpoint_state* peer = nullptr;
    connection_state* owner = nullptr;
    const discovery_replies* discovery = nullptr;  // answered here: not delivered (nor passed to an owner)
    bool capture = false;  // the owner's stream notifications go to the control thread (capture_stream)
    bool early = false;    // app_owned: messages for the owner are passed on when read (set_early_delivery)
    connection_state* first = nullptr;  // connections open on this endpoint
    route_state* routes = nullptr;      // routes out of this endpoint's source
    endpoint_state* next = nullptr;     // all endpoints
    endpoint_state* prev = nullptr;
    bool io_stopped = false;

    std::atomic<std::uint64_t> routed{0};
    std::atomic<std::uint64_t> dropped_full{0};
    std::atomic<std::uint64_t> rejected_malformed{0};
    std::atomic<std::uint64_t> rejected_schedule{0};
};

struct connection_state {
    router::connection_setup setup;  // keeps the region and the wakes alive
    ipc::ring_reader in;             // to_service
    ipc::ring_writer out;            // to_client
    ipc::ring_header* in_header = nullptr;
    endpoint_state* endpoint = nullptr;  // set before hand-over; router side after

    // Router side.
    connection_state* next_on_endpoint = nullptr;
    connection_state* prev_on_endpoint = nullptr;
    std::size_t active_index = 0;
    bool dirty = false;    // staged to_client messages to publish
    bool corrupt = false;  // the client broke the ring format: not read any more

    // Control side.
    bool detached = false;  // its endpoint was removed

    std::array<std::atomic<std::uint64_t>, error_kinds> pending_errors{};
};

}  // namespace detail

namespace {

using detail::connection_state;
using detail::endpoint_state;
using detail::route_state;
using detail::scheduled_message;

constexpr std::uint64_t tag_command = 1;
constexpr std::uint64_t tag_timer = 2;
constexpr std::uint64_t tag_wake = 3;
constexpr unsigned max_reads_per_pass = 256;  // per connection: keeps one busy client from starving others
constexpr std::size_t command_queue_size = 8;

[[nodiscard]] std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

[[nodiscard]] std::uint64_t make_tag(std::uint64_t tag, int fd) noexcept {
    return (tag << 32) | static_cast<std::uint32_t>(fd);
}

void drain_fd(int fd) noexcept {
    std::uint64_t v;
    [[maybe_unused]] const auto n = ::read(fd, &v, sizeof v);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
}

std::error_code errno_code() noexcept { return {errno, std::system_category()}; }

}  // namespace

struct router::impl {
    struct command {
        enum class kind : std::uint8_t {
            add_endpoint, remove_endpoint, add_connection, remove_connection, stop_io, start_io, set_discovery,
            set_capture, inject, add_route, remove_route, set_early
        };
        kind what = kind::add_endpoint;
        endpoint_state* endpoint = nullptr;
        endpoint_state* other = nullptr;  // add_endpoint of a pair: the peer, when it exists
        connection_state* connection = nullptr;
        device_handle device = 0;
        const discovery_replies* replies = nullptr;  // set_discovery
        bool flag = false;                           // set_capture, set_early
        const core::packet* packets = nullptr;       // inject: owned by the waiting caller
        std::size_t packet_count = 0;
        std::size_t* written = nullptr;              // inject: how many fitted
        route_state* route = nullptr;                // add_route, remove_route
    };

    explicit impl(router_limits l)
        : limits(l),
          captured(std::make_unique<captured_packet[]>(router::capture_capacity)),
          sched(l.schedule_capacity),
          parked(std::make_unique<scheduled_message[]>(l.schedule_capacity)),
          active(l.max_connections, nullptr),
          dirty(l.max_connections, nullptr),
          events(64) {
        epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
        timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
        if (!epoll || !timer) throw std::system_error(errno_code(), "router: epoll/timerfd");
        if (auto ec = ipc::wake::create(command_wake)) throw std::system_error(ec, "router: eventfd");
        if (auto ec = ipc::wake::create(notify)) throw std::system_error(ec, "router: eventfd");
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = make_tag(tag_command, command_wake.fd());
        if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, command_wake.fd(), &ev) != 0)
            throw std::system_error(errno_code(), "router: epoll_ctl");
        ev.data.u64 = make_tag(tag_timer, timer.get());
        if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, timer.get(), &ev) != 0)
            throw std::system_error(errno_code(), "router: epoll_ctl");
    }

    // ---- configuration, fds -------------------------------------------------------
    const router_limits limits;
    ipc::unique_fd epoll;
    ipc::unique_fd timer;
    ipc::wake command_wake;
    ipc::wake notify;

    // ---- control side (control_mutex) ---------------------------------------------
    mutable std::mutex control_mutex;
    std::unordered_map<endpoint_handle, std::unique_ptr<endpoint_state>> endpoints;
    std::unordered_map<connection_handle, std::unique_ptr<connection_state>> connections;
    std::size_t attached_connections = 0;
    std::unordered_set<device_handle> stopped_devices;
    std::unordered_map<int, unsigned> wake_registrations;  // fd → connections using it
    std::vector<std::unique_ptr<route_state>> routes;
    std::thread thread;
    bool running = false;
    std::uint32_t submitted = 0;

    // ---- shared ---------------------------------------------------------------------
    std::array<command, command_queue_size> queue{};
    std::atomic<std::uint32_t> queue_head{0};  // commands published
    std::atomic<std::uint32_t> completed{0};   // commands applied (futex word)
    std::atomic<bool> stop_requested{false};
    std::atomic<bool> errors_pending{false};
    // Captured stream messages: single producer (the router), single consumer (the
    // control thread, under control_mutex); indexes grow forever, slot = index % capacity.
    std::unique_ptr<captured_packet[]> captured;
    std::atomic<std::uint64_t> captured_head{0};  // written by the router
    std::atomic<std::uint64_t> captured_tail{0};  // written by the control thread
    std::atomic<bool> captured_pending{false};
    std::atomic<std::uint64_t> captured_dropped{0};

    std::atomic<std::uint64_t> messages_routed{0};
    std::atomic<std::uint64_t> dropped_full{0};
    std::atomic<std::uint64_t> rejected_malformed{0};
    std::atomic<std::uint64_t> rejected_schedule{0};
    std::atomic<std::uint64_t> scheduled_now{0};
    std::atomic<std::uint64_t> scheduled_discarded{0};
    std::atomic<std::uint64_t> route_loops{0};
    std::atomic<std::uint64_t> route_dropped{0};

    // ---- router side ----------------------------------------------------------------
    detail::scheduler sched;
    std::unique_ptr<scheduled_message[]> parked;  // due while their device was stopped, in order
    std::size_t parked_count = 0;
    std::vector<connection_state*> active;  // sized max_connections at construction
    std::size_t active_count = 0;
    std::vector<connection_state*> dirty;   // sized max_connections
    std::size_t dirty_count = 0;
    endpoint_state* first_endpoint = nullptr;
    std::uint32_t applied = 0;
    std::uint64_t armed_ns = 0;  // the timerfd's expiry, 0 = disarmed
    unsigned route_depth = 0;    // hops of the route chain being followed (loop guard)
    std::vector<epoll_event> events;

    // ================================================================================
    // Control side.

    // Hands one command to the router and waits until it is applied. control_mutex held.
    void submit(const command& c) {
        if (!running) {
            apply(c);
            return;
        }
        const std::uint32_t seq = ++submitted;
        queue[seq % command_queue_size] = c;
        queue_head.store(seq, std::memory_order_release);
        command_wake.signal();
        for (;;) {
            const std::uint32_t done = completed.load(std::memory_order_acquire);
            if (static_cast<std::int32_t>(done - seq) >= 0) break;
            futex_wait(completed, done);
        }
    }

    std::error_code register_wake(int fd) {
        unsigned& n = wake_registrations[fd];
        if (n == 0) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = make_tag(tag_wake, fd);
            if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
                const auto ec = errno_code();
                wake_registrations.erase(fd);
                return ec;
            }
        }
        ++n;
        return {};
    }

    void unregister_wake(int fd) {
        auto it = wake_registrations.find(fd);
        if (it == wake_registrations.end()) return;
        if (--it->second == 0) {
            ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
            wake_registrations.erase(it);
        }
    }

    // ================================================================================
    // Router side: applying commands (between batches).

    void apply(const command& c) noexcept {
        switch (c.what) {
        case command::kind::add_endpoint: {
            endpoint_state* e = c.endpoint;
            e->next = first_endpoint;
            if (first_endpoint) first_endpoint->prev = e;
            first_endpoint = e;
            if (c.other) {
                e->peer = c.other;
                c.other->peer = e;
            }
            break;
        }
        case command::kind::remove_endpoint: {
            endpoint_state* e = c.endpoint;
            const std::size_t dropped = sched.remove_if([e](const scheduled_message& m) { return m.endpoint == e; }) +
                                        remove_parked(e);
            if (dropped != 0) {
                scheduled_discarded.fetch_add(dropped, std::memory_order_relaxed);
                scheduled_now.store(sched.size() + parked_count, std::memory_order_relaxed);
            }
            while (e->first) unlink_connection(e->first);
            // Its routes both ways: out of it (the list is its own) and into it.
            for (route_state* rt = e->routes; rt; rt = rt->next) rt->prev = nullptr;
            e->routes = nullptr;
            for (endpoint_state* other = first_endpoint; other; other = other->next) {
                route_state* rt = other->routes;
                while (rt) {
                    route_state* following = rt->next;
                    if (rt->to == e) unlink_route(rt);
                    rt = following;
                }
            }
            if (e->peer) e->peer->peer = nullptr;
            e->peer = nullptr;
            if (e->prev) e->prev->next = e->next;
            else first_endpoint = e->next;
            if (e->next) e->next->prev = e->prev;
            e->next = e->prev = nullptr;
            break;
        }
        case command::kind::add_connection: {
            connection_state* k = c.connection;
            endpoint_state* e = k->endpoint;
            k->next_on_endpoint = e->first;
            k->prev_on_endpoint = nullptr;
            if (e->first) e->first->prev_on_endpoint = k;
            e->first = k;
            if (k->setup.owner) e->owner = k;
            k->active_index = active_count;
            active[active_count++] = k;
            break;
        }
        case command::kind::remove_connection:
            unlink_connection(c.connection);
            break;
        case command::kind::set_discovery:
            c.endpoint->discovery = c.replies;
            break;
        case command::kind::set_capture:
            c.endpoint->capture = c.flag;
            break;
        case command::kind::set_early:
            c.endpoint->early = c.flag;
            break;
        case command::kind::inject: {
            connection_state* k = c.connection;
            const std::uint64_t now = monotonic_ns();
            std::size_t n = 0;
            for (; n < c.packet_count; ++n) {
                const core::packet& p = c.packets[n];
                if (k->out.write(now, std::span<const std::uint32_t>(p.words.data(), p.size())) != ipc::write_status::ok)
                    break;
            }
            *c.written = n;
            if (n != 0 && !k->dirty) {
                k->dirty = true;
                dirty[dirty_count++] = k;
            }
            publish_dirty();
            break;
        }
        case command::kind::add_route: {
            route_state* rt = c.route;
            rt->prev = nullptr;
            rt->next = rt->from->routes;
            if (rt->next) rt->next->prev = rt;
            rt->from->routes = rt;
            break;
        }
        case command::kind::remove_route:
            unlink_route(c.route);
            break;
        case command::kind::stop_io:
            for (endpoint_state* e = first_endpoint; e; e = e->next)
                if (e->device == c.device) e->io_stopped = true;
            break;
        case command::kind::start_io: {
            // Messages that fell due while the device was stopped go first, in order.
            const std::uint64_t now = monotonic_ns();
            std::size_t kept = 0;
            for (std::size_t i = 0; i < parked_count; ++i) {
                const scheduled_message& m = parked[i];
                if (m.endpoint->device == c.device) deliver(m.endpoint, m.route, m.timestamp_ns, m.words, m.word_count, now);
                else parked[kept++] = m;
            }
            parked_count = kept;
            scheduled_now.store(sched.size() + parked_count, std::memory_order_relaxed);
            publish_dirty();
            for (endpoint_state* e = first_endpoint; e; e = e->next)
                if (e->device == c.device) e->io_stopped = false;
            break;
        }
        }
    }

    std::size_t remove_parked(const endpoint_state* e) noexcept {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < parked_count; ++i)
            if (parked[i].endpoint != e) parked[kept++] = parked[i];
        const std::size_t dropped = parked_count - kept;
        parked_count = kept;
        return dropped;
    }

    void unlink_route(route_state* rt) noexcept {
        if (rt->prev) rt->prev->next = rt->next;
        else rt->from->routes = rt->next;
        if (rt->next) rt->next->prev = rt->prev;
        rt->next = rt->prev = nullptr;
    }

    void unlink_connection(connection_state* k) noexcept {
        endpoint_state* e = k->endpoint;
        if (k->prev_on_endpoint) k->prev_on_endpoint->next_on_endpoint = k->next_on_endpoint;
        else e->first = k->next_on_endpoint;
        if (k->next_on_endpoint) k->next_on_endpoint->prev_on_endpoint = k->prev_on_endpoint;
        k->next_on_endpoint = k->prev_on_endpoint = nullptr;
        if (e->owner == k) e->owner = nullptr;
        connection_state* last = active[--active_count];
        active[k->active_index] = last;
        last->active_index = k->active_index;
        active[active_count] = nullptr;
    }

    // Applies every published command, then releases the waiting caller.
    void apply_commands() noexcept {
        const std::uint32_t head = queue_head.load(std::memory_order_acquire);
        if (head == applied) return;
        while (applied != head) {
            ++applied;
            apply(queue[applied % command_queue_size]);
        }
        completed.store(head, std::memory_order_release);
        futex_wake_all(completed);
    }

    [[nodiscard]] bool commands_pending() const noexcept {
        return queue_head.load(std::memory_order_acquire) != applied;
    }

    // ================================================================================
    // Router side: the data path. Real-time from here on.

    // Counts a data error for the control thread; wakes it once per report cycle.
    void report(connection_state* k, data_error::kind what) noexcept {
        k->pending_errors[static_cast<std::size_t>(what)].fetch_add(1, std::memory_order_release);
        if (!errors_pending.exchange(true, std::memory_order_acq_rel)) notify.signal();
    }

    // Queues one of an owner's stream notifications for the control thread.
    void capture(endpoint_state* e, const core::packet& p) noexcept {
        const std::uint64_t head = captured_head.load(std::memory_order_relaxed);
        if (head - captured_tail.load(std::memory_order_acquire) >= router::capture_capacity) {
            captured_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        captured[head % router::capture_capacity] = captured_packet{e->handle, p};
        captured_head.store(head + 1, std::memory_order_release);
        if (!captured_pending.exchange(true, std::memory_order_acq_rel)) notify.signal();
    }

    void write_to(connection_state* k, endpoint_state* from, std::uint64_t stamp, const std::uint32_t* words,
                  unsigned n) noexcept {
        const ipc::write_status s = k->out.write(stamp, std::span<const std::uint32_t>(words, n));
        if (s == ipc::write_status::ok) {
            if (!k->dirty) {
                k->dirty = true;
                dirty[dirty_count++] = k;
            }
            return;
        }
        // Full: the writer counted it in the ring header; never wait.
        from->dropped_full.fetch_add(1, std::memory_order_relaxed);
        dropped_full.fetch_add(1, std::memory_order_relaxed);
        report(k, data_error::kind::ring_full);
    }

    void write_all(connection_state* k, endpoint_state* e, std::uint64_t stamp,
                   const std::vector<core::packet>& packets) noexcept {
        for (const core::packet& p : packets) write_to(k, e, stamp, p.words.data(), p.size());
    }

    // A client's discovery request to an endpoint with declared replies (umpd's own,
    // or an app_owned one that declared): answered to that client alone. False when p is not such a request.
    bool answer_discovery(connection_state* k, endpoint_state* e, const core::packet& p, std::uint64_t now) noexcept {
        const discovery_replies* d = e->discovery;
        const auto stream = core::as_stream(p);
        if (!stream || stream->format() != core::packet_format::complete) return false;
        if (stream->status() == core::stream_status::endpoint_discovery) {
            const std::uint8_t filter = core::endpoint_discovery_view{p}.filter();
            if (filter & core::discover_endpoint_info) write_all(k, e, now, d->endpoint_info);
            if (filter & core::discover_device_identity) write_all(k, e, now, d->device_identity);
            if (filter & core::discover_endpoint_name) write_all(k, e, now, d->endpoint_name);
            if (filter & core::discover_product_instance_id) write_all(k, e, now, d->product_instance_id);
            if (filter & core::discover_stream_configuration) write_all(k, e, now, d->stream_configuration);
            return true;
        }
        if (stream->status() == core::stream_status::function_block_discovery) {
            const core::function_block_discovery_view v{p};
            for (const auto& b : d->function_blocks) {
                if (v.block() != core::all_function_blocks && v.block() != b.number) continue;
                if (v.filter() & core::discover_function_block_info) write_all(k, e, now, b.info);
                if (v.filter() & core::discover_function_block_name) write_all(k, e, now, b.name);
            }
            return true;
        }
        return false;
    }

    // Out of e's source to every connection on it (but the owner, for app_owned).
    void fan_out(endpoint_state* e, std::uint64_t stamp, const std::uint32_t* words, unsigned n,
                 detail::route_pass which = detail::route_pass::all) noexcept {
        const bool skip_owner = e->behaviour == endpoint_behaviour::app_owned;
        for (connection_state* k = e->first; k; k = k->next_on_endpoint)
            if (!(skip_owner && k == e->owner)) write_to(k, e, stamp, words, n);
        e->routed.fetch_add(1, std::memory_order_relaxed);
        messages_routed.fetch_add(1, std::memory_order_relaxed);
        if (e->routes != nullptr) follow_routes(e, stamp, words, n, which);
    }

    [[nodiscard]] static bool takes_early(const endpoint_state* e) noexcept {
        return e->early && e->behaviour == endpoint_behaviour::app_owned;
    }

    // A message to hold (in the scheduler, or parked for a stopped device).
    static scheduled_message held(std::uint64_t ts, endpoint_state* e, std::uint8_t r, const std::uint32_t* words,
                                  unsigned n) noexcept {
        scheduled_message m;
        m.timestamp_ns = ts;
        m.endpoint = e;
        for (unsigned i = 0; i < n; ++i) m.words[i] = words[i];
        m.word_count = static_cast<std::uint8_t>(n);
        m.route = r;
        return m;
    }

    // What came out of e's source, to the destinations e is routed to. Recursive through
    // deliver → fan_out; route_depth bounds a chain that loops.
    void follow_routes(endpoint_state* e, std::uint64_t stamp, const std::uint32_t* words, unsigned n,
                       detail::route_pass which) noexcept {
        if ((words[0] >> 28) == 0xFu) return;  // a stream message is about e itself
        if (route_depth >= router::max_route_depth) {
            route_loops.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        ++route_depth;
        for (route_state* rt = e->routes; rt; rt = rt->next) {
            endpoint_state* to = rt->to;
            if ((which == detail::route_pass::early_only && !takes_early(to)) ||
                (which == detail::route_pass::late_only && takes_early(to)))
                continue;
            const std::uint8_t r = to->behaviour == endpoint_behaviour::app_owned
                                       ? std::uint8_t{detail::route_to_owner}
                                       : std::uint8_t{detail::route_source};
            if (!to->io_stopped) {
                deliver(to, r, stamp, words, n, stamp);
                continue;
            }
            if (sched.size() + parked_count >= limits.schedule_capacity) {
                route_dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            parked[parked_count++] = held(stamp, to, r, words, n);
            scheduled_now.store(sched.size() + parked_count, std::memory_order_relaxed);
        }
        --route_depth;
    }

    // Delivers one message sent to e's destination. sender_ns: the sender's timestamp
    // (or the receive stamp for timestamp 0); now: the delivery time.
    void deliver(endpoint_state* e, std::uint8_t r, std::uint64_t sender_ns, const std::uint32_t* words, unsigned n,
                 std::uint64_t now) noexcept {
        switch (e->behaviour) {
        case endpoint_behaviour::loopback:
            fan_out(e, now, words, n);
            break;
        case endpoint_behaviour::diagnostics:
            fan_out(e, sender_ns, words, n);
            break;
        case endpoint_behaviour::pair:
            if (e->peer) fan_out(e->peer, now, words, n);
            break;
        case endpoint_behaviour::app_owned:
            // The sender's timestamp both ways: an application (or a driver inside umpd)
            // stamps what it emits with when it happened, and its owner places what it
            // receives by the time the sender asked for.
            if (r == detail::route_to_owner) {
                if (e->owner) {
                    write_to(e->owner, e, sender_ns, words, n);
                    e->routed.fetch_add(1, std::memory_order_relaxed);
                    messages_routed.fetch_add(1, std::memory_order_relaxed);
                }
            } else {
                fan_out(e, sender_ns, words, n,
                        r == detail::route_source_routed_early ? detail::route_pass::late_only : detail::route_pass::all);
            }
            break;
        }
    }

    void publish_dirty() noexcept {
        for (std::size_t i = 0; i < dirty_count; ++i) {
            connection_state* k = dirty[i];
            k->dirty = false;
            if (k->out.publish()) k->setup.client_wake->signal();
        }
        dirty_count = 0;
    }

    // One record read from connection k at time now.
    void handle(connection_state* k, std::uint64_t ts, const std::uint32_t (&words)[4], unsigned n,
                std::uint64_t now) noexcept {
        endpoint_state* e = k->endpoint;
        const core::packet p = core::packet::from_words(std::span<const std::uint32_t>(words, n));
        if (p.size() != n || core::check_packet(p) != core::read_error::none) {
            k->in_header->rejected_malformed.fetch_add(1, std::memory_order_relaxed);
            e->rejected_malformed.fetch_add(1, std::memory_order_relaxed);
            rejected_malformed.fetch_add(1, std::memory_order_relaxed);
            report(k, data_error::kind::malformed);
            return;
        }
        // umpd's own discovery of the endpoint: the owner's answers (and later updates)
        // go to the control thread at once, whatever their timestamp.
        if (e->capture && k == e->owner && router::is_captured_stream(p)) {
            capture(e, p);
            return;
        }
        // Answered at once, whatever its timestamp: discovery is a question about the
        // endpoint, not a message to deliver at a time.
        if (e->discovery != nullptr && k != e->owner && answer_discovery(k, e, p, now)) return;
        const std::uint8_t r = (e->behaviour == endpoint_behaviour::app_owned && k != e->owner)
                                   ? std::uint8_t{detail::route_to_owner}
                                   : std::uint8_t{detail::route_source};
        // An owner that places messages by their timestamps itself gets them at once.
        if (r == detail::route_to_owner && e->early) {
            deliver(e, r, ts == 0 ? now : ts, words, n, now);
            return;
        }
        // Everything due at `now` has left the scheduler (deliver_due ran first), so a
        // message with ts <= now may go at once without overtaking a held one.
        if (ts > now) {
            // An app's output held for its time: its routes to early-delivery endpoints
            // are followed now, the rest (and the clients) at its time.
            const bool route_early = r == detail::route_source && e->behaviour == endpoint_behaviour::app_owned &&
                                     e->routes != nullptr;
            data_error::kind refused{};
            bool ok = false;
            if (ts - now > static_cast<std::uint64_t>(limits.max_schedule_ahead.count())) {
                refused = data_error::kind::schedule_too_far;
            } else if (sched.size() + parked_count >= limits.schedule_capacity) {
                refused = data_error::kind::schedule_full;
            } else {
                ok = sched.push(held(ts, e, route_early ? std::uint8_t{detail::route_source_routed_early} : r, words, n));
                if (ok && route_early) follow_routes(e, ts, words, n, detail::route_pass::early_only);
                refused = data_error::kind::schedule_full;
            }
            if (!ok) {
                k->in_header->rejected_schedule.fetch_add(1, std::memory_order_relaxed);
                e->rejected_schedule.fetch_add(1, std::memory_order_relaxed);
                rejected_schedule.fetch_add(1, std::memory_order_relaxed);
                report(k, refused);
            } else {
                scheduled_now.store(sched.size() + parked_count, std::memory_order_relaxed);
            }
            return;
        }
        deliver(e, r, ts == 0 ? now : ts, words, n, now);
    }

    // Delivers scheduled messages due at `now`, in (timestamp, sequence) order. Those of
    // stopped devices are parked (in the same order) until start_io.
    bool deliver_due(std::uint64_t now) noexcept {
        bool any = false;
        while (!sched.empty() && sched.top().timestamp_ns <= now) {
            const scheduled_message m = sched.top();
            sched.pop();
            any = true;
            if (m.endpoint->io_stopped) parked[parked_count++] = m;
            else deliver(m.endpoint, m.route, m.timestamp_ns, m.words, m.word_count, now);
        }
        if (any) scheduled_now.store(sched.size() + parked_count, std::memory_order_relaxed);
        return any;
    }

    // One batch: due messages, then every readable connection, then one publish per
    // connection. Returns whether anything moved.
    bool pass() noexcept {
        const std::uint64_t now = monotonic_ns();
        bool worked = deliver_due(now);
        for (std::size_t i = 0; i < active_count; ++i) {
            connection_state* k = active[i];
            if (k->corrupt || k->endpoint->io_stopped) continue;
            unsigned reads = 0;
            for (; reads < max_reads_per_pass; ++reads) {
                std::uint64_t ts = 0;
                std::uint32_t words[4]{};
                unsigned n = 0;
                const ipc::read_status s = k->in.read_raw(ts, words, n);
                if (s == ipc::read_status::empty) break;
                if (s == ipc::read_status::corrupt) {
                    k->corrupt = true;
                    report(k, data_error::kind::corrupt_ring);
                    break;
                }
                handle(k, ts, words, n, now);
            }
            if (reads != 0) {
                k->in.release();
                worked = true;
            }
        }
        publish_dirty();
        return worked;
    }

    // Announces sleep on every ring the router reads; false (and undone) when one of
    // them has data after all.
    bool prepare_to_sleep() noexcept {
        for (std::size_t i = 0; i < active_count; ++i) {
            connection_state* k = active[i];
            if (k->corrupt || k->endpoint->io_stopped) continue;
            if (!k->in.prepare_to_sleep()) {
                woke_up();
                return false;
            }
        }
        return true;
    }

    void woke_up() noexcept {
        for (std::size_t i = 0; i < active_count; ++i) active[i]->in.woke_up();
    }

    // Points the timerfd at the earliest scheduled message (or disarms it).
    void arm_timer() noexcept {
        const std::uint64_t want = sched.empty() ? 0 : sched.top().timestamp_ns;
        if (want == armed_ns) return;
        itimerspec spec{};
        spec.it_value.tv_sec = static_cast<time_t>(want / 1'000'000'000u);
        spec.it_value.tv_nsec = static_cast<long>(want % 1'000'000'000u);
        ::timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
        armed_ns = want;
    }

    void run() noexcept {
        std::uint64_t spin_until = 0;
        for (;;) {
            apply_commands();
            if (stop_requested.load(std::memory_order_acquire)) break;
            if (pass()) {
                spin_until = monotonic_ns() + static_cast<std::uint64_t>(limits.spin.count());
                continue;
            }
            if (commands_pending()) continue;
            if (monotonic_ns() < spin_until) {
                cpu_relax();
                continue;
            }
            if (!prepare_to_sleep()) continue;
            arm_timer();
            const int n = ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), -1);
            for (int i = 0; i < n; ++i) {
                const std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
                const int fd = static_cast<int>(tag & 0xFFFF'FFFFu);
                if ((tag >> 32) == tag_timer) armed_ns = 0;  // fired; a one-shot timer is disarmed now
                drain_fd(fd);
            }
            woke_up();
        }
    }
};

// ====================================================================================
// router

router::router(router_limits limits) : impl_(std::make_unique<impl>(limits)) {}

router::~router() { stop(); }

const router_limits& router::limits() const noexcept { return impl_->limits; }

std::error_code router::start() {
    std::lock_guard lock(impl_->control_mutex);
    if (impl_->running) return {};
    impl_->stop_requested.store(false, std::memory_order_release);
    try {
        impl_->thread = std::thread([this] { impl_->run(); });
    } catch (const std::system_error& e) {
        return e.code();
    }
    impl_->running = true;
    return {};
}

void router::stop() {
    std::lock_guard lock(impl_->control_mutex);
    if (!impl_->running) return;
    impl_->stop_requested.store(true, std::memory_order_release);
    impl_->command_wake.signal();
    impl_->thread.join();
    impl_->running = false;
}

std::error_code router::add_endpoint(endpoint_handle e, device_handle device, endpoint_behaviour b,
                                     endpoint_handle peer) {
    std::lock_guard lock(impl_->control_mutex);
    if (impl_->endpoints.contains(e)) return make_error_code(service_errc::already_exists);
    if (impl_->endpoints.size() >= impl_->limits.max_endpoints) return make_error_code(service_errc::limit);
    if (b == endpoint_behaviour::pair && (peer == 0 || peer == e)) return make_error_code(service_errc::invalid_argument);
    auto state = std::make_unique<endpoint_state>();
    state->handle = e;
    state->device = device;
    state->behaviour = b;
    state->peer_handle = b == endpoint_behaviour::pair ? peer : 0;
    state->io_stopped = impl_->stopped_devices.contains(device);
    impl::command c;
    c.what = impl::command::kind::add_endpoint;
    c.endpoint = state.get();
    if (b == endpoint_behaviour::pair) {
        auto it = impl_->endpoints.find(peer);
        if (it != impl_->endpoints.end()) {
            endpoint_state* other = it->second.get();
            if (other->behaviour != endpoint_behaviour::pair || other->peer_handle != e)
                return make_error_code(service_errc::invalid_argument);
            c.other = other;
        }
    }
    impl_->endpoints.emplace(e, std::move(state));
    impl_->submit(c);
    return {};
}

std::error_code router::remove_endpoint(endpoint_handle e) {
    std::lock_guard lock(impl_->control_mutex);
    auto it = impl_->endpoints.find(e);
    if (it == impl_->endpoints.end()) return make_error_code(service_errc::not_found);
    endpoint_state* state = it->second.get();
    // Its connections: no more wake-ups for them; the router unlinks them in the command.
    std::vector<connection_state*> detach;
    for (auto& [handle, k] : impl_->connections)
        if (!k->detached && k->endpoint == state) detach.push_back(k.get());
    for (connection_state* k : detach) impl_->unregister_wake(k->setup.service_wake->fd());
    impl::command c;
    c.what = impl::command::kind::remove_endpoint;
    c.endpoint = state;
    impl_->submit(c);
    // Acknowledged: the router holds no pointer to the endpoint or those connections.
    for (connection_state* k : detach) {
        k->detached = true;
        k->endpoint = nullptr;
        k->setup.region.reset();
        k->setup.service_wake.reset();
        k->setup.client_wake.reset();
        --impl_->attached_connections;
    }
    // Its routes both ways are unlinked on the router side; free them here.
    std::erase_if(impl_->routes, [state](const std::unique_ptr<route_state>& rt) {
        return rt->from == state || rt->to == state;
    });
    impl_->endpoints.erase(it);
    return {};
}

std::error_code router::add_route(endpoint_handle from, endpoint_handle to) {
    std::lock_guard lock(impl_->control_mutex);
    auto f = impl_->endpoints.find(from);
    auto t = impl_->endpoints.find(to);
    if (f == impl_->endpoints.end() || t == impl_->endpoints.end()) return make_error_code(service_errc::not_found);
    if (from == to) return make_error_code(service_errc::invalid_argument);
    for (const auto& rt : impl_->routes)
        if (rt->from == f->second.get() && rt->to == t->second.get()) return make_error_code(service_errc::already_exists);
    auto state = std::make_unique<route_state>();
    state->from = f->second.get();
    state->to = t->second.get();
    impl::command c;
    c.what = impl::command::kind::add_route;
    c.route = state.get();
    impl_->routes.push_back(std::move(state));
    impl_->submit(c);
    return {};
}

std::error_code router::remove_route(endpoint_handle from, endpoint_handle to) {
    std::unique_ptr<route_state> doomed;  // freed after the router let go
    std::lock_guard lock(impl_->control_mutex);
    auto f = impl_->endpoints.find(from);
    auto t = impl_->endpoints.find(to);
    if (f == impl_->endpoints.end() || t == impl_->endpoints.end()) return make_error_code(service_errc::not_found);
    auto it = std::find_if(impl_->routes.begin(), impl_->routes.end(), [&](const std::unique_ptr<route_state>& rt) {
        return rt->from == f->second.get() && rt->to == t->second.get();
    });
    if (it == impl_->routes.end()) return make_error_code(service_errc::not_found);
    impl::command c;
    c.what = impl::command::kind::remove_route;
    c.route = it->get();
    impl_->submit(c);
    doomed = std::move(*it);
    impl_->routes.erase(it);
    return {};
}

std::error_code router::add_connection(connection_setup setup) {
    std::lock_guard lock(impl_->control_mutex);
    if (!setup.region || !setup.service_wake || !setup.client_wake || setup.service_wake->fd() < 0 ||
        setup.client_wake->fd() < 0)
        return make_error_code(service_errc::invalid_argument);
    if (impl_->connections.contains(setup.handle)) return make_error_code(service_errc::already_exists);
    if (impl_->attached_connections >= impl_->limits.max_connections) return make_error_code(service_errc::limit);
    auto ep = impl_->endpoints.find(setup.endpoint);
    if (ep == impl_->endpoints.end()) return make_error_code(service_errc::not_found);
    endpoint_state* e = ep->second.get();
    if (setup.owner) {
        if (e->behaviour != endpoint_behaviour::app_owned) return make_error_code(service_errc::invalid_argument);
        for (auto& [handle, k] : impl_->connections)
            if (!k->detached && k->endpoint == e && k->setup.owner) return make_error_code(service_errc::already_exists);
    }
    ipc::connection_rings rings;
    if (auto ec = ipc::attach_connection(*setup.region, rings)) return ec;

    auto state = std::make_unique<connection_state>();
    state->in = ipc::ring_reader(rings.to_service, rings.to_service_data, rings.to_service_words);
    state->out = ipc::ring_writer(rings.to_client, rings.to_client_data, rings.to_client_words);
    state->in_header = rings.to_service;
    state->endpoint = e;
    const connection_handle handle = setup.handle;
    state->setup = std::move(setup);
    if (auto ec = impl_->register_wake(state->setup.service_wake->fd())) return ec;

    impl::command c;
    c.what = impl::command::kind::add_connection;
    c.connection = state.get();
    impl_->connections.emplace(handle, std::move(state));
    ++impl_->attached_connections;
    impl_->submit(c);
    return {};
}

std::error_code router::remove_connection(connection_handle c) {
    std::unique_ptr<connection_state> doomed;  // freed after the lock, on this thread
    {
        std::lock_guard lock(impl_->control_mutex);
        auto it = impl_->connections.find(c);
        if (it == impl_->connections.end()) return make_error_code(service_errc::not_found);
        doomed = std::move(it->second);
        impl_->connections.erase(it);
        if (doomed->detached) return {};
        impl_->unregister_wake(doomed->setup.service_wake->fd());
        impl::command cmd;
        cmd.what = impl::command::kind::remove_connection;
        cmd.connection = doomed.get();
        impl_->submit(cmd);
        --impl_->attached_connections;
    }
    return {};
}

std::error_code router::set_discovery_replies(endpoint_handle e, std::shared_ptr<const discovery_replies> replies) {
    std::shared_ptr<const discovery_replies> old;  // freed after the lock, on this thread
    std::lock_guard lock(impl_->control_mutex);
    auto it = impl_->endpoints.find(e);
    if (it == impl_->endpoints.end()) return make_error_code(service_errc::not_found);
    endpoint_state* state = it->second.get();
    if (!state->discovery_owned && !replies) return {};  // nothing to change
    impl::command c;
    c.what = impl::command::kind::set_discovery;
    c.endpoint = state;
    c.replies = replies.get();
    impl_->submit(c);
    // Acknowledged: the router no longer reads the old replies.
    old = std::move(state->discovery_owned);
    state->discovery_owned = std::move(replies);
    return {};
}

bool router::is_captured_stream(const core::packet& p) noexcept {
    const auto stream = core::as_stream(p);
    if (!stream) return false;
    switch (stream->status()) {
        case core::stream_status::endpoint_info:
        case core::stream_status::device_identity:
        case core::stream_status::endpoint_name:
        case core::stream_status::product_instance_id:
        case core::stream_status::stream_configuration_notification:
        case core::stream_status::function_block_info:
        case core::stream_status::function_block_name:
            return true;
        default:
            return false;
    }
}

std::error_code router::capture_stream(endpoint_handle e, bool on) {
    std::lock_guard lock(impl_->control_mutex);
    auto it = impl_->endpoints.find(e);
    if (it == impl_->endpoints.end()) return make_error_code(service_errc::not_found);
    impl::command c;
    c.what = impl::command::kind::set_capture;
    c.endpoint = it->second.get();
    c.flag = on;
    impl_->submit(c);
    return {};
}

std::error_code router::set_early_delivery(endpoint_handle e, bool on) {
    std::lock_guard lock(impl_->control_mutex);
    auto it = impl_->endpoints.find(e);
    if (it == impl_->endpoints.end()) return make_error_code(service_errc::not_found);
    if (it->second->behaviour != endpoint_behaviour::app_owned) return make_error_code(service_errc::invalid_argument);
    impl::command c;
    c.what = impl::command::kind::set_early;
    c.endpoint = it->second.get();
    c.flag = on;
    impl_->submit(c);
    return {};
}

void router::take_captured(const std::function<void(const captured_packet&)>& each) {
    std::vector<captured_packet> found;
    {
        std::lock_guard lock(impl_->control_mutex);
        // Cleared before reading: a message queued after this signals again.
        impl_->captured_pending.exchange(false, std::memory_order_acq_rel);
        const std::uint64_t head = impl_->captured_head.load(std::memory_order_acquire);
        std::uint64_t tail = impl_->captured_tail.load(std::memory_order_relaxed);
        for (; tail != head; ++tail) found.push_back(impl_->captured[tail % capture_capacity]);
        impl_->captured_tail.store(tail, std::memory_order_release);
    }
    for (const captured_packet& p : found) each(p);
}

std::error_code router::inject(connection_handle c, std::span<const core::packet> packets) {
    std::lock_guard lock(impl_->control_mutex);
    auto it = impl_->connections.find(c);
    if (it == impl_->connections.end() || it->second->detached) return make_error_code(service_errc::not_found);
    if (packets.empty()) return {};
    std::size_t written = 0;
    impl::command cmd;
    cmd.what = impl::command::kind::inject;
    cmd.connection = it->second.get();
    cmd.packets = packets.data();
    cmd.packet_count = packets.size();
    cmd.written = &written;
    impl_->submit(cmd);
    return written == packets.size() ? std::error_code{} : make_error_code(service_errc::limit);
}

std::error_code router::stop_io(device_handle d) {
    std::lock_guard lock(impl_->control_mutex);
    impl_->stopped_devices.insert(d);
    impl::command c;
    c.what = impl::command::kind::stop_io;
    c.device = d;
    impl_->submit(c);
    return {};
}

std::error_code router::start_io(device_handle d) {
    std::lock_guard lock(impl_->control_mutex);
    impl_->stopped_devices.erase(d);
    impl::command c;
    c.what = impl::command::kind::start_io;
    c.device = d;
    impl_->submit(c);
    return {};
}

endpoint_counters router::counters(endpoint_handle e) const {
    std::lock_guard lock(impl_->control_mutex);
    endpoint_counters out;
    auto it = impl_->endpoints.find(e);
    if (it == impl_->endpoints.end()) return out;
    const endpoint_state& s = *it->second;
    out.routed = s.routed.load(std::memory_order_relaxed);
    out.dropped_full = s.dropped_full.load(std::memory_order_relaxed);
    out.rejected_malformed = s.rejected_malformed.load(std::memory_order_relaxed);
    out.rejected_schedule = s.rejected_schedule.load(std::memory_order_relaxed);
    return out;
}

router_counters router::counters() const {
    router_counters out;
    out.messages_routed = impl_->messages_routed.load(std::memory_order_relaxed);
    out.dropped_full = impl_->dropped_full.load(std::memory_order_relaxed);
    out.rejected_malformed = impl_->rejected_malformed.load(std::memory_order_relaxed);
    out.rejected_schedule = impl_->rejected_schedule.load(std::memory_order_relaxed);
    out.scheduled_now = impl_->scheduled_now.load(std::memory_order_relaxed);
    out.scheduled_discarded = impl_->scheduled_discarded.load(std::memory_order_relaxed);
    out.captured_dropped = impl_->captured_dropped.load(std::memory_order_relaxed);
    out.route_loops = impl_->route_loops.load(std::memory_order_relaxed);
    out.route_dropped = impl_->route_dropped.load(std::memory_order_relaxed);
    return out;
}

void router::take_data_errors(const std::function<void(const data_error&)>& each) {
    std::vector<data_error> found;
    {
        std::lock_guard lock(impl_->control_mutex);
        // Order matters (see report()): drain the eventfd, then clear the flag, then
        // read the counters; a report that lands after the flag is cleared signals again.
        impl_->notify.drain();
        impl_->errors_pending.exchange(false, std::memory_order_acq_rel);
        for (auto& [handle, k] : impl_->connections) {
            for (std::size_t i = 0; i < detail::error_kinds; ++i) {
                const std::uint64_t n = k->pending_errors[i].exchange(0, std::memory_order_acquire);
                if (n != 0) found.push_back(data_error{handle, static_cast<data_error::kind>(i), n});
            }
        }
    }
    for (const data_error& e : found) each(e);
}

int router::notify_fd() const noexcept { return impl_->notify.fd(); }

}  // namespace umpd::service
