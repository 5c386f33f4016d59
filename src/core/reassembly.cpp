// Reassembly and splitting of multi-packet UMP messages; see reassembly.hpp.
#include "umpd/core/reassembly.hpp"

#include <algorithm>

namespace umpd::core {

// ---------------------------------------------------------------------------
// UTF-8
// ---------------------------------------------------------------------------

namespace {

constexpr bool is_continuation(std::uint8_t b) noexcept { return (b & 0xC0u) == 0x80u; }

std::span<const std::uint8_t> as_bytes_of(std::string_view s) noexcept {
    // char and unsigned char may alias each other; this only changes the view.
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Length of s without a multi-byte character left unfinished at its end. Looks at
// no more than the last four bytes: anything else wrong is not its business.
std::size_t whole_characters(std::span<const std::uint8_t> s) noexcept {
    const std::size_t n = s.size();
    for (std::size_t back = 1; back <= 4 && back <= n; ++back) {
        const std::uint8_t b = s[n - back];
        if (is_continuation(b)) continue;
        const std::size_t len = b >= 0xF0u ? 4 : b >= 0xE0u ? 3 : b >= 0xC0u ? 2 : 1;
        return len > back ? n - back : n;
    }
    return n;
}

}  // namespace

bool utf8_valid(std::span<const std::uint8_t> s) noexcept {
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const std::uint8_t b = s[i];
        if (b < 0x80u) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        // The allowed range of the second byte carries the overlong, surrogate and
        // >U+10FFFF rules (RFC 3629, section 4).
        std::uint8_t lo = 0x80, hi = 0xBF;
        if (b >= 0xC2u && b <= 0xDFu) {
            len = 2;
        } else if (b >= 0xE0u && b <= 0xEFu) {
            len = 3;
            if (b == 0xE0u) lo = 0xA0;
            if (b == 0xEDu) hi = 0x9F;
        } else if (b >= 0xF0u && b <= 0xF4u) {
            len = 4;
            if (b == 0xF0u) lo = 0x90;
            if (b == 0xF4u) hi = 0x8F;
        } else {
            return false;  // stray continuation, C0/C1 (always overlong), F5..FF
        }
        if (n - i < len) return false;
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (std::size_t k = 2; k < len; ++k)
            if (!is_continuation(s[i + k])) return false;
        i += len;
    }
    return true;
}

bool utf8_valid(std::string_view s) noexcept { return utf8_valid(as_bytes_of(s)); }

std::string_view utf8_truncate(std::string_view s, std::size_t max_bytes) noexcept {
    if (s.size() <= max_bytes) return s;
    return s.substr(0, whole_characters(as_bytes_of(s).first(max_bytes)));
}

std::string_view to_string(reassembly_status s) noexcept {
    switch (s) {
    case reassembly_status::ignored: return "ignored";
    case reassembly_status::in_progress: return "in_progress";
    case reassembly_status::complete: return "complete";
    case reassembly_status::discarded: return "discarded";
    case reassembly_status::overflow: return "overflow";
    case reassembly_status::unexpected_continue: return "unexpected_continue";
    case reassembly_status::unexpected_end: return "unexpected_end";
    case reassembly_status::interrupted: return "interrupted";
    case reassembly_status::malformed: return "malformed";
    case reassembly_status::too_many_streams: return "too_many_streams";
    case reassembly_status::invalid_utf8: return "invalid_utf8";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------
// The shared state machine
// ---------------------------------------------------------------------------

namespace detail {

namespace {

enum slot_state : std::uint8_t { idle = 0, open = 1, discarding = 2 };

constexpr std::size_t npos = static_cast<std::size_t>(-1);

}  // namespace

keyed_assembly::keyed_assembly(std::span<reassembly_slot> slots, std::span<std::uint8_t> storage,
                               std::size_t max_size, bool text) noexcept
    : slots_(slots), storage_(storage), text_(text) {
    stride_ = storage.size() / slot_count();
    capacity_ = std::min(stride_, max_size);
    reset();
}

std::span<reassembly_slot> keyed_assembly::active_slots() noexcept {
    return slots_.empty() ? std::span<reassembly_slot>(&own_slot_, 1) : slots_;
}
std::span<const reassembly_slot> keyed_assembly::active_slots() const noexcept {
    return slots_.empty() ? std::span<const reassembly_slot>(&own_slot_, 1) : slots_;
}

std::span<std::uint8_t> keyed_assembly::buffer(std::size_t slot_index) const noexcept {
    return storage_.subspan(slot_index * stride_, capacity_);
}

void keyed_assembly::reset() noexcept {
    for (auto& s : active_slots()) s = reassembly_slot{};
}

std::size_t keyed_assembly::open_count() const noexcept {
    std::size_t n = 0;
    for (const auto& s : active_slots())
        if (s.state != idle) ++n;
    return n;
}

// Copies what fits; a message that does not fit is marked for discarding.
reassembly_status keyed_assembly::append(reassembly_slot& s, std::size_t index, const packet_payload& p) noexcept {
    const auto buf = buffer(index);
    const std::size_t room = capacity_ - s.size;
    const std::size_t n = std::min<std::size_t>(room, p.size);
    std::copy_n(p.bytes.begin(), n, buf.begin() + static_cast<std::ptrdiff_t>(s.size));
    s.size += n;
    if (n < p.size) {
        s.state = discarding;
        return reassembly_status::overflow;
    }
    s.state = open;
    return reassembly_status::in_progress;
}

reassembly_result keyed_assembly::finish(const reassembly_slot& s, std::size_t index) const noexcept {
    const std::span<const std::uint8_t> bytes = buffer(index).first(s.size);
    if (text_ && !utf8_valid(bytes)) return {reassembly_status::invalid_utf8, false, bytes};
    return {reassembly_status::complete, false, bytes};
}

reassembly_result keyed_assembly::overflowed(const reassembly_slot& s, std::size_t index) const noexcept {
    std::span<const std::uint8_t> bytes = buffer(index).first(s.size);
    if (text_) bytes = bytes.first(whole_characters(bytes));
    return {reassembly_status::overflow, false, bytes};
}

reassembly_result keyed_assembly::feed(const packet_payload& p) noexcept {
    if (!p.mine) return {};
    if (!p.format_known) return {reassembly_status::malformed, false, {}};

    const auto slots = active_slots();
    std::size_t index = npos;
    std::size_t free_index = npos;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].state != idle && slots[i].key == p.key) {
            index = i;
            break;
        }
        if (slots[i].state == idle && free_index == npos) free_index = i;
    }

    switch (p.format) {
    case packet_format::complete:
    case packet_format::start: {
        // A message already failed and reported is over without another report;
        // an open one is dropped as incomplete.
        const bool interrupted = index != npos && slots[index].state == open;
        if (index == npos) index = free_index;
        if (index == npos) return {reassembly_status::too_many_streams, false, {}};
        reassembly_slot& s = slots[index];
        s.key = p.key;
        s.size = 0;
        reassembly_result r{};
        if (!p.well_formed) {
            s.state = discarding;
            r.status = reassembly_status::malformed;
        } else {
            r.status = append(s, index, p);
            if (r.status == reassembly_status::overflow) r = overflowed(s, index);
            else if (p.format == packet_format::complete) r = finish(s, index);
            else if (interrupted) r.status = reassembly_status::interrupted;
        }
        if (p.format == packet_format::complete) s.state = idle;
        r.interrupted = interrupted;
        return r;
    }
    case packet_format::continue_:
    case packet_format::end: {
        const bool end = p.format == packet_format::end;
        if (index == npos)
            return {end ? reassembly_status::unexpected_end : reassembly_status::unexpected_continue, false, {}};
        reassembly_slot& s = slots[index];
        reassembly_result r{};
        if (s.state == discarding) {
            r.status = reassembly_status::discarded;
        } else if (!p.well_formed) {
            s.state = discarding;
            r.status = reassembly_status::malformed;
        } else {
            r.status = append(s, index, p);
            if (r.status == reassembly_status::overflow) r = overflowed(s, index);
            else if (end) r = finish(s, index);
        }
        if (end) s.state = idle;
        return r;
    }
    }
    return {reassembly_status::malformed, false, {}};
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Reading packets
// ---------------------------------------------------------------------------

namespace {

detail::packet_payload read_sysex7(const packet& p) noexcept {
    detail::packet_payload d;
    if (p.type() != message_type::data64) return d;
    d.mine = true;
    const auto status = field<23, 20>(p[0]);
    if (status > 3) {
        d.format_known = false;  // message type 3 holds nothing but 7-bit SysEx
        return d;
    }
    d.format = static_cast<packet_format>(status);
    const auto n = field<19, 16>(p[0]);
    if (n > sysex7_bytes_per_packet) {
        d.well_formed = false;
        return d;
    }
    const sysex7_view v{p};
    for (unsigned i = 0; i < n; ++i) {
        const std::uint8_t b = v.byte(i);
        if (b > 0x7F) d.well_formed = false;
        d.bytes[i] = b;
    }
    d.size = static_cast<std::uint8_t>(n);
    return d;
}

detail::packet_payload read_sysex8(const packet& p) noexcept {
    detail::packet_payload d;
    if (p.type() != message_type::data128) return d;
    const auto status = field<23, 20>(p[0]);
    if (status == 0x8 || status == 0x9) return d;  // mixed data set header / payload
    d.mine = true;
    if (status > 3) {
        d.format_known = false;
        return d;
    }
    d.format = static_cast<packet_format>(status);
    const sysex8_view v{p};
    d.key = v.stream_id();
    const auto n = field<19, 16>(p[0]);  // stream id included
    if (n < 1 || n > sysex8_bytes_per_packet + 1) {
        d.well_formed = false;
        return d;
    }
    for (unsigned i = 0; i + 1 < n; ++i) d.bytes[i] = v.byte(i);
    d.size = static_cast<std::uint8_t>(n - 1);
    return d;
}

void read_text_bytes(detail::packet_payload& d, const packet& p, unsigned first, unsigned max) noexcept {
    const unsigned n = packet_text_size(p, first, max);
    for (unsigned i = 0; i < n; ++i) d.bytes[i] = packet_byte(p, first + i);
    d.size = static_cast<std::uint8_t>(n);
}

detail::packet_payload read_text(text_kind kind, const packet& p) noexcept {
    detail::packet_payload d;
    if (kind == text_kind::flex_text) {
        if (p.type() != message_type::flex_data) return d;
        const auto bank = field<15, 8>(p[0]);
        if (bank != flex_bank_metadata_text && bank != flex_bank_performance_text) return d;
        d.mine = true;
        d.format = static_cast<packet_format>(field<23, 22>(p[0]));
        const auto address = field<21, 20>(p[0]);
        // Group-addressed messages have no channel; keying on it would split one text.
        const auto chan = address == static_cast<std::uint8_t>(flex_address::channel) ? field<19, 16>(p[0]) : 0u;
        d.key = (field<27, 24>(p[0]) << 24) | (address << 20) | (chan << 16) | (p[0] & 0xFFFFu);
        if (address > 1) {
            d.well_formed = false;
            return d;
        }
        read_text_bytes(d, p, 4, flex_text_bytes_per_packet);
        return d;
    }
    if (p.type() != message_type::ump_stream) return d;
    const auto status = static_cast<stream_status>(field<25, 16>(p[0]));
    d.format = static_cast<packet_format>(field<27, 26>(p[0]));
    switch (kind) {
    case text_kind::endpoint_name:
        if (status != stream_status::endpoint_name) return d;
        read_text_bytes(d, p, 2, endpoint_name_bytes_per_packet);
        break;
    case text_kind::product_instance_id:
        if (status != stream_status::product_instance_id) return d;
        read_text_bytes(d, p, 2, product_instance_id_bytes_per_packet);
        break;
    case text_kind::function_block_name:
        if (status != stream_status::function_block_name) return d;
        d.key = field<15, 8>(p[0]);
        read_text_bytes(d, p, 3, function_block_name_bytes_per_packet);
        break;
    case text_kind::flex_text:
        return d;
    }
    d.mine = true;
    return d;
}

}  // namespace

// ---------------------------------------------------------------------------
// Reassemblers
// ---------------------------------------------------------------------------

sysex7_reassembler::sysex7_reassembler(std::span<std::uint8_t> storage) noexcept
    : a_({}, storage, storage.size(), false) {}

reassembly_result sysex7_reassembler::feed(const packet& p) noexcept { return a_.feed(read_sysex7(p)); }

sysex7_multi_group_reassembler::sysex7_multi_group_reassembler(std::span<std::uint8_t> storage) noexcept {
    const std::size_t part = storage.size() / groups_.size();
    for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g] = sysex7_reassembler(storage.subspan(g * part, part));
}

sysex7_multi_group_reassembler::sysex7_multi_group_reassembler(
    const std::array<std::span<std::uint8_t>, 16>& per_group) noexcept {
    for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g] = sysex7_reassembler(per_group[g]);
}

