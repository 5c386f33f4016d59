// UMP endpoint discovery and protocol negotiation with an endpoint that speaks UMP
// stream messages (app-owned ports that declared nothing at publish; network peers
// later): what umpd asks, how it reassembles the answers into an endpoint_declaration,
// when discovery is complete or timed out, the one protocol negotiation, and which
// later updates it accepts (UMP 1.1, section 7.1).
//
//   start()    → Endpoint Discovery (UMP 1.1; endpoint info, device identity, name,
//                product instance id, stream configuration); state pending.
//   Endpoint Info Notification with N blocks → Function Block Discovery (all blocks,
//                info and name), once.
//   complete   when the endpoint info, the endpoint name and every announced block
//                (info and name) have arrived; at the deadline without a name but with
//                everything else also complete (the name is optional in UMP).
//   timed_out  at the deadline otherwise: what arrived is kept, function blocks are not
//                used (blocks_of), answers that come late still complete discovery.
//   Then, once: Stream Configuration Request for MIDI 2.0 when the endpoint info says it
//   supports it, else MIDI 1.0; the protocol is what the Stream Configuration
//   Notification says, or unchanged when none arrives before the next deadline.
//   After completion: endpoint info with another block count or static flag, any
//   function block update when the blocks are static, and block numbers beyond the
//   count are ignored with a log line; other block updates, names, identity and
//   product instance id are applied.
//
// Plain state, no I/O: the caller sends `send` to the endpoint and stores
// declaration() when `changed`. Threads: one at a time (the control thread).
#pragma once

#include <array>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "umpd/core/packet.hpp"
#include "umpd/core/reassembly.hpp"
#include "umpd/service/endpoint_model.hpp"

namespace umpd::service {

// What one call produced.
struct discovery_step {
    std::vector<core::packet> send;  // to the endpoint, in order
    bool changed = false;            // declaration() differs from the one before the call
    std::vector<std::string> log;    // one line each, saying what was ignored and why
};

class endpoint_discovery {
public:
    using clock = std::chrono::steady_clock;

    // `initial`: what the endpoint is until it answers (its name, protocol; no blocks).
    endpoint_discovery(endpoint_declaration initial, std::chrono::milliseconds timeout);
    endpoint_discovery(const endpoint_discovery&) = delete;  // the reassemblers point into it
    endpoint_discovery& operator=(const endpoint_discovery&) = delete;

    // Asks (again): the Endpoint Discovery to send; pending until complete or the deadline.
    // A restart after completion asks again but keeps the completed declaration.
    [[nodiscard]] discovery_step start(clock::time_point now);
    // One stream message from the endpoint (others are ignored).
    [[nodiscard]] discovery_step feed(const core::packet& p, clock::time_point now);
    // Deadlines: call when deadline() has passed (earlier calls do nothing).
    [[nodiscard]] discovery_step tick(clock::time_point now);
    [[nodiscard]] std::optional<clock::time_point> deadline() const noexcept;

    [[nodiscard]] const endpoint_declaration& declaration() const noexcept { return declared_; }
    [[nodiscard]] bool negotiated() const noexcept { return negotiation_ == negotiation::done; }

private:
    enum class negotiation : std::uint8_t { not_yet, waiting, done };

    void feed_before_complete(const core::packet& p, discovery_step& out);
    void feed_update(const core::packet& p, discovery_step& out);
    void try_complete(clock::time_point now, bool at_deadline, discovery_step& out);
    void negotiate(clock::time_point now, discovery_step& out);
    void commit(endpoint_declaration next, discovery_step& out);
    // The block's info from a Function Block Info Notification; false (and why) when invalid.
    static bool read_block(const core::packet& p, function_block_declaration& out, std::string& why);
    std::optional<std::string> take_text(core::text_reassembler& r, const core::packet& p, const char* what,
                                         discovery_step& out);

    endpoint_declaration initial_;
    endpoint_declaration declared_;
    std::chrono::milliseconds timeout_;
    bool complete_ = false;
    bool asked_blocks_ = false;
    std::optional<clock::time_point> discovery_deadline_;
    negotiation negotiation_ = negotiation::not_yet;
    std::optional<clock::time_point> negotiation_deadline_;

    // Gathered before completion.
    std::optional<core::endpoint_info_fields> info_;
    std::optional<std::string> name_;
    std::optional<std::string> product_instance_id_;
    std::optional<core::device_identity_fields> identity_;
    std::optional<bool> midi2_;  // from a Stream Configuration Notification
    std::array<std::optional<function_block_declaration>, max_function_blocks> blocks_{};
    std::bitset<max_function_blocks> block_described_;  // its Function Block Info arrived
    std::bitset<max_function_blocks> block_named_;      // its whole name arrived

    // Text reassembly over storage in this object.
    std::array<std::uint8_t, core::endpoint_name_max_bytes> name_storage_{};
    std::array<std::uint8_t, core::product_instance_id_max_bytes> piid_storage_{};
    std::array<core::reassembly_slot, 4> block_name_slots_{};
    std::array<std::uint8_t, 4 * core::function_block_name_max_bytes> block_name_storage_{};
    core::text_reassembler name_text_;
    core::text_reassembler piid_text_;
    core::text_reassembler block_name_text_;
};

}  // namespace umpd::service
