// The lv2 driver: plugin instances as devices, connections as router routes, the
// transport (see include/umpd/lv2/service_driver.hpp and docs/plugin-host.md).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderer.hpp"
#include "umpd/lv2/discovery.hpp"
#include "umpd/lv2/errors.hpp"
#include "umpd/lv2/instance.hpp"
#include "umpd/lv2/service_driver.hpp"
#include "umpd/lv2/world.hpp"
#include "umpd/service/registry.hpp"

namespace umpd::lv2 {

namespace {

using nlohmann::json;
using service::driver_reply;
using service::endpoint_handle;
using service_detail::render_slot;
using service_detail::renderer;

constexpr std::string_view driver_name = "lv2";
constexpr std::size_t max_instance_name = 64;
constexpr std::uint32_t ring_words = 8192;
constexpr std::uint64_t max_schedule_ahead_ns = 60'000'000'000;

std::uint64_t monotonic_now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// The protocol's error code for an lv2 error.
std::string protocol_code(const error& e) {
    return e.code == make_error_code(errc::plugin_not_found) ? "not_found" : "invalid_argument";
}

// One plugin instance: its device, endpoints and owner connections.
struct plugin_slot {
    std::string name;
    std::unique_ptr<instance> plugin;
    service::device_handle device = 0;
    std::vector<endpoint_handle> endpoints;  // endpoint k: MIDI input k and MIDI output k
    std::vector<std::unique_ptr<service::local_connection>> connections;
    render_slot render;
};

// A [[connections]] entry and the route it stands for while both ends exist.
struct connection_entry {
    service::connection_config config;
    endpoint_handle from = 0;  // 0: not routed now (an end does not exist)
    endpoint_handle to = 0;
};

json transport_json(const service_detail::transport_snapshot& s) {
    const transport_state& t = s.state;
    const position pos = position_of(t);
    return json{{"sample_rate", t.sample_rate},
                {"bpm", t.bpm},
                {"beats_per_bar", t.beats_per_bar},
                {"beat_unit", t.beat_unit},
                {"frame", t.frame},
                {"beat", t.beat},
                {"bar", pos.bar},
                {"bar_beat", static_cast<double>(pos.bar_beat)},
                {"playing", t.playing},
                {"recording", t.recording},
                {"cycling", t.cycling},
                {"cycle_start", t.cycle_start},
                {"cycle_end", t.cycle_end},
                {"time_ns", s.time_ns}};
}

// Reads a string field; fails the reply (bad_request) when it is missing or not a string.
bool string_field(const json& req, const char* key, bool required, std::string& out, driver_reply& r) {
    const auto it = req.find(key);
    if (it == req.end() || it->is_null()) {
        if (required) r.fail("bad_request", std::string("missing field '") + key + "'");
        return !required;
    }
    if (!it->is_string()) {
        r.fail("bad_request", std::string("field '") + key + "' must be a string");
        return false;
    }
    out = it->get<std::string>();
    return true;
}

bool number_field(const json& req, const char* key, double& out, driver_reply& r) {
    const auto it = req.find(key);
    if (it == req.end() || !it->is_number()) {
        r.fail("bad_request", std::string("field '") + key + "' must be a number");
        return false;
    }
    out = it->get<double>();
    if (!std::isfinite(out)) {
        r.fail("invalid_argument", std::string("field '") + key + "' must be finite");
        return false;
    }
    return true;
}

// The transport op's command and its fields, as a transport_command; false (and r
// failed, naming the field) when they are not valid.
bool parse_transport_command(const std::string& command, const json& req, transport_command& c, driver_reply& r) {
    auto fail = [&r](const char* code, std::string message) {
        r.fail(code, std::move(message));
        return false;
    };
    using k = transport_command::kind;
    if (command == "play") {
        c.what = k::play;
    } else if (command == "stop") {
        c.what = k::stop;
    } else if (command == "locate") {
        double beat = 0;
        if (!number_field(req, "beat", beat, r)) return false;
        if (beat < 0) return fail("invalid_argument", "a position is 0 beats or later");
        c.what = k::locate_beat;
        c.a = beat;
    } else if (command == "tempo") {
        double bpm = 0;
        if (!number_field(req, "bpm", bpm, r)) return false;
        if (bpm < 1 || bpm > 999) return fail("invalid_argument", "the tempo is 1 to 999 BPM");
        c.what = k::tempo;
        c.a = bpm;
    } else if (command == "meter") {
        double n = 0;
        double d = 0;
        if (!number_field(req, "beats_per_bar", n, r) || !number_field(req, "beat_unit", d, r)) return false;
        if (n < 1 || n > 64 || n != std::floor(n))
            return fail("invalid_argument", "beats per bar is a whole number 1 to 64");
        if (d != 1 && d != 2 && d != 4 && d != 8 && d != 16 && d != 32 && d != 64)
            return fail("invalid_argument", "the beat unit is 1, 2, 4, 8, 16, 32 or 64");
        c.what = k::meter;
        c.a = n;
        c.b = d;
    } else if (command == "record") {
        const auto on = req.find("on");
        if (on == req.end() || !on->is_boolean()) return fail("bad_request", "field 'on' must be a boolean");
        c.what = k::record;
        c.a = on->get<bool>() ? 1.0 : 0.0;
    } else if (command == "cycle") {
        const auto on = req.find("on");
        if (on != req.end() && on->is_boolean() && !on->get<bool>()) {
            c.what = k::cycle;  // a == b: off
        } else {
            double start = 0;
            double end = 0;
            if (!number_field(req, "start", start, r) || !number_field(req, "end", end, r)) return false;
            if (start < 0 || end <= start)
                return fail("invalid_argument", "a cycle needs 0 <= start < end (in beats)");
            c.what = k::cycle;
            c.a = start;
            c.b = end;
        }
    } else {
        return fail("invalid_argument", "unknown transport command '" + command +
                                              "' (play, stop, locate, tempo, meter, record, cycle)");
    }
    return true;
}

class lv2_driver final : public service::driver {
public:
    lv2_driver(service::driver_host& host, service::cycle_clock* cycles) : host_(host), cycles_(cycles) {}
    ~lv2_driver() override { stop(); }

