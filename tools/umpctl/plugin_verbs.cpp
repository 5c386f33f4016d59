// umpctl's plugin verbs: plugins, plugin add|remove|set|info|list, connect,
// disconnect, connections, transport. They talk to umpd's lv2 driver through the
// SDK's generic call (docs/protocol.md, "Plugins, connections and transport").
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "service.hpp"
#include "verbs.hpp"

namespace umpctl {

namespace {

using json = nlohmann::json;

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s + " ";
}

// A finite decimal number; `what` names it in the error.
double parse_number(const std::string& text, const std::string& what) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end == nullptr || *end != '\0' || !std::isfinite(v))
        throw usage_error(what + " must be a number, not '" + text + "'");
    return v;
}

json call(const arguments& a, const char* client_name, const char* op, const json& fields = json::object()) {
    auto c = connect_service(a, client_name);
    const std::string text = value_or_throw(c.call(op, fields.dump()));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) throw input_error("umpd answered something that is not JSON");
    return j;
}

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

int plugins_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir"});
    if (!a.positional().empty()) throw usage_error("plugins takes no arguments");
    const json r = call(a, "umpctl plugins", "plugins");
    const json& list = r.at("plugins");
    if (a.flag("json")) {
        std::cout << list.dump() << "\n";
        return 0;
    }
    for (const auto& p : list) {
        std::string outputs;
        for (const auto& o : p.at("midi_outputs")) outputs += (outputs.empty() ? "" : ", ") + o.get<std::string>();
        std::cout << pad(p.at("kind").get<std::string>(), 15) << p.at("uri").get<std::string>() << "  \""
                  << p.at("name").get<std::string>() << "\"";
        if (!outputs.empty()) std::cout << "  out: " << outputs;
        std::cout << "\n";
    }
    return 0;
}

void print_instance(const json& p) {
    std::cout << p.at("name").get<std::string>() << "  " << p.at("uri").get<std::string>() << "  ("
              << p.at("kind").get<std::string>() << ")\n"
              << "  device    " << p.at("device").get<std::string>() << "\n";
    for (const auto& e : p.at("endpoints")) {
        std::cout << "  endpoint  " << pad(e.at("id").get<std::string>(), 20) << "\"" << e.at("name").get<std::string>()
                  << "\"";
        if (!e.at("input").is_null()) std::cout << "  in: " << e.at("input").get<std::string>();
        if (!e.at("output").is_null()) std::cout << "  out: " << e.at("output").get<std::string>();
        std::cout << "\n";
    }
    for (const auto& k : p.at("controls")) {
        std::cout << "  " << (k.at("output").get<bool>() ? "output    " : "control   ")
                  << pad(k.at("symbol").get<std::string>(), 16) << pad(number_text(k.at("value").get<double>()), 8)
                  << "[" << number_text(k.at("minimum").get<double>()) << " .. "
                  << number_text(k.at("maximum").get<double>()) << "]  " << k.at("name").get<std::string>()
                  << (k.at("bpm").get<bool>() ? "  (tempo)" : "") << "\n";
    }
}

int plugin_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    const auto& pos = a.positional();
    if (pos.empty()) throw usage_error("plugin needs add, remove, set, info or list");
    const std::string& what = pos[0];
    json r;
    if (what == "add") {
        a.reject_unknown({"runtime-dir", "name"});
        if (pos.size() != 2) throw usage_error("usage: plugin add URI [--name NAME]");
        json f{{"uri", pos[1]}};
        if (auto n = a.option("name")) {
            if (n->empty()) throw usage_error("--name needs a name");
            f["name"] = *n;
        }
        r = call(a, "umpctl plugin", "plugin_add", f);
    } else if (what == "remove") {
        a.reject_unknown({"runtime-dir"});
        if (pos.size() != 2) throw usage_error("usage: plugin remove NAME");
        call(a, "umpctl plugin", "plugin_remove", {{"name", pos[1]}});
        return 0;
    } else if (what == "set") {
        a.reject_unknown({"runtime-dir"});
        if (pos.size() != 4) throw usage_error("usage: plugin set NAME SYMBOL VALUE");
        const double v = parse_number(pos[3], "VALUE");
        r = call(a, "umpctl plugin", "plugin_set", {{"name", pos[1]}, {"symbol", pos[2]}, {"value", v}});
        if (a.flag("json")) std::cout << r.dump() << "\n";
        else std::cout << pos[1] << " " << pos[2] << " = " << number_text(r.at("value").get<double>()) << "\n";
        return 0;
    } else if (what == "info") {
        a.reject_unknown({"runtime-dir"});
        if (pos.size() != 2) throw usage_error("usage: plugin info NAME");
        r = call(a, "umpctl plugin", "plugin_info", {{"name", pos[1]}});
    } else if (what == "list") {
        a.reject_unknown({"runtime-dir"});
        if (pos.size() != 1) throw usage_error("usage: plugin list");
        r = call(a, "umpctl plugin", "plugin_instances");
        if (a.flag("json")) std::cout << r.at("instances").dump() << "\n";
        else
            for (const auto& p : r.at("instances")) print_instance(p);
        return 0;
    } else {
        throw usage_error("unknown plugin command '" + what + "' (add, remove, set, info, list)");
    }
    if (a.flag("json")) std::cout << r.dump() << "\n";
    else print_instance(r);
    return 0;
}