reassembly_result sysex7_multi_group_reassembler::feed(const packet& p) noexcept {
    if (p.type() != message_type::data64) return {};
    return groups_[p.group_field().index & 0xFu].feed(p);
}

void sysex7_multi_group_reassembler::reset() noexcept {
    for (auto& g : groups_) g.reset();
}

sysex8_reassembler::sysex8_reassembler(std::span<reassembly_slot> streams, std::span<std::uint8_t> storage) noexcept
    : a_(streams, storage, storage.size(), false) {}

reassembly_result sysex8_reassembler::feed(const packet& p) noexcept { return a_.feed(read_sysex8(p)); }

sysex8_multi_group_reassembler::sysex8_multi_group_reassembler(std::span<reassembly_slot> streams,
                                                               std::span<std::uint8_t> storage) noexcept {
    const std::size_t slots = streams.size() / groups_.size();
    const std::size_t part = storage.size() / groups_.size();
    for (std::size_t g = 0; g < groups_.size(); ++g)
        groups_[g] = sysex8_reassembler(streams.subspan(g * slots, slots), storage.subspan(g * part, part));
}

reassembly_result sysex8_multi_group_reassembler::feed(const packet& p) noexcept {
    if (p.type() != message_type::data128) return {};
    return groups_[p.group_field().index & 0xFu].feed(p);
}

