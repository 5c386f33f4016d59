// Fuzzes UMP → MIDI 1.0 bytes with arbitrary words (mostly steered to types 0x1..0x3),
// cut anywhere (inside packets too) and written through outputs of one to four bytes,
// and of one to 24.
// Checks: the result does not depend on the cuts; the bytes are clean MIDI 1.0 (read
// back, they raise no complaint); and bytes → UMP → bytes gives the same bytes again
// (real time compared as its own sequence).
#include <cstring>
#include <vector>

#include "chunking.hpp"
#include "umpd/core/bytestream.hpp"
#include "umpd/core/reader.hpp"

using namespace umpd::core;
using umpd::fuzz::require;

namespace {

std::vector<std::uint8_t> to_bytes(ump_to_midi1_state& s, std::span<const std::uint32_t> in, umpd::fuzz::prng& rng,
                                   std::size_t max_chunk, std::size_t min_cap, std::size_t max_cap) {
    return umpd::fuzz::drive<std::uint32_t, std::uint8_t>(
        [](ump_to_midi1_state& st, std::span<const std::uint32_t> i, std::span<std::uint8_t> o) {
            return ump_to_midi1(st, i, o);
        },
        s, in, rng, max_chunk, min_cap, max_cap);
}

std::vector<std::uint32_t> to_ump(midi1_to_ump_state& s, std::span<const std::uint8_t> in, umpd::fuzz::prng& rng) {
    return umpd::fuzz::drive<std::uint8_t, std::uint32_t>(
        [](midi1_to_ump_state& st, std::span<const std::uint8_t> i, std::span<std::uint32_t> o) {
            return midi1_to_ump(st, i, o);
        },
        s, in, rng, 1 + rng.next() % 16, 2, 6);
}

void split(const std::vector<std::uint8_t>& bytes, std::vector<std::uint8_t>& other, std::vector<std::uint8_t>& rt) {
    for (auto b : bytes) (b >= 0xF8 ? rt : other).push_back(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    umpd::fuzz::prng rng = umpd::fuzz::seed_from(input);
    std::vector<std::uint32_t> words(input.size() / 4);
    if (!words.empty()) std::memcpy(words.data(), input.data(), words.size() * 4);
    // Random words are mostly types the converter skips; steer three in four words
    // (chosen by the seed) to the types it converts, keeping the other bits.
    for (auto& w : words)
        if (rng.next() % 4 != 0) w = (w & 0x0FFFFFFFu) | ((1u + rng.next() % 3) << 28);

    const bool running_status = (rng.next() & 1) != 0;
    const std::optional<group> only =
        rng.next() % 3 == 0 ? std::nullopt : std::optional<group>{group{static_cast<std::uint8_t>(rng.next() % 4)}};

    ump_to_midi1_state whole{};
    whole.running_status = running_status;
    whole.only_group = only;
    const auto expected = to_bytes(whole, words, rng, words.size() + 1, 16 * words.size() + 16, 16 * words.size() + 16);

    ump_to_midi1_state cut{};
    cut.running_status = running_status;
    cut.only_group = only;
    auto bytes = to_bytes(cut, words, rng, 1 + rng.next() % 9, 1, 4);
    require(bytes == expected);
    require(cut.counters == whole.counters);

    // Long chunks through outputs of 1..24 bytes: the converter's direct path (four
    // words of input and nine bytes of room left) and its resumable one take turns.
    ump_to_midi1_state mixed{};
    mixed.running_status = running_status;
    mixed.only_group = only;
    require(to_bytes(mixed, words, rng, 1 + rng.next() % 40, 1, 24) == expected);
    require(mixed.counters == whole.counters);
    require(mixed.sysex_open == cut.sysex_open);

    // Close a SysEx the input left open, so that the bytes are a complete stream.
    if (cut.sysex_open) bytes.push_back(0xF7);

    // Clean MIDI 1.0: reading it back finds nothing stray, cut or unterminated.
    midi1_to_ump_state read_back{};
    const auto ump = to_ump(read_back, bytes, rng);
    require(read_back.counters == midi1_to_ump_counters{});
    require(validate(ump).ok());

    // And it converts back to the same bytes.
    ump_to_midi1_state again{};
    again.running_status = running_status;
    const auto bytes2 = to_bytes(again, ump, rng, 1 + rng.next() % 9, 1, 4);
    require(again.counters == ump_to_midi1_counters{});
    require(!again.sysex_open);
    std::vector<std::uint8_t> a_other, a_rt, b_other, b_rt;
    split(bytes, a_other, a_rt);
    split(bytes2, b_other, b_rt);
    require(a_other == b_other);
    require(a_rt == b_rt);
    return 0;
}
