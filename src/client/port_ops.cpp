// The client's MIDI 1.0 port operations: cached lookups and the naming requests of
// docs/protocol.md ("Endpoints, function blocks and MIDI 1.0 ports").
#include "session.hpp"

namespace umpd::client {

using detail::json;

#define UMPD_CLIENT_REQUIRE_SESSION() \
    if (!s_) return make_error(errc::closed, "the client is not connected (moved from)")

namespace {

result<void> check_group(std::optional<std::uint8_t> group) {
    if (group && *group > 15)
        return make_error(errc::invalid_argument, "groups are 0-15 in the SDK (1-16 for people), not " +
                                                      std::to_string(*group));
    return {};
}

result<std::vector<midi1_port>> ports_result(const json& result) { return parse_ports_json(result.dump()); }

}  // namespace

void client::ports_may_have_changed() noexcept {
    if (s_) s_->lookup_cache().invalidate();
}

result<std::vector<midi1_port>> client::ports(const port_filter& filter) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (!filter.endpoint.empty()) return ports_of(filter.endpoint, filter.group, filter.direction);
    if (auto g = check_group(filter.group); !g) return g.error();
    auto c = s_->catalog();
    if (!c) return c.error();
    return (*c)->select(filter);
}

result<std::vector<midi1_port>> client::find_ports(std::string_view name, bool legacy_only,
                                                   std::optional<port_direction> direction) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (name.empty()) return make_error(errc::invalid_argument, "the port name must not be empty");
    auto c = s_->catalog();
    if (!c) return c.error();
    return (*c)->find(name, legacy_only, direction);
}

result<midi1_port> client::port_by_number(std::uint32_t number, port_direction direction) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto c = s_->catalog();
    if (!c) return c.error();
    if (const midi1_port* p = (*c)->by_number(number, direction)) return *p;
    return make_error(errc::not_found, "no MIDI 1.0 " + std::string(direction == port_direction::in ? "input" : "output") +
                                           " port number " + std::to_string(number));
}

result<std::vector<midi1_port>> client::ports_of(std::string_view endpoint, std::optional<std::uint8_t> group,
                                                 std::optional<port_direction> direction) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (endpoint.empty()) return make_error(errc::invalid_argument, "the endpoint must not be empty");
    if (auto g = check_group(group); !g) return g.error();
    auto c = s_->catalog();
    if (!c) return c.error();
    auto out = (*c)->of_endpoint(endpoint, group, direction);
    if (!out.empty()) return out;
    // No ports: an endpoint without MIDI 1.0 ports ("UMP only", or none in that group
    // or direction), or no such endpoint at all. Only the listing tells them apart.
    auto l = list();
    if (!l) return l.error();
    if (l->find_endpoint(endpoint) == nullptr)
        return make_error(errc::not_found, "no endpoint '" + std::string(endpoint) + "' (see `umpctl list`)");
    return out;
}

result<midi1_port> client::rename_port(std::string_view endpoint, std::uint8_t group, port_direction direction,
                                       std::string_view name) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (endpoint.empty()) return make_error(errc::invalid_argument, "the endpoint must not be empty");
    if (auto g = check_group(group); !g) return g.error();
    auto r = s_->request("rename_port", json{{"endpoint", std::string(endpoint)},
                                             {"group", group + 1},
                                             {"direction", std::string(to_string(direction))},
                                             {"name", std::string(name)}});
    if (!r) return r.error();
    ports_may_have_changed();
    const json& obj = r->result.contains("port") ? r->result["port"] : r->result;
    auto ports = parse_ports_json(json::array({obj}).dump());
    if (!ports) return ports.error();
    return std::move(ports->front());
}

result<std::vector<midi1_port>> client::set_naming(std::string_view endpoint, endpoint_naming approach) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (endpoint.empty()) return make_error(errc::invalid_argument, "the endpoint must not be empty");
    auto r = s_->request("set_naming",
                         json{{"endpoint", std::string(endpoint)}, {"approach", std::string(to_string(approach))}});
    if (!r) return r.error();
    ports_may_have_changed();
    return ports_result(r->result);
}

result<void> client::set_global_naming(global_naming naming) {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto r = s_->request("set_global_naming", json{{"naming", std::string(to_string(naming))}});
    if (!r) return r.error();
    ports_may_have_changed();
    return {};
}

result<global_naming> client::get_global_naming() {
    UMPD_CLIENT_REQUIRE_SESSION();
    auto r = s_->request("get_global_naming", json::object());
    if (!r) return r.error();
    const std::string text = detail::get_string(r->result, "naming");
    const auto n = parse_global_naming(text);
    if (!n) return make_error(errc::protocol_error, "umpd's global naming \"" + text + "\" is none of automatic, classic, new-style");
    return *n;
}

result<endpoint_declaration> client::endpoint_details(std::string_view endpoint) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (endpoint.empty()) return make_error(errc::invalid_argument, "the endpoint must not be empty");
    auto r = s_->request("endpoint_info", json{{"endpoint", std::string(endpoint)}});
    if (!r) return r.error();
    return parse_endpoint_declaration_json(r->result.dump());
}

result<endpoint_declaration> client::set_function_blocks(std::string_view endpoint,
                                                         const std::vector<function_block_spec>& blocks) {
    UMPD_CLIENT_REQUIRE_SESSION();
    if (endpoint.empty()) return make_error(errc::invalid_argument, "the endpoint must not be empty");
    if (blocks.size() > 32) return make_error(errc::invalid_argument, "an endpoint has at most 32 function blocks");
    json list = json::array();
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const auto& b = blocks[i];
        if (b.first_group < 1 || b.first_group > 16 || b.groups < 1 || b.first_group + b.groups - 1 > 16)
            return make_error(errc::invalid_argument, "function block " + std::to_string(i + 1) +
                                                          ": its groups must stay within 1-16");
        json jb{{"name", b.name}, {"first_group", b.first_group}, {"groups", b.groups},
                {"direction", b.direction}, {"active", b.active}, {"midi1", b.midi1}};
        if (!b.ui_hint.empty()) jb["ui_hint"] = b.ui_hint;
        list.push_back(std::move(jb));
    }
    auto r = s_->request("set_function_blocks", json{{"endpoint", std::string(endpoint)}, {"function_blocks", list}});
    if (!r) return r.error();
    ports_may_have_changed();
    return parse_endpoint_declaration_json(r->result.dump());
}

#undef UMPD_CLIENT_REQUIRE_SESSION

}  // namespace umpd::client
