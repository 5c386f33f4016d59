// Discovery replies: the packets umpd answers a client's UMP Endpoint Discovery and
// Function Block Discovery with, on an endpoint's behalf, built from what the endpoint
// declares (endpoint_model.hpp): app-owned ports declare at publish_device, umpd's own
// virtual and loopback endpoints from the config (router::set_discovery_replies).
//
// Threads: the control thread (building allocates).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/service/endpoint_model.hpp"
#include "umpd/service/router.hpp"

namespace umpd::service {

inline constexpr std::string_view app_driver_name = "app";

// The names app-owned devices started with; the model is the same for every endpoint.
using app_function_block = function_block_declaration;
using app_endpoint_description = endpoint_declaration;

// Checks the declaration (validate()) and builds the replies: Endpoint Info, Device
// Identity (when declared), Endpoint Name (split, cut to the spec's 98 bytes at a
// UTF-8 boundary), Product Instance Id (when declared), Stream Configuration
// Notification, and per block its Function Block Info and Name. Null with `error` set
// when the declaration is invalid.
[[nodiscard]] std::shared_ptr<const discovery_replies> make_discovery_replies(const endpoint_declaration& d,
                                                                             std::string& error);

}  // namespace umpd::service