    std::string_view name() const noexcept override { return driver_name; }

    void start() override {
        const service::config& c = host_.current_config();
        settings_ = c.lv2;
        connections_.clear();
        for (const auto& k : c.connections) connections_.push_back({k, 0, 0});
        if (!settings_.enabled) {
            host_.set_status(driver_name, "disabled", "[lv2] enabled = false");
            sync_routes();  // connections do not need the plugin host
            return;
        }
        try {
            world_ = std::make_unique<world>();
            renderer_ = std::make_unique<renderer>(settings_.sample_rate, settings_.block_size,
                                                   c.jack.enabled ? cycles_ : nullptr);
        } catch (const std::exception& e) {
            host_.set_status(driver_name, "failed", e.what());
            host_.log(std::string("lv2: ") + e.what());
            world_.reset();
            renderer_.reset();
            return;
        }
        if (c.jack.enabled) {
            std::string why;
            if (jack_.open(c.jack.server_name, c.jack.client_name + "-transport", why)) {
                renderer_->follow(&jack_);
                host_.log("lv2: following JACK transport whenever JACK has a timebase master");
            } else {
                host_.log("lv2: not following JACK transport: " + why);
            }
        }
        renderer_->start();
        started_ = true;
        if (auto ec = host_.watch(renderer_->applied_fd(), [this] { on_scheduled_changes(); }))
            host_.log("lv2: scheduled transport changes will not be announced: " + ec.message());
        for (const auto& p : c.plugins) {
            std::string message;
            if (!add_plugin(p, message)) {
                host_.log("lv2: plugin '" + p.name + "' not restored: " + message);
                unrestored_.push_back(p);
            }
        }
        sync_routes();
        update_status();
    }

    void stop() override {
        for (auto& k : connections_) unroute(k);
        if (!started_) return;
        // From here a save (devices leaving may cause one) keeps the plugins the config has.
        started_ = false;
        host_.unwatch(renderer_->applied_fd());
        renderer_->set_slots({});
        renderer_->stop();
        while (!plugins_.empty()) drop_plugin(plugins_.size() - 1);
        renderer_.reset();
        jack_.close();
        world_.reset();
    }

    void endpoints_changed() override { sync_routes(); }

