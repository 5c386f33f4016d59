#include "bridge.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

namespace umpd::jack {
namespace {

std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Messages read from one connection before the next one gets its turn.
constexpr unsigned batch = 256;

}  // namespace

std::error_code bridge::start(client& c, std::shared_ptr<ipc::wake> client_wake, std::chrono::nanoseconds spin) {
    if (running_) return {};
    client_ = &c;
    client_wake_ = std::move(client_wake);
    spin_ = spin;
    if (auto ec = ipc::wake::create(control_wake_)) return ec;
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) return {errno, std::system_category()};
    for (const int fd : {client_wake_->fd(), client_->notify_fd(), control_wake_.fd()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return {errno, std::system_category()};
    }
    if (!current_) {
        current_ = std::make_unique<bridge_table>();
        current_->version = next_version_++;
        table_.store(current_.get(), std::memory_order_release);
    }
    stop_requested_.store(false, std::memory_order_release);
    try {
        thread_ = std::thread([this] { run(); });
    } catch (const std::system_error& e) {
        return e.code();
    }
    running_ = true;
    return {};
}

void bridge::stop() {
    if (!running_) return;
    stop_requested_.store(true, std::memory_order_release);
    control_wake_.signal();
    thread_.join();
    running_ = false;
}

bool bridge::publish(std::unique_ptr<bridge_table> next) {
    next->version = next_version_++;
    next->written.assign(next->endpoints.size(), 0);
    std::sort(next->inputs.begin(), next->inputs.end(),
              [](const bridge_input& a, const bridge_input& b) { return a.key < b.key; });
    const std::uint64_t want = next->version;
    table_.store(next.get(), std::memory_order_seq_cst);
    std::unique_ptr<bridge_table> old = std::exchange(current_, std::move(next));
    if (!running_) return true;
    control_wake_.signal();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (acknowledged_.load(std::memory_order_seq_cst) < want) {
        if (std::chrono::steady_clock::now() > deadline) {
            (void)old.release();  // the bridge may still read it: leak rather than free
            return false;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

// ---- the bridge thread (real-time rules: no allocation, no lock, no wait but epoll) ----

void bridge::run() noexcept {
    std::uint64_t spin_until = 0;
    std::array<epoll_event, 4> events{};
    for (;;) {
        const bridge_table* t = table_.load(std::memory_order_seq_cst);
        acknowledged_.store(t->version, std::memory_order_seq_cst);
        if (stop_requested_.load(std::memory_order_acquire)) break;
        if (pass(*t)) {
            spin_until = monotonic_ns() + static_cast<std::uint64_t>(spin_.count());
            continue;
        }
        if (monotonic_ns() < spin_until) {
            cpu_relax();
            continue;
        }
        if (!prepare_to_sleep(*t)) continue;
        const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            if (fd == client_wake_->fd()) client_wake_->drain();
            else if (fd == control_wake_.fd()) control_wake_.drain();
            // client_->notify_fd(): take() in the next pass reads it empty.
        }
        woke_up(*t);
    }
}

bool bridge::pass(const bridge_table& t) noexcept {
    const bool sources = pass_sources(t);
    const bool inputs = pass_inputs(t);
    return sources || inputs;
}

// What the endpoints' sources emit → the JACK output port of each message's group.
bool bridge::pass_sources(const bridge_table& t) noexcept {
    bool worked = false;
    for (const bridge_endpoint& e : t.endpoints) {
        std::uint64_t ts = 0;
        core::packet p;
        unsigned reads = 0;
        while (reads < batch && e.connection->read(ts, p)) {
            ++reads;
            if (!core::has_group(p.type())) continue;  // stream and utility messages have no MIDI 1.0 port
            const port_key key = e.source_keys[p.group_field().index & 0x0Fu];
            if (key == 0) continue;
            switch (client_->send(key, ts, p)) {
            case send_status::ok: break;
            case send_status::full: send_full_.fetch_add(1, std::memory_order_relaxed); break;
            case send_status::unknown_port:
            case send_status::wrong_direction: unrouted_.fetch_add(1, std::memory_order_relaxed); break;
            }
        }
        if (reads != 0) {
            e.connection->release();
            worked = true;
        }
    }
    return worked;
}

// What JACK applications wrote to the input ports → the endpoints' destinations.
bool bridge::pass_inputs(const bridge_table& t) noexcept {
    bool worked = false;
    for (;;) {
        const std::size_t got = client_->take(incoming_);
        if (got == 0) break;
        worked = true;
        for (std::size_t i = 0; i < got; ++i) {
            const incoming_message& m = incoming_[i];
            const auto it = std::lower_bound(t.inputs.begin(), t.inputs.end(), m.port,
                                             [](const bridge_input& in, port_key k) { return in.key < k; });
            if (it == t.inputs.end() || it->key != m.port) {
                unrouted_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            if (!t.endpoints[it->endpoint].connection->write(m.timestamp_ns, m.packet))
                refused_.fetch_add(1, std::memory_order_relaxed);
            t.written[it->endpoint] = 1;
        }
        if (got < incoming_.size()) break;
    }
    if (worked)
        for (std::size_t i = 0; i < t.endpoints.size(); ++i)
            if (t.written[i] != 0) {
                t.written[i] = 0;
                t.endpoints[i].connection->flush();
            }
    return worked;
}

bool bridge::prepare_to_sleep(const bridge_table& t) noexcept {
    for (std::size_t i = 0; i < t.endpoints.size(); ++i)
        if (!t.endpoints[i].connection->prepare_to_sleep()) {
            for (std::size_t j = 0; j < i; ++j) t.endpoints[j].connection->woke_up();
            return false;
        }
    return true;
}

void bridge::woke_up(const bridge_table& t) noexcept {
    for (const bridge_endpoint& e : t.endpoints) e.connection->woke_up();
}

}  // namespace umpd::jack
