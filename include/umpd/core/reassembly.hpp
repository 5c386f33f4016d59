// Reassembly of multi-packet UMP messages (7-bit SysEx, 8-bit SysEx, UMP stream
// and flex data text) and the inverse splitting, plus the UTF-8 checks text needs.
// Per "Universal MIDI Packet (UMP) Format and MIDI 2.0 Protocol", version 1.1.
//
// Real-time rules: feed(), reset() and every split_* function allocate nothing, lock
// nothing and throw nothing. All state lives in the reassembler object and in the
// storage the caller hands it; results point into that storage. Any thread may use
// a reassembler, but only one at a time (no internal synchronisation).
//
// One rule for every reassembler: feed() each packet of the stream (packets of
// another kind are answered with `ignored` and change nothing). A multi-packet
// message is start, continue..., end; a single-packet one is complete.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "umpd/core/messages.hpp"
#include "umpd/core/packet.hpp"

namespace umpd::core {

// ---------------------------------------------------------------------------
// UTF-8
// ---------------------------------------------------------------------------

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..DFFF), nothing
// above U+10FFFF, no truncated or stray sequences.
[[nodiscard]] bool utf8_valid(std::string_view s) noexcept;
[[nodiscard]] bool utf8_valid(std::span<const std::uint8_t> s) noexcept;

// The longest prefix of s of at most max_bytes bytes that does not end inside a
// multi-byte character. A valid input gives a valid result.
[[nodiscard]] std::string_view utf8_truncate(std::string_view s, std::size_t max_bytes) noexcept;

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

enum class reassembly_status : std::uint8_t {
    ignored,              // not a packet of this reassembler's kind; nothing changed
    in_progress,          // a start or continue was taken in
    complete,             // bytes holds the whole message
    discarded,            // a packet of a message already reported as failed; dropped
    // Errors:
    overflow,             // the message exceeds the limit; the rest of it is discarded
    unexpected_continue,  // a continue with no message open for it
    unexpected_end,       // an end with no message open for it
    interrupted,          // a start while a message was open: that one is dropped, this one begins
    malformed,            // bad byte count, bad data byte, reserved format or address
    too_many_streams,     // a new message but every slot is in use; it is not assembled
    invalid_utf8,         // text only: complete, but not valid UTF-8 (bytes still given)
};

[[nodiscard]] std::string_view to_string(reassembly_status s) noexcept;

struct reassembly_result {
    // What happened to the message that this packet belongs to.
    reassembly_status status = reassembly_status::ignored;
    // An open message with the same key (group, stream id, block...) was dropped as
    // incomplete because this packet began a new message. Set together with status
    // `interrupted` (new start) or with the outcome of a new complete packet.
    bool interrupted = false;
    // complete / invalid_utf8: the whole message (text without its zero padding).
    // overflow: the prefix that fit (text: cut on a character boundary); it is
    // not the message. Otherwise empty. Points into the caller's storage and stays
    // valid until the next feed() or reset() of the same reassembler.
    std::span<const std::uint8_t> bytes{};

    [[nodiscard]] constexpr bool has_message() const noexcept {
        return status == reassembly_status::complete || status == reassembly_status::invalid_utf8;
    }
    [[nodiscard]] constexpr bool is_error() const noexcept {
        return interrupted || status >= reassembly_status::overflow;
    }
};

// The state of one message being assembled. Callers provide arrays of these for
// reassemblers that keep several messages open at once; value-initialise them and
// leave them alone.
struct reassembly_slot {
    std::size_t size = 0;
    std::uint32_t key = 0;
    std::uint8_t state = 0;
};

namespace detail {

// What a reassembler reads from one packet before the shared state machine runs.
struct packet_payload {
    bool mine = false;          // false: not this reassembler's kind
    bool format_known = true;   // false: reserved status, cannot be placed in a message
    bool well_formed = true;    // false: byte count or data bytes out of range
    packet_format format = packet_format::complete;
    std::uint32_t key = 0;      // which open message it belongs to
    std::uint8_t size = 0;
    std::array<std::uint8_t, 16> bytes{};
};

// Keyed message slots over caller storage, split evenly between the slots. With no
// caller slots it uses one slot of its own (read through active_slots(), never
// through a stored pointer, so copies do not alias it).
class keyed_assembly {
public:
    constexpr keyed_assembly() noexcept = default;
    keyed_assembly(std::span<reassembly_slot> slots, std::span<std::uint8_t> storage, std::size_t max_size,
                   bool text) noexcept;

    [[nodiscard]] reassembly_result feed(const packet_payload& p) noexcept;
    void reset() noexcept;
    [[nodiscard]] std::size_t limit() const noexcept { return capacity_; }
    [[nodiscard]] std::size_t slot_count() const noexcept { return slots_.empty() ? 1 : slots_.size(); }
    [[nodiscard]] std::size_t open_count() const noexcept;

private:
    [[nodiscard]] std::span<reassembly_slot> active_slots() noexcept;
    [[nodiscard]] std::span<const reassembly_slot> active_slots() const noexcept;
    [[nodiscard]] std::span<std::uint8_t> buffer(std::size_t slot_index) const noexcept;
    [[nodiscard]] reassembly_status append(reassembly_slot& s, std::size_t index, const packet_payload& p) noexcept;
    [[nodiscard]] reassembly_result finish(const reassembly_slot& s, std::size_t index) const noexcept;
    [[nodiscard]] reassembly_result overflowed(const reassembly_slot& s, std::size_t index) const noexcept;