    void snapshot(service::config& into) const override {
        into.connections.clear();
        for (const auto& k : connections_) into.connections.push_back(k.config);
        if (!started_) return;  // the plugins stay as the config says
        into.plugins.clear();
        for (const auto& p : plugins_) into.plugins.push_back(config_of(*p));
        for (const auto& p : unrestored_) into.plugins.push_back(p);
    }

    void apply(const service::config& next) override {
        if (!(next.lv2 == settings_))
            host_.log("lv2: [lv2] changes (sample rate, block size, enabled) apply after a restart");
        if (started_) apply_plugins(next);
        for (auto& k : connections_) unroute(k);
        connections_.clear();
        for (const auto& k : next.connections) connections_.push_back({k, 0, 0});
        sync_routes();
        if (started_) update_status();
    }

    void apply_plugins(const service::config& next) {
        // Plugins: gone ones removed, new ones added; kept ones keep running as they are.
        for (std::size_t i = plugins_.size(); i-- > 0;) {
            const auto& n = plugins_[i]->name;
            if (std::none_of(next.plugins.begin(), next.plugins.end(), [&](const auto& p) { return p.name == n; }))
                remove_plugin(i);
        }
        unrestored_.clear();
        for (const auto& p : next.plugins) {
            if (find_plugin(p.name) != nullptr) continue;
            std::string message;
            if (!add_plugin(p, message)) {
                host_.log("lv2: plugin '" + p.name + "' not added: " + message);
                unrestored_.push_back(p);
            }
        }
    }

    bool handle(std::string_view op, const json& req, driver_reply& r) override {
        if (op == "plugins") return answer(r, [&] { op_plugins(r); });
        if (op == "plugin_add") return answer(r, [&] { op_plugin_add(req, r); });
        if (op == "plugin_remove") return answer(r, [&] { op_plugin_remove(req, r); });
        if (op == "plugin_set") return answer(r, [&] { op_plugin_set(req, r); });
        if (op == "plugin_info") return answer(r, [&] { op_plugin_info(req, r); });
        if (op == "plugin_instances") return answer(r, [&] { op_plugin_instances(r); });
        // Connections are router routes: they work without the plugin host.
        if (op == "connect" || op == "disconnect") {
            op_connect(req, r, op == "connect");
            return true;
        }
        if (op == "connections") {
            op_connections(r);
            return true;
        }
        if (op == "transport") return answer(r, [&] { op_transport(req, r); });
        return false;
    }

private:
    // Runs an op that needs the plugin host; a disabled or failed host is one error line.
    template <class F>
    bool answer(driver_reply& r, F&& f) {
        if (!started_) {
            r.fail("not_found", settings_.enabled ? "the LV2 plugin host did not start (see umpctl status)"
                                                    : "the LV2 plugin host is disabled ([lv2] enabled = false)");
            return true;
        }
        f();
        return true;
    }

    // ---- instances ---------------------------------------------------------------

    plugin_slot* find_plugin(std::string_view n) {
        for (auto& p : plugins_)
            if (p->name == n) return p.get();
        return nullptr;
    }

    std::size_t index_of(const plugin_slot* p) const {
        for (std::size_t i = 0; i < plugins_.size(); ++i)
            if (plugins_[i].get() == p) return i;
        return plugins_.size();
    }

    service::plugin_config config_of(const plugin_slot& p) const {
        service::plugin_config c;
        c.name = p.name;
        c.uri = p.plugin->info().uri;
        for (const auto& ctl : p.plugin->info().controls) {
            if (ctl.output) continue;
            const auto v = p.plugin->control(ctl.symbol);
            if (v) c.controls.push_back({ctl.symbol, static_cast<double>(*v)});
        }
        std::sort(c.controls.begin(), c.controls.end(),
                  [](const auto& a, const auto& b) { return a.symbol < b.symbol; });
        if (p.plugin->info().has_state) c.state = p.plugin->save_state();
        return c;
    }

