#include "umpd/service/app_device.hpp"

#include <span>
#include <string_view>

#include "umpd/core/reassembly.hpp"

namespace umpd::service {

namespace {

using core::packet;

// All packets of one text message (the split_* functions write into caller storage).
template <class Split>
std::vector<packet> split_all(std::string_view text, std::size_t bytes_per_packet, Split split) {
    std::vector<packet> out(core::packet_count(text.size(), bytes_per_packet));
    const std::size_t n = split(text, std::span<packet>(out));
    out.resize(n);
    return out;
}

bool has_zero(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

std::shared_ptr<const discovery_replies> make_discovery_replies(const app_endpoint_description& d,
                                                               std::string& error) {
    if (d.function_blocks.size() > max_function_blocks) {
        error = "at most " + std::to_string(max_function_blocks) + " function blocks per port";
        return nullptr;
    }
    if (has_zero(d.name) || has_zero(d.product_instance_id)) {
        error = "names must not contain zero bytes";
        return nullptr;
    }
    if (!core::utf8_valid(d.name)) {
        error = "the port name is not valid UTF-8";
        return nullptr;
    }
    for (std::size_t i = 0; i < d.function_blocks.size(); ++i) {
        const app_function_block& b = d.function_blocks[i];
        const std::string which = "function block " + std::to_string(i + 1);
        if (b.first_group > 15 || b.group_count < 1 || b.group_count > 16 || b.first_group + b.group_count > 16) {
            error = which + ": groups " + std::to_string(b.first_group + 1) + ".." +
                    std::to_string(b.first_group + b.group_count) + " are not within 1..16";
            return nullptr;
        }
        if (b.direction == core::function_block_direction::reserved || b.midi1 == core::function_block_midi1::reserved) {
            error = which + ": reserved direction or midi1 value";
            return nullptr;
        }
        if (has_zero(b.name) || !core::utf8_valid(b.name)) {
            error = which + ": the name must be UTF-8 without zero bytes";
            return nullptr;
        }
    }
    if (d.product_instance_id.size() > core::product_instance_id_max_bytes) {
        error = "the product instance id is longer than " + std::to_string(core::product_instance_id_max_bytes) +
                " bytes";
        return nullptr;
    }

    auto r = std::make_shared<discovery_replies>();
    core::endpoint_info_fields info = d.info;
    info.function_block_count = static_cast<std::uint8_t>(d.function_blocks.size());
    r->endpoint_info.push_back(core::make_endpoint_info(info));
    if (d.identity) r->device_identity.push_back(core::make_device_identity(*d.identity));
    r->endpoint_name = split_all(core::utf8_truncate(d.name, core::endpoint_name_max_bytes),
                                 core::endpoint_name_bytes_per_packet,
                                 [](std::string_view t, std::span<packet> out) { return core::split_endpoint_name(t, out); });
    if (!d.product_instance_id.empty())
        r->product_instance_id =
            split_all(d.product_instance_id, core::product_instance_id_bytes_per_packet,
                      [](std::string_view t, std::span<packet> out) { return core::split_product_instance_id(t, out); });
    r->stream_configuration.push_back(core::make_stream_configuration_notification(
        d.midi2 ? core::stream_protocol_midi2 : core::stream_protocol_midi1, d.info.rx_jr_timestamps,
        d.info.tx_jr_timestamps));
    for (std::size_t i = 0; i < d.function_blocks.size(); ++i) {
        const app_function_block& b = d.function_blocks[i];
        discovery_replies::function_block out;
        out.number = static_cast<std::uint8_t>(i);
        core::function_block_info_fields f;
        f.active = b.active;
        f.block = out.number;
        f.ui_hint = b.ui_hint;
        f.midi1 = b.midi1;
        f.direction = b.direction;
        f.first_group = core::group{b.first_group};
        f.group_count = b.group_count;
        out.info.push_back(core::make_function_block_info(f));
        out.name = split_all(core::utf8_truncate(b.name, core::function_block_name_max_bytes),
                             core::function_block_name_bytes_per_packet,
                             [number = out.number](std::string_view t, std::span<packet> o) {
                                 return core::split_function_block_name(number, t, o);
                             });
        r->function_blocks.push_back(std::move(out));
    }
    return r;
}

}  // namespace umpd::service
