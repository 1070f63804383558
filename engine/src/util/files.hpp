#pragma once

#include <string>

namespace runbook {

// Creates `path` and its missing parents with `mode`; false with `error` set
// ("cannot create directory X: reason") otherwise.
bool make_directories(const std::string& path, std::string* error, unsigned mode = 0755);

// Removes a directory tree; best effort.
void remove_tree(const std::string& path);

}  // namespace runbook
