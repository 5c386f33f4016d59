// Port lookups (port_index.hpp): the hash index and the linear scan it is checked against.
#include "umpd/naming/port_index.hpp"

#include <algorithm>
#include <array>
#include <tuple>

namespace umpd::naming {

namespace {

bool port_order(const indexed_port* a, const indexed_port* b) noexcept {
    return std::tie(a->endpoint, a->group_index, a->direction) < std::tie(b->endpoint, b->group_index, b->direction);
}

// The distinct non-empty names a port answers to under `m`, at most four.
std::vector<std::string_view> names_of(const indexed_port& p, name_match m) {
    std::vector<std::string_view> out;
    if (m == name_match::legacy_only) {
        if (!p.legacy.empty()) out.push_back(p.legacy);
        return out;
    }
    for (const std::string* n : {&p.custom, &p.legacy, &p.new_style, &p.shown})
        if (!n->empty() && std::find(out.begin(), out.end(), *n) == out.end()) out.push_back(*n);
    return out;
}

// Shared by both implementations: a list must be internally consistent.
std::error_code check_ports(std::vector<indexed_port>& ports, std::string_view endpoint) {
    std::array<std::array<bool, group_count>, 2> used{};
    for (auto& p : ports) {
        if (p.group_index >= group_count) return errc::group_out_of_range;
        bool& slot = used[index_of(p.direction)][p.group_index];
        if (slot) return errc::duplicate_port;
        slot = true;
        p.endpoint = std::string(endpoint);
    }
    for (std::size_t i = 0; i < ports.size(); ++i)
        for (std::size_t j = i + 1; j < ports.size(); ++j)
            if (ports[i].direction == ports[j].direction && ports[i].number == ports[j].number)
                return errc::duplicate_number;
    std::sort(ports.begin(), ports.end(),
              [](const indexed_port& a, const indexed_port& b) { return port_order(&a, &b); });
    return {};
}

port_list only(port_list l, port_direction d) {
    std::erase_if(l, [d](const indexed_port* p) { return p->direction != d; });
    return l;
}

struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace

std::vector<indexed_port> make_indexed_ports(std::string_view endpoint, const name_table& table,
                                             const std::vector<std::uint32_t>& numbers) {
    std::vector<indexed_port> out;
    out.reserve(table.entries.size());
    for (std::size_t i = 0; i < table.entries.size(); ++i) {
        const auto& e = table.entries[i];
        out.push_back({std::string(endpoint), e.group_index, e.direction, i < numbers.size() ? numbers[i] : 0u,
                       e.custom, e.legacy, e.new_style, e.name()});
    }
    return out;
}

// ---------------------------------------------------------------------------
// port_index
// ---------------------------------------------------------------------------

struct port_index::state {
    using name_map = std::unordered_map<std::string, port_list, text_hash, std::equal_to<>>;
    // Node-based: an endpoint's vector never moves when other endpoints come and go.
    std::unordered_map<std::string, std::vector<indexed_port>, text_hash, std::equal_to<>> endpoints;
    std::array<name_map, 2> any;      // [direction]
    std::array<name_map, 2> legacy;   // [direction]
    std::array<std::unordered_map<std::uint32_t, const indexed_port*>, 2> numbers;
    std::size_t count = 0;

    name_map& names(name_match m, port_direction d) { return (m == name_match::any ? any : legacy)[index_of(d)]; }

    void link(const indexed_port& p) {
        for (auto m : {name_match::any, name_match::legacy_only})
            for (auto n : names_of(p, m)) {
                auto& list = names(m, p.direction)[std::string(n)];
                list.insert(std::upper_bound(list.begin(), list.end(), &p, port_order), &p);
            }
        numbers[index_of(p.direction)][p.number] = &p;
    }

