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

}  // namespace

std::shared_ptr<const discovery_replies> make_discovery_replies(const endpoint_declaration& d, std::string& error) {
    error = validate(d);
    if (!error.empty()) return nullptr;

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
        const function_block_declaration& b = d.function_blocks[i];
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
        f.midi_ci_version = b.midi_ci_version;
        f.max_sysex8_streams = b.sysex8_streams;
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
