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

// The --help text of each verb.
extern const char* const decode_help;
extern const char* const encode_help;
extern const char* const convert_help;

}  // namespace umpctl
