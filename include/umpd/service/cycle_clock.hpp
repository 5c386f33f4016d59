// The block clock drivers share without knowing each other: the JACK driver publishes
// every JACK cycle into it (while its client is connected), and the lv2 driver's render
// thread waits on it to render on the JACK cycle (docs/plugin-host.md, "On the JACK
// cycle"). The daemon makes one and gives it to both factories (tools/umpd/main.cpp).
//
// Threads:
// - publish(): one real-time thread at a time (JACK's process callback). Stores a few
//   atomics and wakes a waiter with one futex call when there is one. No allocation,
//   no lock.
// - latest(), wait(), nudge(): any thread. wait() sleeps on the futex; nudge() wakes
//   every waiter (a render thread told to stop or to take a new set of instances).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace umpd::service {

// One JACK cycle, as its process callback saw it.
struct cycle_info {
    std::uint64_t sequence = 0;  // 1, 2, ... per published cycle; 0: none yet
    std::uint64_t start_ns = 0;  // CLOCK_MONOTONIC time of the cycle's first frame
    std::uint32_t frames = 0;    // the cycle's frames (JACK's period)
    std::uint32_t rate = 0;      // JACK's sample rate
};

class cycle_clock {
public:
    void publish(std::uint64_t start_ns, std::uint32_t frames, std::uint32_t rate) noexcept {
        // A sequence lock over atomic words: odd while writing.
        const std::uint64_t seq = seq_.load(std::memory_order_relaxed);
        seq_.store(seq + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        start_.store(start_ns, std::memory_order_relaxed);
        shape_.store((std::uint64_t{frames} << 32) | rate, std::memory_order_relaxed);
        seq_.store(seq + 2, std::memory_order_release);
        bump();
    }

    [[nodiscard]] cycle_info latest() const noexcept {
        for (;;) {
            const std::uint64_t before = seq_.load(std::memory_order_acquire);
            if (before & 1u) continue;  // the writer is inside a handful of stores
            const std::uint64_t start = start_.load(std::memory_order_relaxed);
            const std::uint64_t shape = shape_.load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (seq_.load(std::memory_order_relaxed) != before) continue;
            cycle_info c;
            c.sequence = before / 2;
            c.start_ns = start;
            c.frames = static_cast<std::uint32_t>(shape >> 32);
            c.rate = static_cast<std::uint32_t>(shape & 0xFFFF'FFFFu);
            return c;
        }
    }

    // Returns the newest cycle once its sequence is above `after`, or whatever is latest
    // when timeout_ns passed or nudge() was called.
    [[nodiscard]] cycle_info wait(std::uint64_t after, std::uint64_t timeout_ns) noexcept {
        const std::uint32_t seen = word_.load(std::memory_order_acquire);
        const cycle_info now = latest();
        if (now.sequence > after) return now;
        timespec limit{};
        limit.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000u);
        limit.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000u);
        waiters_.fetch_add(1, std::memory_order_seq_cst);
        ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, seen, &limit, nullptr, 0);
        waiters_.fetch_sub(1, std::memory_order_seq_cst);
        return latest();
    }

    void nudge() noexcept { bump(); }

private:
    void bump() noexcept {
        word_.fetch_add(1, std::memory_order_seq_cst);
        if (waiters_.load(std::memory_order_seq_cst) != 0)
            ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, 0x7fffffff, nullptr,
                      nullptr, 0);
    }

    std::atomic<std::uint64_t> seq_{0};
    std::atomic<std::uint64_t> start_{0};
    std::atomic<std::uint64_t> shape_{0};
    std::atomic<std::uint32_t> word_{0};  // the futex: bumped by publish() and nudge()
    std::atomic<std::uint32_t> waiters_{0};
};

}  // namespace umpd::service
