// The lv2 driver's JACK transport follower (see jack_transport.hpp).
#include "jack_transport.hpp"

#include <jack/jack.h>
#include <jack/transport.h>

#include <pthread.h>

#include <cmath>

namespace umpd::lv2::service_detail {

jack_transport_follower::~jack_transport_follower() { close(); }

bool jack_transport_follower::open(const std::string& server_name, const std::string& client_name, std::string& why) {
    close();
    jack_status_t status{};
    const auto options = static_cast<jack_options_t>(JackNoStartServer | (server_name.empty() ? 0 : JackServerName));
    client_ = server_name.empty() ? ::jack_client_open(client_name.c_str(), options, &status)
                                  : ::jack_client_open(client_name.c_str(), options, &status, server_name.c_str());
    if (client_ == nullptr) {
        why = (status & JackServerFailed) ? "no JACK server" : "JACK refused the client";
        return false;
    }
    ::jack_on_info_shutdown(
        client_, [](jack_status_t st, const char* reason, void* arg) { on_shutdown(static_cast<int>(st), reason, arg); },
        this);
    alive_.store(true, std::memory_order_release);
    // Active, so that JACK counts it among its clients; it has nothing to process.
    if (::jack_activate(client_) != 0) {
        why = "JACK did not activate the client";
        close();
        return false;
    }
    return true;
}

// A JACK thread: the server went away. libjack cancels its threads when the client is
// closed after that; cancellation stays off while the flag is set, and is restored
// last, outside any noexcept frame (as the JACK driver's callbacks do, client.cpp).
void jack_transport_follower::on_shutdown(int, const char*, void* arg) {
    int old = PTHREAD_CANCEL_ENABLE;
    (void)::pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    static_cast<jack_transport_follower*>(arg)->alive_.store(false, std::memory_order_release);
    (void)::pthread_setcancelstate(old, nullptr);
}

void jack_transport_follower::close() {
    if (client_ == nullptr) return;
    if (alive_.exchange(false, std::memory_order_acq_rel)) {
        ::jack_deactivate(client_);
        ::jack_client_close(client_);
    }
    // A client whose server died is left to libjack: closing it tears down libjack's
    // process-wide state under the JACK driver's client, which has reconnected to the
    // new server by then (its next jack_deactivate crashed). One small allocation
    // per server loss, reachable from libjack's own tables.
    client_ = nullptr;
}

bool jack_transport_follower::read(jack_position& out) const noexcept {
    if (client_ == nullptr || !alive()) return false;
    jack_position_t pos{};
    const jack_transport_state_t state = ::jack_transport_query(client_, &pos);
    out.rolling = state == JackTransportRolling;
    out.frame = pos.frame;
    out.frame_rate = pos.frame_rate;
    out.bbt = (pos.valid & JackPositionBBT) != 0 && pos.beats_per_minute > 0 && pos.beats_per_bar > 0 &&
              pos.ticks_per_beat > 0 && pos.bar >= 1 && pos.beat >= 1;
    if (out.bbt) {
        out.bpm = pos.beats_per_minute;
        out.beats_per_bar = static_cast<double>(pos.beats_per_bar);
        // As umpd's transport clamps it, so that a master's odd value is taken once.
        const long unit = std::lround(pos.beat_type);
        out.beat_unit = static_cast<int>(unit < 1 ? 1 : unit > 64 ? 64 : unit);
        out.beat = static_cast<double>(pos.bar - 1) * out.beats_per_bar + static_cast<double>(pos.beat - 1) +
                   static_cast<double>(pos.tick) / pos.ticks_per_beat;
    }
    return true;
}

void jack_transport_follower::start() const noexcept {
    if (client_ && alive()) ::jack_transport_start(client_);
}

void jack_transport_follower::stop() const noexcept {
    if (client_ && alive()) ::jack_transport_stop(client_);
}

void jack_transport_follower::locate(std::uint32_t frame) const noexcept {
    if (client_ && alive()) (void)::jack_transport_locate(client_, frame);
}

}  // namespace umpd::lv2::service_detail