    std::span<reassembly_slot> slots_{};
    reassembly_slot own_slot_{};
    std::span<std::uint8_t> storage_{};
    std::size_t stride_ = 0;    // storage bytes per slot
    std::size_t capacity_ = 0;  // the message limit: min(stride_, max_size)
    bool text_ = false;
};

}  // namespace detail

// ---------------------------------------------------------------------------
// 7-bit SysEx (message type 0x3)
// ---------------------------------------------------------------------------

// One group's 7-bit SysEx: one message at a time (UMP 1.1 allows other messages,
// but not another 7-bit SysEx, between its packets; they are simply not fed here,
// or are answered `ignored`). It does not look at the group: the caller routes, or
// uses sysex7_multi_group_reassembler. The assembled bytes exclude F0 and F7.
// A data byte with bit 7 set or a byte count above 6 is `malformed`.
class sysex7_reassembler {
public:
    constexpr sysex7_reassembler() noexcept = default;  // no storage: only empty messages fit
    // storage.size() is the limit on one message.
    explicit sysex7_reassembler(std::span<std::uint8_t> storage) noexcept;

    [[nodiscard]] reassembly_result feed(const packet& p) noexcept;
    void reset() noexcept { a_.reset(); }
    [[nodiscard]] std::size_t limit() const noexcept { return a_.limit(); }
    // A message is open (or being discarded to its end).
    [[nodiscard]] bool busy() const noexcept { return a_.open_count() != 0; }

private:
    detail::keyed_assembly a_;
};

// 7-bit SysEx on all 16 groups: routes each packet to its group's reassembler.
class sysex7_multi_group_reassembler {
public:
    // One span split into 16 equal parts (group g gets part g; the remainder of
    // storage.size() / 16 is unused).
    explicit sysex7_multi_group_reassembler(std::span<std::uint8_t> storage) noexcept;
    // One span per group; an empty one takes only empty messages on that group.
    explicit sysex7_multi_group_reassembler(const std::array<std::span<std::uint8_t>, 16>& per_group) noexcept;

    [[nodiscard]] reassembly_result feed(const packet& p) noexcept;
    void reset() noexcept;
    [[nodiscard]] sysex7_reassembler& group_reassembler(group g) noexcept { return groups_[g.index & 0xFu]; }

private:
    std::array<sysex7_reassembler, 16> groups_{};
};

// ---------------------------------------------------------------------------
// 8-bit SysEx (message type 0x5, statuses 0..3)
// ---------------------------------------------------------------------------

// One group's 8-bit SysEx. Messages with different stream ids may interleave on a
// group (the stream id exists for that), so each open stream takes a slot; a start
// on a stream id that is already open interrupts that stream only. The caller sets
// how many streams may be open at once by the number of slots; storage is split
// evenly between them. A message refused with too_many_streams holds no slot, so
// its later packets are answered unexpected_continue / unexpected_end.
// Byte counts outside 1..14 (the count includes the stream id) are `malformed`;
// mixed data set packets (statuses 8, 9) are `ignored`.
class sysex8_reassembler {
public:
    constexpr sysex8_reassembler() noexcept = default;
    // streams: one slot per concurrently open stream (empty: one stream at a time).
    sysex8_reassembler(std::span<reassembly_slot> streams, std::span<std::uint8_t> storage) noexcept;

    [[nodiscard]] reassembly_result feed(const packet& p) noexcept;
    void reset() noexcept { a_.reset(); }
    [[nodiscard]] std::size_t limit() const noexcept { return a_.limit(); }
    [[nodiscard]] std::size_t max_streams() const noexcept { return a_.slot_count(); }
    [[nodiscard]] std::size_t open_streams() const noexcept { return a_.open_count(); }

private:
    detail::keyed_assembly a_;
};

// 8-bit SysEx on all 16 groups. streams and storage are each split into 16 equal
// parts, so every group may hold max(1, streams.size() / 16) streams at once.
class sysex8_multi_group_reassembler {
public:
    sysex8_multi_group_reassembler(std::span<reassembly_slot> streams, std::span<std::uint8_t> storage) noexcept;

    [[nodiscard]] reassembly_result feed(const packet& p) noexcept;
    void reset() noexcept;
    [[nodiscard]] sysex8_reassembler& group_reassembler(group g) noexcept { return groups_[g.index & 0xFu]; }

private:
    std::array<sysex8_reassembler, 16> groups_{};
};

// ---------------------------------------------------------------------------
// Text: UMP stream names and flex data text
// ---------------------------------------------------------------------------

enum class text_kind : std::uint8_t {
    endpoint_name,        // UMP stream status 0x003, 14 bytes a packet
    product_instance_id,  // UMP stream status 0x004, 14 bytes a packet (the spec asks for ASCII)
    function_block_name,  // UMP stream status 0x012, 13 bytes a packet, one message per block number
    flex_text,            // flex data banks 0x01 and 0x02, 12 bytes a packet, one message per
                          // group, address, channel (channel addressing only), bank and status
};

