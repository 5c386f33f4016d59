// umpctl's verbs. Each takes the arguments after the verb name and returns the
// process exit code; usage and input errors are thrown (see cli.hpp).
#pragma once

#include <string>
#include <vector>

namespace umpctl {

using verb_args = std::vector<std::string>;

int decode_verb(const verb_args& args);
int encode_verb(const verb_args& args);
int convert_verb(const verb_args& args);

// The service verbs (service_verbs.cpp, bench_verb.cpp): they talk to umpd.
int status_verb(const verb_args& args);
int list_verb(const verb_args& args);
int device_verb(const verb_args& args);
int loopback_verb(const verb_args& args);
int send_verb(const verb_args& args);
int monitor_verb(const verb_args& args);
int play_notes_verb(const verb_args& args);
int service_verb(const verb_args& args);
int bench_verb(const verb_args& args);
int names_verb(const verb_args& args);  extern const char* const names_help;  // names_verb.cpp
// MIDI 1.0 ports, endpoint declarations and naming (ports_verbs.cpp).
int ports_verb(const verb_args& args);
int endpoint_verb(const verb_args& args);
int naming_verb(const verb_args& args);
extern const char* const ports_help;
extern const char* const endpoint_help;
extern const char* const naming_help;

// LV2 plugins, connections and the transport (plugin_verbs.cpp).
int plugins_verb(const verb_args& args);
int plugin_verb(const verb_args& args);
int connect_verb(const verb_args& args);
int disconnect_verb(const verb_args& args);
int connections_verb(const verb_args& args);
int transport_verb(const verb_args& args);
extern const char* const plugins_help;
extern const char* const plugin_help;
extern const char* const connect_help;
extern const char* const disconnect_help;
extern const char* const connections_help;
extern const char* const transport_help;

// The --help text of each verb.
extern const char* const decode_help;
extern const char* const encode_help;
extern const char* const convert_help;
extern const char* const status_help;
extern const char* const list_help;
extern const char* const device_help;
extern const char* const loopback_help;
extern const char* const send_help;
extern const char* const monitor_help;
extern const char* const play_notes_help;
extern const char* const service_help;
extern const char* const bench_help;

}  // namespace umpctl
