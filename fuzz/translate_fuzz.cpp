// Feeds arbitrary UMP words through MIDI 1.0 -> MIDI 2.0 -> MIDI 1.0 translation and
// aborts when an invariant breaks:
// - no input packet yields more than max_translated_packets / max_translated_words;
// - after midi1_to_midi2 no MIDI 1.0 channel voice packet is left, and every MIDI 2.0
//   one it made from MIDI 1.0 is canonical;
// - after midi2_to_midi1 no MIDI 2.0 channel voice packet is left, and every MIDI 1.0
//   one is canonical (status 0x8-0xE, reserved bits zero, group and channel kept);
// - packets of other types come out unchanged;
// - the word API, fed in slices, produces exactly what the packet API produces.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "umpd/core/packet.hpp"
#include "umpd/core/translate.hpp"

namespace {

using namespace umpd::core;

void check(bool ok) {
    if (!ok) std::abort();
}

bool canonical_midi1(std::uint32_t w) {
    const std::uint32_t status = (w >> 20) & 0xFu;
    if (status < 0x8 || status > 0xE) return false;
    if ((w & 0x8080u) != 0) return false;
    if ((status == 0xC || status == 0xD) && (w & 0xFFu) != 0) return false;
    return true;
}

bool canonical_midi2_from_midi1(const packet& p) {
    const std::uint32_t w = p[0];
    const std::uint32_t op = (w >> 20) & 0xFu;
    switch (op) {
    case 0x8: case 0x9:  // no attribute: MIDI 1.0 has none to carry over
        return (w & 0x80FFu) == 0 && (p[1] & 0xFFFFu) == 0;
    case 0xA: case 0xB:  // note or controller in bits 14..8, nothing below
        return (w & 0x80FFu) == 0;
    case 0xC:
        return (w & 0xFFFEu) == 0 && (p[1] & 0x80FF8080u) == 0;
    case 0xD: case 0xE:
        return (w & 0xFFFFu) == 0;
    case 0x2: case 0x3:
        return (w & 0x8080u) == 0;
    default:
        return false;  // MIDI 1.0 has nothing else to translate into
    }
}

// Splits the packets at the front of words into out, and returns them.
std::vector<packet> split(const std::uint32_t* w, std::size_t n) {
    std::vector<packet> out;
    for (std::size_t i = 0; i < n;) {
        const unsigned size = word_count_of(w[i]);
        check(i + size <= n);
        out.push_back(packet::from_words({w + i, size}));
        i += size;
    }
    return out;
}

template <class Translator>
std::vector<std::uint32_t> words_sliced(Translator& t, const std::vector<std::uint32_t>& in, std::size_t slice) {
    std::vector<std::uint32_t> result;
    std::array<std::uint32_t, 3 * max_translated_words> out{};
    std::size_t pos = 0;
    while (pos < in.size()) {
        const std::size_t avail = std::min(slice, in.size() - pos);
        const auto r = translate_words(t, std::span<const std::uint32_t>{in}.subspan(pos, avail),
                                       std::span<std::uint32_t>{out}.first(max_translated_words + slice % 5));
        check(r.written <= out.size());
        result.insert(result.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.written));
        pos += r.consumed;
        if (r.consumed == 0) {
            // Only a packet longer than the slice may stall; widen the slice for it.
            check(r.status == translate_status::incomplete_packet);
            check(word_count_of(in[pos]) > avail);
            slice = max_packet_words;
        }
    }
    return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::size_t slice = 1 + data[0] % 7;
    ++data;
    --size;
    std::vector<std::uint32_t> in;
    for (std::size_t i = 0; i + 4 <= size; i += 4) {
        std::uint32_t w = 0;
        std::memcpy(&w, data + i, 4);
        in.push_back(w);
    }
    // A trailing partial packet is malformed input: drop it.
    {
        std::size_t i = 0;
        while (i < in.size() && i + word_count_of(in[i]) <= in.size()) i += word_count_of(in[i]);
        in.resize(i);
    }

    midi1_to_midi2 up{};
    midi2_to_midi1 down{};
    std::vector<std::uint32_t> mid_words;
    std::vector<std::uint32_t> out_words;
    for (const packet& p : split(in.data(), in.size())) {
        std::array<packet, max_translated_packets> mid{};
        const auto r1 = translate(up, p, mid);
        check(r1.status == translate_status::ok && r1.written <= max_translated_packets);
        std::size_t mid_size = 0;
        for (std::size_t k = 0; k < r1.written; ++k) mid_size += mid[k].size();
        check(mid_size <= max_translated_words);
        if (p.type() != message_type::midi1_channel_voice) {
            check(r1.written == 1 && mid[0] == p);
        }
        for (std::size_t k = 0; k < r1.written; ++k) {
            const packet& m = mid[k];
            check(m.type() != message_type::midi1_channel_voice);
            if (p.type() == message_type::midi1_channel_voice) {
                check(m.type() == message_type::midi2_channel_voice && canonical_midi2_from_midi1(m));
                check((m[0] & 0x0F0F0000u) == (p[0] & 0x0F0F0000u));
            }
            mid_words.insert(mid_words.end(), m.span().begin(), m.span().end());

            std::array<packet, max_translated_packets> out{};
            const auto r2 = translate(down, m, out);
            check(r2.status == translate_status::ok && r2.written <= max_translated_packets);
            std::size_t out_size = 0;
            for (std::size_t j = 0; j < r2.written; ++j) out_size += out[j].size();
            check(out_size <= max_translated_words);
            if (m.type() != message_type::midi2_channel_voice) check(r2.written == 1 && out[0] == m);
            for (std::size_t j = 0; j < r2.written; ++j) {
                const packet& o = out[j];
                check(o.type() != message_type::midi2_channel_voice);
                if (m.type() == message_type::midi2_channel_voice) {
                    check(o.type() == message_type::midi1_channel_voice && canonical_midi1(o[0]));
                    check((o[0] & 0x0F0F0000u) == (m[0] & 0x0F0F0000u));
                }
                out_words.insert(out_words.end(), o.span().begin(), o.span().end());
            }
        }
    }
    // Whatever is left pending flushes as canonical MIDI 2.0 controllers.
    std::array<packet, 16> rest{};
    for (;;) {
        const auto r = flush(up, rest);
        for (std::size_t k = 0; k < r.written; ++k) {
            check(rest[k].type() == message_type::midi2_channel_voice && canonical_midi2_from_midi1(rest[k]));
        }
        if (r.status == translate_status::ok) break;
        check(r.written == rest.size());
    }
    check(!has_pending(up));

    // The word API in slices agrees with the packet API, and counts the same drops.
    midi1_to_midi2 up2{};
    midi2_to_midi1 down2{};
    const auto mid2 = words_sliced(up2, in, slice);
    check(mid2 == mid_words);
    const auto out2 = words_sliced(down2, mid2, slice);
    check(out2 == out_words);
    check(up2.counters.malformed == up.counters.malformed);
    check(up2.counters.untranslatable == up.counters.untranslatable);
    check(down2.counters.untranslatable == down.counters.untranslatable);
    check(down2.counters.attributes_lost == down.counters.attributes_lost);
    return 0;
}