    // Creates, configures and publishes an instance. Nothing is left behind on failure.
    bool add_plugin(const service::plugin_config& c, std::string& message, std::string* code = nullptr) {
        auto fail = [&](std::string cd, std::string m) {
            if (code) *code = std::move(cd);
            message = std::move(m);
            return false;
        };
        if (c.name.empty() || c.name.size() > max_instance_name)
            return fail("invalid_argument", "a plugin instance name has 1 to 64 characters");
        if (find_plugin(c.name) != nullptr) return fail("already_exists", "a plugin instance '" + c.name + "' exists");
        instance_config ic;
        ic.sample_rate = settings_.sample_rate;
        ic.block_size = settings_.block_size;
        auto made = instance::create(*world_, c.uri, ic);
        if (!made) return fail(protocol_code(made.error), made.error.message);
        auto slot = std::make_unique<plugin_slot>();
        slot->name = c.name;
        slot->plugin = std::move(made.value);
        const plugin_info& info = slot->plugin->info();
        if (info.midi_inputs.empty() && info.midi_outputs.empty())
            return fail("invalid_argument", c.uri + ": has no MIDI input or output");
        if (!c.state.empty()) {
            if (auto e = slot->plugin->restore_state(c.state)) return fail("invalid_argument", e.message);
        }
        for (const auto& ctl : c.controls) {
            if (slot->plugin->set_control(ctl.symbol, static_cast<float>(ctl.value)))
                return fail("not_found", c.name + ": the plugin has no control input '" + ctl.symbol + "'");
        }

        // The device: endpoint k = MIDI input k + MIDI output k, named after the output
        // (the cable a client receives from), else after the input.
        service::device_spec spec;
        spec.driver = std::string(driver_name);
        spec.name = c.name;
        spec.manufacturer = "LV2";
        spec.model = info.name.empty() ? info.uri : info.name;
        spec.app_owned = true;
        const std::size_t pairs = std::max(info.midi_inputs.size(), info.midi_outputs.size());
        for (std::size_t k = 0; k < pairs; ++k) {
            service::port_spec ps;
            ps.name = k < info.midi_outputs.size() ? info.midi_outputs[k].name : info.midi_inputs[k].name;
            if (ps.name.empty()) ps.name = "MIDI " + std::to_string(k + 1);
            ps.protocol = service::ump_protocol::midi1;
            spec.ports.push_back(std::move(ps));
        }
        service::device_handle dh = 0;
        if (auto ec = host_.devices().add_device(spec, &dh))
            return fail(std::string(service::protocol_error_code(ec)), c.name + ": cannot publish the device: " + ec.message());
        slot->device = dh;
        for (const auto& ep : host_.devices().device_by_handle(dh)->endpoints) slot->endpoints.push_back(ep.handle);
        if (!shared_wake_) {
            ipc::wake w;
            if (auto ec = ipc::wake::create(w)) {
                (void)host_.devices().remove_device(dh);
                return fail("internal", "eventfd: " + ec.message());
            }
            shared_wake_ = std::make_shared<ipc::wake>(std::move(w));
        }
        for (const endpoint_handle e : slot->endpoints) {
            auto conn = std::make_unique<service::local_connection>();
            std::error_code ec = conn->create(ring_words, ring_words, shared_wake_);
            if (!ec) ec = host_.open_local(e, true, *conn);
            // The render thread places input by its timestamps: let it have it early.
            if (!ec) ec = host_.data_path().set_early_delivery(e, true);
            if (ec) {
                host_.close_local(*conn);
                for (auto& k : slot->connections) host_.close_local(*k);
                (void)host_.devices().remove_device(dh);
                return fail("internal", c.name + ": cannot open the endpoint: " + ec.message());
            }
            slot->connections.push_back(std::move(conn));
        }
        slot->render.plugin = slot->plugin.get();
        for (std::size_t k = 0; k < info.midi_inputs.size(); ++k) slot->render.inputs.push_back(slot->connections[k].get());
        for (std::size_t k = 0; k < info.midi_outputs.size(); ++k) slot->render.outputs.push_back(slot->connections[k].get());
        for (std::size_t k = info.midi_inputs.size(); k < slot->connections.size(); ++k)
            slot->render.discard.push_back(slot->connections[k].get());
        slot->render.prepare();
        plugins_.push_back(std::move(slot));
        publish_slots();
        host_.log("lv2: plugin '" + c.name + "' (" + c.uri + ") is " + host_.devices().device_by_handle(dh)->id);
        return true;
    }

