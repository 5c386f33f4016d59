#include "umpd/service/endpoint_model.hpp"

#include "umpd/core/reassembly.hpp"

namespace umpd::service {

namespace {

bool has_zero(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

std::string_view to_string(discovery_state s) noexcept {
    switch (s) {
        case discovery_state::none: return "none";
        case discovery_state::pending: return "pending";
        case discovery_state::complete: return "complete";
        case discovery_state::timed_out: return "timed_out";
    }
    return "none";
}

std::string_view to_string(core::function_block_direction d) noexcept {
    switch (d) {
        case core::function_block_direction::input: return "input";
        case core::function_block_direction::output: return "output";
        case core::function_block_direction::bidirectional: return "bidirectional";
        case core::function_block_direction::reserved: break;
    }
    return "reserved";
}

std::string_view to_string(core::function_block_ui_hint h) noexcept {
    switch (h) {
        case core::function_block_ui_hint::unknown: return "unknown";
        case core::function_block_ui_hint::receiver: return "receiver";
        case core::function_block_ui_hint::sender: return "sender";
        case core::function_block_ui_hint::sender_receiver: return "sender_receiver";
    }
    return "unknown";
}

std::string_view to_string(core::function_block_midi1 m) noexcept {
    switch (m) {
        case core::function_block_midi1::no: return "no";
        case core::function_block_midi1::unrestricted: return "unrestricted";
        case core::function_block_midi1::restricted: return "restricted";
        case core::function_block_midi1::reserved: break;
    }
    return "reserved";
}

std::optional<core::function_block_direction> parse_block_direction(std::string_view s) noexcept {
    if (s == "input") return core::function_block_direction::input;
    if (s == "output") return core::function_block_direction::output;
    if (s == "bidirectional") return core::function_block_direction::bidirectional;
    return std::nullopt;
}

std::optional<core::function_block_ui_hint> parse_ui_hint(std::string_view s) noexcept {
    if (s == "unknown") return core::function_block_ui_hint::unknown;
    if (s == "receiver") return core::function_block_ui_hint::receiver;
    if (s == "sender") return core::function_block_ui_hint::sender;
    if (s == "sender_receiver") return core::function_block_ui_hint::sender_receiver;
    return std::nullopt;
}

std::optional<core::function_block_midi1> parse_block_midi1(std::string_view s) noexcept {
    if (s == "no") return core::function_block_midi1::no;
    if (s == "unrestricted") return core::function_block_midi1::unrestricted;
    if (s == "restricted") return core::function_block_midi1::restricted;
    return std::nullopt;
}

core::function_block_ui_hint default_ui_hint(core::function_block_direction d) noexcept {
    switch (d) {
        case core::function_block_direction::input: return core::function_block_ui_hint::receiver;
        case core::function_block_direction::output: return core::function_block_ui_hint::sender;
        default: return core::function_block_ui_hint::sender_receiver;
    }
}

endpoint_declaration default_declaration(std::string_view name, bool midi2) {
    endpoint_declaration d;
    d.name = std::string(name);
    d.midi2 = midi2;
    d.info.midi2_protocol = midi2;
    d.info.midi1_protocol = !midi2;
    d.info.static_function_blocks = false;  // set_function_blocks may change them
    d.answered_by_umpd = true;
    return d;
}

std::string validate(const endpoint_declaration& d) {
    if (d.function_blocks.size() > max_function_blocks)
        return "at most " + std::to_string(max_function_blocks) + " function blocks per port";
    if (has_zero(d.name) || has_zero(d.product_instance_id)) return "names must not contain zero bytes";
    if (!core::utf8_valid(d.name)) return "the port name is not valid UTF-8";
    for (std::size_t i = 0; i < d.function_blocks.size(); ++i) {
        const function_block_declaration& b = d.function_blocks[i];
        const std::string which = "function block " + std::to_string(i + 1);
        if (b.first_group > 15 || b.group_count < 1 || b.group_count > 16 || b.first_group + b.group_count > 16)
            return which + ": groups " + std::to_string(b.first_group + 1) + ".." +
                   std::to_string(b.first_group + b.group_count) + " are not within 1..16";
        if (b.direction == core::function_block_direction::reserved || b.midi1 == core::function_block_midi1::reserved)
            return which + ": reserved direction or midi1 value";
        if (has_zero(b.name) || !core::utf8_valid(b.name)) return which + ": the name must be UTF-8 without zero bytes";
    }
    if (d.product_instance_id.size() > core::product_instance_id_max_bytes)
        return "the product instance id is longer than " + std::to_string(core::product_instance_id_max_bytes) +
               " bytes";
    return {};
}

std::string display_name(std::string_view user, std::string_view declared, std::string_view driver) {
    if (!user.empty()) return std::string(user);
    if (!declared.empty()) return std::string(declared);
    return std::string(driver);
}

naming::endpoint_blocks blocks_of(const endpoint_declaration& d) {
    naming::endpoint_blocks b;
    b.ump_only = d.ump_only;
    b.group_terminal_blocks = d.group_terminal_blocks;
    if (d.discovery == discovery_state::none || d.discovery == discovery_state::complete) {
        for (const auto& f : d.function_blocks)
            b.function_blocks.push_back({f.name, f.first_group, f.group_count, f.direction, f.active});
    }
    return b;
}

}  // namespace umpd::service
