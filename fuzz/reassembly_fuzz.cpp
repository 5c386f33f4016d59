// Feeds arbitrary word sequences to every reassembler with small limits.
// Invariants: nothing is written outside the caller's storage (guard bytes stay
// intact), a complete message is no longer than the limit and lies inside the
// storage, text results are flagged invalid_utf8 exactly when utf8_valid says so,
// and splitting what came out and reassembling it gives it back.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "umpd/core/reassembly.hpp"

namespace {

using namespace umpd::core;

constexpr std::uint8_t guard = 0xA5;

void check(bool ok) {
    if (!ok) std::abort();
}

// Caller storage with guard bytes on both sides.
template <std::size_t N>
struct guarded {
    std::array<std::uint8_t, N + 32> all{};
    guarded() { all.fill(guard); }
    std::span<std::uint8_t> span() { return std::span(all).subspan(16, N); }
    void check_guards() const {
        for (std::size_t i = 0; i < 16; ++i) check(all[i] == guard && all[N + 16 + i] == guard);
    }
    void check_inside(std::span<const std::uint8_t> b) const {
        if (b.empty()) return;
        check(b.data() >= all.data() + 16 && b.data() + b.size() <= all.data() + 16 + N);
    }
};

void check_result(const reassembly_result& r, std::size_t limit, bool text) {
    if (r.status == reassembly_status::complete || r.status == reassembly_status::overflow)
        check(r.bytes.size() <= limit);
    if (r.has_message()) {
        check(r.bytes.size() <= limit);
        if (text) check((r.status == reassembly_status::complete) == utf8_valid(r.bytes));
        else check(r.status == reassembly_status::complete);
    } else if (r.status != reassembly_status::overflow) {
        check(r.bytes.empty());
    }
    if (r.status == reassembly_status::interrupted) check(r.interrupted);
}

// Splits a finished message again and checks a fresh reassembler gives it back.
void check_round_trip_sysex8(std::span<const std::uint8_t> message, std::uint8_t stream) {
    std::array<packet, 8> ps{};
    const std::size_t n = split_sysex8(group{1}, stream, message, ps);
    check(n == packet_count(message.size(), sysex8_bytes_per_packet));
    std::array<std::uint8_t, 96> storage{};
    sysex8_reassembler r({}, storage);
    reassembly_result last{};
    for (std::size_t i = 0; i < n; ++i) last = r.feed(ps[i]);
    check(last.status == reassembly_status::complete && last.bytes.size() == message.size() &&
          std::equal(message.begin(), message.end(), last.bytes.begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    // The first two bytes choose limits, so every boundary gets exercised.
    const std::size_t limit7 = data[0] % 20;
    const std::size_t limit8 = data[1] % 40;
    data += 2;
    size -= 2;

    guarded<16 * 20> s7;
    sysex7_multi_group_reassembler r7(s7.span().first(16 * limit7));

    guarded<16 * 2 * 40> s8;
    std::array<reassembly_slot, 32> slots8{};
    sysex8_multi_group_reassembler r8(slots8, s8.span().first(16 * 2 * limit8));

    guarded<100> s_ep, s_pid;
    text_reassembler ep(text_kind::endpoint_name, s_ep.span());
    text_reassembler pid(text_kind::product_instance_id, s_pid.span().first(30));
    guarded<3 * 40> s_fb, s_flex;
    std::array<reassembly_slot, 3> slots_fb{}, slots_flex{};
    text_reassembler fb(text_kind::function_block_name, slots_fb, s_fb.span());
    text_reassembler flex(text_kind::flex_text, slots_flex, s_flex.span(), 25);

    std::vector<std::uint32_t> words(size / 4);
    for (std::size_t i = 0; i < words.size(); ++i) std::memcpy(&words[i], data + 4 * i, 4);

    for (std::size_t i = 0; i < words.size();) {
        const std::size_t n = word_count_of(words[i]);
        if (i + n > words.size()) break;
        const auto p = packet::from_words(std::span(words).subspan(i, n));
        i += n;

        auto run = [&p](auto& r, auto& storage, std::size_t limit, bool text) {
            const auto res = r.feed(p);
            check_result(res, limit, text);
            storage.check_inside(res.bytes);
            storage.check_guards();
            return res;
        };
        run(r7, s7, limit7, false);
        const auto res8 = run(r8, s8, limit8, false);
        if (res8.status == reassembly_status::complete) check_round_trip_sysex8(res8.bytes, as_sysex8(p)->stream_id());
        run(ep, s_ep, 98, true);
        run(pid, s_pid, 30, true);
        run(fb, s_fb, 40, true);
        run(flex, s_flex, 25, true);
    }

    // utf8_truncate on the raw input: a prefix, within the bound, and valid when
    // the input is valid.
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::size_t max = size == 0 ? 0 : data[0] % (size + 1);
    const auto t = utf8_truncate(text, max);
    check(t.size() <= max && t.data() == text.data());
    if (utf8_valid(text)) check(utf8_valid(t));
    return 0;
}