    void publish_slots() {
        std::vector<render_slot*> set;
        for (auto& p : plugins_) set.push_back(&p->render);
        renderer_->set_slots(std::move(set));
    }

    // Takes instance i out of rendering, closes and withdraws its device, destroys it.
    void drop_plugin(std::size_t i) {
        std::unique_ptr<plugin_slot> slot = std::move(plugins_[i]);
        plugins_.erase(plugins_.begin() + static_cast<std::ptrdiff_t>(i));
        publish_slots();  // the render thread no longer touches it after this
        for (auto& k : slot->connections) host_.close_local(*k);
        (void)host_.devices().remove_device(slot->device);
    }

    void remove_plugin(std::size_t i) {
        const std::string n = plugins_[i]->name;
        drop_plugin(i);
        host_.log("lv2: plugin '" + n + "' removed");
    }

    void update_status() {
        std::string detail = std::to_string(plugins_.size()) + (plugins_.size() == 1 ? " plugin" : " plugins") + ", " +
                             std::to_string(settings_.sample_rate) + " Hz, " + std::to_string(settings_.block_size) +
                             "-frame blocks";
        if (!unrestored_.empty()) detail += ", " + std::to_string(unrestored_.size()) + " not loaded";
        if (renderer_) detail += ", " + clock_text(renderer_->clock());
        host_.set_status(driver_name, "running", detail);
    }

    // Which clock the render thread is on, for the status line and the log.
    static std::string clock_text(const service_detail::render_clock& k) {
        using source = service_detail::render_clock::source;
        switch (k.on) {
        case source::jack:
            return "on the JACK cycle (" + std::to_string(k.jack_frames) + "-frame periods)";
        case source::rate_differs:
            return "on umpd's clock (JACK runs at " + std::to_string(k.jack_rate) + " Hz, not [lv2] sample_rate)";
        case source::jack_stopped: return "on umpd's clock (JACK's cycles stopped)";
        case source::umpd: break;
        }
        return "on umpd's clock";
    }

    static std::string clock_name(const service_detail::render_clock& k) {
        return k.on == service_detail::render_clock::source::jack ? "jack" : "umpd";
    }

    json plugin_json(const plugin_slot& p) const {
        const plugin_info& info = p.plugin->info();
        const service::device* dev = host_.devices().device_by_handle(p.device);
        json endpoints = json::array();
        for (std::size_t k = 0; k < p.endpoints.size(); ++k) {
            const service::endpoint* ep = host_.devices().endpoint_by_handle(p.endpoints[k]);
            json e{{"id", ep ? ep->id : ""}, {"name", ep ? ep->name : ""}};
            e["input"] = k < info.midi_inputs.size() ? json(info.midi_inputs[k].name) : json(nullptr);
            e["output"] = k < info.midi_outputs.size() ? json(info.midi_outputs[k].name) : json(nullptr);
            endpoints.push_back(std::move(e));
        }
        json controls = json::array();
        for (const auto& ctl : info.controls) {
            const auto v = p.plugin->control(ctl.symbol);
            controls.push_back({{"symbol", ctl.symbol},
                                {"name", ctl.name},
                                {"value", v ? static_cast<double>(*v) : 0.0},
                                {"default", ctl.default_value},
                                {"minimum", ctl.minimum},
                                {"maximum", ctl.maximum},
                                {"output", ctl.output},
                                {"bpm", ctl.bpm}});
        }
        const instance_counters k = p.plugin->counters();
        return json{{"name", p.name},
                    {"uri", info.uri},
                    {"plugin", info.name},
                    {"kind", std::string(to_string(info.kind))},
                    {"device", dev ? dev->id : ""},
                    {"endpoints", endpoints},
                    {"controls", controls},
                    {"state", info.has_state},
                    {"time_position", info.time_position},
                    {"clock", clock_name(renderer_->clock())},
                    {"latency_ns", renderer_->latency_ns()},
                    {"counters",
                     {{"blocks", k.blocks},
                      {"input_dropped", k.input_dropped},
                      {"untranslatable", k.untranslatable},
                      {"output_dropped", k.output_dropped},
                      {"output_buffer_full", k.output_buffer_full},
                      {"positions_sent", k.positions_sent}}}};
    }

    // ---- ops ---------------------------------------------------------------------

