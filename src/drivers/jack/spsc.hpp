// A fixed-capacity single-producer single-consumer ring of trivially copyable values:
// the hand-over between JACK's process thread and umpd's threads. push, peek and pop
// allocate nothing, lock nothing and never wait; capacity is fixed at construction
// (rounded up to a power of two). Exactly one thread pushes and one thread pops.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <type_traits>

namespace umpd::jack::detail {

template <typename T>
class spsc_ring {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    explicit spsc_ring(std::size_t capacity) : size_(round_up(capacity)), data_(new T[size_]) {}

    // Producer. False (nothing written) when full.
    bool push(const T& v) noexcept {
        const std::size_t w = write_.load(std::memory_order_relaxed);
        if (w - read_.load(std::memory_order_acquire) == size_) return false;
        data_[w & (size_ - 1)] = v;
        write_.store(w + 1, std::memory_order_release);
        return true;
    }

    // Consumer. The oldest value, or null when empty; stays valid until pop().
    [[nodiscard]] const T* peek() const noexcept {
        const std::size_t r = read_.load(std::memory_order_relaxed);
        if (write_.load(std::memory_order_acquire) == r) return nullptr;
        return &data_[r & (size_ - 1)];
    }
    // Consumer. Precondition: peek() returned a value.
    void pop() noexcept { read_.store(read_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

    [[nodiscard]] bool empty() const noexcept {
        return write_.load(std::memory_order_acquire) == read_.load(std::memory_order_acquire);
    }

private:
    static std::size_t round_up(std::size_t n) {
        std::size_t s = 2;
        while (s < n) s <<= 1;
        return s;
    }

    std::size_t size_;
    std::unique_ptr<T[]> data_;
    alignas(64) std::atomic<std::size_t> write_{0};
    alignas(64) std::atomic<std::size_t> read_{0};
};

}  // namespace umpd::jack::detail
