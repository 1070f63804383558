#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace runbook {

// Creates `path` and its missing parents with `mode`; false with `error` set
// ("cannot create directory X: reason") otherwise.
bool make_directories(const std::string& path, std::string* error, unsigned mode = 0755);

// The bytes of the regular file `path`, at most `limit` of them; nullopt
// otherwise, with `error` set ("No such file or directory", "not a regular
// file", "larger than N bytes") and errno saying why (EINVAL when not a
// regular file, EFBIG when too large).
std::optional<std::string> read_small_file(const std::string& path, size_t limit,
                                           std::string* error);

// Removes a directory tree; best effort.
void remove_tree(const std::string& path);

}  // namespace runbook