    void op_plugins(driver_reply& r) {
        const auto found = midi_plugins(*world_);
        r.result = json{{"plugins", json::parse(to_json(found))}};
    }

    void op_plugin_instances(driver_reply& r) {
        json list = json::array();
        for (const auto& p : plugins_) list.push_back(plugin_json(*p));
        r.result = json{{"instances", list}};
    }

    void op_plugin_add(const json& req, driver_reply& r) {
        service::plugin_config c;
        if (!string_field(req, "uri", true, c.uri, r) || !string_field(req, "name", false, c.name, r)) return;
        if (c.uri.empty()) return r.fail("invalid_argument", "the plugin URI is empty");
        if (c.name.empty()) c.name = unique_name(c.uri);
        std::string message;
        std::string code;
        if (!add_plugin(c, message, &code)) {
            host_.log("lv2: plugin_add refused: " + message);
            return r.fail(code, message);
        }
        update_status();
        host_.save_config();
        sync_routes();
        r.result = plugin_json(*plugins_.back());
    }

    // A name for an instance the user did not name: the plugin's name (or the URI's
    // last part), with " 2", " 3" ... when taken.
    std::string unique_name(const std::string& uri) {
        std::string base;
        if (auto info = describe_plugin(*world_, uri); info && !info->name.empty()) base = info->name;
        if (base.empty()) {
            const auto cut = uri.find_last_of("#/");
            base = cut == std::string::npos ? uri : uri.substr(cut + 1);
        }
        if (base.size() > max_instance_name - 4) base.resize(max_instance_name - 4);
        std::string n = base;
        for (int i = 2; find_plugin(n) != nullptr; ++i) n = base + " " + std::to_string(i);
        return n;
    }

    plugin_slot* named_plugin(const json& req, driver_reply& r) {
        std::string n;
        if (!string_field(req, "name", true, n, r)) return nullptr;
        plugin_slot* p = find_plugin(n);
        if (!p) r.fail("not_found", "no plugin instance '" + n + "'");
        return p;
    }

    void op_plugin_remove(const json& req, driver_reply& r) {
        plugin_slot* p = named_plugin(req, r);
        if (!p) return;
        remove_plugin(index_of(p));
        update_status();
        sync_routes();
        host_.save_config();
        r.result = json::object();
    }

    void op_plugin_set(const json& req, driver_reply& r) {
        plugin_slot* p = named_plugin(req, r);
        if (!p) return;
        std::string symbol;
        double value = 0;
        if (!string_field(req, "symbol", true, symbol, r) || !number_field(req, "value", value, r)) return;
        if (p->plugin->set_control(symbol, static_cast<float>(value)))
            return r.fail("not_found", "plugin '" + p->name + "' has no control input '" + symbol + "'");
        host_.save_config();
        const auto now = p->plugin->control(symbol);
        r.result = json{{"name", p->name}, {"symbol", symbol}, {"value", now ? static_cast<double>(*now) : value}};
    }

    void op_plugin_info(const json& req, driver_reply& r) {
        plugin_slot* p = named_plugin(req, r);
        if (!p) return;
        r.result = plugin_json(*p);
        json log = json::array();
        for (auto& line : p->plugin->take_log()) log.push_back(std::move(line));
        r.result["log"] = std::move(log);
    }

    // ---- connections ---------------------------------------------------------------

    // An endpoint by id, unique name, or plugin instance name (its first endpoint).
    std::error_code resolve(const std::string& text, endpoint_handle& out, std::string& message) const {
        const service::endpoint* ep = nullptr;
        const std::error_code ec = host_.devices().find_endpoint(text, ep);
        if (!ec && ep) {
            out = ep->handle;
            return {};
        }
        for (const auto& p : plugins_) {
            if (p->name == text && !p->endpoints.empty()) {
                out = p->endpoints.front();
                return {};
            }
        }
        message = ec == make_error_code(service::service_errc::not_found)
                      ? "no endpoint or plugin instance '" + text + "'"
                      : "'" + text + "': " + ec.message() + " (use the endpoint id)";
        return ec ? ec : make_error_code(service::service_errc::not_found);
    }

    void unroute(connection_entry& k) {
        if (k.from != 0) (void)host_.data_path().remove_route(k.from, k.to);
        k.from = k.to = 0;
    }