int connect_verb_common(const verb_args& args, bool connect) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir"});
    if (a.positional().size() != 2)
        throw usage_error(std::string("usage: ") + (connect ? "connect" : "disconnect") + " SOURCE DESTINATION");
    const json r = call(a, connect ? "umpctl connect" : "umpctl disconnect", connect ? "connect" : "disconnect",
                        {{"from", a.positional()[0]}, {"to", a.positional()[1]}});
    if (a.flag("json")) std::cout << r.dump() << "\n";
    else
        std::cout << (connect ? "connected " : "disconnected ") << r.at("from").get<std::string>() << " -> "
                  << r.at("to").get<std::string>() << "\n";
    return 0;
}

int connections_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir"});
    if (!a.positional().empty()) throw usage_error("connections takes no arguments");
    const json r = call(a, "umpctl connections", "connections");
    if (a.flag("json")) {
        std::cout << r.at("connections").dump() << "\n";
        return 0;
    }
    for (const auto& k : r.at("connections")) {
        std::cout << k.at("from").get<std::string>() << " -> " << k.at("to").get<std::string>();
        if (k.at("active").get<bool>())
            std::cout << "  (" << k.at("from_id").get<std::string>() << " -> " << k.at("to_id").get<std::string>() << ")";
        else
            std::cout << "  (waiting: an end does not exist)";
        std::cout << "\n";
    }
    return 0;
}

// "on"/"off" → bool; anything else is a usage error.
bool on_off(const std::string& s, const char* what) {
    if (s == "on") return true;
    if (s == "off") return false;
    throw usage_error(std::string(what) + " takes on or off, not '" + s + "'");
}

int transport_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir"});
    const auto& pos = a.positional();
    json f = json::object();
    if (!pos.empty()) {
        const std::string& cmd = pos[0];
        auto want = [&](std::size_t n, const char* usage) {
            if (pos.size() != n) throw usage_error(std::string("usage: transport ") + usage);
        };
        f["command"] = cmd;
        if (cmd == "play" || cmd == "stop") {
            want(1, cmd == "play" ? "play" : "stop");
        } else if (cmd == "locate") {
            want(2, "locate BEAT (beats from the start, e.g. 0 or 16.5)");
            const double b = parse_number(pos[1], "the position");
            if (b < 0) throw usage_error("the position is 0 beats or later, not '" + pos[1] + "'");
            f["beat"] = b;
        } else if (cmd == "tempo") {
            want(2, "tempo BPM (1 to 999)");
            const double bpm = parse_number(pos[1], "the tempo");
            if (bpm < 1 || bpm > 999) throw usage_error("the tempo is 1 to 999 BPM, not '" + pos[1] + "'");
            f["bpm"] = bpm;
        } else if (cmd == "meter") {
            want(2, "meter N/D (e.g. 4/4, 7/8)");
            const auto slash = pos[1].find('/');
            if (slash == std::string::npos) throw usage_error("a meter is N/D such as 7/8, not '" + pos[1] + "'");
            f["beats_per_bar"] = parse_integer(pos[1].substr(0, slash), 1, 64, "beats per bar");
            const long long d = parse_integer(pos[1].substr(slash + 1), 1, 64, "the beat unit");
            if ((d & (d - 1)) != 0) throw usage_error("the beat unit is 1, 2, 4, 8, 16, 32 or 64, not " + std::to_string(d));
            f["beat_unit"] = d;
        } else if (cmd == "record") {
            want(2, "record on|off");
            f["on"] = on_off(pos[1], "record");
        } else if (cmd == "cycle") {
            if (pos.size() == 2) {
                if (on_off(pos[1], "cycle")) throw usage_error("cycle on needs START END: transport cycle START END");
                f["on"] = false;
            } else {
                want(3, "cycle START END (beats) | cycle off");
                const double s = parse_number(pos[1], "the cycle start");
                const double e = parse_number(pos[2], "the cycle end");
                if (s < 0 || e <= s) throw usage_error("a cycle needs 0 <= START < END");
                f["start"] = s;
                f["end"] = e;
            }
        } else {
            throw usage_error("unknown transport command '" + cmd + "' (play, stop, locate, tempo, meter, record, cycle)");
        }
    }
    const json t = call(a, "umpctl transport", "transport", f);
    if (a.flag("json")) {
        std::cout << t.dump() << "\n";
        return 0;
    }
    char line[160];
    std::snprintf(line, sizeof line, "%s  %.2f BPM  %d/%d  bar %lld beat %.3f  (beat %.3f, frame %lld)",
                  t.at("playing").get<bool>() ? "playing" : "stopped", t.at("bpm").get<double>(),
                  static_cast<int>(t.at("beats_per_bar").get<double>()), t.at("beat_unit").get<int>(),
                  t.at("bar").get<long long>() + 1, t.at("bar_beat").get<double>() + 1.0, t.at("beat").get<double>(),
                  t.at("frame").get<long long>());
    std::cout << line;
    if (t.at("recording").get<bool>()) std::cout << "  recording";
    if (t.at("cycling").get<bool>())
        std::cout << "  cycle " << number_text(t.at("cycle_start").get<double>()) << " - "
                  << number_text(t.at("cycle_end").get<double>());
    std::cout << "\n";
    return 0;
}

}  // namespace

