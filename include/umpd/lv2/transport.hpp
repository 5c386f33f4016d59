// umpd's one transport: tempo, meter, position, playing, recording, cycling.
//
// Threads: a transport belongs to the render thread. The control thread hands changes
// over as transport_command values (the service will carry them through its command
// queue); the render thread applies them between blocks (apply) or at a frame inside a
// block (plan_block). Nothing here allocates, locks or waits.
//
// Timeline and rounding (double precision throughout):
// - frame is the transport position in samples; it advances only while playing.
// - beat is the musical position in beats of beat_unit since the origin. While rolling
//   it is computed from an anchor, never accumulated: beat(frame) = anchor_beat +
//   (frame - anchor_frame) * bpm / (60 * sample_rate). The anchor moves on every
//   discontinuity (play, locate, tempo change, cycle wrap), so no rounding error builds
//   up over a long run.
// - locate(frame) maps the frame to beats with the current tempo (a constant tempo
//   map): beat = frame * bpm / (60 * rate). locate_beat(b) sets beat = b and the frame
//   to round(b * 60 * rate / bpm).
// - bar = floor(beat / beats_per_bar + 1e-9) (0-based; the epsilon keeps a downbeat
//   that is 1 ulp short in its own bar), bar_beat = beat - bar * beats_per_bar, never
//   negative.
// - A cycle wrap happens at the first frame whose beat is >= cycle_end:
//   ceil((cycle_end - beat) * 60 * rate / bpm) frames after the current frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace umpd::lv2 {

struct transport_state {
    double sample_rate = 48000.0;
    double bpm = 120.0;
    double beats_per_bar = 4.0;
    std::int32_t beat_unit = 4;
    std::int64_t frame = 0;
    double beat = 0.0;
    bool playing = false;
    bool recording = false;
    bool cycling = false;
    double cycle_start = 0.0;  // beats
    double cycle_end = 0.0;    // beats; cycling needs cycle_end > cycle_start
};

// What a plugin receives in a time:Position object.
struct position {
    std::int64_t frame = 0;
    float speed = 0.0f;              // 0 stopped, 1 rolling
    std::int64_t bar = 0;            // 0-based
    float bar_beat = 0.0f;
    double beat = 0.0;
    std::int32_t beat_unit = 4;
    float beats_per_bar = 4.0f;
    float beats_per_minute = 120.0f;
    float frames_per_second = 48000.0f;
};
[[nodiscard]] position position_of(const transport_state& s) noexcept;

struct transport_command {
    enum class kind : std::uint8_t { play, stop, locate_frame, locate_beat, tempo, meter, record, cycle };
    kind what = kind::play;
    std::uint32_t offset = 0;  // frame inside the block (plan_block); ignored by apply()
    double a = 0.0;            // locate: frame or beat; tempo: bpm; meter: beats per bar; record: 0/1;
                               // cycle: start beat (a == b turns cycling off)
    double b = 0.0;            // meter: beat unit; cycle: end beat
};

inline constexpr std::size_t max_block_positions = 16;

// The positions plugins receive in one block: points[0] is at frame 0 and is sent when
// changed_at_start (or to an instance that has never had one); the others are changes
// inside the block (commands, cycle wraps), in frame order.
struct block_timeline {
    std::uint32_t frames = 0;
    bool changed_at_start = false;
    std::uint32_t count = 0;  // valid entries of points (>= 1 after plan_block)
    struct point {
        std::uint32_t offset = 0;
        position pos;
    };
    std::array<point, max_block_positions> points{};
    double bpm = 120.0;  // for BPM-designated control ports: the tempo at the block's start
    std::uint32_t dropped_changes = 0;  // changes beyond max_block_positions (applied, not sent)
};

class transport {
public:
    explicit transport(double sample_rate) noexcept;

    // Render thread, between blocks. Out-of-range values are clamped: bpm to
    // [1, 999], beats per bar to [1, 64], beat unit to 1..64; NaN is ignored.
    void apply(const transport_command& c) noexcept;

    // Render thread: applies the block's commands at their offsets (sorted by offset by
    // the caller; offsets past the block are clamped to its last frame), fills the
    // block's positions and advances the transport by `frames`.
    void plan_block(std::uint32_t frames, std::span<const transport_command> commands, block_timeline& out) noexcept;

    [[nodiscard]] const transport_state& state() const noexcept { return state_; }

private:
    void reanchor() noexcept;
    void advance(std::uint32_t frames) noexcept;
    [[nodiscard]] double frames_per_beat() const noexcept { return 60.0 * state_.sample_rate / state_.bpm; }
    // Frames until the cycle end is reached from the current position; UINT32_MAX when not cycling.
    [[nodiscard]] std::uint64_t frames_to_cycle_end() const noexcept;

    transport_state state_;
    std::int64_t anchor_frame_ = 0;
    double anchor_beat_ = 0.0;
    bool dirty_ = true;  // something changed since the last block: send a position at frame 0
};

}  // namespace umpd::lv2