    // Brings the routes in line with the entries and the endpoints that exist now.
    void sync_routes() {
        for (auto& k : connections_) {
            endpoint_handle f = 0;
            endpoint_handle t = 0;
            std::string ignored;
            const bool ok = !resolve(k.config.from, f, ignored) && !resolve(k.config.to, t, ignored) && f != t;
            if (ok && f == k.from && t == k.to) continue;
            unroute(k);
            if (!ok) continue;
            const auto ec = host_.data_path().add_route(f, t);
            if (!ec || ec == make_error_code(service::service_errc::already_exists)) {
                k.from = f;
                k.to = t;
            }
        }
    }

    void op_connect(const json& req, driver_reply& r, bool connect) {
        std::string from;
        std::string to;
        if (!string_field(req, "from", true, from, r) || !string_field(req, "to", true, to, r)) return;
        endpoint_handle f = 0;
        endpoint_handle t = 0;
        std::string message;
        if (auto ec = resolve(from, f, message)) return r.fail(std::string(service::protocol_error_code(ec)), message);
        if (auto ec = resolve(to, t, message)) return r.fail(std::string(service::protocol_error_code(ec)), message);
        const std::string from_id = host_.devices().endpoint_by_handle(f)->id;
        const std::string to_id = host_.devices().endpoint_by_handle(t)->id;
        auto same = [&](const connection_entry& k) { return k.from == f && k.to == t; };
        auto it = std::find_if(connections_.begin(), connections_.end(), same);
        if (connect) {
            if (f == t) return r.fail("invalid_argument", "an endpoint cannot be connected to itself");
            if (it != connections_.end())
                return r.fail("already_exists", from_id + " is already connected to " + to_id);
            if (auto ec = host_.data_path().add_route(f, t))
                return r.fail(std::string(service::protocol_error_code(ec)), "cannot connect: " + ec.message());
            connections_.push_back({{from, to}, f, t});
            host_.log("lv2: connected " + from_id + " -> " + to_id);
        } else {
            if (it == connections_.end()) {
                // Also an entry whose ends do not exist now but that names these texts.
                it = std::find_if(connections_.begin(), connections_.end(), [&](const connection_entry& k) {
                    return k.config.from == from && k.config.to == to;
                });
                if (it == connections_.end())
                    return r.fail("not_found", from_id + " is not connected to " + to_id);
            }
            unroute(*it);
            connections_.erase(it);
            host_.log("lv2: disconnected " + from_id + " -> " + to_id);
        }
        host_.save_config();
        r.result = json{{"from", from_id}, {"to", to_id}};
    }

    void op_connections(driver_reply& r) const {
        json list = json::array();
        for (const auto& k : connections_) {
            json e{{"from", k.config.from}, {"to", k.config.to}, {"active", k.from != 0}};
            if (k.from != 0) {
                e["from_id"] = host_.devices().endpoint_by_handle(k.from)->id;
                e["to_id"] = host_.devices().endpoint_by_handle(k.to)->id;
            }
            list.push_back(std::move(e));
        }
        r.result = json{{"connections", list}};
    }

    // ---- transport -----------------------------------------------------------------

    // Scheduled transport changes the render thread applied: announced now.
    // Also: the render thread changed clocks (JACK came or went).
    void on_scheduled_changes() {
        for (const auto what : renderer_->take_applied()) announce(change_name(what));
        const service_detail::render_clock k = renderer_->clock();
        if (k != shown_clock_) {
            shown_clock_ = k;
            host_.log("lv2: rendering " + clock_text(k));
            update_status();
        }
    }

    static std::string change_name(transport_command::kind k) {
        using kind = transport_command::kind;
        switch (k) {
        case kind::play: return "play";
        case kind::stop: return "stop";
        case kind::locate_frame:
        case kind::locate_beat: return "locate";
        case kind::tempo: return "tempo";
        case kind::meter: return "meter";
        case kind::record: return "record";
        case kind::cycle: return "cycle";
        }
        return "unknown";
    }

    void announce(const std::string& change) {
        json ev = transport_json(renderer_->state());
        ev["event"] = "transport_changed";
        ev["change"] = change;
        host_.broadcast(ev);
    }

