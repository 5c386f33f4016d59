// Name tables (name_table.hpp). The rules, step by step, are in docs/naming.md; the
// comments here name the step each piece implements.
#include "umpd/naming/name_table.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "umpd/naming/text.hpp"

namespace umpd::naming {

namespace {

// A device without a usable name still needs one: its ports must be findable.
constexpr std::string_view fallback_device_name = "MIDI device";

std::string clean_text(std::string_view s) {
    const std::string safe = sanitize_text(s);
    return std::string(trim_text(safe));
}

std::string cut_and_trim(std::string_view s, std::size_t budget) {
    return std::string(trim_text(cut_code_points(s, budget)));
}

std::string device_name_of(const endpoint_naming_input& in) {
    std::string d = clean_text(in.device);
    if (d.empty()) d = fallback_device_name;
    return d;
}

bool all_digits(std::string_view w) noexcept {
    return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// midi, port, in, out, io, device, optionally followed by digits ("port2", "midi10").
bool is_placeholder_word(std::string_view w) noexcept {
    static constexpr std::array<std::string_view, 6> words{"midi", "port", "in", "out", "io", "device"};
    const auto end = w.find_last_not_of("0123456789");
    if (end == std::string_view::npos) return false;
    const std::string_view stem = w.substr(0, end + 1);
    return std::find(words.begin(), words.end(), stem) != words.end();
}

// " [0]" .. " [32]" or " [:]" at the end: what stacks append to tell equal jacks apart.
std::string_view strip_stack_suffix(std::string_view s) noexcept {
    if (s.size() < 3 || s.back() != ']') return s;
    const auto open = s.rfind('[');
    // With its leading space, or the whole (trimmed) name: "[0]" alone names nothing.
    if (open == std::string_view::npos || (open > 0 && s[open - 1] != ' ')) return s;
    const std::string_view inside = s.substr(open + 1, s.size() - open - 2);
    bool strip = inside == ":";
    if (!strip && all_digits(inside) && inside.size() <= 2 && (inside.size() == 1 || inside[0] != '0')) {
        const int v = inside.size() == 1 ? inside[0] - '0' : (inside[0] - '0') * 10 + (inside[1] - '0');
        strip = v <= 32;
    }
    return strip ? s.substr(0, open == 0 ? 0 : open - 1) : s;
}

// Step 4: the port name already carries the device name.
bool carries_device_name(const std::vector<std::string>& port_words, const std::vector<std::string>& device_words) {
    if (device_words.empty()) return false;
    if (port_words.size() >= device_words.size() &&
        std::equal(device_words.begin(), device_words.end(), port_words.begin()))
        return true;
    std::size_t found = 0;
    for (const auto& w : device_words)
        if (std::find(port_words.begin(), port_words.end(), w) != port_words.end()) ++found;
    return 2 * found >= device_words.size();
}

std::vector<std::size_t> ports_of_direction(const endpoint_naming_input& in, port_direction d) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < in.ports.size(); ++i)
        if (in.ports[i].direction == d) idx.push_back(i);
    return idx;
}

std::string group_suffix(std::uint8_t group_index) {
    return " group " + std::to_string(static_cast<unsigned>(group_index) + 1u);
}

// The stem cut (on a character boundary) and trimmed so that stem + suffix fits the budget.
std::string fit(std::string_view stem, std::string_view suffix) {
    const std::size_t room = name_budget - std::min(name_budget, code_points(suffix));
    return cut_and_trim(stem, room) + std::string(suffix);
}

}  // namespace

std::string_view to_string(naming_approach a) noexcept {
    switch (a) {
    case naming_approach::default_approach: return "default";
    case naming_approach::classic: return "classic";
    case naming_approach::new_style: return "new-style";
    }
    return "default";
}

std::string_view to_string(global_naming g) noexcept {
    switch (g) {
    case global_naming::automatic: return "automatic";
    case global_naming::classic: return "classic";
    case global_naming::new_style: return "new-style";
    }
    return "automatic";
}

std::optional<naming_approach> parse_naming_approach(std::string_view s) noexcept {
    if (s == "default") return naming_approach::default_approach;
    if (s == "classic" || s == "classic-compatible") return naming_approach::classic;
    if (s == "new-style") return naming_approach::new_style;
    return std::nullopt;
}

std::optional<global_naming> parse_global_naming(std::string_view s) noexcept {
    if (s == "automatic") return global_naming::automatic;
    if (s == "classic" || s == "classic-compatible") return global_naming::classic;
    if (s == "new-style") return global_naming::new_style;
    return std::nullopt;
}

std::optional<std::string> usable_port_name(std::string_view device_supplied) {
    // Step 1: clean, strip the stack suffix, drop placeholders.
    const std::string safe = sanitize_text(device_supplied);
    const std::string name(trim_text(strip_stack_suffix(trim_text(safe))));
    const auto words = folded_words(name);
    if (words.empty()) return std::nullopt;
    bool any_placeholder = false;
    bool only_placeholders = true;
    for (const auto& w : words) {
        // A bare number counts with the placeholder it follows ("Port 2" = "Port2").
        if (is_placeholder_word(w)) {
            any_placeholder = true;
        } else if (!all_digits(w)) {
            only_placeholders = false;
        }
    }
    if (only_placeholders && any_placeholder) return std::nullopt;
    return name;
}

