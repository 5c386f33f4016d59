#include "umpd/ipc/ring.hpp"

#include <new>

namespace umpd::ipc {

ring_header* init_ring(void* at, std::uint32_t capacity_words) noexcept {
    auto* h = new (at) ring_header{};
    h->capacity_words = capacity_words;
    return h;
}

// ---- writer --------------------------------------------------------------------

ring_writer::ring_writer(ring_header* header, std::uint32_t* data, std::uint32_t capacity_words) noexcept
    : header_(header), data_(data), mask_(capacity_words - 1u) {
    staged_head_ = header->head.load(std::memory_order_relaxed);
    cached_tail_ = header->tail.load(std::memory_order_acquire);
}

ring_writer::ring_writer(ring_header* header, std::uint32_t* data) noexcept
    : ring_writer(header, data, header->capacity_words) {}

write_status ring_writer::write(const timed_packet& m) noexcept {
    return write(m.timestamp_ns, m.packet.span());
}

write_status ring_writer::write(std::uint64_t timestamp_ns, std::span<const std::uint32_t> words) noexcept {
    const std::size_t n = words.size();
    if (n < 1 || n > 4) return write_status::invalid_packet;
    const std::uint64_t need = record_header_words + n;
    const std::uint64_t capacity = mask_ + 1;
    // Unsigned arithmetic: a tail the consumer moved past our head (a broken peer)
    // makes the difference huge, so the ring reads as full rather than overrun.
    if (staged_head_ + need - cached_tail_ > capacity) {
        cached_tail_ = header_->tail.load(std::memory_order_acquire);
        if (staged_head_ + need - cached_tail_ > capacity) {
            header_->dropped_full.fetch_add(1, std::memory_order_relaxed);
            return write_status::full;
        }
    }
    std::uint64_t i = staged_head_;
    data_[i++ & mask_] = static_cast<std::uint32_t>(n);
    data_[i++ & mask_] = static_cast<std::uint32_t>(timestamp_ns);
    data_[i++ & mask_] = static_cast<std::uint32_t>(timestamp_ns >> 32);
    for (std::size_t k = 0; k < n; ++k) data_[i++ & mask_] = words[k];
    staged_head_ = i;
    ++staged_messages_;
    return write_status::ok;
}

bool ring_writer::publish() noexcept {
    if (staged_messages_ == 0) return false;
    header_->head.store(staged_head_, std::memory_order_release);
    header_->messages_written.fetch_add(staged_messages_, std::memory_order_relaxed);
    staged_messages_ = 0;
    // Dekker with prepare_to_sleep(): either the consumer sees the new head, or we
    // see its sleeping flag. Both sides use a full fence between store and load.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (header_->consumer_sleeping.load(std::memory_order_relaxed) == 0) return false;
    return header_->consumer_sleeping.exchange(0, std::memory_order_acq_rel) != 0;
}

std::size_t ring_writer::free_words() const noexcept {
    const std::uint64_t used = staged_head_ - header_->tail.load(std::memory_order_acquire);
    const std::uint64_t capacity = mask_ + 1;
    return used > capacity ? 0 : static_cast<std::size_t>(capacity - used);
}

// ---- reader --------------------------------------------------------------------

ring_reader::ring_reader(ring_header* header, const std::uint32_t* data, std::uint32_t capacity_words) noexcept
    : header_(header), data_(data), mask_(capacity_words - 1u) {
    tail_ = header->tail.load(std::memory_order_relaxed);
    cached_head_ = tail_;
}

ring_reader::ring_reader(ring_header* header, const std::uint32_t* data) noexcept
    : ring_reader(header, data, header->capacity_words) {}

read_status ring_reader::read_raw(std::uint64_t& timestamp_ns, std::uint32_t (&words)[4], unsigned& count) noexcept {
    if (tail_ == cached_head_) {
        cached_head_ = header_->head.load(std::memory_order_acquire);
        if (tail_ == cached_head_) return read_status::empty;
    }
    const std::uint64_t available = cached_head_ - tail_;
    // The producer publishes whole records and never more than the capacity.
    if (available > mask_ + 1 || available < record_header_words + 1) return read_status::corrupt;
    std::uint64_t i = tail_;
    const std::uint32_t h = data_[i++ & mask_];
    const unsigned n = h & 0xFu;
    if ((h >> 4) != 0 || n < 1 || n > 4 || available < record_header_words + n) return read_status::corrupt;
    const std::uint64_t lo = data_[i++ & mask_];
    const std::uint64_t hi = data_[i++ & mask_];
    timestamp_ns = lo | (hi << 32);
    for (unsigned k = 0; k < n; ++k) words[k] = data_[i++ & mask_];
    count = n;
    tail_ = i;
    return read_status::ok;
}

read_status ring_reader::read(timed_packet& out) noexcept {
    std::uint32_t w[4] = {0, 0, 0, 0};
    unsigned n = 0;
    const read_status s = read_raw(out.timestamp_ns, w, n);
    if (s != read_status::ok) return s;
    if (core::word_count_of(w[0]) != n) return read_status::corrupt;
    out.packet = core::packet(w[0], n > 1 ? w[1] : 0, n > 2 ? w[2] : 0, n > 3 ? w[3] : 0);
    return read_status::ok;
}

void ring_reader::release() noexcept { header_->tail.store(tail_, std::memory_order_release); }

bool ring_reader::empty() const noexcept { return tail_ == header_->head.load(std::memory_order_acquire); }

bool ring_reader::prepare_to_sleep() noexcept {
    release();
    header_->consumer_sleeping.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (header_->head.load(std::memory_order_relaxed) != tail_) {
        header_->consumer_sleeping.store(0, std::memory_order_relaxed);
        return false;
    }
    return true;
}

void ring_reader::woke_up() noexcept { header_->consumer_sleeping.store(0, std::memory_order_relaxed); }

}  // namespace umpd::ipc
