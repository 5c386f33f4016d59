// The scheduler: messages stamped in the future, held until their time.
//
// A binary min-heap keyed by (timestamp, sequence number). The sequence number is
// assigned at push, so messages with equal timestamps leave in the order they came
// in — which is the order a connection sent them (the router reads each connection
// in order). The heap's storage is allocated once, at construction, on the control
// thread; push, pop and remove_if allocate nothing (router thread).
//
// Private to the service module: the router is its only user.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace umpd::service::detail {

struct endpoint_state;  // the router's per-endpoint state (router.cpp)

// One held message: what the router needs to deliver it later, and nothing that could
// dangle (no connection pointer; the endpoint outlives its scheduled messages because
// remove_endpoint purges them first).
struct scheduled_message {
    std::uint64_t timestamp_ns = 0;
    std::uint64_t sequence = 0;      // set by scheduler::push
    endpoint_state* endpoint = nullptr;
    std::uint32_t words[4]{};
    std::uint8_t word_count = 0;
    std::uint8_t route = 0;          // the router's routing decision, opaque here
};

class scheduler {
public:
    // Thread: control (allocates capacity entries).
    explicit scheduler(std::uint32_t capacity);

    // Real-time. False when the heap holds capacity() messages already.
    [[nodiscard]] bool push(const scheduled_message& m) noexcept;
    // Real-time. The earliest message; only when !empty().
    [[nodiscard]] const scheduled_message& top() const noexcept { return heap_[0]; }
    // Real-time. Removes top().
    void pop() noexcept;

    // Real-time, O(n): drops every message for which pred(message) is true and
    // restores the heap. Returns how many were dropped.
    template <class Pred>
    std::size_t remove_if(Pred pred) noexcept {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < size_; ++i)
            if (!pred(heap_[i])) heap_[kept++] = heap_[i];
        const std::size_t dropped = size_ - kept;
        size_ = kept;
        if (dropped != 0) rebuild();
        return dropped;
    }

    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    [[nodiscard]] static bool earlier(const scheduled_message& a, const scheduled_message& b) noexcept {
        return a.timestamp_ns != b.timestamp_ns ? a.timestamp_ns < b.timestamp_ns : a.sequence < b.sequence;
    }
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    void rebuild() noexcept;

    std::unique_ptr<scheduled_message[]> heap_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
    std::uint64_t next_sequence_ = 0;
};

}  // namespace umpd::service::detail
