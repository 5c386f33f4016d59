#include "umpd/service/endpoint_discovery.hpp"

#include <span>
#include <string_view>

#include "umpd/core/messages.hpp"

namespace umpd::service {

namespace {

constexpr std::uint8_t discover_everything = core::discover_endpoint_info | core::discover_device_identity |
                                             core::discover_endpoint_name | core::discover_product_instance_id |
                                             core::discover_stream_configuration;

std::string protocol_name(bool midi2) { return midi2 ? "MIDI 2.0" : "MIDI 1.0"; }

// Blocks as people count them (the protocol's "block": 1..32).
std::string block_text(std::uint8_t number) { return "function block " + std::to_string(number + 1); }

}  // namespace

endpoint_discovery::endpoint_discovery(endpoint_declaration initial, std::chrono::milliseconds timeout)
    : initial_(std::move(initial)),
      declared_(initial_),
      timeout_(timeout),
      name_text_(core::text_kind::endpoint_name, std::span<std::uint8_t>(name_storage_)),
      piid_text_(core::text_kind::product_instance_id, std::span<std::uint8_t>(piid_storage_)),
      block_name_text_(core::text_kind::function_block_name, std::span<core::reassembly_slot>(block_name_slots_),
                       std::span<std::uint8_t>(block_name_storage_)) {
    // Nothing is known until the endpoint answers: no blocks of its own.
    initial_.function_blocks.clear();
    initial_.discovery = discovery_state::none;
    declared_ = initial_;
}

discovery_step endpoint_discovery::start(clock::time_point now) {
    discovery_step out;
    out.send.push_back(core::make_endpoint_discovery(1, 1, discover_everything));
    asked_blocks_ = false;
    discovery_deadline_ = now + timeout_;
    if (!complete_ && declared_.discovery != discovery_state::pending) {
        endpoint_declaration next = declared_;
        next.discovery = discovery_state::pending;
        commit(std::move(next), out);
    }
    return out;
}

std::optional<endpoint_discovery::clock::time_point> endpoint_discovery::deadline() const noexcept {
    std::optional<clock::time_point> d;
    if (!complete_ && discovery_deadline_) d = discovery_deadline_;
    if (negotiation_ == negotiation::waiting && negotiation_deadline_ && (!d || *negotiation_deadline_ < *d))
        d = negotiation_deadline_;
    return d;
}

discovery_step endpoint_discovery::feed(const core::packet& p, clock::time_point now) {
    discovery_step out;
    const auto stream = core::as_stream(p);
    if (!stream) return out;
    // The answer to umpd's negotiation (or the endpoint announcing a switch on its own).
    if (const auto sc = core::as_stream_configuration(p);
        sc && sc->status() == core::stream_status::stream_configuration_notification) {
        const std::uint8_t proto = sc->protocol();
        if (proto != core::stream_protocol_midi1 && proto != core::stream_protocol_midi2) {
            out.log.push_back("ignored a stream configuration notification: unknown protocol " + std::to_string(proto));
            return out;
        }
        const bool midi2 = proto == core::stream_protocol_midi2;
        if (negotiation_ == negotiation::waiting) {
            negotiation_ = negotiation::done;
            negotiation_deadline_.reset();
        }
        midi2_ = midi2;  // for a declaration built later (completion)
        if (declared_.discovery != discovery_state::pending && declared_.midi2 != midi2) {
            endpoint_declaration next = declared_;
            next.midi2 = midi2;
            commit(std::move(next), out);
        }
        return out;
    }
    if (complete_) feed_update(p, out);
    else {
        feed_before_complete(p, out);
        try_complete(now, !discovery_deadline_.has_value(), out);
    }
    return out;
}

discovery_step endpoint_discovery::tick(clock::time_point now) {
    discovery_step out;
    if (!complete_ && discovery_deadline_ && now >= *discovery_deadline_) {
        discovery_deadline_.reset();
        try_complete(now, true, out);
        if (!complete_) {
            // Timed out: keep what arrived, but no function blocks (blocks_of).
            endpoint_declaration next = initial_;
            if (info_) next.info = *info_;
            if (name_) next.name = *name_;
            if (identity_) next.identity = identity_;
            if (product_instance_id_) next.product_instance_id = *product_instance_id_;
            if (midi2_) next.midi2 = *midi2_;
            next.discovery = discovery_state::timed_out;
            next.answered_by_umpd = true;
            commit(std::move(next), out);
            out.log.push_back(info_ ? "discovery timed out: not every announced function block was described"
                                    : "discovery timed out: the endpoint did not answer");
            if (info_) negotiate(now, out);
        }
    }
    if (negotiation_ == negotiation::waiting && negotiation_deadline_ && now >= *negotiation_deadline_) {
        negotiation_ = negotiation::done;
        negotiation_deadline_.reset();
        out.log.push_back("no stream configuration notification in time: keeping " + protocol_name(declared_.midi2));
    }
    return out;
}

std::optional<std::string> endpoint_discovery::take_text(core::text_reassembler& r, const core::packet& p,
                                                         const char* what, discovery_step& out) {
    const core::reassembly_result res = r.feed(p);
    if (res.status == core::reassembly_status::complete)
        return std::string(reinterpret_cast<const char*>(res.bytes.data()), res.bytes.size());
    if (res.is_error() || res.status == core::reassembly_status::invalid_utf8)
        out.log.push_back(std::string("ignored the ") + what + ": " + std::string(core::to_string(res.status)));
    return std::nullopt;
}

bool endpoint_discovery::read_block(const core::packet& p, function_block_declaration& out, std::string& why) {
    const core::function_block_info_view v{p};
    const core::function_block_info_fields f = v.fields();
    if (v.first_group_byte() > 15 || f.group_count < 1 || f.first_group.index + f.group_count > 16) {
        why = "groups out of 1..16";
        return false;
    }
    if (f.direction == core::function_block_direction::reserved || f.midi1 == core::function_block_midi1::reserved) {
        why = "a reserved direction or MIDI 1.0 value";
        return false;
    }
    out.first_group = f.first_group.index;
    out.group_count = f.group_count;
    out.direction = f.direction;
    out.active = f.active;
    out.ui_hint = f.ui_hint;
    out.midi1 = f.midi1;
    out.midi_ci_version = f.midi_ci_version;
    out.sysex8_streams = f.max_sysex8_streams;
    return true;
}

void endpoint_discovery::feed_before_complete(const core::packet& p, discovery_step& out) {
    if (const auto info = core::as_endpoint_info(p)) {
        const core::endpoint_info_fields f = info->fields();
        if (f.function_block_count > max_function_blocks) {
            out.log.push_back("ignored the endpoint info: " + std::to_string(f.function_block_count) +
                              " function blocks announced, at most 32 exist");
            return;
        }
        info_ = f;
        if (f.function_block_count > 0 && !asked_blocks_) {
            asked_blocks_ = true;
            out.send.push_back(core::make_function_block_discovery(
                core::all_function_blocks, core::discover_function_block_info | core::discover_function_block_name));
        }
    } else if (const auto id = core::as_device_identity(p)) {
        identity_ = id->fields();
    } else if (core::as_endpoint_name(p)) {
        if (auto text = take_text(name_text_, p, "endpoint name", out)) name_ = std::move(*text);
    } else if (core::as_product_instance_id(p)) {
        if (auto text = take_text(piid_text_, p, "product instance id", out)) product_instance_id_ = std::move(*text);
    } else if (core::as_function_block_info(p)) {
        const std::uint8_t n = core::function_block_info_view{p}.fields().block;
        function_block_declaration b;
        std::string why;
        if (n >= max_function_blocks) {
            out.log.push_back("ignored " + block_text(n) + ": at most 32 function blocks exist");
        } else if (!read_block(p, b, why)) {
            out.log.push_back("ignored " + block_text(n) + ": " + why);
        } else {
            if (blocks_[n]) b.name = blocks_[n]->name;
            blocks_[n] = std::move(b);
            block_described_.set(n);
        }
    } else if (const auto name = core::as_function_block_name(p)) {
        const std::uint8_t n = name->block();
        auto text = take_text(block_name_text_, p, "function block name", out);
        if (!text) return;
        if (n >= max_function_blocks) {
            out.log.push_back("ignored the name of " + block_text(n) + ": at most 32 function blocks exist");
            return;
        }
        if (!blocks_[n]) blocks_[n] = function_block_declaration{};  // the info may follow
        blocks_[n]->name = std::move(*text);
        block_named_.set(n);
    }
}

void endpoint_discovery::try_complete(clock::time_point now, bool deadline_passed, discovery_step& out) {
    if (complete_ || !info_) return;
    // Without a name only once the deadline passed: an endpoint with none does not answer.
    if (!name_ && !deadline_passed) return;
    const std::uint8_t count = info_->function_block_count;
    // Every announced block needs its info and its name (a name alone would leave
    // groups the endpoint never stated).
    for (std::uint8_t i = 0; i < count; ++i)
        if (!block_described_.test(i) || !block_named_.test(i)) return;
    endpoint_declaration next = initial_;
    next.info = *info_;
    if (name_) next.name = *name_;
    if (identity_) next.identity = identity_;
    if (product_instance_id_) next.product_instance_id = *product_instance_id_;
    if (midi2_) next.midi2 = *midi2_;
    for (std::uint8_t i = 0; i < count; ++i) next.function_blocks.push_back(*blocks_[i]);
    for (std::uint8_t i = count; i < max_function_blocks; ++i)
        if (blocks_[i]) out.log.push_back("ignored " + block_text(i) + ": the endpoint announced " +
                                          std::to_string(count) + " function blocks");
    next.discovery = discovery_state::complete;
    next.answered_by_umpd = true;
    if (std::string why = validate(next); !why.empty()) {
        out.log.push_back("the endpoint's answers are not usable: " + why);
        return;
    }
    complete_ = true;
    commit(std::move(next), out);
    negotiate(now, out);
}

void endpoint_discovery::negotiate(clock::time_point now, discovery_step& out) {
    if (negotiation_ != negotiation::not_yet || !info_) return;
    const bool want_midi2 = info_->midi2_protocol;
    if (!want_midi2 && !info_->midi1_protocol) {
        negotiation_ = negotiation::done;
        out.log.push_back("no protocol negotiation: the endpoint supports neither MIDI 1.0 nor MIDI 2.0");
        return;
    }
    negotiation_ = negotiation::waiting;
    negotiation_deadline_ = now + timeout_;
    out.send.push_back(core::make_stream_configuration_request(
        want_midi2 ? core::stream_protocol_midi2 : core::stream_protocol_midi1, false, false));
}

void endpoint_discovery::feed_update(const core::packet& p, discovery_step& out) {
    endpoint_declaration next = declared_;
    const auto count = static_cast<std::uint8_t>(declared_.function_blocks.size());
    if (const auto info = core::as_endpoint_info(p)) {
        const core::endpoint_info_fields f = info->fields();
        if (f.function_block_count != count) {
            out.log.push_back("ignored an endpoint info update: the function block count changed from " +
                              std::to_string(count) + " to " + std::to_string(f.function_block_count));
            return;
        }
        if (f.static_function_blocks != declared_.info.static_function_blocks) {
            out.log.push_back("ignored an endpoint info update: the static function blocks flag changed");
            return;
        }
        next.info = f;
    } else if (const auto id = core::as_device_identity(p)) {
        next.identity = id->fields();
    } else if (core::as_endpoint_name(p)) {
        auto text = take_text(name_text_, p, "endpoint name", out);
        if (!text) return;
        next.name = std::move(*text);
    } else if (core::as_product_instance_id(p)) {
        auto text = take_text(piid_text_, p, "product instance id", out);
        if (!text) return;
        next.product_instance_id = std::move(*text);
    } else if (core::as_function_block_info(p) || core::as_function_block_name(p)) {
        const bool is_info = core::as_function_block_info(p).has_value();
        std::optional<std::string> name;
        const std::uint8_t n =
            is_info ? core::function_block_info_view{p}.fields().block : core::function_block_name_view{p}.block();
        if (!is_info) {
            name = take_text(block_name_text_, p, "function block name", out);
            if (!name) return;  // a part of a longer name, or broken (logged)
        }
        function_block_declaration b;
        std::string why;
        if (is_info && !read_block(p, b, why)) {
            out.log.push_back("ignored " + block_text(n) + " update: " + why);
            return;
        }
        if (n < count) {
            // The same as what umpd holds (a repeated answer): nothing to apply, nothing to say.
            const function_block_declaration& have = declared_.function_blocks[n];
            if (is_info) b.name = have.name;
            else {
                b = have;
                b.name = *name;
            }
            if (b == have) return;
        }
        if (declared_.info.static_function_blocks) {
            out.log.push_back("ignored " + block_text(n) + " update: the endpoint declared static function blocks");
            return;
        }
        if (n >= count) {
            out.log.push_back("ignored " + block_text(n) + " update: the endpoint announced " + std::to_string(count) +
                              " function blocks");
            return;
        }
        next.function_blocks[n] = std::move(b);
    } else {
        return;
    }
    if (std::string why = validate(next); !why.empty()) {
        out.log.push_back("ignored an update: " + why);
        return;
    }
    commit(std::move(next), out);
}

void endpoint_discovery::commit(endpoint_declaration next, discovery_step& out) {
    next.info.function_block_count = static_cast<std::uint8_t>(next.function_blocks.size());
    const bool same = next.name == declared_.name && next.midi2 == declared_.midi2 && next.info == declared_.info &&
                      next.identity == declared_.identity && next.product_instance_id == declared_.product_instance_id &&
                      next.function_blocks == declared_.function_blocks && next.discovery == declared_.discovery &&
                      next.answered_by_umpd == declared_.answered_by_umpd;
    if (same) return;
    declared_ = std::move(next);
    out.changed = true;
}

}  // namespace umpd::service
