#include "umpd/lv2/transport.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace umpd::lv2 {

position position_of(const transport_state& s) noexcept {
    position p;
    p.frame = s.frame;
    p.speed = s.playing ? 1.0f : 0.0f;
    const double bars = std::floor(s.beat / s.beats_per_bar + 1e-9);
    p.bar = static_cast<std::int64_t>(bars);
    p.bar_beat = static_cast<float>(std::max(0.0, s.beat - bars * s.beats_per_bar));
    p.beat = s.beat;
    p.beat_unit = s.beat_unit;
    p.beats_per_bar = static_cast<float>(s.beats_per_bar);
    p.beats_per_minute = static_cast<float>(s.bpm);
    p.frames_per_second = static_cast<float>(s.sample_rate);
    return p;
}

transport::transport(double sample_rate) noexcept {
    state_.sample_rate = sample_rate > 0.0 ? sample_rate : 48000.0;
}

void transport::reanchor() noexcept {
    anchor_frame_ = state_.frame;
    anchor_beat_ = state_.beat;
}

void transport::apply(const transport_command& c) noexcept {
    using k = transport_command::kind;
    if (std::isnan(c.a) || std::isnan(c.b)) return;
    switch (c.what) {
    case k::play: state_.playing = true; break;
    case k::stop: state_.playing = false; break;
    case k::locate_frame:
        state_.frame = static_cast<std::int64_t>(std::max(0.0, std::round(c.a)));
        state_.beat = static_cast<double>(state_.frame) / frames_per_beat();
        break;
    case k::locate_beat:
        state_.beat = std::max(0.0, c.a);
        state_.frame = static_cast<std::int64_t>(std::llround(state_.beat * frames_per_beat()));
        break;
    case k::tempo: state_.bpm = std::clamp(c.a, 1.0, 999.0); break;
    case k::meter:
        state_.beats_per_bar = std::clamp(c.a, 1.0, 64.0);
        state_.beat_unit = static_cast<std::int32_t>(std::clamp(c.b, 1.0, 64.0));
        break;
    case k::record: state_.recording = c.a != 0.0; break;
    case k::cycle:
        state_.cycling = c.b > c.a;
        state_.cycle_start = std::max(0.0, c.a);
        state_.cycle_end = std::max(0.0, c.b);
        break;
    }
    reanchor();
    dirty_ = true;
}

void transport::advance(std::uint32_t frames) noexcept {
    if (!state_.playing || frames == 0) return;
    state_.frame += frames;
    state_.beat = anchor_beat_ + static_cast<double>(state_.frame - anchor_frame_) / frames_per_beat();
}

std::uint64_t transport::frames_to_cycle_end() const noexcept {
    if (!state_.playing || !state_.cycling || state_.cycle_end <= state_.cycle_start) {
        return std::numeric_limits<std::uint64_t>::max();
    }
    if (state_.beat >= state_.cycle_end) return 0;
    return static_cast<std::uint64_t>(std::ceil((state_.cycle_end - state_.beat) * frames_per_beat() - 1e-9));
}

void transport::plan_block(std::uint32_t frames, std::span<const transport_command> commands,
                           block_timeline& out) noexcept {
    out.frames = frames;
    out.count = 0;
    out.dropped_changes = 0;
    const std::uint32_t last = frames > 0 ? frames - 1 : 0;
    auto add_point = [&](std::uint32_t offset) {
        if (out.count > 0 && out.points[out.count - 1].offset == offset) {
            out.points[out.count - 1].pos = position_of(state_);  // the later change wins
            return;
        }
        if (out.count == out.points.size()) {
            ++out.dropped_changes;
            return;
        }
        out.points[out.count++] = {offset, position_of(state_)};
    };

    std::size_t next = 0;
    // Commands at frame 0 are part of the block's starting state.
    while (next < commands.size() && std::min(commands[next].offset, last) == 0) apply(commands[next++]);
    // A cycle end reached exactly at the block boundary wraps now.
    if (frames_to_cycle_end() == 0) apply({transport_command::kind::locate_beat, 0, state_.cycle_start, 0});
    out.changed_at_start = dirty_;
    dirty_ = false;
    out.bpm = state_.bpm;
    add_point(0);

    std::uint32_t pos = 0;
    while (pos < frames) {
        std::uint32_t target = frames;
        if (next < commands.size()) target = std::max(pos, std::min(commands[next].offset, last));
        const std::uint64_t to_end = frames_to_cycle_end();
        if (to_end < static_cast<std::uint64_t>(target - pos)) {
            advance(static_cast<std::uint32_t>(to_end));
            pos += static_cast<std::uint32_t>(to_end);
            apply({transport_command::kind::locate_beat, 0, state_.cycle_start, 0});
            dirty_ = false;
            add_point(pos);
            continue;
        }
        advance(target - pos);
        pos = target;
        if (pos >= frames) break;
        while (next < commands.size() && std::max(pos, std::min(commands[next].offset, last)) == pos) {
            apply(commands[next++]);
        }
        dirty_ = false;
        add_point(pos);
    }
    // Wrapped exactly at the end of the block: the next block starts with a change.
    if (frames_to_cycle_end() == 0) {
        apply({transport_command::kind::locate_beat, 0, state_.cycle_start, 0});
    }
}

}  // namespace umpd::lv2
