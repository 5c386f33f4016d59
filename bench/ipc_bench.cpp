// Throughput of the shared-memory ring (write, publish, read, release of timestamped
// UMP records, one thread), next to a plain copy of the same words in the same run.
// The cross-process round trip (the latency floor of the data path) is measured by
// `umpctl bench latency`, which needs two processes.
#include <benchmark/benchmark.h>

#include "rate_reporter.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/ipc/ring.hpp"

namespace {

using namespace umpd;

constexpr std::uint32_t ring_words = 4096;
constexpr std::size_t batch = 256;  // messages per publish, as a busy client sends them

std::vector<ipc::timed_packet> make_messages() {
    std::vector<ipc::timed_packet> m;
    for (std::size_t i = 0; i < batch; ++i) {
        const auto note = static_cast<std::uint8_t>(i % 128);
        m.push_back({i, (i % 2) ? core::make_midi1_note_on(core::group{0}, core::channel{0}, note, 100)
                                : core::make_midi2_note_on(core::group{0}, core::channel{0}, note, 0xC000)});
    }
    return m;
}

void copy_words(benchmark::State& state) {
    const auto msgs = make_messages();
    // The same payload the ring moves: timestamp (2 words) and the packet's words.
    std::vector<std::uint32_t> in, out;
    for (const auto& m : msgs) {
        in.push_back(static_cast<std::uint32_t>(m.timestamp_ns));
        in.push_back(static_cast<std::uint32_t>(m.timestamp_ns >> 32));
        for (auto w : m.packet.span()) in.push_back(w);
    }
    out.resize(in.size());
    for (auto _ : state) {
        for (std::size_t i = 0; i < in.size(); ++i) out[i] = in[i];
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(msgs.size()));
}

void ring_write_read(benchmark::State& state) {
    const auto msgs = make_messages();
    std::unique_ptr<unsigned char, void (*)(void*)> mem(
        static_cast<unsigned char*>(std::aligned_alloc(64, ipc::ring_bytes(ring_words))), &std::free);
    auto* header = ipc::init_ring(mem.get(), ring_words);
    auto* data = reinterpret_cast<std::uint32_t*>(mem.get() + ipc::ring_bytes(ring_words) - ring_words * 4);
    ipc::ring_writer w(header, data, ring_words);
    ipc::ring_reader r(header, data, ring_words);
    ipc::timed_packet out;
    for (auto _ : state) {
        for (const auto& m : msgs) (void)w.write(m);
        (void)w.publish();
        while (r.read(out) == ipc::read_status::ok) benchmark::DoNotOptimize(out);
        r.release();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(msgs.size()));
}

BENCHMARK(copy_words);
BENCHMARK(ring_write_read);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    umpd::bench::rate_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    const auto ring = reporter.rate("ring_write_read");
    const auto copy = reporter.rate("copy_words");
    if (ring && copy)
        std::printf("\nring write+read: %.1f M messages/s, copy of the same words: %.1f M messages/s, ratio %.3f\n",
                    *ring / 1e6, *copy / 1e6, *ring / *copy);
    benchmark::Shutdown();
    return 0;
}
