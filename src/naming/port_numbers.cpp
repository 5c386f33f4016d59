// Stable port numbers (port_numbers.hpp).
#include "umpd/naming/port_numbers.hpp"

#include <algorithm>

namespace umpd::naming {

std::uint32_t port_numbers::assign(std::string_view endpoint, std::uint8_t group_index, port_direction d) {
    if (auto n = find(endpoint, group_index, d)) return *n;
    per_direction& pd = dirs_[index_of(d)];
    std::uint32_t n = 0;
    if (!pd.released.empty()) {
        n = *pd.released.begin();
        pd.released.erase(pd.released.begin());
    } else {
        n = pd.next++;
    }
    keys_.emplace(key{std::string(endpoint), group_index, d}, n);
    return n;
}

std::optional<std::uint32_t> port_numbers::find(std::string_view endpoint, std::uint8_t group_index,
                                                port_direction d) const {
    // std::tuple has no heterogeneous comparison with string_view; a short copy is fine off the RT path.
    const auto it = keys_.find(key{std::string(endpoint), group_index, d});
    if (it == keys_.end()) return std::nullopt;
    return it->second;
}

std::size_t port_numbers::forget(std::string_view endpoint) {
    std::size_t freed = 0;
    for (auto it = keys_.lower_bound(key{std::string(endpoint), 0, port_direction::source});
         it != keys_.end() && std::get<0>(it->first) == endpoint;) {
        per_direction& pd = dirs_[index_of(std::get<2>(it->first))];
        pd.released.insert(it->second);
        it = keys_.erase(it);
        ++freed;
    }
    // Keep `next` tight so that the released set never holds the top numbers.
    for (auto& pd : dirs_)
        while (pd.next > 0 && !pd.released.empty() && *pd.released.rbegin() == pd.next - 1) {
            pd.released.erase(std::prev(pd.released.end()));
            --pd.next;
        }
    return freed;
}

std::vector<port_number_record> port_numbers::save() const {
    std::vector<port_number_record> out;
    out.reserve(keys_.size());
    for (const auto& [k, n] : keys_) out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), n});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::pair{a.direction, a.number} < std::pair{b.direction, b.number};
    });
    return out;
}

std::error_code port_numbers::restore(const std::vector<port_number_record>& records) {
    std::map<key, std::uint32_t, std::less<>> keys;
    std::set<std::uint32_t> used[2];
    for (const auto& r : records) {
        if (r.group_index >= group_count) return errc::group_out_of_range;
        if (r.number >= max_port_number) return errc::number_out_of_range;
        if (!used[index_of(r.direction)].insert(r.number).second) return errc::duplicate_number;
        if (!keys.emplace(key{r.endpoint, r.group_index, r.direction}, r.number).second) return errc::duplicate_key;
    }
    per_direction dirs[2];
    for (std::size_t d = 0; d < 2; ++d) {
        if (used[d].empty()) continue;
        dirs[d].next = *used[d].rbegin() + 1;
        // The gaps a saved state had stay free for new ports, lowest first.
        std::uint32_t expect = 0;
        for (std::uint32_t n : used[d]) {
            for (; expect < n; ++expect) dirs[d].released.insert(expect);
            expect = n + 1;
        }
    }
    keys_ = std::move(keys);
    dirs_[0] = std::move(dirs[0]);
    dirs_[1] = std::move(dirs[1]);
    return {};
}

}  // namespace umpd::naming