std::vector<std::string> legacy_names(const endpoint_naming_input& in) {
    std::string name = device_name_of(in);
    if (in.duplicate > 1) name = std::to_string(in.duplicate) + "- " + name;
    const std::string base = cut_and_trim(name, name_budget);
    std::vector<std::string> out(in.ports.size());
    for (auto d : {port_direction::source, port_direction::destination}) {
        const std::string_view word = d == port_direction::source ? "MIDIIN" : "MIDIOUT";
        std::size_t n = 0;  // the index among the device's ports of this direction
        for (std::size_t i : ports_of_direction(in, d)) {
            out[i] = n == 0 ? base
                            : cut_and_trim(std::string(word) + std::to_string(n + 1) + " (" + base + ")", name_budget);
            ++n;
        }
    }
    return out;
}

std::vector<std::string> new_style_names(const endpoint_naming_input& in) {
    const std::string device = device_name_of(in);
    const auto device_words = folded_words(device);
    const std::string device_folded = fold_name(device);
    const std::string duplicate_suffix = in.duplicate > 1 ? " (" + std::to_string(in.duplicate) + ")" : "";
    std::vector<std::string> out(in.ports.size());

    for (auto d : {port_direction::source, port_direction::destination}) {
        const auto idx = ports_of_direction(in, d);
        if (idx.empty()) continue;
        std::vector<std::optional<std::string>> names;
        for (std::size_t i : idx) {
            const auto& supplied = in.ports[i].device_name;
            names.push_back(supplied ? usable_port_name(*supplied) : std::nullopt);
        }
        // Step 3: every port named just like the device is no naming at all.
        if (std::all_of(names.begin(), names.end(),
                        [&](const auto& n) { return n && fold_name(*n) == device_folded; }))
            for (auto& n : names) n.reset();

        // Steps 4 and 5: prepend the device name, decided once for the direction.
        std::vector<bool> carries(idx.size(), false);
        bool composed_fit = true;
        for (std::size_t k = 0; k < idx.size(); ++k) {
            if (!names[k]) continue;
            carries[k] = carries_device_name(folded_words(*names[k]), device_words);
            if (!carries[k] && code_points(device) + 1 + code_points(*names[k]) > name_budget) composed_fit = false;
        }
        struct stem_t {
            std::string stem;
            bool with_group = false;
        };
        std::vector<stem_t> stems;
        for (std::size_t k = 0; k < idx.size(); ++k) {
            const std::uint8_t g = in.ports[idx[k]].group_index;
            if (!names[k]) {
                stems.push_back({device, g != 0});  // step 8
            } else if (carries[k] || !composed_fit) {
                stems.push_back({*names[k], false});
            } else {
                stems.push_back({device + " " + *names[k], false});
            }
        }
        // Step 6: a collision, as people would see the names, numbers every port.
        std::set<std::string> seen;
        bool collision = false;
        for (std::size_t k = 0; k < idx.size() && !collision; ++k) {
            const std::string shown =
                fit(stems[k].stem, stems[k].with_group ? group_suffix(in.ports[idx[k]].group_index) : "");
            collision = !seen.insert(fold_name(shown)).second;
        }
        // Step 7: the duplicate marker last; the stem is what gets cut.
        for (std::size_t k = 0; k < idx.size(); ++k) {
            const std::uint8_t g = in.ports[idx[k]].group_index;
            const std::string suffix = (collision || stems[k].with_group ? group_suffix(g) : "") + duplicate_suffix;
            out[idx[k]] = fit(stems[k].stem, suffix);
        }
    }
    return out;
}

name_table_result build_name_table(const endpoint_naming_input& in, global_naming global) {
    name_table_result r;
    if (in.duplicate == 0) {
        r.error = errc::bad_duplicate_ordinal;
        return r;
    }
    std::array<std::array<bool, group_count>, 2> used{};
    for (std::size_t i = 0; i < in.ports.size(); ++i) {
        const auto& p = in.ports[i];
        r.port_index = i;
        if (p.group_index >= group_count) {
            r.error = errc::group_out_of_range;
            return r;
        }
        bool& slot = used[index_of(p.direction)][p.group_index];
        if (slot) {
            r.error = errc::duplicate_port;
            return r;
        }
        slot = true;
    }
    r.port_index = 0;

    shown_name style = shown_name::legacy;
    switch (in.approach) {
    case naming_approach::classic: style = shown_name::legacy; break;
    case naming_approach::new_style: style = shown_name::new_style; break;
    case naming_approach::default_approach:
        switch (global) {
        case global_naming::classic: style = shown_name::legacy; break;
        case global_naming::new_style: style = shown_name::new_style; break;
        case global_naming::automatic: {
            const bool any_usable = std::any_of(in.ports.begin(), in.ports.end(), [](const auto& p) {
                return p.device_name && usable_port_name(*p.device_name).has_value();
            });
            style = (any_usable || !in.legacy_equivalent) ? shown_name::new_style : shown_name::legacy;
            break;
        }
        }
        break;
    }

    auto legacy = legacy_names(in);
    auto fresh = new_style_names(in);
    r.table.style = style;
    r.table.entries.reserve(in.ports.size());
    for (std::size_t i = 0; i < in.ports.size(); ++i) {
        name_entry e;
        e.group_index = in.ports[i].group_index;
        e.direction = in.ports[i].direction;
        e.custom = cut_and_trim(sanitize_text(in.ports[i].custom), name_budget);
        e.legacy = std::move(legacy[i]);
        e.new_style = std::move(fresh[i]);
        e.shown = e.custom.empty() ? style : shown_name::custom;
        r.table.entries.push_back(std::move(e));
    }
    return r;
}

void carry_custom_names(const name_table& previous, endpoint_naming_input& next) {
    for (auto& p : next.ports) {
        if (!trim_text(p.custom).empty()) continue;
        for (const auto& e : previous.entries)
            if (e.group_index == p.group_index && e.direction == p.direction && !e.custom.empty()) {
                p.custom = e.custom;
                break;
            }
    }
}

}  // namespace umpd::naming
