// App-owned devices: what an application declares about each port of the device it
// publishes (UMP endpoint info, device identity, product instance id, function
// blocks), and the discovery replies umpd builds from it to answer clients on the
// application's behalf (router::set_discovery_replies).
//
// Threads: the control thread (building allocates).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/service/router.hpp"

namespace umpd::service {

inline constexpr std::string_view app_driver_name = "app";
inline constexpr std::size_t max_function_blocks = 32;  // block numbers are 0..31

struct app_function_block {
    std::string name;
    std::uint8_t first_group = 0;  // 0..15 (1..16 in the protocol)
    std::uint8_t group_count = 1;  // 1..16, first_group + group_count <= 16
    core::function_block_direction direction = core::function_block_direction::bidirectional;
    bool active = true;
    core::function_block_ui_hint ui_hint = core::function_block_ui_hint::sender_receiver;
    core::function_block_midi1 midi1 = core::function_block_midi1::no;
};

struct app_endpoint_description {
    std::string name;                  // the Endpoint Name (the port's name)
    bool midi2 = true;                 // the port's protocol: Stream Configuration Notification
    core::endpoint_info_fields info;   // function_block_count is filled in from function_blocks
    std::optional<core::device_identity_fields> identity;
    std::string product_instance_id;   // empty: not declared
    std::vector<app_function_block> function_blocks;
};

// Checks the description (group ranges, block count, text without zero bytes) and
// builds the replies: Endpoint Info, Device Identity (when declared), Endpoint Name
// (split, cut to the spec's 98 bytes at a UTF-8 boundary), Product Instance Id (when
// declared), Stream Configuration Notification, and per block its Function Block
// Info and Name. Null with `error` set when the description is invalid.
[[nodiscard]] std::shared_ptr<const discovery_replies> make_discovery_replies(const app_endpoint_description& d,
                                                                             std::string& error);

}  // namespace umpd::service
