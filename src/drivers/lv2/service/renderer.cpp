// The lv2 driver's render thread (see renderer.hpp).
#include "renderer.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <system_error>
#include <thread>
#include <type_traits>

namespace umpd::lv2::service_detail {

namespace {

[[nodiscard]] std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void sleep_until(std::uint64_t t) noexcept {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(t / 1'000'000'000u);
    ts.tv_nsec = static_cast<long>(t % 1'000'000'000u);
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

// Sleeps while word == seen. Every hand-over bumps the word before waking, so a change
// made between reading `seen` and sleeping returns at once.
// `limit` (may be null): the longest sleep.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen, const timespec* limit = nullptr) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, limit, nullptr, 0);
}

// How often an idle render thread looks at JACK's transport.
constexpr timespec jack_idle_poll{0, 50'000'000};

void futex_wake(std::atomic<std::uint32_t>& word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

// How much a block may be late before the clock is re-anchored instead of catching up.
constexpr std::uint64_t max_lateness_ns = 100'000'000;

}  // namespace

static_assert(std::is_trivially_copyable_v<transport_snapshot>, "copied through the sequence lock as words");

void render_slot::prepare() {
    buffers.assign(inputs.size(), {});
    for (auto& b : buffers) {
        b.pending.resize(pending_capacity);
        b.block.resize(pending_capacity);
    }
    spans.assign(inputs.size(), {});
}

renderer::renderer(std::uint32_t sample_rate, std::uint32_t block_size, service::cycle_clock* cycles)
    : rate_(sample_rate),
      block_(block_size),
      latency_ns_(frames_ns(block_size) + safety_ns),
      transport_(static_cast<double>(sample_rate)),
      cycles_(cycles) {
    if (auto ec = ipc::wake::create(applied_wake_)) throw std::system_error(ec, "lv2 renderer: eventfd");
    sets_.push_back(std::make_unique<std::vector<render_slot*>>());
    current_.store(sets_.back().get(), std::memory_order_release);
    publish(0);
}

renderer::~renderer() { stop(); }

std::uint64_t renderer::frames_ns(std::uint64_t frames) const noexcept {
    // Exact for any run length: whole seconds apart, the remainder rounded half up.
    return frames / rate_ * 1'000'000'000u + ((frames % rate_) * 1'000'000'000u + rate_ / 2) / rate_;
}

void renderer::start() {
    if (running_) return;
    stop_requested_.store(false, std::memory_order_release);
    thread_ = std::thread([this] { run(); });
    running_ = true;
}

void renderer::stop() {
    if (!running_) return;
    stop_requested_.store(true, std::memory_order_release);
    wake();
    thread_.join();
    running_ = false;
}

void renderer::wake() noexcept {
    wake_word_.fetch_add(1, std::memory_order_acq_rel);
    futex_wake(wake_word_);
    if (cycles_ != nullptr) cycles_->nudge();  // a render thread waiting for JACK's next cycle
}

render_clock renderer::clock() const noexcept {
    const std::uint64_t w = clock_word_.load(std::memory_order_acquire);
    render_clock k;
    k.on = static_cast<render_clock::source>(w >> 56);
    k.jack_frames = static_cast<std::uint32_t>((w >> 32) & 0xFF'FFFFu);
    k.jack_rate = static_cast<std::uint32_t>(w & 0xFFFF'FFFFu);
    return k;
}

std::uint64_t renderer::latency_ns() const noexcept {
    const render_clock k = clock();
    return k.on == render_clock::source::jack ? frames_ns(2 * std::uint64_t{k.jack_frames}) : latency_ns_;
}

void renderer::set_clock(render_clock k) noexcept {
    const std::uint64_t w = (std::uint64_t{static_cast<std::uint8_t>(k.on)} << 56) |
                            (std::uint64_t{k.jack_frames & 0xFF'FFFFu} << 32) | k.jack_rate;
    if (clock_word_.exchange(w, std::memory_order_acq_rel) != w) applied_wake_.signal();
}

void renderer::set_slots(std::vector<render_slot*> slots) {
    sets_.push_back(std::make_unique<std::vector<render_slot*>>(std::move(slots)));
    current_.store(sets_.back().get(), std::memory_order_release);
    const std::uint64_t gen = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (running_) {
        wake();
        while (acknowledged_.load(std::memory_order_acquire) < gen)
            std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    // The render thread holds the newest set only: the older ones can go.
    sets_.erase(sets_.begin(), sets_.end() - 1);
}

bool renderer::push(const transport_command& c, std::uint64_t at_ns, std::uint64_t& sequence) {
    const std::uint64_t head = commands_head_.load(std::memory_order_relaxed);
    if (head - commands_tail_.load(std::memory_order_acquire) >= command_capacity) return false;
    sequence = head + 1;
    commands_[head % command_capacity] = timed_command{c, at_ns, sequence};
    commands_head_.store(head + 1, std::memory_order_release);
    if (running_) wake();
    else {
        // No render thread (not started yet): apply here; the caller is the only thread.
        transport_.apply(c);
        commands_tail_.store(head + 1, std::memory_order_release);
        applied_sequence_.store(sequence, std::memory_order_release);
        publish(monotonic_ns());
    }
    return true;
}

bool renderer::wait_applied(std::uint64_t sequence) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (applied_sequence_.load(std::memory_order_acquire) < sequence) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

std::vector<transport_command::kind> renderer::take_applied() {
    applied_wake_.drain();
    std::vector<transport_command::kind> out;
    const std::uint64_t head = applied_head_.load(std::memory_order_acquire);
    std::uint64_t tail = applied_tail_.load(std::memory_order_relaxed);
    for (; tail != head; ++tail) out.push_back(applied_log_[tail % command_capacity]);
    applied_tail_.store(tail, std::memory_order_release);
    return out;
}

void renderer::publish(std::uint64_t time_ns) noexcept {
    transport_snapshot s;
    s.state = transport_.state();
    s.time_ns = time_ns;
    std::array<std::uint64_t, snapshot_words> words{};
    std::memcpy(words.data(), &s, sizeof s);
    const std::uint32_t seq = snapshot_seq_.load(std::memory_order_relaxed);
    snapshot_seq_.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (std::size_t i = 0; i < snapshot_words; ++i) snapshot_[i].store(words[i], std::memory_order_relaxed);
    snapshot_seq_.store(seq + 2, std::memory_order_release);
}

transport_snapshot renderer::state() const noexcept {
    std::array<std::uint64_t, snapshot_words> words{};
    for (;;) {
        const std::uint32_t before = snapshot_seq_.load(std::memory_order_acquire);
        if (before & 1u) {
            std::this_thread::yield();
            continue;
        }
        for (std::size_t i = 0; i < snapshot_words; ++i) words[i] = snapshot_[i].load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (snapshot_seq_.load(std::memory_order_relaxed) == before) break;
    }
    transport_snapshot s;
    std::memcpy(static_cast<void*>(&s), words.data(), sizeof s);
    return s;
}

void renderer::run() noexcept {
    // Real-time priority when the system grants it; umpd runs on without it.
    sched_param param{};
    param.sched_priority = 70;
    (void)::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param);

    std::uint64_t origin = 0;
    std::uint64_t frames = 0;
    bool anchored = false;
    bool on_jack = false;
    std::uint64_t jack_seq = 0;    // the last JACK cycle rendered (on_jack) or seen (not)
    std::uint64_t jack_heard = 0;  // monotonic time the last JACK cycle arrived
    while (!stop_requested_.load(std::memory_order_acquire)) {
        const std::uint32_t seen = wake_word_.load(std::memory_order_acquire);
        const std::uint64_t gen = generation_.load(std::memory_order_acquire);
        const std::vector<render_slot*>* set = current_.load(std::memory_order_acquire);
        acknowledged_.store(gen, std::memory_order_release);
        const bool commands = commands_head_.load(std::memory_order_acquire) !=
                                  commands_tail_.load(std::memory_order_relaxed) ||
                              waiting_count_ != 0;
        if (set->empty() && !transport_.state().playing && !commands && !jack_differs()) {
            // Idle: nothing to render and no time to keep (JACK looked at now and then).
            futex_wait(wake_word_, seen, jack_ != nullptr ? &jack_idle_poll : nullptr);
            anchored = false;
            continue;
        }
        if (on_jack) {
            const service::cycle_info c = cycles_->wait(jack_seq, jack_timeout_ns);
            if (stop_requested_.load(std::memory_order_acquire)) break;
            const std::uint64_t now = monotonic_ns();
            if (c.sequence == jack_seq) {  // a nudge, or no cycle in time
                if (now - jack_heard > jack_timeout_ns) {
                    on_jack = false;
                    anchored = false;
                    set_clock({render_clock::source::jack_stopped, 0, 0});
                }
                continue;
            }
            if (c.rate != rate_ || c.frames == 0) {
                on_jack = false;
                anchored = false;
                set_clock({render_clock::source::rate_differs, 0, c.rate});
                jack_seq = c.sequence;
                continue;
            }
            if (c.sequence > jack_seq + 1) late_blocks_.fetch_add(1, std::memory_order_relaxed);  // missed cycles
            jack_seq = c.sequence;
            jack_heard = now;
            set_clock({render_clock::source::jack, c.frames, c.rate});
            render_cycle(c);
            continue;
        }
        if (cycles_ != nullptr) {
            // Fresh JACK cycles at our rate: over to them.
            const service::cycle_info c = cycles_->latest();
            if (c.sequence > jack_seq) {
                const std::uint64_t now = monotonic_ns();
                const bool fresh = jack_seq != 0 || (c.start_ns <= now && now - c.start_ns < jack_timeout_ns);
                jack_seq = c.sequence;
                if (fresh && c.rate == rate_ && c.frames != 0) {
                    on_jack = true;
                    jack_heard = now;
                    continue;
                }
                if (fresh && c.rate != rate_) set_clock({render_clock::source::rate_differs, 0, c.rate});
            }
        }
        if (!anchored) {
            origin = monotonic_ns();
            frames = 0;
            anchored = true;
        }
        const std::uint64_t window_start = origin + frames_ns(frames);
        const std::uint64_t window_end = origin + frames_ns(frames + block_);
        const std::uint64_t deadline = window_end + safety_ns;
        sleep_until(deadline);
        if (stop_requested_.load(std::memory_order_acquire)) break;
        const std::uint64_t now = monotonic_ns();
        if (now > deadline + max_lateness_ns) {
            // Far behind (a suspended machine, a stalled thread): start again from now
            // rather than rendering a burst of old blocks.
            late_blocks_.fetch_add(1, std::memory_order_relaxed);
            origin = now - frames_ns(block_) - safety_ns;
            frames = 0;
            continue;
        }
        render_block(window_start, window_end, block_, latency_ns_);
        frames += block_;
    }
}

std::size_t renderer::take_commands(std::uint64_t out_start, std::uint32_t frames, std::span<transport_command> out,
                                    std::uint64_t& immediate, bool& scheduled) noexcept {
    // From the ring into the waiting list, kept sorted by time (stable: equal times keep
    // the order they were sent in; "at once" sorts first).
    const std::uint64_t head = commands_head_.load(std::memory_order_acquire);
    std::uint64_t tail = commands_tail_.load(std::memory_order_relaxed);
    for (; tail != head && waiting_count_ < waiting_.size(); ++tail) {
        const timed_command c = commands_[tail % command_capacity];
        std::size_t i = waiting_count_++;
        for (; i > 0 && waiting_[i - 1].at_ns > c.at_ns; --i) waiting_[i] = waiting_[i - 1];
        waiting_[i] = c;
    }
    commands_tail_.store(tail, std::memory_order_release);

    // Those due in this block, at their frames (non-decreasing, as plan_block wants).
    const std::uint64_t out_end = out_start + frames_ns(frames);
    std::size_t n = 0;
    immediate = 0;
    scheduled = false;
    for (; n < waiting_count_ && n < out.size(); ++n) {
        const timed_command& c = waiting_[n];
        if (c.at_ns >= out_end) break;
        out[n] = c.command;
        out[n].offset = 0;
        if (c.at_ns > out_start) {
            const std::uint64_t f = ((c.at_ns - out_start) * rate_ + 500'000'000u) / 1'000'000'000u;
            out[n].offset = static_cast<std::uint32_t>(f < frames ? f : frames - 1);
        }
        if (c.at_ns == 0) {
            immediate = c.sequence > immediate ? c.sequence : immediate;
        } else {
            scheduled = true;
            log_applied(c.command.what);
        }
    }
    for (std::size_t i = n; i < waiting_count_; ++i) waiting_[i - n] = waiting_[i];
    waiting_count_ -= n;
    return n;
}

void renderer::log_applied(transport_command::kind k) noexcept {
    const std::uint64_t h = applied_head_.load(std::memory_order_relaxed);
    if (h - applied_tail_.load(std::memory_order_acquire) >= command_capacity) return;
    applied_log_[h % command_capacity] = k;
    applied_head_.store(h + 1, std::memory_order_release);
}

bool renderer::jack_differs() const noexcept {
    jack_position j;
    if (jack_ == nullptr || !jack_->read(j) || !j.bbt) return false;
    const transport_state& s = transport_.state();
    return j.rolling != s.playing || std::abs(j.bpm - s.bpm) > 1e-9 ||
           std::abs(j.beats_per_bar - s.beats_per_bar) > 1e-9 || j.beat_unit != s.beat_unit ||
           std::abs(j.beat - s.beat) > 0.05 * j.bpm / 60.0;
}

std::size_t renderer::follow_jack(std::span<transport_command> out) noexcept {
    jack_position j;
    if (jack_ == nullptr || !jack_->read(j) || !j.bbt) return 0;  // no timebase master: umpd's own
    const transport_state& s = transport_.state();
    using k = transport_command::kind;
    std::size_t n = 0;
    auto add = [&](transport_command c) {
        if (n == out.size()) return;
        out[n++] = c;
        log_applied(c.what);
    };
    if (std::abs(j.bpm - s.bpm) > 1e-9) add({k::tempo, 0, j.bpm, 0.0});
    if (std::abs(j.beats_per_bar - s.beats_per_bar) > 1e-9 || j.beat_unit != s.beat_unit)
        add({k::meter, 0, j.beats_per_bar, static_cast<double>(j.beat_unit)});
    // JACK's position is that of its current cycle, ours that of this block: they differ
    // by less than a JACK period and a block while both roll. More than 50 ms worth of
    // beats apart is a locate (or drift to correct).
    const double tolerance = 0.05 * j.bpm / 60.0;
    if (std::abs(j.beat - s.beat) > tolerance) add({k::locate_beat, 0, j.beat, 0.0});
    if (j.rolling != s.playing) add({j.rolling ? k::play : k::stop, 0, 0.0, 0.0});
    return n;
}

void renderer::render_cycle(const service::cycle_info& c) noexcept {
    const std::uint64_t period = frames_ns(c.frames);
    if (c.start_ns < period) return;  // not a real time
    const std::uint64_t base = c.start_ns - period;
    const std::uint64_t latency = frames_ns(2 * std::uint64_t{c.frames});
    for (std::uint32_t k = 0; k < c.frames; k += block_) {
        const std::uint32_t n = c.frames - k < block_ ? c.frames - k : block_;
        render_block(base + frames_ns(k), base + frames_ns(std::uint64_t{k} + n), n, latency);
    }
}

void renderer::render_block(std::uint64_t window_start, std::uint64_t window_end, std::uint32_t frames,
                            std::uint64_t latency) noexcept {
    // Transport changes due in this block, at their frames: JACK's first (frame 0).
    std::array<transport_command, command_capacity> taken{};
    const std::uint64_t out_start = window_start + latency;
    std::uint64_t immediate = 0;
    bool scheduled = false;
    const std::size_t followed = follow_jack(std::span<transport_command>(taken.data(), 8));
    const std::size_t n =
        followed + take_commands(out_start, frames,
                                 std::span<transport_command>(taken.data() + followed, taken.size() - followed),
                                 immediate, scheduled);
    if (followed != 0) scheduled = true;  // announced like a scheduled change
    transport_.plan_block(frames, std::span<const transport_command>(taken.data(), n), timeline_);
    // The state now describes the end of this block; its time is the block's output end.
    publish(out_start + (window_end - window_start));
    // Only now: whoever waits for a change reads the state that has it.
    if (immediate > applied_sequence_.load(std::memory_order_relaxed))
        applied_sequence_.store(immediate, std::memory_order_release);
    if (scheduled) applied_wake_.signal();

    const std::vector<render_slot*>& set = *current_.load(std::memory_order_acquire);
    for (render_slot* slot : set) {
        for (std::size_t i = 0; i < slot->inputs.size(); ++i) {
            service::local_connection& conn = *slot->inputs[i];
            render_slot::input_buffers& b = slot->buffers[i];
            // Everything that has arrived, after what was already waiting.
            std::uint64_t ts = 0;
            core::packet p{};
            bool read_any = false;
            while (b.pending_count < b.pending.size()) {
                if (!conn.read(ts, p)) break;
                b.pending[b.pending_count++] = timed_packet{ts, p};
                read_any = true;
            }
            if (read_any) conn.release();
            if (b.pending_count == b.pending.size()) ++slot->input_overflow;
            // This window's messages (and late ones) now; later ones wait.
            b.block_count = 0;
            std::size_t kept = 0;
            for (std::size_t k = 0; k < b.pending_count; ++k) {
                const timed_packet& m = b.pending[k];
                if (m.timestamp_ns < window_end) {
                    const std::uint64_t at = m.timestamp_ns < window_start ? window_start : m.timestamp_ns;
                    b.block[b.block_count++] = timed_packet{at + latency, m.packet};
                } else {
                    b.pending[kept++] = m;
                }
            }
            b.pending_count = kept;
            // Early delivery passes messages on as they are read, so two senders' may
            // interleave out of time order: sort (stable, insertion: nearly sorted input).
            for (std::size_t k = 1; k < b.block_count; ++k) {
                const timed_packet m = b.block[k];
                std::size_t j = k;
                for (; j > 0 && b.block[j - 1].timestamp_ns > m.timestamp_ns; --j) b.block[j] = b.block[j - 1];
                b.block[j] = m;
            }
            slot->spans[i] = std::span<const timed_packet>(b.block.data(), b.block_count);
        }
        for (service::local_connection* conn : slot->discard) {
            std::uint64_t ts = 0;
            core::packet p{};
            bool read_any = false;
            while (conn->read(ts, p)) read_any = true;
            if (read_any) conn->release();
        }
        (void)slot->plugin->render(out_start, frames, slot->spans, &timeline_);
        for (std::size_t o = 0; o < slot->outputs.size(); ++o) {
            const auto events = slot->plugin->output(o);
            if (events.empty()) continue;
            service::local_connection& conn = *slot->outputs[o];
            for (const timed_packet& e : events) (void)conn.write(e.timestamp_ns, e.packet);
            conn.flush();
        }
    }
}

}  // namespace umpd::lv2::service_detail
