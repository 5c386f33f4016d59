// A single-producer single-consumer ring of variable-size records ([u32 size][bytes]),
// for the hand-over between the render thread and the worker or control thread.
// push and pop allocate nothing and lock nothing; capacity is fixed at construction.
// Exactly one thread pushes and exactly one thread pops.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace umpd::lv2 {

class record_ring {
public:
    explicit record_ring(std::size_t capacity_bytes) : size_(round_up(capacity_bytes)), data_(new std::uint8_t[size_]) {}

    // Producer. False (nothing written) when the record does not fit.
    bool push(const void* data, std::uint32_t size) noexcept {
        const std::size_t need = sizeof(std::uint32_t) + size;
        const std::size_t w = write_.load(std::memory_order_relaxed);
        const std::size_t r = read_.load(std::memory_order_acquire);
        if (size_ - (w - r) < need) return false;
        copy_in(w, &size, sizeof size);
        copy_in(w + sizeof size, data, size);
        write_.store(w + need, std::memory_order_release);
        return true;
    }

    // Consumer. Copies the next record into out (capacity out_size) and returns its
    // size; 0 when empty. A record larger than out_size is skipped and reported as 0
    // with *skipped set.
    std::uint32_t pop(void* out, std::uint32_t out_size, bool* skipped = nullptr) noexcept {
        const std::size_t r = read_.load(std::memory_order_relaxed);
        const std::size_t w = write_.load(std::memory_order_acquire);
        if (w == r) return 0;
        std::uint32_t size = 0;
        copy_out(r, &size, sizeof size);
        if (size <= out_size) {
            copy_out(r + sizeof size, out, size);
        } else if (skipped) {
            *skipped = true;
        }
        read_.store(r + sizeof size + size, std::memory_order_release);
        return size <= out_size ? size : 0;
    }

    [[nodiscard]] bool empty() const noexcept {
        return write_.load(std::memory_order_acquire) == read_.load(std::memory_order_relaxed);
    }

private:
    static std::size_t round_up(std::size_t n) {
        std::size_t s = 64;
        while (s < n) s <<= 1;
        return s;
    }
    void copy_in(std::size_t at, const void* src, std::size_t n) noexcept {
        const std::size_t i = at & (size_ - 1);
        const std::size_t first = n < size_ - i ? n : size_ - i;
        std::memcpy(data_.get() + i, src, first);
        std::memcpy(data_.get(), static_cast<const std::uint8_t*>(src) + first, n - first);
    }
    void copy_out(std::size_t at, void* dst, std::size_t n) const noexcept {
        const std::size_t i = at & (size_ - 1);
        const std::size_t first = n < size_ - i ? n : size_ - i;
        std::memcpy(dst, data_.get() + i, first);
        std::memcpy(static_cast<std::uint8_t*>(dst) + first, data_.get(), n - first);
    }

    std::size_t size_;
    std::unique_ptr<std::uint8_t[]> data_;
    alignas(64) std::atomic<std::size_t> write_{0};
    alignas(64) std::atomic<std::size_t> read_{0};
};

}  // namespace umpd::lv2
