#include "umpd/client/spin_wait.hpp"

#include <poll.h>

#include <cerrno>
#include <ctime>

#include "umpd/client/client.hpp"

namespace umpd::client {

namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

}  // namespace

bool wait_for_data(ipc::ring_reader& r, const ipc::wake& w, std::chrono::nanoseconds timeout,
                   std::chrono::nanoseconds spin) noexcept {
    if (!r.empty()) return true;
    const std::uint64_t start = now_ns();
    const auto spin_ns = static_cast<std::uint64_t>(spin.count() > 0 ? spin.count() : 0);
    const auto timeout_ns = static_cast<std::uint64_t>(timeout.count() > 0 ? timeout.count() : 0);
    const std::uint64_t spin_end = start + (timeout.count() >= 0 && timeout_ns < spin_ns ? timeout_ns : spin_ns);
    while (now_ns() < spin_end) {
        for (int i = 0; i < 32; ++i) {
            if (!r.empty()) return true;
            cpu_relax();
        }
    }
    for (;;) {
        if (!r.prepare_to_sleep()) return true;  // a message raced in
        timespec ts{};
        timespec* tsp = nullptr;
        if (timeout.count() >= 0) {
            const std::uint64_t now = now_ns();
            const std::uint64_t end = start + timeout_ns;
            if (now >= end) return false;
            const std::uint64_t left = end - now;
            ts.tv_sec = static_cast<time_t>(left / 1'000'000'000u);
            ts.tv_nsec = static_cast<long>(left % 1'000'000'000u);
            tsp = &ts;
        }
        pollfd p{w.fd(), POLLIN, 0};
        const int n = ::ppoll(&p, 1, tsp, nullptr);
        if (n > 0) w.drain();
        if (!r.empty()) {
            r.woke_up();
            return true;
        }
        if (n == 0 && timeout.count() >= 0 && now_ns() >= start + timeout_ns) return false;
    }
}

}  // namespace umpd::client
