// The lv2 driver's render thread: every plugin instance in fixed blocks, on the JACK
// cycle while JACK runs at [lv2] sample_rate, else on umpd's own clock (CLOCK_MONOTONIC,
// clock_nanosleep to absolute deadlines); and the transport.
//
// Timing (docs/plugin-host.md, "In the service"): block n covers the input window
// [W_n, W_n + D) with D = block_size / sample_rate and W_n = origin + n * D (computed
// from the frame count, never accumulated). It is rendered at W_n + D + safety, when
// every message stamped inside the window has reached the instance's owner ring (the
// endpoints have the router's early delivery, so a message stamped ahead is there long
// before; the margin is for messages sent for "now"), and
// its output plays at W_n + latency, latency = D + safety: a message stamped t goes to
// frame round((t - W_n) * rate), an event at frame f is stamped W_n + latency +
// round(f / rate). A message stamped before the window (late) goes to frame 0; one
// stamped after it waits for its block.
//
// On the JACK cycle (docs/plugin-host.md, "On the JACK cycle"): the JACK driver publishes
// every cycle into a service::cycle_clock; the render thread waits on it instead of
// sleeping. At the cycle starting at S with N frames it renders the period just ended,
// [S - N/rate, S), in blocks of block_size frames (the last one shorter when N is not a
// multiple; one block of N when N < block_size), with latency 2N frames: the output
// is stamped on the frames of the next JACK cycle (block starts and input frames line up
// with JACK's too). No
// cycle for jack_timeout_ns (the server went away) or a JACK rate other than
// sample_rate: umpd's own clock, until fresh cycles at the right rate come again.
//
// Threads:
// - control thread: start/stop, set_slots (waits until the render thread has let go of
//   the previous set), push (a transport command, now or at a time), state(),
//   wait_applied(), take_applied() (scheduled changes that happened, when
//   applied_fd() is readable).
// - render thread: everything else. It allocates nothing, takes no lock, and makes no
//   system call but clock_nanosleep, clock_gettime and the futexes of its idle sleep and
//   of the cycle clock (and what the instances' worker semaphores and
//   local_connection::flush do). With no
//   instance and the transport stopped it sleeps on a futex until the control thread
//   hands it something (when following JACK: at most 50 ms, to look at JACK's transport).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "jack_transport.hpp"
#include "umpd/ipc/fd.hpp"
#include "umpd/lv2/instance.hpp"
#include "umpd/lv2/transport.hpp"
#include "umpd/service/cycle_clock.hpp"
#include "umpd/service/local_connection.hpp"

namespace umpd::lv2::service_detail {

// What the render thread needs of one instance; built and owned by the control thread,
// read only by the render thread while it is in the published set.
struct render_slot {
    instance* plugin = nullptr;
    // MIDI input i is read from inputs[i] (the owner side of endpoint i); MIDI output o
    // is written to outputs[o].
    std::vector<service::local_connection*> inputs;
    std::vector<service::local_connection*> outputs;
    // Endpoints with no MIDI input (k >= inputs.size()): what clients send there is
    // read and dropped, so it does not fill the ring.
    std::vector<service::local_connection*> discard;

    // Render-thread scratch, sized on the control thread (pending_capacity each).
    struct input_buffers {
        std::vector<timed_packet> pending;  // read, not yet due (stamped after the window)
        std::size_t pending_count = 0;
        std::vector<timed_packet> block;    // this block's messages, shifted by the latency
        std::size_t block_count = 0;
    };
    std::vector<input_buffers> buffers;
    std::vector<std::span<const timed_packet>> spans;
    std::uint64_t input_overflow = 0;  // render thread only: messages left in a ring for lack of room

    static constexpr std::size_t pending_capacity = 1024;
    void prepare();  // control thread: sizes buffers and spans
};

// A transport_state with the time of the block it describes, for the control thread.
struct transport_snapshot {
    transport_state state;
    std::uint64_t time_ns = 0;  // CLOCK_MONOTONIC ns at which `state` holds (output time of its block)
};

// Which clock the render thread is on, and why (for the status line and plugin info).
struct render_clock {
    enum class source : std::uint8_t {
        umpd,          // umpd's own clock: no JACK cycles (no JACK driver, or no server yet)
        jack,          // on the JACK cycle
        rate_differs,  // umpd's own clock: JACK runs at jack_rate, not sample_rate
        jack_stopped,  // umpd's own clock: JACK's cycles stopped (the server went away)
    };
    source on = source::umpd;
    std::uint32_t jack_frames = 0;  // JACK's period (jack)
    std::uint32_t jack_rate = 0;    // JACK's rate (jack, rate_differs)
    friend bool operator==(const render_clock&, const render_clock&) = default;
};

class renderer {
public:
    // cycles: JACK's cycles to render on when they come at sample_rate (null: never).
    renderer(std::uint32_t sample_rate, std::uint32_t block_size, service::cycle_clock* cycles = nullptr);
    ~renderer();
    renderer(const renderer&) = delete;
    renderer& operator=(const renderer&) = delete;