// The spec's limits (UMP 1.1, endpoint name and function block name notifications:
// 7 packets; product instance id: 3 packets). Flex data text has none.
inline constexpr std::size_t endpoint_name_max_bytes = 98;
inline constexpr std::size_t product_instance_id_max_bytes = 42;
inline constexpr std::size_t function_block_name_max_bytes = 91;

[[nodiscard]] constexpr std::size_t text_max_bytes(text_kind k) noexcept {
    switch (k) {
    case text_kind::endpoint_name: return endpoint_name_max_bytes;
    case text_kind::product_instance_id: return product_instance_id_max_bytes;
    case text_kind::function_block_name: return function_block_name_max_bytes;
    case text_kind::flex_text: break;
    }
    return std::numeric_limits<std::size_t>::max();
}

[[nodiscard]] constexpr std::size_t text_bytes_per_packet(text_kind k) noexcept {
    switch (k) {
    case text_kind::endpoint_name: return endpoint_name_bytes_per_packet;
    case text_kind::product_instance_id: return product_instance_id_bytes_per_packet;
    case text_kind::function_block_name: return function_block_name_bytes_per_packet;
    case text_kind::flex_text: break;
    }
    return flex_text_bytes_per_packet;
}

// Assembles one kind of text. Each packet contributes its bytes up to its first
// zero (the padding; a sender that pads early loses nothing it meant to send).
// The limit is min(storage per slot, max_bytes); max_bytes defaults to the spec's
// maximum for the kind (pass a larger number to accept non-conforming senders).
// A complete text that is not valid UTF-8 is reported `invalid_utf8` with its
// bytes. Flex data packets of other banks are `ignored`; a reserved address (2, 3)
// is `malformed`.
class text_reassembler {
public:
    // max_bytes of 0 (the default) means text_max_bytes(kind).
    static constexpr std::size_t spec_max_bytes = 0;

    // One message at a time (enough for endpoint name and product instance id).
    text_reassembler(text_kind kind, std::span<std::uint8_t> storage,
                     std::size_t max_bytes = spec_max_bytes) noexcept;
    // slots: messages open at once (function block names of several blocks, flex
    // text of several channels...); storage is split evenly between them.
    text_reassembler(text_kind kind, std::span<reassembly_slot> slots, std::span<std::uint8_t> storage,
                     std::size_t max_bytes = spec_max_bytes) noexcept;

    [[nodiscard]] reassembly_result feed(const packet& p) noexcept;
    void reset() noexcept { a_.reset(); }
    [[nodiscard]] text_kind kind() const noexcept { return kind_; }
    [[nodiscard]] std::size_t limit() const noexcept { return a_.limit(); }
    [[nodiscard]] std::size_t open_count() const noexcept { return a_.open_count(); }

private:
    text_kind kind_;
    detail::keyed_assembly a_;
};

// ---------------------------------------------------------------------------
// Splitting: bytes or text to a packet sequence
// ---------------------------------------------------------------------------
//
// A message of n bytes takes packet_count packets: one complete packet when it fits
// (an empty message too), else start, continue..., end. Each split_* writes the
// packets numbered first, first+1, ... of that sequence into out, as many as fit
// and exist, and returns how many it wrote; so a caller with a small buffer calls
// again with first advanced, and one with a big buffer gets them all at once.
// Nothing is cut: text longer than the spec allows must be cut by the caller
// (utf8_truncate(text, text_max_bytes(kind))). Text must not contain a zero byte,
// which a receiver takes as padding.

[[nodiscard]] constexpr std::size_t packet_count(std::size_t bytes, std::size_t bytes_per_packet) noexcept {
    return bytes == 0 ? 1 : (bytes + bytes_per_packet - 1) / bytes_per_packet;
}

// Data bytes are masked to 7 bits, as make_sysex7 does; callers check them first.
[[nodiscard]] std::size_t split_sysex7(group g, std::span<const std::uint8_t> bytes, std::span<packet> out,
                                       std::size_t first = 0) noexcept;
[[nodiscard]] std::size_t split_sysex8(group g, std::uint8_t stream_id, std::span<const std::uint8_t> bytes,
                                       std::span<packet> out, std::size_t first = 0) noexcept;
[[nodiscard]] std::size_t split_endpoint_name(std::string_view text, std::span<packet> out,
                                              std::size_t first = 0) noexcept;
[[nodiscard]] std::size_t split_product_instance_id(std::string_view text, std::span<packet> out,
                                                    std::size_t first = 0) noexcept;
[[nodiscard]] std::size_t split_function_block_name(std::uint8_t block, std::string_view text,
                                                    std::span<packet> out, std::size_t first = 0) noexcept;
[[nodiscard]] std::size_t split_flex_text(group g, flex_address a, channel c, std::uint8_t status_bank,
                                          std::uint8_t status, std::string_view text, std::span<packet> out,
                                          std::size_t first = 0) noexcept;

}  // namespace umpd::core