    void op_transport(const json& req, driver_reply& r) {
        std::string command;
        if (!string_field(req, "command", false, command, r)) return;
        std::uint64_t at_ns = 0;
        if (const auto at = req.find("at_ns"); at != req.end() && !at->is_null()) {
            if (!at->is_number_unsigned()) return r.fail("bad_request", "field 'at_ns' must be a CLOCK_MONOTONIC time in ns");
            at_ns = at->get<std::uint64_t>();
            if (command.empty()) return r.fail("bad_request", "'at_ns' needs a 'command'");
            if (at_ns > monotonic_now_ns() + max_schedule_ahead_ns)
                return r.fail("invalid_argument", "a transport change is scheduled at most 60 s ahead");
        }
        if (!command.empty()) {
            transport_command c;
            if (!parse_transport_command(command, req, c, r)) return;
            if (service_detail::jack_position j; jack_.read(j) && j.bbt) return to_jack(c, j, at_ns, r);
            std::uint64_t seq = 0;
            if (!renderer_->push(c, at_ns, seq)) return r.fail("busy", "too many transport changes at once; try again");
            if (at_ns == 0 && !renderer_->wait_applied(seq))
                return r.fail("internal", "the render thread did not take the change");
        }
        r.result = transport_json(renderer_->state());
        if (at_ns != 0) r.result["scheduled_ns"] = at_ns;  // announced when it happens
        else if (!command.empty()) announce(command);
    }

    // While JACK has a timebase master its transport is umpd's: play, stop and locate
    // go to JACK (and come back through the render thread); tempo and meter are the
    // master's.
    void to_jack(const transport_command& c, const service_detail::jack_position& j, std::uint64_t at_ns,
                 driver_reply& r) {
        using k = transport_command::kind;
        if (at_ns != 0) return r.fail("invalid_argument", "JACK's timebase master runs the transport: no scheduled changes");
        const auto wait_for = [&](auto reached) {
            const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (!reached(renderer_->state().state) && std::chrono::steady_clock::now() < end)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        };
        switch (c.what) {
        case k::play:
            jack_.start();
            wait_for([](const transport_state& s) { return s.playing; });
            break;
        case k::stop:
            jack_.stop();
            wait_for([](const transport_state& s) { return !s.playing; });
            break;
        case k::locate_beat:
        case k::locate_frame: {
            const double frame = c.a * 60.0 * static_cast<double>(j.frame_rate) / j.bpm;
            jack_.locate(static_cast<std::uint32_t>(std::llround(frame)));
            wait_for([&](const transport_state& s) { return s.playing || std::abs(s.beat - c.a) < 1e-3; });
            break;
        }
        case k::tempo:
        case k::meter:
            return r.fail("invalid_argument", "JACK's timebase master sets the tempo and meter");
        case k::record:
        case k::cycle: {  // no JACK vocabulary: umpd's own
            std::uint64_t seq = 0;
            if (!renderer_->push(c, 0, seq)) return r.fail("busy", "too many transport changes at once; try again");
            (void)renderer_->wait_applied(seq);
            announce(change_name(c.what));
            break;
        }
        }
        r.result = transport_json(renderer_->state());
        r.result["jack"] = true;
    }

    service::driver_host& host_;
    service::lv2_config settings_{};
    service_detail::jack_transport_follower jack_;  // before renderer_: it outlives it
    std::unique_ptr<world> world_;
    std::unique_ptr<renderer> renderer_;
    std::shared_ptr<ipc::wake> shared_wake_;
    std::vector<std::unique_ptr<plugin_slot>> plugins_;
    std::vector<service::plugin_config> unrestored_;  // configured but failed to load: kept in the config
    std::vector<connection_entry> connections_;
    bool started_ = false;
    service::cycle_clock* cycles_ = nullptr;
    service_detail::render_clock shown_clock_{};  // the clock last logged
};

}  // namespace

std::unique_ptr<service::driver> make_lv2_driver(service::driver_host& host, service::cycle_clock* cycles) {
    return std::make_unique<lv2_driver>(host, cycles);
}

std::unique_ptr<service::driver> make_lv2_driver(service::driver_host& host) {
    return std::make_unique<lv2_driver>(host, nullptr);
}

}  // namespace umpd::lv2