    void unlink(const indexed_port& p) {
        for (auto m : {name_match::any, name_match::legacy_only})
            for (auto n : names_of(p, m)) {
                auto& map = names(m, p.direction);
                const auto it = map.find(n);
                if (it == map.end()) continue;
                std::erase(it->second, &p);
                if (it->second.empty()) map.erase(it);
            }
        numbers[index_of(p.direction)].erase(p.number);
    }
};

port_index::port_index() : s_(std::make_unique<state>()) {}
port_index::~port_index() = default;

std::error_code port_index::update(std::string_view endpoint, std::vector<indexed_port> ports) {
    if (auto e = check_ports(ports, endpoint)) return e;
    for (const auto& p : ports) {
        const auto& nums = s_->numbers[index_of(p.direction)];
        const auto it = nums.find(p.number);
        if (it != nums.end() && it->second->endpoint != endpoint) return errc::duplicate_number;
    }
    remove(endpoint);
    if (ports.empty()) return {};
    auto [it, inserted] = s_->endpoints.emplace(std::string(endpoint), std::move(ports));
    for (const auto& p : it->second) s_->link(p);
    s_->count += it->second.size();
    return {};
}

void port_index::remove(std::string_view endpoint) {
    const auto it = s_->endpoints.find(endpoint);
    if (it == s_->endpoints.end()) return;
    for (const auto& p : it->second) s_->unlink(p);
    s_->count -= it->second.size();
    s_->endpoints.erase(it);
}

port_list port_index::find_by_name(std::string_view name, port_direction d, name_match m) const {
    const auto& map = s_->names(m, d);
    const auto it = map.find(name);
    return it == map.end() ? port_list{} : it->second;
}

const indexed_port* port_index::find_by_number(std::uint32_t number, port_direction d) const {
    const auto& nums = s_->numbers[index_of(d)];
    const auto it = nums.find(number);
    return it == nums.end() ? nullptr : it->second;
}

port_list port_index::ports_of(std::string_view endpoint) const {
    port_list out;
    const auto it = s_->endpoints.find(endpoint);
    if (it != s_->endpoints.end())
        for (const auto& p : it->second) out.push_back(&p);
    return out;
}

port_list port_index::ports_of(std::string_view endpoint, port_direction d) const {
    return only(ports_of(endpoint), d);
}

const indexed_port* port_index::port_of(std::string_view endpoint, std::uint8_t group_index, port_direction d) const {
    const auto it = s_->endpoints.find(endpoint);
    if (it == s_->endpoints.end()) return nullptr;
    for (const auto& p : it->second)
        if (p.group_index == group_index && p.direction == d) return &p;
    return nullptr;
}

std::size_t port_index::size() const noexcept { return s_->count; }

// ---------------------------------------------------------------------------
// port_scan: every query looks at every port, on purpose.
// ---------------------------------------------------------------------------

std::error_code port_scan::update(std::string_view endpoint, std::vector<indexed_port> ports) {
    if (auto e = check_ports(ports, endpoint)) return e;
    for (const auto& p : ports)
        for (const auto& q : ports_)
            if (q->endpoint != endpoint && q->direction == p.direction && q->number == p.number)
                return errc::duplicate_number;
    remove(endpoint);
    for (auto& p : ports) ports_.push_back(std::make_unique<indexed_port>(std::move(p)));
    return {};
}

void port_scan::remove(std::string_view endpoint) {
    std::erase_if(ports_, [endpoint](const auto& p) { return p->endpoint == endpoint; });
}

port_list port_scan::find_by_name(std::string_view name, port_direction d, name_match m) const {
    port_list out;
    for (const auto& p : ports_) {
        if (p->direction != d) continue;
        const bool hit = m == name_match::legacy_only
                             ? p->legacy == name
                             : (p->custom == name || p->legacy == name || p->new_style == name || p->shown == name);
        if (hit && !name.empty()) out.push_back(p.get());
    }
    std::sort(out.begin(), out.end(), port_order);
    return out;
}

const indexed_port* port_scan::find_by_number(std::uint32_t number, port_direction d) const {
    for (const auto& p : ports_)
        if (p->direction == d && p->number == number) return p.get();
    return nullptr;
}

port_list port_scan::ports_of(std::string_view endpoint) const {
    port_list out;
    for (const auto& p : ports_)
        if (p->endpoint == endpoint) out.push_back(p.get());
    std::sort(out.begin(), out.end(), port_order);
    return out;
}

port_list port_scan::ports_of(std::string_view endpoint, port_direction d) const {
    return only(ports_of(endpoint), d);
}

const indexed_port* port_scan::port_of(std::string_view endpoint, std::uint8_t group_index, port_direction d) const {
    for (const auto& p : ports_)
        if (p->endpoint == endpoint && p->group_index == group_index && p->direction == d) return p.get();
    return nullptr;
}

}  // namespace umpd::naming
