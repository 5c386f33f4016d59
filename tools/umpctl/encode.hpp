// The readable message forms of `umpctl encode`, for the verbs that send messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "umpd/core/packet.hpp"

namespace umpctl {

// The flags (options without a value) the message forms take; parse with these.
extern const std::vector<std::string> encode_flags;

// True when `name` is a message form (note-on, control-change, ...).
[[nodiscard]] bool is_message_name(std::string_view name);

// The packets of message `name` built from the options in `a` (--group, --channel,
// --protocol, and the form's own). Options outside the form's and `extra_known` are a
// usage error. `default_protocol` ("midi1"/"midi2") applies without --protocol.
[[nodiscard]] std::vector<umpd::core::packet> encode_message(const arguments& a, const std::string& name,
                                                             const std::vector<std::string>& extra_known,
                                                             const std::string& default_protocol);

}  // namespace umpctl