    // Control thread.
    void start();
    void stop();
    // Publishes the set of instances to render; returns once the render thread no
    // longer uses the previous one (at most a block and its safety margin later).
    void set_slots(std::vector<render_slot*> slots);
    // Queues a transport change; false when the queue is full. at_ns 0 (or a time
    // already passed when its block is rendered): at frame 0 of the next block; else at
    // the frame of the block whose output covers at_ns (round((at_ns - block output
    // start) * rate / 1e9)), where every instance gets a time:Position. `sequence`:
    // what wait_applied waits for (immediate changes only).
    [[nodiscard]] bool push(const transport_command& c, std::uint64_t at_ns, std::uint64_t& sequence);
    // Waits (up to a second) until the render thread applied command `sequence` and
    // every immediate one before it.
    [[nodiscard]] bool wait_applied(std::uint64_t sequence) const;
    // Scheduled changes (at_ns != 0) applied since the last call, oldest first;
    // applied_fd() becomes readable when there are some (drained by this call).
    [[nodiscard]] std::vector<transport_command::kind> take_applied();
    [[nodiscard]] int applied_fd() const noexcept { return applied_wake_.fd(); }
    [[nodiscard]] transport_snapshot state() const noexcept;

    // Control thread, while the render thread is stopped: follow JACK's transport
    // whenever it has a timebase master (null: never). Changes it causes are logged like
    // scheduled ones (take_applied).
    void follow(const jack_transport_follower* jack) noexcept { jack_ = jack; }

    // The current clock (any thread); applied_fd() becomes readable when it changes.
    [[nodiscard]] render_clock clock() const noexcept;
    // From an input timestamp to its output timestamp, on the current clock.
    [[nodiscard]] std::uint64_t latency_ns() const noexcept;
    [[nodiscard]] std::uint64_t late_blocks() const noexcept { return late_blocks_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint32_t sample_rate() const noexcept { return rate_; }
    [[nodiscard]] std::uint32_t block_size() const noexcept { return block_; }

    static constexpr std::uint64_t safety_ns = 2'000'000;  // after a window, before rendering it
    // No JACK cycle for this long: back to umpd's own clock.
    static constexpr std::uint64_t jack_timeout_ns = 200'000'000;
    static constexpr std::size_t command_capacity = 64;

private:
    void run() noexcept;
    void render_block(std::uint64_t window_start, std::uint64_t window_end, std::uint32_t frames,
                      std::uint64_t latency) noexcept;
    // Render thread: the JACK period before the cycle `c` started, in blocks.
    void render_cycle(const service::cycle_info& c) noexcept;
    void set_clock(render_clock k) noexcept;
    // Render thread: this block's commands, in frame order, into `out`; returns how many.
    // Render thread: commands that bring the transport to JACK's (at frame 0), into `out`.
    std::size_t follow_jack(std::span<transport_command> out) noexcept;
    [[nodiscard]] bool jack_differs() const noexcept;  // follow_jack would change something
    void log_applied(transport_command::kind k) noexcept;
    // `immediate`: the highest sequence of an at-once command among them (0: none);
    // `scheduled`: whether a timed one is among them.
    std::size_t take_commands(std::uint64_t out_start, std::uint32_t frames, std::span<transport_command> out,
                              std::uint64_t& immediate, bool& scheduled) noexcept;
    void publish(std::uint64_t time_ns) noexcept;
    void wake() noexcept;
    [[nodiscard]] std::uint64_t frames_ns(std::uint64_t frames) const noexcept;

    const std::uint32_t rate_;
    const std::uint32_t block_;
    const std::uint64_t latency_ns_;
    transport transport_;
    block_timeline timeline_{};
    std::thread thread_;
    bool running_ = false;

    // Set hand-over: the control thread owns the sets; the render thread reads the
    // current one and acknowledges the generation it took.
    std::vector<std::unique_ptr<std::vector<render_slot*>>> sets_;  // control thread; back() is current
    std::atomic<const std::vector<render_slot*>*> current_{nullptr};
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::uint64_t> acknowledged_{0};
    std::atomic<std::uint32_t> wake_word_{0};  // futex: bumped on every hand-over
    std::atomic<bool> stop_requested_{false};

    // Transport commands: single producer (control), single consumer (render).
    struct timed_command {
        transport_command command;
        std::uint64_t at_ns = 0;     // 0: at once
        std::uint64_t sequence = 0;
    };
    std::array<timed_command, command_capacity> commands_{};
    std::atomic<std::uint64_t> commands_head_{0};
    std::atomic<std::uint64_t> commands_tail_{0};
    std::atomic<std::uint64_t> applied_sequence_{0};  // the highest immediate command applied
    // Render thread: taken from the ring, waiting for their block (sorted by at_ns).
    std::array<timed_command, command_capacity> waiting_{};
    std::size_t waiting_count_ = 0;
    // Scheduled changes applied, for the control thread (SPSC, render → control).
    std::array<transport_command::kind, command_capacity> applied_log_{};
    std::atomic<std::uint64_t> applied_head_{0};
    std::atomic<std::uint64_t> applied_tail_{0};
    ipc::wake applied_wake_;
    const jack_transport_follower* jack_ = nullptr;
    service::cycle_clock* const cycles_;
    // render_clock packed: source (8 bits) | frames (24 bits) | rate (32 bits).
    std::atomic<std::uint64_t> clock_word_{0};

    // Transport state for the control thread: a sequence lock over atomic words.
    static constexpr std::size_t snapshot_words = (sizeof(transport_snapshot) + 7) / 8;
    std::atomic<std::uint32_t> snapshot_seq_{0};
    std::array<std::atomic<std::uint64_t>, snapshot_words> snapshot_{};

    std::atomic<std::uint64_t> late_blocks_{0};
};

}  // namespace umpd::lv2::service_detail
