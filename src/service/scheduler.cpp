#include "scheduler.hpp"

#include <utility>

namespace umpd::service::detail {

scheduler::scheduler(std::uint32_t capacity)
    : heap_(std::make_unique<scheduled_message[]>(capacity)), capacity_(capacity) {}

bool scheduler::push(const scheduled_message& m) noexcept {
    if (size_ == capacity_) return false;
    heap_[size_] = m;
    heap_[size_].sequence = next_sequence_++;
    sift_up(size_);
    ++size_;
    return true;
}

void scheduler::pop() noexcept {
    if (size_ == 0) return;
    --size_;
    if (size_ != 0) {
        heap_[0] = heap_[size_];
        sift_down(0);
    }
}

void scheduler::sift_up(std::size_t i) noexcept {
    const scheduled_message m = heap_[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (!earlier(m, heap_[parent])) break;
        heap_[i] = heap_[parent];
        i = parent;
    }
    heap_[i] = m;
}

void scheduler::sift_down(std::size_t i) noexcept {
    const scheduled_message m = heap_[i];
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= size_) break;
        if (child + 1 < size_ && earlier(heap_[child + 1], heap_[child])) ++child;
        if (!earlier(heap_[child], m)) break;
        heap_[i] = heap_[child];
        i = child;
    }
    heap_[i] = m;
}

void scheduler::rebuild() noexcept {
    // Floyd's heap construction: sift down every inner node, last first.
    for (std::size_t i = size_ / 2; i-- > 0;) sift_down(i);
}

}  // namespace umpd::service::detail