void sysex8_multi_group_reassembler::reset() noexcept {
    for (auto& g : groups_) g.reset();
}

namespace {
std::size_t text_limit(text_kind kind, std::size_t max_bytes) noexcept {
    return max_bytes == text_reassembler::spec_max_bytes ? text_max_bytes(kind) : max_bytes;
}
}  // namespace

text_reassembler::text_reassembler(text_kind kind, std::span<std::uint8_t> storage, std::size_t max_bytes) noexcept
    : kind_(kind), a_({}, storage, text_limit(kind, max_bytes), true) {}

text_reassembler::text_reassembler(text_kind kind, std::span<reassembly_slot> slots, std::span<std::uint8_t> storage,
                                   std::size_t max_bytes) noexcept
    : kind_(kind), a_(slots, storage, text_limit(kind, max_bytes), true) {}

reassembly_result text_reassembler::feed(const packet& p) noexcept { return a_.feed(read_text(kind_, p)); }

// ---------------------------------------------------------------------------
// Splitting
// ---------------------------------------------------------------------------

namespace {

constexpr packet_format format_of(std::size_t index, std::size_t count) noexcept {
    if (count == 1) return packet_format::complete;
    if (index == 0) return packet_format::start;
    return index + 1 == count ? packet_format::end : packet_format::continue_;
}

// Writes packets first.. of the sequence; make(format, chunk) builds one packet.
template <typename Make>
std::size_t split(std::span<const std::uint8_t> bytes, std::size_t per_packet, std::span<packet> out,
                  std::size_t first, Make make) noexcept {
    const std::size_t count = packet_count(bytes.size(), per_packet);
    if (first >= count) return 0;
    const std::size_t n = std::min(out.size(), count - first);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t index = first + i;
        const std::size_t offset = index * per_packet;
        const auto chunk = bytes.subspan(offset, std::min(per_packet, bytes.size() - offset));
        out[i] = make(format_of(index, count), chunk);
    }
    return n;
}

}  // namespace

