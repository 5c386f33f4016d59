// The data path of a connection: sending into the to_service ring, receiving from the
// to_client ring, the wait with adaptive spinning, and the counters.
#include <poll.h>

#include <cinttypes>
#include <cstdio>
#include <thread>

#include "session.hpp"
#include "umpd/client/spin_wait.hpp"
#include "umpd/core/reader.hpp"

namespace umpd::client {

using detail::connection_state;

namespace {

std::string words_text(const core::packet& p) {
    std::string s;
    char buf[16];
    for (unsigned i = 0; i < p.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%s%08" PRIx32, i == 0 ? "" : " ", p.words[i]);
        s += buf;
    }
    return s;
}

error_info malformed(const core::packet& p, core::read_error e, std::string_view where) {
    return make_error(errc::malformed_packet, std::string(where) + "refusing to send [" + words_text(p) +
                                                  "]: not a valid UMP packet (" + core::to_string(e) + ")");
}

error_info not_usable(const connection_state* s) {
    if (s == nullptr || !s->open) return make_error(errc::closed, "the connection is closed");
    return make_error(errc::disconnected, "the connection to " + s->key() +
                                              " is waiting for umpd to come back; nothing was sent");
}

}  // namespace

connection::connection(std::shared_ptr<connection_state> s) noexcept : s_(std::move(s)) {}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&& o) noexcept {
    if (this != &o) {
        close();
        s_ = std::move(o.s_);
    }
    return *this;
}
connection::~connection() { close(); }

bool connection::is_open() const noexcept { return s_ && s_->open; }
bool connection::is_live() const noexcept { return s_ && s_->open && s_->live; }

const endpoint_info& connection::endpoint() const noexcept {
    static const endpoint_info none{};
    return s_ ? s_->endpoint : none;
}

std::uint64_t connection::id() const noexcept { return s_ ? s_->connection_id.load() : 0; }

std::uint64_t connection::max_schedule_ahead_ns() const noexcept {
    if (!s_) return 0;
    std::lock_guard l(s_->swap_mu);
    return s_->path.max_schedule_ahead_ns;
}

int connection::fd() const noexcept { return s_ && s_->open ? s_->client_fd.load() : -1; }

result<void> connection::send(const core::packet& p, std::uint64_t timestamp_ns) noexcept {
    connection_state* s = s_.get();
    if (s == nullptr || !s->open || !s->live) return not_usable(s);
    if (const auto e = core::check_packet(p); e != core::read_error::none) return malformed(p, e, "");
    std::unique_lock l(s->send_mu, std::try_to_lock);
    if (!l.owns_lock())
        return make_error(errc::in_use, "another thread is sending on this connection (or it is being re-opened)");
    if (!s->live) return not_usable(s);
    auto& w = s->path.writer;
    if (w.write(timed_packet{timestamp_ns, p}) != ipc::write_status::ok)
        return make_error(errc::ring_full, "the ring to umpd is full (" + std::to_string(s->path.rings.to_service_words) +
                                               " words): the message was dropped; send more slowly, in batches, or "
                                               "open with a larger to_service_words");
    if (w.publish()) s->path.service_wake.signal();
    return {};
}

result<std::size_t> connection::send_batch(std::span<const timed_packet> messages) noexcept {
    connection_state* s = s_.get();
    if (s == nullptr || !s->open || !s->live) return not_usable(s);
    for (std::size_t i = 0; i < messages.size(); ++i)
        if (const auto e = core::check_packet(messages[i].packet); e != core::read_error::none)
            return malformed(messages[i].packet, e, "message " + std::to_string(i) + " of the batch: ");
    std::unique_lock l(s->send_mu, std::try_to_lock);
    if (!l.owns_lock())
        return make_error(errc::in_use, "another thread is sending on this connection (or it is being re-opened)");
    if (!s->live) return not_usable(s);
    auto& w = s->path.writer;
    // Stop where the ring is full instead of letting write() count drops: the caller
    // sends the rest later.
    std::size_t free = w.free_words();
    std::size_t sent = 0;
    for (const auto& m : messages) {
        const std::size_t need = ipc::record_header_words + m.packet.size();
        if (free < need) {
            free = w.free_words();
            if (free < need) break;
        }
        if (w.write(m) != ipc::write_status::ok) break;
        free -= need;
        ++sent;
    }
    if (sent > 0 && w.publish()) s->path.service_wake.signal();
    return sent;
}

