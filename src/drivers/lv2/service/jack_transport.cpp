// The lv2 driver's JACK transport follower (see jack_transport.hpp).
#include "jack_transport.hpp"

#include <jack/jack.h>
#include <jack/transport.h>

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
    // Active, so that JACK counts it among its clients; it has nothing to process.
    if (::jack_activate(client_) != 0) {
        why = "JACK did not activate the client";
        close();
        return false;
    }
    return true;
}

void jack_transport_follower::close() {
    if (client_ == nullptr) return;
    ::jack_deactivate(client_);
    ::jack_client_close(client_);
    client_ = nullptr;
}

bool jack_transport_follower::read(jack_position& out) const noexcept {
    if (client_ == nullptr) return false;
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
    if (client_) ::jack_transport_start(client_);
}

void jack_transport_follower::stop() const noexcept {
    if (client_) ::jack_transport_stop(client_);
}

void jack_transport_follower::locate(std::uint32_t frame) const noexcept {
    if (client_) (void)::jack_transport_locate(client_, frame);
}

}  // namespace umpd::lv2::service_detail
