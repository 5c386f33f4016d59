// Port lookups among 10 000 MIDI 1.0 ports: the service's index next to the linear
// scan (what Windows MIDI Services does), measured in the same run. Prints both and
// the ratio; issue #4 asks for the index to be at least 100x faster.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "umpd/naming/name_table.hpp"
#include "umpd/naming/port_index.hpp"
#include "umpd/naming/port_numbers.hpp"
#include "umpd/naming/projection.hpp"

namespace {

using namespace umpd::naming;

constexpr std::size_t port_target = 10'000;

struct world {
    port_index index;
    port_scan scan;
    std::vector<std::pair<std::string, port_direction>> names;  // names that exist (legacy and new-style)
    std::vector<std::pair<std::uint32_t, port_direction>> numbers;
    std::size_t ports = 0;

    world() {
        // Realistic endpoints: vendors' models, several identical units, function
        // blocks of 1-4 groups with the names devices declare.
        const std::vector<std::string> models{"UM-ONE", "SoftStep", "Keystation 88 MK3", "MIDIMATE II", "Launchpad X",
                                              "KeyStep Pro", "MicroFreak", "Digitakt", "OP-1 Field", "Prophet Rev2",
                                              "Minilogue xd", "nanoKONTROL2", "MPK mini 3", "Hydrasynth", "Summit"};
        const std::vector<std::string> blocks{"Synth", "MIDI", "Control Surface", "Sequencer", "DAW", "Ext In [0]",
                                              "Drums", "TRS MIDI Out", "CV Out", "Arpeggiator"};
        std::mt19937 rng(7);
        port_numbers numbering;
        std::map<std::string, unsigned> units;
        for (std::size_t e = 0; ports < port_target; ++e) {
            endpoint_blocks b;
            const auto count = static_cast<unsigned>(1 + rng() % 3);
            for (unsigned i = 0; i < count; ++i)
                b.function_blocks.push_back({blocks[rng() % blocks.size()], static_cast<std::uint8_t>(i * 2),
                                             static_cast<std::uint8_t>(1 + rng() % 2),
                                             static_cast<block_direction>(1 + rng() % 3), true});
            endpoint_naming_input in;
            in.device = models[rng() % models.size()] + " " + std::to_string(e % 211);
            in.duplicate = ++units[in.device];
            in.ports = project_ports(b);
            if (ports + in.ports.size() > port_target) in.ports.resize(port_target - ports);
            const auto t = build_name_table(in);
            const std::string id = "usb:" + std::to_string(e);
            std::vector<std::uint32_t> nums;
            for (const auto& entry : t.table.entries) {
                nums.push_back(numbering.assign(id, entry.group_index, entry.direction));
                names.emplace_back(entry.legacy, entry.direction);
                names.emplace_back(entry.new_style, entry.direction);
                numbers.emplace_back(nums.back(), entry.direction);
            }
            auto indexed = make_indexed_ports(id, t.table, nums);
            ports += indexed.size();
            if (scan.update(id, indexed) || index.update(id, std::move(indexed))) std::abort();
        }
        std::shuffle(names.begin(), names.end(), rng);
        std::shuffle(numbers.begin(), numbers.end(), rng);
    }
};

world& the_world() {
    static world w;
    return w;
}

template <class Lookup>
void by_name(benchmark::State& state, const Lookup& l) {
    const auto& w = the_world();
    std::size_t i = 0, found = 0;
    for (auto _ : state) {
        const auto& [name, d] = w.names[i++ % w.names.size()];
        auto hits = l.find_by_name(name, d);
        found += hits.size();
        benchmark::DoNotOptimize(hits.data());
    }
    if (found < static_cast<std::size_t>(state.iterations())) state.SkipWithError("a name that exists was not found");
    state.counters["ports"] = static_cast<double>(w.ports);
}

template <class Lookup>
void by_number(benchmark::State& state, const Lookup& l) {
    const auto& w = the_world();
    std::size_t i = 0, found = 0;
    for (auto _ : state) {
        const auto& [n, d] = w.numbers[i++ % w.numbers.size()];
        const auto* p = l.find_by_number(n, d);
        found += p != nullptr;
        benchmark::DoNotOptimize(p);
    }
    if (found != static_cast<std::size_t>(state.iterations())) state.SkipWithError("a number was not found");
    state.counters["ports"] = static_cast<double>(w.ports);
}

void BM_index_by_name(benchmark::State& s) { by_name(s, the_world().index); }
void BM_scan_by_name(benchmark::State& s) { by_name(s, the_world().scan); }
void BM_index_by_number(benchmark::State& s) { by_number(s, the_world().index); }
void BM_scan_by_number(benchmark::State& s) { by_number(s, the_world().scan); }
BENCHMARK(BM_index_by_name);
BENCHMARK(BM_scan_by_name);
BENCHMARK(BM_index_by_number);
BENCHMARK(BM_scan_by_number);

// Keeps each benchmark's time per lookup for the summary.
class summary_reporter : public benchmark::ConsoleReporter {
public:
    std::map<std::string, double> ns;
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs)
            if (!r.error_occurred && r.run_type == Run::RT_Iteration)
                ns[r.benchmark_name()] = r.GetAdjustedRealTime();  // in the run's time unit (ns)
        ConsoleReporter::ReportRuns(runs);
    }
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    summary_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    int status = 0;
    std::printf("\nlookups among %zu ports (index vs linear scan, same run):\n", the_world().ports);
    for (const char* what : {"by_name", "by_number"}) {
        const std::string index = std::string("BM_index_") + what, scan = std::string("BM_scan_") + what;
        if (!reporter.ns.count(index) || !reporter.ns.count(scan)) continue;
        const double ratio = reporter.ns[scan] / reporter.ns[index];
        std::printf("  %-10s index %10.1f ns   scan %12.1f ns   ratio %8.0fx %s\n", what, reporter.ns[index],
                    reporter.ns[scan], ratio, ratio >= 100.0 ? "(>= 100x: ok)" : "(< 100x: FAIL)");
        if (ratio < 100.0) status = 1;
    }
    return status;
}