std::size_t split_sysex7(group g, std::span<const std::uint8_t> bytes, std::span<packet> out,
                         std::size_t first) noexcept {
    return split(bytes, sysex7_bytes_per_packet, out, first,
                 [g](packet_format f, std::span<const std::uint8_t> c) { return make_sysex7(g, f, c); });
}

std::size_t split_sysex8(group g, std::uint8_t stream_id, std::span<const std::uint8_t> bytes,
                         std::span<packet> out, std::size_t first) noexcept {
    return split(bytes, sysex8_bytes_per_packet, out, first, [g, stream_id](packet_format f, std::span<const std::uint8_t> c) {
        return make_sysex8(g, f, stream_id, c);
    });
}

std::size_t split_endpoint_name(std::string_view text, std::span<packet> out, std::size_t first) noexcept {
    return split(as_bytes_of(text), endpoint_name_bytes_per_packet, out, first,
                 [](packet_format f, std::span<const std::uint8_t> c) { return make_endpoint_name(f, c); });
}

std::size_t split_product_instance_id(std::string_view text, std::span<packet> out, std::size_t first) noexcept {
    return split(as_bytes_of(text), product_instance_id_bytes_per_packet, out, first,
                 [](packet_format f, std::span<const std::uint8_t> c) { return make_product_instance_id(f, c); });
}

std::size_t split_function_block_name(std::uint8_t block, std::string_view text, std::span<packet> out,
                                      std::size_t first) noexcept {
    return split(as_bytes_of(text), function_block_name_bytes_per_packet, out, first,
                 [block](packet_format f, std::span<const std::uint8_t> c) { return make_function_block_name(block, f, c); });
}

std::size_t split_flex_text(group g, flex_address a, channel c, std::uint8_t status_bank, std::uint8_t status,
                            std::string_view text, std::span<packet> out, std::size_t first) noexcept {
    return split(as_bytes_of(text), flex_text_bytes_per_packet, out, first,
                 [=](packet_format f, std::span<const std::uint8_t> chunk) {
                     return make_flex_text(g, f, a, c, status_bank, status, chunk);
                 });
}

}  // namespace umpd::core
