// Shared by the reader and byte stream fuzz targets: a generator seeded from the
// fuzz input (so chunk and buffer sizes are part of what the fuzzer explores) and a
// driver that feeds a converter chunk by chunk through tiny output buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "umpd/core/bytestream.hpp"

namespace umpd::fuzz {

inline void require(bool ok) {
    if (!ok) __builtin_trap();
}

struct prng {
    std::uint64_t state;
    std::uint32_t next() {
        state = state * 6364136223846793005u + 1442695040888963407u;
        return static_cast<std::uint32_t>(state >> 33);
    }
    // 1..max
    std::size_t size_up_to(std::size_t max) { return 1 + next() % max; }
};

// Splits the fuzz input into a seed (the first 8 bytes) and the payload.
inline prng seed_from(std::span<const std::uint8_t>& data) {
    std::uint64_t s = 0x9E3779B97F4A7C15u;
    for (std::size_t i = 0; i < 8 && i < data.size(); ++i) s = (s << 8) ^ data[i] ^ (s >> 56);
    data = data.size() > 8 ? data.subspan(8) : std::span<const std::uint8_t>{};
    return prng{s};
}

// Feeds in chunks of 1..max_chunk units through outputs of min_cap..max_cap units,
// checking the calling convention on every call. min_cap must allow progress.
template <typename In, typename Out, typename State, typename Convert>
std::vector<Out> drive(Convert convert, State& state, std::span<const In> in, prng& rng, std::size_t max_chunk,
                       std::size_t min_cap, std::size_t max_cap) {
    std::vector<Out> result;
    std::vector<Out> buf(max_cap);
    std::size_t pos = 0;
    do {
        const std::size_t n = in.size() - pos < max_chunk ? in.size() - pos : rng.size_up_to(max_chunk);
        std::span<const In> chunk = in.subspan(pos, n);
        pos += n;
        int stalls = 0;
        for (;;) {
            std::size_t cap = min_cap + rng.next() % (max_cap - min_cap + 1);
            if (stalls > 0) cap = max_cap;
            const core::conversion_result r = convert(state, chunk, std::span<Out>(buf.data(), cap));
            require(r.consumed <= chunk.size());
            require(r.written <= cap);
            result.insert(result.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.written));
            chunk = chunk.subspan(r.consumed);
            if (r.status == core::conversion_status::ok) {
                require(chunk.empty());
                break;
            }
            if (r.consumed == 0 && r.written == 0) {
                // Only an output too small for the waiting packet may stall, and only once.
                require(cap < max_cap && ++stalls == 1);
            } else {
                stalls = 0;
            }
        }
    } while (pos < in.size());
    return result;
}

}  // namespace umpd::fuzz
