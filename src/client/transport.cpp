// The SDK's view of umpd's transport and musical context (client::transport, the
// transport_changed event).
#include "session.hpp"

namespace umpd::client {

namespace detail {

namespace {

double get_double(const json& j, const char* key, double fallback) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

std::int64_t get_i64(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

transport_info parse_transport(const json& j) {
    transport_info t;
    if (!j.is_object()) return t;
    t.sample_rate = get_double(j, "sample_rate", t.sample_rate);
    t.bpm = get_double(j, "bpm", t.bpm);
    t.beats_per_bar = get_double(j, "beats_per_bar", t.beats_per_bar);
    t.beat_unit = static_cast<int>(get_i64(j, "beat_unit"));
    t.frame = get_i64(j, "frame");
    t.beat = get_double(j, "beat", 0.0);
    t.bar = get_i64(j, "bar");
    t.bar_beat = get_double(j, "bar_beat", 0.0);
    t.playing = get_bool(j, "playing");
    t.recording = get_bool(j, "recording");
    t.cycling = get_bool(j, "cycling");
    t.cycle_start = get_double(j, "cycle_start", 0.0);
    t.cycle_end = get_double(j, "cycle_end", 0.0);
    t.time_ns = get_u64(j, "time_ns");
    return t;
}

}  // namespace detail

double transport_info::beat_at(std::uint64_t t) const noexcept {
    if (!playing) return beat;
    const double dt = static_cast<double>(t) - static_cast<double>(time_ns);
    return beat + dt * 1e-9 * bpm / 60.0;
}

result<transport_info> client::transport() {
    if (!s_) return make_error(errc::closed, "the client is not connected");
    auto r = s_->request("transport", detail::json::object());
    if (!r) return r.error();
    return detail::parse_transport(r->result);
}

}  // namespace umpd::client
