// Shared-memory single-producer/single-consumer rings of timestamped UMP messages,
// and the wake-up that goes with them.
//
// One ring carries one direction of one connection. It lives in a shared-memory
// region both processes map (see shm.hpp): a ring_header, then capacity words of
// data. A record is
//     word 0      bits 3..0: number of UMP words n (1..4); bits 31..4: reserved, 0
//     word 1, 2   timestamp, CLOCK_MONOTONIC nanoseconds, low word then high word
//                 (0 means "now")
//     word 3..    the n words of one UMP packet
// Indexes are free-running 64-bit word counters; a record may wrap around the end
// of the data (each word is placed at index & (capacity - 1)).
//
// Real-time rules: writer and reader allocate nothing, lock nothing and make no
// system call; the only system call on the data path is the wake-up's write(2) on
// an eventfd, made only when the consumer has said it is going to sleep. A full
// ring is never waited on: the write fails and the drop is counted in the header,
// where the other side (and `umpctl status`) can read it.
//
// The header is untrusted when it comes from another process: every index read from
// it is checked (a producer's head may not run ahead of the tail by more than the
// capacity, a record's word count must be 1..4), and a ring found corrupt is
// reported as such rather than followed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "umpd/core/packet.hpp"

namespace umpd::ipc {

inline constexpr std::uint32_t ring_magic = 0x756D7052;  // "umpR"
inline constexpr std::uint32_t record_header_words = 3;
inline constexpr std::uint32_t max_record_words = record_header_words + 4;

// A UMP packet and its time.
struct timed_packet {
    std::uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC; 0 = now
    core::packet packet{};
    friend constexpr bool operator==(const timed_packet&, const timed_packet&) = default;
};

// In shared memory. Fields each side writes sit on their own cache lines.
struct ring_header {
    // Written once by the creator.
    std::uint32_t magic = ring_magic;
    std::uint32_t capacity_words = 0;  // a power of two, >= 64

    // Producer side.
    alignas(64) std::atomic<std::uint64_t> head{0};          // words written and published
    std::atomic<std::uint64_t> dropped_full{0};              // messages refused because the ring was full
    std::atomic<std::uint64_t> messages_written{0};

    // Consumer side.
    alignas(64) std::atomic<std::uint64_t> tail{0};          // words consumed
    std::atomic<std::uint32_t> consumer_sleeping{0};         // 1: the consumer waits on the eventfd
    std::atomic<std::uint64_t> rejected_malformed{0};        // records the consumer refused (bad UMP)
    std::atomic<std::uint64_t> rejected_schedule{0};         // refused by the scheduler (too far ahead, queue full)
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "rings need lock-free 64-bit atomics");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

// Bytes a ring of capacity_words takes in shared memory (header + data).
[[nodiscard]] constexpr std::size_t ring_bytes(std::uint32_t capacity_words) noexcept {
    return ((sizeof(ring_header) + 63) / 64) * 64 + std::size_t{capacity_words} * 4;
}

// Initialises a ring in place (creator only, before the region is shared).
// capacity_words must be a power of two >= 64.
ring_header* init_ring(void* at, std::uint32_t capacity_words) noexcept;

enum class write_status : std::uint8_t { ok, full, invalid_packet };
enum class read_status : std::uint8_t { ok, empty, corrupt };

// The producer's end. Writes are staged and become visible at publish().
// Thread: exactly one producer thread at a time.
class ring_writer {
public:
    ring_writer() = default;
    // capacity_words: the capacity the caller laid out or validated (attach_connection);
    // never re-read from shared memory, which the other process could change. The
    // two-argument form reads it from the header once, for rings the caller created.
    ring_writer(ring_header* header, std::uint32_t* data, std::uint32_t capacity_words) noexcept;
    ring_writer(ring_header* header, std::uint32_t* data) noexcept;

    // Stages one message; full when it does not fit (counted in dropped_full),
    // invalid_packet when the packet's word count is not 1..4 — which cannot happen
    // for a core::packet, but the raw overload takes a word count.
    [[nodiscard]] write_status write(const timed_packet& m) noexcept;
    [[nodiscard]] write_status write(std::uint64_t timestamp_ns, std::span<const std::uint32_t> words) noexcept;

    // Makes staged messages visible. Returns true when the consumer had gone to
    // sleep and must be woken (the caller then signals the wake-up).
    [[nodiscard]] bool publish() noexcept;

    // Free words now (approximate from the producer's side; never too large).
    [[nodiscard]] std::size_t free_words() const noexcept;
    [[nodiscard]] ring_header* header() const noexcept { return header_; }

private:
    ring_header* header_ = nullptr;
    std::uint32_t* data_ = nullptr;
    std::uint64_t mask_ = 0;
    std::uint64_t staged_head_ = 0;
    std::uint64_t cached_tail_ = 0;
    std::uint64_t staged_messages_ = 0;
};

// The consumer's end. Thread: exactly one consumer thread at a time.
class ring_reader {
public:
    ring_reader() = default;
    // capacity_words as for ring_writer.
    ring_reader(ring_header* header, const std::uint32_t* data, std::uint32_t capacity_words) noexcept;
    ring_reader(ring_header* header, const std::uint32_t* data) noexcept;

    // The next message, empty, or corrupt (the producer broke the format: the
    // reader stops and the owner should close the connection).
    [[nodiscard]] read_status read(timed_packet& out) noexcept;
    // Raw form: the record's words are copied without checking that they form a
    // valid UMP packet beyond the word count (the service validates them).
    [[nodiscard]] read_status read_raw(std::uint64_t& timestamp_ns, std::uint32_t (&words)[4], unsigned& count) noexcept;

    // Releases consumed space to the producer. read() does not release by itself
    // so a batch costs one store; call after a batch (or after each read).
    void release() noexcept;

    [[nodiscard]] bool empty() const noexcept;
    [[nodiscard]] ring_header* header() const noexcept { return header_; }

    // Sleep protocol: announce, re-check, then wait on the eventfd. If
    // prepare_to_sleep() returns false, a message arrived meanwhile: don't sleep.
    [[nodiscard]] bool prepare_to_sleep() noexcept;
    void woke_up() noexcept;

private:
    ring_header* header_ = nullptr;
    const std::uint32_t* data_ = nullptr;
    std::uint64_t mask_ = 0;
    std::uint64_t tail_ = 0;
    std::uint64_t cached_head_ = 0;
};

}  // namespace umpd::ipc
