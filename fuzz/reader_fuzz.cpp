// Fuzzes the validating reader: arbitrary words, read whole and cut at packet
// boundaries derived from the input. Traps on any broken promise; AddressSanitizer
// catches reads past the end (the buffer is sized exactly).
#include <cstring>
#include <memory>
#include <vector>

#include "chunking.hpp"
#include "umpd/core/reader.hpp"

using namespace umpd::core;
using umpd::fuzz::require;

namespace {

struct event {
    std::size_t offset;
    read_error error;
};

// Reads a buffer, checking the reader's promises; returns every packet's offset and error.
std::vector<event> read_checked(std::span<const std::uint32_t> words) {
    std::vector<event> events;
    reader r(words);
    std::size_t expected = 0;
    bool truncated = false;
    while (auto res = r.next()) {
        require(!truncated);
        require(res->offset == expected);
        require(r.offset() > res->offset || res->error == read_error::truncated);
        const unsigned n = word_count_of(words[res->offset]);
        if (res->error == read_error::truncated) {
            truncated = true;
            require(res->offset + n > words.size());
            for (std::size_t i = res->offset; i < words.size(); ++i) require(res->packet.words[i - res->offset] == words[i]);
            for (std::size_t i = words.size() - res->offset; i < max_packet_words; ++i) require(res->packet.words[i] == 0);
        } else {
            require(res->offset + n <= words.size());
            require(res->packet.size() == n);
            for (unsigned i = 0; i < max_packet_words; ++i)
                require(res->packet.words[i] == (i < n ? words[res->offset + i] : 0u));
            require(res->error == check_packet(res->packet));
        }
        events.push_back({res->offset, res->error});
        expected += n;
    }
    require(r.done());
    require(!r.next().has_value());
    if (!truncated) require(expected == words.size());

    // validate() names the first error the iterator meets.
    const validation_result v = validate(words);
    std::size_t first = 0;
    while (first < events.size() && events[first].error == read_error::none) ++first;
    if (first == events.size()) {
        require(v.ok() && v.offset == words.size());
    } else {
        require(v.error == events[first].error && v.offset == events[first].offset);
    }
    // Whichever kernel validate() picked, the others agree with it.
    for (const validation_result k : {detail::validate_from(words, 0), detail::validate_avx2(words)})
        require(k.error == v.error && k.offset == v.offset);
    return events;
}

// Arbitrary words are malformed within a few packets, so validate()'s block kernels
// would rarely run far. This copy keeps the packet boundaries but gives each malformed
// packet a never-checked type of the same size, except the one at index keep (if any).
std::vector<std::uint32_t> repaired(std::span<const std::uint32_t> words, const std::vector<event>& events, std::size_t keep) {
    static constexpr std::uint32_t unchecked_of_size[] = {0x0, 0x0, 0x8, 0xB, 0xD};
    std::vector<std::uint32_t> out(words.begin(), words.end());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const read_error e = events[i].error;
        if (i == keep || e == read_error::none || e == read_error::truncated) continue;
        std::uint32_t& w = out[events[i].offset];
        w = (w & 0x0FFFFFFFu) | (unchecked_of_size[word_count_of(w)] << 28);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    umpd::fuzz::prng rng = umpd::fuzz::seed_from(input);
    const std::size_t n = input.size() / 4;
    const auto words = std::make_unique<std::uint32_t[]>(n);
    if (n != 0) std::memcpy(words.get(), input.data(), n * 4);
    const std::span<const std::uint32_t> all(words.get(), n);

    const auto whole = read_checked(all);

    {
        // At most one malformed packet left, anywhere (or none), after a long good run.
        const std::size_t keep = whole.empty() ? 0 : rng.next() % (whole.size() + 1);
        const auto fixed = repaired(all, whole, keep);
        const auto exact = std::make_unique<std::uint32_t[]>(n);
        if (n != 0) std::memcpy(exact.get(), fixed.data(), n * 4);
        const auto events = read_checked({exact.get(), n});
        require(events.size() == whole.size());
        for (std::size_t i = 0; i < events.size(); ++i) {
            require(events[i].offset == whole[i].offset);
            require((events[i].error != read_error::none) == (i == keep && whole[i].error != read_error::none) ||
                    whole[i].error == read_error::truncated);
        }
    }

    // Cut at packet boundaries into pieces of random lengths: each piece, read on its
    // own in an exactly sized copy, gives the same results as the whole.
    std::size_t k = 0;
    while (k < whole.size()) {
        const std::size_t packets = rng.size_up_to(6);
        const std::size_t begin = whole[k].offset;
        const std::size_t last = k + packets < whole.size() ? k + packets : whole.size();
        const std::size_t end = last < whole.size() ? whole[last].offset : n;
        const auto piece = std::make_unique<std::uint32_t[]>(end - begin);
        std::memcpy(piece.get(), words.get() + begin, (end - begin) * 4);
        const auto events = read_checked({piece.get(), end - begin});
        require(events.size() == last - k);
        for (std::size_t i = 0; i < events.size(); ++i) {
            require(events[i].offset + begin == whole[k + i].offset);
            require(events[i].error == whole[k + i].error);
        }
        k = last;
    }
    return 0;
}
