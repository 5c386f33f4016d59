// The naming error category ("umpd.naming").
#include "umpd/naming/port.hpp"

#include <string>

namespace umpd::naming {

namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "umpd.naming"; }
    std::string message(int v) const override {
        switch (static_cast<errc>(v)) {
        case errc::group_out_of_range: return "group index out of range (0-15)";
        case errc::duplicate_port: return "two ports with the same group and direction";
        case errc::bad_duplicate_ordinal: return "duplicate ordinal must be 1 or more";
        case errc::duplicate_key: return "the same endpoint, group and direction twice";
        case errc::duplicate_number: return "a port number used twice in one direction";
        case errc::number_out_of_range: return "port number out of range";
        }
        return "unknown naming error";
    }
};

}  // namespace

const std::error_category& naming_category() noexcept {
    static const category c;
    return c;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), naming_category()}; }

}  // namespace umpd::naming
