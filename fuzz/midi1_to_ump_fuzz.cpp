// Fuzzes MIDI 1.0 bytes → UMP with arbitrary bytes, fed in chunks through output
// buffers of one to three words. Checks: the result does not depend on the cuts;
// every packet is well formed, on the right group, of type 0x1/0x2/0x3; SysEx packets
// form proper sequences; and UMP → bytes → UMP gives the same packets again (real
// time compared as its own sequence, since it may move relative to SysEx packets).
#include <vector>

#include "chunking.hpp"
#include "umpd/core/bytestream.hpp"
#include "umpd/core/reader.hpp"

using namespace umpd::core;
using umpd::fuzz::require;

namespace {

std::vector<std::uint32_t> to_ump(midi1_to_ump_state& s, std::span<const std::uint8_t> in, umpd::fuzz::prng& rng,
                                  std::size_t max_chunk, std::size_t min_cap, std::size_t max_cap) {
    return umpd::fuzz::drive<std::uint8_t, std::uint32_t>(
        [](midi1_to_ump_state& st, std::span<const std::uint8_t> i, std::span<std::uint32_t> o) {
            return midi1_to_ump(st, i, o);
        },
        s, in, rng, max_chunk, min_cap, max_cap);
}

bool is_real_time(const packet& p) { return p.type() == message_type::system && field<23, 16>(p[0]) >= 0xF8; }

void split(std::span<const std::uint32_t> ump, std::vector<std::uint32_t>& other, std::vector<std::uint32_t>& rt) {
    for (reader r(ump); auto res = r.next();) {
        require(res->error == read_error::none);
        auto& into = is_real_time(res->packet) ? rt : other;
        for (auto w : res->packet.span()) into.push_back(w);
    }
}

// Every packet well formed, on the group, of a type a byte stream can produce, and
// SysEx packets in proper start/continue/end order. Returns whether a SysEx is open.
bool check_packets(std::span<const std::uint32_t> ump, group g) {
    require(validate(ump).ok());
    bool open = false;
    for (reader r(ump); auto res = r.next();) {
        const packet& p = res->packet;
        require(p.group_field() == g);
        require(p.type() == message_type::system || p.type() == message_type::midi1_channel_voice ||
                p.type() == message_type::data64);
        if (p.type() != message_type::data64) continue;
        const auto f = static_cast<packet_format>(field<23, 20>(p[0]));
        const bool first = f == packet_format::complete || f == packet_format::start;
        const bool last = f == packet_format::complete || f == packet_format::end;
        require(first != open);
        // Only the last packet of a SysEx may hold fewer than six bytes.
        require(last || field<19, 16>(p[0]) == 6);
        open = !last;
    }
    return open;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    umpd::fuzz::prng rng = umpd::fuzz::seed_from(input);
    const group g{static_cast<std::uint8_t>(rng.next() % 16)};

    midi1_to_ump_state whole{};
    whole.target_group = g;
    const auto expected = to_ump(whole, input, rng, input.size() + 1, 3 * input.size() + 3, 3 * input.size() + 3);

    midi1_to_ump_state cut{};
    cut.target_group = g;
    auto ump = to_ump(cut, input, rng, 1 + rng.next() % 16, 1, 3);
    require(ump == expected);
    require(cut.counters == whole.counters);
    // End a SysEx the input left open, so that the round trip below sees whole messages.
    if (cut.in_sysex) {
        const std::uint8_t eox[] = {0xF7};
        const auto tail = to_ump(cut, eox, rng, 1, 2, 2);
        ump.insert(ump.end(), tail.begin(), tail.end());
    }

    require(check_packets(expected, g) == (whole.in_sysex && whole.sysex_started));
    require(!check_packets(ump, g));

    // Round trip through bytes and back.
    ump_to_midi1_state back{};
    back.running_status = (rng.next() & 1) != 0;
    const auto bytes = umpd::fuzz::drive<std::uint32_t, std::uint8_t>(
        [](ump_to_midi1_state& st, std::span<const std::uint32_t> i, std::span<std::uint8_t> o) {
            return ump_to_midi1(st, i, o);
        },
        back, std::span<const std::uint32_t>(ump), rng, 1 + rng.next() % 8, 1, 4);
    require(back.counters == ump_to_midi1_counters{});

    midi1_to_ump_state again{};
    again.target_group = g;
    const auto ump2 = to_ump(again, bytes, rng, 1 + rng.next() % 16, 2, 5);
    require(again.counters == midi1_to_ump_counters{});
    std::vector<std::uint32_t> a_other, a_rt, b_other, b_rt;
    split(ump, a_other, a_rt);
    split(ump2, b_other, b_rt);
    require(a_other == b_other);
    require(a_rt == b_rt);
    return 0;
}