int plugins_verb(const verb_args& args) { return plugins_verb_impl(args); }
int plugin_verb(const verb_args& args) { return plugin_verb_impl(args); }
int connect_verb(const verb_args& args) { return connect_verb_common(args, true); }
int disconnect_verb(const verb_args& args) { return connect_verb_common(args, false); }
int connections_verb(const verb_args& args) { return connections_verb_impl(args); }
int transport_verb(const verb_args& args) { return transport_verb_impl(args); }

#define UMPCTL_RUNTIME_DIR_HELP "  --runtime-dir DIR   the umpd to talk to (default: $XDG_RUNTIME_DIR/umpd)\n"

const char* const plugins_help =
    "usage: umpctl plugins [--json]\n"
    "\n"
    "The installed LV2 plugins that have a MIDI input or output: KIND (midi-processor,\n"
    "midi-generator, instrument, midi-sink; decided from the ports the plugin has), URI,\n"
    "name and the names of its MIDI outputs.\n"
    "  --json              umpd's array of plugin objects (ports, controls, features)\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const plugin_help =
    "usage: umpctl plugin add URI [--name NAME]\n"
    "       umpctl plugin remove NAME\n"
    "       umpctl plugin set NAME SYMBOL VALUE\n"
    "       umpctl plugin info NAME [--json]\n"
    "       umpctl plugin list [--json]\n"
    "\n"
    "Plugin instances run inside umpd as devices of the lv2 driver (device lv2/NAME); each\n"
    "endpoint joins a MIDI input (its destination) and a MIDI output (its source) of the\n"
    "plugin. add: loads the plugin (NAME defaults to the plugin's name) and prints the\n"
    "instance; remove: unloads it; set: a control input's value (clamped to its range);\n"
    "info: endpoints, controls and counters. Instances are kept in umpd's config.\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const connect_help =
    "usage: umpctl connect SOURCE DESTINATION\n"
    "\n"
    "From now on, what comes out of SOURCE's endpoint also goes to DESTINATION's\n"
    "endpoint, inside umpd (kept in the config). SOURCE and DESTINATION are endpoint ids,\n"
    "unique endpoint names or plugin instance names (the instance's first endpoint).\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const disconnect_help =
    "usage: umpctl disconnect SOURCE DESTINATION\n"
    "\n"
    "Removes a connection made with `umpctl connect`.\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const connections_help =
    "usage: umpctl connections [--json]\n"
    "\n"
    "The connections umpd keeps, as written, with the endpoint ids they stand for now (a\n"
    "connection whose end does not exist waits for it).\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const transport_help =
    "usage: umpctl transport [--json]\n"
    "       umpctl transport play | stop\n"
    "       umpctl transport locate BEAT\n"
    "       umpctl transport tempo BPM\n"
    "       umpctl transport meter N/D\n"
    "       umpctl transport record on|off\n"
    "       umpctl transport cycle START END | cycle off\n"
    "\n"
    "umpd's transport, which plugins follow: shows it (bar and beat 1-based), or changes\n"
    "it and shows the result. Positions and cycle bounds are in beats from the start.\n" UMPCTL_RUNTIME_DIR_HELP;

}  // namespace umpctl