bool connection::flush(std::chrono::nanoseconds timeout) noexcept {
    connection_state* s = s_.get();
    if (s == nullptr || !s->open || !s->live) return false;
    std::unique_lock l(s->send_mu, std::try_to_lock);
    if (!l.owns_lock() || s->path.rings.to_service == nullptr) return false;
    const auto* h = s->path.rings.to_service;
    const std::uint64_t end = now_ns() + static_cast<std::uint64_t>(timeout.count() > 0 ? timeout.count() : 0);
    for (;;) {
        if (h->tail.load(std::memory_order_acquire) >= h->head.load(std::memory_order_acquire)) return true;
        if (!s->live || now_ns() >= end) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

bool connection::receive(timed_packet& out) noexcept {
    connection_state* s = s_.get();
    if (s == nullptr || !s->open || !s->live || s->on_receive) return false;
    std::unique_lock l(s->recv_mu, std::try_to_lock);
    if (!l.owns_lock() || s->path.rings.to_client == nullptr) return false;
    auto& r = s->path.reader;
    auto st = r.read(out);
    if (st == ipc::read_status::empty) {
        // Consume a stale wake-up, then announce we sleep; a message that raced in is
        // read now, else fd() becomes readable when the next one is published.
        s->path.client_wake.drain();
        if (r.prepare_to_sleep()) {
            s->armed = true;
            return false;
        }
        st = r.read(out);
    }
    if (st == ipc::read_status::ok) {
        r.release();
        if (s->armed) {
            r.woke_up();
            s->armed = false;
        }
        return true;
    }
    if (st == ipc::read_status::corrupt) {
        s->live = false;
        s->open = false;
        if (auto owner = s->owner.lock()) {
            event e;
            e.what = event::kind::connection_lost;
            e.id = s->key();
            e.message = "the ring from umpd for " + e.id + " is corrupt; the connection was closed";
            owner->post_event(std::move(e));
        }
    }
    return false;
}

bool connection::wait(std::chrono::nanoseconds timeout, std::chrono::nanoseconds spin) noexcept {
    connection_state* s = s_.get();
    if (s == nullptr || !s->open || !s->live || s->on_receive) return false;
    std::unique_lock l(s->recv_mu, std::try_to_lock);
    if (!l.owns_lock() || s->path.rings.to_client == nullptr) return false;
    const bool ready = wait_for_data(s->path.reader, s->path.client_wake, timeout, spin);
    s->armed = !ready;
    return ready;
}

connection_counters connection::counters() const noexcept {
    return s_ ? s_->read_counters() : connection_counters{};
}

void connection::close() noexcept {
    if (!s_) return;
    if (auto owner = s_->owner.lock()) owner->close_connection(*s_);
    else s_->open = false;
}

namespace detail {

connection_counters connection_state::read_counters() const noexcept {
    std::lock_guard l(swap_mu);
    connection_counters c = base;
    if (path.rings.to_service != nullptr) {
        const auto* ts = path.rings.to_service;
        const auto* tc = path.rings.to_client;
        c.sent += ts->messages_written.load(std::memory_order_relaxed);
        c.send_dropped_full += ts->dropped_full.load(std::memory_order_relaxed);
        c.rejected_malformed += ts->rejected_malformed.load(std::memory_order_relaxed);
        c.rejected_schedule += ts->rejected_schedule.load(std::memory_order_relaxed);
        c.receive_dropped_full += tc->dropped_full.load(std::memory_order_relaxed);
    }
    return c;
}

}  // namespace detail
}  // namespace umpd::client
