// A Google Benchmark reporter that also keeps each benchmark's items per second, so a
// program can print its figures next to the baselines measured in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace umpd::bench {

class rate_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs) {
            const auto it = r.counters.find("items_per_second");
            if (it != r.counters.end() && r.run_type == Run::RT_Iteration) rates_[r.benchmark_name()] = it->second;
        }
        ConsoleReporter::ReportRuns(runs);
    }
    // Items per second of a benchmark that ran; nullopt when it was filtered out.
    [[nodiscard]] std::optional<double> rate(const std::string& name) const {
        const auto it = rates_.find(name);
        if (it == rates_.end()) return std::nullopt;
        return it->second;
    }

private:
    std::map<std::string, double> rates_;
};

}  // namespace umpd::bench
