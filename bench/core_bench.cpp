// Throughput of the UMP core's data-path pieces, each next to a plain copy of the
// same buffer measured in the same run. The machines this runs on are noisy, so
// the ratio is the figure that means something; the absolute rates are printed too.
//
//   build/release/bench/umpd_core_bench            (scripts/bench runs it)
//
// Targets (issue #2): the reader at >= 0.25 of the word copy's rate; every converter
// at >= 100 million input bytes or words per second.
#include <benchmark/benchmark.h>

#include "rate_reporter.hpp"

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "umpd/core/bytestream.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/core/reader.hpp"
#include "umpd/core/translate.hpp"

namespace {

using namespace umpd::core;

constexpr std::size_t stream_packets = 16384;

// A mixed UMP stream: mostly channel voice of both protocols, with system, SysEx,
// utility and stream messages in between, as a busy endpoint would carry.
std::vector<std::uint32_t> make_mixed_ump() {
    std::mt19937 rng(42);
    std::vector<std::uint32_t> words;
    for (std::size_t i = 0; i < stream_packets; ++i) {
        const auto g = group{static_cast<std::uint8_t>(rng() % 16)};
        const auto c = channel{static_cast<std::uint8_t>(rng() % 16)};
        const auto note = static_cast<std::uint8_t>(rng() % 128);
        packet p;
        switch (rng() % 10) {
        case 0: case 1: case 2: p = make_midi1_note_on(g, c, note, 100); break;
        case 3: p = make_midi1_control_change(g, c, 7, note); break;
        case 4: case 5: p = make_midi2_note_on(g, c, note, 0xC000); break;
        case 6: p = make_midi2_pitch_bend(g, c, static_cast<std::uint32_t>(rng())); break;
        case 7: p = make_system(g, system_status::timing_clock); break;
        case 8: {
            const std::uint8_t data[6] = {0x7E, 0x7F, 0x06, 0x01, note, 0x00};
            p = make_sysex7(g, packet_format::complete, data);
            break;
        }
        default: p = packet{0x0020'1234u}; break;  // JR timestamp
        }
        for (auto w : p.span()) words.push_back(w);
    }
    return words;
}

// MIDI 1.0 channel voice only, as UMP words (translation input).
std::vector<std::uint32_t> make_midi1_ump() {
    std::mt19937 rng(7);
    std::vector<std::uint32_t> words;
    for (std::size_t i = 0; i < stream_packets; ++i) {
        const auto g = group{static_cast<std::uint8_t>(rng() % 16)};
        const auto c = channel{static_cast<std::uint8_t>(rng() % 16)};
        const auto v = static_cast<std::uint8_t>(rng() % 128);
        switch (rng() % 5) {
        case 0: words.push_back(make_midi1_note_on(g, c, v, 100)[0]); break;
        case 1: words.push_back(make_midi1_note_off(g, c, v, 0)[0]); break;
        case 2: words.push_back(make_midi1_control_change(g, c, 74, v)[0]); break;
        case 3: words.push_back(make_midi1_pitch_bend(g, c, static_cast<std::uint16_t>(rng() & 0x3FFF))[0]); break;
        default: words.push_back(make_midi1_channel_pressure(g, c, v)[0]); break;
        }
    }
    return words;
}

std::vector<std::uint32_t> make_midi2_ump() {
    std::vector<std::uint32_t> in = make_midi1_ump();
    std::vector<std::uint32_t> out(in.size() * max_translated_words);
    midi1_to_midi2 state{};
    const auto r = translate_words(state, in, out);
    out.resize(r.written);
    return out;
}

// A MIDI 1.0 byte stream with running status, real time and SysEx, as a keyboard
// and a librarian would send it.
std::vector<std::uint8_t> make_midi1_bytes() {
    std::mt19937 rng(3);
    std::vector<std::uint8_t> bytes;
    std::uint8_t running = 0;
    while (bytes.size() < stream_packets * 3) {
        const auto note = static_cast<std::uint8_t>(rng() % 128);
        switch (rng() % 8) {
        case 0: case 1: case 2:
            if (running != 0x90) bytes.push_back(running = 0x90);
            bytes.insert(bytes.end(), {note, 0x64});
            break;
        case 3:
            bytes.insert(bytes.end(), {0xB1, 0x07, note});
            running = 0xB1;
            break;
        case 4: bytes.push_back(0xF8); break;
        case 5:
            bytes.insert(bytes.end(), {0xF0, 0x7E, 0x7F, 0x06, 0x01, 0x00, 0x10, note, 0x20, 0x00, 0xF7});
            running = 0;
            break;
        default:
            bytes.insert(bytes.end(), {0xE0, note, 0x40});
            running = 0xE0;
            break;
        }
    }
    return bytes;
}

const std::vector<std::uint32_t>& mixed_ump() { static const auto v = make_mixed_ump(); return v; }
const std::vector<std::uint32_t>& midi1_ump() { static const auto v = make_midi1_ump(); return v; }
const std::vector<std::uint32_t>& midi2_ump() { static const auto v = make_midi2_ump(); return v; }
const std::vector<std::uint8_t>& midi1_bytes() { static const auto v = make_midi1_bytes(); return v; }
const std::vector<std::uint32_t>& midi1_bytes_as_ump() {
    static const auto v = [] {
        std::vector<std::uint32_t> out(midi1_bytes().size() * 2);
        midi1_to_ump_state s{};
        const auto r = midi1_to_ump(s, midi1_bytes(), out);
        out.resize(r.written);
        return out;
    }();
    return v;
}

// ---- baselines: a plain copy of the same buffer -------------------------------

template <typename T>
void copy_loop(benchmark::State& state, const std::vector<T>& in) {
    std::vector<T> out(in.size());
    for (auto _ : state) {
        const T* src = in.data();
        T* dst = out.data();
        for (std::size_t i = 0; i < in.size(); ++i) dst[i] = src[i];
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void copy_mixed_words(benchmark::State& s) { copy_loop(s, mixed_ump()); }
void copy_midi1_bytes(benchmark::State& s) { copy_loop(s, midi1_bytes()); }
void copy_midi1_ump_words(benchmark::State& s) { copy_loop(s, midi1_bytes_as_ump()); }
void copy_midi1_cv_words(benchmark::State& s) { copy_loop(s, midi1_ump()); }
void copy_midi2_cv_words(benchmark::State& s) { copy_loop(s, midi2_ump()); }

// ---- the pieces under test ---------------------------------------------------

// The reader's bulk form, as the service's data path uses it: one call checks a
// whole batch (a ring's worth of words) before it is forwarded.
void reader_validate_mixed_words(benchmark::State& state) {
    const auto& in = mixed_ump();
    for (auto _ : state) {
        const auto v = validate(in);
        benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

// The reader packet by packet, copying each packet out as a consumer would.
void reader_next_mixed_words(benchmark::State& state) {
    const auto& in = mixed_ump();
    std::vector<std::uint32_t> out(in.size());
    for (auto _ : state) {
        reader r(in);
        std::size_t n = 0;
        unsigned bad = 0;
        // Copies each good packet out, so the work compares with the copy baseline.
        while (auto res = r.next()) {
            bad += res->error != read_error::none;
            for (unsigned i = 0; i < res->packet.size(); ++i) out[n + i] = res->packet.words[i];
            n += res->packet.size();
        }
        benchmark::DoNotOptimize(bad);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void midi1_to_ump_bytes(benchmark::State& state) {
    const auto& in = midi1_bytes();
    std::vector<std::uint32_t> out(in.size() * 2);
    for (auto _ : state) {
        midi1_to_ump_state s{};
        const auto r = midi1_to_ump(s, in, out);
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void ump_to_midi1_words(benchmark::State& state) {
    const auto& in = midi1_bytes_as_ump();
    std::vector<std::uint8_t> out(in.size() * 4);
    for (auto _ : state) {
        ump_to_midi1_state s{};
        const auto r = ump_to_midi1(s, in, out);
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void midi1_to_midi2_words(benchmark::State& state) {
    const auto& in = midi1_ump();
    std::vector<std::uint32_t> out(in.size() * max_translated_words);
    for (auto _ : state) {
        midi1_to_midi2 s{};
        const auto r = translate_words(s, in, out);
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void midi2_to_midi1_words(benchmark::State& state) {
    const auto& in = midi2_ump();
    std::vector<std::uint32_t> out(in.size() * max_translated_words);
    for (auto _ : state) {
        midi2_to_midi1 s{};
        const auto r = translate_words(s, in, out);
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

// Each figure is measured right after its baseline, so both see the same machine state.
BENCHMARK(copy_mixed_words);
BENCHMARK(reader_validate_mixed_words);
BENCHMARK(reader_next_mixed_words);
BENCHMARK(copy_midi1_bytes);
BENCHMARK(midi1_to_ump_bytes);
BENCHMARK(copy_midi1_ump_words);
BENCHMARK(ump_to_midi1_words);
BENCHMARK(copy_midi1_cv_words);
BENCHMARK(midi1_to_midi2_words);
BENCHMARK(copy_midi2_cv_words);
BENCHMARK(midi2_to_midi1_words);

struct figure {
    const char* name;
    const char* baseline;
    const char* unit;
    double min_ratio;  // 0: no ratio target
    double min_rate;   // 0: no absolute target
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    umpd::bench::rate_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);

    const figure figures[] = {
        {"reader_validate_mixed_words", "copy_mixed_words", "words", 0.25, 0},
        {"reader_next_mixed_words", "copy_mixed_words", "words", 0, 0},
        {"midi1_to_ump_bytes", "copy_midi1_bytes", "bytes", 0, 100e6},
        {"ump_to_midi1_words", "copy_midi1_ump_words", "words", 0, 100e6},
        {"midi1_to_midi2_words", "copy_midi1_cv_words", "words", 0, 100e6},
        {"midi2_to_midi1_words", "copy_midi2_cv_words", "words", 0, 100e6},
    };
    std::printf("\n%-28s %16s %16s %7s  %s\n", "figure", "rate (M/s)", "copy (M/s)", "ratio", "target");
    bool all_met = true;
    for (const auto& f : figures) {
        const auto rate = reporter.rate(f.name);
        const auto base = reporter.rate(f.baseline);
        if (!rate || !base) continue;  // filtered out
        const double ratio = *rate / *base;
        const bool met = ratio >= f.min_ratio && *rate >= f.min_rate;
        all_met = all_met && met;
        char target[64];
        if (f.min_ratio > 0) std::snprintf(target, sizeof target, ">= %.2f of copy", f.min_ratio);
        else if (f.min_rate > 0) std::snprintf(target, sizeof target, ">= %.0f M %s/s", f.min_rate / 1e6, f.unit);
        else std::snprintf(target, sizeof target, "(no target)");
        const bool has_target = f.min_ratio > 0 || f.min_rate > 0;
        std::printf("%-28s %10.1f %-5s %10.1f %-5s %7.3f  %s  %s\n", f.name, *rate / 1e6, f.unit, *base / 1e6, f.unit, ratio, target, !has_target ? "" : met ? "met" : "MISSED");
    }
    std::printf("%s\n", all_met ? "all targets met" : "some targets missed");
    benchmark::Shutdown();
    return 0;
}
